/* SPDX-License-Identifier: MIT */
/*
 * Init1/Init2 key-exchange messages (RFC 8548 §3.3, §4.1): encoding, an
 * incremental decoder for the head of a byte stream, and the AEAD choice.
 *
 *   Init1 = INIT1_MAGIC(4) | message_len(4) | nciphers(1) | sym_cipher(2)*K
 *           | N_A(32) | Pub_A | ignored
 *   Init2 = INIT2_MAGIC(4) | message_len(4) | sym_cipher(2) | N_B(32)
 *           | Pub_B | ignored
 *
 * All multi-byte fields are big-endian (message_len by the RFC; magics and
 * cipher ids by our reading, docs/rfc-notes.md#gaps-and-our-readings item 4).
 */
#ifndef TCPCRYPT_CORE_INIT_H
#define TCPCRYPT_CORE_INIT_H

#include <stddef.h>
#include <stdint.h>
#include "core/tep.h"

#define TC_INIT1_MAGIC 0x15101a0eu
#define TC_INIT2_MAGIC 0x097105e0u

/*
 * Largest message_len we accept.  The RFC sets no limit; honest senders send
 * no ignored bytes (§4.1), so an Init is at most 9 + 2*255 + 32 + 69 = 620
 * bytes.  64 KiB leaves room for future extensions while bounding what a
 * receiver buffers before keys exist.
 */
#define TC_INIT_MAX_LEN 65536u

#define TC_INIT_MAX_CIPHERS 255 /* nciphers is one byte */

/* Largest Init1 we ever send: 255 ciphers and the largest Pub field. */
#define TC_INIT_OWN_MAX (9 + 2 * TC_INIT_MAX_CIPHERS + TC_NONCE_LEN + TC_TEP_PUB_MAX)

struct tc_init1 {
	uint32_t message_len; /* decode: as received; encode: ignored (computed) */
	uint8_t nciphers;
	uint16_t ciphers[TC_INIT_MAX_CIPHERS];
	uint8_t nonce[TC_NONCE_LEN]; /* N_A */
	uint16_t pub_len;
	uint8_t pub[TC_TEP_PUB_MAX]; /* Pub_A as on the wire (tc_tep_pub_encode) */
};

struct tc_init2 {
	uint32_t message_len;
	uint16_t cipher;	     /* sym_cipher */
	uint8_t nonce[TC_NONCE_LEN]; /* N_B */
	uint16_t pub_len;
	uint8_t pub[TC_TEP_PUB_MAX]; /* Pub_B as on the wire */
};

/*
 * Encode with no ignored bytes (§4.1: senders MUST send none).  Returns the
 * message length, TC_E_NOSPACE, or TC_E_INVAL (nciphers 0, pub_len 0 or too
 * long).
 */
int tc_init1_encode(const struct tc_init1 *m, uint8_t *out, size_t cap);
int tc_init2_encode(const struct tc_init2 *m, uint8_t *out, size_t cap);

/*
 * Decode the Init message at the start of a stream of which len bytes have
 * arrived.  tep is the negotiated TEP (it fixes the Pub field's format).
 *
 * Returns message_len (> 0) once the whole message is present: that many
 * bytes of in are the message as transmitted (for the PRK); bytes after it
 * are the first frames.  Otherwise:
 *   TC_E_NEED_MORE  in is a valid prefix; *need (if need is non-NULL) is set to
 *                   the total length to wait for (message_len once known)
 *   TC_E_MALFORMED  wrong magic, nciphers 0, bad pubkey_len
 *   TC_E_TRUNCATED  message_len too small for the mandatory fields
 *   TC_E_TOO_LONG   message_len > TC_INIT_MAX_LEN
 * Errors are reported as soon as the offending bytes have arrived.  The
 * public key is only checked for length here; tc_tep_derive validates it.
 */
int tc_init1_decode(const struct tc_tep *tep, const uint8_t *in, size_t len, struct tc_init1 *m,
		    size_t *need);
int tc_init2_decode(const struct tc_tep *tep, const uint8_t *in, size_t len, struct tc_init2 *m,
		    size_t *need);

/*
 * Host B's choice of sym_cipher (§3.3): the first id of pref (B's configured
 * order, best first) that A offered in i1.  TC_OK, or TC_E_BAD_CIPHER if
 * none is common.
 */
int tc_init_choose_cipher(const uint16_t *pref, size_t npref, const struct tc_init1 *i1,
			  uint16_t *cipher);

/*
 * Host A's check of Init2 (§3.3): sym_cipher must be one it offered in i1
 * and one it implements.  TC_OK or TC_E_BAD_CIPHER.
 */
int tc_init2_check_cipher(const struct tc_init1 *i1, const struct tc_init2 *i2);

#endif
