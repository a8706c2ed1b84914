/* SPDX-License-Identifier: MIT */
/*
 * TCP-ENO (RFC 8547) option codec and negotiation rules.
 *
 * Header-only and free of I/O so that the very same code runs in the BPF
 * sock_ops program (which must pass the verifier: bounded loops, masked
 * indexes into fixed 64-byte buffers), in the unit tests and in the fuzzer.
 *
 * Buffers: every option or option-area buffer handed to these functions is
 * ENO_BUF (64) bytes long, of which at most ENO_OPT_MAX (40) are meaningful;
 * indexes are masked with ENO_BUF - 1 so no access can leave the buffer.
 */
#ifndef TCPCRYPT_ENO_H
#define TCPCRYPT_ENO_H

#include "eno_role.h"

#ifndef __bpf__
#include <linux/types.h>
#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif
#endif

/*
 * ENO_API: in BPF, a global function, which the verifier checks once on
 * its own instead of at every call site (the loops here would otherwise
 * exceed its budget); pointer arguments are therefore checked for NULL.
 * In user space, plain static inline.
 */
#ifdef __bpf__
#define ENO_API __attribute__((noinline))
#else
#define ENO_API static inline
#endif

/*
 * Buffer index, masked after an optimisation barrier: the compiler would
 * otherwise drop a mask it can prove redundant, and the verifier, which
 * cannot always prove the same, would reject the access.
 */
#ifdef __bpf__
#define ENO_IDX(x)                                                                                 \
	({                                                                                         \
		__u32 i_ = (x);                                                                    \
		asm volatile("" : "+r"(i_));                                                       \
		i_ &ENO_MASK;                                                                      \
	})
#else
#define ENO_IDX(x) ((x)&ENO_MASK)
#endif

/*
 * Element j (0..3) of a small __u8 array.  In BPF the array's address goes
 * through a barrier: for an aligned stack array the compiler would form
 * the address with a bitwise OR, which the verifier forbids on pointers.
 */
#ifdef __bpf__
#define ENO_AT(arr, j)                                                                             \
	(*({                                                                                       \
		__u8 *p_ = (__u8 *)(arr);                                                          \
		asm volatile("" : "+r"(p_));                                                       \
		p_ + ((j) & (ENO_NKNOWN - 1));                                                     \
	}))
#else
#define ENO_AT(arr, j) ((arr)[(j) & (ENO_NKNOWN - 1)])
#endif

#define ENO_KIND     69 /* RFC 8547 §4.1, IANA TCP option kind */
#define ENO_OPT_MAX  40 /* TCP option space */
#define ENO_BUF	     64 /* size of every buffer the codec indexes */
#define ENO_MASK     (ENO_BUF - 1)
#define ENO_MAX_TEPS 38 /* 40 bytes minus kind and length */
#define ENO_NKNOWN   4	/* TEPs we implement: the tcpcrypt ones, 0x21..0x24 */

/* Global suboption bits, RFC 8547 §4.2 */
#define ENO_GOPT_B 0x01 /* passive role bit */
#define ENO_GOPT_A 0x02 /* application-aware bit */

/* tcpcrypt TEP identifiers, RFC 8548 §7 */
#define TEP_P256	 0x21
#define TEP_P521	 0x22
#define TEP_X25519	 0x23
#define TEP_X448	 0x24
#define TEP_RESUME_MIN	 9  /* RFC 8548 §3.5: fewer data bytes means a fresh offer */
#define TEP_RESUME_MAX	 17 /* 9-byte identifier half + nonce of at most 8 bytes */
#define TEP_RESUME_HALF	 9  /* identifier half: resume[i]{0..8} or {9..17} */
#define TEP_RESUME_NONCE 8  /* nonce length we send (RFC 8548 §3.5: MUST default to 8) */
#define TEP_V_BIT	 0x80

