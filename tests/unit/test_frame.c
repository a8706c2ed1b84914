/* SPDX-License-Identifier: MIT */
/* Frames, streaming decoder, rekeying, end of stream (RFC 8548 §3.6-§3.9, §4.2). */
#include "core/aead.h"
#include "core/err.h"
#include "core/frame.h"
#include "core_util.h"
#include "t.h"

static const uint8_t MK0[32] = {0x4d, 0x4b, 0x30};

/* One direction: A's encoder and B's decoder, the first frame at offset 75. */
struct pipe {
	struct tc_frame_enc enc;
	struct tc_frame_dec *dec;
};

static void pipe_init(struct pipe *p, uint16_t aead, uint64_t offset)
{
	const struct tc_aead_alg *alg = tc_aead_find(aead);

	p->dec = calloc(1, sizeof(*p->dec));
	CHECK_EQ(tc_frame_enc_init(&p->enc, alg, MK0, ENO_ROLE_A, offset), TC_OK);
	CHECK_EQ(tc_frame_dec_init(p->dec, alg, MK0, ENO_ROLE_B, offset), TC_OK);
}

static void pipe_free(struct pipe *p)
{
	tc_frame_enc_free(&p->enc);
	tc_frame_dec_free(p->dec);
	free(p->dec);
}

/* What a decoder produced for a whole stream. */
struct result {
	uint8_t data[1 << 17];
	size_t len;
	int frames, rekeys, err;
	uint8_t last_flags;
	uint16_t last_urgent;
};

/*
 * Feed stream[0..len) in chunks (cut: 0 = one piece, else chunk sizes from
 * the seed in 1..cut), then report the TCP FIN at the end of the stream.
 */
static void run(struct tc_frame_dec *d, const uint8_t *stream, size_t len, size_t cut,
		uint32_t seed, uint64_t offset, struct result *r)
{
	size_t pos = 0;

	r->len = r->frames = r->rekeys = 0;
	r->err = TC_E_NEED_MORE;
	while (pos < len) {
		size_t chunk = cut ? 1 + test_rand(&seed) % cut : len;
		size_t off = 0;

		chunk = chunk < len - pos ? chunk : len - pos;
		while (off < chunk) {
			struct tc_frame_msg msg;
			size_t used;

			r->err = tc_frame_dec_feed(d, stream + pos + off, chunk - off, &used, &msg);
			off += used;
			if (r->err == TC_E_NEED_MORE)
				break;
			if (r->err != TC_OK)
				return;
			memcpy(r->data + r->len, msg.data, msg.len);
			r->len += msg.len;
			r->frames++;
			r->rekeys += msg.rekey;
			r->last_flags = msg.flags;
			r->last_urgent = msg.urgent;
		}
		pos += chunk;
	}
	r->err = tc_frame_dec_fin(d, offset + len);
}

/* Seal frames of the given data sizes (the last with FINp) into out. */
static size_t seal_stream(struct tc_frame_enc *e, const uint8_t *data, const size_t *sizes, int n,
			  uint8_t *out, size_t cap)
{
	size_t len = 0, at = 0;

	for (int i = 0; i < n; i++) {
		int r = tc_frame_seal(e, data + at, sizes[i], i == n - 1 ? TC_FRAME_FINP : 0, 0,
				      out + len, cap - len);

		CHECK_EQ(r, (int)tc_frame_len(sizes[i], false));
		len += r > 0 ? r : 0;
		at += sizes[i];
	}
	return len;
}

static uint8_t stream[1 << 17], data[1 << 17];
static struct result want, got;

