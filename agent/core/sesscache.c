/* SPDX-License-Identifier: MIT */
/* tcpcrypt session cache: RFC 8548 §3.5 (docs/rfc-notes.md#tcpcrypt-session-resumption). */
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include "core/err.h"
#include "core/sesscache.h"
#include "core/tep.h"

/* The two hash tables every live entry is in. */
enum { BY_HALF, BY_KEY, NTABLES };

struct sc_entry {
	struct sc_entry *hnext[NTABLES]; /* hash-bucket chains */
	struct sc_entry *prev, *next;	 /* LRU list, most recent first; free list via next */
	struct tc_sc_ref ref;		 /* peer, chain id, TEP, this host's original role */
	uint64_t index;			 /* i of ss */
	uint64_t used;			 /* sc->tick when inserted or last taken from */
	uint8_t ss[TC_K_LEN];		 /* ss[i], the next unused secret */
	uint8_t resume[TC_RESUME_LEN];	 /* resume[i] */
	uint16_t aead;
};

struct tc_sesscache {
	struct sc_entry *slab; /* capacity entries, live or free */
	size_t capacity, count;
	struct sc_entry *lru_head, *lru_tail, *free;
	struct sc_entry **table[NTABLES];
	size_t mask; /* buckets per table - 1 */
	uint64_t seed, tick, next_chain;
	size_t nonce_len;
	tc_sc_rand_fn rand;
	void *rand_ctx;
};

static int rand_default(void *ctx, uint8_t *buf, size_t len)
{
	(void)ctx;
	return tc_tep_random(buf, len);
}

static bool peer_eq(const struct tc_peer *a, const struct tc_peer *b)
{
	return a->family == b->family && a->len == b->len && !memcmp(a->id, b->id, a->len);
}

/* The identifier half the peer sends for e: the one of the other original role. */
static const uint8_t *peer_half(const struct sc_entry *e)
{
	return tc_resume_half(e->resume, tc_role_other(e->ref.orig_role));
}

/*
 * Halves are CPRF output, uniform and not chosen by an attacker, so their
 * first bytes index the table directly.  Peer identities can be chosen, so
 * that key is hashed (FNV-1a) from a secret random seed.
 */
static size_t half_bucket(const struct tc_sesscache *sc, const uint8_t *half)
{
	uint64_t h = 0;

	memcpy(&h, half, sizeof(h));
	return h & sc->mask;
}

static size_t key_bucket(const struct tc_sesscache *sc, const struct tc_peer *peer, int orig_role,
			 uint8_t tep)
{
	uint8_t tail[] = {peer->family, peer->len, (uint8_t)orig_role, tep};
	uint64_t h = sc->seed ^ 0xcbf29ce484222325ull;

	for (size_t i = 0; i < sizeof(tail) + peer->len; i++) {
		h ^= i < peer->len ? peer->id[i] : tail[i - peer->len];
		h *= 0x100000001b3ull;
	}
	return h & sc->mask;
}

static struct sc_entry **bucket_of(struct tc_sesscache *sc, int t, const struct sc_entry *e)
{
	size_t b = t == BY_HALF ? half_bucket(sc, peer_half(e))
				: key_bucket(sc, &e->ref.peer, e->ref.orig_role, e->ref.tep);

	return &sc->table[t][b];
}

static void table_link(struct tc_sesscache *sc, int t, struct sc_entry *e)
{
	struct sc_entry **head = bucket_of(sc, t, e);

	e->hnext[t] = *head;
	*head = e;
}

/* No-op when e is not linked (an entry whose secret failed to load). */
static void table_unlink(struct tc_sesscache *sc, int t, struct sc_entry *e)
{
	struct sc_entry **pp = bucket_of(sc, t, e);

	while (*pp && *pp != e)
		pp = &(*pp)->hnext[t];
	if (*pp)
		*pp = e->hnext[t];
}

