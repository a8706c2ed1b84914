// SPDX-License-Identifier: MIT
/*
 * X.509 chains for the signed server identity (lib/auth_x509.c,
 * docs/auth.md#x509-chains).  The test PKI is made here, at run time, with
 * OpenSSL's C API alone (keys, certificates, extensions, signatures), never
 * with the code under test: roots, an intermediate, leaves for a host name,
 * an IP address and a wildcard, expired and not yet valid ones, the wrong
 * key usage or purpose.  Message level: good chains (single and batch
 * signatures, with intermediates, with the root sent too), unknown CA,
 * expired, not yet valid, wrong name, IP SAN, leaf key not the signing key,
 * missing intermediate, every single-byte change of the CERT message,
 * truncated, garbled and oversized chains.  Connection level, on a
 * socketpair with the fake TCP_ENO_* options of test_auth.c: success with
 * the application's bytes intact, another CA and another name failing at
 * both ends, a pinned key beside a chain.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include "tcpcrypt/auth.h"
#include "tcpcrypt/tcpcrypt.h"
#include "t.h"

#include "auth_fake.h"

/* --- the test PKI, made with OpenSSL's C API --- */
static char tmpdir[] = "/tmp/test_auth_x509.XXXXXX";
static char paths[64][160];
static int npaths;

static void cleanup(void)
{
	for (int i = 0; i < npaths; i++)
		unlink(paths[i]);
	rmdir(tmpdir);
}

static const char *tmp_path(const char *name)
{
	char *s;

	if (!npaths) {
		if (!mkdtemp(tmpdir))
			abort();
		atexit(cleanup);
	}
	if (npaths == 64)
		abort();
	s = paths[npaths++];
	snprintf(s, sizeof(paths[0]), "%s/%s", tmpdir, name);
	return s;
}

static EVP_PKEY *keygen(int ec)
{
	EVP_PKEY *k = ec ? EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256")
			 : EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");

	if (!k)
		abort();
	return k;
}

struct cert_opts {
	const char *cn, *san, *eku, *ku; /* ku "-": no key usage extension */
	int ca;
	long from, to; /* validity, seconds from now */
};

static void add_ext(X509 *x, X509V3_CTX *v3, int nid, const char *value)
{
	X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, v3, nid, value);

	if (!e || !X509_add_ext(x, e, -1))
		abort();
	X509_EXTENSION_free(e);
}

/* key's certificate, issued by issuer/ikey (NULL: self-signed) */
static X509 *mkcert(EVP_PKEY *key, X509 *issuer, EVP_PKEY *ikey, const struct cert_opts *o)
{
	static long serial = 1;
	X509 *x = X509_new();
	X509_NAME *n;
	X509V3_CTX v3;
	EVP_PKEY *sk = ikey ? ikey : key;

	if (!x)
		abort();
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
	X509_gmtime_adj(X509_getm_notBefore(x), o->from);
	X509_gmtime_adj(X509_getm_notAfter(x), o->to);
	X509_set_pubkey(x, key);
	n = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)o->cn, -1, -1, 0);
	X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : n);
	X509V3_set_ctx(&v3, issuer ? issuer : x, x, NULL, NULL, 0);
	add_ext(x, &v3, NID_basic_constraints, o->ca ? "critical,CA:TRUE" : "CA:FALSE");
	if (!o->ku || strcmp(o->ku, "-"))
		add_ext(x, &v3, NID_key_usage,
			o->ku	? o->ku
			: o->ca ? "critical,keyCertSign,cRLSign"
				: "critical,digitalSignature");
	add_ext(x, &v3, NID_subject_key_identifier, "hash");
	if (issuer)
		add_ext(x, &v3, NID_authority_key_identifier, "keyid:always");
	if (o->san)
		add_ext(x, &v3, NID_subject_alt_name, o->san);
	if (o->eku)
		add_ext(x, &v3, NID_ext_key_usage, o->eku);
	if (!X509_sign(x, sk, EVP_PKEY_get_id(sk) == EVP_PKEY_ED25519 ? NULL : EVP_sha256()))
		abort();
	return x;
}

static const char *write_certs(const char *name, X509 *const *c, int n)
{
	const char *p = tmp_path(name);
	FILE *f = fopen(p, "w");

	for (int i = 0; i < n; i++)
		if (!f || !PEM_write_X509(f, c[i]))
			abort();
	fclose(f);
	return p;
}

static const char *write_key(const char *name, EVP_PKEY *k)
{
	const char *p = tmp_path(name);
	FILE *f = fopen(p, "w");

	if (!f || !PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL))
		abort();
	fclose(f);
	return p;
}

#define DAY (24 * 3600L)
static struct pki {
	int made;
	EVP_PKEY *root_k, *other_k, *inter_k, *leaf_k, *k2;
	X509 *root, *other, *inter, *leaf, *ileaf, *expired, *future, *wild, *client, *nosig;
	const char *root_pem, *other_pem, *both_pem, *leaf_key, *k2_key;
	const char *leaf_chain, *ileaf_chain, *ileaf_root_chain, *ileaf_alone, *ileaf_swapped;
	const char *expired_chain, *future_chain, *wild_chain, *client_chain, *nosig_chain;
	const char *nine_chain, *huge_chain;
} P;

