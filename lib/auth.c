// SPDX-License-Identifier: MIT
/*
 * libtcpcrypt authentication of the session ID (include/tcpcrypt/auth.h):
 * the in-band message format of docs/auth.md#messages, the pre-shared key
 * and Ed25519 schemes (docs/auth.md#schemes), and the exchange over a
 * connected socket (docs/auth.md#exchange).  OpenSSL libcrypto only.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include "tcpcrypt/auth.h"
#include "tcpcrypt/tcpcrypt.h"
#include "spake2.h"
#include "auth_x509.h"
#include "spake2plus.h"
#include "auth_batch.h"

#define SID_LEN	  TCP_ENO_SESSID_LEN
#define KEYID_LEN 8
#define TAG_LEN	  32
#define PUB_LEN	  32
#define SIG_LEN	  64

/* Bodies (docs/auth.md#messages): role, then ... */
#define PSK_BODY    (1 + SID_LEN + KEYID_LEN + TAG_LEN)
#define ED_BODY	    (1 + SID_LEN + PUB_LEN + SIG_LEN)
#define RESULT_BODY (1 + 1 + SID_LEN)
/* batch: role, sessid, public key, blinder, index (BE16), depth, path, signature */
#define BLIND_LEN	32
#define HASH_LEN	32
#define BATCH_DEPTH_MAX 8 /* 2^8 = TCPCRYPT_AUTH_BATCH_MAX leaves */
#define BATCH_FIXED	(1 + SID_LEN + PUB_LEN + BLIND_LEN + 2 + 1 + SIG_LEN)
#define BATCH_BODY(dep) (BATCH_FIXED + (dep)*HASH_LEN)
/* SPAKE2: SHARE role, sessid, share; PROOF role, sessid, confirmation */
#define SHARE_BODY (1 + SID_LEN + SPAKE2_POINT_LEN)
#define CONF_BODY  (1 + SID_LEN + SPAKE2_CONF_LEN)
#define PW_MAX	   TCPCRYPT_AUTH_PASSWORD_MAX

/* Domain labels (docs/auth.md#labels), each followed by one 0 byte. */
static const char LABEL_PSK[] = "tcpcrypt-auth v1 psk hmac-sha256";
static const char LABEL_PSK_ID[] = "tcpcrypt-auth v1 psk key id";
static const char LABEL_ED[] = "tcpcrypt-auth v1 ed25519 signature";
static const char LABEL_LEAF[] = "tcpcrypt-auth v1 ed25519 batch leaf";
static const char LABEL_ROOT[] = "tcpcrypt-auth v1 ed25519 batch root";
static const char LABEL_PW[] = "tcpcrypt-auth v1 spake2 password";
static const char LABEL_AAD[] = "tcpcrypt-auth v1 spake2";
static const char ID_A[] = "tcpcrypt-auth role A", ID_B[] = "tcpcrypt-auth role B";

/* One connection's place in a batch (docs/auth.md#ed25519-batch) */
struct batch_req {
	unsigned char leaf[HASH_LEN];
	int done, err;
	unsigned index, depth;
	unsigned char path[BATCH_DEPTH_MAX][HASH_LEN];
	unsigned char sig[SIG_LEN];
};

/* The session IDs waiting for the next signature, and who signs */
struct batcher {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int busy; /* a thread is signing a batch */
	unsigned n;
	/* the gather window (docs/auth.md#ed25519-batch) */
	unsigned active;      /* connections in tcpcrypt_auth_fd with this credential */
	int gathering;	      /* the pending requests wait for the others active */
	int64_t gather_start; /* since (us, CLOCK_MONOTONIC) */
	int64_t window_us;
	struct batch_req *pending[TCPCRYPT_AUTH_BATCH_MAX];
	unsigned long signatures, proofs;
};

static const unsigned char MAGIC[3] = {'T', 'C', 'A'};

struct tcpcrypt_auth {
	int scheme;
	int signer; /* ED25519: 1 with the private key, 0 with the pinned public key */
	size_t psk_len;
	unsigned char psk[TCPCRYPT_AUTH_PSK_MAX];
	unsigned char keyid[KEYID_LEN];
	unsigned char pub[PUB_LEN];
	EVP_PKEY *pkey;
	struct batcher *batch;		    /* ED25519_BATCH signer */
	unsigned char w[SPAKE2_SCALAR_LEN]; /* SPAKE2: from the password */
	struct tcpcrypt_x509 *x509;	    /* a signer's chain, or a CA verifier (auth_x509.c) */
	void *ext;			    /* SPAKE2+: lib/auth_spake2plus.c's credential */
	void (*ext_free)(void *);
};

static const char *const messages[TCPCRYPT_AUTH_EMAX] = {
    [TCPCRYPT_AUTH_OK] = "authenticated",
    [TCPCRYPT_AUTH_EPLAIN] = "plain TCP: the connection is not encrypted (TCP-ENO fell back)",
    [TCPCRYPT_AUTH_ENOAGENT] = "no tcpcryptd serves this socket",
    [TCPCRYPT_AUTH_ENOTAUTH] = "the peer does not speak tcpcrypt-auth",
    [TCPCRYPT_AUTH_EVERSION] = "the peer speaks another tcpcrypt-auth version",
    [TCPCRYPT_AUTH_ESCHEME] = "the peer uses another authentication scheme",
    [TCPCRYPT_AUTH_EFORMAT] = "malformed or truncated authentication message",
    [TCPCRYPT_AUTH_EROLE] = "the peer claims our own role",
    [TCPCRYPT_AUTH_ESESSID] = "session IDs differ: man in the middle or replay",
    [TCPCRYPT_AUTH_EKEY] = "wrong key: another pre-shared secret, or not the pinned server key",
    [TCPCRYPT_AUTH_EBADMAC] = "MAC does not verify: tampered message",
    [TCPCRYPT_AUTH_EBADSIG] = "signature does not verify: tampered message",
    [TCPCRYPT_AUTH_EPEER] = "the peer rejected the authentication",
    [TCPCRYPT_AUTH_ECLOSED] = "the peer closed the connection during authentication",
    [TCPCRYPT_AUTH_ETIMEDOUT] = "authentication timed out",
    [TCPCRYPT_AUTH_ESYS] = "system error",
    [TCPCRYPT_AUTH_ECONFIG] = "unusable credential",
    [TCPCRYPT_AUTH_EPASSWORD] = "wrong password (or a tampered exchange)",
    [TCPCRYPT_AUTH_EPOINT] = "the peer's SPAKE2 share is not a valid point",
    [TCPCRYPT_AUTH_ECERT] = "the peer's certificate chain does not verify",
    [TCPCRYPT_AUTH_ENAME] = "the peer's certificate is not for this name",
    [TCPCRYPT_AUTH_EVERIFIER] = "both ends hold a SPAKE2+ verifier: one of them needs the password",
};

const char *tcpcrypt_auth_strerror(int err)
{
	if (err < 0)
		err = -err;
	if (err >= TCPCRYPT_AUTH_EMAX || !messages[err])
		return "unknown tcpcrypt-auth error";
	return messages[err];
}

static struct tcpcrypt_auth *fail(struct tcpcrypt_auth *a, int *err, int code)
{
	if (err)
		*err = code;
	tcpcrypt_auth_free(a);
	return NULL;
}