/* Why a negotiation did not produce an encrypted connection. */
enum eno_fail {
	ENO_OK = 0,
	ENO_FAIL_ABSENT,    /* a segment up to the first ACK had no ENO option */
	ENO_FAIL_MALFORMED, /* ill-formed SYN-form option (§4.4) or bad option list */
	ENO_FAIL_MULTIPLE,  /* more than one ENO option in a SYN (§4.1) */
	ENO_FAIL_ROLE,	    /* both sides sent the same b bit (§4.3) */
	ENO_FAIL_NO_TEP,    /* no valid TEP in common (§4.5) */
	ENO_FAIL_APP_AWARE, /* mandatory application-aware mode, peer sent a = 0 */
	ENO_FAIL_STRIPPED,  /* ENO in the SYN but not in the first ACK (§4.6) */
	ENO_FAIL_BLACKHOLE, /* SYNs with ENO went unanswered; retried without */
	ENO_FAIL_NEGCACHE,  /* destination is in the negative cache */
	/*
	 * ENO succeeded but the tcpcrypt handshake did not: host A's Init1 was
	 * answered by a RST or by bytes that are no Init2, or not answered (a
	 * middlebox that strips ENO after the SYN, RFC 8547 §9): a cause of
	 * the negative cache, and of B's resets of such an Init1.
	 */
	ENO_FAIL_INIT,
	/*
	 * Our SYN carried TCP Fast Open data or a TFO cookie, which a SYN with
	 * ENO must not (RFC 8547 §4.7): sent without ENO, plain TCP.
	 */
	ENO_FAIL_TFO,
	/*
	 * RFC 8548 §3.5: host A's SYN proposed resumption and the SYN-ACK
	 * answered v = 1 with an identifier half that is not the one A's
	 * secret names (or answered v = 1 to no proposal): TCP-ENO and
	 * tcpcrypt are disabled, plain TCP.
	 */
	ENO_FAIL_RESUME,
	ENO_FAIL__MAX,
};

/* A TCP option area, or one ENO option with its kind byte first. */
struct eno_optbuf {
	__u8 b[ENO_BUF];
};

/* Our TEPs in increasing priority, the order host B lists them (§4.5). */
struct eno_prefs {
	__u8 n;
	__u8 tep[8];
};

struct eno_subopt {
	__u8 id;  /* TEP identifier, 0x20..0x7f */
	__u8 v;	  /* 1 when the suboption carries data */
	__u8 off; /* offset of the data from the option's kind byte */
	__u8 len; /* data length */
};

/* A parsed SYN-form ENO option. */
struct eno_syn {
	__u8 global; /* first global suboption, or the implicit 0x00 */
	__u8 ntep;
	struct eno_subopt tep[ENO_MAX_TEPS];
};

/* Where the ENO options are in a TCP option area. */
struct eno_scan {
	__u8 count; /* number of kind-69 options */
	__u8 off;   /* offset of the first one in the option area */
	__u8 len;   /* its length byte */
	__u8 bad;   /* the option list itself is malformed */
	/* Other SYN options the data path needs, seen in the same walk: */
	__u8 wscale;  /* window scale shift + 1 (RFC 7323 §2.2), 0 if absent */
	__u8 sack_ok; /* SACK permitted (RFC 2018) */
	__u8 ts;      /* timestamps (RFC 7323 §3) */
	/*
	 * TCP Fast Open option (RFC 7413: kind 34, or the experimental kind
	 * 254 with magic 0xF989), the last of them (the one the stack uses):
	 * where it is and its length byte, 0 if absent.
	 * Longer than its header, it carries a cookie (RFC 8547 §4.7: never in
	 * a SYN with ENO).
	 */
	__u8 tfo_off;
	__u8 tfo_len;
	__u8 tfo_exp; /* ... of the experimental kind */
};

#define ENO_TFO_KIND	  34
#define ENO_TFO_EXP_KIND  254
#define ENO_TFO_EXP_MAGIC 0xF989
/* Does the scanned option area carry a TFO cookie (a non-empty TFO option)? */
#define ENO_TFO_COOKIE(sc) ((sc)->tfo_len > ((sc)->tfo_exp ? 4 : 2))

