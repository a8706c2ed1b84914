/* SPDX-License-Identifier: MIT */
/*
 * One AF_XDP socket with its own UMEM, in copy mode (the only mode veth
 * offers): half of the frames feed RX through the fill ring, the other half
 * are a pool for TX, recycled through the completion ring.
 */
#ifndef TCPCRYPT_XSK_H
#define TCPCRYPT_XSK_H

#include <stdbool.h>
#include <stdint.h>
#include <net/if.h>
#include <xdp/xsk.h>
#include "dp/chain.h"

#define XSK_FRAME_SIZE XSK_UMEM__DEFAULT_FRAME_SIZE
#define XSK_TX_FRAMES  2048
/*
 * RX frames of a socket that receives every segment of every tcpcrypt flow
 * of an interface, both directions (the capture veth): room for the bursts
 * of many flows at once while the agent is busy with crypto; the XDP
 * redirect drops what finds the ring full, which costs the flow an RTO.
 */
#define XSK_RX_FRAMES_BULK 16384
#define XSK_RX_FRAMES_MIN  64 /* a socket that only transmits */
#define XSK_TX_BATCH	   32 /* descriptors copy mode sends per kick (TX_BATCH_SIZE) */
/*
 * Multi-buffer (XDP_USE_SG): the longest packet a receive chain may carry
 * (a GSO skb of the local kernel, 64 KB of payload and its headers, with
 * room), and the longest one transmitted as a chain of TX frames: 16 frames,
 * an IPv4 packet within its 65535-byte limit.
 */
#define XSK_CHAIN_RX_MAX (128u << 10)
#define XSK_CHAIN_TX_MAX (16u * XSK_FRAME_SIZE)

struct xsk_port {
	struct xsk_socket *xsk;
	struct xsk_umem *umem;
	void *area;
	struct xsk_ring_prod fq, tx;
	struct xsk_ring_cons cq, rx;
	size_t area_size;
	unsigned rx_frames; /* a power of 2 */
	uint64_t tx_free[XSK_TX_FRAMES];
	unsigned tx_nfree;
	char ifname[IF_NAMESIZE];
	unsigned queue;
	bool zerocopy;
	bool sg;	       /* bound with XDP_USE_SG: packets may span frames */
	struct dp_chain chain; /* RX: the descriptor chain under way (sg) */
};

/*
 * Create the socket on ifname/queue, with rx_frames (a power of 2) for
 * RX and XSK_TX_FRAMES for TX, without loading libxdp's own XDP program
 * (ours redirects into the xsks map), and insert it in xsks_fd at key.
 * sg: ask for multi-buffer (XDP_USE_SG); a kernel that refuses it gets a
 * socket without (p->sg false).  Prints a precise error; returns 0 or -errno.
 */
int xsk_port_open(struct xsk_port *p, const char *ifname, unsigned queue, int xsks_fd, uint32_t key,
		  unsigned rx_frames, bool sg);
void xsk_port_close(struct xsk_port *p);
int xsk_port_fd(const struct xsk_port *p);

struct agent_counters;
/* Add the socket's XDP_STATISTICS (kernel drops and ring events) to c. */
void xsk_port_stats_add(const struct xsk_port *p, struct agent_counters *c);

/*
 * Up to budget received descriptors, each packet handed to fn (one gathered
 * from a chain with sg), then returned to the fill ring.
 */
typedef void (*xsk_rx_fn)(void *ctx, struct xsk_port *p, uint8_t *frame, uint32_t len);
unsigned xsk_port_rx(struct xsk_port *p, xsk_rx_fn fn, void *ctx, unsigned budget);

/*
 * The len bytes of XDP metadata in front of a received frame's packet, in
 * meta; false if the frame has no room for them before the packet.
 */
bool xsk_port_rx_meta(const struct xsk_port *p, uint8_t *frame, void *meta, size_t len);

/* A TX frame to write a packet into (XSK_FRAME_SIZE bytes), or NULL when all are in flight. */
uint8_t *xsk_port_tx_frame(struct xsk_port *p);
/* Queue the frame returned by xsk_port_tx_frame with len bytes; returns 0 or -ENOSPC. */
int xsk_port_tx_submit(struct xsk_port *p, uint8_t *frame, uint32_t len);
/*
 * Queue a packet of len bytes (at most XSK_CHAIN_TX_MAX, needs p->sg beyond
 * one frame) copied into as many TX frames as it takes, one descriptor
 * chain; returns 0, -ENOSPC (no frames or ring room now) or -EMSGSIZE.
 */
int xsk_port_tx_copy(struct xsk_port *p, const uint8_t *pkt, uint32_t len);
/* Descriptors in the TX ring that the kernel has not taken yet. */
unsigned xsk_port_tx_queued(const struct xsk_port *p);
/*
 * Copy mode transmits only when kicked: send what the TX ring holds, and
 * recycle completed frames.  True if some is still queued (the device was
 * busy): kick again soon.
 */
bool xsk_port_kick(struct xsk_port *p);

#endif
