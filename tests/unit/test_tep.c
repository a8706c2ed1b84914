/* SPDX-License-Identifier: MIT */
/* TEPs: key agreement, Pub encoding, peer-key validation (RFC 8548 §5). */
#include <unistd.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include "core/err.h"
#include "core/tep.h"
#include "core_util.h"
#include "t.h"

static const uint8_t all_teps[] = {TC_TEP_P256, TC_TEP_P521, TC_TEP_X25519, TC_TEP_X448};

T(find_ignores_v_bit)
{
	CHECK(tc_tep_find(0x23) == tc_tep_find(0xa3));
	CHECK(tc_tep_find(0x20) == NULL);
	CHECK(tc_tep_find(0x25) == NULL);
	CHECK_EQ(tc_tep_find(TC_TEP_P256)->pub_len, 35);
	CHECK_EQ(tc_tep_find(TC_TEP_P521)->pub_len, 69);
	CHECK_EQ(tc_tep_find(TC_TEP_X25519)->pub_len, 32);
	CHECK_EQ(tc_tep_find(TC_TEP_X448)->pub_len, 56);
}

T(both_sides_agree_every_tep)
{
	for (size_t i = 0; i < sizeof(all_teps); i++) {
		const struct tc_tep *tep = tc_tep_find(all_teps[i]);
		struct tc_tep_key a, b;
		uint8_t pa[TC_TEP_PUB_MAX], pb[TC_TEP_PUB_MAX];
		uint8_t ea[TC_TEP_ES_MAX], eb[TC_TEP_ES_MAX];

		CHECK_EQ(tc_tep_keygen(tep, &a), TC_OK);
		CHECK_EQ(tc_tep_keygen(tep, &b), TC_OK);
		CHECK_EQ(tc_tep_pub_encode(&a, pa, sizeof(pa)), tep->pub_len);
		CHECK_EQ(tc_tep_pub_encode(&b, pb, sizeof(pb)), tep->pub_len);
		CHECK_EQ(tc_tep_pub_encode(&b, pb, tep->pub_len - 1), TC_E_NOSPACE);
		if (tep->group) {
			/* pubkey_len | compressed point (§5) */
			CHECK_EQ(pa[0] << 8 | pa[1], tep->pub_len - 2);
			CHECK(pa[2] == 0x02 || pa[2] == 0x03);
		}
		CHECK_EQ(tc_tep_pub_span(tep, pa, tep->pub_len), tep->pub_len);
		CHECK_EQ(tc_tep_derive(&a, pb, tep->pub_len, ea), TC_OK);
		CHECK_EQ(tc_tep_derive(&b, pa, tep->pub_len, eb), TC_OK);
		CHECK_MEM(ea, eb, tep->es_len);
		/* Wrong lengths never reach the curve code. */
		CHECK_EQ(tc_tep_derive(&a, pb, tep->pub_len - 1, ea), TC_E_BAD_KEY);
		CHECK_EQ(tc_tep_derive(&a, pb, tep->pub_len + 1, ea), TC_E_BAD_KEY);
		tc_tep_key_free(&a);
		tc_tep_key_free(&b);
	}
}

T(nist_pubkey_len_prefix)
{
	const struct tc_tep *p256 = tc_tep_find(TC_TEP_P256);
	uint8_t in[2] = {0x00, 0x21};

	CHECK_EQ(tc_tep_pub_span(p256, in, 1), TC_E_NEED_MORE);
	CHECK_EQ(tc_tep_pub_span(p256, in, 2), 35);
	in[1] = 0x41; /* uncompressed length: not allowed (§5) */
	CHECK_EQ(tc_tep_pub_span(p256, in, 2), TC_E_MALFORMED);
	in[0] = 0x01, in[1] = 0x21;
	CHECK_EQ(tc_tep_pub_span(p256, in, 2), TC_E_MALFORMED);
	CHECK_EQ(tc_tep_pub_span(tc_tep_find(TC_TEP_X25519), in, 0), 32);
}

