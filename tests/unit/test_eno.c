/* SPDX-License-Identifier: MIT */
/*
 * TCP-ENO option codec and negotiation (include/eno.h) against RFC 8547 §4
 * and the tcpcrypt TEP rules of RFC 8548 §3.2 and §3.5.  Every expected
 * value was written by hand from the RFC text, not taken from the code.
 *
 * TEP ids: the tcpcrypt ones 0x21..0x24 are the only ones we implement;
 * 0x20 (experimental use) and 0x30 stand for TEPs we do not know.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "eno.h"
#include "t.h"

/*
 * An option buffer from hex: "45 04 21 23"; "5a*9" is nine 0x5a bytes.  The
 * rest of the 64-byte buffer is filled with 0xee, which would parse as a TEP
 * with data, so reading past an option's length byte cannot go unnoticed.
 */
static struct eno_optbuf hx(const char *s, uint32_t *lenp)
{
	struct eno_optbuf ob;
	uint32_t n = 0;

	memset(ob.b, 0xee, sizeof(ob.b));
	while (*s) {
		if (isspace((unsigned char)*s)) {
			s++;
		} else if (*s == '*') {
			unsigned long rep = strtoul(s + 1, (char **)&s, 10);

			if (n == 0 || n - 1 + rep > ENO_BUF)
				abort();
			for (; rep > 1; rep--, n++)
				ob.b[n] = ob.b[n - 1];
		} else {
			char byte[3] = {s[0], s[1], 0};

			if (!isxdigit((unsigned char)s[0]) || !isxdigit((unsigned char)s[1]) ||
			    n >= ENO_BUF)
				abort();
			ob.b[n++] = (uint8_t)strtoul(byte, NULL, 16);
			s += 2;
		}
	}
	if (lenp)
		*lenp = n;
	return ob;
}

/* Parse into a struct full of garbage, so that implicit values are checked too. */
static int parse(const char *hex, struct eno_syn *p)
{
	struct eno_optbuf ob = hx(hex, NULL);

	memset(p, 0xa5, sizeof(*p));
	return eno_parse_syn(&ob, p);
}

#define CHECK_SUB(s, id_, v_, off_, len_)                                                          \
	do {                                                                                       \
		CHECK_EQ((s).id, id_);                                                             \
		CHECK_EQ((s).v, v_);                                                               \
		CHECK_EQ((s).off, off_);                                                           \
		CHECK_EQ((s).len, len_);                                                           \
	} while (0)

/* Scan an option area whose length is that of the hex string. */
static void scan(const char *hex, struct eno_scan *sc)
{
	uint32_t n;
	struct eno_optbuf ob = hx(hex, &n);

	memset(sc, 0xa5, sizeof(*sc));
	CHECK_EQ(eno_scan_opts(&ob, n, sc), 0);
}

/* Negotiate from the local host's view; both options must be well formed. */
static int nego(const char *local, const char *peer, int need_peer_a, struct eno_result *r)
{
	struct eno_syn l, p;

	CHECK_EQ(parse(local, &l), ENO_OK);
	CHECK_EQ(parse(peer, &p), ENO_OK);
	memset(r, 0xa5, sizeof(*r));
	return eno_negotiate(&l, &p, need_peer_a, r);
}

/*
 * Negotiate as host A and as host B; both must reach the same outcome, with
 * opposite roles (RFC 8547 §4.3, §4.5).  Returns A's result in *r.
 */
static int nego_both(const char *a, const char *b, struct eno_result *r)
{
	struct eno_result rb;
	int fa = nego(a, b, 0, r), fb = nego(b, a, 0, &rb);

	CHECK_EQ(fa, fb);
	CHECK_EQ(r->fail, fa);
	CHECK_EQ(rb.fail, fb);
	CHECK_EQ(r->tep, rb.tep);
	CHECK_EQ(r->v, rb.v);
	CHECK_EQ(r->a_index, rb.a_index);
	CHECK_EQ(r->b_index, rb.b_index);
	if (fa == ENO_OK) {
		CHECK_EQ(r->role, ENO_ROLE_A);
		CHECK_EQ(rb.role, ENO_ROLE_B);
	}
	return fa;
}

static int choose(const char *peer, const struct eno_prefs *prefs)
{
	struct eno_syn p;

	CHECK_EQ(parse(peer, &p), ENO_OK);
	return eno_choose(&p, prefs);
}

/* ---- Parsing a SYN-form option: RFC 8547 §4.1, §4.2, §4.4 ---- */

T(parse_tep_without_data)
{
	struct eno_syn p;

	CHECK_EQ(parse("45 03 23", &p), ENO_OK);
	CHECK_EQ(p.global, 0x00);
	CHECK_EQ(p.ntep, 1);
	CHECK_SUB(p.tep[0], 0x23, 0, 0, 0);
}

T(parse_global_then_teps)
{
	struct eno_syn p;

	CHECK_EQ(parse("45 05 01 21 24", &p), ENO_OK);
	CHECK_EQ(p.global, 0x01);
	CHECK_EQ(p.ntep, 2);
	CHECK_SUB(p.tep[0], 0x21, 0, 0, 0);
	CHECK_SUB(p.tep[1], 0x24, 0, 0, 0);
}

/* §4.2: no explicit global suboption means an implicit 0x00. */
T(parse_implicit_global_zero)
{
	struct eno_syn p;

	CHECK_EQ(parse("45 04 22 21", &p), ENO_OK);
	CHECK_EQ(p.global, 0x00);
	CHECK_EQ(p.ntep, 2);
	CHECK_SUB(p.tep[0], 0x22, 0, 0, 0);
	CHECK_SUB(p.tep[1], 0x21, 0, 0, 0);
}

/* §4.2: a receiver honours only the first global suboption, wherever it is. */
T(parse_only_first_global_honoured)
{
	struct eno_syn p;

	CHECK_EQ(parse("45 07 03 21 01 1f 22", &p), ENO_OK);
	CHECK_EQ(p.global, 0x03);
	CHECK_EQ(p.ntep, 2);
	CHECK_SUB(p.tep[1], 0x22, 0, 0, 0);

	CHECK_EQ(parse("45 06 21 22 02 01", &p), ENO_OK);
	CHECK_EQ(p.global, 0x02);
	CHECK_EQ(p.ntep, 2);

	/* 0x00 is a global suboption too, and explicit 0x00 wins over a later 0x01 */
	CHECK_EQ(parse("45 05 00 01 23", &p), ENO_OK);
	CHECK_EQ(p.global, 0x00);
	CHECK_EQ(p.ntep, 1);
}

/* §4.4: length byte 1 0 0 nnnnn, then a v = 1 TEP with nnnnn + 1 data bytes. */
T(parse_length_byte_tep_data)
{
	struct eno_syn p;

	CHECK_EQ(parse("45 08 82 a3 aa bb cc 21", &p), ENO_OK);
	CHECK_EQ(p.global, 0x00);
	CHECK_EQ(p.ntep, 2);
	CHECK_SUB(p.tep[0], 0x23, 1, 4, 3);
	CHECK_SUB(p.tep[1], 0x21, 0, 0, 0);

	/* 0x80: one data byte */
	CHECK_EQ(parse("45 06 01 80 a4 07", &p), ENO_OK);
	CHECK_EQ(p.global, 0x01);
	CHECK_EQ(p.ntep, 1);
	CHECK_SUB(p.tep[0], 0x24, 1, 5, 1);
}

/* §4.4: the largest length-byte suboption, 32 data bytes. */
T(parse_length_byte_32)
{
	struct eno_syn p;

	CHECK_EQ(parse("45 25 9f a2 5a*32 21", &p), ENO_OK);
	CHECK_EQ(p.ntep, 2);
	CHECK_SUB(p.tep[0], 0x22, 1, 4, 32);
	CHECK_SUB(p.tep[1], 0x21, 0, 0, 0);
}