/*
 * ENO_LOOP(n, step, ctx): call step(i, ctx) for i = 0..n-1 until it
 * returns non-zero.  In BPF this is bpf_loop(), whose callback the verifier
 * checks once; an open-coded loop over option bytes, whose stride depends
 * on the data, exceeds its budget.
 */
#ifdef __bpf__
#define ENO_LOOP(n, step, ctx) bpf_loop((n), (step), (ctx), 0)
#else
#define ENO_LOOP(n, step, ctx)                                                                     \
	do {                                                                                       \
		for (__u32 i_ = 0; i_ < (n); i_++)                                                 \
			if ((step)(i_, (ctx)))                                                     \
				break;                                                             \
	} while (0)
#endif

struct eno_scan_ctx {
	const struct eno_optbuf *ob;
	struct eno_scan *s;
	__u32 optlen;
	__u32 skip; /* bytes left of the option being stepped over */
};

static long eno_scan_step(__u32 i, void *arg)
{
	struct eno_scan_ctx *c = arg;
	__u8 kind, len;

	if (i >= c->optlen || i >= ENO_OPT_MAX)
		return 1;
	if (c->skip) {
		c->skip--;
		return 0;
	}
	kind = c->ob->b[ENO_IDX(i)];
	if (kind == 0) /* end of option list */
		return 1;
	if (kind == 1) /* NOP */
		return 0;
	if (i + 1 >= c->optlen) {
		c->s->bad = 1;
		return 1;
	}
	len = c->ob->b[ENO_IDX(i + 1)];
	if (len < 2 || i + len > c->optlen) {
		c->s->bad = 1;
		return 1;
	}
	if (kind == ENO_KIND) {
		if (c->s->count == 0) {
			c->s->off = i;
			c->s->len = len;
		}
		c->s->count++;
	} else if (kind == 3 && len == 3) {
		__u8 shift = c->ob->b[ENO_IDX(i + 2)];

		c->s->wscale = (shift > 14 ? 14 : shift) + 1; /* RFC 7323 §2.3: at most 14 */
	} else if (kind == 4 && len == 2) {
		c->s->sack_ok = 1;
	} else if (kind == 8 && len == 10) {
		c->s->ts = 1;
	} else if (kind == ENO_TFO_KIND || (kind == ENO_TFO_EXP_KIND && len >= 4 &&
					    (c->ob->b[ENO_IDX(i + 2)] << 8 |
					     c->ob->b[ENO_IDX(i + 3)]) == ENO_TFO_EXP_MAGIC)) {
		/* the last one: Linux's tcp_parse_options keeps that */
		c->s->tfo_off = i;
		c->s->tfo_len = len;
		c->s->tfo_exp = kind == ENO_TFO_EXP_KIND;
	}
	c->skip = len - 1;
	return 0;
}

/*
 * Walk a TCP option area (b[0..optlen), optlen <= 40) and find the ENO
 * options.  A malformed list (length byte < 2 or running past the end) sets
 * bad; ENO options found before the fault are still reported.
 */
ENO_API int eno_scan_opts(const struct eno_optbuf *ob, __u32 optlen, struct eno_scan *s)
{
	struct eno_scan_ctx c = {.ob = ob, .s = s, .optlen = optlen, .skip = 0};

	if (!ob || !s)
		return -1;
	s->count = 0;
	s->off = 0;
	s->len = 0;
	s->wscale = 0;
	s->sack_ok = 0;
	s->ts = 0;
	s->tfo_off = 0;
	s->tfo_len = 0;
	s->tfo_exp = 0;
	s->bad = optlen > ENO_OPT_MAX;
	if (s->bad)
		return 0;
	ENO_LOOP(ENO_OPT_MAX, eno_scan_step, &c);
	return 0;
}

