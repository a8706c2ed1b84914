// SPDX-License-Identifier: MIT
#include <string.h>
#include "dp/chain.h"

void dp_chain_reset(struct dp_chain *c)
{
	c->len = 0;
	c->nfrags = 0;
	c->overflow = false;
}

int dp_chain_add(struct dp_chain *c, const uint8_t *frag, uint32_t len, bool more,
		 const uint8_t **pkt, uint32_t *pkt_len)
{
	if (!more && !c->nfrags) {
		*pkt = frag;
		*pkt_len = len;
		return DP_CHAIN_DONE;
	}
	if (c->overflow || c->nfrags >= DP_CHAIN_MAX_FRAGS || len > c->cap - c->len) {
		c->overflow = true;
	} else {
		memcpy(c->buf + c->len, frag, len);
		c->len += len;
	}
	c->nfrags++;
	if (more)
		return DP_CHAIN_MORE;
	if (c->overflow) {
		c->dropped++;
		dp_chain_reset(c);
		return DP_CHAIN_DROP;
	}
	c->chains++;
	*pkt = c->buf;
	*pkt_len = c->len;
	c->len = 0;
	c->nfrags = 0;
	return DP_CHAIN_DONE;
}