T(roundtrip_every_aead)
{
	static const size_t sizes[] = {0, 1, 1400, 17, 65518, 300, 5};
	uint32_t seed = 1;

	test_fill(data, sizeof(data), &seed);
	for (size_t a = 0; a < tc_aead_default_pref_len; a++) {
		struct pipe p;
		size_t len, total = 0;

		pipe_init(&p, tc_aead_default_pref[a], 75);
		len = seal_stream(&p.enc, data, sizes, 7, stream, sizeof(stream));
		for (int i = 0; i < 7; i++)
			total += sizes[i];
		CHECK_EQ(len, total + 7 * TC_FRAME_OVERHEAD);
		CHECK_EQ(p.enc.offset, 75 + len);
		run(p.dec, stream, len, 0, 0, 75, &got);
		CHECK_EQ(got.err, TC_OK);
		CHECK_EQ(got.frames, 7);
		CHECK_EQ(got.len, total);
		CHECK_MEM(got.data, data, total);
		CHECK_EQ(got.last_flags, TC_FRAME_FINP);
		pipe_free(&p);
	}
}

T(size_limits)
{
	struct pipe p;
	uint8_t small[30];

	pipe_init(&p, TC_AEAD_AES_128_GCM, 0);
	CHECK_EQ(tc_frame_seal(&p.enc, data, TC_FRAME_DATA_MAX + 1, 0, 0, stream, sizeof(stream)),
		 TC_E_TOO_LONG);
	CHECK_EQ(tc_frame_seal(&p.enc, data, TC_FRAME_URG_DATA_MAX + 1, TC_FRAME_URGP, 0, stream,
			       sizeof(stream)),
		 TC_E_TOO_LONG);
	CHECK_EQ(tc_frame_seal(&p.enc, data, 11, 0, 0, small, sizeof(small)), TC_E_NOSPACE);
	CHECK_EQ(tc_frame_seal(&p.enc, data, 1, 0x04, 0, stream, sizeof(stream)), TC_E_INVAL);
	CHECK_EQ(tc_frame_seal(&p.enc, data, TC_FRAME_DATA_MAX, 0, 0, stream, sizeof(stream)),
		 TC_FRAME_MAX_LEN);
	CHECK_EQ(stream[1], 0xff);
	CHECK_EQ(stream[2], 0xff);
	CHECK_EQ(p.enc.offset, TC_FRAME_MAX_LEN); /* failed calls used no offset */
	pipe_free(&p);
}

T(urgent_and_reserved_bits)
{
	struct pipe p;
	struct tc_frame_msg msg;
	size_t used;
	int n;

	pipe_init(&p, TC_AEAD_CHACHA20_POLY1305, 0);
	n = tc_frame_seal(&p.enc, (const uint8_t *)"abc", 3, TC_FRAME_URGP, 0x1234, stream, 100);
	CHECK_EQ(n, 25);
	CHECK_EQ(tc_frame_dec_feed(p.dec, stream, n, &used, &msg), TC_OK);
	CHECK_EQ(msg.flags, TC_FRAME_URGP);
	CHECK_EQ(msg.urgent, 0x1234);
	CHECK_EQ(msg.len, 3);
	CHECK_MEM(msg.data, "abc", 3);
	/* Reserved control bits are authenticated as AD: any change fails (§4.2). */
	n = tc_frame_seal(&p.enc, (const uint8_t *)"x", 1, 0, 0, stream, 100);
	stream[0] |= 0x80;
	CHECK_EQ(tc_frame_dec_feed(p.dec, stream, n, &used, &msg), TC_E_AUTH);
	pipe_free(&p);
}

/* Raw frame with any control byte and plaintext under A's key set 0 (for malformed ones). */
static size_t raw_frame(uint8_t control, const uint8_t *pt, size_t pt_len, uint64_t offset,
			uint8_t *out)
{
	const struct tc_aead_alg *alg = tc_aead_find(TC_AEAD_AES_128_GCM);
	struct tc_aead s = {0};
	struct tc_tk tk;
	uint8_t nonce[12];
	size_t clen = pt_len + 16;

	CHECK_EQ(tc_traffic_key(MK0, TC_CONST_KEY_A, 16, 12, &tk), TC_OK);
	memcpy(nonce, tk.nr, 12);
	for (int i = 0; i < 8; i++)
		nonce[11 - i] ^= (uint8_t)(offset >> (8 * i));
	out[0] = control;
	out[1] = clen >> 8;
	out[2] = clen & 0xff;
	CHECK_EQ(tc_aead_init(&s, alg, tk.key, true), TC_OK);
	CHECK_EQ(tc_aead_seal(&s, nonce, out, 3, pt, pt_len, out + 3), TC_OK);
	tc_aead_free(&s);
	return 3 + clen;
}

