// SPDX-License-Identifier: MIT
/*
 * The batch signer's gather window (lib/auth.c, lib/auth_batch.h,
 * docs/auth.md#ed25519-batch): the decision rule on its own, then threads
 * whose outcome the rule fixes, with a window of an hour so that time never
 * decides (a missed wake-up hangs the test, it cannot pass).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include "t.h"
#include "tcpcrypt/auth.h"
#include "tcpcrypt/tcpcrypt.h"
#include "../../lib/auth_batch.h"

#define HOUR_US (3600LL * 1000000)

T(batch_ready_rule)
{
	const int64_t w = 8000;

	/* nothing pending: nothing to sign */
	CHECK_EQ(tcpcrypt__batch_ready(0, 0, 0, w), 0);
	CHECK_EQ(tcpcrypt__batch_ready(0, 5, w, w), 0);
	/* a lone connection, or the message-level API (not counted): at once */
	CHECK_EQ(tcpcrypt__batch_ready(1, 1, 0, w), 1);
	CHECK_EQ(tcpcrypt__batch_ready(1, 0, 0, w), 1);
	/* another connection active: wait, until the window has passed */
	CHECK_EQ(tcpcrypt__batch_ready(1, 2, 0, w), 0);
	CHECK_EQ(tcpcrypt__batch_ready(1, 2, w - 1, w), 0);
	CHECK_EQ(tcpcrypt__batch_ready(1, 2, w, w), 1);
	/* everyone active is pending */
	CHECK_EQ(tcpcrypt__batch_ready(3, 3, 0, w), 1);
	CHECK_EQ(tcpcrypt__batch_ready(3, 4, 0, w), 0);
	/* a full batch does not wait */
	CHECK_EQ(tcpcrypt__batch_ready(TCPCRYPT_AUTH_BATCH_MAX, TCPCRYPT_AUTH_BATCH_MAX + 9, 0, w),
		 1);
	CHECK_EQ(
	    tcpcrypt__batch_ready(TCPCRYPT_AUTH_BATCH_MAX - 1, TCPCRYPT_AUTH_BATCH_MAX + 9, 0, w),
	    0);
	/* window 0: no gathering (the batcher before the window) */
	CHECK_EQ(tcpcrypt__batch_ready(1, 9, 0, 0), 1);
}

static char dir[] = "/tmp/test_auth_batch.XXXXXX";
static char priv[64], pub[64];
static struct tcpcrypt_auth *signer;

static void keys(void)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	FILE *f;

	if (!k || !mkdtemp(dir))
		abort();
	snprintf(priv, sizeof(priv), "%s/k.pem", dir);
	snprintf(pub, sizeof(pub), "%s/p.pem", dir);
	f = fopen(priv, "w");
	PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL);
	fclose(f);
	f = fopen(pub, "w");
	PEM_write_PUBKEY(f, k);
	fclose(f);
	EVP_PKEY_free(k);
}

#define NREQ 4
static struct req {
	unsigned char sid[TCP_ENO_SESSID_LEN];
	unsigned char m[TCPCRYPT_AUTH_MSG_MAX];
	int n;
} req[NREQ];

static void *ask(void *arg)
{
	struct req *r = arg;

	r->n = tcpcrypt_auth_proof(signer, r->sid, TCP_ENO_ROLE_B, r->m, sizeof(r->m));
	return NULL;
}

static void stats(unsigned long *s, unsigned long *p)
{
	tcpcrypt_auth_batch_stats(signer, s, p);
}

T(batch_gathers_the_active_connections)
{
	struct tcpcrypt_auth *v;
	pthread_t th[NREQ];
	unsigned long s0, p0, s1, p1;
	int err;

	keys();
	signer = tcpcrypt_auth_sign_batch_file(priv, &err);
	v = tcpcrypt_auth_verify_file(pub, &err);
	CHECK(signer && v);
	if (!signer || !v)
		return;
	tcpcrypt__batch_window(signer, HOUR_US);
	/* four connections in tcpcrypt_auth_fd: none may sign before all four ask */
	for (int i = 0; i < NREQ; i++)
		tcpcrypt__batch_expect(signer, 1);
	stats(&s0, &p0);
	for (int i = 0; i < NREQ; i++) {
		memset(req[i].sid, 0x23, sizeof(req[i].sid));
		req[i].sid[1] = i;
		pthread_create(&th[i], NULL, ask, &req[i]);
	}
	for (int i = 0; i < NREQ; i++)
		pthread_join(th[i], NULL);
	stats(&s1, &p1);
	CHECK_EQ(s1 - s0, 1);
	CHECK_EQ(p1 - p0, NREQ);
	for (int i = 0; i < NREQ; i++) {
		/* one tree of four: depth 2, every proof its own session's */
		CHECK_EQ(req[i].n, TCPCRYPT_AUTH_HDR_LEN + 165 + 2 * 32);
		CHECK_EQ(
		    tcpcrypt_auth_check_proof(v, req[i].sid, TCP_ENO_ROLE_A, req[i].m, req[i].n),
		    0);
		CHECK_EQ(tcpcrypt_auth_check_proof(v, req[(i + 1) % NREQ].sid, TCP_ENO_ROLE_A,
						   req[i].m, req[i].n),
			 -TCPCRYPT_AUTH_ESESSID);
	}
	for (int i = 0; i < NREQ; i++)
		tcpcrypt__batch_expect(signer, -1);

	/* two active, one asks, the other leaves without asking: the one is signed alone */
	tcpcrypt__batch_expect(signer, 1);
	tcpcrypt__batch_expect(signer, 1);
	pthread_create(&th[0], NULL, ask, &req[0]);
	tcpcrypt__batch_expect(signer, -1);
	pthread_join(th[0], NULL);
	tcpcrypt__batch_expect(signer, -1);
	stats(&s0, &p0);
	CHECK_EQ(s0 - s1, 1);
	CHECK_EQ(p0 - p1, 1);
	CHECK_EQ(req[0].n, TCPCRYPT_AUTH_HDR_LEN + 165);
	CHECK_EQ(tcpcrypt_auth_check_proof(v, req[0].sid, TCP_ENO_ROLE_A, req[0].m, req[0].n), 0);

	/* nothing active (the message-level API): at once, the window notwithstanding */
	ask(&req[1]);
	stats(&s1, &p1);
	CHECK_EQ(s1 - s0, 1);
	CHECK_EQ(req[1].n, TCPCRYPT_AUTH_HDR_LEN + 165);
	/* a counter that would go below 0 stays at 0 */
	tcpcrypt__batch_expect(signer, -1);
	ask(&req[2]);
	CHECK_EQ(req[2].n, TCPCRYPT_AUTH_HDR_LEN + 165);
	/* credentials without a batcher ignore the calls */
	tcpcrypt__batch_expect(v, 1);
	tcpcrypt__batch_window(v, 0);
	tcpcrypt__batch_expect(NULL, 1);

	tcpcrypt_auth_free(signer);
	tcpcrypt_auth_free(v);
	unlink(priv);
	unlink(pub);
	rmdir(dir);
}
