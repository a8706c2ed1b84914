/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the TCP-ENO codec (include/eno.h).  The input is a
 * TCP option area.  Each ENO option in it is parsed, negotiated against our
 * own options as host A and as host B, answered with eno_choose() and
 * eno_build_syn(), and every answer is checked against a plain reference
 * written from RFC 8547 §4 and RFC 8548 §3.5 (no bpf_loop contortions), and
 * against invariants: data inside the option, the negotiated TEP listed
 * once by both sides, distinct b bits, the same outcome on both hosts.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "eno.h"

#define ASSERT(x)                                                                                  \
	do {                                                                                       \
		if (!(x))                                                                          \
			__builtin_trap();                                                          \
	} while (0)

/* Our options: as A, all four TEPs with a = 1; as B, b = 1 and a resumption offer. */
static const uint8_t own_a[] = {0x45, 0x07, 0x02, 0x21, 0x22, 0x23, 0x24};
static const uint8_t own_b[] = {0x45, 0x13, 0x01, 0x24, 0x8b, 0xa3, 0x5a, 0x5a, 0x5a, 0x5a,
				0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x21};

/* Our preferences as passive opener, in increasing priority (§4.5). */
static const struct eno_prefs prefs = {.n = 5, .tep = {0x30, 0x21, 0x22, 0x24, 0x23}};

/* Reference SYN-form parser (RFC 8547 §4.4); returns 0 when malformed. */
static int ref_parse(const uint8_t *o, struct eno_syn *p)
{
	unsigned n = o[1], i = 2, have_global = 0;

	memset(p, 0, sizeof(*p));
	if (o[0] != ENO_KIND || n < 2 || n > ENO_OPT_MAX)
		return 0;
	while (i < n) {
		uint8_t c = o[i];
		struct eno_subopt *t = &p->tep[p->ntep];

		if (c < 0x20) { /* §4.2: only the first global suboption counts */
			if (!have_global++)
				p->global = c;
			i++;
			continue;
		}
		p->ntep++;
		if (c < 0x80) {
			t->id = c;
			i++;
		} else if (c < 0xa0) {
			unsigned dlen = (c & 0x1f) + 1;

			if (i + 1 >= n || o[i + 1] < 0xa0 || i + 2 + dlen > n)
				return 0;
			*t = (struct eno_subopt){o[i + 1] & 0x7f, 1, i + 2, dlen};
			i += 2 + dlen;
		} else {
			*t = (struct eno_subopt){c & 0x7f, 1, i + 1, n - i - 1};
			i = n;
		}
	}
	return 1;
}

/* RFC 8548 §3.5: data of a tcpcrypt suboption is none, or 9..17 resumption bytes. */
static int ref_valid_data(const struct eno_subopt *t)
{
	return !t->v || t->len <= 17;
}

static int ref_count(const struct eno_syn *p, uint8_t id, int *last)
{
	int cnt = 0;

	for (int k = 0; k < p->ntep; k++)
		if (p->tep[k].id == id) {
			cnt++;
			*last = k;
		}
	return cnt;
}

/*
 * Reference negotiation (RFC 8547 §4.3, §4.5): walk B's list backwards and
 * take the first tcpcrypt TEP that each side lists once, with valid data.
 */
static int ref_negotiate(const struct eno_syn *local, const struct eno_syn *peer, int need_peer_a,
			 struct eno_result *r)
{
	int lb = local->global & ENO_GOPT_B, pb = peer->global & ENO_GOPT_B;
	const struct eno_syn *a = lb ? peer : local, *b = lb ? local : peer;

	memset(r, 0, sizeof(*r));
	if (!lb == !pb)
		return ENO_FAIL_ROLE;
	if (need_peer_a && !(peer->global & ENO_GOPT_A))
		return ENO_FAIL_APP_AWARE;
	for (int k = b->ntep - 1; k >= 0; k--) {
		uint8_t id = b->tep[k].id;
		int ai = 0, bi = 0;

		if (id < TEP_P256 || id > TEP_X448)
			continue;
		if (ref_count(a, id, &ai) != 1 || ref_count(b, id, &bi) != 1)
			continue;
		if (!ref_valid_data(&a->tep[ai]) || !ref_valid_data(&b->tep[bi]))
			continue;
		r->tep = id;
		r->a_index = ai;
		r->b_index = bi;
		r->v = b->tep[bi].v && b->tep[bi].len >= 9;
		return ENO_OK;
	}
	return ENO_FAIL_NO_TEP;
}

