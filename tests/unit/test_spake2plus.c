// SPDX-License-Identifier: MIT
/*
 * SPAKE2+ (lib/spake2plus.c, lib/auth_spake2plus.c, docs/auth.md#spake2plus).
 * The arithmetic against RFC 9383 Appendix C (P256-SHA256-HKDF-HMAC-SHA256:
 * L, both shares, both confirmations, K_shared, from both ends); invalid
 * points (off the curve, other encodings, the identity, shares that make Z
 * the identity); the verifier file: a known answer written by an
 * independent Python implementation of docs/auth.md
 * (tests/lib/spake2plus_verifier_vector.py), and every malformation.
 * Message level: success in each pairing (password/verifier, both
 * passwords, verifier at A), wrong password, two verifiers, every
 * single-byte change of every message, replay on another session ID,
 * reflected and truncated messages.  Connection level: two threads on a
 * socketpair with a getsockopt() defined here (as in test_auth.c).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include "tcpcrypt/auth.h"
#include "tcpcrypt/tcpcrypt.h"
#include "../../lib/spake2plus.h"
#include "t.h"

#include "auth_fake.h"

static size_t unhex(const char *h, unsigned char *out)
{
	size_t n = strlen(h) / 2;

	for (size_t i = 0; i < n; i++)
		sscanf(h + 2 * i, "%2hhx", &out[i]);
	return n;
}

/* --- RFC 9383 Appendix C, the P256-SHA256-HKDF-SHA256-HMAC-SHA256 vector --- */
static const char KAT_CTX[] = "SPAKE2+-P256-SHA256-HKDF-SHA256-HMAC-SHA256 Test Vectors";
static const char KAT_W0[] = "bb8e1bbcf3c48f62c08db243652ae55d3e5586053fca77102994f23ad95491b3";
static const char KAT_W1[] = "7e945f34d78785b8a3ef44d0df5a1a97d6b3b460409a345ca7830387a74b1dba";
static const char KAT_L[] =
    "04eb7c9db3d9a9eb1f8adab81b5794c1f13ae3e225efbe91ea487425854c7fc00f00bfedcbd09b2400142d40a14f"
    "2064ef31dfaa903b91d1faea7093d835966efd";
static const char KAT_X[] = "d1232c8e8693d02368976c174e2088851b8365d0d79a9eee709c6a05a2fad539";
static const char KAT_SHAREP[] =
    "04ef3bd051bf78a2234ec0df197f7828060fe9856503579bb1733009042c15c0c1de127727f418b5966afadfdd95"
    "a6e4591d171056b333dab97a79c7193e341727";
static const char KAT_Y[] = "717a72348a182085109c8d3917d6c43d59b224dc6a7fc4f0483232fa6516d8b3";
static const char KAT_SHAREV[] =
    "04c0f65da0d11927bdf5d560c69e1d7d939a05b0e88291887d679fcadea75810fb5cc1ca7494db39e82ff2f50665"
    "255d76173e09986ab46742c798a9a68437b048";
static const char KAT_CONFIRMP[] =
    "926cc713504b9b4d76c9162ded04b5493e89109f6d89462cd33adc46fda27527";
static const char KAT_CONFIRMV[] =
    "9747bcc4f8fe9f63defee53ac9b07876d907d55047e6ff2def2e7529089d3e68";
static const char KAT_KSHARED[] =
    "0c5f8ccd1413423a54f6c1fb26ff01534a87f893779c6e68666d772bfd91f3e7";

struct kat {
	unsigned char w0[32], w1[32], L[65], x[32], y[32], X[65], Y[65], cp[32], cv[32], k[32];
};

static void kat_load(struct kat *k)
{
	unhex(KAT_W0, k->w0);
	unhex(KAT_W1, k->w1);
	unhex(KAT_L, k->L);
	unhex(KAT_X, k->x);
	unhex(KAT_Y, k->y);
	unhex(KAT_SHAREP, k->X);
	unhex(KAT_SHAREV, k->Y);
	unhex(KAT_CONFIRMP, k->cp);
	unhex(KAT_CONFIRMV, k->cv);
	unhex(KAT_KSHARED, k->k);
}

static int finish(int prover, const struct kat *k, const unsigned char *secret,
		  const unsigned char *x, const unsigned char *own, const unsigned char *peer,
		  unsigned char *cp, unsigned char *cv, unsigned char *key)
{
	return tcpcrypt__spake2p_finish(
	    prover, k->w0, secret, x, own, peer, (const unsigned char *)KAT_CTX, strlen(KAT_CTX),
	    (const unsigned char *)"client", 6, (const unsigned char *)"server", 6, cp, cv, key);
}

