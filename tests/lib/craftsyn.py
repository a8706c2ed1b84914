#!/usr/bin/env python3
"""Send hand-built TCP SYNs with arbitrary options (raw socket, IPv4).

  craftsyn.py SRC DST DPORT OPTHEX [OPTHEX...]

Each OPTHEX is the option bytes of one SYN (padded with NOPs to a multiple
of 4); one SYN per argument, from a distinct source port.  Builds the TCP
header and checksum itself, so tests can present malformed ENO options to
a host without going through any TCP stack or the product's code.
"""
import random
import socket
import struct
import sys
import time


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def syn(src, dst, sport, dport, opts):
    opts += b"\x01" * (-len(opts) % 4)
    doff = (20 + len(opts)) // 4
    hdr = struct.pack("!HHIIBBHHH", sport, dport, random.getrandbits(32), 0,
                      doff << 4, 0x02, 64240, 0, 0) + opts
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, 6, len(hdr))
    c = csum(pseudo + hdr)
    return hdr[:16] + struct.pack("!H", c) + hdr[18:]


def main():
    src, dst, dport = sys.argv[1], sys.argv[2], int(sys.argv[3])
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)
    for i, h in enumerate(sys.argv[4:]):
        pkt = syn(src, dst, 40000 + i, dport, bytes.fromhex("020405b4" + h))
        s.sendto(pkt, (dst, 0))
        time.sleep(0.05)
    return 0


if __name__ == "__main__":
    sys.exit(main())
