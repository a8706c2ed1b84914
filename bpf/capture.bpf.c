// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The agent's end of each capture veth receives everything the TC programs
 * of the wire interface redirected into the veth (the local kernel's
 * segments of tcpcrypt flows, still plaintext, and the peer's).  Two ways to
 * hand it to the agent (docs/architecture.md#capture-veth-xdp-and-af_xdp):
 *
 * - packet capture (default): the agent's AF_PACKET ring takes a copy of
 *   each skb as it is, 64 KB GSO skbs whole, and tcpcrypt_capture_tc at TC
 *   ingress drops every packet after that tap, agent or not (fail closed);
 * - XDP: tcpcrypt_capture hands each packet to the agent's AF_XDP socket,
 *   or drops it when the agent is not there.  Native XDP turns TSO off on
 *   the kernel's end, so GSO skbs arrive cut to MTU size.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "maps.bpf.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

#define TC_ACT_SHOT 2

SEC("xdp.frags")
int tcpcrypt_capture(struct xdp_md *ctx)
{
	__u32 ifindex = ctx->ingress_ifindex;
	struct iface_info *ii = bpf_map_lookup_elem(&ifaces, &ifindex);
	int rc;

	if (!ii || ii->kind != IFACE_CAPTURE) {
		DROP_INC(DROP_CAPTURE_NO_IFACE);
		return XDP_DROP;
	}
	rc = bpf_redirect_map(&xsks, xsk_key(ii->slot, IFACE_CAPTURE, ctx->rx_queue_index),
			      XDP_DROP);
	if (rc != XDP_REDIRECT)
		DROP_INC(DROP_CAPTURE_NO_SOCKET);
	return rc;
}

/* Packet capture: the taps (the agent's ring) saw the packet; nothing goes up this stack. */
SEC("tc")
int tcpcrypt_capture_tc(struct __sk_buff *skb)
{
	(void)skb;
	return TC_ACT_SHOT;
}
