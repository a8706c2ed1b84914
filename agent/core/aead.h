/* SPDX-License-Identifier: MIT */
/*
 * The tcpcrypt AEAD algorithms (RFC 8548 §6, §7) over OpenSSL EVP.
 * A struct tc_aead holds one EVP_CIPHER_CTX bound to one key and one
 * direction; the key schedule runs once per key and each frame only sets its
 * nonce, which is what keeps per-frame cost near raw `openssl speed -evp`.
 */
#ifndef TCPCRYPT_CORE_AEAD_H
#define TCPCRYPT_CORE_AEAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <openssl/types.h>

/* AEAD identifiers, "tcpcrypt AEAD Algorithms" registry (§7) */
#define TC_AEAD_AES_128_GCM	  0x0001 /* mandatory to implement */
#define TC_AEAD_AES_256_GCM	  0x0002
#define TC_AEAD_CHACHA20_POLY1305 0x0010

#define TC_AEAD_TAG_LEN 16 /* all three: RFC 5116 §5.1, RFC 8439 §2.8 */

struct tc_aead_alg {
	uint16_t id;
	uint8_t key_len;   /* ae_key_len */
	uint8_t nonce_len; /* ae_nonce_len */
	const char *name;
	const EVP_CIPHER *(*evp)(void);
};

/* The algorithm with this identifier, or NULL if unknown. */
const struct tc_aead_alg *tc_aead_find(uint16_t id);

/* All algorithms we implement, in our default order of preference (best first). */
extern const uint16_t tc_aead_default_pref[];
extern const size_t tc_aead_default_pref_len;

/*
 * Our default order with first moved to the front (a socket's preference,
 * TCP_CRYPT_AEAD), into out (room for tc_aead_default_pref_len ids).
 * An id we do not implement, or 0, leaves the default order.  Returns the
 * number of ids written.
 */
size_t tc_aead_pref_first(uint16_t first, uint16_t *out);

struct tc_aead {
	const struct tc_aead_alg *alg;
	EVP_CIPHER_CTX *ctx;
	bool seal;
};

/*
 * Bind a to alg and key for sealing (seal = true) or opening.  a must be
 * zeroed or freed before the first call; calling it again on a live a just
 * replaces the key (rekeying) and reuses the context.
 * Returns TC_OK, TC_E_NOMEM or TC_E_CRYPTO.
 */
int tc_aead_init(struct tc_aead *a, const struct tc_aead_alg *alg, const uint8_t *key, bool seal);

/* Free the context and wipe the key material it holds.  Safe on a zeroed a. */
void tc_aead_free(struct tc_aead *a);

/*
 * Encrypt len bytes of in to out and append the 16-byte tag at out + len.
 * in may equal out.  nonce is alg->nonce_len bytes.  Returns TC_OK or TC_E_CRYPTO.
 */
int tc_aead_seal(struct tc_aead *a, const uint8_t *nonce, const uint8_t *ad, size_t ad_len,
		 const uint8_t *in, size_t len, uint8_t *out);
/*
 * The same for the message in1 followed by in2 (neither overlapping out
 * unless in place), ciphertext and tag to out: the caller's data need not be
 * copied behind a header first.
 */
int tc_aead_seal2(struct tc_aead *a, const uint8_t *nonce, const uint8_t *ad, size_t ad_len,
		  const uint8_t *in1, size_t len1, const uint8_t *in2, size_t len2, uint8_t *out);

/*
 * Verify and decrypt ct_len bytes of in (ciphertext followed by the 16-byte
 * tag) into ct_len - 16 bytes at out; in may equal out.  On TC_E_AUTH the
 * output has been wiped.  Returns TC_OK, TC_E_AUTH, TC_E_MALFORMED (ct_len <
 * 16) or TC_E_CRYPTO.
 */
int tc_aead_open(struct tc_aead *a, const uint8_t *nonce, const uint8_t *ad, size_t ad_len,
		 const uint8_t *in, size_t ct_len, uint8_t *out);

#endif
