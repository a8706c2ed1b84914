/* SPDX-License-Identifier: MIT */
/*
 * SPAKE2+-P256-SHA256-HKDF-SHA256-HMAC-SHA256 (RFC 9383), the building
 * block of the augmented password scheme (docs/auth.md#spake2plus), and
 * its hooks into lib/auth.c.  Internal to libtcpcrypt; the unit tests check
 * it against RFC 9383 Appendix C.
 */
#ifndef TCPCRYPT_LIB_SPAKE2PLUS_H
#define TCPCRYPT_LIB_SPAKE2PLUS_H

#include <stddef.h>
#include <stdint.h>

#define SPAKE2P_SCALAR_LEN 32
#define SPAKE2P_POINT_LEN  65 /* uncompressed SEC1 */
#define SPAKE2P_CONF_LEN   32 /* HMAC-SHA256 */
#define SPAKE2P_KEY_LEN	   32 /* K_shared */
#define SPAKE2P_HALF_LEN   40 /* each half of the PBKDF output: 256 + 64 bits (§3.2) */

/*
 * w0 and w1 from the 2 * SPAKE2P_HALF_LEN bytes of a PBKDF: each half
 * reduced mod the group order (§3.2).  0 or -1.
 */
int tcpcrypt__spake2p_w(const unsigned char *h, unsigned char *w0, unsigned char *w1);

/* The registration record L = w1*P.  0 or -1. */
int tcpcrypt__spake2p_L(const unsigned char *w1, unsigned char *L);

/*
 * Check a record: w0 in [1, p), L a point of P-256 other than the
 * identity.  0; -1 (w0) or -2 (L) if not.
 */
int tcpcrypt__spake2p_check_record(const unsigned char *w0, const unsigned char *L);

/*
 * Our share: the prover's X = x*P + w0*M, the verifier's Y = y*P + w0*N
 * (§3.3); x (y) fresh and uniform in [0, p) if the given one is NULL, and
 * written to x_out.  0 or -1.
 */
int tcpcrypt__spake2p_share(int prover, const unsigned char *w0, const unsigned char *x,
			    unsigned char *x_out, unsigned char *share);

/*
 * From the peer's share: Z and V (the prover with w1, the verifier with
 * L), TT, K_main, and (§3.4) confirmP = MAC(K_confirmP, shareV), confirmV =
 * MAC(K_confirmV, shareP), K_shared.  secret is w1 (32 bytes) for the
 * prover, L (65) for the verifier.  0; -1 on an error; -2 if the peer's
 * share is not a point of the group, or Z or V is the identity.
 */
int tcpcrypt__spake2p_finish(int prover, const unsigned char *w0, const unsigned char *secret,
			     const unsigned char *x, const unsigned char *own,
			     const unsigned char *peer, const unsigned char *context, size_t lctx,
			     const unsigned char *id_p, size_t lp, const unsigned char *id_v,
			     size_t lv, unsigned char *confirm_p, unsigned char *confirm_v,
			     unsigned char *k_shared);

/* --- lib/auth.c's helpers for lib/auth_spake2plus.c --- */
struct tcpcrypt_auth;
struct tcpcrypt_auth *tcpcrypt__auth_new(int scheme, void *ext, void (*ext_free)(void *));
void *tcpcrypt__auth_ext(const struct tcpcrypt_auth *a);
long tcpcrypt__auth_read_file(const char *path, unsigned char *buf, size_t cap);
long tcpcrypt__auth_read_password(const char *path, unsigned char *buf); /* PW_MAX + 2 bytes */
size_t tcpcrypt__auth_put_hdr(unsigned char *out, int type, int scheme, size_t body);
int tcpcrypt__auth_check_hdr(const struct tcpcrypt_auth *a, const unsigned char *msg, size_t len,
			     int type, size_t body);
int tcpcrypt__auth_check_role(const unsigned char *p, int role);
int tcpcrypt__auth_send(int fd, const unsigned char *p, size_t n, int64_t deadline);
int tcpcrypt__auth_recv(int fd, unsigned char *buf, int64_t deadline);
int tcpcrypt__auth_early_result(const struct tcpcrypt_auth *a, const unsigned char *sid, int role,
				const unsigned char *msg, int n, int *peer_status);
int tcpcrypt__auth_tell_peer(int code);

/* Steps 1-3 of the exchange for SPAKE2+ (docs/auth.md#spake2plus), as pake_fd for SPAKE2 */
int tcpcrypt__spake2p_fd(int fd, const struct tcpcrypt_auth *a, const unsigned char *sid, int role,
			 int64_t deadline, int *peer_status, int *quiet);

#endif
