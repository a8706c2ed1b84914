// SPDX-License-Identifier: MIT
/*
 * make bench-auth: what each tcpcrypt-auth scheme costs per connection in
 * CPU, at message level (no network): both ends' work for PSK, Ed25519,
 * SPAKE2, SPAKE2+ (prover and verifier, apart); and the batch signer's amortisation, signatures per
 * proof with 1, 16 and 64 connections asking at once (docs/auth.md#ed25519-batch,
 * docs/machine-facts.md).  Keys are generated into a scratch directory.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include "tcpcrypt/auth.h"
#include "tcpcrypt/tcpcrypt.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* this thread's CPU time: what the SPAKE2+ rows use, steady on a loaded machine */
static double cpu(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static unsigned char SID[TCP_ENO_SESSID_LEN] = {0x23, 1, 2, 3};
static char dir[] = "/tmp/bench_auth.XXXXXX";

static void keys(char *priv, char *pub)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	FILE *f;

	sprintf(priv, "%s/k.pem", dir);
	sprintf(pub, "%s/p.pem", dir);
	f = fopen(priv, "w");
	PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL);
	fclose(f);
	f = fopen(pub, "w");
	PEM_write_PUBKEY(f, k);
	fclose(f);
	EVP_PKEY_free(k);
}

static struct tcpcrypt_auth *bsig;
static int per_thread;
static pthread_barrier_t bar;

static void *batch_client(void *arg)
{
	unsigned char m[TCPCRYPT_AUTH_MSG_MAX], sid[TCP_ENO_SESSID_LEN];

	memcpy(sid, SID, sizeof(sid));
	sid[5] = (unsigned char)(size_t)arg;
	pthread_barrier_wait(&bar);
	for (int i = 0; i < per_thread; i++) {
		sid[6] = i;
		if (tcpcrypt_auth_proof(bsig, sid, TCP_ENO_ROLE_B, m, sizeof(m)) <= 0)
			abort();
	}
	return NULL;
}

