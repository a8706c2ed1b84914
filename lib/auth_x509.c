// SPDX-License-Identifier: MIT
/*
 * X.509 chains for the signed server identity (docs/auth.md#x509-chains):
 * a signer's chain and its CERT message, a verifier's trust anchors (a CA
 * file) and the name it connected to.  The PROOF is the Ed25519 one of
 * lib/auth.c; what the chain adds is which key to expect: the leaf's, once
 * OpenSSL's verifier has taken the chain to a trust anchor.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include "tcpcrypt/auth.h"
#include "tcpcrypt/tcpcrypt.h"
#include "auth_x509.h"

#define SID_LEN TCP_ENO_SESSID_LEN
/* CERT body: role, sessid, count, then count times (length BE16, DER) */
#define CERT_FIXED (1 + SID_LEN + 1)
/* the chain part (count and certificates) of the largest CERT */
#define CHAIN_CAP (TCPCRYPT_AUTH_CERT_MSG_MAX - TCPCRYPT_AUTH_HDR_LEN - 1 - SID_LEN)

struct tcpcrypt_x509 {
	unsigned char *chain; /* signer: count, then (length, DER) per certificate */
	size_t chain_len;
	X509_STORE *store; /* verifier: the trust anchors */
	char *name;	   /* verifier: the host name or address connected to */
	int name_is_ip;
};

/* why this thread's last CERT check failed (tcpcrypt_auth_cert_error) */
static __thread char cert_err[256];

const char *tcpcrypt_auth_cert_error(void)
{
	return cert_err;
}

__attribute__((format(printf, 2, 3))) static int cert_fail(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cert_err, sizeof(cert_err), fmt, ap);
	va_end(ap);
	return -code;
}

void tcpcrypt__x509_free(struct tcpcrypt_x509 *x)
{
	if (!x)
		return;
	free(x->chain);
	X509_STORE_free(x->store);
	free(x->name);
	free(x);
}

static struct tcpcrypt_auth *fail(struct tcpcrypt_auth *a, struct tcpcrypt_x509 *x, int *err,
				  int code)
{
	int e = errno;

	tcpcrypt__x509_free(x);
	tcpcrypt_auth_free(a);
	ERR_clear_error();
	if (err)
		*err = code;
	errno = e;
	return NULL;
}

/*
 * The chain of a signer a: PEM certificates, the leaf first (its key must
 * be a's), then intermediates; at most TCPCRYPT_AUTH_CHAIN_MAX, and a CERT
 * message of at most TCPCRYPT_AUTH_CERT_MSG_MAX bytes.
 */
static struct tcpcrypt_auth *with_chain(struct tcpcrypt_auth *a, const char *path, int *err)
{
	struct tcpcrypt_x509 *x;
	unsigned long e;
	size_t used = 1;
	unsigned count = 0;
	X509 *c;
	FILE *f;

	if (!a)
		return NULL;
	x = calloc(1, sizeof(*x));
	if (!x || !(x->chain = malloc(CHAIN_CAP)))
		return fail(a, x, err, TCPCRYPT_AUTH_ESYS);
	f = path ? fopen(path, "r") : NULL;
	if (!f)
		return fail(a, x, err, path ? TCPCRYPT_AUTH_ESYS : TCPCRYPT_AUTH_ECONFIG);
	ERR_clear_error();
	while ((c = PEM_read_X509(f, NULL, NULL, NULL))) {
		int n = i2d_X509(c, NULL);
		unsigned char *p = x->chain + used + 2;

		/* the leaf certifies the signing key, or the chain proves nothing */
		if ((!count && EVP_PKEY_eq(X509_get0_pubkey(c), tcpcrypt__auth_pkey(a)) != 1) ||
		    count == TCPCRYPT_AUTH_CHAIN_MAX || n <= 0 || used + 2 + n > CHAIN_CAP) {
			X509_free(c);
			fclose(f);
			return fail(a, x, err, TCPCRYPT_AUTH_ECONFIG);
		}
		x->chain[used] = n >> 8;
		x->chain[used + 1] = n & 0xff;
		i2d_X509(c, &p);
		used += 2 + n;
		count++;
		X509_free(c);
	}
	fclose(f);
	/* the end of the file, not a broken PEM block after the last certificate */
	e = ERR_peek_last_error();
	if (!count ||
	    (e && !(ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE)))
		return fail(a, x, err, TCPCRYPT_AUTH_ECONFIG);
	ERR_clear_error();
	x->chain[0] = count;
	x->chain_len = used;
	tcpcrypt__auth_set_x509(a, x);
	if (err)
		*err = 0;
	return a;
}

struct tcpcrypt_auth *tcpcrypt_auth_sign_cert_file(const char *key_path, const char *cert_path,
						   int *err)
{
	return with_chain(tcpcrypt_auth_sign_file(key_path, err), cert_path, err);
}

struct tcpcrypt_auth *tcpcrypt_auth_sign_batch_cert_file(const char *key_path,
							 const char *cert_path, int *err)
{
	return with_chain(tcpcrypt_auth_sign_batch_file(key_path, err), cert_path, err);
}

