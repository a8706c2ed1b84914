// SPDX-License-Identifier: MIT
#include "keypool.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "core/err.h"

#define KP_NTEPS 4 /* TC_TEP_P256 .. TC_TEP_X448 */

struct kp_tep {
	struct tc_tep_key keys[KEYPOOL_DEPTH_MAX];
	unsigned n;
	bool wanted; /* asked for at least once, or prefilled: keep it full */
};

struct keypool {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	pthread_t thread;
	bool stop;
	unsigned depth;
	struct kp_tep tep[KP_NTEPS];
	uint64_t hits, misses;
	struct tc_keysrc src;
};

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
	struct sched_param sp = {0};

	/* only the CPU's idle time: never ahead of the data path or the applications */
	pthread_setschedparam(pthread_self(), SCHED_IDLE, &sp);
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
	for (int i = 0; i < KP_NTEPS; i++)
		while (kp->tep[i].n)
			tc_tep_key_free(&kp->tep[i].keys[--kp->tep[i].n]);
	pthread_cond_destroy(&kp->cond);
	pthread_mutex_destroy(&kp->lock);
	free(kp);
}

const struct tc_keysrc *keypool_src(struct keypool *kp)
{
	return kp ? &kp->src : NULL;
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
