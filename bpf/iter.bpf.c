// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * TCP socket iterators, run by tcpcryptd in its own network namespace.
 *
 * tcpcrypt_listeners, once at start: enrols the listening sockets that
 * already exist (TCP_LISTEN_CB ran before sock_ops was attached), so that
 * servers started before the agent answer ENO too.  Established
 * connections are left alone: they stay plain.
 *
 * tcpcrypt_reset: aborts the sockets of encrypted connections whose keys
 * are gone or about to go (a stopping agent, or one that died before this
 * one started), so that no such socket outlives the agent that encrypts it
 * and sends its data in plaintext once the programs are detached.  The
 * application gets ECONNABORTED at once.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#define TCPCRYPT_FLOW_MAPS_ONLY
#include "maps.bpf.h"

#define TCP_TIME_WAIT_	  6
#define TCP_LISTEN_	  10
#define TCP_NEW_SYN_RECV_ 12

char LICENSE[] SEC("license") = "Dual MIT/GPL";

extern int bpf_sock_destroy(struct sock_common *sk) __ksym;

/* Set by the agent before a run of tcpcrypt_reset. */
__u64 reset_before_ns;	/* only flows negotiated before this (bpf_ktime_get_ns) */
__u32 reset_dry_run;	/* count them, abort nothing */
__u32 reset_handshakes; /* also passive opens that sent ENO and wait for the third ACK */
__u32 reset_count;	/* sockets aborted (or counted) by the run */

SEC("iter/tcp")
int tcpcrypt_listeners(struct bpf_iter__tcp *ctx)
{
	struct sock_common *skc = ctx->sk_common;
	struct tcp_sock *tp;
	int flags = BPF_SOCK_OPS_WRITE_HDR_OPT_CB_FLAG;

	if (!skc || skc->skc_state != TCP_LISTEN_)
		return 0;
	tp = bpf_skc_to_tcp_sock(skc);
	if (tp)
		bpf_setsockopt(tp, SOL_TCP, TCP_BPF_SOCK_OPS_CB_FLAGS, &flags, sizeof(flags));
	return 0;
}

/* The flow key of a socket, as sock_ops makes it (v4-mapped IPv6 as IPv4). */
static __always_inline void key_from_skc(const struct sock_common *skc, struct flow_key *k)
{
	const __u32 *r6 = skc->skc_v6_daddr.in6_u.u6_addr32;

	__builtin_memset(k, 0, sizeof(*k));
	k->lport = skc->skc_num;
	k->rport = bpf_ntohs(skc->skc_dport);
	if (skc->skc_family == AF_INET ||
	    (r6[0] == 0 && r6[1] == 0 && r6[2] == bpf_htonl(0xffff))) {
		k->family = AF_INET;
		k->laddr[0] = skc->skc_rcv_saddr;
		k->raddr[0] = skc->skc_daddr;
		return;
	}
	k->family = AF_INET6;
	__builtin_memcpy(k->laddr, skc->skc_v6_rcv_saddr.in6_u.u6_addr32, 16);
	__builtin_memcpy(k->raddr, r6, 16);
}

SEC("iter/tcp")
int tcpcrypt_reset(struct bpf_iter__tcp *ctx)
{
	struct sock_common *skc = ctx->sk_common;
	struct flow_info *fi;
	struct flow_key k;
	__u8 state;

	if (!skc)
		return 0;
	state = skc->skc_state;
	/* a time-wait socket sends no data; listeners have no flow */
	if (state == TCP_TIME_WAIT_ || state == TCP_LISTEN_)
		return 0;
	if (skc->skc_family != AF_INET && skc->skc_family != AF_INET6)
		return 0;
	key_from_skc(skc, &k);
	if (state == TCP_NEW_SYN_RECV_) {
		/*
		 * Host A may enable encryption with its third ACK, and without
		 * an agent B's application would read A's Init1: the request goes,
		 * and that ACK meets a RST.
		 */
		fi = bpf_map_lookup_elem(&pending, &k);
		if (!reset_handshakes || !fi || fi->state != FLOW_NEGOTIATING)
			return 0;
	} else {
		fi = bpf_map_lookup_elem(&flows, &k);
		if (!fi || fi->state != FLOW_TCPCRYPT || (fi->flags & FLOWF_CLOSED) ||
		    fi->start_ns >= reset_before_ns)
			return 0;
	}
	if (reset_dry_run || !bpf_sock_destroy(skc))
		reset_count++;
	return 0;
}
