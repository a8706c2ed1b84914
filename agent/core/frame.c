/* SPDX-License-Identifier: MIT */
/* tcpcrypt framing, rekeying and end of stream (RFC 8548 §3.6-§3.9, §4.2). */
#include <string.h>
#include <openssl/crypto.h>
#include "core/err.h"
#include "core/frame.h"

/* Traffic key of generation k->gen from k->mk into the AEAD context and NR. */
static int keys_load(struct tc_frame_keys *k, const struct tc_aead_alg *alg, bool seal)
{
	struct tc_tk tk;
	int err;

	err = tc_traffic_key(k->mk, k->key_const, alg->key_len, alg->nonce_len, &tk);
	if (!err)
		err = tc_aead_init(&k->aead, alg, tk.key, seal);
	if (!err)
		memcpy(k->nr, tk.nr, alg->nonce_len);
	tc_tk_wipe(&tk);
	return err;
}

static int keys_init(struct tc_frame_keys *k, const struct tc_aead_alg *alg,
		     const uint8_t mk0[TC_K_LEN], uint8_t key_const, bool seal)
{
	memset(k, 0, sizeof(*k));
	memcpy(k->mk, mk0, TC_K_LEN);
	k->key_const = key_const;
	return keys_load(k, alg, seal);
}

/* mk[j+1] = CPRF(mk[j], CONST_REKEY) and its traffic key; mk[j] is overwritten (§3.8). */
static int keys_advance(struct tc_frame_keys *k)
{
	int err;

	if (!k->aead.ctx)
		return TC_E_STATE;
	err = tc_mk_next(k->mk, k->mk);
	if (err)
		return err;
	k->gen++;
	return keys_load(k, k->aead.alg, k->aead.seal);
}

static void keys_free(struct tc_frame_keys *k)
{
	tc_aead_free(&k->aead);
	OPENSSL_cleanse(k, sizeof(*k));
}

/* N = (zero bytes | offset as BE64) XOR NR  (§4.2). */
static void frame_nonce(const struct tc_frame_keys *k, uint64_t offset, uint8_t *nonce)
{
	size_t n = k->aead.alg->nonce_len;

	memcpy(nonce, k->nr, n);
	for (size_t i = 0; i < 8; i++)
		nonce[n - 1 - i] ^= (uint8_t)(offset >> (8 * i));
}

int tc_frame_enc_init(struct tc_frame_enc *e, const struct tc_aead_alg *alg,
		      const uint8_t mk0[TC_K_LEN], int orig_role, uint64_t offset)
{
	memset(e, 0, sizeof(*e));
	e->offset = offset;
	return keys_init(&e->keys, alg, mk0, tc_send_const(orig_role), true);
}

void tc_frame_enc_free(struct tc_frame_enc *e)
{
	keys_free(&e->keys);
	memset(e, 0, sizeof(*e));
}

int tc_frame_seal(struct tc_frame_enc *e, const uint8_t *data, size_t len, uint8_t flags,
		  uint16_t urgent, uint8_t *out, size_t cap)
{
	bool urg = flags & TC_FRAME_URGP;
	size_t pt_hdr = urg ? 3 : 1;
	size_t clen = pt_hdr + len + TC_AEAD_TAG_LEN;
	size_t flen = TC_FRAME_HDR_LEN + clen;
	uint8_t nonce[TC_AE_NONCE_MAX];
	bool rekey, staged;
	int err;

	if (flags & ~(TC_FRAME_FINP | TC_FRAME_URGP))
		return TC_E_INVAL;
	/* §3.7: FINp on the last frame and no other. */
	if (e->fin_sent || !e->keys.aead.ctx)
		return TC_E_STATE;
	if (clen > TC_FRAME_CLEN_MAX)
		return TC_E_TOO_LONG;
	if (cap < flen)
		return TC_E_NOSPACE;
	/* §4.2: the 64-bit offset must not wrap under one key. */
	if (e->offset > UINT64_MAX - flen)
		return TC_E_STATE;
	/* §3.8: the first frame under a new key set has rekey = 1, one generation at a time. */
	rekey = e->local_gen > e->keys.gen;
	if (rekey) {
		err = keys_advance(&e->keys);
		if (err)
			return err;
	}
	/*
	 * A caller may stage the data in place, at its final position; data
	 * elsewhere is encrypted from where it is (no copy), unless it overlaps
	 * the frame.
	 */
	staged = !len || out + TC_FRAME_HDR_LEN + pt_hdr == data;
	if (!staged && data < out + flen && data + len > out) {
		memmove(out + TC_FRAME_HDR_LEN + pt_hdr, data, len);
		staged = true;
	}
	out[0] = rekey ? TC_FRAME_CTL_REKEY : 0;
	out[1] = clen >> 8;
	out[2] = clen & 0xff;
	out[3] = flags;
	if (urg) {
		out[4] = urgent >> 8;
		out[5] = urgent & 0xff;
	}
	frame_nonce(&e->keys, e->offset, nonce);
	if (staged)
		err = tc_aead_seal(&e->keys.aead, nonce, out, TC_FRAME_HDR_LEN,
				   out + TC_FRAME_HDR_LEN, pt_hdr + len, out + TC_FRAME_HDR_LEN);
	else
		err = tc_aead_seal2(&e->keys.aead, nonce, out, TC_FRAME_HDR_LEN,
				    out + TC_FRAME_HDR_LEN, pt_hdr, data, len,
				    out + TC_FRAME_HDR_LEN);
	if (err)
		return err;
	e->offset += flen;
	e->fin_sent = flags & TC_FRAME_FINP;
	return (int)flen;
}

