/* SPDX-License-Identifier: MIT */
/* Init1/Init2 codec (RFC 8548 §3.3, §4.1). */
#include <string.h>
#include "core/aead.h"
#include "core/err.h"
#include "core/bytes.h"
#include "core/init.h"

/* The fields both messages share after their own head: nonce | Pub. */
static size_t put_tail(uint8_t *out, const uint8_t nonce[TC_NONCE_LEN], const uint8_t *pub,
		       size_t pub_len)
{
	memcpy(out, nonce, TC_NONCE_LEN);
	memcpy(out + TC_NONCE_LEN, pub, pub_len);
	return TC_NONCE_LEN + pub_len;
}

int tc_init1_encode(const struct tc_init1 *m, uint8_t *out, size_t cap)
{
	size_t head = 9 + 2 * (size_t)m->nciphers;
	size_t len = head + TC_NONCE_LEN + m->pub_len;

	if (!m->nciphers || !m->pub_len || m->pub_len > TC_TEP_PUB_MAX)
		return TC_E_INVAL;
	if (cap < len)
		return TC_E_NOSPACE;
	put_be32(out, TC_INIT1_MAGIC);
	put_be32(out + 4, len);
	out[8] = m->nciphers;
	for (size_t i = 0; i < m->nciphers; i++)
		put_be16(out + 9 + 2 * i, m->ciphers[i]);
	put_tail(out + head, m->nonce, m->pub, m->pub_len);
	return len;
}

int tc_init2_encode(const struct tc_init2 *m, uint8_t *out, size_t cap)
{
	size_t len = 10 + TC_NONCE_LEN + m->pub_len;

	if (!m->pub_len || m->pub_len > TC_TEP_PUB_MAX)
		return TC_E_INVAL;
	if (cap < len)
		return TC_E_NOSPACE;
	put_be32(out, TC_INIT2_MAGIC);
	put_be32(out + 4, len);
	put_be16(out + 8, m->cipher);
	put_tail(out + 10, m->nonce, m->pub, m->pub_len);
	return len;
}

/*
 * Checks common to both messages, in stream order so that an error shows as
 * soon as its bytes arrive: the magic (even a partial one), then
 * message_len against our cap.  Returns message_len, or TC_E_NEED_MORE with
 * *need set, or an error.
 */
static int decode_head(uint32_t magic, const uint8_t *in, size_t len, size_t *need)
{
	uint8_t want[4];
	uint32_t msg_len;

	put_be32(want, magic);
	if (memcmp(in, want, len < 4 ? len : 4) != 0)
		return TC_E_MALFORMED;
	if (len < 8) {
		*need = 8;
		return TC_E_NEED_MORE;
	}
	msg_len = get_be32(in + 4);
	if (msg_len > TC_INIT_MAX_LEN)
		return TC_E_TOO_LONG;
	return (int)msg_len;
}

/*
 * The mandatory part of a message is fixed_len bytes; once known, check it
 * fits message_len, then wait for the whole message.  nonce and Pub follow
 * at tail.  Returns message_len, TC_E_NEED_MORE (with *need) or an error.
 */
static int decode_tail(const struct tc_tep *tep, const uint8_t *in, size_t len, size_t msg_len,
		       size_t tail, uint8_t nonce[TC_NONCE_LEN], uint8_t *pub, uint16_t *pub_len,
		       size_t *need)
{
	size_t pub_at = tail + TC_NONCE_LEN;
	int span;

	if (msg_len < pub_at + tep->pub_len)
		return TC_E_TRUNCATED;
	span = tc_tep_pub_span(tep, in + pub_at, len > pub_at ? len - pub_at : 0);
	if (span < 0 && span != TC_E_NEED_MORE)
		return span;
	if (len < msg_len) {
		*need = msg_len;
		return TC_E_NEED_MORE;
	}
	memcpy(nonce, in + tail, TC_NONCE_LEN);
	memcpy(pub, in + pub_at, tep->pub_len);
	*pub_len = tep->pub_len;
	return (int)msg_len;
}

int tc_init1_decode(const struct tc_tep *tep, const uint8_t *in, size_t len, struct tc_init1 *m,
		    size_t *need)
{
	size_t dummy, head;
	int msg_len;

	need = need ? need : &dummy;
	msg_len = decode_head(TC_INIT1_MAGIC, in, len, need);
	if (msg_len < 0)
		return msg_len;
	if (msg_len < 9)
		return TC_E_TRUNCATED;
	if (len < 9) {
		*need = 9;
		return TC_E_NEED_MORE;
	}
	if (in[8] == 0)
		return TC_E_MALFORMED;
	head = 9 + 2 * (size_t)in[8];
	msg_len = decode_tail(tep, in, len, msg_len, head, m->nonce, m->pub, &m->pub_len, need);
	if (msg_len < 0)
		return msg_len;
	m->message_len = msg_len;
	m->nciphers = in[8];
	for (size_t i = 0; i < m->nciphers; i++)
		m->ciphers[i] = get_be16(in + 9 + 2 * i);
	return msg_len;
}

int tc_init2_decode(const struct tc_tep *tep, const uint8_t *in, size_t len, struct tc_init2 *m,
		    size_t *need)
{
	size_t dummy;
	int msg_len;

	need = need ? need : &dummy;
	msg_len = decode_head(TC_INIT2_MAGIC, in, len, need);
	if (msg_len < 0)
		return msg_len;
	msg_len = decode_tail(tep, in, len, msg_len, 10, m->nonce, m->pub, &m->pub_len, need);
	if (msg_len < 0)
		return msg_len;
	m->message_len = msg_len;
	m->cipher = get_be16(in + 8);
	return msg_len;
}

static bool offered(const struct tc_init1 *i1, uint16_t id)
{
	for (size_t i = 0; i < i1->nciphers; i++)
		if (i1->ciphers[i] == id)
			return true;
	return false;
}

int tc_init_choose_cipher(const uint16_t *pref, size_t npref, const struct tc_init1 *i1,
			  uint16_t *cipher)
{
	for (size_t i = 0; i < npref; i++) {
		if (tc_aead_find(pref[i]) && offered(i1, pref[i])) {
			*cipher = pref[i];
			return TC_OK;
		}
	}
	return TC_E_BAD_CIPHER;
}

int tc_init2_check_cipher(const struct tc_init1 *i1, const struct tc_init2 *i2)
{
	/* §3.3: a sym_cipher A did not offer MUST abort the connection. */
	if (!offered(i1, i2->cipher) || !tc_aead_find(i2->cipher))
		return TC_E_BAD_CIPHER;
	return TC_OK;
}
