/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the data path's frame parser (agent/dp/packet.c),
 * which reads every packet the agent receives, the peer's included.  The
 * parsed segment must lie inside the input; a frame built back from it must
 * parse to the same fields.  The same for ICMP too-big errors (PMTU).
 */
#include <stdlib.h>
#include <string.h>
#include "dp/packet.h"

static uint8_t out[4096];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pkt_addr a, b;
	struct dp_seg s, t;
	uint32_t n;

	struct pkt_too_big e, f;

	/* ICMP too-big errors: only inside the input, and parse(build(x)) = x */
	if (size <= 65535 && !pkt_parse_too_big(data, size, &e)) {
		n = pkt_build_too_big(out, sizeof(out), &e);
		if (!n || pkt_parse_too_big(out, n, &f) || f.mtu != e.mtu || f.seq != e.seq ||
		    f.inner.sport != e.inner.sport || f.inner.dport != e.inner.dport ||
		    memcmp(f.inner.saddr, e.inner.saddr, 16) ||
		    memcmp(f.inner.daddr, e.inner.daddr, 16))
			abort();
	}
	if (size > 65535 || pkt_parse(data, size, &a, &s))
		return 0;
	if (s.optlen > DP_OPT_MAX || s.data < data || s.data + s.len > data + size)
		abort();
	if (s.len > 2048)
		return 0;
	n = pkt_build(out, sizeof(out), &a, &s);
	if (!n || pkt_parse(out, n, &b, &t))
		abort();
	if (b.family != a.family || b.tos != a.tos || memcmp(b.saddr, a.saddr, sizeof(a.saddr)) ||
	    memcmp(b.daddr, a.daddr, sizeof(a.daddr)) || b.sport != a.sport || b.dport != a.dport ||
	    t.seq != s.seq || t.ack != s.ack || t.flags != s.flags || t.win != s.win ||
	    t.len != s.len || memcmp(t.data, s.data, s.len) || t.optlen < s.optlen ||
	    memcmp(t.opts, s.opts, s.optlen))
		abort();
	return 0;
}