/* Is x the x-coordinate of a P-256 point?  Decided here with plain BIGNUM arithmetic. */
static int p256_x_on_curve(const uint8_t x32[32])
{
	BN_CTX *ctx = BN_CTX_new();
	BIGNUM *p = NULL, *b = NULL, *x = BN_bin2bn(x32, 32, NULL), *rhs = BN_new(), *t = BN_new();
	int on;

	BN_hex2bn(&p, "ffffffff00000001000000000000000000000000ffffffffffffffffffffffff");
	BN_hex2bn(&b, "5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604b");
	/* rhs = x^3 - 3x + b mod p; a square iff a point with this x exists. */
	BN_mod_sqr(t, x, p, ctx);
	BN_mod_mul(rhs, t, x, p, ctx);
	BN_set_word(t, 3);
	BN_mod_mul(t, t, x, p, ctx);
	BN_mod_sub(rhs, rhs, t, p, ctx);
	BN_mod_add(rhs, rhs, b, p, ctx);
	on = BN_mod_sqrt(t, rhs, p, ctx) != NULL;
	ERR_clear_error();
	BN_free(p), BN_free(b), BN_free(x), BN_free(rhs), BN_free(t);
	BN_CTX_free(ctx);
	return on;
}

T(invalid_p256_points_rejected)
{
	const struct tc_tep *tep = tc_tep_find(TC_TEP_P256);
	struct tc_tep_key own;
	uint8_t pub[35] = {0x00, 0x21, 0x02}, es[32];
	int off = 0, on = 0;

	CHECK_EQ(tc_tep_keygen(tep, &own), TC_OK);
	for (int x = 0; x < 24; x++) {
		memset(pub + 3, 0, 32);
		pub[34] = x;
		if (p256_x_on_curve(pub + 3)) {
			CHECK_EQ(tc_tep_derive(&own, pub, 35, es), TC_OK);
			on++;
		} else {
			CHECK_EQ(tc_tep_derive(&own, pub, 35, es), TC_E_BAD_KEY);
			off++;
		}
	}
	CHECK(on > 0 && off > 0);
	/* x >= p */
	memset(pub + 3, 0xff, 32);
	CHECK_EQ(tc_tep_derive(&own, pub, 35, es), TC_E_BAD_KEY);
	/* Not a compressed-point tag: infinity (00), uncompressed (04), hybrid (06). */
	memset(pub + 3, 0, 32);
	pub[34] = 3;
	for (int tag = 0; tag < 8; tag++) {
		pub[2] = tag;
		if (tag != 2 && tag != 3)
			CHECK_EQ(tc_tep_derive(&own, pub, 35, es), TC_E_BAD_KEY);
	}
	pub[0] = 0x00, pub[1] = 0x22; /* wrong pubkey_len */
	pub[2] = 0x02;
	CHECK_EQ(tc_tep_derive(&own, pub, 35, es), TC_E_BAD_KEY);
	tc_tep_key_free(&own);
}

/* RFC 7748 §6 / §7: low-order inputs give an all-zero result, which MUST abort (§5). */
T(low_order_points_rejected)
{
	static const char *const x25519_bad[] = {
	    "0000000000000000000000000000000000000000000000000000000000000000",
	    "0100000000000000000000000000000000000000000000000000000000000000",
	    "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
	    "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
	    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	};
	struct tc_tep_key k;
	uint8_t pub[56], es[56];

	CHECK_EQ(tc_tep_keygen(tc_tep_find(TC_TEP_X25519), &k), TC_OK);
	for (size_t i = 0; i < sizeof(x25519_bad) / sizeof(x25519_bad[0]); i++) {
		CHECK_EQ(unhex(x25519_bad[i], pub, 32), 32);
		CHECK_EQ(tc_tep_derive(&k, pub, 32, es), TC_E_BAD_KEY);
		CHECK(tc_err_is_abort(TC_E_BAD_KEY));
	}
	tc_tep_key_free(&k);
	CHECK_EQ(tc_tep_keygen(tc_tep_find(TC_TEP_X448), &k), TC_OK);
	memset(pub, 0, 56);
	CHECK_EQ(tc_tep_derive(&k, pub, 56, es), TC_E_BAD_KEY);
	pub[0] = 1;
	CHECK_EQ(tc_tep_derive(&k, pub, 56, es), TC_E_BAD_KEY);
	tc_tep_key_free(&k);
}

