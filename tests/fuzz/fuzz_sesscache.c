/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the session cache (RFC 8548 §3.5): the input is a
 * program of operations on two hosts' caches -- inserts, offers, answers,
 * flushes -- where the passive side's accept and the active side's answer
 * also get attacker-chosen suboption bytes.  Beyond memory safety it checks
 * that the cache never exceeds its capacity, that a secret is handed out only
 * to a suboption that carries its identifier half, and that both ends of a
 * genuine exchange agree on ss[i] and sn[i].
 */
#include <stdlib.h>
#include <string.h>
#include "core/err.h"
#include "core/kdf.h"
#include "core/sesscache.h"

#define NSLOTS 4

struct input {
	const uint8_t *p;
	size_t n;
};

static uint8_t next(struct input *in)
{
	if (!in->n)
		return 0;
	in->n--;
	return *in->p++;
}

/* Deterministic "randomness", so that crashes reproduce. */
static int fuzz_rand(void *ctx, uint8_t *buf, size_t len)
{
	uint64_t *s = ctx;

	for (size_t i = 0; i < len; i++) {
		*s = *s * 6364136223846793005ull + 1442695040888963407ull;
		buf[i] = (uint8_t)(*s >> 56);
	}
	return TC_OK;
}

#define require(c)                                                                                 \
	do {                                                                                       \
		if (!(c))                                                                          \
			abort();                                                                   \
	} while (0)

/* One offer by X and, if Y agreed, Y's answer to it. */
struct slot {
	struct tc_sc_ticket offer, accepted;
	uint8_t so[TC_SC_SUBOPT_MAX], ans[TC_SC_SUBOPT_MAX];
	size_t so_len, ans_len;
	bool offered, answered;
};

static void check_pair(const struct tc_sc_ticket *a, const struct tc_sc_ticket *b)
{
	uint8_t sn_a[TC_SN_MAX], sn_b[TC_SN_MAX];
	size_t la = tc_sc_ticket_sn(a, sn_a), lb = tc_sc_ticket_sn(b, sn_b);

	require(a->complete && b->complete);
	require(!memcmp(a->ss, b->ss, TC_K_LEN) && a->index == b->index);
	require(la == lb && !memcmp(sn_a, sn_b, la));
	require(a->ref.orig_role != b->ref.orig_role);
}

