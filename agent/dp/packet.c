// SPDX-License-Identifier: MIT
#include <arpa/inet.h>
#include <string.h>
#include "core/bytes.h"
#include "dp/packet.h"

#define ETH_HLEN_    14
#define ETH_IP	     0x0800
#define ETH_IPV6     0x86DD
#define IP_HLEN	     20
#define IPV6_HLEN    40
#define TCP_HLEN     20
#define PROTO_TCP    6
#define PROTO_ICMP   1
#define PROTO_ICMPV6 58
#define ICMP_HLEN    8 /* type, code, checksum, and 4 bytes (unused | MTU, or MTU) */
#define QUOTED_TCP   8 /* ports and sequence number: all an error must quote of TCP */

int pkt_parse(const uint8_t *f, uint32_t len, struct pkt_addr *a, struct dp_seg *s)
{
	const uint8_t *th;
	uint32_t l3len, thlen, doff;

	memset(a, 0, sizeof(*a));
	if (len < ETH_HLEN_)
		return -1;
	memcpy(a->dst_mac, f, 6);
	memcpy(a->src_mac, f + 6, 6);
	if (get_be16(f + 12) == ETH_IP) {
		const uint8_t *ip = f + ETH_HLEN_;
		uint32_t ihl, tot;

		if (len < ETH_HLEN_ + IP_HLEN || (ip[0] >> 4) != 4 || ip[9] != PROTO_TCP)
			return -1;
		ihl = (ip[0] & 0xf) * 4;
		tot = get_be16(ip + 2);
		if (ihl < IP_HLEN || tot < ihl || ETH_HLEN_ + tot > len)
			return -1;
		if (get_be16(ip + 6) & 0x3fff) /* fragment */
			return -1;
		a->family = AF_INET;
		a->tos = ip[1];
		memcpy(a->saddr, ip + 12, 4);
		memcpy(a->daddr, ip + 16, 4);
		th = ip + ihl;
		l3len = tot - ihl;
	} else if (get_be16(f + 12) == ETH_IPV6) {
		const uint8_t *ip6 = f + ETH_HLEN_;

		if (len < ETH_HLEN_ + IPV6_HLEN || (ip6[0] >> 4) != 6 || ip6[6] != PROTO_TCP)
			return -1;
		l3len = get_be16(ip6 + 4);
		if (ETH_HLEN_ + IPV6_HLEN + l3len > len)
			return -1;
		a->family = AF_INET6;
		a->tos = (uint8_t)((get_be16(ip6) >> 4) & 0xff);
		memcpy(a->saddr, ip6 + 8, 16);
		memcpy(a->daddr, ip6 + 24, 16);
		th = ip6 + IPV6_HLEN;
	} else {
		return -1;
	}
	thlen = l3len;
	if (thlen < TCP_HLEN)
		return -1;
	doff = (th[12] >> 4) * 4;
	if (doff < TCP_HLEN || doff > thlen)
		return -1;
	a->sport = get_be16(th);
	a->dport = get_be16(th + 2);
	memset(s, 0, sizeof(*s));
	s->seq = get_be32(th + 4);
	s->ack = get_be32(th + 8);
	s->flags = th[13];
	s->win = get_be16(th + 14);
	s->urg_ptr = get_be16(th + 18);
	s->optlen = doff - TCP_HLEN;
	memcpy(s->opts, th + TCP_HLEN, s->optlen);
	s->data = th + doff;
	s->len = thlen - doff;
	return 0;
}

void pkt_key_rx(const struct pkt_addr *a, struct flow_key *k)
{
	memset(k, 0, sizeof(*k));
	k->family = a->family;
	k->lport = a->dport;
	k->rport = a->sport;
	memcpy(k->laddr, a->daddr, sizeof(k->laddr));
	memcpy(k->raddr, a->saddr, sizeof(k->raddr));
}

void pkt_key_tx(const struct pkt_addr *a, struct flow_key *k)
{
	memset(k, 0, sizeof(*k));
	k->family = a->family;
	k->lport = a->sport;
	k->rport = a->dport;
	memcpy(k->laddr, a->saddr, sizeof(k->laddr));
	memcpy(k->raddr, a->daddr, sizeof(k->raddr));
}

