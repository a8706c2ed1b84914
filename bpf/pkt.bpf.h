/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Packet helpers of the TC programs: header parsing over [data, data_end),
 * the "would ENO succeed" checks (the decisions of include/eno.h that
 * sock_ops makes, through eno.bpf.h), checksums, and building a RST reply.
 */
#ifndef TCPCRYPT_PKT_BPF_H
#define TCPCRYPT_PKT_BPF_H

#include "eno.bpf.h"

#define ETH_P_IP     0x0800
#define ETH_P_IPV6   0x86DD
#define IPPROTO_TCP_ 6

struct pkt {
	struct ethhdr *eth;
	struct iphdr *ip;    /* IPv4 only */
	struct ipv6hdr *ip6; /* IPv6 only */
	struct tcphdr *th;
	struct flow_key k; /* from this host's point of view */
};

#define IPPROTO_ICMP_	1
#define IPPROTO_ICMPV6_ 58

/*
 * An ICMP "fragmentation needed" (type 3 code 4) or ICMPv6 "packet too big"
 * (type 2) that quotes a TCP segment: p->k is that segment's flow key from
 * this host's point of view (the segment was ours), p->eth the frame's.
 * 0, or -1 if the frame is not one.
 */
static __always_inline int parse_too_big(void *data, void *end, struct pkt *p)
{
	__u16 *ports;

	p->eth = data;
	if ((void *)(p->eth + 1) > end)
		return -1;
	if (p->eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(p->eth + 1), *in;
		__u8 *icmp;

		if ((void *)(ip + 1) > end || ip->protocol != IPPROTO_ICMP_ || ip->ihl != 5)
			return -1;
		icmp = (void *)(ip + 1);
		if ((void *)(icmp + 8) > end || icmp[0] != 3 || icmp[1] != 4)
			return -1;
		in = (void *)(icmp + 8);
		if ((void *)(in + 1) > end || in->protocol != IPPROTO_TCP_ || in->ihl != 5)
			return -1;
		ports = (void *)(in + 1);
		if ((void *)(ports + 2) > end)
			return -1;
		p->k.family = AF_INET;
		p->k.laddr[0] = in->saddr;
		p->k.raddr[0] = in->daddr;
	} else if (p->eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(p->eth + 1), *in6;
		__u8 *icmp;

		if ((void *)(ip6 + 1) > end || ip6->nexthdr != IPPROTO_ICMPV6_)
			return -1;
		icmp = (void *)(ip6 + 1);
		if ((void *)(icmp + 8) > end || icmp[0] != 2)
			return -1;
		in6 = (void *)(icmp + 8);
		if ((void *)(in6 + 1) > end || in6->nexthdr != IPPROTO_TCP_)
			return -1;
		ports = (void *)(in6 + 1);
		if ((void *)(ports + 2) > end)
			return -1;
		p->k.family = AF_INET6;
		__builtin_memcpy(p->k.laddr, &in6->saddr, 16);
		__builtin_memcpy(p->k.raddr, &in6->daddr, 16);
	} else {
		return -1;
	}
	p->k.lport = bpf_ntohs(ports[0]);
	p->k.rport = bpf_ntohs(ports[1]);
	return 0;
}

static __always_inline int parse(void *data, void *end, struct pkt *p)
{

	p->eth = data;
	if ((void *)(p->eth + 1) > end)
		return -1;
	if (p->eth->h_proto == bpf_htons(ETH_P_IP)) {
		p->ip = (void *)(p->eth + 1);
		if ((void *)(p->ip + 1) > end || p->ip->protocol != IPPROTO_TCP_ || p->ip->ihl != 5)
			return -1;
		if (p->ip->frag_off & bpf_htons(0x3fff))
			return -1;
		p->th = (void *)(p->ip + 1);
		p->k.family = AF_INET;
		p->k.laddr[0] = p->ip->daddr;
		p->k.raddr[0] = p->ip->saddr;
	} else if (p->eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		p->ip6 = (void *)(p->eth + 1);
		if ((void *)(p->ip6 + 1) > end || p->ip6->nexthdr != IPPROTO_TCP_)
			return -1;
		p->th = (void *)(p->ip6 + 1);
		p->k.family = AF_INET6;
		__builtin_memcpy(p->k.laddr, &p->ip6->daddr, 16);
		__builtin_memcpy(p->k.raddr, &p->ip6->saddr, 16);
	} else {
		return -1;
	}
	if ((void *)(p->th + 1) > end)
		return -1;
	p->k.lport = bpf_ntohs(p->th->dest);
	p->k.rport = bpf_ntohs(p->th->source);
	return 0;
}

/* Load and scan the TCP options of th into s->opts and s->sc; -1 if they do not fit. */
static __always_inline int scan_opts(void *end, struct tcphdr *th, struct scratch *s)
{
	int optlen = load_opts(end, th, &s->opts);

	if (optlen < 0)
		return -1;
	eno_scan_opts(&s->opts, optlen, &s->sc);
	return 0;
}

