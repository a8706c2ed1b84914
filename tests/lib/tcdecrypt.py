#!/usr/bin/env python3
"""Decrypt a resumed tcpcrypt connection from a capture and a key log, independently.

  tcdecrypt.py selftest
      check this tool's key schedule and AEAD framing against the worked
      example of docs/rfc-notes.md (RFC 8548 constants and layouts).
  tcdecrypt.py resumed PCAP KEYLOG CLIENT_PORT
      the connection whose active opener used CLIENT_PORT: the resumption
      suboptions of its SYN and SYN-ACK (RFC 8548 §3.5), the key-log line
      "<session-id> <ss[i]> -" whose secret they name, and both directions'
      frames (§4.2) decrypted from offset 0.  Prints JSON:
      {"session_id", "halves_ok", "sn_order", "aead", "frames": [a2b, b2a],
       "plain_len": [a2b, b2a], "plain_sha256": [a2b, b2a], "init_magic"}
      Exit 1 (with a message) when anything does not check out.
  tcdecrypt.py wire PCAP SERVER_PORT
      one JSON line per connection to SERVER_PORT: {"cport", "syn_resume",
      "synack_resume" (a v = 1 suboption with 9..17 data bytes), "syn_half",
      "synack_half" (hex, or null), "a_start", "b_start" (first 4 bytes of
      each direction's stream, hex), "rst"}.

Nothing from the product: its own option parser, HKDF (RFC 5869) and the
AEADs of python3-cryptography.  Uses tests/lib/pcap.py to read the capture.
"""
import hashlib
import hmac
import json
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pcap  # noqa: E402
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305  # noqa: E402

CONST_NEXTK, CONST_SESSID, CONST_REKEY, CONST_KEY_A, CONST_KEY_B, CONST_RESUME = range(1, 7)
AEADS = {  # RFC 8548 §6, §7: id -> (name, key length, nonce length, class)
    0x0001: ("AES-128-GCM", 16, 12, AESGCM),
    0x0002: ("AES-256-GCM", 32, 12, AESGCM),
    0x0010: ("ChaCha20-Poly1305", 32, 12, ChaCha20Poly1305),
}
INIT_MAGICS = (bytes.fromhex("15101a0e"), bytes.fromhex("097105e0"))


def cprf(key, info, n):
    """HKDF-Expand-SHA256 (RFC 5869 §2.3), the CPRF of RFC 8548 §3.1."""
    out, t, i = b"", b"", 1
    while len(out) < n:
        t = hmac.new(key, t + info + bytes([i]), hashlib.sha256).digest()
        out += t
        i += 1
    return out[:n]


def eno_suboptions(opt):
    """RFC 8547 §4.1: [(tep id, v, data)] of a SYN-form ENO option (kind byte first)."""
    if len(opt) < 2 or opt[0] != 69 or opt[1] != len(opt):
        raise ValueError("not an ENO option: %s" % opt.hex())
    out, i = [], 2
    while i < len(opt):
        b = opt[i]
        if b < 0x20:  # global suboption
            i += 1
        elif b < 0x80:
            out.append((b, 0, b""))
            i += 1
        elif b < 0xa0:  # length byte, then the TEP byte with v = 1, then data
            n = (b & 0x1f) + 1
            out.append((opt[i + 1] & 0x7f, 1, opt[i + 2:i + 2 + n]))
            i += 2 + n
        else:  # v = 1 without length byte: data to the end
            out.append((b & 0x7f, 1, opt[i + 1:]))
            i = len(opt)
    return out


def frames(stream, key, nr, cls, offset=0):
    """Decrypt back-to-back frames: [(flags, data)]; raises on a bad tag."""
    aead = cls(key)
    out, i = [], 0
    while i + 3 <= len(stream):
        ctl = stream[i]
        clen = struct.unpack("!H", stream[i + 1:i + 3])[0]
        if i + 3 + clen > len(stream):
            break
        if ctl & 1:
            raise ValueError("rekey bit: not handled by this tool")
        fid = (offset + i).to_bytes(len(nr), "big")
        nonce = bytes(a ^ b for a, b in zip(fid, nr))
        pt = aead.decrypt(nonce, stream[i + 3:i + 3 + clen], stream[i:i + 3])
        flags = pt[0]
        data = pt[3:] if flags & 2 else pt[1:]
        out.append((flags, data))
        i += 3 + clen
    return out


