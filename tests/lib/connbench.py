#!/usr/bin/env python3
"""Short TCP connections (stdlib asyncio): connect, send 1 byte, read 1 byte, close.

  connbench.py server ADDR PORT[,PORT...]
      answer each connection on each port: read 1 byte, send 1 byte, close.
  connbench.py client ADDR PORT[,PORT...] N CONC
      run N connections (ports used in turn), CONC at a time; print JSON
      {"n", "ok", "failed", "seconds", "rate", "p50_ms", "p99_ms"}, where the
      latency is connect + first byte back; the commonest failure reasons go
      to stderr; exit 1 if any connection failed.  Bounded: gives up after
      300 s.
"""
import asyncio
import json
import sys
import time


async def serve(addr, ports):
    async def handle(r, w):
        try:
            await r.readexactly(1)
            w.write(b"y")
            await w.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        w.close()

    servers = [await asyncio.start_server(handle, addr, p, backlog=4096) for p in ports]
    print("listening", flush=True)
    await asyncio.gather(*(s.serve_forever() for s in servers))


async def client(addr, ports, n, conc):
    lat, failed, nxt, reasons = [], 0, 0, {}

    async def worker():
        nonlocal failed, nxt
        while nxt < n:
            i = nxt
            nxt += 1
            t0 = time.perf_counter()
            try:
                r, w = await asyncio.open_connection(addr, ports[i % len(ports)])
                w.write(b"x")
                await w.drain()
                await r.readexactly(1)
                lat.append(time.perf_counter() - t0)
                w.close()
                await w.wait_closed()
            except (OSError, asyncio.IncompleteReadError) as e:
                failed += 1
                reasons[repr(e)] = reasons.get(repr(e), 0) + 1

    t0 = time.perf_counter()
    await asyncio.wait_for(asyncio.gather(*(worker() for _ in range(conc))), 300)
    secs = time.perf_counter() - t0
    lat.sort()
    pct = lambda p: round(lat[min(len(lat) - 1, int(p * len(lat)))] * 1000, 3) if lat else None
    print(json.dumps({"n": n, "ok": n - failed, "failed": failed, "seconds": round(secs, 3),
                      "rate": round(len(lat) / secs, 1), "p50_ms": pct(0.5), "p99_ms": pct(0.99)}))
    for r, k in sorted(reasons.items(), key=lambda x: -x[1])[:5]:
        print(f"connbench: {k} x {r}", file=sys.stderr)
    return failed == 0


def main():
    ports = [int(p) for p in sys.argv[3].split(",")]
    if sys.argv[1] == "server":
        asyncio.run(serve(sys.argv[2], ports))
        return 0
    return 0 if asyncio.run(client(sys.argv[2], ports, int(sys.argv[4]), int(sys.argv[5]))) else 1


if __name__ == "__main__":
    sys.exit(main())
