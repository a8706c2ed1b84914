/* SPDX-License-Identifier: MIT */
/*
 * Minimal unit-test harness.  Each tests/unit/test_*.c defines tests with
 * T(name) { ... } and the harness main() runs them all.  Every failed CHECK
 * is reported with file:line; a test passes when none of its checks failed.
 * The binary prints "ok"/"not ok" per test and a closing
 * "N passed, N failed" line, and exits non-zero on any failure.
 */
#ifndef TCPCRYPT_T_H
#define TCPCRYPT_T_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct t_case {
	const char *name;
	void (*fn)(void);
	struct t_case *next;
};

extern struct t_case *t_cases;
extern int t_failed_checks;

#define T(name)                                                                                    \
	static void t_fn_##name(void);                                                             \
	static struct t_case t_case_##name = {#name, t_fn_##name, NULL};                           \
	__attribute__((constructor)) static void t_reg_##name(void)                                \
	{                                                                                          \
		struct t_case **p = &t_cases;                                                      \
		while (*p)                                                                         \
			p = &(*p)->next;                                                           \
		*p = &t_case_##name;                                                               \
	}                                                                                          \
	static void t_fn_##name(void)

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "  %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); \
			t_failed_checks++;                                                         \
		}                                                                                  \
	} while (0)

#define CHECK_EQ(a, b)                                                                             \
	do {                                                                                       \
		long long t_a = (long long)(a), t_b = (long long)(b);                              \
		if (t_a != t_b) {                                                                  \
			fprintf(stderr, "  %s:%d: %s == %lld, expected %s == %lld\n", __FILE__,    \
				__LINE__, #a, t_a, #b, t_b);                                       \
			t_failed_checks++;                                                         \
		}                                                                                  \
	} while (0)

#define CHECK_MEM(a, b, n)                                                                         \
	do {                                                                                       \
		if (memcmp((a), (b), (n)) != 0) {                                                  \
			fprintf(stderr, "  %s:%d: memory %s != %s (%zu bytes)\n", __FILE__,        \
				__LINE__, #a, #b, (size_t)(n));                                    \
			t_failed_checks++;                                                         \
		}                                                                                  \
	} while (0)

#endif
