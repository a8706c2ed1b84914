#!/usr/bin/env python3
"""TCP Fast Open (RFC 7413) clients and servers for tests, plain sockets only.

  tfo.py serve PORT SECONDS OUT
      a TFO listener (TCP_FASTOPEN) on PORT, IPv4 and IPv6: each connection's
      first line is answered with "REPLY:" + that line, then closed.  After
      SECONDS, writes JSON to OUT: one entry per connection, {"request",
      "syn_data"} (syn_data: the data came in the SYN, TCPI_OPT_SYN_DATA).
  tfo.py get ADDR PORT REQUEST OUT
      one request sent with sendto(MSG_FASTOPEN): in the SYN when the kernel
      holds a cookie for ADDR.  Writes JSON: {"reply", "syn_data", "error",
      "seconds"}.
  tfo.py crafted SRC DST PORT ENOHEX DATA OUT
      raw IPv4 SYNs from SRC (a host without a TCP agent, whose kernel must
      not reset the SYN-ACKs: drop its RSTs): first a cookie request, then a
      SYN with the cookie, DATA, and (unless ENOHEX is "-") the ENO option
      ENOHEX.  Writes JSON: {"cookie", "acked" (bytes of DATA the SYN-ACK
      acknowledges), "synack_eno"}.
"""
import json
import os
import random
import select
import socket
import struct
import sys
import time

TCP_FASTOPEN = 23
MSG_FASTOPEN = 0x20000000
TCPI_OPT_SYN_DATA = 32


def syn_data(s):
    info = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)
    return bool(info[5] & TCPI_OPT_SYN_DATA)


def serve(port, seconds, out):
    ls = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    ls.setsockopt(socket.IPPROTO_TCP, TCP_FASTOPEN, 16)
    ls.bind(("::", port))
    ls.listen(64)
    print("listening", flush=True)
    conns, end = [], time.monotonic() + seconds
    while time.monotonic() < end:
        r, _, _ = select.select([ls], [], [], max(0, end - time.monotonic()))
        if not r:
            break
        c, _ = ls.accept()
        c.settimeout(5)
        entry = {"request": None, "syn_data": syn_data(c)}
        try:
            buf = b""
            while not buf.endswith(b"\n"):
                d = c.recv(4096)
                if not d:
                    break
                buf += d
            entry["request"] = buf.decode("latin1")
            c.sendall(b"REPLY:" + buf)
        except OSError as e:
            entry["error"] = str(e)
        c.close()
        conns.append(entry)
    with open(out, "w") as f:
        json.dump(conns, f)


def get(addr, port, request, out):
    t0 = time.monotonic()
    res = {"reply": None, "syn_data": False, "error": None}
    s = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET, socket.SOCK_STREAM)
    try:
        # blocking: with a timeout set, sendto(MSG_FASTOPEN) answers EINPROGRESS
        s.sendto(request.encode() + b"\n", MSG_FASTOPEN, (addr, port))
        s.settimeout(10)
        buf = b""
        while True:
            d = s.recv(4096)
            if not d:
                break
            buf += d
        res["reply"] = buf.decode("latin1")
        res["syn_data"] = syn_data(s)
    except OSError as e:
        res["error"] = str(e)
    res["seconds"] = round(time.monotonic() - t0, 3)
    s.close()
    with open(out, "w") as f:
        json.dump(res, f)


def csum(data):
    if len(data) % 2:
        data += b"\0"
    v = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while v >> 16:
        v = (v & 0xFFFF) + (v >> 16)
    return ~v & 0xFFFF


def tcp_syn(src, dst, sport, dport, isn, opts, data):
    opts += b"\x01" * (-len(opts) % 4)
    hdr = struct.pack("!HHIIBBHHH", sport, dport, isn, 0, (20 + len(opts)) // 4 << 4, 0x02,
                      64240, 0, 0) + opts
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack(
        "!BBH", 0, 6, len(hdr) + len(data))
    c = csum(pseudo + hdr + data)
    return hdr[:16] + struct.pack("!H", c) + hdr[18:] + data


def options(raw):
    """TCP options of a segment as {kind: data}."""
    out, i = {}, 0
    while i < len(raw):
        k = raw[i]
        if k == 0:
            break
        if k == 1:
            i += 1
            continue
        if i + 1 >= len(raw) or raw[i + 1] < 2:
            break
        out.setdefault(k, raw[i + 2:i + raw[i + 1]])
        i += raw[i + 1]
    return out


def synack(rs, dst, dport, sport, timeout=3):
    """Wait for the SYN-ACK to sport; returns (ack, options) or (None, None)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        r, _, _ = select.select([rs], [], [], max(0, end - time.monotonic()))
        if not r:
            break
        pkt = rs.recv(65535)
        ihl = (pkt[0] & 15) * 4
        if socket.inet_ntoa(pkt[12:16]) != dst:
            continue
        th = pkt[ihl:]
        sp, dp, _, ack, off, flags = struct.unpack("!HHIIBB", th[:14])
        if sp == dport and dp == sport and flags & 0x12 == 0x12:
            return ack, options(th[20:(off >> 4) * 4])
    return None, None


def crafted(src, dst, port, enohex, data, out):
    rs = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)
    mss = bytes.fromhex("020405b4")
    res = {"cookie": None, "acked": None, "synack_eno": None}
    sport, isn = random.randint(41000, 41999), random.getrandbits(32)
    rs.sendto(tcp_syn(src, dst, sport, port, isn, mss + b"\x22\x02", b""), (dst, 0))
    _, opts = synack(rs, dst, port, sport)
    cookie = (opts or {}).get(34)
    if cookie:
        res["cookie"] = cookie.hex()
        eno = b"" if enohex == "-" else bytes.fromhex(enohex)
        sport, isn = sport + 1000, random.getrandbits(32)
        payload = data.encode()
        syn = tcp_syn(src, dst, sport, port, isn,
                      mss + eno + bytes([34, 2 + len(cookie)]) + cookie, payload)
        rs.sendto(syn, (dst, 0))
        ack, opts = synack(rs, dst, port, sport)
        if ack is not None:
            res["acked"] = (ack - isn - 1) & 0xFFFFFFFF
            res["synack_eno"] = 69 in opts
    with open(out, "w") as f:
        json.dump(res, f)


def main():
    a = sys.argv[1:]
    if len(a) == 4 and a[0] == "serve":
        serve(int(a[1]), float(a[2]), a[3])
    elif len(a) == 5 and a[0] == "get":
        get(a[1], int(a[2]), a[3], a[4])
    elif len(a) == 7 and a[0] == "crafted":
        crafted(a[1], a[2], int(a[3]), a[4], a[5], a[6])
    else:
        sys.exit(__doc__)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