static struct pki *pki(void)
{
	struct cert_opts ca = {.cn = "tcpcrypt test root", .ca = 1, .from = -DAY, .to = 30 * DAY};
	struct cert_opts lf = {.cn = "server.test",
			       .san = "DNS:server.test,IP:198.18.2.2,IP:fd00::2",
			       .eku = "serverAuth",
			       .from = -DAY,
			       .to = 30 * DAY};
	X509 *c[9];

	if (P.made++)
		return &P;
	P.root_k = keygen(0);
	P.other_k = keygen(0);
	P.inter_k = keygen(1); /* a P-256 intermediate: the CA keys may be of any type */
	P.leaf_k = keygen(0);
	P.k2 = keygen(0);
	P.root = mkcert(P.root_k, NULL, NULL, &ca);
	ca.cn = "another root";
	P.other = mkcert(P.other_k, NULL, NULL, &ca);
	ca.cn = "tcpcrypt test intermediate";
	P.inter = mkcert(P.inter_k, P.root, P.root_k, &ca);
	P.leaf = mkcert(P.leaf_k, P.root, P.root_k, &lf);
	P.ileaf = mkcert(P.leaf_k, P.inter, P.inter_k, &lf);
	lf.from = -30 * DAY;
	lf.to = -DAY;
	P.expired = mkcert(P.leaf_k, P.root, P.root_k, &lf);
	lf.from = DAY;
	lf.to = 30 * DAY;
	P.future = mkcert(P.leaf_k, P.root, P.root_k, &lf);
	lf.from = -DAY;
	lf.eku = "clientAuth";
	P.client = mkcert(P.leaf_k, P.root, P.root_k, &lf);
	lf.eku = "serverAuth";
	lf.ku = "critical,keyAgreement";
	P.nosig = mkcert(P.leaf_k, P.root, P.root_k, &lf);
	lf.ku = NULL;
	lf.san = "DNS:*.wild.test";
	P.wild = mkcert(P.leaf_k, P.root, P.root_k, &lf);

	P.root_pem = write_certs("root.pem", &P.root, 1);
	P.other_pem = write_certs("other.pem", &P.other, 1);
	c[0] = P.other;
	c[1] = P.root;
	P.both_pem = write_certs("both.pem", c, 2);
	P.leaf_key = write_key("leaf.key", P.leaf_k);
	P.k2_key = write_key("k2.key", P.k2);
	P.leaf_chain = write_certs("leaf.pem", &P.leaf, 1);
	c[0] = P.ileaf;
	c[1] = P.inter;
	c[2] = P.root;
	P.ileaf_chain = write_certs("ileaf.pem", c, 2);
	P.ileaf_root_chain = write_certs("ileaf-root.pem", c, 3);
	P.ileaf_alone = write_certs("ileaf-alone.pem", c, 1);
	c[0] = P.inter;
	c[1] = P.ileaf;
	P.ileaf_swapped = write_certs("ileaf-swapped.pem", c, 2);
	P.expired_chain = write_certs("expired.pem", &P.expired, 1);
	P.future_chain = write_certs("future.pem", &P.future, 1);
	P.client_chain = write_certs("client.pem", &P.client, 1);
	P.nosig_chain = write_certs("nosig.pem", &P.nosig, 1);
	P.wild_chain = write_certs("wild.pem", &P.wild, 1);
	/* one more than TCPCRYPT_AUTH_CHAIN_MAX certificates */
	c[0] = P.leaf;
	for (int i = 1; i < 9; i++)
		c[i] = P.inter;
	P.nine_chain = write_certs("nine.pem", c, 9);
	/* a leaf of more than TCPCRYPT_AUTH_CERT_MSG_MAX bytes: 600 DNS names */
	{
		static char san[600 * 40];
		char *s = san;
		X509 *big;

		for (int i = 0; i < 600; i++)
			s += sprintf(s, "%sDNS:host-%04d.a-rather-long-name.test", i ? "," : "", i);
		lf.san = san;
		big = mkcert(P.leaf_k, P.root, P.root_k, &lf);
		CHECK(i2d_X509(big, NULL) > TCPCRYPT_AUTH_CERT_MSG_MAX);
		P.huge_chain = write_certs("huge.pem", &big, 1);
		X509_free(big);
	}
	return &P;
}

/* --- fixtures --- */
static unsigned char SID[TCP_ENO_SESSID_LEN], SID2[TCP_ENO_SESSID_LEN];

static void init_sids(void)
{
	SID[0] = SID2[0] = 0x23;
	for (int i = 1; i < TCP_ENO_SESSID_LEN; i++)
		SID[i] = SID2[i] = 0x40 + i;
	SID2[32] ^= 0x80;
}

static struct tcpcrypt_auth *cert_signer(const char *key, const char *chain, int batch)
{
	int err = -1;
	struct tcpcrypt_auth *a = batch ? tcpcrypt_auth_sign_batch_cert_file(key, chain, &err)
					: tcpcrypt_auth_sign_cert_file(key, chain, &err);

	CHECK(a && err == 0);
	if (!a)
		abort();
	return a;
}

static struct tcpcrypt_auth *ca_verifier(const char *ca, const char *name)
{
	int err = -1;
	struct tcpcrypt_auth *a = tcpcrypt_auth_verify_ca_file(ca, name, &err);

	CHECK(a && err == 0);
	if (!a)
		abort();
	return a;
}