T(malformed_frames)
{
	struct pipe p;
	struct tc_frame_msg msg;
	size_t used, n;
	const uint8_t urg_short[2] = {TC_FRAME_URGP, 0x00};

	/* clen < 17: no room for flags and tag.  Seen as soon as clen arrives. */
	for (int clen = 0; clen < 17; clen++) {
		uint8_t hdr[3] = {0, 0, clen};

		pipe_init(&p, TC_AEAD_AES_128_GCM, 0);
		CHECK_EQ(tc_frame_dec_feed(p.dec, hdr, 2, &used, &msg), TC_E_NEED_MORE);
		CHECK_EQ(tc_frame_dec_feed(p.dec, hdr + 2, 1, &used, &msg), TC_E_MALFORMED);
		CHECK_EQ(tc_frame_dec_feed(p.dec, hdr, 3, &used, &msg),
			 TC_E_MALFORMED); /* sticks */
		pipe_free(&p);
	}
	/* URGp without room for the urgent field: authentic, but not a valid frame. */
	for (size_t len = 1; len <= 2; len++) {
		pipe_init(&p, TC_AEAD_AES_128_GCM, 0);
		n = raw_frame(0, urg_short, len, 0, stream);
		CHECK_EQ(tc_frame_dec_feed(p.dec, stream, n, &used, &msg), TC_E_MALFORMED);
		pipe_free(&p);
	}
	/* An empty plaintext (clen 16) is impossible to build by sealing; clen 17 is the floor. */
	pipe_init(&p, TC_AEAD_AES_128_GCM, 0);
	n = raw_frame(0, urg_short + 1, 1, 0, stream);
	CHECK_EQ(tc_frame_dec_feed(p.dec, stream, n, &used, &msg), TC_OK);
	CHECK_EQ(msg.len, 0);
	pipe_free(&p);
}

/* Flip each byte of a frame in the middle of a stream: never delivered, always an error. */
T(any_flipped_byte_is_detected)
{
	static const size_t sizes[] = {10, 40, 10};
	const size_t first = tc_frame_len(10, false), second = tc_frame_len(40, false);

	for (size_t a = 0; a < tc_aead_default_pref_len; a++) {
		struct pipe p;
		size_t len;

		pipe_init(&p, tc_aead_default_pref[a], 75);
		len = seal_stream(&p.enc, data, sizes, 3, stream, sizeof(stream));
		pipe_free(&p);
		for (size_t i = first; i < first + second; i++) {
			for (int bit = 0; bit < 8; bit += 3) {
				pipe_init(&p, tc_aead_default_pref[a], 75);
				stream[i] ^= 1 << bit;
				run(p.dec, stream, len, 0, 0, 75, &got);
				stream[i] ^= 1 << bit;
				CHECK(got.err == TC_E_AUTH || got.err == TC_E_MALFORMED ||
				      got.err == TC_E_FIN_NO_FINP);
				CHECK(tc_err_is_abort(got.err));
				CHECK_EQ(got.frames, 1); /* only the untouched first frame */
				CHECK_EQ(got.len, 10);
				pipe_free(&p);
			}
		}
	}
}

