/* SPDX-License-Identifier: MIT */
/* Session resumption on the wire: docs/architecture.md#session-resumption-on-the-wire. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <openssl/crypto.h>
#include "core/err.h"
#include "core/tep.h"
#include "resume.h"

#define NS_PER_SEC 1000000000ull
/* acceptances kept published per chain: A's offers may arrive in any order */
#define RS_ACCEPTS_PER_CHAIN (2 * RS_OFFERS_PER_PEER)
/* a claim whose flow never reaches the data path (fell back, SYN lost) */
#define CLAIM_TTL_NS (30 * NS_PER_SEC)
#define TICK_NS	     (20 * 1000000ull)	 /* flush requests, refills */
#define SWEEP_NS     (1000 * 1000000ull) /* claims never taken, expiry, rs_cache */
#define ID_BUCKETS   4096		 /* slots by id, for the data path's claims */
/*
 * A new chain publishes only this many offers (acceptances: twice as many)
 * until it has lived one tick: in a burst of fresh exchanges every session
 * replaces the last one's chain, and publishing all of them each time cost
 * more agent CPU than the exchanges (docs/machine-facts.md#resumption-in-a-burst).
 */
#define RS_OFFERS_YOUNG 2

struct rs_chain_rec;

/* One offer or acceptance: published (claimed_at 0) or claimed by sock_ops. */
struct rs_slot {
	struct rs_slot *next, *prev;   /* every slot (the sweep) */
	struct rs_slot *cnext, *cprev; /* its chain's (while chain is set) */
	struct rs_slot *hnext;	       /* bucket of byid */
	struct rs_chain_rec *chain;    /* NULL once the chain is forgotten */
	uint32_t id;
	bool offer;
	uint64_t gen; /* offers: the generation in the key */
	struct rs_offer_key okey;
	struct eno_rshalf hkey;
	uint64_t claimed_at;
	struct tc_sc_ticket t; /* ss[i], this host's nonce: wiped when the slot goes */
};

struct rs_chain_rec {
	struct rs_chain_rec *next;
	struct rs_slot *slots; /* published and claimed, cnext */
	struct tc_sc_ref ref;
	struct negcache_key nk;
	uint64_t expires;
	uint64_t seq;	   /* offers: chain number, the high half of its generations */
	uint32_t next_off; /* offers: number of the next offer */
	uint64_t born;
	uint32_t published, resumed;
	bool dirty; /* rs_cache to rewrite */
	bool young; /* RS_OFFERS_YOUNG published so far, the rest at the next tick */
};

struct resume {
	struct resume_cfg cfg;
	struct tc_sesscache *sc;
	struct rs_slot *slots;
	struct rs_slot *byid[ID_BUCKETS];
	struct rs_chain_rec *chains;
	uint32_t next_id;
	uint64_t next_seq;
	uint64_t ticked, swept;
	uint64_t flush_seen;
};

static void map_clear(int fd, size_t key_size)
{
	uint8_t key[64], next[64];

	if (fd < 0 || key_size > sizeof(key))
		return;
	while (!bpf_map_get_next_key(fd, NULL, next)) {
		memcpy(key, next, key_size);
		if (bpf_map_delete_elem(fd, key))
			break;
	}
}

void resume_peer(const struct negcache_key *nk, struct tc_peer *p)
{
	memset(p, 0, sizeof(*p));
	p->family = nk->family;
	p->len = nk->family == 2 ? 4 : 16;
	memcpy(p->id, nk->addr, p->len);
}

struct resume *resume_new(const struct resume_cfg *cfg)
{
	struct tc_sc_config scc = {.capacity = cfg->capacity, .nonce_len = TEP_RESUME_NONCE};
	struct resume *r = calloc(1, sizeof(*r));
	struct rs_ctl ctl = {0};
	__u32 zero = 0;

	/* --cache-size 0: nothing cached, nothing offered */
	if (!r || (cfg->capacity && tc_sc_new(&r->sc, &scc))) {
		fprintf(stderr, "tcpcryptd: cannot create the session cache\n");
		free(r);
		return NULL;
	}
	r->cfg = *cfg;
	/* a restarted agent forgets everything (RFC 8548 §3.5: no secret survives it) */
	map_clear(cfg->offers_fd, sizeof(struct rs_offer_key));
	map_clear(cfg->accepts_fd, sizeof(struct eno_rshalf));
	map_clear(cfg->peers_fd, sizeof(struct negcache_key));
	map_clear(cfg->cache_fd, sizeof(struct rs_chain_key));
	if (!bpf_map_lookup_elem(cfg->ctl_fd, &zero, &ctl)) {
		ctl.flush_done = ctl.flush_req;
		bpf_map_update_elem(cfg->ctl_fd, &zero, &ctl, BPF_ANY);
	}
	r->flush_seen = ctl.flush_req;
	return r;
}

