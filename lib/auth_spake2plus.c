// SPDX-License-Identifier: MIT
/*
 * The augmented password scheme, SPAKE2+ (scheme 5) in tcpcrypt-auth
 * (docs/auth.md#spake2plus): the credentials (a password, or a verifier
 * file holding w0 and L), the verifier file (docs/auth.md#verifier-file),
 * the SHARE and PROOF messages, and the exchange over a socket.  The
 * arithmetic is lib/spake2plus.c; framing and socket I/O are lib/auth.c's.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include "tcpcrypt/auth.h"
#include "tcpcrypt/tcpcrypt.h"
#include "spake2plus.h"

#define SID_LEN TCP_ENO_SESSID_LEN
#define PW_MAX	TCPCRYPT_AUTH_PASSWORD_MAX
/* SHARE: role, sessid, part, share; PROOF: role, sessid, confirmation */
#define SHARE_BODY (1 + SID_LEN + 1 + SPAKE2P_POINT_LEN)
#define CONF_BODY  (1 + SID_LEN + SPAKE2P_CONF_LEN)
#define PROVER	   0 /* the part byte of a SHARE */
#define VERIFIER   1

/* scrypt's cost (RFC 9383 §3.2's recommendation): 32 MiB, once per credential */
#define SCRYPT_N 32768
#define SCRYPT_R 8
#define SCRYPT_P 1

/* Domain labels (docs/auth.md#labels), each followed by one 0 byte */
static const char LABEL_PW[] = "tcpcrypt-auth v1 spake2+ password";
static const char LABEL_CTX[] = "tcpcrypt-auth v1 spake2+";
static const char ID_A[] = "tcpcrypt-auth role A", ID_B[] = "tcpcrypt-auth role B";

/* The verifier file (docs/auth.md#verifier-file) */
static const char VF_MAGIC[] = "tcpcrypt-auth spake2+ verifier v1";
static const char VF_KDF[] = "kdf scrypt 32768 8 1";
#define VF_MAX 1024

struct cred {
	int has_w1; /* a password: can prove (and verify, with L from w1) */
	unsigned char w0[SPAKE2P_SCALAR_LEN], w1[SPAKE2P_SCALAR_LEN], L[SPAKE2P_POINT_LEN];
};

static __thread const char *vf_why;

const char *tcpcrypt_auth_verifier_error(void)
{
	return vf_why;
}

static void cred_free(void *p)
{
	if (!p)
		return;
	OPENSSL_cleanse(p, sizeof(struct cred));
	free(p);
}

static struct tcpcrypt_auth *fail(struct cred *c, int *err, int code)
{
	cred_free(c);
	if (err)
		*err = code;
	return NULL;
}

static struct tcpcrypt_auth *make(struct cred *c, int *err)
{
	struct tcpcrypt_auth *a = tcpcrypt__auth_new(TCPCRYPT_AUTH_SPAKE2PLUS, c, cred_free);

	if (!a)
		return fail(c, err, TCPCRYPT_AUTH_ESYS);
	if (err)
		*err = 0;
	return a;
}

/*
 * w0s || w1s = scrypt(len(pw) || pw || len(idProver) || idProver ||
 * len(idVerifier) || idVerifier, salt label 0; N, r, p; 80 bytes), the
 * identities empty (the roles are not known before the connection);
 * w0, w1 = each half mod p; L = w1*P (RFC 9383 §3.2).
 */
static int derive(const void *pw, size_t len, struct cred *c)
{
	unsigned char in[8 + PW_MAX + 16], h[2 * SPAKE2P_HALF_LEN], *p = in;
	int r = -1;

	if (!pw || len < 1 || len > PW_MAX)
		return -1;
	for (int i = 0; i < 8; i++)
		*p++ = (unsigned char)((uint64_t)len >> (8 * i));
	memcpy(p, pw, len);
	p += len;
	memset(p, 0, 16);
	p += 16;
	if (EVP_PBE_scrypt((const char *)in, p - in, (const unsigned char *)LABEL_PW,
			   sizeof(LABEL_PW), SCRYPT_N, SCRYPT_R, SCRYPT_P, 64 << 20, h,
			   sizeof(h)) == 1 &&
	    !tcpcrypt__spake2p_w(h, c->w0, c->w1) && !tcpcrypt__spake2p_L(c->w1, c->L) &&
	    !tcpcrypt__spake2p_check_record(c->w0, c->L))
		r = 0;
	OPENSSL_cleanse(in, sizeof(in));
	OPENSSL_cleanse(h, sizeof(h));
	return r;
}

