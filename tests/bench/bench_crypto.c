/* SPDX-License-Identifier: MIT */
/*
 * Protocol-core micro-benchmarks, run by tests/bench-crypto.sh next to
 * `openssl speed`.  Prints one "key value" line per measurement, each the
 * median of three runs:
 *
 *   hs.<tep>     full handshakes/s: Init1, Init2, ES and key schedule on both
 *                hosts, in memory
 *   pk.<tep>     the public-key work alone, through bare EVP calls: 2 key
 *                generations, 2 peer-key decodings and checks, 2 derivations;
 *                per second, the ceiling for handshakes/s
 *   seal.<aead>  framing throughput in MB/s (10^6 data bytes) at 1400-byte frames
 *   open.<aead>  deframing throughput (streaming decoder) at 1400-byte frames
 *   rec.<aead>   the least any per-record AEAD must do, through bare EVP calls:
 *                new nonce, 3 bytes of AD, 1401 bytes, final, tag; in MB/s
 *
 * Times are CPU time of this process, as `openssl speed` measures by default.
 *
 *   bench_crypto [SECONDS_PER_RUN]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include "core/err.h"
#include "core/frame.h"
#include "core/handshake.h"

#define FRAME_DATA    1400
#define STREAM_FRAMES 512

/* CPU time, like `openssl speed` by default, so that other load on the host does not count. */
static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what, int err)
{
	fprintf(stderr, "bench_crypto: %s: %s\n", what, tc_strerror(err));
	exit(1);
}

/* Call fn(arg) until `seconds` pass; returns calls per second. */
static double rate(double seconds, void (*fn)(void *), void *arg)
{
	double start = now(), t;
	long n = 0;

	do {
		for (int i = 0; i < 8; i++)
			fn(arg);
		n += 8;
		t = now() - start;
	} while (t < seconds);
	return n / t;
}

static double median(double r[3])
{
	double lo = r[0] < r[1] ? r[0] : r[1], hi = r[0] < r[1] ? r[1] : r[0];

	return r[2] < lo ? lo : r[2] > hi ? hi : r[2];
}

/*
 * Medians of three runs of each of n measurements, run interleaved (a b a b
 * a b) so that load from elsewhere on the host hits them alike; compared
 * figures must come from one call.
 */
static void medians(double seconds, void (*const fn[])(void *), void *const arg[], int n,
		    double *out)
{
	double r[4][3];

	for (int i = 0; i < 3; i++)
		for (int k = 0; k < n; k++)
			r[k][i] = rate(seconds, fn[k], arg[k]);
	for (int k = 0; k < n; k++)
		out[k] = median(r[k]);
}

static const uint8_t transcript[] = {0x45, 0x03, 0x23, 0x45, 0x04, 0x01, 0x23};
static const uint16_t aes128[] = {TC_AEAD_AES_128_GCM};

static void handshake(void *arg)
{
	const struct tc_tep *tep = arg;
	struct tc_hs a, b;
	struct tc_hs_result ra, rb;
	int err;

	err = tc_hs_init1(&a, tep, aes128, 1);
	if (!err)
		err = tc_hs_respond_b(&b, tep, aes128, 1, transcript, sizeof(transcript), a.msg,
				      a.msg_len, &rb);
	if (!err)
		err = tc_hs_finish_a(&a, transcript, sizeof(transcript), b.msg, b.msg_len, &ra);
	if (err || memcmp(ra.keys.session_id, rb.keys.session_id, TC_SESSID_LEN) != 0)
		die("handshake", err);
	tc_hs_free(&a);
	tc_hs_free(&b);
}

static EVP_PKEY *raw_keygen(const struct tc_tep *tep)
{
	return tep->group ? EVP_PKEY_Q_keygen(NULL, NULL, "EC", tep->group)
			  : EVP_PKEY_Q_keygen(NULL, NULL,
					      tep->evp_type == EVP_PKEY_X25519 ? "X25519" : "X448");
}

/*
 * The peer's public key as the handshake must receive it: for P-256/P-521 a
 * compressed point (RFC 8548 §5) decoded and checked (on curve, not infinity;
 * cofactor 1), for X25519/X448 the raw u-coordinate.
 */
static EVP_PKEY *raw_peer(const struct tc_tep *tep, EVP_PKEY *key)
{
	uint8_t pub[TC_TEP_PUB_MAX];
	size_t len = sizeof(pub);
	EVP_PKEY *peer = NULL;

	if (!tep->group) {
		if (!EVP_PKEY_get_raw_public_key(key, pub, &len))
			die("raw pub", TC_E_CRYPTO);
		return EVP_PKEY_new_raw_public_key(tep->evp_type, NULL, pub, len);
	}
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	OSSL_PARAM params[] = {
	    OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)tep->group, 0),
	    OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, pub, 0),
	    OSSL_PARAM_construct_end(),
	};

	if (!EVP_PKEY_set_utf8_string_param(key, OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT,
					    "compressed") ||
	    !EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof(pub), &len))
		die("raw pub", TC_E_CRYPTO);
	params[1].data_size = len;
	if (!ctx || EVP_PKEY_fromdata_init(ctx) <= 0 ||
	    EVP_PKEY_fromdata(ctx, &peer, EVP_PKEY_PUBLIC_KEY, params) <= 0)
		die("raw peer", TC_E_CRYPTO);
	EVP_PKEY_CTX_free(ctx);
	ctx = EVP_PKEY_CTX_new_from_pkey(NULL, peer, NULL);
	if (!ctx || EVP_PKEY_public_check_quick(ctx) <= 0)
		die("raw check", TC_E_CRYPTO);
	EVP_PKEY_CTX_free(ctx);
	return peer;
}

