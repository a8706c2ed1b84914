/* SPDX-License-Identifier: MIT */
/*
 * What the fuzz targets and the seed generator (gen_seeds.c) agree on: the
 * input layouts and the fixed frame key.
 *
 * fuzz_init:  byte 0 picks the TEP (bits 0-1) and Init1/Init2 (bit 2); the
 *             rest is the start of the peer's stream.
 * fuzz_frame: byte 0 picks the AEAD (value % 3) and seeds the stream cuts;
 *             the rest is a framed stream at offset 0 under FUZZ_MK0 (host B
 *             decodes what host A sent), and also the script of a roundtrip.
 * fuzz_auth:  byte 0 picks the parser (bits 0-1: PSK PROOF, PSK RESULT,
 *             Ed25519 PROOF, Ed25519 RESULT) and the receiver's role (bit 2:
 *             B if set; bit 3: SPAKE2, bit 0 then SHARE (0) or PROOF (1);
 *             bit 6: X.509, the message is a CERT checked with the genuine
 *             PROOF, bit 0 then single (0) or batch (1) signature);
 *             the rest is one tcpcrypt-auth message (docs/auth.md) for session
 *             ID FUZZ_SID, PSK (and password) FUZZ_PSK, Ed25519 key FUZZ_ED_PRIV.
 *             Bit 5: SPAKE2+ (scheme 5; bits 0-3 then mean): bits 0-1 = 3, the
 *             rest is a verifier file (docs/auth.md#verifier-file); else bit 0
 *             the peer's SHARE (0) or PROOF (1), bit 1 our credential, the
 *             password (0, the peer holds its verifier) or the verifier (1,
 *             the peer the password), bit 2 our role.
 */
#ifndef TCPCRYPT_FUZZ_COMMON_H
#define TCPCRYPT_FUZZ_COMMON_H

#include <stdint.h>
#include "core/aead.h"
#include "core/tep.h"

static const uint8_t FUZZ_MK0[32] = {
    0x6d, 0x6b, 0x30, 0x20, 0x66, 0x6f, 0x72, 0x20, 0x66, 0x75, 0x7a, 0x7a, 0x69, 0x6e, 0x67, 0x20,
    0x74, 0x63, 0x70, 0x63, 0x72, 0x79, 0x70, 0x74, 0x20, 0x66, 0x72, 0x61, 0x6d, 0x65, 0x73, 0x21,
};

static const uint8_t FUZZ_SID[33] = {
    0x23, 0x73, 0x65, 0x73, 0x73, 0x69, 0x6f, 0x6e, 0x20, 0x69, 0x64,
    0x20, 0x66, 0x6f, 0x72, 0x20, 0x66, 0x75, 0x7a, 0x7a, 0x69, 0x6e,
    0x67, 0x20, 0x74, 0x63, 0x70, 0x63, 0x72, 0x79, 0x70, 0x74, 0x21,
};
static const uint8_t FUZZ_PSK[16] = {'f', 'u', 'z', 'z', ' ', 'p', 'r', 'e',
				     '-', 's', 'h', 'a', 'r', 'e', 'd', '!'};
