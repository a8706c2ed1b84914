/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the connection state machine: arbitrary peer stream
 * bytes, cut at input-chosen points, with or without a TCP FIN, fed to a
 * fresh host A (expects Init2), a fresh host B (expects Init1) or a resumed
 * session (frames from offset 0).  Checks memory safety, that an error
 * sticks, and that no plaintext comes out of bytes nobody encrypted.
 */
#include <stdlib.h>
#include <string.h>
#include "core/conn.h"
#include "core/err.h"
#include "core/tep.h"

#define require(c)                                                                                 \
	do {                                                                                       \
		if (!(c))                                                                          \
			abort();                                                                   \
	} while (0)

static int new_conn(struct tc_conn **c, uint8_t mode)
{
	static const uint8_t tr[] = {0x45, 0x03, 0x23, 0x45, 0x04, 0x01, 0x23};
	struct tc_conn_config cfg = {.max_frame_data = 1 + mode % 64};
	struct tc_eno_result eno = {.role = ENO_ROLE_A + (mode & 1),
				    .tep_byte = TC_TEP_X25519,
				    .transcript = tr,
				    .transcript_len = sizeof(tr)};
	struct tc_sc_ticket t = {
	    .ref = {.chain = 1, .tep = TC_TEP_X25519}, .aead = 0x0001, .complete = true};

	if (mode & 2) {
		/* resumed: the ticket a cache would have produced (fixed secret) */
		t.ref.orig_role = ENO_ROLE_A + (mode >> 2 & 1);
		memset(t.ss, 0x5a, sizeof(t.ss));
		eno.tep_byte |= TC_TEP_V_BIT;
		eno.ticket = &t;
	}
	return tc_conn_new(c, &cfg, &eno);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t mode, cuts, out[2048], plain[2048];
	struct tc_conn *c = NULL;
	int err = TC_OK;
	size_t off = 0;

	if (size < 2)
		return 0;
	mode = data[0];
	cuts = data[1];
	data += 2;
	size -= 2;
	require(new_conn(&c, mode) == TC_OK);
	while (off < size || (mode & 8)) {
		size_t len = 1 + (cuts = cuts * 37 + 11) % 97;
		bool fin = (mode & 8) && off + len >= size;
		int r;

		len = off + len > size ? size - off : len;
		r = tc_conn_input(c, data + off, len, fin);
		if (r < 0) {
			/* sticky, and nothing readable after an abort */
			require(tc_conn_input(c, data, 0, false) == r);
			require(tc_conn_read(c, plain, sizeof(plain)) == r);
			err = r;
			break;
		}
		require(r > 0 || len == 0); /* nothing to read, so all input is taken */
		off += r;
		/* Whatever the peer claims, only our own Init or frames come out. */
		while ((r = tc_conn_output(c, out, sizeof(out))) > 0)
			;
		require(r == 0 || r == tc_conn_error(c));
		/* Nobody holds the peer's keys here: no plaintext can authenticate. */
		require(tc_conn_read(c, plain, sizeof(plain)) <= 0);
		if (fin)
			break;
	}
	require(tc_conn_error(c) == err);
	tc_conn_free(c);
	return 0;
}