static void lru_unlink(struct tc_sesscache *sc, struct sc_entry *e)
{
	*(e->prev ? &e->prev->next : &sc->lru_head) = e->next;
	*(e->next ? &e->next->prev : &sc->lru_tail) = e->prev;
	e->prev = e->next = NULL;
}

static void lru_push(struct tc_sesscache *sc, struct sc_entry *e)
{
	e->prev = NULL;
	e->next = sc->lru_head;
	*(sc->lru_head ? &sc->lru_head->prev : &sc->lru_tail) = e;
	sc->lru_head = e;
	e->used = ++sc->tick;
}

static void entry_erase(struct tc_sesscache *sc, struct sc_entry *e)
{
	table_unlink(sc, BY_HALF, e);
	table_unlink(sc, BY_KEY, e);
	lru_unlink(sc, e);
	OPENSSL_cleanse(e, sizeof(*e));
	e->next = sc->free;
	sc->free = e;
	sc->count--;
}

static struct sc_entry *find_key(struct tc_sesscache *sc, const struct tc_peer *peer, int orig_role,
				 uint8_t tep)
{
	struct sc_entry *e = sc->table[BY_KEY][key_bucket(sc, peer, orig_role, tep)];

	while (e &&
	       !(e->ref.orig_role == orig_role && e->ref.tep == tep && peer_eq(&e->ref.peer, peer)))
		e = e->hnext[BY_KEY];
	return e;
}

/* ss and resume for secret i; links e by its new half. */
static int entry_load(struct tc_sesscache *sc, struct sc_entry *e)
{
	int err = tc_resume(e->ss, e->resume);

	if (err)
		return err;
	table_link(sc, BY_HALF, e);
	return TC_OK;
}

/* RFC 8548 §3.5: compute and cache ss[i+1], erase ss[i]. */
static int entry_advance(struct tc_sesscache *sc, struct sc_entry *e)
{
	int err;

	table_unlink(sc, BY_HALF, e);
	err = tc_ss_next(e->ss, e->ss);
	e->index++;
	if (!err)
		err = entry_load(sc, e);
	if (err)
		entry_erase(sc, e);
	return err;
}

int tc_sc_new(struct tc_sesscache **out, const struct tc_sc_config *cfg)
{
	struct tc_sesscache *sc = NULL;
	size_t nb = 16;
	int err = TC_E_INVAL;

	*out = NULL;
	if (!cfg->capacity || cfg->nonce_len > TC_SC_NONCE_MAX || cfg->capacity > SIZE_MAX / 4)
		goto out;
	while (nb < cfg->capacity)
		nb <<= 1;
	err = TC_E_NOMEM;
	sc = calloc(1, sizeof(*sc));
	if (!sc)
		goto out;
	sc->slab = calloc(cfg->capacity, sizeof(*sc->slab));
	sc->table[BY_HALF] = calloc(nb, sizeof(*sc->table[BY_HALF]));
	sc->table[BY_KEY] = calloc(nb, sizeof(*sc->table[BY_KEY]));
	if (!sc->slab || !sc->table[BY_HALF] || !sc->table[BY_KEY])
		goto out;
	sc->capacity = cfg->capacity;
	sc->mask = nb - 1;
	sc->nonce_len = cfg->nonce_len;
	sc->rand = cfg->rand ? cfg->rand : rand_default;
	sc->rand_ctx = cfg->rand_ctx;
	for (size_t i = cfg->capacity; i-- > 0;) {
		sc->slab[i].next = sc->free;
		sc->free = &sc->slab[i];
	}
	err = sc->rand(sc->rand_ctx, (uint8_t *)&sc->seed, sizeof(sc->seed));
	if (err)
		goto out;
	*out = sc;
	sc = NULL;
out:
	tc_sc_free(sc);
	return err;
}

void tc_sc_free(struct tc_sesscache *sc)
{
	if (!sc)
		return;
	if (sc->slab)
		OPENSSL_cleanse(sc->slab, sc->capacity * sizeof(*sc->slab));
	free(sc->slab);
	free(sc->table[BY_HALF]);
	free(sc->table[BY_KEY]);
	OPENSSL_cleanse(sc, sizeof(*sc));
	free(sc);
}