T(spake2p_rfc9383_vector)
{
	struct kat k;
	unsigned char L[65], X[65], Y[65], xo[32], cp[32], cv[32], key[32];

	kat_load(&k);
	CHECK_EQ(tcpcrypt__spake2p_L(k.w1, L), 0);
	CHECK_MEM(L, k.L, 65);
	CHECK_EQ(tcpcrypt__spake2p_check_record(k.w0, k.L), 0);
	CHECK_EQ(tcpcrypt__spake2p_share(1, k.w0, k.x, xo, X), 0);
	CHECK_MEM(X, k.X, 65);
	CHECK_MEM(xo, k.x, 32);
	CHECK_EQ(tcpcrypt__spake2p_share(0, k.w0, k.y, xo, Y), 0);
	CHECK_MEM(Y, k.Y, 65);
	/* the prover, with w1 */
	memset(cp, 0, 32);
	CHECK_EQ(finish(1, &k, k.w1, k.x, k.X, k.Y, cp, cv, key), 0);
	CHECK_MEM(cp, k.cp, 32);
	CHECK_MEM(cv, k.cv, 32);
	CHECK_MEM(key, k.k, 32);
	/* the verifier, with L */
	memset(cp, 0, 32);
	CHECK_EQ(finish(0, &k, k.L, k.y, k.Y, k.X, cp, cv, key), 0);
	CHECK_MEM(cp, k.cp, 32);
	CHECK_MEM(cv, k.cv, 32);
	CHECK_MEM(key, k.k, 32);
	/* another context, another identity: other keys */
	CHECK_EQ(tcpcrypt__spake2p_finish(0, k.w0, k.L, k.y, k.Y, k.X, (const unsigned char *)"x",
					  1, (const unsigned char *)"client", 6,
					  (const unsigned char *)"server", 6, cp, cv, key),
		 0);
	CHECK(memcmp(cp, k.cp, 32) && memcmp(key, k.k, 32));
	CHECK_EQ(tcpcrypt__spake2p_finish(0, k.w0, k.L, k.y, k.Y, k.X,
					  (const unsigned char *)KAT_CTX, strlen(KAT_CTX),
					  (const unsigned char *)"server", 6,
					  (const unsigned char *)"client", 6, cp, cv, key),
		 0);
	CHECK(memcmp(cv, k.cv, 32) && memcmp(key, k.k, 32));
	/* the w reduction: halves of 40 bytes, mod p */
	{
		unsigned char h[80] = {0}, w0[32], w1[32];

		h[39] = 7;
		memset(h + 40, 0xff, 40);
		CHECK_EQ(tcpcrypt__spake2p_w(h, w0, w1), 0);
		CHECK_EQ(w0[31], 7);
		/* 2^320 - 1 mod p != 2^256 - 1 truncated */
		CHECK(w1[0] != 0xff || w1[31] != 0xff);
	}
}

T(spake2p_rejects_bad_points)
{
	struct kat k;
	unsigned char bad[65], cp[32], cv[32], key[32], z[32] = {0}, xo[32], Q[65];

	kat_load(&k);
	/* off the curve: y + 1, at both ends */
	memcpy(bad, k.Y, 65);
	bad[64] ^= 1;
	CHECK_EQ(finish(1, &k, k.w1, k.x, k.X, bad, cp, cv, key), -2);
	memcpy(bad, k.X, 65);
	bad[64] ^= 1;
	CHECK_EQ(finish(0, &k, k.L, k.y, k.Y, bad, cp, cv, key), -2);
	/* another encoding: compressed or hybrid prefix, all zero (the identity's encodings) */
	memcpy(bad, k.Y, 65);
	bad[0] = 0x02;
	CHECK_EQ(finish(1, &k, k.w1, k.x, k.X, bad, cp, cv, key), -2);
	bad[0] = 0x06;
	CHECK_EQ(finish(1, &k, k.w1, k.x, k.X, bad, cp, cv, key), -2);
	memset(bad, 0, 65);
	CHECK_EQ(finish(1, &k, k.w1, k.x, k.X, bad, cp, cv, key), -2);
	bad[0] = 0x04;
	CHECK_EQ(finish(0, &k, k.L, k.y, k.Y, bad, cp, cv, key), -2);
	/* Y = w0*N exactly (y = 0): Y - w0*N is the identity, so Z and V are */
	CHECK_EQ(tcpcrypt__spake2p_share(0, k.w0, z, xo, Q), 0);
	CHECK_EQ(finish(1, &k, k.w1, k.x, k.X, Q, cp, cv, key), -2);
	/* X = w0*M exactly: the verifier's Z is the identity */
	CHECK_EQ(tcpcrypt__spake2p_share(1, k.w0, z, xo, Q), 0);
	CHECK_EQ(finish(0, &k, k.L, k.y, k.Y, Q, cp, cv, key), -2);
	/* records: w0 = 0, w0 = the order, L off the curve or all zero */
	memset(bad, 0, 32);
	CHECK_EQ(tcpcrypt__spake2p_check_record(bad, k.L), -1);
	unhex("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551", bad);
	CHECK_EQ(tcpcrypt__spake2p_check_record(bad, k.L), -1);
	bad[31] -= 1; /* p - 1: fine */
	CHECK_EQ(tcpcrypt__spake2p_check_record(bad, k.L), 0);
	memcpy(bad, k.L, 65);
	bad[40] ^= 4;
	CHECK_EQ(tcpcrypt__spake2p_check_record(k.w0, bad), -2);
	memset(bad, 0, 65);
	CHECK_EQ(tcpcrypt__spake2p_check_record(k.w0, bad), -2);
	/* the verifier's own L, if bad, is an error too (never a result) */
	CHECK(finish(0, &k, bad, k.y, k.Y, k.X, cp, cv, key) < 0);
}

/* --- the verifier file --- */

/* tests/lib/spake2plus_verifier_vector.py 'correct horse battery staple' */
static const char VF_KAT[] =
    "tcpcrypt-auth spake2+ verifier v1\n"
    "kdf scrypt 32768 8 1\n"
    "w0 933432e1650d635f5345ea1a239a91f56a7e4fea35913103d6857dd644e5aca3\n"
    "L 041598fbffa42c394894726f798b007fca62ff410a5c69029d14bc9591c45af8e33aaa5fff1a11e7b52983977a"
    "c392b8dad07b0566881ca8c3e49afd95e95e7042\n";
static const char PW[] = "correct horse battery staple";

static struct tcpcrypt_auth *pw_cred, *pw_other, *vf_cred;
static char tmpdir[] = "/tmp/test_spake2plus.XXXXXX";
static int have_tmpdir;

static const char *tmpfile_with(const char *name, const void *p, size_t n)
{
	static char path[8][128];
	static int k;
	char *s = path[k++ % 8];
	FILE *f;

	if (!have_tmpdir++ && !mkdtemp(tmpdir))
		abort();
	snprintf(s, 128, "%s/%s", tmpdir, name);
	f = fopen(s, "wb");
	if (!f || fwrite(p, 1, n, f) != n || fclose(f))
		abort();
	return s;
}

