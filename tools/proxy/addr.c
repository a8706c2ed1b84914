// SPDX-License-Identifier: MIT
/* tcpcrypt-proxy's address arguments and locality checks (addr.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include "addr.h"

int proxy_split_hostport(const char *s, const char *def_host, char *host, size_t hsz, char *port,
			 char *err, size_t esz)
{
	const char *p = s, *colon;
	size_t hl;
	char *end;
	long n;

	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (!close || close[1] != ':') {
			snprintf(err, esz, "'%s': an IPv6 address is written [ADDR]:PORT", s);
			return -1;
		}
		hl = close - s - 1;
		if (hl >= hsz || !hl) {
			snprintf(err, esz, "'%s': bad address", s);
			return -1;
		}
		memcpy(host, s + 1, hl);
		host[hl] = 0;
		p = close + 2;
	} else if ((colon = strrchr(s, ':'))) {
		if (strchr(s, ':') != colon) {
			snprintf(err, esz, "'%s': an IPv6 address is written [ADDR]:PORT", s);
			return -1;
		}
		hl = colon - s;
		if (hl >= hsz || !hl) {
			snprintf(err, esz, "'%s': bad address", s);
			return -1;
		}
		memcpy(host, s, hl);
		host[hl] = 0;
		p = colon + 1;
	} else {
		if (strlen(def_host) >= hsz)
			return -1;
		strcpy(host, def_host);
	}
	n = strtol(p, &end, 10);
	if (!*p || *end || *p == '-' || *p == '+' || n < 1 || n > 65535) {
		snprintf(err, esz, "'%s': bad port '%s' (1 to 65535)", s, p);
		return -1;
	}
	snprintf(port, PROXY_PORT_MAX, "%ld", n);
	return 0;
}

/* an IPv4-mapped IPv6 address is its IPv4 address */
static int v4_of(const struct sockaddr *sa, struct in_addr *out)
{
	if (sa->sa_family == AF_INET) {
		*out = ((const struct sockaddr_in *)sa)->sin_addr;
		return 1;
	}
	if (sa->sa_family == AF_INET6 &&
	    IN6_IS_ADDR_V4MAPPED(&((const struct sockaddr_in6 *)sa)->sin6_addr)) {
		memcpy(out, ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr + 12, 4);
		return 1;
	}
	return 0;
}

int proxy_is_loopback(const struct sockaddr *sa)
{
	struct in_addr a4;

	if (v4_of(sa, &a4))
		return (ntohl(a4.s_addr) >> 24) == 127;
	return sa->sa_family == AF_INET6 &&
	       IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)sa)->sin6_addr);
}

int proxy_is_local(const struct sockaddr *sa, const struct ifaddrs *ifs)
{
	struct in_addr a4, b4;
	const struct ifaddrs *i;
	int is4 = v4_of(sa, &a4);

	if (is4 && a4.s_addr == htonl(INADDR_ANY))
		return 0;
	if (!is4 && (sa->sa_family != AF_INET6 ||
		     IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)sa)->sin6_addr)))
		return 0;
	if (proxy_is_loopback(sa))
		return 1;
	for (i = ifs; i; i = i->ifa_next) {
		if (!i->ifa_addr)
			continue;
		if (is4 && v4_of(i->ifa_addr, &b4) && a4.s_addr == b4.s_addr)
			return 1;
		if (!is4 && i->ifa_addr->sa_family == AF_INET6 &&
		    !memcmp(&((const struct sockaddr_in6 *)sa)->sin6_addr,
			    &((const struct sockaddr_in6 *)i->ifa_addr)->sin6_addr,
			    sizeof(struct in6_addr)))
			return 1;
	}
	return 0;
}

const char *proxy_addr_str(const struct sockaddr *sa, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s = (const struct sockaddr_in *)sa;

		inet_ntop(AF_INET, &s->sin_addr, a, sizeof(a));
		snprintf(buf, len, "%s:%u", a, ntohs(s->sin_port));
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)sa;

		if (IN6_IS_ADDR_V4MAPPED(&s->sin6_addr)) {
			inet_ntop(AF_INET, s->sin6_addr.s6_addr + 12, a, sizeof(a));
			snprintf(buf, len, "%s:%u", a, ntohs(s->sin6_port));
		} else {
			inet_ntop(AF_INET6, &s->sin6_addr, a, sizeof(a));
			snprintf(buf, len, "[%s]:%u", a, ntohs(s->sin6_port));
		}
	} else {
		snprintf(buf, len, "?");
	}
	return buf;
}
