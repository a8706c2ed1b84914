// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * XDP on every interface tcpcryptd steers.
 *
 * 1. Records which SYNs arrived on a steered interface, so that the passive
 *    side of ENO answers only connections that have a data path (never
 *    loopback or local traffic): sock_ops cannot see the ingress interface
 *    of a request socket.
 * 2. Enforces the `require` port policy on segments that would let one of
 *    our connections go on in plaintext, before the stack sees them:
 *    - a SYN-ACK answering our require connection that cannot complete ENO
 *      becomes a RST for the local stack: connect() fails (ECONNREFUSED)
 *      before the application can send a byte;
 *    - a third ACK of a passive require connection whose ENO failed (no ENO
 *      in the ACK, RFC 8547 §4.6, or none usable in the SYN) becomes a RST
 *      that drops the embryonic connection, so accept() never returns it.
 *    (A failing SYN to a require port is answered with a RST by the TC
 *    ingress program, which, unlike XDP_TX on veth, can transmit anywhere.)
 * 3. Steers the segments of flows that negotiated tcpcrypt into the agent's
 *    AF_XDP sockets (data path on); dropped if the agent is not there, so
 *    ciphertext never reaches an application (fail closed).
 * Everything else is passed on to the stack untouched.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "pkt.bpf.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

/*
 * Segments of flows that negotiated tcpcrypt go to the agent.  So do data
 * segments that carry ENO for a passive open whose third ACK the stack has
 * not processed yet (host A's Init1 can follow its ACK that closely): the
 * stack must never see them.
 */
static __always_inline int steer_to_agent(struct xdp_md *ctx, struct pkt *p,
					  const struct tcpcrypt_config *c)
{
	void *end = (void *)(long)ctx->data_end;
	struct flow_info *fi;
	struct scratch *s;

	if (flow_steered(c, &p->k))
		return 1;
	if (p->th->doff <= 5 || (void *)p->th + p->th->doff * 4 >= end)
		return 0; /* no options or no payload */
	fi = bpf_map_lookup_elem(&pending, &p->k);
	if (!fi || fi->state != FLOW_NEGOTIATING)
		return 0;
	s = pkt_scratch_get();
	return s && has_eno(end, p->th, s);
}

/* Into the AF_XDP socket of this queue; dropped when there is none (fail closed). */
static __always_inline int steer(struct xdp_md *ctx)
{
	__u32 ifindex = ctx->ingress_ifindex;
	struct iface_info *ii = bpf_map_lookup_elem(&ifaces, &ifindex);

	if (!ii)
		return XDP_DROP;
	return bpf_redirect_map(&xsks, xsk_key(ii->slot, IFACE_WIRE, ctx->rx_queue_index),
				XDP_DROP);
}

SEC("xdp")
int tcpcrypt_ingress(struct xdp_md *ctx)
{
	void *end = (void *)(long)ctx->data_end;
	struct tcpcrypt_config *c;
	struct flow_info *fi;
	struct pkt p = {};
	struct scratch *s;

	if (parse((void *)(long)ctx->data, end, &p))
		return XDP_PASS;
	c = get_config();
	if (c && c->datapath && !p.th->syn && steer_to_agent(ctx, &p, c))
		return steer(ctx);
	if (p.th->syn && !p.th->ack) {
		__u32 ifindex = ctx->ingress_ifindex;

		bpf_map_update_elem(&syn_seen, &p.k, &ifindex, BPF_ANY);
		return XDP_PASS;
	}
	if (!c || !p.th->ack || p.th->rst || p.th->fin)
		return XDP_PASS;
	if (p.th->syn) { /* SYN-ACK */
		fi = bpf_map_lookup_elem(&flows, &p.k);
		if (!fi || fi->state != FLOW_NEGOTIATING || fi->policy != POLICY_REQUIRE)
			return XDP_PASS;
		s = pkt_scratch_get();
		if (!s || synack_negotiable(end, &p, fi, c, s))
			return XDP_PASS;
		STAT_INC(require_reset);
		set_tcp_flags(p.th, TH_RST | TH_ACK);
		return XDP_PASS;
	}
	/* a plain ACK: only the third ACK of a passive require connection matters */
	if (!c->nrequire && c->default_policy != POLICY_REQUIRE)
		return XDP_PASS;
	fi = bpf_map_lookup_elem(&pending, &p.k);
	if (!fi || fi->policy != POLICY_REQUIRE)
		return XDP_PASS;
	if (fi->state == FLOW_NEGOTIATING) {
		s = pkt_scratch_get();
		if (!s || has_eno(end, p.th, s))
			return XDP_PASS;
	}
	STAT_INC(require_reset);
	set_tcp_flags(p.th, TH_RST);
	return XDP_PASS;
}
