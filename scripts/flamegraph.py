#!/usr/bin/env python3
"""Flame graphs and a where-the-time-goes table from `perf script`, standard library only.

  flamegraph.py fold [--service=PID=NAME ...] [--out_dir=DIR] < perf-script.txt
      folds every sample into one line per distinct stack, "root;...;leaf COUNT", the root being
      the service (the PID's NAME, else the process's comm) and the next frame the thread's
      name; with --out_dir one DIR/NAME.folded per service, else everything to stdout.
  flamegraph.py svg FOLDED [--out=X.svg] [--title=T] [--min_pct=0.1]
      a self-contained SVG flame graph (no script): each frame a rectangle as wide as its
      samples, a <title> with its name, samples and share; frames narrower than --min_pct of
      the total are left out. Colours by category (the legend on top).
  flamegraph.py table FOLDED [--top=15]
      each sample's self time in one category (syscalls, wake-ups, allocation, JSON, protobuf,
      gRPC, SQLite, journal, logging, ...), the kernel time by syscall, the time per thread and
      the top leaf symbols, with percentages.
  flamegraph.py --self-test
      folds, renders and tabulates a small canned `perf script` sample and checks the results.

`perf script` must be run with `-F comm,pid,tid,period,event,ip,sym,dso` (scripts/profile.sh
does). Kernel frames are marked with a trailing "_[k]", a frame without a symbol is "[dso]".
"""

import argparse
import collections
import html
import os
import re
import sys
import zlib

# ------------------------------------------------------------------------------------------
# Folding

HEADER = re.compile(r"^(?P<comm>.*?)\s+(?P<pid>\d+)/(?P<tid>\d+)\s+(?:(?P<period>\d+)\s+)?"
                    r"(?P<event>[^\s:]+(?::[^\s:]*)?):\s*$")

STRING = "std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> >"


def simplify(symbol):
    """A C++ name without its parameter list, std::string spelled short."""
    symbol = symbol.replace(STRING, "std::string")
    symbol = symbol.replace("std::basic_string_view<char, std::char_traits<char> >",
                            "std::string_view")
    # Drop the trailing parameter list "(...)" and qualifiers, keeping "{lambda(...)#1}" and
    # " [clone .cold]" suffixes intact.
    clone = ""
    m = re.search(r"( \[clone [^\]]*\])+$", symbol)
    if m:
        clone, symbol = m.group(0), symbol[:m.start()]
    for qualifier in (" const", " &&", " &", " volatile"):
        if symbol.endswith(qualifier):
            symbol = symbol[:-len(qualifier)]
    if symbol.endswith(")"):
        depth = 0
        for i in range(len(symbol) - 1, -1, -1):
            c = symbol[i]
            if c == ")":
                depth += 1
            elif c == "(":
                depth -= 1
                if depth == 0:
                    if i > 0 and not symbol[:i].endswith("operator"):
                        symbol = symbol[:i]
                    break
    return symbol + clone


def frame_name(sym, dso):
    if not sym or sym == "[unknown]":
        name = "[%s]" % os.path.basename(dso.strip("()[]")) if dso else "[unknown]"
    else:
        name = simplify(sym)
    if dso.startswith("[kernel"):
        name += "_[k]"
    return name.replace(";", ":")


def thread_name(comm):
    return comm.strip() or "?"


def parse_perf_script(lines):
    """Yields (pid, comm, frames root..leaf, weight=1) per sample."""
    header = None
    frames = []
    for raw in lines:
        line = raw.rstrip("\n")
        if not line.strip():
            if header is not None:
                yield header[0], header[1], list(reversed(frames))
            header, frames = None, []
            continue
        if header is None:
            m = HEADER.match(line)
            if m:
                header = (int(m.group("pid")), thread_name(m.group("comm")))
                frames = []
            continue
        text = line.strip()
        addr, _, rest = text.partition(" ")
        sym, dso = rest, ""
        if rest.endswith(")"):
            i = rest.rfind(" (")
            if i >= 0:
                sym, dso = rest[:i], rest[i + 2:-1]
            elif rest.startswith("("):
                sym, dso = "", rest[1:-1]
        frames.append(frame_name(sym.strip(), dso.strip()))
    if header is not None:
        yield header[0], header[1], list(reversed(frames))


