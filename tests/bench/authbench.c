// SPDX-License-Identifier: MIT
/*
 * authbench: connect + authenticated first byte, for make bench's auth
 * section (tests/bench.sh, docs/machine-facts.md#session-id-authentication-in-the-test-bed).
 *
 *   authbench server PORT [--threads N] [--batch-window US] [AUTH]
 *       accept on 0.0.0.0:PORT with N threads (default 128); per connection:
 *       tcpcrypt_auth_fd with AUTH (none: plain echo), read one byte, send
 *       it back, close.  SIGUSR1 prints one line to stdout:
 *       "stats ok=N failed=N signatures=N proofs=N" (the last two from
 *       tcpcrypt_auth_batch_stats: a batch signer's, else 0).  --batch-window:
 *       the batch signer's gather window bound in us instead of the library's
 *       (lib/auth_batch.h), to measure what it buys and costs.
 *   authbench client ADDR PORT N CONC [--seconds S] [--port-file F] [AUTH]
 *       up to N connections, CONC at a time (no new one after S seconds);
 *       with --port-file, each from the next local port after the one in F
 *       (1024..65000, wrapping; F is updated at the end), so that no two
 *       connections of a bench share a 4-tuple within seconds of each other
 *       (docs/machine-facts.md#session-id-authentication-in-the-test-bed);
 *       per connection: connect, tcpcrypt_auth_fd with AUTH (none: nothing),
 *       send one byte, wait for the echoed byte: that time is its latency.
 *       Prints JSON {"n", "ok", "failed", "failed_reused_port", "seconds",
 *       "rate", "p50_ms", "p99_ms"}; failure reasons go to stderr (the first
 *       few); failed_reused_port: authentications that failed on a local
 *       port this client had connected from before.
 *
 * AUTH is one of the credential options of tcpcrypt-cat(1); each is a line
 * of the creds table below.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include "tcpcrypt/auth.h"
#include "tcpcrypt/tcpcrypt.h"
#include "../../lib/auth_batch.h"

#define AUTH_TIMEOUT_MS 10000

/* The credentials, by option name (as tcpcrypt-cat's): one line a scheme */
static const struct {
	const char *opt;
	struct tcpcrypt_auth *(*load)(const char *path, int *err);
} creds[] = {
    {"--psk", tcpcrypt_auth_psk_file},
    {"--sign", tcpcrypt_auth_sign_file},
    {"--sign-batch", tcpcrypt_auth_sign_batch_file},
    {"--verify", tcpcrypt_auth_verify_file},
    {"--password-file", tcpcrypt_auth_spake2p_password_file},
    {"--verifier", tcpcrypt_auth_verifier_file},
    {"--spake2-password-file", tcpcrypt_auth_password_file},
};

static struct tcpcrypt_auth *cred;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: authbench server PORT [--threads N] [--batch-window US] [AUTH]\n"
		"       authbench client ADDR PORT N CONC [--seconds S] [--port-file F] [AUTH]\n"
		"AUTH:");
	for (size_t i = 0; i < sizeof(creds) / sizeof(creds[0]); i++)
		fprintf(stderr, " %s FILE", creds[i].opt);
	fprintf(stderr, " (none: no authentication)\n");
	exit(2);
}

/* argv[i] a credential option (then its file): 1 if it was one */
static int cred_opt(char **argv, int *i, int argc)
{
	int err = 0;

	for (size_t k = 0; k < sizeof(creds) / sizeof(creds[0]); k++) {
		if (strcmp(argv[*i], creds[k].opt))
			continue;
		if (*i + 1 >= argc || cred)
			usage();
		cred = creds[k].load(argv[++*i], &err);
		if (!cred) {
			fprintf(stderr, "authbench: %s: %s\n", argv[*i],
				tcpcrypt_auth_strerror(err));
			exit(2);
		}
		return 1;
	}
	return 0;
}

/* ---------------------------------------------------------------- server */

static int lfd;
static atomic_ulong srv_ok, srv_failed;

