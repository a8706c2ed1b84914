/* SPDX-License-Identifier: MIT */
/*
 * Packet capture on the agent's end of a capture veth: an AF_PACKET socket
 * with a TPACKET_V2 receive ring, so that the local kernel's plaintext
 * reaches the agent in the units its TCP sent, GSO skbs of up to 64 KB
 * whole (docs/architecture.md#packet-capture).  A packet that fits a ring
 * frame (the peer's wire segments, ACKs) is read in place; a longer one is
 * queued on the socket as well (PACKET_COPY_THRESH), its frame marked
 * TP_STATUS_COPY, and read with recv() in ring order.  TC ingress on that
 * veth drops every packet after the tap (bpf/capture.bpf.c).
 */
#ifndef TCPCRYPT_PKTRING_H
#define TCPCRYPT_PKTRING_H

#include <stddef.h>
#include <stdint.h>

/* A frame: the TPACKET_V2 header and the largest wire segment (TCPCRYPT_CAPTURE_MTU). */
#define PKT_RING_FRAME	4096u
#define PKT_RING_BLOCK	(1u << 20)   /* 256 frames a block */
#define PKT_RING_BLOCKS 64	     /* 16384 frames, 64 MB: bursts of many flows */
#define PKT_BIG_MAX	(128u << 10) /* the longest packet read from the queue */
#define PKT_RCVBUF	(64 << 20)   /* room on the queue for the long ones */

struct pkt_ring {
	int fd;
	uint8_t *ring;
	size_t size;
	unsigned nframes, idx;
	uint64_t drops;	    /* the kernel found no free frame (PACKET_STATISTICS) */
	uint64_t truncated; /* longer than a frame, and not on the queue: dropped here */
	uint64_t big;	    /* packets read from the queue */
	uint8_t *buf;	    /* PKT_BIG_MAX bytes for those */
	uint64_t stamp_ns;  /* when the kernel took the packet being handed over (CLOCK_REALTIME) */
};

/* Open the ring on ifname (incoming packets only); prints a precise error, returns 0 or -errno. */
int pkt_ring_open(struct pkt_ring *r, const char *ifname);
void pkt_ring_close(struct pkt_ring *r);

/* Up to budget received packets, each handed to fn, then given back to the kernel. */
typedef void (*pkt_ring_fn)(void *ctx, uint8_t *pkt, uint32_t len);
unsigned pkt_ring_rx(struct pkt_ring *r, pkt_ring_fn fn, void *ctx, unsigned budget);

/* Packets the kernel dropped so far: the ring was full. */
uint64_t pkt_ring_drops(struct pkt_ring *r);

/*
 * A socket that transmits on ifname: AF_PACKET with PACKET_VNET_HDR (each
 * packet behind a struct virtio_net_hdr: checksum offload, GSO) and
 * PACKET_QDISC_BYPASS (no qdisc, no TC egress: the steering programs never
 * see the agent's own packets, as with AF_XDP).  Receives nothing.  Returns
 * the fd, or -errno after a precise error.
 */
int pkt_tx_open(const char *ifname);
/* Send one packet (virtio_net_hdr and frame); 0 or -errno (-EAGAIN, -ENOBUFS: no room now). */
int pkt_tx_send(int fd, const uint8_t *buf, uint32_t len);
/* ... its headers and its payload from where they are. */
int pkt_tx_send2(int fd, const uint8_t *hdr, uint32_t hlen, const uint8_t *data, uint32_t len);

#endif
