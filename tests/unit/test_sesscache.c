/* SPDX-License-Identifier: MIT */
/* Session cache (RFC 8548 §3.5): offers, answers, policies, eviction, wiping. */
#include "t.h"
#include "core/aead.h"
#include "core/err.h"
#include "core/kdf.h"
#include "core/sesscache.h"
#include "core/tep.h"

#define TEP TC_TEP_X25519

/* Deterministic nonces so failures reproduce; fail_after < 0 never fails. */
struct trand {
	uint64_t s;
	int fail_after;
};

static int trand_fn(void *ctx, uint8_t *buf, size_t len)
{
	struct trand *r = ctx;

	if (r->fail_after == 0)
		return TC_E_RNG;
	if (r->fail_after > 0)
		r->fail_after--;
	for (size_t i = 0; i < len; i++) {
		r->s ^= r->s << 13;
		r->s ^= r->s >> 7;
		r->s ^= r->s << 17;
		buf[i] = (uint8_t)r->s;
	}
	return TC_OK;
}

static struct trand rng = {0x9e3779b97f4a7c15ull, -1};

static struct tc_sesscache *cache(size_t capacity, size_t nonce_len)
{
	struct tc_sc_config cfg = {capacity, nonce_len, trand_fn, &rng};
	struct tc_sesscache *sc = NULL;

	CHECK_EQ(tc_sc_new(&sc, &cfg), TC_OK);
	return sc;
}

static struct tc_peer peer(uint8_t last)
{
	struct tc_peer p = {2, 4, {198, 18, 0, last}};

	return p;
}

/* ss[1] of a made-up fresh session, the same on both hosts. */
static void ss1(uint8_t seed, uint8_t ss[TC_K_LEN])
{
	memset(ss, seed, TC_K_LEN);
}

static bool contains(const void *hay, size_t n, const uint8_t *needle, size_t m)
{
	return memmem(hay, n, needle, m) != NULL;
}

/* Host X was A and host Y was B in a fresh session with secret ss[1]. */
struct pair {
	struct tc_sesscache *x, *y;
	struct tc_peer px, py; /* X as Y sees it, Y as X sees it */
	uint8_t ss[TC_K_LEN];
};

static void pair_init(struct pair *p, size_t nonce_len)
{
	p->x = cache(8, nonce_len);
	p->y = cache(8, nonce_len);
	p->px = peer(1);
	p->py = peer(2);
	ss1(0x11, p->ss);
	CHECK_EQ(
	    tc_sc_insert(p->x, &p->py, ENO_ROLE_A, TEP, TC_AEAD_AES_256_GCM, p->ss, 1, 0, NULL),
	    TC_OK);
	CHECK_EQ(
	    tc_sc_insert(p->y, &p->px, ENO_ROLE_B, TEP, TC_AEAD_AES_256_GCM, p->ss, 1, 0, NULL),
	    TC_OK);
}

static void pair_free(struct pair *p)
{
	tc_sc_free(p->x);
	tc_sc_free(p->y);
}

/*
 * One resumption: `off` offers to `acc`; both tickets must agree.  Returns the
 * index used, or 0 if it did not resume.
 */
static uint64_t resume_once(struct tc_sesscache *off, const struct tc_peer *acc_peer,
			    struct tc_sesscache *acc, const struct tc_peer *off_peer,
			    uint8_t ss_out[TC_K_LEN])
{
	uint8_t so[TC_SC_SUBOPT_MAX], ans[TC_SC_SUBOPT_MAX], sn1[TC_SN_MAX], sn2[TC_SN_MAX];
	size_t so_len, ans_len, n1, n2;
	struct tc_sc_ticket t1, t2;
	uint64_t index = 0;

	if (tc_sc_offer(off, acc_peer, TEP, 0, so, &so_len, &t1) != TC_SC_RESUME)
		return 0;
	if (tc_sc_accept(acc, off_peer, so, so_len, 0, ans, &ans_len, &t2) != TC_SC_RESUME)
		goto out;
	CHECK_EQ(tc_sc_answer(&t1, ans, ans_len), TC_SC_RESUME);
	CHECK(t1.complete && t2.complete);
	CHECK_MEM(t1.ss, t2.ss, TC_K_LEN);
	CHECK_EQ(t1.index, t2.index);
	CHECK_EQ(t1.aead, t2.aead);
	CHECK(t1.ref.orig_role != t2.ref.orig_role);
	n1 = tc_sc_ticket_sn(&t1, sn1);
	n2 = tc_sc_ticket_sn(&t2, sn2);
	CHECK_EQ(n1, n2);
	CHECK_MEM(sn1, sn2, n1);
	memcpy(ss_out, t1.ss, TC_K_LEN);
	index = t1.index;
out:
	tc_sc_ticket_wipe(&t1);
	tc_sc_ticket_wipe(&t2);
	return index;
}

