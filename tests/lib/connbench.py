#!/usr/bin/env python3
"""Short TCP connections (stdlib asyncio): connect, send a request, read the
reply, close.

  connbench.py server ADDR PORT[,PORT...] [--size S]
      answer each connection on each port: read S bytes, send S bytes, close.
  connbench.py client ADDR PORT[,PORT...] N CONC [--size S] [--seconds T]
      run up to N connections (ports used in turn), CONC at a time, each
      sending S bytes and reading S bytes back; with --seconds, start no new
      connection after T seconds.  Print JSON {"n", "ok", "failed", "size",
      "seconds", "rate", "p50_ms", "p99_ms"}, where the latency is connect +
      request + the reply's bytes back (with S = 64 the reply is one segment:
      connect + first byte); the commonest failure reasons go to stderr; exit
      1 if any connection failed.  Bounded: gives up after 300 s.

S defaults to 64 (issue 16: connect, 64 B request, 64 B reply, close); client
and server must be given the same S.
"""
import argparse
import asyncio
import json
import sys
import time


async def serve(addr, ports, size):
    reply = b"y" * size

    async def handle(r, w):
        try:
            await r.readexactly(size)
            w.write(reply)
            await w.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        w.close()

    servers = [await asyncio.start_server(handle, addr, p, backlog=4096) for p in ports]
    print("listening", flush=True)
    await asyncio.gather(*(s.serve_forever() for s in servers))


async def client(addr, ports, n, conc, size, seconds):
    lat, failed, nxt, reasons = [], 0, 0, {}
    request = b"x" * size
    t0 = time.perf_counter()
    stop = t0 + seconds if seconds else None

    async def worker():
        nonlocal failed, nxt
        while nxt < n and (stop is None or time.perf_counter() < stop):
            i = nxt
            nxt += 1
            t1 = time.perf_counter()
            try:
                r, w = await asyncio.open_connection(addr, ports[i % len(ports)])
                w.write(request)
                await w.drain()
                await r.readexactly(size)
                lat.append(time.perf_counter() - t1)
                w.close()
                await w.wait_closed()
            except (OSError, asyncio.IncompleteReadError) as e:
                failed += 1
                reasons[repr(e)] = reasons.get(repr(e), 0) + 1

    await asyncio.wait_for(asyncio.gather(*(worker() for _ in range(conc))), 300)
    secs = time.perf_counter() - t0
    lat.sort()
    pct = lambda p: round(lat[min(len(lat) - 1, int(p * len(lat)))] * 1000, 3) if lat else None
    print(json.dumps({"n": nxt, "ok": nxt - failed, "failed": failed, "size": size,
                      "seconds": round(secs, 3), "rate": round(len(lat) / secs, 1),
                      "p50_ms": pct(0.5), "p99_ms": pct(0.99)}))
    for r, k in sorted(reasons.items(), key=lambda x: -x[1])[:5]:
        print(f"connbench: {k} x {r}", file=sys.stderr)
    return failed == 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("mode", choices=("server", "client"))
    ap.add_argument("addr")
    ap.add_argument("ports")
    ap.add_argument("n", nargs="?", type=int)
    ap.add_argument("conc", nargs="?", type=int)
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--seconds", type=float, default=0)
    a = ap.parse_args()
    if a.size < 1:
        ap.error("--size must be at least 1")
    ports = [int(p) for p in a.ports.split(",")]
    if a.mode == "server":
        asyncio.run(serve(a.addr, ports, a.size))
        return 0
    if a.n is None or a.conc is None:
        ap.error("client needs N and CONC")
    return 0 if asyncio.run(client(a.addr, ports, a.n, a.conc, a.size, a.seconds)) else 1


if __name__ == "__main__":
    sys.exit(main())
