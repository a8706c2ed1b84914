// SPDX-License-Identifier: MIT
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "bpf_test.h"

const __u8 bt_mac_src[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x0a};
const __u8 bt_mac_dst[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x0b};

/* Hash maps get this many entries in tests; the tests use a handful. */
#define BT_HASH_ENTRIES 256

__u16 bt_csum(const void *p, size_t n, __u32 sum)
{
	const __u8 *b = p;

	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (__u32)b[i] << 8 | b[i + 1];
	if (n & 1)
		sum += (__u32)b[n - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum & 0xffff;
}

static void put16(__u8 *p, __u16 v)
{
	p[0] = v >> 8;
	p[1] = v;
}

static void put32(__u8 *p, __u32 v)
{
	put16(p, v >> 16);
	put16(p + 2, v);
}

static int is_v4(const struct bt_frame *f)
{
	return f->b[12] == 0x08 && f->b[13] == 0x00;
}

/* Sum of the TCP pseudo header (RFC 9293 §3.1, RFC 8200 §8.1), not folded. */
static __u32 pseudo_sum(const struct bt_frame *f, size_t tcp_len)
{
	const __u8 *ip = f->b + f->l3;
	__u32 sum = 6 + (__u32)tcp_len;
	size_t at = is_v4(f) ? 12 : 8, n = is_v4(f) ? 8 : 32;

	for (size_t i = 0; i < n; i += 2)
		sum += (__u32)ip[at + i] << 8 | ip[at + i + 1];
	return sum;
}

static __u16 tcp_csum(const struct bt_frame *f)
{
	size_t tcp_len = f->len - f->l4;

	return bt_csum(f->b + f->l4, tcp_len, pseudo_sum(f, tcp_len));
}

void bt_frame_fix_csum(struct bt_frame *f)
{
	__u8 *ip = f->b + f->l3, *th = f->b + f->l4;

	if (is_v4(f)) {
		put16(ip + 10, 0);
		put16(ip + 10, bt_csum(ip, 20, 0));
	}
	put16(th + 16, 0);
	put16(th + 16, tcp_csum(f));
}

int bt_ip_csum_ok(const struct bt_frame *f)
{
	return !is_v4(f) || bt_csum(f->b + f->l3, 20, 0) == 0;
}

int bt_tcp_csum_ok(const struct bt_frame *f)
{
	return f->len >= f->l4 + 20 && tcp_csum(f) == 0;
}

static void addr(int family, const char *text, void *out)
{
	if (inet_pton(family, text, out) != 1) {
		fprintf(stderr, "bad address %s\n", text);
		abort();
	}
}

void bt_frame_build(struct bt_frame *f, const struct bt_seg *s)
{
	int v4 = s->family == AF_INET;
	size_t iphl = v4 ? 20 : 40, tcphl = 20 + s->optlen;
	__u8 *ip, *th;

	if (s->optlen % 4 || s->optlen > 40 || 14 + iphl + tcphl + s->len > sizeof(f->b))
		abort();
	memset(f, 0, sizeof(*f));
	memcpy(f->b, bt_mac_dst, 6);
	memcpy(f->b + 6, bt_mac_src, 6);
	put16(f->b + 12, v4 ? 0x0800 : 0x86dd);
	f->l3 = 14;
	f->l4 = 14 + iphl;
	f->len = f->l4 + tcphl + s->len;
	ip = f->b + f->l3;
	th = f->b + f->l4;
	if (v4) {
		ip[0] = 0x45;
		ip[1] = 0x10; /* DSCP, kept by a reply */
		put16(ip + 2, iphl + tcphl + s->len);
		put16(ip + 4, 0x1234); /* identification */
		put16(ip + 6, 0x4000); /* DF */
		ip[8] = 55;	       /* TTL: a reply gets 64 */
		ip[9] = 6;
		addr(AF_INET, s->src, ip + 12);
		addr(AF_INET, s->dst, ip + 16);
	} else {
		put32(ip, 0x6a012345); /* version, traffic class, flow label */
		put16(ip + 4, tcphl + s->len);
		ip[6] = 6;
		ip[7] = 55;
		addr(AF_INET6, s->src, ip + 8);
		addr(AF_INET6, s->dst, ip + 24);
	}
	put16(th, s->sport);
	put16(th + 2, s->dport);
	put32(th + 4, s->seq);
	put32(th + 8, s->ack);
	th[12] = (tcphl / 4) << 4;
	th[13] = s->flags;
	put16(th + 14, 0xfaf0); /* window */
	if (s->optlen)
		memcpy(th + 20, s->opts, s->optlen);
	if (s->len)
		memcpy(th + tcphl, s->data, s->len);
	bt_frame_fix_csum(f);
}

struct flow_key bt_key(const struct bt_seg *s, int ingress)
{
	struct flow_key k;
	const char *local = ingress ? s->dst : s->src, *remote = ingress ? s->src : s->dst;

	memset(&k, 0, sizeof(k));
	k.family = s->family;
	k.lport = ingress ? s->dport : s->sport;
	k.rport = ingress ? s->sport : s->dport;
	addr(s->family, local, k.laddr);
	addr(s->family, remote, k.raddr);
	return k;
}

int bt_unpin(struct bpf_object *obj)
{
	struct bpf_map *map;

	bpf_object__for_each_map(map, obj)
	{
		enum bpf_map_type t = bpf_map__type(map);

		if (bpf_map__set_pin_path(map, NULL))
			return -1;
		if ((t == BPF_MAP_TYPE_HASH || t == BPF_MAP_TYPE_LRU_HASH) &&
		    bpf_map__set_max_entries(map, BT_HASH_ENTRIES))
			return -1;
	}
	return 0;
}

void bt_map_clear(const struct bpf_map *map)
{
	int fd = bpf_map__fd(map);
	__u8 key[128];

	if (bpf_map__key_size(map) > sizeof(key))
		abort();
	while (!bpf_map_get_next_key(fd, NULL, key))
		if (bpf_map_delete_elem(fd, key))
			abort();
}

static int ncpus(void)
{
	int n = libbpf_num_possible_cpus();

	if (n <= 0)
		abort();
	return n;
}

void bt_stats_zero(const struct bpf_map *stats)
{
	int n = ncpus();
	struct tcpcrypt_stats *v = calloc(n, sizeof(*v));
	__u32 zero = 0;

	if (!v || bpf_map_update_elem(bpf_map__fd(stats), &zero, v, BPF_ANY))
		abort();
	free(v);
}

__u64 bt_stat(const struct bpf_map *stats, size_t off)
{
	int n = ncpus();
	struct tcpcrypt_stats *v = calloc(n, sizeof(*v));
	__u32 zero = 0;
	__u64 sum = 0;

	if (!v || bpf_map_lookup_elem(bpf_map__fd(stats), &zero, v))
		abort();
	for (int i = 0; i < n; i++)
		sum += *(__u64 *)((char *)&v[i] + off);
	free(v);
	return sum;
}

void bt_drops_zero(const struct bpf_map *drops)
{
	int n = ncpus();
	__u64 *v = calloc(n, sizeof(*v));

	if (!v)
		abort();
	for (__u32 r = 0; r < DROP__MAX; r++)
		if (bpf_map_update_elem(bpf_map__fd(drops), &r, v, BPF_ANY))
			abort();
	free(v);
}

__u64 bt_drop(const struct bpf_map *drops, __u32 reason)
{
	int n = ncpus();
	__u64 *v = calloc(n, sizeof(*v)), sum = 0;

	if (!v || bpf_map_lookup_elem(bpf_map__fd(drops), &reason, v))
		abort();
	for (int i = 0; i < n; i++)
		sum += v[i];
	free(v);
	return sum;
}

int bt_run_tc(const struct bpf_program *prog, const struct bt_frame *in, __u32 ifindex,
	      struct bt_frame *out)
{
	struct __sk_buff ctx = {.ifindex = ifindex};
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = in->b, .data_size_in = in->len,
		    .data_out = out->b, .data_size_out = sizeof(out->b), .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx), .repeat = 1);

	memset(out, 0, sizeof(*out));
	if (bpf_prog_test_run_opts(bpf_program__fd(prog), &opts)) {
		fprintf(stderr, "  BPF_PROG_TEST_RUN of %s: %s\n", bpf_program__name(prog),
			strerror(errno));
		return -1;
	}
	out->len = opts.data_size_out;
	out->l3 = in->l3;
	out->l4 = in->l4;
	return opts.retval;
}

int bt_run_xdp(const struct bpf_program *prog, const struct bt_frame *in, __u32 ifindex)
{
	struct xdp_md ctx = {.ingress_ifindex = ifindex, .rx_queue_index = 0};
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = in->b, .data_size_in = in->len,
		    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .repeat = 1);

	if (bpf_prog_test_run_opts(bpf_program__fd(prog), &opts)) {
		fprintf(stderr, "  BPF_PROG_TEST_RUN of %s: %s\n", bpf_program__name(prog),
			strerror(errno));
		return -1;
	}
	return opts.retval;
}

void bt_need_root(void)
{
	if (geteuid() != 0) {
		fprintf(stderr, "the BPF program tests load BPF programs and run them with "
				"BPF_PROG_TEST_RUN: run them as root\n");
		printf("0 passed, 1 failed\n");
		exit(1);
	}
}
