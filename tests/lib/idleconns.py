#!/usr/bin/env python3
"""Many idle TCP connections (stdlib asyncio), for memory and burst measurements.

  idleconns.py serve PORT
      accept connections on PORT (IPv6 socket, IPv4 too); read each one's
      lines and answer each with "ok\\n"; keep the connection until the peer
      closes it.  Prints "listening".
  idleconns.py hold ADDR PORT N SECONDS
      open N connections at once, send one line on each and read the answer;
      print "held K seconds T failed F" once all are done (K got their
      answer, T seconds from the first open to the last answer, F failed),
      keep them open for SECONDS, then close them all.  Bounded: connecting
      gives up after 60 s.
"""
import asyncio
import resource
import sys
import time


async def serve(port):
    async def handle(r, w):
        try:
            while await r.readline():
                w.write(b"ok\n")
                await w.drain()
        except ConnectionError:
            pass
        w.close()

    srv = await asyncio.start_server(handle, None, port, backlog=8192)  # IPv4 and IPv6
    print("listening", flush=True)
    await srv.serve_forever()


async def hold(addr, port, n, seconds):
    async def one():
        r, w = await asyncio.open_connection(addr, port)
        w.write(b"hello\n")
        await w.drain()
        await r.readline()
        return w

    t0 = time.perf_counter()
    res = await asyncio.wait_for(asyncio.gather(*(one() for _ in range(n)),
                                                return_exceptions=True), 60)
    secs = time.perf_counter() - t0
    held = [w for w in res if not isinstance(w, BaseException)]
    print("held %d seconds %.3f failed %d" % (len(held), secs, n - len(held)), flush=True)
    await asyncio.sleep(seconds)
    for w in held:
        w.close()


def main():
    # one descriptor per connection: raise the soft limit to the hard one
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    a = sys.argv[1:]
    if len(a) == 2 and a[0] == "serve":
        asyncio.run(serve(int(a[1])))
    elif len(a) == 5 and a[0] == "hold":
        asyncio.run(hold(a[1], int(a[2]), int(a[3]), float(a[4])))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
