/* SPDX-License-Identifier: MIT */
/*
 * Packets that span several AF_XDP frames (multi-buffer, XDP_USE_SG;
 * docs/architecture.md#multi-buffer-capture): on RX a descriptor chain,
 * each descriptor but the last flagged "more follows" (XDP_PKT_CONTD), is
 * gathered into one contiguous packet; on TX a packet is cut into frames.
 * Pure: no sockets; the caller owns the buffer.
 */
#ifndef TCPCRYPT_DP_CHAIN_H
#define TCPCRYPT_DP_CHAIN_H

#include <stdbool.h>
#include <stdint.h>

/* Descriptors per chain at most: the kernel's MAX_SKB_FRAGS (17) and the head, with room. */
#define DP_CHAIN_MAX_FRAGS 32

struct dp_chain {
	uint8_t *buf;	  /* cap bytes, for chains of more than one descriptor */
	uint32_t cap;	  /* the longest packet taken */
	uint32_t len;	  /* bytes gathered of the chain under way */
	uint32_t nfrags;  /* its descriptors so far */
	bool overflow;	  /* it is too long (bytes or descriptors): dropped at its end */
	uint64_t dropped; /* chains dropped for that */
	uint64_t chains;  /* chains of more than one descriptor gathered */
};

enum {
	DP_CHAIN_MORE = 0, /* the chain goes on: nothing to process yet */
	DP_CHAIN_DONE = 1, /* *pkt, *pkt_len: a whole packet, valid until the next call */
	DP_CHAIN_DROP = 2, /* a chain too long ended: counted in dropped, nothing to process */
};

/*
 * One received descriptor's bytes; more: XDP_PKT_CONTD was set on it.  A
 * lone descriptor (no chain under way, no more) is handed back in place,
 * not copied.
 */
int dp_chain_add(struct dp_chain *c, const uint8_t *frag, uint32_t len, bool more,
		 const uint8_t **pkt, uint32_t *pkt_len);

/* Forget a chain under way (the socket was reset). */
void dp_chain_reset(struct dp_chain *c);

/* Frames of frame_size bytes a packet of len bytes takes on TX (at least 1). */
static inline uint32_t dp_chain_frames(uint32_t len, uint32_t frame_size)
{
	return len <= frame_size ? 1 : (len + frame_size - 1) / frame_size;
}

#endif
