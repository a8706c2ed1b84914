// SPDX-License-Identifier: MIT
/*
 * tcpcrypt-proxy: session-ID authentication (docs/auth.md) in front of
 * unmodified services (docs/auth.md#tcpcrypt-proxy, tcpcrypt-proxy(1)).
 * --client: accept on a loopback address, connect to REMOTEHOST REMOTEPORT,
 * authenticate, then copy.  --server: accept on LISTENPORT, authenticate,
 * then connect to TARGET, an address of this host, and copy.  One thread a
 * connection, at most --max-conns; the credential is shared (a batch signer
 * then signs concurrent connections together).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include "tcpcrypt/auth.h"
#include "tcpcrypt/tcpcrypt.h"
#include "authopt.h"
#include "addr.h"
#include "relay.h"
#include "version.h"

#define EXIT_SYS   1
#define EXIT_USAGE 2

#define MAX_LISTEN   8 /* listening sockets (a name may resolve to several) */
#define MAX_TARGET   8 /* addresses of TARGET, tried in order */
#define THREAD_STACK (256 * 1024)

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: tcpcrypt-proxy [OPTIONS] AUTH --client LISTEN REMOTEHOST REMOTEPORT\n"
		"       tcpcrypt-proxy [OPTIONS] AUTH --server LISTENPORT TARGET\n"
		"\n"
		"Put tcpcrypt session-ID authentication (docs/auth.md) in front of unmodified\n"
		"applications.  --client: accept connections on LISTEN ([ADDR:]PORT, default\n"
		"address 127.0.0.1; loopback only), connect each to REMOTEHOST REMOTEPORT,\n"
		"authenticate, then copy both ways.  --server: accept on LISTENPORT ([ADDR:]PORT,\n"
		"default all addresses), authenticate, and only then connect to TARGET\n"
		"([ADDR:]PORT, default 127.0.0.1), which must be an address of this host.\n"
		"Nothing is copied either way before both ends have accepted.\n"
		"\n"
		"%s\n"
		"Options:\n"
		"  -c, --client      client side (see above)\n"
		"  -s, --server      server side (see above)\n"
		"  -t, --timeout MS  connect and authentication timeout per connection\n"
		"                    (default 10000)\n"
		"  -m, --max-conns N connections at once, at most (default 256); more wait in\n"
		"                    the listen queue\n"
		"  -g, --grace MS    on SIGTERM or SIGINT, how long open connections may go on\n"
		"                    (default 5000); a second signal cuts them at once\n"
		"      --allow-remote-clients  let --client listen on a non-loopback address:\n"
		"                    the leg from those clients is NOT encrypted\n"
		"  -q, --quiet       no line per authenticated connection\n"
		"  -v, --verbose     also a line per closed connection, with its byte counts\n"
		"  -h, --help        show this help\n"
		"  -V, --version     print the version\n"
		"\n"
		"Each failed authentication closes only its connection and logs one line to\n"
		"stderr: the peer's address, the session ID (hex) and the error.\n"
		"Exit status: 0 stopped by SIGTERM or SIGINT; 1 system error; 2 usage,\n"
		"unusable credential file, or a TARGET that is not an address of this host.\n",
		authopt_help);
}

/* --- configuration, shared read-only by the connection threads --- */

static struct tcpcrypt_auth *cred;
static struct authopt ao;
static int server_mode, timeout_ms = 10000, grace_ms = 5000, quiet, verbose;
static const char *remote_host, *remote_port;
static struct sockaddr_storage target[MAX_TARGET];
static socklen_t target_len[MAX_TARGET];
static int n_target;

/* --- the open connections: their sockets, so that a stop can cut them --- */