struct tcpcrypt_auth *tcpcrypt_auth_verify_ca_file(const char *ca_path, const char *name, int *err)
{
	struct tcpcrypt_auth *a;
	struct tcpcrypt_x509 *x;
	unsigned char ip[16];
	FILE *f;

	if (!ca_path || !name || !*name || strlen(name) > 255)
		return fail(NULL, NULL, err, TCPCRYPT_AUTH_ECONFIG);
	f = fopen(ca_path, "r"); /* ESYS with errno for a missing file, as for the other files */
	if (!f)
		return fail(NULL, NULL, err, TCPCRYPT_AUTH_ESYS);
	fclose(f);
	a = tcpcrypt__auth_ca_verifier();
	x = calloc(1, sizeof(*x));
	if (!a || !x || !(x->store = X509_STORE_new()) || !(x->name = strdup(name)))
		return fail(a, x, err, TCPCRYPT_AUTH_ESYS);
	if (X509_STORE_load_file(x->store, ca_path) != 1 ||
	    !sk_X509_OBJECT_num(X509_STORE_get0_objects(x->store)))
		return fail(a, x, err, TCPCRYPT_AUTH_ECONFIG);
	ERR_clear_error();
	x->name_is_ip = inet_pton(AF_INET, name, ip) == 1 || inet_pton(AF_INET6, name, ip) == 1;
	tcpcrypt__auth_set_x509(a, x);
	if (err)
		*err = 0;
	return a;
}

int tcpcrypt_auth_cert(const struct tcpcrypt_auth *a, const unsigned char *sessid, int role,
		       unsigned char *out, size_t size)
{
	const struct tcpcrypt_x509 *x = a ? tcpcrypt__auth_x509(a) : NULL;
	size_t body;

	if (!a || !sessid || !out || (role != TCP_ENO_ROLE_A && role != TCP_ENO_ROLE_B))
		return -TCPCRYPT_AUTH_ECONFIG;
	if (!x || !x->chain || !tcpcrypt__auth_signer(a))
		return 0;
	body = 1 + SID_LEN + x->chain_len;
	if (size < TCPCRYPT_AUTH_HDR_LEN + body)
		return -TCPCRYPT_AUTH_ECONFIG;
	memcpy(out, "TCA", 3);
	out[3] = TCPCRYPT_AUTH_VERSION;
	out[4] = TCPCRYPT_AUTH_T_CERT;
	out[5] = tcpcrypt_auth_scheme(a);
	out[6] = body >> 8;
	out[7] = body & 0xff;
	out[8] = role;
	memcpy(out + 9, sessid, SID_LEN);
	memcpy(out + 9 + SID_LEN, x->chain, x->chain_len);
	return TCPCRYPT_AUTH_HDR_LEN + body;
}

/* The CERT message into certs[*count] (the caller frees them): 0 or a negative code */
static int parse_cert(const unsigned char *msg, size_t len, const unsigned char *sessid, int role,
		      X509 **certs, unsigned *count)
{
	const unsigned char *p, *end;
	unsigned n, i;
	int whole = tcpcrypt_auth_msg_len(msg, len);

	if (whole < 0)
		return whole;
	if (whole == 0 || (size_t)whole != len)
		return -TCPCRYPT_AUTH_EFORMAT;
	if (msg[5] != TCPCRYPT_AUTH_ED25519 && msg[5] != TCPCRYPT_AUTH_ED25519_BATCH)
		return -TCPCRYPT_AUTH_ESCHEME;
	if (msg[4] != TCPCRYPT_AUTH_T_CERT || len < TCPCRYPT_AUTH_HDR_LEN + CERT_FIXED)
		return -TCPCRYPT_AUTH_EFORMAT;
	p = msg + TCPCRYPT_AUTH_HDR_LEN;
	end = msg + len;
	n = p[1 + SID_LEN];
	if (n < 1 || n > TCPCRYPT_AUTH_CHAIN_MAX)
		return -TCPCRYPT_AUTH_EFORMAT;
	for (i = 0, p += CERT_FIXED; i < n; i++) {
		const unsigned char *q;
		size_t l;

		if (end - p < 2)
			return -TCPCRYPT_AUTH_EFORMAT;
		l = (size_t)p[0] << 8 | p[1];
		p += 2;
		if (!l || l > (size_t)(end - p))
			return -TCPCRYPT_AUTH_EFORMAT;
		q = p;
		certs[i] = d2i_X509(NULL, &q, l);
		*count = i + (certs[i] != NULL);
		if (!certs[i] || q != p + l) /* not one whole certificate */
			return -TCPCRYPT_AUTH_EFORMAT;
		p += l;
	}
	if (p != end)
		return -TCPCRYPT_AUTH_EFORMAT;
	p = msg + TCPCRYPT_AUTH_HDR_LEN;
	if (p[0] != (role == TCP_ENO_ROLE_A ? TCP_ENO_ROLE_B : TCP_ENO_ROLE_A))
		return -TCPCRYPT_AUTH_EROLE;
	if (CRYPTO_memcmp(p + 1, sessid, SID_LEN))
		return -TCPCRYPT_AUTH_ESESSID;
	return 0;
}