int main(void)
{
	char priv[64], pub[64];
	struct tcpcrypt_auth *psk, *sig, *ver, *pw, *spw, *svf;
	char vtext[TCPCRYPT_AUTH_VERIFIER_MAX];
	unsigned char m[TCPCRYPT_AUTH_MSG_MAX], m2[TCPCRYPT_AUTH_MSG_MAX],
	    f1[TCPCRYPT_AUTH_MSG_MAX], f2[TCPCRYPT_AUTH_MSG_MAX];
	const int N = 2000;
	double t;
	int n;

	if (!mkdtemp(dir))
		return 1;
	keys(priv, pub);
	psk = tcpcrypt_auth_psk("0123456789abcdef0123456789abcdef", 32, NULL);
	sig = tcpcrypt_auth_sign_file(priv, NULL);
	ver = tcpcrypt_auth_verify_file(pub, NULL);
	bsig = tcpcrypt_auth_sign_batch_file(priv, NULL);
	t = now();
	pw = tcpcrypt_auth_password("correct horse battery staple", 28, NULL);
	printf("password credential (scrypt N=2^14 r=8, once): %.1f ms\n", (now() - t) * 1e3);
	t = cpu();
	spw = tcpcrypt_auth_spake2p_password("correct horse battery staple", 28, NULL);
	printf("SPAKE2+ password credential (scrypt N=2^15 r=8, once): %.1f ms thread CPU\n",
	       (cpu() - t) * 1e3);
	if (tcpcrypt_auth_make_verifier("correct horse battery staple", 28, vtext, sizeof(vtext)) <=
	    0)
		return 1;
	svf = tcpcrypt_auth_verifier(vtext, strlen(vtext), NULL);
	if (!psk || !sig || !ver || !bsig || !pw || !spw || !svf)
		return 1;

	printf("per connection, both ends' CPU (us), %d runs:\n", N);
	t = now();
	for (int i = 0; i < N; i++) {
		n = tcpcrypt_auth_proof(psk, SID, 0, m, sizeof(m));
		tcpcrypt_auth_check_proof(psk, SID, 1, m, n);
		n = tcpcrypt_auth_proof(psk, SID, 1, m, sizeof(m));
		tcpcrypt_auth_check_proof(psk, SID, 0, m, n);
	}
	printf("  psk (2 HMAC made, 2 checked)      %8.1f\n", (now() - t) / N * 1e6);
	t = now();
	for (int i = 0; i < N; i++) {
		n = tcpcrypt_auth_proof(sig, SID, 1, m, sizeof(m));
		if (tcpcrypt_auth_check_proof(ver, SID, 0, m, n))
			return 1;
	}
	printf("  ed25519 (1 signature, 1 verify)   %8.1f\n", (now() - t) / N * 1e6);
	t = now();
	for (int i = 0; i < N / 4; i++) {
		struct tcpcrypt_auth_pake *a = NULL, *b = NULL;
		int na = tcpcrypt_auth_pake_start(pw, SID, 0, &a, m, sizeof(m));
		int nb = tcpcrypt_auth_pake_start(pw, SID, 1, &b, m2, sizeof(m2));
		int fa = tcpcrypt_auth_pake_proof(a, m2, nb, f1, sizeof(f1));
		int fb = tcpcrypt_auth_pake_proof(b, m, na, f2, sizeof(f2));

		if (tcpcrypt_auth_pake_check(a, f2, fb) || tcpcrypt_auth_pake_check(b, f1, fa))
			return 1;
		tcpcrypt_auth_pake_free(a);
		tcpcrypt_auth_pake_free(b);
	}
	printf("  spake2 (both ends, P-256)         %8.1f\n", (now() - t) / (N / 4) * 1e6);
	{
		/*
		 * SPAKE2+, the password at A (prover), the verifier at B; each end timed apart,
		 * in thread CPU time, and SPAKE2 again the same way to compare
		 */
		unsigned char oa[2 * TCPCRYPT_AUTH_MSG_MAX], ob[2 * TCPCRYPT_AUTH_MSG_MAX];
		double tp = 0, tv = 0, t0;

		for (int i = 0; i < N / 4; i++) {
			struct tcpcrypt_auth_spake2p *a = NULL, *b = NULL;
			int na, nb, da = 0, db = 0;

			t0 = cpu();
			na = tcpcrypt_auth_spake2p_start(spw, SID, 0, &a, oa, sizeof(oa));
			tp += cpu() - t0;
			t0 = cpu();
			tcpcrypt_auth_spake2p_start(svf, SID, 1, &b, ob, sizeof(ob));
			nb = tcpcrypt_auth_spake2p_next(b, oa, na, ob, sizeof(ob), &db);
			tv += cpu() - t0;
			t0 = cpu();
			if (tcpcrypt_auth_spake2p_next(a, ob, 108, oa, sizeof(oa), &da) != 0)
				return 1;
			na = tcpcrypt_auth_spake2p_next(a, ob + 108, nb - 108, oa, sizeof(oa), &da);
			tp += cpu() - t0;
			t0 = cpu();
			if (tcpcrypt_auth_spake2p_next(b, oa, na, ob, sizeof(ob), &db) || !da ||
			    !db)
				return 1;
			tv += cpu() - t0;
			tcpcrypt_auth_spake2p_free(a);
			tcpcrypt_auth_spake2p_free(b);
		}
		printf("thread CPU (us) per connection, %d runs:\n", N / 4);
		printf("  spake2+ prover (password)         %8.1f\n", tp / (N / 4) * 1e6);
		printf("  spake2+ verifier (verifier file)  %8.1f\n", tv / (N / 4) * 1e6);
		printf("  spake2+ (both ends)               %8.1f\n", (tp + tv) / (N / 4) * 1e6);
		t0 = cpu();
		for (int i = 0; i < N / 4; i++) {
			struct tcpcrypt_auth_pake *a = NULL, *b = NULL;
			int na = tcpcrypt_auth_pake_start(pw, SID, 0, &a, m, sizeof(m));
			int nb = tcpcrypt_auth_pake_start(pw, SID, 1, &b, m2, sizeof(m2));
			int fa = tcpcrypt_auth_pake_proof(a, m2, nb, f1, sizeof(f1));
			int fb = tcpcrypt_auth_pake_proof(b, m, na, f2, sizeof(f2));

			if (tcpcrypt_auth_pake_check(a, f2, fb) ||
			    tcpcrypt_auth_pake_check(b, f1, fa))
				return 1;
			tcpcrypt_auth_pake_free(a);
			tcpcrypt_auth_pake_free(b);
		}
		printf("  spake2 (both ends, P-256)         %8.1f\n", (cpu() - t0) / (N / 4) * 1e6);
	}

	printf("batch signer: connections asking at once -> signatures per proof, proofs/s:\n");
	for (int c = 1; c <= 64; c *= c == 1 ? 16 : 4) {
		pthread_t th[64];
		unsigned long s0, p0, s1, p1;

		per_thread = 2000 / c;
		tcpcrypt_auth_batch_stats(bsig, &s0, &p0);
		pthread_barrier_init(&bar, NULL, c);
		t = now();
		for (int i = 0; i < c; i++)
			pthread_create(&th[i], NULL, batch_client, (void *)(size_t)i);
		for (int i = 0; i < c; i++)
			pthread_join(th[i], NULL);
		t = now() - t;
		pthread_barrier_destroy(&bar);
		tcpcrypt_auth_batch_stats(bsig, &s1, &p1);
		printf("  %2d clients: %lu signatures for %lu proofs = %.3f per proof, %.0f "
		       "proofs/s\n",
		       c, s1 - s0, p1 - p0, (double)(s1 - s0) / (p1 - p0), (p1 - p0) / t);
	}
	tcpcrypt_auth_free(psk);
	tcpcrypt_auth_free(sig);
	tcpcrypt_auth_free(ver);
	tcpcrypt_auth_free(bsig);
	tcpcrypt_auth_free(pw);
	tcpcrypt_auth_free(spw);
	tcpcrypt_auth_free(svf);
	unlink(priv);
	unlink(pub);
	rmdir(dir);
	return 0;
}