struct eno_parse_ctx {
	const struct eno_optbuf *ob;
	struct eno_syn *p;
	__u32 len;
	__u32 skip;
	int have_global;
	int fail;
};

static long eno_parse_step(__u32 i, void *arg)
{
	struct eno_parse_ctx *c = arg;
	struct eno_subopt *t;
	__u8 b, n;

	i += 2; /* after kind and length */
	if (i >= c->len || i >= ENO_OPT_MAX)
		return 1;
	if (c->skip) {
		c->skip--;
		return 0;
	}
	b = c->ob->b[ENO_IDX(i)];
	if (b < 0x20) { /* global suboption: only the first counts (§4.2) */
		if (!c->have_global)
			c->p->global = b;
		c->have_global = 1;
		return 0;
	}
	n = c->p->ntep;
	if (n >= ENO_MAX_TEPS) {
		c->fail = 1;
		return 1;
	}
	t = &c->p->tep[n];
	c->p->ntep = n + 1;
	if (b < 0x80) { /* TEP without data */
		t->id = b;
		t->v = 0;
		t->off = 0;
		t->len = 0;
		return 0;
	}
	if (b < 0xa0) { /* length byte: a TEP with v = 1 and nnnnn + 1 data bytes follows */
		__u32 dlen = (b & 0x1f) + 1;
		__u8 id;

		if (i + 1 >= c->len) {
			c->fail = 1;
			return 1;
		}
		id = c->ob->b[ENO_IDX(i + 1)];
		if (id < 0xa0 || i + 2 + dlen > c->len) {
			c->fail = 1;
			return 1;
		}
		t->id = id & 0x7f;
		t->v = 1;
		t->off = i + 2;
		t->len = dlen;
		c->skip = 1 + dlen;
		return 0;
	}
	/* TEP with v = 1 and no length byte: its data runs to the end of the option */
	t->id = b & 0x7f;
	t->v = 1;
	t->off = i + 1;
	t->len = c->len - i - 1;
	return 1;
}

/*
 * Parse a SYN-form ENO option (RFC 8547 §4.1, §4.4).  b[0] is the kind
 * byte, b[1] the length.  Returns ENO_OK or ENO_FAIL_MALFORMED.
 */
ENO_API int eno_parse_syn(const struct eno_optbuf *ob, struct eno_syn *p)
{
	struct eno_parse_ctx c = {.ob = ob, .p = p};

	if (!ob || !p)
		return ENO_FAIL_MALFORMED;
	c.len = ob->b[1];
	p->global = 0;
	p->ntep = 0;
	if (ob->b[0] != ENO_KIND || c.len < 2 || c.len > ENO_OPT_MAX)
		return ENO_FAIL_MALFORMED;
	ENO_LOOP(ENO_OPT_MAX - 2, eno_parse_step, &c);
	return c.fail ? ENO_FAIL_MALFORMED : ENO_OK;
}

/* Is this TEP one we implement, with data that is valid for it? */
static __always_inline int eno_tep_known(__u8 id)
{
	return id >= TEP_P256 && id <= TEP_X448;
}

/*
 * Effective v bit of a tcpcrypt suboption: RFC 8548 §3.5, a resumption
 * suboption with fewer than 9 data bytes is a fresh offer (v = 0).
 */
static __always_inline __u8 eno_tep_v(const struct eno_subopt *s)
{
	return s->v && s->len >= TEP_RESUME_MIN;
}

/* Valid data for a tcpcrypt TEP: none, or a resumption suboption. */
static __always_inline int eno_tep_data_ok(const struct eno_subopt *s)
{
	return !s->v || s->len <= TEP_RESUME_MAX;
}

/* Data validity of suboption idx of p; an index out of range is never valid. */
static __always_inline int eno_tep_data_ok_at(const struct eno_syn *p, __u32 idx)
{
	if (idx >= ENO_MAX_TEPS)
		return 0;
	return eno_tep_data_ok(&p->tep[idx]);
}

