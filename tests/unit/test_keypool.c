/* SPDX-License-Identifier: MIT */
/* Key pairs made ahead of time (agent/keypool.c) and the core's key source hook. */
#include <errno.h>
#include <string.h>
#include <time.h>
#include <openssl/evp.h>
#include "core/err.h"
#include "core/handshake.h"
#include "core/tep.h"
#include "t.h"
/* the pool is agent code, not in libtccore: built into this test directly */
#include "keypool.c"

/* Wait (bounded) until the pool holds want key pairs of id. */
static unsigned wait_held(struct keypool *kp, uint8_t id, unsigned want)
{
	struct timespec ts = {0, 2 * 1000 * 1000};

	for (int i = 0; i < 2500 && keypool_held(kp, id) < want; i++)
		nanosleep(&ts, NULL);
	return keypool_held(kp, id);
}

static void es_of(struct tc_tep_key *own, struct tc_tep_key *peer, uint8_t *es)
{
	uint8_t pub[TC_TEP_PUB_MAX];
	int n = tc_tep_pub_encode(peer, pub, sizeof(pub));

	CHECK_EQ(n, peer->tep->pub_len);
	CHECK_EQ(tc_tep_derive(own, pub, n, es), TC_OK);
}

T(bad_depth_refused)
{
	errno = 0;
	CHECK(keypool_new(0, NULL, 0) == NULL);
	CHECK_EQ(errno, EINVAL);
	CHECK(keypool_new(KEYPOOL_DEPTH_MAX + 1, NULL, 0) == NULL);
	keypool_free(NULL);
	CHECK(keypool_src(NULL) == NULL);
}

T(prefilled_pool_serves_distinct_working_keys)
{
	const uint8_t x = TC_TEP_X25519;
	const struct tc_tep *tep = tc_tep_find(x);
	struct keypool *kp = keypool_new(4, &x, 1);
	struct tc_tep_key a = {0}, b = {0};
	uint8_t pa[TC_TEP_PUB_MAX], pb[TC_TEP_PUB_MAX], ea[TC_TEP_ES_MAX], eb[TC_TEP_ES_MAX];
	uint64_t hits, misses;

	CHECK(kp != NULL);
	CHECK_EQ(wait_held(kp, x, 4), 4);
	CHECK_EQ(keypool_held(kp, TC_TEP_P256), 0); /* never asked for */
	CHECK_EQ(keypool_src(kp)->take(keypool_src(kp)->ctx, tep, &a), TC_OK);
	CHECK_EQ(keypool_src(kp)->take(keypool_src(kp)->ctx, tep, &b), TC_OK);
	CHECK(a.pkey && b.pkey && a.pkey != b.pkey && a.tep == tep && b.tep == tep);
	CHECK_EQ(tc_tep_pub_encode(&a, pa, sizeof(pa)), 32);
	CHECK_EQ(tc_tep_pub_encode(&b, pb, sizeof(pb)), 32);
	CHECK(memcmp(pa, pb, 32) != 0);
	es_of(&a, &b, ea);
	es_of(&b, &a, eb);
	CHECK_MEM(ea, eb, 32);
	keypool_counts(kp, &hits, &misses);
	CHECK_EQ(hits, 2);
	CHECK_EQ(misses, 0);
	/* taken ones are replaced */
	CHECK_EQ(wait_held(kp, x, 4), 4);
	tc_tep_key_free(&a);
	tc_tep_key_free(&b);
	keypool_free(kp);
}

T(a_tep_asked_for_is_kept_from_then_on)
{
	const struct tc_tep *p256 = tc_tep_find(TC_TEP_P256);
	struct keypool *kp = keypool_new(2, NULL, 0);
	struct tc_tep_key k = {0};
	uint64_t hits, misses;

	CHECK(kp != NULL);
	CHECK(keypool_src(kp)->take(keypool_src(kp)->ctx, p256, &k) != TC_OK);
	CHECK(k.pkey == NULL);
	CHECK_EQ(wait_held(kp, TC_TEP_P256, 2), 2);
	CHECK_EQ(keypool_src(kp)->take(keypool_src(kp)->ctx, p256, &k), TC_OK);
	CHECK(k.pkey != NULL);
	keypool_counts(kp, &hits, &misses);
	CHECK_EQ(hits, 1);
	CHECK_EQ(misses, 1);
	CHECK_EQ(keypool_src(kp)->take(keypool_src(kp)->ctx, NULL, &k), TC_E_UNSUPPORTED);
	tc_tep_key_free(&k);
	keypool_free(kp); /* frees the key pairs it still holds (ASan: no leak) */
}

/* A key source that fails, or hands out a key of another TEP. */
static int src_fail(void *ctx, const struct tc_tep *tep, struct tc_tep_key *key)
{
	(void)ctx, (void)tep, (void)key;
	return TC_E_STATE;
}

static int src_wrong(void *ctx, const struct tc_tep *tep, struct tc_tep_key *key)
{
	(void)tep;
	return tc_tep_keygen(ctx, key);
}