/* §4.4: a v = 1 TEP without length byte: its data runs to the end of the option. */
T(parse_v1_data_to_end)
{
	struct eno_syn p;

	/* the 0x01 is data, not a global suboption */
	CHECK_EQ(parse("45 06 21 a3 01 02", &p), ENO_OK);
	CHECK_EQ(p.global, 0x00);
	CHECK_EQ(p.ntep, 2);
	CHECK_SUB(p.tep[0], 0x21, 0, 0, 0);
	CHECK_SUB(p.tep[1], 0x23, 1, 4, 2);

	/* v = 1 as the last byte: zero data bytes */
	CHECK_EQ(parse("45 04 01 a3", &p), ENO_OK);
	CHECK_EQ(p.global, 0x01);
	CHECK_EQ(p.ntep, 1);
	CHECK_SUB(p.tep[0], 0x23, 1, 4, 0);

	/* more than 32 bytes are possible for the last suboption */
	CHECK_EQ(parse("45 28 a4 77*37", &p), ENO_OK);
	CHECK_EQ(p.ntep, 1);
	CHECK_SUB(p.tep[0], 0x24, 1, 3, 37);
}

/* §4.4: a data suboption that is not last needs a length byte, else it swallows the rest. */
T(parse_data_not_last_needs_length_byte)
{
	struct eno_syn p;

	CHECK_EQ(parse("45 06 a3 aa bb 21", &p), ENO_OK);
	CHECK_EQ(p.ntep, 1);
	CHECK_SUB(p.tep[0], 0x23, 1, 3, 3);

	CHECK_EQ(parse("45 07 81 a3 aa bb 21", &p), ENO_OK);
	CHECK_EQ(p.ntep, 2);
	CHECK_SUB(p.tep[0], 0x23, 1, 4, 2);
	CHECK_SUB(p.tep[1], 0x21, 0, 0, 0);

	/* a length-byte suboption, then one running to the end */
	CHECK_EQ(parse("45 07 80 a1 aa a3 bb", &p), ENO_OK);
	CHECK_EQ(p.ntep, 2);
	CHECK_SUB(p.tep[0], 0x21, 1, 4, 1);
	CHECK_SUB(p.tep[1], 0x23, 1, 6, 1);
}

/* RFC 8548 §3.5: a resumption suboption with a 8-byte nonce, length byte 0x90. */
T(parse_resumption_suboption)
{
	struct eno_syn p;

	CHECK_EQ(parse("45 17 01 90 a3 5a*17 21", &p), ENO_OK);
	CHECK_EQ(p.global, 0x01);
	CHECK_EQ(p.ntep, 2);
	CHECK_SUB(p.tep[0], 0x23, 1, 5, 17);
	CHECK_SUB(p.tep[1], 0x21, 0, 0, 0);
}

/* §6 Figure 9, X = 0x21, Y = 0x23: A's ENO<X,Y>, B's ENO<b=1,Y>. */
T(parse_rfc_figure_9)
{
	struct eno_syn p;

	CHECK_EQ(parse("45 04 21 23", &p), ENO_OK);
	CHECK_EQ(p.global, 0x00);
	CHECK_EQ(p.ntep, 2);
	CHECK_SUB(p.tep[0], 0x21, 0, 0, 0);
	CHECK_SUB(p.tep[1], 0x23, 0, 0, 0);

	CHECK_EQ(parse("45 04 01 23", &p), ENO_OK);
	CHECK_EQ(p.global, ENO_GOPT_B);
	CHECK_EQ(p.ntep, 1);
	CHECK_SUB(p.tep[0], 0x23, 0, 0, 0);
}

/* §6 Figure 12, X = 0x21, Y = 0x23, Z = 0x24: ENO<Y,X> and ENO<b=1,X,Y,Z>. */
T(parse_rfc_figure_12)
{
	struct eno_syn p;

	CHECK_EQ(parse("45 04 23 21", &p), ENO_OK);
	CHECK_EQ(p.ntep, 2);
	CHECK_EQ(p.tep[0].id, 0x23);
	CHECK_EQ(p.tep[1].id, 0x21);

	CHECK_EQ(parse("45 06 01 21 23 24", &p), ENO_OK);
	CHECK_EQ(p.global, 0x01);
	CHECK_EQ(p.ntep, 3);
	CHECK_EQ(p.tep[0].id, 0x21);
	CHECK_EQ(p.tep[1].id, 0x23);
	CHECK_EQ(p.tep[2].id, 0x24);
}

/* §4.6: a vacuous option has no TEP suboption; it is well formed. */
T(parse_vacuous)
{
	struct eno_syn p;

	CHECK_EQ(parse("45 02", &p), ENO_OK);
	CHECK_EQ(p.global, 0x00);
	CHECK_EQ(p.ntep, 0);

	CHECK_EQ(parse("45 03 01", &p), ENO_OK);
	CHECK_EQ(p.global, 0x01);
	CHECK_EQ(p.ntep, 0);
}

/*
 * §4.4: ill-formed options and their well-formed neighbours, one row each:
 * a suboption cut off by the end of the option, a length byte claiming data
 * beyond it, a length byte followed by a byte below 0xa0 (not a TEP with
 * v = 1), an option length below 2.
 */
static const struct {
	const char *hex;
	int fail;
} parse_rows[] = {
    {"45 04 21 80", ENO_FAIL_MALFORMED}, /* truncated */
    {"45 03 9f", ENO_FAIL_MALFORMED},
    {"45 06 83 a3 aa bb", ENO_FAIL_MALFORMED}, /* overlong length byte */
    {"45 06 81 a3 aa bb", ENO_OK},	       /* exact fit */
    {"45 06 82 a3 aa bb", ENO_FAIL_MALFORMED},
    {"45 04 80 a3", ENO_FAIL_MALFORMED}, /* zero data, needs 1 */
    {"45 23 9f a3 5a*31", ENO_FAIL_MALFORMED},
    {"45 24 9f a3 5a*32", ENO_OK},
    {"45 05 80 23 aa", ENO_FAIL_MALFORMED}, /* length byte, then a TEP with v = 0 */
    {"45 05 80 01 aa", ENO_FAIL_MALFORMED}, /* ... a global suboption */
    {"45 05 80 9f aa", ENO_FAIL_MALFORMED}, /* ... another length byte */
    {"45 05 80 00 aa", ENO_FAIL_MALFORMED},
    {"45 05 80 a0 aa", ENO_OK},		 /* 0x20 with v = 1 is well formed */
    {"45 00 21 22", ENO_FAIL_MALFORMED}, /* option length below 2 */
    {"45 01 21 22", ENO_FAIL_MALFORMED},
};

T(parse_malformed)
{
	struct eno_syn p;

	for (size_t i = 0; i < sizeof(parse_rows) / sizeof(parse_rows[0]); i++) {
		int before = t_failed_checks;

		CHECK_EQ(parse(parse_rows[i].hex, &p), parse_rows[i].fail);
		if (t_failed_checks != before)
			fprintf(stderr, "    in row: %s\n", parse_rows[i].hex);
	}
	CHECK_EQ(parse("45 05 80 a0 aa", &p), ENO_OK);
	CHECK_EQ(p.ntep, 1);
	CHECK_SUB(p.tep[0], 0x20, 1, 4, 1);
}

/* 40 bytes of option space: 38 one-byte TEPs fill it; ENO_MAX_TEPS is exactly that. */
T(parse_max_size)
{
	struct eno_syn p;
	struct eno_optbuf ob;

	CHECK_EQ(ENO_MAX_TEPS, 38);
	ob = hx("45 28", NULL);
	for (int k = 0; k < 38; k++)
		ob.b[2 + k] = 0x30 + k;
	memset(&p, 0xa5, sizeof(p));
	CHECK_EQ(eno_parse_syn(&ob, &p), ENO_OK);
	CHECK_EQ(p.global, 0x00);
	CHECK_EQ(p.ntep, 38);
	CHECK_SUB(p.tep[0], 0x30, 0, 0, 0);
	CHECK_SUB(p.tep[37], 0x55, 0, 0, 0);

	/* with a global suboption, 37 TEPs */
	ob.b[2] = 0x01;
	CHECK_EQ(eno_parse_syn(&ob, &p), ENO_OK);
	CHECK_EQ(p.global, 0x01);
	CHECK_EQ(p.ntep, 37);
	CHECK_EQ(p.tep[0].id, 0x31);

	/* length-byte data and TEPs up to the last byte */
	CHECK_EQ(parse("45 28 9f a2 5a*32 21 22 23 24", &p), ENO_OK);
	CHECK_EQ(p.ntep, 5);
	CHECK_SUB(p.tep[0], 0x22, 1, 4, 32);
	CHECK_SUB(p.tep[4], 0x24, 0, 0, 0);
}