struct tcpcrypt_auth *tcpcrypt_auth_psk(const void *key, size_t len, int *err)
{
	struct tcpcrypt_auth *a;
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (!key || len < TCPCRYPT_AUTH_PSK_MIN || len > TCPCRYPT_AUTH_PSK_MAX)
		return fail(NULL, err, TCPCRYPT_AUTH_ECONFIG);
	a = calloc(1, sizeof(*a));
	if (!a)
		return fail(NULL, err, TCPCRYPT_AUTH_ESYS);
	a->scheme = TCPCRYPT_AUTH_PSK;
	a->psk_len = len;
	memcpy(a->psk, key, len);
	/* the key id tells "another secret" from "tampered" (docs/auth.md#psk) */
	if (!HMAC(EVP_sha256(), a->psk, len, (const unsigned char *)LABEL_PSK_ID,
		  sizeof(LABEL_PSK_ID), mac, &n) ||
	    n != TAG_LEN)
		return fail(a, err, TCPCRYPT_AUTH_ECONFIG);
	memcpy(a->keyid, mac, KEYID_LEN);
	if (err)
		*err = 0;
	return a;
}

/* Up to cap bytes of the file at path into buf: their number, or -1 (errno) if unreadable. */
static long read_secret(const char *path, unsigned char *buf, size_t cap)
{
	FILE *f = fopen(path, "rb");
	size_t n;

	if (!f)
		return -1;
	n = fread(buf, 1, cap, f);
	fclose(f);
	return (long)n;
}

struct tcpcrypt_auth *tcpcrypt_auth_psk_file(const char *path, int *err)
{
	unsigned char buf[TCPCRYPT_AUTH_PSK_MAX + 1];
	struct tcpcrypt_auth *a;
	long n = read_secret(path, buf, sizeof(buf));

	if (n < 0)
		return fail(NULL, err, TCPCRYPT_AUTH_ESYS);
	a = tcpcrypt_auth_psk(buf, n, err);
	OPENSSL_cleanse(buf, sizeof(buf));
	return a;
}

struct tcpcrypt_auth *tcpcrypt_auth_password(const void *pw, size_t len, int *err)
{
	struct tcpcrypt_auth *a;
	unsigned char h[SPAKE2_SCALAR_LEN + 16];

	if (!pw || len < 1 || len > PW_MAX)
		return fail(NULL, err, TCPCRYPT_AUTH_ECONFIG);
	a = calloc(1, sizeof(*a));
	if (!a)
		return fail(NULL, err, TCPCRYPT_AUTH_ESYS);
	a->scheme = TCPCRYPT_AUTH_SPAKE2;
	/* w = scrypt(pw, label; N 2^14, r 8, p 1) mod p, 128 bits more than p (RFC 9382 §3.2) */
	if (EVP_PBE_scrypt(pw, len, (const unsigned char *)LABEL_PW, sizeof(LABEL_PW), 1 << 14, 8,
			   1, 64 << 20, h, sizeof(h)) != 1 ||
	    tcpcrypt__spake2_w(h, sizeof(h), a->w))
		return fail(a, err, TCPCRYPT_AUTH_ECONFIG);
	OPENSSL_cleanse(h, sizeof(h));
	if (err)
		*err = 0;
	return a;
}

/*
 * A password file (SPAKE2 and SPAKE2+): its bytes but one trailing newline,
 * 1 to PW_MAX of them, into buf (PW_MAX + 2 bytes): their number, or
 * -ESYS (unreadable) or -ECONFIG.
 */
long tcpcrypt__auth_read_password(const char *path, unsigned char *buf)
{
	long n = read_secret(path, buf, PW_MAX + 2);

	if (n < 0)
		return -TCPCRYPT_AUTH_ESYS;
	if (n && buf[n - 1] == '\n')
		n--;
	return n < 1 || n > PW_MAX ? -TCPCRYPT_AUTH_ECONFIG : n;
}

struct tcpcrypt_auth *tcpcrypt_auth_password_file(const char *path, int *err)
{
	unsigned char buf[PW_MAX + 2];
	struct tcpcrypt_auth *a;
	long n = tcpcrypt__auth_read_password(path, buf);

	a = n < 0 ? fail(NULL, err, -n) : tcpcrypt_auth_password(buf, n, err);
	OPENSSL_cleanse(buf, sizeof(buf));
	return a;
}

static struct tcpcrypt_auth *ed25519_file(const char *path, int signer, int *err)
{
	struct tcpcrypt_auth *a = calloc(1, sizeof(*a));
	size_t n = PUB_LEN;
	FILE *f;

	if (!a)
		return fail(NULL, err, TCPCRYPT_AUTH_ESYS);
	a->scheme = TCPCRYPT_AUTH_ED25519;
	a->signer = signer;
	f = fopen(path, "r");
	if (!f)
		return fail(a, err, TCPCRYPT_AUTH_ESYS);
	a->pkey = signer ? PEM_read_PrivateKey(f, NULL, NULL, NULL)
			 : PEM_read_PUBKEY(f, NULL, NULL, NULL);
	fclose(f);
	if (!a->pkey || EVP_PKEY_get_id(a->pkey) != EVP_PKEY_ED25519 ||
	    !EVP_PKEY_get_raw_public_key(a->pkey, a->pub, &n) || n != PUB_LEN)
		return fail(a, err, TCPCRYPT_AUTH_ECONFIG);
	if (err)
		*err = 0;
	return a;
}

struct tcpcrypt_auth *tcpcrypt_auth_sign_file(const char *pem_path, int *err)
{
	return ed25519_file(pem_path, 1, err);
}

struct tcpcrypt_auth *tcpcrypt_auth_verify_file(const char *pem_path, int *err)
{
	return ed25519_file(pem_path, 0, err);
}

struct tcpcrypt_auth *tcpcrypt_auth_sign_batch_file(const char *pem_path, int *err)
{
	struct tcpcrypt_auth *a = ed25519_file(pem_path, 1, err);

	if (!a)
		return NULL;
	a->scheme = TCPCRYPT_AUTH_ED25519_BATCH;
	a->batch = calloc(1, sizeof(*a->batch));
	if (!a->batch)
		return fail(a, err, TCPCRYPT_AUTH_ESYS);
	pthread_mutex_init(&a->batch->lock, NULL);
	{
		pthread_condattr_t ca;

		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&a->batch->cond, &ca);
		pthread_condattr_destroy(&ca);
	}
	a->batch->window_us = TCPCRYPT__BATCH_WINDOW_US;
	return a;
}

void tcpcrypt_auth_batch_stats(const struct tcpcrypt_auth *a, unsigned long *signatures,
			       unsigned long *proofs)
{
	struct batcher *b = a ? a->batch : NULL;

	if (b)
		pthread_mutex_lock(&b->lock);
	if (signatures)
		*signatures = b ? b->signatures : 0;
	if (proofs)
		*proofs = b ? b->proofs : 0;
	if (b)
		pthread_mutex_unlock(&b->lock);
}

