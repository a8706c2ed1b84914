/* SPDX-License-Identifier: MIT */
/* Key schedule: the worked example of docs/rfc-notes.md and the openssl CLI as references. */
#include "core/aead.h"
#include "core/err.h"
#include "core/frame.h"
#include "core/handshake.h"
#include "core/kdf.h"
#include "core_util.h"
#include "t.h"

/* Expected values of docs/rfc-notes.md#worked-example-not-official (Python `cryptography`). */
static const char *const T214_INIT1 =
    "15101a0e0000004b010001"
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
    "8f40c5adb68f25624ae5b214ea767a6ec94d829d3d7b5e1ad1ba6f3e2138285f";
static const char *const T214_INIT2 =
    "097105e00000004a0001"
    "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
    "358072d6365880d1aeea329adf9121383851ed21a28e3b75e965d0d2cd166254";
static const char *const T214_ES =
    "9663aa1da97e848a914a436d04163dfbb89178f107f1b5b77ed3854203382854";
static const char *const T214_PRK =
    "ea4ddea9f1aced5a8112acfdd403e530ea6390d18eda7e9ebe93a9e2467d0a05";
static const char *const T214_SID =
    "23d55faa974b0addf2b771f0f70b1f774ca233b6d7eb8a485ce5702b035e25c6ad";
static const char *const T214_MK0 =
    "39114b7ed14087124c9c3d90d38860b2f4dd7802f846c5581032cc2a67b02914";
static const char *const T214_MK1 =
    "427de72df36cc785229a995b3f157df81e10aa87c99cbb2193eff8340b23ed18";
static const char *const T214_K_AB0 = "3fd3a80a0ed6c42a01395d69db4ea41a | c3b54ef48212b495835f4904";
static const char *const T214_K_BA0 = "d9c4c257480090b0e24f73ea7d4120456b4af0fb712ceb580a65baca";
static const char *const T214_SS1 =
    "21bb77974d21e0f64e1a88174c7e40e073d8cb10bf0dd332a17d03babba4ad93";
static const char *const T214_RESUME1 = "f2a323880755ab3467 | 08d73b755ee8d18ec8";
static const char *const T214_FRAME = "00 0016 49367261d485add97aff293dce556ef305e6290d9d47";

#define CHECK_HEX(buf, len, hex)                                                                   \
	do {                                                                                       \
		uint8_t want_[256];                                                                \
		size_t wn_ = unhex(hex, want_, sizeof(want_));                                     \
		CHECK_EQ((len), wn_);                                                              \
		CHECK_MEM((buf), want_, wn_);                                                      \
	} while (0)

/* Both sides of the worked-example handshake through the public API. */
struct t214 {
	struct tc_hs a, b;
	struct tc_hs_result ra, rb;
};

static void t214_run(struct t214 *t)
{
	uint8_t priv_a[32], priv_b[32], n_a[32], n_b[32];
	const struct tc_tep *tep = tc_tep_find(TC_TEP_X25519);
	const uint16_t ciphers[] = {TC_AEAD_AES_128_GCM};
	struct tc_tep_key ka, kb;

	t214_inputs(priv_a, priv_b, n_a, n_b);
	CHECK_EQ(tc_tep_key_from_private(tep, priv_a, 32, &ka), TC_OK);
	CHECK_EQ(tc_tep_key_from_private(tep, priv_b, 32, &kb), TC_OK);
	CHECK_EQ(tc_hs_init1_with(&t->a, &ka, n_a, ciphers, 1), TC_OK);
	CHECK_EQ(tc_hs_respond_b_with(&t->b, &kb, n_b, ciphers, 1, t214_transcript,
				      sizeof(t214_transcript), t->a.msg, t->a.msg_len, &t->rb),
		 TC_OK);
	CHECK_EQ(tc_hs_finish_a(&t->a, t214_transcript, sizeof(t214_transcript), t->b.msg,
				t->b.msg_len, &t->ra),
		 TC_OK);
}

static void t214_free(struct t214 *t)
{
	tc_hs_free(&t->a);
	tc_hs_free(&t->b);
}