def fold(lines, services):
    """{service: Counter(stack string -> samples)}"""
    out = collections.defaultdict(collections.Counter)
    for pid, comm, frames in parse_perf_script(lines):
        service = services.get(pid, comm)
        stack = ";".join([service, comm] + frames)
        out[service][stack] += 1
    return out


def read_folded(path):
    counts = collections.Counter()
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if not line:
                continue
            stack, _, n = line.rpartition(" ")
            counts[stack] += int(n)
    return counts


def write_folded(counts, f):
    for stack, n in sorted(counts.items()):
        f.write("%s %d\n" % (stack, n))


# ------------------------------------------------------------------------------------------
# Categories

# Each category: (name, colour hue family). The sample's category is decided from its whole
# stack (see categorize); a frame's colour from its own name (frame_category).
CATEGORIES = [
    "journal write",
    "logging",
    "thread hand-offs: futex, locks",
    "socket wake-ups",
    "context switch, scheduler",
    "allocation (malloc/free)",
    "JSON",
    "protobuf",
    "gRPC internals",
    "SQLite",
    "HTTP (ours, cpp-httplib)",
    "syscalls, network, kernel",
    "page faults",
    "perf itself (profiling)",
    "HAProxy",
    "ours: other",
    "libc/libstdc++/absl other",
    "unknown",
]

COLOURS = {
    "journal write": (255, 120, 60),
    "logging": (200, 200, 60),
    "thread hand-offs: futex, locks": (230, 80, 80),
    "socket wake-ups": (245, 110, 150),
    "context switch, scheduler": (240, 140, 140),
    "allocation (malloc/free)": (250, 170, 40),
    "JSON": (250, 220, 80),
    "protobuf": (180, 130, 230),
    "gRPC internals": (110, 160, 240),
    "SQLite": (100, 200, 120),
    "HTTP (ours, cpp-httplib)": (90, 210, 210),
    "syscalls, network, kernel": (235, 150, 90),
    "page faults": (210, 120, 60),
    "perf itself (profiling)": (120, 120, 120),
    "HAProxy": (120, 190, 250),
    "ours: other": (150, 220, 180),
    "libc/libstdc++/absl other": (190, 190, 190),
    "unknown": (160, 160, 160),
    "process, thread": (220, 220, 220),
}

ALLOC = re.compile(r"^(malloc|free|cfree|calloc|realloc|_int_malloc|_int_free|_int_realloc|"
                   r"__libc_malloc|__libc_free|__libc_calloc|__libc_realloc|malloc_consolidate|"
                   r"sysmalloc|unlink_chunk|tcache_\w+|_int_memalign|__posix_memalign|"
                   r"aligned_alloc|posix_memalign|memalign|__libc_memalign|"
                   r"operator new|operator delete|gpr_malloc|gpr_free|gpr_zalloc|gpr_realloc|"
                   r"gpr_malloc_aligned|gpr_free_aligned|__GI___libc_malloc|__GI___libc_free|"
                   r"arena_get2|alloc_perturb|checked_request2size)\b")
LOCK_USER = re.compile(r"^(pthread_mutex_\w+|__pthread_mutex_\w+|pthread_cond_\w+|"
                       r"__pthread_cond_\w+|___pthread_cond_\w+|__lll_lock_\w+|__lll_unlock\w*|"
                       r"lll_\w+|futex_\w+|__futex\w*|__GI___futex\w*|"
                       r"pthread_rwlock_\w+|__pthread_rwlock_\w+|sem_\w+|"
                       r"absl::[\w:]*(Mutex|CondVar|synchronization_internal|base_internal::"
                       r"SpinLock|AbslInternalPerThreadSem)|std::condition_variable|"
                       r"std::mutex|gpr_mu_\w+|gpr_cv_\w+|gpr_event_\w+|"
                       r"grpc_core::Mutex|grpc_core::CondVar|absl::[\w:]*Notification)")
