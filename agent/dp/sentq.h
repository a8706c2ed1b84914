/* SPDX-License-Identifier: MIT */
/*
 * Bytes handed on and kept until acknowledged, with the map between the two
 * sequence spaces of a tcpcrypt flow (docs/architecture.md#two-sequence-spaces).  The stream
 * is cut into units: the Init message and the frames (RFC 8548 §3.3, §3.6).
 * Each kept unit records where it ends in both spaces, the wire (ciphertext
 * stream) and the plaintext; an Init or an empty frame ends at the same
 * plaintext offset as the unit before it.
 *
 * The translator keeps one store per direction: towards the wire it holds the
 * ciphertext sent until the peer acknowledges it (a retransmission resends
 * the same bytes, §3.8); towards the local kernel it holds the plaintext
 * injected until the kernel acknowledges it.
 */
#ifndef TCPCRYPT_DP_SENTQ_H
#define TCPCRYPT_DP_SENTQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum sq_space {
	SQ_WIRE = 0,  /* the framed stream: Init message and frames */
	SQ_PLAIN = 1, /* the application stream */
};

/* A unit boundary: the same point of the stream in both spaces. */
struct sq_pos {
	uint64_t off[2]; /* indexed by enum sq_space */
};

struct sentq {
	enum sq_space space; /* the space of the stored bytes */
	struct sq_pos base;  /* the end of the last unit forgotten: where the store starts */
	struct sq_pos *ends; /* ends of the units kept, in order; ends[head..head+n) */
	size_t ends_head, nends, ends_cap;
	uint8_t *buf; /* bytes from base.off[space]: buf[head..head+len) */
	size_t head, len, cap;
	size_t dirty; /* buf[0..dirty) was ever written: what a wipe must cover */
};

void sq_init(struct sentq *q, enum sq_space space, struct sq_pos base);

/* Wipe (the bytes may be plaintext) and free. */
void sq_free(struct sentq *q);

/* Give the buffers back if the store is empty; its positions stay, and it grows again on use. */
void sq_shrink(struct sentq *q);

/* Room for n more bytes at the end (written by the caller, then sq_commit); NULL: no memory. */
uint8_t *sq_reserve(struct sentq *q, size_t n);
void sq_commit(struct sentq *q, size_t n);

/* Offset after the stored bytes, in the store's space. */
uint64_t sq_end(const struct sentq *q);

/* Stored bytes at [off, off + len), which must lie in the store. */
const uint8_t *sq_bytes(const struct sentq *q, uint64_t off);

/* A unit ends at end (in the store's space at most sq_end()).  TC_OK or TC_E_NOMEM. */
int sq_mark(struct sentq *q, struct sq_pos end);

/* The last boundary: the end of the last unit kept, or the base. */
struct sq_pos sq_last(const struct sentq *q);

/* The last boundary at or before x in space s (the base if none is). */
struct sq_pos sq_floor(const struct sentq *q, enum sq_space s, uint64_t x);

/*
 * The whole units inside [lo, hi) of space s: *start is the first boundary at
 * or after lo, *end the last at or before hi.  False when no unit kept lies
 * wholly inside (a SACK block, RFC 2018, translated rounding inwards).
 */
bool sq_inner(const struct sentq *q, enum sq_space s, uint64_t lo, uint64_t hi,
	      struct sq_pos *start, struct sq_pos *end);

/*
 * The units that hold [lo, hi) of space s (lo < hi): *start is the boundary
 * before the first of them, *end the boundary after the last.  False when they were all forgotten
 * or when hi reaches beyond the last boundary.
 */
bool sq_span(const struct sentq *q, enum sq_space s, uint64_t lo, uint64_t hi, struct sq_pos *start,
	     struct sq_pos *end);

/* Forget the units that end at or before x in space s, and their bytes. */
void sq_trim(struct sentq *q, enum sq_space s, uint64_t x);

#endif