/* Nonces depend on the stream offset and the direction (§4.2, §3.3). */
T(offset_and_direction_matter)
{
	const struct tc_aead_alg *alg = tc_aead_find(TC_AEAD_AES_128_GCM);
	struct pipe p;
	struct tc_frame_dec *d = calloc(1, sizeof(*d));
	struct tc_frame_msg msg;
	size_t used;
	int n;

	pipe_init(&p, TC_AEAD_AES_128_GCM, 75);
	n = tc_frame_seal(&p.enc, data, 5, 0, 0, stream, 100);
	CHECK_EQ(tc_frame_dec_init(d, alg, MK0, ENO_ROLE_B, 74), TC_OK);
	CHECK_EQ(tc_frame_dec_feed(d, stream, n, &used, &msg), TC_E_AUTH);
	tc_frame_dec_free(d);
	/* A's own decoder uses k_ba: it cannot read A's frames. */
	CHECK_EQ(tc_frame_dec_init(d, alg, MK0, ENO_ROLE_A, 75), TC_OK);
	CHECK_EQ(tc_frame_dec_feed(d, stream, n, &used, &msg), TC_E_AUTH);
	tc_frame_dec_free(d);
	CHECK_EQ(tc_frame_dec_feed(p.dec, stream, n, &used, &msg), TC_OK);
	free(d);
	pipe_free(&p);
}

/* Any way of cutting the stream gives the same frames (the decoder is cut-agnostic). */
T(streaming_cut_anywhere)
{
	static const size_t sizes[] = {3, 0, 700, 1, 1400, 20, 9000, 2};
	uint32_t seed = 7;
	struct pipe p;
	size_t len;

	pipe_init(&p, TC_AEAD_AES_256_GCM, 75);
	len = seal_stream(&p.enc, data, sizes, 8, stream, sizeof(stream));
	run(p.dec, stream, len, 0, 0, 75, &want);
	CHECK_EQ(want.err, TC_OK);
	CHECK_EQ(want.frames, 8);
	pipe_free(&p);
	/* Two pieces, cut at every byte boundary. */
	for (size_t cut = 0; cut <= len; cut++) {
		struct tc_frame_msg msg;
		size_t off = 0, used, total = 0;
		int frames = 0, err = TC_OK;

		pipe_init(&p, TC_AEAD_AES_256_GCM, 75);
		for (int piece = 0; piece < 2; piece++) {
			size_t end = piece ? len : cut;

			while (off < end) {
				err =
				    tc_frame_dec_feed(p.dec, stream + off, end - off, &used, &msg);
				off += used;
				if (err != TC_OK)
					break;
				if (memcmp(msg.data, want.data + total, msg.len) != 0)
					err = TC_E_STATE;
				total += msg.len;
				frames++;
			}
			if (err != TC_OK && err != TC_E_NEED_MORE)
				break;
		}
		if (frames != 8 || total != want.len || tc_frame_dec_fin(p.dec, 75 + len)) {
			CHECK(!"two-piece cut diverged");
			fprintf(stderr, "  cut at %zu: %d frames, err %d\n", cut, frames, err);
		}
		pipe_free(&p);
	}
	/* One byte at a time, and random chunk sizes of several scales. */
	for (size_t scale = 1; scale <= 65536; scale *= 4) {
		pipe_init(&p, TC_AEAD_AES_256_GCM, 75);
		run(p.dec, stream, len, scale, seed + scale, 75, &got);
		CHECK_EQ(got.err, TC_OK);
		CHECK_EQ(got.frames, 8);
		CHECK_EQ(got.len, want.len);
		CHECK_MEM(got.data, want.data, want.len);
		pipe_free(&p);
	}
}

