/* SPDX-License-Identifier: MIT */
/* AEAD algorithms (RFC 8548 §6, §7). */
#include "core/aead.h"
#include "core/err.h"
#include "core_util.h"
#include "t.h"

T(registry)
{
	CHECK_EQ(tc_aead_find(TC_AEAD_AES_128_GCM)->key_len, 16);
	CHECK_EQ(tc_aead_find(TC_AEAD_AES_256_GCM)->key_len, 32);
	CHECK_EQ(tc_aead_find(TC_AEAD_CHACHA20_POLY1305)->key_len, 32);
	for (size_t i = 0; i < tc_aead_default_pref_len; i++)
		CHECK_EQ(tc_aead_find(tc_aead_default_pref[i])->nonce_len, 12);
	CHECK(tc_aead_find(0x0000) == NULL);
	CHECK(tc_aead_find(0x0003) == NULL);
	CHECK_EQ(tc_aead_default_pref[0], TC_AEAD_AES_128_GCM);
}

/* A socket's preferred AEAD first, the rest in the default order, each once. */
T(pref_first)
{
	uint16_t out[8];

	CHECK_EQ(tc_aead_pref_first(0x0010, out), 3);
	CHECK_EQ(out[0], 0x0010);
	CHECK_EQ(out[1], 0x0001);
	CHECK_EQ(out[2], 0x0002);
	CHECK_EQ(tc_aead_pref_first(0x0002, out), 3);
	CHECK_EQ(out[0], 0x0002);
	CHECK_EQ(out[1], 0x0001);
	CHECK_EQ(out[2], 0x0010);
	/* none, or one we do not implement: the default order */
	CHECK_EQ(tc_aead_pref_first(0, out), 3);
	CHECK_EQ(out[0], 0x0001);
	CHECK_EQ(out[2], 0x0010);
	CHECK_EQ(tc_aead_pref_first(0x0003, out), 3);
	CHECK_EQ(out[0], 0x0001);
	CHECK_EQ(out[1], 0x0002);
}

/* Known answers: GCM spec test cases 2 and 14, RFC 8439 §2.8.2. */
T(known_answers)
{
	static const struct {
		uint16_t id;
		const char *key, *nonce, *ad, *pt, *ct_tag;
	} kat[] = {
	    {TC_AEAD_AES_128_GCM, "00000000000000000000000000000000", "000000000000000000000000",
	     "", "00000000000000000000000000000000",
	     "0388dace60b6a392f328c2b971b2fe78 ab6e47d42cec13bdf53a67b21257bddf"},
	    {TC_AEAD_AES_256_GCM,
	     "0000000000000000000000000000000000000000000000000000000000000000",
	     "000000000000000000000000", "", "00000000000000000000000000000000",
	     "cea7403d4d606b6e074ec5d3baf39d18 d0d1c8a799996bf0265b98b5d48ab919"},
	    {TC_AEAD_CHACHA20_POLY1305,
	     "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f",
	     "070000004041424344454647", "50515253c0c1c2c3c4c5c6c7",
	     "4c616469657320616e642047656e746c656d656e206f662074686520636c6173"
	     "73206f66202739393a204966204920636f756c64206f6666657220796f75206f"
	     "6e6c79206f6e652074697020666f7220746865206675747572652c2073756e73"
	     "637265656e20776f756c642062652069742e",
	     "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6"
	     "3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36"
	     "92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc"
	     "3ff4def08e4b7a9de576d26586cec64b6116"
	     "1ae10b594f09e26a7e902ecbd0600691"},
	};

	for (size_t i = 0; i < sizeof(kat) / sizeof(kat[0]); i++) {
		struct tc_aead s = {0}, o = {0};
		uint8_t key[32], nonce[12], ad[16], pt[128], want[160], out[160], back[128];
		size_t pl = unhex(kat[i].pt, pt, sizeof(pt)), al = unhex(kat[i].ad, ad, sizeof(ad));
		size_t cl = unhex(kat[i].ct_tag, want, sizeof(want));

		unhex(kat[i].key, key, sizeof(key));
		unhex(kat[i].nonce, nonce, sizeof(nonce));
		CHECK_EQ(cl, pl + TC_AEAD_TAG_LEN);
		CHECK_EQ(tc_aead_init(&s, tc_aead_find(kat[i].id), key, true), TC_OK);
		CHECK_EQ(tc_aead_init(&o, tc_aead_find(kat[i].id), key, false), TC_OK);
		CHECK_EQ(tc_aead_seal(&s, nonce, ad, al, pt, pl, out), TC_OK);
		CHECK_MEM(out, want, cl);
		CHECK_EQ(tc_aead_open(&o, nonce, ad, al, want, cl, back), TC_OK);
		CHECK_MEM(back, pt, pl);
		tc_aead_free(&s);
		tc_aead_free(&o);
	}
}