T(resume_walks_the_chain)
{
	struct pair p;
	uint8_t ss[TC_K_LEN], want[TC_K_LEN];

	pair_init(&p, TC_SC_NONCE_DFLT);
	memcpy(want, p.ss, TC_K_LEN);
	/* Either host may start resumption, whatever its earlier role (§3.5). */
	for (uint64_t i = 1; i <= 4; i++) {
		bool x_offers = i % 2;

		CHECK_EQ(x_offers ? resume_once(p.x, &p.py, p.y, &p.px, ss)
				  : resume_once(p.y, &p.px, p.x, &p.py, ss),
			 i);
		CHECK_MEM(ss, want, TC_K_LEN);
		CHECK_EQ(tc_ss_next(want, want), TC_OK);
	}
	pair_free(&p);
}

T(suboption_layout_and_sn_order)
{
	uint8_t so[TC_SC_SUBOPT_MAX], ans[TC_SC_SUBOPT_MAX], resume[TC_RESUME_LEN], sn[TC_SN_MAX];
	size_t so_len, ans_len;
	struct tc_sc_ticket t1, t2;
	struct pair p;

	pair_init(&p, TC_SC_NONCE_DFLT);
	CHECK_EQ(tc_resume(p.ss, resume), TC_OK);
	/* Host Y (original B) offers: its half is resume[1]{9..17}, its nonce is nonce_b. */
	CHECK_EQ(tc_sc_offer(p.y, &p.px, TEP, 0, so, &so_len, &t1), TC_SC_RESUME);
	CHECK_EQ(so_len, 1 + 9 + 8);
	CHECK_EQ(so[0], 0xa3);
	CHECK_MEM(so + 1, resume + 9, 9);
	CHECK_EQ(tc_sc_accept(p.x, &p.py, so, so_len, 0, ans, &ans_len, &t2), TC_SC_RESUME);
	CHECK_EQ(ans_len, 18);
	CHECK_EQ(ans[0], 0xa3);
	CHECK_MEM(ans + 1, resume, 9);
	/*
	 * sn[i] = nonce_a | nonce_b by original role, not by who opened
	 * (docs/rfc-notes.md#tcpcrypt-session-resumption).
	 */
	CHECK_EQ(tc_sc_ticket_sn(&t2, sn), 16);
	CHECK_MEM(sn, ans + 10, 8);
	CHECK_MEM(sn + 8, so + 10, 8);
	CHECK_EQ(t2.aead, TC_AEAD_AES_256_GCM);
	CHECK_EQ(t2.index, 1);
	tc_sc_ticket_wipe(&t1);
	tc_sc_ticket_wipe(&t2);
	pair_free(&p);
}

T(nonce_length_is_configurable)
{
	uint8_t so[TC_SC_SUBOPT_MAX], ans[TC_SC_SUBOPT_MAX], sn[TC_SN_MAX];
	struct tc_sc_config bad = {4, 9, trand_fn, &rng}, zero = {0, 8, trand_fn, &rng};
	struct tc_sesscache *sc = (struct tc_sesscache *)&bad;
	size_t so_len, ans_len;
	struct tc_sc_ticket t, ta;
	struct pair p;

	CHECK_EQ(tc_sc_new(&sc, &bad), TC_E_INVAL);
	CHECK(sc == NULL);
	CHECK_EQ(tc_sc_new(&sc, &zero), TC_E_INVAL);
	for (size_t n = 0; n <= TC_SC_NONCE_MAX; n += 3) {
		pair_init(&p, n);
		CHECK_EQ(tc_sc_offer(p.x, &p.py, TEP, 0, so, &so_len, &t), TC_SC_RESUME);
		CHECK_EQ(so_len, 10 + n);
		CHECK_EQ(tc_sc_accept(p.y, &p.px, so, so_len, 0, ans, &ans_len, &ta), TC_SC_RESUME);
		CHECK_EQ(ans_len, 10 + n);
		CHECK_EQ(tc_sc_answer(&t, ans, ans_len), TC_SC_RESUME);
		CHECK_EQ(tc_sc_ticket_sn(&t, sn), 2 * n);
		tc_sc_ticket_wipe(&t);
		tc_sc_ticket_wipe(&ta);
		pair_free(&p);
	}
}

