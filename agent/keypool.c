// SPDX-License-Identifier: MIT
#include "keypool.h"

#include <errno.h>
#include <pthread.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <openssl/evp.h>
#include "core/err.h"

#define KP_NTEPS 4 /* TC_TEP_P256 .. TC_TEP_X448 */

struct kp_tep {
	struct tc_tep_key keys[KEYPOOL_DEPTH_MAX];
	unsigned n;
	bool wanted; /* asked for at least once, or prefilled: keep it full */
	/* host B's reused key pair (reuse_ns != 0): until shared_until */
	struct tc_tep_key shared;
	uint64_t shared_until;
};

struct keypool {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	pthread_t thread;
	bool stop;
	unsigned depth;
	struct kp_tep tep[KP_NTEPS];
	uint64_t hits, misses, reused;
	uint64_t reuse_ns; /* B's reuse lifetime, 0: none */
	struct tc_keysrc src, src_b;
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static int tep_idx(const struct tc_tep *tep)
{
	return tep && tep->id >= TC_TEP_P256 && tep->id <= TC_TEP_X448 ? tep->id - TC_TEP_P256 : -1;
}

/* A TEP that needs a key pair, or -1; under the lock. */
static int hungry(const struct keypool *kp)
{
	for (int i = 0; i < KP_NTEPS; i++)
		if (kp->tep[i].wanted && kp->tep[i].n < kp->depth)
			return i;
	return -1;
}

static void *fill(void *arg)
{
	struct keypool *kp = arg;
	/*
	 * The CPU's spare time: the lowest priority of the normal class (nice
	 * 19, a weight of 15 against the data path's 1024).  Not SCHED_IDLE:
	 * a thread that never runs on a busy machine cannot even die, and a
	 * killed agent then kept its pin-dir lock (and its sockets) for seconds.
	 */
	setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 19);
	pthread_mutex_lock(&kp->lock);
	for (;;) {
		struct tc_tep_key key;
		int i;

		while (!kp->stop && (i = hungry(kp)) < 0)
			pthread_cond_wait(&kp->cond, &kp->lock);
		if (kp->stop)
			break;
		pthread_mutex_unlock(&kp->lock);
		if (tc_tep_keygen(tc_tep_find(TC_TEP_P256 + i), &key) != TC_OK) {
			/* no CSPRNG or no memory: the data path generates its own, and fails
			 * likewise */
			pthread_mutex_lock(&kp->lock);
			kp->tep[i].wanted = false;
			continue;
		}
		pthread_mutex_lock(&kp->lock);
		if (kp->tep[i].n < kp->depth)
			kp->tep[i].keys[kp->tep[i].n++] = key;
		else
			tc_tep_key_free(&key);
	}
	pthread_mutex_unlock(&kp->lock);
	return NULL;
}

static int take(void *ctx, const struct tc_tep *tep, struct tc_tep_key *key)
{
	struct keypool *kp = ctx;
	int i = tep_idx(tep), err = TC_E_STATE;

	if (i < 0)
		return TC_E_UNSUPPORTED;
	pthread_mutex_lock(&kp->lock);
	if (kp->tep[i].n) {
		*key = kp->tep[i].keys[--kp->tep[i].n];
		memset(&kp->tep[i].keys[kp->tep[i].n], 0, sizeof(*key));
		kp->hits++;
		err = TC_OK;
	} else {
		kp->misses++;
	}
	kp->tep[i].wanted = true;
	pthread_cond_signal(&kp->cond);
	pthread_mutex_unlock(&kp->lock);
	return err;
}

