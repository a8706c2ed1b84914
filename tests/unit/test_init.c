/* SPDX-License-Identifier: MIT */
/* Init1/Init2 codec and the handshake built on it (RFC 8548 §3.3, §4.1). */
#include "core/aead.h"
#include "core/err.h"
#include "core/handshake.h"
#include "core/init.h"
#include "core_util.h"
#include "t.h"

static const uint8_t all_teps[] = {TC_TEP_P256, TC_TEP_P521, TC_TEP_X25519, TC_TEP_X448};
static const uint16_t aes128[] = {TC_AEAD_AES_128_GCM};

/* A valid Init1 (ciphers as given) for tep, with a real public key. */
static int make_init1(const struct tc_tep *tep, const uint16_t *ciphers, int n, uint8_t *out,
		      size_t cap, struct tc_init1 *m)
{
	struct tc_tep_key k;
	int len;

	memset(m, 0, sizeof(*m));
	m->nciphers = n;
	memcpy(m->ciphers, ciphers, n * sizeof(*ciphers));
	memset(m->nonce, 0xaa, TC_NONCE_LEN);
	if (tc_tep_keygen(tep, &k))
		return -1;
	m->pub_len = tc_tep_pub_encode(&k, m->pub, sizeof(m->pub));
	tc_tep_key_free(&k);
	len = tc_init1_encode(m, out, cap);
	m->message_len = len;
	return len;
}

static int make_init2(const struct tc_tep *tep, uint8_t *out, size_t cap, struct tc_init2 *m)
{
	struct tc_tep_key k;

	memset(m, 0, sizeof(*m));
	m->cipher = TC_AEAD_AES_128_GCM;
	memset(m->nonce, 0xbb, TC_NONCE_LEN);
	if (tc_tep_keygen(tep, &k))
		return -1;
	m->pub_len = tc_tep_pub_encode(&k, m->pub, sizeof(m->pub));
	tc_tep_key_free(&k);
	return tc_init2_encode(m, out, cap);
}

T(roundtrip_every_tep)
{
	static const uint16_t three[] = {0x0010, 0x0002, 0x0001};

	for (size_t t = 0; t < sizeof(all_teps); t++) {
		const struct tc_tep *tep = tc_tep_find(all_teps[t]);
		struct tc_init1 m1, d1;
		struct tc_init2 m2, d2;
		uint8_t b1[TC_INIT_OWN_MAX], b2[TC_INIT_OWN_MAX];
		int n1 = make_init1(tep, three, 3, b1, sizeof(b1), &m1);
		int n2 = make_init2(tep, b2, sizeof(b2), &m2);

		CHECK_EQ(n1, 9 + 6 + 32 + tep->pub_len);
		CHECK_EQ(n2, 10 + 32 + tep->pub_len);
		CHECK_EQ(tc_init1_decode(tep, b1, n1, &d1, NULL), n1);
		CHECK_EQ(tc_init2_decode(tep, b2, n2, &d2, NULL), n2);
		CHECK_EQ(d1.nciphers, 3);
		CHECK_MEM(d1.ciphers, three, sizeof(three));
		CHECK_MEM(d1.nonce, m1.nonce, 32);
		CHECK_EQ(d1.pub_len, tep->pub_len);
		CHECK_MEM(d1.pub, m1.pub, tep->pub_len);
		CHECK_EQ(d2.cipher, TC_AEAD_AES_128_GCM);
		CHECK_MEM(d2.nonce, m2.nonce, 32);
		CHECK_MEM(d2.pub, m2.pub, tep->pub_len);
		/* Message_len, magics, ids big-endian (docs/rfc-notes.md#gaps-and-our-readings). */
		CHECK_EQ(b1[0], 0x15);
		CHECK_EQ(b1[3], 0x0e);
		CHECK_EQ(b1[7], n1);
		CHECK_EQ(b1[10], 0x10);
		CHECK_EQ(b2[0], 0x09);
		CHECK_EQ(b2[9], 0x01);
	}
}

T(encode_limits)
{
	struct tc_init1 m = {0};
	uint8_t out[TC_INIT_OWN_MAX];

	m.pub_len = 32;
	CHECK_EQ(tc_init1_encode(&m, out, sizeof(out)), TC_E_INVAL); /* nciphers 0 */
	m.nciphers = 255;
	CHECK_EQ(tc_init1_encode(&m, out, sizeof(out)), 9 + 510 + 64);
	CHECK_EQ(tc_init1_encode(&m, out, 9 + 510 + 63), TC_E_NOSPACE);
	m.pub_len = TC_TEP_PUB_MAX + 1;
	CHECK_EQ(tc_init1_encode(&m, out, sizeof(out)), TC_E_INVAL);
}