T(fin_without_finp)
{
	static const size_t sizes[] = {10, 20};
	struct pipe p;
	struct tc_frame_msg msg;
	size_t len, used, f1 = tc_frame_len(10, false);

	/* The stream ends on a frame boundary, but no frame had FINp. */
	pipe_init(&p, TC_AEAD_AES_128_GCM, 0);
	CHECK_EQ(tc_frame_seal(&p.enc, data, 10, 0, 0, stream, 100), (int)f1);
	run(p.dec, stream, f1, 0, 0, 0, &got);
	CHECK_EQ(got.err, TC_E_FIN_NO_FINP);
	CHECK_EQ(got.frames, 1);
	CHECK(tc_err_is_abort(TC_E_FIN_NO_FINP));
	pipe_free(&p);
	/* FIN in the middle of a frame (a truncated stream). */
	pipe_init(&p, TC_AEAD_AES_128_GCM, 0);
	len = seal_stream(&p.enc, data, sizes, 2, stream, sizeof(stream));
	for (size_t at = 0; at < len; at++) {
		struct tc_frame_dec *d = calloc(1, sizeof(*d));

		CHECK_EQ(
		    tc_frame_dec_init(d, tc_aead_find(TC_AEAD_AES_128_GCM), MK0, ENO_ROLE_B, 0),
		    TC_OK);
		run(d, stream, at, 0, 0, 0, &got);
		CHECK_EQ(got.err, TC_E_FIN_NO_FINP);
		tc_frame_dec_free(d);
		free(d);
	}
	/* FIN reported first, at the end of frame 1: the decoder stops there. */
	CHECK_EQ(tc_frame_dec_fin(p.dec, f1), TC_E_NEED_MORE);
	CHECK_EQ(tc_frame_dec_feed(p.dec, stream, len, &used, &msg), TC_E_FIN_NO_FINP);
	CHECK_EQ(tc_frame_dec_feed(p.dec, stream, len, &used, &msg), TC_E_FIN_NO_FINP);
	pipe_free(&p);
	/* FIN reported first, at the end of the FINp frame: a clean end of stream. */
	pipe_init(&p, TC_AEAD_AES_128_GCM, 0);
	len = seal_stream(&p.enc, data, sizes, 2, stream, sizeof(stream));
	CHECK_EQ(tc_frame_dec_fin(p.dec, len), TC_E_NEED_MORE);
	CHECK_EQ(tc_frame_dec_feed(p.dec, stream, len, &used, &msg), TC_OK);
	CHECK_EQ(tc_frame_dec_feed(p.dec, stream + used, len - used, &used, &msg), TC_OK);
	CHECK_EQ(msg.flags & TC_FRAME_FINP, TC_FRAME_FINP);
	CHECK_EQ(tc_frame_dec_fin(p.dec, len), TC_OK);
	/* FIN before the point already consumed. */
	CHECK_EQ(tc_frame_dec_fin(p.dec, len - 1), TC_E_FIN_NO_FINP);
	pipe_free(&p);
}

T(after_finp)
{
	static const size_t sizes[] = {10};
	struct pipe p;
	struct tc_frame_msg msg;
	size_t len, used;

	pipe_init(&p, TC_AEAD_AES_128_GCM, 0);
	len = seal_stream(&p.enc, data, sizes, 1, stream, sizeof(stream));
	/* §3.7: no frame after FINp, on either side. */
	CHECK_EQ(tc_frame_seal(&p.enc, data, 1, 0, 0, stream + len, 100), TC_E_STATE);
	CHECK_EQ(tc_frame_enc_rekey(&p.enc), TC_E_STATE);
	stream[len] = 0;
	CHECK_EQ(tc_frame_dec_feed(p.dec, stream, len + 1, &used, &msg), TC_OK);
	CHECK_EQ(used, len);
	CHECK_EQ(tc_frame_dec_feed(p.dec, stream + len, 0, &used, &msg), TC_E_NEED_MORE);
	CHECK_EQ(tc_frame_dec_feed(p.dec, stream + len, 1, &used, &msg), TC_E_AFTER_FIN);
	pipe_free(&p);
	/* TCP FIN announced beyond the end of the FINp frame. */
	pipe_init(&p, TC_AEAD_AES_128_GCM, 0);
	len = seal_stream(&p.enc, data, sizes, 1, stream, sizeof(stream));
	CHECK_EQ(tc_frame_dec_feed(p.dec, stream, len, &used, &msg), TC_OK);
	CHECK_EQ(tc_frame_dec_fin(p.dec, len + 5), TC_E_AFTER_FIN);
	pipe_free(&p);
}