/* 41 bytes or more do not fit in a TCP header. */
T(parse_over_max_size)
{
	struct eno_syn p;
	struct eno_optbuf ob;

	ob = hx("45 29", NULL);
	for (int k = 0; k < 39; k++)
		ob.b[2 + k] = 0x30 + k;
	CHECK_EQ(eno_parse_syn(&ob, &p), ENO_FAIL_MALFORMED);
	ob.b[1] = 0xff;
	CHECK_EQ(eno_parse_syn(&ob, &p), ENO_FAIL_MALFORMED);
	ob.b[1] = 0x28;
	CHECK_EQ(eno_parse_syn(&ob, &p), ENO_OK);
	CHECK_EQ(p.ntep, 38);
}

T(parse_kind_not_69)
{
	struct eno_syn p;

	CHECK_EQ(parse("fd 04 21 22", &p), ENO_FAIL_MALFORMED); /* legacy experimental 253 */
	CHECK_EQ(parse("44 04 21 22", &p), ENO_FAIL_MALFORMED);
	CHECK_EQ(parse("00 04 21 22", &p), ENO_FAIL_MALFORMED);
}

/* Bytes after the option's length are not part of it (the buffer holds 0xee there). */
T(parse_stops_at_option_length)
{
	struct eno_syn p;

	CHECK_EQ(parse("45 03 21 22 a3 80", &p), ENO_OK);
	CHECK_EQ(p.ntep, 1);
	CHECK_SUB(p.tep[0], 0x21, 0, 0, 0);
	CHECK_EQ(parse("45 04 22 a3 01 02 03", &p), ENO_OK);
	CHECK_SUB(p.tep[1], 0x23, 1, 4, 0);
}

T(parse_null)
{
	struct eno_syn p;
	struct eno_optbuf ob = hx("45 03 21", NULL);

	CHECK_EQ(eno_parse_syn(NULL, &p), ENO_FAIL_MALFORMED);
	CHECK_EQ(eno_parse_syn(&ob, NULL), ENO_FAIL_MALFORMED);
}

/* ---- Scanning a TCP option area: RFC 793 option list, RFC 8547 §4.1 ---- */

/* MSS, SACK-permitted, timestamps, NOP, window scale, then ENO at offset 20. */
T(scan_typical_syn)
{
	struct eno_scan sc;

	scan("02 04 05 b4  04 02  08 0a 00 00 00 01 00 00 00 00  01  03 03 07  45 04 21 23", &sc);
	CHECK_EQ(sc.count, 1);
	CHECK_EQ(sc.off, 20);
	CHECK_EQ(sc.len, 4);
	CHECK_EQ(sc.bad, 0);
}

T(scan_eno_first_and_middle)
{
	struct eno_scan sc;

	scan("45 03 23  02 04 05 b4", &sc);
	CHECK_EQ(sc.count, 1);
	CHECK_EQ(sc.off, 0);
	CHECK_EQ(sc.len, 3);
	CHECK_EQ(sc.bad, 0);

	scan("02 04 05 b4  01 01 01  45 05 01 21 23  04 02  01 03 03 07", &sc);
	CHECK_EQ(sc.count, 1);
	CHECK_EQ(sc.off, 7);
	CHECK_EQ(sc.len, 5);
	CHECK_EQ(sc.bad, 0);
}

/* ENO as the last option of a full 40-byte area. */
T(scan_eno_fills_area)
{
	struct eno_scan sc;

	scan("02 04 05 b4  01 01  45 22 01 21*31", &sc);
	CHECK_EQ(sc.count, 1);
	CHECK_EQ(sc.off, 6);
	CHECK_EQ(sc.len, 34);
	CHECK_EQ(sc.bad, 0);
}

/* §4.1: a SYN with two ENO options; count tells, off/len are the first one's. */
T(scan_two_eno)
{
	struct eno_scan sc;

	scan("45 03 21  01  45 04 01 23", &sc);
	CHECK_EQ(sc.count, 2);
	CHECK_EQ(sc.off, 0);
	CHECK_EQ(sc.len, 3);
	CHECK_EQ(sc.bad, 0);

	scan("02 04 05 b4  45 02  45 02  45 02", &sc);
	CHECK_EQ(sc.count, 3);
	CHECK_EQ(sc.off, 4);
	CHECK_EQ(sc.len, 2);
}

/* End-of-option-list: nothing after it is an option. */
T(scan_eol_before_eno)
{
	struct eno_scan sc;

	scan("02 04 05 b4  00  45 03 21", &sc);
	CHECK_EQ(sc.count, 0);
	CHECK_EQ(sc.bad, 0);

	scan("45 03 21 00 45 03 22", &sc);
	CHECK_EQ(sc.count, 1);
	CHECK_EQ(sc.off, 0);
	CHECK_EQ(sc.bad, 0);
}

T(scan_malformed_list)
{
	struct eno_scan sc;

	scan("02 00 05 b4  45 03 21", &sc); /* option length 0 */
	CHECK_EQ(sc.bad, 1);
	CHECK_EQ(sc.count, 0);

	scan("01 02 01  45 03 21", &sc); /* option length 1 */
	CHECK_EQ(sc.bad, 1);
	CHECK_EQ(sc.count, 0);

	scan("02 04 05", &sc); /* runs past the end */
	CHECK_EQ(sc.bad, 1);

	scan("01 01 02", &sc); /* kind without length byte */
	CHECK_EQ(sc.bad, 1);

	scan("02 04 05 b4  45 06 21 23", &sc); /* the ENO option runs past the end */
	CHECK_EQ(sc.bad, 1);
	CHECK_EQ(sc.count, 0);

	scan("45 01", &sc);
	CHECK_EQ(sc.bad, 1);
	CHECK_EQ(sc.count, 0);
}

/* ENO options before the fault are still reported. */
T(scan_malformed_after_eno)
{
	struct eno_scan sc;

	scan("45 03 21  08 0a 00", &sc);
	CHECK_EQ(sc.count, 1);
	CHECK_EQ(sc.off, 0);
	CHECK_EQ(sc.len, 3);
	CHECK_EQ(sc.bad, 1);
}

T(scan_optlen_limits)
{
	struct eno_scan sc;
	struct eno_optbuf ob = hx("45 03 21 01*37 45 02 01*20", NULL);

	memset(&sc, 0xa5, sizeof(sc));
	CHECK_EQ(eno_scan_opts(&ob, 0, &sc), 0);
	CHECK_EQ(sc.count, 0);
	CHECK_EQ(sc.bad, 0);

	/* 40 bytes: the option at 40 is beyond the area */
	CHECK_EQ(eno_scan_opts(&ob, 40, &sc), 0);
	CHECK_EQ(sc.count, 1);
	CHECK_EQ(sc.off, 0);
	CHECK_EQ(sc.bad, 0);

	/* more than 40 bytes cannot be a TCP option area */
	CHECK_EQ(eno_scan_opts(&ob, 41, &sc), 0);
	CHECK_EQ(sc.count, 0);
	CHECK_EQ(sc.bad, 1);
	CHECK_EQ(eno_scan_opts(&ob, 64, &sc), 0);
	CHECK_EQ(sc.bad, 1);

	/* optlen cuts the area: ENO at 0 needs 3 bytes */
	CHECK_EQ(eno_scan_opts(&ob, 2, &sc), 0);
	CHECK_EQ(sc.count, 0);
	CHECK_EQ(sc.bad, 1);
}

T(scan_only_nops)
{
	struct eno_scan sc;

	scan("01*40", &sc);
	CHECK_EQ(sc.count, 0);
	CHECK_EQ(sc.bad, 0);
}

/* §11: legacy option 253 with ExID 0x454E is not ENO; 0x45 inside options is data. */
T(scan_legacy_253_ignored)
{
	struct eno_scan sc;

	scan("fd 06 45 4e 21 23", &sc);
	CHECK_EQ(sc.count, 0);
	CHECK_EQ(sc.bad, 0);

	scan("fd 06 45 4e 21 23  02 04 45 04  45 03 23", &sc);
	CHECK_EQ(sc.count, 1);
	CHECK_EQ(sc.off, 10);
	CHECK_EQ(sc.len, 3);
	CHECK_EQ(sc.bad, 0);
}