int tc_frame_enc_rekey(struct tc_frame_enc *e)
{
	if (e->fin_sent || e->local_gen > e->remote_gen)
		return TC_E_STATE;
	e->local_gen++;
	return TC_OK;
}

bool tc_frame_enc_sync(struct tc_frame_enc *e, uint64_t remote_gen)
{
	if (remote_gen > e->remote_gen)
		e->remote_gen = remote_gen;
	/*
	 * §3.8: only a remote generation above the local one obliges us to
	 * answer; answering a rekey that merely catches up with ours would make
	 * the two hosts echo rekey frames forever.
	 */
	if (e->remote_gen <= e->local_gen)
		return false;
	e->local_gen = e->remote_gen;
	return !e->fin_sent;
}

int tc_frame_dec_init(struct tc_frame_dec *d, const struct tc_aead_alg *alg,
		      const uint8_t mk0[TC_K_LEN], int orig_role, uint64_t offset)
{
	d->offset = offset;
	d->fin_at = UINT64_MAX;
	d->state = TC_DEC_HDR;
	d->err = TC_OK;
	d->have = 0;
	d->buf = NULL;
	d->cap = d->dirty = 0;
	return keys_init(&d->keys, alg, mk0, tc_recv_const(orig_role), false);
}

static void dec_release(struct tc_frame_dec *d)
{
	if (d->buf)
		OPENSSL_cleanse(d->buf, d->dirty);
	free(d->buf);
	d->buf = NULL;
	d->cap = d->dirty = 0;
}

void tc_frame_dec_free(struct tc_frame_dec *d)
{
	keys_free(&d->keys);
	dec_release(d);
	d->have = 0;
	d->state = TC_DEC_FAIL;
	d->err = TC_E_STATE;
}

void tc_frame_dec_trim(struct tc_frame_dec *d)
{
	if (!d->have)
		dec_release(d);
}

/* Room for n bytes in d->buf (its first have bytes kept), of which n will be written. */
static int dec_room(struct tc_frame_dec *d, size_t n)
{
	uint8_t *buf;
	size_t cap;

	if (n > d->cap) {
		for (cap = d->cap ? d->cap : 2048; cap < n; cap *= 2)
			;
		if (cap > TC_FRAME_MAX_LEN)
			cap = TC_FRAME_MAX_LEN;
		buf = malloc(cap);
		if (!buf)
			return TC_E_NOMEM;
		if (d->have)
			memcpy(buf, d->buf, d->have);
		dec_release(d);
		d->buf = buf;
		d->cap = cap;
		d->dirty = d->have;
	}
	if (n > d->dirty)
		d->dirty = n;
	return TC_OK;
}

static int dec_fail(struct tc_frame_dec *d, int err)
{
	/* Whatever of the frame was buffered or decrypted is never delivered. */
	if (d->buf)
		OPENSSL_cleanse(d->buf, d->dirty);
	d->dirty = 0;
	d->have = 0;
	d->state = TC_DEC_FAIL;
	d->err = err;
	return err;
}

static size_t frame_clen(const uint8_t *hdr)
{
	return (size_t)hdr[1] << 8 | hdr[2];
}

/*
 * Authenticate and decrypt the complete frame at frame (in d->buf or, when it
 * arrived whole, in the caller's input); the plaintext lands in d->buf + 3.
 */