/* A host: its encoder and its decoder. */
struct host {
	struct tc_frame_enc enc;
	struct tc_frame_dec *dec;
	uint8_t wire[1 << 16]; /* what it sent, not yet read by the peer */
	size_t wire_len;
	size_t received;
	int replies;
};

static void host_init(struct host *h, int role)
{
	const struct tc_aead_alg *alg = tc_aead_find(TC_AEAD_AES_128_GCM);

	memset(h, 0, sizeof(*h));
	h->dec = calloc(1, sizeof(*h->dec));
	CHECK_EQ(tc_frame_enc_init(&h->enc, alg, MK0, role, 100), TC_OK);
	CHECK_EQ(tc_frame_dec_init(h->dec, alg, MK0, role, 100), TC_OK);
}

static void host_free(struct host *h)
{
	tc_frame_enc_free(&h->enc);
	tc_frame_dec_free(h->dec);
	free(h->dec);
}

static void host_send(struct host *h, size_t len)
{
	int n = tc_frame_seal(&h->enc, data, len, 0, 0, h->wire + h->wire_len,
			      sizeof(h->wire) - h->wire_len);

	CHECK(n > 0);
	h->wire_len += n > 0 ? n : 0;
}

/* to reads everything from sends; answers rekeys as §3.8 requires. */
static void host_deliver(struct host *from, struct host *to)
{
	size_t off = 0;

	while (off < from->wire_len) {
		struct tc_frame_msg msg;
		size_t used;
		int err =
		    tc_frame_dec_feed(to->dec, from->wire + off, from->wire_len - off, &used, &msg);

		off += used;
		CHECK_EQ(err, TC_OK);
		if (err)
			break;
		CHECK_MEM(msg.data, data, msg.len);
		to->received += msg.len;
		if (msg.rekey && tc_frame_enc_sync(&to->enc, msg.gen)) {
			to->replies++;
			host_send(to, 0);
		}
	}
	from->wire_len = 0;
}

/* Rekeying under traffic in both directions (§3.8), and keep-alive (§3.9). */
T(rekey_both_directions)
{
	struct host a, b;
	uint32_t seed = 3;

	host_init(&a, ENO_ROLE_A);
	host_init(&b, ENO_ROLE_B);
	/* A rekeys: its first frame under gen 1 has rekey = 1; B must answer at once. */
	host_send(&a, 100);
	CHECK_EQ(tc_frame_enc_rekey(&a.enc), TC_OK);
	CHECK(tc_frame_enc_rekey_due(&a.enc));
	host_send(&a, 200);
	CHECK_EQ(a.wire[tc_frame_len(100, false)], TC_FRAME_CTL_REKEY);
	CHECK(!tc_frame_enc_rekey_due(&a.enc));
	/* A second rekey before B answered is refused. */
	CHECK_EQ(tc_frame_enc_rekey(&a.enc), TC_E_STATE);
	host_deliver(&a, &b);
	CHECK_EQ(b.replies, 1);
	CHECK_EQ(b.enc.keys.gen, 1);
	CHECK_EQ(b.dec->keys.gen, 1);
	host_deliver(&b, &a);
	CHECK_EQ(a.replies, 0); /* B's rekey only caught up with A: no echo */
	CHECK_EQ(a.dec->keys.gen, 1);
	/* Both start a rekey at the same time: each sees the other's, nobody echoes. */
	b.replies = 0;
	CHECK_EQ(tc_frame_enc_rekey(&a.enc), TC_OK);
	CHECK_EQ(tc_frame_enc_rekey(&b.enc), TC_OK);
	host_send(&a, 10);
	host_send(&b, 10);
	host_deliver(&a, &b);
	host_deliver(&b, &a);
	CHECK_EQ(a.replies + b.replies, 0);
	CHECK_EQ(a.enc.keys.gen, 2);
	CHECK_EQ(b.dec->keys.gen, 2);
	/* Random traffic with random rekeys from either side. */
	for (int round = 0; round < 200; round++) {
		uint32_t r = test_rand(&seed);
		struct host *h = r & 1 ? &a : &b;

		if (r & 2)
			tc_frame_enc_rekey(&h->enc);
		host_send(h, r >> 20);
		if (r & 4) {
			host_deliver(&a, &b);
			host_deliver(&b, &a);
		}
	}
	host_deliver(&a, &b);
	host_deliver(&b, &a);
	host_deliver(&a, &b);
	CHECK_EQ(a.enc.local_gen, b.enc.local_gen);
	CHECK_EQ(a.dec->keys.gen, b.enc.keys.gen);
	CHECK_EQ(b.dec->keys.gen, a.enc.keys.gen);
	CHECK(a.enc.keys.gen > 10);
	/* Keep-alive: an empty rekey frame; the reply proves the peer alive. */
	CHECK_EQ(tc_frame_enc_rekey(&a.enc), TC_OK);
	host_send(&a, 0);
	b.replies = 0;
	host_deliver(&a, &b);
	CHECK_EQ(b.replies, 1);
	CHECK_EQ(b.wire[0], TC_FRAME_CTL_REKEY);
	host_deliver(&b, &a);
	CHECK_EQ(a.dec->keys.gen, a.enc.keys.gen);
	host_free(&a);
	host_free(&b);
}