void tcpcrypt_auth_free(struct tcpcrypt_auth *a)
{
	if (!a)
		return;
	EVP_PKEY_free(a->pkey);
	tcpcrypt__x509_free(a->x509);
	if (a->ext_free)
		a->ext_free(a->ext);
	if (a->batch) {
		pthread_mutex_destroy(&a->batch->lock);
		pthread_cond_destroy(&a->batch->cond);
		free(a->batch);
	}
	OPENSSL_cleanse(a, sizeof(*a));
	free(a);
}

int tcpcrypt_auth_scheme(const struct tcpcrypt_auth *a)
{
	return a ? a->scheme : -TCPCRYPT_AUTH_ECONFIG;
}

static size_t put_hdr(unsigned char *out, int type, int scheme, size_t body)
{
	memcpy(out, MAGIC, sizeof(MAGIC));
	out[3] = TCPCRYPT_AUTH_VERSION;
	out[4] = type;
	out[5] = scheme;
	out[6] = body >> 8;
	out[7] = body & 0xff;
	return TCPCRYPT_AUTH_HDR_LEN;
}

/* HMAC-SHA256(psk, label 0 msg[0..n)) into tag */
static int psk_tag(const struct tcpcrypt_auth *a, const unsigned char *msg, size_t n,
		   unsigned char *tag)
{
	unsigned char buf[sizeof(LABEL_PSK) + TCPCRYPT_AUTH_MSG_MAX];
	unsigned int len = 0;

	memcpy(buf, LABEL_PSK, sizeof(LABEL_PSK));
	memcpy(buf + sizeof(LABEL_PSK), msg, n);
	if (!HMAC(EVP_sha256(), a->psk, a->psk_len, buf, sizeof(LABEL_PSK) + n, tag, &len) ||
	    len != TAG_LEN)
		return -TCPCRYPT_AUTH_ECONFIG;
	return 0;
}

/* Ed25519 over label 0 msg[0..n): make (sig != NULL) or check */
/* Ed25519 over label 0 msg[0..n): make (sig != NULL) or check */
static int ed_sign(const char *label, size_t llen, const unsigned char *msg, size_t n,
		   unsigned char *sig, const unsigned char *check, EVP_PKEY *key)
{
	unsigned char buf[64 + TCPCRYPT_AUTH_MSG_MAX];
	EVP_MD_CTX *ctx;
	size_t len = SIG_LEN;
	int r = -TCPCRYPT_AUTH_ECONFIG;

	if (llen > 64 || n > TCPCRYPT_AUTH_MSG_MAX)
		return -TCPCRYPT_AUTH_ECONFIG;
	ctx = EVP_MD_CTX_new();
	if (!ctx)
		return -TCPCRYPT_AUTH_ESYS;
	memcpy(buf, label, llen);
	memcpy(buf + llen, msg, n);
	if (sig) {
		if (EVP_DigestSignInit(ctx, NULL, NULL, NULL, key) == 1 &&
		    EVP_DigestSign(ctx, sig, &len, buf, llen + n) == 1 && len == SIG_LEN)
			r = 0;
	} else if (EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, key) == 1) {
		r = EVP_DigestVerify(ctx, check, SIG_LEN, buf, llen + n) == 1
			? 0
			: -TCPCRYPT_AUTH_EBADSIG;
	}
	EVP_MD_CTX_free(ctx);
	return r;
}

/* --- batch signing (docs/auth.md#ed25519-batch) --- */

/* leaf = SHA-256(0x00 label 0 blinder role sessid) */
static void batch_leaf(const unsigned char *blinder, int role, const unsigned char *sessid,
		       unsigned char *out)
{
	unsigned char buf[1 + sizeof(LABEL_LEAF) + BLIND_LEN + 1 + SID_LEN], *p = buf;

	*p++ = 0x00;
	memcpy(p, LABEL_LEAF, sizeof(LABEL_LEAF));
	p += sizeof(LABEL_LEAF);
	memcpy(p, blinder, BLIND_LEN);
	p += BLIND_LEN;
	*p++ = role;
	memcpy(p, sessid, SID_LEN);
	SHA256(buf, sizeof(buf), out);
}

/* node = SHA-256(0x01 left right) */
static void batch_node(const unsigned char *l, const unsigned char *r, unsigned char *out)
{
	unsigned char buf[1 + 2 * HASH_LEN];

	buf[0] = 0x01;
	memcpy(buf + 1, l, HASH_LEN);
	memcpy(buf + 1 + HASH_LEN, r, HASH_LEN);
	SHA256(buf, sizeof(buf), out);
}

/* what the root signature covers: depth, root */
static int batch_root_sig(EVP_PKEY *key, unsigned depth, const unsigned char *root,
			  unsigned char *sig, const unsigned char *check)
{
	unsigned char m[1 + HASH_LEN];

	m[0] = depth;
	memcpy(m + 1, root, HASH_LEN);
	return ed_sign(LABEL_ROOT, sizeof(LABEL_ROOT), m, sizeof(m), sig, check, key);
}

/*
 * Sign one batch: a tree over the n leaves, padded with all-zero leaves to
 * 2^depth; each request gets its index, path and the root signature.
 */
static void batch_sign(EVP_PKEY *key, struct batch_req **req, unsigned n)
{
	static __thread unsigned char tree[2 * TCPCRYPT_AUTH_BATCH_MAX][HASH_LEN];
	unsigned depth = 0, width, base, i, d;
	unsigned char sig[SIG_LEN];
	int err;

	while ((1u << depth) < n)
		depth++;
	width = 1u << depth;
	/* heap order: node k has children 2k, 2k+1; the leaves are width..2*width-1 */
	memset(tree[width], 0, width * HASH_LEN);
	for (i = 0; i < n; i++)
		memcpy(tree[width + i], req[i]->leaf, HASH_LEN);
	for (base = width - 1; base >= 1; base--)
		batch_node(tree[2 * base], tree[2 * base + 1], tree[base]);
	err = batch_root_sig(key, depth, tree[1], sig, NULL);
	for (i = 0; i < n; i++) {
		unsigned k = width + i;

		req[i]->index = i;
		req[i]->depth = depth;
		req[i]->err = err;
		for (d = 0; d < depth; d++, k /= 2)
			memcpy(req[i]->path[d], tree[k ^ 1], HASH_LEN);
		memcpy(req[i]->sig, sig, SIG_LEN);
	}
}

static int64_t batch_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int tcpcrypt__batch_ready(unsigned pending, unsigned active, int64_t waited_us, int64_t window_us)
{
	if (!pending)
		return 0;
	return pending >= TCPCRYPT_AUTH_BATCH_MAX || pending >= active || waited_us >= window_us;
}

void tcpcrypt__batch_expect(const struct tcpcrypt_auth *a, int delta)
{
	struct batcher *b = a ? a->batch : NULL;

	if (!b)
		return;
	pthread_mutex_lock(&b->lock);
	if (delta > 0)
		b->active++;
	else if (b->active && --b->active <= b->n && b->n)
		pthread_cond_broadcast(&b->cond); /* every connection left is in the batch */
	pthread_mutex_unlock(&b->lock);
}

void tcpcrypt__batch_window(const struct tcpcrypt_auth *a, int64_t window_us)
{
	if (a && a->batch) {
		pthread_mutex_lock(&a->batch->lock);
		a->batch->window_us = window_us;
		pthread_mutex_unlock(&a->batch->lock);
	}
}