/*
 * The chain to a trust anchor of the store, for a TLS server's purpose (an
 * extended key usage, if any, must allow serverAuth), at the current time;
 * every certificate sent must be in the path, in its order; the leaf's key
 * usage, if any, must allow signatures.  0 or -ECERT.
 */
static int verify_chain(const struct tcpcrypt_x509 *x, X509 **certs, unsigned count)
{
	STACK_OF(X509) *untrusted = sk_X509_new_null(), *path;
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	int r = -TCPCRYPT_AUTH_ESYS;
	unsigned i;

	if (!untrusted || !ctx)
		goto out;
	for (i = 1; i < count; i++)
		if (!sk_X509_push(untrusted, certs[i]))
			goto out;
	if (X509_STORE_CTX_init(ctx, x->store, certs[0], untrusted) != 1 ||
	    X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_SERVER) != 1)
		goto out;
	if (X509_verify_cert(ctx) != 1) {
		int e = X509_STORE_CTX_get_error(ctx);

		r = cert_fail(TCPCRYPT_AUTH_ECERT, "certificate %d of the chain: %s",
			      X509_STORE_CTX_get_error_depth(ctx),
			      X509_verify_cert_error_string(e));
		goto out;
	}
	path = X509_STORE_CTX_get0_chain(ctx);
	for (i = 0; i < count; i++)
		if ((int)i >= sk_X509_num(path) || X509_cmp(sk_X509_value(path, i), certs[i])) {
			r = cert_fail(TCPCRYPT_AUTH_ECERT,
				      "certificate %u of the CERT message is not in the verified "
				      "path",
				      i);
			goto out;
		}
	if (!(X509_get_key_usage(certs[0]) & KU_DIGITAL_SIGNATURE)) {
		r = cert_fail(TCPCRYPT_AUTH_ECERT,
			      "the leaf's key usage does not allow signatures");
		goto out;
	}
	r = 0;
out:
	X509_STORE_CTX_free(ctx);
	sk_X509_free(untrusted); /* the certificates are the caller's */
	ERR_clear_error();
	return r;
}

/* the leaf is for the name: its IP addresses or DNS names (docs/auth.md#name-matching) */
static int check_name(const struct tcpcrypt_x509 *x, X509 *leaf)
{
	int ok = x->name_is_ip ? X509_check_ip_asc(leaf, x->name, 0)
			       : X509_check_host(leaf, x->name, 0,
						 X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS |
						     X509_CHECK_FLAG_NEVER_CHECK_SUBJECT,
						 NULL);

	ERR_clear_error();
	return ok == 1 ? 0
		       : cert_fail(TCPCRYPT_AUTH_ENAME, "the certificate is not for %s %s",
				   x->name_is_ip ? "address" : "host name", x->name);
}

int tcpcrypt_auth_check_cert(const struct tcpcrypt_auth *a, const unsigned char *sessid, int role,
			     const unsigned char *cert, size_t cert_len, const unsigned char *proof,
			     size_t proof_len)
{
	const struct tcpcrypt_x509 *x = a ? tcpcrypt__auth_x509(a) : NULL;
	X509 *certs[TCPCRYPT_AUTH_CHAIN_MAX];
	unsigned count = 0, i;
	EVP_PKEY *leaf_key;
	int r, r2;

	if (!x || !x->store || tcpcrypt__auth_signer(a) || !sessid ||
	    (role != TCP_ENO_ROLE_A && role != TCP_ENO_ROLE_B))
		return -TCPCRYPT_AUTH_ECONFIG;
	cert_err[0] = 0;
	if (!cert)
		return cert_fail(TCPCRYPT_AUTH_ECERT, "no certificate chain before the PROOF");
	r = parse_cert(cert, cert_len, sessid, role, certs, &count);
	if (r)
		goto out;
	/* the CERT names the PROOF's exact scheme (the signature covers only the PROOF's) */
	if (proof && proof_len > 5 && proof[5] != cert[5]) {
		r = -TCPCRYPT_AUTH_ESCHEME;
		goto out;
	}
	/* in order: the PROOF's fields and key (the leaf's), chain, name, signature */
	leaf_key = X509_get0_pubkey(certs[0]);
	r = leaf_key ? tcpcrypt__auth_check_proof_key(leaf_key, sessid, role, proof, proof_len)
		     : -TCPCRYPT_AUTH_EKEY;
	if (r && r != -TCPCRYPT_AUTH_EBADSIG)
		goto out;
	r2 = verify_chain(x, certs, count);
	if (!r2)
		r2 = check_name(x, certs[0]);
	if (r2)
		r = r2;
out:
	for (i = 0; i < count; i++)
		X509_free(certs[i]);
	ERR_clear_error();
	return r;
}