int tc_sc_insert(struct tc_sesscache *sc, const struct tc_peer *peer, int orig_role, uint8_t tep,
		 uint16_t aead, const uint8_t ss[TC_K_LEN], uint64_t index, unsigned policy,
		 struct tc_sc_ref *ref)
{
	struct sc_entry *e;
	int err;

	if (ref)
		memset(ref, 0, sizeof(*ref));
	if (peer->len > TC_SC_PEER_ID_MAX || !tc_role_valid(orig_role))
		return TC_E_INVAL;
	if (policy & TC_SC_NO_CACHE)
		return TC_OK;
	tep &= ~TC_TEP_V_BIT;
	/* One chain per (peer, role, TEP): the newer session replaces it. */
	e = find_key(sc, peer, orig_role, tep);
	if (e)
		entry_erase(sc, e);
	else if (!sc->free)
		entry_erase(sc, sc->lru_tail);
	e = sc->free;
	sc->free = e->next;
	e->next = NULL;
	sc->count++;
	e->ref.peer = *peer;
	memset(e->ref.peer.id + peer->len, 0, TC_SC_PEER_ID_MAX - peer->len);
	e->ref.chain = ++sc->next_chain;
	e->ref.tep = tep;
	e->ref.orig_role = orig_role;
	e->index = index;
	e->aead = aead;
	memcpy(e->ss, ss, TC_K_LEN);
	table_link(sc, BY_KEY, e);
	lru_push(sc, e);
	err = entry_load(sc, e);
	if (err) {
		entry_erase(sc, e);
		return err;
	}
	if (ref)
		*ref = e->ref;
	return TC_OK;
}

/*
 * Take ss[i] out of e into *t together with this host's nonce, and write this
 * host's resumption suboption: TEP byte (v = 1) | own half | own nonce
 * (§3.5, Figures 2 and 3).  Then e moves on to ss[i+1]: secret i counts as
 * used whatever becomes of this attempt.
 */
static int take(struct tc_sesscache *sc, struct sc_entry *e, unsigned policy, uint8_t *subopt,
		size_t *subopt_len, struct tc_sc_ticket *t)
{
	unsigned own = tc_role_idx(e->ref.orig_role);
	int err;

	memset(t, 0, sizeof(*t));
	t->nonce_len[own] = sc->nonce_len;
	err = sc->rand(sc->rand_ctx, t->nonce[own], sc->nonce_len);
	if (err)
		goto out;
	t->ref = e->ref;
	t->index = e->index;
	t->aead = e->aead;
	memcpy(t->ss, e->ss, TC_K_LEN);
	memcpy(t->peer_half, peer_half(e), TC_RESUME_HALF_LEN);
	subopt[0] = e->ref.tep | TC_TEP_V_BIT;
	memcpy(subopt + 1, tc_resume_half(e->resume, e->ref.orig_role), TC_RESUME_HALF_LEN);
	memcpy(subopt + 1 + TC_RESUME_HALF_LEN, t->nonce[own], sc->nonce_len);
	*subopt_len = 1 + TC_RESUME_HALF_LEN + sc->nonce_len;
	lru_unlink(sc, e);
	lru_push(sc, e);
	if (policy & TC_SC_NO_CACHE)
		entry_erase(sc, e);
	else
		err = entry_advance(sc, e);
out:
	if (err)
		tc_sc_ticket_wipe(t);
	return err;
}

