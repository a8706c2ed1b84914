/* SPDX-License-Identifier: MIT */
/* Acknowledgement store with the wire/plaintext unit map. */
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include "core/err.h"
#include "dp/sentq.h"

/* Small at first: an idle flow holds a few units; a bulk one doubles its way up. */
#define SQ_CAP_MIN  4096
#define SQ_ENDS_MIN 64

void sq_init(struct sentq *q, enum sq_space space, struct sq_pos base)
{
	memset(q, 0, sizeof(*q));
	q->space = space;
	q->base = base;
}

/*
 * A plaintext buffer is wiped when it is given up (the flow ends, or it
 * grows), not byte by byte as the peer acknowledges: that cost the bulk
 * path several percent.  Ciphertext went on the wire: never wiped.
 */
static void wipe(const struct sentq *q, uint8_t *p, size_t n)
{
	if (q->space == SQ_PLAIN && p)
		OPENSSL_cleanse(p, n);
}

void sq_free(struct sentq *q)
{
	wipe(q, q->buf, q->dirty);
	free(q->buf);
	free(q->ends);
	memset(q, 0, sizeof(*q));
}

void sq_shrink(struct sentq *q)
{
	if (q->len || q->nends)
		return;
	wipe(q, q->buf, q->dirty);
	free(q->buf);
	free(q->ends);
	q->buf = NULL;
	q->ends = NULL;
	q->cap = q->head = q->ends_cap = q->ends_head = q->dirty = 0;
}

uint64_t sq_end(const struct sentq *q)
{
	return q->base.off[q->space] + q->len;
}

const uint8_t *sq_bytes(const struct sentq *q, uint64_t off)
{
	return q->buf + q->head + (off - q->base.off[q->space]);
}

uint8_t *sq_reserve(struct sentq *q, size_t n)
{
	uint8_t *buf;
	size_t cap;

	if (q->head + q->len + n <= q->cap)
		return q->buf + q->head + q->len;
	/* Slide the kept bytes to the front when at most half is in use; else grow. */
	if (q->len + n <= q->cap / 2) {
		memmove(q->buf, q->buf + q->head, q->len);
		q->head = 0;
		return q->buf + q->len;
	}
	for (cap = q->cap ? q->cap : SQ_CAP_MIN; cap < 2 * (q->len + n); cap *= 2)
		;
	buf = malloc(cap);
	if (!buf)
		return NULL;
	if (q->len)
		memcpy(buf, q->buf + q->head, q->len);
	wipe(q, q->buf, q->dirty);
	free(q->buf);
	q->buf = buf;
	q->cap = cap;
	q->head = 0;
	q->dirty = q->len;
	return q->buf + q->len;
}

void sq_commit(struct sentq *q, size_t n)
{
	q->len += n;
	if (q->head + q->len > q->dirty)
		q->dirty = q->head + q->len;
}

static const struct sq_pos *end_at(const struct sentq *q, size_t i)
{
	return &q->ends[q->ends_head + i];
}

int sq_mark(struct sentq *q, struct sq_pos end)
{
	if (q->ends_head + q->nends == q->ends_cap) {
		size_t cap = q->ends_cap ? q->ends_cap : SQ_ENDS_MIN;
		struct sq_pos *ends;

		if (q->nends * 2 > cap)
			cap *= 2;
		ends = malloc(cap * sizeof(*ends));
		if (!ends)
			return TC_E_NOMEM;
		if (q->nends)
			memcpy(ends, end_at(q, 0), q->nends * sizeof(*ends));
		free(q->ends);
		q->ends = ends;
		q->ends_cap = cap;
		q->ends_head = 0;
	}
	q->ends[q->ends_head + q->nends++] = end;
	return TC_OK;
}

struct sq_pos sq_last(const struct sentq *q)
{
	return q->nends ? *end_at(q, q->nends - 1) : q->base;
}

/* Index of the first kept boundary past x in space s (nends if none). */
static size_t upper(const struct sentq *q, enum sq_space s, uint64_t x)
{
	size_t lo = 0, hi = q->nends;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (end_at(q, mid)->off[s] <= x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Boundary i - 1 (the base for i = 0). */
static struct sq_pos before(const struct sentq *q, size_t i)
{
	return i ? *end_at(q, i - 1) : q->base;
}

struct sq_pos sq_floor(const struct sentq *q, enum sq_space s, uint64_t x)
{
	return before(q, upper(q, s, x));
}

bool sq_span(const struct sentq *q, enum sq_space s, uint64_t lo, uint64_t hi, struct sq_pos *start,
	     struct sq_pos *end)
{
	size_t first = upper(q, s, lo), last = upper(q, s, hi - 1);

	if (hi <= q->base.off[s] || last == q->nends)
		return false;
	*start = before(q, first);
	*end = *end_at(q, last);
	return true;
}

bool sq_inner(const struct sentq *q, enum sq_space s, uint64_t lo, uint64_t hi,
	      struct sq_pos *start, struct sq_pos *end)
{
	size_t first = lo <= q->base.off[s] ? 0 : upper(q, s, lo - 1) + 1;

	if (first > q->nends)
		return false;
	*start = before(q, first);
	*end = sq_floor(q, s, hi);
	return start->off[s] < end->off[s];
}

void sq_trim(struct sentq *q, enum sq_space s, uint64_t x)
{
	size_t n = upper(q, s, x), drop;
	uint64_t start = q->base.off[q->space];

	if (!n)
		return;
	q->base = *end_at(q, n - 1);
	q->ends_head += n;
	q->nends -= n;
	if (!q->nends)
		q->ends_head = 0;
	drop = q->base.off[q->space] - start;
	q->head += drop;
	q->len -= drop;
}
