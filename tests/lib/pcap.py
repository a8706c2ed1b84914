#!/usr/bin/env python3
"""Look at TCP in a pcap file, from outside the product (stdlib only).

  pcap.py packets FILE [--port P] [--max-payload N]
      one JSON object per TCP packet: time, ip, src, dst, sport, dport, flags,
      seq, ack, win, options [{"kind": k, "data": hex}] in header order (NOP
      and EOL included), len (payload length), payload (hex).
  pcap.py summary FILE [--port P]
      one line per TCP packet, for grep and awk in tests:
      "SRC SPORT DST DPORT FLAGS seq=N ack=N win=N len=N opts=2:05b4,1:,69:2021"
  pcap.py grep FILE STRING [--port P]
      exit 0 if STRING occurs in some TCP payload (or in a reassembled
      stream, so a marker split across segments is found too), 1 if not.
  pcap.py stream FILE --src IP --sport P
      write one direction's payload bytes, reassembled by sequence number
      (retransmissions and duplicates once), to stdout.

Reads classic libpcap files (microsecond or nanosecond magic, either byte
order) with link types Ethernet (1), raw IP (101), Linux cooked SLL (113)
and SLL2 (276). Exit status 2 on a malformed or unsupported file.
"""

import argparse
import ipaddress
import json
import os
import struct
import sys

LINKTYPE_ETHERNET = 1
LINKTYPE_RAW = 101
LINKTYPE_LINUX_SLL = 113
LINKTYPE_LINUX_SLL2 = 276

ETH_P_IP = 0x0800
ETH_P_IPV6 = 0x86DD
VLAN_TYPES = (0x8100, 0x88A8)

IPV6_EXT_HEADERS = (0, 43, 60)  # hop-by-hop, routing, destination options
FLAG_NAMES = "FSRPAUEC"  # bit 0 (FIN) .. bit 7 (CWR)
FLAG_ORDER = "SFRPAUEC"  # printed order: "S", "SA", "PA", "FA", "R", ...


class PcapError(Exception):
    pass


INIT1_MAGIC = bytes.fromhex("15101a0e")  # RFC 8548 §4.1
INIT2_MAGIC = bytes.fromhex("097105e0")


def read_pcap(path):
    """Yield (time, linktype, frame bytes) for each record of a pcap file."""
    with open(path, "rb") as f:
        hdr = f.read(24)
        if len(hdr) < 24:
            raise PcapError(f"{path}: too short for a pcap header")
        magics = {
            b"\xd4\xc3\xb2\xa1": ("<", 1e-6),
            b"\xa1\xb2\xc3\xd4": (">", 1e-6),
            b"\x4d\x3c\xb2\xa1": ("<", 1e-9),
            b"\xa1\xb2\x3c\x4d": (">", 1e-9),
        }
        if hdr[:4] not in magics:
            raise PcapError(f"{path}: not a classic pcap file (pcapng is not supported)")
        end, scale = magics[hdr[:4]]
        linktype = struct.unpack(end + "I", hdr[20:24])[0] & 0x0FFFFFFF
        while True:
            rec = f.read(16)
            if not rec:
                return
            if len(rec) < 16:
                raise PcapError(f"{path}: truncated record header")
            sec, frac, caplen, _ = struct.unpack(end + "IIII", rec)
            data = f.read(caplen)
            if len(data) < caplen:
                raise PcapError(f"{path}: truncated record")
            yield sec + frac * scale, linktype, data


def l3_payload(linktype, frame):
    """Return (ethertype, bytes after the link header) or None."""
    if linktype == LINKTYPE_ETHERNET:
        if len(frame) < 14:
            return None
        etype, off = struct.unpack("!H", frame[12:14])[0], 14
        while etype in VLAN_TYPES and len(frame) >= off + 4:
            etype, off = struct.unpack("!H", frame[off + 2 : off + 4])[0], off + 4
        return etype, frame[off:]
    if linktype == LINKTYPE_LINUX_SLL:
        if len(frame) < 16:
            return None
        return struct.unpack("!H", frame[14:16])[0], frame[16:]
    if linktype == LINKTYPE_LINUX_SLL2:
        if len(frame) < 20:
            return None
        return struct.unpack("!H", frame[0:2])[0], frame[20:]
    if linktype == LINKTYPE_RAW:
        if not frame:
            return None
        return (ETH_P_IP if frame[0] >> 4 == 4 else ETH_P_IPV6), frame
    raise PcapError(f"unsupported link type {linktype}")


