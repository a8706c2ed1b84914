/* SPDX-License-Identifier: MIT */
/*
 * Connection state machine: two hosts in memory, byte streams cut at random
 * points, fresh and resumed sessions of every TEP and AEAD, tampering, FIN,
 * rekeying.  Random choices come from a seeded PRNG; a failing run prints its
 * seed, and TC_TEST_SEED=<n> replays it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include "t.h"
#include "t_rand.h"
#include "core/aead.h"
#include "core/conn.h"
#include "core/err.h"
#include "core/frame.h"
#include "core/kdf.h"
#include "core/sesscache.h"
#include "core/tep.h"

#define KIB 1024

static const uint16_t all_aeads[] = {TC_AEAD_CHACHA20_POLY1305, TC_AEAD_AES_256_GCM,
				     TC_AEAD_AES_128_GCM};

/* 1..max, log-uniform: as many 1-byte cuts as 64 KiB ones. */
static size_t rnd_len(uint64_t *s, size_t max)
{
	size_t lim = (size_t)2 << (rnd(s) % 17);

	return 1 + rnd(s) % (lim < max ? lim : max);
}

static void fill(uint64_t *s, uint8_t *buf, size_t len)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)rnd(s);
}

/* ---- hosts ---- */

struct host {
	struct tc_sesscache *cache;
	struct tc_peer addr; /* how the other host knows this one */
	struct tc_conn_config cfg;
};

static void host_init(struct host *h, uint8_t last)
{
	struct tc_sc_config sc = {16, TC_SC_NONCE_DFLT, NULL, NULL};

	memset(h, 0, sizeof(*h));
	CHECK_EQ(tc_sc_new(&h->cache, &sc), TC_OK);
	h->addr = (struct tc_peer){2, 4, {198, 18, 0, last}};
	h->cfg.cache = h->cache;
	h->cfg.keylog = true;
}

static void hosts_init(struct host *x, struct host *y)
{
	host_init(x, 1);
	host_init(y, 2);
}

static void hosts_free(struct host *x, struct host *y)
{
	tc_sc_free(x->cache);
	tc_sc_free(y->cache);
}

/* A fresh session: host a is A, host b is B (RFC 8547 §4.3). */
static void conn_fresh(struct tc_conn *c[2], struct host *a, struct host *b, uint8_t tep)
{
	uint8_t tr[] = {0x45, 0x03, tep, 0x45, 0x04, 0x01, tep};
	struct tc_eno_result ea = {ENO_ROLE_A, tep, tr, sizeof(tr), NULL, 0, NULL, b->addr};
	struct tc_eno_result eb = {ENO_ROLE_B, tep, tr, sizeof(tr), NULL, 0, NULL, a->addr};

	CHECK_EQ(tc_conn_new(&c[0], &a->cfg, &ea), TC_OK);
	CHECK_EQ(tc_conn_new(&c[1], &b->cfg, &eb), TC_OK);
}

/*
 * Host a opens to host b offering resumption (§3.5); b answers as its cache
 * decides, and both build their connections from that.  Returns whether b
 * agreed; rc[] are the tc_conn_new results.  tamper (if non-zero) is XORed
 * into the identifier half of b's answer on the way to a.
 */
static bool conn_resumed(struct tc_conn *c[2], int rc[2], struct host *a, struct host *b,
			 uint8_t tep, uint8_t tamper)
{
	uint8_t so[TC_SC_SUBOPT_MAX], ans[TC_SC_SUBOPT_MAX];
	struct tc_sc_ticket ta, tb;
	size_t so_len, ans_len;
	int agreed;

	CHECK_EQ(tc_sc_offer(a->cache, &b->addr, tep, a->cfg.policy, so, &so_len, &ta),
		 TC_SC_RESUME);
	agreed = tc_sc_accept(b->cache, &a->addr, so, so_len, b->cfg.policy, ans, &ans_len, &tb);
	CHECK(agreed >= 0);
	ans[3] ^= tamper;
	{
		/* B sent its suboption for tep with v = 1 only if it agreed. */
		uint8_t tep_byte = agreed == TC_SC_RESUME ? ans[0] : tep;
		uint8_t tr[] = {0x45, 0x14, so[0], 0x45, 0x04, 0x01, tep_byte};
		struct tc_eno_result ea = {ENO_ROLE_A, tep_byte, tr,  sizeof(tr),
					   ans,	       ans_len,	 &ta, b->addr};
		struct tc_eno_result eb = {
		    ENO_ROLE_B, tep_byte, tr, sizeof(tr), so, so_len, agreed ? &tb : NULL, a->addr};

		rc[0] = tc_conn_new(&c[0], &a->cfg, &ea);
		rc[1] = tc_conn_new(&c[1], &b->cfg, &eb);
	}
	/* tc_conn_new wiped both tickets. */
	CHECK_EQ(ta.ref.chain, 0);
	CHECK(!memcmp(ta.ss, (uint8_t[TC_K_LEN]){0}, TC_K_LEN));
	CHECK(!memcmp(tb.ss, (uint8_t[TC_K_LEN]){0}, TC_K_LEN));
	return agreed == TC_SC_RESUME;
}

/* ---- two connections and the streams between them ---- */

struct dir {
	uint8_t *buf; /* everything the sender output */
	size_t len, cap, delivered;
	bool fin;	    /* the sender's FINp frame is out: TCP FIN follows buf[len - 1] */
	bool fin_delivered; /* the receiver was told */
	size_t flip_at;	    /* XOR flip_mask into this byte on the way (SIZE_MAX: none) */
	uint8_t flip_mask;
	size_t fin_at; /* a forged TCP FIN after this many bytes (SIZE_MAX: none) */
};

struct end {
	struct tc_conn *c;
	uint8_t *tx; /* application data to send */
	size_t tx_len, tx_off;
	bool fin_queued;
	uint8_t *rx; /* plaintext received */
	size_t rx_len;
	unsigned ev; /* every event seen */
	int err;
	struct dir out;
};

struct sim {
	struct end e[2];
	uint64_t rng;
	size_t max_piece;     /* stream cuts of 1..max_piece bytes */
	size_t out_cap;	      /* tc_conn_output cap; 0: random 1..70000 */
	unsigned out_calls;   /* tc_conn_output calls per step; 0: until it has nothing */
	unsigned rekey_every; /* rekey with probability 1/rekey_every per step; 0: never */
};

