/* SPDX-License-Identifier: MIT */
/* tcpcrypt key schedule: RFC 8548 §3.1, §3.3-§3.5, §3.8 over HMAC-SHA256. */
#include <string.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include "core/err.h"
#include "core/kdf.h"

#define HASH_LEN 32

struct part {
	const uint8_t *p;
	size_t n;
};

/*
 * An HMAC-SHA256 context keyed once and reused for every message under that
 * key: fetching and keying cost several times the hash itself, and one
 * session derives four values from ss[i] (§3.4, §3.5).
 */
struct hmac {
	EVP_MAC *mac;
	EVP_MAC_CTX *ctx;
};

static void hmac_close(struct hmac *h)
{
	/* Frees (and cleanses) the keyed state. */
	EVP_MAC_CTX_free(h->ctx);
	EVP_MAC_free(h->mac);
}

/* Key h with key; on an open h this replaces the key. */
static int hmac_key(struct hmac *h, const uint8_t *key, size_t key_len)
{
	OSSL_PARAM params[] = {
	    OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, "SHA256", 0),
	    OSSL_PARAM_construct_end(),
	};

	if (!h->ctx) {
		h->mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
		h->ctx = h->mac ? EVP_MAC_CTX_new(h->mac) : NULL;
		if (!h->ctx)
			return TC_E_CRYPTO;
	}
	/* HMAC pads an empty key to HashLen zero bytes, as RFC 5869 §2.2 wants for salt. */
	if (!EVP_MAC_init(h->ctx, key_len ? key : (const uint8_t *)"", key_len, params))
		return TC_E_CRYPTO;
	return TC_OK;
}

/* out = HMAC(key, parts[0] | parts[1] | ...) under h's current key. */
static int hmac_run(struct hmac *h, const struct part *parts, size_t nparts, uint8_t out[HASH_LEN])
{
	size_t out_len = 0;

	/* A NULL key restarts the MAC with the key already set. */
	if (!EVP_MAC_init(h->ctx, NULL, 0, NULL))
		return TC_E_CRYPTO;
	for (size_t i = 0; i < nparts; i++)
		if (parts[i].n && !EVP_MAC_update(h->ctx, parts[i].p, parts[i].n))
			return TC_E_CRYPTO;
	if (!EVP_MAC_final(h->ctx, out, &out_len, HASH_LEN) || out_len != HASH_LEN)
		return TC_E_CRYPTO;
	return TC_OK;
}

/* HMAC-SHA256(key, parts...) with a context of its own. */
static int hmac_once(const uint8_t *key, size_t key_len, const struct part *parts, size_t nparts,
		     uint8_t out[HASH_LEN])
{
	struct hmac h = {0};
	int err;

	err = hmac_key(&h, key, key_len);
	if (!err)
		err = hmac_run(&h, parts, nparts, out);
	hmac_close(&h);
	return err;
}

int tc_extract(const uint8_t *salt, size_t salt_len, const uint8_t *ikm, size_t ikm_len,
	       uint8_t prk[32])
{
	struct part ikm_part = {ikm, ikm_len};

	return hmac_once(salt, salt_len, &ikm_part, 1, prk);
}

/* HKDF-Expand (RFC 5869 §2.3) under h's key: T(n) = HMAC(key, T(n-1) | info | n). */
static int expand(struct hmac *h, const uint8_t *info, size_t info_len, uint8_t *out,
		  size_t out_len)
{
	uint8_t t[HASH_LEN];
	uint8_t n = 0;
	size_t t_len = 0;
	int err = TC_OK;

	if (out_len > 255 * HASH_LEN)
		return TC_E_INVAL;
	for (size_t done = 0; done < out_len; done += t_len) {
		struct part parts[] = {{t, t_len}, {info, info_len}, {&(uint8_t){++n}, 1}};
		size_t take = out_len - done < HASH_LEN ? out_len - done : HASH_LEN;

		err = hmac_run(h, parts, 3, t);
		if (err)
			goto out;
		memcpy(out + done, t, take);
		t_len = HASH_LEN;
	}
out:
	OPENSSL_cleanse(t, sizeof(t));
	return err;
}

int tc_cprf(const uint8_t *key, size_t key_len, const uint8_t *info, size_t info_len, uint8_t *out,
	    size_t out_len)
{
	struct hmac h = {0};
	int err;

	if (!key_len)
		return TC_E_INVAL;
	err = hmac_key(&h, key, key_len);
	if (!err)
		err = expand(&h, info, info_len, out, out_len);
	hmac_close(&h);
	return err;
}

int tc_prk(const uint8_t n_a[32], const uint8_t *transcript, size_t transcript_len,
	   const uint8_t *init1, size_t init1_len, const uint8_t *init2, size_t init2_len,
	   const uint8_t *es, size_t es_len, uint8_t prk[TC_K_LEN])
{
	struct part ikm[] = {
	    {transcript, transcript_len},
	    {init1, init1_len},
	    {init2, init2_len},
	    {es, es_len},
	};

	return hmac_once(n_a, 32, ikm, 4, prk);
}