/*
 * One's-complement sum (RFC 1071) of len bytes, added to sum: 32-bit words
 * into a 64-bit accumulator, in the bytes' order as they are in memory
 * (the sum is byte-order independent, §2(B)), folded to 16 bits and swapped
 * to network order by csum_fold.  The per-packet checksum is on the agent's
 * hot path.
 */
static uint64_t csum_add(uint64_t sum, const uint8_t *p, uint32_t len)
{
	uint32_t w;

	for (; len >= 4; p += 4, len -= 4) {
		memcpy(&w, p, 4);
		sum += w;
	}
	if (len >= 2) {
		uint16_t h;

		memcpy(&h, p, 2);
		sum += h;
		p += 2;
		len -= 2;
	}
	if (len) { /* the odd byte, padded with a zero byte after it */
		const uint8_t last[2] = {*p, 0};
		uint16_t h;

		memcpy(&h, last, 2);
		sum += h;
	}
	return sum;
}

/* The folded complement in network byte order (as it is written with put16). */
static uint16_t csum_fold(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ntohs((uint16_t)~sum);
}

/* How build() treats the TCP checksum and the payload. */
enum { FULL, PARTIAL, HEADERS };

static uint32_t build(uint8_t *buf, uint32_t cap, const struct pkt_addr *a, const struct dp_seg *s,
		      int mode);

uint32_t pkt_build(uint8_t *buf, uint32_t cap, const struct pkt_addr *a, const struct dp_seg *s)
{
	return build(buf, cap, a, s, FULL);
}

static void put_le16(uint8_t *p, uint16_t v)
{
	p[0] = v & 0xff;
	p[1] = v >> 8;
}

static uint32_t build_offload(uint8_t *buf, uint32_t cap, const struct pkt_addr *a,
			      const struct dp_seg *s, uint32_t gso_size, int mode)
{
	uint32_t l3 = a->family == AF_INET ? IP_HLEN : IPV6_HLEN;
	uint32_t hdrs = ETH_HLEN_ + l3 + TCP_HLEN + ((s->optlen + 3u) & ~3u);
	uint32_t n =
	    cap > PKT_VNET_HLEN ? build(buf + PKT_VNET_HLEN, cap - PKT_VNET_HLEN, a, s, mode) : 0;
	uint8_t gso = 0;

	if (!n)
		return 0;
	if (gso_size && s->len > gso_size) {
		gso = a->family == AF_INET ? PKT_VNET_GSO_TCPV4 : PKT_VNET_GSO_TCPV6;
		if (s->flags & DP_CWR)
			gso |= PKT_VNET_GSO_ECN;
	}
	/* struct virtio_net_hdr, little-endian fields (PACKET_VNET_HDR) */
	buf[0] = PKT_VNET_F_NEEDS_CSUM;
	buf[1] = gso;
	put_le16(buf + 2, gso ? hdrs : 0);
	put_le16(buf + 4, gso ? gso_size : 0);
	put_le16(buf + 6, ETH_HLEN_ + l3);
	put_le16(buf + 8, 16);
	return PKT_VNET_HLEN + n;
}

uint32_t pkt_build_offload(uint8_t *buf, uint32_t cap, const struct pkt_addr *a,
			   const struct dp_seg *s, uint32_t gso_size)
{
	return build_offload(buf, cap, a, s, gso_size, PARTIAL);
}

uint32_t pkt_build_offload_hdr(uint8_t *buf, uint32_t cap, const struct pkt_addr *a,
			       const struct dp_seg *s, uint32_t gso_size)
{
	return build_offload(buf, cap, a, s, gso_size, HEADERS);
}

