/* SPDX-License-Identifier: MIT */
/* Out-of-order reassembly of one byte stream with a bounded buffer. */
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include "core/err.h"
#include "dp/reasm.h"

/* Small at first: an idle flow holds a few bytes; a bulk one doubles its way up. */
#define RS_CAP_MIN 4096

void reasm_init(struct reasm *r, uint64_t base, size_t limit)
{
	memset(r, 0, sizeof(*r));
	r->base = base;
	r->limit = limit;
}

void reasm_free(struct reasm *r)
{
	if (r->buf)
		OPENSSL_cleanse(r->buf, r->dirty);
	free(r->buf);
	free(r->ranges);
	memset(r, 0, sizeof(*r));
}

void reasm_shrink(struct reasm *r)
{
	if (r->nranges)
		return;
	if (r->buf)
		OPENSSL_cleanse(r->buf, r->dirty);
	free(r->buf);
	free(r->ranges);
	r->buf = NULL;
	r->ranges = NULL;
	r->cap = r->head = r->dirty = 0;
}

uint64_t reasm_end(const struct reasm *r)
{
	return r->nranges ? r->ranges[r->nranges - 1].hi : r->base;
}

size_t reasm_ready(const struct reasm *r)
{
	return r->nranges && r->ranges[0].lo == r->base ? r->ranges[0].hi - r->base : 0;
}

const uint8_t *reasm_data(const struct reasm *r)
{
	return r->buf ? r->buf + r->head : (const uint8_t *)"";
}

/* Room for bytes up to offset end: slide the held bytes to the front, then grow. */
static int reserve(struct reasm *r, uint64_t end)
{
	size_t need = end - r->base, held = reasm_end(r) - r->base;
	uint8_t *buf;
	size_t cap;

	if (r->head + need <= r->cap)
		return TC_OK;
	if (r->head) {
		memmove(r->buf, r->buf + r->head, held);
		r->head = 0;
	}
	if (need <= r->cap)
		return TC_OK;
	for (cap = r->cap ? r->cap : RS_CAP_MIN; cap < need; cap *= 2)
		;
	/* not realloc: the old buffer is wiped before it goes */
	buf = malloc(cap);
	if (!buf)
		return TC_E_NOMEM;
	if (held)
		memcpy(buf, r->buf, held);
	if (r->buf)
		OPENSSL_cleanse(r->buf, r->dirty);
	free(r->buf);
	r->buf = buf;
	r->cap = cap;
	r->dirty = held;
	return TC_OK;
}

int reasm_insert(struct reasm *r, uint64_t off, const uint8_t *data, size_t len)
{
	uint64_t lo, hi, edge = r->base + r->limit;
	size_t first, last, n;
	int err;

	if (off + len <= r->base)
		return TC_OK;
	if (off < r->base) {
		data += r->base - off;
		len -= r->base - off;
		off = r->base;
	}
	if (off + len > edge) {
		size_t cut = off >= edge ? len : off + len - edge;

		r->dropped += cut;
		len -= cut;
	}
	if (!len)
		return TC_OK;
	lo = off;
	hi = off + len;
	/* Ranges [first, last) touch the new bytes and merge with them. */
	for (first = 0; first < r->nranges && r->ranges[first].hi < lo; first++)
		;
	for (last = first; last < r->nranges && r->ranges[last].lo <= hi; last++)
		;
	if (first == last && r->nranges == RS_MAX_HOLES) {
		r->dropped += len;
		return TC_OK;
	}
	if (!r->ranges) {
		r->ranges = malloc(RS_MAX_HOLES * sizeof(*r->ranges));
		if (!r->ranges)
			return TC_E_NOMEM;
	}
	err = reserve(r, hi);
	if (err)
		return err;
	memcpy(r->buf + r->head + (off - r->base), data, len);
	if (r->head + (off - r->base) + len > r->dirty)
		r->dirty = r->head + (off - r->base) + len;
	if (first < last) {
		lo = lo < r->ranges[first].lo ? lo : r->ranges[first].lo;
		hi = hi > r->ranges[last - 1].hi ? hi : r->ranges[last - 1].hi;
	}
	n = r->nranges - last;
	memmove(&r->ranges[first + 1], &r->ranges[last], n * sizeof(*r->ranges));
	r->ranges[first] = (struct rs_range){lo, hi};
	r->nranges = first + 1 + n;
	return TC_OK;
}

void reasm_consume(struct reasm *r, size_t n)
{
	if (!n)
		return;
	r->base += n;
	r->head += n;
	r->ranges[0].lo += n;
	if (r->ranges[0].lo == r->ranges[0].hi) {
		r->nranges--;
		memmove(&r->ranges[0], &r->ranges[1], r->nranges * sizeof(*r->ranges));
	}
	if (!r->nranges)
		r->head = 0;
}