/* the credentials every test shares (scrypt costs ~100 ms each) */
static void creds(void)
{
	int err = -1;

	if (pw_cred)
		return;
	pw_cred = tcpcrypt_auth_spake2p_password(PW, strlen(PW), &err);
	CHECK(pw_cred && err == 0);
	pw_other = tcpcrypt_auth_spake2p_password("correct horse battery stapLe", 28, &err);
	CHECK(pw_other && err == 0);
	vf_cred = tcpcrypt_auth_verifier(VF_KAT, strlen(VF_KAT), &err);
	CHECK(vf_cred && err == 0);
	if (!pw_cred || !pw_other || !vf_cred)
		abort();
}

T(spake2p_verifier_known_answer)
{
	char out[TCPCRYPT_AUTH_VERIFIER_MAX];
	int err = -1;
	struct tcpcrypt_auth *a;

	creds();
	CHECK_EQ(tcpcrypt_auth_make_verifier(PW, strlen(PW), out, sizeof(out)),
		 (int)strlen(VF_KAT));
	CHECK(!strcmp(out, VF_KAT));
	CHECK_EQ(tcpcrypt_auth_scheme(vf_cred), TCPCRYPT_AUTH_SPAKE2PLUS);
	CHECK_EQ(tcpcrypt_auth_scheme(pw_cred), TCPCRYPT_AUTH_SPAKE2PLUS);
	/* from a password file: one trailing newline is not part of it */
	CHECK_EQ(tcpcrypt_auth_make_verifier_file(
		     tmpfile_with("pw", "correct horse battery staple\n", 29), out, sizeof(out)),
		 (int)strlen(VF_KAT));
	CHECK(!strcmp(out, VF_KAT));
	a = tcpcrypt_auth_verifier_file(tmpfile_with("vf", VF_KAT, strlen(VF_KAT)), &err);
	CHECK(a && err == 0);
	CHECK(!tcpcrypt_auth_verifier_error());
	tcpcrypt_auth_free(a);
	/* the last newline may be missing */
	a = tcpcrypt_auth_verifier(VF_KAT, strlen(VF_KAT) - 1, &err);
	CHECK(a && err == 0);
	tcpcrypt_auth_free(a);
	/* too small a buffer, no password, an empty or missing password file */
	CHECK_EQ(tcpcrypt_auth_make_verifier(PW, strlen(PW), out, 100), -TCPCRYPT_AUTH_ECONFIG);
	CHECK_EQ(tcpcrypt_auth_make_verifier("", 0, out, sizeof(out)), -TCPCRYPT_AUTH_ECONFIG);
	CHECK_EQ(tcpcrypt_auth_make_verifier_file(tmpfile_with("empty", "\n", 1), out, sizeof(out)),
		 -TCPCRYPT_AUTH_ECONFIG);
	CHECK_EQ(tcpcrypt_auth_make_verifier_file("/nonexistent/pw", out, sizeof(out)),
		 -TCPCRYPT_AUTH_ESYS);
	CHECK(!tcpcrypt_auth_spake2p_password("", 0, &err));
	CHECK_EQ(err, TCPCRYPT_AUTH_ECONFIG);
	CHECK(!tcpcrypt_auth_spake2p_password_file("/nonexistent/pw", &err));
	CHECK_EQ(err, TCPCRYPT_AUTH_ESYS);
	CHECK(!tcpcrypt_auth_verifier_file("/nonexistent/vf", &err));
	CHECK_EQ(err, TCPCRYPT_AUTH_ESYS);
	/* a password file of 1025 bytes is too long */
	{
		char big[1026];

		memset(big, 'a', sizeof(big));
		CHECK(!tcpcrypt_auth_spake2p_password_file(tmpfile_with("big", big, 1025), &err));
		CHECK_EQ(err, TCPCRYPT_AUTH_ECONFIG);
	}
}

static int bad_verifier(const char *text, size_t n, const char *why)
{
	int err = -1;
	struct tcpcrypt_auth *a = tcpcrypt_auth_verifier(text, n, &err);
	const char *got = tcpcrypt_auth_verifier_error();

	if (a || err != TCPCRYPT_AUTH_ECONFIG || !got || !strstr(got, why)) {
		fprintf(stderr, "  verifier accepted or wrong reason (%s, expected %s)\n",
			got ? got : "none", why);
		tcpcrypt_auth_free(a);
		return 0;
	}
	return 1;
}