static uint32_t build(uint8_t *buf, uint32_t cap, const struct pkt_addr *a, const struct dp_seg *s,
		      int mode)
{
	uint32_t l3 = a->family == AF_INET ? IP_HLEN : IPV6_HLEN;
	uint32_t optlen = (s->optlen + 3u) & ~3u;
	uint32_t tcplen = TCP_HLEN + optlen + s->len;
	uint32_t total = ETH_HLEN_ + l3 + tcplen;
	uint8_t *ip = buf + ETH_HLEN_, *th = ip + l3;
	uint64_t sum;

	if (total - (mode == HEADERS ? s->len : 0) > cap || optlen > 40)
		return 0;
	memcpy(buf, a->dst_mac, 6);
	memcpy(buf + 6, a->src_mac, 6);
	if (a->family == AF_INET) {
		static uint16_t ip_id;

		put_be16(buf + 12, ETH_IP);
		ip[0] = 0x45;
		ip[1] = a->tos;
		put_be16(ip + 2, IP_HLEN + tcplen);
		put_be16(ip + 4, ip_id++);
		put_be16(ip + 6, 0x4000); /* DF */
		ip[8] = 64;
		ip[9] = PROTO_TCP;
		put_be16(ip + 10, 0);
		memcpy(ip + 12, a->saddr, 4);
		memcpy(ip + 16, a->daddr, 4);
		put_be16(ip + 10, csum_fold(csum_add(0, ip, IP_HLEN)));
		sum = csum_add(0, ip + 12, 8) + htons(PROTO_TCP) + htons((uint16_t)tcplen);
	} else {
		put_be16(buf + 12, ETH_IPV6);
		put_be32(ip, 6u << 28 | (uint32_t)a->tos << 20);
		put_be16(ip + 4, tcplen);
		ip[6] = PROTO_TCP;
		ip[7] = 64;
		memcpy(ip + 8, a->saddr, 16);
		memcpy(ip + 24, a->daddr, 16);
		sum = csum_add(0, ip + 8, 32) + htons(PROTO_TCP) + htons((uint16_t)tcplen);
	}
	put_be16(th, a->sport);
	put_be16(th + 2, a->dport);
	put_be32(th + 4, s->seq);
	put_be32(th + 8, s->ack);
	th[12] = (uint8_t)(((TCP_HLEN + optlen) / 4) << 4);
	th[13] = s->flags;
	put_be16(th + 14, (uint16_t)s->win);
	put_be16(th + 16, 0);
	put_be16(th + 18, s->flags & DP_URG ? s->urg_ptr : 0);
	memcpy(th + TCP_HLEN, s->opts, s->optlen);
	memset(th + TCP_HLEN + s->optlen, 1, optlen - s->optlen); /* NOP padding */
	if (s->len && mode != HEADERS)
		memcpy(th + TCP_HLEN + optlen, s->data, s->len);
	if (mode != FULL) {
		/* the pseudo-header sum, folded, not complemented: the rest is summed later */
		while (sum >> 16)
			sum = (sum & 0xffff) + (sum >> 16);
		put_be16(th + 16, ntohs((uint16_t)sum));
		return mode == HEADERS ? total - s->len : total;
	}
	put_be16(th + 16, csum_fold(csum_add(sum, th, tcplen)));
	return total;
}

int pkt_parse_too_big(const uint8_t *f, uint32_t len, struct pkt_too_big *e)
{
	const uint8_t *ip = f + ETH_HLEN_, *icmp, *in, *th;

	memset(e, 0, sizeof(*e));
	if (len < ETH_HLEN_)
		return -1;
	memcpy(e->outer.dst_mac, f, 6);
	memcpy(e->outer.src_mac, f + 6, 6);
	if (get_be16(f + 12) == ETH_IP) {
		uint32_t ihl, tot, ihl_in;

		if (len < ETH_HLEN_ + IP_HLEN || (ip[0] >> 4) != 4 || ip[9] != PROTO_ICMP)
			return -1;
		ihl = (ip[0] & 0xf) * 4;
		tot = get_be16(ip + 2);
		if (ihl < IP_HLEN || tot < ihl + ICMP_HLEN + IP_HLEN + QUOTED_TCP ||
		    ETH_HLEN_ + tot > len || (get_be16(ip + 6) & 0x3fff))
			return -1;
		icmp = ip + ihl;
		if (icmp[0] != 3 ||
		    icmp[1] != 4) /* destination unreachable, fragmentation needed */
			return -1;
		in = icmp + ICMP_HLEN;
		ihl_in = (in[0] & 0xf) * 4;
		if ((in[0] >> 4) != 4 || ihl_in < IP_HLEN || in[9] != PROTO_TCP ||
		    ihl + ICMP_HLEN + ihl_in + QUOTED_TCP > tot)
			return -1;
		e->outer.family = e->inner.family = AF_INET;
		memcpy(e->outer.saddr, ip + 12, 4);
		memcpy(e->outer.daddr, ip + 16, 4);
		memcpy(e->inner.saddr, in + 12, 4);
		memcpy(e->inner.daddr, in + 16, 4);
		e->mtu = get_be16(icmp + 6);
		th = in + ihl_in;
	} else if (get_be16(f + 12) == ETH_IPV6) {
		uint32_t plen;

		if (len < ETH_HLEN_ + IPV6_HLEN || (ip[0] >> 4) != 6 || ip[6] != PROTO_ICMPV6)
			return -1;
		plen = get_be16(ip + 4);
		if (plen < ICMP_HLEN + IPV6_HLEN + QUOTED_TCP || ETH_HLEN_ + IPV6_HLEN + plen > len)
			return -1;
		icmp = ip + IPV6_HLEN;
		in = icmp + ICMP_HLEN;
		if (icmp[0] != 2 || (in[0] >> 4) != 6 || in[6] != PROTO_TCP) /* packet too big */
			return -1;
		e->outer.family = e->inner.family = AF_INET6;
		memcpy(e->outer.saddr, ip + 8, 16);
		memcpy(e->outer.daddr, ip + 24, 16);
		memcpy(e->inner.saddr, in + 8, 16);
		memcpy(e->inner.daddr, in + 24, 16);
		e->mtu = get_be32(icmp + 4);
		th = in + IPV6_HLEN;
	} else {
		return -1;
	}
	e->inner.sport = get_be16(th);
	e->inner.dport = get_be16(th + 2);
	e->seq = get_be32(th + 4);
	return 0;
}

