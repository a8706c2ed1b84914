// SPDX-License-Identifier: MIT
/* tcpcrypt-proxy's copy loop (relay.h): one poll loop over two sockets. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/socket.h>
#include "relay.h"

struct dir {
	int from, to;
	char *buf;
	size_t len, off; /* bytes held, bytes of them written */
	int eof, shut;	 /* from has ended; to has been shut down for writing */
	unsigned long long bytes;
};

static void nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl >= 0)
		fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/* Read when the buffer is empty, write while it holds bytes; -1 on an error. */
static int step(struct dir *d, short rev_from, short rev_to)
{
	ssize_t n;

	if (!d->eof && !d->len && rev_from) {
		n = recv(d->from, d->buf, PROXY_RELAY_BUF, 0);
		if (n > 0) {
			d->len = n;
			d->off = 0;
		} else if (n == 0) {
			d->eof = 1;
		} else if (errno != EAGAIN && errno != EINTR) {
			return -1;
		}
	}
	if (d->len && rev_to) {
		n = send(d->to, d->buf + d->off, d->len - d->off, MSG_NOSIGNAL);
		if (n > 0) {
			d->off += n;
			d->bytes += n;
			if (d->off == d->len)
				d->len = d->off = 0;
		} else if (n < 0 && errno != EAGAIN && errno != EINTR) {
			return -1;
		}
	}
	/* every byte before the end is out: pass the end on */
	if (d->eof && !d->len && !d->shut) {
		shutdown(d->to, SHUT_WR);
		d->shut = 1;
	}
	return 0;
}

int proxy_relay(int a, int b, struct proxy_relay_stats *st)
{
	struct dir d[2] = {{.from = a, .to = b}, {.from = b, .to = a}};
	int r = -1, e = 0;

	d[0].buf = malloc(PROXY_RELAY_BUF);
	d[1].buf = malloc(PROXY_RELAY_BUF);
	if (!d[0].buf || !d[1].buf) {
		errno = ENOMEM;
		goto out;
	}
	nonblock(a);
	nonblock(b);
	while (!d[0].shut || !d[1].shut) {
		/* pa: a as the source of d[0] and the sink of d[1] */
		struct pollfd p[2] = {{.fd = a}, {.fd = b}};
		short ra, rb;

		for (int i = 0; i < 2; i++) {
			if (!d[i].eof && !d[i].len)
				p[i].events |= POLLIN;
			if (d[i].len)
				p[!i].events |= POLLOUT;
		}
		/*
		 * A socket nobody waits on is left out: its hang-up would wake
		 * the loop for nothing; its error shows when it is used next.
		 */
		for (int i = 0; i < 2; i++)
			if (!p[i].events)
				p[i].fd = -1;
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			goto out;
		}
		ra = p[0].revents;
		rb = p[1].revents;
		/* an error or hang-up counts as readiness: the call then says which */
		if (step(&d[0], ra, rb) || step(&d[1], rb, ra))
			goto out;
	}
	r = 0;
out:
	if (r) {
		struct linger l = {.l_onoff = 1, .l_linger = 0};

		e = errno;
		setsockopt(a, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
		setsockopt(b, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	}
	if (st) {
		st->a2b = d[0].bytes;
		st->b2a = d[1].bytes;
	}
	free(d[0].buf);
	free(d[1].buf);
	if (r)
		errno = e;
	return r;
}