T(t214_handshake_messages_and_keys)
{
	struct t214 t;

	t214_run(&t);
	CHECK_HEX(t.a.msg, t.a.msg_len, T214_INIT1);
	CHECK_HEX(t.b.msg, t.b.msg_len, T214_INIT2);
	CHECK(t.ra.aead && t.ra.aead->id == TC_AEAD_AES_128_GCM);
	CHECK(t.rb.aead == t.ra.aead);
	CHECK_HEX(t.ra.keys.session_id, sizeof(t.ra.keys.session_id), T214_SID);
	CHECK_HEX(t.ra.keys.mk0, sizeof(t.ra.keys.mk0), T214_MK0);
	CHECK_HEX(t.ra.keys.ss_next, sizeof(t.ra.keys.ss_next), T214_SS1);
	CHECK_HEX(t.ra.keys.resume_next, sizeof(t.ra.keys.resume_next), T214_RESUME1);
	CHECK_MEM(&t.ra.keys, &t.rb.keys, sizeof(t.ra.keys));
	t214_free(&t);
}

T(t214_es_prk_and_chain)
{
	uint8_t priv_a[32], priv_b[32], n_a[32], n_b[32], es[32], prk[32], mk1[32], ss1[32];
	uint8_t pub_b[32], sid[TC_SESSID_LEN], resume[TC_RESUME_LEN], i1[75], i2[74];
	const struct tc_tep *tep = tc_tep_find(TC_TEP_X25519);
	struct tc_tep_key ka, kb;
	struct tc_tk k_ab, k_ba;

	t214_inputs(priv_a, priv_b, n_a, n_b);
	CHECK_EQ(tc_tep_key_from_private(tep, priv_a, 32, &ka), TC_OK);
	CHECK_EQ(tc_tep_key_from_private(tep, priv_b, 32, &kb), TC_OK);
	CHECK_EQ(tc_tep_pub_encode(&kb, pub_b, sizeof(pub_b)), 32);
	CHECK_EQ(tc_tep_derive(&ka, pub_b, 32, es), TC_OK);
	CHECK_HEX(es, 32, T214_ES);
	CHECK_EQ(unhex(T214_INIT1, i1, sizeof(i1)), 75);
	CHECK_EQ(unhex(T214_INIT2, i2, sizeof(i2)), 74);
	CHECK_EQ(tc_prk(n_a, t214_transcript, sizeof(t214_transcript), i1, 75, i2, 74, es, 32, prk),
		 TC_OK);
	CHECK_HEX(prk, 32, T214_PRK);
	CHECK_EQ(tc_session_id(TC_TEP_X25519, prk, NULL, 0, sid), TC_OK);
	CHECK_HEX(sid, sizeof(sid), T214_SID);
	CHECK_EQ(tc_mk0(prk, NULL, 0, mk1), TC_OK);
	CHECK_HEX(mk1, 32, T214_MK0);
	CHECK_EQ(tc_traffic_key(mk1, TC_CONST_KEY_A, 16, 12, &k_ab), TC_OK);
	CHECK_EQ(tc_traffic_key(mk1, TC_CONST_KEY_B, 16, 12, &k_ba), TC_OK);
	CHECK_HEX(k_ab.key, 16, "3fd3a80a0ed6c42a01395d69db4ea41a");
	CHECK_HEX(k_ab.nr, 12, "c3b54ef48212b495835f4904");
	{
		uint8_t both[28];

		memcpy(both, k_ab.key, 16);
		memcpy(both + 16, k_ab.nr, 12);
		CHECK_HEX(both, 28, T214_K_AB0);
		memcpy(both, k_ba.key, 16);
		memcpy(both + 16, k_ba.nr, 12);
		CHECK_HEX(both, 28, T214_K_BA0);
	}
	CHECK_EQ(tc_mk_next(mk1, mk1), TC_OK); /* in place: mk[0] -> mk[1] */
	CHECK_HEX(mk1, 32, T214_MK1);
	CHECK_EQ(tc_ss_next(prk, ss1), TC_OK);
	CHECK_HEX(ss1, 32, T214_SS1);
	CHECK_EQ(tc_resume(ss1, resume), TC_OK);
	CHECK_HEX(resume, sizeof(resume), T214_RESUME1);
	CHECK_HEX(tc_resume_half(resume, ENO_ROLE_A), 9, "f2a323880755ab3467");
	CHECK_HEX(tc_resume_half(resume, ENO_ROLE_B), 9, "08d73b755ee8d18ec8");
	tc_tep_key_free(&ka);
	tc_tep_key_free(&kb);
}

