#!/usr/bin/env python3
"""Short-connection benchmark (stdlib): connect, send 1 byte, read 1 byte, close.

  connbench.py server ADDR PORT            answer each connection (1 byte back)
  connbench.py client ADDR PORT N CONC     run N connections, CONC at a time; print JSON:
                                           {"n", "failed", "seconds", "rate", "p50_ms", "p99_ms"}
Latency is connect + first byte back, per connection.  Bounded: 300 s.
"""
import asyncio
import json
import sys
import time


async def serve(addr, port):
    async def handle(r, w):
        try:
            await r.readexactly(1)
            w.write(b"y")
            await w.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        w.close()

    srv = await asyncio.start_server(handle, addr, port, backlog=4096)
    print("listening", flush=True)
    await srv.serve_forever()


async def client(addr, port, n, conc):
    lat, failed, nxt = [], 0, 0

    async def worker():
        nonlocal failed, nxt
        while nxt < n:
            nxt += 1
            t0 = time.perf_counter()
            try:
                r, w = await asyncio.open_connection(addr, port)
                w.write(b"x")
                await w.drain()
                await r.readexactly(1)
                lat.append(time.perf_counter() - t0)
                w.close()
            except (OSError, asyncio.IncompleteReadError):
                failed += 1

    t0 = time.perf_counter()
    await asyncio.wait_for(asyncio.gather(*(worker() for _ in range(conc))), 300)
    secs = time.perf_counter() - t0
    lat.sort()
    pct = lambda p: round(lat[min(len(lat) - 1, int(p * len(lat)))] * 1000, 3) if lat else None
    print(json.dumps({"n": n, "failed": failed, "seconds": round(secs, 3),
                      "rate": round(len(lat) / secs, 1), "p50_ms": pct(0.5), "p99_ms": pct(0.99)}))


if __name__ == "__main__":
    if sys.argv[1] == "server":
        asyncio.run(serve(sys.argv[2], int(sys.argv[3])))
    else:
        asyncio.run(client(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])))