struct conn {
	int used;
	int in, out; /* accepted, and the one this end made; -1 when none */
	struct sockaddr_storage peer;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct conn *conns;
static int max_conns = 256, n_open;

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One line to stderr in one write, so that threads' lines do not mix. */
__attribute__((format(printf, 1, 2))) static void logline(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int n;

	n = snprintf(buf, sizeof(buf), "tcpcrypt-proxy: ");
	va_start(ap, fmt);
	n += vsnprintf(buf + n, sizeof(buf) - n - 1, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(buf) - 2)
		n = sizeof(buf) - 2;
	buf[n++] = '\n';
	if (write(2, buf, n) < 0)
		return;
}

/* Set a slot's socket under the lock; closing too (a stop must not hit a reused number). */
static void conn_set(int *field, int fd)
{
	pthread_mutex_lock(&lock);
	if (*field >= 0 && fd < 0)
		close(*field);
	*field = fd;
	pthread_mutex_unlock(&lock);
}

/* Wait until fd's non-blocking connect has ended or deadline; 0 or an errno. */
static int connect_wait(int fd, int64_t deadline)
{
	struct pollfd p = {.fd = fd, .events = POLLOUT};
	socklen_t el = sizeof(int);
	int e = 0;

	for (;;) {
		int64_t left = deadline - now_ms();
		int r;

		if (left <= 0)
			return ETIMEDOUT;
		r = poll(&p, 1, left > 60000 ? 60000 : (int)left);
		if (r > 0)
			break;
		if (r < 0 && errno != EINTR)
			return errno;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el))
		return errno;
	return e;
}

/* Connect to the first of addrs that answers, until deadline; the socket or -1, errno set. */
static int connect_until(const struct sockaddr_storage *addrs, const socklen_t *lens, int n,
			 int64_t deadline)
{
	int e = EDESTADDRREQ;

	for (int i = 0; i < n && e != ETIMEDOUT; i++) {
		int fd = socket(addrs[i].ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

		if (fd < 0) {
			e = errno;
			continue;
		}
		if (!connect(fd, (const struct sockaddr *)&addrs[i], lens[i]))
			return fd;
		e = errno == EINPROGRESS ? connect_wait(fd, deadline) : errno;
		if (!e)
			return fd;
		close(fd);
	}
	errno = e;
	return -1;
}

/* A connection to REMOTEHOST REMOTEPORT, resolved now (its addresses may change) */
static int connect_remote(int64_t deadline)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res, *ai;
	struct sockaddr_storage a[MAX_TARGET];
	socklen_t l[MAX_TARGET];
	int n = 0, r;

	r = getaddrinfo(remote_host, remote_port, &hints, &res);
	if (r) {
		logline("peer %s:%s: %s", remote_host, remote_port,
			r == EAI_SYSTEM ? strerror(errno) : gai_strerror(r));
		return -2;
	}
	for (ai = res; ai && n < MAX_TARGET; ai = ai->ai_next) {
		memcpy(&a[n], ai->ai_addr, ai->ai_addrlen);
		l[n++] = ai->ai_addrlen;
	}
	freeaddrinfo(res);
	return connect_until(a, l, n, deadline);
}