T(spake2p_verifier_malformed)
{
	char t[2048];
	size_t n = strlen(VF_KAT);

	CHECK(bad_verifier("", 0, "empty"));
	memset(t, 'a', sizeof(t));
	CHECK(bad_verifier(t, 1025, "longer than"));
	/*
	 * every single-byte change of the file is refused, but for a hex letter's case (the
	 * same value) and w0's digits: another w0 is another verifier (w0 and L are
	 * independent), which fails at authentication (spake2p_msg_success_and_wrong_password)
	 */
	for (size_t i = 0; i < n; i++)
		for (int f = 0; f < 3; f++) {
			static const unsigned char flips[] = {0x01, 0x20, 0x80};
			int err = -1;
			struct tcpcrypt_auth *a;

			memcpy(t, VF_KAT, n);
			t[i] ^= flips[f];
			a = tcpcrypt_auth_verifier(t, n, &err);
			if (a && !(flips[f] == 0x20 && t[i] >= 'A' && t[i] <= 'F' && i >= 58) &&
			    !(i >= 58 && i < 58 + 64)) {
				fprintf(stderr, "  byte %zu ^ %02x accepted\n", i, flips[f]);
				CHECK(0);
			}
			if (!a && (err != TCPCRYPT_AUTH_ECONFIG || !tcpcrypt_auth_verifier_error()))
				CHECK(0);
			tcpcrypt_auth_free(a);
		}
	/* each line's own message */
	CHECK(bad_verifier("tcpcrypt-auth spake2+ verifier v2\n", 34, "line 1"));
	CHECK(bad_verifier(VF_KAT, 33, "line 2")); /* line 1 alone, no newline */
	CHECK(bad_verifier(VF_KAT, 34, "line 2"));
	snprintf(t, sizeof(t), "tcpcrypt-auth spake2+ verifier v1\nkdf scrypt 16384 8 1\n%s",
		 VF_KAT + 55);
	CHECK(bad_verifier(t, strlen(t), "line 2"));
	CHECK(bad_verifier(VF_KAT, 55, "line 3"));
	CHECK(bad_verifier(VF_KAT, 55 + 66, "line 3")); /* w0 one digit short */
	CHECK(bad_verifier(VF_KAT, 55 + 67, "line 4"));
	CHECK(bad_verifier(VF_KAT, n - 2, "line 4")); /* L one digit short */
	memcpy(t, VF_KAT, n);
	t[n - 1] = '\r';
	CHECK(bad_verifier(t, n, "line 4")); /* CR LF */
	memcpy(t, VF_KAT, n);
	memcpy(t + n, "\n", 1);
	CHECK(bad_verifier(t, n + 1, "after line 4"));
	memcpy(t + n, "# comment\n", 10);
	CHECK(bad_verifier(t, n + 10, "after line 4"));
	memcpy(t, VF_KAT, n);
	t[55 + 3] = 'g';
	CHECK(bad_verifier(t, n, "line 3"));
	/* well-formed, but not a record: w0 = 0, w0 = the order, L off the curve, L the identity */
	memcpy(t, VF_KAT, n);
	memset(t + 58, '0', 64);
	CHECK(bad_verifier(t, n, "w0 is 0"));
	memcpy(t + 58, "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551", 64);
	CHECK(bad_verifier(t, n, "w0 is 0"));
	memcpy(t, VF_KAT, n);
	t[n - 2] = t[n - 2] == '0' ? '1' : '0';
	CHECK(bad_verifier(t, n, "not a point"));
	memcpy(t, VF_KAT, n);
	memset(t + 125, '0', 130); /* all zero: no encoding of the identity is accepted */
	CHECK(bad_verifier(t, n, "not a point"));
	t[126] = '4'; /* 04 00...: (0, 0) is not on the curve */
	CHECK(bad_verifier(t, n, "not a point"));
}

/* --- messages --- */

static unsigned char SID[TCP_ENO_SESSID_LEN], SID2[TCP_ENO_SESSID_LEN];

static void init_sids(void)
{
	SID[0] = SID2[0] = 0x23;
	for (int i = 1; i < TCP_ENO_SESSID_LEN; i++)
		SID[i] = SID2[i] = i;
	SID2[32] ^= 0x80;
}

#define BUF	  (2 * TCPCRYPT_AUTH_MSG_MAX)
#define SHARE_LEN (TCPCRYPT_AUTH_HDR_LEN + 100)
#define PROOF_LEN (TCPCRYPT_AUTH_HDR_LEN + 66)

/*
 * One SPAKE2+ exchange between a (role A) and b (role B), the messages in
 * their order on the wire: 0 A's SHARE, 1 B's SHARE, 2 the verifier's
 * PROOF, 3 the prover's PROOF.  mutate (which >= 0) flips one byte of one
 * of them on its way; the verdicts of A and B (0: done, accepted).
 */
struct run {
	int ra, rb, a_prover, b_prover;
	unsigned char msgs[4][BUF];
	int lens[4];
};

static int deliver(struct tcpcrypt_auth_spake2p *to, int *r, unsigned char *m, int n, int idx,
		   int which, size_t byte, unsigned char flip, unsigned char *out, int *done,
		   struct run *run)
{
	if (idx == which && byte < (size_t)n)
		m[byte] ^= flip;
	memcpy(run->msgs[idx], m, n);
	run->lens[idx] = n;
	*r = tcpcrypt_auth_spake2p_next(to, m, n, out, BUF, done);
	return *r;
}

static void run2(const struct tcpcrypt_auth *a, const struct tcpcrypt_auth *b,
		 const unsigned char *sid_b, int which, size_t byte, unsigned char flip,
		 struct run *run)
{
	struct tcpcrypt_auth_spake2p *pa = NULL, *pb = NULL;
	unsigned char oa[BUF], ob[BUF], m[BUF];
	int na, nb, da = 0, db = 0, r;