T(offer_uses_each_secret_once)
{
	uint8_t so1[TC_SC_SUBOPT_MAX], so2[TC_SC_SUBOPT_MAX], ans[TC_SC_SUBOPT_MAX];
	size_t so1_len, so2_len, ans_len;
	struct tc_sc_ticket t1, t2, ta;
	uint8_t want[TC_K_LEN];
	struct pair p;

	pair_init(&p, TC_SC_NONCE_DFLT);
	/* A failed attempt still uses its index (§3.5): the next offer is i + 1. */
	CHECK_EQ(tc_sc_offer(p.x, &p.py, TEP, 0, so1, &so1_len, &t1), TC_SC_RESUME);
	CHECK_EQ(tc_sc_offer(p.x, &p.py, TEP, 0, so2, &so2_len, &t2), TC_SC_RESUME);
	CHECK_EQ(t1.index, 1);
	CHECK_EQ(t2.index, 2);
	CHECK_MEM(t1.ss, p.ss, TC_K_LEN);
	CHECK_EQ(tc_ss_next(p.ss, want), TC_OK);
	CHECK_MEM(t2.ss, want, TC_K_LEN);
	CHECK(memcmp(so1 + 1, so2 + 1, 9) != 0);
	/* Y accepts the first offer once; the same offer again (a replay) is declined. */
	CHECK_EQ(tc_sc_accept(p.y, &p.px, so1, so1_len, 0, ans, &ans_len, &ta), TC_SC_RESUME);
	CHECK_MEM(ta.ss, p.ss, TC_K_LEN);
	tc_sc_ticket_wipe(&ta);
	CHECK_EQ(tc_sc_accept(p.y, &p.px, so1, so1_len, 0, ans, &ans_len, &ta), TC_SC_NONE);
	CHECK_EQ(ans_len, 0);
	CHECK(!ta.complete);
	/* Y is now at index 2, which X also offered: that one is still good once. */
	CHECK_EQ(tc_sc_accept(p.y, &p.px, so2, so2_len, 0, ans, &ans_len, &ta), TC_SC_RESUME);
	CHECK_EQ(ta.index, 2);
	CHECK_EQ(tc_sc_answer(&t2, ans, ans_len), TC_SC_RESUME);
	CHECK_EQ(tc_sc_answer(&t2, ans, ans_len), TC_E_STATE);
	tc_sc_ticket_wipe(&ta);
	CHECK_EQ(tc_sc_accept(p.y, &p.px, so2, so2_len, 0, ans, &ans_len, &ta), TC_SC_NONE);
	tc_sc_ticket_wipe(&t1);
	tc_sc_ticket_wipe(&t2);
	pair_free(&p);
}