struct eno_result {
	__u8 fail;    /* enum eno_fail */
	__u8 role;    /* ENO_ROLE_A or ENO_ROLE_B, for the local host */
	__u8 tep;     /* negotiated TEP id */
	__u8 v;	      /* v bit of B's suboption for it (RFC 8547 §5.1 session ID byte) */
	__u8 peer_a;  /* application-aware bit the peer sent */
	__u8 a_index; /* index of the negotiated TEP's suboption in A's option */
	__u8 b_index; /* index of the negotiated TEP's suboption in B's option */
};

/*
 * For each TEP we implement: how often an option lists it and where the
 * last listing is.  Only known TEPs can be valid (RFC 8547 §4.5), so the
 * negotiation needs nothing else and stays linear.
 */
struct eno_tepinfo {
	__u8 cnt[ENO_NKNOWN];
	__u8 idx[ENO_NKNOWN];
};

static __always_inline void eno_tepinfo_fill(const struct eno_syn *p, struct eno_tepinfo *t)
{
	for (int j = 0; j < ENO_NKNOWN; j++) {
		ENO_AT(t->cnt, j) = 0;
		ENO_AT(t->idx, j) = 0;
	}
	for (int k = 0; k < ENO_MAX_TEPS; k++) {
		__u32 j;

		if (k >= p->ntep)
			break;
		if (!eno_tep_known(p->tep[k].id))
			continue;
		j = (p->tep[k].id - TEP_P256) & (ENO_NKNOWN - 1);
		ENO_AT(t->cnt, j)++;
		ENO_AT(t->idx, j) = k;
	}
}

/*
 * Valid in both options: listed exactly once by each side (tcpcrypt gives
 * repetition no meaning, §4.5) with data valid for the TEP.
 */
static __always_inline int eno_tep_valid(const struct eno_syn *a, const struct eno_tepinfo *at,
					 const struct eno_syn *b, const struct eno_tepinfo *bt,
					 __u32 j)
{
	j &= ENO_NKNOWN - 1;
	if (ENO_AT(at->cnt, j) != 1 || ENO_AT(bt->cnt, j) != 1)
		return 0;
	return eno_tep_data_ok_at(a, ENO_AT(at->idx, j)) &&
	       eno_tep_data_ok_at(b, ENO_AT(bt->idx, j));
}

/*
 * Negotiate from both SYN-form options (RFC 8547 §4.3, §4.5): roles from
 * the b bits, then the last valid TEP in B's option.
 * need_peer_a: mandatory application-aware mode.  Returns r->fail.
 */
ENO_API int eno_negotiate(const struct eno_syn *local, const struct eno_syn *peer, int need_peer_a,
			  struct eno_result *r)
{
	const struct eno_syn *a, *b;
	struct eno_tepinfo at, bt;
	__u8 lb, pb;
	int best = -1;

	if (!local || !peer || !r)
		return ENO_FAIL_MALFORMED;
	lb = local->global & ENO_GOPT_B;
	pb = peer->global & ENO_GOPT_B;
	r->fail = ENO_OK;
	r->tep = 0;
	r->v = 0;
	r->a_index = 0;
	r->b_index = 0;
	r->peer_a = !!(peer->global & ENO_GOPT_A);
	r->role = lb ? ENO_ROLE_B : ENO_ROLE_A;
	if (lb == pb) {
		r->fail = ENO_FAIL_ROLE;
		return r->fail;
	}
	if (need_peer_a && !r->peer_a) {
		r->fail = ENO_FAIL_APP_AWARE;
		return r->fail;
	}
	a = lb ? peer : local;
	b = lb ? local : peer;
	eno_tepinfo_fill(a, &at);
	eno_tepinfo_fill(b, &bt);
	for (__u32 j = 0; j < ENO_NKNOWN; j++) {
		if (!eno_tep_valid(a, &at, b, &bt, j))
			continue;
		if (best < 0 || ENO_AT(bt.idx, j) > ENO_AT(bt.idx, best & (ENO_NKNOWN - 1)))
			best = j;
	}
	if (best < 0) {
		r->fail = ENO_FAIL_NO_TEP;
		return r->fail;
	}
	best &= ENO_NKNOWN - 1;
	r->a_index = ENO_AT(at.idx, best);
	r->b_index = ENO_AT(bt.idx, best);
	r->tep = TEP_P256 + best;
	if (r->b_index < ENO_MAX_TEPS)
		r->v = eno_tep_v(&b->tep[r->b_index]);
	return ENO_OK;
}

