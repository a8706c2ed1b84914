#!/usr/bin/env python3
"""The SPAKE2+ verifier file of a password (docs/auth.md#verifier-file),
written from the document alone with hashlib's scrypt and the
`cryptography` package's P-256, for tests/unit/test_spake2plus.c
(spake2p_verifier_known_answer): prints the file of the password given as
the first argument (default: correct horse battery staple)."""
import sys
import hashlib, struct
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives import serialization
p = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551
def vf(pw):
    inp = struct.pack('<Q', len(pw)) + pw + b'\0' * 16
    h = hashlib.scrypt(inp, salt=b'tcpcrypt-auth v1 spake2+ password\0', n=32768, r=8, p=1, maxmem=64 << 20, dklen=80)
    w0 = int.from_bytes(h[:40], 'big') % p
    w1 = int.from_bytes(h[40:], 'big') % p
    L = ec.derive_private_key(w1, ec.SECP256R1()).public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return 'tcpcrypt-auth spake2+ verifier v1\nkdf scrypt 32768 8 1\nw0 %064x\nL %s\n' % (w0, L.hex())
print(vf(sys.argv[1].encode() if len(sys.argv) > 1 else b'correct horse battery staple'), end='')
