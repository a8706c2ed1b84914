// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * XDP on every interface tcpcryptd steers.  It records which SYNs arrived
 * on a steered interface, so that the passive side of ENO answers only
 * connections that have a data path (never loopback or local traffic);
 * sock_ops cannot see the ingress interface of a request socket.
 * Everything is passed on to the stack.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "maps.bpf.h"

#define ETH_P_IP     0x0800
#define ETH_P_IPV6   0x86DD
#define IPPROTO_TCP_ 6

char LICENSE[] SEC("license") = "Dual MIT/GPL";

static __always_inline void record_syn(struct xdp_md *ctx, struct flow_key *k, struct tcphdr *th)
{
	__u32 ifindex = ctx->ingress_ifindex;

	if (!th->syn || th->ack)
		return;
	k->lport = bpf_ntohs(th->dest);
	k->rport = bpf_ntohs(th->source);
	bpf_map_update_elem(&syn_seen, k, &ifindex, BPF_ANY);
}

SEC("xdp")
int tcpcrypt_ingress(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct flow_key k = {};
	struct tcphdr *th;

	if ((void *)(eth + 1) > end)
		return XDP_PASS;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);

		if ((void *)(ip + 1) > end || ip->protocol != IPPROTO_TCP_ || ip->ihl < 5)
			return XDP_PASS;
		if (ip->frag_off & bpf_htons(0x3fff))
			return XDP_PASS;
		th = (void *)ip + ip->ihl * 4;
		if ((void *)(th + 1) > end)
			return XDP_PASS;
		k.family = AF_INET;
		k.laddr[0] = ip->daddr;
		k.raddr[0] = ip->saddr;
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) > end || ip6->nexthdr != IPPROTO_TCP_)
			return XDP_PASS;
		th = (void *)(ip6 + 1);
		if ((void *)(th + 1) > end)
			return XDP_PASS;
		k.family = AF_INET6;
		__builtin_memcpy(k.laddr, &ip6->daddr, 16);
		__builtin_memcpy(k.raddr, &ip6->saddr, 16);
	} else {
		return XDP_PASS;
	}
	record_syn(ctx, &k, th);
	return XDP_PASS;
}
