/* SPDX-License-Identifier: MIT */
/*
 * One host's side of a fresh tcpcrypt key exchange (RFC 8548 §3.3): key
 * pair and nonce generation, its own Init message, the peer's Init message,
 * ES, PRK = ss[0] and everything derived from it.  Stream buffering and
 * retransmission stay with the caller, which hands over the peer's message
 * once tc_init1_decode/tc_init2_decode says it is complete.
 *
 *   A: tc_hs_init1() -> send hs.msg ... receive Init2 -> tc_hs_finish_a()
 *   B: receive Init1 -> tc_hs_respond_b() -> send hs.msg
 */
#ifndef TCPCRYPT_CORE_HANDSHAKE_H
#define TCPCRYPT_CORE_HANDSHAKE_H

#include <stddef.h>
#include <stdint.h>
#include "core/aead.h"
#include "core/init.h"
#include "core/kdf.h"
#include "core/tep.h"

struct tc_hs {
	int role; /* ENO_ROLE_A or ENO_ROLE_B */
	const struct tc_tep *tep;
	struct tc_tep_key key;
	struct tc_init1 init1; /* A: what it sent; B: what it received */
	size_t msg_len;
	uint8_t msg[TC_INIT_OWN_MAX]; /* this host's Init message, as sent */
};

/* What a completed exchange yields for the session (§3.3-§3.5). */
struct tc_hs_result {
	const struct tc_aead_alg *aead; /* negotiated sym_cipher */
	struct tc_session_keys keys;	/* mk[0], session_id[0], ss[1], resume[1] */
};

/*
 * Host A: generate a key pair and N_A, and build Init1 offering ciphers (in
 * A's order) into hs->msg.  Returns TC_OK, TC_E_RNG, TC_E_INVAL (no ciphers,
 * more than 255), TC_E_UNSUPPORTED (unknown TEP) or TC_E_CRYPTO.
 */
int tc_hs_init1(struct tc_hs *hs, const struct tc_tep *tep, const uint16_t *ciphers, size_t n);

/*
 * Host B: decode the complete Init1 (init1_len bytes as received), choose the
 * AEAD from pref, generate a key pair and N_B, build Init2 into hs->msg and
 * derive the session keys.  transcript is the ENO transcript (RFC 8547
 * §4.8).  Returns TC_OK or a negative tc_err (decode errors, TC_E_BAD_CIPHER,
 * TC_E_BAD_KEY, TC_E_RNG, ...).
 */
int tc_hs_respond_b(struct tc_hs *hs, const struct tc_tep *tep, const uint16_t *pref, size_t npref,
		    const uint8_t *transcript, size_t transcript_len, const uint8_t *init1,
		    size_t init1_len, struct tc_hs_result *res);

/*
 * Host A: decode the complete Init2, check its sym_cipher, derive the session
 * keys.  Returns TC_OK or a negative tc_err (TC_E_BAD_CIPHER, TC_E_BAD_KEY, ...).
 */
int tc_hs_finish_a(struct tc_hs *hs, const uint8_t *transcript, size_t transcript_len,
		   const uint8_t *init2, size_t init2_len, struct tc_hs_result *res);

/* Same as tc_hs_init1/tc_hs_respond_b, the key pair from src (tc_tep_key_take). */
int tc_hs_init1_from(struct tc_hs *hs, const struct tc_keysrc *src, const struct tc_tep *tep,
		     const uint16_t *ciphers, size_t n);
int tc_hs_respond_b_from(struct tc_hs *hs, const struct tc_keysrc *src, const struct tc_tep *tep,
			 const uint16_t *pref, size_t npref, const uint8_t *transcript,
			 size_t transcript_len, const uint8_t *init1, size_t init1_len,
			 struct tc_hs_result *res);

/*
 * Same as tc_hs_init1/tc_hs_respond_b with a given key pair and nonce (test
 * vectors, benchmarks).  hs takes over *key (it is zeroed here, freed by
 * tc_hs_free).
 */
int tc_hs_init1_with(struct tc_hs *hs, struct tc_tep_key *key, const uint8_t n_a[TC_NONCE_LEN],
		     const uint16_t *ciphers, size_t n);
int tc_hs_respond_b_with(struct tc_hs *hs, struct tc_tep_key *key, const uint8_t n_b[TC_NONCE_LEN],
			 const uint16_t *pref, size_t npref, const uint8_t *transcript,
			 size_t transcript_len, const uint8_t *init1, size_t init1_len,
			 struct tc_hs_result *res);

/* Free the key pair and wipe hs.  Safe on a zeroed hs. */
void tc_hs_free(struct tc_hs *hs);

#endif