static void sim_init(struct sim *s, struct tc_conn *c[2], uint64_t seed, size_t tx0, size_t tx1)
{
	size_t tx[2] = {tx0, tx1};

	memset(s, 0, sizeof(*s));
	s->rng = seed;
	s->max_piece = 64 * KIB;
	for (int i = 0; i < 2; i++) {
		struct end *e = &s->e[i];

		e->c = c[i];
		e->tx_len = tx[i];
		e->tx = malloc(tx[i] + 1);
		e->rx = malloc(tx[!i] + 1);
		fill(&s->rng, e->tx, tx[i]);
		e->out.flip_at = SIZE_MAX;
		e->out.fin_at = SIZE_MAX;
	}
}

static void conns_free(struct tc_conn *c[2])
{
	tc_conn_free(c[0]);
	tc_conn_free(c[1]);
}

/* Frees the buffers; the connections stay with their creator. */
static void sim_free(struct sim *s)
{
	for (int i = 0; i < 2; i++) {
		free(s->e[i].tx);
		free(s->e[i].rx);
		free(s->e[i].out.buf);
	}
}

static void take_events(struct end *e)
{
	unsigned ev = tc_conn_events(e->c);

	e->ev |= ev;
	if (ev & TC_CONN_EV_FIN_SENT)
		e->out.fin = true;
}

/* Read all plaintext; more than the peer sent is a failure, checked in sim_check. */
static bool drain(struct end *e, size_t limit)
{
	bool progress = false;
	uint8_t buf[4096];
	int r;

	while (!e->err && (r = tc_conn_read(e->c, buf, sizeof(buf))) != 0) {
		if (r < 0) {
			e->err = r;
			break;
		}
		if (e->rx_len + r <= limit)
			memcpy(e->rx + e->rx_len, buf, r);
		e->rx_len += r;
		progress = true;
	}
	take_events(e);
	return progress;
}

static bool step_send(struct sim *s, struct end *me)
{
	size_t chunk = rnd_len(&s->rng, 64 * KIB);
	bool fin;
	int r;

	if (me->fin_queued)
		return false;
	if (chunk > me->tx_len - me->tx_off)
		chunk = me->tx_len - me->tx_off;
	fin = me->tx_off + chunk == me->tx_len;
	r = tc_conn_send(me->c, me->tx + me->tx_off, chunk, fin);
	if (r < 0) {
		me->err = r;
		return true;
	}
	me->tx_off += r;
	me->fin_queued = fin && (size_t)r == chunk;
	return r > 0 || me->fin_queued;
}

static bool step_output(struct sim *s, struct end *me)
{
	struct dir *d = &me->out;
	bool progress = false;

	for (unsigned n = 0;
	     !me->err && tc_conn_want_output(me->c) && (!s->out_calls || n < s->out_calls); n++) {
		size_t cap = s->out_cap ? s->out_cap : rnd_len(&s->rng, 70000);
		int r;

		if (d->len + cap > d->cap) {
			d->cap = 2 * (d->len + cap);
			d->buf = realloc(d->buf, d->cap);
		}
		r = tc_conn_output(me->c, d->buf + d->len, cap);
		if (r <= 0) {
			me->err = r;
			break;
		}
		if (d->flip_at >= d->len && d->flip_at < d->len + r)
			d->buf[d->flip_at] ^= d->flip_mask;
		d->len += r;
		progress = true;
	}
	take_events(me);
	return progress;
}

/* Deliver the next piece of me's stream (and TCP FIN, real or forged) to peer. */
static bool deliver_piece(struct sim *s, struct end *me, struct end *peer)
{
	struct dir *d = &me->out;
	bool forged = d->fin_at != SIZE_MAX;
	size_t lim = forged && d->fin_at < d->len ? d->fin_at : d->len;
	bool fin_ready = forged ? d->len >= d->fin_at : d->fin;
	size_t piece = 0;
	bool fin;
	int r;

	if (peer->err || d->fin_delivered || (d->delivered == lim && !fin_ready))
		return false;
	if (d->delivered < lim) {
		piece = rnd_len(&s->rng, s->max_piece);
		if (piece > lim - d->delivered)
			piece = lim - d->delivered;
	}
	fin = fin_ready && d->delivered + piece == lim;
	r = tc_conn_input(peer->c, d->buf + d->delivered, piece, fin);
	if (r < 0) {
		peer->err = r;
		take_events(peer);
		return true;
	}
	d->delivered += r;
	d->fin_delivered = fin && (size_t)r == piece;
	drain(peer, me->tx_len);
	return r > 0 || d->fin_delivered;
}

/* Everything output so far, in random pieces. */
static bool step_deliver(struct sim *s, struct end *me, struct end *peer)
{
	bool progress = false;

	while (deliver_piece(s, me, peer))
		progress = true;
	return progress;
}

static bool step(struct sim *s, int i)
{
	struct end *me = &s->e[i], *peer = &s->e[!i];
	bool progress = false;

	if (me->err)
		return false;
	progress |= drain(me, peer->tx_len);
	progress |= step_send(s, me);
	if (s->rekey_every && rnd(&s->rng) % s->rekey_every == 0)
		tc_conn_rekey(me->c); /* TC_E_STATE while one is unanswered: fine */
	progress |= step_output(s, me);
	progress |= step_deliver(s, me, peer);
	return progress;
}

/* Run until both ends saw EOF, or nothing moves any more (an abort, a stall). */
static void sim_run(struct sim *s)
{
	for (int idle = 0; idle < 64;) {
		int first = rnd(&s->rng) & 1;
		bool progress = step(s, first);

		progress |= step(s, !first);
		if (s->e[0].ev & s->e[1].ev & TC_CONN_EV_EOF)
			break;
		idle = progress ? 0 : idle + 1;
	}
}

/* Nothing but a prefix of what the peer sent was ever delivered. */
static void check_prefix(const struct sim *s)
{
	for (int i = 0; i < 2; i++) {
		const struct end *e = &s->e[i], *peer = &s->e[!i];

		CHECK(e->rx_len <= peer->tx_len);
		if (e->rx_len <= peer->tx_len)
			CHECK_MEM(e->rx, peer->tx, e->rx_len);
	}
}

