// SPDX-License-Identifier: MIT
/* SPAKE2 and SPAKE2+'s common ground: lib/spake_group.h. */
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/obj_mac.h>
#include "spake_group.h"

/* RFC 9382 §6 = RFC 9383 §4, P-256 (compressed SEC1) */
static const unsigned char M_P256[33] = {
    0x02, 0x88, 0x6e, 0x2f, 0x97, 0xac, 0xe4, 0x6e, 0x55, 0xba, 0x9d,
    0xd7, 0x24, 0x25, 0x79, 0xf2, 0x99, 0x3b, 0x64, 0xe1, 0x6e, 0xf3,
    0xdc, 0xab, 0x95, 0xaf, 0xd4, 0x97, 0x33, 0x3d, 0x8f, 0xa1, 0x2f,
};
static const unsigned char N_P256[33] = {
    0x03, 0xd8, 0xbb, 0xd6, 0xc6, 0x39, 0xc6, 0x29, 0x37, 0xb0, 0x4d,
    0x99, 0x7f, 0x38, 0xc3, 0x77, 0x07, 0x19, 0xc6, 0x29, 0xd7, 0x01,
    0x4d, 0x49, 0xa2, 0x4b, 0x4f, 0x98, 0xba, 0xa1, 0x29, 0x2b, 0x49,
};

/* The group and M, N: made once (every exchange used to decode them again, several times) */
static struct {
	pthread_once_t once;
	EC_GROUP *g;
	EC_POINT *m, *n;
} shared = {.once = PTHREAD_ONCE_INIT};

static void shared_init(void)
{
	EC_GROUP *g = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
	EC_POINT *m = g ? EC_POINT_new(g) : NULL, *n = g ? EC_POINT_new(g) : NULL;

	if (!m || !n || !EC_POINT_oct2point(g, m, M_P256, sizeof(M_P256), NULL) ||
	    !EC_POINT_oct2point(g, n, N_P256, sizeof(N_P256), NULL)) {
		EC_POINT_free(m);
		EC_POINT_free(n);
		EC_GROUP_free(g);
		return;
	}
	shared.g = g;
	shared.m = m;
	shared.n = n;
}

int tcpcrypt__spake_group_init(struct spake_group *c)
{
	memset(c, 0, sizeof(*c));
	pthread_once(&shared.once, shared_init);
	if (!shared.g)
		return -1;
	c->g = shared.g;
	c->m = shared.m;
	c->n = shared.n;
	c->bn = BN_CTX_new();
	return c->bn ? 0 : -1;
}

void tcpcrypt__spake_group_free(struct spake_group *c)
{
	BN_CTX_free(c->bn);
	c->bn = NULL;
}

int tcpcrypt__spake_share(int use_m, const unsigned char *w, const unsigned char *x,
			  unsigned char *x_out, unsigned char *share)
{
	struct spake_group c;
	BIGNUM *bw = NULL, *bx = NULL;
	EC_POINT *p = NULL;
	int r = -1;

	if (tcpcrypt__spake_group_init(&c))
		goto out;
	bw = BN_bin2bn(w, SPAKE_SCALAR_LEN, NULL);
	bx = BN_new();
	p = EC_POINT_new(c.g);
	if (!bw || !bx || !p)
		goto out;
	if (x) {
		if (!BN_bin2bn(x, SPAKE_SCALAR_LEN, bx))
			goto out;
	} else if (!BN_priv_rand_range(bx, EC_GROUP_get0_order(c.g))) { /* uniform in [0, p) */
		goto out;
	}
	if (!EC_POINT_mul(c.g, p, bx, use_m ? c.m : c.n, bw, c.bn) ||
	    EC_POINT_point2oct(c.g, p, POINT_CONVERSION_UNCOMPRESSED, share, SPAKE_POINT_LEN,
			       c.bn) != SPAKE_POINT_LEN ||
	    BN_bn2binpad(bx, x_out, SPAKE_SCALAR_LEN) != SPAKE_SCALAR_LEN)
		goto out;
	r = 0;
out:
	BN_clear_free(bw);
	BN_clear_free(bx);
	EC_POINT_free(p);
	tcpcrypt__spake_group_free(&c);
	return r;
}

unsigned char *tcpcrypt__spake_put_lv(unsigned char *p, const unsigned char *b, size_t n)
{
	for (int i = 0; i < 8; i++)
		*p++ = (unsigned char)((uint64_t)n >> (8 * i));
	if (n)
		memcpy(p, b, n);
	return p + n;
}

int tcpcrypt__spake_hkdf(const unsigned char *ikm, size_t n, const unsigned char *info,
			 size_t ninfo, unsigned char *out, size_t nout)
{
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	EVP_KDF_CTX *k = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
	OSSL_PARAM params[4];
	int r = -1;

	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, "SHA256", 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)ikm, n);
	params[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, ninfo);
	params[3] = OSSL_PARAM_construct_end();
	if (k && EVP_KDF_derive(k, out, nout, params) == 1)
		r = 0;
	EVP_KDF_CTX_free(k);
	EVP_KDF_free(kdf);
	return r;
}
