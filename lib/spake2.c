// SPDX-License-Identifier: MIT
/*
 * SPAKE2-P256-SHA256-HKDF-HMAC (RFC 9382 §3.3, §4, §6) on OpenSSL's EC_POINT
 * arithmetic: M and N are the constants of §6 (generated from seeds, no
 * known discrete log), received points are decoded with their curve check
 * and the identity rejected (§7), h = 1 for P-256.  lib/spake2.h.
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
#include <openssl/rand.h>
#include <openssl/sha.h>
#include "spake2.h"
#include "spake_group.h"

_Static_assert(SPAKE2_SCALAR_LEN == SPAKE_SCALAR_LEN && SPAKE2_POINT_LEN == SPAKE_POINT_LEN,
	       "the share encoding of lib/spake_group.c");

int tcpcrypt__spake2_w(const unsigned char *h, size_t n, unsigned char *w)
{
	struct spake_group c;
	BIGNUM *b = NULL;
	int r = -1;

	if (n < SPAKE2_SCALAR_LEN + 8 || tcpcrypt__spake_group_init(&c))
		goto out;
	b = BN_bin2bn(h, n, NULL);
	if (b && BN_nnmod(b, b, EC_GROUP_get0_order(c.g), c.bn) &&
	    BN_bn2binpad(b, w, SPAKE2_SCALAR_LEN) == SPAKE2_SCALAR_LEN)
		r = 0;
out:
	BN_clear_free(b);
	tcpcrypt__spake_group_free(&c);
	return r;
}

int tcpcrypt__spake2_start(struct spake2 *s, int is_a, const unsigned char *w,
			   const unsigned char *x)
{
	memset(s, 0, sizeof(*s));
	s->is_a = is_a;
	memcpy(s->w, w, SPAKE2_SCALAR_LEN);
	/* share = x*P + w*(M or N) */
	return tcpcrypt__spake_share(is_a, w, x, s->x, s->own);
}

#define ID_MAX	 64
#define AAD_MAX	 128
#define INFO_PFX "ConfirmationKeys"

int tcpcrypt__spake2_finish(const struct spake2 *s, const unsigned char *id_a, size_t la,
			    const unsigned char *id_b, size_t lb, const unsigned char *peer,
			    const unsigned char *aad, size_t laad, unsigned char *ke,
			    unsigned char *ca, unsigned char *cb)
{
	unsigned char tt[6 * 8 + 2 * ID_MAX + 3 * SPAKE2_POINT_LEN + SPAKE2_SCALAR_LEN], *t = tt;
	unsigned char k[SPAKE2_POINT_LEN], h[SHA256_DIGEST_LENGTH], kc[32];
	unsigned char info[sizeof(INFO_PFX) - 1 + AAD_MAX];
	unsigned int mlen;
	struct spake_group c;
	BIGNUM *bw = NULL, *bx = NULL, *minus_w = NULL;
	EC_POINT *pp = NULL, *kp = NULL;
	int r = -1;

	if (la > ID_MAX || lb > ID_MAX || laad > AAD_MAX || tcpcrypt__spake_group_init(&c))
		goto out;
	bw = BN_bin2bn(s->w, SPAKE2_SCALAR_LEN, NULL);
	bx = BN_bin2bn(s->x, SPAKE2_SCALAR_LEN, NULL);
	minus_w = BN_new();
	pp = EC_POINT_new(c.g);
	kp = EC_POINT_new(c.g);
	if (!bw || !bx || !minus_w || !pp || !kp)
		goto out;
	/* the peer's share: a point of the curve (oct2point checks), not the identity */
	if (!EC_POINT_oct2point(c.g, pp, peer, SPAKE2_POINT_LEN, c.bn) ||
	    EC_POINT_is_at_infinity(c.g, pp) || EC_POINT_is_on_curve(c.g, pp, c.bn) != 1) {
		r = -2;
		goto out;
	}
	/* K = x * (peer - w * (N or M)) */
	if (!BN_sub(minus_w, EC_GROUP_get0_order(c.g), bw) ||
	    !EC_POINT_mul(c.g, kp, NULL, s->is_a ? c.n : c.m, minus_w, c.bn) ||
	    !EC_POINT_add(c.g, pp, kp, pp, c.bn) || !EC_POINT_mul(c.g, kp, NULL, pp, bx, c.bn))
		goto out;
	if (EC_POINT_is_at_infinity(c.g, kp)) {
		r = -2;
		goto out;
	}
	if (EC_POINT_point2oct(c.g, kp, POINT_CONVERSION_UNCOMPRESSED, k, sizeof(k), c.bn) !=
	    sizeof(k))
		goto out;
	/* TT (§3.3) */
	t = tcpcrypt__spake_put_lv(t, id_a, la);
	t = tcpcrypt__spake_put_lv(t, id_b, lb);
	t = tcpcrypt__spake_put_lv(t, s->is_a ? s->own : peer, SPAKE2_POINT_LEN);
	t = tcpcrypt__spake_put_lv(t, s->is_a ? peer : s->own, SPAKE2_POINT_LEN);
	t = tcpcrypt__spake_put_lv(t, k, sizeof(k));
	t = tcpcrypt__spake_put_lv(t, s->w, SPAKE2_SCALAR_LEN);
	/* Ke || Ka = Hash(TT); KcA || KcB = HKDF(Ka, nil, "ConfirmationKeys" || AAD, 32) (§4) */
	SHA256(tt, t - tt, h);
	memcpy(info, INFO_PFX, sizeof(INFO_PFX) - 1);
	if (laad)
		memcpy(info + sizeof(INFO_PFX) - 1, aad, laad);
	if (tcpcrypt__spake_hkdf(h + 16, 16, info, sizeof(INFO_PFX) - 1 + laad, kc, sizeof(kc)))
		goto out;
	memcpy(ke, h, SPAKE2_KE_LEN);
	if (!HMAC(EVP_sha256(), kc, 16, tt, t - tt, ca, &mlen) ||
	    !HMAC(EVP_sha256(), kc + 16, 16, tt, t - tt, cb, &mlen))
		goto out;
	r = 0;
out:
	OPENSSL_cleanse(tt, sizeof(tt));
	OPENSSL_cleanse(k, sizeof(k));
	OPENSSL_cleanse(h, sizeof(h));
	OPENSSL_cleanse(kc, sizeof(kc));
	BN_clear_free(bw);
	BN_clear_free(bx);
	BN_clear_free(minus_w);
	EC_POINT_free(pp);
	EC_POINT_free(kp);
	tcpcrypt__spake_group_free(&c);
	return r;
}