/* Both ends exchanged everything and ended with an authenticated EOF. */
static void check_complete(const struct sim *s)
{
	uint8_t id0[TC_SESSID_LEN], id1[TC_SESSID_LEN];

	check_prefix(s);
	for (int i = 0; i < 2; i++) {
		CHECK_EQ(s->e[i].err, TC_OK);
		CHECK_EQ(s->e[i].rx_len, s->e[!i].tx_len);
		CHECK(s->e[i].ev & TC_CONN_EV_KEYS);
		CHECK(s->e[i].ev & TC_CONN_EV_EOF);
		CHECK(s->e[i].ev & TC_CONN_EV_FIN_SENT);
		CHECK(!(s->e[i].ev & TC_CONN_EV_ABORT));
		CHECK(s->e[i].out.fin_delivered);
	}
	CHECK_EQ(tc_conn_session_id(s->e[0].c, id0), TC_OK);
	CHECK_EQ(tc_conn_session_id(s->e[1].c, id1), TC_OK);
	CHECK_MEM(id0, id1, TC_SESSID_LEN);
}

/* Report the seed of a run whose checks failed. */
#define SEEDED(seed, ...)                                                                          \
	do {                                                                                       \
		int t_before = t_failed_checks;                                                    \
		__VA_ARGS__;                                                                       \
		if (t_failed_checks != t_before)                                                   \
			fprintf(stderr, "  (seed %llu, line %d)\n", (unsigned long long)(seed),    \
				__LINE__);                                                         \
	} while (0)

/* ---- the handshake matrix ---- */

struct session {
	uint8_t id[TC_SESSID_LEN];
	struct tc_conn_info info[2];
};

static void keylog_agrees(struct tc_conn *c[2], bool resumed, uint8_t tep)
{
	struct tc_keylog k0, k1;
	char line[400];

	CHECK_EQ(tc_conn_keylog(c[0], &k0), TC_OK);
	CHECK_EQ(tc_conn_keylog(c[1], &k1), TC_OK);
	CHECK_MEM(&k0, &k1, sizeof(k0));
	CHECK_EQ(k0.es_len, resumed ? 0 : tc_tep_find(tep)->es_len);
	if (!resumed) {
		uint8_t id[TC_SESSID_LEN];

		/* ss[0] = PRK gives the session ID (§3.4): the logged secret is the real one. */
		CHECK_EQ(tc_session_id(tep, k0.ss, NULL, 0, id), TC_OK);
		CHECK_MEM(id, k0.session_id, TC_SESSID_LEN);
	}
	CHECK_EQ(tc_keylog_format(&k0, line, sizeof(line)),
		 2 * 33 + 1 + 64 + 1 + (resumed ? 1 : 2 * k0.es_len) + 1);
	CHECK_EQ(tc_keylog_format(&k0, line, 100), TC_E_NOSPACE);
}

/* Run c[] to completion with `bytes` each way; record what both ends agreed on. */
static void exchange(struct tc_conn *c[2], uint64_t seed, size_t bytes, struct session *out)
{
	struct sim s;

	sim_init(&s, c, seed, bytes, bytes);
	s.rekey_every = seed % 3 ? 0 : 40;
	sim_run(&s);
	check_complete(&s);
	tc_conn_session_id(c[0], out->id);
	tc_conn_info(c[0], &out->info[0]);
	tc_conn_info(c[1], &out->info[1]);
	keylog_agrees(c, out->info[0].resumed, out->info[0].tep_byte & ~TC_TEP_V_BIT);
	sim_free(&s);
}

static void matrix(uint8_t tep, uint16_t aead, uint64_t seed)
{
	struct session fresh, res1, res2;
	struct tc_conn *c[2];
	struct host x, y;
	int rc[2];

	hosts_init(&x, &y);
	/* A offers all three; B's preference picks this one (§3.3). */
	x.cfg.aeads = all_aeads;
	x.cfg.naeads = 3;
	y.cfg.aeads = &aead;
	y.cfg.naeads = 1;
	x.cfg.max_frame_data = 1 + seed % TC_FRAME_DATA_MAX;
	size_t bytes = tep == TC_TEP_P521 ? 64 * KIB : 200 * KIB;

	/* fresh: x is A, y is B */
	conn_fresh(c, &x, &y, tep);
	CHECK_EQ(tc_conn_session_id(c[0], fresh.id), TC_E_STATE);
	exchange(c, seed, bytes, &fresh);
	conns_free(c);
	CHECK_EQ(fresh.id[0], tep);
	CHECK_EQ(fresh.info[0].aead, aead);
	CHECK_EQ(fresh.info[1].aead, aead);
	CHECK(!fresh.info[0].resumed);

	/* resumed, roles swapped: y (original B) opens as A, keys still follow §3.5 */
	CHECK(conn_resumed(c, rc, &y, &x, tep, 0));
	CHECK_EQ(rc[0], TC_OK);
	CHECK_EQ(rc[1], TC_OK);
	exchange(c, seed + 1, bytes, &res1);
	conns_free(c);
	CHECK_EQ(res1.id[0], tep | TC_TEP_V_BIT);
	CHECK(memcmp(res1.id, fresh.id, TC_SESSID_LEN) != 0);
	CHECK(res1.info[0].resumed && res1.info[1].resumed);
	CHECK_EQ(res1.info[0].orig_role, ENO_ROLE_B);
	CHECK_EQ(res1.info[1].orig_role, ENO_ROLE_A);
	CHECK_EQ(res1.info[0].aead, aead); /* the original session's AEAD */
	CHECK_EQ(res1.info[0].ss_index, 1);

	/* second resumption uses ss[2] */
	CHECK(conn_resumed(c, rc, &x, &y, tep, 0));
	exchange(c, seed + 2, bytes / 4, &res2);
	conns_free(c);
	CHECK_EQ(res2.info[0].ss_index, 2);
	CHECK_EQ(res2.info[1].ss_index, 2);
	CHECK_EQ(res2.id[0], tep | TC_TEP_V_BIT);
	CHECK(memcmp(res2.id, res1.id, TC_SESSID_LEN) != 0);
	CHECK(memcmp(res2.id, fresh.id, TC_SESSID_LEN) != 0);
	hosts_free(&x, &y);
}

