// How every process stops: SIGTERM (docker stop, the runner) or SIGINT (Ctrl-C), taken with
// sigwait() by a thread that asks for them instead of by an asynchronous handler, so shutdown
// runs as ordinary code.
#pragma once

namespace rinha {

// Blocks SIGTERM and SIGINT in the calling thread. Call it in main() before any thread starts:
// threads inherit the mask, so no thread is interrupted and only WaitForStopSignal() sees them.
void BlockStopSignals();

// Waits until SIGTERM or SIGINT arrives (BlockStopSignals() must have run) and returns which.
// Any thread.
int WaitForStopSignal();

}  // namespace rinha