T(scan_null)
{
	struct eno_scan sc;
	struct eno_optbuf ob = hx("45 02", NULL);

	CHECK_EQ(eno_scan_opts(NULL, 2, &sc), -1);
	CHECK_EQ(eno_scan_opts(&ob, 2, NULL), -1);
}

/* ---- Negotiation: RFC 8547 §4.2, §4.3, §4.5; RFC 8548 §3.2, §3.5 ---- */

/* §6 Figure 9: A sends ENO<X,Y> without global, B answers ENO<b=1,Y>; Y wins. */
T(nego_rfc_figure_9)
{
	struct eno_result r;

	CHECK_EQ(nego("45 04 21 23", "45 04 01 23", 0, &r), ENO_OK);
	CHECK_EQ(r.fail, ENO_OK);
	CHECK_EQ(r.role, ENO_ROLE_A);
	CHECK_EQ(r.tep, 0x23);
	CHECK_EQ(r.v, 0);
	CHECK_EQ(r.peer_a, 0);
	CHECK_EQ(r.a_index, 1);
	CHECK_EQ(r.b_index, 0);

	CHECK_EQ(nego("45 04 01 23", "45 04 21 23", 0, &r), ENO_OK);
	CHECK_EQ(r.role, ENO_ROLE_B);
	CHECK_EQ(r.tep, 0x23);
	CHECK_EQ(r.a_index, 1);
	CHECK_EQ(r.b_index, 0);
}

/* §4.3: both b = 0 (default simultaneous open) or both b = 1: no roles. */
T(nego_same_b_bit)
{
	struct eno_result r;

	CHECK_EQ(nego("45 04 21 23", "45 04 23 21", 0, &r), ENO_FAIL_ROLE);
	CHECK_EQ(r.fail, ENO_FAIL_ROLE);
	CHECK_EQ(nego("45 04 00 23", "45 03 23", 0, &r), ENO_FAIL_ROLE);
	CHECK_EQ(nego("45 04 01 23", "45 04 01 23", 0, &r), ENO_FAIL_ROLE);
	CHECK_EQ(r.fail, ENO_FAIL_ROLE);
	/* §8.1: a middlebox echoing our option back breaks role negotiation */
	CHECK_EQ(nego("45 05 03 21 23", "45 05 03 21 23", 0, &r), ENO_FAIL_ROLE);
}

/* §4.2: the z bits are ignored on receipt. */
T(nego_z_bits_ignored)
{
	struct eno_result r;

	CHECK_EQ(nego_both("45 04 1c 22", "45 04 1d 22", &r), ENO_OK);
	CHECK_EQ(r.tep, 0x22);
	CHECK_EQ(r.peer_a, 0);
}

T(nego_no_common_tep)
{
	struct eno_result r;

	CHECK_EQ(nego_both("45 04 21 22", "45 04 01 23", &r), ENO_FAIL_NO_TEP);
	CHECK_EQ(r.tep, 0);
	CHECK_EQ(nego_both("45 03 24", "45 06 01 21 22 23", &r), ENO_FAIL_NO_TEP);
}

/* §4.6: a vacuous option on either side leaves no valid TEP. */
T(nego_vacuous)
{
	struct eno_result r;

	CHECK_EQ(nego_both("45 02", "45 04 01 23", &r), ENO_FAIL_NO_TEP);
	CHECK_EQ(nego_both("45 04 21 23", "45 03 01", &r), ENO_FAIL_NO_TEP);
	CHECK_EQ(nego_both("45 02", "45 03 01", &r), ENO_FAIL_NO_TEP);
}

/* §4.5: only TEPs whose data we can judge are valid; unknown ids never win. */
T(nego_unknown_teps_never_chosen)
{
	struct eno_result r;

	CHECK_EQ(nego_both("45 04 20 30", "45 05 01 20 30", &r), ENO_FAIL_NO_TEP);
	CHECK_EQ(nego_both("45 05 21 20 30", "45 06 01 21 30 20", &r), ENO_OK);
	CHECK_EQ(r.tep, 0x21);
	CHECK_EQ(r.a_index, 0);
	CHECK_EQ(r.b_index, 0);
	CHECK_EQ(nego_both("45 06 7f 25 20 23", "45 07 01 23 25 7f a0", &r), ENO_OK);
	CHECK_EQ(r.tep, 0x23);
	CHECK_EQ(r.a_index, 3);
	CHECK_EQ(r.b_index, 0);
}

/* §6 Figure 12: simultaneous open, A ENO<Y,X>, B ENO<b=1,X,Y,Z>: Y. */
T(nego_rfc_figure_12)
{
	struct eno_result r;

	CHECK_EQ(nego_both("45 04 23 21", "45 06 01 21 23 24", &r), ENO_OK);
	CHECK_EQ(r.tep, 0x23);
	CHECK_EQ(r.a_index, 0);
	CHECK_EQ(r.b_index, 1);
	/* Z unknown to us */
	CHECK_EQ(nego_both("45 04 23 21", "45 06 01 21 23 30", &r), ENO_OK);
	CHECK_EQ(r.tep, 0x23);
}

/* §4.5: the last valid TEP in B's option wins; A's order has no effect. */
T(nego_last_valid_in_b)
{
	struct eno_result r;

	CHECK_EQ(nego_both("45 06 21 22 23 24", "45 05 01 24 21", &r), ENO_OK);
	CHECK_EQ(r.tep, 0x21);
	CHECK_EQ(r.a_index, 0);
	CHECK_EQ(r.b_index, 1);
	CHECK_EQ(nego_both("45 06 24 23 22 21", "45 05 01 24 21", &r), ENO_OK);
	CHECK_EQ(r.tep, 0x21);
	CHECK_EQ(r.a_index, 3);
	CHECK_EQ(r.b_index, 1);
	CHECK_EQ(nego_both("45 06 24 23 22 21", "45 07 01 21 22 23 24", &r), ENO_OK);
	CHECK_EQ(r.tep, 0x24);
	CHECK_EQ(r.a_index, 0);
	CHECK_EQ(r.b_index, 3);
	/* the last in B's list that A does not offer is skipped */
	CHECK_EQ(nego_both("45 04 22 21", "45 06 01 22 21 24", &r), ENO_OK);
	CHECK_EQ(r.tep, 0x21);
	CHECK_EQ(r.b_index, 1);
}

/* §4.5: a repeated TEP is invalid unless its spec gives repetition a meaning; tcpcrypt does not. */
T(nego_repeated_tep_invalid)
{
	struct eno_result r;

	/* repeated in A */
	CHECK_EQ(nego_both("45 05 23 21 23", "45 05 01 21 23", &r), ENO_OK);
	CHECK_EQ(r.tep, 0x21);
	CHECK_EQ(r.a_index, 1);
	CHECK_EQ(r.b_index, 0);
	/* repeated in B */
	CHECK_EQ(nego_both("45 04 21 23", "45 06 01 21 23 23", &r), ENO_OK);
	CHECK_EQ(r.tep, 0x21);
	/* repeated with and without data */
	CHECK_EQ(nego_both("45 04 21 23", "45 08 01 21 80 a3 00 23", &r), ENO_OK);
	CHECK_EQ(r.tep, 0x21);
	/* nothing else in common */
	CHECK_EQ(nego_both("45 04 23 23", "45 04 01 23", &r), ENO_FAIL_NO_TEP);
	CHECK_EQ(nego_both("45 03 23", "45 05 01 23 23", &r), ENO_FAIL_NO_TEP);
}

/* RFC 8548 §3.5: resumption data is 9 to 17 bytes; B's v bit is reported (RFC 8547 §5.1). */
T(nego_resumption_valid)
{
	struct eno_result r;

	/* A: 9-byte identifier half, no nonce; B: 9 bytes + 8-byte nonce */
	CHECK_EQ(nego_both("45 0d 21 a3 5a*9", "45 15 01 a3 6b*17", &r), ENO_OK);
	CHECK_EQ(r.tep, 0x23);
	CHECK_EQ(r.v, 1);
	CHECK_EQ(r.a_index, 1);
	CHECK_EQ(r.b_index, 0);

	/* B's resumption suboption with a length byte, then an unknown TEP */
	CHECK_EQ(nego_both("45 04 23 24", "45 17 01 90 a3 6b*17 30", &r), ENO_OK);
	CHECK_EQ(r.tep, 0x23);
	CHECK_EQ(r.v, 1);
	CHECK_EQ(r.b_index, 0);
}

