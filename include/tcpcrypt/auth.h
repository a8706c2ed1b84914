/* SPDX-License-Identifier: MIT */
/*
 * libtcpcrypt authentication of the session ID (-ltcpcrypt -lcrypto): after
 * the key exchange, both ends prove over the application's own connection
 * that they see the same session ID (TCP_ENO_SESSID) in opposite roles
 * (TCP_ENO_ROLE), under a credential the application has: a pre-shared key
 * (HMAC-SHA256 each way) or a server's Ed25519 key, pinned by the client.
 * A man in the middle has two tcpcrypt sessions with two session IDs, and
 * fails.  The messages, labels and error codes: docs/auth.md; man:
 * libtcpcrypt(3), tcpcrypt-cat(1).
 *
 * Functions return 0 (or a length) on success and a negative
 * TCPCRYPT_AUTH_E* code on failure (-TCPCRYPT_AUTH_ESYS: see errno).
 */
#ifndef TCPCRYPT_AUTH_H
#define TCPCRYPT_AUTH_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TCPCRYPT_AUTH_VERSION	   1
#define TCPCRYPT_AUTH_HDR_LEN	   8   /* "TCA", version, type, scheme, body length (BE16) */
#define TCPCRYPT_AUTH_MSG_MAX	   512 /* no message is longer */
#define TCPCRYPT_AUTH_PSK_MIN	   16  /* bytes of a pre-shared key, at least */
#define TCPCRYPT_AUTH_PSK_MAX	   1024
#define TCPCRYPT_AUTH_PASSWORD_MAX 1024 /* bytes of a password (SPAKE2, SPAKE2+), at most */

/* Schemes (the header's scheme byte) */
#define TCPCRYPT_AUTH_PSK     1 /* HMAC-SHA256 under a pre-shared key, both ways */
#define TCPCRYPT_AUTH_ED25519 2 /* Ed25519 signature of the signer, pinned key */
/* the same key signing the root of a Merkle tree over a batch of session IDs */
#define TCPCRYPT_AUTH_ED25519_BATCH 3
#define TCPCRYPT_AUTH_BATCH_MAX	    256 /* session IDs under one signature, at most */
/* a password, both ways: SPAKE2-P256 (RFC 9382) with key confirmation */
#define TCPCRYPT_AUTH_SPAKE2 4
/* augmented, the verifier holding (w0, L), not the password: SPAKE2+ (RFC 9383) */
#define TCPCRYPT_AUTH_SPAKE2PLUS 5

/* Message types */
#define TCPCRYPT_AUTH_T_PROOF  1
#define TCPCRYPT_AUTH_T_RESULT 2
#define TCPCRYPT_AUTH_T_SHARE  3 /* SPAKE2: the public share, before the PROOF */
/* the signer's X.509 chain, before its PROOF (docs/auth.md#x509-chains) */
#define TCPCRYPT_AUTH_T_CERT	   4
#define TCPCRYPT_AUTH_CERT_MSG_MAX 16384 /* a CERT message, header included, at most */
#define TCPCRYPT_AUTH_CHAIN_MAX	   8	 /* certificates in a CERT message, at most */

/*
 * Error codes, also the status byte of a RESULT message (0: accepted).
 * Each failure has its own, so that an application can say what happened.
 */
