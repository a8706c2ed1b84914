// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * TC programs on every steered interface.  There is no XDP program on
 * these interfaces: driver-mode XDP on a veth costs plain TCP three
 * quarters of its throughput (no GRO, every GSO packet segmented) and
 * generic XDP a fifth, while a TC program costs plain flows a parse and a
 * map lookup; plain TCP must not pay for tcpcrypt.
 *
 * Ingress:
 *  - records which SYNs arrived on a steered interface, so that the
 *    passive side of ENO answers only connections that have a data path
 *    (never loopback or local traffic; sock_ops cannot see the ingress
 *    interface of a request socket);
 *  - enforces the `require` policy before the stack sees a segment that
 *    would let a connection go on in plaintext: a SYN that cannot negotiate
 *    is answered with a RST sent back out of the interface; a SYN-ACK that
 *    cannot complete our negotiation becomes a RST for the local stack
 *    (connect() fails with ECONNREFUSED before the application can send a
 *    byte); a third ACK without ENO (stripped, RFC 8547 §4.6) becomes a RST
 *    that drops the embryonic connection, so accept() never returns it;
 *  - with the data path on, steers the segments of flows that negotiated
 *    tcpcrypt to the agent, through the capture veth (marked as coming from
 *    the wire by their destination MAC), and also data segments with ENO of
 *    a passive open whose third ACK the stack has not processed yet (host
 *    A's Init1 can follow that ACK closely): the stack must never see them.
 *
 * Egress: steers the local kernel's segments of tcpcrypt flows to the
 * agent through the same capture veth.  Nothing of such a flow leaves in
 * plaintext, and without the agent the segments stop at the capture veth's
 * XDP program (fail closed).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "pkt.bpf.h"

#define TC_ACT_OK   0
#define TC_ACT_SHOT 2

char LICENSE[] SEC("license") = "Dual MIT/GPL";

/*
 * Replace the TCP flags of the segment (offsets from skb->data), with the
 * checksum updated whatever the skb's checksum state.
 */
static __always_inline void set_flags_skb(struct __sk_buff *skb, struct pkt *p, __u8 flags)
{
	__u32 off = (void *)p->th - (void *)(long)skb->data;
	__u16 old = *(__u16 *)((__u8 *)p->th + 12), new = old;

	((__u8 *)&new)[1] = flags;
	bpf_l4_csum_replace(skb, off + 16, old, new, 2);
	/*
	 * No BPF_F_RECOMPUTE_CSUM: the bytes and the checksum field change
	 * together, so a CHECKSUM_COMPLETE sum over the segment stays right.
	 */
	bpf_skb_store_bytes(skb, off + 12, &new, 2, 0);
}

/*
 * Close the window of the segment that makes a flow encrypted (A's SYN-ACK,
 * B's third ACK): the local kernel must not send data before the agent has
 * keys, or under a burst of opens its RTO, timed from a SYN exchange that
 * passed no agent, runs out while the key exchange waits in the agents; the
 * agent opens the window once the keys exist
 * (docs/architecture.md#the-window-before-the-keys).  Packet pointers are
 * stale after it.
 */
static __always_inline void close_window(struct __sk_buff *skb, struct pkt *p)
{
	__u32 off = (void *)p->th - (void *)(long)skb->data;
	__u16 old = p->th->window, zero = 0;

	if (!old)
		return;
	bpf_l4_csum_replace(skb, off + 16, old, zero, 2);
	bpf_skb_store_bytes(skb, off + 14, &zero, 2, 0); /* as in set_flags_skb */
}

/*
 * Replace option bytes [off, off + len) of the segment's option area by
 * NOPs, a 16-bit word at a time so that the checksum update stays exact
 * (the area starts at an even offset).  Packet pointers are stale after it.
 */
static __always_inline void nop_out_option(struct __sk_buff *skb, struct pkt *p, __u32 off,
					   __u32 len)
{
	__u32 th = (void *)p->th - (void *)(long)skb->data;
	__u32 lo = sizeof(struct tcphdr) + off, hi = lo + len;

	for (__u32 w = sizeof(struct tcphdr); w < sizeof(struct tcphdr) + ENO_OPT_MAX; w += 2) {
		__u16 old, new;
		__u8 *b = (__u8 *)&new;

		if (w + 2 <= lo || w >= hi)
			continue;
		if (bpf_skb_load_bytes(skb, th + w, &old, 2))
			return;
		new = old;
		if (w >= lo)
			b[0] = 1;
		if (w + 1 < hi)
			b[1] = 1;
		bpf_l4_csum_replace(skb, th + 16, old, new, 2);
		bpf_skb_store_bytes(skb, th + w, &new, 2, 0); /* as in set_flags_skb */
	}
}

/* Is there a socket in this namespace (a listener, for a SYN) that the segment is for? */
static __always_inline int local_socket(struct __sk_buff *skb, const struct pkt *p)
{
	struct bpf_sock_tuple t = {};
	struct bpf_sock *sk;
	__u32 len;

	if (p->ip) {
		t.ipv4.saddr = p->ip->saddr;
		t.ipv4.daddr = p->ip->daddr;
		t.ipv4.sport = p->th->source;
		t.ipv4.dport = p->th->dest;
		len = sizeof(t.ipv4);
	} else if (p->ip6) {
		__builtin_memcpy(t.ipv6.saddr, &p->ip6->saddr, 16);
		__builtin_memcpy(t.ipv6.daddr, &p->ip6->daddr, 16);
		t.ipv6.sport = p->th->source;
		t.ipv6.dport = p->th->dest;
		len = sizeof(t.ipv6);
	} else {
		return 0;
	}
	sk = bpf_skc_lookup_tcp(skb, &t, len, BPF_F_CURRENT_NETNS, 0);
	if (!sk)
		return 0;
	bpf_sk_release(sk);
	return 1;
}

/* To the agent, through the capture veth, marked as coming from the wire. */
static __always_inline int steer_in(struct __sk_buff *skb, struct pkt *p)
{
	static const __u8 mark[6] = TCPCRYPT_FROM_WIRE_MAC;
	__u32 ifindex = skb->ifindex;
	struct iface_info *ii = bpf_map_lookup_elem(&ifaces, &ifindex);

	if (!ii || ii->kind != IFACE_WIRE) {
		DROP_INC(DROP_STEER_NO_IFACE);
		return TC_ACT_SHOT;
	}
	__builtin_memcpy(p->eth->h_dest, mark, 6);
	return bpf_redirect(ii->peer_ifindex, 0);
}

/*
 * A copy to the agent, marked as steer_in marks it, while the segment goes on
 * up the local stack unchanged: host B's third ACK of a resumed session.
 * The agent has that session's keys at once; seeing the flow now, it
 * publishes the session ID before either end speaks, so a server that waits
 * for its ID (to authenticate it) before it sends does not wait for a client
 * that waits for the server.  Packet pointers are stale after it.
 */
static __always_inline void copy_in(struct __sk_buff *skb, struct pkt *p)
{
	static const __u8 mark[6] = TCPCRYPT_FROM_WIRE_MAC;
	__u32 ifindex = skb->ifindex, off = (void *)p->eth - (void *)(long)skb->data;
	struct iface_info *ii = bpf_map_lookup_elem(&ifaces, &ifindex);
	__u8 dest[6];

	if (!ii || ii->kind != IFACE_WIRE)
		return;
	__builtin_memcpy(dest, p->eth->h_dest, 6);
	if (bpf_skb_store_bytes(skb, off, mark, 6, 0))
		return;
	bpf_clone_redirect(skb, ii->peer_ifindex, 0);
	bpf_skb_store_bytes(skb, off, dest, 6, 0);
}

/*
 * A data segment with ENO of a passive open whose third ACK the stack has
 * not processed yet (host A's Init1 can follow that ACK closely, or stand in
 * for a lost one): the flow is about to be encrypted.
 */
static __always_inline int pending_encrypted(struct pkt *p, void *end,
					     const struct tcpcrypt_config *c,
					     const struct flow_info *pend)
{
	struct scratch *s;

	if (!c->enabled || !pend || pend->state != FLOW_NEGOTIATING)
		return 0; /* no handshake completes now: see unready_third_ack() */
	if (p->th->doff <= 5 || (void *)p->th + p->th->doff * 4 >= end)
		return 0; /* no options or no payload */
	s = get_scratch();
	return s && has_eno(end, p->th, s);
}

/*
 * RFC 8547 §9, a "type 2" middlebox: ENO reached B in A's SYN but was
 * stripped from A's first ACK, so B falls back (stripped) while A, which
 * sent ENO in that ACK, has enabled encryption and sends its Init1.  The
 * application must never read it.  The first payload of such a flow (fi
 * from flows, or its pending entry when this segment is itself the first
 * ACK) is looked at once; if it is an Init1, the caller turns the segment
 * into a RST at the sequence number the socket expects, which resets the
 * connection before a byte is queued.  A's agent, its Init1 answered by a
 * RST, aborts and remembers the destination (negative cache).
 * When B had agreed to resume (fi->v), A starts with a frame instead
 * (RFC 8548 §3.5): any first payload is then reset the same way.  (A sends
 * no ENO in its ACK only after a resumption answer it had to refuse, which
 * takes a tampered SYN-ACK: that connection fails closed.)
 */
static __always_inline int stripped_init1(struct __sk_buff *skb, struct pkt *p,
					  struct flow_info *fi)
{
	__u32 off = (void *)p->th - (void *)(long)skb->data + p->th->doff * 4, len;
	__u8 h[9];

	if (!fi || (fi->flags & (FLOWF_ACTIVE | FLOWF_FIRST_SEEN)))
		return 0;
	if (!(fi->state == FLOW_PLAIN && fi->reason == ENO_FAIL_STRIPPED) &&
	    fi->state != FLOW_NEGOTIATING)
		return 0;
	len = payload_len(p);
	if (!len || bpf_ntohl(p->th->seq) != fi->peer_isn + 1)
		return 0;
	fi->flags |= FLOWF_FIRST_SEEN;
	if (fi->v && fi->rs_id)
		return 1;
	if (len < sizeof(h) || bpf_skb_load_bytes(skb, off, h, sizeof(h)))
		return 0;
	len = (__u32)h[4] << 24 | (__u32)h[5] << 16 | (__u32)h[6] << 8 | h[7];
	return h[0] == (TCPCRYPT_INIT1_MAGIC >> 24 & 0xff) &&
	       h[1] == (TCPCRYPT_INIT1_MAGIC >> 16 & 0xff) &&
	       h[2] == (TCPCRYPT_INIT1_MAGIC >> 8 & 0xff) &&
	       h[3] == (TCPCRYPT_INIT1_MAGIC & 0xff) && len >= TCPCRYPT_INIT1_MIN_LEN &&
	       len <= 0xffff && h[8] >= 1;
}

/*
 * The third ACK of a passive open that sent ENO in its SYN-ACK, while the
 * agent does not negotiate (it is stopping or starting: enabled = 0).  Host
 * A may have enabled encryption with this ACK (RFC 8547 §4.6) and would
 * send its Init1 to an application here that has no agent in front of it:
 * the connection is reset instead, before the stack makes a socket of it.
 */
static __always_inline int unready_third_ack(const struct tcpcrypt_config *c,
					     const struct flow_info *fi)
{
	return !c->enabled && fi->state == FLOW_NEGOTIATING;
}

SEC("tc")
int tcpcrypt_tc_ingress(struct __sk_buff *skb)
{
	void *end = (void *)(long)skb->data_end;
	struct flow_info *fi, *pend;
	struct tcpcrypt_config *c;
	struct pkt p = {};
	struct scratch *s;
	__u32 len;
	__u8 policy;

	if (parse((void *)(long)skb->data, end, &p)) {
		/*
		 * PMTU discovery (RFC 1191, RFC 8201): an error about a segment
		 * of an encrypted flow quotes the agent's wire segment, which the
		 * local stack does not know; the agent sizes them.
		 */
		struct pkt q = {};

		c = get_settings();
		if (c && c->datapath && !parse_too_big((void *)(long)skb->data, end, &q) &&
		    flow_steered(c, &q.k))
			return steer_in(skb, &q);
		return TC_ACT_OK;
	}
	c = get_settings();
	if (!c)
		return TC_ACT_OK;
	if (!p.th->syn) {
		fi = bpf_map_lookup_elem(&flows, &p.k);
		if (c->datapath && fi && fi->state == FLOW_TCPCRYPT)
			return steer_in(skb, &p);
		pend = fi ? NULL : bpf_map_lookup_elem(&pending, &p.k);
		if (c->datapath && pending_encrypted(&p, end, c, pend))
			return steer_in(skb, &p);
		if (stripped_init1(skb, &p, fi ? fi : pend)) {
			STAT_INC(stripped_init1);
			set_flags_skb(skb, &p, TH_RST);
			return TC_ACT_OK;
		}
		/*
		 * The third ACK that completes ENO of a passive open (a pure one:
		 * with payload it went to the agent above): nothing below can
		 * refuse it, since it negotiates.  Not when B agreed to resume: the
		 * agent has the keys the moment it sees the flow, and a server that
		 * speaks first would wait for a zero-window probe.
		 */
		if (c->datapath && c->enabled && pend && pend->state == FLOW_NEGOTIATING &&
		    pend->v && p.th->ack && !p.th->rst && !p.th->fin && !payload_len(&p)) {
			s = get_scratch();
			if (s && has_eno(end, p.th, s)) {
				STAT_INC(resumed_ack_copied);
				copy_in(skb, &p);
				return TC_ACT_OK;
			}
		}
		if (c->datapath && c->enabled && pend && pend->state == FLOW_NEGOTIATING &&
		    !pend->v && p.th->ack && !p.th->rst && !p.th->fin && !payload_len(&p)) {
			s = get_scratch();
			if (s && has_eno(end, p.th, s)) {
				STAT_INC(window_closed);
				close_window(skb, &p);
				return TC_ACT_OK;
			}
		}
		/* only the third ACK of a passive open can matter now */
		if (!p.th->ack || p.th->rst || p.th->fin ||
		    (c->enabled && c->default_policy != POLICY_REQUIRE && !require_ports()))
			return TC_ACT_OK;
		fi = pend;
		if (!fi)
			return TC_ACT_OK;
		if (unready_third_ack(c, fi)) {
			STAT_INC(unready_reset);
			set_flags_skb(skb, &p, TH_RST);
			return TC_ACT_OK;
		}
		if (!c->enabled || fi->policy != POLICY_REQUIRE)
			return TC_ACT_OK;
		s = get_scratch();
		if (fi->state == FLOW_NEGOTIATING && (!s || has_eno(end, p.th, s)))
			return TC_ACT_OK;
		STAT_INC(require_reset);
		set_flags_skb(skb, &p, TH_RST);
		return TC_ACT_OK;
	}
	if (p.th->ack) { /* SYN-ACK */
		int neg;

		fi = bpf_map_lookup_elem(&flows, &p.k);
		if (!fi || fi->state != FLOW_NEGOTIATING)
			return TC_ACT_OK;
		s = get_scratch();
		neg = c->enabled && s && synack_negotiable(end, &p, fi, c, s);
		/* a resumed session (v = 1) has its keys at once: nothing to wait for */
		if (neg && c->datapath && !s->res.v) {
			STAT_INC(window_closed);
			close_window(skb, &p);
			return TC_ACT_OK;
		}
		if (fi->policy != POLICY_REQUIRE)
			return TC_ACT_OK;
		/* an agent that does not negotiate completes nothing: refused */
		if (c->enabled && (!s || neg))
			return TC_ACT_OK;
		STAT_INC(require_reset);
		set_flags_skb(skb, &p, TH_RST | TH_ACK);
		return TC_ACT_OK;
	}
	{
		__u32 ifindex = skb->ifindex;

		bpf_map_update_elem(&syn_seen, &p.k, &ifindex, BPF_ANY);
	}
	/*
	 * A new connection on the 4-tuple of an encrypted one that closed
	 * (its time-wait socket takes the SYN): the old entry, kept for the
	 * agent, must not steer the new connection's segments.
	 */
	fi = bpf_map_lookup_elem(&flows, &p.k);
	if (fi && (fi->flags & FLOWF_CLOSED))
		bpf_map_delete_elem(&flows, &p.k);
	policy = port_policy(c, p.k.lport);
	/* a SYN for no local socket is forwarded or NATed (a container's): not ours */
	if (policy == POLICY_OFF || !local_socket(skb, &p))
		return TC_ACT_OK;
	s = get_scratch();
	if (!s)
		return TC_ACT_OK;
	if (c->enabled && syn_negotiable(end, &p, c, s)) {
		/*
		 * RFC 8547 §4.7: tcpcrypt defines no SYN data, so data in a SYN
		 * with ENO that negotiates must be discarded and not acknowledged.
		 * The stack does that with any SYN data it does not take under TFO;
		 * without the cookie it takes none, and the client resends the
		 * data after the handshake, encrypted.
		 */
		if (ENO_TFO_COOKIE(&s->sc) || payload_len(&p)) {
			STAT_INC(syn_data_refused);
			if (ENO_TFO_COOKIE(&s->sc))
				nop_out_option(skb, &p, s->sc.tfo_off, s->sc.tfo_len);
		}
		return TC_ACT_OK;
	}
	if (policy != POLICY_REQUIRE)
		return TC_ACT_OK;
	len = make_rst_reply(&p);
	if (!len || bpf_skb_change_tail(skb, len, 0))
		return TC_ACT_OK;
	STAT_INC(require_reset);
	return bpf_redirect(skb->ifindex, 0);
}

/*
 * A TCP Fast Open SYN with data, or with a cookie, that sock_ops held back
 * (it wrote no ENO into it, RFC 8547 §4.7, and left the flow negotiating;
 * see syn_with_tfo): dropped, so that no request byte leaves in plaintext.
 * The kernel, its SYN with data refused, sends a plain SYN with a cookie
 * request at once, which carries ENO; the data follows the handshake,
 * encrypted.
 */
static __always_inline int held_syn_data(struct __sk_buff *skb, struct pkt *p,
					 const struct flow_key *k)
{
	void *end = (void *)(long)skb->data_end;
	struct flow_info *fi = bpf_map_lookup_elem(&flows, k);
	struct scratch *s;

	if (!fi || fi->state != FLOW_NEGOTIATING)
		return 0;
	s = get_scratch();
	if (!payload_len(p) && (!s || scan_opts(end, p->th, s) || !ENO_TFO_COOKIE(&s->sc)))
		return 0;
	STAT_INC(tfo_held);
	DROP_INC(DROP_TFO_HELD);
	return 1;
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
	c = get_settings();
	if (!c)
		return TC_ACT_OK;
	/* parse() keys by the receiver's view; this is our own segment */
	k = p.k;
	__builtin_memcpy(k.laddr, p.k.raddr, sizeof(k.laddr));
	__builtin_memcpy(k.raddr, p.k.laddr, sizeof(k.raddr));
	k.lport = p.k.rport;
	k.rport = p.k.lport;
	if (p.th->syn && !p.th->ack) {
		/* a connection from another namespace, forwarded or NATed: plain, counted */
		if (!skb->sk)
			STAT_INC(forwarded_syn);
		else if (held_syn_data(skb, &p, &k))
			return TC_ACT_SHOT;
	}
	if (!c->datapath)
		return TC_ACT_OK;
	if (!flow_steered(c, &k))
		return TC_ACT_OK;
	ii = bpf_map_lookup_elem(&ifaces, &ifindex);
	if (!ii || ii->kind != IFACE_WIRE) {
		DROP_INC(DROP_EGRESS_NO_IFACE);
		return TC_ACT_SHOT;
	}
	return bpf_redirect(ii->peer_ifindex, 0);
}
