// SPDX-License-Identifier: MIT
/*
 * What the application API's cgroup sockopt programs (bpf/sockopt.bpf.c)
 * cost the options they do not handle: ns per call of getsockopt(TCP_INFO),
 * getsockopt(SO_RCVBUF) and setsockopt(TCP_NODELAY) on a loopback
 * connection, in a cgroup of its own with (1) no program, (2) a program that
 * only returns 1 (the kernel's own cost of a hook), (3) ours.  Also our
 * TCP_ENO_SESSID answer itself.  Run as root: make bench-sockopt.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "sockopt.skel.h"
#include "tcpcrypt/tcpcrypt.h"

#define N 1000000

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void cg_join(const char *dir)
{
	char path[PATH_MAX + 32];
	FILE *f;

	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	f = fopen(path, "w");
	if (!f || fprintf(f, "%d\n", getpid()) < 0 || fclose(f)) {
		perror(path);
		exit(1);
	}
}

static void cg2_mount(char *out, size_t len)
{
	char dev[64], mnt[PATH_MAX / 2], type[64] = "";
	FILE *f = fopen("/proc/mounts", "r");

	while (f && fscanf(f, "%63s %2047s %63s %*[^\n]", dev, mnt, type) == 3)
		if (!strcmp(type, "cgroup2"))
			break;
	if (f)
		fclose(f);
	if (strcmp(type, "cgroup2")) {
		fprintf(stderr, "bench_sockopt: no cgroup v2 mount\n");
		exit(1);
	}
	snprintf(out, len, "%s", mnt);
}

static void conn(int *c, int *s)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t n = sizeof(a);
	int l = socket(AF_INET, SOCK_STREAM, 0);

	if (bind(l, (struct sockaddr *)&a, n) || listen(l, 1) ||
	    getsockname(l, (struct sockaddr *)&a, &n))
		exit(1);
	*c = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(*c, (struct sockaddr *)&a, n) || (*s = accept(l, NULL, NULL)) < 0)
		exit(1);
	close(l);
}

/* ns per call of each of the calls, on a fresh connection (best of 3 rounds). */
static void run(const char *what)
{
	struct tcp_info ti;
	unsigned char id[TCP_ENO_SESSID_LEN];
	double best[4] = {1e18, 1e18, 1e18, 1e18};
	int c, s, v = 1;

	conn(&c, &s);
	for (int r = 0; r < 3; r++) {
		double t;
		socklen_t n;

		t = now_ns();
		for (int i = 0; i < N; i++) {
			n = sizeof(ti);
			getsockopt(c, IPPROTO_TCP, TCP_INFO, &ti, &n);
		}
		t = (now_ns() - t) / N;
		best[0] = t < best[0] ? t : best[0];
		t = now_ns();
		for (int i = 0; i < N; i++) {
			n = sizeof(v);
			getsockopt(c, SOL_SOCKET, SO_RCVBUF, &v, &n);
		}
		t = (now_ns() - t) / N;
		best[1] = t < best[1] ? t : best[1];
		t = now_ns();
		for (int i = 0; i < N; i++)
			setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &v, sizeof(v));
		t = (now_ns() - t) / N;
		best[2] = t < best[2] ? t : best[2];
		t = now_ns();
		for (int i = 0; i < N; i++) {
			n = sizeof(id);
			getsockopt(c, IPPROTO_TCP, TCP_ENO_SESSID, id, &n);
		}
		t = (now_ns() - t) / N;
		best[3] = t < best[3] ? t : best[3];
	}
	printf("%-22s %10.0f %10.0f %10.0f %12.0f\n", what, best[0], best[1], best[2], best[3]);
	close(c);
	close(s);
}

/* A cgroup sockopt program that returns 1 and touches nothing. */
static int noop_prog(enum bpf_attach_type type)
{
	struct bpf_insn insns[] = {
	    {.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 1},
	    {.code = BPF_JMP | BPF_EXIT},
	};
	LIBBPF_OPTS(bpf_prog_load_opts, o, .expected_attach_type = type);

	return bpf_prog_load(BPF_PROG_TYPE_CGROUP_SOCKOPT, "noop", "GPL", insns, 2, &o);
}

int main(void)
{
	char root[PATH_MAX / 2], dir[PATH_MAX];
	struct sockopt_bpf *skel;
	struct bpf_link *l1, *l2;
	int cg, p1, p2;

	cg2_mount(root, sizeof(root));
	snprintf(dir, sizeof(dir), "%s/tcpcrypt-bench-sockopt-%d", root, getpid());
	if (mkdir(dir, 0755) || (cg = open(dir, O_RDONLY | O_DIRECTORY)) < 0) {
		perror(dir);
		return 1;
	}
	cg_join(dir);
	printf("ns per call (best of 3 x %d)  TCP_INFO  SO_RCVBUF  TCP_NODELAY  TCP_ENO_SESSID\n",
	       N);
	run("no program");
	p1 = noop_prog(BPF_CGROUP_GETSOCKOPT);
	p2 = noop_prog(BPF_CGROUP_SETSOCKOPT);
	if (p1 < 0 || p2 < 0 || bpf_prog_attach(p1, cg, BPF_CGROUP_GETSOCKOPT, 0) ||
	    bpf_prog_attach(p2, cg, BPF_CGROUP_SETSOCKOPT, 0)) {
		perror("bench_sockopt: empty programs");
		return 1;
	}
	run("empty programs");
	bpf_prog_detach2(p1, cg, BPF_CGROUP_GETSOCKOPT);
	bpf_prog_detach2(p2, cg, BPF_CGROUP_SETSOCKOPT);
	skel = sockopt_bpf__open();
	if (skel) {
		struct bpf_map *m;

		bpf_object__for_each_map(m, skel->obj) bpf_map__set_pin_path(m, NULL);
	}
	if (!skel || sockopt_bpf__load(skel) ||
	    !(l1 = bpf_program__attach_cgroup(skel->progs.tcpcrypt_getsockopt, cg)) ||
	    !(l2 = bpf_program__attach_cgroup(skel->progs.tcpcrypt_setsockopt, cg))) {
		perror("bench_sockopt: loading bpf/sockopt.bpf.c");
		return 1;
	}
	run("tcpcrypt's programs");
	bpf_link__destroy(l1);
	bpf_link__destroy(l2);
	sockopt_bpf__destroy(skel);
	cg_join(root);
	close(cg);
	close(p1);
	close(p2);
	rmdir(dir);
	return 0;
}
