#!/usr/bin/env python3
"""Which TLS connections in a pcap resumed a session, from their handshakes.

  tlsresume.py FILE PORT
      per TCP connection to PORT (the TLS server's), its ClientHello and
      ServerHello: prints JSON {"connections", "client_hellos",
      "server_hellos", "offered", "resumed", "malformed"}.  "offered": the
      ClientHello carried a pre_shared_key extension (41, RFC 8446 4.2.11:
      the client asks to resume); "resumed": the ServerHello carried one
      too (the server accepted: a resumed handshake, no certificate).

Used by make bench (tests/bench.sh) to check that stunnel's "fresh" service
never resumed and its "resumed" one did (docs/machine-facts.md).  TLS 1.3
only (a TLS 1.2 resumption, by session ID or ticket, would not be seen).
"""
import json
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pcap  # noqa: E402

PRE_SHARED_KEY = 41


class Malformed(Exception):
    pass


def first_handshake(stream):
    """(type, body) of the first handshake message of a TLS byte stream."""
    buf = b""
    i = 0
    while i + 5 <= len(stream):
        ctype, _, n = struct.unpack("!BHH", stream[i:i + 5])
        if ctype != 22:  # handshake records come first in either direction
            raise Malformed(f"record type {ctype} before the hello")
        buf += stream[i + 5:i + 5 + n]
        i += 5 + n
        if len(buf) >= 4:
            mlen = int.from_bytes(buf[1:4], "big")
            if len(buf) >= 4 + mlen:
                return buf[0], buf[4:4 + mlen]
    raise Malformed("no whole handshake message")


def extensions(body, hello_type):
    """The extension numbers of a ClientHello (1) or ServerHello (2) body."""
    p = 2 + 32  # legacy_version, random
    if p >= len(body):
        raise Malformed("short hello")
    p += 1 + body[p]  # legacy_session_id
    if hello_type == 1:
        p += 2 + int.from_bytes(body[p:p + 2], "big")  # cipher_suites
        p += 1 + body[p]  # legacy_compression_methods
    else:
        p += 2 + 1  # cipher_suite, legacy_compression_method
    end = p + 2 + int.from_bytes(body[p:p + 2], "big")
    if end > len(body):
        raise Malformed("extensions past the end")
    p += 2
    out = []
    while p + 4 <= end:
        t, n = struct.unpack("!HH", body[p:p + 4])
        out.append(t)
        p += 4 + n
    if p != end:
        raise Malformed("extension lengths")
    return out


def check(path, port):
    st = pcap.streams(path, port)
    res = {"connections": 0, "client_hellos": 0, "server_hellos": 0, "offered": 0,
           "resumed": 0, "malformed": 0}
    for (src, sport, dst, dport), data in st.items():
        if dport != port:
            continue
        res["connections"] += 1
        back = st.get((dst, dport, src, sport), b"")
        try:
            t, body = first_handshake(data)
            if t != 1:
                raise Malformed(f"client's first message is type {t}")
            res["client_hellos"] += 1
            if PRE_SHARED_KEY in extensions(body, 1):
                res["offered"] += 1
            t, body = first_handshake(back)
            if t != 2:
                raise Malformed(f"server's first message is type {t}")
            res["server_hellos"] += 1
            if PRE_SHARED_KEY in extensions(body, 2):
                res["resumed"] += 1
        except (Malformed, IndexError):
            res["malformed"] += 1
    return res


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    print(json.dumps(check(sys.argv[1], int(sys.argv[2]))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