/* RFC 8548 §3.2: the TEP is chosen without regard to v; B's v = 0 means a fresh exchange. */
T(nego_resumption_declined)
{
	struct eno_result r;

	CHECK_EQ(nego_both("45 0d 21 a3 5a*9", "45 04 01 23", &r), ENO_OK);
	CHECK_EQ(r.tep, 0x23);
	CHECK_EQ(r.v, 0);
	CHECK_EQ(r.a_index, 1);
}

/* RFC 8548 §3.5: v = 1 with fewer than 9 data bytes is treated as v = 0. */
T(nego_resumption_short_is_fresh)
{
	struct eno_result r;

	CHECK_EQ(nego_both("45 03 23", "45 0c 01 a3 6b*8", &r), ENO_OK);
	CHECK_EQ(r.tep, 0x23);
	CHECK_EQ(r.v, 0);
	CHECK_EQ(nego_both("45 03 23", "45 04 01 a3", &r), ENO_OK);
	CHECK_EQ(r.tep, 0x23);
	CHECK_EQ(r.v, 0);
	CHECK_EQ(nego_both("45 03 23", "45 0d 01 a3 6b*9", &r), ENO_OK);
	CHECK_EQ(r.v, 1);
}

/* RFC 8548 §3.5: more than 17 data bytes is not valid tcpcrypt suboption data (§4.5 rule 2). */
T(nego_resumption_too_long_invalid)
{
	struct eno_result r;

	CHECK_EQ(nego_both("45 04 21 23", "45 17 01 21 a3 6b*18", &r), ENO_OK);
	CHECK_EQ(r.tep, 0x21);
	CHECK_EQ(r.b_index, 0);
	CHECK_EQ(r.v, 0);
	CHECK_EQ(nego_both("45 16 21 a3 5a*18", "45 05 01 21 23", &r), ENO_OK);
	CHECK_EQ(r.tep, 0x21);
	CHECK_EQ(nego_both("45 15 a3 5a*18", "45 04 01 23", &r), ENO_FAIL_NO_TEP);
	/* 17 bytes is still fine */
	CHECK_EQ(nego_both("45 14 a3 5a*17", "45 04 01 23", &r), ENO_OK);
	CHECK_EQ(r.tep, 0x23);
}

/* §4.2: the peer's a bit is reported, whatever the role. */
T(nego_peer_a_bit)
{
	struct eno_result r;

	CHECK_EQ(nego("45 04 02 23", "45 04 03 23", 0, &r), ENO_OK);
	CHECK_EQ(r.role, ENO_ROLE_A);
	CHECK_EQ(r.peer_a, 1);
	CHECK_EQ(nego("45 04 01 23", "45 04 02 23", 0, &r), ENO_OK);
	CHECK_EQ(r.role, ENO_ROLE_B);
	CHECK_EQ(r.peer_a, 1);
	CHECK_EQ(nego("45 04 03 23", "45 03 23", 0, &r), ENO_OK);
	CHECK_EQ(r.peer_a, 0); /* our own a bit is not the peer's */
	/* only the first global counts */
	CHECK_EQ(nego("45 03 23", "45 05 01 03 23", 0, &r), ENO_OK);
	CHECK_EQ(r.peer_a, 0);
}

/* §4.2: mandatory application-aware mode disables ENO unless the peer sent a = 1. */
T(nego_mandatory_app_aware)
{
	struct eno_result r;

	CHECK_EQ(nego("45 04 02 23", "45 04 01 23", 1, &r), ENO_FAIL_APP_AWARE);
	CHECK_EQ(r.fail, ENO_FAIL_APP_AWARE);
	CHECK_EQ(nego("45 04 02 23", "45 04 03 23", 1, &r), ENO_OK);
	CHECK_EQ(r.tep, 0x23);
	/* as host B, against the implicit a = 0 of Figure 10's A */
	CHECK_EQ(nego("45 04 03 23", "45 03 23", 1, &r), ENO_FAIL_APP_AWARE);
	CHECK_EQ(nego("45 04 03 23", "45 04 02 23", 1, &r), ENO_OK);
	CHECK_EQ(r.role, ENO_ROLE_B);
	CHECK_EQ(r.peer_a, 1);
}

/* Both hosts must agree on everything but the role, for every pair here. */
T(nego_both_views_agree)
{
	static const char *const pairs[][2] = {
	    {"45 06 21 22 23 24", "45 04 01 22"},
	    {"45 04 02 24", "45 05 03 23 24"},
	    {"45 0e 22 a4 5a*10", "45 11 01 22 8a a4 6b*11"},
	    {"45 07 22 21 24 23 30", "45 07 01 30 23 22 21"},
	};
	struct eno_result r;

	for (size_t k = 0; k < sizeof(pairs) / sizeof(pairs[0]); k++)
		CHECK_EQ(nego_both(pairs[k][0], pairs[k][1], &r), ENO_OK);
	CHECK_EQ(nego_both(pairs[2][0], pairs[2][1], &r), ENO_OK);
	CHECK_EQ(r.tep, 0x24);
	CHECK_EQ(r.v, 1);
	CHECK_EQ(r.a_index, 1);
	CHECK_EQ(r.b_index, 1);
	CHECK_EQ(nego_both(pairs[3][0], pairs[3][1], &r), ENO_OK);
	CHECK_EQ(r.tep, 0x21);
	CHECK_EQ(r.a_index, 1);
	CHECK_EQ(r.b_index, 3);
}

T(nego_null)
{
	struct eno_syn s;
	struct eno_result r;

	CHECK_EQ(parse("45 03 23", &s), ENO_OK);
	CHECK_EQ(eno_negotiate(NULL, &s, 0, &r), ENO_FAIL_MALFORMED);
	CHECK_EQ(eno_negotiate(&s, NULL, 0, &r), ENO_FAIL_MALFORMED);
	CHECK_EQ(eno_negotiate(&s, &s, 0, NULL), ENO_FAIL_MALFORMED);
}

/* ---- The passive opener's choice (§4.5: B should list one, valid TEP) ---- */

/*
 * B's choice (§4.5): the highest-priority TEP of ours (prefs, increasing
 * priority) that A offered validly: listed once, with valid data; only
 * 0x21..0x24 count.
 */
static const struct eno_prefs prefs_3 = {.n = 3, .tep = {0x21, 0x24, 0x23}};
static const struct eno_prefs prefs_unknown = {.n = 3, .tep = {0x22, 0x30, 0x20}};

static const struct {
	const char *peer;
	const struct eno_prefs *prefs;
	int tep;
} choose_rows[] = {
    {"45 06 21 22 23 24", &prefs_3, 0x23}, /* X25519 is the one we like best */
    {"45 06 24 23 22 21", &prefs_3, 0x23},
    {"45 04 21 24", &prefs_3, 0x24},
    {"45 04 24 21", &prefs_3, 0x24},
    {"45 03 21", &prefs_3, 0x21},
    {"45 03 22", &prefs_3, 0},
    {"45 02", &prefs_3, 0},
    {"45 05 24 23 23", &prefs_3, 0x24}, /* a repeated TEP is invalid */
    {"45 04 23 23", &prefs_3, 0},
    {"45 16 24 a3 5a*18", &prefs_3, 0x24}, /* resumption data too long */
    {"45 15 24 a3 5a*17", &prefs_3, 0x23},
    {"45 0b 24 a3 5a*7", &prefs_3, 0x23},     /* short: a fresh offer */
    {"45 05 30 20 22", &prefs_unknown, 0x22}, /* ids we do not implement are skipped */
    {"45 04 30 20", &prefs_unknown, 0},
};

