/* SPDX-License-Identifier: MIT */
/* The ports map (per-port policy), as tcpcryptd and tcpcryptctl both read it. */
#ifndef TCPCRYPT_PORTMAP_H
#define TCPCRYPT_PORTMAP_H

#include <linux/types.h>

/* How many ports the map sets to require (saturating at 0xffff). */
__u16 portmap_count_require(int ports_fd);

#endif
