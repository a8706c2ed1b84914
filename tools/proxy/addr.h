/* SPDX-License-Identifier: MIT */
/*
 * tcpcrypt-proxy's addresses (docs/auth.md#tcpcrypt-proxy): [ADDR:]PORT
 * arguments, and the checks that keep the unencrypted leg on this host (a
 * client-side listener on loopback, a server-side target among the host's
 * own addresses).
 */
#ifndef TCPCRYPT_PROXY_ADDR_H
#define TCPCRYPT_PROXY_ADDR_H

#include <stddef.h>
#include <ifaddrs.h>
#include <sys/socket.h>

#define PROXY_HOST_MAX 256
#define PROXY_PORT_MAX 6

/*
 * Split "[ADDR:]PORT" ("8080", "127.0.0.1:8080", "[::1]:8080",
 * "localhost:8080") into host and port; host is def_host when s has no
 * address.  The port must be a number 1..65535.  0, or -1 with a message
 * in err.
 */
int proxy_split_hostport(const char *s, const char *def_host, char *host, size_t hsz, char *port,
			 char *err, size_t esz);

/* 127.0.0.0/8, ::1, or ::ffff:127.0.0.0/104 */
int proxy_is_loopback(const struct sockaddr *sa);

/*
 * An address of this host: loopback, or equal to one in ifs (getifaddrs);
 * never the unspecified address (0.0.0.0, ::), a wildcard rather than a host.
 */
int proxy_is_local(const struct sockaddr *sa, const struct ifaddrs *ifs);

/* "198.18.2.2:80" or "[fd00::2]:80" into buf */
const char *proxy_addr_str(const struct sockaddr *sa, char *buf, size_t len);

#endif