/* Every prefix is NEED_MORE with a target beyond it; the first complete one decodes. */
T(incremental_every_prefix)
{
	for (size_t t = 0; t < sizeof(all_teps); t++) {
		const struct tc_tep *tep = tc_tep_find(all_teps[t]);
		struct tc_init1 m, d;
		struct tc_init2 m2, d2;
		uint8_t b[TC_INIT_OWN_MAX + 10], b2[TC_INIT_OWN_MAX + 10];
		int n = make_init1(tep, aes128, 1, b, sizeof(b), &m);
		int n2 = make_init2(tep, b2, sizeof(b2), &m2);
		size_t need;

		memset(b + n, 0x77, 10); /* the first frame bytes already behind it */
		memset(b2 + n2, 0x77, 10);
		for (int len = 0; len < n; len++) {
			need = 0;
			CHECK_EQ(tc_init1_decode(tep, b, len, &d, &need), TC_E_NEED_MORE);
			CHECK(need > (size_t)len);
			if (len >= 9)
				CHECK_EQ(need, n);
		}
		for (int len = 0; len < n2; len++) {
			need = 0;
			CHECK_EQ(tc_init2_decode(tep, b2, len, &d2, &need), TC_E_NEED_MORE);
			CHECK(need > (size_t)len && need <= (size_t)n2);
		}
		for (int len = n; len <= n + 10; len++)
			CHECK_EQ(tc_init1_decode(tep, b, len, &d, NULL), n);
		for (int len = n2; len <= n2 + 10; len++)
			CHECK_EQ(tc_init2_decode(tep, b2, len, &d2, NULL), n2);
	}
}

T(ignored_bytes_accepted)
{
	const struct tc_tep *tep = tc_tep_find(TC_TEP_X25519);
	struct tc_init1 m, d;
	uint8_t b[200];
	int n = make_init1(tep, aes128, 1, b, sizeof(b), &m);

	memset(b + n, 0x42, 20);
	b[7] = n + 20; /* message_len covers 20 ignored bytes (§4.1) */
	CHECK_EQ(tc_init1_decode(tep, b, n + 19, &d, NULL), TC_E_NEED_MORE);
	CHECK_EQ(tc_init1_decode(tep, b, n + 20, &d, NULL), n + 20);
	CHECK_EQ(d.message_len, n + 20);
	CHECK_MEM(d.pub, m.pub, 32);
}