T(answer_with_wrong_half_is_a_mismatch)
{
	uint8_t so[TC_SC_SUBOPT_MAX], ans[TC_SC_SUBOPT_MAX];
	size_t so_len, ans_len;
	struct tc_sc_ticket t, ta;
	struct pair p;

	pair_init(&p, TC_SC_NONCE_DFLT);
	CHECK_EQ(tc_sc_offer(p.x, &p.py, TEP, 0, so, &so_len, &t), TC_SC_RESUME);
	CHECK_EQ(tc_sc_accept(p.y, &p.px, so, so_len, 0, ans, &ans_len, &ta), TC_SC_RESUME);
	/* Echoing our own suboption (a reflecting middlebox) carries the wrong half. */
	CHECK_EQ(tc_sc_answer(&t, so, so_len), TC_SC_NONE);
	ans[5] ^= 1;
	CHECK_EQ(tc_sc_answer(&t, ans, ans_len), TC_SC_NONE);
	ans[5] ^= 1;
	ans[0] = 0xa4; /* another TEP */
	CHECK_EQ(tc_sc_answer(&t, ans, ans_len), TC_SC_NONE);
	ans[0] = 0x23; /* v = 0 */
	CHECK_EQ(tc_sc_answer(&t, ans, ans_len), TC_SC_NONE);
	ans[0] = 0xa3;
	CHECK_EQ(tc_sc_answer(&t, ans, 9), TC_SC_NONE);
	CHECK(!t.complete);
	CHECK_EQ(tc_sc_answer(&t, ans, ans_len), TC_SC_RESUME);
	tc_sc_ticket_wipe(&t);
	tc_sc_ticket_wipe(&ta);
	pair_free(&p);
}

T(accept_declines_without_consuming)
{
	uint8_t so[TC_SC_SUBOPT_MAX + 1], ans[TC_SC_SUBOPT_MAX];
	struct tc_peer stranger = peer(9);
	size_t so_len, ans_len;
	struct tc_sc_ticket t, ta;
	struct pair p;

	pair_init(&p, TC_SC_NONCE_DFLT);
	CHECK_EQ(tc_sc_offer(p.x, &p.py, TEP, 0, so, &so_len, &t), TC_SC_RESUME);
	/* v = 1 with fewer than 9 data bytes is a fresh offer (§3.5). */
	for (size_t n = 0; n < 10; n++)
		CHECK_EQ(tc_sc_accept(p.y, &p.px, so, n, 0, ans, &ans_len, &ta), TC_SC_NONE);
	so[so_len] = 0;
	CHECK_EQ(tc_sc_accept(p.y, &p.px, so, so_len + 1, 0, ans, &ans_len, &ta), TC_SC_NONE);
	so[0] = 0x23;
	CHECK_EQ(tc_sc_accept(p.y, &p.px, so, so_len, 0, ans, &ans_len, &ta), TC_SC_NONE);
	so[0] = 0xa4; /* the cached secret belongs to another TEP */
	CHECK_EQ(tc_sc_accept(p.y, &p.px, so, so_len, 0, ans, &ans_len, &ta), TC_SC_NONE);
	so[0] = 0xa3;
	CHECK_EQ(tc_sc_accept(p.y, &stranger, so, so_len, 0, ans, &ans_len, &ta), TC_SC_NONE);
	CHECK_EQ(tc_sc_accept(p.y, &p.px, so, so_len, TC_SC_NO_RESUME, ans, &ans_len, &ta),
		 TC_SC_NONE);
	so[3] ^= 0x40;
	CHECK_EQ(tc_sc_accept(p.y, &p.px, so, so_len, 0, ans, &ans_len, &ta), TC_SC_NONE);
	so[3] ^= 0x40;
	/* None of that used the secret. */
	CHECK_EQ(tc_sc_accept(p.y, &p.px, so, so_len, 0, ans, &ans_len, &ta), TC_SC_RESUME);
	CHECK_EQ(ta.index, 1);
	tc_sc_ticket_wipe(&t);
	tc_sc_ticket_wipe(&ta);
	pair_free(&p);
}