enum tcpcrypt_auth_err {
	TCPCRYPT_AUTH_OK = 0,
	TCPCRYPT_AUTH_EPLAIN = 1,     /* plain TCP: ENO fell back (TCP_ENO_SESSID: EOPNOTSUPP) */
	TCPCRYPT_AUTH_ENOAGENT = 2,   /* no tcpcryptd serves the socket (ENOPROTOOPT) */
	TCPCRYPT_AUTH_ENOTAUTH = 3,   /* the peer does not speak this protocol (no "TCA") */
	TCPCRYPT_AUTH_EVERSION = 4,   /* a version this library does not speak */
	TCPCRYPT_AUTH_ESCHEME = 5,    /* the peer uses another scheme */
	TCPCRYPT_AUTH_EFORMAT = 6,    /* malformed: type, length, truncated */
	TCPCRYPT_AUTH_EROLE = 7,      /* the peer claims our own role */
	TCPCRYPT_AUTH_ESESSID = 8,    /* the peer has another session ID: MITM or replay */
	TCPCRYPT_AUTH_EKEY = 9,	      /* another secret (PSK key id) or not the pinned key */
	TCPCRYPT_AUTH_EBADMAC = 10,   /* the MAC does not verify: tampered */
	TCPCRYPT_AUTH_EBADSIG = 11,   /* the signature does not verify: tampered */
	TCPCRYPT_AUTH_EPEER = 12,     /* the peer rejected us (its RESULT status) */
	TCPCRYPT_AUTH_ECLOSED = 13,   /* the peer closed the connection during authentication */
	TCPCRYPT_AUTH_ETIMEDOUT = 14, /* no message in time */
	TCPCRYPT_AUTH_ESYS = 15,      /* a system call failed: errno */
	TCPCRYPT_AUTH_ECONFIG = 16,   /* unusable credential (file, key type, length) */
	TCPCRYPT_AUTH_EPASSWORD =
	    17,			   /* SPAKE2 confirmation failed: another password, or tampered */
	TCPCRYPT_AUTH_EPOINT = 18, /* SPAKE2: the peer's share is not a point of the group */
	/* SPAKE2+: both ends hold a verifier, neither the password: no one can prove */
	TCPCRYPT_AUTH_EVERIFIER = 19,
	/* 20-24: free */
	TCPCRYPT_AUTH_ECERT = 25, /* the chain does not verify: tcpcrypt_auth_cert_error() */
	TCPCRYPT_AUTH_ENAME = 26, /* the certificate is not for the name connected to */
	TCPCRYPT_AUTH_EMAX
};

/* A short English message for a code (positive or negative). */
const char *tcpcrypt_auth_strerror(int err);

/* A credential; immutable once made, so one may serve many threads. */
struct tcpcrypt_auth;

/* Pre-shared key of TCPCRYPT_AUTH_PSK_MIN.._MAX bytes (random, not a password). */
struct tcpcrypt_auth *tcpcrypt_auth_psk(const void *key, size_t len, int *err);
/* The same from a file's exact bytes. */
struct tcpcrypt_auth *tcpcrypt_auth_psk_file(const char *path, int *err);
/* Signer: an Ed25519 private key, PEM (openssl genpkey -algorithm ed25519). */
struct tcpcrypt_auth *tcpcrypt_auth_sign_file(const char *pem_path, int *err);
/*
 * Batch signer: the same key, but concurrent connections share signatures:
 * the session IDs that arrive while a signature is being made are signed
 * together, as the leaves of a Merkle tree (docs/auth.md#ed25519-batch);
 * tcpcrypt_auth_proof() blocks until its batch is signed, at most 8 ms
 * longer while other connections are in tcpcrypt_auth_fd() with the same
 * credential (a lone connection: not at all).  Thread-safe.
 */
struct tcpcrypt_auth *tcpcrypt_auth_sign_batch_file(const char *pem_path, int *err);
/* A batch signer's counts so far: signatures made, proofs made. */
void tcpcrypt_auth_batch_stats(const struct tcpcrypt_auth *a, unsigned long *signatures,
			       unsigned long *proofs);
/*
 * Verifier: the signer's Ed25519 public key, PEM (openssl pkey -pubout);
 * it accepts both single and batch signatures.
 */
struct tcpcrypt_auth *tcpcrypt_auth_verify_file(const char *pem_path, int *err);
/*
 * Password (SPAKE2, docs/auth.md#spake2): the file's bytes but one
 * trailing newline, 1 to 1024 of them; hashed with scrypt once, here.
 */
struct tcpcrypt_auth *tcpcrypt_auth_password(const void *pw, size_t len, int *err);
struct tcpcrypt_auth *tcpcrypt_auth_password_file(const char *path, int *err);
/*
 * X.509 (docs/auth.md#x509-chains).  Signer: the Ed25519 key and a chain
 * (PEM: the leaf, whose public key must be the key's, then intermediates);
 * it sends a CERT message before each PROOF.  Verifier: the CA file (PEM
 * certificates, the trust anchors) and the name this end connected to (a
 * host name, matched against the leaf's DNS names, or an IPv4/IPv6 address
 * against its IP addresses); it takes either signature.
 */