KERNEL_FUTEX = re.compile(r"^(__x64_sys_futex|do_futex|futex_\w+|__futex_\w+)_\[k\]$")
# Waking whoever waits on a socket or an epoll set (the receiver of what was just sent).
KERNEL_WAKE = re.compile(r"^(sock_def_readable|sock_def_write_space|unix_write_space|"
                         r"sk_stream_write_space|ep_poll_callback|pollwake|__wake_up\w*|"
                         r"try_to_wake_up|wake_up_q|ttwu_\w+|wake_up_process|"
                         r"default_wake_function|autoremove_wake_function)_\[k\]$")
KERNEL_SCHED = re.compile(r"^(schedule|__schedule|schedule_hrtimeout_range\w*|"
                          r"finish_task_switch\w*|"
                          r"enqueue_task\w*|dequeue_task\w*|"
                          r"pick_next_task\w*|put_prev_task\w*|select_task_rq\w*|"
                          r"update_curr|update_load_avg|psi_\w+|context_switch|"
                          r"__switch_to\w*|switch_mm\w*|do_nanosleep|hrtimer_nanosleep|"
                          r"schedule_timeout|yield_to|do_sched_yield|__x64_sys_sched_yield|"
                          r"check_preempt\w*|resched_curr|set_next_entity|"
                          r"sched_\w+|activate_task|deactivate_task)_\[k\]$")
KERNEL_PAGE_FAULT = re.compile(r"^(asm_exc_page_fault|exc_page_fault|handle_mm_fault|"
                               r"do_user_addr_fault)_\[k\]$")
SYSCALL = re.compile(r"^(?:__x64_sys_|__ia32_sys_)(\w+)_\[k\]$")
SYSCALL_INNER = re.compile(r"^(?:__do_sys_|__se_sys_|ksys_|___sys_|__sys_|do_sys_)(\w+)_\[k\]$")
# Work the kernel does for perf itself: the raw_syscalls tracepoint that perf stat counts.
KERNEL_PERF = re.compile(r"^(perf_\w+|syscall_trace_enter|syscall_exit_work|"
                         r"trace_sys_\w+|__traceiter_\w+)_\[k\]$")
JOURNAL = re.compile(r"^rinha::(Journal::|router::JournalDispatchLog|router::Encode\w+Record|"
                     r"edge::[\w:]*Journal)")
LOGGING = re.compile(r"^(rinha::LogLine|rinha::[\w:]*Log(Line|Once|Warning|Error|Info)\b|"
                     r"absl::[\w:]*raw_log|gpr_log|gpr_default_log|grpc_core::[\w:]*Trace)")
JSON = re.compile(r"^(rinha::(ParseJsonObject|ScanJsonString|UnescapeJsonString|JsonWriter|"
                  r"JsonStringErrorReason|ParseDecimalCents|AppendCents|FormatCents|"
                  r"AppendIsoMillis|FormatIsoMillis|ParseIsoTime|"
                  r"edge::(DecodePayment|AppendSummaryJson|ErrorJson|AppendPaymentStatusJson|"
                  r"ParseSummaryQuery)|router::[\w:]*(Json|Decode|Encode)\w*Body)|"
                  r"rinha::[\w:]*Json)")
PROTOBUF = re.compile(r"^(google::protobuf::|rinha::v1::(?![\w:]*(Service|Stub|Router::|"
                      r"Ledger::))|\[libprotobuf)")
GRPC = re.compile(r"^(grpc|gpr_|grpc_|grpc_core::|grpc_event_engine::|upb_|_upb|re2::|"
                  r"address_sorting|ares_|\[libgrpc|\[libgpr|\[libupb|\[libaddress_sorting|"
                  r"\[libcares|\[libre2|rinha::v1::[\w:]*(Service|Stub)|"
                  r"grpc_impl::|tsi_|alts_|absl::[\w:]*(AnyInvocable|FunctionRef)"
                  r"|\w+grpc\w*::|\[libssl|\[libcrypto)")
SQLITE = re.compile(r"^(sqlite3\w*|\[libsqlite3)")
HTTP = re.compile(r"^(httplib::|\[libcpp-httplib|rinha::Http1|rinha::[\w:]*Http1|"
                  r"rinha::(ParseHttp|HttpUrl|ParseHttpUrl)|rinha::router::HttpTransport|"
                  r"rinha::router::[\w:]*Http|rinha::BoundedHttplib|rinha::[\w:]*Httplib)")