def selftest():
    prk = bytes.fromhex("ea4ddea9f1aced5a8112acfdd403e530ea6390d18eda7e9ebe93a9e2467d0a05")
    sid = bytes([0x23]) + cprf(prk, bytes([CONST_SESSID]), 32)
    assert sid.hex() == "23d55faa974b0addf2b771f0f70b1f774ca233b6d7eb8a485ce5702b035e25c6ad"
    mk0 = cprf(prk, bytes([CONST_REKEY]), 32)
    assert mk0.hex() == "39114b7ed14087124c9c3d90d38860b2f4dd7802f846c5581032cc2a67b02914"
    kab = cprf(mk0, bytes([CONST_KEY_A]), 28)
    assert kab.hex() == "3fd3a80a0ed6c42a01395d69db4ea41ac3b54ef48212b495835f4904"
    ss1 = cprf(prk, bytes([CONST_NEXTK]), 32)
    assert cprf(ss1, bytes([CONST_RESUME]), 18).hex() == \
        "f2a323880755ab346708d73b755ee8d18ec8"
    frame = bytes.fromhex("00001649367261d485add97aff293dce556ef305e6290d9d47")
    got = frames(frame, kab[:16], kab[16:], AESGCM, offset=75)
    assert got == [(0, b"hello")], got
    print("selftest: ok")


def syn_options(path, cport):
    """(A's SYN ENO option, B's SYN-ACK ENO option, client, server) of that connection."""
    syn = synack = None
    for p in pcap.tcp_packets(path):
        if "S" not in p["flags"]:
            continue
        eno = [bytes([69, len(bytes.fromhex(o["data"])) + 2]) + bytes.fromhex(o["data"])
               for o in p["options"] if o["kind"] == 69]
        if "A" not in p["flags"] and p["sport"] == cport and syn is None:
            syn = (eno[0] if eno else None, (p["src"], p["sport"]), (p["dst"], p["dport"]))
        elif "A" in p["flags"] and p["dport"] == cport and synack is None:
            synack = eno[0] if eno else None
    if not syn or not syn[0] or not synack:
        raise ValueError("no SYN and SYN-ACK with ENO for client port %d" % cport)
    return syn[0], synack, syn[1], syn[2]


def resumed(path, keylog, cport):
    a_opt, b_opt, cli, srv = syn_options(path, cport)
    a_res = [s for s in eno_suboptions(a_opt) if s[1] and len(s[2]) >= 9]
    b_res = [s for s in eno_suboptions(b_opt) if s[1] and len(s[2]) >= 9]
    if len(a_res) != 1 or len(b_res) != 1 or a_res[0][0] != b_res[0][0]:
        raise ValueError("not one resumption suboption each way: %s / %s" %
                         (a_opt.hex(), b_opt.hex()))
    tep = b_res[0][0]
    a_half, a_nonce = a_res[0][2][:9], a_res[0][2][9:]
    b_half, b_nonce = b_res[0][2][:9], b_res[0][2][9:]
    streams = pcap.streams(path, cport)
    a2b = b2a = b""
    for (src, sport, dst, dport), data in streams.items():
        if (src, sport) == cli:
            a2b = data
        elif (dst, dport) == cli:
            b2a = data
    for line in open(keylog):
        sid_hex, ss_hex, es = line.split()
        if es != "-":
            continue
        ss = bytes.fromhex(ss_hex)
        resume = cprf(ss, bytes([CONST_RESUME]), 18)
        # the active opener was A or B in the original session: its half says which
        if {a_half, b_half} != {resume[:9], resume[9:]}:
            continue
        a_was_a = a_half == resume[:9]
        sn = a_nonce + b_nonce if a_was_a else b_nonce + a_nonce  # nonce_a | nonce_b
        sid = bytes([tep | 0x80]) + cprf(ss, bytes([CONST_SESSID]) + sn, 32)
        if sid.hex() != sid_hex:
            raise ValueError("key log's session ID %s is not the one ss and sn give: %s" %
                             (sid_hex, sid.hex()))
        mk0 = cprf(ss, bytes([CONST_REKEY]) + sn, 32)
        res = None
        for aid, (name, kl, nl, cls) in AEADS.items():
            kab = cprf(mk0, bytes([CONST_KEY_A]), kl + nl)
            kba = cprf(mk0, bytes([CONST_KEY_B]), kl + nl)
            # the host that was A in the original session sends with k_ab (§3.5)
            ka, kb = (kab, kba) if a_was_a else (kba, kab)
            try:
                fa = frames(a2b, ka[:kl], ka[kl:], cls)
                fb = frames(b2a, kb[:kl], kb[kl:], cls)
            except Exception:
                continue
            res = (name, fa, fb)
            break
        if not res:
            raise ValueError("no AEAD decrypts the streams with the logged secret")
        name, fa, fb = res
        pa = b"".join(d for _, d in fa)
        pb = b"".join(d for _, d in fb)
        print(json.dumps({
            "session_id": sid_hex, "halves_ok": True,
            "sn_order": "client-first" if a_was_a else "server-first", "aead": name,
            "frames": [len(fa), len(fb)], "plain_len": [len(pa), len(pb)],
            "plain_sha256": [hashlib.sha256(pa).hexdigest(), hashlib.sha256(pb).hexdigest()],
            "init_magic": a2b[:4] in INIT_MAGICS or b2a[:4] in INIT_MAGICS,
        }))
        return 0
    raise ValueError("no resumed key-log line names the halves %s / %s" %
                     (a_half.hex(), b_half.hex()))