struct tc_sesscache *resume_cache(struct resume *r)
{
	return r->sc;
}

static void chain_key(const struct rs_chain_rec *c, struct rs_chain_key *k)
{
	memset(k, 0, sizeof(*k));
	k->peer = c->nk;
	k->orig_role = c->ref.orig_role;
	k->tep = c->ref.tep;
}

static void chain_publish(struct resume *r, struct rs_chain_rec *c)
{
	struct rs_chain_key k;
	struct rs_chain v = {
	    .expires_ns = c->expires, .published = c->published, .resumed = c->resumed};

	uint64_t index;

	chain_key(c, &k);
	if (!tc_sc_chain_index(r->sc, &c->ref, &index))
		return;
	v.next_index = index;
	bpf_map_update_elem(r->cfg.cache_fd, &k, &v, BPF_ANY);
	c->dirty = false;
}

/* The lowest published offer generation of c (or the next one), for rs_peers. */
static uint64_t offers_lo(const struct resume *r, const struct rs_chain_rec *c)
{
	uint64_t lo = c->seq << 32 | c->next_off;

	(void)r;
	for (struct rs_slot *s = c->slots; s; s = s->cnext)
		if (s->offer && !s->claimed_at && s->gen < lo)
			lo = s->gen;
	return lo;
}

static void peers_publish(struct resume *r, struct rs_chain_rec *c)
{
	struct rs_peer p = {.lo = offers_lo(r, c)};

	bpf_map_update_elem(r->cfg.peers_fd, &c->nk, &p, BPF_ANY);
}

/* Take one more secret of c and publish it; false if the chain gives none. */
static bool slot_publish(struct resume *r, struct rs_chain_rec *c)
{
	uint8_t so[TC_SC_SUBOPT_MAX];
	struct rs_slot *s = calloc(1, sizeof(*s));
	size_t len;
	int err;

	if (!s)
		return false;
	if (tc_sc_take(r->sc, &c->ref, so, &len, &s->t) != TC_SC_RESUME ||
	    len != 1 + TEP_RESUME_HALF + TEP_RESUME_NONCE)
		goto fail;
	s->chain = c;
	s->id = ++r->next_id ? r->next_id : ++r->next_id;
	s->offer = c->ref.orig_role == ENO_ROLE_A;
	if (s->offer) {
		struct rs_offer o = {.id = s->id};

		o.own.tep = c->ref.tep;
		o.own.nonce_len = TEP_RESUME_NONCE;
		memcpy(o.own.half, so + 1, TEP_RESUME_HALF);
		memcpy(o.own.nonce, so + 1 + TEP_RESUME_HALF, TEP_RESUME_NONCE);
		memcpy(o.expect.b, s->t.peer_half, TEP_RESUME_HALF);
		s->gen = c->seq << 32 | c->next_off++;
		s->okey.peer = c->nk;
		s->okey.gen = s->gen;
		err = bpf_map_update_elem(r->cfg.offers_fd, &s->okey, &o, BPF_NOEXIST);
	} else {
		struct rs_accept a = {.id = s->id, .peer = c->nk};

		a.own.tep = c->ref.tep;
		a.own.nonce_len = TEP_RESUME_NONCE;
		memcpy(a.own.half, so + 1, TEP_RESUME_HALF);
		memcpy(a.own.nonce, so + 1 + TEP_RESUME_HALF, TEP_RESUME_NONCE);
		memcpy(s->hkey.b, s->t.peer_half, TEP_RESUME_HALF);
		err = bpf_map_update_elem(r->cfg.accepts_fd, &s->hkey, &a, BPF_NOEXIST);
	}
	OPENSSL_cleanse(so, sizeof(so));
	if (err)
		goto fail;
	s->next = r->slots;
	if (s->next)
		s->next->prev = s;
	r->slots = s;
	s->cnext = c->slots;
	if (s->cnext)
		s->cnext->cprev = s;
	c->slots = s;
	s->hnext = r->byid[s->id % ID_BUCKETS];
	r->byid[s->id % ID_BUCKETS] = s;
	c->published++;
	c->dirty = true;
	return true;
fail:
	tc_sc_ticket_wipe(&s->t);
	free(s);
	return false;
}

/* Take s off its chain's list: the chain goes, a connection still comes for s. */
static void slot_detach(struct rs_slot *s)
{
	if (!s->chain)
		return;
	if (s->cprev)
		s->cprev->cnext = s->cnext;
	else
		s->chain->slots = s->cnext;
	if (s->cnext)
		s->cnext->cprev = s->cprev;
	s->cnext = s->cprev = NULL;
	s->chain = NULL;
}