NEUTRAL = re.compile(r"^(std::|__gnu_cxx::|absl::|__mem\w+|mem\w+|__str\w+|str\w+|"
                     r"__nss|__GI_\w+|_IO_\w+|__libc_\w+|__\w+_avx\w*|__\w+_sse\w*|"
                     r"__\w+_evex\w*|__\w+_erms\w*|clock_gettime|__clock_gettime\w*|"
                     r"gettimeofday|__vdso\w*|\[vdso\]|\[libc|\[libstdc|\[libabsl|\[libm|"
                     r"\[libgcc|\[ld-linux|_dl_\w+|__tls_get_addr|__cxa_\w+|_Unwind\w*|"
                     r"__dynamic_cast|__cxxabiv1::|typeinfo|__errno_location|"
                     r"write|read|send|recv|sendmsg|recvmsg|sendto|recvfrom|epoll_\w+|"
                     r"__send|__recv|__write|__read|__libc_send\w*|__libc_recv\w*|__poll|poll|"
                     r"__GI___poll|accept4?|close|__close\w*|fsync|fdatasync|pwrite64|pread64|"
                     r"__pwrite64|__pread64|__libc_pwrite\w*|__libc_pread\w*|syscall|"
                     r"__GI___\w+|__\w+_nocancel|writev|readv|__writev|__readv|eventfd_\w+|"
                     r"_start|__libc_start\w*|start_thread|clone3?|__clone\w*|main|"
                     r"operator\(\)|\[unknown\])")


def is_kernel(frame):
    return frame.endswith("_[k]")


def user_category(frame, service):
    """The category a user-space frame belongs to by its own name, None when neutral."""
    if JOURNAL.match(frame):
        return "journal write"
    if LOGGING.match(frame):
        return "logging"
    if ALLOC.match(frame):
        return "allocation (malloc/free)"
    if LOCK_USER.match(frame):
        return "thread hand-offs: futex, locks"
    if JSON.match(frame):
        return "JSON"
    if SQLITE.match(frame):
        return "SQLite"
    if PROTOBUF.match(frame):
        return "protobuf"
    if GRPC.match(frame):
        return "gRPC internals"
    if HTTP.match(frame):
        return "HTTP (ours, cpp-httplib)"
    if NEUTRAL.match(frame):
        return None
    if frame.startswith("rinha::") or frame.startswith("[edge]") or \
            frame.startswith("[router]") or frame.startswith("[ledger]"):
        return "ours: other"
    if service == "haproxy":
        return "HAProxy"
    return None


def frame_category(frame, service):
    if is_kernel(frame):
        if KERNEL_FUTEX.match(frame):
            return "thread hand-offs: futex, locks"
        if KERNEL_WAKE.match(frame):
            return "socket wake-ups"
        if KERNEL_SCHED.match(frame):
            return "context switch, scheduler"
        if KERNEL_PAGE_FAULT.match(frame):
            return "page faults"
        if KERNEL_PERF.match(frame):
            return "perf itself (profiling)"
        return "syscalls, network, kernel"
    c = user_category(frame, service)
    if c:
        return c
    if frame.startswith("["):
        return "unknown"
    return "libc/libstdc++/absl other"