T(t214_first_frame_of_a)
{
	struct t214 t;
	struct tc_frame_enc enc;
	struct tc_frame_dec *dec = calloc(1, sizeof(*dec));
	struct tc_frame_msg msg;
	uint8_t frame[64];
	size_t used;
	int n;

	t214_run(&t);
	CHECK_EQ(tc_frame_enc_init(&enc, t.ra.aead, t.ra.keys.mk0, ENO_ROLE_A, t.a.msg_len), TC_OK);
	n = tc_frame_seal(&enc, (const uint8_t *)"hello", 5, 0, 0, frame, sizeof(frame));
	CHECK_EQ(n, 25);
	CHECK_HEX(frame, (size_t)n, T214_FRAME);
	/* Host B reads it at offset len(Init1) = 75 with k_ab. */
	CHECK_EQ(tc_frame_dec_init(dec, t.rb.aead, t.rb.keys.mk0, ENO_ROLE_B, 75), TC_OK);
	CHECK_EQ(tc_frame_dec_feed(dec, frame, n, &used, &msg), TC_OK);
	CHECK_EQ(used, 25);
	CHECK_EQ(msg.len, 5);
	CHECK_MEM(msg.data, "hello", 5);
	CHECK_EQ(msg.offset, 75);
	tc_frame_enc_free(&enc);
	tc_frame_dec_free(dec);
	free(dec);
	t214_free(&t);
}

/* openssl kdf HKDF in one mode; returns the byte count or -1. */
static int cli_hkdf(const char *mode, const char *salt_opt, const uint8_t *key, size_t key_len,
		    const uint8_t *info, size_t info_len, size_t out_len, uint8_t *out)
{
	char keyhex[2 * 1024 + 1], infohex[2 * 64 + 1], cmd[4096];

	tohex(key, key_len, keyhex);
	tohex(info, info_len, infohex);
	snprintf(cmd, sizeof(cmd),
		 "openssl kdf -keylen %zu -kdfopt digest:SHA256 -kdfopt mode:%s %s "
		 "-kdfopt hexkey:%s %s%s HKDF 2>/dev/null",
		 out_len, mode, salt_opt, keyhex, info_len ? "-kdfopt hexinfo:" : "",
		 info_len ? infohex : "");
	return run_hex(cmd, out, out_len);
}

T(openssl_cli_extract_and_expand)
{
	uint32_t seed = 0x5eed1234;
	uint8_t salt[32], ikm[300], info[20], ours[128], ref[128];
	char salt_opt[100];

	for (int round = 0; round < 4; round++) {
		size_t ikm_len = 1 + test_rand(&seed) % sizeof(ikm);
		size_t info_len = 1 + test_rand(&seed) % sizeof(info);
		size_t out_len = 1 + test_rand(&seed) % sizeof(ours);

		test_fill(salt, sizeof(salt), &seed);
		test_fill(ikm, ikm_len, &seed);
		test_fill(info, info_len, &seed);
		memcpy(salt_opt, "-kdfopt hexsalt:", 16);
		tohex(salt, 32, salt_opt + 16);
		CHECK_EQ(tc_extract(salt, 32, ikm, ikm_len, ours), TC_OK);
		CHECK_EQ(cli_hkdf("EXTRACT_ONLY", salt_opt, ikm, ikm_len, NULL, 0, 32, ref), 32);
		CHECK_MEM(ours, ref, 32);
		CHECK_EQ(tc_cprf(ikm, 32, info, info_len, ours, out_len), TC_OK);
		CHECK_EQ(cli_hkdf("EXPAND_ONLY", "", ikm, 32, info, info_len, out_len, ref),
			 (int)out_len);
		CHECK_MEM(ours, ref, out_len);
	}
}

