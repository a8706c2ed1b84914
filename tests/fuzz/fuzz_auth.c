/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the tcpcrypt-auth message parsers (lib/auth.c,
 * docs/auth.md#messages): tcpcrypt_auth_msg_len on every prefix, then
 * tcpcrypt_auth_check_proof or _check_result, or the SPAKE2 SHARE and PROOF
 * checks, or the X.509 CERT check, or SPAKE2+'s SHARE and PROOF checks
 * and its verifier file parser (layout in fuzz_common.h).
 * Invariants: every answer is 0 or a known negative code; the length of a
 * prefix never disagrees with the whole; a PROOF is accepted only if it is
 * byte for byte the one the real peer makes (PSK tags and Ed25519 signatures
 * are deterministic), a batch PROOF (random blinder) only with the genuine
 * role, session ID and key, a RESULT only if it is the peer's "accepted"
 * one; a rejection (EPEER) carries a code in range; a SPAKE2+ SHARE only
 * with the genuine header, role and session ID, a PROOF only byte for byte
 * the genuine peer's, a verifier file only with the fixed first two lines.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "tcpcrypt/auth.h"
#include "tcpcrypt/tcpcrypt.h"
#include "fuzz_common.h"

#define ASSERT(x)                                                                                  \
	do {                                                                                       \
		if (!(x))                                                                          \
			__builtin_trap();                                                          \
	} while (0)

static struct tcpcrypt_auth *psk, *signer, *verifier, *pw, *ca, *xsigner, *xbatch, *sp_pw, *sp_vf;

/*
 * X.509 (bit 6 of byte 0): m is the signer's CERT, checked by a verifier of
 * FUZZ_CA_PEM for fuzz.test together with the signer's genuine PROOF (bit
 * 0: a batch one).  Accepted only with the genuine header, role, session ID
 * and leaf (a chain may go on with the root).
 */
static int fuzz_cert(int role, int batch, const uint8_t *m, size_t n)
{
	static unsigned char proof[TCPCRYPT_AUTH_MSG_MAX], want[TCPCRYPT_AUTH_CERT_MSG_MAX];
	const struct tcpcrypt_auth *s = batch ? xbatch : xsigner;
	int pn = tcpcrypt_auth_proof(s, FUZZ_SID, !role, proof, sizeof(proof));
	int wn = tcpcrypt_auth_cert(s, FUZZ_SID, !role, want, sizeof(want));
	int r, l0;

	ASSERT(pn > 0 && wn > 45);
	r = tcpcrypt_auth_check_cert(ca, FUZZ_SID, role, m, n, proof, pn);
	ASSERT(r <= 0 && r > -TCPCRYPT_AUTH_EMAX);
	if (r == 0) {
		l0 = want[43] << 8 | want[44];
		ASSERT(n >= (size_t)45 + l0 && (size_t)tcpcrypt_auth_msg_len(m, n) == n);
		ASSERT(!memcmp(m, want, 6) && !memcmp(m + 8, want + 8, 34) &&
		       !memcmp(m + 43, want + 43, 2 + l0));
	}
	if (r == -TCPCRYPT_AUTH_ECERT || r == -TCPCRYPT_AUTH_ENAME)
		ASSERT(*tcpcrypt_auth_cert_error());
	return 0;
}

/* SPAKE2+ (bit 5): a SHARE or PROOF to our end after a genuine exchange, or a verifier file */
static int fuzz_spake2p(int sel, int role, const uint8_t *m, size_t n)
{
	static const char head[] = "tcpcrypt-auth spake2+ verifier v1\nkdf scrypt 32768 8 1\n";
	unsigned char want[2 * TCPCRYPT_AUTH_MSG_MAX], o[2 * TCPCRYPT_AUTH_MSG_MAX];
	struct tcpcrypt_auth_spake2p *st = NULL;
	int wn, r, done = 0, proof = sel & 1;

	if (sel == 3) {
		int err = -1;
		struct tcpcrypt_auth *a = tcpcrypt_auth_verifier(m, n, &err);

		ASSERT(a ? err == 0
			 : err == TCPCRYPT_AUTH_ECONFIG && tcpcrypt_auth_verifier_error());
		if (a) /* the fixed lines, w0, L and at most the last newline */
			ASSERT((n == 255 || n == 256) && !memcmp(m, head, sizeof(head) - 1));
		tcpcrypt_auth_free(a);
		return 0;
	}
	wn = fuzz_spake2p_setup(sel & 2 ? sp_vf : sp_pw, sel & 2 ? sp_pw : sp_vf, role, proof, &st,
				want);
	ASSERT(wn > 0 && st);
	r = tcpcrypt_auth_spake2p_next(st, m, n, o, sizeof(o), &done);
	ASSERT(r > -TCPCRYPT_AUTH_EMAX && r <= 2 * TCPCRYPT_AUTH_MSG_MAX);
	if (r >= 0 && !proof) /* the genuine header, role, session ID; a part byte */
		ASSERT(n == FUZZ_SP_SHARE && !memcmp(m, want, 8 + 1 + 33) && m[8 + 34] < 2);
	if (r >= 0 && proof) /* exactly the genuine confirmation */
		ASSERT(done && (size_t)wn == n && !memcmp(m, want, n));
	tcpcrypt_auth_spake2p_free(st);
	return 0;
}

/*
 * SPAKE2 (bit 3 of byte 0): bit 0 clear, m is the peer's SHARE; set, its
 * PROOF after a genuine exchange of shares.  Fresh scalars every run.
 */
static int fuzz_pake(int role, int proof, const uint8_t *m, size_t n)
{
	struct tcpcrypt_auth_pake *me = NULL, *peer = NULL;
	unsigned char s1[TCPCRYPT_AUTH_MSG_MAX], s2[TCPCRYPT_AUTH_MSG_MAX],
	    o[TCPCRYPT_AUTH_MSG_MAX], want[TCPCRYPT_AUTH_MSG_MAX];
	int n1, n2, r, wn;

	n1 = tcpcrypt_auth_pake_start(pw, FUZZ_SID, role, &me, s1, sizeof(s1));
	n2 = tcpcrypt_auth_pake_start(pw, FUZZ_SID, !role, &peer, s2, sizeof(s2));
	ASSERT(n1 > 0 && n2 > 0);
	if (!proof) {
		r = tcpcrypt_auth_pake_proof(me, m, n, o, sizeof(o));
		ASSERT(r > -TCPCRYPT_AUTH_EMAX && r <= TCPCRYPT_AUTH_MSG_MAX);
		if (r > 0) /* accepted: the genuine role and session ID */
			ASSERT(n == (size_t)n2 && m[8] == !role && !memcmp(m + 9, FUZZ_SID, 33));
	} else {
		ASSERT(tcpcrypt_auth_pake_proof(me, s2, n2, o, sizeof(o)) > 0);
		wn = tcpcrypt_auth_pake_proof(peer, s1, n1, want, sizeof(want));
		ASSERT(wn > 0);
		r = tcpcrypt_auth_pake_check(me, m, n);
		ASSERT(r <= 0 && r > -TCPCRYPT_AUTH_EMAX);
		if (r == 0) /* accepted: exactly the peer's confirmation */
			ASSERT((size_t)wn == n && !memcmp(want, m, n));
	}
	tcpcrypt_auth_pake_free(me);
	tcpcrypt_auth_pake_free(peer);
	return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	psk = tcpcrypt_auth_psk(FUZZ_PSK, sizeof(FUZZ_PSK), NULL);
	signer = fuzz_ed_cred(FUZZ_ED_PRIV, 1);
	verifier = fuzz_ed_cred(FUZZ_ED_PUB, 0);
	pw = tcpcrypt_auth_password(FUZZ_PSK, sizeof(FUZZ_PSK), NULL);
	ca = fuzz_x509_cred(0);
	xsigner = fuzz_x509_cred(1);
	xbatch = fuzz_x509_cred(2);
	sp_pw = tcpcrypt_auth_spake2p_password(FUZZ_PSK, sizeof(FUZZ_PSK), NULL);
	{
		char v[TCPCRYPT_AUTH_VERIFIER_MAX];
		int n = tcpcrypt_auth_make_verifier(FUZZ_PSK, sizeof(FUZZ_PSK), v, sizeof(v));

		ASSERT(n > 0);
		sp_vf = tcpcrypt_auth_verifier(v, n, NULL);
	}
	ASSERT(psk && pw && sp_pw && sp_vf);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char want[TCPCRYPT_AUTH_MSG_MAX];
	const uint8_t *m = data + 1;
	size_t n;
	int sel, role, whole, r, ps = 0, wn;
	const struct tcpcrypt_auth *rx, *tx;

	if (size < 1)
		return 0;
	sel = data[0] & 3;
	role = data[0] & 4 ? TCP_ENO_ROLE_B : TCP_ENO_ROLE_A;
	n = size - 1;
	whole = tcpcrypt_auth_msg_len(m, n);
	ASSERT(whole >= -TCPCRYPT_AUTH_EMAX &&
	       whole <= (n > 4 && m[4] == TCPCRYPT_AUTH_T_CERT ? TCPCRYPT_AUTH_CERT_MSG_MAX
							       : TCPCRYPT_AUTH_MSG_MAX));
	for (size_t k = 0; k < n && k < 16; k++) {
		int p = tcpcrypt_auth_msg_len(m, k);

		/* a prefix is "too short to say" or the same verdict as the whole */
		ASSERT(p == 0 || p == whole);
		if (whole > 0)
			ASSERT(p >= 0);
	}
	if (data[0] & 0x40)
		return fuzz_cert(role, sel & 1, m, n);
	if (data[0] & 0x20)
		return fuzz_spake2p(sel, role, m, n);
	if (data[0] & 8)
		return fuzz_pake(role, sel & 1, m, n);
	/* receiver rx, and tx: the credential of the peer that makes the genuine message */
	rx = sel < 2 ? psk : sel == 2 ? verifier : signer;
	tx = sel < 2 ? psk : sel == 2 ? signer : verifier;
	if (sel == 0 || sel == 2) {
		r = tcpcrypt_auth_check_proof(rx, FUZZ_SID, role, m, n);
		wn = tcpcrypt_auth_proof(tx, FUZZ_SID, !role, want, sizeof(want));
	} else {
		r = tcpcrypt_auth_check_result(rx, FUZZ_SID, role, m, n, &ps);
		wn = tcpcrypt_auth_result(tx, FUZZ_SID, !role, 0, want, sizeof(want));
	}
	ASSERT(r <= 0 && r > -TCPCRYPT_AUTH_EMAX);
	ASSERT(wn > 0);
	if (r == 0 && sel == 2 && n > 5 && m[5] == TCPCRYPT_AUTH_ED25519_BATCH)
		/* header, role, session ID and key as the genuine proof's */
		ASSERT(n > 8 + 1 + 33 + 32 && !memcmp(want + 8, m + 8, 1 + 33 + 32));
	else if (r == 0)
		ASSERT((size_t)wn == n && !memcmp(want, m, n));
	if (r == -TCPCRYPT_AUTH_EPEER)
		ASSERT(ps > 0 && ps < TCPCRYPT_AUTH_EMAX);
	if (r == 0 || r == -TCPCRYPT_AUTH_EPEER)
		ASSERT(whole == (int)n);
	return 0;
}