def categorize(frames, service):
    """One category for a sample's self time; frames are root..leaf without service/thread."""
    # Everything under our journal or logging code is theirs, syscalls and allocations too:
    # the issue asks what a journal write and a log line cost in all.
    for f in frames:
        if not is_kernel(f):
            if JOURNAL.match(f):
                return "journal write"
            if LOGGING.match(f):
                return "logging"
    kernel = [f for f in frames if is_kernel(f)]
    user = [f for f in frames if not is_kernel(f)]
    if kernel:
        if any(KERNEL_PERF.match(f) for f in kernel):
            return "perf itself (profiling)"
        if any(KERNEL_FUTEX.match(f) for f in kernel):
            return "thread hand-offs: futex, locks"
        if any(KERNEL_PAGE_FAULT.match(f) for f in kernel):
            if user and ALLOC.match(user[-1]):
                return "allocation (malloc/free)"
            return "page faults"
        # A syscall that woke a socket's waiter, or blocked (switched away and back), spends
        # that time in the scheduler: a hand-off's cost, not the syscall's own work. In a VM
        # without a PMU perf samples on a timer, so such samples land where interrupts come back
        # on (_raw_spin_unlock_irqrestore, finish_task_switch) and the stack says whose they are.
        if any(KERNEL_WAKE.match(f) for f in kernel):
            return "socket wake-ups"
        if any(KERNEL_SCHED.match(f) for f in kernel):
            return "context switch, scheduler"
        return "syscalls, network, kernel"
    # User space: the leaf's own category, or for a neutral leaf (memcpy, std::, absl::) the
    # nearest caller's.
    for f in reversed(user):
        c = user_category(f, service)
        if c:
            return c
    if user and user[-1].startswith("[") and not NEUTRAL.match(user[-1]):
        return "unknown"
    return "libc/libstdc++/absl other"


def syscall_of(frames):
    for pattern in (SYSCALL, SYSCALL_INNER):
        for f in frames:
            m = pattern.match(f)
            if m:
                return m.group(1)
    if any(is_kernel(f) for f in frames):
        if any(KERNEL_PERF.match(f) for f in frames):
            return "perf tracepoint (profiling)"
        if any(f.startswith("exit_to_user_mode") for f in frames):
            return "return to user (preemption)"
        if any(f.startswith(("asm_sysvec", "sysvec_", "asm_common_interrupt", "common_interrupt",
                             "__do_softirq", "irq_exit", "asm_exc_page_fault"))
               for f in frames):
            return "interrupt, softirq, fault"
        return "other kernel"
    return None


def analyse(counts):
    total = sum(counts.values())
    cats = collections.Counter()
    syscalls = collections.Counter()
    threads = collections.Counter()
    leaves = collections.Counter()
    for stack, n in counts.items():
        parts = stack.split(";")
        service, thread, frames = parts[0], parts[1], parts[2:]
        cats[categorize(frames, service)] += n
        s = syscall_of(frames)
        if s:
            syscalls[s] += n
        threads[thread] += n
        leaves[frames[-1] if frames else "?"] += n
    return total, cats, syscalls, threads, leaves


def table(counts, top=15):
    total, cats, syscalls, threads, leaves = analyse(counts)
    out = []
    pct = (lambda n: 100.0 * n / total) if total else (lambda n: 0.0)
    out.append("samples: %d" % total)
    out.append("")
    out.append("%-30s %8s %7s" % ("category (self time)", "samples", "%"))
    for c in CATEGORIES:
        if cats[c]:
            out.append("%-30s %8d %6.1f%%" % (c, cats[c], pct(cats[c])))
    out.append("")
    out.append("%-30s %8s %7s" % ("kernel time by syscall", "samples", "%"))
    for s, n in syscalls.most_common(top):
        out.append("%-30s %8d %6.1f%%" % (s, n, pct(n)))
    out.append("")
    out.append("%-30s %8s %7s" % ("thread", "samples", "%"))
    for t, n in threads.most_common(top):
        out.append("%-30s %8d %6.1f%%" % (t, n, pct(n)))
    out.append("")
    out.append("%-70s %8s %7s" % ("top self symbols", "samples", "%"))
    for s, n in leaves.most_common(top):
        out.append("%-70s %8d %6.1f%%" % (s[:70], n, pct(n)))
    return "\n".join(out) + "\n"


# ------------------------------------------------------------------------------------------
# SVG

class Node:
    __slots__ = ("name", "count", "children")

    def __init__(self, name):
        self.name = name
        self.count = 0
        self.children = {}


def build_tree(counts):
    root = Node("all")
    for stack, n in counts.items():
        node = root
        node.count += n
        for f in stack.split(";"):
            child = node.children.get(f)
            if child is None:
                child = node.children[f] = Node(f)
            child.count += n
            node = child
    return root


def depth_of(node, min_count):
    kids = [c for c in node.children.values() if c.count >= min_count]
    return 1 + (max(depth_of(c, min_count) for c in kids) if kids else 0)


