/* SPDX-License-Identifier: MIT */
/*
 * The agent's data path: AF_XDP sockets on every RX queue of each steered
 * interface (ciphertext from the wire) and on each capture veth (the local
 * kernel's plaintext), one stream translator per encrypted connection, and
 * the sessions map and key log that show them.
 */
#ifndef TCPCRYPT_DATAPATH_H
#define TCPCRYPT_DATAPATH_H

#include "bpf_setup.h"

struct datapath;

/* Open the sockets; prints a precise error and returns NULL on failure. */
struct datapath *datapath_open(const struct agent_opts *o, struct bpf_state *st);
/*
 * Run until a signal in sigs arrives (they must be blocked); returns the
 * signal number.
 */
int datapath_run(struct datapath *dp, const sigset_t *sigs);
/*
 * Reset every encrypted connection, both ways (RST to the peer in the wire's
 * sequence space, to the local socket in plaintext space), wait until their
 * sockets are gone and handshakes under way have resolved (bounded), and
 * abort in the kernel whatever local socket of an encrypted flow or passive
 * open that answered ENO is left: once the programs are detached, none of
 * them may send or complete.  Call with negotiation stopped (bpf_negotiate)
 * and the programs still attached.  0, or -1 if some survived: then the
 * programs must stay (fail closed).
 */
int datapath_stop(struct datapath *dp, const char *pin_dir);
void datapath_close(struct datapath *dp);

#endif