struct tcpcrypt_auth *tcpcrypt_auth_spake2p_password(const void *pw, size_t len, int *err)
{
	struct cred *c = calloc(1, sizeof(*c));

	if (!c)
		return fail(NULL, err, TCPCRYPT_AUTH_ESYS);
	if (derive(pw, len, c))
		return fail(c, err, TCPCRYPT_AUTH_ECONFIG);
	c->has_w1 = 1;
	return make(c, err);
}

struct tcpcrypt_auth *tcpcrypt_auth_spake2p_password_file(const char *path, int *err)
{
	unsigned char buf[PW_MAX + 2];
	struct tcpcrypt_auth *a;
	long n = tcpcrypt__auth_read_password(path, buf);

	a = n < 0 ? fail(NULL, err, -n) : tcpcrypt_auth_spake2p_password(buf, n, err);
	OPENSSL_cleanse(buf, sizeof(buf));
	return a;
}

static int hexval(int ch)
{
	return ch >= '0' && ch <= '9'	? ch - '0'
	       : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
	       : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10
					: -1;
}

/* line = prefix and exactly 2n hex digits, into out: 0 or -1 */
static int hex_line(const char *line, size_t len, const char *prefix, unsigned char *out, size_t n)
{
	size_t lp = strlen(prefix);

	if (len != lp + 2 * n || memcmp(line, prefix, lp))
		return -1;
	for (size_t i = 0; i < n; i++) {
		int hi = hexval((unsigned char)line[lp + 2 * i]);
		int lo = hexval((unsigned char)line[lp + 2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		out[i] = hi << 4 | lo;
	}
	return 0;
}

struct tcpcrypt_auth *tcpcrypt_auth_verifier(const void *text, size_t len, int *err)
{
	static const char *const why_line[4] = {
	    "line 1 is not \"tcpcrypt-auth spake2+ verifier v1\" (or another version)",
	    "line 2 is not \"kdf scrypt 32768 8 1\" (other KDF parameters)",
	    "line 3 is not \"w0 \" and 64 hex digits",
	    "line 4 is not \"L \" and 130 hex digits",
	};
	const char *s = text, *end = s + len;
	struct cred *c;
	int line;

	vf_why = NULL;
	if (!text || len == 0 || len > VF_MAX) {
		vf_why = len > VF_MAX ? "longer than 1024 bytes" : "empty";
		return fail(NULL, err, TCPCRYPT_AUTH_ECONFIG);
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return fail(NULL, err, TCPCRYPT_AUTH_ESYS);
	for (line = 0; line < 4; line++) {
		const char *nl = memchr(s, '\n', end - s);
		size_t n = nl ? (size_t)(nl - s) : (size_t)(end - s);
		int bad;

		if (line == 0)
			bad = n != sizeof(VF_MAGIC) - 1 || memcmp(s, VF_MAGIC, n);
		else if (line == 1)
			bad = n != sizeof(VF_KDF) - 1 || memcmp(s, VF_KDF, n);
		else if (line == 2)
			bad = hex_line(s, n, "w0 ", c->w0, SPAKE2P_SCALAR_LEN);
		else
			bad = hex_line(s, n, "L ", c->L, SPAKE2P_POINT_LEN);
		/* only the last line may lack its newline */
		if (bad || (!nl && line < 3)) {
			vf_why = why_line[bad ? line : line + 1];
			return fail(c, err, TCPCRYPT_AUTH_ECONFIG);
		}
		s += n + (nl ? 1 : 0);
	}
	if (s != end) {
		vf_why = "bytes after line 4";
		return fail(c, err, TCPCRYPT_AUTH_ECONFIG);
	}
	switch (tcpcrypt__spake2p_check_record(c->w0, c->L)) {
	case 0:
		break;
	case -2:
		vf_why = "L is not a point of P-256 (or is the identity)";
		return fail(c, err, TCPCRYPT_AUTH_ECONFIG);
	default:
		vf_why = "w0 is 0 or not below the order of P-256";
		return fail(c, err, TCPCRYPT_AUTH_ECONFIG);
	}
	return make(c, err);
}

struct tcpcrypt_auth *tcpcrypt_auth_verifier_file(const char *path, int *err)
{
	unsigned char buf[VF_MAX + 1];
	struct tcpcrypt_auth *a;
	long n;

	vf_why = NULL;
	n = tcpcrypt__auth_read_file(path, buf, sizeof(buf));
	if (n < 0)
		return fail(NULL, err, TCPCRYPT_AUTH_ESYS);
	a = tcpcrypt_auth_verifier(buf, n, err);
	OPENSSL_cleanse(buf, sizeof(buf));
	return a;
}

static char *put_hex(char *p, const unsigned char *b, size_t n)
{
	static const char d[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		*p++ = d[b[i] >> 4];
		*p++ = d[b[i] & 15];
	}
	return p;
}

int tcpcrypt_auth_make_verifier(const void *pw, size_t len, char *out, size_t size)
{
	struct cred c;
	size_t need = sizeof(VF_MAGIC) + sizeof(VF_KDF) + 3 + 2 * SPAKE2P_SCALAR_LEN + 1 + 2 +
		      2 * SPAKE2P_POINT_LEN + 1 + 1;
	char *p = out;

	if (!out || size < need)
		return -TCPCRYPT_AUTH_ECONFIG;
	if (derive(pw, len, &c)) {
		OPENSSL_cleanse(&c, sizeof(c));
		return -TCPCRYPT_AUTH_ECONFIG;
	}
	p += sprintf(p, "%s\n%s\nw0 ", VF_MAGIC, VF_KDF);
	p = put_hex(p, c.w0, SPAKE2P_SCALAR_LEN);
	p += sprintf(p, "\nL ");
	p = put_hex(p, c.L, SPAKE2P_POINT_LEN);
	*p++ = '\n';
	*p = 0;
	OPENSSL_cleanse(&c, sizeof(c));
	return p - out;
}

int tcpcrypt_auth_make_verifier_file(const char *pw_path, char *out, size_t size)
{
	unsigned char buf[PW_MAX + 2];
	long n = tcpcrypt__auth_read_password(pw_path, buf);
	int r = n < 0 ? (int)n : tcpcrypt_auth_make_verifier(buf, n, out, size);

	OPENSSL_cleanse(buf, sizeof(buf));
	return r;
}

/* --- messages (docs/auth.md#spake2plus) --- */

struct tcpcrypt_auth_spake2p {
	const struct tcpcrypt_auth *a;
	const struct cred *c;
	int role, part, state; /* part: -1 until known; state: 0 SHARE due, 1 PROOF due, 2 done */
	unsigned char sid[SID_LEN];
	unsigned char x[SPAKE2P_SCALAR_LEN], own[SPAKE2P_POINT_LEN];
	unsigned char my_conf[SPAKE2P_CONF_LEN], peer_conf[SPAKE2P_CONF_LEN];
	unsigned char key[SPAKE2P_KEY_LEN];
};

static size_t put_share(const struct tcpcrypt_auth_spake2p *st, unsigned char *out)
{
	size_t n = tcpcrypt__auth_put_hdr(out, TCPCRYPT_AUTH_T_SHARE, TCPCRYPT_AUTH_SPAKE2PLUS,
					  SHARE_BODY);

	out[n++] = st->role;
	memcpy(out + n, st->sid, SID_LEN);
	n += SID_LEN;
	out[n++] = st->part;
	memcpy(out + n, st->own, SPAKE2P_POINT_LEN);
	return n + SPAKE2P_POINT_LEN;
}

static size_t put_proof(const struct tcpcrypt_auth_spake2p *st, unsigned char *out)
{
	size_t n =
	    tcpcrypt__auth_put_hdr(out, TCPCRYPT_AUTH_T_PROOF, TCPCRYPT_AUTH_SPAKE2PLUS, CONF_BODY);

	out[n++] = st->role;
	memcpy(out + n, st->sid, SID_LEN);
	n += SID_LEN;
	memcpy(out + n, st->my_conf, SPAKE2P_CONF_LEN);
	return n + SPAKE2P_CONF_LEN;
}

static int bad_args(const struct tcpcrypt_auth *a, const unsigned char *sessid, int role)
{
	return !a || !sessid || (role != TCP_ENO_ROLE_A && role != TCP_ENO_ROLE_B) ||
	       tcpcrypt_auth_scheme(a) != TCPCRYPT_AUTH_SPAKE2PLUS || !tcpcrypt__auth_ext(a);
}

int tcpcrypt_auth_spake2p_start(const struct tcpcrypt_auth *a, const unsigned char *sessid,
				int role, struct tcpcrypt_auth_spake2p **st, unsigned char *out,
				size_t size)
{
	struct tcpcrypt_auth_spake2p *p;

	if (bad_args(a, sessid, role) || !st || !out ||
	    size < 2 * TCPCRYPT_AUTH_HDR_LEN + SHARE_BODY + CONF_BODY)
		return -TCPCRYPT_AUTH_ECONFIG;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -TCPCRYPT_AUTH_ESYS;
	p->a = a;
	p->c = tcpcrypt__auth_ext(a);
	p->role = role;
	p->part = -1;
	memcpy(p->sid, sessid, SID_LEN);
	*st = p;
	if (role != TCP_ENO_ROLE_A)
		return 0; /* B answers A's SHARE: its part depends on A's */
	/* A proves if it has the password, else it verifies */
	p->part = p->c->has_w1 ? PROVER : VERIFIER;
	if (tcpcrypt__spake2p_share(p->part == PROVER, p->c->w0, NULL, p->x, p->own))
		return -TCPCRYPT_AUTH_ESYS;
	return put_share(p, out);
}

/*
 * The peer's SHARE: decide B's part, compute the keys; out: B's SHARE, the
 * verifier's PROOF.  The state changes only on success (a bad message
 * leaves it as it was).
 */
static int on_share(struct tcpcrypt_auth_spake2p *st, const unsigned char *msg, size_t len,
		    unsigned char *out)
{
	const unsigned char *p = msg + TCPCRYPT_AUTH_HDR_LEN;
	const struct cred *c = st->c;
	unsigned char ctx[sizeof(LABEL_CTX) + SID_LEN], cp[SPAKE2P_CONF_LEN], cv[SPAKE2P_CONF_LEN];
	unsigned char x[SPAKE2P_SCALAR_LEN], own[SPAKE2P_POINT_LEN], key[SPAKE2P_KEY_LEN];
	const char *id_p, *id_v;
	size_t n = 0;
	int r, prover, part = st->part, peer_part, was_b = st->part < 0;

	r = tcpcrypt__auth_check_hdr(st->a, msg, len, TCPCRYPT_AUTH_T_SHARE, SHARE_BODY);
	if (!r)
		r = tcpcrypt__auth_check_role(p, st->role);
	if (r)
		return r;
	if (CRYPTO_memcmp(p + 1, st->sid, SID_LEN))
		return -TCPCRYPT_AUTH_ESESSID;
	peer_part = p[1 + SID_LEN];
	if (peer_part != PROVER && peer_part != VERIFIER)
		return -TCPCRYPT_AUTH_EFORMAT;
	memcpy(x, st->x, sizeof(x));
	memcpy(own, st->own, sizeof(own));
	if (was_b) {
		/* B verifies if A proves; if A verifies, B proves (only with the password) */
		if (peer_part == VERIFIER && !c->has_w1)
			return -TCPCRYPT_AUTH_EVERIFIER;
		part = peer_part == PROVER ? VERIFIER : PROVER;
		if (tcpcrypt__spake2p_share(part == PROVER, c->w0, NULL, x, own))
			return -TCPCRYPT_AUTH_ESYS;
	} else if (peer_part == part) {
		return part == VERIFIER ? -TCPCRYPT_AUTH_EVERIFIER : -TCPCRYPT_AUTH_EFORMAT;
	}
	prover = part == PROVER;
	/* Context: the session ID; the identities: the TCP roles of prover and verifier */
	memcpy(ctx, LABEL_CTX, sizeof(LABEL_CTX));
	memcpy(ctx + sizeof(LABEL_CTX), st->sid, SID_LEN);
	id_p = (prover ? st->role : !st->role) == TCP_ENO_ROLE_A ? ID_A : ID_B;
	id_v = id_p == ID_A ? ID_B : ID_A;
	r = tcpcrypt__spake2p_finish(prover, c->w0, prover ? c->w1 : c->L, x, own,
				     p + 1 + SID_LEN + 1, ctx, sizeof(ctx),
				     (const unsigned char *)id_p, sizeof(ID_A) - 1,
				     (const unsigned char *)id_v, sizeof(ID_B) - 1, cp, cv, key);
	if (!r) {
		st->part = part;
		memcpy(st->x, x, sizeof(x));
		memcpy(st->own, own, sizeof(own));
		memcpy(st->key, key, sizeof(key));
		memcpy(st->my_conf, prover ? cp : cv, SPAKE2P_CONF_LEN);
		memcpy(st->peer_conf, prover ? cv : cp, SPAKE2P_CONF_LEN);
		st->state = 1;
	}
	OPENSSL_cleanse(x, sizeof(x));
	OPENSSL_cleanse(key, sizeof(key));
	OPENSSL_cleanse(cp, sizeof(cp));
	OPENSSL_cleanse(cv, sizeof(cv));
	if (r)
		return r == -2 ? -TCPCRYPT_AUTH_EPOINT : -TCPCRYPT_AUTH_ESYS;
	if (was_b)
		n = put_share(st, out);
	/* the verifier confirms first; the prover only after checking it (§3.3) */
	if (!prover)
		n += put_proof(st, out + n);
	return n;
}

int tcpcrypt_auth_spake2p_next(struct tcpcrypt_auth_spake2p *st, const unsigned char *msg,
			       size_t len, unsigned char *out, size_t size, int *done)
{
	const unsigned char *p = msg + TCPCRYPT_AUTH_HDR_LEN;
	int r;

	if (!st || !out || !done || size < 2 * TCPCRYPT_AUTH_HDR_LEN + SHARE_BODY + CONF_BODY ||
	    st->state > 1)
		return -TCPCRYPT_AUTH_ECONFIG;
	*done = 0;
	if (st->state == 0)
		return on_share(st, msg, len, out);
	r = tcpcrypt__auth_check_hdr(st->a, msg, len, TCPCRYPT_AUTH_T_PROOF, CONF_BODY);
	if (!r)
		r = tcpcrypt__auth_check_role(p, st->role);
	if (r)
		return r;
	if (CRYPTO_memcmp(p + 1, st->sid, SID_LEN))
		return -TCPCRYPT_AUTH_ESESSID;
	if (CRYPTO_memcmp(p + 1 + SID_LEN, st->peer_conf, SPAKE2P_CONF_LEN))
		return -TCPCRYPT_AUTH_EPASSWORD;
	st->state = 2;
	*done = 1;
	return st->part == PROVER ? (int)put_proof(st, out) : 0;
}

int tcpcrypt_auth_spake2p_is_prover(const struct tcpcrypt_auth_spake2p *st)
{
	return st && st->part >= 0 ? st->part == PROVER : -TCPCRYPT_AUTH_ECONFIG;
}

int tcpcrypt_auth_spake2p_key(const struct tcpcrypt_auth_spake2p *st, unsigned char *key,
			      size_t len)
{
	if (!st || st->state != 2 || !key || len != SPAKE2P_KEY_LEN)
		return -TCPCRYPT_AUTH_ECONFIG;
	memcpy(key, st->key, SPAKE2P_KEY_LEN);
	return 0;
}

void tcpcrypt_auth_spake2p_free(struct tcpcrypt_auth_spake2p *st)
{
	if (!st)
		return;
	OPENSSL_cleanse(st, sizeof(*st));
	free(st);
}

/* --- over a socket (docs/auth.md#exchange) --- */

int tcpcrypt__spake2p_fd(int fd, const struct tcpcrypt_auth *a, const unsigned char *sid, int role,
			 int64_t deadline, int *peer_status, int *quiet)
{
	unsigned char msg[TCPCRYPT_AUTH_MSG_MAX], out[2 * TCPCRYPT_AUTH_MSG_MAX];
	struct tcpcrypt_auth_spake2p *st = NULL;
	int n, r = 0, done = 0;

	n = tcpcrypt_auth_spake2p_start(a, sid, role, &st, out, sizeof(out));
	if (n > 0)
		r = tcpcrypt__auth_send(fd, out, n, deadline);
	else if (n < 0)
		r = n;
	while (!r && !done) {
		n = tcpcrypt__auth_recv(fd, msg, deadline);
		r = n < 0 ? n : tcpcrypt__auth_early_result(a, sid, role, msg, n, peer_status);
		if (r) {
			*quiet = 1;
			break;
		}
		n = tcpcrypt_auth_spake2p_next(st, msg, n, out, sizeof(out), &done);
		if (n > 0)
			r = tcpcrypt__auth_send(fd, out, n, deadline);
		else if (n < 0)
			r = n;
	}
	tcpcrypt_auth_spake2p_free(st);
	if (r && (r == -TCPCRYPT_AUTH_EPEER || !tcpcrypt__auth_tell_peer(-r)))
		*quiet = 1;
	return r;
}
