/* SPDX-License-Identifier: MIT */
/* tcpcrypt AEAD algorithms (RFC 8548 §6, §7) over OpenSSL EVP. */
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include "core/aead.h"
#include "core/err.h"

static const struct tc_aead_alg algs[] = {
    {TC_AEAD_AES_128_GCM, 16, 12, "AEAD_AES_128_GCM", EVP_aes_128_gcm},
    {TC_AEAD_AES_256_GCM, 32, 12, "AEAD_AES_256_GCM", EVP_aes_256_gcm},
    {TC_AEAD_CHACHA20_POLY1305, 32, 12, "AEAD_CHACHA20_POLY1305", EVP_chacha20_poly1305},
};

const uint16_t tc_aead_default_pref[] = {
    TC_AEAD_AES_128_GCM,
    TC_AEAD_AES_256_GCM,
    TC_AEAD_CHACHA20_POLY1305,
};
const size_t tc_aead_default_pref_len = sizeof(tc_aead_default_pref) / sizeof(uint16_t);

size_t tc_aead_pref_first(uint16_t first, uint16_t *out)
{
	bool known = first && tc_aead_find(first);
	size_t n = 0;

	if (known)
		out[n++] = first;
	for (size_t i = 0; i < tc_aead_default_pref_len; i++)
		if (!known || tc_aead_default_pref[i] != first)
			out[n++] = tc_aead_default_pref[i];
	return n;
}

const struct tc_aead_alg *tc_aead_find(uint16_t id)
{
	for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++)
		if (algs[i].id == id)
			return &algs[i];
	return NULL;
}

int tc_aead_init(struct tc_aead *a, const struct tc_aead_alg *alg, const uint8_t *key, bool seal)
{
	bool fresh = !a->ctx || a->alg != alg || a->seal != seal;

	if (fresh) {
		tc_aead_free(a);
		a->ctx = EVP_CIPHER_CTX_new();
		if (!a->ctx)
			return TC_E_NOMEM;
		a->alg = alg;
		a->seal = seal;
		/* The key schedule runs once here; frames only set the IV. */
		if (!EVP_CipherInit_ex(a->ctx, alg->evp(), NULL, NULL, NULL, seal))
			goto fail;
		if (!EVP_CIPHER_CTX_ctrl(a->ctx, EVP_CTRL_AEAD_SET_IVLEN, alg->nonce_len, NULL))
			goto fail;
	}
	if (EVP_CipherInit_ex(a->ctx, NULL, NULL, key, NULL, seal))
		return TC_OK;
fail:
	tc_aead_free(a);
	return TC_E_CRYPTO;
}

void tc_aead_free(struct tc_aead *a)
{
	/* EVP_CIPHER_CTX_free cleanses the key schedule. */
	EVP_CIPHER_CTX_free(a->ctx);
	a->ctx = NULL;
	a->alg = NULL;
}

/* Set the nonce for one message and feed the associated data. */
static int begin(struct tc_aead *a, const uint8_t *nonce, const uint8_t *ad, size_t ad_len)
{
	int n;

	if (!EVP_CipherInit_ex(a->ctx, NULL, NULL, NULL, nonce, a->seal))
		return TC_E_CRYPTO;
	if (ad_len && !EVP_CipherUpdate(a->ctx, NULL, &n, ad, (int)ad_len))
		return TC_E_CRYPTO;
	return TC_OK;
}

int tc_aead_seal(struct tc_aead *a, const uint8_t *nonce, const uint8_t *ad, size_t ad_len,
		 const uint8_t *in, size_t len, uint8_t *out)
{
	int n, fin;

	if (!a->ctx || !a->seal || len > INT32_MAX)
		return TC_E_INVAL;
	if (begin(a, nonce, ad, ad_len))
		return TC_E_CRYPTO;
	if (len && !EVP_CipherUpdate(a->ctx, out, &n, in, (int)len))
		return TC_E_CRYPTO;
	if (!EVP_CipherFinal_ex(a->ctx, out + len, &fin))
		return TC_E_CRYPTO;
	if (!EVP_CIPHER_CTX_ctrl(a->ctx, EVP_CTRL_AEAD_GET_TAG, TC_AEAD_TAG_LEN, out + len))
		return TC_E_CRYPTO;
	return TC_OK;
}

int tc_aead_seal2(struct tc_aead *a, const uint8_t *nonce, const uint8_t *ad, size_t ad_len,
		  const uint8_t *in1, size_t len1, const uint8_t *in2, size_t len2, uint8_t *out)
{
	int n, fin;

	if (!a->ctx || !a->seal || len1 > INT32_MAX || len2 > INT32_MAX - len1)
		return TC_E_INVAL;
	if (begin(a, nonce, ad, ad_len))
		return TC_E_CRYPTO;
	if (len1 && !EVP_CipherUpdate(a->ctx, out, &n, in1, (int)len1))
		return TC_E_CRYPTO;
	if (len2 && !EVP_CipherUpdate(a->ctx, out + len1, &n, in2, (int)len2))
		return TC_E_CRYPTO;
	if (!EVP_CipherFinal_ex(a->ctx, out + len1 + len2, &fin))
		return TC_E_CRYPTO;
	if (!EVP_CIPHER_CTX_ctrl(a->ctx, EVP_CTRL_AEAD_GET_TAG, TC_AEAD_TAG_LEN, out + len1 + len2))
		return TC_E_CRYPTO;
	return TC_OK;
}

int tc_aead_open(struct tc_aead *a, const uint8_t *nonce, const uint8_t *ad, size_t ad_len,
		 const uint8_t *in, size_t ct_len, uint8_t *out)
{
	uint8_t tag[TC_AEAD_TAG_LEN];
	size_t len;
	int n, fin;

	if (!a->ctx || a->seal || ct_len > INT32_MAX)
		return TC_E_INVAL;
	if (ct_len < TC_AEAD_TAG_LEN)
		return TC_E_MALFORMED;
	len = ct_len - TC_AEAD_TAG_LEN;
	/* Copy the tag first: in may equal out, and decryption overwrites in place. */
	memcpy(tag, in + len, TC_AEAD_TAG_LEN);
	if (begin(a, nonce, ad, ad_len))
		return TC_E_CRYPTO;
	if (len && !EVP_CipherUpdate(a->ctx, out, &n, in, (int)len))
		return TC_E_CRYPTO;
	if (!EVP_CIPHER_CTX_ctrl(a->ctx, EVP_CTRL_AEAD_SET_TAG, TC_AEAD_TAG_LEN, tag))
		return TC_E_CRYPTO;
	if (!EVP_CipherFinal_ex(a->ctx, out + len, &fin)) {
		OPENSSL_cleanse(out, len);
		return TC_E_AUTH;
	}
	return TC_OK;
}
