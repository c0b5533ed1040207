#!/usr/bin/env python3
"""HAProxy's memory with N connections each holding a full buffer (bench/haproxy/connections.sh).

  hold_connections.py edge       a stand-in edge: 202 to POST /payments, 200 to anything else;
                                 prints "listening port=N"
  hold_connections.py hold ...   opens connections in steps (--levels), each making HAProxy hold
                                 a buffer (--mode head, body or worst: connections.sh says what
                                 each sends), and prints one tab-separated row per step

Beside the held connections, --known keep-alive clients (opened first, as clients already served)
send one POST /payments a second each, and at every step --fresh new connections send one each:
their answers are counted per step. Python 3 standard library only.
"""
import argparse
import errno
import http.server
import os
import resource
import selectors
import socket
import sys
import threading
import time
import urllib.request

PAYMENT = b'{"correlationId":"4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b3","amount":19.90}'
VALID_POST = (b"POST /payments HTTP/1.1\r\nHost: lb\r\nContent-Type: application/json\r\n"
              b"Content-Length: " + str(len(PAYMENT)).encode() + b"\r\n\r\n" + PAYMENT)


# ----------------------------------------------------------------------------------------------
# Stand-in edge
class EdgeHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _answer(self, status, body):
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        self._answer(202 if self.path == "/payments" else 200, b"")

    def do_GET(self):
        self._answer(200, b'{"default":{"totalRequests":0,"totalAmount":0},'
                          b'"fallback":{"totalRequests":0,"totalAmount":0}}')

    def log_message(self, *args):
        pass


def run_edge(_args):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), EdgeHandler)
    server.daemon_threads = True
    print(f"listening port={server.server_address[1]}", flush=True)
    server.serve_forever()


# ----------------------------------------------------------------------------------------------
# Measurements
def read_int(path):
    try:
        with open(path) as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def oom_kills(cgroup):
    try:
        with open(os.path.join(cgroup, "memory.oom_control")) as f:
            for line in f:
                key, value = line.split()
                if key == "oom_kill":
                    return int(value)
    except OSError:
        pass
    return None