	memset(run, 0, sizeof(*run));
	run->ra = run->rb = 1;
	na = tcpcrypt_auth_spake2p_start(a, SID, TCP_ENO_ROLE_A, &pa, oa, sizeof(oa));
	nb = tcpcrypt_auth_spake2p_start(b, sid_b ? sid_b : SID, TCP_ENO_ROLE_B, &pb, ob,
					 sizeof(ob));
	CHECK_EQ(na, SHARE_LEN);
	CHECK_EQ(nb, 0);
	if (na <= 0 || nb != 0)
		goto out;
	/* A's SHARE to B; B answers its SHARE (and the verifier's PROOF) */
	memcpy(m, oa, na);
	r = deliver(pb, &run->rb, m, na, 0, which, byte, flip, ob, &db, run);
	if (r < 0)
		goto out;
	run->b_prover = tcpcrypt_auth_spake2p_is_prover(pb);
	run->a_prover = !run->b_prover;
	CHECK_EQ(r, run->b_prover ? SHARE_LEN : SHARE_LEN + PROOF_LEN);
	/* B's SHARE to A */
	memcpy(m, ob, SHARE_LEN);
	nb = r;
	r = deliver(pa, &run->ra, m, SHARE_LEN, 1, which, byte, flip, oa, &da, run);
	if (r < 0)
		goto out;
	CHECK_EQ(tcpcrypt_auth_spake2p_is_prover(pa), run->a_prover);
	CHECK_EQ(r, run->a_prover ? 0 : PROOF_LEN);
	if (run->a_prover) {
		/* B's PROOF (confirmV) to A; A's PROOF (confirmP) to B */
		memcpy(m, ob + SHARE_LEN, PROOF_LEN);
		r = deliver(pa, &run->ra, m, PROOF_LEN, 2, which, byte, flip, oa, &da, run);
		if (r < 0)
			goto out;
		CHECK(da && r == PROOF_LEN);
		memcpy(m, oa, r);
		r = deliver(pb, &run->rb, m, r, 3, which, byte, flip, ob, &db, run);
		CHECK(r < 0 || (db && r == 0));
	} else {
		/* A's PROOF (confirmV) to B; B's PROOF (confirmP) to A */
		memcpy(m, oa, PROOF_LEN);
		r = deliver(pb, &run->rb, m, PROOF_LEN, 2, which, byte, flip, ob, &db, run);
		if (r < 0)
			goto out;
		CHECK(db && r == PROOF_LEN);
		memcpy(m, ob, r);
		r = deliver(pa, &run->ra, m, r, 3, which, byte, flip, oa, &da, run);
		CHECK(r < 0 || (da && r == 0));
	}
	if (da && db) {
		unsigned char ka[32], kb[32];

		CHECK_EQ(tcpcrypt_auth_spake2p_key(pa, ka, 32), 0);
		CHECK_EQ(tcpcrypt_auth_spake2p_key(pb, kb, 32), 0);
		CHECK_MEM(ka, kb, 32);
	}
out:
	if (run->ra > 0)
		run->ra = da ? 0 : 1;
	if (run->rb > 0)
		run->rb = db ? 0 : 1;
	tcpcrypt_auth_spake2p_free(pa);
	tcpcrypt_auth_spake2p_free(pb);
}

T(spake2p_msg_success_and_wrong_password)
{
	struct run r;
	int err = -1;
	struct tcpcrypt_auth *vo;
	char vtext[TCPCRYPT_AUTH_VERIFIER_MAX];

	creds();
	init_sids();
	/* the password at A, the verifier at B: A proves */
	run2(pw_cred, vf_cred, NULL, -1, 0, 0, &r);
	CHECK_EQ(r.ra, 0);
	CHECK_EQ(r.rb, 0);
	CHECK(r.a_prover && !r.b_prover);
	/* the part bytes on the wire: A's SHARE says prover (0), B's verifier (1) */
	CHECK_EQ(r.msgs[0][8 + 34], 0);
	CHECK_EQ(r.msgs[1][8 + 34], 1);
	CHECK_EQ(r.msgs[0][5], TCPCRYPT_AUTH_SPAKE2PLUS);
	/* both hold the password: A proves, B verifies with L from it */
	run2(pw_cred, pw_cred, NULL, -1, 0, 0, &r);
	CHECK(r.ra == 0 && r.rb == 0 && r.a_prover);
	/* the verifier at A, the password at B: B proves */
	run2(vf_cred, pw_cred, NULL, -1, 0, 0, &r);
	CHECK(r.ra == 0 && r.rb == 0 && r.b_prover);
	CHECK_EQ(r.msgs[0][8 + 34], 1);
	/* wrong password: the prover finds it in the verifier's confirmation */
	run2(pw_other, vf_cred, NULL, -1, 0, 0, &r);
	CHECK_EQ(r.ra, -TCPCRYPT_AUTH_EPASSWORD);
	CHECK_EQ(r.rb, 1); /* B waits for a PROOF that does not come */
	run2(vf_cred, pw_other, NULL, -1, 0, 0, &r);
	CHECK_EQ(r.rb, -TCPCRYPT_AUTH_EPASSWORD);
	run2(pw_cred, pw_other, NULL, -1, 0, 0, &r);
	CHECK_EQ(r.ra, -TCPCRYPT_AUTH_EPASSWORD);
	/* two verifiers: B says so */
	run2(vf_cred, vf_cred, NULL, -1, 0, 0, &r);
	CHECK_EQ(r.rb, -TCPCRYPT_AUTH_EVERIFIER);
	/* another password's verifier */
	CHECK(tcpcrypt_auth_make_verifier("correct horse battery stapLe", 28, vtext,
					  sizeof(vtext)) > 0);
	vo = tcpcrypt_auth_verifier(vtext, strlen(vtext), &err);
	CHECK(vo);
	run2(pw_cred, vo, NULL, -1, 0, 0, &r);
	CHECK_EQ(r.ra, -TCPCRYPT_AUTH_EPASSWORD);
	run2(pw_other, vo, NULL, -1, 0, 0, &r);
	CHECK(r.ra == 0 && r.rb == 0);
	tcpcrypt_auth_free(vo);
	/* different session IDs (a relay): B sees it on A's SHARE */
	run2(pw_cred, vf_cred, SID2, -1, 0, 0, &r);
	CHECK_EQ(r.rb, -TCPCRYPT_AUTH_ESESSID);
	/* the other message APIs refuse a SPAKE2+ credential, SPAKE2+'s refuse others */
	{
		unsigned char m[BUF];
		struct tcpcrypt_auth_pake *pk = NULL;
		struct tcpcrypt_auth_spake2p *sp = NULL;
		struct tcpcrypt_auth *s2 = tcpcrypt_auth_password("pw", 2, &err);

		CHECK_EQ(tcpcrypt_auth_proof(pw_cred, SID, 0, m, sizeof(m)),
			 -TCPCRYPT_AUTH_ECONFIG);
		CHECK_EQ(tcpcrypt_auth_check_proof(vf_cred, SID, 0, m, 80), -TCPCRYPT_AUTH_ECONFIG);
		CHECK_EQ(tcpcrypt_auth_pake_start(pw_cred, SID, 0, &pk, m, sizeof(m)),
			 -TCPCRYPT_AUTH_ECONFIG);
		CHECK_EQ(tcpcrypt_auth_spake2p_start(s2, SID, 0, &sp, m, sizeof(m)),
			 -TCPCRYPT_AUTH_ECONFIG);
		CHECK_EQ(tcpcrypt_auth_spake2p_start(pw_cred, SID, 2, &sp, m, sizeof(m)),
			 -TCPCRYPT_AUTH_ECONFIG);
		CHECK_EQ(tcpcrypt_auth_spake2p_start(pw_cred, SID, 0, &sp, m, 100),
			 -TCPCRYPT_AUTH_ECONFIG);
		tcpcrypt_auth_free(s2);
	}
}