T(malformed_inputs)
{
	const struct tc_tep *x25519 = tc_tep_find(TC_TEP_X25519);
	const struct tc_tep *p256 = tc_tep_find(TC_TEP_P256);
	struct tc_init1 m, d;
	struct tc_init2 m2, d2;
	uint8_t b[TC_INIT_OWN_MAX], c[TC_INIT_OWN_MAX];
	int n = make_init1(x25519, aes128, 1, b, sizeof(b), &m);
	int n2;

	/* Wrong magic is seen from its first byte on. */
	for (int i = 0; i < 4; i++) {
		memcpy(c, b, n);
		c[i] ^= 0x01;
		CHECK_EQ(tc_init1_decode(x25519, c, i + 1, &d, NULL), TC_E_MALFORMED);
		CHECK_EQ(tc_init1_decode(x25519, c, n, &d, NULL), TC_E_MALFORMED);
	}
	/* An Init2 where an Init1 belongs. */
	n2 = make_init2(x25519, c, sizeof(c), &m2);
	CHECK_EQ(tc_init1_decode(x25519, c, n2, &d, NULL), TC_E_MALFORMED);
	CHECK_EQ(tc_init2_decode(x25519, b, n, &d2, NULL), TC_E_MALFORMED);
	/* message_len smaller than the mandatory fields. */
	memcpy(c, b, n);
	for (int len = 0; len < n; len++) {
		c[6] = len >> 8, c[7] = len & 0xff;
		CHECK_EQ(tc_init1_decode(x25519, c, n, &d, NULL), TC_E_TRUNCATED);
	}
	/* message_len beyond our 64 KiB cap, also when only the head has arrived. */
	c[4] = 0, c[5] = 1, c[6] = 0, c[7] = 1; /* 65537 */
	CHECK_EQ(tc_init1_decode(x25519, c, 8, &d, NULL), TC_E_TOO_LONG);
	c[4] = 0x80, c[5] = 0;
	CHECK_EQ(tc_init1_decode(x25519, c, n, &d, NULL), TC_E_TOO_LONG);
	c[4] = 0, c[5] = 1, c[6] = 0, c[7] = 0; /* exactly the cap: wait for it */
	CHECK_EQ(tc_init1_decode(x25519, c, n, &d, NULL), TC_E_NEED_MORE);
	/* nciphers = 0 */
	memcpy(c, b, n);
	c[8] = 0;
	CHECK_EQ(tc_init1_decode(x25519, c, 9, &d, NULL), TC_E_MALFORMED);
	/* More ciphers than message_len leaves room for. */
	c[8] = 2;
	CHECK_EQ(tc_init1_decode(x25519, c, n, &d, NULL), TC_E_TRUNCATED);
	/* Init2 with message_len short by one. */
	n2 = make_init2(x25519, c, sizeof(c), &m2);
	c[7] -= 1;
	CHECK_EQ(tc_init2_decode(x25519, c, n2, &d2, NULL), TC_E_TRUNCATED);
	/* P-256 pubkey_len other than 33. */
	n = make_init1(p256, aes128, 1, b, sizeof(b), &m);
	CHECK_EQ(n, 9 + 2 + 32 + 35);
	for (int v = 0; v < 70; v += 1) {
		memcpy(c, b, n);
		c[43] = 0, c[44] = v;
		CHECK_EQ(tc_init1_decode(p256, c, n - 10, &d, NULL),
			 v == 33 ? TC_E_NEED_MORE : TC_E_MALFORMED);
	}
}

T(cipher_choice)
{
	struct tc_init1 m = {.nciphers = 3, .ciphers = {0x0010, 0x7777, 0x0001}};
	struct tc_init2 m2 = {0};
	const uint16_t pref_b[] = {0x0002, 0x0001, 0x0010};
	uint16_t c = 0;

	CHECK_EQ(tc_init_choose_cipher(pref_b, 3, &m, &c), TC_OK);
	CHECK_EQ(c, 0x0001); /* B's preference order decides (§3.3) */
	CHECK_EQ(tc_init_choose_cipher(tc_aead_default_pref, tc_aead_default_pref_len, &m, &c),
		 TC_OK);
	CHECK_EQ(c, 0x0001);
	CHECK_EQ(tc_init_choose_cipher(pref_b, 1, &m, &c), TC_E_BAD_CIPHER);
	/* B would never pick an id it does not implement, even if listed first. */
	{
		const uint16_t odd[] = {0x7777, 0x0010};

		CHECK_EQ(tc_init_choose_cipher(odd, 2, &m, &c), TC_OK);
		CHECK_EQ(c, 0x0010);
	}
	m2.cipher = 0x0010;
	CHECK_EQ(tc_init2_check_cipher(&m, &m2), TC_OK);
	m2.cipher = 0x0002; /* not offered */
	CHECK_EQ(tc_init2_check_cipher(&m, &m2), TC_E_BAD_CIPHER);
	m2.cipher = 0x7777; /* offered but unknown */
	CHECK_EQ(tc_init2_check_cipher(&m, &m2), TC_E_BAD_CIPHER);
	CHECK(tc_err_is_abort(TC_E_BAD_CIPHER));
}

static const uint8_t transcript[] = {0x45, 0x03, 0x23, 0x45, 0x04, 0x01, 0x23};

T(handshake_every_tep_and_aead)
{
	for (size_t t = 0; t < sizeof(all_teps); t++) {
		for (size_t c = 0; c < tc_aead_default_pref_len; c++) {
			const struct tc_tep *tep = tc_tep_find(all_teps[t]);
			struct tc_hs a, b;
			struct tc_hs_result ra, rb;

			CHECK_EQ(tc_hs_init1(&a, tep, tc_aead_default_pref, 3), TC_OK);
			CHECK_EQ(tc_hs_respond_b(&b, tep, &tc_aead_default_pref[c], 1, transcript,
						 sizeof(transcript), a.msg, a.msg_len, &rb),
				 TC_OK);
			CHECK_EQ(tc_hs_finish_a(&a, transcript, sizeof(transcript), b.msg,
						b.msg_len, &ra),
				 TC_OK);
			CHECK(ra.aead == rb.aead && ra.aead->id == tc_aead_default_pref[c]);
			CHECK_MEM(&ra.keys, &rb.keys, sizeof(ra.keys));
			CHECK_EQ(ra.keys.session_id[0], tep->id);
			tc_hs_free(&a);
			tc_hs_free(&b);
		}
	}
}

