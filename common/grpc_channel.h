// gRPC channel settings shared by every client of the system's services (the edge's channels to
// routers and ledgers, the router's to its ledger).
#pragma once

#include <grpcpp/grpcpp.h>

#include <string>

namespace rinha {

// How often a client pings a peer across a network, and how long it waits for the answer.
inline constexpr int kNetworkKeepaliveMs = 1000;

// For a TCP target (anything but "unix:..."): HTTP/2 keepalive pings every kNetworkKeepaliveMs,
// also without calls and without data, a connection dead after kNetworkKeepaliveMs without an
// answer. A peer that vanishes from a network (a container killed on an overlay network: its
// address stops answering, and no reset or FIN may arrive) otherwise leaves the connection looking
// open until TCP gives up, minutes later, and every call on it waits out its deadline; with pings
// the channel reconnects (and looks the name up again) within about two seconds. A unix socket's
// peer that dies is seen at once by the kernel: no pings there. The servers accept the pings
// (common/grpc_server.cc).
void AddNetworkKeepalive(const std::string& target, grpc::ChannelArguments* args);

}  // namespace rinha