static void slot_free(struct resume *r, struct rs_slot *s)
{
	struct rs_slot **pp = &r->byid[s->id % ID_BUCKETS];

	slot_detach(s);
	if (s->prev)
		s->prev->next = s->next;
	else
		r->slots = s->next;
	if (s->next)
		s->next->prev = s->prev;
	while (*pp && *pp != s)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = s->hnext;
	tc_sc_ticket_wipe(&s->t);
	free(s);
}

/*
 * Take s back from sock_ops: true if it was still published (now it is not,
 * and nobody can claim it); false if a connection claimed it first (the
 * delete failed), whose flow will come for the ticket.
 */
static bool slot_unpublish(struct resume *r, struct rs_slot *s)
{
	int err;

	if (s->claimed_at)
		return false;
	err = s->offer ? bpf_map_delete_elem(r->cfg.offers_fd, &s->okey)
		       : bpf_map_delete_elem(r->cfg.accepts_fd, &s->hkey);
	if (s->chain && s->chain->published) {
		s->chain->published--;
		s->chain->dirty = true;
	}
	if (err) /* a connection has it: counted once, kept for its flow (CLAIM_TTL_NS) */
		s->claimed_at = r->ticked ? r->ticked : 1;
	return !err;
}

/*
 * Keep RS_OFFERS_PER_PEER offers or RS_ACCEPTS_PER_CHAIN acceptances of c
 * published (a chain younger than a tick: RS_OFFERS_YOUNG, or twice that).
 */
static void chain_refill(struct resume *r, struct rs_chain_rec *c, uint64_t now)
{
	unsigned want;

	if (c->young && now - c->born >= TICK_NS)
		c->young = false;
	want = c->young ? RS_OFFERS_YOUNG : RS_OFFERS_PER_PEER;
	if (c->ref.orig_role == ENO_ROLE_B)
		want *= RS_ACCEPTS_PER_CHAIN / RS_OFFERS_PER_PEER;

	while (c->published < want) {
		/* offers: every published one within the 8 generations sock_ops looks at */
		if (c->ref.orig_role == ENO_ROLE_A &&
		    (c->seq << 32 | c->next_off) >= offers_lo(r, c) + RS_OFFERS_PER_PEER)
			break;
		if (!slot_publish(r, c))
			break;
	}
	if (c->ref.orig_role == ENO_ROLE_A)
		peers_publish(r, c);
	if (c->dirty)
		chain_publish(r, c);
}

static void chain_forget(struct resume *r, struct rs_chain_rec *c, bool erase)
{
	struct rs_chain_rec **pp = &r->chains;
	struct rs_chain_key k;

	for (struct rs_slot *s = c->slots, *n; s; s = n) {
		n = s->cnext;
		if (slot_unpublish(r, s))
			slot_free(r, s);
		else
			slot_detach(s); /* claimed: its flow still comes for it */
	}
	if (c->ref.orig_role == ENO_ROLE_A) {
		struct rs_peer *cur = NULL, p;

		/* the destination's offers, if they were this chain's */
		if (!bpf_map_lookup_elem(r->cfg.peers_fd, &c->nk, &p) && p.lo >> 32 == c->seq)
			cur = &p;
		if (cur)
			bpf_map_delete_elem(r->cfg.peers_fd, &c->nk);
	}
	chain_key(c, &k);
	bpf_map_delete_elem(r->cfg.cache_fd, &k);
	if (erase && r->sc)
		tc_sc_flush(r->sc, &c->ref);
	while (*pp && *pp != c)
		pp = &(*pp)->next;
	if (*pp)
		*pp = c->next;
	OPENSSL_cleanse(c, sizeof(*c));
	free(c);
}

