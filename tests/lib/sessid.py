#!/usr/bin/env python3
"""A Python client and server whose only tcpcrypt-specific code is
socket.getsockopt / setsockopt on the TCP_ENO_* options (tcpcrypt(7)); for
test_37 and the demo.  Each end reads its session ID (retrying while it is
ENOTCONN, at most 5 s), sends it in hex to the other end, and prints one
JSON line: its ID, the peer's, its role, and what the other calls returned.

  sessid.py server PORT COUNT [OPTIONS]
  sessid.py client ADDR PORT [OPTIONS] [--probe] [--flush] [--hold S] [--bind-port P]

OPTIONS set TCP_ENO_ENABLED (--enabled), _SPECS (--specs HEX), _SELF_GOPT
(--gopt), _AA_MANDATORY (--aa), TCP_CRYPT_AEAD (--aead), _CACHE (--cache) on
the socket before connect() or listen().

--probe (client): also the errors right after connect() (before the key
exchange can have completed), for a 32-byte buffer, for a pre-SYN option on
the connected socket, and that TCP_NODELAY, SO_RCVBUF and TCP_INFO work.
"""
import argparse
import errno
import json
import socket
import struct
import sys
import time

# include/tcpcrypt/tcpcrypt.h
TCP_ENO_ENABLED = 0x454E0001
TCP_ENO_SESSID = 0x454E0002
TCP_ENO_NEGSPEC = 0x454E0003
TCP_ENO_SPECS = 0x454E0004
TCP_ENO_SELF_GOPT = 0x454E0005
TCP_ENO_PEER_GOPT = 0x454E0006
TCP_ENO_AA_MANDATORY = 0x454E0007
TCP_ENO_ROLE = 0x454E0008
TCP_ENO_TRANSCRIPT = 0x454E0009
TCP_CRYPT_AEAD = 0x454E0010
TCP_CRYPT_NEGAEAD = 0x454E0011
TCP_CRYPT_CACHE = 0x454E0012
TCP_CRYPT_CACHE_FLUSH = 0x454E0013
SESSID_LEN = 33
TCP = socket.IPPROTO_TCP


def err_name(e):
    if e.errno == errno.EOPNOTSUPP:  # errorcode names it by its alias ENOTSUP
        return "EOPNOTSUPP"
    return errno.errorcode.get(e.errno, str(e.errno))


def try_get(s, opt, buflen=None):
    """getsockopt: the value, or the errno's name."""
    try:
        v = s.getsockopt(TCP, opt, buflen) if buflen else s.getsockopt(TCP, opt)
        return v.hex() if isinstance(v, bytes) else v
    except OSError as e:
        return err_name(e)


def wait_sessid(s, timeout=5.0):
    end = time.monotonic() + timeout
    delay = 0.0001
    while True:
        try:
            return s.getsockopt(TCP, TCP_ENO_SESSID, SESSID_LEN).hex()
        except OSError as e:
            if e.errno != errno.ENOTCONN or time.monotonic() > end:
                return err_name(e)
        time.sleep(delay)
        delay = min(delay * 2, 0.004)


def configure(s, args):
    if args.enabled is not None:
        s.setsockopt(TCP, TCP_ENO_ENABLED, args.enabled)
    if args.specs:
        s.setsockopt(TCP, TCP_ENO_SPECS, bytes.fromhex(args.specs))
    for opt, v in ((TCP_ENO_SELF_GOPT, args.gopt), (TCP_ENO_AA_MANDATORY, args.aa),
                   (TCP_CRYPT_AEAD, args.aead), (TCP_CRYPT_CACHE, args.cache)):
        if v is not None:
            s.setsockopt(TCP, opt, v)


def exchange(s, side, extra):
    own = wait_sessid(s)
    f = s.makefile("rwb")
    f.write((own + "\n").encode())
    f.flush()
    peer = f.readline().decode().strip()
    out = {"side": side, "sessid": own, "peer_sessid": peer,
           "role": try_get(s, TCP_ENO_ROLE), "negspec": try_get(s, TCP_ENO_NEGSPEC),
           "aead": try_get(s, TCP_CRYPT_NEGAEAD),
           "self_gopt": try_get(s, TCP_ENO_SELF_GOPT),
           "peer_gopt": try_get(s, TCP_ENO_PEER_GOPT),
           "transcript": try_get(s, TCP_ENO_TRANSCRIPT, 80)}
    out.update(extra)
    print(json.dumps(out), flush=True)


def probe_before(s):
    """Right after connect(): errors that need no key exchange to be done."""
    r = {"early": try_get(s, TCP_ENO_SESSID, SESSID_LEN), "early_time": time.time(),
         "short": try_get(s, TCP_ENO_SESSID, SESSID_LEN - 1)}
    try:
        s.setsockopt(TCP, TCP_ENO_ENABLED, 1)
        r["eisconn"] = "ok"
    except OSError as e:
        r["eisconn"] = err_name(e)
    return r


def probe_others(s):
    """Other options and levels behave as without tcpcrypt."""
    s.setsockopt(TCP, socket.TCP_NODELAY, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    info = s.getsockopt(TCP, socket.TCP_INFO, 104)
    return {"nodelay": s.getsockopt(TCP, socket.TCP_NODELAY),
            "rcvbuf": s.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF),
            "tcp_info_state": struct.unpack_from("B", info)[0],
            "short_after": try_get(s, TCP_ENO_SESSID, SESSID_LEN - 1)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["server", "client"])
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("--enabled", type=int)
    ap.add_argument("--specs")
    ap.add_argument("--gopt", type=int, help="TCP_ENO_SELF_GOPT")
    ap.add_argument("--aa", type=int, help="TCP_ENO_AA_MANDATORY")
    ap.add_argument("--aead", type=int, help="TCP_CRYPT_AEAD")
    ap.add_argument("--cache", type=int, help="TCP_CRYPT_CACHE")
    ap.add_argument("--flush", action="store_true", help="TCP_CRYPT_CACHE_FLUSH once connected")
    ap.add_argument("--probe", action="store_true")
    ap.add_argument("--hold", type=float, default=0, help="seconds to keep the connection open")
    ap.add_argument("--bind-port", type=int, help="client: from this local port (SO_REUSEADDR)")
    args = ap.parse_args()
    if args.mode == "server":
        ls = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        configure(ls, args)
        ls.bind(("::", int(args.a)))
        ls.listen(64)
        for _ in range(int(args.b)):
            c, _ = ls.accept()
            with c:
                exchange(c, "server", {})
        return 0
    host, port = args.a, int(args.b)
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    configure(s, args)
    if args.bind_port:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("::" if fam == socket.AF_INET6 else "0.0.0.0", args.bind_port))
    s.connect((host, port))
    extra = probe_before(s) if args.probe else {}
    with s:
        exchange(s, "client", extra)
        if args.flush:
            s.setsockopt(TCP, TCP_CRYPT_CACHE_FLUSH, 1)
        if args.probe:
            extra = probe_others(s)
            print(json.dumps(dict(side="client-others", **extra)), flush=True)
        time.sleep(args.hold)
    return 0


if __name__ == "__main__":
    sys.exit(main())