def colour(frame, service, depth):
    if depth <= 2:
        r, g, b = COLOURS["process, thread"]
    else:
        r, g, b = COLOURS[frame_category(frame, service)]
    # A small per-name variation so that neighbours of one category stay apart.
    v = (zlib.crc32(frame.encode()) % 31) - 15
    return "rgb(%d,%d,%d)" % tuple(max(0, min(255, x + v)) for x in (r, g, b))


def svg(counts, title="", min_pct=0.1, width=1200):
    root = build_tree(counts)
    total = root.count or 1
    min_count = total * min_pct / 100.0
    frame_h, font = 16, 11
    char_w = font * 0.6
    pad_x, top = 10, 70
    legend_items = [c for c in CATEGORIES if c != "unknown"] + ["process, thread"]
    columns = 5
    legend_rows = (len(legend_items) + columns - 1) // columns
    top += legend_rows * 16
    depth = depth_of(root, min_count)
    height = top + depth * frame_h + 40
    scale = (width - 2 * pad_x) / total
    body = []

    def emit(node, x, level, service):
        w = node.count * scale
        y = height - 30 - (level + 1) * frame_h
        name = node.name if level else "all"
        share = 100.0 * node.count / total
        text = ""
        max_chars = int((w - 4) / char_w)
        if max_chars >= 3:
            shown = name if len(name) <= max_chars else name[:max_chars - 2] + ".."
            text = '<text x="%.1f" y="%.1f">%s</text>' % (x + 2, y + frame_h - 4,
                                                          html.escape(shown))
        fill = colour(name, service, level) if level else "rgb(230,230,230)"
        body.append('<g><title>%s (%d samples, %.2f%%)</title><rect x="%.1f" y="%.1f" '
                    'width="%.1f" height="%d" fill="%s" rx="2"/>%s</g>'
                    % (html.escape(name), node.count, share, x, y, max(w - 0.5, 0.1),
                       frame_h - 1, fill, text))
        cx = x
        for child in sorted(node.children.values(), key=lambda c: c.name):
            if child.count >= min_count:
                emit(child, cx, level + 1, service if level else child.name)
            cx += child.count * scale

    emit(root, pad_x, 0, "")
    legend = []
    for i, c in enumerate(legend_items):
        lx = pad_x + (i % columns) * ((width - 2 * pad_x) / columns)
        ly = 50 + (i // columns) * 16
        legend.append('<rect x="%.1f" y="%d" width="12" height="12" fill="rgb(%d,%d,%d)"/>'
                      '<text x="%.1f" y="%d">%s</text>'
                      % ((lx, ly) + COLOURS[c] + (lx + 16, ly + 10, html.escape(c))))
    head = ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" '
            'viewBox="0 0 %d %d" font-family="DejaVu Sans Mono, monospace" font-size="%d">\n'
            '<rect width="100%%" height="100%%" fill="white"/>\n'
            '<text x="%d" y="22" font-size="15" font-weight="bold">%s</text>\n'
            '<text x="%d" y="40">%d samples; a frame is as wide as the samples it or its callees '
            'were in; frames under %.2f%% left out; hover a frame for its share</text>\n'
            % (width, height, width, height, font, pad_x, html.escape(title), pad_x, root.count,
               min_pct))
    return head + "\n".join(legend) + "\n" + "\n".join(body) + "\n</svg>\n"


# ------------------------------------------------------------------------------------------
# Self-test