/* Wait on the batcher's condition until at most us microseconds from now */
static void batch_timedwait(struct batcher *b, int64_t until_us)
{
	struct timespec ts = {.tv_sec = until_us / 1000000, .tv_nsec = until_us % 1000000 * 1000};

	pthread_cond_timedwait(&b->cond, &b->lock, &ts);
}

/*
 * Put req in the open batch and wait until it is signed.  Whoever finds no
 * signer busy signs everything pending, its own request among it; requests
 * that arrive meanwhile wait for the next round, signed by one of them.
 * Before it signs it gathers: while other connections are in
 * tcpcrypt_auth_fd with this credential (before their proof, or after it and
 * soon followed by their client's next connection), it waits for more
 * requests, at most window_us from the first pending one.  A lone connection
 * (nothing else active) is signed at once.
 */
static int batch_wait(struct batcher *b, EVP_PKEY *key, struct batch_req *req)
{
	pthread_mutex_lock(&b->lock);
	while (b->n >= TCPCRYPT_AUTH_BATCH_MAX)
		pthread_cond_wait(&b->cond, &b->lock);
	b->pending[b->n++] = req;
	if (b->gathering && tcpcrypt__batch_ready(b->n, b->active, 0, 1))
		pthread_cond_broadcast(&b->cond); /* the gatherer need not wait longer */
	while (!req->done) {
		if (!b->busy && b->n) {
			struct batch_req *batch[TCPCRYPT_AUTH_BATCH_MAX];
			int64_t t = batch_now_us();
			unsigned n;

			if (!b->gathering) {
				b->gathering = 1;
				b->gather_start = t;
			}
			if (!tcpcrypt__batch_ready(b->n, b->active, t - b->gather_start,
						   b->window_us)) {
				batch_timedwait(b, b->gather_start + b->window_us);
				continue;
			}
			n = b->n;
			memcpy(batch, b->pending, n * sizeof(batch[0]));
			b->n = 0;
			b->gathering = 0;
			b->busy = 1;
			pthread_mutex_unlock(&b->lock);
			batch_sign(key, batch, n);
			pthread_mutex_lock(&b->lock);
			for (unsigned i = 0; i < n; i++)
				batch[i]->done = 1;
			b->busy = 0;
			b->signatures++;
			b->proofs += n;
			pthread_cond_broadcast(&b->cond);
			continue;
		}
		pthread_cond_wait(&b->cond, &b->lock);
	}
	pthread_mutex_unlock(&b->lock);
	return req->err;
}

static int bad_args(const struct tcpcrypt_auth *a, const unsigned char *sessid, int role)
{
	return !a || !sessid || (role != TCP_ENO_ROLE_A && role != TCP_ENO_ROLE_B);
}

static int batch_proof(const struct tcpcrypt_auth *a, const unsigned char *sessid, int role,
		       unsigned char *out, size_t size)
{
	struct batch_req req = {0};
	unsigned char blinder[BLIND_LEN];
	size_t n;
	int r;

	if (RAND_bytes(blinder, sizeof(blinder)) != 1)
		return -TCPCRYPT_AUTH_ESYS;
	batch_leaf(blinder, role, sessid, req.leaf);
	r = batch_wait(a->batch, a->pkey, &req);
	if (r)
		return r;
	if (size < TCPCRYPT_AUTH_HDR_LEN + BATCH_BODY(req.depth))
		return -TCPCRYPT_AUTH_ECONFIG;
	n = put_hdr(out, TCPCRYPT_AUTH_T_PROOF, a->scheme, BATCH_BODY(req.depth));
	out[n++] = role;
	memcpy(out + n, sessid, SID_LEN);
	n += SID_LEN;
	memcpy(out + n, a->pub, PUB_LEN);
	n += PUB_LEN;
	memcpy(out + n, blinder, BLIND_LEN);
	n += BLIND_LEN;
	out[n++] = req.index >> 8;
	out[n++] = req.index & 0xff;
	out[n++] = req.depth;
	for (unsigned d = 0; d < req.depth; d++, n += HASH_LEN)
		memcpy(out + n, req.path[d], HASH_LEN);
	memcpy(out + n, req.sig, SIG_LEN);
	return n + SIG_LEN;
}

int tcpcrypt_auth_proof(const struct tcpcrypt_auth *a, const unsigned char *sessid, int role,
			unsigned char *out, size_t size)
{
	size_t body, n;
	int r;

	if (bad_args(a, sessid, role) || !out || a->scheme == TCPCRYPT_AUTH_SPAKE2 ||
	    a->scheme == TCPCRYPT_AUTH_SPAKE2PLUS)
		return -TCPCRYPT_AUTH_ECONFIG; /* SPAKE2: _pake_*, SPAKE2+: _spake2p_* */
	if (a->scheme == TCPCRYPT_AUTH_ED25519 && !a->signer)
		return 0;
	if (a->scheme == TCPCRYPT_AUTH_ED25519_BATCH)
		return batch_proof(a, sessid, role, out, size);
	body = a->scheme == TCPCRYPT_AUTH_PSK ? PSK_BODY : ED_BODY;
	if (size < TCPCRYPT_AUTH_HDR_LEN + body)
		return -TCPCRYPT_AUTH_ECONFIG;
	n = put_hdr(out, TCPCRYPT_AUTH_T_PROOF, a->scheme, body);
	out[n++] = role;
	memcpy(out + n, sessid, SID_LEN);
	n += SID_LEN;
	if (a->scheme == TCPCRYPT_AUTH_PSK) {
		memcpy(out + n, a->keyid, KEYID_LEN);
		n += KEYID_LEN;
		r = psk_tag(a, out, n, out + n);
		n += TAG_LEN;
	} else {
		memcpy(out + n, a->pub, PUB_LEN);
		n += PUB_LEN;
		r = ed_sign(LABEL_ED, sizeof(LABEL_ED), out, n, out + n, NULL, a->pkey);
		n += SIG_LEN;
	}
	return r ? r : (int)n;
}

int tcpcrypt_auth_msg_len(const unsigned char *msg, size_t n)
{
	size_t body;

	if (!msg && n)
		return -TCPCRYPT_AUTH_EFORMAT;
	if (memcmp(msg, MAGIC, n < sizeof(MAGIC) ? n : sizeof(MAGIC)))
		return -TCPCRYPT_AUTH_ENOTAUTH;
	if (n < 4)
		return 0;
	if (msg[3] != TCPCRYPT_AUTH_VERSION)
		return -TCPCRYPT_AUTH_EVERSION;
	if (n < TCPCRYPT_AUTH_HDR_LEN)
		return 0;
	body = (size_t)msg[6] << 8 | msg[7];
	/* a CERT has its own limit (docs/auth.md#x509-chains) */
	if (body >
	    (msg[4] == TCPCRYPT_AUTH_T_CERT ? TCPCRYPT_AUTH_CERT_MSG_MAX : TCPCRYPT_AUTH_MSG_MAX) -
		TCPCRYPT_AUTH_HDR_LEN)
		return -TCPCRYPT_AUTH_EFORMAT;
	return TCPCRYPT_AUTH_HDR_LEN + body;
}