def ip_tcp(etype, pkt):
    """Return (version, src, dst, tcp segment bytes) or None if not TCP."""
    if etype == ETH_P_IP and len(pkt) >= 20 and pkt[0] >> 4 == 4:
        ihl = (pkt[0] & 0xF) * 4
        total = struct.unpack("!H", pkt[2:4])[0]
        frag = struct.unpack("!H", pkt[6:8])[0]
        if pkt[9] != 6 or frag & 0x1FFF or ihl < 20:
            return None
        end = min(len(pkt), total) if total >= ihl else len(pkt)
        src = str(ipaddress.IPv4Address(pkt[12:16]))
        dst = str(ipaddress.IPv4Address(pkt[16:20]))
        return 4, src, dst, pkt[ihl:end]
    if etype == ETH_P_IPV6 and len(pkt) >= 40 and pkt[0] >> 4 == 6:
        plen = struct.unpack("!H", pkt[4:6])[0]
        nxt, off = pkt[6], 40
        end = min(len(pkt), 40 + plen) if plen else len(pkt)
        while nxt in IPV6_EXT_HEADERS and off + 2 <= end:
            nxt, off = pkt[off], off + (pkt[off + 1] + 1) * 8
        if nxt == 44 and off + 8 <= end:  # fragment: only the first one
            if struct.unpack("!H", pkt[off + 2 : off + 4])[0] & 0xFFF8:
                return None
            nxt, off = pkt[off], off + 8
        if nxt != 6:
            return None
        src = str(ipaddress.IPv6Address(pkt[8:24]))
        dst = str(ipaddress.IPv6Address(pkt[24:40]))
        return 6, src, dst, pkt[off:end]
    return None


def parse_options(raw):
    """TCP options in header order as [{"kind", "data"}]; EOL ends the list."""
    opts, i = [], 0
    while i < len(raw):
        kind = raw[i]
        if kind in (0, 1):
            opts.append({"kind": kind, "data": ""})
            i += 1
            if kind == 0:
                break
            continue
        if i + 1 >= len(raw) or raw[i + 1] < 2 or i + raw[i + 1] > len(raw):
            opts.append({"kind": kind, "data": raw[i + 1 :].hex(), "malformed": True})
            break
        opts.append({"kind": kind, "data": raw[i + 2 : i + raw[i + 1]].hex()})
        i += raw[i + 1]
    return opts


def flag_string(bits):
    return "".join(c for c in FLAG_ORDER if bits & (1 << FLAG_NAMES.index(c)))


def tcp_packets(path):
    """Yield a dict per TCP packet in the file (payload as bytes)."""
    for ts, linktype, frame in read_pcap(path):
        l3 = l3_payload(linktype, frame)
        if l3 is None:
            continue
        hit = ip_tcp(*l3)
        if hit is None:
            continue
        ver, src, dst, seg = hit
        if len(seg) < 20:
            continue
        sport, dport, seq, ack, off, flags, win = struct.unpack("!HHIIBBH", seg[:16])
        doff = (off >> 4) * 4
        if doff < 20 or doff > len(seg):
            continue
        yield {
            "time": round(ts, 9),
            "ip": ver,
            "src": src,
            "dst": dst,
            "sport": sport,
            "dport": dport,
            "flags": flag_string(flags),
            "seq": seq,
            "ack": ack,
            "win": win,
            "options": parse_options(seg[20:doff]),
            "len": len(seg) - doff,
            "payload": seg[doff:],
        }


def port_match(p, port):
    return port is None or port in (p["sport"], p["dport"])


def cmd_packets(args):
    for p in tcp_packets(args.file):
        if not port_match(p, args.port):
            continue
        data = p["payload"]
        if args.max_payload is not None:
            data = data[: args.max_payload]
        p["payload"] = data.hex()
        print(json.dumps(p))
    return 0