struct tcpcrypt_auth *tcpcrypt_auth_sign_cert_file(const char *key_path, const char *cert_path,
						   int *err);
struct tcpcrypt_auth *tcpcrypt_auth_sign_batch_cert_file(const char *key_path,
							 const char *cert_path, int *err);
struct tcpcrypt_auth *tcpcrypt_auth_verify_ca_file(const char *ca_path, const char *name, int *err);
/*
 * Why this thread's last check failed with ECERT or ENAME: OpenSSL's
 * verifier's reason and the depth, or "" if none.
 */
const char *tcpcrypt_auth_cert_error(void);
/*
 * SPAKE2+ (docs/auth.md#spake2plus), augmented: the end with the password
 * proves, the end with a verifier file verifies, and the verifier file
 * does not let its holder prove.  A password (the file's bytes but one
 * trailing newline, 1 to 1024 of them; scrypt N 2^15, r 8, p 1, once,
 * here); it proves against a verifier, and against another password end
 * proves as role A and verifies as role B.
 */
struct tcpcrypt_auth *tcpcrypt_auth_spake2p_password(const void *pw, size_t len, int *err);
struct tcpcrypt_auth *tcpcrypt_auth_spake2p_password_file(const char *path, int *err);
/*
 * A verifier: the text of a verifier file (docs/auth.md#verifier-file), or
 * the file.  Malformed: ECONFIG, and tcpcrypt_auth_verifier_error() says
 * why (this thread's last attempt; NULL if it succeeded or the file was
 * unreadable, ESYS).
 */
struct tcpcrypt_auth *tcpcrypt_auth_verifier(const void *text, size_t len, int *err);
struct tcpcrypt_auth *tcpcrypt_auth_verifier_file(const char *path, int *err);
const char *tcpcrypt_auth_verifier_error(void);
/*
 * The verifier file of a password (or of a password file, read as above)
 * into out, NUL-terminated: its length (without the NUL), or a negative
 * code (ECONFIG: no password, or out too small; TCPCRYPT_AUTH_VERIFIER_MAX is enough).
 */
#define TCPCRYPT_AUTH_VERIFIER_MAX 512
int tcpcrypt_auth_make_verifier(const void *pw, size_t len, char *out, size_t size);
int tcpcrypt_auth_make_verifier_file(const char *pw_path, char *out, size_t size);
void tcpcrypt_auth_free(struct tcpcrypt_auth *a);
int tcpcrypt_auth_scheme(const struct tcpcrypt_auth *a);

/*
 * Message level, for applications with their own event loop (and the
 * tests).  sessid is TCP_ENO_SESSID_LEN bytes, role this end's TCP_ENO_ROLE.
 *
 * tcpcrypt_auth_proof: this end's PROOF into out; its length, 0 if this end
 * sends none (an Ed25519 verifier), or a negative code.
 * tcpcrypt_auth_check_proof: the peer's PROOF; 0 or a negative code.
 * tcpcrypt_auth_result / _check_result: the RESULT message carrying status
 * (0 or a positive code); the check returns 0 if the peer accepted, a
 * negative code if its message is bad, -TCPCRYPT_AUTH_EPEER if it rejected
 * (*peer_status, if not NULL, gets its code).
 * tcpcrypt_auth_msg_len: from the first n bytes of a message, its total
 * length; 0 if n is too short to say, or a negative code.
 */
int tcpcrypt_auth_proof(const struct tcpcrypt_auth *a, const unsigned char *sessid, int role,
			unsigned char *out, size_t size);
int tcpcrypt_auth_check_proof(const struct tcpcrypt_auth *a, const unsigned char *sessid, int role,
			      const unsigned char *msg, size_t len);
int tcpcrypt_auth_result(const struct tcpcrypt_auth *a, const unsigned char *sessid, int role,
			 int status, unsigned char *out, size_t size);
int tcpcrypt_auth_check_result(const struct tcpcrypt_auth *a, const unsigned char *sessid, int role,
			       const unsigned char *msg, size_t len, int *peer_status);