uint32_t pkt_build_too_big(uint8_t *buf, uint32_t cap, const struct pkt_too_big *e)
{
	bool v4 = e->outer.family == AF_INET;
	uint32_t l3 = v4 ? IP_HLEN : IPV6_HLEN;
	uint32_t icmplen = ICMP_HLEN + l3 + QUOTED_TCP, total = ETH_HLEN_ + l3 + icmplen;
	uint8_t *ip = buf + ETH_HLEN_, *icmp = ip + l3, *in = icmp + ICMP_HLEN, *th = in + l3;
	uint64_t sum;

	if (total > cap)
		return 0;
	memset(buf, 0, total);
	memcpy(buf, e->outer.dst_mac, 6);
	memcpy(buf + 6, e->outer.src_mac, 6);
	put_be16(th, e->inner.sport);
	put_be16(th + 2, e->inner.dport);
	put_be32(th + 4, e->seq);
	if (v4) {
		put_be16(buf + 12, ETH_IP);
		ip[0] = 0x45;
		put_be16(ip + 2, IP_HLEN + icmplen);
		ip[8] = 64;
		ip[9] = PROTO_ICMP;
		memcpy(ip + 12, e->outer.saddr, 4);
		memcpy(ip + 16, e->outer.daddr, 4);
		put_be16(ip + 10, csum_fold(csum_add(0, ip, IP_HLEN)));
		/* the quoted segment's header, as it left (its length: one too big) */
		in[0] = 0x45;
		put_be16(in + 2, (uint16_t)(e->mtu + 1));
		put_be16(in + 6, 0x4000); /* DF */
		in[8] = 64;
		in[9] = PROTO_TCP;
		memcpy(in + 12, e->inner.saddr, 4);
		memcpy(in + 16, e->inner.daddr, 4);
		put_be16(in + 10, csum_fold(csum_add(0, in, IP_HLEN)));
		icmp[0] = 3;
		icmp[1] = 4;
		put_be16(icmp + 6, (uint16_t)e->mtu);
		put_be16(icmp + 2, csum_fold(csum_add(0, icmp, icmplen)));
	} else {
		put_be16(buf + 12, ETH_IPV6);
		put_be32(ip, 6u << 28);
		put_be16(ip + 4, (uint16_t)icmplen);
		ip[6] = PROTO_ICMPV6;
		ip[7] = 64;
		memcpy(ip + 8, e->outer.saddr, 16);
		memcpy(ip + 24, e->outer.daddr, 16);
		put_be32(in, 6u << 28);
		put_be16(in + 4, (uint16_t)(e->mtu + 1 - IPV6_HLEN));
		in[6] = PROTO_TCP;
		in[7] = 64;
		memcpy(in + 8, e->inner.saddr, 16);
		memcpy(in + 24, e->inner.daddr, 16);
		icmp[0] = 2;
		put_be32(icmp + 4, e->mtu);
		sum = csum_add(0, ip + 8, 32) + htons(PROTO_ICMPV6) + htons((uint16_t)icmplen);
		put_be16(icmp + 2, csum_fold(csum_add(sum, icmp, icmplen)));
	}
	return total;
}
