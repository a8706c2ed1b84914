#!/usr/bin/env python3
"""Many short echo connections, each checked byte for byte: for resumption tests.

  echo.py serve PORT
      echo every connection on PORT (IPv6 socket, IPv4 too) until EOF; one
      thread per connection; runs until killed.
  echo.py seq ADDR PORT N SIZE OUT
      N connections one after the other; each sends SIZE random bytes,
      shuts down its sending side and must read the same bytes back.
  echo.py par ADDR PORT N SIZE OUT
      the same with N connections opened at the same instant (a barrier
      releases N threads together).
  ECHO_HOLD=SEC in the environment keeps each connection open SEC seconds
  after its echo came back (to read the session maps meanwhile).
  OUT gets JSON: {"n", "ok", "errors": {reason: count}, "ports": [local
  port of each connection that was intact], "ms": [connect + first echoed
  byte, per intact connection]}.
"""
import json
import os
import socket
import sys
import threading
import time


def serve(port):
    ls = socket.socket(socket.AF_INET6)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    ls.bind(("::", port))
    ls.listen(1024)

    def echo(c):
        try:
            while True:
                b = c.recv(65536)
                if not b:
                    break
                c.sendall(b)
        except OSError:
            pass
        finally:
            c.close()

    while True:
        c, _ = ls.accept()
        threading.Thread(target=echo, args=(c,), daemon=True).start()


def one(addr, port, size, res, lock, barrier=None):
    data = os.urandom(size)
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    s = socket.socket(fam)
    s.settimeout(20)
    why = None
    try:
        if barrier:
            barrier.wait()
        t0 = time.monotonic()
        s.connect((addr, port))
        lport = s.getsockname()[1]
        s.sendall(data)
        got = s.recv(65536)
        ms = (time.monotonic() - t0) * 1000
        s.shutdown(socket.SHUT_WR)
        while len(got) < size:
            b = s.recv(65536)
            if not b:
                break
            got += b
        if got != data:
            why = "corrupt" if len(got) == size else "short"
        time.sleep(float(os.environ.get("ECHO_HOLD", "0")))
    except OSError as e:
        why = type(e).__name__ if not e.errno else os.strerror(e.errno)
    finally:
        s.close()
    with lock:
        if why:
            res["errors"][why] = res["errors"].get(why, 0) + 1
        else:
            res["ok"] += 1
            res["ports"].append(lport)
            res["ms"].append(round(ms, 3))


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "serve":
        serve(int(sys.argv[2]))
        return
    if len(sys.argv) != 7 or sys.argv[1] not in ("seq", "par"):
        sys.exit(__doc__)
    mode, addr, port, n, size, out = sys.argv[1:]
    port, n, size = int(port), int(n), int(size)
    res = {"n": n, "ok": 0, "errors": {}, "ports": [], "ms": []}
    lock = threading.Lock()
    if mode == "seq":
        for _ in range(n):
            one(addr, port, size, res, lock)
    else:
        barrier = threading.Barrier(n)
        ts = [threading.Thread(target=one, args=(addr, port, size, res, lock, barrier))
              for _ in range(n)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
    with open(out, "w") as f:
        json.dump(res, f)


if __name__ == "__main__":
    main()
