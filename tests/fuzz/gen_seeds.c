/* SPDX-License-Identifier: MIT */
/*
 * Writes the seed corpora of fuzz_init, fuzz_frame and fuzz_auth (layouts
 * in fuzz_common.h): valid Init1/Init2 messages for every TEP, valid frame
 * streams for every AEAD, and every tcpcrypt-auth message as the genuine
 * peer sends it.  Run once; the output is committed.
 *
 *   cc -std=gnu11 -Iagent -Iinclude -o build/gen_seeds tests/fuzz/gen_seeds.c \
 *	build/libtccore.a build/libtcpcrypt.a -lcrypto
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
#include "tcpcrypt/auth.h"
#include "tcpcrypt/tcpcrypt.h"
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

static void auth_seeds(const char *dir)
{
	static const char *const names[4] = {"psk-proof", "psk-result", "ed25519-proof",
					     "ed25519-result"};
	struct tcpcrypt_auth *psk = tcpcrypt_auth_psk(FUZZ_PSK, sizeof(FUZZ_PSK), NULL);
	struct tcpcrypt_auth *sig = fuzz_ed_cred(FUZZ_ED_PRIV, 1);
	struct tcpcrypt_auth *ver = fuzz_ed_cred(FUZZ_ED_PUB, 0);

	for (int sel = 0; sel < 4; sel++)
		for (int rx = 0; rx < 2; rx++) {
			/* the sender has the other role: tx = !rx */
			const struct tcpcrypt_auth *tx = sel < 2 ? psk : sel == 2 ? sig : ver;
			unsigned char m[TCPCRYPT_AUTH_MSG_MAX];
			char name[64];
			int n = sel == 0 || sel == 2
				    ? tcpcrypt_auth_proof(tx, FUZZ_SID, !rx, m, sizeof(m))
				    : tcpcrypt_auth_result(tx, FUZZ_SID, !rx, 0, m, sizeof(m));

			if (n <= 0)
				exit(1);
			snprintf(name, sizeof(name), "%s-to-%c", names[sel], rx ? 'b' : 'a');
			put(dir, name, sel | rx << 2, m, n);
			if (sel & 1) { /* a rejection */
				n = tcpcrypt_auth_result(tx, FUZZ_SID, !rx, TCPCRYPT_AUTH_ESESSID,
							 m, sizeof(m));
				snprintf(name, sizeof(name), "%s-reject-to-%c", names[sel],
					 rx ? 'b' : 'a');
				put(dir, name, sel | rx << 2, m, n);
			}
		}
	put(dir, "not-auth", 0, (const uint8_t *)"GET / HTTP/1.1\r\n", 16);
	{
		/* a batch signature alone in its batch, to each role */
		struct tcpcrypt_auth *bs = fuzz_ed_cred(FUZZ_ED_PRIV, 2);
		unsigned char m[TCPCRYPT_AUTH_MSG_MAX];

		for (int rx = 0; rx < 2; rx++) {
			int n = tcpcrypt_auth_proof(bs, FUZZ_SID, !rx, m, sizeof(m));

			if (n <= 0)
				exit(1);
			put(dir, rx ? "ed25519-batch-proof-to-b" : "ed25519-batch-proof-to-a",
			    2 | rx << 2, m, n);
		}
		tcpcrypt_auth_free(bs);
	}
	{
		/* SPAKE2: a SHARE and (for the parser; its state is gone) a PROOF, to each role */
		struct tcpcrypt_auth *pw = tcpcrypt_auth_password(FUZZ_PSK, sizeof(FUZZ_PSK), NULL);
		unsigned char m[TCPCRYPT_AUTH_MSG_MAX], s2[TCPCRYPT_AUTH_MSG_MAX],
		    f[TCPCRYPT_AUTH_MSG_MAX];

		for (int rx = 0; rx < 2; rx++) {
			struct tcpcrypt_auth_pake *a = NULL, *b = NULL;
			int n = tcpcrypt_auth_pake_start(pw, FUZZ_SID, !rx, &a, m, sizeof(m));
			int n2 = tcpcrypt_auth_pake_start(pw, FUZZ_SID, rx, &b, s2, sizeof(s2));
			int nf;

			if (n <= 0 || n2 <= 0)
				exit(1);
			put(dir, rx ? "spake2-share-to-b" : "spake2-share-to-a", 8 | rx << 2, m, n);
			nf = tcpcrypt_auth_pake_proof(a, s2, n2, f, sizeof(f));
			if (nf <= 0)
				exit(1);
			put(dir, rx ? "spake2-proof-to-b" : "spake2-proof-to-a", 9 | rx << 2, f,
			    nf);
			tcpcrypt_auth_pake_free(a);
			tcpcrypt_auth_pake_free(b);
		}
		tcpcrypt_auth_free(pw);
	}
	{
		/* X.509: the CERT of the single and the batch signer, to each role */
		static unsigned char m[TCPCRYPT_AUTH_CERT_MSG_MAX];

		for (int b = 0; b < 2; b++) {
			struct tcpcrypt_auth *xs = fuzz_x509_cred(1 + b);

			for (int rx = 0; rx < 2; rx++) {
				char name[64];
				int n = tcpcrypt_auth_cert(xs, FUZZ_SID, !rx, m, sizeof(m));

				if (n <= 0)
					exit(1);
				snprintf(name, sizeof(name), "x509-cert%s-to-%c", b ? "-batch" : "",
					 rx ? 'b' : 'a');
				put(dir, name, 0x40 | b | rx << 2, m, n);
			}
			tcpcrypt_auth_free(xs);
		}
	}
	{
		/* SPAKE2+: each message as the genuine peer sends it, and a verifier file */
		struct tcpcrypt_auth *sp =
		    tcpcrypt_auth_spake2p_password(FUZZ_PSK, sizeof(FUZZ_PSK), NULL);
		char v[TCPCRYPT_AUTH_VERIFIER_MAX];
		int nv = tcpcrypt_auth_make_verifier(FUZZ_PSK, sizeof(FUZZ_PSK), v, sizeof(v));
		struct tcpcrypt_auth *sv = tcpcrypt_auth_verifier(v, nv, NULL);

		if (!sp || !sv)
			exit(1);
		for (int proof = 0; proof < 2; proof++)
			for (int us = 0; us < 2; us++)
				for (int rx = 0; rx < 2; rx++) {
					unsigned char want[2 * TCPCRYPT_AUTH_MSG_MAX];
					struct tcpcrypt_auth_spake2p *st = NULL;
					char name[64];
					int n = fuzz_spake2p_setup(us ? sv : sp, us ? sp : sv, rx,
								   proof, &st, want);

					tcpcrypt_auth_spake2p_free(st);
					if (n <= 0)
						exit(1);
					snprintf(name, sizeof(name), "spake2plus-%s-to-%s-%c",
						 proof ? "proof" : "share",
						 us ? "verifier" : "password", rx ? 'b' : 'a');
					put(dir, name, 0x20 | proof | us << 1 | rx << 2, want, n);
				}
		put(dir, "spake2plus-verifier-file", 0x23, (const uint8_t *)v, nv);
		tcpcrypt_auth_free(sp);
		tcpcrypt_auth_free(sv);
	}
	tcpcrypt_auth_free(psk);
	tcpcrypt_auth_free(sig);
	tcpcrypt_auth_free(ver);
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
	snprintf(dir, sizeof(dir), "%s/fuzz_auth", argv[1]);
	auth_seeds(dir);
	return 0;
}