T(spake2p_msg_every_byte_change_fails)
{
	static const unsigned char flips[] = {0x01, 0x80, 0xff};
	const struct tcpcrypt_auth *pairs[2][2] = {{NULL, NULL}, {NULL, NULL}};
	int codes[TCPCRYPT_AUTH_EMAX] = {0}, bad = 0;
	struct run r;

	creds();
	init_sids();
	pairs[0][0] = pw_cred; /* A proves */
	pairs[0][1] = vf_cred;
	pairs[1][0] = vf_cred; /* B proves */
	pairs[1][1] = pw_cred;
	for (int pr = 0; pr < 2; pr++)
		for (int which = 0; which < 4; which++) {
			size_t n = which < 2 ? SHARE_LEN : PROOF_LEN;

			for (size_t i = 0; i < n; i++)
				for (size_t k = 0; k < sizeof(flips); k++) {
					/* the receiver of message `which` */
					int to_b, rr;

					run2(pairs[pr][0], pairs[pr][1], NULL, which, i, flips[k],
					     &r);
					to_b = which == 0 || (which == 2 && pr == 1) ||
					       (which == 3 && pr == 0);
					rr = to_b ? r.rb : r.ra;
					/*
					 * the receiver must not accept it, and some end must
					 * reject (the receiver may wait for a message the
					 * other end, having caught it, never sends)
					 */
					if (rr == 0 || (r.ra >= 0 && r.rb >= 0)) {
						fprintf(stderr,
							"  pair %d message %d byte %zu ^ %02x "
							"accepted (A %d, B %d)\n",
							pr, which, i, flips[k], r.ra, r.rb);
						bad++;
					} else {
						rr = rr < 0 ? rr : to_b ? r.ra : r.rb;
						if (-rr < TCPCRYPT_AUTH_EMAX)
							codes[-rr]++;
					}
				}
		}
	CHECK_EQ(bad, 0);
	CHECK(codes[TCPCRYPT_AUTH_EPOINT] > 0);
	CHECK(codes[TCPCRYPT_AUTH_EPASSWORD] > 0);
	CHECK(codes[TCPCRYPT_AUTH_ESESSID] > 0);
	CHECK(codes[TCPCRYPT_AUTH_EROLE] > 0);
	CHECK(codes[TCPCRYPT_AUTH_ENOTAUTH] > 0);
	CHECK(codes[TCPCRYPT_AUTH_EFORMAT] > 0);
	CHECK(codes[TCPCRYPT_AUTH_ESCHEME] > 0);
	CHECK(codes[TCPCRYPT_AUTH_EVERSION] > 0);
	CHECK(codes[TCPCRYPT_AUTH_EVERIFIER] > 0); /* A's part byte turned to "verifier" */
}