/* Every single-byte change of ciphertext, tag, AD or nonce fails; the output is wiped. */
T(tamper_detected_every_aead)
{
	uint32_t seed = 99;

	for (size_t a = 0; a < tc_aead_default_pref_len; a++) {
		const struct tc_aead_alg *alg = tc_aead_find(tc_aead_default_pref[a]);
		struct tc_aead s = {0}, o = {0};
		uint8_t key[32], nonce[12], ad[3], pt[100], ct[116], bad[116], out[100];

		test_fill(key, 32, &seed);
		test_fill(nonce, 12, &seed);
		test_fill(ad, 3, &seed);
		test_fill(pt, 100, &seed);
		CHECK_EQ(tc_aead_init(&s, alg, key, true), TC_OK);
		CHECK_EQ(tc_aead_init(&o, alg, key, false), TC_OK);
		CHECK_EQ(tc_aead_seal(&s, nonce, ad, 3, pt, 100, ct), TC_OK);
		CHECK_EQ(tc_aead_open(&o, nonce, ad, 3, ct, 116, out), TC_OK);
		CHECK_MEM(out, pt, 100);
		for (size_t i = 0; i < sizeof(ct); i++) {
			memcpy(bad, ct, sizeof(ct));
			bad[i] ^= 1 << (i % 8);
			memset(out, 0x5a, sizeof(out));
			CHECK_EQ(tc_aead_open(&o, nonce, ad, 3, bad, 116, out), TC_E_AUTH);
			CHECK(out[0] == 0 && out[99] == 0);
		}
		for (size_t i = 0; i < 3; i++) {
			ad[i] ^= 0x80;
			CHECK_EQ(tc_aead_open(&o, nonce, ad, 3, ct, 116, out), TC_E_AUTH);
			ad[i] ^= 0x80;
		}
		for (size_t i = 0; i < 12; i++) {
			nonce[i] ^= 0x04;
			CHECK_EQ(tc_aead_open(&o, nonce, ad, 3, ct, 116, out), TC_E_AUTH);
			nonce[i] ^= 0x04;
		}
		CHECK_EQ(tc_aead_open(&o, nonce, ad, 3, ct, 115, out), TC_E_AUTH);
		CHECK_EQ(tc_aead_open(&o, nonce, ad, 3, ct, 15, out), TC_E_MALFORMED);
		/* Still good after all those failures. */
		CHECK_EQ(tc_aead_open(&o, nonce, ad, 3, ct, 116, out), TC_OK);
		/* A context seals or opens, not both. */
		CHECK_EQ(tc_aead_open(&s, nonce, ad, 3, ct, 116, out), TC_E_INVAL);
		CHECK_EQ(tc_aead_seal(&o, nonce, ad, 3, pt, 100, ct), TC_E_INVAL);
		tc_aead_free(&s);
		tc_aead_free(&o);
	}
}

