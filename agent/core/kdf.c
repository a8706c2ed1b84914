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

/* HMAC-SHA256(key, parts[0] | parts[1] | ...): HKDF's only building block. */
static int hmac_sha256(const uint8_t *key, size_t key_len, const struct part *parts, size_t nparts,
		       uint8_t out[HASH_LEN])
{
	OSSL_PARAM params[] = {
	    OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, "SHA256", 0),
	    OSSL_PARAM_construct_end(),
	};
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
	size_t out_len = 0;
	int err = TC_E_CRYPTO;

	if (!ctx)
		goto out;
	/* RFC 5869 §2.2: an absent salt is HashLen zero bytes; HMAC pads it the same way. */
	if (!EVP_MAC_init(ctx, key_len ? key : (const uint8_t *)"", key_len, params))
		goto out;
	for (size_t i = 0; i < nparts; i++)
		if (parts[i].n && !EVP_MAC_update(ctx, parts[i].p, parts[i].n))
			goto out;
	if (!EVP_MAC_final(ctx, out, &out_len, HASH_LEN) || out_len != HASH_LEN)
		goto out;
	err = TC_OK;
out:
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
	return err;
}

int tc_extract(const uint8_t *salt, size_t salt_len, const uint8_t *ikm, size_t ikm_len,
	       uint8_t prk[32])
{
	struct part ikm_part = {ikm, ikm_len};

	return hmac_sha256(salt, salt_len, &ikm_part, 1, prk);
}

/* HKDF-Expand (RFC 5869 §2.3): T(n) = HMAC(key, T(n-1) | info | n). */
int tc_cprf(const uint8_t *key, size_t key_len, const uint8_t *info, size_t info_len, uint8_t *out,
	    size_t out_len)
{
	uint8_t t[HASH_LEN];
	uint8_t n = 0;
	size_t t_len = 0;
	int err = TC_OK;

	if (out_len > 255 * HASH_LEN || !key_len)
		return TC_E_INVAL;
	for (size_t done = 0; done < out_len; done += t_len) {
		struct part parts[] = {{t, t_len}, {info, info_len}, {&(uint8_t){++n}, 1}};
		size_t take = out_len - done < HASH_LEN ? out_len - done : HASH_LEN;

		err = hmac_sha256(key, key_len, parts, 3, t);
		if (err)
			goto out;
		memcpy(out + done, t, take);
		t_len = HASH_LEN;
	}
out:
	OPENSSL_cleanse(t, sizeof(t));
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

	return hmac_sha256(n_a, 32, ikm, 4, prk);
}

/* CPRF(key, konst | sn, len): the shape of every derivation below. */
static int cprf_const(const uint8_t key[TC_K_LEN], uint8_t konst, const uint8_t *sn, size_t sn_len,
		      uint8_t *out, size_t out_len)
{
	uint8_t info[1 + TC_SN_MAX];

	if (sn_len > TC_SN_MAX)
		return TC_E_INVAL;
	info[0] = konst;
	if (sn_len)
		memcpy(info + 1, sn, sn_len);
	return tc_cprf(key, TC_K_LEN, info, 1 + sn_len, out, out_len);
}

int tc_ss_next(const uint8_t ss[TC_K_LEN], uint8_t next[TC_K_LEN])
{
	return cprf_const(ss, TC_CONST_NEXTK, NULL, 0, next, TC_K_LEN);
}

int tc_mk0(const uint8_t ss[TC_K_LEN], const uint8_t *sn, size_t sn_len, uint8_t mk[TC_K_LEN])
{
	return cprf_const(ss, TC_CONST_REKEY, sn, sn_len, mk, TC_K_LEN);
}

int tc_mk_next(const uint8_t mk[TC_K_LEN], uint8_t next[TC_K_LEN])
{
	return cprf_const(mk, TC_CONST_REKEY, NULL, 0, next, TC_K_LEN);
}

int tc_session_id(uint8_t tep_byte, const uint8_t ss[TC_K_LEN], const uint8_t *sn, size_t sn_len,
		  uint8_t id[TC_SESSID_LEN])
{
	id[0] = tep_byte;
	return cprf_const(ss, TC_CONST_SESSID, sn, sn_len, id + 1, TC_K_LEN);
}

int tc_resume(const uint8_t ss[TC_K_LEN], uint8_t resume[TC_RESUME_LEN])
{
	return cprf_const(ss, TC_CONST_RESUME, NULL, 0, resume, TC_RESUME_LEN);
}

int tc_traffic_key(const uint8_t mk[TC_K_LEN], uint8_t key_const, size_t key_len, size_t nonce_len,
		   struct tc_tk *tk)
{
	uint8_t k[TC_AE_KEY_MAX + TC_AE_NONCE_MAX];
	int err;

	if (key_len > TC_AE_KEY_MAX || nonce_len > TC_AE_NONCE_MAX)
		return TC_E_INVAL;
	err = cprf_const(mk, key_const, NULL, 0, k, key_len + nonce_len);
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
	int err;

	err = tc_mk0(ss, sn, sn_len, out->mk0);
	if (!err)
		err = tc_session_id(tep_byte, ss, sn, sn_len, out->session_id);
	if (!err)
		err = tc_ss_next(ss, out->ss_next);
	if (!err)
		err = tc_resume(out->ss_next, out->resume_next);
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
