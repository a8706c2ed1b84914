#!/usr/bin/env python3
"""Many short TCP connections, for flow-table leak tests (asyncio, stdlib).

  connloop.py server ADDR PORT [PORT...]
      accept on each port; per connection read 1 byte, answer 1 byte, close.
  connloop.py client ADDR PORTS N CONCURRENCY
      open N connections (ports comma-separated, used in turn), each sends
      1 byte and waits for the answer; prints "ok=N failed=M"; exit 1 on any
      failure.  Bounded: gives up after 300 s.
"""
import asyncio
import sys


async def serve(addr, ports):
    async def handle(reader, writer):
        try:
            await reader.readexactly(1)
            writer.write(b"y")
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        writer.close()

    servers = [await asyncio.start_server(handle, addr, p, backlog=4096) for p in ports]
    print("listening", flush=True)
    await asyncio.gather(*(s.serve_forever() for s in servers))


async def client(addr, ports, n, conc):
    ok = failed = 0
    nxt = 0
    reasons = {}

    async def one(i):
        nonlocal ok, failed
        try:
            r, w = await asyncio.open_connection(addr, ports[i % len(ports)])
            w.write(b"x")
            await w.drain()
            await r.readexactly(1)
            w.close()
            await w.wait_closed()
            ok += 1
        except (OSError, asyncio.IncompleteReadError) as e:
            failed += 1
            reasons[repr(e)] = reasons.get(repr(e), 0) + 1

    async def worker():
        nonlocal nxt
        while nxt < n:
            i = nxt
            nxt += 1
            await one(i)

    await asyncio.wait_for(asyncio.gather(*(worker() for _ in range(conc))), 300)
    print(f"ok={ok} failed={failed}")
    for r, k in sorted(reasons.items(), key=lambda x: -x[1])[:5]:
        print(f"connloop: {k} x {r}", file=sys.stderr)
    return failed == 0


def main():
    if sys.argv[1] == "server":
        asyncio.run(serve(sys.argv[2], [int(p) for p in sys.argv[3:]]))
        return 0
    ports = [int(p) for p in sys.argv[3].split(",")]
    return 0 if asyncio.run(client(sys.argv[2], ports, int(sys.argv[4]), int(sys.argv[5]))) else 1


if __name__ == "__main__":
    sys.exit(main())