def cmd_summary(args):
    for p in tcp_packets(args.file):
        if port_match(p, args.port):
            opts = ",".join("%d:%s" % (o["kind"], o["data"]) for o in p["options"])
            print(
                p["src"], p["sport"], p["dst"], p["dport"], p["flags"],
                "seq=%d ack=%d win=%d len=%d opts=%s"
                % (p["seq"], p["ack"], p["win"], p["len"], opts),
            )
    return 0


def reassemble(packets):
    """Payload bytes of one direction, in sequence order, each byte once.

    Starts at the SYN's sequence number + 1 if the SYN was captured, otherwise
    at the lowest sequence number seen; wraps modulo 2^32. Stops at a hole.
    """
    pkts = list(packets)
    if not pkts:
        return b""
    syn = [p for p in pkts if "S" in p["flags"]]
    base = (syn[0]["seq"] + 1) if syn else pkts[0]["seq"]
    segs = {}
    for p in pkts:
        if not p["payload"]:
            continue
        rel = (p["seq"] - base) % (1 << 32)
        if rel >= 1 << 31:  # before base: keep the part at or after it
            cut = (1 << 32) - rel
            if cut >= len(p["payload"]):
                continue
            rel, data = 0, p["payload"][cut:]
        else:
            data = p["payload"]
        if len(data) > len(segs.get(rel, b"")):
            segs[rel] = data
    if not syn:  # no SYN: start at the lowest relative offset seen
        low = min(segs) if segs else 0
        segs = {k - low: v for k, v in segs.items()}
    out = bytearray()
    for rel in sorted(segs):
        data = segs[rel]
        if rel > len(out):
            break
        out += data[len(out) - rel :]
    return bytes(out)


def streams(path, port):
    """Reassembled payload per direction (src, sport, dst, dport)."""
    flows = {}
    for p in tcp_packets(path):
        if port_match(p, port):
            flows.setdefault((p["src"], p["sport"], p["dst"], p["dport"]), []).append(p)
    return {k: reassemble(v) for k, v in flows.items()}


def cmd_grep(args):
    needle = args.string.encode()
    for p in tcp_packets(args.file):
        if port_match(p, args.port) and needle in p["payload"]:
            return 0
    for data in streams(args.file, args.port).values():
        if needle in data:
            return 0
    return 1


def cmd_stream(args):
    want = ipaddress.ip_address(args.src)
    pkts = [
        p
        for p in tcp_packets(args.file)
        if ipaddress.ip_address(p["src"]) == want and p["sport"] == args.sport
    ]
    if args.dport is not None:
        pkts = [p for p in pkts if p["dport"] == args.dport]
    if len({(p["dst"], p["dport"]) for p in pkts}) > 1:
        print(
            "pcap.py: several connections from that source; add --dport",
            file=sys.stderr,
        )
        return 2
    sys.stdout.buffer.write(reassemble(pkts))
    return 0


def cmd_frames(args):
    """Per direction: the tcpcrypt frames (RFC 8548 §4.2) of the reassembled
    stream after its Init message, and how many carry the rekey bit (§3.8)."""
    for (src, sport, dst, dport), data in sorted(streams(args.file, args.port).items()):
        i = 0
        if len(data) >= 8 and data[:4] in (INIT1_MAGIC, INIT2_MAGIC):
            i = struct.unpack("!I", data[4:8])[0]
        frames = rekeys = 0
        while i + 3 <= len(data):
            clen = struct.unpack("!H", data[i + 1 : i + 3])[0]
            if i + 3 + clen > len(data):
                break
            frames += 1
            rekeys += data[i] & 1
            i += 3 + clen
        print("%s:%d>%s:%d frames=%d rekeys=%d" % (src, sport, dst, dport, frames, rekeys))
    return 0


