#!/usr/bin/env python3
"""Known-answer batch PROOFs (docs/auth.md#ed25519-batch), written from the
document alone with hashlib and the `cryptography` package, for
tests/unit/test_auth.c (auth_batch_known_answer): three connections in one
batch (depth 2, a zero leaf as padding), fixed blinders, the RFC 8032 §7.1
TEST 1 key, role B signing.  Prints one hex PROOF per line (index 0, 1, 2);
session ID i is 0x23 followed by 32 bytes of value 0x40 + i."""
import hashlib
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives import serialization as s

sk = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(
    "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"))
pub = sk.public_key().public_bytes(s.Encoding.Raw, s.PublicFormat.Raw)
H = lambda b: hashlib.sha256(b).digest()
role = 1
sids = [bytes([0x23]) + bytes([0x40 + i]) * 32 for i in range(3)]
blinders = [bytes([0xb0 + i]) * 32 for i in range(3)]
leaves = [H(b"\x00" + b"tcpcrypt-auth v1 ed25519 batch leaf\x00" + blinders[i] + bytes([role]) + sids[i])
          for i in range(3)]
depth = 2
level = leaves + [bytes(32)]
levels = [level]
while len(level) > 1:
    level = [H(b"\x01" + level[j] + level[j + 1]) for j in range(0, len(level), 2)]
    levels.append(level)
root = level[0]
sig = sk.sign(b"tcpcrypt-auth v1 ed25519 batch root\x00" + bytes([depth]) + root)
for i in range(3):
    path, k = b"", i
    for d in range(depth):
        path += levels[d][k ^ 1]
        k //= 2
    body = bytes([role]) + sids[i] + pub + blinders[i] + i.to_bytes(2, "big") + bytes([depth]) + path + sig
    print((b"TCA" + bytes([1, 1, 3]) + len(body).to_bytes(2, "big") + body).hex())
