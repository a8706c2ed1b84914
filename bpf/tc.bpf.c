// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * TC programs on every steered interface.
 *
 * Ingress: answers a SYN to a `require` port that cannot negotiate ENO with
 * a RST, sent back out of the interface it came in on, so the client's
 * connect() fails at once and the local stack never sees the SYN.  This is
 * in TC rather than XDP because XDP_TX on a veth only works when its peer
 * runs XDP too.
 *
 * Egress: steers the local kernel's segments of flows that negotiated
 * tcpcrypt to the agent, through the kernel's end of the capture veth; its
 * other end runs XDP (capture.bpf.c) that feeds the agent's AF_XDP socket.
 * Nothing of such a flow leaves in plaintext: without the agent the
 * segments stop there (fail closed).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "pkt.bpf.h"

#define TC_ACT_OK   0
#define TC_ACT_SHOT 2

char LICENSE[] SEC("license") = "Dual MIT/GPL";

SEC("tc")
int tcpcrypt_tc_ingress(struct __sk_buff *skb)
{
	void *end = (void *)(long)skb->data_end;
	struct tcpcrypt_config *c;
	struct pkt p = {};
	struct scratch *s;
	__u32 len;

	if (parse((void *)(long)skb->data, end, &p))
		return TC_ACT_OK;
	if (!p.th->syn || p.th->ack)
		return TC_ACT_OK;
	c = get_config();
	if (!c || port_policy(c, p.k.lport) != POLICY_REQUIRE)
		return TC_ACT_OK;
	s = pkt_scratch_get();
	if (!s || syn_negotiable(end, &p, c, s))
		return TC_ACT_OK;
	len = make_rst_reply(&p);
	if (!len || bpf_skb_change_tail(skb, len, 0))
		return TC_ACT_OK;
	STAT_INC(require_reset);
	return bpf_redirect(skb->ifindex, 0);
}

SEC("tc")
int tcpcrypt_tc_egress(struct __sk_buff *skb)
{
	struct tcpcrypt_config *c;
	struct iface_info *ii;
	struct flow_key k;
	struct pkt p = {};
	__u32 ifindex = skb->ifindex;

	if (parse((void *)(long)skb->data, (void *)(long)skb->data_end, &p))
		return TC_ACT_OK;
	c = get_config();
	if (!c || !c->datapath)
		return TC_ACT_OK;
	/* parse() keys by the receiver's view; this is our own segment */
	k = p.k;
	__builtin_memcpy(k.laddr, p.k.raddr, sizeof(k.laddr));
	__builtin_memcpy(k.raddr, p.k.laddr, sizeof(k.raddr));
	k.lport = p.k.rport;
	k.rport = p.k.lport;
	if (!flow_steered(c, &k))
		return TC_ACT_OK;
	ii = bpf_map_lookup_elem(&ifaces, &ifindex);
	if (!ii || ii->kind != IFACE_WIRE)
		return TC_ACT_SHOT;
	return bpf_redirect(ii->peer_ifindex, 0);
}
