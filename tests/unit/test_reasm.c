/* SPDX-License-Identifier: MIT */
/*
 * The translator's buffers: reassembly against a byte-map model under random
 * overlapping, duplicated, out-of-order inserts with bounds; the store's
 * unit map (floor, span, trim) with Init, empty and data units.
 */
#include <stdint.h>
#include <stdlib.h>
#include "t.h"
#include "core_util.h"
#include "core/err.h"
#include "dp/reasm.h"
#include "dp/sentq.h"

#define STREAM (256 * 1024)

T(reasm_random_model)
{
	static uint8_t src[STREAM], got[STREAM];
	static uint8_t have[STREAM];
	uint32_t seed = 0x5eed1234;

	test_fill(src, sizeof(src), &seed);
	for (int round = 0; round < 20; round++) {
		size_t limit = round % 2 ? 70000 : 4096 + test_rand(&seed) % 8192;
		uint64_t start = round % 3 ? 0 : (1ull << 32) - 1000;
		size_t taken = 0;
		struct reasm r;

		reasm_init(&r, start, limit);
		memset(have, 0, sizeof(have));
		while (taken < STREAM) {
			size_t off = taken + test_rand(&seed) % (limit + 2000);
			size_t len = 1 + test_rand(&seed) % 3000, ready, exp = 0;

			if (test_rand(&seed) % 4 == 0 && taken > 10)
				off = taken - 1 -
				      test_rand(&seed) % 10; /* overlaps the consumed part */
			if (off >= STREAM)
				continue;
			if (off + len > STREAM)
				len = STREAM - off;
			CHECK_EQ(reasm_insert(&r, start + off, src + off, len), TC_OK);
			for (size_t i = off; i < off + len && i < taken + limit; i++)
				if (i >= taken)
					have[i] = 1;
			while (taken + exp < STREAM && have[taken + exp])
				exp++;
			ready = reasm_ready(&r);
			/* The hole bound may refuse a range the model kept: never more. */
			CHECK(ready <= exp);
			if (ready != exp) {
				/* Refill what the bound refused, in order, to go on. */
				CHECK_EQ(reasm_insert(&r, start + taken, src + taken, exp), TC_OK);
				ready = reasm_ready(&r);
				CHECK(ready >= exp);
			}
			memcpy(got + taken, reasm_data(&r), ready);
			CHECK_MEM(got + taken, src + taken, ready);
			for (size_t i = taken; i < taken + ready; i++)
				have[i] = 1;
			/* Consume part of it, sometimes all. */
			ready = test_rand(&seed) % 2 ? ready : ready / 2;
			reasm_consume(&r, ready);
			taken += ready;
			CHECK_EQ(r.base, start + taken);
			CHECK(r.nranges <= RS_MAX_HOLES);
		}
		reasm_free(&r);
	}
}

T(reasm_bounds_and_holes)
{
	uint8_t b[16] = "abcdefghijklmnop";
	struct reasm r;

	reasm_init(&r, 100, 10);
	CHECK_EQ(reasm_insert(&r, 105, b, 16), TC_OK);
	CHECK_EQ(r.dropped, 11); /* [110, 121) is beyond base + limit */
	CHECK_EQ(reasm_end(&r), 110);
	CHECK_EQ(reasm_ready(&r), 0);
	CHECK_EQ(reasm_insert(&r, 90, b, 15), TC_OK); /* [90, 100) already consumed */
	CHECK_EQ(reasm_ready(&r), 10);
	CHECK_MEM(reasm_data(&r), "klmnoabcde", 10);
	reasm_consume(&r, 10);
	CHECK_EQ(reasm_ready(&r), 0);
	CHECK_EQ(r.nranges, 0);
	reasm_free(&r);

	/* Every other byte: the hole bound stops new ranges, merges still work. */
	reasm_init(&r, 0, 1 << 20);
	for (int i = 0; i < 2 * RS_MAX_HOLES + 10; i++)
		CHECK_EQ(reasm_insert(&r, 2 * i + 1, b, 1), TC_OK);
	CHECK_EQ(r.nranges, RS_MAX_HOLES);
	CHECK_EQ(r.dropped, RS_MAX_HOLES + 10);
	for (int i = 0; i < RS_MAX_HOLES; i++)
		CHECK_EQ(reasm_insert(&r, 2 * i, b, 1), TC_OK);
	CHECK_EQ(reasm_ready(&r), 2 * RS_MAX_HOLES);
	reasm_free(&r);
}

/*
 * Units of a wire stream: Init (75 wire bytes, no plaintext), frames of 30,
 * 0 (empty: rekey reply) and 100 plaintext bytes (+20 on the wire each).
 */