/* The CERT and PROOF of s (role B) into c and m, their lengths into *nc and *nm */
static void make_msgs(const struct tcpcrypt_auth *s, const unsigned char *sid, unsigned char *c,
		      int *nc, unsigned char *m, int *nm)
{
	*nc = tcpcrypt_auth_cert(s, sid, TCP_ENO_ROLE_B, c, TCPCRYPT_AUTH_CERT_MSG_MAX);
	*nm = tcpcrypt_auth_proof(s, sid, TCP_ENO_ROLE_B, m, TCPCRYPT_AUTH_MSG_MAX);
	CHECK(*nc > TCPCRYPT_AUTH_HDR_LEN && *nm > TCPCRYPT_AUTH_HDR_LEN);
}

/* What verifier v (role A) says of signer key/chain's CERT and PROOF */
static int verdict(const char *key, const char *chain, const char *ca, const char *name)
{
	static unsigned char c[TCPCRYPT_AUTH_CERT_MSG_MAX], m[TCPCRYPT_AUTH_MSG_MAX];
	struct tcpcrypt_auth *s = cert_signer(key, chain, 0), *v = ca_verifier(ca, name);
	int nc, nm, r;

	init_sids();
	make_msgs(s, SID, c, &nc, m, &nm);
	r = tcpcrypt_auth_check_cert(v, SID, TCP_ENO_ROLE_A, c, nc, m, nm);
	tcpcrypt_auth_free(s);
	tcpcrypt_auth_free(v);
	return r;
}

static int reason_has(const char *s)
{
	if (strstr(tcpcrypt_auth_cert_error(), s))
		return 1;
	fprintf(stderr, "  reason '%s' lacks '%s'\n", tcpcrypt_auth_cert_error(), s);
	return 0;
}

/* --- message level --- */

T(x509_good_chains)
{
	struct pki *p = pki();
	static unsigned char c[TCPCRYPT_AUTH_CERT_MSG_MAX], m[TCPCRYPT_AUTH_MSG_MAX];
	struct tcpcrypt_auth *s, *v;
	int nc, nm;

	/* leaf under the root; leaf, intermediate; leaf, intermediate, root */
	CHECK_EQ(verdict(p->leaf_key, p->leaf_chain, p->root_pem, "server.test"), 0);
	CHECK_EQ(verdict(p->leaf_key, p->ileaf_chain, p->root_pem, "server.test"), 0);
	CHECK_EQ(verdict(p->leaf_key, p->ileaf_root_chain, p->root_pem, "server.test"), 0);
	/* a CA file of two roots, ours the second; a name's case does not matter */
	CHECK_EQ(verdict(p->leaf_key, p->leaf_chain, p->both_pem, "SERVER.test"), 0);
	/* the message: header, role, session ID, count, lengths, the certificates' DER */
	init_sids();
	s = cert_signer(p->leaf_key, p->ileaf_chain, 0);
	make_msgs(s, SID, c, &nc, m, &nm);
	CHECK_EQ(c[4], TCPCRYPT_AUTH_T_CERT);
	CHECK_EQ(c[5], TCPCRYPT_AUTH_ED25519);
	CHECK_EQ((c[6] << 8 | c[7]) + TCPCRYPT_AUTH_HDR_LEN, nc);
	CHECK_EQ(c[8], TCP_ENO_ROLE_B);
	CHECK_MEM(c + 9, SID, 33);
	CHECK_EQ(c[42], 2);
	{
		int l0 = c[43] << 8 | c[44], l1, d0 = i2d_X509(p->ileaf, NULL);
		unsigned char *der = NULL;

		CHECK_EQ(l0, d0);
		CHECK_EQ(i2d_X509(p->ileaf, &der), d0);
		CHECK_MEM(c + 45, der, d0);
		OPENSSL_free(der);
		l1 = c[45 + l0] << 8 | c[46 + l0];
		CHECK_EQ(l1, i2d_X509(p->inter, NULL));
		CHECK_EQ(45 + l0 + 2 + l1, nc);
	}
	/* the PROOF is the plain Ed25519 one: a verifier pinning the leaf's key takes it */
	{
		const char *pub = tmp_path("leaf.pub");
		FILE *f = fopen(pub, "w");
		struct tcpcrypt_auth *pin;

		PEM_write_PUBKEY(f, p->leaf_k);
		fclose(f);
		pin = tcpcrypt_auth_verify_file(pub, NULL);
		CHECK(pin != NULL);
		CHECK_EQ(nm, TCPCRYPT_AUTH_HDR_LEN + 130);
		CHECK_EQ(tcpcrypt_auth_check_proof(pin, SID, TCP_ENO_ROLE_A, m, nm), 0);
		tcpcrypt_auth_free(pin);
	}
	/* a CA verifier given a PROOF without a CERT */
	v = ca_verifier(p->root_pem, "server.test");
	CHECK_EQ(tcpcrypt_auth_check_proof(v, SID, TCP_ENO_ROLE_A, m, nm), -TCPCRYPT_AUTH_ECERT);
	CHECK_EQ(tcpcrypt_auth_check_cert(v, SID, TCP_ENO_ROLE_A, NULL, 0, m, nm),
		 -TCPCRYPT_AUTH_ECERT);
	CHECK(reason_has("no certificate"));
	/* a verifier makes neither CERT nor PROOF; a signer without a chain no CERT */
	CHECK_EQ(tcpcrypt_auth_cert(v, SID, TCP_ENO_ROLE_A, c, sizeof(c)), 0);
	CHECK_EQ(tcpcrypt_auth_proof(v, SID, TCP_ENO_ROLE_A, m, sizeof(m)), 0);
	{
		struct tcpcrypt_auth *plain = tcpcrypt_auth_sign_file(p->leaf_key, NULL);

		CHECK_EQ(tcpcrypt_auth_cert(plain, SID, TCP_ENO_ROLE_B, c, sizeof(c)), 0);
		tcpcrypt_auth_free(plain);
	}
	CHECK_EQ(tcpcrypt_auth_cert(s, SID, TCP_ENO_ROLE_B, c, 100), -TCPCRYPT_AUTH_ECONFIG);
	tcpcrypt_auth_free(v);
	tcpcrypt_auth_free(s);
}