static void *conn_main(void *arg)
{
	struct conn *c = arg;
	int64_t deadline = now_ms() + timeout_ms;
	unsigned char sid[TCP_ENO_SESSID_LEN];
	char hex[2 * TCP_ENO_SESSID_LEN + 1], peer[64], detail[160] = "";
	int fd, r, ps = 0, role = -1, left;
	socklen_t rl = sizeof(role);
	struct proxy_relay_stats st;

	memset(sid, 0, sizeof(sid));
	if (!server_mode) {
		/* the local client waits, unread, until the remote end is authenticated */
		fd = connect_remote(deadline);
		if (fd < 0) {
			if (fd == -1)
				logline("peer %s:%s: connect: %s", remote_host, remote_port,
					strerror(errno));
			goto done;
		}
		conn_set(&c->out, fd);
		rl = sizeof(c->peer);
		getpeername(fd, (struct sockaddr *)&c->peer, &rl);
	}
	proxy_addr_str((struct sockaddr *)&c->peer, peer, sizeof(peer));
	fd = server_mode ? c->in : c->out;
	left = (int)(deadline - now_ms());
	r = tcpcrypt_auth_fd(fd, cred, left > 0 ? left : 1, sid, &ps);
	if (r) {
		int e = errno;

		if (r == -TCPCRYPT_AUTH_EPEER)
			snprintf(detail, sizeof(detail), " (the peer: %s)",
				 tcpcrypt_auth_strerror(ps));
		else if (r == -TCPCRYPT_AUTH_ESYS)
			snprintf(detail, sizeof(detail), " (%s)", strerror(e));
		logline("peer %s session %s: authentication failed: %s%s", peer,
			sid[0] ? tcpcrypt_hex(sid, sizeof(sid), hex, sizeof(hex)) : "none",
			tcpcrypt_auth_strerror(r), detail);
		goto done;
	}
	tcpcrypt_hex(sid, sizeof(sid), hex, sizeof(hex));
	rl = sizeof(role);
	getsockopt(fd, IPPROTO_TCP, TCP_ENO_ROLE, &role, &rl);
	if (!quiet)
		logline("peer %s session %s: authenticated (%s, role %s)", peer, hex,
			authopt_name(&ao),
			tcpcrypt_role_name(role) ? tcpcrypt_role_name(role) : "?");
	if (server_mode) {
		/* only now does the service hear of this connection */
		left = (int)(deadline - now_ms());
		fd = connect_until(target, target_len, n_target,
				   now_ms() + (left > 1000 ? left : 1000));
		if (fd < 0) {
			char t[64];

			logline("peer %s session %s: connect to target %s: %s", peer, hex,
				proxy_addr_str((struct sockaddr *)&target[0], t, sizeof(t)),
				strerror(errno));
			goto done;
		}
		conn_set(&c->out, fd);
	}
	/* a: the accepted connection, b: the one this end made */
	r = proxy_relay(c->in, c->out, &st);
	if (r)
		logline("peer %s session %s: %s", peer, hex, strerror(errno));
	if (verbose)
		logline("peer %s session %s: closed, %llu bytes to the %s, %llu from it", peer, hex,
			st.a2b, server_mode ? "service" : "peer", st.b2a);
done:
	conn_set(&c->in, -1);
	conn_set(&c->out, -1);
	pthread_mutex_lock(&lock);
	c->used = 0;
	n_open--;
	pthread_mutex_unlock(&lock);
	return NULL;
}

/* --- start-up --- */

static int resolve(const char *host, const char *port, int passive, struct sockaddr_storage *out,
		   socklen_t *lens, int max)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = passive ? AI_PASSIVE : 0};
	struct addrinfo *res, *ai;
	int n = 0, r;

	r = getaddrinfo(host, port, &hints, &res);
	if (r) {
		fprintf(stderr, "tcpcrypt-proxy: %s port %s: %s\n", host, port, gai_strerror(r));
		return -1;
	}
	for (ai = res; ai && n < max; ai = ai->ai_next) {
		int dup = 0;

		for (int i = 0; i < n; i++)
			dup |= lens[i] == ai->ai_addrlen && !memcmp(&out[i], ai->ai_addr, lens[i]);
		if (dup)
			continue;
		memcpy(&out[n], ai->ai_addr, ai->ai_addrlen);
		lens[n++] = ai->ai_addrlen;
	}
	freeaddrinfo(res);
	return n;
}

