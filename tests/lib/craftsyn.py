#!/usr/bin/env python3
"""Send hand-built TCP SYNs with arbitrary options (raw socket, IPv4).

  craftsyn.py SRC DST DPORT OPTHEX [OPTHEX...]

Each OPTHEX is the option bytes of one SYN (padded with NOPs to a multiple
of 4); one SYN per argument, from a distinct source port.  Builds the TCP
header and checksum itself, so tests can present malformed ENO options to
a host without going through any TCP stack or the product's code.
"""
import os
import random
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tfo import tcp_syn  # noqa: E402  (one TCP header builder for the raw-socket tools)


def syn(src, dst, sport, dport, opts):
    return tcp_syn(src, dst, sport, dport, random.getrandbits(32), opts, b"")


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