T(x509_batch_signature)
{
	struct pki *p = pki();
	static unsigned char c[TCPCRYPT_AUTH_CERT_MSG_MAX], m[TCPCRYPT_AUTH_MSG_MAX];
	struct tcpcrypt_auth *s = cert_signer(p->leaf_key, p->ileaf_chain, 1),
			     *v = ca_verifier(p->root_pem, "198.18.2.2"),
			     *o = ca_verifier(p->other_pem, "198.18.2.2");
	int nc, nm;

	init_sids();
	make_msgs(s, SID, c, &nc, m, &nm);
	CHECK_EQ(c[5], TCPCRYPT_AUTH_ED25519_BATCH);
	CHECK_EQ(m[5], TCPCRYPT_AUTH_ED25519_BATCH);
	CHECK_EQ(tcpcrypt_auth_check_cert(v, SID, TCP_ENO_ROLE_A, c, nc, m, nm), 0);
	CHECK_EQ(tcpcrypt_auth_check_cert(o, SID, TCP_ENO_ROLE_A, c, nc, m, nm),
		 -TCPCRYPT_AUTH_ECERT);
	CHECK_EQ(tcpcrypt_auth_check_cert(v, SID2, TCP_ENO_ROLE_A, c, nc, m, nm),
		 -TCPCRYPT_AUTH_ESESSID);
	m[nm - 1] ^= 1;
	CHECK_EQ(tcpcrypt_auth_check_cert(v, SID, TCP_ENO_ROLE_A, c, nc, m, nm),
		 -TCPCRYPT_AUTH_EBADSIG);
	/* the order: chain, then name, then signature */
	CHECK_EQ(tcpcrypt_auth_check_cert(o, SID, TCP_ENO_ROLE_A, c, nc, m, nm),
		 -TCPCRYPT_AUTH_ECERT);
	{
		struct tcpcrypt_auth *w = ca_verifier(p->root_pem, "198.18.2.9");

		CHECK_EQ(tcpcrypt_auth_check_cert(w, SID, TCP_ENO_ROLE_A, c, nc, m, nm),
			 -TCPCRYPT_AUTH_ENAME);
		tcpcrypt_auth_free(w);
	}
	tcpcrypt_auth_free(s);
	tcpcrypt_auth_free(v);
	tcpcrypt_auth_free(o);
}

T(x509_chain_failures)
{
	struct pki *p = pki();

	CHECK_EQ(verdict(p->leaf_key, p->leaf_chain, p->other_pem, "server.test"),
		 -TCPCRYPT_AUTH_ECERT);
	CHECK(reason_has("unable to get local issuer certificate"));
	CHECK_EQ(verdict(p->leaf_key, p->expired_chain, p->root_pem, "server.test"),
		 -TCPCRYPT_AUTH_ECERT);
	CHECK(reason_has("certificate has expired"));
	CHECK_EQ(verdict(p->leaf_key, p->future_chain, p->root_pem, "server.test"),
		 -TCPCRYPT_AUTH_ECERT);
	CHECK(reason_has("certificate is not yet valid"));
	/* the intermediate not sent */
	CHECK_EQ(verdict(p->leaf_key, p->ileaf_alone, p->root_pem, "server.test"),
		 -TCPCRYPT_AUTH_ECERT);
	CHECK(reason_has("unable to get local issuer certificate"));
	/* purpose: extended key usage clientAuth only; key usage without signatures */
	CHECK_EQ(verdict(p->leaf_key, p->client_chain, p->root_pem, "server.test"),
		 -TCPCRYPT_AUTH_ECERT);
	CHECK(reason_has("unsuitable certificate purpose"));
	CHECK_EQ(verdict(p->leaf_key, p->nosig_chain, p->root_pem, "server.test"),
		 -TCPCRYPT_AUTH_ECERT);
	/* an intermediate is not a trust anchor by itself here: the CA file is the root */
	{
		X509 *c[1] = {P.inter};
		const char *inter_only = write_certs("inter-only.pem", c, 1);

		CHECK_EQ(verdict(p->leaf_key, p->ileaf_chain, inter_only, "server.test"),
			 -TCPCRYPT_AUTH_ECERT);
	}
}

