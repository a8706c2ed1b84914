// SPDX-License-Identifier: MIT
/*
 * A plain TCP client and server whose only tcpcrypt-specific code is the
 * application API (include/tcpcrypt/tcpcrypt.h, libtcpcrypt): each end
 * waits for its session ID, sends it to the other in hex and prints a JSON
 * line with its own ID and role and the ID the peer sent (test_37).
 *
 *   sessid_peer server PORT COUNT    accept COUNT connections on [::]:PORT
 *   sessid_peer client ADDR PORT     one connection
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include "tcpcrypt/tcpcrypt.h"

#define HEX_LEN (2 * TCP_ENO_SESSID_LEN)

static int geti(int fd, int opt)
{
	socklen_t n = sizeof(int);
	int v = -1;

	if (getsockopt(fd, IPPROTO_TCP, opt, &v, &n))
		return -errno;
	return v;
}

/* Exchange session IDs over fd and print the line; 0 or -1. */
static int exchange(int fd, const char *side)
{
	unsigned char id[TCP_ENO_SESSID_LEN];
	char own[HEX_LEN + 2], peer[HEX_LEN + 2];
	const char *role, *tep, *aead;
	size_t got = 0;
	int n;

	n = tcpcrypt_wait_sessid(fd, id, sizeof(id), 5000);
	if (n < 0) {
		printf("{\"side\": \"%s\", \"error\": \"%s\"}\n", side, strerror(errno));
		return -1;
	}
	tcpcrypt_hex(id, n, own, sizeof(own));
	own[HEX_LEN] = '\n';
	if (write(fd, own, HEX_LEN + 1) != HEX_LEN + 1)
		return -1;
	own[HEX_LEN] = 0;
	while (got < HEX_LEN + 1) {
		ssize_t r = read(fd, peer + got, HEX_LEN + 1 - got);

		if (r <= 0)
			return -1;
		got += r;
	}
	peer[HEX_LEN] = 0;
	role = tcpcrypt_role_name(geti(fd, TCP_ENO_ROLE));
	tep = tcpcrypt_tep_name(geti(fd, TCP_ENO_NEGSPEC));
	aead = tcpcrypt_aead_name(geti(fd, TCP_CRYPT_NEGAEAD));
	printf("{\"side\": \"%s\", \"sessid\": \"%s\", \"peer_sessid\": \"%s\", \"role\": \"%s\", "
	       "\"tep\": \"%s\", \"aead\": \"%s\"}\n",
	       side, own, peer, role ? role : "?", tep ? tep : "?", aead ? aead : "?");
	fflush(stdout);
	return 0;
}

static int server(const char *port, int count)
{
	struct sockaddr_in6 sa = {.sin6_family = AF_INET6, .sin6_port = htons(atoi(port))};
	int one = 1, ls = socket(AF_INET6, SOCK_STREAM, 0), rc = 0;

	if (ls < 0 || setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(ls, (struct sockaddr *)&sa, sizeof(sa)) || listen(ls, 64)) {
		perror("sessid_peer: listen");
		return 1;
	}
	for (int i = 0; i < count; i++) {
		int fd = accept(ls, NULL, NULL);

		if (fd < 0) {
			perror("sessid_peer: accept");
			return 1;
		}
		if (exchange(fd, "server"))
			rc = 1;
		close(fd);
	}
	close(ls);
	return rc;
}

static int client(const char *host, const char *port)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai;
	int fd, rc;

	if (getaddrinfo(host, port, &hints, &ai)) {
		fprintf(stderr, "sessid_peer: cannot resolve %s\n", host);
		return 1;
	}
	fd = socket(ai->ai_family, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen)) {
		perror("sessid_peer: connect");
		return 1;
	}
	freeaddrinfo(ai);
	rc = exchange(fd, "client") ? 1 : 0;
	close(fd);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "server"))
		return server(argv[2], atoi(argv[3]));
	if (argc == 4 && !strcmp(argv[1], "client"))
		return client(argv[2], argv[3]);
	fprintf(stderr, "usage: sessid_peer server PORT COUNT | client ADDR PORT\n");
	return 2;
}
