/* SPDX-License-Identifier: MIT */
/*
 * Helpers of the BPF program tests (tests/bpf/test_*.c): open a skeleton's
 * object with nothing pinned, build Ethernet + IPv4/IPv6 + TCP frames with
 * RFC 1071 checksums computed here (not by the product's code), and run a
 * program on a frame with BPF_PROG_TEST_RUN.  The tests need root.
 */
#ifndef TCPCRYPT_BPF_TEST_H
#define TCPCRYPT_BPF_TEST_H

#include <stddef.h>
#include <bpf/libbpf.h>
#include "tcpcrypt_common.h"

/* TCP flags (RFC 9293 §3.1), written here again so that no expectation comes from the product */
#define BT_FIN 0x01
#define BT_SYN 0x02
#define BT_RST 0x04
#define BT_PSH 0x08
#define BT_ACK 0x10

/* Return codes of the programs under test (linux/pkt_cls.h, linux/bpf.h) */
#define BT_TC_ACT_OK	   0
#define BT_TC_ACT_SHOT	   2
#define BT_TC_ACT_REDIRECT 7
#define BT_XDP_DROP	   1
#define BT_XDP_REDIRECT	   4

#define BT_FRAME_MAX 512

/* One TCP segment, as the test describes it. */
struct bt_seg {
	int family;	       /* AF_INET or AF_INET6 */
	const char *src, *dst; /* addresses as text */
	__u16 sport, dport;
	__u32 seq, ack;
	__u8 flags;	  /* BT_* */
	const __u8 *opts; /* TCP option bytes, a multiple of 4 */
	size_t optlen;
	const __u8 *data; /* payload */
	size_t len;
};

/* An Ethernet frame and where its headers start. */
struct bt_frame {
	__u8 b[BT_FRAME_MAX];
	size_t len;
	size_t l3, l4;
};

extern const __u8 bt_mac_src[6], bt_mac_dst[6];

/* RFC 1071 Internet checksum of [p, p + n) added to sum, folded and complemented. */
__u16 bt_csum(const void *p, size_t n, __u32 sum);

/* Build the frame of s (source MAC bt_mac_src, destination bt_mac_dst); aborts on bad input. */
void bt_frame_build(struct bt_frame *f, const struct bt_seg *s);

/* Recompute the IPv4 header and TCP checksums of f, after an edit. */
void bt_frame_fix_csum(struct bt_frame *f);

/* Do the IPv4 header (1 for IPv6) and the TCP checksum of f verify? */
int bt_ip_csum_ok(const struct bt_frame *f);
int bt_tcp_csum_ok(const struct bt_frame *f);

/* Offsets of TCP header fields in f. */
#define BT_TCP_FLAGS(f) ((f)->b[(f)->l4 + 13])

/*
 * The flow key of s from the local host's point of view: on ingress the
 * local host is s's destination, on egress its source.
 */
struct flow_key bt_key(const struct bt_seg *s, int ingress);

/*
 * Prepare a skeleton's object, between open and load, for a test: no map
 * pinned (nothing is created in or reused from bpffs) and the big hash
 * maps shrunk, which the programs cannot tell apart.
 */
int bt_unpin(struct bpf_object *obj);

/* Remove every entry of a hash map. */
void bt_map_clear(const struct bpf_map *map);

/* Zero every CPU's copy of the counters, and read one summed over the CPUs. */
void bt_stats_zero(const struct bpf_map *stats);
__u64 bt_stat(const struct bpf_map *stats, size_t off);
#define BT_STAT(map, field) bt_stat((map), offsetof(struct tcpcrypt_stats, field))

/* ... and the drops map's counters (one per enum drop_reason). */
void bt_drops_zero(const struct bpf_map *drops);
__u64 bt_drop(const struct bpf_map *drops, __u32 reason);

/*
 * Run a TC program on in as if it arrived on (or left through) ifindex;
 * the resulting frame lands in out.  Returns the program's return code, or
 * -1 (after a message) if the run itself failed.
 */
int bt_run_tc(const struct bpf_program *prog, const struct bt_frame *in, __u32 ifindex,
	      struct bt_frame *out);

/* Run an XDP program on in, received on queue 0 of ifindex; as bt_run_tc. */
int bt_run_xdp(const struct bpf_program *prog, const struct bt_frame *in, __u32 ifindex);

/* Fail the run at once, with a message, unless we are root. */
void bt_need_root(void);

#endif
