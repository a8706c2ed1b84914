// SPDX-License-Identifier: MIT
/*
 * Multi-buffer descriptor chains (agent/dp/chain.c): a packet cut into
 * frames as AF_XDP TX cuts it comes back byte for byte; a lone descriptor is
 * handed back in place; chains too long (bytes or descriptors) are dropped
 * and counted at their end, and the next chain is whole again; a chain may
 * span receive batches.
 */
#include "dp/chain.h"
#include "t.h"

#define CAP  (64u << 10)
#define FRAG 4096u

static uint64_t rng = 0x2545f4914f6cdd1dull;

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)rng;
}

static uint8_t cbuf[CAP];

static void chain_init(struct dp_chain *c)
{
	memset(c, 0, sizeof(*c));
	c->buf = cbuf;
	c->cap = CAP;
}

/* Feed pkt cut into frag-sized pieces; the result of the last add. */
static int feed(struct dp_chain *c, const uint8_t *pkt, uint32_t len, uint32_t frag,
		const uint8_t **out, uint32_t *olen)
{
	uint32_t nf = dp_chain_frames(len, frag);
	int r = -1;

	for (uint32_t i = 0; i < nf; i++) {
		uint32_t n = len - i * frag < frag ? len - i * frag : frag;

		r = dp_chain_add(c, pkt + i * frag, n, i + 1 < nf, out, olen);
		if (i + 1 < nf)
			CHECK_EQ(r, DP_CHAIN_MORE);
	}
	return r;
}

T(chain_lone_descriptor_in_place)
{
	struct dp_chain c;
	uint8_t pkt[100] = {0};
	const uint8_t *out;
	uint32_t len;

	chain_init(&c);
	CHECK_EQ(dp_chain_add(&c, pkt, sizeof(pkt), false, &out, &len), DP_CHAIN_DONE);
	CHECK(out == pkt);
	CHECK_EQ(len, sizeof(pkt));
	CHECK_EQ(c.chains, 0);
}

T(chain_round_trip)
{
	static uint8_t pkt[CAP];
	struct dp_chain c;

	chain_init(&c);
	for (int it = 0; it < 500; it++) {
		uint32_t len = 1 + rnd() % CAP, frag = it % 3 ? FRAG : 1 + rnd() % 9000;
		const uint8_t *out;
		uint32_t olen;

		if (dp_chain_frames(len, frag) > DP_CHAIN_MAX_FRAGS)
			frag = (len + DP_CHAIN_MAX_FRAGS - 1) / DP_CHAIN_MAX_FRAGS;
		for (uint32_t i = 0; i < len; i++)
			pkt[i] = rnd();
		CHECK_EQ(feed(&c, pkt, len, frag, &out, &olen), DP_CHAIN_DONE);
		CHECK_EQ(olen, len);
		CHECK_MEM(out, pkt, len);
	}
	CHECK_EQ(c.dropped, 0);
}

T(chain_too_long_dropped_then_whole_again)
{
	static uint8_t pkt[CAP + 2 * FRAG];
	struct dp_chain c;
	const uint8_t *out;
	uint32_t len;

	chain_init(&c);
	for (uint32_t i = 0; i < sizeof(pkt); i++)
		pkt[i] = i * 7;
	/* bytes beyond the cap */
	CHECK_EQ(feed(&c, pkt, CAP + FRAG, FRAG, &out, &len), DP_CHAIN_DROP);
	CHECK_EQ(c.dropped, 1);
	CHECK_EQ(feed(&c, pkt, 3 * FRAG + 5, FRAG, &out, &len), DP_CHAIN_DONE);
	CHECK_EQ(len, 3 * FRAG + 5);
	CHECK_MEM(out, pkt, len);
	/* more descriptors than any packet has */
	CHECK_EQ(feed(&c, pkt, DP_CHAIN_MAX_FRAGS + 1, 1, &out, &len), DP_CHAIN_DROP);
	CHECK_EQ(c.dropped, 2);
	/* exactly the limits: taken */
	CHECK_EQ(feed(&c, pkt, DP_CHAIN_MAX_FRAGS, 1, &out, &len), DP_CHAIN_DONE);
	CHECK_EQ(len, DP_CHAIN_MAX_FRAGS);
	CHECK_EQ(feed(&c, pkt, CAP, FRAG, &out, &len), DP_CHAIN_DONE);
	CHECK_EQ(len, CAP);
	CHECK_MEM(out, pkt, CAP);
	CHECK_EQ(c.chains, 3);
}

/* Zero-length descriptors add nothing; a chain of them only is an empty packet (parse refuses). */
T(chain_empty_descriptors)
{
	struct dp_chain c;
	uint8_t pkt[10] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
	const uint8_t *out;
	uint32_t len;

	chain_init(&c);
	CHECK_EQ(dp_chain_add(&c, pkt, 0, true, &out, &len), DP_CHAIN_MORE);
	CHECK_EQ(dp_chain_add(&c, pkt, 4, true, &out, &len), DP_CHAIN_MORE);
	CHECK_EQ(dp_chain_add(&c, pkt, 0, true, &out, &len), DP_CHAIN_MORE);
	CHECK_EQ(dp_chain_add(&c, pkt + 4, 6, false, &out, &len), DP_CHAIN_DONE);
	CHECK_EQ(len, 10);
	CHECK_MEM(out, pkt, 10);
	CHECK_EQ(dp_chain_add(&c, pkt, 0, true, &out, &len), DP_CHAIN_MORE);
	CHECK_EQ(dp_chain_add(&c, pkt, 0, false, &out, &len), DP_CHAIN_DONE);
	CHECK_EQ(len, 0);
}

/* No buffer (cap 0): every chain of more than one descriptor is dropped, lone ones pass. */
T(chain_without_buffer)
{
	struct dp_chain c = {0};
	uint8_t pkt[10] = {0};
	const uint8_t *out;
	uint32_t len;

	CHECK_EQ(dp_chain_add(&c, pkt, 5, true, &out, &len), DP_CHAIN_MORE);
	CHECK_EQ(dp_chain_add(&c, pkt, 5, false, &out, &len), DP_CHAIN_DROP);
	CHECK_EQ(dp_chain_add(&c, pkt, 5, false, &out, &len), DP_CHAIN_DONE);
	CHECK(out == pkt);
	CHECK_EQ(c.dropped, 1);
	/* a reset forgets the chain under way */
	CHECK_EQ(dp_chain_add(&c, pkt, 5, true, &out, &len), DP_CHAIN_MORE);
	dp_chain_reset(&c);
	CHECK_EQ(dp_chain_add(&c, pkt, 5, false, &out, &len), DP_CHAIN_DONE);
	CHECK(out == pkt);
}

T(chain_frames)
{
	CHECK_EQ(dp_chain_frames(0, FRAG), 1);
	CHECK_EQ(dp_chain_frames(1, FRAG), 1);
	CHECK_EQ(dp_chain_frames(FRAG, FRAG), 1);
	CHECK_EQ(dp_chain_frames(FRAG + 1, FRAG), 2);
	CHECK_EQ(dp_chain_frames(16 * FRAG, FRAG), 16);
}