T(offer_prefers_most_recent_chain)
{
	struct tc_sesscache *sc = cache(4, 8);
	uint8_t ss_a[TC_K_LEN], ss_b[TC_K_LEN], so[TC_SC_SUBOPT_MAX];
	struct tc_peer q = peer(7);
	struct tc_sc_ticket t;
	size_t so_len;

	ss1(0xaa, ss_a);
	ss1(0xbb, ss_b);
	CHECK_EQ(tc_sc_insert(sc, &q, ENO_ROLE_A, TEP, 1, ss_a, 1, 0, NULL), TC_OK);
	CHECK_EQ(tc_sc_insert(sc, &q, ENO_ROLE_B, TEP, 1, ss_b, 1, 0, NULL), TC_OK);
	CHECK_EQ(tc_sc_count(sc), 2);
	CHECK_EQ(tc_sc_offer(sc, &q, TEP, 0, so, &so_len, &t), TC_SC_RESUME);
	CHECK_EQ(t.ref.orig_role, ENO_ROLE_B);
	CHECK_MEM(t.ss, ss_b, TC_K_LEN);
	tc_sc_ticket_wipe(&t);
	/* The other TEP has nothing; a v bit on the request is ignored. */
	CHECK_EQ(tc_sc_offer(sc, &q, TC_TEP_X448, 0, so, &so_len, &t), TC_SC_NONE);
	CHECK_EQ(so_len, 0);
	CHECK_EQ(tc_sc_offer(sc, &q, 0xa3, 0, so, &so_len, &t), TC_SC_RESUME);
	CHECK_EQ(t.ref.orig_role, ENO_ROLE_B); /* just used, so still the most recent */
	tc_sc_ticket_wipe(&t);
	tc_sc_free(sc);
}

T(capacity_and_lru_eviction)
{
	struct tc_sesscache *sc = cache(3, 8);
	uint8_t ss[TC_K_LEN], so[TC_SC_SUBOPT_MAX];
	struct tc_sc_ticket t;
	struct tc_peer q[5];
	size_t so_len;

	for (int i = 0; i < 5; i++)
		q[i] = peer(10 + i);
	ss1(1, ss);
	for (int i = 0; i < 3; i++)
		CHECK_EQ(tc_sc_insert(sc, &q[i], ENO_ROLE_A, TEP, 1, ss, 1, 0, NULL), TC_OK);
	CHECK_EQ(tc_sc_count(sc), 3);
	/* Using q[0] makes q[1] the least recently used. */
	CHECK_EQ(tc_sc_offer(sc, &q[0], TEP, 0, so, &so_len, &t), TC_SC_RESUME);
	tc_sc_ticket_wipe(&t);
	CHECK_EQ(tc_sc_insert(sc, &q[3], ENO_ROLE_A, TEP, 1, ss, 1, 0, NULL), TC_OK);
	CHECK_EQ(tc_sc_count(sc), 3);
	CHECK_EQ(tc_sc_offer(sc, &q[1], TEP, 0, so, &so_len, &t), TC_SC_NONE);
	CHECK_EQ(tc_sc_insert(sc, &q[4], ENO_ROLE_A, TEP, 1, ss, 1, 0, NULL), TC_OK);
	CHECK_EQ(tc_sc_count(sc), 3);
	CHECK_EQ(tc_sc_offer(sc, &q[2], TEP, 0, so, &so_len, &t), TC_SC_NONE);
	for (int i = 0; i < 5; i += 4) {
		CHECK_EQ(tc_sc_offer(sc, &q[i ? 4 : 0], TEP, 0, so, &so_len, &t), TC_SC_RESUME);
		tc_sc_ticket_wipe(&t);
	}
	/* Many more inserts than capacity keep the bound. */
	for (int i = 0; i < 100; i++) {
		struct tc_peer r = peer((uint8_t)i);

		r.id[2] = 1;
		CHECK_EQ(tc_sc_insert(sc, &r, ENO_ROLE_A + (i & 1), TEP, 1, ss, 1, 0, NULL), TC_OK);
		CHECK(tc_sc_count(sc) <= 3);
	}
	tc_sc_free(sc);
}

T(new_session_replaces_chain)
{
	struct tc_sesscache *sc = cache(4, 8);
	uint8_t ss_old[TC_K_LEN], ss_new[TC_K_LEN], so[TC_SC_SUBOPT_MAX];
	struct tc_sc_ref r1, r2;
	struct tc_peer q = peer(3);
	struct tc_sc_ticket t;
	size_t so_len;

	ss1(0x01, ss_old);
	ss1(0x02, ss_new);
	CHECK_EQ(tc_sc_insert(sc, &q, ENO_ROLE_A, TEP, 1, ss_old, 1, 0, &r1), TC_OK);
	CHECK_EQ(tc_sc_insert(sc, &q, ENO_ROLE_A, TEP, 2, ss_new, 1, 0, &r2), TC_OK);
	CHECK(r1.chain != r2.chain);
	CHECK_EQ(tc_sc_count(sc), 1);
	/* A stale reference does not flush the newer chain. */
	tc_sc_flush(sc, &r1);
	CHECK_EQ(tc_sc_count(sc), 1);
	CHECK_EQ(tc_sc_offer(sc, &q, TEP, 0, so, &so_len, &t), TC_SC_RESUME);
	CHECK_MEM(t.ss, ss_new, TC_K_LEN);
	CHECK_EQ(t.aead, 2);
	CHECK_EQ(t.ref.chain, r2.chain);
	tc_sc_ticket_wipe(&t);
	tc_sc_flush(sc, &r2);
	CHECK_EQ(tc_sc_count(sc), 0);
	tc_sc_free(sc);
}

