// SPDX-License-Identifier: MIT
/*
 * The data path's frame codec (agent/dp/packet.c): frames it builds carry
 * checksums that an independent RFC 1071 sum (16-bit big-endian words, here)
 * verifies; parse(build(x)) gives x back; malformed frames from the wire are
 * refused, never read beyond their length.
 */
#include <arpa/inet.h>
#include "dp/packet.h"
#include "t.h"

#define ETH 14

/* RFC 1071 over 16-bit big-endian words, the odd byte padded: the reference. */
static uint32_t ref_sum(uint32_t sum, const uint8_t *p, size_t len)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

static uint16_t ref_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)rng;
}

static void random_seg(int family, struct pkt_addr *a, struct dp_seg *s, uint8_t *data)
{
	memset(a, 0, sizeof(*a));
	memset(s, 0, sizeof(*s));
	a->family = family;
	a->tos = rnd();
	for (int i = 0; i < 6; i++) {
		a->src_mac[i] = rnd();
		a->dst_mac[i] = rnd();
	}
	for (int i = 0; i < (family == AF_INET ? 1 : 4); i++) {
		a->saddr[i] = rnd();
		a->daddr[i] = rnd();
	}
	a->sport = rnd();
	a->dport = rnd();
	s->seq = rnd();
	s->ack = rnd();
	s->flags = rnd();
	s->win = rnd() & 0xffff;
	s->urg_ptr = rnd() & 0xffff;
	s->optlen = rnd() % 11 * 4;
	for (unsigned i = 0; i < s->optlen; i++)
		s->opts[i] = rnd();
	s->len = rnd() % 1501;
	for (unsigned i = 0; i < s->len; i++)
		data[i] = rnd();
	s->data = data;
}

/* Checksums verify (IPv4 header, TCP with its pseudo-header), odd and even lengths. */
T(packet_checksums_verify)
{
	static uint8_t buf[4096], data[1501];

	for (int it = 0; it < 4000; it++) {
		int v6 = it & 1;
		struct pkt_addr a;
		struct dp_seg s;
		uint32_t n, l3 = v6 ? 40 : 20, tcplen, ps;
		const uint8_t *ip = buf + ETH;

		random_seg(v6 ? AF_INET6 : AF_INET, &a, &s, data);
		n = pkt_build(buf, sizeof(buf), &a, &s);
		CHECK_EQ(n, ETH + l3 + 20 + s.optlen + s.len);
		tcplen = n - ETH - l3;
		ps = ref_sum(6 + tcplen, ip + (v6 ? 8 : 12), v6 ? 32 : 8);
		if (!v6)
			CHECK_EQ(ref_fold(ref_sum(0, ip, 20)), 0xffff);
		CHECK_EQ(ref_fold(ref_sum(ps, ip + l3, tcplen)), 0xffff);
	}
}

/* What pkt_build writes, pkt_parse reads back, field by field. */
T(packet_round_trip)
{
	static uint8_t buf[4096], data[1501];

	for (int it = 0; it < 1000; it++) {
		struct pkt_addr a, b;
		struct dp_seg s, t;
		uint32_t n;

		random_seg(it & 1 ? AF_INET6 : AF_INET, &a, &s, data);
		n = pkt_build(buf, sizeof(buf), &a, &s);
		CHECK_EQ(pkt_parse(buf, n, &b, &t), 0);
		CHECK_EQ(b.family, a.family);
		CHECK_EQ(b.tos, a.tos);
		CHECK(!memcmp(b.src_mac, a.src_mac, 6) && !memcmp(b.dst_mac, a.dst_mac, 6));
		CHECK(!memcmp(b.saddr, a.saddr, sizeof(a.saddr)));
		CHECK(!memcmp(b.daddr, a.daddr, sizeof(a.daddr)));
		CHECK(b.sport == a.sport && b.dport == a.dport);
		CHECK(t.seq == s.seq && t.ack == s.ack && t.flags == s.flags && t.win == s.win);
		/* The urgent pointer is written only with URG (RFC 9293 §3.1). */
		CHECK_EQ(t.urg_ptr, s.flags & DP_URG ? s.urg_ptr : 0);
		CHECK_EQ(t.optlen, s.optlen);
		CHECK(!memcmp(t.opts, s.opts, s.optlen));
		CHECK_EQ(t.len, s.len);
		CHECK(!memcmp(t.data, data, s.len));
	}
}

/* The urgent pointer field at bytes 18-19 of the TCP header, big-endian, as the kernel's
 * th->urg_ptr. */