static void check_parsed(const uint8_t *o, const struct eno_syn *p)
{
	ASSERT(p->ntep <= ENO_MAX_TEPS);
	ASSERT(p->global < 0x20);
	for (int k = 0; k < p->ntep; k++) {
		const struct eno_subopt *t = &p->tep[k];

		ASSERT(t->id >= 0x20 && t->id <= 0x7f);
		ASSERT(t->v <= 1);
		if (!t->v) {
			ASSERT(t->off == 0 && t->len == 0);
			continue;
		}
		/* the data follows the TEP byte and stays inside the option */
		ASSERT(t->off >= 3 && t->off + t->len <= o[1]);
		ASSERT((o[t->off - 1] & 0x7f) == t->id && o[t->off - 1] >= 0xa0);
		/* a suboption with data before the last one has a length byte (§4.4) */
		if (t->off + t->len < o[1])
			ASSERT(t->off >= 4 && o[t->off - 2] == (0x80 | (t->len - 1)));
	}
}

static void check_result(const struct eno_syn *local, const struct eno_syn *peer, int need_peer_a,
			 int fail, const struct eno_result *r)
{
	const struct eno_syn *a = r->role == ENO_ROLE_A ? local : peer;
	const struct eno_syn *b = r->role == ENO_ROLE_A ? peer : local;
	struct eno_result ref;
	int dummy;

	ASSERT(fail == r->fail);
	ASSERT(fail == ref_negotiate(local, peer, need_peer_a, &ref));
	ASSERT(r->peer_a == !!(peer->global & ENO_GOPT_A));
	ASSERT(r->role == ((local->global & ENO_GOPT_B) ? ENO_ROLE_B : ENO_ROLE_A));
	if (fail != ENO_OK) {
		ASSERT(fail == ENO_FAIL_ROLE || fail == ENO_FAIL_APP_AWARE ||
		       fail == ENO_FAIL_NO_TEP);
		return;
	}
	ASSERT((local->global ^ peer->global) & ENO_GOPT_B);
	ASSERT(!need_peer_a || r->peer_a);
	ASSERT(r->tep >= TEP_P256 && r->tep <= TEP_X448);
	ASSERT(r->a_index < a->ntep && r->b_index < b->ntep);
	ASSERT(a->tep[r->a_index].id == r->tep && b->tep[r->b_index].id == r->tep);
	ASSERT(ref_count(a, r->tep, &dummy) == 1 && ref_count(b, r->tep, &dummy) == 1);
	ASSERT(r->v == ref.v && r->a_index == ref.a_index && r->b_index == ref.b_index);
	ASSERT(r->tep == ref.tep);
}

/* Negotiate from both hosts' views: the same outcome, opposite roles. */
static void negotiate_both(const struct eno_syn *own, const struct eno_syn *peer)
{
	for (int need_a = 0; need_a < 2; need_a++) {
		struct eno_result r1, r2;
		int f1 = eno_negotiate(own, peer, need_a, &r1);
		int f2 = eno_negotiate(peer, own, 0, &r2);

		check_result(own, peer, need_a, f1, &r1);
		check_result(peer, own, 0, f2, &r2);
		if (f1 == ENO_OK) {
			ASSERT(f2 == ENO_OK && r1.role != r2.role && r1.tep == r2.tep &&
			       r1.v == r2.v && r1.a_index == r2.a_index &&
			       r1.b_index == r2.b_index);
		} else if (f1 != ENO_FAIL_APP_AWARE) {
			ASSERT(f1 == f2);
		}
	}
}