T(choose)
{
	for (size_t i = 0; i < sizeof(choose_rows) / sizeof(choose_rows[0]); i++) {
		int before = t_failed_checks;

		CHECK_EQ(choose(choose_rows[i].peer, choose_rows[i].prefs), choose_rows[i].tep);
		if (t_failed_checks != before)
			fprintf(stderr, "    in row: %s\n", choose_rows[i].peer);
	}
}

T(choose_empty_and_null)
{
	struct eno_prefs none = {.n = 0, .tep = {0x23}};
	struct eno_syn s;

	CHECK_EQ(choose("45 03 23", &none), 0);
	CHECK_EQ(parse("45 03 23", &s), ENO_OK);
	CHECK_EQ(eno_choose(NULL, &none), 0);
	CHECK_EQ(eno_choose(&s, NULL), 0);
}

/* ---- The decisions sock_ops and TC share: eno_peer_syn, eno_answer_syn, eno_complete ---- */

/*
 * The ENO option of a received SYN's option area (the whole area, as hex):
 * exactly one well-formed ENO option (§4.1, §4.4) in a well-formed list.
 */
static const struct {
	const char *area;
	int fail;
	int opt_len; /* of the option copied out, on success */
} peer_syn_rows[] = {
    {"02 04 05 b4 45 03 23 01", ENO_OK, 3},
    {"01 01 45 04 21 23 00 00", ENO_OK, 4},
    {"02 04 05 b4 01 01 01 01", ENO_FAIL_ABSENT, 0},
    {"", ENO_FAIL_ABSENT, 0},
    {"45 03 23 45 03 21 00 00", ENO_FAIL_MULTIPLE, 0},
    {"45 04 21 80", ENO_FAIL_MALFORMED, 0},	       /* ill-formed ENO option */
    {"02 01 45 03 23 00", ENO_FAIL_MALFORMED, 0},      /* bad list before it */
    {"45 03 23 02 01", ENO_FAIL_MALFORMED, 0},	       /* ... after it */
    {"45 03 23 45 03 21 02 01", ENO_FAIL_MULTIPLE, 0}, /* two, then a bad list */
};

T(peer_syn)
{
	for (size_t i = 0; i < sizeof(peer_syn_rows) / sizeof(peer_syn_rows[0]); i++) {
		uint32_t n;
		struct eno_optbuf area = hx(peer_syn_rows[i].area, &n), opt;
		struct eno_scan sc;
		struct eno_syn peer;
		int before = t_failed_checks;

		memset(&sc, 0xa5, sizeof(sc));
		memset(&opt, 0xa5, sizeof(opt));
		CHECK_EQ(eno_peer_syn(&area, n, &sc, &opt, &peer), peer_syn_rows[i].fail);
		if (peer_syn_rows[i].fail == ENO_OK) {
			CHECK_EQ(sc.count, 1);
			CHECK_EQ(opt.b[0], ENO_KIND);
			CHECK_EQ(opt.b[1], peer_syn_rows[i].opt_len);
			CHECK_MEM(opt.b, area.b + sc.off, peer_syn_rows[i].opt_len);
			CHECK_EQ(opt.b[peer_syn_rows[i].opt_len], 0); /* the rest zeroed */
		}
		if (t_failed_checks != before)
			fprintf(stderr, "    in row: %s\n", peer_syn_rows[i].area);
	}
}

/* An option area that could not be read (optlen < 0): malformed, and sc describes nothing. */
T(peer_syn_unreadable_and_null)
{
	struct eno_optbuf area = hx("45 03 23", NULL), opt;
	struct eno_scan sc, zero;
	struct eno_syn peer;

	memset(&sc, 0xa5, sizeof(sc));
	memset(&zero, 0, sizeof(zero));
	CHECK_EQ(eno_peer_syn(&area, -1, &sc, &opt, &peer), ENO_FAIL_MALFORMED);
	CHECK_MEM(&sc, &zero, sizeof(sc));
	CHECK_EQ(eno_peer_syn(NULL, 3, &sc, &opt, &peer), ENO_FAIL_MALFORMED);
	CHECK_EQ(eno_peer_syn(&area, 3, NULL, &opt, &peer), ENO_FAIL_MALFORMED);
	CHECK_EQ(eno_peer_syn(&area, 3, &sc, NULL, &peer), ENO_FAIL_MALFORMED);
	CHECK_EQ(eno_peer_syn(&area, 3, &sc, &opt, NULL), ENO_FAIL_MALFORMED);
}

/*
 * Host B answering A's SYN option (§4.3, §4.5, and the mandatory
 * application-aware mode): the TEP to answer with, or why not, in the
 * order sock_ops counts them (no TEP, then role, then a bit).
 */
static const struct {
	const char *peer;
	int need_peer_a;
	int fail;
	int tep;
} answer_rows[] = {
    {"45 04 21 23", 0, ENO_OK, 0x23},
    {"45 03 24", 0, ENO_OK, 0x24},
    {"45 03 22", 0, ENO_FAIL_NO_TEP, 0},
    {"45 04 23 23", 0, ENO_FAIL_NO_TEP, 0},    /* repeated: invalid */
    {"45 04 01 23", 0, ENO_FAIL_ROLE, 0},      /* A claims b = 1 */
    {"45 04 01 22", 0, ENO_FAIL_NO_TEP, 0},    /* ... and no TEP: no TEP first */
    {"45 04 1d 23", 0, ENO_FAIL_ROLE, 0},      /* b with other bits */
    {"45 04 1c 23", 0, ENO_OK, 0x23},	       /* other bits without b */
    {"45 03 23", 1, ENO_FAIL_APP_AWARE, 0},    /* implicit global: a = 0 */
    {"45 04 02 23", 1, ENO_OK, 0x23},	       /* a = 1 */
    {"45 04 03 23", 1, ENO_FAIL_ROLE, 0},      /* role before the a bit */
    {"45 05 02 20 30", 1, ENO_FAIL_NO_TEP, 0}, /* only TEPs we do not know */
};

T(answer_syn)
{
	for (size_t i = 0; i < sizeof(answer_rows) / sizeof(answer_rows[0]); i++) {
		struct eno_syn peer;
		int before = t_failed_checks;
		__u8 tep = 0xa5;

		CHECK_EQ(parse(answer_rows[i].peer, &peer), ENO_OK);
		CHECK_EQ(eno_answer_syn(&peer, &prefs_3, answer_rows[i].need_peer_a, &tep),
			 answer_rows[i].fail);
		CHECK_EQ(tep, answer_rows[i].tep);
		if (t_failed_checks != before)
			fprintf(stderr, "    in row: %s, need_peer_a %d\n", answer_rows[i].peer,
				answer_rows[i].need_peer_a);
	}
}

T(answer_syn_null)
{
	struct eno_syn peer;
	__u8 tep;

	CHECK_EQ(parse("45 03 23", &peer), ENO_OK);
	CHECK_EQ(eno_answer_syn(NULL, &prefs_3, 0, &tep), ENO_FAIL_MALFORMED);
	CHECK_EQ(eno_answer_syn(&peer, NULL, 0, &tep), ENO_FAIL_MALFORMED);
	CHECK_EQ(eno_answer_syn(&peer, &prefs_3, 0, NULL), ENO_FAIL_MALFORMED);
}

/*
 * Host A: does B's SYN-ACK option complete the offer A sent?  The outcome
 * of eno_negotiate from A's own option bytes, which must parse.
 */
static const struct {
	const char *local, *peer;
	int need_peer_a;
	int fail;
	int tep;
} complete_rows[] = {
    {"45 03 23", "45 04 01 23", 0, ENO_OK, 0x23},
    {"45 04 21 23", "45 04 01 21", 0, ENO_OK, 0x21},
    {"45 05 02 21 23", "45 04 03 23", 0, ENO_OK, 0x23}, /* a = 1 both ways */
    {"45 03 23", "45 03 23", 0, ENO_FAIL_ROLE, 0},	/* b = 0 both */
    {"45 03 23", "45 04 01 21", 0, ENO_FAIL_NO_TEP, 0}, /* B answers a TEP not offered */
    {"45 03 23", "45 05 01 23 23", 0, ENO_FAIL_NO_TEP, 0},
    {"45 03 23", "45 04 01 23", 1, ENO_FAIL_APP_AWARE, 0},
    {"45 03 23", "45 04 03 23", 1, ENO_OK, 0x23},
    {"45 04 21 80", "45 04 01 21", 0, ENO_FAIL_MALFORMED, 0}, /* our own offer does not parse */
};