/* Host B, reuse on: the TEP's current key pair, shared, or a new one that becomes it. */
static int take_b(void *ctx, const struct tc_tep *tep, struct tc_tep_key *key)
{
	struct keypool *kp = ctx;
	int i = tep_idx(tep), err;
	uint64_t now;

	if (i < 0)
		return TC_E_UNSUPPORTED;
	now = mono_ns();
	pthread_mutex_lock(&kp->lock);
	if (!kp->reuse_ns) {
		pthread_mutex_unlock(&kp->lock);
		return take(ctx, tep, key);
	}
	if (kp->tep[i].shared.pkey && now < kp->tep[i].shared_until &&
	    EVP_PKEY_up_ref(kp->tep[i].shared.pkey)) {
		*key = kp->tep[i].shared;
		kp->reused++;
		pthread_mutex_unlock(&kp->lock);
		return TC_OK;
	}
	pthread_mutex_unlock(&kp->lock);
	/* a new one (pooled, else made now) becomes the shared one */
	err = tc_tep_key_take(&kp->src, tep, key);
	if (err)
		return err;
	pthread_mutex_lock(&kp->lock);
	tc_tep_key_free(&kp->tep[i].shared);
	if (EVP_PKEY_up_ref(key->pkey)) {
		kp->tep[i].shared = *key;
		kp->tep[i].shared_until = now + kp->reuse_ns;
	}
	pthread_mutex_unlock(&kp->lock);
	return TC_OK;
}

struct keypool *keypool_new(unsigned depth, const uint8_t *prefill, unsigned n)
{
	struct keypool *kp;
	int err;

	if (!depth || depth > KEYPOOL_DEPTH_MAX) {
		errno = EINVAL;
		return NULL;
	}
	kp = calloc(1, sizeof(*kp));
	if (!kp)
		return NULL;
	kp->depth = depth;
	kp->src = (struct tc_keysrc){.take = take, .ctx = kp};
	kp->src_b = (struct tc_keysrc){.take = take_b, .ctx = kp};
	for (unsigned j = 0; j < n; j++) {
		int i = tep_idx(tc_tep_find(prefill[j]));

		if (i >= 0)
			kp->tep[i].wanted = true;
	}
	pthread_mutex_init(&kp->lock, NULL);
	pthread_cond_init(&kp->cond, NULL);
	err = pthread_create(&kp->thread, NULL, fill, kp);
	if (err) {
		pthread_cond_destroy(&kp->cond);
		pthread_mutex_destroy(&kp->lock);
		free(kp);
		errno = err;
		return NULL;
	}
	return kp;
}

void keypool_free(struct keypool *kp)
{
	if (!kp)
		return;
	pthread_mutex_lock(&kp->lock);
	kp->stop = true;
	pthread_cond_signal(&kp->cond);
	pthread_mutex_unlock(&kp->lock);
	pthread_join(kp->thread, NULL);
	for (int i = 0; i < KP_NTEPS; i++) {
		while (kp->tep[i].n)
			tc_tep_key_free(&kp->tep[i].keys[--kp->tep[i].n]);
		tc_tep_key_free(&kp->tep[i].shared);
	}
	pthread_cond_destroy(&kp->cond);
	pthread_mutex_destroy(&kp->lock);
	free(kp);
}

const struct tc_keysrc *keypool_src(struct keypool *kp)
{
	return kp ? &kp->src : NULL;
}

const struct tc_keysrc *keypool_src_b(struct keypool *kp)
{
	return kp ? &kp->src_b : NULL;
}

int keypool_set_reuse(struct keypool *kp, unsigned ms)
{
	if (!kp || ms > KEYPOOL_REUSE_MAX_MS)
		return -EINVAL;
	pthread_mutex_lock(&kp->lock);
	kp->reuse_ns = (uint64_t)ms * 1000000ull;
	pthread_mutex_unlock(&kp->lock);
	return 0;
}

uint64_t keypool_reused(struct keypool *kp)
{
	uint64_t n;

	if (!kp)
		return 0;
	pthread_mutex_lock(&kp->lock);
	n = kp->reused;
	pthread_mutex_unlock(&kp->lock);
	return n;
}

unsigned keypool_held(struct keypool *kp, uint8_t id)
{
	int i = tep_idx(tc_tep_find(id));
	unsigned n;

	if (!kp || i < 0)
		return 0;
	pthread_mutex_lock(&kp->lock);
	n = kp->tep[i].n;
	pthread_mutex_unlock(&kp->lock);
	return n;
}

void keypool_counts(struct keypool *kp, uint64_t *hits, uint64_t *misses)
{
	*hits = *misses = 0;
	if (!kp)
		return;
	pthread_mutex_lock(&kp->lock);
	*hits = kp->hits;
	*misses = kp->misses;
	pthread_mutex_unlock(&kp->lock);
}
