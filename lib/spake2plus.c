// SPDX-License-Identifier: MIT
/*
 * SPAKE2+-P256-SHA256-HKDF-SHA256-HMAC-SHA256 (RFC 9383 §3.3, §3.4, §4) on
 * OpenSSL's EC_POINT arithmetic: M and N are the constants of §4 (the same
 * as RFC 9382's: generated from seeds, no known discrete log), received
 * points are decoded with their curve check and the identity rejected (§6),
 * h = 1 for P-256 (every point of the curve is in the prime-order group).
 * lib/spake2plus.h.
 */
#include <stdint.h>
#include <string.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/obj_mac.h>
#include <openssl/sha.h>
#include "spake2plus.h"
#include "spake_group.h"

_Static_assert(SPAKE2P_SCALAR_LEN == SPAKE_SCALAR_LEN && SPAKE2P_POINT_LEN == SPAKE_POINT_LEN,
	       "the share encoding of lib/spake_group.c");

/* a received or stored point: on the curve (oct2point checks), not the identity */
static int get_point(struct spake_group *c, EC_POINT *p, const unsigned char *b)
{
	if (b[0] != 0x04 || !EC_POINT_oct2point(c->g, p, b, SPAKE2P_POINT_LEN, c->bn) ||
	    EC_POINT_is_at_infinity(c->g, p) || EC_POINT_is_on_curve(c->g, p, c->bn) != 1)
		return -1;
	return 0;
}

static int put_point(struct spake_group *c, const EC_POINT *p, unsigned char *b)
{
	return EC_POINT_point2oct(c->g, p, POINT_CONVERSION_UNCOMPRESSED, b, SPAKE2P_POINT_LEN,
				  c->bn) == SPAKE2P_POINT_LEN
		   ? 0
		   : -1;
}

int tcpcrypt__spake2p_w(const unsigned char *h, unsigned char *w0, unsigned char *w1)
{
	struct spake_group c;
	BIGNUM *b = NULL;
	int r = -1;

	if (tcpcrypt__spake_group_init(&c))
		goto out;
	b = BN_new();
	if (!b)
		goto out;
	for (int i = 0; i < 2; i++)
		if (!BN_bin2bn(h + i * SPAKE2P_HALF_LEN, SPAKE2P_HALF_LEN, b) ||
		    !BN_nnmod(b, b, EC_GROUP_get0_order(c.g), c.bn) ||
		    BN_bn2binpad(b, i ? w1 : w0, SPAKE2P_SCALAR_LEN) != SPAKE2P_SCALAR_LEN)
			goto out;
	r = 0;
out:
	BN_clear_free(b);
	tcpcrypt__spake_group_free(&c);
	return r;
}

int tcpcrypt__spake2p_L(const unsigned char *w1, unsigned char *L)
{
	struct spake_group c;
	BIGNUM *b = NULL;
	EC_POINT *p = NULL;
	int r = -1;

	if (tcpcrypt__spake_group_init(&c))
		goto out;
	b = BN_bin2bn(w1, SPAKE2P_SCALAR_LEN, NULL);
	p = EC_POINT_new(c.g);
	if (b && p && EC_POINT_mul(c.g, p, b, NULL, NULL, c.bn) &&
	    !EC_POINT_is_at_infinity(c.g, p) && !put_point(&c, p, L))
		r = 0;
out:
	BN_clear_free(b);
	EC_POINT_free(p);
	tcpcrypt__spake_group_free(&c);
	return r;
}

int tcpcrypt__spake2p_check_record(const unsigned char *w0, const unsigned char *L)
{
	struct spake_group c;
	BIGNUM *b = NULL;
	EC_POINT *p = NULL;
	int r = -1;

	if (tcpcrypt__spake_group_init(&c))
		goto out;
	b = BN_bin2bn(w0, SPAKE2P_SCALAR_LEN, NULL);
	p = EC_POINT_new(c.g);
	if (!b || !p)
		goto out;
	r = BN_is_zero(b) || BN_cmp(b, EC_GROUP_get0_order(c.g)) >= 0 ? -1
	    : get_point(&c, p, L)				      ? -2
								      : 0;
out:
	BN_clear_free(b);
	EC_POINT_free(p);
	tcpcrypt__spake_group_free(&c);
	return r;
}

int tcpcrypt__spake2p_share(int prover, const unsigned char *w0, const unsigned char *x,
			    unsigned char *x_out, unsigned char *share)
{
	/* X = x*P + w0*M, Y = y*P + w0*N */
	return tcpcrypt__spake_share(prover, w0, x, x_out, share);
}

/* HKDF-SHA256 with salt nil (§3.4), info a string */
static int hkdf(const unsigned char *ikm, size_t n, const char *info, unsigned char *out,
		size_t nout)
{
	return tcpcrypt__spake_hkdf(ikm, n, (const unsigned char *)info, strlen(info), out, nout);
}

#define CTX_MAX 128
#define ID_MAX	64