T(policies_no_resume_no_cache)
{
	uint8_t so[TC_SC_SUBOPT_MAX], ans[TC_SC_SUBOPT_MAX];
	size_t so_len, ans_len;
	struct tc_sc_ticket t, ta;
	struct tc_sc_ref ref;
	struct pair p;

	pair_init(&p, TC_SC_NONCE_DFLT);
	CHECK_EQ(tc_sc_offer(p.x, &p.py, TEP, TC_SC_NO_RESUME, so, &so_len, &t), TC_SC_NONE);
	CHECK_EQ(so_len, 0);
	/* Do-not-cache: nothing stored ... */
	CHECK_EQ(tc_sc_insert(p.x, &p.px, ENO_ROLE_B, TEP, 1, p.ss, 1, TC_SC_NO_CACHE, &ref),
		 TC_OK);
	CHECK_EQ(ref.chain, 0);
	CHECK_EQ(tc_sc_count(p.x), 1);
	/* ... and a resumed connection under it leaves no successor secret behind. */
	CHECK_EQ(tc_sc_offer(p.x, &p.py, TEP, TC_SC_NO_CACHE, so, &so_len, &t), TC_SC_RESUME);
	CHECK_EQ(tc_sc_count(p.x), 0);
	CHECK_EQ(tc_sc_accept(p.y, &p.px, so, so_len, TC_SC_NO_CACHE, ans, &ans_len, &ta),
		 TC_SC_RESUME);
	CHECK_EQ(tc_sc_count(p.y), 0);
	CHECK_EQ(tc_sc_answer(&t, ans, ans_len), TC_SC_RESUME);
	CHECK_MEM(t.ss, ta.ss, TC_K_LEN);
	tc_sc_ticket_wipe(&t);
	tc_sc_ticket_wipe(&ta);
	pair_free(&p);
}

T(rng_failure_consumes_nothing)
{
	uint8_t so[TC_SC_SUBOPT_MAX];
	struct tc_sc_ticket t;
	size_t so_len;
	struct pair p;

	pair_init(&p, TC_SC_NONCE_DFLT);
	rng.fail_after = 0;
	CHECK_EQ(tc_sc_offer(p.x, &p.py, TEP, 0, so, &so_len, &t), TC_E_RNG);
	rng.fail_after = -1;
	CHECK_EQ(tc_sc_offer(p.x, &p.py, TEP, 0, so, &so_len, &t), TC_SC_RESUME);
	CHECK_EQ(t.index, 1);
	tc_sc_ticket_wipe(&t);
	pair_free(&p);
}