/* Single and batch Ed25519 signatures are one family: a verifier takes both. */
static int family(int scheme)
{
	return scheme == TCPCRYPT_AUTH_ED25519_BATCH ? TCPCRYPT_AUTH_ED25519 : scheme;
}

/* The header checks common to both types (body 0: checked by the caller): 0 or a negative code. */
static int check_hdr(const struct tcpcrypt_auth *a, const unsigned char *msg, size_t len, int type,
		     size_t body)
{
	int n;

	if (!msg)
		return -TCPCRYPT_AUTH_EFORMAT;
	n = tcpcrypt_auth_msg_len(msg, len);
	if (n < 0)
		return n;
	if (n == 0)
		return -TCPCRYPT_AUTH_EFORMAT; /* truncated header */
	/* a RESULT names the family (docs/auth.md#messages), a PROOF its exact scheme */
	if (type == TCPCRYPT_AUTH_T_RESULT ? msg[5] != family(a->scheme)
					   : family(msg[5]) != family(a->scheme))
		return -TCPCRYPT_AUTH_ESCHEME;
	if (msg[4] != type)
		return -TCPCRYPT_AUTH_EFORMAT;
	if ((body && (size_t)n != TCPCRYPT_AUTH_HDR_LEN + body) || len != (size_t)n)
		return -TCPCRYPT_AUTH_EFORMAT;
	return 0;
}

/* The peer's role byte and session ID: 0 or a negative code */
static int check_role(const unsigned char *p, int role)
{
	return p[0] == (role == TCP_ENO_ROLE_A ? TCP_ENO_ROLE_B : TCP_ENO_ROLE_A)
		   ? 0
		   : -TCPCRYPT_AUTH_EROLE;
}

/* A batch PROOF whose header check_hdr() accepted: 0 or a negative code */
static int check_batch(const struct tcpcrypt_auth *a, const unsigned char *sessid, int role,
		       const unsigned char *msg, size_t len)
{
	const unsigned char *p = msg + TCPCRYPT_AUTH_HDR_LEN, *path;
	unsigned char h[HASH_LEN];
	unsigned index, depth, d;
	int r;

	if (len < TCPCRYPT_AUTH_HDR_LEN + BATCH_FIXED)
		return -TCPCRYPT_AUTH_EFORMAT;
	index = (unsigned)p[1 + SID_LEN + PUB_LEN + BLIND_LEN] << 8 |
		p[1 + SID_LEN + PUB_LEN + BLIND_LEN + 1];
	depth = p[1 + SID_LEN + PUB_LEN + BLIND_LEN + 2];
	if (depth > BATCH_DEPTH_MAX || len != TCPCRYPT_AUTH_HDR_LEN + BATCH_BODY(depth) ||
	    index >= 1u << depth)
		return -TCPCRYPT_AUTH_EFORMAT;
	r = check_role(p, role);
	if (r)
		return r;
	if (CRYPTO_memcmp(p + 1, sessid, SID_LEN))
		return -TCPCRYPT_AUTH_ESESSID;
	if (CRYPTO_memcmp(p + 1 + SID_LEN, a->pub, PUB_LEN))
		return -TCPCRYPT_AUTH_EKEY;
	/* from our leaf up to the root the signature covers */
	batch_leaf(p + 1 + SID_LEN + PUB_LEN, p[0], sessid, h);
	path = p + 1 + SID_LEN + PUB_LEN + BLIND_LEN + 3;
	for (d = 0; d < depth; d++, index >>= 1, path += HASH_LEN)
		if (index & 1)
			batch_node(path, h, h);
		else
			batch_node(h, path, h);
	return batch_root_sig(a->pkey, depth, h, NULL, path);
}

int tcpcrypt_auth_check_proof(const struct tcpcrypt_auth *a, const unsigned char *sessid, int role,
			      const unsigned char *msg, size_t len)
{
	const unsigned char *p = msg + TCPCRYPT_AUTH_HDR_LEN;
	unsigned char tag[TAG_LEN];
	int psk, batch, r;

	if (bad_args(a, sessid, role))
		return -TCPCRYPT_AUTH_ECONFIG;
	if ((a->scheme != TCPCRYPT_AUTH_PSK && a->signer) || a->scheme == TCPCRYPT_AUTH_SPAKE2 ||
	    a->scheme == TCPCRYPT_AUTH_SPAKE2PLUS)
		return -TCPCRYPT_AUTH_ECONFIG; /* a signer expects no proof; SPAKE2(+): _pake_* */
	if (a->x509) /* a CA verifier: the key comes with a chain, and none came */
		return tcpcrypt_auth_check_cert(a, sessid, role, NULL, 0, msg, len);
	psk = a->scheme == TCPCRYPT_AUTH_PSK;
	batch = !psk && msg && len > 5 && msg[5] == TCPCRYPT_AUTH_ED25519_BATCH;
	r = check_hdr(a, msg, len, TCPCRYPT_AUTH_T_PROOF, psk ? PSK_BODY : batch ? 0 : ED_BODY);
	if (r)
		return r;
	if (batch)
		return check_batch(a, sessid, role, msg, len);
	r = check_role(p, role);
	if (r)
		return r;
	if (CRYPTO_memcmp(p + 1, sessid, SID_LEN))
		return -TCPCRYPT_AUTH_ESESSID;
	p += 1 + SID_LEN;
	if (psk) {
		if (CRYPTO_memcmp(p, a->keyid, KEYID_LEN))
			return -TCPCRYPT_AUTH_EKEY;
		r = psk_tag(a, msg, len - TAG_LEN, tag);
		if (r)
			return r;
		r = CRYPTO_memcmp(tag, p + KEYID_LEN, TAG_LEN) ? -TCPCRYPT_AUTH_EBADMAC : 0;
		OPENSSL_cleanse(tag, sizeof(tag));
		return r;
	}
	if (CRYPTO_memcmp(p, a->pub, PUB_LEN))
		return -TCPCRYPT_AUTH_EKEY;
	return ed_sign(LABEL_ED, sizeof(LABEL_ED), msg, len - SIG_LEN, NULL, p + PUB_LEN, a->pkey);
}

int tcpcrypt_auth_result(const struct tcpcrypt_auth *a, const unsigned char *sessid, int role,
			 int status, unsigned char *out, size_t size)
{
	size_t n;

	if (bad_args(a, sessid, role) || !out || status < 0 || status >= TCPCRYPT_AUTH_EMAX ||
	    size < TCPCRYPT_AUTH_HDR_LEN + RESULT_BODY)
		return -TCPCRYPT_AUTH_ECONFIG;
	n = put_hdr(out, TCPCRYPT_AUTH_T_RESULT, family(a->scheme), RESULT_BODY);
	out[n++] = role;
	out[n++] = status;
	memcpy(out + n, sessid, SID_LEN);
	return n + SID_LEN;
}