static void *serve(void *arg)
{
	(void)arg;
	for (;;) {
		struct timeval tv = {.tv_sec = AUTH_TIMEOUT_MS / 1000};
		int fd = accept(lfd, NULL, NULL), one = 1, r = 0;
		char c;

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED || errno == EMFILE)
				continue;
			perror("authbench: accept");
			exit(1);
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		if (cred)
			r = tcpcrypt_auth_fd(fd, cred, AUTH_TIMEOUT_MS, NULL, NULL);
		if (!r && recv(fd, &c, 1, 0) == 1 && send(fd, &c, 1, MSG_NOSIGNAL) == 1)
			atomic_fetch_add(&srv_ok, 1);
		else
			atomic_fetch_add(&srv_failed, 1);
		close(fd);
	}
	return NULL;
}

static int server(int argc, char **argv)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	int threads = 128, one = 1, sig, window = -1;
	sigset_t set;
	pthread_t th;

	if (argc < 3)
		usage();
	sa.sin_port = htons(atoi(argv[2]));
	for (int i = 3; i < argc; i++) {
		if (!strcmp(argv[i], "--threads") && i + 1 < argc)
			threads = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--batch-window") && i + 1 < argc)
			window = atoi(argv[++i]);
		else if (!cred_opt(argv, &i, argc))
			usage();
	}
	if (window >= 0)
		tcpcrypt__batch_window(cred, window);
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(lfd, 4096)) {
		perror("authbench: listen");
		return 1;
	}
	/* SIGUSR1 to this thread only, by sigwait */
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	for (int i = 0; i < threads; i++)
		if (pthread_create(&th, NULL, serve, NULL)) {
			perror("authbench: pthread_create");
			return 1;
		}
	printf("listening %s\n", argv[2]);
	fflush(stdout);
	while (!sigwait(&set, &sig)) {
		unsigned long s = 0, p = 0;

		tcpcrypt_auth_batch_stats(cred, &s, &p);
		printf("stats ok=%lu failed=%lu signatures=%lu proofs=%lu\n", atomic_load(&srv_ok),
		       atomic_load(&srv_failed), s, p);
		fflush(stdout);
	}
	return 1;
}

/* ---------------------------------------------------------------- client */

static struct sockaddr_in dst;
static int n_max;
static double t_end;
static atomic_int next;
static atomic_int errors_shown;
static double *lat; /* ms, per connection; -1: failed, -2: not made */
/* per local port, when this client last connected from it (0: never) */
static _Atomic double port_used[65536];
static atomic_int failed_reused; /* failures on a local port this client used before */
#define LPORT_MIN 1024
#define LPORT_MAX 65000
static atomic_uint lport; /* with --port-file: the last local port handed out */

/* bind fd to the next free local port; 0, or -1 */
static int bind_next(int fd)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};

	for (int tries = 0; tries < 1000; tries++) {
		unsigned p = atomic_fetch_add(&lport, 1) + 1;

		sa.sin_port = htons(LPORT_MIN + (p - LPORT_MIN) % (LPORT_MAX - LPORT_MIN + 1));
		if (!bind(fd, (struct sockaddr *)&sa, sizeof(sa)))
			return 0;
		if (errno != EADDRINUSE)
			return -1;
	}
	return -1;
}

static void fail(int i, const char *what, const char *why)
{
	lat[i] = -1;
	if (atomic_fetch_add(&errors_shown, 1) < 5)
		fprintf(stderr, "authbench: %s: %s\n", what, why);
}

/* The local port of fd; if it was used before, count a failure on it as such */
static double port_last(int fd, unsigned *port)
{
	struct sockaddr_in sa;
	socklen_t l = sizeof(sa);

	*port = 0;
	if (getsockname(fd, (struct sockaddr *)&sa, &l))
		return 0;
	*port = ntohs(sa.sin_port);
	return atomic_exchange(&port_used[*port], now());
}