/* Passive opener: choose, build the SYN-ACK option, and it must negotiate our choice. */
static void check_choose(const struct eno_syn *peer)
{
	struct eno_prefs ans = {.n = 1};
	struct eno_optbuf ob;
	struct eno_syn mine;
	struct eno_result r;
	int want = 0, dummy, id = eno_choose(peer, &prefs);

	for (int k = 0; k < prefs.n; k++) {
		uint8_t t = prefs.tep[k];

		if (t >= TEP_P256 && t <= TEP_X448 && ref_count(peer, t, &dummy) == 1 &&
		    ref_valid_data(&peer->tep[dummy]))
			want = t;
	}
	ASSERT(id == want);
	if (!id)
		return;
	ans.tep[0] = id;
	memset(&ob, 0xee, sizeof(ob));
	ASSERT(eno_build_syn(&ob, 1, ENO_GOPT_B, &ans) == 4);
	ASSERT(ob.b[0] == ENO_KIND && ob.b[1] == 4 && ob.b[2] == ENO_GOPT_B && ob.b[3] == id);
	ASSERT(eno_parse_syn(&ob, &mine) == ENO_OK);
	ASSERT(mine.global == ENO_GOPT_B && mine.ntep == 1 && mine.tep[0].id == id);
	if (!(peer->global & ENO_GOPT_B)) {
		ASSERT(eno_negotiate(&mine, peer, 0, &r) == ENO_OK);
		ASSERT(r.role == ENO_ROLE_B && r.tep == id && r.b_index == 0);
	}
}

/* Rebuild an option without data from its parse; the parse must come back the same. */
static void check_rebuild(const struct eno_syn *p)
{
	struct eno_prefs teps = {.n = p->ntep};
	struct eno_optbuf ob;
	struct eno_syn q;

	if (p->ntep > 8)
		return;
	for (int k = 0; k < p->ntep; k++) {
		if (p->tep[k].v)
			return;
		teps.tep[k] = p->tep[k].id;
	}
	ASSERT(eno_build_syn(&ob, 1, p->global, &teps) == 3 + p->ntep);
	ASSERT(eno_parse_syn(&ob, &q) == ENO_OK);
	ASSERT(q.global == p->global && q.ntep == p->ntep);
	for (int k = 0; k < p->ntep; k++)
		ASSERT(q.tep[k].id == p->tep[k].id && !q.tep[k].v);
}

/*
 * Resumption (RFC 8548 §3.5): as host B, the identifier half of the
 * peer's suboption for each TEP, against the reference; as host A, with
 * the peer's option as a SYN-ACK to our resumption offer (own_b's TEP
 * 0x23 and a half taken from the input), the answer is accepted exactly
 * when v = 1 carries that half; and what eno_build_resume writes parses
 * back to the suboption it was given.
 */
static void check_resume(const struct eno_optbuf *ob, const struct eno_syn *p)
{
	struct eno_rsopt rs = {.tep = 0x23, .nonce_len = ob->b[2] % 9};
	struct eno_optbuf out, a_opt = {{0}};
	struct eno_syn a, q;
	struct eno_rshalf h, want;
	struct eno_result r;

	for (uint8_t t = 0x20; t <= 0x25; t++) {
		int idx = -1, n = ref_count(p, t, &idx), exp;

		exp = t >= TEP_P256 && t <= TEP_X448 && n == 1 && p->tep[idx].v &&
		      p->tep[idx].len >= 9 && p->tep[idx].len <= 17;
		memset(&h, 0, sizeof(h));
		ASSERT(eno_resume_half(ob, p, t, &h) == exp);
		if (exp)
			ASSERT(!memcmp(h.b, ob->b + p->tep[idx].off, 9));
	}
	memcpy(rs.half, ob->b + 3, 9);
	memcpy(rs.nonce, ob->b + 12, 8);
	memset(out.b, 0xee, sizeof(out.b));
	ASSERT(eno_build_resume(&out, 0, 0, &rs) == 12 + rs.nonce_len);
	ASSERT(eno_parse_syn(&out, &q) == ENO_OK && q.ntep == 1 && q.tep[0].id == 0x23 &&
	       q.tep[0].v && q.tep[0].len == 9 + rs.nonce_len &&
	       !memcmp(out.b + q.tep[0].off, rs.half, 9) &&
	       !memcmp(out.b + q.tep[0].off + 9, rs.nonce, rs.nonce_len));
	/* the peer's option as B's answer to A's offer out (expected half: the input's) */
	memcpy(a_opt.b, out.b, out.b[1]);
	memcpy(want.b, ob->b + 3, 9);
	if (eno_complete(&a_opt, &a, p, 0, &r) != ENO_OK)
		return;
	{
		const struct eno_subopt *s = &p->tep[r.b_index];
		int match = r.v && !memcmp(ob->b + s->off, want.b, 9);
		int f = eno_resume_check(ob, p, &r, 0x23, &want);

		ASSERT(r.tep == 0x23);
		ASSERT(f == (!r.v || match ? ENO_OK : ENO_FAIL_RESUME));
		ASSERT(eno_resume_check(ob, p, &r, 0, NULL) == (r.v ? ENO_FAIL_RESUME : ENO_OK));
	}
}