int tcpcrypt_auth_check_result(const struct tcpcrypt_auth *a, const unsigned char *sessid, int role,
			       const unsigned char *msg, size_t len, int *peer_status)
{
	const unsigned char *p = msg + TCPCRYPT_AUTH_HDR_LEN;
	int r;

	if (bad_args(a, sessid, role))
		return -TCPCRYPT_AUTH_ECONFIG;
	r = check_hdr(a, msg, len, TCPCRYPT_AUTH_T_RESULT, RESULT_BODY);
	if (r)
		return r;
	r = check_role(p, role);
	if (r)
		return r;
	if (p[1] >= TCPCRYPT_AUTH_EMAX)
		return -TCPCRYPT_AUTH_EFORMAT;
	if (p[1]) {
		if (peer_status)
			*peer_status = p[1];
		return -TCPCRYPT_AUTH_EPEER;
	}
	if (CRYPTO_memcmp(p + 2, sessid, SID_LEN))
		return -TCPCRYPT_AUTH_ESESSID;
	return 0;
}

/* --- SPAKE2 messages (docs/auth.md#spake2) --- */

struct tcpcrypt_auth_pake {
	const struct tcpcrypt_auth *a;
	int role, have_conf;
	unsigned char sid[SID_LEN];
	struct spake2 s;
	unsigned char peer_conf[SPAKE2_CONF_LEN];
};

int tcpcrypt_auth_pake_start(const struct tcpcrypt_auth *a, const unsigned char *sessid, int role,
			     struct tcpcrypt_auth_pake **st, unsigned char *out, size_t size)
{
	struct tcpcrypt_auth_pake *p;
	size_t n;

	if (bad_args(a, sessid, role) || !st || !out || a->scheme != TCPCRYPT_AUTH_SPAKE2 ||
	    size < TCPCRYPT_AUTH_HDR_LEN + SHARE_BODY)
		return -TCPCRYPT_AUTH_ECONFIG;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -TCPCRYPT_AUTH_ESYS;
	p->a = a;
	p->role = role;
	memcpy(p->sid, sessid, SID_LEN);
	/* role A is SPAKE2's A (it uses M), role B its B */
	if (tcpcrypt__spake2_start(&p->s, role == TCP_ENO_ROLE_A, a->w, NULL)) {
		tcpcrypt_auth_pake_free(p);
		return -TCPCRYPT_AUTH_ESYS;
	}
	n = put_hdr(out, TCPCRYPT_AUTH_T_SHARE, TCPCRYPT_AUTH_SPAKE2, SHARE_BODY);
	out[n++] = role;
	memcpy(out + n, sessid, SID_LEN);
	n += SID_LEN;
	memcpy(out + n, p->s.own, SPAKE2_POINT_LEN);
	*st = p;
	return n + SPAKE2_POINT_LEN;
}

int tcpcrypt_auth_pake_proof(struct tcpcrypt_auth_pake *st, const unsigned char *msg, size_t len,
			     unsigned char *out, size_t size)
{
	const unsigned char *p = msg + TCPCRYPT_AUTH_HDR_LEN;
	unsigned char aad[sizeof(LABEL_AAD) + SID_LEN], ke[SPAKE2_KE_LEN], ca[SPAKE2_CONF_LEN],
	    cb[SPAKE2_CONF_LEN];
	size_t n;
	int r;

	if (!st || !out || size < TCPCRYPT_AUTH_HDR_LEN + CONF_BODY)
		return -TCPCRYPT_AUTH_ECONFIG;
	r = check_hdr(st->a, msg, len, TCPCRYPT_AUTH_T_SHARE, SHARE_BODY);
	if (!r)
		r = check_role(p, st->role);
	if (r)
		return r;
	if (CRYPTO_memcmp(p + 1, st->sid, SID_LEN))
		return -TCPCRYPT_AUTH_ESESSID;
	/* the session ID in the confirmation keys (the AAD of RFC 9382 §4) */
	memcpy(aad, LABEL_AAD, sizeof(LABEL_AAD));
	memcpy(aad + sizeof(LABEL_AAD), st->sid, SID_LEN);
	r = tcpcrypt__spake2_finish(&st->s, (const unsigned char *)ID_A, sizeof(ID_A) - 1,
				    (const unsigned char *)ID_B, sizeof(ID_B) - 1, p + 1 + SID_LEN,
				    aad, sizeof(aad), ke, ca, cb);
	OPENSSL_cleanse(ke, sizeof(ke));
	if (r)
		return r == -2 ? -TCPCRYPT_AUTH_EPOINT : -TCPCRYPT_AUTH_ESYS;
	memcpy(st->peer_conf, st->role == TCP_ENO_ROLE_A ? cb : ca, SPAKE2_CONF_LEN);
	st->have_conf = 1;
	n = put_hdr(out, TCPCRYPT_AUTH_T_PROOF, TCPCRYPT_AUTH_SPAKE2, CONF_BODY);
	out[n++] = st->role;
	memcpy(out + n, st->sid, SID_LEN);
	n += SID_LEN;
	memcpy(out + n, st->role == TCP_ENO_ROLE_A ? ca : cb, SPAKE2_CONF_LEN);
	OPENSSL_cleanse(ca, sizeof(ca));
	OPENSSL_cleanse(cb, sizeof(cb));
	return n + SPAKE2_CONF_LEN;
}

int tcpcrypt_auth_pake_check(struct tcpcrypt_auth_pake *st, const unsigned char *msg, size_t len)
{
	const unsigned char *p = msg + TCPCRYPT_AUTH_HDR_LEN;
	int r;

	if (!st || !st->have_conf)
		return -TCPCRYPT_AUTH_ECONFIG;
	r = check_hdr(st->a, msg, len, TCPCRYPT_AUTH_T_PROOF, CONF_BODY);
	if (!r)
		r = check_role(p, st->role);
	if (r)
		return r;
	if (CRYPTO_memcmp(p + 1, st->sid, SID_LEN))
		return -TCPCRYPT_AUTH_ESESSID;
	return CRYPTO_memcmp(p + 1 + SID_LEN, st->peer_conf, SPAKE2_CONF_LEN)
		   ? -TCPCRYPT_AUTH_EPASSWORD
		   : 0;
}

void tcpcrypt_auth_pake_free(struct tcpcrypt_auth_pake *st)
{
	if (!st)
		return;
	OPENSSL_cleanse(st, sizeof(*st));
	free(st);
}

/* --- the exchange over a socket (docs/auth.md#exchange) --- */

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for fd to be ready for events; 0, or a negative code. */
static int wait_fd(int fd, short events, int64_t deadline)
{
	for (;;) {
		struct pollfd p = {.fd = fd, .events = events};
		int64_t left = deadline == INT64_MAX ? -1 : deadline - now_ms();
		int r;

		if (deadline != INT64_MAX && left <= 0)
			return -TCPCRYPT_AUTH_ETIMEDOUT;
		r = poll(&p, 1, left < 0 ? -1 : left > 60000 ? 60000 : (int)left);
		if (r > 0)
			return 0;
		if (r < 0 && errno != EINTR)
			return -TCPCRYPT_AUTH_ESYS;
	}
}

static int send_all(int fd, const unsigned char *p, size_t n, int64_t deadline)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (w > 0) {
			p += w;
			n -= w;
			continue;
		}
		if (w < 0 && errno == EPIPE)
			return -TCPCRYPT_AUTH_ECLOSED;
		if (w < 0 && errno != EAGAIN && errno != EINTR)
			return errno == ECONNRESET ? -TCPCRYPT_AUTH_ECLOSED : -TCPCRYPT_AUTH_ESYS;
		w = wait_fd(fd, POLLOUT, deadline);
		if (w)
			return w;
	}
	return 0;
}