def cmd_sack(args):
    """SACK blocks (RFC 2018) and whether each names data its receiver holds:
    above the segment's ACK, within what the other side sent (sequence
    numbers relative to the SYNs in the capture)."""
    pkts = [p for p in tcp_packets(args.file) if port_match(p, args.port)]
    isn, sent = {}, {}
    for p in pkts:
        d = (p["src"], p["sport"], p["dst"], p["dport"])
        if "S" in p["flags"]:
            isn[d] = p["seq"]
    for p in pkts:
        d = (p["src"], p["sport"], p["dst"], p["dport"])
        if d in isn:
            end = (p["seq"] + p["len"] - isn[d] - 1) % 2**32
            sent[d] = max(sent.get(d, 0), end)
    segs = blocks = invalid = 0
    for p in pkts:
        other = (p["dst"], p["dport"], p["src"], p["sport"])
        for o in p["options"]:
            if o["kind"] != 5:
                continue
            segs += 1
            raw = bytes.fromhex(o["data"])
            if other not in isn or len(raw) % 8 or not raw:
                invalid += 1
                continue
            ack = (p["ack"] - isn[other] - 1) % 2**32
            for i in range(0, len(raw), 8):
                left, right = struct.unpack("!II", raw[i : i + 8])
                lo = (left - isn[other] - 1) % 2**32
                hi = (right - isn[other] - 1) % 2**32
                blocks += 1
                if not ack < lo < hi <= sent.get(other, 0):
                    invalid += 1
    print("segments=%d blocks=%d invalid=%d" % (segs, blocks, invalid))
    return 0


def cmd_resend(args):
    """Per direction: payload bytes seen more than once at the same sequence
    number (resends, duplicates), and how many of them differed from the first
    copy (RFC 8548 §3.8: the same ciphertext for the same sequence numbers);
    the largest packet's payload (GSO packets are seen whole on a veth).
    Exit 1 if some byte differed."""
    flows = {}
    for p in tcp_packets(args.file):
        if port_match(p, args.port) and p["payload"] and "S" not in p["flags"]:
            flows.setdefault((p["src"], p["sport"], p["dst"], p["dport"]), []).append(p)
    bad = 0
    for key, pkts in sorted(flows.items()):
        base = pkts[0]["seq"]  # bytes before the first packet seen are skipped
        seen = bytearray()
        have = bytearray()
        total = again = differ = 0
        for p in pkts:
            rel = (p["seq"] - base) % (1 << 32)
            data = p["payload"]
            if rel >= 1 << 31:
                continue
            end = rel + len(data)
            if end > len(seen):
                seen.extend(bytes(end - len(seen)))
                have.extend(bytes(end - len(have)))
            for i, b in enumerate(data):
                if have[rel + i]:
                    again += 1
                    differ += seen[rel + i] != b
                else:
                    have[rel + i] = 1
                    seen[rel + i] = b
            total += len(data)
        bad += differ
        largest = max(len(p["payload"]) for p in pkts)
        print(f"{key[0]}:{key[1]} > {key[2]}:{key[3]} bytes={total} again={again} "
              f"differ={differ} largest={largest}")
    return 1 if bad else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("packets", help="one JSON object per TCP packet")
    p.add_argument("file")
    p.add_argument("--port", type=int)
    p.add_argument("--max-payload", type=int, metavar="N")
    p.set_defaults(fn=cmd_packets)
    p = sub.add_parser("summary", help="one line per TCP packet")
    p.add_argument("file")
    p.add_argument("--port", type=int)
    p.set_defaults(fn=cmd_summary)
    p = sub.add_parser("grep", help="exit 0 if STRING is in a TCP payload")
    p.add_argument("file")
    p.add_argument("string")
    p.add_argument("--port", type=int)
    p.set_defaults(fn=cmd_grep)
    p = sub.add_parser("stream", help="one direction's payload, reassembled")
    p.add_argument("file")
    p.add_argument("--src", required=True)
    p.add_argument("--sport", type=int, required=True)
    p.add_argument("--dport", type=int)
    p.set_defaults(fn=cmd_stream)
    p = sub.add_parser("frames", help="count tcpcrypt frames and rekeys per direction")
    p.add_argument("file")
    p.add_argument("--port", type=int)
    p.set_defaults(fn=cmd_frames)
    p = sub.add_parser("sack", help="count SACK blocks and those naming no data")
    p.add_argument("file")
    p.add_argument("--port", type=int)
    p.set_defaults(fn=cmd_sack)
    p = sub.add_parser("resend", help="bytes sent again per direction, and those that differed")
    p.add_argument("file")
    p.add_argument("--port", type=int)
    p.set_defaults(fn=cmd_resend)
    args = ap.parse_args()
    try:
        return args.fn(args)
    except BrokenPipeError:  # reader went away (e.g. head): not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except (OSError, PcapError) as e:
        print(f"pcap.py: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
