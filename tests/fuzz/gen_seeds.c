/* SPDX-License-Identifier: MIT */
/*
 * Writes the seed corpora of fuzz_init and fuzz_frame (layouts in
 * fuzz_common.h): valid Init1/Init2 messages for every TEP and valid frame
 * streams for every AEAD.  Run once; the output is committed.
 *
 *   cc -std=gnu11 -Iinclude -Iagent -o build/gen_seeds tests/fuzz/gen_seeds.c \
 *      build/libtccore.a -lcrypto
 *   build/gen_seeds tests/fuzz/corpus
 *
 * The frame streams depend on the key direction of ENO_ROLE_A and are
 * byte-identical whatever the roles' numeric encoding; the Init messages
 * carry fresh random keys on every run.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/err.h"
#include "core/frame.h"
#include "core/init.h"
#include "fuzz_common.h"

static void put(const char *dir, const char *name, uint8_t sel, const uint8_t *p, size_t n)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(&sel, 1, 1, f) != 1 || fwrite(p, 1, n, f) != n || fclose(f)) {
		perror(path);
		exit(1);
	}
}

static void init_seeds(const char *dir)
{
	static const uint16_t ciphers[] = {TC_AEAD_AES_128_GCM, TC_AEAD_CHACHA20_POLY1305, 0x7777};

	for (int t = 0; t < 4; t++) {
		const struct tc_tep *tep = tc_tep_find(fuzz_teps[t]);
		struct tc_init1 i1 = {.nciphers = 1 + t % 3};
		struct tc_init2 i2 = {.cipher = TC_AEAD_AES_128_GCM};
		struct tc_tep_key key;
		uint8_t msg[TC_INIT_OWN_MAX + 8];
		char name[64];
		int n;

		if (tc_tep_keygen(tep, &key))
			exit(1);
		memcpy(i1.ciphers, ciphers, sizeof(ciphers));
		memset(i1.nonce, 0xaa, sizeof(i1.nonce));
		memset(i2.nonce, 0xbb, sizeof(i2.nonce));
		i1.pub_len = i2.pub_len = tc_tep_pub_encode(&key, i1.pub, sizeof(i1.pub));
		memcpy(i2.pub, i1.pub, i1.pub_len);
		n = tc_init1_encode(&i1, msg, sizeof(msg));
		snprintf(name, sizeof(name), "init1-%02x", tep->id);
		put(dir, name, t, msg, n);
		n = tc_init2_encode(&i2, msg, sizeof(msg));
		snprintf(name, sizeof(name), "init2-%02x", tep->id);
		put(dir, name, 4 | t, msg, n);
		/* The same Init2 with 8 ignored bytes, as a future sender might add (§4.1). */
		memset(msg + n, 0x55, 8);
		msg[7] += 8;
		snprintf(name, sizeof(name), "init2-%02x-ignored", tep->id);
		put(dir, name, 4 | t, msg, n + 8);
		tc_tep_key_free(&key);
	}
}

static void frame_seeds(const char *dir)
{
	static uint8_t stream[4096];
	static const char text[] = "tcpcrypt frames: rekey, urgent data, end of stream";

	for (int a = 0; a < 3; a++) {
		const struct tc_aead_alg *alg = tc_aead_find(fuzz_aeads[a]);
		struct tc_frame_enc enc;
		char name[64];
		size_t n = 0;

		if (tc_frame_enc_init(&enc, alg, FUZZ_MK0, ENO_ROLE_A, 0))
			exit(1);
		n += tc_frame_seal(&enc, (const uint8_t *)text, 8, 0, 0, stream + n, 4096 - n);
		tc_frame_enc_rekey(&enc);
		n += tc_frame_seal(&enc, NULL, 0, 0, 0, stream + n, 4096 - n);
		n += tc_frame_seal(&enc, (const uint8_t *)text + 8, 20, TC_FRAME_URGP, 3,
				   stream + n, 4096 - n);
		n += tc_frame_seal(&enc, (const uint8_t *)text + 28, sizeof(text) - 28,
				   TC_FRAME_FINP, 0, stream + n, 4096 - n);
		tc_frame_enc_free(&enc);
		snprintf(name, sizeof(name), "stream-%04x", alg->id);
		put(dir, name, a, stream, n);
	}
}

int main(int argc, char **argv)
{
	char dir[512];

	if (argc != 2) {
		fprintf(stderr, "usage: gen_seeds CORPUS_DIR\n");
		return 2;
	}
	snprintf(dir, sizeof(dir), "%s/fuzz_init", argv[1]);
	init_seeds(dir);
	snprintf(dir, sizeof(dir), "%s/fuzz_frame", argv[1]);
	frame_seeds(dir);
	return 0;
}
