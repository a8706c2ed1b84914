/* SPDX-License-Identifier: MIT */
/*
 * tcpcrypt session cache (RFC 8548 §3.5; docs/rfc-notes.md#tcpcrypt-session-resumption).
 *
 * After a fresh session, each host keeps the next unused secret of the
 * session's chain ss[0] -> ss[1] -> ... together with what a later
 * connection needs to resume from it: the peer, this host's role in the
 * original session (it picks the identifier half and the key direction), the
 * TEP and the original session's AEAD.  One entry per (peer, original role,
 * TEP); a new fresh session with the same key replaces the chain.
 *
 * A secret leaves the cache the moment a connection proposes (tc_sc_offer) or
 * accepts (tc_sc_accept) it: the entry advances to ss[i+1] and ss[i] lives on
 * only in the connection's struct tc_sc_ticket.  So no ss[i] is offered twice,
 * whether the attempt succeeds or not (§3.5: "the lowest i not yet used,
 * successfully or not"), and no ss[i] protects two connections.
 *
 * Pure: no I/O, no clock, no globals.  Bounded by a capacity with LRU
 * eviction; every secret is wiped with OPENSSL_cleanse when it is erased,
 * evicted, flushed, replaced or the cache is freed.
 */
#ifndef TCPCRYPT_CORE_SESSCACHE_H
#define TCPCRYPT_CORE_SESSCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "core/kdf.h"

#define TC_SC_NONCE_MAX	  8 /* resumption nonce: 0..8 bytes (§3.5) */
#define TC_SC_NONCE_DFLT  8 /* MUST default to 8 unless reuse is ruled out (§3.5) */
#define TC_SC_DATA_MIN	  TC_RESUME_HALF_LEN
#define TC_SC_DATA_MAX	  (TC_RESUME_HALF_LEN + TC_SC_NONCE_MAX)
#define TC_SC_SUBOPT_MAX  (1 + TC_SC_DATA_MAX) /* TEP byte (v = 1) | half | nonce */
#define TC_SC_PEER_ID_MAX 16

/* Per-connection application controls (§3.5 "MUST be able to ask that ..."). */
enum tc_sc_policy {
	TC_SC_NO_RESUME = 1 << 0, /* do not offer, and ignore resumption requests */
	TC_SC_NO_CACHE = 1 << 1,  /* cache no secret this connection produces */
};

/* Outcome of offer/accept/answer when it is not an error. */
enum tc_sc_result {
	TC_SC_NONE = 0,	  /* nothing to offer / decline (fresh exchange) / half mismatch */
	TC_SC_RESUME = 1, /* resume with the ticket */
};

/* Who the peer is: an opaque identity chosen by the caller, e.g. its IP address. */
struct tc_peer {
	uint8_t family;
	uint8_t len; /* bytes of id used, <= TC_SC_PEER_ID_MAX */
	uint8_t id[TC_SC_PEER_ID_MAX];
};

/* Names one chain in the cache, so a connection can flush what it used or produced. */
struct tc_sc_ref {
	struct tc_peer peer;
	uint64_t chain; /* 0: none */
	uint8_t tep;
	uint8_t orig_role;
};

/*
 * One secret taken out of the cache for one connection: ss[i] and what is
 * needed to turn it into session keys.  nonce[tc_role_idx(ENO_ROLE_A)] is nonce_a (sent by
 * the host that was A in the original session), nonce[tc_role_idx(ENO_ROLE_B)]
 * nonce_b.
 * Wipe with tc_sc_ticket_wipe.
 */
struct tc_sc_ticket {
	struct tc_sc_ref ref;
	uint64_t index;			       /* i */
	uint8_t ss[TC_K_LEN];		       /* ss[i] */
	uint8_t peer_half[TC_RESUME_HALF_LEN]; /* the half the peer must send back */
	uint8_t nonce[2][TC_SC_NONCE_MAX];
	uint8_t nonce_len[2];
	uint16_t aead; /* the original session's AEAD (docs/rfc-notes.md#gaps-and-our-readings) */
	bool complete; /* both halves matched, both nonces known */
};

/* Random bytes for the resumption nonces; returns TC_OK or TC_E_RNG. */
typedef int (*tc_sc_rand_fn)(void *ctx, uint8_t *buf, size_t len);

struct tc_sc_config {
	size_t capacity;    /* entries; the least recently used is evicted when full */
	size_t nonce_len;   /* 0..TC_SC_NONCE_MAX; use TC_SC_NONCE_DFLT */
	tc_sc_rand_fn rand; /* NULL: OpenSSL RAND_bytes */
	void *rand_ctx;
};

struct tc_sesscache;

/* TC_OK, TC_E_INVAL (capacity 0, nonce_len > 8), TC_E_NOMEM or TC_E_RNG. */
int tc_sc_new(struct tc_sesscache **out, const struct tc_sc_config *cfg);

/* Wipe every secret and free the cache.  NULL is fine. */
void tc_sc_free(struct tc_sesscache *sc);

/*
 * Cache the next secret of a fresh session's chain, ss[index] (ss[1] after a
 * fresh exchange, from struct tc_session_keys.ss_next); the caller wipes its
 * copy.  orig_role is this host's role in that session, tep the TEP id (v bit
 * ignored), aead the session's AEAD.  Replaces an entry with the same peer,
 * role and TEP; evicts the least recently used entry when full.  *ref (if
 * non-NULL) names the new chain, or has chain 0 when policy has
 * TC_SC_NO_CACHE (nothing is stored).  Returns TC_OK, TC_E_INVAL or TC_E_CRYPTO.
 */