/* One connection: its latency in lat[i], or a failure */
static void one_conn(int i)
{
	double t0 = now();
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1, r;
	struct timeval tv = {.tv_sec = AUTH_TIMEOUT_MS / 1000};
	double before;
	unsigned port;
	char c = 'x';

	errno = 0;
	if (fd < 0)
		return fail(i, "socket", strerror(errno));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (atomic_load(&lport) && bind_next(fd)) {
		fail(i, "bind", strerror(errno));
		close(fd);
		return;
	}
	if (connect(fd, (struct sockaddr *)&dst, sizeof(dst))) {
		fail(i, "connect", strerror(errno));
		close(fd);
		return;
	}
	before = port_last(fd, &port);
	if (cred && (r = tcpcrypt_auth_fd(fd, cred, AUTH_TIMEOUT_MS, NULL, NULL))) {
		if (before > 0)
			atomic_fetch_add(&failed_reused, 1);
		fail(i, "authentication", tcpcrypt_auth_strerror(r));
		close(fd);
		return;
	}
	if (send(fd, &c, 1, MSG_NOSIGNAL) != 1 || recv(fd, &c, 1, 0) != 1 || c != 'x') {
		fail(i, "echo", errno ? strerror(errno) : "closed");
		close(fd);
		return;
	}
	lat[i] = (now() - t0) * 1e3;
	close(fd);
}

static void *client_thread(void *arg)
{
	(void)arg;
	for (;;) {
		int i = atomic_fetch_add(&next, 1);

		if (i >= n_max || (t_end && now() >= t_end))
			return NULL;
		one_conn(i);
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int client(int argc, char **argv)
{
	double secs = 0, t0, el;
	const char *port_file = NULL;
	int conc, n, ok = 0;
	pthread_t *th;
	double *v;

	if (argc < 6)
		usage();
	dst.sin_family = AF_INET;
	dst.sin_port = htons(atoi(argv[3]));
	if (inet_pton(AF_INET, argv[2], &dst.sin_addr) != 1)
		usage();
	n_max = atoi(argv[4]);
	conc = atoi(argv[5]);
	if (n_max < 1 || conc < 1 || conc > 1024)
		usage();
	for (int i = 6; i < argc; i++) {
		if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
			secs = atof(argv[++i]);
		else if (!strcmp(argv[i], "--port-file") && i + 1 < argc)
			port_file = argv[++i];
		else if (!cred_opt(argv, &i, argc))
			usage();
	}
	if (port_file) {
		FILE *f = fopen(port_file, "r");
		unsigned p = 0;

		if (f) {
			if (fscanf(f, "%u", &p) != 1)
				p = 0;
			fclose(f);
		}
		atomic_store(&lport, p >= LPORT_MIN && p <= LPORT_MAX ? p : LPORT_MIN);
	}
	lat = calloc(n_max, sizeof(*lat));
	v = calloc(n_max, sizeof(*v));
	th = calloc(conc, sizeof(*th));
	if (!lat || !v || !th)
		return 1;
	for (int i = 0; i < n_max; i++)
		lat[i] = -2;
	t0 = now();
	t_end = secs > 0 ? t0 + secs : 0;
	for (int i = 0; i < conc; i++)
		if (pthread_create(&th[i], NULL, client_thread, NULL)) {
			perror("authbench: pthread_create");
			return 1;
		}
	for (int i = 0; i < conc; i++)
		pthread_join(th[i], NULL);
	el = now() - t0;
	n = 0;
	for (int i = 0; i < n_max; i++) {
		n += lat[i] != -2; /* -2: claimed after the deadline, not made */
		if (lat[i] >= 0)
			v[ok++] = lat[i];
	}
	qsort(v, ok, sizeof(*v), cmp_double);
	if (port_file) {
		FILE *f = fopen(port_file, "w");
		unsigned p = atomic_load(&lport);

		if (f) {
			fprintf(f, "%u\n",
				LPORT_MIN + (p - LPORT_MIN) % (LPORT_MAX - LPORT_MIN + 1));
			fclose(f);
		}
	}
	printf("{\"n\": %d, \"ok\": %d, \"failed\": %d, \"failed_reused_port\": %d, "
	       "\"seconds\": %.3f, \"rate\": %.1f, ",
	       n, ok, n - ok, atomic_load(&failed_reused), el, ok / el);
	if (ok)
		printf("\"p50_ms\": %.4f, \"p99_ms\": %.4f}\n", v[(ok - 1) / 2],
		       v[(int)((ok - 1) * 0.99)]);
	else
		printf("\"p50_ms\": null, \"p99_ms\": null}\n");
	return n == ok ? 0 : 1;
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "server"))
		return server(argc, argv);
	if (argc > 1 && !strcmp(argv[1], "client"))
		return client(argc, argv);
	usage();
	return 2;
}
