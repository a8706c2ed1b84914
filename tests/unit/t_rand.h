/* SPDX-License-Identifier: MIT */
/*
 * Seeded randomness for the unit tests that draw random cases: a splitmix64
 * generator, and a base seed taken from TC_TEST_SEED or the clock, printed
 * once so that a failing run can be replayed.
 */
#ifndef TCPCRYPT_T_RAND_H
#define TCPCRYPT_T_RAND_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static inline uint64_t seed_base(void)
{
	static uint64_t seed;
	const char *env = getenv("TC_TEST_SEED");

	if (!seed) {
		seed =
		    env ? strtoull(env, NULL, 0) : (uint64_t)time(NULL) << 16 ^ (uint64_t)getpid();
		fprintf(stderr, "  seed %llu (replay with TC_TEST_SEED=%llu)\n",
			(unsigned long long)seed, (unsigned long long)seed);
	}
	return seed;
}

static inline uint64_t rnd(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

#endif