static void sq_fill(struct sentq *q)
{
	static const struct sq_pos ends[] = {
	    {{75, 0}},
	    {{125, 30}},
	    {{145, 30}},
	    {{265, 130}},
	};
	uint8_t *p = sq_reserve(q, 265);

	for (int i = 0; i < 265; i++)
		p[i] = (uint8_t)i;
	sq_commit(q, 265);
	for (size_t i = 0; i < sizeof(ends) / sizeof(ends[0]); i++)
		CHECK_EQ(sq_mark(q, ends[i]), TC_OK);
}

T(sentq_map)
{
	struct sentq q;
	struct sq_pos a, b;

	sq_init(&q, SQ_WIRE, (struct sq_pos){{0, 0}});
	sq_fill(&q);
	CHECK_EQ(sq_end(&q), 265);
	/* Wire ACK -> plaintext: only whole units count. */
	CHECK_EQ(sq_floor(&q, SQ_WIRE, 74).off[SQ_PLAIN], 0);
	CHECK_EQ(sq_floor(&q, SQ_WIRE, 124).off[SQ_PLAIN], 0);
	CHECK_EQ(sq_floor(&q, SQ_WIRE, 125).off[SQ_PLAIN], 30);
	CHECK_EQ(sq_floor(&q, SQ_WIRE, 264).off[SQ_PLAIN], 30);
	CHECK_EQ(sq_floor(&q, SQ_WIRE, 265).off[SQ_PLAIN], 130);
	/* Plaintext ACK -> wire: the empty frame after 30 counts as acked with 30. */
	CHECK_EQ(sq_floor(&q, SQ_PLAIN, 0).off[SQ_WIRE], 75);
	CHECK_EQ(sq_floor(&q, SQ_PLAIN, 29).off[SQ_WIRE], 75);
	CHECK_EQ(sq_floor(&q, SQ_PLAIN, 30).off[SQ_WIRE], 145);
	/* Plaintext range -> the wire units holding it. */
	CHECK(sq_span(&q, SQ_PLAIN, 10, 40, &a, &b));
	CHECK_EQ(a.off[SQ_WIRE], 75);
	CHECK_EQ(b.off[SQ_WIRE], 265);
	CHECK(sq_span(&q, SQ_PLAIN, 30, 31, &a, &b));
	CHECK_EQ(a.off[SQ_WIRE], 145);
	CHECK(!sq_span(&q, SQ_PLAIN, 100, 131, &a, &b));
	/* Wire range -> plaintext. */
	CHECK(sq_span(&q, SQ_WIRE, 130, 140, &a, &b));
	CHECK_EQ(a.off[SQ_PLAIN], 30);
	CHECK_EQ(b.off[SQ_PLAIN], 30);
	/* Trim at a wire ACK in the middle of the last frame: up to the empty one. */
	sq_trim(&q, SQ_WIRE, 200);
	CHECK_EQ(q.base.off[SQ_WIRE], 145);
	CHECK_EQ(q.len, 120);
	CHECK_EQ(*sq_bytes(&q, 145), 145);
	CHECK_EQ(sq_floor(&q, SQ_WIRE, 200).off[SQ_PLAIN], 30);
	CHECK(!sq_span(&q, SQ_WIRE, 0, 145, &a, &b));
	CHECK(sq_span(&q, SQ_WIRE, 0, 146, &a, &b));
	CHECK_EQ(a.off[SQ_WIRE], 145);
	sq_trim(&q, SQ_WIRE, 265);
	CHECK_EQ(q.len, 0);
	CHECK_EQ(sq_last(&q).off[SQ_PLAIN], 130);
	sq_free(&q);
}

T(sentq_growth)
{
	struct sentq q;
	uint64_t w = 0;

	/* Many units, trimmed as they go: the map and the bytes stay bounded. */
	sq_init(&q, SQ_PLAIN, (struct sq_pos){{0, 0}});
	for (int i = 0; i < 100000; i++) {
		uint8_t *p = sq_reserve(&q, 1000);

		CHECK(p != NULL);
		memset(p, i, 1000);
		sq_commit(&q, 1000);
		w += 1020;
		CHECK_EQ(sq_mark(&q, (struct sq_pos){{w, sq_end(&q)}}), TC_OK);
		if (i % 7 == 6)
			sq_trim(&q, SQ_PLAIN, sq_end(&q) - 3000);
	}
	CHECK(q.cap <= 256 * 1024);
	CHECK(q.ends_cap <= 1024);
	CHECK_EQ(*sq_bytes(&q, sq_end(&q) - 1), (uint8_t)99999);
	sq_free(&q);
}