int tcpcrypt_auth_msg_len(const unsigned char *msg, size_t n);
/*
 * X.509 at message level.  tcpcrypt_auth_cert: the signer's CERT message
 * (up to TCPCRYPT_AUTH_CERT_MSG_MAX bytes) into out, its length, or 0 for a
 * signer without a chain.  tcpcrypt_auth_check_cert: for a CA verifier, the
 * peer's CERT and PROOF (cert NULL: none came, ECERT); 0 or a negative code.
 */
int tcpcrypt_auth_cert(const struct tcpcrypt_auth *a, const unsigned char *sessid, int role,
		       unsigned char *out, size_t size);
int tcpcrypt_auth_check_cert(const struct tcpcrypt_auth *a, const unsigned char *sessid, int role,
			     const unsigned char *cert, size_t cert_len, const unsigned char *proof,
			     size_t proof_len);

/*
 * SPAKE2 at message level: a per-connection state.  _pake_start: our
 * SHARE into out (its length) and *st; _pake_proof: the peer's SHARE in,
 * our PROOF (key confirmation) out; _pake_check: the peer's PROOF, 0 or a
 * negative code (-TCPCRYPT_AUTH_EPASSWORD: another password).
 */
struct tcpcrypt_auth_pake;
int tcpcrypt_auth_pake_start(const struct tcpcrypt_auth *a, const unsigned char *sessid, int role,
			     struct tcpcrypt_auth_pake **st, unsigned char *out, size_t size);
int tcpcrypt_auth_pake_proof(struct tcpcrypt_auth_pake *st, const unsigned char *msg, size_t len,
			     unsigned char *out, size_t size);
int tcpcrypt_auth_pake_check(struct tcpcrypt_auth_pake *st, const unsigned char *msg, size_t len);
void tcpcrypt_auth_pake_free(struct tcpcrypt_auth_pake *st);

/*
 * SPAKE2+ at message level: a per-connection state machine.  _start: the
 * state in *st, and into out what this end sends first (role A: its SHARE;
 * role B: nothing, it answers A's SHARE), its length.  _next: the peer's
 * next message in, into out what this end sends now (its length, 0 for
 * nothing; it may be a SHARE followed by a PROOF); *done is set once this
 * end has checked the peer's confirmation (out then holds our last
 * message, if any).  Negative codes on failure (-TCPCRYPT_AUTH_EPASSWORD:
 * another password).  out needs 2 * TCPCRYPT_AUTH_MSG_MAX bytes.
 * _is_prover: 1 if this end proves, 0 if it verifies (once known).
 * _key: K_shared (32 bytes) once done.
 */
struct tcpcrypt_auth_spake2p;
int tcpcrypt_auth_spake2p_start(const struct tcpcrypt_auth *a, const unsigned char *sessid,
				int role, struct tcpcrypt_auth_spake2p **st, unsigned char *out,
				size_t size);
int tcpcrypt_auth_spake2p_next(struct tcpcrypt_auth_spake2p *st, const unsigned char *msg,
			       size_t len, unsigned char *out, size_t size, int *done);
int tcpcrypt_auth_spake2p_is_prover(const struct tcpcrypt_auth_spake2p *st);
int tcpcrypt_auth_spake2p_key(const struct tcpcrypt_auth_spake2p *st, unsigned char *key,
			      size_t len);
void tcpcrypt_auth_spake2p_free(struct tcpcrypt_auth_spake2p *st);

/*
 * Connection level: on a connected TCP socket (blocking or not), wait for
 * the session ID, exchange the messages, and return 0 once both ends have
 * accepted; nothing of the application's stream is read.  At most
 * timeout_ms in all (< 0: no limit).  sessid (may be NULL) gets the
 * session ID as soon as it is known: the authenticated one on success, the
 * unauthenticated one (for diagnostics) when a later step fails;
 * *peer_status (may be NULL) the peer's code when it rejected us.  On failure of the credential
 * check the session is flushed from the cache (TCP_CRYPT_CACHE_FLUSH); the caller closes fd.
 */
int tcpcrypt_auth_fd(int fd, const struct tcpcrypt_auth *a, int timeout_ms, unsigned char *sessid,
		     int *peer_status);

#ifdef __cplusplus
}
#endif

#endif