T(complete)
{
	for (size_t i = 0; i < sizeof(complete_rows) / sizeof(complete_rows[0]); i++) {
		struct eno_optbuf local_opt = hx(complete_rows[i].local, NULL);
		struct eno_syn local, peer;
		struct eno_result r;
		int before = t_failed_checks;

		CHECK_EQ(parse(complete_rows[i].peer, &peer), ENO_OK);
		memset(&r, 0xa5, sizeof(r));
		CHECK_EQ(eno_complete(&local_opt, &local, &peer, complete_rows[i].need_peer_a, &r),
			 complete_rows[i].fail);
		CHECK_EQ(r.fail, complete_rows[i].fail);
		if (complete_rows[i].fail == ENO_OK) {
			CHECK_EQ(r.role, ENO_ROLE_A);
			CHECK_EQ(r.tep, complete_rows[i].tep);
		}
		if (t_failed_checks != before)
			fprintf(stderr, "    in row: %s / %s\n", complete_rows[i].local,
				complete_rows[i].peer);
	}
}

T(complete_null)
{
	struct eno_optbuf local_opt = hx("45 03 23", NULL);
	struct eno_syn local, peer;
	struct eno_result r;

	CHECK_EQ(parse("45 04 01 23", &peer), ENO_OK);
	CHECK_EQ(eno_complete(NULL, &local, &peer, 0, &r), ENO_FAIL_MALFORMED);
	CHECK_EQ(eno_complete(&local_opt, NULL, &peer, 0, &r), ENO_FAIL_MALFORMED);
	CHECK_EQ(eno_complete(&local_opt, &local, NULL, 0, &r), ENO_FAIL_MALFORMED);
	CHECK_EQ(eno_complete(&local_opt, &local, &peer, 0, NULL), ENO_FAIL_MALFORMED);
}

/* ---- Building a SYN-form option ---- */

T(build_with_global)
{
	static const uint8_t want[] = {0x45, 0x04, 0x01, 0x23};
	struct eno_prefs one = {.n = 1, .tep = {0x23}};
	struct eno_optbuf ob = hx("", NULL);
	struct eno_syn p;

	CHECK_EQ(eno_build_syn(&ob, 1, ENO_GOPT_B, &one), 4);
	CHECK_MEM(ob.b, want, sizeof(want));
	CHECK_EQ(eno_parse_syn(&ob, &p), ENO_OK);
	CHECK_EQ(p.global, ENO_GOPT_B);
	CHECK_EQ(p.ntep, 1);
	CHECK_SUB(p.tep[0], 0x23, 0, 0, 0);
}

T(build_without_global)
{
	static const uint8_t want[] = {0x45, 0x06, 0x21, 0x22, 0x23, 0x24};
	struct eno_prefs all = {.n = 4, .tep = {0x21, 0x22, 0x23, 0x24}};
	struct eno_optbuf ob = hx("", NULL);
	struct eno_syn p;

	CHECK_EQ(eno_build_syn(&ob, 0, 0x03, &all), 6);
	CHECK_MEM(ob.b, want, sizeof(want));
	memset(&p, 0xa5, sizeof(p));
	CHECK_EQ(eno_parse_syn(&ob, &p), ENO_OK);
	CHECK_EQ(p.global, 0x00);
	CHECK_EQ(p.ntep, 4);
	for (int k = 0; k < 4; k++)
		CHECK_SUB(p.tep[k], 0x21 + k, 0, 0, 0);
}

/* §4.6: vacuous options; a passive opener's must still carry b = 1. */
T(build_vacuous)
{
	static const uint8_t v0[] = {0x45, 0x02}, v1[] = {0x45, 0x03, 0x01};
	struct eno_prefs none = {.n = 0};
	struct eno_optbuf ob = hx("", NULL);

	CHECK_EQ(eno_build_syn(&ob, 0, 0, &none), 2);
	CHECK_MEM(ob.b, v0, sizeof(v0));
	CHECK_EQ(eno_build_syn(&ob, 1, ENO_GOPT_B, &none), 3);
	CHECK_MEM(ob.b, v1, sizeof(v1));
}

/* Eight TEPs and a global: 11 bytes; more than 8 is refused; global keeps only 5 bits. */
T(build_limits)
{
	struct eno_prefs eight = {.n = 8, .tep = {0x21, 0x22, 0x23, 0x24, 0x20, 0x30, 0x40, 0x7f}};
	struct eno_prefs nine = {.n = 9};
	struct eno_optbuf ob = hx("", NULL);
	struct eno_syn p;

	CHECK_EQ(eno_build_syn(&ob, 1, 0xe3, &eight), 11);
	CHECK_EQ(ob.b[1], 11);
	CHECK_EQ(ob.b[2], 0x03);
	CHECK_EQ(eno_parse_syn(&ob, &p), ENO_OK);
	CHECK_EQ(p.global, 0x03);
	CHECK_EQ(p.ntep, 8);
	CHECK_EQ(p.tep[7].id, 0x7f);
	CHECK_EQ(eno_build_syn(&ob, 0, 0, &nine), 0);
	CHECK_EQ(eno_build_syn(NULL, 0, 0, &eight), 0);
	CHECK_EQ(eno_build_syn(&ob, 0, 0, NULL), 0);
}

/*
 * A full exchange: A's SYN, B's choice, B's SYN-ACK built from it, and
 * negotiation on both hosts reaching B's choice (§4.5, Figure 9).
 */
T(build_choose_negotiate_roundtrip)
{
	struct eno_prefs a_teps = {.n = 3, .tep = {0x21, 0x24, 0x23}};
	struct eno_prefs b_prefs = {.n = 2, .tep = {0x23, 0x24}};
	struct eno_optbuf a_ob = hx("", NULL), b_ob = hx("", NULL);
	struct eno_syn a, b;
	struct eno_prefs ans = {.n = 1};
	struct eno_result ra, rb;

	CHECK_EQ(eno_build_syn(&a_ob, 1, ENO_GOPT_A, &a_teps), 6);
	CHECK_EQ(eno_parse_syn(&a_ob, &a), ENO_OK);
	ans.tep[0] = eno_choose(&a, &b_prefs);
	CHECK_EQ(ans.tep[0], 0x24);
	CHECK_EQ(eno_build_syn(&b_ob, 1, ENO_GOPT_B | ENO_GOPT_A, &ans), 4);
	CHECK_EQ(eno_parse_syn(&b_ob, &b), ENO_OK);
	CHECK_EQ(eno_negotiate(&a, &b, 1, &ra), ENO_OK);
	CHECK_EQ(eno_negotiate(&b, &a, 1, &rb), ENO_OK);
	CHECK_EQ(ra.role, ENO_ROLE_A);
	CHECK_EQ(rb.role, ENO_ROLE_B);
	CHECK_EQ(ra.tep, 0x24);
	CHECK_EQ(rb.tep, 0x24);
	CHECK_EQ(ra.a_index, 1);
	CHECK_EQ(rb.a_index, 1);
	CHECK_EQ(ra.b_index, 0);
	CHECK_EQ(rb.b_index, 0);
	CHECK_EQ(ra.peer_a, 1);
	CHECK_EQ(rb.peer_a, 1);
}

/* TCP Fast Open options (RFC 7413 kind 34; experimental kind 254 + 0xF989), for §4.7. */
T(scan_tfo_option)
{
	static const struct {
		const char *hex;
		unsigned off, len, exp, cookie;
	} cases[] = {
	    {"020405b4", 0, 0, 0, 0},			   /* none */
	    {"020405b42202", 4, 2, 0, 0},		   /* cookie request */
	    {"020405b4220a0102030405060708", 4, 10, 0, 1}, /* 8-byte cookie */
	    {"0101220601020304", 2, 6, 0, 1},		   /* after NOPs */
	    {"fe04f989", 0, 4, 1, 0},			   /* experimental request */
	    {"fe0cf9890102030405060708", 0, 12, 1, 1},	   /* experimental cookie */
	    {"fe06eb9f0102", 0, 0, 0, 0},		   /* kind 254, another magic */
	    {"fe03aa", 0, 0, 0, 0},			   /* kind 254 too short for a magic */
	    {"450323220601020304", 3, 6, 0, 1},		   /* with ENO */
	    {"2202220601020304", 2, 6, 0, 1},		   /* the last one counts */
	    {"2206010203042202", 6, 2, 0, 0},		   /* ... also when it is empty */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct eno_scan sc;

		scan(cases[i].hex, &sc);
		CHECK_EQ(sc.bad, 0);
		CHECK_EQ(sc.tfo_off, cases[i].off);
		CHECK_EQ(sc.tfo_len, cases[i].len);
		CHECK_EQ(sc.tfo_exp, cases[i].exp);
		CHECK_EQ(ENO_TFO_COOKIE(&sc), cases[i].cookie);
	}
}

