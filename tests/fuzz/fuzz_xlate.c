/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: two stream translators (host A and host B) back to back,
 * driven by a script that delivers, drops, duplicates and corrupts their wire
 * segments, injects arbitrary wire segments, has either kernel send arbitrary
 * segments, moves the clock and starts rekeys.
 *
 * The kernels' plaintext is a known pattern keyed by stream offset, so every
 * payload byte a translator injects towards its kernel is checked: it must be
 * the other kernel's pattern at that offset.  Only authenticated plaintext
 * from tc_conn_read can pass that; ciphertext, forged or misplaced bytes
 * cannot.  Emitted option areas must be well-formed (SYNs pass untouched,
 * without payload).  Urgent data (RFC 8548 §3.7): no wire segment carries
 * URG or a pointer, and every pointer towards a kernel names a byte that the
 * other kernel sent as urgent (URG, pointer within its segment); SYNs aside.
 *
 * Input: byte 0 sets up (bit 0: timestamps, bit 1: ISNs just below 2^32, bit
 * 2: host A uses AES-256-GCM only); then operations, an opcode byte (value %
 * OP_COUNT) each, followed by its arguments (little-endian; missing bytes
 * read as zero).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "core/aead.h"
#include "core/conn.h"
#include "core/err.h"
#include "core/frame.h"
#include "core/tep.h"
#include "dp/xlate.h"

#define WIRE_MSS 600
#define PAT_LEN	 (1 << 17)
#define QLEN	 64
#define MS	 1000000ull

enum op {
	OP_DELIVER,   /* dir(1): the oldest wire segment of host dir reaches the other host */
	OP_DROP,      /* dir(1) */
	OP_DUP,	      /* dir(1): deliver a copy, keep it queued */
	OP_CORRUPT,   /* dir(1) pos(2) bit(1): flip one bit of it, then deliver */
	OP_KERNEL,    /* host(1) off(2) len(2) flags(1) [urg_ptr(2) if URG] ackmode(1) win(2)
			 optlen(1) opts */
	OP_INJECT,    /* host(1) seq(4) ack(4) flags(1) [urg_ptr(2) if URG] win(2) optlen(1) opts
			 len(2) data */
	OP_TIME,      /* ms(2): the clock moves, both timers run */
	OP_REKEY,     /* host(1) */
	OP_KERNEL_ACK /* host(1): the kernel acknowledges what it got in order */
};
#define OP_COUNT 9

struct pkt {
	struct dp_seg s;
	uint8_t data[WIRE_MSS];
};

struct fz;

struct host {
	struct fz *z;
	int idx;
	struct dp_flow *f;
	struct dp_flow_params p;
	uint8_t transcript[7];
	uint64_t got;	    /* plaintext the kernel received in order */
	bool got_fin;	    /* ... and then the FIN */
	uint64_t sent_max;  /* highest plaintext offset its kernel sent */
	bool sent_fin;	    /* ... and then its FIN */
	struct pkt q[QLEN]; /* its wire segments in flight */
	int qn;
	uint8_t urgent[PAT_LEN / 8]; /* bytes its kernel sent as urgent, a bit each */
};

struct fz {
	const uint8_t *in;
	size_t len, pos;
	uint64_t now;
	struct host h[2];
};

static uint8_t pattern[2][PAT_LEN];

static uint32_t take(struct fz *z, int n)
{
	uint32_t v = 0;

	for (int i = 0; i < n; i++)
		v |= (uint32_t)(z->pos < z->len ? z->in[z->pos++] : 0) << (8 * i);
	return v;
}

static void check_opts(const struct dp_seg *s)
{
	size_t i = 0;

	if (s->optlen % 4 || s->optlen > DP_OPT_MAX)
		__builtin_trap();
	while (i < s->optlen && s->opts[i]) {
		if (s->opts[i] == 1) {
			i++;
			continue;
		}
		if (i + 1 >= s->optlen || s->opts[i + 1] < 2 || i + s->opts[i + 1] > s->optlen)
			__builtin_trap();
		i += s->opts[i + 1];
	}
}

/* The urgent bytes of the other host's kernel. */
static const uint8_t *z_urgent(const struct host *h)
{
	return h->z->h[!h->idx].urgent;
}