/* A rekey bit forged onto a frame makes it fail: the rekey bit is in the AD (§4.2). */
T(forged_rekey_bit)
{
	struct pipe p;
	struct tc_frame_msg msg;
	size_t used;
	int n;

	pipe_init(&p, TC_AEAD_AES_128_GCM, 0);
	n = tc_frame_seal(&p.enc, data, 5, 0, 0, stream, 100);
	stream[0] = TC_FRAME_CTL_REKEY;
	CHECK_EQ(tc_frame_dec_feed(p.dec, stream, n, &used, &msg), TC_E_AUTH);
	pipe_free(&p);
	/* And a frame under generation 2 cannot be read as generation 1. */
	pipe_init(&p, TC_AEAD_AES_128_GCM, 0);
	CHECK_EQ(tc_frame_enc_rekey(&p.enc), TC_OK);
	tc_frame_enc_sync(&p.enc, 1);
	CHECK_EQ(tc_frame_enc_rekey(&p.enc), TC_OK);
	n = tc_frame_seal(&p.enc, data, 5, 0, 0, stream, 100);
	n += tc_frame_seal(&p.enc, data, 5, 0, 0, stream + n, 100);
	CHECK_EQ(p.enc.keys.gen, 2);
	CHECK_EQ(tc_frame_dec_feed(p.dec, stream, n, &used, &msg), TC_OK);
	CHECK(msg.rekey);
	CHECK_EQ(msg.gen, 1);
	CHECK_EQ(tc_frame_dec_feed(p.dec, stream + used, n - used, &used, &msg), TC_OK);
	CHECK_EQ(msg.gen, 2);
	pipe_free(&p);
}

/* Data staged at its final place in the frame is sealed in place, with or without URGp. */
T(seal_in_place)
{
	for (int urg = 0; urg <= 1; urg++) {
		struct pipe p;
		struct tc_frame_msg msg;
		uint8_t buf[200];
		size_t used, at = urg ? 6 : 4;
		int n;

		pipe_init(&p, TC_AEAD_AES_128_GCM, 0);
		memcpy(buf + at, "in place", 8);
		n = tc_frame_seal(&p.enc, buf + at, 8, urg ? TC_FRAME_URGP : 0, 7, buf,
				  sizeof(buf));
		CHECK_EQ(n, (int)tc_frame_len(8, urg));
		CHECK_EQ(tc_frame_dec_feed(p.dec, buf, n, &used, &msg), TC_OK);
		CHECK_EQ(msg.len, 8);
		CHECK_MEM(msg.data, "in place", 8);
		pipe_free(&p);
	}
}
