// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * XDP on the agent's end of each capture veth: everything the TC egress
 * program redirected into the veth (the local kernel's segments of
 * tcpcrypt flows, still plaintext) goes to the agent's AF_XDP socket, or
 * is dropped when the agent is not there (fail closed).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "maps.bpf.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

SEC("xdp")
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
