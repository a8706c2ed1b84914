/* SPDX-License-Identifier: MIT */
/*
 * tcpcrypt-proxy's copy loop: both directions between two connected
 * sockets, each end's EOF passed on as a half close (shutdown SHUT_WR) once
 * every byte before it has been written.
 */
#ifndef TCPCRYPT_PROXY_RELAY_H
#define TCPCRYPT_PROXY_RELAY_H

#define PROXY_RELAY_BUF 65536 /* bytes in flight per direction, at most */

struct proxy_relay_stats {
	unsigned long long a2b, b2a; /* bytes written to b, to a */
};

/*
 * Copy a -> b and b -> a until both directions have ended (0), or one end
 * fails (-1, errno set: then the other gets a reset, SO_LINGER 0, so that
 * it cannot take a cut stream for a whole one).  Sets both sockets
 * non-blocking; closes neither.
 */
int proxy_relay(int a, int b, struct proxy_relay_stats *st);

#endif