def resumption(opt):
    """The (half, nonce) of the v = 1 suboption with 9..17 bytes in opt, or None."""
    if not opt:
        return None
    r = [s for s in eno_suboptions(opt) if s[1] and 9 <= len(s[2]) <= 17]
    return (r[0][2][:9], r[0][2][9:]) if len(r) == 1 else None


def wire(path, sport):
    conns = {}
    for p in pcap.tcp_packets(path):
        if sport not in (p["sport"], p["dport"]):
            continue
        cport = p["sport"] if p["dport"] == sport else p["dport"]
        c = conns.setdefault(cport, {"cport": cport, "syn": None, "synack": None,
                                     "rst": False})
        eno = [bytes([69, len(bytes.fromhex(o["data"])) + 2]) + bytes.fromhex(o["data"])
               for o in p["options"] if o["kind"] == 69]
        if "R" in p["flags"]:
            c["rst"] = True
        if "S" in p["flags"] and "A" not in p["flags"] and c["syn"] is None:
            c["syn"] = eno[0] if eno else b""
        elif "S" in p["flags"] and "A" in p["flags"] and c["synack"] is None:
            c["synack"] = eno[0] if eno else b""
    streams = pcap.streams(path, sport)
    for cport, c in sorted(conns.items()):
        a = [d for (s_, sp, d_, dp), d in streams.items() if sp == cport]
        b = [d for (s_, sp, d_, dp), d in streams.items() if dp == cport]
        rs_a, rs_b = resumption(c["syn"]), resumption(c["synack"])
        print(json.dumps({
            "cport": cport, "syn_resume": bool(rs_a), "synack_resume": bool(rs_b),
            "syn_half": rs_a[0].hex() if rs_a else None,
            "synack_half": rs_b[0].hex() if rs_b else None,
            "a_start": a[0][:4].hex() if a else "", "b_start": b[0][:4].hex() if b else "",
            "rst": c["rst"]}))
    return 0


def main():
    try:
        if len(sys.argv) == 4 and sys.argv[1] == "wire":
            return wire(sys.argv[2], int(sys.argv[3]))
        if sys.argv[1:] == ["selftest"]:
            selftest()
            return 0
        if len(sys.argv) == 5 and sys.argv[1] == "resumed":
            return resumed(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    except (ValueError, AssertionError, OSError) as e:
        print("tcdecrypt: %s" % e, file=sys.stderr)
        return 1
    sys.exit(__doc__)


if __name__ == "__main__":
    sys.exit(main())