/*
 * Passive opener: the TEP to answer with, the highest-priority one of ours
 * that A offered validly (§4.5: B should list one, valid TEP).  Returns
 * the TEP id, or 0 when there is none.
 */
ENO_API int eno_choose(const struct eno_syn *peer, const struct eno_prefs *pref)
{
	struct eno_tepinfo at;
	int best = 0;

	if (!peer || !pref)
		return 0;
	eno_tepinfo_fill(peer, &at);
	for (int k = 0; k < 8; k++) {
		__u8 id;
		__u32 j;

		if (k >= pref->n)
			break;
		id = pref->tep[k];
		if (!eno_tep_known(id))
			continue;
		j = (id - TEP_P256) & (ENO_NKNOWN - 1);
		if (ENO_AT(at.cnt, j) == 1 && eno_tep_data_ok_at(peer, ENO_AT(at.idx, j)))
			best = id;
	}
	return best;
}

/*
 * The ENO option of a received SYN or SYN-ACK: scan its option area
 * (opts[0..optlen), optlen < 0 when it could not be read) into sc, and if
 * it holds exactly one well-formed ENO option, copy that option into opt
 * (kind byte first) and parse it into peer.  Returns ENO_OK, or
 * ENO_FAIL_ABSENT, ENO_FAIL_MULTIPLE (§4.1) or ENO_FAIL_MALFORMED (§4.4).
 * sc describes the area also when this fails.
 */
ENO_API int eno_peer_syn(const struct eno_optbuf *opts, int optlen, struct eno_scan *sc,
			 struct eno_optbuf *opt, struct eno_syn *peer)
{
	if (!opts || !sc || !opt || !peer)
		return ENO_FAIL_MALFORMED;
	eno_scan_opts(opts, optlen < 0 ? 0 : optlen, sc);
	if (optlen < 0)
		return ENO_FAIL_MALFORMED;
	if (sc->count == 0)
		return sc->bad ? ENO_FAIL_MALFORMED : ENO_FAIL_ABSENT;
	if (sc->count > 1)
		return ENO_FAIL_MULTIPLE;
	if (sc->bad)
		return ENO_FAIL_MALFORMED;
	__builtin_memset(opt, 0, sizeof(*opt));
	for (__u32 i = 0; i < ENO_OPT_MAX; i++) {
		if (i >= sc->len)
			break;
		opt->b[i] = opts->b[ENO_IDX(sc->off + i)];
	}
	return eno_parse_syn(opt, peer) == ENO_OK ? ENO_OK : ENO_FAIL_MALFORMED;
}

/*
 * Host B: would it accept A's SYN-form option (peer, parsed)?  A must not
 * claim the passive role (§4.3), must send a = 1 in mandatory
 * application-aware mode (need_peer_a), and must offer validly one of our
 * TEPs (prefs; §4.5).  Returns ENO_OK with *tep the TEP to answer with,
 * else ENO_FAIL_NO_TEP, ENO_FAIL_ROLE or ENO_FAIL_APP_AWARE (checked in
 * that order) and *tep 0.  sock_ops answers SYNs with it and TC ingress
 * enforces `require` with it: they cannot disagree.
 */
