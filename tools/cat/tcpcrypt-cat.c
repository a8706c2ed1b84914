// SPDX-License-Identifier: MIT
/*
 * tcpcrypt-cat: a netcat that authenticates the tcpcrypt session ID before
 * it copies a byte (docs/auth.md, tcpcrypt-cat(1)).  One connection: as a
 * client to HOST PORT, or (-l) accepted on PORT; then stdin to the peer and
 * the peer to stdout until both directions have ended.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <openssl/crypto.h>
#include "tcpcrypt/auth.h"
#include "tcpcrypt/tcpcrypt.h"
#include "authopt.h"
#include "version.h"

/* Exit statuses: 10 + a TCPCRYPT_AUTH_E* code when authentication fails */
#define EXIT_CONN  1
#define EXIT_USAGE 2
#define EXIT_AUTH  10

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: tcpcrypt-cat [OPTIONS] AUTH HOST PORT\n"
		"       tcpcrypt-cat -l [OPTIONS] AUTH PORT\n"
		"       tcpcrypt-cat make-verifier --password-file FILE [-o OUT [--force]]\n"
		"\n"
		"Connect to HOST PORT (or accept one connection on PORT), authenticate the\n"
		"tcpcrypt session ID in band (docs/auth.md), print it to stderr, then copy\n"
		"stdin to the peer and the peer to stdout.  Nothing is copied either way\n"
		"before both ends have accepted the authentication.\n"
		"\n"
		"%s\n"
		"Options:\n"
		"  -l, --listen      accept one connection on PORT (all addresses, IPv4 and IPv6)\n"
		"  -t, --timeout MS  authentication timeout in milliseconds (default 10000)\n"
		"  -q, --quiet       no session ID line on success\n"
		"  -h, --help        show this help\n"
		"  -V, --version     print the version\n"
		"\n"
		"make-verifier: write the SPAKE2+ verifier of the password in FILE to OUT\n"
		"(mode 0600; an existing OUT only with --force) or to stdout.\n"
		"\n"
		"Exit status: 0 done; 1 connection or system error; 2 usage or unusable\n"
		"credential file; 10 + code when authentication fails (11 plain TCP, 12 no\n"
		"tcpcryptd, 13 peer does not speak tcpcrypt-auth, 18 session IDs differ,\n"
		"19 wrong key, 20/21 tampered, 22 the peer rejected us, 27 wrong password,\n"
		"29 both ends hold a verifier, 35 the certificate chain does not verify,\n"
		"36 certificate not for NAME; tcpcrypt-cat(1)).  make-verifier: 0 written,\n"
		"1 cannot write OUT, 2 usage, unusable password file, or OUT exists.\n",
		authopt_help);
}

static int connect_to(const char *host, const char *port)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res, *ai;
	int fd = -1, r;

	r = getaddrinfo(host, port, &hints, &res);
	if (r) {
		fprintf(stderr, "tcpcrypt-cat: %s port %s: %s\n", host, port, gai_strerror(r));
		return -1;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
		if (fd < 0)
			continue;
		if (!connect(fd, ai->ai_addr, ai->ai_addrlen))
			break;
		close(fd);
		fd = -1;
	}
	if (fd < 0)
		fprintf(stderr, "tcpcrypt-cat: connect to %s port %s: %s\n", host, port,
			strerror(errno));
	freeaddrinfo(res);
	return fd;
}

static int accept_on(const char *port)
{
	struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_ANY_INIT};
	char *end;
	long p = strtol(port, &end, 10);
	int one = 1, zero = 0, ls, fd;

	if (*end || p < 1 || p > 65535) {
		fprintf(stderr, "tcpcrypt-cat: bad port '%s'\n", port);
		return -2;
	}
	a.sin6_port = htons(p);
	ls = socket(AF_INET6, SOCK_STREAM, 0);
	if (ls < 0 || setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    setsockopt(ls, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero)) ||
	    bind(ls, (struct sockaddr *)&a, sizeof(a)) || listen(ls, 1)) {
		fprintf(stderr, "tcpcrypt-cat: listen on port %s: %s\n", port, strerror(errno));
		return -1;
	}
	fd = accept(ls, NULL, NULL);
	if (fd < 0)
		fprintf(stderr, "tcpcrypt-cat: accept: %s\n", strerror(errno));
	close(ls);
	return fd;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= w;
	}
	return 0;
}

/* the same to the socket, without SIGPIPE when the peer has gone */
static int send_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= w;
	}
	return 0;
}

/*
 * stdin -> fd and fd -> stdout until both have ended: stdin's end is passed
 * on as a half close (shutdown SHUT_WR), the peer's ends the output.
 */
static int copy(int fd)
{
	struct pollfd p[2] = {{.fd = 0, .events = POLLIN}, {.fd = fd, .events = POLLIN}};
	char buf[65536];

	while (p[0].fd >= 0 || p[1].fd >= 0) {
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (p[0].fd >= 0 && p[0].revents) {
			ssize_t n = read(0, buf, sizeof(buf));

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				shutdown(fd, SHUT_WR);
				p[0].fd = -1;
			} else if (send_all(fd, buf, n)) {
				return -1;
			}
		}
		if (p[1].fd >= 0 && p[1].revents) {
			ssize_t n = read(fd, buf, sizeof(buf));

			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				return -1;
			if (n == 0)
				p[1].fd = -1;
			else if (write_all(1, buf, n))
				return -1;
		}
	}
	return 0;
}