T(handshake_matrix_fresh_and_resumed)
{
	static const uint8_t teps[] = {TC_TEP_P256, TC_TEP_P521, TC_TEP_X25519, TC_TEP_X448};
	static const uint16_t aeads[] = {TC_AEAD_AES_128_GCM, TC_AEAD_AES_256_GCM,
					 TC_AEAD_CHACHA20_POLY1305};
	uint64_t seed = seed_base();

	for (size_t t = 0; t < sizeof(teps); t++)
		for (size_t a = 0; a < 3; a++, seed += 3)
			SEEDED(seed, matrix(teps[t], aeads[a], seed));
}

/* Many short sessions: empty streams, tiny frames, tiny output caps, any TEP. */
T(random_short_sessions)
{
	uint64_t seed = seed_base();

	for (int i = 0; i < 120; i++, seed++) {
		SEEDED(seed, {
			uint64_t r = seed;
			static const uint8_t teps[] = {TC_TEP_P256, TC_TEP_X25519, TC_TEP_X448};
			struct tc_conn *c[2];
			struct host x, y;
			struct sim s;

			hosts_init(&x, &y);
			x.cfg.max_frame_data = 1 + rnd(&r) % 300;
			y.cfg.max_frame_data = 1 + rnd(&r) % 300;
			conn_fresh(c, &x, &y, teps[rnd(&r) % 3]);
			sim_init(&s, c, r, rnd(&r) % 3 ? rnd(&r) % 3000 : 0, rnd(&r) % 3000);
			s.max_piece = 1 + rnd(&r) % 100;
			/* the smallest cap that fits a frame with data, or random */
			s.out_cap = rnd(&r) % 2 ? TC_FRAME_OVERHEAD + 1 + rnd(&r) % 64 : 0;
			s.rekey_every = rnd(&r) % 4;
			sim_run(&s);
			check_complete(&s);
			sim_free(&s);
			conns_free(c);
			hosts_free(&x, &y);
		});
	}
}

/* Host x (A) and y (B) after one fresh session, for the resumption tests. */
static void hosts_with_session(struct host *x, struct host *y, uint64_t seed)
{
	struct tc_conn *c[2];
	struct session s;

	hosts_init(x, y);
	conn_fresh(c, x, y, TC_TEP_X25519);
	exchange(c, seed, 1000, &s);
	conns_free(c);
}

T(resume_wrong_half_active_disables)
{
	uint64_t seed = seed_base();
	struct tc_conn *c[2];
	struct host x, y;
	int rc[2];

	SEEDED(seed, {
		hosts_with_session(&x, &y, seed);
		/* B agreed, but A receives a different identifier half: no tcpcrypt (§3.5). */
		CHECK(conn_resumed(c, rc, &x, &y, TC_TEP_X25519, 0x10));
		CHECK_EQ(rc[0], TC_CONN_DISABLE);
		CHECK(c[0] == NULL);
		tc_conn_free(c[1]);
		/* The secret is burnt on both sides; the next attempt is ss[2] and works. */
		CHECK(conn_resumed(c, rc, &x, &y, TC_TEP_X25519, 0));
		CHECK_EQ(rc[0], TC_OK);
		CHECK_EQ(rc[1], TC_OK);
		struct session s;
		exchange(c, seed, 5000, &s);
		CHECK_EQ(s.info[0].ss_index, 2);
		conns_free(c);
		hosts_free(&x, &y);
	});
}

T(resume_unknown_half_passive_goes_fresh)
{
	uint8_t so[TC_SC_SUBOPT_MAX], ans[TC_SC_SUBOPT_MAX], tep = TC_TEP_X25519;
	struct tc_sc_ticket ta, tb;
	uint64_t seed = seed_base();
	size_t so_len, ans_len;
	struct tc_conn *c[2];
	struct session s;
	struct host x, y;

	SEEDED(seed, {
		hosts_with_session(&x, &y, seed);
		CHECK_EQ(tc_sc_offer(x.cache, &y.addr, tep, 0, so, &so_len, &ta), TC_SC_RESUME);
		so[2] ^= 1;
		/* B does not agree and answers the TEP with v = 0: a fresh exchange (§3.5). */
		CHECK_EQ(tc_sc_accept(y.cache, &x.addr, so, so_len, 0, ans, &ans_len, &tb),
			 TC_SC_NONE);
		{
			uint8_t tr[] = {0x45, 0x14, so[0], 0x45, 0x03, 0x01, tep};
			struct tc_eno_result ea = {ENO_ROLE_A, tep, tr,	 sizeof(tr),
						   NULL,       0,   &ta, y.addr};
			struct tc_eno_result eb = {ENO_ROLE_B, tep,    tr,   sizeof(tr),
						   so,	       so_len, NULL, x.addr};

			CHECK_EQ(tc_conn_new(&c[0], &x.cfg, &ea), TC_OK);
			CHECK_EQ(tc_conn_new(&c[1], &y.cfg, &eb), TC_OK);
		}
		CHECK_EQ(ta.ref.chain, 0); /* wiped */
		exchange(c, seed, 5000, &s);
		CHECK_EQ(s.id[0], tep);
		CHECK(!s.info[0].resumed);
		conns_free(c);
		hosts_free(&x, &y);
	});
}

T(resume_same_offer_twice_goes_fresh)
{
	uint8_t so[TC_SC_SUBOPT_MAX], ans[TC_SC_SUBOPT_MAX];
	struct tc_sc_ticket ta, tb;
	uint64_t seed = seed_base();
	size_t so_len, ans_len;
	struct host x, y;

	SEEDED(seed, {
		hosts_with_session(&x, &y, seed);
		CHECK_EQ(tc_sc_offer(x.cache, &y.addr, TC_TEP_X25519, 0, so, &so_len, &ta),
			 TC_SC_RESUME);
		CHECK_EQ(tc_sc_accept(y.cache, &x.addr, so, so_len, 0, ans, &ans_len, &tb),
			 TC_SC_RESUME);
		/* A replayed SYN proposes the same secret: never used twice. */
		CHECK_EQ(tc_sc_accept(y.cache, &x.addr, so, so_len, 0, ans, &ans_len, &tb),
			 TC_SC_NONE);
		/* Nor does the active side offer it again. */
		tc_sc_ticket_wipe(&ta);
		CHECK_EQ(tc_sc_offer(x.cache, &y.addr, TC_TEP_X25519, 0, ans, &ans_len, &ta),
			 TC_SC_RESUME);
		CHECK(memcmp(ans + 1, so + 1, 9) != 0);
		CHECK_EQ(ta.index, 2);
		tc_sc_ticket_wipe(&ta);
		tc_sc_ticket_wipe(&tb);
		hosts_free(&x, &y);
	});
}