ENO_API int eno_answer_syn(const struct eno_syn *peer, const struct eno_prefs *prefs,
			   int need_peer_a, __u8 *tep)
{
	if (!peer || !prefs || !tep)
		return ENO_FAIL_MALFORMED;
	*tep = eno_choose(peer, prefs);
	if (!*tep)
		return ENO_FAIL_NO_TEP;
	if (peer->global & ENO_GOPT_B) {
		*tep = 0;
		return ENO_FAIL_ROLE;
	}
	if (need_peer_a && !(peer->global & ENO_GOPT_A)) {
		*tep = 0;
		return ENO_FAIL_APP_AWARE;
	}
	return ENO_OK;
}

/*
 * Host A: does B's SYN-ACK option (peer, parsed) complete the offer A sent
 * (local_opt, A's SYN-form option as sent, kind byte first)?  local takes
 * the parse of local_opt.  Returns r->fail: ENO_OK with the outcome in r,
 * or why not (a local_opt that does not parse is ENO_FAIL_MALFORMED).
 * sock_ops settles A's flows with it and TC ingress enforces `require`
 * with it.
 */
ENO_API int eno_complete(const struct eno_optbuf *local_opt, struct eno_syn *local,
			 const struct eno_syn *peer, int need_peer_a, struct eno_result *r)
{
	if (!local_opt || !local || !peer || !r)
		return ENO_FAIL_MALFORMED;
	if (eno_parse_syn(local_opt, local) != ENO_OK) {
		r->fail = ENO_FAIL_MALFORMED;
		return r->fail;
	}
	return eno_negotiate(local, peer, need_peer_a, r);
}

/*
 * A resumption suboption (RFC 8548 §3.5): TEP byte with v = 1, the
 * identifier half of the sender's original role, the sender's nonce.
 * docs/architecture.md#session-resumption-on-the-wire.
 */
struct eno_rsopt {
	__u8 tep;	/* TEP id, v bit clear */
	__u8 nonce_len; /* 0..TEP_RESUME_NONCE */
	__u8 half[TEP_RESUME_HALF];
	__u8 nonce[TEP_RESUME_NONCE];
	__u8 pad;
};

/* The identifier half a flow expects back in the peer's resumption suboption. */
struct eno_rshalf {
	__u8 b[TEP_RESUME_HALF];
	__u8 pad[3];
};

/*
 * Build a SYN-form option whose only TEP suboption is the resumption
 * suboption rs, last and so without a length byte (RFC 8547 §4.1): an
 * optional global suboption, then TEP byte | half | nonce.  At most 21
 * bytes.  Returns the option length, 0 for a bad rs.
 */
ENO_API int eno_build_resume(struct eno_optbuf *out, int with_global, __u8 global,
			     const struct eno_rsopt *rs)
{
	__u32 i = 2;

	if (!out || !rs || rs->nonce_len > TEP_RESUME_NONCE || !eno_tep_known(rs->tep))
		return 0;
	out->b[0] = ENO_KIND;
	if (with_global)
		out->b[i++] = global & 0x1f;
	out->b[ENO_IDX(i)] = rs->tep | TEP_V_BIT;
	i++;
	for (__u32 k = 0; k < TEP_RESUME_HALF; k++)
		out->b[ENO_IDX(i + k)] = rs->half[k];
	i += TEP_RESUME_HALF;
	for (__u32 k = 0; k < TEP_RESUME_NONCE; k++) {
		if (k >= rs->nonce_len)
			break;
		out->b[ENO_IDX(i + k)] = rs->nonce[k];
	}
	i += rs->nonce_len;
	out->b[1] = i;
	return i;
}

/*
 * Host B's SYN-ACK option: the global suboption, then either the one TEP
 * rs->tep without data (resume 0) or the resumption suboption rs (resume 1,
 * eno_build_resume).  Returns the option length, 0 for a bad rs.
 */