/* Every secret an entry held is gone from the cache's memory once erased. */
T(erased_secrets_are_wiped)
{
	uint8_t ss[5][TC_K_LEN], resume[5][TC_RESUME_LEN], so[TC_SC_SUBOPT_MAX];
	struct tc_sesscache *sc = cache(2, 8);
	struct tc_peer q[3] = {peer(1), peer(2), peer(3)};
	static const uint8_t zero[sizeof(struct tc_sc_ticket)];
	struct tc_sc_ticket t;
	struct tc_sc_ref ref;
	const void *mem;
	size_t len, so_len;

	for (int i = 0; i < 5; i++) {
		ss1((uint8_t)(0x40 + i), ss[i]);
		CHECK_EQ(tc_resume(ss[i], resume[i]), TC_OK);
	}
	tc_sc_storage(sc, &mem, &len);
	CHECK(len >= 2 * TC_K_LEN);
	CHECK_EQ(tc_sc_insert(sc, &q[0], ENO_ROLE_A, TEP, 1, ss[0], 1, 0, &ref), TC_OK);
	CHECK_EQ(tc_sc_insert(sc, &q[1], ENO_ROLE_A, TEP, 1, ss[1], 1, 0, NULL), TC_OK);
	CHECK(contains(mem, len, ss[0], TC_K_LEN));
	CHECK(contains(mem, len, resume[0] + 9, 9));
	/* flush */
	tc_sc_flush(sc, &ref);
	CHECK(!contains(mem, len, ss[0], TC_K_LEN));
	CHECK(!contains(mem, len, resume[0], 9));
	CHECK(!contains(mem, len, resume[0] + 9, 9));
	/* advance: ss[i] is erased once taken */
	CHECK_EQ(tc_sc_offer(sc, &q[1], TEP, 0, so, &so_len, &t), TC_SC_RESUME);
	CHECK(!contains(mem, len, ss[1], TC_K_LEN));
	CHECK(!contains(mem, len, resume[1] + 9, 9));
	tc_sc_ticket_wipe(&t);
	CHECK_MEM(&t, zero, sizeof(t));
	/* eviction */
	CHECK_EQ(tc_sc_insert(sc, &q[0], ENO_ROLE_A, TEP, 1, ss[2], 1, 0, NULL), TC_OK);
	CHECK_EQ(tc_sc_insert(sc, &q[2], ENO_ROLE_A, TEP, 1, ss[3], 1, 0, NULL), TC_OK);
	CHECK_EQ(tc_sc_count(sc), 2);
	CHECK(contains(mem, len, ss[2], TC_K_LEN));
	CHECK(contains(mem, len, ss[3], TC_K_LEN));
	/* replacement */
	CHECK_EQ(tc_sc_insert(sc, &q[2], ENO_ROLE_A, TEP, 1, ss[4], 1, 0, NULL), TC_OK);
	CHECK(!contains(mem, len, ss[3], TC_K_LEN));
	CHECK(!contains(mem, len, resume[3] + 9, 9));
	/* flush-all: nothing but zeros and free-list links remain */
	tc_sc_flush_all(sc);
	CHECK_EQ(tc_sc_count(sc), 0);
	for (int i = 0; i < 5; i++) {
		CHECK(!contains(mem, len, ss[i], TC_K_LEN));
		CHECK(!contains(mem, len, resume[i] + 9, 9));
	}
	tc_sc_free(sc);
}

T(insert_rejects_bad_arguments)
{
	struct tc_sesscache *sc = cache(2, 8);
	struct tc_peer q = peer(1);
	uint8_t ss[TC_K_LEN] = {0};

	CHECK_EQ(tc_sc_insert(sc, &q, 0, TEP, 1, ss, 1, 0, NULL), TC_E_INVAL);
	CHECK_EQ(tc_sc_insert(sc, &q, 3, TEP, 1, ss, 1, 0, NULL), TC_E_INVAL);
	q.len = 17;
	CHECK_EQ(tc_sc_insert(sc, &q, ENO_ROLE_A, TEP, 1, ss, 1, 0, NULL), TC_E_INVAL);
	CHECK_EQ(tc_sc_count(sc), 0);
	tc_sc_free(sc);
	tc_sc_free(NULL);
}

/*
 * The agent's path (tc_sc_take): X (orig A) takes offers in advance, Y (orig
 * B) takes acceptances; each side's ticket is completed by the other's
 * suboption as it went on the wire, also with Y's nonce shortened to 7 bytes
 * by sock_ops.  Both derive the same ss[i], index and sn[i].
 */