static void emit_cb(void *ctx, enum dp_dir dir, const struct dp_seg *s)
{
	struct host *h = ctx;

	/* SYNs pass untouched, options and all; every other segment is the translator's. */
	if (!(s->flags & DP_SYN))
		check_opts(s);
	else if (s->len)
		__builtin_trap();
	if (dir == DP_TO_WIRE && !(s->flags & DP_SYN) && ((s->flags & DP_URG) || s->urg_ptr))
		__builtin_trap();
	if (dir == DP_TO_LOCAL) {
		/* The other kernel's pattern at this offset, and nothing else. */
		uint32_t off = s->seq - h->p.peer_isn - 1;
		uint64_t u = (uint64_t)off + s->urg_ptr - 1;

		if ((s->flags & (DP_URG | DP_SYN)) == DP_URG &&
		    (!s->urg_ptr || u >= PAT_LEN || !(z_urgent(h)[u / 8] & (1 << (u % 8)))))
			__builtin_trap();

		if (s->len &&
		    (off >= PAT_LEN - s->len || memcmp(s->data, pattern[!h->idx] + off, s->len)))
			__builtin_trap();
		if (off <= h->got && off + s->len >= h->got) {
			h->got = off + s->len;
			h->got_fin |= s->flags & DP_FIN;
		}
		return;
	}
	if (s->len > WIRE_MSS)
		__builtin_trap();
	if (h->qn == QLEN)
		memmove(&h->q[0], &h->q[1], --h->qn * sizeof(h->q[0]));
	h->q[h->qn].s = *s;
	if (s->len)
		memcpy(h->q[h->qn].data, s->data, s->len);
	h->q[h->qn].s.data = h->q[h->qn].data;
	h->qn++;
}

static void read_opts(struct fz *z, struct dp_seg *s)
{
	s->optlen = take(z, 1) % (DP_OPT_MAX + 1);
	for (int i = 0; i < s->optlen; i++)
		s->opts[i] = take(z, 1);
}

static void timers(struct fz *z)
{
	for (int i = 0; i < 2; i++)
		dp_timer(z->h[i].f, z->now);
}

static void pop(struct host *h)
{
	memmove(&h->q[0], &h->q[1], --h->qn * sizeof(h->q[0]));
}

static void wire_op(struct fz *z, enum op op)
{
	struct host *h = &z->h[take(z, 1) & 1];
	struct pkt p;

	if (op == OP_CORRUPT) {
		uint32_t pos = take(z, 2), bit = take(z, 1);

		if (!h->qn)
			return;
		if (h->q[0].s.len)
			h->q[0].data[pos % h->q[0].s.len] ^= 1 << (bit & 7);
	}
	if (!h->qn)
		return;
	p = h->q[0];
	p.s.data = p.data;
	if (op != OP_DUP)
		pop(h);
	if (op != OP_DROP)
		dp_from_wire(z->h[!h->idx].f, &p.s, z->now);
}

static void kernel_op(struct fz *z, bool ack_only)
{
	struct host *h = &z->h[take(z, 1) & 1];
	struct dp_seg s = {.flags = DP_ACK};
	uint32_t off = 0, len = 0;

	if (!ack_only) {
		off = take(z, 2);
		len = take(z, 2) % 1400;
		s.flags = take(z, 1);
		if (s.flags & DP_URG)
			s.urg_ptr = take(z, 2);
		s.ack =
		    take(z, 1) & 1 ? take(z, 4) : h->p.peer_isn + 1 + (uint32_t)h->got + h->got_fin;
		s.win = take(z, 2);
		read_opts(z, &s);
	} else {
		off = h->sent_max;
		s.ack = h->p.peer_isn + 1 + (uint32_t)h->got + h->got_fin;
		s.win = 0xffff;
	}
	s.seq = h->p.local_isn + 1 + off + (ack_only && h->sent_fin);
	h->sent_fin |= (s.flags & DP_FIN) && off + len >= h->sent_max;
	s.data = pattern[h->idx] + off;
	s.len = len;
	if ((s.flags & DP_URG) && s.urg_ptr && s.urg_ptr <= len)
		h->urgent[(off + s.urg_ptr - 1) / 8] |= 1 << ((off + s.urg_ptr - 1) % 8);
	if (off + len > h->sent_max)
		h->sent_max = off + len;
	dp_from_local(h->f, &s, z->now);
}

