/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the frame decoder (RFC 8548 §4.2).
 *
 * 1. Decode the input as a peer's stream under a fixed key, once in one piece
 *    and once cut at pseudo-random boundaries: both must deliver the same
 *    frames and end in the same state.
 * 2. Use the input as a script for the encoder (frame sizes, URGp, rekeys,
 *    FINp), decode the result with random cuts, and require it back intact.
 */
#include <stdlib.h>
#include <string.h>
#include "core/err.h"
#include "core/frame.h"
#include "fuzz_common.h"

struct outcome {
	uint8_t digest[1 << 18]; /* delivered data, bounded */
	size_t len, frames;
	int final_err;
	uint64_t gens;
};

static struct tc_frame_dec dec;
static struct outcome one, cut;

/* Feed in[0..len) in chunks (max_chunk 0: all at once) and record what comes out. */
static void decode(const struct tc_aead_alg *alg, const uint8_t *in, size_t len, uint32_t seed,
		   size_t max_chunk, struct outcome *o)
{
	size_t pos = 0;
	int err = TC_E_NEED_MORE;

	o->len = o->frames = o->gens = 0;
	if (tc_frame_dec_init(&dec, alg, FUZZ_MK0, ENO_ROLE_B, 0))
		abort();
	while (pos < len) {
		size_t chunk = max_chunk ? 1 + fuzz_rand(&seed) % max_chunk : len - pos;
		size_t off = 0, used;
		struct tc_frame_msg msg;

		chunk = chunk < len - pos ? chunk : len - pos;
		while (off < chunk) {
			err = tc_frame_dec_feed(&dec, in + pos + off, chunk - off, &used, &msg);
			off += used;
			if (err == TC_E_NEED_MORE)
				break;
			if (err != TC_OK)
				goto out;
			if (msg.len > sizeof(o->digest) - o->len)
				abort();
			memcpy(o->digest + o->len, msg.data, msg.len);
			o->len += msg.len;
			o->frames++;
			o->gens += msg.gen;
		}
		pos += chunk;
	}
	err = tc_frame_dec_fin(&dec, len);
out:
	o->final_err = err;
	tc_frame_dec_free(&dec);
}

static void check_same(const struct outcome *a, const struct outcome *b)
{
	if (a->len != b->len || a->frames != b->frames || a->final_err != b->final_err ||
	    a->gens != b->gens || memcmp(a->digest, b->digest, a->len) != 0)
		abort();
}

/* 2. Encoder script: each step reads one op byte and maybe a length. */
static void roundtrip(const struct tc_aead_alg *alg, const uint8_t *s, size_t n, uint32_t seed)
{
	static uint8_t stream[1 << 20], plain[1 << 18];
	struct tc_frame_enc enc;
	size_t slen = 0, plen = 0, i = 0;
	int frames = 0;
	bool fin;

	if (tc_frame_enc_init(&enc, alg, FUZZ_MK0, ENO_ROLE_A, 0))
		abort();
	while (i < n && frames < 64) {
		uint8_t op = s[i++];
		size_t len = op >> 3;
		uint8_t flags = 0;
		int r;

		if ((op & 3) == 1)
			tc_frame_enc_rekey(&enc);
		if ((op & 3) == 2)
			flags |= TC_FRAME_URGP;
		if ((op & 3) == 3 && i + 1 < n) {
			len = (size_t)(s[i] << 8 | s[i + 1]) % 4096;
			i += 2;
		}
		if (i >= n)
			flags |= TC_FRAME_FINP;
		memset(plain + plen, frames, len);
		r = tc_frame_seal(&enc, plain + plen, len, flags, op, stream + slen,
				  sizeof(stream) - slen);
		if (r < 0)
			abort();
		slen += r;
		plen += len;
		frames++;
		/* The peer answers rekeys at once; pretend it did. */
		tc_frame_enc_sync(&enc, enc.local_gen);
	}
	fin = enc.fin_sent;
	tc_frame_enc_free(&enc);
	decode(alg, stream, slen, seed, 1 + seed % 3000, &cut);
	if (cut.len != plen || memcmp(cut.digest, plain, plen) != 0)
		abort();
	if (cut.final_err != (fin ? TC_OK : TC_E_FIN_NO_FINP))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct tc_aead_alg *alg;
	uint32_t seed;

	if (size < 1)
		return 0;
	alg = tc_aead_find(fuzz_aeads[data[0] % 3]);
	seed = 0x9e3779b9u ^ data[0];
	decode(alg, data + 1, size - 1, seed, 0, &one);
	decode(alg, data + 1, size - 1, seed, 1 + data[0] % 97, &cut);
	check_same(&one, &cut);
	roundtrip(alg, data + 1, size - 1, seed);
	return 0;
}
