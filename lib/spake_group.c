// SPDX-License-Identifier: MIT
/* SPAKE2 and SPAKE2+'s common ground: lib/spake_group.h. */
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

int tcpcrypt__spake_group_init(struct spake_group *c)
{
	memset(c, 0, sizeof(*c));
	c->g = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
	c->bn = BN_CTX_new();
	if (!c->g || !c->bn)
		return -1;
	c->m = EC_POINT_new(c->g);
	c->n = EC_POINT_new(c->g);
	if (!c->m || !c->n || !EC_POINT_oct2point(c->g, c->m, M_P256, sizeof(M_P256), c->bn) ||
	    !EC_POINT_oct2point(c->g, c->n, N_P256, sizeof(N_P256), c->bn))
		return -1;
	return 0;
}

void tcpcrypt__spake_group_free(struct spake_group *c)
{
	EC_POINT_free(c->m);
	EC_POINT_free(c->n);
	BN_CTX_free(c->bn);
	EC_GROUP_free(c->g);
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