int tcpcrypt__spake2p_finish(int prover, const unsigned char *w0, const unsigned char *secret,
			     const unsigned char *x, const unsigned char *own,
			     const unsigned char *peer, const unsigned char *context, size_t lctx,
			     const unsigned char *id_p, size_t lp, const unsigned char *id_v,
			     size_t lv, unsigned char *confirm_p, unsigned char *confirm_v,
			     unsigned char *k_shared)
{
	unsigned char
	    tt[10 * 8 + CTX_MAX + 2 * ID_MAX + 6 * SPAKE2P_POINT_LEN + SPAKE2P_SCALAR_LEN];
	unsigned char pm[SPAKE2P_POINT_LEN], pn[SPAKE2P_POINT_LEN], z[SPAKE2P_POINT_LEN],
	    v[SPAKE2P_POINT_LEN], kmain[SHA256_DIGEST_LENGTH], kc[2 * SPAKE2P_CONF_LEN], *t = tt;
	unsigned int mlen;
	struct spake_group c;
	BIGNUM *bw0 = NULL, *bx = NULL, *bw1 = NULL, *minus_w0 = NULL;
	EC_POINT *pp = NULL, *q = NULL, *pl = NULL;
	int r = -1;

	if (lctx > CTX_MAX || lp > ID_MAX || lv > ID_MAX || tcpcrypt__spake_group_init(&c))
		goto out;
	bw0 = BN_bin2bn(w0, SPAKE2P_SCALAR_LEN, NULL);
	bx = BN_bin2bn(x, SPAKE2P_SCALAR_LEN, NULL);
	bw1 = prover ? BN_bin2bn(secret, SPAKE2P_SCALAR_LEN, NULL) : BN_new();
	minus_w0 = BN_new();
	pp = EC_POINT_new(c.g);
	q = EC_POINT_new(c.g);
	pl = EC_POINT_new(c.g);
	if (!bw0 || !bx || !bw1 || !minus_w0 || !pp || !q || !pl)
		goto out;
	if (get_point(&c, pp, peer)) { /* §6: a member of the group, not the identity */
		r = -2;
		goto out;
	}
	/* q = peer - w0*(N or M): the prover unblinds Y with N, the verifier X with M */
	if (!BN_sub(minus_w0, EC_GROUP_get0_order(c.g), bw0) ||
	    !EC_POINT_mul(c.g, q, NULL, prover ? c.n : c.m, minus_w0, c.bn) ||
	    !EC_POINT_add(c.g, q, q, pp, c.bn))
		goto out;
	/* Z = x*q for both; V = w1*q (prover) or y*L (verifier); h = 1 */
	if (!EC_POINT_mul(c.g, pp, NULL, q, bx, c.bn))
		goto out;
	if (prover) {
		if (!EC_POINT_mul(c.g, pl, NULL, q, bw1, c.bn))
			goto out;
	} else if (get_point(&c, q, secret) || !EC_POINT_mul(c.g, pl, NULL, q, bx, c.bn)) {
		goto out;
	}
	if (EC_POINT_is_at_infinity(c.g, pp) || EC_POINT_is_at_infinity(c.g, pl)) {
		r = -2;
		goto out;
	}
	if (put_point(&c, pp, z) || put_point(&c, pl, v) || put_point(&c, c.m, pm) ||
	    put_point(&c, c.n, pn))
		goto out;
	/* TT (§3.3) */
	t = tcpcrypt__spake_put_lv(t, context, lctx);
	t = tcpcrypt__spake_put_lv(t, id_p, lp);
	t = tcpcrypt__spake_put_lv(t, id_v, lv);
	t = tcpcrypt__spake_put_lv(t, pm, sizeof(pm));
	t = tcpcrypt__spake_put_lv(t, pn, sizeof(pn));
	t = tcpcrypt__spake_put_lv(t, prover ? own : peer, SPAKE2P_POINT_LEN);
	t = tcpcrypt__spake_put_lv(t, prover ? peer : own, SPAKE2P_POINT_LEN);
	t = tcpcrypt__spake_put_lv(t, z, sizeof(z));
	t = tcpcrypt__spake_put_lv(t, v, sizeof(v));
	t = tcpcrypt__spake_put_lv(t, w0, SPAKE2P_SCALAR_LEN);
	/* K_main = Hash(TT); K_confirmP || K_confirmV, K_shared (§3.4) */
	SHA256(tt, t - tt, kmain);
	if (hkdf(kmain, sizeof(kmain), "ConfirmationKeys", kc, sizeof(kc)) ||
	    hkdf(kmain, sizeof(kmain), "SharedKey", k_shared, SPAKE2P_KEY_LEN))
		goto out;
	/* confirmP = MAC(K_confirmP, shareV), confirmV = MAC(K_confirmV, shareP) */
	if (!HMAC(EVP_sha256(), kc, SPAKE2P_CONF_LEN, prover ? peer : own, SPAKE2P_POINT_LEN,
		  confirm_p, &mlen) ||
	    !HMAC(EVP_sha256(), kc + SPAKE2P_CONF_LEN, SPAKE2P_CONF_LEN, prover ? own : peer,
		  SPAKE2P_POINT_LEN, confirm_v, &mlen))
		goto out;
	r = 0;
out:
	OPENSSL_cleanse(tt, sizeof(tt));
	OPENSSL_cleanse(z, sizeof(z));
	OPENSSL_cleanse(v, sizeof(v));
	OPENSSL_cleanse(kmain, sizeof(kmain));
	OPENSSL_cleanse(kc, sizeof(kc));
	BN_clear_free(bw0);
	BN_clear_free(bx);
	BN_clear_free(bw1);
	BN_clear_free(minus_w0);
	EC_POINT_free(pp);
	EC_POINT_free(q);
	EC_POINT_free(pl);
	tcpcrypt__spake_group_free(&c);
	return r;
}