T(packet_urgent_pointer)
{
	static uint8_t buf[256];
	struct pkt_addr a = {.family = AF_INET}, b;
	struct dp_seg s = {.flags = DP_URG | DP_ACK, .urg_ptr = 0x1234}, t;
	const uint8_t *th = buf + ETH + 20;
	uint32_t n;

	n = pkt_build(buf, sizeof(buf), &a, &s);
	CHECK_EQ(th[13], 0x30);
	CHECK_EQ(th[18], 0x12);
	CHECK_EQ(th[19], 0x34);
	CHECK_EQ(pkt_parse(buf, n, &b, &t), 0);
	CHECK_EQ(t.urg_ptr, 0x1234);
	CHECK_EQ(t.flags, DP_URG | DP_ACK);
	/* Without URG the field goes out as zero (RFC 9293 §3.1), whatever the struct says. */
	s.flags = DP_ACK;
	n = pkt_build(buf, sizeof(buf), &a, &s);
	CHECK_EQ(th[18] | th[19], 0);
	CHECK_EQ(pkt_parse(buf, n, &b, &t), 0);
	CHECK_EQ(t.urg_ptr, 0);
}

/* Every truncation of a valid frame is refused (its IP length says more). */
T(packet_truncated)
{
	static uint8_t buf[4096], data[1501];

	for (int v6 = 0; v6 < 2; v6++) {
		struct pkt_addr a;
		struct dp_seg s;
		uint32_t n;

		random_seg(v6 ? AF_INET6 : AF_INET, &a, &s, data);
		n = pkt_build(buf, sizeof(buf), &a, &s);
		for (uint32_t len = 0; len < n; len++)
			CHECK_EQ(pkt_parse(buf, len, &a, &s), -1);
	}
}

/* Header fields that lie: each frame is refused. */
T(packet_malformed)
{
	static uint8_t good[4096], buf[4096], data[1501]; /* random_seg fills up to 1500 */
	struct pkt_addr a;
	struct dp_seg s;
	uint32_t n;

	random_seg(AF_INET, &a, &s, data);
	s.optlen = 8;
	s.len = 100;
	n = pkt_build(good, sizeof(good), &a, &s);
	CHECK_EQ(pkt_parse(good, n, &a, &s), 0);
#define BAD(edit)                                                                                  \
	do {                                                                                       \
		memcpy(buf, good, n);                                                              \
		edit;                                                                              \
		CHECK_EQ(pkt_parse(buf, n, &a, &s), -1);                                           \
	} while (0)
	BAD(buf[12] = 0x08; buf[13] = 0x06);	  /* ARP */
	BAD(buf[ETH] = 0x65);			  /* IPv6 version in an IPv4 ethertype */
	BAD(buf[ETH] = 0x44);			  /* IHL 16 bytes */
	BAD(buf[ETH + 9] = 17);			  /* UDP */
	BAD(buf[ETH + 2] = 0; buf[ETH + 3] = 19); /* total length below the header */
	BAD(buf[ETH + 2] = 0x10);		  /* total length beyond the frame */
	BAD(buf[ETH + 6] = 0x20);		  /* more fragments */
	BAD(buf[ETH + 7] = 1);			  /* fragment offset */
	BAD(buf[ETH + 20 + 12] = 0x40);		  /* data offset 16 bytes */
	BAD(buf[ETH + 20 + 12] = 0xf0; buf[ETH + 2] = 0; buf[ETH + 3] = 60); /* doff 60 > 40 */
#undef BAD
	/* a segment that long: then the options fill it */
	memcpy(buf, good, n);
	buf[ETH + 20 + 12] = 0xf0;
	buf[ETH + 2] = 0;
	buf[ETH + 3] = 80;
	CHECK_EQ(pkt_parse(buf, n, &a, &s), 0);
	CHECK(s.optlen == 40 && s.len == 0);

	random_seg(AF_INET6, &a, &s, data);
	s.len = 100;
	n = pkt_build(good, sizeof(good), &a, &s);
	memcpy(buf, good, n);
	buf[ETH + 6] = 0; /* hop-by-hop header: not followed */
	CHECK_EQ(pkt_parse(buf, n, &a, &s), -1);
	memcpy(buf, good, n);
	buf[ETH + 4] = 0x10; /* payload length beyond the frame */
	CHECK_EQ(pkt_parse(buf, n, &a, &s), -1);
}