T(random_and_private_keys)
{
	uint8_t a[32] = {0}, b[32] = {0}, priv[32] = {9};
	struct tc_tep_key k;

	CHECK_EQ(tc_tep_random(a, 32), TC_OK);
	CHECK_EQ(tc_tep_random(b, 32), TC_OK);
	CHECK(memcmp(a, b, 32) != 0);
	CHECK_EQ(tc_tep_key_from_private(tc_tep_find(TC_TEP_X25519), priv, 31, &k), TC_E_INVAL);
	CHECK_EQ(tc_tep_key_from_private(tc_tep_find(TC_TEP_P256), priv, 32, &k), TC_E_UNSUPPORTED);
	tc_tep_key_free(&k);
}

/* Load a PEM private key written by `openssl genpkey` as a TEP key. */
static int load_pem(const char *path, const struct tc_tep *tep, struct tc_tep_key *k)
{
	FILE *f = fopen(path, "r");

	k->tep = tep;
	k->pkey = f ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;
	if (f)
		fclose(f);
	return k->pkey ? 0 : -1;
}

/* ES from our code against `openssl pkeyutl -derive` on keys from `openssl genpkey`. */
T(openssl_cli_derive)
{
	static const char *const genpkey[] = {
	    "-algorithm EC -pkeyopt ec_paramgen_curve:P-256",
	    "-algorithm EC -pkeyopt ec_paramgen_curve:P-521",
	    "-algorithm X25519",
	    "-algorithm X448",
	};
	char dir[] = "/tmp/tc-test-tep-XXXXXX", cmd[2048], pa[64], pb[64];

	CHECK(mkdtemp(dir) != NULL);
	for (size_t i = 0; i < sizeof(all_teps); i++) {
		const struct tc_tep *tep = tc_tep_find(all_teps[i]);
		struct tc_tep_key a = {0}, b = {0};
		uint8_t pub_b[TC_TEP_PUB_MAX], es[TC_TEP_ES_MAX], ref[TC_TEP_ES_MAX];

		snprintf(pa, sizeof(pa), "%s/a%zu.pem", dir, i);
		snprintf(pb, sizeof(pb), "%s/b%zu.pem", dir, i);
		snprintf(cmd, sizeof(cmd),
			 "openssl genpkey %s -out %s 2>/dev/null && openssl genpkey %s -out %s "
			 "2>/dev/null && openssl pkey -in %s -pubout -out %s.pub 2>/dev/null && "
			 "openssl pkeyutl -derive -inkey %s -peerkey %s.pub 2>/dev/null | xxd -p",
			 genpkey[i], pa, genpkey[i], pb, pb, pb, pa, pb);
		CHECK_EQ(run_hex(cmd, ref, sizeof(ref)), tep->es_len);
		CHECK_EQ(load_pem(pa, tep, &a), 0);
		CHECK_EQ(load_pem(pb, tep, &b), 0);
		CHECK_EQ(tc_tep_pub_encode(&b, pub_b, sizeof(pub_b)), tep->pub_len);
		CHECK_EQ(tc_tep_derive(&a, pub_b, tep->pub_len, es), TC_OK);
		CHECK_MEM(es, ref, tep->es_len);
		tc_tep_key_free(&a);
		tc_tep_key_free(&b);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	CHECK_EQ(system(cmd), 0);
}