/*
 * Read exactly one message, never a byte beyond it (the application's
 * stream follows).  A peer that sends something else is caught on its first
 * bytes, without waiting for a whole header.
 */
static int recv_msg_cap(int fd, unsigned char *buf, size_t cap, int64_t deadline)
{
	size_t have = 0;
	int want = TCPCRYPT_AUTH_HDR_LEN;

	for (;;) {
		ssize_t r = recv(fd, buf + have, want - have, MSG_DONTWAIT);
		int n;

		if (r == 0)
			return have ? -TCPCRYPT_AUTH_EFORMAT : -TCPCRYPT_AUTH_ECLOSED;
		if (r < 0) {
			if (errno == ECONNRESET)
				return -TCPCRYPT_AUTH_ECLOSED;
			if (errno != EAGAIN && errno != EINTR)
				return -TCPCRYPT_AUTH_ESYS;
			n = wait_fd(fd, POLLIN, deadline);
			if (n)
				return n;
			continue;
		}
		have += r;
		n = tcpcrypt_auth_msg_len(buf, have);
		if (n < 0)
			return n;
		if (n > 0 && ((size_t)n < TCPCRYPT_AUTH_HDR_LEN || (size_t)n > cap))
			return -TCPCRYPT_AUTH_EFORMAT;
		if (n > 0)
			want = n;
		if (have == (size_t)want && have >= TCPCRYPT_AUTH_HDR_LEN)
			return want;
	}
}

static int recv_msg(int fd, unsigned char *buf, int64_t deadline)
{
	return recv_msg_cap(fd, buf, TCPCRYPT_AUTH_MSG_MAX, deadline);
}

/* Codes after which this end tells the peer it rejected it (a RESULT) */
static int tell_peer(int code)
{
	return (code >= TCPCRYPT_AUTH_EVERSION && code <= TCPCRYPT_AUTH_EBADSIG) ||
	       code == TCPCRYPT_AUTH_EPASSWORD || code == TCPCRYPT_AUTH_EPOINT ||
	       code == TCPCRYPT_AUTH_ECERT || code == TCPCRYPT_AUTH_ENAME ||
	       code == TCPCRYPT_AUTH_EVERIFIER;
}

/* A signer's CERT, if it has a chain (docs/auth.md#x509-chains): 0 or a negative code */
static int send_cert(int fd, const struct tcpcrypt_auth *a, const unsigned char *sid, int role,
		     int64_t deadline)
{
	unsigned char *buf;
	int n;

	if (!a->x509 || !a->signer)
		return 0;
	buf = malloc(TCPCRYPT_AUTH_CERT_MSG_MAX);
	if (!buf)
		return -TCPCRYPT_AUTH_ESYS;
	n = tcpcrypt_auth_cert(a, sid, role, buf, TCPCRYPT_AUTH_CERT_MSG_MAX);
	if (n > 0)
		n = send_all(fd, buf, n, deadline);
	free(buf);
	return n;
}

/*
 * A verifier's first message: a CERT (kept in *cert for a CA verifier,
 * skipped by one with a pinned key or a PSK), then the PROOF into msg; or
 * whatever else came first, into msg.  Its length or a negative code.
 */
static int recv_cert_proof(int fd, const struct tcpcrypt_auth *a, unsigned char *msg,
			   unsigned char **cert, int *cert_len, int64_t deadline)
{
	unsigned char *big = malloc(TCPCRYPT_AUTH_CERT_MSG_MAX);
	int n;

	if (!big)
		return -TCPCRYPT_AUTH_ESYS;
	n = recv_msg_cap(fd, big, TCPCRYPT_AUTH_CERT_MSG_MAX, deadline);
	if (n < TCPCRYPT_AUTH_HDR_LEN || big[4] != TCPCRYPT_AUTH_T_CERT) {
		if (n > 0) /* not a CERT: msg_len() allowed it at most TCPCRYPT_AUTH_MSG_MAX */
			memcpy(msg, big, n);
		free(big);
		return n;
	}
	if (a->x509) {
		*cert = big;
		*cert_len = n;
	} else {
		free(big);
	}
	return recv_msg(fd, msg, deadline);
}

/* A RESULT where a SHARE or PROOF was due: the peer gave up early. */
static int early_result(const struct tcpcrypt_auth *a, const unsigned char *sid, int role,
			const unsigned char *msg, int n, int *peer_status)
{
	int r;

	if (n < TCPCRYPT_AUTH_HDR_LEN || msg[4] != TCPCRYPT_AUTH_T_RESULT)
		return 0;
	r = tcpcrypt_auth_check_result(a, sid, role, msg, n, peer_status);
	return r ? r : -TCPCRYPT_AUTH_EFORMAT;
}

/* Steps 1-2 of SPAKE2: SHARE each way, then PROOF (key confirmation) each way */
static int pake_fd(int fd, const struct tcpcrypt_auth *a, const unsigned char *sid, int role,
		   int64_t deadline, int *peer_status, int *quiet)
{
	unsigned char msg[TCPCRYPT_AUTH_MSG_MAX], out[TCPCRYPT_AUTH_MSG_MAX];
	struct tcpcrypt_auth_pake *pk = NULL;
	int n, r;

	n = tcpcrypt_auth_pake_start(a, sid, role, &pk, out, sizeof(out));
	if (n < 0)
		return n;
	r = send_all(fd, out, n, deadline);
	if (!r) {
		n = recv_msg(fd, msg, deadline);
		r = n < 0 ? n : early_result(a, sid, role, msg, n, peer_status);
		if (r)
			*quiet = 1;
		else
			r = tcpcrypt_auth_pake_proof(pk, msg, n, out, sizeof(out));
	}
	if (r > 0) {
		n = r;
		r = send_all(fd, out, n, deadline);
		if (!r) {
			n = recv_msg(fd, msg, deadline);
			r = n < 0 ? n : early_result(a, sid, role, msg, n, peer_status);
			if (r)
				*quiet = 1;
			else
				r = tcpcrypt_auth_pake_check(pk, msg, n);
		}
	}
	tcpcrypt_auth_pake_free(pk);
	if (r && (r == -TCPCRYPT_AUTH_EPEER || !tell_peer(-r)))
		*quiet = 1;
	return r;
}

