// SPDX-License-Identifier: MIT
/*
 * tcpcrypt-proxy's pieces (tools/proxy/): the [ADDR:]PORT parser, the
 * checks that keep the unencrypted leg on the host, and the copy loop over
 * socket pairs (both directions, half close, nothing lost, a reset passed on).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include "t.h"
/* the proxy's helpers are tool code, not in a library: built into this test */
#include "../../tools/proxy/addr.c"
#include "../../tools/proxy/relay.c"

static int split(const char *s, const char *def, char *host, char *port)
{
	char err[128];

	return proxy_split_hostport(s, def, host, PROXY_HOST_MAX, port, err, sizeof(err));
}

T(proxy_split_hostport)
{
	char h[PROXY_HOST_MAX], p[PROXY_PORT_MAX];

	CHECK_EQ(split("8080", "127.0.0.1", h, p), 0);
	CHECK(!strcmp(h, "127.0.0.1") && !strcmp(p, "8080"));
	CHECK_EQ(split("198.18.2.2:80", "x", h, p), 0);
	CHECK(!strcmp(h, "198.18.2.2") && !strcmp(p, "80"));
	CHECK_EQ(split("[::1]:65535", "x", h, p), 0);
	CHECK(!strcmp(h, "::1") && !strcmp(p, "65535"));
	CHECK_EQ(split("localhost:1", "x", h, p), 0);
	CHECK(!strcmp(h, "localhost") && !strcmp(p, "1"));
	/* bad ports */
	CHECK_EQ(split("0", "x", h, p), -1);
	CHECK_EQ(split("65536", "x", h, p), -1);
	CHECK_EQ(split("-1", "x", h, p), -1);
	CHECK_EQ(split("+80", "x", h, p), -1);
	CHECK_EQ(split("80x", "x", h, p), -1);
	CHECK_EQ(split("", "x", h, p), -1);
	CHECK_EQ(split("host:", "x", h, p), -1);
	CHECK_EQ(split("99999999999999999999", "x", h, p), -1);
	/* IPv6 without brackets is ambiguous; brackets must be whole */
	CHECK_EQ(split("::1:80", "x", h, p), -1);
	CHECK_EQ(split("[::1]80", "x", h, p), -1);
	CHECK_EQ(split("[::1", "x", h, p), -1);
	CHECK_EQ(split("[]:80", "x", h, p), -1);
	CHECK_EQ(split(":80", "x", h, p), -1);
}

T(proxy_split_long_host)
{
	char h[PROXY_HOST_MAX], p[PROXY_PORT_MAX], s[PROXY_HOST_MAX + 16];

	/* PROXY_HOST_MAX - 1 characters fit, one more does not */
	memset(s, 'a', PROXY_HOST_MAX - 1);
	strcpy(s + PROXY_HOST_MAX - 1, ":80");
	CHECK_EQ(split(s, "x", h, p), 0);
	CHECK_EQ(strlen(h), PROXY_HOST_MAX - 1);
	memset(s, 'a', PROXY_HOST_MAX);
	strcpy(s + PROXY_HOST_MAX, ":80");
	CHECK_EQ(split(s, "x", h, p), -1);
	s[0] = '[';
	strcpy(s + PROXY_HOST_MAX + 1, "]:80");
	CHECK_EQ(split(s, "x", h, p), -1);
	/* nor does a default that is too long */
	memset(s, 'a', PROXY_HOST_MAX);
	s[PROXY_HOST_MAX] = 0;
	CHECK_EQ(split("80", s, h, p), -1);
}

static struct sockaddr_storage sa(const char *a)
{
	struct sockaddr_storage s;

	memset(&s, 0, sizeof(s));
	if (strchr(a, ':')) {
		s.ss_family = AF_INET6;
		inet_pton(AF_INET6, a, &((struct sockaddr_in6 *)&s)->sin6_addr);
	} else {
		s.ss_family = AF_INET;
		inet_pton(AF_INET, a, &((struct sockaddr_in *)&s)->sin_addr);
	}
	return s;
}

/* sa(a) as a struct sockaddr *, in one of a few rotating buffers */
static struct sockaddr *SA(const char *a)
{
	static struct sockaddr_storage b[4];
	static unsigned i;

	b[++i % 4] = sa(a);
	return (struct sockaddr *)&b[i % 4];
}

T(proxy_loopback)
{
	CHECK(proxy_is_loopback(SA("127.0.0.1")));
	CHECK(proxy_is_loopback(SA("127.255.0.9")));
	CHECK(proxy_is_loopback(SA("::1")));
	CHECK(proxy_is_loopback(SA("::ffff:127.0.0.1")));
	CHECK(!proxy_is_loopback(SA("128.0.0.1")));
	CHECK(!proxy_is_loopback(SA("0.0.0.0")));
	CHECK(!proxy_is_loopback(SA("::")));
	CHECK(!proxy_is_loopback(SA("::2")));
	CHECK(!proxy_is_loopback(SA("::ffff:198.18.1.2")));
	CHECK(!proxy_is_loopback(SA("198.18.1.2")));
}