T(x509_names)
{
	struct pki *p = pki();

	/* host name: the DNS names; an address: the IP addresses; never the subject CN */
	CHECK_EQ(verdict(p->leaf_key, p->leaf_chain, p->root_pem, "other.test"),
		 -TCPCRYPT_AUTH_ENAME);
	CHECK(reason_has("not for host name other.test"));
	CHECK_EQ(verdict(p->leaf_key, p->leaf_chain, p->root_pem, "198.18.2.2"), 0);
	CHECK_EQ(verdict(p->leaf_key, p->leaf_chain, p->root_pem, "fd00::2"), 0);
	CHECK_EQ(verdict(p->leaf_key, p->leaf_chain, p->root_pem, "fd00:0::2"), 0);
	CHECK_EQ(verdict(p->leaf_key, p->leaf_chain, p->root_pem, "198.18.2.3"),
		 -TCPCRYPT_AUTH_ENAME);
	CHECK(reason_has("not for address 198.18.2.3"));
	CHECK_EQ(verdict(p->leaf_key, p->leaf_chain, p->root_pem, "sub.server.test"),
		 -TCPCRYPT_AUTH_ENAME);
	/* the wildcard: one whole leftmost label */
	CHECK_EQ(verdict(p->leaf_key, p->wild_chain, p->root_pem, "a.wild.test"), 0);
	CHECK_EQ(verdict(p->leaf_key, p->wild_chain, p->root_pem, "wild.test"),
		 -TCPCRYPT_AUTH_ENAME);
	CHECK_EQ(verdict(p->leaf_key, p->wild_chain, p->root_pem, "a.b.wild.test"),
		 -TCPCRYPT_AUTH_ENAME);
	/* CN "server.test" without a DNS name for it: the wildcard leaf's CN is not used */
	CHECK_EQ(verdict(p->leaf_key, p->wild_chain, p->root_pem, "server.test"),
		 -TCPCRYPT_AUTH_ENAME);
	/* the chain is checked before the name */
	CHECK_EQ(verdict(p->leaf_key, p->leaf_chain, p->other_pem, "other.test"),
		 -TCPCRYPT_AUTH_ECERT);
}

T(x509_key_mismatch_and_config)
{
	struct pki *p = pki();
	static unsigned char c[TCPCRYPT_AUTH_CERT_MSG_MAX], m[TCPCRYPT_AUTH_MSG_MAX];
	struct tcpcrypt_auth *s, *s2, *v;
	int err = -1, nc, nm, nc2, nm2;

	/* the leaf's key is not the signing key: refused at load */
	CHECK(!tcpcrypt_auth_sign_cert_file(p->k2_key, p->leaf_chain, &err));
	CHECK_EQ(err, TCPCRYPT_AUTH_ECONFIG);
	err = -1;
	CHECK(!tcpcrypt_auth_sign_batch_cert_file(p->k2_key, p->leaf_chain, &err));
	CHECK_EQ(err, TCPCRYPT_AUTH_ECONFIG);
	/* the intermediate first */
	err = -1;
	CHECK(!tcpcrypt_auth_sign_cert_file(p->leaf_key, p->ileaf_swapped, &err));
	CHECK_EQ(err, TCPCRYPT_AUTH_ECONFIG);
	/* more than TCPCRYPT_AUTH_CHAIN_MAX certificates; a CERT over its limit; none */
	err = -1;
	CHECK(!tcpcrypt_auth_sign_cert_file(p->leaf_key, p->nine_chain, &err));
	CHECK_EQ(err, TCPCRYPT_AUTH_ECONFIG);
	err = -1;
	CHECK(!tcpcrypt_auth_sign_cert_file(p->leaf_key, p->huge_chain, &err));
	CHECK_EQ(err, TCPCRYPT_AUTH_ECONFIG);
	err = -1;
	CHECK(!tcpcrypt_auth_sign_cert_file(p->leaf_key, p->leaf_key, &err));
	CHECK_EQ(err, TCPCRYPT_AUTH_ECONFIG);
	err = -1;
	CHECK(!tcpcrypt_auth_sign_cert_file(p->leaf_key, "/nonexistent/chain.pem", &err));
	CHECK_EQ(err, TCPCRYPT_AUTH_ESYS);
	/* a broken PEM block after the leaf */
	{
		const char *bad = tmp_path("broken.pem");
		FILE *f = fopen(bad, "w");

		PEM_write_X509(f, P.leaf);
		fputs("-----BEGIN CERTIFICATE-----\nMIIB!!!!\n-----END CERTIFICATE-----\n", f);
		fclose(f);
		err = -1;
		CHECK(!tcpcrypt_auth_sign_cert_file(p->leaf_key, bad, &err));
		CHECK_EQ(err, TCPCRYPT_AUTH_ECONFIG);
	}
	/* verifiers: no name, a CA file without certificates, a missing one */
	err = -1;
	CHECK(!tcpcrypt_auth_verify_ca_file(p->root_pem, NULL, &err));
	CHECK_EQ(err, TCPCRYPT_AUTH_ECONFIG);
	err = -1;
	CHECK(!tcpcrypt_auth_verify_ca_file(p->root_pem, "", &err));
	CHECK_EQ(err, TCPCRYPT_AUTH_ECONFIG);
	err = -1;
	CHECK(!tcpcrypt_auth_verify_ca_file(p->leaf_key, "server.test", &err));
	CHECK_EQ(err, TCPCRYPT_AUTH_ECONFIG);
	err = -1;
	CHECK(!tcpcrypt_auth_verify_ca_file("/nonexistent/ca.pem", "server.test", &err));
	CHECK_EQ(err, TCPCRYPT_AUTH_ESYS);

	/* a CERT of one signer with the PROOF of another key (a splice): EKEY */
	init_sids();
	s = cert_signer(p->leaf_key, p->leaf_chain, 0);
	s2 = tcpcrypt_auth_sign_file(p->k2_key, NULL);
	v = ca_verifier(p->root_pem, "server.test");
	make_msgs(s, SID, c, &nc, m, &nm);
	nc2 = nc;
	nm2 = tcpcrypt_auth_proof(s2, SID, TCP_ENO_ROLE_B, m, sizeof(m));
	CHECK_EQ(tcpcrypt_auth_check_cert(v, SID, TCP_ENO_ROLE_A, c, nc2, m, nm2),
		 -TCPCRYPT_AUTH_EKEY);
	/* the signer's own role reflected back; another connection's CERT */
	make_msgs(s, SID, c, &nc, m, &nm);
	CHECK_EQ(tcpcrypt_auth_check_cert(v, SID, TCP_ENO_ROLE_B, c, nc, m, nm),
		 -TCPCRYPT_AUTH_EROLE);
	{
		static unsigned char c2[TCPCRYPT_AUTH_CERT_MSG_MAX];
		int n2 = tcpcrypt_auth_cert(s, SID2, TCP_ENO_ROLE_B, c2, sizeof(c2));

		CHECK_EQ(tcpcrypt_auth_check_cert(v, SID, TCP_ENO_ROLE_A, c2, n2, m, nm),
			 -TCPCRYPT_AUTH_ESESSID);
	}
	/* wrong arguments */
	CHECK_EQ(tcpcrypt_auth_check_cert(s, SID, TCP_ENO_ROLE_A, c, nc, m, nm),
		 -TCPCRYPT_AUTH_ECONFIG);
	CHECK_EQ(tcpcrypt_auth_check_cert(v, SID, 5, c, nc, m, nm), -TCPCRYPT_AUTH_ECONFIG);
	CHECK_EQ(tcpcrypt_auth_cert(s, SID, 5, c, sizeof(c)), -TCPCRYPT_AUTH_ECONFIG);
	/* a PSK end given a CERT: another scheme */
	{
		static const unsigned char k[32] = {1, 2, 3};
		struct tcpcrypt_auth *psk = tcpcrypt_auth_psk(k, sizeof(k), NULL);

		CHECK_EQ(tcpcrypt_auth_check_cert(psk, SID, TCP_ENO_ROLE_A, c, nc, m, nm),
			 -TCPCRYPT_AUTH_ECONFIG);
		tcpcrypt_auth_free(psk);
	}
	tcpcrypt_auth_free(s);
	tcpcrypt_auth_free(s2);
	tcpcrypt_auth_free(v);
}

