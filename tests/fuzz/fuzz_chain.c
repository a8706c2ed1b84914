/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the descriptor-chain gatherer (agent/dp/chain.c):
 * the input is a sequence of descriptors (2 length bytes, a flags byte with
 * "more follows", then that many bytes).  Every packet handed back lies in
 * the input (lone descriptor) or the buffer, is never longer than the cap,
 * and equals the concatenation of its descriptors.
 */
#include <stdlib.h>
#include <string.h>
#include "dp/chain.h"

#define CAP 8192

static uint8_t buf[CAP], expect[CAP * 2];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dp_chain c = {.buf = buf, .cap = CAP};
	size_t i = 0, elen = 0;
	uint32_t nfrags = 0;

	while (i + 3 <= size) {
		uint32_t len = (data[i] | data[i + 1] << 8) % (CAP + 100);
		bool more = data[i + 2] & 1;
		const uint8_t *pkt;
		uint32_t plen;
		int r;

		i += 3;
		if (len > size - i)
			len = size - i;
		if (elen + len <= sizeof(expect))
			memcpy(expect + elen, data + i, len);
		elen += len;
		nfrags++;
		r = dp_chain_add(&c, data + i, len, more, &pkt, &plen);
		if (more && r != DP_CHAIN_MORE)
			abort();
		if (!more) {
			if (r == DP_CHAIN_DONE) {
				if (plen != elen || plen > (nfrags == 1 ? len : CAP) ||
				    memcmp(pkt, expect, plen))
					abort();
				if (nfrags == 1 && pkt != data + i)
					abort();
			} else if (r != DP_CHAIN_DROP ||
				   (elen <= CAP && nfrags <= DP_CHAIN_MAX_FRAGS)) {
				abort();
			}
			elen = 0;
			nfrags = 0;
		}
		i += len;
	}
	return 0;
}