/* RFC 8032 §7.1 TEST 1 secret key, PKCS#8 PEM */
static const char FUZZ_ED_PRIV[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\n"
    "-----END PRIVATE KEY-----\n";
static const char FUZZ_ED_PUB[] = "-----BEGIN PUBLIC KEY-----\n"
				  "MCowBQYDK2VwAyEA11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\n"
				  "-----END PUBLIC KEY-----\n";

/*
 * X.509 (fuzz_auth, bit 6 of byte 0): a root, and a leaf for DNS:fuzz.test
 * (serverAuth, 2020 to 2120) certifying FUZZ_ED_PUB; made once with
 * Python's `cryptography` package, not with libtcpcrypt.
 */
static const char FUZZ_CA_PEM[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBLDCB36ADAgECAgEBMAUGAytlcDAdMRswGQYDVQQDDBJ0Y3BjcnlwdCBmdXp6\n"
    "IHJvb3QwIBcNMjAwMTAxMDAwMDAwWhgPMjEyMDAxMDEwMDAwMDBaMB0xGzAZBgNV\n"
    "BAMMEnRjcGNyeXB0IGZ1enogcm9vdDAqMAUGAytlcAMhAJMxfRMT+MN72FAcT4hv\n"
    "jTgcrr19ey5R+jrbfpZWQTeuo0IwQDAPBgNVHRMBAf8EBTADAQH/MA4GA1UdDwEB\n"
    "/wQEAwIBBjAdBgNVHQ4EFgQUIR9xwR0OY3bVCea09Vu2nuuKnhgwBQYDK2VwA0EA\n"
    "rGu8KPJJcDboPq5uQUkdtaRFSRWCCmKSss7WnEWcmKu6lujzVqTLAEyZVDUstyXm\n"
    "dewTVFxEyH6jkNIEcGRWCQ==\n"
    "-----END CERTIFICATE-----\n";
static const char FUZZ_LEAF_PEM[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBSjCB/aADAgECAgECMAUGAytlcDAdMRswGQYDVQQDDBJ0Y3BjcnlwdCBmdXp6\n"
    "IHJvb3QwIBcNMjAwMTAxMDAwMDAwWhgPMjEyMDAxMDEwMDAwMDBaMBQxEjAQBgNV\n"
    "BAMMCWZ1enoudGVzdDAqMAUGAytlcAMhANdamAGCsQq31Uv+08lkBzoO4XLz2qYj\n"
    "Ja8CGmj3B1Eao2kwZzAJBgNVHRMEAjAAMA4GA1UdDwEB/wQEAwIHgDATBgNVHSUE\n"
    "DDAKBggrBgEFBQcDATAUBgNVHREEDTALgglmdXp6LnRlc3QwHwYDVR0jBBgwFoAU\n"
    "IR9xwR0OY3bVCea09Vu2nuuKnhgwBQYDK2VwA0EAwFxqi7Dwyxb58l+AY90cdTem\n"
    "0jf6Y6cb4GRBYG1PCZFW+mhylY+bS9g2IkPrWYo5R5X2SW3Ha9LBM8f+wOO6AA==\n"
    "-----END CERTIFICATE-----\n";

static const uint16_t fuzz_aeads[3] = {
    TC_AEAD_AES_128_GCM,
    TC_AEAD_AES_256_GCM,
    TC_AEAD_CHACHA20_POLY1305,
};

static const uint8_t fuzz_teps[4] = {TC_TEP_P256, TC_TEP_P521, TC_TEP_X25519, TC_TEP_X448};

static inline uint32_t fuzz_rand(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

#ifdef TCPCRYPT_AUTH_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* An Ed25519 credential from a PEM string (the library reads files): 0 verifier, 1 signer, 2 batch
 * signer */
static inline struct tcpcrypt_auth *fuzz_ed_cred(const char *pem, int signer)
{
	char path[] = "/tmp/fuzz_auth.XXXXXX";
	struct tcpcrypt_auth *a;
	int fd = mkstemp(path);

	if (fd < 0 || write(fd, pem, strlen(pem)) != (ssize_t)strlen(pem))
		abort();
	close(fd);
	a = signer == 2 ? tcpcrypt_auth_sign_batch_file(path, NULL)
	    : signer	? tcpcrypt_auth_sign_file(path, NULL)
			: tcpcrypt_auth_verify_file(path, NULL);
	unlink(path);
	if (!a)
		abort();
	return a;
}

/* X.509 credentials: 0 a verifier of FUZZ_CA_PEM for fuzz.test, 1 the signer, 2 batch signer */
static inline struct tcpcrypt_auth *fuzz_x509_cred(int kind)
{
	char key[] = "/tmp/fuzz_auth_key.XXXXXX", pem[] = "/tmp/fuzz_auth_pem.XXXXXX";
	const char *c = kind ? FUZZ_LEAF_PEM : FUZZ_CA_PEM;
	struct tcpcrypt_auth *a;
	int fk = mkstemp(key), fp = mkstemp(pem);

	if (fk < 0 || fp < 0 ||
	    write(fk, FUZZ_ED_PRIV, strlen(FUZZ_ED_PRIV)) != (ssize_t)strlen(FUZZ_ED_PRIV) ||
	    write(fp, c, strlen(c)) != (ssize_t)strlen(c))
		abort();
	close(fk);
	close(fp);
	a = kind == 2 ? tcpcrypt_auth_sign_batch_cert_file(key, pem, NULL)
	    : kind    ? tcpcrypt_auth_sign_cert_file(key, pem, NULL)
		      : tcpcrypt_auth_verify_ca_file(pem, "fuzz.test", NULL);
	unlink(key);
	unlink(pem);
	if (!a)
		abort();
	return a;
}

#define FUZZ_SP_SHARE (TCPCRYPT_AUTH_HDR_LEN + 100)

/*
 * SPAKE2+: bring our end (credential us, role) to where it expects the
 * peer's SHARE (proof 0) or PROOF (proof 1) from a genuine peer
 * (credential peer, the other role); *st gets our state, want (2 *
 * TCPCRYPT_AUTH_MSG_MAX bytes) the genuine peer's message there, and the
 * return value its length (negative: a failure of the genuine exchange).
 */
static inline int fuzz_spake2p_setup(const struct tcpcrypt_auth *us,
				     const struct tcpcrypt_auth *peer, int role, int proof,
				     struct tcpcrypt_auth_spake2p **st, unsigned char *want)
{
	unsigned char o[2 * TCPCRYPT_AUTH_MSG_MAX];
	struct tcpcrypt_auth_spake2p *p = NULL;
	const size_t sz = 2 * TCPCRYPT_AUTH_MSG_MAX;
	int n, m, done, r = -1;

	*st = NULL;
	n = tcpcrypt_auth_spake2p_start(us, FUZZ_SID, role, st, o, sizeof(o));
	m = tcpcrypt_auth_spake2p_start(peer, FUZZ_SID, !role, &p, want, sz);
	if (n < 0 || m < 0)
		goto out;
	if (role == TCP_ENO_ROLE_A) {
		/* the peer, B, answers our SHARE with its own (and its PROOF if it verifies) */
		m = tcpcrypt_auth_spake2p_next(p, o, n, want, sz, &done);
		if (m < FUZZ_SP_SHARE || !proof) {
			r = m < 0 ? m : FUZZ_SP_SHARE;
			goto out;
		}
		n = tcpcrypt_auth_spake2p_next(*st, want, FUZZ_SP_SHARE, o, sizeof(o), &done);
		if (n < 0)
			goto out;
		if (m > FUZZ_SP_SHARE) { /* the verifier's PROOF, after its SHARE */
			memmove(want, want + FUZZ_SP_SHARE, m - FUZZ_SP_SHARE);
			r = m - FUZZ_SP_SHARE;
		} else { /* the prover's, once it has checked ours */
			r = tcpcrypt_auth_spake2p_next(p, o, n, want, sz, &done);
		}
		goto out;
	}
	/* the peer, A, speaks first */
	if (!proof) {
		r = m;
		goto out;
	}
	n = tcpcrypt_auth_spake2p_next(*st, want, m, o, sizeof(o), &done);
	if (n < FUZZ_SP_SHARE)
		goto out;
	r = tcpcrypt_auth_spake2p_next(p, o, FUZZ_SP_SHARE, want, sz, &done);
	if (r == 0) /* the peer proves: after our PROOF */
		r = tcpcrypt_auth_spake2p_next(p, o + FUZZ_SP_SHARE, n - FUZZ_SP_SHARE, want, sz,
					       &done);
out:
	tcpcrypt_auth_spake2p_free(p);
	return r;
}
#endif

#endif