CANNED = """\
edge 100/101    2004008 cpu-clock:ppp: 
\tffffffff8223df91 __x64_sys_write ([kernel.kallsyms])
\tffffffff81000130 entry_SYSCALL_64_after_hwframe ([kernel.kallsyms])
\t           f1234 __GI___libc_write (/usr/lib/x86_64-linux-gnu/libc.so.6)
\t           55555 rinha::Journal::Append(absl::debian3::Span<std::basic_string_view<char, std::char_traits<char> > const>) (/work/build/edge/edge)
\t           44444 rinha::edge::EdgeServer::HandlePost(std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> > const&) (/work/build/edge/edge)
\t           27249 start_thread (/usr/lib/x86_64-linux-gnu/libc.so.6)

edge 100/101    2004008 cpu-clock:ppp: 
\t           98109 _int_malloc (/usr/lib/x86_64-linux-gnu/libc.so.6)
\t           98ac9 malloc (/usr/lib/x86_64-linux-gnu/libc.so.6)
\t           33333 operator new(unsigned long) (/usr/lib/x86_64-linux-gnu/libstdc++.so.6.0.30)
\t           22222 google::protobuf::Arena::AllocateAlignedNoHook(unsigned long) (/usr/lib/x86_64-linux-gnu/libprotobuf.so.32)
\t           44444 rinha::edge::EdgeServer::HandlePost(std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> > const&) (/work/build/edge/edge)
\t           27249 start_thread (/usr/lib/x86_64-linux-gnu/libc.so.6)

grpc_global_tim 100/102    2004008 cpu-clock:ppp: 
\tffffffff81111111 finish_task_switch.isra.0 ([kernel.kallsyms])
\tffffffff81111112 __schedule ([kernel.kallsyms])
\tffffffff81111113 schedule ([kernel.kallsyms])
\tffffffff81111114 futex_wait_queue ([kernel.kallsyms])
\tffffffff81111115 __x64_sys_futex ([kernel.kallsyms])
\t           91919 syscall (/usr/lib/x86_64-linux-gnu/libc.so.6)
\t           81818 gpr_cv_wait (/usr/lib/x86_64-linux-gnu/libgpr.so.29)
\t           71717 [unknown] (/usr/lib/x86_64-linux-gnu/libgrpc.so.29)

edge 100/101    2004008 cpu-clock:ppp: 
\t           66666 __memmove_avx_unaligned_erms (/usr/lib/x86_64-linux-gnu/libc.so.6)
\t           55556 google::protobuf::MessageLite::SerializeToString(std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> >*) const (/usr/lib/x86_64-linux-gnu/libprotobuf.so.32)
\t           44444 rinha::edge::EdgeServer::HandlePost(std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> > const&) (/work/build/edge/edge)
\t           27249 start_thread (/usr/lib/x86_64-linux-gnu/libc.so.6)

haproxy 200/200    2004008 cpu-clock:ppp: 
\tffffffff81111120 _raw_spin_unlock_irqrestore ([kernel.kallsyms])
\tffffffff81111121 __wake_up_sync_key ([kernel.kallsyms])
\tffffffff81111122 sock_def_readable ([kernel.kallsyms])
\tffffffff81111123 tcp_rcv_established ([kernel.kallsyms])
\tffffffff81111124 tcp_sendmsg ([kernel.kallsyms])
\tffffffff81111125 __sys_sendto ([kernel.kallsyms])
\tffffffff81111126 do_syscall_64 ([kernel.kallsyms])
\t           12345 __send (/usr/lib/x86_64-linux-gnu/libc.so.6)
\t           23456 [unknown] (/usr/sbin/haproxy)

edge 100/101    2004008 cpu-clock:ppp: 
\t           66667 rinha::ParseJsonObject(std::basic_string_view<char, std::char_traits<char> >, absl::debian3::FunctionRef<absl::debian3::Status (std::basic_string_view<char, std::char_traits<char> >, rinha::JsonType, std::basic_string_view<char, std::char_traits<char> >)>) (/work/build/edge/edge)
\t           44445 rinha::edge::DecodePayment(std::basic_string_view<char, std::char_traits<char> >, rinha::v1::Payment*) (/work/build/edge/edge)
\t           44444 rinha::edge::EdgeServer::HandlePost(std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> > const&) (/work/build/edge/edge)
\t           27249 start_thread (/usr/lib/x86_64-linux-gnu/libc.so.6)
"""


