// SPDX-License-Identifier: MIT
/*
 * The socket-option programs (bpf/sockopt.bpf.c), attached to a cgroup of
 * their own that this test process joins (BPF_PROG_TEST_RUN does not run
 * cgroup sockopt programs): real setsockopt(2)/getsockopt(2) calls on real
 * sockets, with the maps the agent and sock_ops would fill written by the
 * test.  What the programs store is read back from sk_opts (keyed by the
 * socket's fd from user space); the expected errnos are those of
 * tcpcrypt(7), from <errno.h>.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <bpf/bpf.h>
#include "bpf_test.h"
#include "sockopt.skel.h"
#include "tcpcrypt/tcpcrypt.h"
#include "t.h"

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71
#endif

static struct sockopt_bpf *skel;
static struct bpf_link *links[2];
static char cg_dir[PATH_MAX + 64], cg_orig[PATH_MAX], cg_root[PATH_MAX / 2];

static void cg_write_pid(const char *dir)
{
	char path[PATH_MAX + 96];
	FILE *f;

	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	f = fopen(path, "w");
	if (!f || fprintf(f, "%d\n", getpid()) < 0 || fclose(f)) {
		perror(path);
		exit(1);
	}
}

static void teardown(void)
{
	cg_write_pid(cg_orig);
	for (int i = 0; i < 2; i++)
		bpf_link__destroy(links[i]);
	rmdir(cg_dir);
	sockopt_bpf__destroy(skel);
}

/*
 * The first cgroup2 mount (Debian: /sys/fs/cgroup; hybrid hosts:
 * .../unified) into cg_root, where the test's cgroup goes (the root takes
 * children whatever controllers are enabled), and this process's cgroup
 * ("0::/path" of /proc/self/cgroup), where it returns at exit.
 */
static void cg_self(char *out, size_t len)
{
	char line[PATH_MAX / 2] = "", *mnt = cg_root, dev[64], type[64];
	FILE *f = fopen("/proc/mounts", "r");

	type[0] = 0;
	while (f && fscanf(f, "%63s %2047s %63s %*[^\n]", dev, mnt, type) == 3)
		if (!strcmp(type, "cgroup2"))
			break;
	if (f)
		fclose(f);
	if (strcmp(type, "cgroup2")) {
		fprintf(stderr, "no cgroup v2 mount\n");
		exit(1);
	}
	f = fopen("/proc/self/cgroup", "r");
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "0::", 3))
			break;
	if (f)
		fclose(f);
	line[strcspn(line, "\n")] = 0;
	snprintf(out, len, "%s%s", mnt, strncmp(line, "0::", 3) ? "" : line + 3);
}

static void settings(__u8 datapath, __u64 cookie)
{
	struct tcpcrypt_config c = {.enabled = 1, .datapath = datapath, .netns_cookie = cookie};
	__u32 zero = 0;

	c.teps.n = 2;
	c.teps.tep[0] = 0x21;
	c.teps.tep[1] = 0x23;
	bpf_map__update_elem(skel->maps.settings, &zero, sizeof(zero), &c, sizeof(c), BPF_ANY);
}

static __u64 netns_cookie(void)
{
	__u64 ck = 0;
	socklen_t n = sizeof(ck);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, &ck, &n);
	close(fd);
	return ck;
}

static void setup(void)
{
	int cg;

	if (skel)
		return;
	bt_need_root();
	skel = sockopt_bpf__open();
	if (!skel || bt_unpin(skel->obj) || sockopt_bpf__load(skel)) {
		fprintf(stderr, "loading bpf/sockopt.bpf.c failed\n");
		printf("0 passed, 1 failed\n");
		exit(1);
	}
	cg_self(cg_orig, sizeof(cg_orig));
	snprintf(cg_dir, sizeof(cg_dir), "%s/tcpcrypt-bpftest-%d", cg_root, getpid());
	if (mkdir(cg_dir, 0755) || (cg = open(cg_dir, O_RDONLY | O_DIRECTORY)) < 0) {
		perror(cg_dir);
		exit(1);
	}
	links[0] = bpf_program__attach_cgroup(skel->progs.tcpcrypt_getsockopt, cg);
	links[1] = bpf_program__attach_cgroup(skel->progs.tcpcrypt_setsockopt, cg);
	close(cg);
	if (!links[0] || !links[1]) {
		perror("attaching the sockopt programs");
		rmdir(cg_dir);
		exit(1);
	}
	cg_write_pid(cg_dir);
	atexit(teardown);
	settings(1, netns_cookie());
}

