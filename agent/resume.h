/* SPDX-License-Identifier: MIT */
/*
 * Session resumption on the wire (RFC 8548 §3.5;
 * docs/architecture.md#session-resumption-on-the-wire): the agent's session
 * cache (agent/core/sesscache.c) and what sock_ops needs of it, published
 * ahead of time in the rs_* maps.
 *
 * The secrets ss[i] never leave the agent.  For every chain a fresh session
 * produced, the host that was A in it publishes offers to that peer (its own
 * identifier half and nonce, the half the peer must answer with, an id), the
 * host that was B acceptances (keyed by the half A will send); each takes
 * its ss[i] out of the cache into a ticket held here.  sock_ops claims an
 * offer or acceptance with bpf_map_delete_elem and records its id in the
 * flow entry; the data path then takes the ticket (resume_claim) and
 * completes it from the suboptions as they went on the wire.  A chain is
 * only ever offered by its original A and accepted by its original B, which
 * RFC 8548 §3.5 allows and which rules out two SYNs proposing one secret
 * from both ends.
 */
#ifndef TCPCRYPT_RESUME_H
#define TCPCRYPT_RESUME_H

#include <stdbool.h>
#include <stdint.h>
#include "tcpcrypt_common.h"
#include "core/sesscache.h"

struct resume;

struct resume_cfg {
	size_t capacity; /* chains the cache holds (LRU beyond) */
	uint32_t ttl_s;	 /* a chain is forgotten this long after its fresh session */
	int peers_fd, offers_fd, accepts_fd, cache_fd, ctl_fd;
};

/*
 * A new, empty cache; empties the rs_* maps first (an agent restart forgets
 * everything).  NULL with a message on failure.
 */
struct resume *resume_new(const struct resume_cfg *cfg);

/* Unpublish everything, wipe every secret, free.  NULL is fine. */
void resume_free(struct resume *r);

/* The cache the data path's connections insert fresh sessions into. */
struct tc_sesscache *resume_cache(struct resume *r);

/* The peer identity the cache keys a destination by. */
void resume_peer(const struct negcache_key *nk, struct tc_peer *p);

/*
 * A fresh session produced the chain ref with the destination nk: publish
 * offers (ref.orig_role A) or acceptances (B) for it.
 */
void resume_chain_added(struct resume *r, const struct tc_sc_ref *ref,
			const struct negcache_key *nk, uint64_t now);

/*
 * A flow entry names id (flow_info.rs_id): hand its ticket over (*t, to be
 * completed and wiped by the connection); resumed: the peer agreed (the
 * chain's count of resumed connections).  False if there is none (never
 * published, expired, or this agent is not the one that published it).
 */
bool resume_claim(struct resume *r, uint32_t id, bool resumed, struct tc_sc_ticket *t,
		  uint64_t now);

/* Forget the chain ref names: unpublish what is not claimed, erase it from the cache. */
void resume_flush_chain(struct resume *r, const struct tc_sc_ref *ref);

/* Periodic work: flush requests, refills, expiry, claims never taken, rs_cache. */
void resume_tick(struct resume *r, uint64_t now);

#endif
