/* SPDX-License-Identifier: MIT */
/*
 * SPAKE2-P256-SHA256-HKDF-HMAC (RFC 9382), the building block of the
 * password scheme (docs/auth.md#spake2).  Internal to libtcpcrypt; the
 * unit tests check it against RFC 9382 Appendix B.
 */
#ifndef TCPCRYPT_LIB_SPAKE2_H
#define TCPCRYPT_LIB_SPAKE2_H

#include <stddef.h>

#define SPAKE2_SCALAR_LEN 32
#define SPAKE2_POINT_LEN  65 /* uncompressed SEC1 */
#define SPAKE2_KE_LEN	  16
#define SPAKE2_CONF_LEN	  32

struct spake2 {
	int is_a;			    /* A uses M, B uses N (RFC 9382 §3.3) */
	unsigned char w[SPAKE2_SCALAR_LEN]; /* big-endian, < the group order */
	unsigned char x[SPAKE2_SCALAR_LEN]; /* our secret scalar (x or y) */
	unsigned char own[SPAKE2_POINT_LEN];
};

/*
 * w from the bytes of a memory-hard hash (at least 40: 64 bits more than
 * the order, RFC 9382 §3.2), reduced mod the group order.  0 or -1.
 */
int tcpcrypt__spake2_w(const unsigned char *h, size_t n, unsigned char *w);

/* Our share (pA = w*M + x*P, or pB = w*N + y*P); x NULL: a fresh random one.  0 or -1. */
int tcpcrypt__spake2_start(struct spake2 *s, int is_a, const unsigned char *w,
			   const unsigned char *x);

/*
 * From the peer's share: Ke and both confirmations cA = MAC(KcA, TT), cB =
 * MAC(KcB, TT) (§4).  0; -1 on an error; -2 if the peer's share is not a
 * point of the group, or K is the identity.
 */
int tcpcrypt__spake2_finish(const struct spake2 *s, const unsigned char *id_a, size_t la,
			    const unsigned char *id_b, size_t lb, const unsigned char *peer,
			    const unsigned char *aad, size_t laad, unsigned char *ke,
			    unsigned char *ca, unsigned char *cb);

#endif
