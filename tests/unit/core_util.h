/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the protocol-core unit tests: hex conversion, the
 * worked-example inputs (docs/rfc-notes.md#worked-example-not-official), and
 * running the openssl command-line tool as an independent reference.
 */
#ifndef TCPCRYPT_TEST_CORE_UTIL_H
#define TCPCRYPT_TEST_CORE_UTIL_H

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Parse hex (spaces, '|' and ':' ignored) into out; returns the byte count. */
static inline size_t unhex(const char *s, uint8_t *out, size_t cap)
{
	size_t n = 0;
	int hi = -1;

	for (; *s; s++) {
		int v;

		if (!isxdigit((unsigned char)*s))
			continue;
		v = isdigit((unsigned char)*s) ? *s - '0' : (tolower((unsigned char)*s) - 'a' + 10);
		if (hi < 0) {
			hi = v;
		} else {
			if (n < cap)
				out[n] = (uint8_t)(hi << 4 | v);
			n++;
			hi = -1;
		}
	}
	return n;
}

static inline void tohex(const uint8_t *p, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
	out[2 * n] = '\0';
}

/* Deterministic filler (xorshift) so failures reproduce. */
static inline uint32_t test_rand(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static inline void test_fill(uint8_t *p, size_t n, uint32_t *s)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)test_rand(s);
}

/*
 * Run a shell command and parse its stdout as hex (openssl kdf prints
 * "AB:CD:..."; `xxd -p` prints plain hex).  Returns the byte count, or -1 if
 * the command failed.
 */
static inline int run_hex(const char *cmd, uint8_t *out, size_t cap)
{
	char text[8192];
	size_t got;
	FILE *f = popen(cmd, "r");

	if (!f)
		return -1;
	got = fread(text, 1, sizeof(text) - 1, f);
	text[got] = '\0';
	if (pclose(f) != 0)
		return -1;
	return (int)unhex(text, out, cap);
}

/* Worked-example inputs: X25519 keys 0x00..0x1f (A) and 0x20..0x3f (B), nonces 0xaa/0xbb. */
static inline void t214_inputs(uint8_t priv_a[32], uint8_t priv_b[32], uint8_t n_a[32],
			       uint8_t n_b[32])
{
	for (int i = 0; i < 32; i++) {
		priv_a[i] = (uint8_t)i;
		priv_b[i] = (uint8_t)(0x20 + i);
	}
	memset(n_a, 0xaa, 32);
	memset(n_b, 0xbb, 32);
}

static const uint8_t t214_transcript[] = {0x45, 0x03, 0x23, 0x45, 0x04, 0x01, 0x23};

#endif