/* every single-byte change of chain's CERT fails (3 changes per byte); counts per code */
static int cert_mutations_accepted(const char *chain, int *codes)
{
	static const unsigned char flips[] = {0x01, 0x80, 0xff};
	static unsigned char c[TCPCRYPT_AUTH_CERT_MSG_MAX], x[TCPCRYPT_AUTH_CERT_MSG_MAX],
	    m[TCPCRYPT_AUTH_MSG_MAX];
	struct tcpcrypt_auth *s = cert_signer(P.leaf_key, chain, 0),
			     *v = ca_verifier(P.root_pem, "server.test");
	int nc, nm, bad = 0;

	init_sids();
	make_msgs(s, SID, c, &nc, m, &nm);
	CHECK_EQ(tcpcrypt_auth_check_cert(v, SID, TCP_ENO_ROLE_A, c, nc, m, nm), 0);
	for (int i = 0; i < nc; i++)
		for (size_t k = 0; k < sizeof(flips); k++) {
			int r;

			memcpy(x, c, nc);
			x[i] ^= flips[k];
			r = tcpcrypt_auth_check_cert(v, SID, TCP_ENO_ROLE_A, x, nc, m, nm);
			if (r >= 0) {
				fprintf(stderr, "  %s: byte %d ^ %02x accepted\n", chain, i,
					flips[k]);
				bad++;
			} else if (-r < TCPCRYPT_AUTH_EMAX) {
				codes[-r]++;
			}
		}
	tcpcrypt_auth_free(s);
	tcpcrypt_auth_free(v);
	return bad;
}

T(x509_every_byte_change_fails)
{
	int codes[TCPCRYPT_AUTH_EMAX] = {0};

	pki();
	CHECK_EQ(cert_mutations_accepted(P.leaf_chain, codes), 0);
	/* with an intermediate, and with the root sent too (the verifier has its own) */
	CHECK_EQ(cert_mutations_accepted(P.ileaf_chain, codes), 0);
	CHECK_EQ(cert_mutations_accepted(P.ileaf_root_chain, codes), 0);
	CHECK(codes[TCPCRYPT_AUTH_ENOTAUTH] > 0);
	CHECK(codes[TCPCRYPT_AUTH_EVERSION] > 0);
	CHECK(codes[TCPCRYPT_AUTH_ESCHEME] > 0);
	CHECK(codes[TCPCRYPT_AUTH_EFORMAT] > 0);
	CHECK(codes[TCPCRYPT_AUTH_EROLE] > 0);
	CHECK(codes[TCPCRYPT_AUTH_ESESSID] > 0);
	CHECK(codes[TCPCRYPT_AUTH_ECERT] > 0);
	fprintf(stderr,
		"  CERT mutations: EFORMAT %d, ECERT %d, EKEY %d, ENAME %d, ESCHEME %d, EROLE %d, "
		"ESESSID %d\n",
		codes[TCPCRYPT_AUTH_EFORMAT], codes[TCPCRYPT_AUTH_ECERT], codes[TCPCRYPT_AUTH_EKEY],
		codes[TCPCRYPT_AUTH_ENAME], codes[TCPCRYPT_AUTH_ESCHEME],
		codes[TCPCRYPT_AUTH_EROLE], codes[TCPCRYPT_AUTH_ESESSID]);
}

