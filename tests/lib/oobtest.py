#!/usr/bin/env python3
"""Urgent data (MSG_OOB) the way an unmodified application uses it (stdlib only).

  oobtest.py serve ADDR PORT [--inline]
      accept one connection; receive the peer's urgent exchange, then send
      one; print the receiving side's transcript as JSON.
  oobtest.py connect ADDR PORT [--inline]
      connect; send the urgent exchange, then receive the peer's; print the
      transcript as JSON.

The exchange: send(b"before-"), send(b"!", MSG_OOB), send(b"-after"), then
shutdown(SHUT_WR).  --inline sets SO_OOBINLINE on the receiving socket.

The receiver waits until the peer's FIN has arrived (poll POLLRDHUP: every
byte is in), so that what it records does not depend on timing, then records
select()'s exceptional condition, SIOCATMARK, a peek at the urgent byte,
and reads in band to EOF, at the mark taking the urgent byte with
recv(MSG_OOB) twice (the second must fail).  Errors are recorded by errno
name.  Over plain TCP and over tcpcrypt the transcripts must be the same.
"""
import errno
import fcntl
import json
import select
import socket
import struct
import sys
import time

SIOCATMARK = 0x8905  # linux/sockios.h
BEFORE, URGENT, AFTER = b"before-", b"!", b"-after"
TIMEOUT = 20


def atmark(s):
    return struct.unpack("i", fcntl.ioctl(s.fileno(), SIOCATMARK, struct.pack("i", 0)))[0] != 0


def exceptional(s):
    return bool(select.select([], [], [s], 0)[2])


def try_recv(s, n, flags):
    try:
        return s.recv(n, flags).decode("latin1")
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))


def send_exchange(s):
    s.sendall(BEFORE)
    time.sleep(0.1)
    s.send(URGENT, socket.MSG_OOB)
    time.sleep(0.1)
    s.sendall(AFTER)
    s.shutdown(socket.SHUT_WR)


def receive_exchange(s):
    p = select.poll()
    p.register(s, select.POLLRDHUP)
    deadline = time.monotonic() + TIMEOUT
    while not p.poll(100):
        if time.monotonic() > deadline:
            raise SystemExit("oobtest: the peer's FIN never came")
    t = [["exceptional", exceptional(s)], ["atmark", atmark(s)]]
    t.append(["peek_oob", try_recv(s, 1, socket.MSG_OOB | socket.MSG_PEEK)])
    inband, oob_taken = "", False
    while True:
        d = try_recv(s, 1024, 0)
        if d == "":
            t.append(["eof"])
            break
        t.append(["data", d])
        inband += d
        t.append(["atmark", atmark(s)])
        if t[-1][1] and not oob_taken:
            oob_taken = True
            t.append(["oob", try_recv(s, 1, socket.MSG_OOB)])
            t.append(["oob_again", try_recv(s, 1, socket.MSG_OOB)])
            t.append(["exceptional", exceptional(s)])
    return {"transcript": t, "inband": inband}


def main():
    if len(sys.argv) < 4 or sys.argv[1] not in ("serve", "connect"):
        raise SystemExit(__doc__)
    mode, addr, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    inline = "--inline" in sys.argv[4:]
    if mode == "serve":
        ls = socket.create_server((addr, port), family=socket.AF_INET6, dualstack_ipv6=True)
        ls.settimeout(TIMEOUT)
        s, _ = ls.accept()
    else:
        s = socket.create_connection((addr, port), timeout=TIMEOUT)
    s.settimeout(TIMEOUT)
    if inline:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_OOBINLINE, 1)
    if mode == "serve":
        r = receive_exchange(s)
        send_exchange(s)
    else:
        send_exchange(s)
        r = receive_exchange(s)
    s.close()
    print(json.dumps(r, sort_keys=True))


if __name__ == "__main__":
    main()