/* No room, or options beyond the 40 bytes TCP has: nothing is built. */
T(packet_build_limits)
{
	static uint8_t buf[4096], data[1501];
	struct pkt_addr a;
	struct dp_seg s;
	uint32_t n;

	random_seg(AF_INET, &a, &s, data);
	s.len = 100;
	s.optlen = 0;
	n = pkt_build(buf, sizeof(buf), &a, &s);
	CHECK_EQ(n, ETH + 20 + 20 + 100);
	CHECK_EQ(pkt_build(buf, n - 1, &a, &s), 0);
	s.optlen = 37; /* padded to 40 with NOPs */
	CHECK_EQ(pkt_build(buf, sizeof(buf), &a, &s), ETH + 20 + 20 + 40 + 100);
	CHECK_EQ(buf[ETH + 20 + 20 + 39], 1);
	s.optlen = 41;
	CHECK_EQ(pkt_build(buf, sizeof(buf), &a, &s), 0);
}

/* ICMP too-big errors: parse(build(x)) = x; checksums verify by the reference sum. */
T(packet_too_big_round_trip)
{
	for (int fam = 0; fam < 2; fam++) {
		int family = fam ? AF_INET6 : AF_INET;
		uint8_t buf[256], data[1600];
		struct pkt_too_big e = {}, g;
		struct dp_seg s;
		uint32_t n, l3 = fam ? 40 : 20;

		random_seg(family, &e.outer, &s, data);
		random_seg(family, &e.inner, &s, data);
		e.outer.tos = e.inner.tos = 0;
		memset(e.inner.src_mac, 0, 6);
		memset(e.inner.dst_mac, 0, 6);
		e.mtu = 1280;
		e.seq = rnd();
		n = pkt_build_too_big(buf, sizeof(buf), &e);
		CHECK_EQ(n, ETH + l3 + 8 + l3 + 8);
		CHECK_EQ(pkt_build_too_big(buf, n - 1, &e), 0);
		CHECK_EQ(pkt_parse_too_big(buf, n, &g), 0);
		CHECK_EQ(g.mtu, 1280);
		CHECK_EQ(g.seq, e.seq);
		CHECK_EQ(g.inner.sport, e.inner.sport);
		CHECK_EQ(g.inner.dport, e.inner.dport);
		CHECK_MEM(g.inner.saddr, e.inner.saddr, fam ? 16 : 4);
		CHECK_MEM(g.inner.daddr, e.inner.daddr, fam ? 16 : 4);
		CHECK_MEM(g.outer.saddr, e.outer.saddr, fam ? 16 : 4);
		CHECK_MEM(g.outer.src_mac, e.outer.src_mac, 6);
		if (!fam) {
			CHECK_EQ(ref_fold(ref_sum(0, buf + ETH, 20)), 0xffff); /* IPv4 header */
			CHECK_EQ(ref_fold(ref_sum(0, buf + ETH + 20, 36)), 0xffff); /* ICMP */
			CHECK_EQ(buf[ETH + 20], 3);
			CHECK_EQ(buf[ETH + 21], 4);
		} else {
			uint32_t sum = ref_sum(0, buf + ETH + 8, 32) + 58 + 56;

			CHECK_EQ(ref_fold(ref_sum(sum, buf + ETH + 40, 56)), 0xffff); /* ICMPv6 */
			CHECK_EQ(buf[ETH + 40], 2);
		}
	}
}

/* Anything else is refused: other types and codes, TCP inside, short or lying lengths. */
T(packet_too_big_malformed)
{
	for (int fam = 0; fam < 2; fam++) {
		struct pkt_too_big e = {}, g;
		uint8_t buf[256], bad[256];
		uint32_t n, l3 = fam ? 40 : 20, icmp = ETH + l3;
		struct dp_seg s;
		uint8_t data[1600];

		random_seg(fam ? AF_INET6 : AF_INET, &e.outer, &s, data);
		e.inner = e.outer;
		e.mtu = 1400;
		n = pkt_build_too_big(buf, sizeof(buf), &e);
		for (uint32_t cut = 0; cut < n; cut++)
			CHECK_EQ(pkt_parse_too_big(buf, cut, &g), -1);
		memcpy(bad, buf, n);
		bad[icmp] = fam ? 1 : 11; /* destination unreachable (v6) / time exceeded (v4) */
		CHECK_EQ(pkt_parse_too_big(bad, n, &g), -1);
		if (!fam) {
			memcpy(bad, buf, n);
			bad[icmp + 1] = 3; /* port unreachable */
			CHECK_EQ(pkt_parse_too_big(bad, n, &g), -1);
			memcpy(bad, buf, n);
			bad[ETH + 3] += 4; /* total length beyond the frame */
			CHECK_EQ(pkt_parse_too_big(bad, n, &g), -1);
		}
		memcpy(bad, buf, n);
		bad[icmp + 8 + (fam ? 6 : 9)] = 17; /* quoting UDP */
		CHECK_EQ(pkt_parse_too_big(bad, n, &g), -1);
		memcpy(bad, buf, n);
		bad[ETH + (fam ? 6 : 9)] = 6; /* a TCP packet is no ICMP error */
		CHECK_EQ(pkt_parse_too_big(bad, n, &g), -1);
	}
}

