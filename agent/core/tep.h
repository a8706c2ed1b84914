/* SPDX-License-Identifier: MIT */
/*
 * The four tcpcrypt TEPs (RFC 8548 §5, Table 2): ephemeral ECDH key pairs,
 * the wire encoding of Pub_A/Pub_B, validation of the peer's key and the
 * shared secret ES.  Randomness comes only from OpenSSL's CSPRNG; without a
 * seeded one every call that needs it fails with TC_E_RNG (§8).
 */
#ifndef TCPCRYPT_CORE_TEP_H
#define TCPCRYPT_CORE_TEP_H

#include <stddef.h>
#include <stdint.h>
#include <openssl/types.h>

/* TEP identifiers (RFC 8548 §7, v bit clear) */
#define TC_TEP_P256   0x21
#define TC_TEP_P521   0x22
#define TC_TEP_X25519 0x23 /* mandatory to implement */
#define TC_TEP_X448   0x24

#define TC_TEP_V_BIT 0x80 /* RFC 8547 §4.1: suboption carries data (resumption) */

#define TC_NONCE_LEN   32	/* N_A_LEN = N_B_LEN (§5) */
#define TC_TEP_PUB_MAX (2 + 67) /* largest Pub field: P-521 pubkey_len | compressed point */
#define TC_TEP_ES_MAX  66	/* largest ES: P-521 x-coordinate */

struct tc_tep {
	uint8_t id;
	const char *name;
	uint16_t pub_len;  /* Pub_A/Pub_B on the wire, including any pubkey_len prefix */
	uint16_t es_len;   /* length of ES */
	int evp_type;	   /* EVP_PKEY_X25519, EVP_PKEY_X448, or EVP_PKEY_EC */
	const char *group; /* EC group name for the NIST curves, else NULL */
};

/* The TEP with identifier id (v bit ignored), or NULL if not a tcpcrypt TEP. */
const struct tc_tep *tc_tep_find(uint8_t id);

/* An ephemeral key pair of one TEP. */
struct tc_tep_key {
	const struct tc_tep *tep;
	EVP_PKEY *pkey;
};

/*
 * Generate a fresh ephemeral key pair (§3.3).  Returns TC_OK, TC_E_RNG (CSPRNG
 * not seeded), TC_E_NOMEM or TC_E_CRYPTO.  Free with tc_tep_key_free.
 */
int tc_tep_keygen(const struct tc_tep *tep, struct tc_tep_key *key);

/*
 * Build a key pair from a raw private key (X25519/X448: 32/56 bytes;
 * P-256/P-521: big-endian scalar of 32/66 bytes).  For test vectors and
 * benchmarks only; real keys come from tc_tep_keygen.
 */
int tc_tep_key_from_private(const struct tc_tep *tep, const uint8_t *priv, size_t len,
			    struct tc_tep_key *key);

/*
 * Where a key exchange takes its key pair: e.g. a pool generated ahead of
 * time, off the connection's critical path.  take() moves a fresh, never
 * used key pair of tep into *key and returns TC_OK, or returns an error when
 * it has none (the caller then generates one with tc_tep_keygen).
 */
struct tc_keysrc {
	int (*take)(void *ctx, const struct tc_tep *tep, struct tc_tep_key *key);
	void *ctx;
};

/* A key pair for tep: from src if it has one (src may be NULL), else tc_tep_keygen. */
int tc_tep_key_take(const struct tc_keysrc *src, const struct tc_tep *tep, struct tc_tep_key *key);

/* Free the key pair (OpenSSL wipes the private key).  Safe on a zeroed key. */
void tc_tep_key_free(struct tc_tep_key *key);

/*
 * Write the Pub field for key to out (tep->pub_len bytes): raw u-coordinate
 * for X25519/X448; 2-byte big-endian pubkey_len then the compressed point
 * (IEEE 1363 §E.2.3) for P-256/P-521 (§5).  Returns the length written,
 * TC_E_NOSPACE or TC_E_CRYPTO.
 */
int tc_tep_pub_encode(const struct tc_tep_key *key, uint8_t *out, size_t cap);

/*
 * Length of the Pub field that starts at in, given avail bytes of it:
 * returns tep->pub_len; TC_E_NEED_MORE if the 2-byte prefix of a NIST key is
 * not yet complete; TC_E_MALFORMED if pubkey_len is not the compressed-point
 * length of the curve.
 */
int tc_tep_pub_span(const struct tc_tep *tep, const uint8_t *in, size_t avail);

/*
 * Validate the peer's Pub field (exactly tep->pub_len bytes, as sent) and
 * compute ES (§3.3, §5): X25519/X448 output, or the x-coordinate of the
 * shared point as a fixed-length big-endian string for P-256/P-521.
 * es must hold tep->es_len bytes.  Returns TC_OK, TC_E_BAD_KEY (wrong length
 * or format, not on the curve, point at infinity, all-zero X25519/X448
 * result), TC_E_NOMEM or TC_E_CRYPTO.
 */
int tc_tep_derive(const struct tc_tep_key *own, const uint8_t *peer_pub, size_t peer_len,
		  uint8_t *es);

/* Fill buf with len bytes from the CSPRNG (nonces N_A/N_B).  TC_OK or TC_E_RNG. */
int tc_tep_random(uint8_t *buf, size_t len);

#endif
