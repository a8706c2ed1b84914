/* SPDX-License-Identifier: MIT */
/*
 * For the tests of libtcpcrypt's authentication (test_auth.c,
 * test_auth_x509.c, test_spake2plus.c): getsockopt() and setsockopt()
 * defined here take precedence over libc's (as in test_libtcpcrypt.c) and
 * answer TCP_ENO_SESSID and TCP_ENO_ROLE per descriptor (fake_err: fail
 * with that errno), counting TCP_CRYPT_CACHE_FLUSH; and two threads running
 * tcpcrypt_auth_fd() at the two ends of a socketpair.
 */
#ifndef TCPCRYPT_TEST_AUTH_FAKE_H
#define TCPCRYPT_TEST_AUTH_FAKE_H

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include "tcpcrypt/auth.h"
#include "tcpcrypt/tcpcrypt.h"

#ifndef AUTH_FAKE_TIMEOUT_MS
#define AUTH_FAKE_TIMEOUT_MS 5000 /* each end's tcpcrypt_auth_fd() */
#endif

#define NFD 64
static unsigned char fake_sid[NFD][TCP_ENO_SESSID_LEN];
static int fake_role[NFD], fake_err[NFD], fake_flushes[NFD];

int getsockopt(int fd, int level, int opt, void *val, socklen_t *len)
{
	if (level != IPPROTO_TCP || fd < 0 || fd >= NFD) {
		errno = ENOPROTOOPT;
		return -1;
	}
	if (fake_err[fd]) {
		errno = fake_err[fd];
		return -1;
	}
	if (opt == TCP_ENO_SESSID) {
		memcpy(val, fake_sid[fd], TCP_ENO_SESSID_LEN);
		*len = TCP_ENO_SESSID_LEN;
		return 0;
	}
	if (opt == TCP_ENO_ROLE) {
		*(int *)val = fake_role[fd];
		*len = sizeof(int);
		return 0;
	}
	errno = ENOPROTOOPT;
	return -1;
}

int setsockopt(int fd, int level, int opt, const void *val, socklen_t len)
{
	(void)val;
	(void)len;
	if (level == IPPROTO_TCP && opt == TCP_CRYPT_CACHE_FLUSH && fd >= 0 && fd < NFD) {
		fake_flushes[fd]++;
		return 0;
	}
	errno = ENOPROTOOPT;
	return -1;
}

/* One end of a socketpair. */
struct side {
	int fd;
	const struct tcpcrypt_auth *a;
	int r, peer_status;
	const char *send_after; /* application bytes written once authenticated */
	char got[64];		/* what was read after the exchange */
};

static void *run_side(void *arg)
{
	struct side *s = arg;
	unsigned char sid[TCP_ENO_SESSID_LEN];

	s->r = tcpcrypt_auth_fd(s->fd, s->a, AUTH_FAKE_TIMEOUT_MS, sid, &s->peer_status);
	if (!s->r && s->send_after)
		if (write(s->fd, s->send_after, strlen(s->send_after)) < 0)
			s->r = 999;
	if (!s->r) {
		ssize_t n = read(s->fd, s->got, sizeof(s->got) - 1);
		s->got[n > 0 ? n : 0] = 0;
	}
	shutdown(s->fd, SHUT_WR);
	return NULL;
}

/* a as role A with session ID sid_a, b as role B with sid_b, at once; fake_pair_close after. */
static void fake_pair(struct side *a, struct side *b, const unsigned char *sid_a,
		      const unsigned char *sid_b)
{
	int sv[2];
	pthread_t t;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) || sv[1] >= NFD)
		abort();
	memcpy(fake_sid[sv[0]], sid_a, TCP_ENO_SESSID_LEN);
	memcpy(fake_sid[sv[1]], sid_b, TCP_ENO_SESSID_LEN);
	fake_role[sv[0]] = TCP_ENO_ROLE_A;
	fake_role[sv[1]] = TCP_ENO_ROLE_B;
	fake_flushes[sv[0]] = fake_flushes[sv[1]] = 0;
	a->fd = sv[0];
	b->fd = sv[1];
	pthread_create(&t, NULL, run_side, b);
	run_side(a);
	pthread_join(t, NULL);
}

static void fake_pair_close(struct side *a, struct side *b)
{
	fake_err[a->fd] = fake_err[b->fd] = 0;
	close(a->fd);
	close(b->fd);
}

#endif
