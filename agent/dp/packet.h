/* SPDX-License-Identifier: MIT */
/*
 * Ethernet/IPv4/IPv6/TCP frames of the data path: parse a received frame
 * into a struct dp_seg plus its addresses, and build a frame from a
 * struct dp_seg and a per-flow template, checksums included.  Pure.
 */
#ifndef TCPCRYPT_DP_PACKET_H
#define TCPCRYPT_DP_PACKET_H

#include <stdbool.h>
#include <stdint.h>
#include "dp/xlate.h"
#include "tcpcrypt_common.h"

struct pkt_addr {
	uint8_t family; /* AF_INET or AF_INET6 */
	uint8_t tos;	/* IPv4 TOS / IPv6 traffic class (ECN bits included) */
	uint8_t src_mac[6], dst_mac[6];
	uint32_t saddr[4], daddr[4]; /* network order; IPv4 in [0] */
	uint16_t sport, dport;	     /* host order */
};

/* Parse a frame; seg->data points into it.  Returns 0, or -1 if not TCP over IPv4/IPv6. */
int pkt_parse(const uint8_t *frame, uint32_t len, struct pkt_addr *a, struct dp_seg *seg);

/* The flow key of a parsed frame, from the point of view of the host that received it. */
void pkt_key_rx(const struct pkt_addr *a, struct flow_key *k);
/* ... and of the host that sent it. */
void pkt_key_tx(const struct pkt_addr *a, struct flow_key *k);

/* Build a frame into buf; returns its length, or 0 if cap is too small. */
uint32_t pkt_build(uint8_t *buf, uint32_t cap, const struct pkt_addr *a, const struct dp_seg *seg);

/*
 * The same behind a struct virtio_net_hdr (PKT_VNET_HLEN bytes, for an
 * AF_PACKET socket with PACKET_VNET_HDR): the TCP checksum left to the
 * kernel (the field holds the pseudo-header sum, csum_start/csum_offset
 * name it), and a payload longer than gso_size (non-zero) sent as one GSO
 * packet the kernel cuts into segments of gso_size where it must
 * (docs/architecture.md#packet-capture).  Returns the bytes written, or 0.
 */
#define PKT_VNET_HLEN	      10
#define PKT_VNET_F_NEEDS_CSUM 1
#define PKT_VNET_GSO_TCPV4    1
#define PKT_VNET_GSO_TCPV6    4
#define PKT_VNET_GSO_ECN      0x80
uint32_t pkt_build_offload(uint8_t *buf, uint32_t cap, const struct pkt_addr *a,
			   const struct dp_seg *seg, uint32_t gso_size);
/* ... the same without the payload (sent from where it is): returns the header bytes. */
uint32_t pkt_build_offload_hdr(uint8_t *buf, uint32_t cap, const struct pkt_addr *a,
			       const struct dp_seg *seg, uint32_t gso_size);

/*
 * An ICMP "fragmentation needed" (type 3 code 4, RFC 1191) or ICMPv6 "packet
 * too big" (type 2, RFC 8201) about one of our TCP segments: who sent it, the
 * MTU it reports, and the start of the segment it quotes.
 */
struct pkt_too_big {
	struct pkt_addr outer; /* the error's own frame: MACs, router -> us */
	struct pkt_addr inner; /* the quoted segment: us -> peer, ports */
	uint32_t mtu;	       /* next-hop MTU */
	uint32_t seq;	       /* the quoted segment's sequence number */
};

/* Parse such an error (IPv4/IPv6 without extension headers); 0, or -1 if it is not one. */
int pkt_parse_too_big(const uint8_t *frame, uint32_t len, struct pkt_too_big *e);

/*
 * Build one, addressed as e->outer says, quoting a TCP segment with e->inner's
 * addresses and ports and sequence number e->seq, reporting e->mtu; checksums
 * included.  Returns its length, or 0 if cap is too small.
 */
uint32_t pkt_build_too_big(uint8_t *buf, uint32_t cap, const struct pkt_too_big *e);

#endif
