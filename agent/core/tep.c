/* SPDX-License-Identifier: MIT */
/* tcpcrypt TEPs: ECDHE over P-256, P-521, X25519, X448 (RFC 8548 §5). */
#include <string.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include "core/err.h"
#include "core/tep.h"

/* Compressed point: 1 + field bytes (IEEE 1363 §E.2.3); Pub adds pubkey_len(2). */
static const struct tc_tep teps[] = {
    {TC_TEP_P256, "TCPCRYPT_ECDHE_P256", 2 + 33, 32, EVP_PKEY_EC, "P-256"},
    {TC_TEP_P521, "TCPCRYPT_ECDHE_P521", 2 + 67, 66, EVP_PKEY_EC, "P-521"},
    {TC_TEP_X25519, "TCPCRYPT_ECDHE_Curve25519", 32, 32, EVP_PKEY_X25519, NULL},
    {TC_TEP_X448, "TCPCRYPT_ECDHE_Curve448", 56, 56, EVP_PKEY_X448, NULL},
};

const struct tc_tep *tc_tep_find(uint8_t id)
{
	for (size_t i = 0; i < sizeof(teps) / sizeof(teps[0]); i++)
		if (teps[i].id == (id & ~TC_TEP_V_BIT))
			return &teps[i];
	return NULL;
}

/* §8: tcpcrypt must not run before the CSPRNG is seeded. */
static int rng_ready(void)
{
	return RAND_status() == 1 ? TC_OK : TC_E_RNG;
}

int tc_tep_random(uint8_t *buf, size_t len)
{
	if (rng_ready() || RAND_bytes(buf, (int)len) != 1) {
		ERR_clear_error();
		return TC_E_RNG;
	}
	return TC_OK;
}

int tc_tep_key_take(const struct tc_keysrc *src, const struct tc_tep *tep, struct tc_tep_key *key)
{
	if (src && src->take && src->take(src->ctx, tep, key) == TC_OK) {
		if (key->tep == tep && key->pkey)
			return TC_OK;
		tc_tep_key_free(key); /* not what was asked for: never use it */
	}
	return tc_tep_keygen(tep, key);
}

int tc_tep_keygen(const struct tc_tep *tep, struct tc_tep_key *key)
{
	EVP_PKEY_CTX *ctx = NULL;
	int err;

	key->tep = tep;
	key->pkey = NULL;
	err = rng_ready();
	if (err)
		return err;
	err = TC_E_CRYPTO;
	ctx = EVP_PKEY_CTX_new_id(tep->evp_type, NULL);
	if (!ctx || EVP_PKEY_keygen_init(ctx) <= 0)
		goto out;
	if (tep->group && EVP_PKEY_CTX_set_group_name(ctx, tep->group) <= 0)
		goto out;
	if (EVP_PKEY_keygen(ctx, &key->pkey) <= 0)
		goto out;
	/* §5: the NIST Pub fields carry compressed points. */
	if (tep->group &&
	    !EVP_PKEY_set_utf8_string_param(key->pkey, OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT,
					    OSSL_PKEY_EC_POINT_CONVERSION_FORMAT_COMPRESSED))
		goto out;
	err = TC_OK;
out:
	EVP_PKEY_CTX_free(ctx);
	if (err) {
		tc_tep_key_free(key);
		ERR_clear_error();
	}
	return err;
}

int tc_tep_key_from_private(const struct tc_tep *tep, const uint8_t *priv, size_t len,
			    struct tc_tep_key *key)
{
	key->tep = tep;
	key->pkey = NULL;
	if (tep->group)
		return TC_E_UNSUPPORTED;
	if (len != tep->es_len)
		return TC_E_INVAL;
	key->pkey = EVP_PKEY_new_raw_private_key(tep->evp_type, NULL, priv, len);
	if (!key->pkey) {
		ERR_clear_error();
		return TC_E_CRYPTO;
	}
	return TC_OK;
}

void tc_tep_key_free(struct tc_tep_key *key)
{
	EVP_PKEY_free(key->pkey);
	key->pkey = NULL;
}

/*
 * Compressed point (IEEE 1363 §E.2.3, required by §5) from the uncompressed
 * one, 04 | x | y: 02 | x for even y, 03 | x for odd y.  Doing it here keeps
 * the wire format independent of the conversion form a key was created with.
 */
static int ec_pub_compressed(EVP_PKEY *pkey, uint8_t *out, size_t len)
{
	uint8_t point[1 + 2 * TC_TEP_ES_MAX];
	size_t n = 0;
	size_t flen = len - 1;

	if (!EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, point,
					     sizeof(point), &n) ||
	    n != 1 + 2 * flen || point[0] != 0x04)
		return TC_E_CRYPTO;
	out[0] = 0x02 | (point[n - 1] & 1);
	memcpy(out + 1, point + 1, flen);
	return TC_OK;
}