int tc_sc_offer(struct tc_sesscache *sc, const struct tc_peer *peer, uint8_t tep, unsigned policy,
		uint8_t subopt[TC_SC_SUBOPT_MAX], size_t *subopt_len, struct tc_sc_ticket *t)
{
	struct sc_entry *e = NULL;
	int err;

	*subopt_len = 0;
	memset(t, 0, sizeof(*t));
	if (policy & TC_SC_NO_RESUME)
		return TC_SC_NONE;
	tep &= ~TC_TEP_V_BIT;
	for (int role = ENO_ROLE_A; role <= ENO_ROLE_B; role++) {
		struct sc_entry *c = find_key(sc, peer, role, tep);

		if (c && (!e || c->used > e->used))
			e = c;
	}
	if (!e)
		return TC_SC_NONE;
	err = take(sc, e, policy, subopt, subopt_len, t);
	return err ? err : TC_SC_RESUME;
}

int tc_sc_take(struct tc_sesscache *sc, const struct tc_sc_ref *ref,
	       uint8_t subopt[TC_SC_SUBOPT_MAX], size_t *subopt_len, struct tc_sc_ticket *t)
{
	struct sc_entry *e;
	int err;

	*subopt_len = 0;
	memset(t, 0, sizeof(*t));
	if (!ref->chain || ref->peer.len > TC_SC_PEER_ID_MAX || !tc_role_valid(ref->orig_role))
		return TC_SC_NONE;
	e = find_key(sc, &ref->peer, ref->orig_role, ref->tep);
	if (!e || e->ref.chain != ref->chain)
		return TC_SC_NONE;
	err = take(sc, e, 0, subopt, subopt_len, t);
	return err ? err : TC_SC_RESUME;
}

bool tc_sc_chain_index(const struct tc_sesscache *sc, const struct tc_sc_ref *ref, uint64_t *index)
{
	struct sc_entry *e;

	if (!ref->chain || ref->peer.len > TC_SC_PEER_ID_MAX || !tc_role_valid(ref->orig_role))
		return false;
	e = find_key((struct tc_sesscache *)sc, &ref->peer, ref->orig_role, ref->tep);
	if (!e || e->ref.chain != ref->chain)
		return false;
	*index = e->index;
	return true;
}

int tc_sc_ticket_sent(struct tc_sc_ticket *t, const uint8_t *own, size_t len)
{
	unsigned me = tc_role_idx(t->ref.orig_role);
	uint8_t resume[TC_RESUME_LEN];
	size_t nonce_len;
	int bad;

	if (!t->ref.chain || len < 1 + TC_SC_DATA_MIN || len > 1 + TC_SC_DATA_MAX ||
	    own[0] != (t->ref.tep | TC_TEP_V_BIT))
		return TC_E_INVAL;
	nonce_len = len - 1 - TC_RESUME_HALF_LEN;
	if (nonce_len > t->nonce_len[me] || tc_resume(t->ss, resume))
		return TC_E_INVAL;
	bad =
	    CRYPTO_memcmp(own + 1, tc_resume_half(resume, t->ref.orig_role), TC_RESUME_HALF_LEN) ||
	    memcmp(own + 1 + TC_RESUME_HALF_LEN, t->nonce[me], nonce_len);
	OPENSSL_cleanse(resume, sizeof(resume));
	if (bad)
		return TC_E_INVAL;
	OPENSSL_cleanse(t->nonce[me] + nonce_len, TC_SC_NONCE_MAX - nonce_len);
	t->nonce_len[me] = nonce_len;
	return TC_OK;
}

/* Split a resumption suboption; false unless v = 1 and 9..17 data bytes (§3.5). */
static bool subopt_parse(const uint8_t *subopt, size_t len, const uint8_t **half,
			 const uint8_t **nonce, size_t *nonce_len)
{
	if (len < 1 + TC_SC_DATA_MIN || len > 1 + TC_SC_DATA_MAX || !(subopt[0] & TC_TEP_V_BIT))
		return false;
	*half = subopt + 1;
	*nonce = subopt + 1 + TC_RESUME_HALF_LEN;
	*nonce_len = len - 1 - TC_RESUME_HALF_LEN;
	return true;
}