T(spake2p_msg_replay_reflect_truncate)
{
	struct tcpcrypt_auth_spake2p *pa = NULL, *pb = NULL, *pc = NULL;
	unsigned char oa[BUF], ob[BUF], oc[BUF], m[BUF];
	int na, nb, n, done = 0;
	struct run r;

	creds();
	init_sids();
	/* a whole exchange recorded on SID */
	run2(pw_cred, vf_cred, NULL, -1, 0, 0, &r);
	CHECK(r.ra == 0 && r.rb == 0);
	/* replayed to a new verifier on SID2: the session ID */
	CHECK_EQ(tcpcrypt_auth_spake2p_start(vf_cred, SID2, TCP_ENO_ROLE_B, &pc, oc, sizeof(oc)),
		 0);
	CHECK_EQ(tcpcrypt_auth_spake2p_next(pc, r.msgs[0], r.lens[0], oc, sizeof(oc), &done),
		 -TCPCRYPT_AUTH_ESESSID);
	tcpcrypt_auth_spake2p_free(pc);
	/* ... with SID2 written into A's SHARE and PROOF: the keys differ, confirmP fails */
	CHECK_EQ(tcpcrypt_auth_spake2p_start(vf_cred, SID2, TCP_ENO_ROLE_B, &pc, oc, sizeof(oc)),
		 0);
	memcpy(m, r.msgs[0], r.lens[0]);
	memcpy(m + 9, SID2, sizeof(SID2));
	CHECK_EQ(tcpcrypt_auth_spake2p_next(pc, m, r.lens[0], oc, sizeof(oc), &done),
		 SHARE_LEN + PROOF_LEN);
	memcpy(m, r.msgs[3], r.lens[3]);
	memcpy(m + 9, SID2, sizeof(SID2));
	CHECK_EQ(tcpcrypt_auth_spake2p_next(pc, m, r.lens[3], oc, sizeof(oc), &done),
		 -TCPCRYPT_AUTH_EPASSWORD);
	CHECK(!done);
	tcpcrypt_auth_spake2p_free(pc);
	/* the recorded verifier's SHARE and PROOF replayed to a new prover on SID: its share
	 * is another, so the recorded confirmV does not match */
	na = tcpcrypt_auth_spake2p_start(pw_cred, SID, TCP_ENO_ROLE_A, &pa, oa, sizeof(oa));
	CHECK_EQ(na, SHARE_LEN);
	CHECK_EQ(tcpcrypt_auth_spake2p_next(pa, r.msgs[1], r.lens[1], oa, sizeof(oa), &done), 0);
	CHECK_EQ(tcpcrypt_auth_spake2p_next(pa, r.msgs[2], r.lens[2], oa, sizeof(oa), &done),
		 -TCPCRYPT_AUTH_EPASSWORD);
	tcpcrypt_auth_spake2p_free(pa);
	/* reflected: A's own SHARE back to A, B's PROOF back to B */
	na = tcpcrypt_auth_spake2p_start(pw_cred, SID, TCP_ENO_ROLE_A, &pa, oa, sizeof(oa));
	memcpy(m, oa, na);
	CHECK_EQ(tcpcrypt_auth_spake2p_next(pa, m, na, oa, sizeof(oa), &done),
		 -TCPCRYPT_AUTH_EROLE);
	tcpcrypt_auth_spake2p_free(pa);
	na = tcpcrypt_auth_spake2p_start(pw_cred, SID, TCP_ENO_ROLE_A, &pa, oa, sizeof(oa));
	CHECK_EQ(tcpcrypt_auth_spake2p_start(vf_cred, SID, TCP_ENO_ROLE_B, &pb, ob, sizeof(ob)), 0);
	nb = tcpcrypt_auth_spake2p_next(pb, oa, na, ob, sizeof(ob), &done);
	CHECK_EQ(nb, SHARE_LEN + PROOF_LEN);
	memcpy(m, ob + SHARE_LEN, PROOF_LEN);
	CHECK_EQ(tcpcrypt_auth_spake2p_next(pb, m, PROOF_LEN, m + PROOF_LEN, sizeof(m) - PROOF_LEN,
					    &done),
		 -TCPCRYPT_AUTH_EROLE);
	/* ... with its role byte rewritten: the confirmations differ (confirmV != confirmP) */
	m[8] = TCP_ENO_ROLE_A;
	CHECK_EQ(tcpcrypt_auth_spake2p_next(pb, m, PROOF_LEN, m + PROOF_LEN, sizeof(m) - PROOF_LEN,
					    &done),
		 -TCPCRYPT_AUTH_EPASSWORD);
	/* truncated and extended messages */
	for (int k = 0; k < SHARE_LEN; k++)
		CHECK(tcpcrypt_auth_spake2p_next(pa, ob, k, oa, sizeof(oa), &done) < 0);
	CHECK_EQ(tcpcrypt_auth_spake2p_next(pa, ob, SHARE_LEN + 1, oa, sizeof(oa), &done),
		 -TCPCRYPT_AUTH_EFORMAT);
	CHECK_EQ(tcpcrypt_auth_spake2p_next(pa, ob, SHARE_LEN, oa, sizeof(oa), &done), 0);
	for (int k = 0; k < PROOF_LEN; k++)
		CHECK(tcpcrypt_auth_spake2p_next(pa, ob + SHARE_LEN, k, oa, sizeof(oa), &done) < 0);
	n = tcpcrypt_auth_spake2p_next(pa, ob + SHARE_LEN, PROOF_LEN, oa, sizeof(oa), &done);
	CHECK(n == PROOF_LEN && done);
	/* nothing after done */
	CHECK_EQ(tcpcrypt_auth_spake2p_next(pa, ob + SHARE_LEN, PROOF_LEN, oa, sizeof(oa), &done),
		 -TCPCRYPT_AUTH_ECONFIG);
	CHECK_EQ(tcpcrypt_auth_spake2p_next(pb, oa, n, ob, sizeof(ob), &done), 0);
	CHECK(done);
	tcpcrypt_auth_spake2p_free(pa);
	tcpcrypt_auth_spake2p_free(pb);
}