T(x509_truncated_garbled_oversized)
{
	struct pki *p = pki();
	static unsigned char c[TCPCRYPT_AUTH_CERT_MSG_MAX + 16], m[TCPCRYPT_AUTH_MSG_MAX],
	    x[TCPCRYPT_AUTH_CERT_MSG_MAX + 16];
	struct tcpcrypt_auth *s = cert_signer(p->leaf_key, p->ileaf_chain, 0),
			     *v = ca_verifier(p->root_pem, "server.test");
	int nc, nm, l0;

	init_sids();
	make_msgs(s, SID, c, &nc, m, &nm);
	for (int k = 0; k < nc; k++)
		CHECK(tcpcrypt_auth_check_cert(v, SID, TCP_ENO_ROLE_A, c, k, m, nm) < 0);
	CHECK_EQ(tcpcrypt_auth_check_cert(v, SID, TCP_ENO_ROLE_A, c, nc + 1, m, nm),
		 -TCPCRYPT_AUTH_EFORMAT);
	/* the last certificate cut short, the header's length with it */
	memcpy(x, c, nc);
	x[7]--;
	if (x[7] == 0xff)
		x[6]--;
	CHECK_EQ(tcpcrypt_auth_check_cert(v, SID, TCP_ENO_ROLE_A, x, nc - 1, m, nm),
		 -TCPCRYPT_AUTH_EFORMAT);
	/* one byte more after the certificates */
	memcpy(x, c, nc);
	x[nc] = 0;
	x[7]++;
	if (!x[7])
		x[6]++;
	CHECK_EQ(tcpcrypt_auth_check_cert(v, SID, TCP_ENO_ROLE_A, x, nc + 1, m, nm),
		 -TCPCRYPT_AUTH_EFORMAT);
	/* counts 0, 1 (a byte left over), 3 (missing), 9 */
	for (int n = 0; n < 10; n++) {
		memcpy(x, c, nc);
		x[42] = n;
		CHECK_EQ(tcpcrypt_auth_check_cert(v, SID, TCP_ENO_ROLE_A, x, nc, m, nm),
			 n == 2 ? 0 : -TCPCRYPT_AUTH_EFORMAT);
	}
	/* a certificate length of 0, one past the end */
	l0 = c[43] << 8 | c[44];
	memcpy(x, c, nc);
	x[43] = x[44] = 0;
	CHECK_EQ(tcpcrypt_auth_check_cert(v, SID, TCP_ENO_ROLE_A, x, nc, m, nm),
		 -TCPCRYPT_AUTH_EFORMAT);
	memcpy(x, c, nc);
	x[43] = (nc - 45 + 1) >> 8;
	x[44] = (nc - 45 + 1) & 0xff;
	CHECK_EQ(tcpcrypt_auth_check_cert(v, SID, TCP_ENO_ROLE_A, x, nc, m, nm),
		 -TCPCRYPT_AUTH_EFORMAT);
	/* garbage where the DER is */
	memcpy(x, c, nc);
	memset(x + 45, 0x30, l0);
	CHECK_EQ(tcpcrypt_auth_check_cert(v, SID, TCP_ENO_ROLE_A, x, nc, m, nm),
		 -TCPCRYPT_AUTH_EFORMAT);
	/* the header's limits: a CERT may be 16384 bytes, no more; other types 512 */
	{
		unsigned char h[8] = {'T', 'C', 'A', 1, TCPCRYPT_AUTH_T_CERT, 2, 0x3f, 0xf8};

		CHECK_EQ(tcpcrypt_auth_msg_len(h, 8), TCPCRYPT_AUTH_CERT_MSG_MAX);
		h[7] = 0xf9;
		CHECK_EQ(tcpcrypt_auth_msg_len(h, 8), -TCPCRYPT_AUTH_EFORMAT);
		h[6] = 0xff;
		CHECK_EQ(tcpcrypt_auth_msg_len(h, 8), -TCPCRYPT_AUTH_EFORMAT);
		h[4] = TCPCRYPT_AUTH_T_PROOF;
		h[6] = 0x01;
		h[7] = 0xf8;
		CHECK_EQ(tcpcrypt_auth_msg_len(h, 8), TCPCRYPT_AUTH_MSG_MAX);
		h[7] = 0xf9;
		CHECK_EQ(tcpcrypt_auth_msg_len(h, 8), -TCPCRYPT_AUTH_EFORMAT);
	}
	/* a CERT where the PROOF should be, a PROOF where the CERT should be */
	CHECK_EQ(tcpcrypt_auth_check_cert(v, SID, TCP_ENO_ROLE_A, m, nm, m, nm),
		 -TCPCRYPT_AUTH_EFORMAT);
	CHECK(tcpcrypt_auth_check_cert(v, SID, TCP_ENO_ROLE_A, c, nc, c, nc) < 0);
	tcpcrypt_auth_free(s);
	tcpcrypt_auth_free(v);
}