static int auth_fd(int fd, const struct tcpcrypt_auth *a, int timeout_ms, unsigned char *sessid,
		   int *peer_status)
{
	int64_t deadline = timeout_ms < 0 ? INT64_MAX : now_ms() + timeout_ms;
	unsigned char sid[SID_LEN], msg[TCPCRYPT_AUTH_MSG_MAX];
	socklen_t rl = sizeof(int);
	int role, n, st = 0, r, one = 1;

	if (!a)
		return -TCPCRYPT_AUTH_ECONFIG;
	if (peer_status)
		*peer_status = 0;
	n = tcpcrypt_wait_sessid(fd, sid, sizeof(sid), timeout_ms);
	if (n < 0)
		return errno == EOPNOTSUPP    ? -TCPCRYPT_AUTH_EPLAIN
		       : errno == ENOPROTOOPT ? -TCPCRYPT_AUTH_ENOAGENT
		       : errno == ETIMEDOUT   ? -TCPCRYPT_AUTH_ETIMEDOUT
		       : errno == ECONNRESET  ? -TCPCRYPT_AUTH_ECLOSED
					      : -TCPCRYPT_AUTH_ESYS;
	if (n != SID_LEN || getsockopt(fd, IPPROTO_TCP, TCP_ENO_ROLE, &role, &rl))
		return -TCPCRYPT_AUTH_ESYS;
	if (sessid)
		memcpy(sessid, sid, SID_LEN);
	if (a->scheme == TCPCRYPT_AUTH_SPAKE2 || a->scheme == TCPCRYPT_AUTH_SPAKE2PLUS) {
		int quiet = 0;

		st = a->scheme == TCPCRYPT_AUTH_SPAKE2
			 ? pake_fd(fd, a, sid, role, deadline, peer_status, &quiet)
			 : tcpcrypt__spake2p_fd(fd, a, sid, role, deadline, peer_status, &quiet);
		if (st && quiet)
			goto flush;
		goto verdict;
	}
	/* 1. our chain, if we have one, then our proof, if this scheme has one from us */
	r = send_cert(fd, a, sid, role, deadline);
	if (r)
		return r;
	n = tcpcrypt_auth_proof(a, sid, role, msg, sizeof(msg));
	if (n < 0)
		return n;
	if (n > 0 && (r = send_all(fd, msg, n, deadline)))
		return r;
	/* 2. the peer's proof, if it sends one */
	if (a->scheme == TCPCRYPT_AUTH_PSK || !a->signer) {
		unsigned char *cert = NULL;
		int cert_len = 0;

		/* a PSK end skips a CERT too, and fails on the PROOF's scheme */
		n = recv_cert_proof(fd, a, msg, &cert, &cert_len, deadline);
		if (n < 0 && !tell_peer(-n)) {
			free(cert);
			return n;
		}
		st = n < 0 ? n : early_result(a, sid, role, msg, n, peer_status);
		if (st) {
			free(cert);
			goto flush;
		}
		st = a->x509 ? tcpcrypt_auth_check_cert(a, sid, role, cert, cert_len, msg, n)
			     : tcpcrypt_auth_check_proof(a, sid, role, msg, n);
		free(cert);
	}
verdict:
	/* 3. our verdict */
	if (!st || tell_peer(-st)) {
		n = tcpcrypt_auth_result(a, sid, role, -st, msg, sizeof(msg));
		r = n < 0 ? n : send_all(fd, msg, n, deadline);
		if (!st && r)
			return r;
	}
	if (st)
		goto flush;
	/* 4. the peer's verdict */
	n = recv_msg(fd, msg, deadline);
	st = n < 0 ? n : tcpcrypt_auth_check_result(a, sid, role, msg, n, peer_status);
	if (st)
		goto flush;
	return 0;
flush:
	/* a session whose ID did not authenticate must not be resumed (tcpcrypt.h) */
	if (st != -TCPCRYPT_AUTH_ETIMEDOUT && st != -TCPCRYPT_AUTH_ESYS)
		setsockopt(fd, IPPROTO_TCP, TCP_CRYPT_CACHE_FLUSH, &one, sizeof(one));
	return st;
}

/* --- for lib/auth_x509.c (auth_x509.h) --- */

EVP_PKEY *tcpcrypt__auth_pkey(const struct tcpcrypt_auth *a)
{
	return a->pkey;
}

int tcpcrypt__auth_signer(const struct tcpcrypt_auth *a)
{
	return a->signer;
}

struct tcpcrypt_x509 *tcpcrypt__auth_x509(const struct tcpcrypt_auth *a)
{
	return a->x509;
}

void tcpcrypt__auth_set_x509(struct tcpcrypt_auth *a, struct tcpcrypt_x509 *x)
{
	a->x509 = x;
}

struct tcpcrypt_auth *tcpcrypt__auth_ca_verifier(void)
{
	struct tcpcrypt_auth *a = calloc(1, sizeof(*a));

	if (a)
		a->scheme = TCPCRYPT_AUTH_ED25519;
	return a;
}

int tcpcrypt__auth_check_proof_key(EVP_PKEY *key, const unsigned char *sessid, int role,
				   const unsigned char *msg, size_t len)
{
	struct tcpcrypt_auth t = {.scheme = TCPCRYPT_AUTH_ED25519, .pkey = key};
	size_t n = PUB_LEN;

	if (EVP_PKEY_get_id(key) != EVP_PKEY_ED25519 ||
	    !EVP_PKEY_get_raw_public_key(key, t.pub, &n) || n != PUB_LEN)
		return -TCPCRYPT_AUTH_EKEY; /* no Ed25519 key can be this one */
	return tcpcrypt_auth_check_proof(&t, sessid, role, msg, len);
}

/* --- for lib/auth_spake2plus.c (lib/spake2plus.h) --- */

struct tcpcrypt_auth *tcpcrypt__auth_new(int scheme, void *ext, void (*ext_free)(void *))
{
	struct tcpcrypt_auth *a = calloc(1, sizeof(*a));

	if (a) {
		a->scheme = scheme;
		a->ext = ext;
		a->ext_free = ext_free;
	}
	return a;
}

void *tcpcrypt__auth_ext(const struct tcpcrypt_auth *a)
{
	return a ? a->ext : NULL;
}

long tcpcrypt__auth_read_file(const char *path, unsigned char *buf, size_t cap)
{
	return read_secret(path, buf, cap);
}

size_t tcpcrypt__auth_put_hdr(unsigned char *out, int type, int scheme, size_t body)
{
	return put_hdr(out, type, scheme, body);
}

int tcpcrypt__auth_check_hdr(const struct tcpcrypt_auth *a, const unsigned char *msg, size_t len,
			     int type, size_t body)
{
	return check_hdr(a, msg, len, type, body);
}

int tcpcrypt__auth_check_role(const unsigned char *p, int role)
{
	return check_role(p, role);
}

int tcpcrypt__auth_send(int fd, const unsigned char *p, size_t n, int64_t deadline)
{
	return send_all(fd, p, n, deadline);
}

int tcpcrypt__auth_recv(int fd, unsigned char *buf, int64_t deadline)
{
	return recv_msg(fd, buf, deadline);
}

int tcpcrypt__auth_early_result(const struct tcpcrypt_auth *a, const unsigned char *sid, int role,
				const unsigned char *msg, int n, int *peer_status)
{
	return early_result(a, sid, role, msg, n, peer_status);
}

int tcpcrypt__auth_tell_peer(int code)
{
	return tell_peer(code);
}

int tcpcrypt_auth_fd(int fd, const struct tcpcrypt_auth *a, int timeout_ms, unsigned char *sessid,
		     int *peer_status)
{
	int r;

	/* a batch signer's gather window counts it (docs/auth.md#ed25519-batch) */
	tcpcrypt__batch_expect(a, 1);
	r = auth_fd(fd, a, timeout_ms, sessid, peer_status);
	tcpcrypt__batch_expect(a, -1);
	return r;
}