static void inject_op(struct fz *z)
{
	struct host *h = &z->h[take(z, 1) & 1];
	static uint8_t data[65536];
	struct dp_seg s = {0};

	s.seq = h->p.peer_isn + 1 + take(z, 4);
	s.ack = h->p.local_isn + 1 + take(z, 4);
	s.flags = take(z, 1);
	if (s.flags & DP_URG)
		s.urg_ptr = take(z, 2);
	s.win = take(z, 2);
	read_opts(z, &s);
	s.len = take(z, 2);
	for (uint32_t i = 0; i < s.len; i++)
		data[i] = take(z, 1);
	s.data = data;
	dp_from_wire(h->f, &s, z->now);
}

static int setup(struct fz *z, uint8_t cfg)
{
	static const uint16_t aes256[] = {TC_AEAD_AES_256_GCM};
	static const uint32_t isn[2][2] = {{0x12345678, 0x9abcdef0}, {0xfffffff0, 0xffffff00}};
	int err;

	for (int i = 0; i < 2; i++) {
		struct host *h = &z->h[i];

		h->z = z;
		h->idx = i;
		memcpy(
		    h->transcript,
		    (const uint8_t[]){0x45, 0x03, TC_TEP_X25519, 0x45, 0x04, 0x01, TC_TEP_X25519},
		    sizeof(h->transcript));
		h->p.eno.role = i ? ENO_ROLE_B : ENO_ROLE_A;
		h->p.eno.tep_byte = TC_TEP_X25519;
		h->p.eno.transcript = h->transcript;
		h->p.eno.transcript_len = sizeof(h->transcript);
		if ((cfg & 4) && !i) {
			h->p.conn.aeads = aes256;
			h->p.conn.naeads = 1;
		}
		h->p.local_isn = isn[cfg >> 1 & 1][i];
		h->p.peer_isn = isn[cfg >> 1 & 1][!i];
		h->p.wire_mss = WIRE_MSS;
		h->p.local_mss = WIRE_MSS - TC_FRAME_OVERHEAD;
		h->p.local_wscale = 7;
		h->p.peer_wscale = 7;
		h->p.timestamps = cfg & 1;
		h->p.sack_ok = cfg & 8;
		/* Small bounds, so that the fuzzer reaches them. */
		h->p.max_reasm = 1 << 16;
		h->p.max_unacked = 1 << 16;
		h->f = dp_flow_new(&h->p, emit_cb, h, &err);
		if (!h->f)
			return err;
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fz z;

	if (!pattern[0][1]) {
		uint32_t s = 0x243f6a88;

		for (int i = 0; i < 2; i++)
			for (size_t j = 0; j < PAT_LEN; j++) {
				s ^= s << 13;
				s ^= s >> 17;
				s ^= s << 5;
				pattern[i][j] = (uint8_t)s;
			}
	}
	memset(&z, 0, sizeof(z));
	z.in = data;
	z.len = size;
	if (setup(&z, take(&z, 1)))
		__builtin_trap();
	timers(&z);
	while (z.pos < z.len) {
		enum op op = take(&z, 1) % OP_COUNT;

		switch (op) {
		case OP_DELIVER:
		case OP_DROP:
		case OP_DUP:
		case OP_CORRUPT:
			wire_op(&z, op);
			break;
		case OP_KERNEL:
		case OP_KERNEL_ACK:
			kernel_op(&z, op == OP_KERNEL_ACK);
			break;
		case OP_INJECT:
			inject_op(&z);
			break;
		case OP_TIME:
			z.now += take(&z, 2) * MS;
			break;
		case OP_REKEY:
			dp_flow_rekey(z.h[take(&z, 1) & 1].f, z.now);
			break;
		}
		timers(&z);
	}
	for (int i = 0; i < 2; i++)
		dp_flow_free(z.h[i].f);
	return 0;
}