/* --- connection level, on a socketpair --- */

/* client a (role A) and server b (role B), b's session ID sid_b (NULL: the same) */
static void pair_run(struct side *a, struct side *b, const unsigned char *sid_b)
{
	init_sids();
	fake_pair(a, b, SID, sid_b ? sid_b : SID);
	fake_pair_close(a, b);
}

/* client with credential ca, server with sv: both results */
static void fd_case(const struct tcpcrypt_auth *ca, const struct tcpcrypt_auth *sv,
		    const unsigned char *sid_b, int want_c, int want_s, int want_ps)
{
	struct side c = {.a = ca, .send_after = "from client"},
		    s = {.a = sv, .send_after = "from server"};

	pair_run(&c, &s, sid_b);
	CHECK_EQ(c.r, want_c);
	CHECK_EQ(s.r, want_s);
	if (want_s == -TCPCRYPT_AUTH_EPEER)
		CHECK_EQ(s.peer_status, want_ps);
	if (!want_c && !want_s) {
		CHECK(!strcmp(c.got, "from server"));
		CHECK(!strcmp(s.got, "from client"));
		CHECK_EQ(fake_flushes[c.fd] + fake_flushes[s.fd], 0);
	} else {
		CHECK_EQ(fake_flushes[c.fd], 1);
	}
}

T(x509_fd)
{
	struct pki *p = pki();
	struct tcpcrypt_auth *s = cert_signer(p->leaf_key, p->ileaf_chain, 0),
			     *b = cert_signer(p->leaf_key, p->leaf_chain, 1),
			     *plain = tcpcrypt_auth_sign_file(p->leaf_key, NULL),
			     *v = ca_verifier(p->root_pem, "server.test"),
			     *o = ca_verifier(p->other_pem, "server.test"),
			     *n = ca_verifier(p->root_pem, "other.test"), *pin;
	const char *pub = tmp_path("leaf-fd.pub");
	FILE *f = fopen(pub, "w");

	PEM_write_PUBKEY(f, p->leaf_k);
	fclose(f);
	pin = tcpcrypt_auth_verify_file(pub, NULL);
	CHECK(pin != NULL);
	/* success: single and batch signatures, the bytes after the exchange intact */
	fd_case(v, s, NULL, 0, 0, 0);
	fd_case(v, b, NULL, 0, 0, 0);
	/* another CA, another name: the client's code, the server hears it */
	fd_case(o, s, NULL, -TCPCRYPT_AUTH_ECERT, -TCPCRYPT_AUTH_EPEER, TCPCRYPT_AUTH_ECERT);
	fd_case(n, s, NULL, -TCPCRYPT_AUTH_ENAME, -TCPCRYPT_AUTH_EPEER, TCPCRYPT_AUTH_ENAME);
	/* a relay: two session IDs */
	fd_case(v, s, SID2, -TCPCRYPT_AUTH_ESESSID, -TCPCRYPT_AUTH_EPEER, TCPCRYPT_AUTH_ESESSID);
	/* a server without a chain */
	fd_case(v, plain, NULL, -TCPCRYPT_AUTH_ECERT, -TCPCRYPT_AUTH_EPEER, TCPCRYPT_AUTH_ECERT);
	/* a client pinning the key skips the chain */
	fd_case(pin, s, NULL, 0, 0, 0);
	fd_case(pin, b, NULL, 0, 0, 0);
	/* a PSK end skips the chain too, and sees another scheme in the PROOF */
	{
		static const unsigned char k[32] = {7, 7, 7};
		struct tcpcrypt_auth *psk = tcpcrypt_auth_psk(k, sizeof(k), NULL);
		struct side c = {.a = psk}, d = {.a = s};

		pair_run(&c, &d, NULL);
		CHECK_EQ(c.r, -TCPCRYPT_AUTH_ESCHEME);
		CHECK(d.r < 0);
		tcpcrypt_auth_free(psk);
	}
	tcpcrypt_auth_free(s);
	tcpcrypt_auth_free(b);
	tcpcrypt_auth_free(plain);
	tcpcrypt_auth_free(v);
	tcpcrypt_auth_free(o);
	tcpcrypt_auth_free(n);
	tcpcrypt_auth_free(pin);
}

T(x509_strerror)
{
	CHECK(strcmp(tcpcrypt_auth_strerror(TCPCRYPT_AUTH_ECERT), "unknown tcpcrypt-auth error"));
	CHECK(strcmp(tcpcrypt_auth_strerror(TCPCRYPT_AUTH_ENAME), "unknown tcpcrypt-auth error"));
	CHECK(strcmp(tcpcrypt_auth_strerror(TCPCRYPT_AUTH_ECERT),
		     tcpcrypt_auth_strerror(TCPCRYPT_AUTH_ENAME)));
	CHECK_EQ(TCPCRYPT_AUTH_ECERT, 25);
	CHECK_EQ(TCPCRYPT_AUTH_ENAME, 26);
	CHECK_EQ(TCPCRYPT_AUTH_T_CERT, 4);
}