def self_test():
    folded = fold(CANNED.splitlines(True), {100: "edge"})
    assert sorted(folded) == ["edge", "haproxy"], folded.keys()
    haproxy = folded["haproxy"]
    assert list(haproxy) == ["haproxy;haproxy;[haproxy];__send;do_syscall_64_[k];__sys_sendto_[k];"
                             "tcp_sendmsg_[k];tcp_rcv_established_[k];sock_def_readable_[k];"
                             "__wake_up_sync_key_[k];_raw_spin_unlock_irqrestore_[k]"], haproxy
    _, cats, syscalls, _, _ = analyse(haproxy)
    assert cats == {"socket wake-ups": 1} and syscalls == {"sendto": 1}, (cats, syscalls)
    counts = folded["edge"]
    assert sum(counts.values()) == 5, counts
    journal = ("edge;edge;start_thread;rinha::edge::EdgeServer::HandlePost;"
               "rinha::Journal::Append;__GI___libc_write;"
               "entry_SYSCALL_64_after_hwframe_[k];__x64_sys_write_[k]")
    assert counts[journal] == 1, "\n".join(counts)
    timer = [s for s in counts if s.startswith("edge;grpc_global_tim;")]
    assert timer and timer[0].endswith("__schedule_[k];finish_task_switch.isra.0_[k]"), timer
    assert ";[libgrpc.so.29];" in timer[0], timer
    total, cats, syscalls, threads, _ = analyse(counts)
    assert total == 5
    assert cats == collections.Counter({"journal write": 1, "allocation (malloc/free)": 1,
                                        "thread hand-offs: futex, locks": 1, "protobuf": 1,
                                        "JSON": 1}), cats
    assert syscalls == collections.Counter({"write": 1, "futex": 1}), syscalls
    assert threads == collections.Counter({"edge": 4, "grpc_global_tim": 1}), threads
    assert simplify("a::b<int>::c(int, std::vector<int, std::allocator<int> >) const") == \
        "a::b<int>::c"
    assert simplify("operator new(unsigned long)") == "operator new"
    assert simplify("foo::{lambda(int)#1}::operator()(int) const [clone .cold]") == \
        "foo::{lambda(int)#1}::operator() [clone .cold]", \
        simplify("foo::{lambda(int)#1}::operator()(int) const [clone .cold]")
    image = svg(counts, title="self-test", min_pct=0.0)
    assert image.count("<rect") == image.count("<title>") + 1 + len(CATEGORIES), image
    assert "rinha::Journal::Append (1 samples, 20.00%)" in image, image
    assert "<script" not in image
    import xml.dom.minidom
    xml.dom.minidom.parseString(image)  # well-formed
    text = table(counts)
    assert "journal write" in text and "20.0%" in text, text
    print("flamegraph.py self-test: ok")


# ------------------------------------------------------------------------------------------

def main():
    if "--self-test" in sys.argv[1:]:
        self_test()
        return 0
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    f = sub.add_parser("fold")
    f.add_argument("--service", action="append", default=[], metavar="PID=NAME")
    f.add_argument("--out_dir")
    f.add_argument("input", nargs="?", default="-")
    s = sub.add_parser("svg")
    s.add_argument("folded")
    s.add_argument("--out", default="-")
    s.add_argument("--title", default="")
    s.add_argument("--min_pct", type=float, default=0.1)
    s.add_argument("--width", type=int, default=1200)
    t = sub.add_parser("table")
    t.add_argument("folded")
    t.add_argument("--top", type=int, default=15)
    a = p.parse_args()
    if a.cmd == "fold":
        services = {}
        for item in a.service:
            pid, _, name = item.partition("=")
            services[int(pid)] = name
        src = sys.stdin if a.input == "-" else open(a.input, errors="replace")
        folded = fold(src, services)
        if a.out_dir:
            os.makedirs(a.out_dir, exist_ok=True)
            for service, counts in folded.items():
                with open(os.path.join(a.out_dir, service + ".folded"), "w") as out:
                    write_folded(counts, out)
        else:
            for service in sorted(folded):
                write_folded(folded[service], sys.stdout)
    elif a.cmd == "svg":
        image = svg(read_folded(a.folded), a.title, a.min_pct, a.width)
        if a.out == "-":
            sys.stdout.write(image)
        else:
            with open(a.out, "w") as out:
                out.write(image)
    elif a.cmd == "table":
        sys.stdout.write(table(read_folded(a.folded), a.top))
    return 0


if __name__ == "__main__":
    sys.exit(main())