/* In place, empty messages, and rekeying a live context (what frames do). */
T(in_place_empty_and_rekey)
{
	for (size_t a = 0; a < tc_aead_default_pref_len; a++) {
		const struct tc_aead_alg *alg = tc_aead_find(tc_aead_default_pref[a]);
		struct tc_aead s = {0}, o = {0};
		uint8_t k1[32] = {1}, k2[32] = {2}, nonce[12] = {3}, buf[64 + 16], tag[16];

		CHECK_EQ(tc_aead_init(&s, alg, k1, true), TC_OK);
		CHECK_EQ(tc_aead_init(&o, alg, k1, false), TC_OK);
		memset(buf, 0x33, 64);
		CHECK_EQ(tc_aead_seal(&s, nonce, NULL, 0, buf, 64, buf), TC_OK);
		CHECK_EQ(tc_aead_open(&o, nonce, NULL, 0, buf, 80, buf), TC_OK);
		CHECK_EQ(buf[0], 0x33);
		CHECK_EQ(buf[63], 0x33);
		CHECK_EQ(tc_aead_seal(&s, nonce, NULL, 0, NULL, 0, tag), TC_OK);
		CHECK_EQ(tc_aead_open(&o, nonce, NULL, 0, tag, 16, NULL), TC_OK);
		CHECK_EQ(tc_aead_init(&s, alg, k2, true), TC_OK); /* new key, same context */
		CHECK_EQ(tc_aead_seal(&s, nonce, NULL, 0, buf, 64, buf), TC_OK);
		CHECK_EQ(tc_aead_open(&o, nonce, NULL, 0, buf, 80, buf), TC_E_AUTH);
		CHECK_EQ(tc_aead_init(&o, alg, k2, false), TC_OK);
		CHECK_EQ(tc_aead_seal(&s, nonce, NULL, 0, buf, 64, buf), TC_OK);
		CHECK_EQ(tc_aead_open(&o, nonce, NULL, 0, buf, 80, buf), TC_OK);
		tc_aead_free(&s);
		tc_aead_free(&o);
		tc_aead_free(&o); /* idempotent */
	}
}

/*
 * tc_aead_seal2 (a frame's flags byte in place, its data from the caller's
 * buffer) gives what tc_aead_seal gives for the two pieces back to back,
 * for every split, and fails the same way on a context that opens.
 */
T(seal2_equals_seal)
{
	uint32_t seed = 0x5ea12;

	for (size_t a = 0; a < tc_aead_default_pref_len; a++) {
		const struct tc_aead_alg *alg = tc_aead_find(tc_aead_default_pref[a]);
		struct tc_aead s = {0}, o = {0};
		uint8_t key[32], nonce[12], ad[3], pt[300], one[316], two[316];

		test_fill(key, 32, &seed);
		test_fill(ad, 3, &seed);
		test_fill(pt, sizeof(pt), &seed);
		CHECK_EQ(tc_aead_init(&s, alg, key, true), TC_OK);
		CHECK_EQ(tc_aead_init(&o, alg, key, false), TC_OK);
		for (size_t len = 0; len <= sizeof(pt); len += 37) {
			for (size_t cut = 0; cut <= len; cut += 1 + len / 5) {
				test_fill(nonce, 12, &seed);
				CHECK_EQ(tc_aead_seal(&s, nonce, ad, 3, pt, len, one), TC_OK);
				memcpy(two, pt,
				       cut); /* the first piece in place, as frames have it */
				CHECK_EQ(tc_aead_seal2(&s, nonce, ad, 3, two, cut, pt + cut,
						       len - cut, two),
					 TC_OK);
				CHECK_MEM(two, one, len + 16);
			}
		}
		CHECK_EQ(tc_aead_seal2(&o, nonce, ad, 3, pt, 1, pt + 1, 1, two), TC_E_INVAL);
		tc_aead_free(&s);
		tc_aead_free(&o);
	}
}