T(resume_v_bit_without_offer_disables)
{
	uint8_t tr[] = {0x45, 0x03, 0x23, 0x45, 0x04, 0x01, 0xa3};
	struct tc_eno_result eno = {ENO_ROLE_A, 0xa3, tr, sizeof(tr), NULL, 0, NULL, {0}};
	struct tc_conn_config cfg = {0};
	struct tc_conn *c = (struct tc_conn *)&eno;

	CHECK_EQ(tc_conn_new(&c, &cfg, &eno), TC_CONN_DISABLE);
	CHECK(c == NULL);
	eno.tep_byte = 0x30; /* not a tcpcrypt TEP */
	CHECK_EQ(tc_conn_new(&c, &cfg, &eno), TC_E_UNSUPPORTED);
	eno.tep_byte = 0x23;
	eno.role = 3; /* neither ENO_ROLE_A nor ENO_ROLE_B */
	CHECK_EQ(tc_conn_new(&c, &cfg, &eno), TC_E_INVAL);
}

T(cache_policies_through_conn)
{
	uint8_t so[TC_SC_SUBOPT_MAX];
	uint64_t seed = seed_base();
	struct tc_sc_ticket t;
	struct tc_conn *c[2];
	struct session s;
	struct host x, y;
	size_t so_len;

	SEEDED(seed, {
		hosts_init(&x, &y);
		/* do-not-cache on B only */
		y.cfg.policy = TC_SC_NO_CACHE;
		conn_fresh(c, &x, &y, TC_TEP_X25519);
		exchange(c, seed, 100, &s);
		CHECK_EQ(tc_sc_count(x.cache), 1);
		CHECK_EQ(tc_sc_count(y.cache), 0);
		CHECK_EQ(s.info[1].cache_ref.chain, 0);
		/* flush: erase what the connection produced */
		tc_conn_flush_cache(c[0]);
		CHECK_EQ(tc_sc_count(x.cache), 0);
		conns_free(c);
		/* do-not-resume: no offer */
		y.cfg.policy = 0;
		conn_fresh(c, &x, &y, TC_TEP_X25519);
		exchange(c, seed, 100, &s);
		conns_free(c);
		CHECK_EQ(
		    tc_sc_offer(x.cache, &y.addr, TC_TEP_X25519, TC_SC_NO_RESUME, so, &so_len, &t),
		    TC_SC_NONE);
		/* flush of a resumed connection erases the chain it came from */
		int rc[2];
		CHECK(conn_resumed(c, rc, &x, &y, TC_TEP_X25519, 0));
		CHECK_EQ(tc_sc_count(x.cache), 1);
		tc_conn_flush_cache(c[0]);
		tc_conn_flush_cache(c[1]);
		CHECK_EQ(tc_sc_count(x.cache), 0);
		CHECK_EQ(tc_sc_count(y.cache), 0);
		conns_free(c);
		hosts_free(&x, &y);
	});
}

/* ---- tampering ---- */

/* One fresh X25519 run with byte `at` of direction dir XORed with mask. */
static void tampered_run(struct sim *s, struct tc_conn *c[2], uint64_t seed, int dir, size_t at,
			 uint8_t mask, size_t bytes)
{
	sim_init(s, c, seed, bytes, bytes);
	s->e[dir].out.flip_at = at;
	s->e[dir].out.flip_mask = mask;
	sim_run(s);
	check_prefix(s);
	/* Never both ends content: the change was noticed. */
	CHECK(!(s->e[0].ev & s->e[1].ev & TC_CONN_EV_EOF));
}

static void init_tamper(int dir, size_t at, uint64_t seed)
{
	const uint16_t one = TC_AEAD_AES_128_GCM;
	struct tc_conn *c[2];
	struct host x, y;
	struct sim s;
	uint8_t mask = 1 + rnd(&seed) % 255;
	int recv_err;

	hosts_init(&x, &y);
	if (dir == 1 && (at == 8 || at == 9)) {
		/* Init2.sym_cipher: A offered only AES-128-GCM (§3.3) */
		x.cfg.aeads = &one;
		x.cfg.naeads = 1;
	} else {
		x.cfg.aeads = all_aeads;
		x.cfg.naeads = 3;
	}
	conn_fresh(c, &x, &y, TC_TEP_X25519);
	tampered_run(&s, c, seed, dir, at, mask, 2000);
	recv_err = s.e[!dir].err;
	if (at < 4) /* magic */
		CHECK_EQ(recv_err, TC_E_MALFORMED);
	else if (dir == 1 && (at == 8 || at == 9))
		CHECK_EQ(recv_err, TC_E_BAD_CIPHER);
	else if (at >= (dir ? 10 : 15))
		/* N_A/N_B, Pub_A/Pub_B: other keys, so the first frame fails (§3.6). */
		CHECK(s.e[0].err == TC_E_AUTH || s.e[1].err == TC_E_AUTH);
	if (s.e[0].err == TC_OK && s.e[1].err == TC_OK)
		/* message_len grown: the receiver waits for the rest, no keys, no data */
		CHECK(s.e[0].rx_len == 0 && s.e[1].rx_len == 0 && at >= 4 && at < 8);
	for (int i = 0; i < 2; i++)
		CHECK(s.e[i].err == TC_OK || tc_err_is_abort(s.e[i].err));
	/* No frame authenticated, so neither host cached the broken session's secret. */
	CHECK_EQ(tc_sc_count(x.cache) + tc_sc_count(y.cache), 0);
	sim_free(&s);
	conns_free(c);
	hosts_free(&x, &y);
}

T(tamper_init_messages)
{
	uint64_t seed = seed_base();

	/* Init1 with three ciphers is 79 bytes, Init2 74 (X25519). */
	for (size_t at = 0; at < 79; at++, seed++)
		SEEDED(seed, init_tamper(0, at, seed));
	for (size_t at = 0; at < 74; at++, seed++)
		SEEDED(seed, init_tamper(1, at, seed));
}