def rss_kb(pids, field):
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith(field + ":"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


def scrape(url):
    """The exporter's series we use, by full name with labels."""
    wanted = ('haproxy_frontend_current_sessions{proxy="api"}',
              'haproxy_process_current_connections',
              'haproxy_process_max_connections',
              'haproxy_process_max_fds',
              'haproxy_process_pool_allocated_bytes',
              'haproxy_process_pool_used_bytes',
              'haproxy_frontend_http_responses_total{proxy="api",code="4xx"}')
    out = {}
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            for line in r.read().decode().splitlines():
                for w in wanted:
                    if line.startswith(w + " "):
                        out[w] = float(line.split()[-1])
    except OSError:
        pass
    return out


def tally(total, counts):
    """"3 (408:2,reset:1)", or without a total "202:30,none:2"; "-" when empty."""
    listed = ",".join(f"{k}:{v}" for k, v in sorted(counts.items(), key=str))
    if total is None:
        return listed or "-"
    return f"{total} ({listed})" if listed else str(total)


def mib(n):
    return "-" if n is None else f"{n / 1048576:.1f}"


# ----------------------------------------------------------------------------------------------
# Clients
def read_status(sock, deadline):
    """Reads one HTTP answer's status code (and its Content-Length body); None on timeout/close."""
    data = b""
    while b"\r\n\r\n" not in data:
        left = deadline - time.monotonic()
        if left <= 0:
            return None, False
        sock.settimeout(left)
        try:
            chunk = sock.recv(4096)
        except (socket.timeout, OSError):
            return None, False
        if not chunk:
            return None, False
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    length = 0
    close = False
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
        if name.strip().lower() == b"connection" and value.strip().lower() == b"close":
            close = True
    while len(rest) < length and time.monotonic() < deadline:
        try:
            chunk = sock.recv(4096)
        except (socket.timeout, OSError):
            break
        if not chunk:
            break
        rest += chunk
    return status, close


class Known(threading.Thread):
    """Keep-alive clients that were served before the flood: one POST a second each, as the
    contest's clients; answers counted per step (self.step set by the main thread)."""

    def __init__(self, target, count):
        super().__init__(daemon=True)
        self.target, self.count = target, count
        self.socks = [None] * count
        self.step = "start"
        self.tally = {}
        self.lock = threading.Lock()
        self.stopping = False

    def _count(self, key):
        with self.lock:
            per = self.tally.setdefault(self.step, {})
            per[key] = per.get(key, 0) + 1

    def take(self, step):
        with self.lock:
            return dict(self.tally.get(step, {}))

    def run(self):
        while not self.stopping:
            started = time.monotonic()
            for i in range(self.count):
                sock = self.socks[i]
                try:
                    if sock is None:
                        sock = socket.create_connection(self.target, timeout=2)
                        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                        self.socks[i] = sock
                    sock.settimeout(2)
                    sock.sendall(VALID_POST)
                    status, close = read_status(sock, time.monotonic() + 2)
                except OSError:
                    status, close = None, True
                self._count(status if status is not None else "none")
                if status is None or close:
                    # A closed keep-alive client reconnects, and is then a new client.
                    if sock is not None:
                        sock.close()
                    self.socks[i] = None
                    if status is None:
                        self._count("reconnect")
            time.sleep(max(0.0, 1.0 - (time.monotonic() - started)))


def fresh_requests(target, count, timeout):
    """New connections, one POST each: status -> count ('none': no answer within timeout)."""
    out = {}
    socks = []
    for _ in range(count):
        try:
            s = socket.create_connection(target, timeout=timeout)
            s.sendall(VALID_POST)
            socks.append(s)
        except OSError:
            out["refused"] = out.get("refused", 0) + 1
    deadline = time.monotonic() + timeout
    for s in socks:
        status, _ = read_status(s, deadline)
        key = status if status is not None else "none"
        out[key] = out.get(key, 0) + 1
        s.close()
    return out


def held_payload(mode, fill):
    """What a held connection sends: `head` an unfinished head of `fill` bytes; `body` a whole
    head announcing 4096 bytes of body, and `fill` bytes of head and body in all."""
    if mode == "head":
        head = b"POST /payments HTTP/1.1\r\nHost: lb\r\nContent-Type: application/json\r\nX-Fill: "
        return head + b"a" * max(0, fill - len(head) - 2) + b"\r\n"  # no blank line: unfinished
    head = (b"POST /payments HTTP/1.1\r\nHost: lb\r\nContent-Type: application/json\r\n"
            b"Content-Length: 4096\r\n\r\n")
    return head + b"{" + b" " * max(0, fill - len(head) - 1)  # 4096 announced, fill sent


class Opener:
    """Opens held connections without blocking (at most `parallel` in progress at once).

    head, body: connect, send the payload, hold. worst: the most a client can make HAProxy keep
    below maxconn: connect, send one valid POST /payments and read its answer (a 202 makes it a
    known client, past the soft limit for good), then send the body payload on the same
    connection and hold; a connection refused by the soft limit (503, closed) is replaced by a
    new one holding an unfinished head (no rule runs before the head ends)."""

    def __init__(self, target, mode, fills, sel, held, stats):
        self.target, self.mode, self.sel, self.held, self.stats = target, mode, sel, held, stats
        self.head = held_payload("head", fills["head"])
        self.body = held_payload("body", fills["body"])
        self.answers = {}  # socket -> bytes of the first answer so far

    def _connect(self, kind):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        rc = s.connect_ex(self.target)
        if rc not in (0, errno.EINPROGRESS):
            self.stats["connect_failed"] += 1
            s.close()
            return False
        self.sel.register(s, selectors.EVENT_WRITE, kind)
        return True

    def _send(self, s, payload):
        try:
            sent = s.send(payload)
        except OSError:
            sent = -1
        if sent != len(payload):
            self.stats["send_short"] += 1

    def _hold(self, s, kind):
        self.sel.modify(s, selectors.EVENT_READ, "held")
        self.held.append(s)
        self.stats["held_" + kind] += 1

    def open(self, n, timeout):
        parallel = 200 if self.mode == "worst" else 500
        first_kind = {"head": "head", "body": "body", "worst": "valid"}[self.mode]
        pending, todo = 0, n
        deadline = time.monotonic() + timeout
        while (todo or pending) and time.monotonic() < deadline:
            while todo and pending < parallel:
                todo -= 1
                pending += self._connect(first_kind)
            for key, _ in self.sel.select(timeout=0.2):
                s, kind = key.fileobj, key.data
                if kind == "held":
                    continue
                if kind in ("head", "body", "valid"):  # connect finished
                    if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
                        self.stats["connect_failed"] += 1
                        self.sel.unregister(s)
                        s.close()
                        pending -= 1
                    elif kind == "valid":
                        self._send(s, VALID_POST)
                        self.answers[s] = b""
                        self.sel.modify(s, selectors.EVENT_READ, "answer")
                    else:
                        self._send(s, self.head if kind == "head" else self.body)
                        self._hold(s, kind)
                        pending -= 1
                    continue
                # kind == "answer": the valid POST's answer
                try:
                    data = s.recv(4096)
                except OSError:
                    data = b""
                self.answers[s] += data
                got = self.answers[s]
                if data and b"\r\n\r\n" not in got:
                    continue
                del self.answers[s]
                if got.startswith(b"HTTP/1.1 202") and b"connection: close" not in got.lower():
                    self._send(s, self.body)
                    self._hold(s, "body")
                    pending -= 1
                else:
                    self.stats["soft_refused"] += 1
                    self.sel.unregister(s)
                    s.close()
                    pending -= 1
                    pending += self._connect("head")
        self.stats["connect_timeout"] += pending


def count_closed(sel, held, why):
    """Held connections HAProxy answered or closed (readable: an answer, EOF or reset); `why`
    counts them by the answer's status code, "eof" or "reset"."""
    closed = 0
    for key, _ in sel.select(timeout=0):
        if key.data != "held":
            continue
        s = key.fileobj
        try:
            data = s.recv(65536)
            reason = data.split(b" ")[1].decode() if data.startswith(b"HTTP/") else "eof"
        except OSError:
            reason = "reset"
        why[reason] = why.get(reason, 0) + 1
        sel.unregister(s)
        s.close()
        held.remove(s)
        closed += 1
    return closed


def run_hold(args):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    host, port = args.target.rsplit(":", 1)
    target = (host, int(port))
    pids = [int(p) for p in args.pids.split(",") if p]
    levels = [int(x) for x in args.levels.split(",")]
    if levels[-1] + args.known + args.fresh + 64 > hard:
        sys.exit(f"hold_connections: {levels[-1]} connections need more than the fd limit {hard}")
    sel = selectors.DefaultSelector()
    held = []
    stats = {"connect_failed": 0, "connect_timeout": 0, "send_short": 0, "soft_refused": 0,
             "held_head": 0, "held_body": 0}
    opener = Opener(target, args.mode, {"head": args.fill_head, "body": args.fill_body}, sel,
                    held, stats)
    closed_total = 0
    closed_why = {}
    known = Known(target, args.known)
    known.start()
    time.sleep(2)

    cols = ["connections", "held", "opened_body/head", "lb_conns", "closed_early", "soft_503",
            "connect_failed",
            "cg_usage_MiB", "cg_peak_MiB", "kmem_MiB", "tcp_MiB", "rss_MiB", "rss_peak_MiB",
            "pool_used_MiB", "failcnt", "oom_kills", "known_answers", "fresh_answers"]
    print("\t".join(cols), flush=True)
    for level in [0] + levels:
        step = str(level)
        known.step = step
        if level > len(held):
            opener.open(level - len(held), args.open_timeout)
        # Settle: HAProxy has accepted what it will (its count stops moving), then a second more.
        want = level + args.known
        last, still = -1, 0
        deadline = time.monotonic() + args.settle_timeout
        while time.monotonic() < deadline:
            cur = scrape(args.metrics).get('haproxy_frontend_current_sessions{proxy="api"}', -1)
            if cur >= want:
                break
            still = still + 1 if cur == last else 0
            if still >= 6:
                break
            last = cur
            time.sleep(0.5)
        time.sleep(args.hold_s)
        closed_total += count_closed(sel, held, closed_why)
        m = scrape(args.metrics)
        fresh = fresh_requests(target, args.fresh, args.fresh_timeout) if args.fresh else {}
        time.sleep(0.2)
        known_answers = known.take(step)
        cg = args.cgroup
        row = [
            str(level),
            str(len(held)),
            f"{stats['held_body']}/{stats['held_head']}",
            str(int(m.get('haproxy_frontend_current_sessions{proxy="api"}', -1))),
            tally(closed_total, closed_why),
            str(stats["soft_refused"]),
            str(stats["connect_failed"] + stats["connect_timeout"] + stats["send_short"]),
            mib(read_int(os.path.join(cg, "memory.usage_in_bytes"))),
            mib(read_int(os.path.join(cg, "memory.max_usage_in_bytes"))),
            mib(read_int(os.path.join(cg, "memory.kmem.usage_in_bytes"))),
            mib(read_int(os.path.join(cg, "memory.kmem.tcp.max_usage_in_bytes"))),
            mib(rss_kb(pids, "VmRSS") * 1024),
            mib(rss_kb(pids, "VmHWM") * 1024),
            mib(m.get("haproxy_process_pool_used_bytes")),
            str(read_int(os.path.join(cg, "memory.failcnt"))),
            str(oom_kills(cg)),
            tally(None, known_answers),
            tally(None, fresh),
        ]
        print("\t".join(row), flush=True)
    known.stopping = True
    for s in held:
        s.close()


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("edge")
    h = sub.add_parser("hold")
    h.add_argument("--target", required=True, help="HAProxy's API address host:port")
    h.add_argument("--metrics", required=True, help="HAProxy's exporter URL")
    h.add_argument("--cgroup", required=True, help="HAProxy's cgroup v1 memory directory")
    h.add_argument("--pids", required=True, help="HAProxy's pids (master, worker), comma-separated")
    h.add_argument("--levels", default="2600,5000,10000,12000")
    h.add_argument("--mode", choices=("head", "body", "worst"), default="head")
    h.add_argument("--fill_head", type=int, default=4000, help="bytes of an unfinished head")
    h.add_argument("--fill_body", type=int, default=2900, help="bytes of head and part body")
    h.add_argument("--known", type=int, default=10)
    h.add_argument("--fresh", type=int, default=5)
    h.add_argument("--fresh_timeout", type=float, default=2.0)
    h.add_argument("--hold_s", type=float, default=3.0, help="held this long before measuring")
    h.add_argument("--open_timeout", type=float, default=60.0)
    h.add_argument("--settle_timeout", type=float, default=30.0)
    args = p.parse_args()
    if args.cmd == "edge":
        run_edge(args)
    else:
        run_hold(args)


if __name__ == "__main__":
    main()
