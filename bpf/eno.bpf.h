/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * What sock_ops (sockops.bpf.c) and TC (tc.bpf.c, pkt.bpf.h) share to run
 * the ENO decisions of include/eno.h on segments: the per-CPU scratch
 * space, the TCP option loader, and the glue that hands a received SYN's
 * option and a flow's own offer to eno_peer_syn / eno_answer_syn /
 * eno_complete, so that the kernel's answer and the `require` enforcement
 * come from the same code.
 */
#ifndef TCPCRYPT_ENO_BPF_H
#define TCPCRYPT_ENO_BPF_H

#include "eno.h"
#include "maps.bpf.h"

/* Large per-invocation state lives here, not on the 512-byte stack. */
struct scratch {
	struct flow_info fi;
	struct eno_syn local;
	struct eno_syn peer;
	struct eno_result res;
	struct eno_scan sc;	     /* of the last SYN or SYN-ACK examined */
	struct eno_optbuf opts;	     /* a TCP option area */
	struct eno_optbuf opt;	     /* one ENO option, kind byte first */
	struct eno_optbuf local_opt; /* our own SYN-form option */
	struct {
		__u8 th[20];
		struct eno_optbuf opts;
	} syn; /* TCP header of A's SYN, from TCP_BPF_SYN (sock_ops) */
	/* resumption: the offer or acceptance being claimed, its key */
	struct rs_offer rs_offer;
	struct rs_accept rs_accept;
	struct rs_offer_key rs_okey;
	struct eno_rshalf rs_half;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scratch);
} scratch_map SEC(".maps");

static __always_inline struct scratch *get_scratch(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&scratch_map, &zero);
}

/*
 * Copy the option area of the TCP header th, in a packet ending at end,
 * into ob (zeroed first); returns its length or -1.
 */
static __always_inline int load_opts(void *end, struct tcphdr *th, struct eno_optbuf *ob)
{
	__u32 n;

	__builtin_memset(ob, 0, sizeof(*ob));
	if ((void *)(th + 1) > end)
		return -1;
	n = th->doff * 4;
	if (n < sizeof(*th) || n > sizeof(*th) + ENO_OPT_MAX)
		return -1;
	n -= sizeof(*th);
	for (__u32 i = 0; i < ENO_OPT_MAX; i++) {
		__u8 *b = (__u8 *)(th + 1) + i;

		if (i >= n)
			break;
		if ((void *)(b + 1) > end)
			return -1;
		ob->b[i] = *b;
	}
	return n;
}

/* The ENO option of the received SYN or SYN-ACK th into s->peer (eno_peer_syn). */
static __always_inline int peer_syn_option(void *end, struct tcphdr *th, struct scratch *s)
{
	int optlen = load_opts(end, th, &s->opts);

	/* what eno_peer_syn does with it, but here it spares the verifier many paths */
	if (optlen < 0) {
		__builtin_memset(&s->sc, 0, sizeof(s->sc));
		return ENO_FAIL_MALFORMED;
	}
	return eno_peer_syn(&s->opts, optlen, &s->sc, &s->opt, &s->peer);
}

/* Copy len bytes from src[off..] to dst[0..], all ENO_BUF-sized or larger. */
static __always_inline void copy_opt(__u8 *dst, const __u8 *src, __u32 off, __u32 len)
{
	for (__u32 i = 0; i < ENO_OPT_MAX; i++) {
		if (i >= len)
			break;
		dst[i] = src[(off + i) & ENO_MASK];
	}
}

/*
 * Host A: does the SYN-ACK option in s->peer (s->opt) complete the offer of
 * flow fi (A's option, the start of its transcript), resumption included
 * (eno_resume_check: a v = 1 answer must carry the half fi expects)?  The
 * outcome is in s->res.
 */
static __always_inline int complete_offer(const struct flow_info *fi,
					  const struct tcpcrypt_config *c, struct scratch *s)
{
	int fail;

	__builtin_memset(&s->local_opt, 0, sizeof(s->local_opt));
	copy_opt(s->local_opt.b, fi->transcript, 0, fi->a_opt_len);
	fail = eno_complete(&s->local_opt, &s->local, &s->peer,
			    c->need_peer_a || (fi->flags & FLOWF_AA_MANDATORY), &s->res);
	if (fail != ENO_OK)
		return fail;
	s->rs_half = fi->rs_expect;
	fail =
	    eno_resume_check(&s->opt, &s->peer, &s->res, fi->rs_id ? fi->rs_tep : 0, &s->rs_half);
	if (fail != ENO_OK)
		s->res.fail = fail;
	return fail;
}

#endif