T(tamper_frames)
{
	uint64_t seed = seed_base();

	for (int i = 0; i < 60; i++, seed++) {
		SEEDED(seed, {
			int dir = i & 1;
			size_t init_len = dir ? 74 : 79;
			/* every header byte of the first frames, then anywhere */
			size_t at = init_len + (i < 12 ? (size_t)i / 2 : rnd(&seed) % 20000);
			struct tc_conn *c[2];
			struct host x, y;
			struct sim s;

			hosts_init(&x, &y);
			x.cfg.aeads = all_aeads;
			x.cfg.naeads = 3;
			x.cfg.max_frame_data = 1000;
			y.cfg.max_frame_data = 1000;
			conn_fresh(c, &x, &y, TC_TEP_X25519);
			tampered_run(&s, c, seed, dir, at, 1 + rnd(&seed) % 255, 20000);
			int e = s.e[!dir].err;
			CHECK(e == TC_E_AUTH || e == TC_E_MALFORMED || e == TC_E_FIN_NO_FINP);
			CHECK(!(s.e[!dir].ev & TC_CONN_EV_EOF));
			CHECK(s.e[!dir].ev & TC_CONN_EV_ABORT);
			CHECK_EQ(tc_conn_read(c[!dir], (uint8_t[1]){0}, 1), e);
			sim_free(&s);
			conns_free(c);
			hosts_free(&x, &y);
		});
	}
}

T(tamper_resumed_frames)
{
	uint64_t seed = seed_base();
	struct tc_conn *c[2];
	struct host x, y;
	struct sim s;
	int rc[2];

	SEEDED(seed, {
		hosts_with_session(&x, &y, seed);
		CHECK(conn_resumed(c, rc, &x, &y, TC_TEP_X25519, 0));
		/* A resumed stream starts with a frame at offset 0: flip its clen. */
		tampered_run(&s, c, seed, 0, 2, 0x04, 3000);
		CHECK(s.e[1].err == TC_E_AUTH || s.e[1].err == TC_E_MALFORMED ||
		      s.e[1].err == TC_E_FIN_NO_FINP);
		sim_free(&s);
		conns_free(c);
		hosts_free(&x, &y);
	});
}

T(no_common_cipher)
{
	const uint16_t a = TC_AEAD_AES_128_GCM, b = TC_AEAD_CHACHA20_POLY1305;
	uint64_t seed = seed_base();
	struct tc_conn *c[2];
	struct host x, y;
	struct sim s;

	hosts_init(&x, &y);
	x.cfg.aeads = &a;
	x.cfg.naeads = 1;
	y.cfg.aeads = &b;
	y.cfg.naeads = 1;
	conn_fresh(c, &x, &y, TC_TEP_X25519);
	sim_init(&s, c, seed, 10, 10);
	sim_run(&s);
	CHECK_EQ(s.e[1].err, TC_E_BAD_CIPHER);
	CHECK_EQ(s.e[0].rx_len + s.e[1].rx_len, 0);
	sim_free(&s);
	conns_free(c);
	hosts_free(&x, &y);
}

/* ---- FIN ---- */

static void forged_fin(size_t fin_at, uint64_t seed)
{
	struct tc_conn *c[2];
	struct host x, y;
	struct sim s;

	hosts_init(&x, &y);
	x.cfg.max_frame_data = 100;
	conn_fresh(c, &x, &y, TC_TEP_X25519);
	sim_init(&s, c, seed, 1000, 1000);
	s.e[0].out.fin_at = fin_at;
	sim_run(&s);
	check_prefix(&s);
	CHECK_EQ(s.e[1].err, TC_E_FIN_NO_FINP);
	CHECK(!(s.e[1].ev & TC_CONN_EV_EOF));
	sim_free(&s);
	conns_free(c);
	hosts_free(&x, &y);
}

T(fin_without_finp)
{
	uint64_t seed = seed_base();
	/* Init1 of X25519 with all three ciphers is 79 bytes; frames of 100 bytes are 120. */
	const size_t at[] = {0, 30, 79, 79 + 120, 79 + 3 * 120, 79 + 3 * 120 + 7, 79 + 9 * 120};

	for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++, seed++)
		SEEDED(seed, forged_fin(at[i], seed));
}

T(bytes_after_finp_abort)
{
	uint64_t seed = seed_base();
	struct tc_conn *c[2];
	struct host x, y;
	struct sim s;
	int r;

	hosts_init(&x, &y);
	conn_fresh(c, &x, &y, TC_TEP_X25519);
	sim_init(&s, c, seed, 10, 10);
	sim_run(&s);
	check_complete(&s);
	CHECK_EQ(tc_conn_send(c[0], (const uint8_t *)"x", 1, false), TC_E_STATE);
	r = tc_conn_input(c[1], (const uint8_t *)"\0\0\x11", 3, false);
	CHECK_EQ(r, TC_E_AFTER_FIN);
	sim_free(&s);
	conns_free(c);
	hosts_free(&x, &y);
}

/* ---- rekeying, framing, flow control ---- */

T(rekey_under_traffic_both_directions)
{
	uint64_t seed = seed_base();

	for (int i = 0; i < 4; i++, seed++) {
		SEEDED(seed, {
			struct tc_conn_info ia, ib;
			struct tc_conn *c[2];
			struct host x, y;
			struct sim s;

			hosts_init(&x, &y);
			x.cfg.max_frame_data = 500;
			y.cfg.max_frame_data = 700;
			conn_fresh(c, &x, &y, TC_TEP_X25519);
			sim_init(&s, c, seed, 300 * KIB, 300 * KIB);
			s.rekey_every = 2;
			s.max_piece = 4 * KIB;
			s.out_cap = 1500;
			s.out_calls = 3;
			sim_run(&s);
			check_complete(&s);
			tc_conn_info(c[0], &ia);
			tc_conn_info(c[1], &ib);
			CHECK(ia.sent_gen >= 10 && ib.sent_gen >= 10);
			/* Each end decrypted the other's last key set. */
			CHECK_EQ(ia.remote_gen, ib.sent_gen);
			CHECK_EQ(ib.remote_gen, ia.sent_gen);
			sim_free(&s);
			conns_free(c);
			hosts_free(&x, &y);
		});
	}
}

/* Run the handshake to the point where both ends have keys and nothing is in flight. */
static void settle(struct tc_conn *c[2])
{
	uint8_t buf[4096];

	for (int round = 0; round < 3; round++)
		for (int i = 0; i < 2; i++) {
			int n = tc_conn_output(c[i], buf, sizeof(buf));

			CHECK(n >= 0);
			CHECK_EQ(tc_conn_input(c[!i], buf, n, false), n);
		}
}

