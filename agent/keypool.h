/* SPDX-License-Identifier: MIT */
/*
 * Ephemeral key pairs made ahead of time (docs/architecture.md#key-pairs-made-ahead-of-time).
 *
 * A fresh key exchange needs one key pair per host, and generating it is
 * about half of each host's public-key work (X25519 with OpenSSL 3.0: ~50 us
 * to generate, ~46 us to derive).  A thread at the lowest normal priority
 * (nice 19), so that it runs in the CPU's spare time, keeps a few unused key pairs of
 * each TEP that the agent has needed; the data path takes one per
 * connection (struct tc_keysrc) and generates one itself only when the pool
 * is empty.  Each key pair is used once, and freed, private key wiped, when
 * the pool stops.  Optionally (keypool_set_reuse, off by default) host B
 * answers every Init1 within a short lifetime with the same key pair: RFC
 * 8548 §3.3 and §8 allow it, "as short as practical", and it takes B's key
 * generation off every connection even when the CPU is never idle.
 */
#ifndef TCPCRYPT_KEYPOOL_H
#define TCPCRYPT_KEYPOOL_H

#include <stdint.h>
#include "core/tep.h"

#define KEYPOOL_DEPTH_DFLT   16 /* key pairs kept per TEP */
#define KEYPOOL_DEPTH_MAX    256
#define KEYPOOL_REUSE_MAX_MS 1000 /* the longest lifetime of a reused key pair */

struct keypool;

/*
 * Start a pool keeping depth (1..KEYPOOL_DEPTH_MAX) key pairs of each TEP
 * that is asked for, and from the start of the TEPs in prefill (n ids).
 * Returns NULL with errno set on failure.
 */
struct keypool *keypool_new(unsigned depth, const uint8_t *prefill, unsigned n);

/* Stop the thread and free every key pair left.  NULL is fine. */
void keypool_free(struct keypool *kp);

/* The pool as the protocol core's key source; NULL for a NULL pool. */
const struct tc_keysrc *keypool_src(struct keypool *kp);

/*
 * Host B's key source: with a reuse lifetime set, one key pair per TEP
 * serves every connection for ms milliseconds after its first use (a new
 * one from the pool after that); without, the same as keypool_src.
 */
const struct tc_keysrc *keypool_src_b(struct keypool *kp);
/* Set B's reuse lifetime, 0 (no reuse, the default) to KEYPOOL_REUSE_MAX_MS. */
int keypool_set_reuse(struct keypool *kp, unsigned ms);
/* Connections that got a key pair already used by another (keypool_src_b). */
uint64_t keypool_reused(struct keypool *kp);

/* Unused key pairs of TEP id held now. */
unsigned keypool_held(struct keypool *kp, uint8_t id);

/* Key pairs handed out from the pool, and requests it could not serve. */
void keypool_counts(struct keypool *kp, uint64_t *hits, uint64_t *misses);

#endif