static int listen_on(const struct sockaddr_storage *a, socklen_t len)
{
	int one = 1, zero = 0, fd;
	char s[64];

	fd = socket(a->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    (a->ss_family == AF_INET6 &&
	     setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY,
			IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)a)->sin6_addr)
			    ? &zero
			    : &one,
			sizeof(int))) ||
	    bind(fd, (const struct sockaddr *)a, len) || listen(fd, 128)) {
		fprintf(stderr, "tcpcrypt-proxy: listen on %s: %s\n",
			proxy_addr_str((const struct sockaddr *)a, s, sizeof(s)), strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static int num_opt(const char *name, const char *v, int min, int max)
{
	char *end;
	long n = strtol(v, &end, 10);

	if (!*v || *end || n < min || n > max) {
		fprintf(stderr, "tcpcrypt-proxy: bad %s '%s' (%d to %d)\n", name, v, min, max);
		return -1;
	}
	return (int)n;
}

/*
 * Accept one connection on ls (non-blocking) into a free slot and start its
 * thread; 0 if there may be more to accept.
 */
static int accept_one(int ls, pthread_attr_t *attr)
{
	struct sockaddr_storage peer;
	socklen_t pl = sizeof(peer);
	struct conn *c = NULL;
	pthread_t t;
	int fd;

	fd = accept4(ls, (struct sockaddr *)&peer, &pl, SOCK_CLOEXEC);
	if (fd < 0) {
		if (errno == EINTR || errno == ECONNABORTED)
			return 0;
		if (errno != EAGAIN)
			logline("accept: %s", strerror(errno));
		return -1;
	}
	pthread_mutex_lock(&lock);
	for (int i = 0; i < max_conns && !c; i++)
		if (!conns[i].used)
			c = &conns[i];
	if (c) {
		c->used = 1;
		c->in = fd;
		c->out = -1;
		c->peer = peer;
		n_open++;
	}
	pthread_mutex_unlock(&lock);
	if (!c) { /* the caller accepts only with a slot free */
		close(fd);
		return -1;
	}
	if (pthread_create(&t, attr, conn_main, c)) {
		logline("no thread for a connection: %s", strerror(errno));
		conn_set(&c->in, -1);
		pthread_mutex_lock(&lock);
		c->used = 0;
		n_open--;
		pthread_mutex_unlock(&lock);
		return -1;
	}
	return 0;
}

static int slot_free(void)
{
	int r;

	pthread_mutex_lock(&lock);
	r = n_open < max_conns;
	pthread_mutex_unlock(&lock);
	return r;
}

/* Wait until no connection is open or deadline; 1 if a signal came on sfd meanwhile. */
static int wait_drained(int64_t deadline, int sfd)
{
	for (;;) {
		struct pollfd p = {.fd = sfd, .events = POLLIN};
		int open, left;

		pthread_mutex_lock(&lock);
		open = n_open;
		pthread_mutex_unlock(&lock);
		left = (int)(deadline - now_ms());
		if (!open || left <= 0)
			return 0;
		if (sfd >= 0 && poll(&p, 1, left < 50 ? left : 50) > 0)
			return 1;
		if (sfd < 0)
			poll(NULL, 0, left < 50 ? left : 50);
	}
}

static int run(int *ls, int nls, int sfd)
{
	pthread_attr_t attr;
	struct signalfd_siginfo si;
	int stop = 0, cut, open;

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, THREAD_STACK);
	while (!stop) {
		struct pollfd p[MAX_LISTEN + 1];
		int full = !slot_free();

		p[0] = (struct pollfd){.fd = sfd, .events = POLLIN};
		for (int i = 0; i < nls; i++)
			p[1 + i] = (struct pollfd){.fd = full ? -1 : ls[i], .events = POLLIN};
		/* full: look again when a connection has closed (at most every 50 ms) */
		if (poll(p, 1 + nls, full ? 50 : -1) < 0) {
			if (errno == EINTR)
				continue;
			logline("poll: %s", strerror(errno));
			return EXIT_SYS;
		}
		if (p[0].revents) {
			if (read(sfd, &si, sizeof(si)) == sizeof(si))
				stop = si.ssi_signo;
			continue;
		}
		/* a burst is accepted at once, so that a batch signer sees it together */
		for (int i = 0; i < nls; i++)
			if (p[1 + i].revents)
				while (slot_free() && !accept_one(ls[i], &attr))
					;
	}
	for (int i = 0; i < nls; i++)
		close(ls[i]);
	pthread_mutex_lock(&lock);
	open = n_open;
	pthread_mutex_unlock(&lock);
	logline("%s: no new connections; %d open", strsignal(stop), open);
	cut = wait_drained(now_ms() + grace_ms, sfd);
	pthread_mutex_lock(&lock);
	open = n_open;
	for (int i = 0; i < max_conns; i++) {
		if (!conns[i].used)
			continue;
		if (conns[i].in >= 0)
			shutdown(conns[i].in, SHUT_RDWR);
		if (conns[i].out >= 0)
			shutdown(conns[i].out, SHUT_RDWR);
	}
	pthread_mutex_unlock(&lock);
	if (open)
		logline("%s: %d connections cut", cut ? "second signal" : "grace over", open);
	/* the threads end within their timeout (a connect or a batch signature) */
	wait_drained(now_ms() + timeout_ms + 1000, -1);
	pthread_attr_destroy(&attr);
	return 0;
}

int main(int argc, char **argv)
{
	enum { OPT_ALLOW_REMOTE = 256 };
	static const struct option opts[] = {
	    {"client", no_argument, NULL, 'c'},
	    {"server", no_argument, NULL, 's'},
	    AUTHOPT_OPTIONS,
	    {"timeout", required_argument, NULL, 't'},
	    {"max-conns", required_argument, NULL, 'm'},
	    {"grace", required_argument, NULL, 'g'},
	    {"allow-remote-clients", no_argument, NULL, OPT_ALLOW_REMOTE},
	    {"quiet", no_argument, NULL, 'q'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	char host[PROXY_HOST_MAX], port[PROXY_PORT_MAX], err[PROXY_HOST_MAX + 64], s[64];
	struct sockaddr_storage la[MAX_LISTEN];
	socklen_t ll[MAX_LISTEN];
	int mode = -1, allow_remote = 0, c, nla, ls[MAX_LISTEN], nls = 0, sfd, rc;
	sigset_t sigs;

	while ((c = getopt_long(argc, argv, "cst:m:g:qvhV", opts, NULL)) != -1) {
		rc = authopt_take(&ao, c, optarg, "tcpcrypt-proxy");
		if (rc < 0)
			return EXIT_USAGE;
		if (rc)
			continue;
		switch (c) {
		case 'c':
		case 's':
			if (mode >= 0 && mode != (c == 's')) {
				fprintf(stderr,
					"tcpcrypt-proxy: give --client or --server, not both\n");
				return EXIT_USAGE;
			}
			mode = c == 's';
			break;
		case 't':
			if ((timeout_ms = num_opt("timeout", optarg, 1, 3600000)) < 0)
				return EXIT_USAGE;
			break;
		case 'm':
			if ((max_conns = num_opt("max-conns", optarg, 1, 65536)) < 0)
				return EXIT_USAGE;
			break;
		case 'g':
			if ((grace_ms = num_opt("grace", optarg, 0, 3600000)) < 0)
				return EXIT_USAGE;
			break;
		case OPT_ALLOW_REMOTE:
			allow_remote = 1;
			break;
		case 'q':
			quiet = 1;
			break;
		case 'v':
			verbose = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("tcpcrypt-proxy %s\n", TCPCRYPT_VERSION);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (!ao.scheme || mode < 0 || argc - optind != (mode ? 2 : 3)) {
		if (!ao.scheme)
			authopt_load(&ao, NULL, "tcpcrypt-proxy"); /* says what is missing */
		else if (mode < 0)
			fprintf(stderr, "tcpcrypt-proxy: give --client or --server\n");
		usage(stderr);
		return EXIT_USAGE;
	}
	server_mode = mode;
	if (allow_remote && server_mode) {
		fprintf(stderr, "tcpcrypt-proxy: --allow-remote-clients is for --client\n");
		return EXIT_USAGE;
	}

	/* the addresses first: a refused target costs no credential load */
	if (proxy_split_hostport(argv[optind], server_mode ? "::" : "127.0.0.1", host, sizeof(host),
				 port, err, sizeof(err))) {
		fprintf(stderr, "tcpcrypt-proxy: listen address %s\n", err);
		return EXIT_USAGE;
	}
	nla = resolve(host, port, 1, la, ll, MAX_LISTEN);
	if (nla <= 0)
		return EXIT_USAGE;
	for (int i = 0; i < nla && !server_mode && !allow_remote; i++) {
		if (!proxy_is_loopback((struct sockaddr *)&la[i])) {
			fprintf(stderr,
				"tcpcrypt-proxy: listen address %s is not a loopback address: "
				"connections from other hosts would reach it unencrypted (use "
				"127.0.0.1 or [::1], or --allow-remote-clients)\n",
				proxy_addr_str((struct sockaddr *)&la[i], s, sizeof(s)));
			return EXIT_USAGE;
		}
	}
	if (server_mode) {
		struct ifaddrs *ifs;

		if (proxy_split_hostport(argv[optind + 1], "127.0.0.1", host, sizeof(host), port,
					 err, sizeof(err))) {
			fprintf(stderr, "tcpcrypt-proxy: target %s\n", err);
			return EXIT_USAGE;
		}
		n_target = resolve(host, port, 0, target, target_len, MAX_TARGET);
		if (n_target <= 0)
			return EXIT_USAGE;
		if (getifaddrs(&ifs)) {
			fprintf(stderr, "tcpcrypt-proxy: getifaddrs: %s\n", strerror(errno));
			return EXIT_SYS;
		}
		for (int i = 0; i < n_target; i++) {
			if (proxy_is_local((struct sockaddr *)&target[i], ifs))
				continue;
			fprintf(stderr,
				"tcpcrypt-proxy: target %s is not an address of this host: the "
				"unencrypted leg to it would leave the host (run the service, "
				"and this proxy, on the same host)\n",
				proxy_addr_str((struct sockaddr *)&target[i], s, sizeof(s)));
			freeifaddrs(ifs);
			return EXIT_USAGE;
		}
		freeifaddrs(ifs);
	} else {
		struct sockaddr_storage ra[1];
		socklen_t rl[1];

		remote_host = argv[optind + 1];
		remote_port = argv[optind + 2];
		if (resolve(remote_host, remote_port, 0, ra, rl, 1) <= 0)
			return EXIT_USAGE;
	}

	cred = authopt_load(&ao, server_mode ? NULL : remote_host, "tcpcrypt-proxy");
	if (!cred)
		return EXIT_USAGE;
	conns = calloc(max_conns, sizeof(*conns));
	if (!conns) {
		fprintf(stderr, "tcpcrypt-proxy: %s\n", strerror(errno));
		return EXIT_SYS;
	}
	/* signals are read from sfd by the main loop; no thread takes them */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	if (pthread_sigmask(SIG_BLOCK, &sigs, NULL) ||
	    (sfd = signalfd(-1, &sigs, SFD_CLOEXEC)) < 0) {
		fprintf(stderr, "tcpcrypt-proxy: signalfd: %s\n", strerror(errno));
		return EXIT_SYS;
	}
	for (int i = 0; i < nla; i++) {
		ls[nls] = listen_on(&la[i], ll[i]);
		if (ls[nls] < 0)
			return EXIT_SYS;
		nls++;
	}
	for (int i = 0; i < nls; i++) {
		if (server_mode)
			proxy_addr_str((struct sockaddr *)&target[0], err, sizeof(err));
		else
			snprintf(err, sizeof(err), "%s port %s", remote_host, remote_port);
		logline("listening on %s (%s), to %s (%s)",
			proxy_addr_str((struct sockaddr *)&la[i], s, sizeof(s)),
			server_mode ? "server" : "client", err, authopt_name(&ao));
	}
	rc = run(ls, nls, sfd);
	if (tcpcrypt_auth_scheme(cred) == TCPCRYPT_AUTH_ED25519_BATCH) {
		unsigned long sigs_made, proofs;

		tcpcrypt_auth_batch_stats(cred, &sigs_made, &proofs);
		logline("batch signer: %lu signatures for %lu proofs", sigs_made, proofs);
	}
	pthread_mutex_lock(&lock);
	c = n_open;
	pthread_mutex_unlock(&lock);
	/* a thread still out holds the credential and the slots: leave them to exit() */
	if (!c) {
		tcpcrypt_auth_free(cred);
		free(conns);
	}
	close(sfd);
	return rc;
}