T(rekey_is_answered_at_once)
{
	struct tc_conn_info info;
	struct tc_conn *c[2];
	uint8_t buf[256];
	struct host x, y;
	int n;

	hosts_init(&x, &y);
	conn_fresh(c, &x, &y, TC_TEP_X25519);
	CHECK_EQ(tc_conn_rekey(c[0]), TC_E_STATE); /* no keys yet */
	settle(c);
	CHECK(!tc_conn_want_output(c[0]) && !tc_conn_want_output(c[1]));
	/* The keep-alive of §3.9: an empty frame with rekey = 1 ... */
	CHECK_EQ(tc_conn_rekey(c[0]), TC_OK);
	CHECK_EQ(tc_conn_rekey(c[0]), TC_E_STATE); /* one outstanding at a time */
	n = tc_conn_output(c[0], buf, sizeof(buf));
	CHECK_EQ(n, TC_FRAME_OVERHEAD);
	CHECK_EQ(buf[0], TC_FRAME_CTL_REKEY);
	CHECK_EQ(tc_conn_input(c[1], buf, n, false), n);
	CHECK(tc_conn_events(c[1]) & TC_CONN_EV_PEER_REKEY);
	/* ... which the peer must answer at once with its own (§3.8). */
	CHECK(tc_conn_want_output(c[1]));
	n = tc_conn_output(c[1], buf, sizeof(buf));
	CHECK_EQ(n, TC_FRAME_OVERHEAD);
	CHECK_EQ(buf[0], TC_FRAME_CTL_REKEY);
	CHECK_EQ(tc_conn_input(c[0], buf, n, false), n);
	/* Catching up does not call for another answer. */
	CHECK(!tc_conn_want_output(c[0]));
	tc_conn_info(c[0], &info);
	CHECK_EQ(info.local_gen, 1);
	CHECK_EQ(info.remote_gen, 1);
	CHECK_EQ(tc_conn_rekey(c[0]), TC_OK);
	conns_free(c);
	hosts_free(&x, &y);
}

T(frames_fit_the_output_cap)
{
	uint64_t seed = seed_base();
	static uint8_t data[50 * KIB];
	struct tc_conn *c[2];
	struct host x, y;
	uint8_t buf[1500];
	int n, frames = 0;

	hosts_init(&x, &y);
	conn_fresh(c, &x, &y, TC_TEP_X25519);
	settle(c);
	fill(&seed, data, sizeof(data));
	CHECK_EQ(tc_conn_send(c[1], data, sizeof(data), true), sizeof(data));
	while ((n = tc_conn_output(c[1], buf, 1400)) > 0) {
		/* whole frames only, each within the segment */
		for (int off = 0; off < n; frames++) {
			size_t flen = TC_FRAME_HDR_LEN + (buf[off + 1] << 8 | buf[off + 2]);

			CHECK(off + flen <= (size_t)n);
			off += flen;
		}
		CHECK(n <= 1400);
		CHECK_EQ(tc_conn_input(c[0], buf, n, !tc_conn_want_output(c[1])), n);
	}
	CHECK_EQ(n, 0);
	CHECK(frames >= (int)(sizeof(data) / 1380));
	CHECK(tc_conn_events(c[0]) & TC_CONN_EV_EOF);
	/* Under 20 bytes no frame fits: nothing, not an error. */
	CHECK_EQ(tc_conn_send(c[0], data, 10, false), 10);
	CHECK_EQ(tc_conn_output(c[0], buf, TC_FRAME_OVERHEAD), 0);
	CHECK_EQ(tc_conn_output(c[0], buf, TC_FRAME_OVERHEAD + 10), TC_FRAME_OVERHEAD + 10);
	conns_free(c);
	hosts_free(&x, &y);
}

T(input_stops_when_plaintext_waits)
{
	uint64_t seed = seed_base();
	static uint8_t data[64 * KIB], wire[80 * KIB], got[64 * KIB];
	size_t wire_len = 0, done = 0, got_len = 0;
	struct tc_conn *c[2];
	struct host x, y;
	int n;

	hosts_init(&x, &y);
	x.cfg.max_buffer = 4 * KIB;
	y.cfg.max_frame_data = 1000;
	conn_fresh(c, &x, &y, TC_TEP_X25519);
	settle(c);
	fill(&seed, data, sizeof(data));
	CHECK_EQ(tc_conn_send(c[1], data, sizeof(data), true), sizeof(data));
	while ((n = tc_conn_output(c[1], wire + wire_len, sizeof(wire) - wire_len)) > 0)
		wire_len += n;
	n = tc_conn_input(c[0], wire, wire_len, true);
	CHECK(n > 0 && (size_t)n < wire_len); /* bounded: about max_buffer + one frame */
	CHECK(n < 6 * KIB);
	done = n > 0 ? (size_t)n : wire_len;
	while ((n = tc_conn_read(c[0], got + got_len, 3000)) > 0)
		got_len += n;
	while (done < wire_len && n >= 0) {
		n = tc_conn_input(c[0], wire + done, wire_len - done, true);
		done += n > 0 ? n : 0;
		while ((n = tc_conn_read(c[0], got + got_len, 3000)) > 0)
			got_len += n;
	}
	CHECK_EQ(got_len, sizeof(data));
	CHECK_MEM(got, data, sizeof(data));
	CHECK(tc_conn_events(c[0]) & TC_CONN_EV_EOF);
	CHECK_EQ(tc_conn_error(c[0]), TC_OK);
	conns_free(c);
	hosts_free(&x, &y);
}

/* ---- urgent data (RFC 8548 §3.7, docs/urgent-data.md) ---- */

/*
 * One tc_conn_output of host 0 at most cap bytes, fed to host 1: its length,
 * and host 1's urgent mark afterwards (UINT64_MAX: none).
 */
static int urgent_step(struct tc_conn *c[2], size_t cap, uint64_t *mark)
{
	uint8_t buf[4096];
	int n = tc_conn_output(c[0], buf, cap);

	CHECK(n >= 0);
	if (n > 0)
		CHECK_EQ(tc_conn_input(c[1], buf, n, false), n);
	if (!tc_conn_urgent(c[1], mark))
		*mark = UINT64_MAX;
	return n;
}

