/* SPDX-License-Identifier: MIT */
/*
 * tcpcrypt key schedule (RFC 8548 §3.3-§3.5, §4.3): HKDF-Extract and
 * HKDF-Expand over SHA-256 (the CPRF of all four TEPs, §5), and the named
 * derivations built from them.  Pure functions over byte strings; secrets
 * that pass through internal buffers are wiped with OPENSSL_cleanse.
 * The fixed-length helpers may write over their input (tc_ss_next(ss, ss)).
 * All functions return TC_OK or a negative enum tc_err.
 */
#ifndef TCPCRYPT_CORE_KDF_H
#define TCPCRYPT_CORE_KDF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "eno_role.h"

#define TC_K_LEN 32 /* K_LEN, §5 */

/* CPRF "CONST" values, RFC 8548 §4.3 Table 1 */
#define TC_CONST_NEXTK	0x01
#define TC_CONST_SESSID 0x02
#define TC_CONST_REKEY	0x03
#define TC_CONST_KEY_A	0x04
#define TC_CONST_KEY_B	0x05
#define TC_CONST_RESUME 0x06

#define TC_SESSID_LEN	   (1 + TC_K_LEN) /* TEP byte | CPRF output, §3.4 */
#define TC_RESUME_LEN	   18		  /* resume[i], §3.5 */
#define TC_RESUME_HALF_LEN 9		  /* identifier half in a SYN suboption */
#define TC_SN_MAX	   16		  /* sn[i] = nonce_a | nonce_b, 0..8 bytes each */
#define TC_AE_KEY_MAX	   32		  /* largest ae_key_len (§6) */
#define TC_AE_NONCE_MAX	   12		  /* largest ae_nonce_len (§6) */

/*
 * Roles are TCP-ENO's ENO_ROLE_A / ENO_ROLE_B (RFC 8547 §4.3; one encoding
 * with the maps, include/eno_role.h); they fix the traffic-key direction.
 * Per-role arrays of the core are indexed with tc_role_idx().
 */
static inline bool tc_role_valid(int role)
{
	return role == ENO_ROLE_A || role == ENO_ROLE_B;
}

/* 0 for A, 1 for B (role must be valid). */
static inline unsigned tc_role_idx(int role)
{
	return role == ENO_ROLE_B;
}

static inline int tc_role_other(int role)
{
	return role == ENO_ROLE_A ? ENO_ROLE_B : ENO_ROLE_A;
}

/* HKDF-Extract-SHA256: prk = HMAC-SHA256(salt, ikm) (RFC 8548 §3.1). */
int tc_extract(const uint8_t *salt, size_t salt_len, const uint8_t *ikm, size_t ikm_len,
	       uint8_t prk[32]);

/*
 * CPRF = HKDF-Expand-SHA256 (RFC 8548 §3.1, §5): out_len (<= 255*32) bytes
 * from key with info = CONST | ... given by the caller.
 */
int tc_cprf(const uint8_t *key, size_t key_len, const uint8_t *info, size_t info_len, uint8_t *out,
	    size_t out_len);

/*
 * PRK = Extract(N_A, eno_transcript | Init1 | Init2 | ES)  (§3.3).  init1 and
 * init2 are the messages exactly as transmitted (ignored bytes included).
 * PRK is ss[0].
 */
int tc_prk(const uint8_t n_a[32], const uint8_t *transcript, size_t transcript_len,
	   const uint8_t *init1, size_t init1_len, const uint8_t *init2, size_t init2_len,
	   const uint8_t *es, size_t es_len, uint8_t prk[TC_K_LEN]);

/* ss[i] = CPRF(ss[i-1], CONST_NEXTK, K_LEN)  (§3.5) */
int tc_ss_next(const uint8_t ss[TC_K_LEN], uint8_t next[TC_K_LEN]);

/* mk[0] = CPRF(ss[i], CONST_REKEY | sn[i], K_LEN); sn[0] is empty (§3.4, §3.5). */
int tc_mk0(const uint8_t ss[TC_K_LEN], const uint8_t *sn, size_t sn_len, uint8_t mk[TC_K_LEN]);

/* mk[j] = CPRF(mk[j-1], CONST_REKEY, K_LEN)  (§3.8) */
int tc_mk_next(const uint8_t mk[TC_K_LEN], uint8_t next[TC_K_LEN]);

/*
 * session_id[i] = tep_byte | CPRF(ss[i], CONST_SESSID | sn[i], K_LEN)  (§3.4).
 * tep_byte is the TEP identifier with the v bit host B sent (0x23 fresh,
 * 0xa3 resumed, ...).
 */
int tc_session_id(uint8_t tep_byte, const uint8_t ss[TC_K_LEN], const uint8_t *sn, size_t sn_len,
		  uint8_t id[TC_SESSID_LEN]);

/*
 * resume[i] = CPRF(ss[i], CONST_RESUME, 18)  (§3.5).  The original host A
 * sends resume[i]{0..8}, the original host B resume[i]{9..17}.
 */
int tc_resume(const uint8_t ss[TC_K_LEN], uint8_t resume[TC_RESUME_LEN]);

static inline const uint8_t *tc_resume_half(const uint8_t resume[TC_RESUME_LEN], int orig_role)
{
	return resume + (tc_role_idx(orig_role) * TC_RESUME_HALF_LEN);
}

/* A traffic key k_ab[j] or k_ba[j] split into AEAD key K and nonce randomizer NR (§3.6). */
struct tc_tk {
	uint8_t key[TC_AE_KEY_MAX];
	uint8_t nr[TC_AE_NONCE_MAX];
	uint8_t key_len;
	uint8_t nonce_len;
};

/*
 * k = CPRF(mk[j], key_const, ae_key_len + ae_nonce_len), split into K | NR
 * (§3.3, §3.6).  key_const is TC_CONST_KEY_A (k_ab) or TC_CONST_KEY_B (k_ba).
 */
int tc_traffic_key(const uint8_t mk[TC_K_LEN], uint8_t key_const, size_t key_len, size_t nonce_len,
		   struct tc_tk *tk);

/*
 * The key constant a host encrypts with: k_ab if it was host A in the
 * session that produced ss[0], k_ba otherwise (§3.3, §3.5); it decrypts with
 * the other one.
 */
static inline uint8_t tc_send_const(int orig_role)
{
	return orig_role == ENO_ROLE_A ? TC_CONST_KEY_A : TC_CONST_KEY_B;
}

static inline uint8_t tc_recv_const(int orig_role)
{
	return orig_role == ENO_ROLE_A ? TC_CONST_KEY_B : TC_CONST_KEY_A;
}

/*
 * Everything one session derives from ss[i] and sn[i] (§3.4, §3.5): the
 * master key mk[0], the session ID, and ss[i+1] with its resume[i+1] for the
 * session cache.  The caller erases ss[i] once this returns (§3.5).
 */
struct tc_session_keys {
	uint8_t mk0[TC_K_LEN];
	uint8_t session_id[TC_SESSID_LEN];
	uint8_t ss_next[TC_K_LEN];
	uint8_t resume_next[TC_RESUME_LEN];
};

int tc_session_keys(const uint8_t ss[TC_K_LEN], uint8_t tep_byte, const uint8_t *sn, size_t sn_len,
		    struct tc_session_keys *out);

/* OPENSSL_cleanse over a struct tc_session_keys / struct tc_tk. */
void tc_session_keys_wipe(struct tc_session_keys *k);
void tc_tk_wipe(struct tc_tk *tk);

#endif