T(proxy_local)
{
	/* a host with 198.18.2.2 and fd00:7463:2::2 (a fabricated getifaddrs list) */
	struct sockaddr_storage a4 = sa("198.18.2.2"), a6 = sa("fd00:7463:2::2");
	struct ifaddrs i6 = {.ifa_name = "eth0", .ifa_addr = (struct sockaddr *)&a6};
	struct ifaddrs i4 = {
	    .ifa_next = &i6, .ifa_name = "eth0", .ifa_addr = (struct sockaddr *)&a4};
	struct ifaddrs noaddr = {.ifa_next = &i4, .ifa_name = "tun0"};

	CHECK(proxy_is_local(SA("127.0.0.1"), NULL));
	CHECK(proxy_is_local(SA("::1"), NULL));
	CHECK(proxy_is_local(SA("198.18.2.2"), &noaddr));
	CHECK(proxy_is_local(SA("::ffff:198.18.2.2"), &noaddr));
	CHECK(proxy_is_local(SA("fd00:7463:2::2"), &noaddr));
	/* another host's addresses, the router's, or none in the list */
	CHECK(!proxy_is_local(SA("198.18.2.1"), &noaddr));
	CHECK(!proxy_is_local(SA("198.18.1.2"), &noaddr));
	CHECK(!proxy_is_local(SA("fd00:7463:2::1"), &noaddr));
	CHECK(!proxy_is_local(SA("198.18.2.2"), NULL));
	/* an IPv4 address does not match an IPv6 one of the same bytes, nor the reverse */
	CHECK(!proxy_is_local(SA("::c612:202"), &noaddr));
	/* wildcards are not hosts (Linux would connect 0.0.0.0 to itself) */
	CHECK(!proxy_is_local(SA("0.0.0.0"), &noaddr));
	CHECK(!proxy_is_local(SA("::"), &noaddr));
	CHECK(!proxy_is_local(SA("::ffff:0.0.0.0"), &noaddr));
	/* a family other than IPv4 or IPv6 */
	struct sockaddr_storage un = {.ss_family = AF_UNIX};
	CHECK(!proxy_is_local((struct sockaddr *)&un, &noaddr));
}

T(proxy_addr_str)
{
	struct sockaddr_storage s = sa("198.18.2.2");
	char b[64];

	((struct sockaddr_in *)&s)->sin_port = htons(80);
	CHECK(!strcmp(proxy_addr_str((struct sockaddr *)&s, b, sizeof(b)), "198.18.2.2:80"));
	s = sa("fd00::2");
	((struct sockaddr_in6 *)&s)->sin6_port = htons(443);
	CHECK(!strcmp(proxy_addr_str((struct sockaddr *)&s, b, sizeof(b)), "[fd00::2]:443"));
	s = sa("::ffff:127.0.0.1");
	((struct sockaddr_in6 *)&s)->sin6_port = htons(1);
	CHECK(!strcmp(proxy_addr_str((struct sockaddr *)&s, b, sizeof(b)), "127.0.0.1:1"));
}

/* --- the copy loop: client x <-> relay a | relay b <-> server y --- */

struct relay_arg {
	int a, b, r;
	struct proxy_relay_stats st;
};

static void *relay_thread(void *p)
{
	struct relay_arg *ra = p;

	ra->r = proxy_relay(ra->a, ra->b, &ra->st);
	return NULL;
}

struct writer {
	int fd;
	const unsigned char *data;
	size_t n;
	int shut; /* shutdown SHUT_WR after */
};

static void *writer_thread(void *p)
{
	struct writer *w = p;
	size_t off = 0;

	while (off < w->n) {
		ssize_t r = write(w->fd, w->data + off, w->n - off > 7000 ? 7000 : w->n - off);

		if (r <= 0)
			break;
		off += r;
	}
	if (w->shut)
		shutdown(w->fd, SHUT_WR);
	return NULL;
}

/* read fd until EOF into buf (at most cap); the count */
static size_t read_all(int fd, unsigned char *buf, size_t cap)
{
	size_t n = 0;

	for (;;) {
		ssize_t r = read(fd, buf + n, cap - n);

		if (r <= 0)
			return n;
		n += r;
		if (n == cap) {
			unsigned char extra;

			return n + (read(fd, &extra, 1) > 0);
		}
	}
}

static void fill(unsigned char *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++) {
		seed = seed * 1103515245 + 12345;
		p[i] = seed >> 16;
	}
}