static void run(struct input *in)
{
	struct tc_sesscache *c[2] = {NULL, NULL};
	struct tc_peer peer[2] = {{2, 4, {198, 18, 0, 1}}, {2, 4, {198, 18, 0, 2}}};
	uint8_t cfg_byte = next(in), ss[TC_K_LEN];
	uint64_t rng = cfg_byte;
	struct tc_sc_config cfg = {1 + cfg_byte % 6, cfg_byte % 9, fuzz_rand, &rng};
	static struct slot slot[NSLOTS];

	memset(slot, 0, sizeof(slot));
	if (tc_sc_new(&c[0], &cfg) || tc_sc_new(&c[1], &cfg))
		goto out;
	/* X was A and Y was B in one fresh session. */
	memset(ss, next(in), sizeof(ss));
	require(!tc_sc_insert(c[0], &peer[1], ENO_ROLE_A, 0x23, 1, ss, 1, 0, NULL));
	require(!tc_sc_insert(c[1], &peer[0], ENO_ROLE_B, 0x23, 1, ss, 1, 0, NULL));
	while (in->n) {
		uint8_t op = next(in), arg = next(in);
		struct slot *s = &slot[arg % NSLOTS];
		int h = arg >> 7; /* which host */
		uint8_t buf[32], answer[TC_SC_SUBOPT_MAX];
		struct tc_sc_ticket t;
		size_t len, ans_len;
		int r;

		switch (op % 8) {
		case 0: /* a fresh session with some peer */
			memset(ss, next(in), sizeof(ss));
			peer[!h].id[3] = 1 + !h + (next(in) & 4);
			r = tc_sc_insert(c[h], &peer[!h], ENO_ROLE_A + ((arg >> 1) & 1),
					 0x21 + (arg >> 2) % 4, 1, ss, 1, (arg >> 4) & 3, NULL);
			require(r == TC_OK);
			peer[!h].id[3] = 1 + !h;
			break;
		case 1: /* X offers to Y */
			tc_sc_ticket_wipe(&s->offer);
			r = tc_sc_offer(c[0], &peer[1], 0x21 + (arg >> 2) % 4, 0, s->so, &s->so_len,
					&s->offer);
			require(r == TC_SC_NONE || r == TC_SC_RESUME);
			s->offered = r == TC_SC_RESUME;
			s->answered = false;
			break;
		case 2: /* Y gets attacker bytes */
			len = next(in) % sizeof(buf);
			for (size_t i = 0; i < len; i++)
				buf[i] = next(in);
			r = tc_sc_accept(c[1], &peer[0], buf, len, arg & 1 ? TC_SC_NO_RESUME : 0,
					 answer, &ans_len, &t);
			require(r == TC_SC_NONE || r == TC_SC_RESUME);
			if (r == TC_SC_RESUME)
				require(t.complete && len >= 10 &&
					!memcmp(buf + 1, t.peer_half, TC_RESUME_HALF_LEN) &&
					answer[0] == (buf[0] | 0x80));
			tc_sc_ticket_wipe(&t);
			break;
		case 3: /* Y gets X's offer, maybe altered in one byte */
			if (!s->offered)
				break;
			len = next(in);
			memcpy(buf, s->so, s->so_len);
			buf[len % s->so_len] ^= next(in);
			tc_sc_ticket_wipe(&s->accepted);
			r = tc_sc_accept(c[1], &peer[0], buf, s->so_len, 0, s->ans, &s->ans_len,
					 &s->accepted);
			require(r == TC_SC_NONE || r == TC_SC_RESUME);
			s->answered = r == TC_SC_RESUME && !memcmp(buf, s->so, s->so_len);
			break;
		case 4: /* X gets Y's genuine answer */
			if (!s->answered || s->offer.complete)
				break;
			r = tc_sc_answer(&s->offer, s->ans, s->ans_len);
			require(r == TC_SC_RESUME);
			check_pair(&s->offer, &s->accepted);
			break;
		case 5: /* X gets attacker bytes as the answer */
			if (!s->offered || s->offer.complete)
				break;
			len = next(in) % sizeof(buf);
			for (size_t i = 0; i < len; i++)
				buf[i] = next(in);
			r = tc_sc_answer(&s->offer, buf, len);
			require(r == TC_SC_NONE || r == TC_SC_RESUME);
			if (r == TC_SC_RESUME)
				require(len >= 10 && len <= TC_SC_SUBOPT_MAX &&
					!memcmp(buf + 1, s->offer.peer_half, TC_RESUME_HALF_LEN));
			break;
		case 6:
			tc_sc_flush(c[h], h ? &s->accepted.ref : &s->offer.ref);
			break;
		case 7:
			if (arg == 0xff) {
				tc_sc_flush_all(c[h]);
			} else if (s->offered) {
				/*
				 * The agent's path: a secret of the chain taken in
				 * advance (tc_sc_take), then its suboption as it
				 * went on the wire, cut short or altered.
				 */
				uint8_t so2[TC_SC_SUBOPT_MAX];
				size_t l2, cut, at = 0;
				bool altered = false;
				int e;

				r = tc_sc_take(c[0], &s->offer.ref, so2, &l2, &t);
				require(r == TC_SC_NONE || r == TC_SC_RESUME);
				if (r != TC_SC_RESUME) {
					tc_sc_ticket_wipe(&t);
					break;
				}
				require(l2 == 1 + TC_RESUME_HALF_LEN + cfg.nonce_len &&
					so2[0] == (s->offer.ref.tep | 0x80));
				cut = next(in) % (l2 + 2);
				memcpy(buf, so2, l2);
				buf[l2] = next(in);
				if (arg & 1) {
					at = next(in) % l2;
					buf[at] ^= 1 + next(in) % 255;
					altered = at < cut;
				}
				e = tc_sc_ticket_sent(&t, buf, cut);
				require((e == TC_OK) == (!altered && cut >= 10 && cut <= l2));
				if (e == TC_OK)
					require(t.nonce_len[tc_role_idx(t.ref.orig_role)] ==
						cut - 10);
				tc_sc_ticket_wipe(&t);
			}
			break;
		}
		require(tc_sc_count(c[0]) <= cfg.capacity && tc_sc_count(c[1]) <= cfg.capacity);
	}
out:
	for (int i = 0; i < NSLOTS; i++) {
		tc_sc_ticket_wipe(&slot[i].offer);
		tc_sc_ticket_wipe(&slot[i].accepted);
	}
	tc_sc_free(c[0]);
	tc_sc_free(c[1]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = {data, size};

	run(&in);
	return 0;
}