/* Would sock_ops, as host B, negotiate with this SYN (eno_answer_syn)? */
static __always_inline int syn_negotiable(void *end, struct pkt *p, const struct tcpcrypt_config *c,
					  struct scratch *s)
{
	__u8 tep;

	return peer_syn_option(end, p->th, s) == ENO_OK &&
	       eno_answer_syn(&s->peer, &c->teps, c->need_peer_a, &tep) == ENO_OK;
}

/* Would this SYN-ACK complete ENO for our SYN, as host A (eno_complete)? */
static __always_inline int synack_negotiable(void *end, struct pkt *p, const struct flow_info *fi,
					     const struct tcpcrypt_config *c, struct scratch *s)
{
	return peer_syn_option(end, p->th, s) == ENO_OK && complete_offer(fi, c, s) == ENO_OK;
}

static __always_inline int has_eno(void *end, struct tcphdr *th, struct scratch *s)
{
	return !scan_opts(end, th, s) && s->sc.count > 0;
}

/* Bytes of TCP payload in the segment (parse() allows no IPv6 extension headers). */
static __always_inline __u32 payload_len(const struct pkt *p)
{
	__u32 l3 = p->ip ? bpf_ntohs(p->ip->tot_len) - sizeof(*p->ip)
			 : (p->ip6 ? bpf_ntohs(p->ip6->payload_len) : 0);
	__u32 l4 = p->th->doff * 4;

	return l3 > l4 ? l3 - l4 : 0;
}

static __always_inline __u16 csum_fold(__u64 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return ~sum;
}

/* Replace the TCP flags of a segment in place (RFC 1624 incremental checksum). */
static __always_inline void set_tcp_flags(struct tcphdr *th, __u8 flags)
{
	__u16 *word = (__u16 *)((__u8 *)th + 12);
	__u16 old = *word, new;

	((__u8 *)th)[13] = flags;
	new = *word;
	th->check = csum_fold((__u16)~th->check + (__u64)(__u16)~old + new);
}

/*
 * Turn the SYN in the packet into the RST|ACK that answers it, in place
 * (MACs, addresses and ports swapped, no options or payload).  Returns the
 * new frame length, which the caller trims the packet to, or 0.
 */
static __always_inline __u32 make_rst_reply(struct pkt *p)
{
	__u32 l3 = p->ip ? sizeof(struct iphdr) : sizeof(struct ipv6hdr);
	__u32 len = sizeof(struct ethhdr) + l3 + sizeof(struct tcphdr);
	__u32 ack = bpf_ntohl(p->th->seq) + 1;
	struct tcphdr th = {};
	__u8 mac[6];
	__u64 sum;

	__builtin_memcpy(mac, p->eth->h_source, 6);
	__builtin_memcpy(p->eth->h_source, p->eth->h_dest, 6);
	__builtin_memcpy(p->eth->h_dest, mac, 6);
	th.source = p->th->dest;
	th.dest = p->th->source;
	th.ack_seq = bpf_htonl(ack);
	th.doff = 5;
	th.rst = 1;
	th.ack = 1;
	if (!p->ip && !p->ip6)
		return 0;
	if (p->ip) {
		struct {
			__be32 saddr, daddr;
			__u8 zero, proto;
			__be16 len;
		} ph = {p->ip->daddr, p->ip->saddr, 0, IPPROTO_TCP_, bpf_htons(sizeof(th))};
		__be32 a = p->ip->saddr;

		p->ip->saddr = p->ip->daddr;
		p->ip->daddr = a;
		p->ip->ttl = 64;
		p->ip->tot_len = bpf_htons(sizeof(struct iphdr) + sizeof(th));
		p->ip->check = 0;
		p->ip->check =
		    csum_fold(bpf_csum_diff(NULL, 0, (__be32 *)p->ip, sizeof(*p->ip), 0));
		sum = bpf_csum_diff(NULL, 0, (__be32 *)&ph, sizeof(ph), 0);
	} else {
		struct {
			struct in6_addr saddr, daddr;
			__be32 len;
			__u8 zero[3], proto;
		} ph = {};
		struct in6_addr a;

		if (!p->ip6) /* for the verifier, which does not track the pair */
			return 0;
		a = p->ip6->saddr;

		p->ip6->saddr = p->ip6->daddr;
		p->ip6->daddr = a;
		p->ip6->hop_limit = 64;
		p->ip6->payload_len = bpf_htons(sizeof(th));
		ph.saddr = p->ip6->saddr;
		ph.daddr = p->ip6->daddr;
		ph.len = bpf_htonl(sizeof(th));
		ph.proto = IPPROTO_TCP_;
		sum = bpf_csum_diff(NULL, 0, (__be32 *)&ph, sizeof(ph), 0);
	}
	sum = bpf_csum_diff(NULL, 0, (__be32 *)&th, sizeof(th), sum);
	th.check = csum_fold(sum);
	*p->th = th;
	return len;
}

#endif
