/* SPDX-License-Identifier: MIT */
/*
 * Between lib/auth.c and lib/auth_x509.c (docs/auth.md#x509-chains): the
 * X.509 part of a credential, and what auth_x509.c needs of the rest.
 */
#ifndef TCPCRYPT_AUTH_X509_H
#define TCPCRYPT_AUTH_X509_H

#include <stddef.h>
#include <openssl/evp.h>

struct tcpcrypt_auth;
/* a signer's chain (the CERT body after role and session ID), or a verifier's store and name */
struct tcpcrypt_x509;

/* lib/auth_x509.c */
void tcpcrypt__x509_free(struct tcpcrypt_x509 *x);

/* lib/auth.c */
EVP_PKEY *tcpcrypt__auth_pkey(const struct tcpcrypt_auth *a);
int tcpcrypt__auth_signer(const struct tcpcrypt_auth *a);
struct tcpcrypt_x509 *tcpcrypt__auth_x509(const struct tcpcrypt_auth *a);
void tcpcrypt__auth_set_x509(struct tcpcrypt_auth *a, struct tcpcrypt_x509 *x);
/* an Ed25519 verifier without a pinned key (its key comes with each chain) */
struct tcpcrypt_auth *tcpcrypt__auth_ca_verifier(void);
/* the checks of an Ed25519 or batch PROOF, with key as the expected one */
int tcpcrypt__auth_check_proof_key(EVP_PKEY *key, const unsigned char *sessid, int role,
				   const unsigned char *msg, size_t len);

#endif