/* setsockopt/getsockopt at IPPROTO_TCP: 0 or the errno. */
static int seti(int fd, int opt, int v)
{
	return setsockopt(fd, IPPROTO_TCP, opt, &v, sizeof(v)) ? errno : 0;
}

static int setb(int fd, int opt, const void *b, socklen_t n)
{
	return setsockopt(fd, IPPROTO_TCP, opt, b, n) ? errno : 0;
}

static int geti(int fd, int opt, int *v)
{
	socklen_t n = sizeof(*v);

	*v = 0x5a5a5a5a;
	return getsockopt(fd, IPPROTO_TCP, opt, v, &n) ? errno : (n == sizeof(*v) ? 0 : -1);
}

static int getb(int fd, int opt, void *b, socklen_t *n)
{
	return getsockopt(fd, IPPROTO_TCP, opt, b, n) ? errno : 0;
}

static struct tcpcrypt_sk_opts stored(int fd)
{
	struct tcpcrypt_sk_opts o = {};

	bpf_map_lookup_elem(bpf_map__fd(skel->maps.sk_opts), &fd, &o);
	return o;
}

T(pre_syn_options_stored)
{
	int fd, v;
	__u8 b[16];
	socklen_t n;
	struct tcpcrypt_sk_opts o;

	setup();
	fd = socket(AF_INET, SOCK_STREAM, 0);
	CHECK_EQ(geti(fd, TCP_ENO_ENABLED, &v), 0);
	CHECK_EQ(v, -1);
	CHECK_EQ(seti(fd, TCP_ENO_ENABLED, 0), 0);
	CHECK_EQ(geti(fd, TCP_ENO_ENABLED, &v), 0);
	CHECK_EQ(v, 0);
	o = stored(fd);
	CHECK_EQ(o.set & SKO_SET_ENABLED, SKO_SET_ENABLED);
	CHECK_EQ(o.enabled, 0);
	CHECK_EQ(seti(fd, TCP_ENO_ENABLED, 2), EINVAL);
	CHECK_EQ(seti(fd, TCP_ENO_ENABLED, -2), EINVAL);
	CHECK_EQ(setb(fd, TCP_ENO_ENABLED, "\1", 1), EINVAL);
	CHECK_EQ(seti(fd, TCP_ENO_ENABLED, -1), 0);
	CHECK_EQ(geti(fd, TCP_ENO_ENABLED, &v), 0);
	CHECK_EQ(v, -1);
	CHECK_EQ(stored(fd).set & SKO_SET_ENABLED, 0);

	/* the system's list until the socket sets its own */
	n = sizeof(b);
	CHECK_EQ(getb(fd, TCP_ENO_SPECS, b, &n), 0);
	CHECK_EQ(n, 2);
	CHECK_MEM(b, "\x21\x23", 2);
	CHECK_EQ(setb(fd, TCP_ENO_SPECS, "\x24\x22\x23", 3), 0);
	n = sizeof(b);
	CHECK_EQ(getb(fd, TCP_ENO_SPECS, b, &n), 0);
	CHECK_EQ(n, 3);
	CHECK_MEM(b, "\x24\x22\x23", 3);
	o = stored(fd);
	CHECK_EQ(o.specs.n, 3);
	CHECK_MEM(o.specs.tep, "\x24\x22\x23", 3);
	n = 2;
	CHECK_EQ(getb(fd, TCP_ENO_SPECS, b, &n), EINVAL);
	CHECK_EQ(setb(fd, TCP_ENO_SPECS, "", 0), EINVAL);
	CHECK_EQ(setb(fd, TCP_ENO_SPECS, "\x25", 1), EINVAL);	  /* not a TEP we speak */
	CHECK_EQ(setb(fd, TCP_ENO_SPECS, "\x01", 1), EINVAL);	  /* a global suboption byte */
	CHECK_EQ(setb(fd, TCP_ENO_SPECS, "\xa3", 1), EINVAL);	  /* v bit */
	CHECK_EQ(setb(fd, TCP_ENO_SPECS, "\x23\x23", 2), EINVAL); /* repeated */
	CHECK_EQ(setb(fd, TCP_ENO_SPECS, "\x21\x22\x23\x24\x21\x22\x23\x24\x21", 9), EINVAL);
	CHECK_EQ(stored(fd).specs.n, 3); /* the rejected ones changed nothing */

	CHECK_EQ(geti(fd, TCP_ENO_SELF_GOPT, &v), 0);
	CHECK_EQ(v, 0); /* A, system a = 0 */
	CHECK_EQ(seti(fd, TCP_ENO_SELF_GOPT, 4), EINVAL);
	CHECK_EQ(seti(fd, TCP_ENO_SELF_GOPT, TCP_ENO_GOPT_A), 0);
	CHECK_EQ(geti(fd, TCP_ENO_SELF_GOPT, &v), 0);
	CHECK_EQ(v, 2);
	CHECK_EQ(stored(fd).gopt, 2);
	CHECK_EQ(seti(fd, TCP_ENO_AA_MANDATORY, 2), EINVAL);
	CHECK_EQ(seti(fd, TCP_ENO_AA_MANDATORY, 1), 0);
	CHECK_EQ(geti(fd, TCP_ENO_AA_MANDATORY, &v), 0);
	CHECK_EQ(v, 1);
	CHECK_EQ(seti(fd, TCP_CRYPT_AEAD, 3), EINVAL);
	CHECK_EQ(seti(fd, TCP_CRYPT_AEAD, 0x10), 0);
	CHECK_EQ(geti(fd, TCP_CRYPT_AEAD, &v), 0);
	CHECK_EQ(v, 0x10);
	CHECK_EQ(stored(fd).aead, 0x10);
	CHECK_EQ(seti(fd, TCP_CRYPT_CACHE, 4), EINVAL);
	CHECK_EQ(seti(fd, TCP_CRYPT_CACHE, TCP_CRYPT_NO_RESUME | TCP_CRYPT_NO_CACHE), 0);
	CHECK_EQ(seti(fd, TCP_CRYPT_CACHE_FLUSH, 1), 0);
	CHECK_EQ(geti(fd, TCP_CRYPT_CACHE, &v), 0);
	CHECK_EQ(v, 3);
	o = stored(fd);
	CHECK_EQ(o.cache, SKO_NO_RESUME | SKO_NO_CACHE | SKO_FLUSH);
	CHECK_EQ(o.set, SKO_SET_SPECS | SKO_SET_GOPT | SKO_SET_AA_MANDATORY | SKO_SET_AEAD);

	/* read-only options and unknown numbers of the block: the kernel's ENOPROTOOPT */
	CHECK_EQ(seti(fd, TCP_ENO_SESSID, 0), ENOPROTOOPT);
	CHECK_EQ(seti(fd, TCP_ENO_ROLE, 0), ENOPROTOOPT);
	CHECK_EQ(seti(fd, TCP_ENO_OPT_BASE + 0xff, 0), ENOPROTOOPT);
	CHECK_EQ(geti(fd, TCP_ENO_OPT_BASE + 0xff, &v), ENOPROTOOPT);
	/* facts of a connection on an unconnected socket */
	CHECK_EQ(geti(fd, TCP_ENO_ROLE, &v), ENOTCONN);
	n = sizeof(b);
	CHECK_EQ(getb(fd, TCP_ENO_SESSID, b, &n), EINVAL); /* 16 < 33: the length first */
	close(fd);
}