/*
 * pkt_build_offload: a struct virtio_net_hdr (little-endian) naming the TCP
 * checksum for the kernel to complete, whose field holds the folded
 * pseudo-header sum: summing the segment from csum_start over it completes
 * the same checksum RFC 1071 gives; GSO named only beyond gso_size.
 */
T(packet_offload_header)
{
	static uint8_t buf[70000], data[65000];

	for (int it = 0; it < 400; it++) {
		int v6 = it & 1;
		struct pkt_addr a, b;
		struct dp_seg s, t;
		uint32_t l3 = v6 ? 40 : 20, gso = 500 + rnd() % 1000, n, tcplen, ps;
		const uint8_t *f = buf + PKT_VNET_HLEN, *ip = f + ETH;
		uint16_t start, off, hlen, size;

		random_seg(v6 ? AF_INET6 : AF_INET, &a, &s, data);
		if (it % 4 == 3) { /* a GSO-sized payload */
			s.len = 20000 + rnd() % 44000;
			for (unsigned i = 0; i < s.len; i++)
				data[i] = rnd();
		}
		n = pkt_build_offload(buf, sizeof(buf), &a, &s, gso);
		CHECK_EQ(n, PKT_VNET_HLEN + ETH + l3 + 20 + s.optlen + s.len);
		CHECK_EQ(buf[0], PKT_VNET_F_NEEDS_CSUM);
		start = buf[6] | buf[7] << 8;
		off = buf[8] | buf[9] << 8;
		hlen = buf[2] | buf[3] << 8;
		size = buf[4] | buf[5] << 8;
		CHECK_EQ(start, ETH + l3);
		CHECK_EQ(off, 16);
		if (s.len > gso) {
			CHECK_EQ(buf[1] & 0x7f, v6 ? PKT_VNET_GSO_TCPV6 : PKT_VNET_GSO_TCPV4);
			CHECK_EQ(!!(buf[1] & PKT_VNET_GSO_ECN), !!(s.flags & DP_CWR));
			CHECK_EQ(size, gso);
			CHECK_EQ(hlen, ETH + l3 + 20 + s.optlen);
		} else {
			CHECK_EQ(buf[1], 0);
			CHECK_EQ(size, 0);
		}
		tcplen = n - PKT_VNET_HLEN - ETH - l3;
		ps = ref_sum(6 + tcplen, ip + (v6 ? 8 : 12), v6 ? 32 : 8);
		/* the field is the folded pseudo-header sum ... */
		CHECK_EQ((uint32_t)(f[start + 16] << 8 | f[start + 17]), ref_fold(ps));
		/* ... so the sum over the segment, the field counted once, completes it */
		{
			uint16_t c = ~ref_fold(ref_sum(0, f + start, tcplen)) & 0xffff;

			CHECK_EQ(ref_fold(ref_sum(ps, f + start, 16) + c +
					  ref_sum(0, f + start + 18, tcplen - 18)),
				 0xffff);
		}
		if (!v6)
			CHECK_EQ(ref_fold(ref_sum(0, ip, 20)), 0xffff);
		CHECK_EQ(pkt_parse(f, n - PKT_VNET_HLEN, &b, &t), 0);
		CHECK_EQ(t.len, s.len);
		CHECK(!memcmp(t.data, data, s.len));
		/* headers only: the same bytes up to the payload, and a smaller buffer does */
		{
			static uint8_t hdr[256];
			uint32_t h = pkt_build_offload_hdr(hdr, sizeof(hdr), &a, &s, gso);

			CHECK_EQ(h, n - s.len);
			if (!v6) /* a new IPv4 ID, and so header checksum, per packet */
				memcpy(hdr + PKT_VNET_HLEN + ETH + 4, buf + PKT_VNET_HLEN + ETH + 4,
				       8);
			CHECK_MEM(hdr, buf, h);
		}
	}
	/* too small a buffer: nothing */
	{
		struct pkt_addr a;
		struct dp_seg s;

		random_seg(AF_INET, &a, &s, data);
		CHECK_EQ(pkt_build_offload(buf, PKT_VNET_HLEN + 10, &a, &s, 1000), 0);
		CHECK_EQ(pkt_build_offload(buf, 4, &a, &s, 1000), 0);
	}
}
