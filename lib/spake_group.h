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

#define SPAKE_SCALAR_LEN 32
#define SPAKE_POINT_LEN	 65 /* uncompressed SEC1 */

/*
 * g, m and n are built once per process and shared by every thread (read
 * only: never modify or free them); bn is this call's own.
 */
struct spake_group {
	const EC_GROUP *g;
	BN_CTX *bn;
	const EC_POINT *m, *n;
};

/* P-256, its M and N, and a BN_CTX: 0, or -1 (free it all the same). */
int tcpcrypt__spake_group_init(struct spake_group *c);
void tcpcrypt__spake_group_free(struct spake_group *c);

/*
 * A share, x*P + w*M (use_m) or x*P + w*N, into share (uncompressed); x
 * fresh and uniform in [0, p) if the given one is NULL, written to x_out.
 * 0 or -1.
 */
int tcpcrypt__spake_share(int use_m, const unsigned char *w, const unsigned char *x,
			  unsigned char *x_out, unsigned char *share);

/* len(b) as 8 little-endian bytes, then b (RFC 9382 §4, RFC 9383 §3.3): past the end. */
unsigned char *tcpcrypt__spake_put_lv(unsigned char *p, const unsigned char *b, size_t n);

/* HKDF-SHA256, salt nil: 0 or -1. */
int tcpcrypt__spake_hkdf(const unsigned char *ikm, size_t n, const unsigned char *info,
			 size_t ninfo, unsigned char *out, size_t nout);

#endif