ENO_API int eno_build_answer(struct eno_optbuf *out, __u8 global, const struct eno_rsopt *rs,
			     int resume)
{
	if (!out || !rs)
		return 0;
	if (resume)
		return eno_build_resume(out, 1, global, rs);
	out->b[0] = ENO_KIND;
	out->b[1] = 4;
	out->b[2] = global & 0x1f;
	out->b[3] = rs->tep & 0x7f;
	return 4;
}

/*
 * Host B, on A's parsed SYN option (opt, kind byte first; peer its parse)
 * and the TEP it chose: the identifier half of A's resumption suboption for
 * that TEP into *half.  Returns 1 when there is one (v = 1, 9 to 17 data
 * bytes), 0 when the suboption is a fresh offer (RFC 8548 §3.5: fewer than
 * 9 bytes count as v = 0) or invalid.
 */
ENO_API int eno_resume_half(const struct eno_optbuf *opt, const struct eno_syn *peer, __u8 tep,
			    struct eno_rshalf *half)
{
	const struct eno_subopt *s;
	struct eno_tepinfo t;
	__u32 j, idx;

	if (!opt || !peer || !half || !eno_tep_known(tep))
		return 0;
	eno_tepinfo_fill(peer, &t);
	j = (tep - TEP_P256) & (ENO_NKNOWN - 1);
	idx = ENO_AT(t.idx, j);
	/* listed once, as eno_answer_syn requires of the TEP it chose */
	if (ENO_AT(t.cnt, j) != 1 || idx >= ENO_MAX_TEPS)
		return 0;
	s = &peer->tep[idx];
	if (!eno_tep_v(s) || !eno_tep_data_ok(s))
		return 0;
	for (__u32 k = 0; k < TEP_RESUME_HALF; k++)
		half->b[k] = opt->b[ENO_IDX(s->off + k)];
	return 1;
}

/*
 * Host A, once eno_complete succeeded (r): does B's answer (peer_opt, the
 * SYN-ACK's option, kind byte first; peer its parse) agree with what A
 * proposed?  expect is the half B must send back for the resumption
 * suboption A sent for TEP rs_tep, NULL (or rs_tep 0) when A proposed
 * none.  RFC 8548 §3.5: B answering v = 0 is a fresh exchange (ENO_OK);
 * v = 1 with the expected half resumes (ENO_OK); v = 1 with another half,
 * for another TEP, or to no proposal at all must be ignored, and it being
 * the only suboption, TCP-ENO is disabled: ENO_FAIL_RESUME.
 */
ENO_API int eno_resume_check(const struct eno_optbuf *peer_opt, const struct eno_syn *peer,
			     const struct eno_result *r, __u8 rs_tep,
			     const struct eno_rshalf *expect)
{
	const struct eno_subopt *s;

	if (!peer_opt || !peer || !r)
		return ENO_FAIL_MALFORMED;
	if (!r->v)
		return ENO_OK;
	if (!expect || !rs_tep || r->tep != rs_tep || r->b_index >= ENO_MAX_TEPS ||
	    r->b_index >= peer->ntep)
		return ENO_FAIL_RESUME;
	s = &peer->tep[r->b_index];
	for (__u32 k = 0; k < TEP_RESUME_HALF; k++)
		if (peer_opt->b[ENO_IDX(s->off + k)] != expect->b[k])
			return ENO_FAIL_RESUME;
	return ENO_OK;
}

/*
 * Build a SYN-form option without suboption data: an optional global
 * suboption, then the TEP ids in order.  Returns the option length.
 */
ENO_API int eno_build_syn(struct eno_optbuf *out, int with_global, __u8 global,
			  const struct eno_prefs *teps)
{
	__u32 i = 2;

	if (!out || !teps || teps->n > 8)
		return 0;
	out->b[0] = ENO_KIND;
	if (with_global)
		out->b[i++] = global & 0x1f;
	for (int k = 0; k < 8; k++) {
		if (k >= teps->n)
			break;
		out->b[ENO_IDX(i)] = teps->tep[k] & 0x7f;
		i++;
	}
	out->b[1] = i;
	return i;
}

#endif
