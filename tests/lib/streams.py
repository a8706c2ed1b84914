#!/usr/bin/env python3
"""Long-lived TCP streams whose fate is recorded: for stop, crash and reset tests.

  streams.py serve PORT N MARKER OUT
      accept N connections on PORT (IPv6 socket, IPv4 too); from each, read
      until EOF or an error.  Writes JSON to OUT when all have ended:
      {"n", "eof", "errors": {reason: count}, "bytes", "intact"}, where intact
      says every connection's bytes were the senders' pattern from its start.
  streams.py send ADDR PORT N SECONDS MARKER OUT
      open N connections, then write MARKER-bearing blocks on each, in turn,
      until every connection failed or SECONDS passed (then close them).
      Writes JSON to OUT: {"n", "connected", "errors": {reason: count},
      "closed", "bytes"} and "first_error_s", when the first error came
      (seconds from the start).  Bounded by SECONDS.

The pattern is BLOCK = MARKER + "-" + 1000 x "x", so that a capture can look
for MARKER and a reader can check the stream it got.
"""
import errno
import json
import select
import socket
import sys
import time


def block(marker):
    return marker.encode() + b"-" + b"x" * 1000


def reason(e):
    return errno.errorcode.get(e.errno, str(e)) if isinstance(e, OSError) else str(e)


def count(res, why):
    res["errors"][why] = res["errors"].get(why, 0) + 1


def serve(port, n, marker, out):
    pat = block(marker)
    ls = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    ls.bind(("::", port))
    ls.listen(1024)
    print("listening", flush=True)
    res = {"n": n, "eof": 0, "errors": {}, "bytes": 0, "intact": True}
    conns, accepted = {}, 0  # socket -> bytes read so far
    while accepted < n or conns:
        r, _, _ = select.select(([ls] if accepted < n else []) + list(conns), [], [], 60)
        if not r:
            for _ in conns:
                count(res, "timeout")
            break
        for s in r:
            if s is ls:
                c, _ = ls.accept()
                conns[c] = 0
                accepted += 1
                continue
            try:
                d = s.recv(65536)
            except OSError as e:
                count(res, reason(e))
                del conns[s]
                s.close()
                continue
            if not d:
                res["eof"] += 1
                del conns[s]
                s.close()
                continue
            # the stream must be the pattern, repeated, from its first byte
            off = conns[s] % len(pat)
            want = (pat[off:] + pat * (len(d) // len(pat) + 1))[:len(d)]
            if d != want:
                res["intact"] = False
            conns[s] += len(d)
            res["bytes"] += len(d)
    with open(out, "w") as f:
        json.dump(res, f)


def send(addr, port, n, seconds, marker, out):
    t0 = time.monotonic()
    res = {"n": n, "connected": 0, "errors": {}, "closed": 0, "bytes": 0}
    pat = block(marker)
    socks = {}  # socket -> offset in the pattern
    for _ in range(n):
        s = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET)
        s.settimeout(10)
        try:
            s.connect((addr, port))
        except OSError as e:
            count(res, reason(e))
            s.close()
            continue
        s.setblocking(False)
        socks[s] = 0
        res["connected"] += 1
    print("connected %d" % len(socks), flush=True)

    def failed(s, why):
        count(res, why)
        res.setdefault("first_error_s", round(time.monotonic() - t0, 3))
        del socks[s]
        s.close()

    while socks and time.monotonic() - t0 < seconds:
        _, w, _ = select.select([], list(socks), [], 0.05)
        for s in w:
            try:
                k = s.send(pat[socks[s]:])
                socks[s] = (socks[s] + k) % len(pat)
                res["bytes"] += k
            except BlockingIOError:
                pass
            except OSError as e:
                failed(s, reason(e))
        # a reset connection whose window was shut shows only in SO_ERROR
        for s in [s for s in socks if s not in w]:
            e = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if e:
                failed(s, errno.errorcode.get(e, str(e)))
        time.sleep(0.002)
    for s in socks:
        s.close()
        res["closed"] += 1
    with open(out, "w") as f:
        json.dump(res, f)


def main():
    if len(sys.argv) == 6 and sys.argv[1] == "serve":
        serve(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5])
    elif len(sys.argv) == 8 and sys.argv[1] == "send":
        send(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]), sys.argv[6],
             sys.argv[7])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