T(urgent_byte_at_start_middle_end_of_a_frame)
{
	static const size_t at[] = {0, 50, 99};
	uint8_t data[100], got[300];
	struct tc_conn *c[2];
	struct host x, y;
	uint64_t mark, end = 0, seed = seed_base();
	int n, total = 0;

	hosts_init(&x, &y);
	conn_fresh(c, &x, &y, TC_TEP_X25519);
	settle(c);
	CHECK_EQ(tc_conn_urgent_frame_end(c[0]), 0);
	for (size_t i = 0; i < 3; i++) {
		fill(&seed, data, sizeof(data));
		CHECK_EQ(tc_conn_send(c[0], data, sizeof(data), false), sizeof(data));
		CHECK_EQ(tc_conn_send_urgent(c[0], 100 * i + at[i]), TC_OK);
		/* One frame: 20 bytes of overhead, 2 of urgent field, the data. */
		n = urgent_step(c, sizeof(got), &mark);
		CHECK_EQ(n, 122);
		CHECK_EQ(mark, 100 * i + at[i]);
		CHECK(tc_conn_events(c[1]) & TC_CONN_EV_URGENT);
		if (i)
			CHECK_EQ(tc_conn_urgent_frame_end(c[0]), end + 122);
		end = tc_conn_urgent_frame_end(c[0]);
		CHECK_EQ(tc_conn_read(c[1], got, sizeof(got)), sizeof(data));
		CHECK_MEM(got, data, sizeof(data));
		total += n;
	}
	/* Without urgent data, no field, no mark moved. */
	CHECK_EQ(tc_conn_send(c[0], data, 10, false), 10);
	CHECK_EQ(urgent_step(c, sizeof(got), &mark), 30);
	CHECK_EQ(mark, 299);
	CHECK(!(tc_conn_events(c[1]) & TC_CONN_EV_URGENT));
	CHECK_EQ(tc_conn_urgent_frame_end(c[0]), end);
	CHECK_EQ(tc_conn_error(c[1]), TC_OK);
	conns_free(c);
	hosts_free(&x, &y);
}

T(urgent_byte_framed_when_it_comes)
{
	uint8_t data[40] = "0123456789abcdefghijklmnopqrstuvwxyz!@#$";
	struct tc_conn *c[2];
	struct host x, y;
	uint64_t mark;

	hosts_init(&x, &y);
	conn_fresh(c, &x, &y, TC_TEP_X25519);
	/* Before the keys exist: the mark waits with the data. */
	CHECK_EQ(tc_conn_send(c[0], data, 10, false), 10);
	CHECK_EQ(tc_conn_send_urgent(c[0], 25), TC_OK);
	settle(c);
	CHECK(tc_conn_urgent(c[1], &mark) == false);
	/* Bytes 10..29 queued: the frame holds the urgent byte 25 at index 15. */
	CHECK_EQ(tc_conn_send(c[0], data + 10, 20, false), 20);
	CHECK_EQ(urgent_step(c, 4096, &mark), 22 + 20);
	CHECK_EQ(mark, 25);
	/* Framed already: too late. */
	CHECK_EQ(tc_conn_send_urgent(c[0], 29), TC_E_STATE);
	/* Two urgent bytes in a row, each in its own frame: the mark follows. */
	CHECK_EQ(tc_conn_send(c[0], data + 30, 1, false), 1);
	CHECK_EQ(tc_conn_send_urgent(c[0], 30), TC_OK);
	CHECK_EQ(urgent_step(c, 4096, &mark), 23);
	CHECK_EQ(mark, 30);
	CHECK_EQ(tc_conn_send(c[0], data + 31, 1, false), 1);
	CHECK_EQ(tc_conn_send_urgent(c[0], 31), TC_OK);
	CHECK_EQ(urgent_step(c, 4096, &mark), 23);
	CHECK_EQ(mark, 31);
	/* Two marks before one frame: the later replaces the earlier, as TCP's pointer. */
	CHECK_EQ(tc_conn_send(c[0], data + 32, 4, false), 4);
	CHECK_EQ(tc_conn_send_urgent(c[0], 33), TC_OK);
	CHECK_EQ(tc_conn_send_urgent(c[0], 35), TC_OK);
	CHECK_EQ(urgent_step(c, 4096, &mark), 26);
	CHECK_EQ(mark, 35);
	CHECK(!tc_conn_want_output(c[0]));
	/* Beyond the end of a stream that has its fin: refused. */
	CHECK_EQ(tc_conn_send(c[0], data + 36, 4, true), 4);
	CHECK_EQ(tc_conn_send_urgent(c[0], 40), TC_E_STATE);
	CHECK_EQ(tc_conn_send_urgent(c[0], 39), TC_OK);
	CHECK_EQ(urgent_step(c, 4096, &mark), 26);
	CHECK_EQ(mark, 39);
	CHECK(tc_conn_events(c[1]) & TC_CONN_EV_EOF);
	conns_free(c);
	hosts_free(&x, &y);
}

T(urgent_byte_without_room_for_the_field)
{
	uint8_t data[10] = "abcdefghi!", got[10];
	struct tc_conn *c[2];
	struct host x, y;
	uint64_t mark;

	hosts_init(&x, &y);
	conn_fresh(c, &x, &y, TC_TEP_X25519);
	settle(c);
	CHECK_EQ(tc_conn_send(c[0], data, 10, false), 10);
	CHECK_EQ(tc_conn_send_urgent(c[0], 9), TC_OK);
	/*
	 * Room for 10 bytes without the urgent field, 8 with it: the frame ends
	 * before the urgent byte, and the next one starts with it (urgent = 0).
	 */
	CHECK_EQ(urgent_step(c, 30, &mark), 29);
	CHECK_EQ(mark, UINT64_MAX);
	CHECK_EQ(urgent_step(c, 22, &mark), 0); /* no room for even one byte and the field */
	CHECK_EQ(urgent_step(c, 30, &mark), 23);
	CHECK_EQ(mark, 9);
	CHECK_EQ(tc_conn_read(c[1], got, sizeof(got)), 10);
	CHECK_MEM(got, data, 10);
	/* The urgent byte first and room for it: one frame, field and all. */
	CHECK_EQ(tc_conn_send(c[0], data, 10, false), 10);
	CHECK_EQ(tc_conn_send_urgent(c[0], 10), TC_OK);
	CHECK_EQ(urgent_step(c, 26, &mark), 26);
	CHECK_EQ(mark, 10);
	conns_free(c);
	hosts_free(&x, &y);
}