/* ---- Resumption suboptions on the wire: RFC 8548 §3.5 ---- */

static const struct eno_rsopt RS = {
    .tep = 0x23,
    .nonce_len = 8,
    .half = {0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19},
    .nonce = {0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28},
};

/* A's SYN option: the resumption suboption last, no length byte; B's answer after 01. */
T(build_resume)
{
	struct eno_optbuf ob, want;
	struct eno_rsopt rs = RS;
	struct eno_syn p;
	uint32_t n;

	memset(ob.b, 0xee, sizeof(ob.b));
	CHECK_EQ(eno_build_resume(&ob, 0, 0, &rs), 20);
	want = hx("45 14 a3 11 12 13 14 15 16 17 18 19 21 22 23 24 25 26 27 28", &n);
	CHECK_MEM(ob.b, want.b, n);
	CHECK_EQ(eno_parse_syn(&ob, &p), ENO_OK);
	CHECK_EQ(p.ntep, 1);
	CHECK_SUB(p.tep[0], 0x23, 1, 3, 17);
	CHECK_EQ(eno_build_answer(&ob, ENO_GOPT_B, &rs, 1), 21);
	want = hx("45 15 01 a3 11 12 13 14 15 16 17 18 19 21 22 23 24 25 26 27 28", &n);
	CHECK_MEM(ob.b, want.b, n);
	CHECK_EQ(eno_build_answer(&ob, ENO_GOPT_B | ENO_GOPT_A, &rs, 0), 4);
	want = hx("45 04 03 23", &n);
	CHECK_MEM(ob.b, want.b, n);
	rs.nonce_len = 0; /* a 9-byte suboption is still resumption (§3.5) */
	CHECK_EQ(eno_build_resume(&ob, 1, ENO_GOPT_A, &rs), 13);
	CHECK_EQ(ob.b[2], ENO_GOPT_A);
	CHECK_EQ(eno_parse_syn(&ob, &p), ENO_OK);
	CHECK_SUB(p.tep[0], 0x23, 1, 4, 9);
	/* malformed input: a nonce longer than 8, a TEP we do not know, NULL */
	rs.nonce_len = 9;
	CHECK_EQ(eno_build_resume(&ob, 0, 0, &rs), 0);
	rs = RS;
	rs.tep = 0x30;
	CHECK_EQ(eno_build_resume(&ob, 0, 0, &rs), 0);
	CHECK_EQ(eno_build_resume(NULL, 0, 0, &RS), 0);
	CHECK_EQ(eno_build_resume(&ob, 0, 0, NULL), 0);
	CHECK_EQ(eno_build_answer(&ob, 1, NULL, 1), 0);
}

/* Host B: the half of A's resumption suboption for the chosen TEP, and only then. */
T(resume_half_from_syn)
{
	static const struct {
		const char *syn;
		uint8_t tep;
		int want;
	} rows[] = {
	    {"45 14 a3 11 12 13 14 15 16 17 18 19 21 22 23 24 25 26 27 28", 0x23, 1},
	    {"45 18 21 90 a3 11 12 13 14 15 16 17 18 19 21 22 23 24 25 26 27 28 22 24", 0x23, 1},
	    {"45 0c a3 11 12 13 14 15 16 17 18 19", 0x23, 1}, /* no nonce */
	    {"45 0b a3 11 12 13 14 15 16 17 18", 0x23, 0},    /* 8 bytes: a fresh offer */
	    {"45 03 23", 0x23, 0},			      /* v = 0 */
	    {"45 14 a3 11 12 13 14 15 16 17 18 19 21 22 23 24 25 26 27 28", 0x21, 0},
	    {"45 16 a3 11*19", 0x23, 0},			 /* 19 bytes: not tcpcrypt data */
	    {"45 0e 23 a3 11 12 13 14 15 16 17 18 19", 0x23, 0}, /* listed twice: invalid */
	    {"45 14 a3 11 12 13 14 15 16 17 18 19 21 22 23 24 25 26 27 28", 0x30, 0},
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct eno_optbuf ob = hx(rows[i].syn, NULL);
		struct eno_rshalf h;
		struct eno_syn p;

		CHECK_EQ(eno_parse_syn(&ob, &p), ENO_OK);
		memset(&h, 0, sizeof(h));
		CHECK_EQ(eno_resume_half(&ob, &p, rows[i].tep, &h), rows[i].want);
		if (rows[i].want)
			CHECK_MEM(h.b, RS.half, 9);
	}
	CHECK_EQ(eno_resume_half(NULL, NULL, 0x23, NULL), 0);
}

/*
 * Host A: B's answer must carry the half A expects (§3.5); v = 0 is a fresh
 * exchange; v = 1 with another half, or with no proposal, disables ENO.
 */
T(resume_check_answer)
{
	static const struct {
		const char *synack;
		int proposed, want;
	} rows[] = {
	    {"45 15 01 a3 11 12 13 14 15 16 17 18 19 21 22 23 24 25 26 27 28", 1, ENO_OK},
	    {"45 14 01 a3 11 12 13 14 15 16 17 18 19 21 22 23 24 25 26 27", 1, ENO_OK},
	    {"45 04 01 23", 1, ENO_OK}, /* declined: fresh */
	    {"45 0d 01 a3 11 12 13 14 15 16 17 18 19", 1, ENO_OK},
	    {"45 15 01 a3 11 12 13 14 15 16 17 18 1a 21 22 23 24 25 26 27 28", 1, ENO_FAIL_RESUME},
	    {"45 15 01 a3 91 12 13 14 15 16 17 18 19 21 22 23 24 25 26 27 28", 1, ENO_FAIL_RESUME},
	    {"45 15 01 a3 11 12 13 14 15 16 17 18 19 21 22 23 24 25 26 27 28", 0, ENO_FAIL_RESUME},
	    {"45 0c 01 a3 11 12 13 14 15 16 17 18", 1, ENO_OK}, /* 8 bytes: v = 0 */
	};
	struct eno_rshalf want;

	memcpy(want.b, RS.half, 9);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct eno_optbuf a, b;
		struct eno_syn la, pb;
		struct eno_result r;

		a = hx("45 14 a3 11 12 13 14 15 16 17 18 19 21 22 23 24 25 26 27 28", NULL);
		b = hx(rows[i].synack, NULL);
		CHECK_EQ(eno_parse_syn(&b, &pb), ENO_OK);
		CHECK_EQ(eno_complete(&a, &la, &pb, 0, &r), ENO_OK);
		CHECK_EQ(eno_resume_check(&b, &pb, &r, rows[i].proposed ? 0x23 : 0,
					  rows[i].proposed ? &want : NULL),
			 rows[i].want);
	}
	{
		struct eno_result r = {.v = 1, .tep = 0x21, .b_index = 0};
		struct eno_optbuf b = hx("45 15 01 a1 11 12 13 14 15 16 17 18 19 21*8", NULL);
		struct eno_syn pb;

		CHECK_EQ(eno_parse_syn(&b, &pb), ENO_OK);
		/* an answer for another TEP than the one proposed */
		CHECK_EQ(eno_resume_check(&b, &pb, &r, 0x23, &want), ENO_FAIL_RESUME);
		r.b_index = 40;
		CHECK_EQ(eno_resume_check(&b, &pb, &r, 0x21, &want), ENO_FAIL_RESUME);
		CHECK_EQ(eno_resume_check(NULL, &pb, &r, 0x21, &want), ENO_FAIL_MALFORMED);
	}
}