/* A loopback connection: c (connecting end) and s (accepted). */
static void conn(int family, int *c, int *s)
{
	struct sockaddr_storage a = {};
	socklen_t n = sizeof(a);
	int l = socket(family, SOCK_STREAM, 0);

	a.ss_family = family;
	if (family == AF_INET)
		((struct sockaddr_in *)&a)->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	else
		((struct sockaddr_in6 *)&a)->sin6_addr = in6addr_loopback;
	if (bind(l, (struct sockaddr *)&a, sizeof(a)) || listen(l, 1) ||
	    getsockname(l, (struct sockaddr *)&a, &n)) {
		perror("loopback listener");
		exit(1);
	}
	*c = socket(family, SOCK_STREAM, 0);
	if (connect(*c, (struct sockaddr *)&a, n) || (*s = accept(l, NULL, NULL)) < 0) {
		perror("loopback connection");
		exit(1);
	}
	close(l);
}

/* The key the flows map has for fd's connection, written here from getsockname/getpeername. */
static struct flow_key key_of(int fd)
{
	struct sockaddr_storage l, r;
	socklen_t n = sizeof(l);
	struct flow_key k = {};

	getsockname(fd, (struct sockaddr *)&l, &n);
	n = sizeof(r);
	getpeername(fd, (struct sockaddr *)&r, &n);
	k.family = l.ss_family;
	if (l.ss_family == AF_INET) {
		k.lport = ntohs(((struct sockaddr_in *)&l)->sin_port);
		k.rport = ntohs(((struct sockaddr_in *)&r)->sin_port);
		k.laddr[0] = ((struct sockaddr_in *)&l)->sin_addr.s_addr;
		k.raddr[0] = ((struct sockaddr_in *)&r)->sin_addr.s_addr;
	} else {
		k.lport = ntohs(((struct sockaddr_in6 *)&l)->sin6_port);
		k.rport = ntohs(((struct sockaddr_in6 *)&r)->sin6_port);
		memcpy(k.laddr, &((struct sockaddr_in6 *)&l)->sin6_addr, 16);
		memcpy(k.raddr, &((struct sockaddr_in6 *)&r)->sin6_addr, 16);
	}
	return k;
}

