/* SPDX-License-Identifier: MIT */
/* The ports map (per-port policy), as tcpcryptd and tcpcryptctl both read it. */
#ifndef TCPCRYPT_PORTMAP_H
#define TCPCRYPT_PORTMAP_H

#include <linux/types.h>

/* How many ports the map sets to require (saturating at 0xffff). */
__u16 portmap_count_require(int ports_fd);

/*
 * Rewrite the portstate map from a count of the ports map.  It is the only
 * record that tcpcryptctl writes besides the ports themselves, so a `port`
 * command never races with tcpcryptd's writes of the settings map.
 * 0, or -1 with errno.
 */
int portmap_sync_state(int ports_fd, int portstate_fd);

#endif