T(spake2p_msg_bad_points)
{
	unsigned char oa[BUF], ob[BUF], m[BUF];
	struct tcpcrypt_auth_spake2p *pa = NULL, *pb = NULL;
	int na, done;
	struct kat k;

	creds();
	init_sids();
	kat_load(&k);
	na = tcpcrypt_auth_spake2p_start(pw_cred, SID, TCP_ENO_ROLE_A, &pa, oa, sizeof(oa));
	CHECK_EQ(na, SHARE_LEN);
	for (int c = 0; c < 4; c++) {
		/* A's SHARE to B with its point replaced */
		memcpy(m, oa, na);
		memcpy(m + 8 + 35, k.X, 65);
		if (c == 0)
			m[8 + 35 + 64] ^= 1; /* off the curve */
		else if (c == 1)
			memset(m + 8 + 35, 0, 65); /* all zero */
		else if (c == 2)
			m[8 + 35] = 0x00; /* SEC1's identity byte, then garbage */
		else
			m[8 + 35] = 0x03; /* compressed prefix */
		CHECK_EQ(
		    tcpcrypt_auth_spake2p_start(vf_cred, SID, TCP_ENO_ROLE_B, &pb, ob, sizeof(ob)),
		    0);
		CHECK_EQ(tcpcrypt_auth_spake2p_next(pb, m, na, ob, sizeof(ob), &done),
			 -TCPCRYPT_AUTH_EPOINT);
		tcpcrypt_auth_spake2p_free(pb);
		pb = NULL;
	}
	/* X = w0*M exactly (x = 0), with the verifier's own w0 (the file's): Z is the identity */
	{
		unsigned char z[32] = {0}, xo[32], w0[32];

		unhex("933432e1650d635f5345ea1a239a91f56a7e4fea35913103d6857dd644e5aca3", w0);
		memcpy(m, oa, na);
		CHECK_EQ(tcpcrypt__spake2p_share(1, w0, z, xo, m + 8 + 35), 0);
		CHECK_EQ(
		    tcpcrypt_auth_spake2p_start(vf_cred, SID, TCP_ENO_ROLE_B, &pb, ob, sizeof(ob)),
		    0);
		CHECK_EQ(tcpcrypt_auth_spake2p_next(pb, m, na, ob, sizeof(ob), &done),
			 -TCPCRYPT_AUTH_EPOINT);
		/* and the prover: the verifier's Y = w0*N */
		CHECK_EQ(tcpcrypt_auth_spake2p_next(pb, oa, na, ob, sizeof(ob), &done),
			 SHARE_LEN + PROOF_LEN);
		memcpy(m, ob, SHARE_LEN);
		CHECK_EQ(tcpcrypt__spake2p_share(0, w0, z, xo, m + 8 + 35), 0);
		CHECK_EQ(tcpcrypt_auth_spake2p_next(pa, m, SHARE_LEN, oa, sizeof(oa), &done),
			 -TCPCRYPT_AUTH_EPOINT);
		memcpy(m + 8 + 35, k.Y, 65);
		m[8 + 35 + 64] ^= 1;
		CHECK_EQ(tcpcrypt_auth_spake2p_next(pa, m, SHARE_LEN, oa, sizeof(oa), &done),
			 -TCPCRYPT_AUTH_EPOINT);
		/* the genuine one still passes after all that */
		CHECK_EQ(tcpcrypt_auth_spake2p_next(pa, ob, SHARE_LEN, oa, sizeof(oa), &done), 0);
		CHECK_EQ(tcpcrypt_auth_spake2p_next(pa, ob + SHARE_LEN, PROOF_LEN, oa, sizeof(oa),
						    &done),
			 PROOF_LEN);
		CHECK(done);
	}
	tcpcrypt_auth_spake2p_free(pa);
	tcpcrypt_auth_spake2p_free(pb);
}

/* --- connection level, on a socketpair --- */

static void pair(const struct tcpcrypt_auth *ca, const struct tcpcrypt_auth *cb,
		 const unsigned char *sid_b, struct side *a, struct side *b)
{
	*a = (struct side){.a = ca, .send_after = "from A"};
	*b = (struct side){.a = cb, .send_after = "from B"};
	fake_pair(a, b, SID, sid_b ? sid_b : SID);
	fake_pair_close(a, b);
}

T(spake2p_fd)
{
	struct side a, b;
	struct tcpcrypt_auth *s2 = tcpcrypt_auth_password("pw", 2, NULL);

	creds();
	init_sids();
	/* success, and the application's bytes right after, both ways */
	pair(pw_cred, vf_cred, NULL, &a, &b);
	CHECK_EQ(a.r, 0);
	CHECK_EQ(b.r, 0);
	CHECK(!strcmp(a.got, "from B"));
	CHECK(!strcmp(b.got, "from A"));
	pair(vf_cred, pw_cred, NULL, &a, &b);
	CHECK(a.r == 0 && b.r == 0 && !strcmp(a.got, "from B") && !strcmp(b.got, "from A"));
	pair(pw_cred, pw_cred, NULL, &a, &b);
	CHECK(a.r == 0 && b.r == 0 && !strcmp(a.got, "from B"));
	/* wrong password: the prover sees it, the verifier hears it */
	pair(pw_other, vf_cred, NULL, &a, &b);
	CHECK_EQ(a.r, -TCPCRYPT_AUTH_EPASSWORD);
	CHECK_EQ(b.r, -TCPCRYPT_AUTH_EPEER);
	CHECK_EQ(b.peer_status, TCPCRYPT_AUTH_EPASSWORD);
	pair(vf_cred, pw_other, NULL, &a, &b);
	CHECK_EQ(a.r, -TCPCRYPT_AUTH_EPEER);
	CHECK_EQ(a.peer_status, TCPCRYPT_AUTH_EPASSWORD);
	CHECK_EQ(b.r, -TCPCRYPT_AUTH_EPASSWORD);
	/* two verifiers: B says so, A hears it */
	pair(vf_cred, vf_cred, NULL, &a, &b);
	CHECK_EQ(b.r, -TCPCRYPT_AUTH_EVERIFIER);
	CHECK_EQ(a.r, -TCPCRYPT_AUTH_EPEER);
	CHECK_EQ(a.peer_status, TCPCRYPT_AUTH_EVERIFIER);
	/* a relay: two session IDs */
	pair(pw_cred, vf_cred, SID2, &a, &b);
	CHECK_EQ(b.r, -TCPCRYPT_AUTH_ESESSID);
	CHECK_EQ(a.r, -TCPCRYPT_AUTH_EPEER);
	CHECK_EQ(a.peer_status, TCPCRYPT_AUTH_ESESSID);
	/* SPAKE2 against SPAKE2+, either way round */
	pair(s2, vf_cred, NULL, &a, &b);
	CHECK_EQ(b.r, -TCPCRYPT_AUTH_ESCHEME);
	CHECK(a.r < 0);
	pair(pw_cred, s2, NULL, &a, &b);
	CHECK_EQ(a.r, -TCPCRYPT_AUTH_ESCHEME);
	CHECK(b.r < 0);
	tcpcrypt_auth_free(s2);
	CHECK(!strcmp(tcpcrypt_auth_strerror(TCPCRYPT_AUTH_EVERIFIER),
		      "both ends hold a SPAKE2+ verifier: one of them needs the password"));
}

T(spake2p_zz_cleanup)
{
	char cmd[64];

	tcpcrypt_auth_free(pw_cred);
	tcpcrypt_auth_free(pw_other);
	tcpcrypt_auth_free(vf_cred);
	if (have_tmpdir) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
		CHECK_EQ(system(cmd), 0);
	}
}