static void put_flow(int fd, const struct flow_info *fi)
{
	struct flow_key k = key_of(fd);

	CHECK_EQ(bpf_map__update_elem(skel->maps.flows, &k, sizeof(k), fi, sizeof(*fi), BPF_ANY),
		 0);
}

static void put_session(int fd, const struct session_info *si)
{
	struct flow_key k = key_of(fd);

	CHECK_EQ(bpf_map__update_elem(skel->maps.sessions, &k, sizeof(k), si, sizeof(*si), BPF_ANY),
		 0);
}

static void connected_case(int family)
{
	/* A's option 45 04 21 23, B's 45 04 03 a3 ... (b and a bits, v = 1 with 1 byte) */
	static const __u8 tr[] = {0x45, 0x04, 0x21, 0x23, 0x45, 0x04, 0x03, 0x23};
	struct flow_info fi = {.state = FLOW_NEGOTIATING, .role = ENO_ROLE_A};
	struct session_info si = {.state = SESSION_HANDSHAKE, .role = ENO_ROLE_A};
	__u8 id[40], want[TCP_ENO_SESSID_LEN];
	socklen_t n;
	int c, s, v;

	setup();
	bt_map_clear(skel->maps.flows);
	bt_map_clear(skel->maps.sessions);
	conn(family, &c, &s);
	/* pre-SYN options on a connected socket */
	CHECK_EQ(seti(c, TCP_ENO_ENABLED, 1), EISCONN);
	CHECK_EQ(setb(c, TCP_ENO_SPECS, "\x23", 1), EISCONN);
	CHECK_EQ(seti(c, TCP_ENO_SELF_GOPT, 0), EISCONN);
	CHECK_EQ(seti(c, TCP_ENO_AA_MANDATORY, 1), EISCONN);
	CHECK_EQ(seti(c, TCP_CRYPT_AEAD, 1), EISCONN);
	CHECK_EQ(seti(c, TCP_CRYPT_CACHE, 1), EISCONN);
	/* a bad value is EINVAL before it is EISCONN */
	CHECK_EQ(seti(c, TCP_ENO_ENABLED, 7), EINVAL);

	/* no flow: ENO never ran on this connection (loopback) */
	n = TCP_ENO_SESSID_LEN;
	CHECK_EQ(getb(c, TCP_ENO_SESSID, id, &n), EOPNOTSUPP);
	CHECK_EQ(geti(c, TCP_ENO_ROLE, &v), EOPNOTSUPP);
	CHECK_EQ(seti(c, TCP_CRYPT_CACHE_FLUSH, 1), EOPNOTSUPP);
	n = TCP_ENO_SESSID_LEN - 1;
	CHECK_EQ(getb(c, TCP_ENO_SESSID, id, &n), EINVAL);

	put_flow(c, &fi);
	n = TCP_ENO_SESSID_LEN;
	CHECK_EQ(getb(c, TCP_ENO_SESSID, id, &n), ENOTCONN);
	fi.state = FLOW_PLAIN;
	put_flow(c, &fi);
	CHECK_EQ(getb(c, TCP_ENO_SESSID, id, &n), EOPNOTSUPP);
	CHECK_EQ(geti(c, TCP_ENO_NEGSPEC, &v), EOPNOTSUPP);

	fi.state = FLOW_TCPCRYPT;
	fi.tep = 0x23;
	fi.v = 1;
	fi.transcript_len = sizeof(tr);
	fi.a_opt_len = 4;
	memcpy(fi.transcript, tr, sizeof(tr));
	put_flow(c, &fi);
	CHECK_EQ(getb(c, TCP_ENO_SESSID, id, &n), ENOTCONN); /* no session yet */
	put_session(c, &si);
	CHECK_EQ(getb(c, TCP_ENO_SESSID, id, &n), ENOTCONN); /* key exchange under way */
	si.state = SESSION_ABORTED;
	put_session(c, &si);
	CHECK_EQ(getb(c, TCP_ENO_SESSID, id, &n), ECONNRESET);
	for (size_t i = 0; i < sizeof(want); i++)
		want[i] = i ? 0x40 + i : 0xa3;
	memcpy(si.session_id, want, sizeof(want));
	si.state = SESSION_ESTABLISHED;
	si.aead = 0x0002;
	put_session(c, &si);
	memset(id, 0, sizeof(id));
	n = sizeof(id);
	CHECK_EQ(getb(c, TCP_ENO_SESSID, id, &n), 0);
	CHECK_EQ(n, TCP_ENO_SESSID_LEN);
	CHECK_MEM(id, want, sizeof(want));
	CHECK_EQ(id[TCP_ENO_SESSID_LEN], 0); /* nothing beyond it */
	/* the session of an earlier connection on this 4-tuple (other ISNs): not this one's */
	si.local_isn = 1000;
	put_session(c, &si);
	CHECK_EQ(getb(c, TCP_ENO_SESSID, id, &n), ENOTCONN);
	CHECK_EQ(geti(c, TCP_CRYPT_NEGAEAD, &v), ENOTCONN);
	si.local_isn = 0;
	si.peer_isn = 2000;
	put_session(c, &si);
	CHECK_EQ(getb(c, TCP_ENO_SESSID, id, &n), ENOTCONN);
	fi.local_isn = 1000;
	fi.peer_isn = 2000;
	si.local_isn = 1000;
	put_flow(c, &fi);
	put_session(c, &si);
	n = sizeof(id);
	CHECK_EQ(getb(c, TCP_ENO_SESSID, id, &n), 0);
	CHECK_MEM(id, want, sizeof(want));
	n = TCP_ENO_SESSID_LEN - 1;
	CHECK_EQ(getb(c, TCP_ENO_SESSID, id, &n), EINVAL);
	CHECK_EQ(geti(c, TCP_ENO_NEGSPEC, &v), 0);
	CHECK_EQ(v, 0xa3);
	CHECK_EQ(geti(c, TCP_ENO_ROLE, &v), 0);
	CHECK_EQ(v, TCP_ENO_ROLE_A);
	CHECK_EQ(geti(c, TCP_ENO_PEER_GOPT, &v), 0);
	CHECK_EQ(v, 0x03);
	CHECK_EQ(geti(c, TCP_ENO_SELF_GOPT, &v), 0);
	CHECK_EQ(v, 0); /* A's option has no global suboption */
	CHECK_EQ(geti(c, TCP_CRYPT_NEGAEAD, &v), 0);
	CHECK_EQ(v, 2);
	n = sizeof(id);
	CHECK_EQ(getb(c, TCP_ENO_TRANSCRIPT, id, &n), 0);
	CHECK_EQ(n, sizeof(tr));
	CHECK_MEM(id, tr, sizeof(tr));
	n = sizeof(tr) - 1;
	CHECK_EQ(getb(c, TCP_ENO_TRANSCRIPT, id, &n), EINVAL);

	/* options without a global suboption, and offsets at the transcript's end: 0 */
	{
		static const __u8 bare[] = {0x45, 0x03, 0x23, 0x45, 0x03, 0x23};
		__u8 big[256];

		memcpy(fi.transcript, bare, sizeof(bare));
		fi.transcript_len = sizeof(bare);
		fi.a_opt_len = 3;
		put_flow(c, &fi);
		CHECK_EQ(geti(c, TCP_ENO_PEER_GOPT, &v), 0);
		CHECK_EQ(v, 0);
		fi.a_opt_len = TCPCRYPT_TRANSCRIPT_MAX - 2;
		put_flow(c, &fi);
		CHECK_EQ(geti(c, TCP_ENO_PEER_GOPT, &v), 0);
		CHECK_EQ(v, 0);
		fi.a_opt_len = 0xff;
		fi.transcript_len = 0xff; /* longer than the array: refused, not read past it */
		put_flow(c, &fi);
		CHECK_EQ(geti(c, TCP_ENO_PEER_GOPT, &v), 0);
		CHECK_EQ(v, 0);
		n = sizeof(big);
		CHECK_EQ(getb(c, TCP_ENO_TRANSCRIPT, big, &n), EINVAL);
		fi.transcript_len = sizeof(tr);
		fi.a_opt_len = 4;
		memcpy(fi.transcript, tr, sizeof(tr));
		put_flow(c, &fi);
	}

	/* flush on a connection: the flow says so to the agent */
	CHECK_EQ(seti(c, TCP_CRYPT_CACHE_FLUSH, 1), 0);
	{
		struct flow_key k = key_of(c);
		struct flow_info got = {};

		bpf_map__lookup_elem(skel->maps.flows, &k, sizeof(k), &got, sizeof(got), 0);
		CHECK_EQ(got.flags & FLOWF_FLUSH, FLOWF_FLUSH);
	}

	/* an agent that does not encrypt (--negotiate-only), or another namespace's */
	settings(0, netns_cookie());
	n = TCP_ENO_SESSID_LEN;
	CHECK_EQ(getb(c, TCP_ENO_SESSID, id, &n), EOPNOTSUPP);
	CHECK_EQ(geti(c, TCP_ENO_ROLE, &v), 0);
	settings(1, netns_cookie() + 1);
	CHECK_EQ(getb(c, TCP_ENO_SESSID, id, &n), EOPNOTSUPP);
	settings(1, netns_cookie());
	CHECK_EQ(getb(c, TCP_ENO_SESSID, id, &n), 0);
	/* the other end has no flow of its own here */
	CHECK_EQ(getb(s, TCP_ENO_SESSID, id, &n), EOPNOTSUPP);
	close(c);
	close(s);
}

