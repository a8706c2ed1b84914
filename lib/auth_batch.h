/* SPDX-License-Identifier: MIT */
/*
 * The batch signer's gather window (lib/auth.c, docs/auth.md#ed25519-batch),
 * internal to libtcpcrypt; declared here for its unit tests.
 */
#ifndef TCPCRYPT_AUTH_BATCH_H
#define TCPCRYPT_AUTH_BATCH_H

#include <stdint.h>

struct tcpcrypt_auth;

/* the gather window's bound, microseconds (docs/machine-facts.md) */
#define TCPCRYPT__BATCH_WINDOW_US 8000

/*
 * Sign the pending requests now?  pending: requests waiting; coming:
 * connections in tcpcrypt_auth_fd that will ask but have not yet (their
 * session ID is not known yet); waited_us: since the first of the pending
 * requests found no signer busy.  Yes when nothing more is on its way (a
 * lone connection never waits), when the batch is full, or when the window
 * has passed.
 */
int tcpcrypt__batch_ready(unsigned pending, unsigned coming, int64_t waited_us, int64_t window_us);
/* A connection on its way to a proof (+1) or no longer (-1); a batch signer only. */
void tcpcrypt__batch_expect(const struct tcpcrypt_auth *a, int delta);
/* Set the gather window's bound (tests). */
void tcpcrypt__batch_window(const struct tcpcrypt_auth *a, int64_t window_us);

#endif