int tc_tep_pub_encode(const struct tc_tep_key *key, uint8_t *out, size_t cap)
{
	const struct tc_tep *tep = key->tep;
	size_t len = tep->pub_len;
	int err = TC_OK;

	if (cap < tep->pub_len)
		return TC_E_NOSPACE;
	if (tep->group) {
		out[0] = (tep->pub_len - 2) >> 8;
		out[1] = (tep->pub_len - 2) & 0xff;
		err = ec_pub_compressed(key->pkey, out + 2, tep->pub_len - 2);
	} else if (!EVP_PKEY_get_raw_public_key(key->pkey, out, &len) || len != tep->pub_len) {
		err = TC_E_CRYPTO;
	}
	if (err) {
		ERR_clear_error();
		return err;
	}
	return tep->pub_len;
}

int tc_tep_pub_span(const struct tc_tep *tep, const uint8_t *in, size_t avail)
{
	if (!tep->group)
		return tep->pub_len;
	if (avail < 2)
		return TC_E_NEED_MORE;
	/* §5: pubkey_len then a compressed point, so only one length is valid. */
	if ((size_t)(in[0] << 8 | in[1]) != tep->pub_len - 2u)
		return TC_E_MALFORMED;
	return tep->pub_len;
}

/* The peer's Pub field as an EVP_PKEY; NULL if it is not a valid encoding. */
static EVP_PKEY *peer_key(const struct tc_tep *tep, const uint8_t *pub, size_t len)
{
	EVP_PKEY_CTX *ctx;
	EVP_PKEY *peer = NULL;

	if (len != tep->pub_len)
		return NULL;
	if (!tep->group)
		return EVP_PKEY_new_raw_public_key(tep->evp_type, NULL, pub, len);
	/* Only the compressed form is allowed (§5); 0x00 would be the point at infinity. */
	if (tc_tep_pub_span(tep, pub, len) < 0 || (pub[2] != 0x02 && pub[2] != 0x03))
		return NULL;
	ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	if (ctx && EVP_PKEY_fromdata_init(ctx) > 0) {
		OSSL_PARAM params[] = {
		    OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)tep->group,
						     0),
		    OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, (void *)(pub + 2),
						      len - 2),
		    OSSL_PARAM_construct_end(),
		};

		if (EVP_PKEY_fromdata(ctx, &peer, EVP_PKEY_PUBLIC_KEY, params) <= 0)
			peer = NULL;
	}
	EVP_PKEY_CTX_free(ctx);
	return peer;
}

/* Public-key checks short of the n*Q = O test (see tc_tep_derive). */
static bool ec_point_valid(EVP_PKEY *peer)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, peer, NULL);
	bool ok = ctx && EVP_PKEY_public_check_quick(ctx) > 0;

	EVP_PKEY_CTX_free(ctx);
	return ok;
}

static bool all_zero(const uint8_t *p, size_t n)
{
	uint8_t acc = 0;

	for (size_t i = 0; i < n; i++)
		acc |= p[i];
	return acc == 0;
}

int tc_tep_derive(const struct tc_tep_key *own, const uint8_t *peer_pub, size_t peer_len,
		  uint8_t *es)
{
	const struct tc_tep *tep = own->tep;
	EVP_PKEY *peer = peer_key(tep, peer_pub, peer_len);
	EVP_PKEY_CTX *ctx = NULL;
	size_t es_len = tep->es_len;
	int err = TC_E_BAD_KEY;

	if (!peer)
		goto out;
	err = TC_E_CRYPTO;
	ctx = EVP_PKEY_CTX_new(own->pkey, NULL);
	if (!ctx || EVP_PKEY_derive_init(ctx) <= 0)
		goto out;
	/*
	 * IEEE 1363 §A.16.10 validation (§5): not the point at infinity,
	 * coordinates in range, on the curve; decompression in peer_key already
	 * put it on the curve.  P-256 and P-521 have cofactor 1, so every such
	 * point is in the prime-order group and the costly n*Q check of the full
	 * EVP_PKEY_public_check adds nothing.  X25519/X448 accept every
	 * u-coordinate; the all-zero check below catches low-order points.
	 */
	err = TC_E_BAD_KEY;
	if (tep->group && !ec_point_valid(peer))
		goto out;
	if (EVP_PKEY_derive_set_peer_ex(ctx, peer, 0) <= 0)
		goto out;
	/* OpenSSL refuses an all-zero X25519/X448 result (RFC 7748 §6): a peer fault. */
	if (EVP_PKEY_derive(ctx, es, &es_len) <= 0 || es_len != tep->es_len)
		goto out;
	if (all_zero(es, es_len))
		goto out;
	err = TC_OK;
out:
	if (err) {
		OPENSSL_cleanse(es, tep->es_len);
		ERR_clear_error();
	}
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(peer);
	return err;
}