T(connected_ipv4)
{
	connected_case(AF_INET);
}

T(connected_ipv6)
{
	connected_case(AF_INET6);
}

/* Other options and levels, and non-TCP sockets, are the kernel's. */
T(passthrough)
{
	struct tcp_info ti;
	socklen_t n = sizeof(ti);
	int c, s, v, u;

	setup();
	conn(AF_INET, &c, &s);
	CHECK_EQ(seti(c, TCP_NODELAY, 1), 0);
	CHECK_EQ(geti(c, TCP_NODELAY, &v), 0);
	CHECK_EQ(v, 1);
	CHECK_EQ(getsockopt(c, IPPROTO_TCP, TCP_INFO, &ti, &n), 0);
	CHECK_EQ(n, sizeof(ti));
	CHECK_EQ(ti.tcpi_state, 1); /* TCP_ESTABLISHED */
	v = 1 << 16;
	CHECK_EQ(setsockopt(c, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v)), 0);
	n = sizeof(v);
	CHECK_EQ(getsockopt(c, SOL_SOCKET, SO_RCVBUF, &v, &n), 0);
	CHECK_EQ(v, 2 << 16); /* the kernel doubles it */
	CHECK_EQ(seti(c, 9999, 1), ENOPROTOOPT);
	/* a UDP socket gets the kernel's answer, the one for a number nobody defines */
	u = socket(AF_INET, SOCK_DGRAM, 0);
	CHECK_EQ(seti(u, TCP_ENO_ENABLED, 0), seti(u, 9999, 0));
	CHECK_EQ(geti(u, TCP_ENO_ENABLED, &v), geti(u, 9999, &v));
	CHECK(geti(u, TCP_ENO_ENABLED, &v) != 0);
	close(u);
	close(c);
	close(s);
}