T(proxy_relay_both_ways_half_close)
{
	/* 3 MiB one way, 1 MiB the other at the same time: neither side reads
	 * before it has written everything, which deadlocks a relay that blocks
	 * on a write */
	enum { N1 = 3 << 20, N2 = 1 << 20 };
	unsigned char *d1 = malloc(N1), *d2 = malloc(N2), *r1 = malloc(N1 + 1),
		      *r2 = malloc(N2 + 1);
	int x[2], y[2];
	struct relay_arg ra;
	pthread_t tr, t1, t2;

	CHECK(d1 && d2 && r1 && r2);
	fill(d1, N1, 1);
	fill(d2, N2, 2);
	CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, x), 0);
	CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, y), 0);
	ra = (struct relay_arg){.a = x[1], .b = y[1], .r = -2};
	struct writer w1 = {x[0], d1, N1, 1}, w2 = {y[0], d2, N2, 1};
	pthread_create(&tr, NULL, relay_thread, &ra);
	pthread_create(&t1, NULL, writer_thread, &w1);
	pthread_create(&t2, NULL, writer_thread, &w2);
	CHECK_EQ(read_all(y[0], r1, N1), N1);
	CHECK_EQ(read_all(x[0], r2, N2), N2);
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	pthread_join(tr, NULL);
	CHECK_EQ(ra.r, 0);
	CHECK_MEM(r1, d1, N1);
	CHECK_MEM(r2, d2, N2);
	CHECK_EQ(ra.st.a2b, N1);
	CHECK_EQ(ra.st.b2a, N2);
	close(x[0]);
	close(x[1]);
	close(y[0]);
	close(y[1]);
	free(d1);
	free(d2);
	free(r1);
	free(r2);
}

T(proxy_relay_half_close_then_answer)
{
	/* the request, a half close, and only then the answer (an HTTP/1.0-like
	 * exchange): the close of one direction must not end the other */
	int x[2], y[2];
	struct relay_arg ra;
	pthread_t tr;
	char buf[64];
	ssize_t n;

	CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, x), 0);
	CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, y), 0);
	ra = (struct relay_arg){.a = x[1], .b = y[1], .r = -2};
	pthread_create(&tr, NULL, relay_thread, &ra);
	CHECK_EQ(write(x[0], "GET /", 5), 5);
	shutdown(x[0], SHUT_WR);
	n = read_all(y[0], (unsigned char *)buf, sizeof(buf));
	CHECK_EQ(n, 5);
	CHECK_MEM(buf, "GET /", 5);
	usleep(20000);
	CHECK_EQ(write(y[0], "200 OK", 6), 6);
	shutdown(y[0], SHUT_WR);
	n = read_all(x[0], (unsigned char *)buf, sizeof(buf));
	CHECK_EQ(n, 6);
	CHECK_MEM(buf, "200 OK", 6);
	pthread_join(tr, NULL);
	CHECK_EQ(ra.r, 0);
	close(x[0]);
	close(x[1]);
	close(y[0]);
	close(y[1]);
}

/* A TCP pair on loopback: *c connected, *s accepted. */
static void tcp_pair(int *c, int *s)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t l = sizeof(a);
	int ls = socket(AF_INET, SOCK_STREAM, 0);

	CHECK(ls >= 0);
	CHECK_EQ(bind(ls, (struct sockaddr *)&a, sizeof(a)), 0);
	CHECK_EQ(listen(ls, 1), 0);
	CHECK_EQ(getsockname(ls, (struct sockaddr *)&a, &l), 0);
	*c = socket(AF_INET, SOCK_STREAM, 0);
	CHECK_EQ(connect(*c, (struct sockaddr *)&a, sizeof(a)), 0);
	*s = accept(ls, NULL, NULL);
	CHECK(*s >= 0);
	close(ls);
}

T(proxy_relay_reset_passed_on)
{
	/* y's end resets (SO_LINGER 0): the relay fails and resets x's too */
	struct linger lg = {.l_onoff = 1, .l_linger = 0};
	int xc, xs, yc, ys;
	struct relay_arg ra;
	pthread_t tr;
	char buf[16];

	tcp_pair(&xc, &xs);
	tcp_pair(&yc, &ys);
	ra = (struct relay_arg){.a = xs, .b = yc, .r = -2};
	pthread_create(&tr, NULL, relay_thread, &ra);
	CHECK_EQ(write(xc, "abc", 3), 3);
	CHECK_EQ(read(ys, buf, sizeof(buf)), 3);
	setsockopt(ys, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(ys);
	pthread_join(tr, NULL);
	CHECK_EQ(ra.r, -1);
	close(xs);
	close(yc);
	errno = 0;
	CHECK_EQ(read(xc, buf, sizeof(buf)), -1);
	CHECK_EQ(errno, ECONNRESET);
	close(xc);
}