/* Host A meets an Init2 naming an AEAD it never offered: abort (§3.3). */
T(handshake_bad_cipher)
{
	const struct tc_tep *tep = tc_tep_find(TC_TEP_X25519);
	const uint16_t chacha[] = {TC_AEAD_CHACHA20_POLY1305};
	struct tc_hs a, b;
	struct tc_hs_result ra, rb;

	CHECK_EQ(tc_hs_init1(&a, tep, aes128, 1), TC_OK);
	CHECK_EQ(tc_hs_respond_b(&b, tep, chacha, 1, transcript, sizeof(transcript), a.msg,
				 a.msg_len, &rb),
		 TC_E_BAD_CIPHER);
	tc_hs_free(&b);
	CHECK_EQ(tc_hs_respond_b(&b, tep, aes128, 1, transcript, sizeof(transcript), a.msg,
				 a.msg_len, &rb),
		 TC_OK);
	b.msg[9] = 0x10; /* sym_cipher := ChaCha20-Poly1305 */
	CHECK_EQ(tc_hs_finish_a(&a, transcript, sizeof(transcript), b.msg, b.msg_len, &ra),
		 TC_E_BAD_CIPHER);
	tc_hs_free(&a);
	tc_hs_free(&b);
}

/*
 * A flipped bit anywhere in Init1, Init2 or the transcript either makes a
 * decoder refuse the message or leaves the two hosts with different keys
 * (the message is bound into the PRK, §3.3).
 */
T(any_flipped_byte_is_detected)
{
	for (size_t t = 0; t < sizeof(all_teps); t++) {
		const struct tc_tep *tep = tc_tep_find(all_teps[t]);
		struct tc_hs a, b, a2, b2;
		struct tc_hs_result ra, rb, r2;
		uint8_t m[TC_INIT_OWN_MAX], tr[sizeof(transcript)];
		int fails = 0, differ = 0;

		/* X25519 flips every byte; the slower curves a sample. */
		size_t step = tep->id == TC_TEP_X25519 ? 1 : 7;

		CHECK_EQ(tc_hs_init1(&a, tep, aes128, 1), TC_OK);
		CHECK_EQ(tc_hs_respond_b(&b, tep, aes128, 1, transcript, sizeof(transcript), a.msg,
					 a.msg_len, &rb),
			 TC_OK);
		CHECK_EQ(tc_hs_finish_a(&a, transcript, sizeof(transcript), b.msg, b.msg_len, &ra),
			 TC_OK);
		for (size_t i = 0; i < a.msg_len; i += step) {
			memcpy(m, a.msg, a.msg_len);
			m[i] ^= 0x01;
			if (tc_hs_respond_b(&b2, tep, aes128, 1, transcript, sizeof(transcript), m,
					    a.msg_len, &r2))
				fails++;
			else
				differ += memcmp(&r2.keys, &ra.keys, sizeof(r2.keys)) != 0;
			tc_hs_free(&b2);
		}
		CHECK_EQ(fails + differ, (a.msg_len + step - 1) / step);
		fails = differ = 0;
		for (size_t i = 0; i < b.msg_len; i += step) {
			memcpy(m, b.msg, b.msg_len);
			m[i] ^= 0x01;
			a2 = a; /* shares a's key; only a is freed */
			if (tc_hs_finish_a(&a2, transcript, sizeof(transcript), m, b.msg_len, &r2))
				fails++;
			else
				differ += memcmp(&r2.keys, &rb.keys, sizeof(r2.keys)) != 0;
		}
		CHECK_EQ(fails + differ, (b.msg_len + step - 1) / step);
		for (size_t i = 0; i < sizeof(tr); i++) {
			memcpy(tr, transcript, sizeof(tr));
			tr[i] ^= 0x01;
			a2 = a;
			CHECK_EQ(tc_hs_finish_a(&a2, tr, sizeof(tr), b.msg, b.msg_len, &r2), TC_OK);
			CHECK(memcmp(r2.keys.session_id, rb.keys.session_id, 33) != 0);
		}
		tc_hs_free(&a);
		tc_hs_free(&b);
	}
}
