#!/usr/bin/env python3
"""Summarise TCP-ENO (RFC 8547) handshakes seen in a capture, from outside.

  enowire.py FILE [--port P]

Prints one JSON object per TCP connection (keyed by the active opener's
address and port), in the order their first SYN was captured:

  {"client": "198.18.1.2:40000", "server": "198.18.2.2:5001",
   "syn": ["45062122242345"...],        every SYN's ENO option (hex, kind and
                                         length included; null if it had none)
   "synack": [...],                      same for the SYN-ACKs
   "third_ack": "4502" | null,           ENO in the client's first non-SYN segment
   "client_data_eno": n, "client_data": m,   client payload segments with ENO / all
   "server_data_eno": n, "server_data": m,
   "rst": true|false,                    any RST seen
   "client_payload": bytes, "server_payload": bytes}

Uses only tests/lib/pcap.py's packet reader; nothing from the product.
"""

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pcap  # noqa: E402


def eno_hex(pkt):
    """The first kind-69 option, as it appears on the wire, or None."""
    for o in pkt["options"]:
        if o["kind"] == 69:
            data = bytes.fromhex(o["data"])
            return bytes([69, len(data) + 2]).hex() + data.hex()
    return None


def eno_count(pkt):
    return sum(1 for o in pkt["options"] if o["kind"] == 69)


def endpoint(ip, port):
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


def summarise(path, port):
    conns = {}
    order = []
    for p in pcap.tcp_packets(path):
        if port is not None and port not in (p["sport"], p["dport"]):
            continue
        fl = p["flags"]
        a = (p["src"], p["sport"])
        b = (p["dst"], p["dport"])
        if "S" in fl and "A" not in fl:
            key = (a, b)
        elif (a, b) in conns:
            key = (a, b)
        elif (b, a) in conns:
            key = (b, a)
        else:
            continue
        c = conns.get(key)
        if c is None:
            c = conns[key] = {
                "client": endpoint(*key[0]),
                "server": endpoint(*key[1]),
                "syn": [],
                "synack": [],
                "third_ack": None,
                "third_ack_seen": False,
                "client_data_eno": 0,
                "client_data": 0,
                "server_data_eno": 0,
                "server_data": 0,
                "rst": False,
                "eno_multiple": False,
                "client_payload": 0,
                "server_payload": 0,
            }
            order.append(key)
        from_client = (a, b) == key
        if eno_count(p) > 1:
            c["eno_multiple"] = True
        if "R" in fl:
            c["rst"] = True
        if "S" in fl:
            (c["syn"] if "A" not in fl else c["synack"]).append(eno_hex(p))
            continue
        if from_client and not c["third_ack_seen"]:
            c["third_ack_seen"] = True
            c["third_ack"] = eno_hex(p)
        if p["len"]:
            side = "client" if from_client else "server"
            c[side + "_data"] += 1
            c[side + "_payload"] += p["len"]
            if eno_hex(p):
                c[side + "_data_eno"] += 1
    return [conns[k] for k in order]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("file")
    ap.add_argument("--port", type=int)
    args = ap.parse_args()
    for c in summarise(args.file, args.port):
        print(json.dumps(c))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:  # the reader went away (e.g. head): not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(0)
