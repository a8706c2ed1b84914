/* SPDX-License-Identifier: MIT */
/*
 * Reassembly of one byte stream received out of order, duplicated,
 * overlapping or re-segmented, keyed by 64-bit stream offset.  Bytes at or
 * beyond base + limit are dropped (bounded memory per flow); so are bytes
 * that would need more than RS_MAX_HOLES separate ranges.  The in-order
 * prefix is contiguous in memory, so the caller can parse it in place.
 */
#ifndef TCPCRYPT_DP_REASM_H
#define TCPCRYPT_DP_REASM_H

#include <stddef.h>
#include <stdint.h>

#define RS_MAX_HOLES 256

struct rs_range {
	uint64_t lo, hi; /* [lo, hi) present */
};

struct reasm {
	uint64_t base; /* offset of the first byte not consumed */
	size_t limit;  /* bytes kept at offsets [base, base + limit) */
	uint8_t *buf;  /* the byte at offset base is buf[head] */
	size_t head, cap;
	size_t dirty; /* buf[0..dirty) was ever written: what a wipe must cover */
	struct rs_range
	    *ranges; /* present bytes at or beyond base: sorted, disjoint, not adjacent */
	size_t nranges;
	uint64_t dropped; /* bytes refused by the bounds */
};

void reasm_init(struct reasm *r, uint64_t base, size_t limit);

/* Wipe (the buffer may hold plaintext) and free. */
void reasm_free(struct reasm *r);

/* Give the buffers back if no byte is held; it grows again on use. */
void reasm_shrink(struct reasm *r);

/*
 * Store len bytes at offset off; bytes before base are ignored (duplicates).
 * Returns TC_OK or TC_E_NOMEM.
 */
int reasm_insert(struct reasm *r, uint64_t off, const uint8_t *data, size_t len);

/* Contiguous bytes present at base, and where they are. */
size_t reasm_ready(const struct reasm *r);
const uint8_t *reasm_data(const struct reasm *r);

/* Consume n <= reasm_ready() bytes: base moves on. */
void reasm_consume(struct reasm *r, size_t n);

/* Offset after the highest byte held (base if none). */
uint64_t reasm_end(const struct reasm *r);

#endif
