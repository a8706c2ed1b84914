/* SPDX-License-Identifier: MIT */
/* One host's side of a fresh key exchange (RFC 8548 §3.3, §3.4). */
#include <string.h>
#include <openssl/crypto.h>
#include "core/err.h"
#include "core/handshake.h"

/* Take over *key, so that tc_hs_free releases it whatever happens next. */
static void adopt_key(struct tc_hs *hs, int role, struct tc_tep_key *key)
{
	memset(hs, 0, sizeof(*hs));
	hs->role = role;
	hs->tep = key->tep;
	hs->key = *key;
	key->pkey = NULL;
}

int tc_hs_init1_with(struct tc_hs *hs, struct tc_tep_key *key, const uint8_t n_a[TC_NONCE_LEN],
		     const uint16_t *ciphers, size_t n)
{
	struct tc_init1 *i1 = &hs->init1;
	int len;

	adopt_key(hs, ENO_ROLE_A, key);
	if (!n || n > TC_INIT_MAX_CIPHERS)
		return TC_E_INVAL;
	i1->nciphers = n;
	memcpy(i1->ciphers, ciphers, n * sizeof(*ciphers));
	memcpy(i1->nonce, n_a, TC_NONCE_LEN);
	len = tc_tep_pub_encode(&hs->key, i1->pub, sizeof(i1->pub));
	if (len < 0)
		return len;
	i1->pub_len = len;
	len = tc_init1_encode(i1, hs->msg, sizeof(hs->msg));
	if (len < 0)
		return len;
	hs->msg_len = len;
	i1->message_len = len;
	return TC_OK;
}

int tc_hs_init1_from(struct tc_hs *hs, const struct tc_keysrc *src, const struct tc_tep *tep,
		     const uint16_t *ciphers, size_t n)
{
	struct tc_tep_key key;
	uint8_t n_a[TC_NONCE_LEN];
	int err;

	memset(hs, 0, sizeof(*hs));
	if (!tep)
		return TC_E_UNSUPPORTED;
	err = tc_tep_random(n_a, sizeof(n_a));
	if (!err)
		err = tc_tep_key_take(src, tep, &key);
	if (!err)
		err = tc_hs_init1_with(hs, &key, n_a, ciphers, n);
	return err;
}

int tc_hs_init1(struct tc_hs *hs, const struct tc_tep *tep, const uint16_t *ciphers, size_t n)
{
	return tc_hs_init1_from(hs, NULL, tep, ciphers, n);
}

/* ES, PRK = ss[0] and the session keys from it (§3.3, §3.4); wipes ES and PRK. */
static int derive(struct tc_hs *hs, const uint8_t *peer_pub, size_t peer_pub_len,
		  const uint8_t *transcript, size_t transcript_len, const uint8_t *init1,
		  size_t init1_len, const uint8_t *init2, size_t init2_len,
		  struct tc_hs_result *res)
{
	uint8_t es[TC_TEP_ES_MAX], prk[TC_K_LEN];
	int err;

	err = tc_tep_derive(&hs->key, peer_pub, peer_pub_len, es);
	if (err)
		goto out;
	err = tc_prk(hs->init1.nonce, transcript, transcript_len, init1, init1_len, init2,
		     init2_len, es, hs->tep->es_len, prk);
	if (err)
		goto out;
	/* Fresh session: TEP byte with v = 0, sn[0] empty (§3.4). */
	err = tc_session_keys(prk, hs->tep->id, NULL, 0, &res->keys);
out:
	OPENSSL_cleanse(es, sizeof(es));
	OPENSSL_cleanse(prk, sizeof(prk));
	return err;
}

int tc_hs_respond_b_with(struct tc_hs *hs, struct tc_tep_key *key, const uint8_t n_b[TC_NONCE_LEN],
			 const uint16_t *pref, size_t npref, const uint8_t *transcript,
			 size_t transcript_len, const uint8_t *init1, size_t init1_len,
			 struct tc_hs_result *res)
{
	struct tc_init2 i2 = {0};
	int len;

	adopt_key(hs, ENO_ROLE_B, key);
	len = tc_init1_decode(hs->tep, init1, init1_len, &hs->init1, NULL);
	if (len < 0)
		return len == TC_E_NEED_MORE ? TC_E_INVAL : len;
	if ((size_t)len != init1_len)
		return TC_E_INVAL;
	len = tc_init_choose_cipher(pref, npref, &hs->init1, &i2.cipher);
	if (len < 0)
		return len;
	res->aead = tc_aead_find(i2.cipher);
	memcpy(i2.nonce, n_b, TC_NONCE_LEN);
	len = tc_tep_pub_encode(&hs->key, i2.pub, sizeof(i2.pub));
	if (len < 0)
		return len;
	i2.pub_len = len;
	len = tc_init2_encode(&i2, hs->msg, sizeof(hs->msg));
	if (len < 0)
		return len;
	hs->msg_len = len;
	return derive(hs, hs->init1.pub, hs->init1.pub_len, transcript, transcript_len, init1,
		      init1_len, hs->msg, hs->msg_len, res);
}

int tc_hs_respond_b_from(struct tc_hs *hs, const struct tc_keysrc *src, const struct tc_tep *tep,
			 const uint16_t *pref, size_t npref, const uint8_t *transcript,
			 size_t transcript_len, const uint8_t *init1, size_t init1_len,
			 struct tc_hs_result *res)
{
	struct tc_tep_key key;
	uint8_t n_b[TC_NONCE_LEN];
	int err;

	memset(hs, 0, sizeof(*hs));
	if (!tep)
		return TC_E_UNSUPPORTED;
	err = tc_tep_random(n_b, sizeof(n_b));
	if (!err)
		err = tc_tep_key_take(src, tep, &key);
	if (!err)
		err = tc_hs_respond_b_with(hs, &key, n_b, pref, npref, transcript, transcript_len,
					   init1, init1_len, res);
	return err;
}

int tc_hs_respond_b(struct tc_hs *hs, const struct tc_tep *tep, const uint16_t *pref, size_t npref,
		    const uint8_t *transcript, size_t transcript_len, const uint8_t *init1,
		    size_t init1_len, struct tc_hs_result *res)
{
	return tc_hs_respond_b_from(hs, NULL, tep, pref, npref, transcript, transcript_len, init1,
				    init1_len, res);
}

int tc_hs_finish_a(struct tc_hs *hs, const uint8_t *transcript, size_t transcript_len,
		   const uint8_t *init2, size_t init2_len, struct tc_hs_result *res)
{
	struct tc_init2 i2;
	int len;

	if (hs->role != ENO_ROLE_A || !hs->msg_len)
		return TC_E_STATE;
	len = tc_init2_decode(hs->tep, init2, init2_len, &i2, NULL);
	if (len < 0)
		return len == TC_E_NEED_MORE ? TC_E_INVAL : len;
	if ((size_t)len != init2_len)
		return TC_E_INVAL;
	len = tc_init2_check_cipher(&hs->init1, &i2);
	if (len < 0)
		return len;
	res->aead = tc_aead_find(i2.cipher);
	return derive(hs, i2.pub, i2.pub_len, transcript, transcript_len, hs->msg, hs->msg_len,
		      init2, init2_len, res);
}

void tc_hs_free(struct tc_hs *hs)
{
	tc_tep_key_free(&hs->key);
	OPENSSL_cleanse(hs, sizeof(*hs));
}