static void raw_derive(const struct tc_tep *tep, EVP_PKEY *own, EVP_PKEY *peer_key)
{
	EVP_PKEY *peer = raw_peer(tep, peer_key);
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(own, NULL);
	uint8_t es[TC_TEP_ES_MAX];
	size_t len = sizeof(es);

	if (!peer || !ctx || EVP_PKEY_derive_init(ctx) <= 0 ||
	    EVP_PKEY_derive_set_peer_ex(ctx, peer, 0) <= 0 || EVP_PKEY_derive(ctx, es, &len) <= 0)
		die("raw derive", TC_E_CRYPTO);
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(peer);
}

static void pk_ops(void *arg)
{
	const struct tc_tep *tep = arg;
	EVP_PKEY *a = raw_keygen(tep), *b = raw_keygen(tep);

	if (!a || !b)
		die("raw keygen", TC_E_CRYPTO);
	raw_derive(tep, a, b);
	raw_derive(tep, b, a);
	EVP_PKEY_free(a);
	EVP_PKEY_free(b);
}

struct framing {
	const struct tc_aead_alg *alg;
	struct tc_frame_enc enc;
	struct tc_frame_dec *dec;
	uint8_t data[FRAME_DATA];
	uint8_t out[TC_FRAME_OVERHEAD + FRAME_DATA];
	uint8_t *stream;
	size_t stream_len;
};

static const uint8_t mk0[TC_K_LEN] = {1};

static void seal_one(void *arg)
{
	struct framing *f = arg;
	int n = tc_frame_seal(&f->enc, f->data, FRAME_DATA, 0, 0, f->out, sizeof(f->out));

	if (n < 0)
		die("seal", n);
}

/* One pass of the decoder over STREAM_FRAMES frames. */
static void open_stream(void *arg)
{
	struct framing *f = arg;
	size_t off = 0;
	int err;

	err = tc_frame_dec_init(f->dec, f->alg, mk0, ENO_ROLE_B, 0);
	while (!err && off < f->stream_len) {
		struct tc_frame_msg msg;
		size_t used;

		err = tc_frame_dec_feed(f->dec, f->stream + off, f->stream_len - off, &used, &msg);
		off += used;
	}
	if (err)
		die("open", err);
	tc_frame_dec_free(f->dec);
}

/* One 1400-byte record through bare EVP calls, as tc_aead_seal does it minus our code. */
static void evp_record(void *arg)
{
	struct framing *f = arg;
	EVP_CIPHER_CTX *ctx = f->enc.keys.aead.ctx;
	uint8_t nonce[12] = {0};
	int n;

	if (!EVP_EncryptInit_ex(ctx, NULL, NULL, NULL, nonce) ||
	    !EVP_EncryptUpdate(ctx, NULL, &n, f->out, 3) ||
	    !EVP_EncryptUpdate(ctx, f->out + 3, &n, f->out + 3, FRAME_DATA + 1) ||
	    !EVP_EncryptFinal_ex(ctx, f->out + 4 + FRAME_DATA, &n) ||
	    !EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, 16, f->out + 4 + FRAME_DATA))
		die("evp record", TC_E_CRYPTO);
}

static void bench_aead(const struct tc_aead_alg *alg, double seconds)
{
	struct framing *f = calloc(1, sizeof(*f));
	double r[3];

	f->alg = alg;
	f->dec = calloc(1, sizeof(*f->dec));
	f->stream_len = STREAM_FRAMES * tc_frame_len(FRAME_DATA, false);
	f->stream = malloc(f->stream_len);
	if (!f->dec || !f->stream || tc_frame_enc_init(&f->enc, alg, mk0, ENO_ROLE_A, 0))
		die("setup", TC_E_NOMEM);
	for (size_t i = 0; i < STREAM_FRAMES; i++)
		if (tc_frame_seal(&f->enc, f->data, FRAME_DATA, 0, 0,
				  f->stream + i * tc_frame_len(FRAME_DATA, false),
				  tc_frame_len(FRAME_DATA, false)) < 0)
			die("seal", TC_E_CRYPTO);
	medians(seconds, (void (*const[])(void *)){seal_one, evp_record, open_stream},
		(void *const[]){f, f, f}, 3, r);
	printf("seal.%04x %.1f\n", alg->id, r[0] * FRAME_DATA / 1e6);
	printf("rec.%04x %.1f\n", alg->id, r[1] * FRAME_DATA / 1e6);
	printf("open.%04x %.1f\n", alg->id, r[2] * STREAM_FRAMES * FRAME_DATA / 1e6);
	fflush(stdout);
	tc_frame_enc_free(&f->enc);
	free(f->stream);
	free(f->dec);
	free(f);
}

int main(int argc, char **argv)
{
	static const uint8_t teps[] = {TC_TEP_X25519, TC_TEP_X448, TC_TEP_P256, TC_TEP_P521};
	double seconds = argc > 1 ? atof(argv[1]) : 1.0;

	for (size_t i = 0; i < tc_aead_default_pref_len; i++)
		bench_aead(tc_aead_find(tc_aead_default_pref[i]), seconds);
	for (size_t i = 0; i < sizeof(teps); i++) {
		const struct tc_tep *tep = tc_tep_find(teps[i]);

		double r[2];

		medians(seconds, (void (*const[])(void *)){handshake, pk_ops},
			(void *const[]){(void *)tep, (void *)tep}, 2, r);
		printf("hs.%02x %.1f\npk.%02x %.1f\n", tep->id, r[0], tep->id, r[1]);
		fflush(stdout);
	}
	return 0;
}
