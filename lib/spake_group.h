/* SPDX-License-Identifier: MIT */
/*
 * What SPAKE2 (lib/spake2.c, RFC 9382) and SPAKE2+ (lib/spake2plus.c, RFC
 * 9383) share: P-256 with the M and N of RFC 9382 §6 / RFC 9383 §4 (the
 * same points, generated from seeds, no known discrete log), the
 * length-prefixed transcript encoding and HKDF-SHA256 with salt nil.
 * Internal to libtcpcrypt.
 */
#ifndef TCPCRYPT_LIB_SPAKE_GROUP_H
#define TCPCRYPT_LIB_SPAKE_GROUP_H

#include <stddef.h>
#include <openssl/bn.h>
#include <openssl/ec.h>

struct spake_group {
	EC_GROUP *g;
	BN_CTX *bn;
	EC_POINT *m, *n;
};

/* P-256 and its M and N: 0, or -1 (free it all the same). */
int tcpcrypt__spake_group_init(struct spake_group *c);
void tcpcrypt__spake_group_free(struct spake_group *c);

/* len(b) as 8 little-endian bytes, then b (RFC 9382 §4, RFC 9383 §3.3): past the end. */
unsigned char *tcpcrypt__spake_put_lv(unsigned char *p, const unsigned char *b, size_t n);

/* HKDF-SHA256, salt nil: 0 or -1. */
int tcpcrypt__spake_hkdf(const unsigned char *ikm, size_t n, const unsigned char *info,
			 size_t ninfo, unsigned char *out, size_t nout);

#endif