int tc_sc_accept(struct tc_sesscache *sc, const struct tc_peer *peer, const uint8_t *subopt,
		 size_t len, unsigned policy, uint8_t answer[TC_SC_SUBOPT_MAX], size_t *answer_len,
		 struct tc_sc_ticket *t)
{
	const uint8_t *half, *nonce;
	struct sc_entry *e;
	size_t nonce_len;
	unsigned other;
	int err;

	*answer_len = 0;
	memset(t, 0, sizeof(*t));
	/* Fewer than 9 data bytes: a fresh offer (§3.5); more than 17 is no valid resumption. */
	if ((policy & TC_SC_NO_RESUME) || !subopt_parse(subopt, len, &half, &nonce, &nonce_len))
		return TC_SC_NONE;
	e = sc->table[BY_HALF][half_bucket(sc, half)];
	/* §3.5: agree only if the half names a cached secret and the TEP matches. */
	while (e && !(!CRYPTO_memcmp(peer_half(e), half, TC_RESUME_HALF_LEN) &&
		      e->ref.tep == (subopt[0] & ~TC_TEP_V_BIT) && peer_eq(&e->ref.peer, peer)))
		e = e->hnext[BY_HALF];
	if (!e)
		return TC_SC_NONE;
	other = tc_role_idx(tc_role_other(e->ref.orig_role));
	err = take(sc, e, policy, answer, answer_len, t);
	if (err)
		return err;
	memcpy(t->nonce[other], nonce, nonce_len);
	t->nonce_len[other] = nonce_len;
	t->complete = true;
	return TC_SC_RESUME;
}

int tc_sc_answer(struct tc_sc_ticket *t, const uint8_t *subopt, size_t len)
{
	const uint8_t *half, *nonce;
	size_t nonce_len;
	unsigned other = tc_role_idx(tc_role_other(t->ref.orig_role));

	if (t->complete || !t->ref.chain)
		return TC_E_STATE;
	if (!subopt_parse(subopt, len, &half, &nonce, &nonce_len) ||
	    subopt[0] != (t->ref.tep | TC_TEP_V_BIT) ||
	    CRYPTO_memcmp(half, t->peer_half, TC_RESUME_HALF_LEN))
		return TC_SC_NONE;
	memcpy(t->nonce[other], nonce, nonce_len);
	t->nonce_len[other] = nonce_len;
	t->complete = true;
	return TC_SC_RESUME;
}

size_t tc_sc_ticket_sn(const struct tc_sc_ticket *t, uint8_t sn[TC_SN_MAX])
{
	/*
	 * sn[i] = nonce_a | nonce_b, ordered by the original roles
	 * (docs/rfc-notes.md#tcpcrypt-session-resumption).
	 */
	unsigned a = tc_role_idx(ENO_ROLE_A), b = tc_role_idx(ENO_ROLE_B);

	memcpy(sn, t->nonce[a], t->nonce_len[a]);
	memcpy(sn + t->nonce_len[a], t->nonce[b], t->nonce_len[b]);
	return t->nonce_len[a] + t->nonce_len[b];
}

void tc_sc_ticket_wipe(struct tc_sc_ticket *t)
{
	OPENSSL_cleanse(t, sizeof(*t));
}

void tc_sc_flush(struct tc_sesscache *sc, const struct tc_sc_ref *ref)
{
	struct sc_entry *e;

	if (!ref->chain || ref->peer.len > TC_SC_PEER_ID_MAX)
		return;
	e = find_key(sc, &ref->peer, ref->orig_role, ref->tep);
	if (e && e->ref.chain == ref->chain)
		entry_erase(sc, e);
}

void tc_sc_flush_all(struct tc_sesscache *sc)
{
	while (sc->lru_head)
		entry_erase(sc, sc->lru_head);
}

size_t tc_sc_count(const struct tc_sesscache *sc)
{
	return sc->count;
}

void tc_sc_storage(const struct tc_sesscache *sc, const void **mem, size_t *len)
{
	*mem = sc->slab;
	*len = sc->capacity * sizeof(*sc->slab);
}