/* The option at o, of which avail bytes are there: its length byte may claim more. */
static void check_option(const uint8_t *o, size_t avail, const struct eno_syn *own_as_a,
			 const struct eno_syn *own_as_b)
{
	struct eno_optbuf ob;
	struct eno_syn p, ref;
	int ok;

	memset(ob.b, 0xee, sizeof(ob.b));
	memcpy(ob.b, o, avail < ENO_OPT_MAX ? avail : ENO_OPT_MAX);
	ok = eno_parse_syn(&ob, &p) == ENO_OK;
	ASSERT(ok == ref_parse(ob.b, &ref));
	if (!ok)
		return;
	check_parsed(ob.b, &p);
	ASSERT(p.global == ref.global && p.ntep == ref.ntep);
	ASSERT(memcmp(p.tep, ref.tep, p.ntep * sizeof(p.tep[0])) == 0);
	negotiate_both(own_as_a, &p);
	negotiate_both(own_as_b, &p);
	check_choose(&p);
	check_rebuild(&p);
	check_resume(&ob, &p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct eno_syn own_as_a, own_as_b;
	struct eno_optbuf area;
	struct eno_scan sc;
	uint32_t optlen = size > 255 ? 255 : size, i = 0, count = 0, first = 0;
	int bad = 0;

	if (!own_as_a.ntep) {
		struct eno_optbuf ob = {{0}};

		memcpy(ob.b, own_a, sizeof(own_a));
		ASSERT(eno_parse_syn(&ob, &own_as_a) == ENO_OK && own_as_a.ntep == 4);
		memcpy(ob.b, own_b, sizeof(own_b));
		ASSERT(eno_parse_syn(&ob, &own_as_b) == ENO_OK && own_as_b.ntep == 3);
	}
	memset(area.b, 0xee, sizeof(area.b));
	memcpy(area.b, data, size < ENO_BUF ? size : ENO_BUF);
	ASSERT(eno_scan_opts(&area, optlen, &sc) == 0);
	if (optlen > ENO_OPT_MAX) {
		ASSERT(sc.bad && !sc.count);
		return 0;
	}

	/* Reference walk of the option list; every ENO option goes through the codec. */
	while (i < optlen && area.b[i] != 0) {
		uint8_t len;

		if (area.b[i] == 1) {
			i++;
			continue;
		}
		if (i + 1 >= optlen || (len = area.b[i + 1]) < 2 || i + len > optlen) {
			bad = 1;
			break;
		}
		if (area.b[i] == ENO_KIND) {
			if (!count++)
				first = i;
			check_option(&area.b[i], len, &own_as_a, &own_as_b);
		}
		i += len;
	}
	ASSERT(sc.bad == bad && sc.count == count);
	if (count)
		ASSERT(sc.off == first && sc.len == area.b[first + 1] &&
		       sc.off + sc.len <= optlen && area.b[sc.off] == ENO_KIND);

	/* The whole input as one option too, so the parser sees any length byte. */
	if (size >= 2 && data[0] == ENO_KIND)
		check_option(data, size, &own_as_a, &own_as_b);
	return 0;
}
