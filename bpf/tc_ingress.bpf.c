// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * TC ingress on every steered interface: answers a SYN to a `require` port
 * that cannot negotiate ENO with a RST, sent back out of the interface it
 * came in on, so the client's connect() fails at once and the local stack
 * never sees the SYN.  This is in TC rather than XDP because XDP_TX on a
 * veth only works when its peer runs XDP too.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "pkt.bpf.h"

#define TC_ACT_OK 0

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