/* tcpcrypt-cat make-verifier --password-file FILE [-o OUT [--force]] */
static int make_verifier(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"password-file", required_argument, NULL, 'W'},
	    {"output", required_argument, NULL, 'o'},
	    {"force", no_argument, NULL, 'f'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *pw = NULL, *out = NULL;
	char text[TCPCRYPT_AUTH_VERIFIER_MAX];
	int force = 0, c, n, fd;

	while ((c = getopt_long(argc, argv, "o:fh", opts, NULL)) != -1) {
		switch (c) {
		case 'W':
			pw = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		case 'f':
			force = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (!pw || optind != argc || (force && !out)) {
		fprintf(stderr, "tcpcrypt-cat: make-verifier --password-file FILE [-o OUT "
				"[--force]]\n");
		return EXIT_USAGE;
	}
	n = tcpcrypt_auth_make_verifier_file(pw, text, sizeof(text));
	if (n < 0) {
		fprintf(stderr, "tcpcrypt-cat: %s: %s\n", pw,
			n == -TCPCRYPT_AUTH_ESYS ? strerror(errno)
						 : "not a password (1 to 1024 bytes but one "
						   "trailing newline)");
		return EXIT_USAGE;
	}
	if (!out)
		return write_all(1, text, n) ? EXIT_CONN : 0;
	/* the verifier is a password equivalent for offline guessing: 0600, and no clobbering */
	fd = open(out, O_WRONLY | O_CREAT | O_CLOEXEC | (force ? O_TRUNC : O_EXCL), 0600);
	if (fd < 0) {
		fprintf(stderr, "tcpcrypt-cat: %s: %s\n", out,
			errno == EEXIST ? "exists (--force to overwrite it)" : strerror(errno));
		OPENSSL_cleanse(text, sizeof(text));
		return errno == EEXIST ? EXIT_USAGE : EXIT_CONN;
	}
	if (fchmod(fd, 0600) || write_all(fd, text, n) || fsync(fd) || close(fd)) {
		fprintf(stderr, "tcpcrypt-cat: %s: %s\n", out, strerror(errno));
		OPENSSL_cleanse(text, sizeof(text));
		return EXIT_CONN;
	}
	OPENSSL_cleanse(text, sizeof(text));
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"listen", no_argument, NULL, 'l'},
	    AUTHOPT_OPTIONS,
	    {"timeout", required_argument, NULL, 't'},
	    {"quiet", no_argument, NULL, 'q'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	struct authopt ao = {0};
	int listen_mode = 0, quiet = 0, timeout = 10000, c, ps = 0, fd, r, role = -1;
	struct tcpcrypt_auth *a = NULL;
	unsigned char sid[TCP_ENO_SESSID_LEN];
	char hex[2 * TCP_ENO_SESSID_LEN + 1];
	socklen_t rl = sizeof(role);

	if (argc > 1 && !strcmp(argv[1], "make-verifier"))
		return make_verifier(argc - 1, argv + 1);
	while ((c = getopt_long(argc, argv, "lt:qhV", opts, NULL)) != -1) {
		r = authopt_take(&ao, c, optarg, "tcpcrypt-cat");
		if (r < 0)
			return EXIT_USAGE;
		if (r)
			continue;
		switch (c) {
		case 'l':
			listen_mode = 1;
			break;
		case 't':
			timeout = atoi(optarg);
			if (timeout <= 0) {
				fprintf(stderr, "tcpcrypt-cat: bad timeout '%s'\n", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'q':
			quiet = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("tcpcrypt-cat %s\n", TCPCRYPT_VERSION);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (!ao.scheme || argc - optind != (listen_mode ? 1 : 2)) {
		if (!ao.scheme)
			authopt_load(&ao, NULL, "tcpcrypt-cat"); /* says what is missing */
		usage(stderr);
		return EXIT_USAGE;
	}
	a = authopt_load(&ao, listen_mode ? NULL : argv[optind], "tcpcrypt-cat");
	if (!a)
		return EXIT_USAGE;
	fd = listen_mode ? accept_on(argv[optind]) : connect_to(argv[optind], argv[optind + 1]);
	if (fd < 0) {
		tcpcrypt_auth_free(a);
		return fd == -2 ? EXIT_USAGE : EXIT_CONN;
	}
	memset(sid, 0, sizeof(sid));
	r = tcpcrypt_auth_fd(fd, a, timeout, sid, &ps);
	tcpcrypt_auth_free(a);
	if (r) {
		int e = errno;

		fprintf(stderr, "tcpcrypt-cat: authentication failed: %s",
			tcpcrypt_auth_strerror(r));
		if (r == -TCPCRYPT_AUTH_EPEER)
			fprintf(stderr, " (the peer: %s)", tcpcrypt_auth_strerror(ps));
		if (r == -TCPCRYPT_AUTH_ESYS)
			fprintf(stderr, " (%s)", strerror(e));
		if ((r == -TCPCRYPT_AUTH_ECERT || r == -TCPCRYPT_AUTH_ENAME) &&
		    *tcpcrypt_auth_cert_error())
			fprintf(stderr, " (%s)", tcpcrypt_auth_cert_error());
		if (sid[0])
			fprintf(stderr, "; unauthenticated session %s",
				tcpcrypt_hex(sid, sizeof(sid), hex, sizeof(hex)));
		fprintf(stderr, "\n");
		close(fd);
		return EXIT_AUTH - r;
	}
	getsockopt(fd, IPPROTO_TCP, TCP_ENO_ROLE, &role, &rl);
	if (!quiet)
		fprintf(stderr, "tcpcrypt-cat: authenticated session %s (%s, role %s)\n",
			tcpcrypt_hex(sid, sizeof(sid), hex, sizeof(hex)), authopt_name(&ao),
			tcpcrypt_role_name(role) ? tcpcrypt_role_name(role) : "?");
	r = copy(fd);
	if (r)
		fprintf(stderr, "tcpcrypt-cat: %s\n", strerror(errno));
	close(fd);
	return r ? EXIT_CONN : 0;
}