/* CPRF(h's key, konst | sn, len): the shape of every derivation below. */
static int cprf_const(struct hmac *h, uint8_t konst, const uint8_t *sn, size_t sn_len, uint8_t *out,
		      size_t out_len)
{
	uint8_t info[1 + TC_SN_MAX];

	if (sn_len > TC_SN_MAX)
		return TC_E_INVAL;
	info[0] = konst;
	if (sn_len)
		memcpy(info + 1, sn, sn_len);
	return expand(h, info, 1 + sn_len, out, out_len);
}

/* cprf_const with a context of its own, keyed with a K_LEN key. */
static int cprf_const_once(const uint8_t key[TC_K_LEN], uint8_t konst, const uint8_t *sn,
			   size_t sn_len, uint8_t *out, size_t out_len)
{
	struct hmac h = {0};
	int err;

	err = hmac_key(&h, key, TC_K_LEN);
	if (!err)
		err = cprf_const(&h, konst, sn, sn_len, out, out_len);
	hmac_close(&h);
	return err;
}

int tc_ss_next(const uint8_t ss[TC_K_LEN], uint8_t next[TC_K_LEN])
{
	return cprf_const_once(ss, TC_CONST_NEXTK, NULL, 0, next, TC_K_LEN);
}

int tc_mk0(const uint8_t ss[TC_K_LEN], const uint8_t *sn, size_t sn_len, uint8_t mk[TC_K_LEN])
{
	return cprf_const_once(ss, TC_CONST_REKEY, sn, sn_len, mk, TC_K_LEN);
}

int tc_mk_next(const uint8_t mk[TC_K_LEN], uint8_t next[TC_K_LEN])
{
	return cprf_const_once(mk, TC_CONST_REKEY, NULL, 0, next, TC_K_LEN);
}

int tc_session_id(uint8_t tep_byte, const uint8_t ss[TC_K_LEN], const uint8_t *sn, size_t sn_len,
		  uint8_t id[TC_SESSID_LEN])
{
	id[0] = tep_byte;
	return cprf_const_once(ss, TC_CONST_SESSID, sn, sn_len, id + 1, TC_K_LEN);
}

int tc_resume(const uint8_t ss[TC_K_LEN], uint8_t resume[TC_RESUME_LEN])
{
	return cprf_const_once(ss, TC_CONST_RESUME, NULL, 0, resume, TC_RESUME_LEN);
}

int tc_traffic_key(const uint8_t mk[TC_K_LEN], uint8_t key_const, size_t key_len, size_t nonce_len,
		   struct tc_tk *tk)
{
	uint8_t k[TC_AE_KEY_MAX + TC_AE_NONCE_MAX];
	int err;

	if (key_len > TC_AE_KEY_MAX || nonce_len > TC_AE_NONCE_MAX)
		return TC_E_INVAL;
	err = cprf_const_once(mk, key_const, NULL, 0, k, key_len + nonce_len);
	if (!err) {
		memcpy(tk->key, k, key_len);
		memcpy(tk->nr, k + key_len, nonce_len);
		tk->key_len = key_len;
		tk->nonce_len = nonce_len;
	}
	OPENSSL_cleanse(k, sizeof(k));
	return err;
}

int tc_session_keys(const uint8_t ss[TC_K_LEN], uint8_t tep_byte, const uint8_t *sn, size_t sn_len,
		    struct tc_session_keys *out)
{
	struct hmac h = {0};
	int err;

	/* Three values from one keyed context over ss[i], then resume[i+1] over ss[i+1]. */
	out->session_id[0] = tep_byte;
	err = hmac_key(&h, ss, TC_K_LEN);
	if (!err)
		err = cprf_const(&h, TC_CONST_REKEY, sn, sn_len, out->mk0, TC_K_LEN);
	if (!err)
		err = cprf_const(&h, TC_CONST_SESSID, sn, sn_len, out->session_id + 1, TC_K_LEN);
	if (!err)
		err = cprf_const(&h, TC_CONST_NEXTK, NULL, 0, out->ss_next, TC_K_LEN);
	if (!err)
		err = hmac_key(&h, out->ss_next, TC_K_LEN);
	if (!err)
		err = cprf_const(&h, TC_CONST_RESUME, NULL, 0, out->resume_next, TC_RESUME_LEN);
	hmac_close(&h);
	if (err)
		tc_session_keys_wipe(out);
	return err;
}

void tc_session_keys_wipe(struct tc_session_keys *k)
{
	OPENSSL_cleanse(k, sizeof(*k));
}

void tc_tk_wipe(struct tc_tk *tk)
{
	OPENSSL_cleanse(tk, sizeof(*tk));
}