/* Every worked-example derivation recomputed by the openssl CLI from the same inputs. */
T(openssl_cli_key_schedule)
{
	struct t214 t;
	uint8_t ikm[7 + 75 + 74 + 32], prk[32], ref[64], mk1[32], es[32];
	uint8_t salt_bytes[32], info[1];
	char salt_opt[100];
	size_t n = 0;

	t214_run(&t);
	unhex(T214_ES, es, sizeof(es));
	memcpy(ikm + n, t214_transcript, 7), n += 7;
	memcpy(ikm + n, t.a.msg, t.a.msg_len), n += t.a.msg_len;
	memcpy(ikm + n, t.b.msg, t.b.msg_len), n += t.b.msg_len;
	memcpy(ikm + n, es, 32), n += 32;
	CHECK_EQ(n, sizeof(ikm));
	memset(salt_bytes, 0xaa, 32);
	memcpy(salt_opt, "-kdfopt hexsalt:", 16);
	tohex(salt_bytes, 32, salt_opt + 16);
	CHECK_EQ(cli_hkdf("EXTRACT_ONLY", salt_opt, ikm, n, NULL, 0, 32, prk), 32);
	CHECK_HEX(prk, 32, T214_PRK);

	info[0] = TC_CONST_REKEY;
	CHECK_EQ(cli_hkdf("EXPAND_ONLY", "", prk, 32, info, 1, 32, ref), 32);
	CHECK_MEM(ref, t.ra.keys.mk0, 32);
	info[0] = TC_CONST_SESSID;
	CHECK_EQ(cli_hkdf("EXPAND_ONLY", "", prk, 32, info, 1, 32, ref), 32);
	CHECK_MEM(ref, t.ra.keys.session_id + 1, 32);
	info[0] = TC_CONST_NEXTK;
	CHECK_EQ(cli_hkdf("EXPAND_ONLY", "", prk, 32, info, 1, 32, ref), 32);
	CHECK_MEM(ref, t.ra.keys.ss_next, 32);
	info[0] = TC_CONST_RESUME;
	CHECK_EQ(cli_hkdf("EXPAND_ONLY", "", t.ra.keys.ss_next, 32, info, 1, 18, ref), 18);
	CHECK_MEM(ref, t.ra.keys.resume_next, 18);
	info[0] = TC_CONST_REKEY;
	CHECK_EQ(cli_hkdf("EXPAND_ONLY", "", t.ra.keys.mk0, 32, info, 1, 32, ref), 32);
	CHECK_EQ(tc_mk_next(t.ra.keys.mk0, mk1), TC_OK);
	CHECK_MEM(ref, mk1, 32);
	for (int c = TC_CONST_KEY_A; c <= TC_CONST_KEY_B; c++) {
		struct tc_tk tk;

		info[0] = c;
		/* 44 bytes: the AES-256-GCM/ChaCha20 split crosses an HKDF block. */
		CHECK_EQ(cli_hkdf("EXPAND_ONLY", "", mk1, 32, info, 1, 44, ref), 44);
		CHECK_EQ(tc_traffic_key(mk1, c, 32, 12, &tk), TC_OK);
		CHECK_MEM(ref, tk.key, 32);
		CHECK_MEM(ref + 32, tk.nr, 12);
	}
	t214_free(&t);
}

T(resumed_sn_changes_everything)
{
	uint8_t ss[32] = {1}, sn[16], mk_a[32], mk_b[32], ref[32], info[17];
	uint8_t id[TC_SESSID_LEN];
	uint32_t seed = 77;

	test_fill(sn, sizeof(sn), &seed);
	CHECK_EQ(tc_mk0(ss, sn, 16, mk_a), TC_OK);
	CHECK_EQ(tc_mk0(ss, NULL, 0, mk_b), TC_OK);
	CHECK(memcmp(mk_a, mk_b, 32) != 0);
	/* CONST_REKEY | sn[i] is the HKDF info (§3.5). */
	info[0] = TC_CONST_REKEY;
	memcpy(info + 1, sn, 16);
	CHECK_EQ(tc_cprf(ss, 32, info, 17, ref, 32), TC_OK);
	CHECK_MEM(ref, mk_a, 32);
	CHECK_EQ(tc_session_id(TC_TEP_X25519 | 0x80, ss, sn, 16, id), TC_OK);
	CHECK_EQ(id[0], 0xa3);
	info[0] = TC_CONST_SESSID;
	CHECK_EQ(tc_cprf(ss, 32, info, 17, ref, 32), TC_OK);
	CHECK_MEM(ref, id + 1, 32);
	CHECK_EQ(tc_mk0(ss, sn, 17, mk_a), TC_E_INVAL);
}

T(cprf_limits)
{
	uint8_t key[32] = {0}, out[32];

	CHECK_EQ(tc_cprf(key, 32, NULL, 0, out, 0), TC_OK);
	CHECK_EQ(tc_cprf(key, 0, NULL, 0, out, 32), TC_E_INVAL);
	CHECK_EQ(tc_cprf(key, 32, NULL, 0, NULL, 255 * 32 + 1), TC_E_INVAL);
}

T(strerror_covers_all)
{
	for (int e = TC_OK; e >= TC_E_INVAL; e--)
		CHECK(strcmp(tc_strerror(e), "unknown error") != 0);
	CHECK(!tc_err_is_abort(TC_OK));
	CHECK(!tc_err_is_abort(TC_E_NEED_MORE));
	CHECK(tc_err_is_abort(TC_E_AUTH));
	CHECK(tc_err_is_abort(TC_E_FIN_NO_FINP));
	CHECK(tc_err_is_abort(TC_E_BAD_KEY));
}