T(key_take_falls_back_and_never_uses_a_wrong_key)
{
	const struct tc_tep *x = tc_tep_find(TC_TEP_X25519);
	const struct tc_keysrc fail = {src_fail, NULL};
	const struct tc_keysrc wrong = {src_wrong, (void *)tc_tep_find(TC_TEP_P256)};
	struct tc_tep_key k = {0};

	CHECK_EQ(tc_tep_key_take(NULL, x, &k), TC_OK);
	CHECK(k.tep == x && k.pkey);
	tc_tep_key_free(&k);
	CHECK_EQ(tc_tep_key_take(&fail, x, &k), TC_OK);
	CHECK(k.tep == x && k.pkey);
	tc_tep_key_free(&k);
	CHECK_EQ(tc_tep_key_take(&wrong, x, &k), TC_OK);
	CHECK(k.tep == x && k.pkey);
	tc_tep_key_free(&k);
}

T(handshake_with_a_pooled_key_completes)
{
	const uint8_t x = TC_TEP_X25519;
	const struct tc_tep *tep = tc_tep_find(x);
	static const uint16_t aeads[] = {0x0001};
	static const uint8_t transcript[] = {0x45, 0x03, 0x23};
	struct keypool *kp = keypool_new(2, &x, 1);
	struct tc_hs a, b;
	struct tc_hs_result ra, rb;

	CHECK_EQ(wait_held(kp, x, 2), 2);
	CHECK_EQ(tc_hs_init1_from(&a, keypool_src(kp), tep, aeads, 1), TC_OK);
	CHECK_EQ(tc_hs_respond_b_from(&b, keypool_src(kp), tep, aeads, 1, transcript,
				      sizeof(transcript), a.msg, a.msg_len, &rb),
		 TC_OK);
	CHECK_EQ(tc_hs_finish_a(&a, transcript, sizeof(transcript), b.msg, b.msg_len, &ra), TC_OK);
	CHECK_MEM(ra.keys.session_id, rb.keys.session_id, sizeof(ra.keys.session_id));
	{
		uint64_t hits, misses;

		keypool_counts(kp, &hits, &misses);
		CHECK_EQ(hits, 2);
	}
	tc_hs_free(&a);
	tc_hs_free(&b);
	keypool_free(kp);
}

T(reuse_off_by_default_and_bounded)
{
	const uint8_t x = TC_TEP_X25519;
	const struct tc_tep *tep = tc_tep_find(x);
	struct keypool *kp = keypool_new(2, &x, 1);
	const struct tc_keysrc *b = keypool_src_b(kp);
	struct tc_tep_key k1 = {0}, k2 = {0};

	CHECK_EQ(keypool_set_reuse(kp, KEYPOOL_REUSE_MAX_MS + 1), -EINVAL);
	CHECK_EQ(keypool_set_reuse(NULL, 10), -EINVAL);
	CHECK_EQ(wait_held(kp, x, 2), 2);
	/* no lifetime set: host B too gets a fresh key pair each time */
	CHECK_EQ(b->take(b->ctx, tep, &k1), TC_OK);
	CHECK_EQ(b->take(b->ctx, tep, &k2), TC_OK);
	CHECK(k1.pkey != k2.pkey);
	CHECK(EVP_PKEY_eq(k1.pkey, k2.pkey) != 1);
	CHECK_EQ(keypool_reused(kp), 0);
	tc_tep_key_free(&k1);
	tc_tep_key_free(&k2);
	keypool_free(kp);
}

T(reuse_within_the_lifetime_then_a_new_key)
{
	const uint8_t x = TC_TEP_X25519;
	const struct tc_tep *tep = tc_tep_find(x);
	struct keypool *kp = keypool_new(4, &x, 1);
	const struct tc_keysrc *b = keypool_src_b(kp);
	struct tc_tep_key k[3] = {0};
	struct timespec pause = {0, 60 * 1000 * 1000};

	CHECK_EQ(keypool_set_reuse(kp, 50), 0);
	CHECK_EQ(b->take(b->ctx, tep, &k[0]), TC_OK);
	CHECK_EQ(b->take(b->ctx, tep, &k[1]), TC_OK);
	/* the same key pair, each connection holding its own reference */
	CHECK(k[0].pkey == k[1].pkey);
	CHECK_EQ(keypool_reused(kp), 1);
	tc_tep_key_free(&k[0]);
	nanosleep(&pause, NULL); /* past the 50 ms lifetime */
	CHECK_EQ(b->take(b->ctx, tep, &k[2]), TC_OK);
	CHECK(k[2].pkey != k[1].pkey);
	CHECK(EVP_PKEY_eq(k[2].pkey, k[1].pkey) != 1);
	CHECK_EQ(keypool_reused(kp), 1);
	/* host A's source never reuses */
	{
		struct tc_tep_key a = {0};

		CHECK_EQ(keypool_src(kp)->take(keypool_src(kp)->ctx, tep, &a), TC_OK);
		CHECK(a.pkey != k[2].pkey);
		tc_tep_key_free(&a);
	}
	tc_tep_key_free(&k[1]); /* still usable after the pool replaced it */
	tc_tep_key_free(&k[2]);
	keypool_free(kp); /* drops the pool's own reference (ASan: no leak) */
}