int tc_sc_insert(struct tc_sesscache *sc, const struct tc_peer *peer, int orig_role, uint8_t tep,
		 uint16_t aead, const uint8_t ss[TC_K_LEN], uint64_t index, unsigned policy,
		 struct tc_sc_ref *ref);

/*
 * Active opener, before its SYN: propose resuming with peer under TEP tep.
 * Writes the suboption (TEP byte with v = 1 | own half of resume[i] | own
 * nonce) to subopt and its length to *subopt_len, takes ss[i] out into *t and
 * moves the entry on to ss[i+1] (or erases it under TC_SC_NO_CACHE).  Returns
 * TC_SC_RESUME, TC_SC_NONE (no entry, or TC_SC_NO_RESUME), TC_E_RNG or
 * TC_E_CRYPTO.  Of two chains with the peer (this host was A in one and B in
 * the other) the most recently used one is offered.
 */
int tc_sc_offer(struct tc_sesscache *sc, const struct tc_peer *peer, uint8_t tep, unsigned policy,
		uint8_t subopt[TC_SC_SUBOPT_MAX], size_t *subopt_len, struct tc_sc_ticket *t);

/*
 * Passive opener, on a SYN suboption subopt (TEP byte first, len bytes) from
 * peer: agree to resume if the identifier half names a cached secret of this
 * peer with this TEP.  Then writes the answering suboption (TEP byte with
 * v = 1 | the other half | own nonce) to answer, takes ss[i] into *t
 * (complete) and moves the entry on, and returns TC_SC_RESUME.  Returns
 * TC_SC_NONE, consuming nothing, when it must not agree: v = 0 or fewer than 9
 * data bytes (§3.5: treat as a fresh offer), more than 17, no such secret,
 * another TEP or peer, TC_SC_NO_RESUME.  TC_E_RNG, TC_E_CRYPTO on failure.
 */
int tc_sc_accept(struct tc_sesscache *sc, const struct tc_peer *peer, const uint8_t *subopt,
		 size_t len, unsigned policy, uint8_t answer[TC_SC_SUBOPT_MAX], size_t *answer_len,
		 struct tc_sc_ticket *t);

/*
 * Active opener, on the passive opener's resumption suboption for the offered
 * TEP: TC_SC_RESUME (the half matches; *t is now complete) or TC_SC_NONE (it
 * does not: ignore the suboption, and if it was the only one disable TCP-ENO
 * and tcpcrypt, §3.5).  TC_E_STATE if *t is already complete.
 */
int tc_sc_answer(struct tc_sc_ticket *t, const uint8_t *subopt, size_t len);

/*
 * Take the next secret of the one chain ref names, if it is still cached
 * (same chain id), as tc_sc_offer does: subopt gets this host's suboption
 * (TEP byte with v = 1 | own half | own nonce), *t the secret, incomplete,
 * and the entry moves on to ss[i+1].  The agent publishes what sock_ops
 * needs of it in advance: an offer when this host was A in the chain's
 * original session, an acceptance when it was B
 * (docs/architecture.md#session-resumption-on-the-wire); the peer's
 * suboption completes *t later (tc_sc_answer).  Returns TC_SC_RESUME,
 * TC_SC_NONE (no such chain), TC_E_RNG or TC_E_CRYPTO.
 */
int tc_sc_take(struct tc_sesscache *sc, const struct tc_sc_ref *ref,
	       uint8_t subopt[TC_SC_SUBOPT_MAX], size_t *subopt_len, struct tc_sc_ticket *t);

/* The index i of the next secret of ref's chain; false if it is not cached. */
bool tc_sc_chain_index(const struct tc_sesscache *sc, const struct tc_sc_ref *ref, uint64_t *index);

/*
 * This host's suboption for *t as it went on the wire (TEP byte first, len
 * bytes), which may carry a prefix of the nonce t holds (sock_ops shortens
 * it when the segment has no room): t then uses that prefix as its nonce.
 * TC_OK, or TC_E_INVAL when own is not t's TEP, half and nonce prefix.
 */
int tc_sc_ticket_sent(struct tc_sc_ticket *t, const uint8_t *own, size_t len);

/* sn[i] = nonce_a | nonce_b (§3.5); returns its length.  t must be complete. */
size_t tc_sc_ticket_sn(const struct tc_sc_ticket *t, uint8_t sn[TC_SN_MAX]);

void tc_sc_ticket_wipe(struct tc_sc_ticket *t);

/* Erase the chain ref names, if it is still cached (§3.5 flush). */
void tc_sc_flush(struct tc_sesscache *sc, const struct tc_sc_ref *ref);

/* Erase every entry. */
void tc_sc_flush_all(struct tc_sesscache *sc);

/* Number of cached entries. */
size_t tc_sc_count(const struct tc_sesscache *sc);

/*
 * Test hook: the memory that holds every entry, live or free, so tests can
 * prove that erased secrets are gone.
 */
void tc_sc_storage(const struct tc_sesscache *sc, const void **mem, size_t *len);

#endif