static int dec_open(struct tc_frame_dec *d, const uint8_t *frame, struct tc_frame_msg *msg)
{
	size_t clen = frame_clen(frame), flen = TC_FRAME_HDR_LEN + clen;
	size_t pt_len = clen - TC_AEAD_TAG_LEN, pt_hdr;
	uint8_t nonce[TC_AE_NONCE_MAX];
	bool rekey = frame[0] & TC_FRAME_CTL_REKEY;
	uint8_t *pt;
	int err;

	/* frame is in the input, or d->buf already holds all of it */
	err = dec_room(d, flen);
	if (err)
		return dec_fail(d, err);
	pt = d->buf + TC_FRAME_HDR_LEN;
	/* §3.8: a rekey frame is already under the next generation. */
	if (rekey) {
		err = keys_advance(&d->keys);
		if (err)
			return dec_fail(d, err);
	}
	frame_nonce(&d->keys, d->offset, nonce);
	err = tc_aead_open(&d->keys.aead, nonce, frame, TC_FRAME_HDR_LEN, frame + TC_FRAME_HDR_LEN,
			   clen, pt);
	if (err)
		return dec_fail(d, err);
	pt_hdr = pt[0] & TC_FRAME_URGP ? 3 : 1;
	if (pt_len < pt_hdr)
		return dec_fail(d, TC_E_MALFORMED);
	/* §3.7: EOF when, and only when, a FINp frame arrives -- where TCP's FIN is. */
	if (d->fin_at != UINT64_MAX &&
	    (d->offset + flen > d->fin_at ||
	     (d->offset + flen == d->fin_at && !(pt[0] & TC_FRAME_FINP))))
		return dec_fail(d, TC_E_FIN_NO_FINP);
	msg->flags = pt[0] & (TC_FRAME_FINP | TC_FRAME_URGP);
	msg->urgent = pt_hdr == 3 ? (uint16_t)(pt[1] << 8 | pt[2]) : 0;
	msg->data = pt + pt_hdr;
	msg->len = pt_len - pt_hdr;
	msg->offset = d->offset;
	msg->gen = d->keys.gen;
	msg->rekey = rekey;
	d->offset += flen;
	d->have = 0;
	d->state = msg->flags & TC_FRAME_FINP ? TC_DEC_FIN : TC_DEC_HDR;
	return TC_OK;
}

int tc_frame_dec_feed(struct tc_frame_dec *d, const uint8_t *in, size_t len, size_t *used,
		      struct tc_frame_msg *msg)
{
	size_t n = 0;

	*used = 0;
	if (d->state == TC_DEC_FAIL)
		return d->err;
	if (d->state == TC_DEC_FIN)
		return len ? dec_fail(d, TC_E_AFTER_FIN) : TC_E_NEED_MORE;
	while (n < len) {
		size_t want, take;

		/* A frame that arrived whole is opened straight from the input. */
		if (d->have == 0 && len - n >= TC_FRAME_HDR_LEN) {
			size_t flen = TC_FRAME_HDR_LEN + frame_clen(in + n);

			*used = n + TC_FRAME_HDR_LEN;
			if (flen < TC_FRAME_OVERHEAD)
				return dec_fail(d, TC_E_MALFORMED);
			if (len - n >= flen) {
				*used = n + flen;
				return dec_open(d, in + n, msg);
			}
		}
		want = d->have < TC_FRAME_HDR_LEN ? TC_FRAME_HDR_LEN
						  : TC_FRAME_HDR_LEN + frame_clen(d->buf);
		take = want - d->have < len - n ? want - d->have : len - n;
		if (dec_room(d, d->have + take))
			return dec_fail(d, TC_E_NOMEM);
		memcpy(d->buf + d->have, in + n, take);
		d->have += take;
		n += take;
		*used = n;
		/* §4.2: clen covers at least the flags byte and the tag. */
		if (d->have == TC_FRAME_HDR_LEN && frame_clen(d->buf) < TC_FRAME_CLEN_MIN)
			return dec_fail(d, TC_E_MALFORMED);
		if (d->have == want && want > TC_FRAME_HDR_LEN)
			return dec_open(d, d->buf, msg);
	}
	if (d->offset + d->have >= d->fin_at)
		return dec_fail(d, TC_E_FIN_NO_FINP);
	return TC_E_NEED_MORE;
}

int tc_frame_dec_fin(struct tc_frame_dec *d, uint64_t fin_offset)
{
	uint64_t pos = d->offset + d->have;

	if (d->state == TC_DEC_FAIL)
		return d->err;
	if (fin_offset > pos) {
		/* Bytes still to come would follow the FINp frame. */
		if (d->state == TC_DEC_FIN)
			return dec_fail(d, TC_E_AFTER_FIN);
		d->fin_at = fin_offset;
		return TC_E_NEED_MORE;
	}
	if (fin_offset == pos && d->state == TC_DEC_FIN)
		return TC_OK;
	return dec_fail(d, TC_E_FIN_NO_FINP);
}
