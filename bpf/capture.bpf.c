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
	/* when the packet got here, for the agent's wake_* counters (best effort) */
	if (!bpf_xdp_adjust_meta(ctx, -(int)sizeof(struct capture_meta))) {
		struct capture_meta *m = (void *)(long)ctx->data_meta;

		if ((void *)(m + 1) <= (void *)(long)ctx->data) {
			m->rx_ns = bpf_ktime_get_ns();
			m->magic = CAPTURE_META_MAGIC;
			m->pad = 0;
		}
	}
	rc = bpf_redirect_map(&xsks, xsk_key(ii->slot, IFACE_CAPTURE, ctx->rx_queue_index),
			      XDP_DROP);
	if (rc != XDP_REDIRECT)
		DROP_INC(DROP_CAPTURE_NO_SOCKET);
	return rc;
}

/* Packet capture: when the agent last said it runs, per slot (TCPCRYPT_CAPTURE_BEAT_NS). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, TCPCRYPT_MAX_IFACES);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} MAP_CAPSEEN_NAME SEC(".maps");

/*
 * Packet capture: the taps (the agent's ring) saw the packet; nothing goes up
 * this stack.  Without a recent heartbeat of the agent the drop is the
 * fail-closed one, counted.
 */
SEC("tc")
int tcpcrypt_capture_tc(struct __sk_buff *skb)
{
	__u32 ifindex = skb->ifindex;
	struct iface_info *ii = bpf_map_lookup_elem(&ifaces, &ifindex);
	__u64 *seen;
	__u32 slot;

	if (!ii || ii->kind != IFACE_CAPTURE) {
		DROP_INC(DROP_CAPTURE_NO_IFACE);
		return TC_ACT_SHOT;
	}
	slot = ii->slot;
	seen = bpf_map_lookup_elem(&MAP_CAPSEEN_NAME, &slot);
	if (!seen || bpf_ktime_get_ns() - *seen > TCPCRYPT_CAPTURE_ALIVE_NS)
		DROP_INC(DROP_CAPTURE_NO_SOCKET);
	return TC_ACT_SHOT;
}