void resume_chain_added(struct resume *r, const struct tc_sc_ref *ref,
			const struct negcache_key *nk, uint64_t now)
{
	struct rs_chain_rec *c;

	if (!ref->chain || !r->sc)
		return;
	/*
	 * One chain per destination and original role: the newer session's
	 * (the cache itself replaces per TEP; offers go to one chain only, so
	 * that rs_peers names one sequence of generations).
	 */
	for (struct rs_chain_rec *o = r->chains, *n; o; o = n) {
		n = o->next;
		if (o->ref.orig_role == ref->orig_role && !memcmp(&o->nk, nk, sizeof(*nk)))
			chain_forget(r, o, o->ref.chain != ref->chain);
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return;
	c->ref = *ref;
	c->nk = *nk;
	c->expires = now + (uint64_t)r->cfg.ttl_s * NS_PER_SEC;
	c->seq = ++r->next_seq;
	c->born = now;
	c->young = true;
	c->dirty = true;
	c->next = r->chains;
	r->chains = c;
	chain_refill(r, c, now);
}

bool resume_claim(struct resume *r, uint32_t id, bool resumed, struct tc_sc_ticket *t, uint64_t now)
{
	struct rs_slot *s = r->byid[id % ID_BUCKETS];

	while (s && s->id != id)
		s = s->hnext;
	if (!id || !s)
		return false;
	*t = s->t;
	if (s->chain) {
		if (!s->claimed_at && s->chain->published) {
			s->chain->published--;
		}
		s->chain->resumed += resumed;
		s->chain->dirty = true;
		if (s->chain->ref.orig_role == ENO_ROLE_B)
			/*
			 * A proposes its lowest unused i: acceptances far below
			 * this one will never be asked for.
			 */
			for (struct rs_slot *o = s->chain->slots, *n; o; o = n) {
				n = o->cnext;
				if (o != s && !o->claimed_at &&
				    o->t.index + RS_OFFERS_PER_PEER < s->t.index &&
				    slot_unpublish(r, o))
					slot_free(r, o);
			}
		s->claimed_at = now;
		chain_refill(r, s->chain, now);
	}
	slot_free(r, s);
	return true;
}

void resume_flush_chain(struct resume *r, const struct tc_sc_ref *ref)
{
	for (struct rs_chain_rec *c = r->chains; c; c = c->next)
		if (c->ref.chain == ref->chain && c->ref.orig_role == ref->orig_role &&
		    !memcmp(&c->ref.peer, &ref->peer, sizeof(ref->peer))) {
			chain_forget(r, c, true);
			return;
		}
	if (r->sc)
		tc_sc_flush(r->sc, ref);
}

static void flush_all(struct resume *r)
{
	while (r->chains)
		chain_forget(r, r->chains, true);
	if (r->sc)
		tc_sc_flush_all(r->sc);
	map_clear(r->cfg.cache_fd, sizeof(struct rs_chain_key));
}

void resume_tick(struct resume *r, uint64_t now)
{
	struct rs_ctl ctl;
	__u32 zero = 0;

	if (now - r->ticked < TICK_NS)
		return;
	r->ticked = now;
	/* tcpcryptctl cache flush: answered once nothing is cached */
	if (!bpf_map_lookup_elem(r->cfg.ctl_fd, &zero, &ctl) && ctl.flush_req != r->flush_seen) {
		flush_all(r);
		r->flush_seen = ctl.flush_req;
		ctl.flush_done = ctl.flush_req;
		bpf_map_update_elem(r->cfg.ctl_fd, &zero, &ctl, BPF_ANY);
	}
	/* chains that outlived the burst that made them: the rest of their offers */
	for (struct rs_chain_rec *c = r->chains; c; c = c->next)
		if (c->young && now - c->born >= TICK_NS)
			chain_refill(r, c, now);
	if (now - r->swept < SWEEP_NS)
		return;
	r->swept = now;
	/* claims: published ones sock_ops took (their flow may never come), and old ones */
	for (struct rs_slot *s = r->slots, *n; s; s = n) {
		n = s->next;
		if (!s->claimed_at) {
			union {
				struct rs_offer o;
				struct rs_accept a;
			} v;
			int err = s->offer ? bpf_map_lookup_elem(r->cfg.offers_fd, &s->okey, &v)
					   : bpf_map_lookup_elem(r->cfg.accepts_fd, &s->hkey, &v);

			if (err && errno == ENOENT) {
				s->claimed_at = now;
				if (s->chain && s->chain->published) {
					s->chain->published--;
					s->chain->dirty = true;
				}
			}
		} else if (now - s->claimed_at > CLAIM_TTL_NS) {
			slot_free(r, s);
		}
	}
	for (struct rs_chain_rec *c = r->chains, *n; c; c = n) {
		n = c->next;
		if (now >= c->expires || !tc_sc_chain_index(r->sc, &c->ref, &(uint64_t){0})) {
			/* expired, or evicted from the cache (its capacity) */
			chain_forget(r, c, true);
			continue;
		}
		chain_refill(r, c, now);
	}
}

void resume_free(struct resume *r)
{
	if (!r)
		return;
	flush_all(r);
	while (r->slots) {
		slot_unpublish(r, r->slots);
		slot_free(r, r->slots);
	}
	map_clear(r->cfg.peers_fd, sizeof(struct negcache_key));
	tc_sc_free(r->sc);
	OPENSSL_cleanse(r, sizeof(*r));
	free(r);
}