T(take_in_advance_and_complete)
{
	uint8_t ox[3][TC_SC_SUBOPT_MAX], oy[3][TC_SC_SUBOPT_MAX], sn1[TC_SN_MAX], sn2[TC_SN_MAX];
	struct tc_sc_ticket tx[3], ty[3];
	size_t lx[3], ly[3];
	struct tc_sc_ref rx, ry;
	uint64_t idx;
	struct pair p;

	pair_init(&p, 8);
	tc_sc_flush_all(p.x);
	tc_sc_flush_all(p.y);
	CHECK_EQ(tc_sc_insert(p.x, &p.py, ENO_ROLE_A, TEP, TC_AEAD_AES_256_GCM, p.ss, 1, 0, &rx),
		 TC_OK);
	CHECK_EQ(tc_sc_insert(p.y, &p.px, ENO_ROLE_B, TEP, TC_AEAD_AES_256_GCM, p.ss, 1, 0, &ry),
		 TC_OK);
	for (int i = 0; i < 3; i++) {
		CHECK_EQ(tc_sc_take(p.x, &rx, ox[i], &lx[i], &tx[i]), TC_SC_RESUME);
		CHECK_EQ(tc_sc_take(p.y, &ry, oy[i], &ly[i], &ty[i]), TC_SC_RESUME);
		CHECK_EQ(tx[i].index, (uint64_t)i + 1); /* lowest unused i first */
		CHECK_MEM(tx[i].peer_half, oy[i] + 1, TC_RESUME_HALF_LEN);
		CHECK_MEM(ty[i].peer_half, ox[i] + 1, TC_RESUME_HALF_LEN);
	}
	CHECK(tc_sc_chain_index(p.x, &rx, &idx));
	CHECK_EQ(idx, 4);
	/* connection 2 first, Y's nonce cut to 7 bytes */
	CHECK_EQ(tc_sc_ticket_sent(&ty[1], oy[1], ly[1] - 1), TC_OK);
	CHECK_EQ(tc_sc_ticket_sent(&tx[1], ox[1], lx[1]), TC_OK);
	CHECK_EQ(tc_sc_answer(&tx[1], oy[1], ly[1] - 1), TC_SC_RESUME);
	CHECK_EQ(tc_sc_answer(&ty[1], ox[1], lx[1]), TC_SC_RESUME);
	CHECK_MEM(tx[1].ss, ty[1].ss, TC_K_LEN);
	CHECK_EQ(tc_sc_ticket_sn(&tx[1], sn1), 15);
	CHECK_EQ(tc_sc_ticket_sn(&ty[1], sn2), 15);
	CHECK_MEM(sn1, sn2, 15);
	/* another index's half does not complete a ticket */
	CHECK_EQ(tc_sc_answer(&tx[0], oy[2], ly[2]), TC_SC_NONE);
	/* what was sent must be this ticket's: TEP, half, nonce prefix, lengths */
	CHECK_EQ(tc_sc_ticket_sent(&tx[0], ox[2], lx[2]), TC_E_INVAL);
	ox[0][0] ^= TC_TEP_V_BIT;
	CHECK_EQ(tc_sc_ticket_sent(&tx[0], ox[0], lx[0]), TC_E_INVAL);
	ox[0][0] ^= TC_TEP_V_BIT;
	ox[0][lx[0] - 1] ^= 1;
	CHECK_EQ(tc_sc_ticket_sent(&tx[0], ox[0], lx[0]), TC_E_INVAL);
	CHECK_EQ(tc_sc_ticket_sent(&tx[0], ox[0], 9), TC_E_INVAL);
	CHECK_EQ(tc_sc_ticket_sent(&tx[0], ox[0], TC_SC_SUBOPT_MAX + 1), TC_E_INVAL);
	/* a chain replaced by a newer session, or flushed, gives nothing more */
	CHECK_EQ(tc_sc_insert(p.x, &p.py, ENO_ROLE_A, TEP, TC_AEAD_AES_256_GCM, p.ss, 1, 0, NULL),
		 TC_OK);
	CHECK_EQ(tc_sc_take(p.x, &rx, ox[0], &lx[0], &tx[0]), TC_SC_NONE);
	CHECK(!tc_sc_chain_index(p.x, &rx, &idx));
	tc_sc_flush(p.y, &ry);
	CHECK_EQ(tc_sc_take(p.y, &ry, oy[0], &ly[0], &ty[0]), TC_SC_NONE);
	for (int i = 0; i < 3; i++) {
		tc_sc_ticket_wipe(&tx[i]);
		tc_sc_ticket_wipe(&ty[i]);
	}
	pair_free(&p);
}
