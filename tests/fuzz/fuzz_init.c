/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the Init1/Init2 decoder (RFC 8548 §4.1) and the peer
 * public-key validation behind it (§5).  Checks that every prefix of the
 * input gets a consistent answer from the incremental decoder, that a
 * decoded message re-encodes to the bytes it came from, and that deriving ES
 * from its public key never misbehaves.
 */
#include <stdlib.h>
#include <string.h>
#include "core/err.h"
#include "core/init.h"
#include "core/tep.h"
#include "fuzz_common.h"

/* One fixed key pair per TEP, made once: key generation is not under test. */
static struct tc_tep_key own[4];

static int decode(bool init2, const struct tc_tep *tep, const uint8_t *in, size_t len, size_t *need,
		  struct tc_init1 *i1, struct tc_init2 *i2)
{
	return init2 ? tc_init2_decode(tep, in, len, i2, need)
		     : tc_init1_decode(tep, in, len, i1, need);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct tc_init1 i1;
	static struct tc_init2 i2;
	static uint8_t re[TC_INIT_OWN_MAX];
	struct tc_tep_key *key;
	const struct tc_tep *tep;
	uint8_t es[TC_TEP_ES_MAX];
	size_t need = 0, len;
	bool init2;
	int r, full;

	if (size < 1)
		return 0;
	tep = tc_tep_find(fuzz_teps[data[0] & 3]);
	key = &own[data[0] & 3];
	init2 = data[0] & 4;
	data++, size--;
	if (!key->pkey && tc_tep_keygen(tep, key))
		abort();

	full = decode(init2, tep, data, size, &need, &i1, &i2);
	/* Any prefix: the same error, or NEED_MORE with a target beyond the prefix. */
	for (len = 0; len < size; len += 1 + len / 4) {
		r = decode(init2, tep, data, len, &need, &i1, &i2);
		if (r == TC_E_NEED_MORE) {
			if (need <= len)
				abort();
		} else if (r != full) {
			abort();
		}
	}
	full = decode(init2, tep, data, size, &need, &i1, &i2);
	if (full < 0)
		return 0;
	if ((size_t)full > size || full > (int)TC_INIT_MAX_LEN)
		abort();
	r = init2 ? tc_init2_encode(&i2, re, sizeof(re)) : tc_init1_encode(&i1, re, sizeof(re));
	/* Re-encoding drops only the ignored bytes at the end (§4.1). */
	if (r < 0 || r > full || memcmp(re + 8, data + 8, r - 8) != 0)
		abort();
	r = tc_tep_derive(key, init2 ? i2.pub : i1.pub, init2 ? i2.pub_len : i1.pub_len, es);
	if (r != TC_OK && r != TC_E_BAD_KEY)
		abort();
	return 0;
}
