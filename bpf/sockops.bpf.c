// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * TCP-ENO negotiation (RFC 8547) in sock_ops, attached to a cgroup v2.
 *
 * Active opener: decide at TCP_CONNECT_CB, write the SYN-form option into
 * the SYN, read B's option from the SYN-ACK at ACTIVE_ESTABLISHED_CB, then
 * write the non-SYN form `45 02` on every segment until a non-SYN segment
 * arrives (§4.6).  Passive opener: the SYN is read with TCP_BPF_SYN while
 * the SYN-ACK is built (the socket is still a request socket, so state is
 * kept per tuple in `pending`), and the third ACK is checked at
 * PASSIVE_ESTABLISHED_CB.  Outcomes go to the pinned `flows` map.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_core_read.h>
#include "eno.bpf.h"

#define TCP_MAXSEG_ 2

char LICENSE[] SEC("license") = "Dual MIT/GPL";

/*
 * The TCP_ENO_* settings of listening sockets (their sk_opts), keyed by
 * bound address and port (family 0, no remote end; a wildcard address is
 * zero): a SYN-ACK is built on a request socket, which has no storage and
 * whose listener sock_ops cannot reach, so LISTEN_CB copies them here and
 * the listener's close removes them (docs/architecture.md#the-application-api).
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, struct flow_key);
	__type(value, struct tcpcrypt_sk_opts);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} MAP_LISTENOPTS_NAME SEC(".maps");

static __always_inline void key_from_skops(const struct bpf_sock_ops *skops, struct flow_key *k)
{
	__builtin_memset(k, 0, sizeof(*k));
	k->family = skops->family;
	k->lport = skops->local_port;
	k->rport = bpf_ntohl(skops->remote_port);
	/*
	 * IPv4 on an IPv6 socket (v4-mapped) is keyed as IPv4, as the XDP
	 * program sees it on the wire.
	 */
	if (skops->family == AF_INET || (skops->remote_ip6[0] == 0 && skops->remote_ip6[1] == 0 &&
					 skops->remote_ip6[2] == bpf_htonl(0xffff))) {
		k->family = AF_INET;
		k->laddr[0] = skops->local_ip4;
		k->raddr[0] = skops->remote_ip4;
	} else {
		k->laddr[0] = skops->local_ip6[0];
		k->laddr[1] = skops->local_ip6[1];
		k->laddr[2] = skops->local_ip6[2];
		k->laddr[3] = skops->local_ip6[3];
		k->raddr[0] = skops->remote_ip6[0];
		k->raddr[1] = skops->remote_ip6[1];
		k->raddr[2] = skops->remote_ip6[2];
		k->raddr[3] = skops->remote_ip6[3];
	}
}

/* A listener's key in listen_opts from its own address, or a connection's local end's. */
static __always_inline void listen_key(const struct flow_key *k, struct flow_key *lk, int wildcard)
{
	__builtin_memset(lk, 0, sizeof(*lk));
	lk->lport = k->lport;
	if (!wildcard)
		__builtin_memcpy(lk->laddr, k->laddr, sizeof(lk->laddr));
}

/*
 * A listening socket's key in listen_opts: its bound address (zero for a
 * wildcard) and port.  The address is read in each branch on its own: the
 * compiler would otherwise load it from a ctx offset chosen at run time,
 * which the verifier refuses.
 */
static __always_inline void listen_key_skops(const struct bpf_sock_ops *skops, struct flow_key *lk)
{
	const struct bpf_sock_ops *p = skops;

	__builtin_memset(lk, 0, sizeof(*lk));
	lk->lport = skops->local_port;
	if (skops->family == AF_INET) {
		asm volatile("" : "+r"(p));
		lk->laddr[0] = p->local_ip4;
		return;
	}
	asm volatile("" : "+r"(p));
	lk->laddr[0] = p->local_ip6[0];
	lk->laddr[1] = p->local_ip6[1];
	lk->laddr[2] = p->local_ip6[2];
	lk->laddr[3] = p->local_ip6[3];
	/* an IPv6 socket bound to an IPv4-mapped address: keyed as the IPv4 flows are */
	if (lk->laddr[0] == 0 && lk->laddr[1] == 0 && lk->laddr[2] == bpf_htonl(0xffff)) {
		lk->laddr[0] = lk->laddr[3];
		lk->laddr[2] = 0;
		lk->laddr[3] = 0;
	}
}

/* The full socket's TCP_ENO_* settings (sk_opts), or NULL. */
static __always_inline struct tcpcrypt_sk_opts *sock_opts(const struct bpf_sock_ops *skops)
{
	struct bpf_sock *sk = skops->sk;

	/* one load: the verifier checks the NULL test on this register, not on a reload */
	asm volatile("" : "+r"(sk));
	return sk ? bpf_sk_storage_get(&sk_opts, sk, 0, 0) : NULL;
}

/* The settings of the socket listening where connection k arrived, or NULL. */
static __always_inline struct tcpcrypt_sk_opts *listener_opts(const struct flow_key *k)
{
	struct tcpcrypt_sk_opts *o;
	struct flow_key lk;

	listen_key(k, &lk, 0);
	o = bpf_map_lookup_elem(&listen_opts, &lk);
	if (o)
		return o;
	listen_key(k, &lk, 1);
	return bpf_map_lookup_elem(&listen_opts, &lk);
}

/*
 * The policy of a connection of a socket with settings o: its own choice
 * of TCP_ENO_ENABLED overrides the port's `on` or `off`, never `require`
 * (no plaintext there, ever).
 */
static __always_inline __u8 sock_policy(__u8 policy, const struct tcpcrypt_sk_opts *o)
{
	if (!o || !(o->set & SKO_SET_ENABLED) || policy == POLICY_REQUIRE)
		return policy;
	return o->enabled ? POLICY_ON : POLICY_OFF;
}

/* What a socket's settings o ask of its flow fi beyond the ENO option. */
static __always_inline void sock_flow_opts(struct flow_info *fi, const struct tcpcrypt_sk_opts *o)
{
	if (!o)
		return;
	if ((o->set & SKO_SET_AA_MANDATORY) && o->aa_mandatory)
		fi->flags |= FLOWF_AA_MANDATORY;
	if (o->cache & SKO_NO_CACHE)
		fi->flags |= FLOWF_NO_CACHE;
	if (o->cache & SKO_FLUSH)
		fi->flags |= FLOWF_FLUSH;
	if (o->set & SKO_SET_AEAD)
		fi->aead_pref = o->aead;
}

static __always_inline void set_cb_flags(struct bpf_sock_ops *skops, __u32 flags)
{
	bpf_sock_ops_cb_flags_set(skops, flags);
}

/* Does the route of this socket leave through an interface we steer? */
static __always_inline int route_is_steered(struct bpf_sock_ops *skops, __u32 *mtu)
{
	struct bpf_sock *sk = skops->sk;
	struct tcp_sock *tp;
	struct dst_entry *dst;
	struct iface_info *ii;
	__u32 ifindex;

	if (!sk)
		return 0;
	tp = bpf_skc_to_tcp_sock(sk);
	if (!tp)
		return 0;
	dst = BPF_CORE_READ(tp, inet_conn.icsk_inet.sk.sk_dst_cache);
	if (!dst)
		return 0;
	ifindex = BPF_CORE_READ(dst, dev, ifindex);
	*mtu = BPF_CORE_READ(dst, dev, mtu);
	ii = bpf_map_lookup_elem(&ifaces, &ifindex);
	return ii && ii->kind == IFACE_WIRE;
}

/*
 * Make one plaintext segment fit one wire segment once framed: advertise
 * and use an MSS smaller by the frame overhead
 * (docs/architecture.md#mss-reduction), set before the SYN is built.
 */
static __always_inline void reduce_mss(struct bpf_sock_ops *skops, const struct flow_key *k,
				       __u32 mtu)
{
	int wire = (int)mtu - (k->family == AF_INET ? 40 : 60);
	int mss =
	    (wire > TCPCRYPT_WIRE_MSS_MAX ? TCPCRYPT_WIRE_MSS_MAX : wire) - TCPCRYPT_FRAME_OVERHEAD;

	if (mss >= 536)
		bpf_setsockopt(skops, SOL_TCP, TCP_MAXSEG_, &mss, sizeof(mss));
}

static __always_inline void count_fail(__u8 fail)
{
	switch (fail) {
	case ENO_FAIL_ABSENT:
		STAT_INC(peer_no_eno);
		break;
	case ENO_FAIL_MALFORMED:
	case ENO_FAIL_MULTIPLE:
		STAT_INC(malformed);
		break;
	case ENO_FAIL_ROLE:
		STAT_INC(role_conflict);
		break;
	case ENO_FAIL_NO_TEP:
		STAT_INC(no_common_tep);
		break;
	case ENO_FAIL_APP_AWARE:
		STAT_INC(app_aware_fail);
		break;
	case ENO_FAIL_STRIPPED:
		STAT_INC(stripped);
		break;
	case ENO_FAIL_RESUME:
		STAT_INC(rs_mismatch);
		break;
	}
}

/*
 * Host A: claim the lowest published resumption offer to this destination
 * (RFC 8548 §3.5: the lowest i not yet used), unless the socket said
 * SKO_NO_RESUME.  The agent publishes offers under increasing generations
 * from rs_peers.lo on and never inserts a key twice, so the one connection
 * whose bpf_map_delete_elem succeeds owns the offer it copied; a loser
 * tries the next one, and with none left makes a fresh offer.
 * docs/architecture.md#session-resumption-on-the-wire.
 */
static __always_inline int claim_offer(struct bpf_sock_ops *skops, const struct flow_key *k,
				       struct scratch *s)
{
	struct tcpcrypt_sk_opts *so;
	struct rs_offer *o;
	struct rs_peer *rp;
	struct bpf_sock *sk = skops->sk;
	__u64 lo;

	if (!sk)
		return 0;
	so = bpf_sk_storage_get(&sk_opts, sk, 0, 0);
	if (so && (so->cache & SKO_NO_RESUME))
		return 0;
	dest_key(k, &s->rs_okey.peer);
	s->rs_okey.pad = 0;
	rp = bpf_map_lookup_elem(&rs_peers, &s->rs_okey.peer);
	if (!rp)
		return 0;
	lo = rp->lo;
	for (__u32 j = 0; j < RS_OFFERS_PER_PEER; j++) {
		s->rs_okey.gen = lo + j;
		o = bpf_map_lookup_elem(&rs_offers, &s->rs_okey);
		if (!o)
			continue;
		s->rs_offer = *o;
		if (bpf_map_delete_elem(&rs_offers, &s->rs_okey) == 0)
			return s->rs_offer.id != 0;
	}
	return 0;
}

/*
 * Host B: agree to the resumption A proposed for TEP tep (A's option in
 * s->opt, parsed in s->peer) if an acceptance for that identifier half,
 * this peer (nk) and this TEP is published: claimed like an offer.  A
 * global function, verified once on its own.
 */
__noinline int claim_accept(struct scratch *s, const struct negcache_key *k, __u32 tep)
{
	const struct negcache_key *pk;
	struct rs_accept *a;

	if (!s || !k)
		return 0;
	__builtin_memset(&s->rs_half, 0, sizeof(s->rs_half));
	if (!eno_resume_half(&s->opt, &s->peer, tep, &s->rs_half))
		return 0;
	a = bpf_map_lookup_elem(&rs_accepts, &s->rs_half);
	if (!a)
		return 0;
	s->rs_accept = *a;
	pk = &s->rs_accept.peer;
	if (s->rs_accept.own.tep != tep || pk->family != k->family || pk->addr[0] != k->addr[0] ||
	    pk->addr[1] != k->addr[1] || pk->addr[2] != k->addr[2] || pk->addr[3] != k->addr[3])
		return 0; /* names a secret, but not one shared with this peer */
	return bpf_map_delete_elem(&rs_accepts, &s->rs_half) == 0 && s->rs_accept.id != 0;
}

/*
 * The resumption suboption ends the option (eno_build_resume), its nonce
 * last: when the SYN or SYN-ACK has no room for the option, send a nonce one
 * byte shorter (RFC 8548 §3.5 allows 0..8 bytes; a full SYN-ACK of Linux has
 * 20 bytes left, and B's answer with its global suboption and an 8-byte
 * nonce takes 21: docs/machine-facts.md#resumption-option-space).  off is
 * where the option starts in fi's transcript.  Returns 1 if shortened.
 */
static __always_inline int rs_shorten(struct flow_info *fi, __u32 off)
{
	__u32 len = fi->transcript[(off + 1) & ENO_MASK];

	/* only from a whole 8-byte nonce to 7 bytes (docs/machine-facts.md) */
	if (!fi->rs_id || len < 2 + 1 + TEP_RESUME_HALF + TEP_RESUME_NONCE)
		return 0;
	fi->transcript[(off + 1) & ENO_MASK] = len - 1;
	fi->transcript_len--;
	if (!off)
		fi->a_opt_len--;
	return 1;
}

/* The options of a SYN, ours (local) or the peer's, as the data path needs them. */
static __always_inline void note_syn_tcpopts(struct flow_info *fi, const struct eno_scan *sc,
					     int local)
{
	if (local) {
		fi->rcv_wscale = sc->wscale;
		fi->tcpopts |= (sc->sack_ok ? FLOWO_L_SACK : 0) | (sc->ts ? FLOWO_L_TS : 0);
	} else {
		fi->snd_wscale = sc->wscale;
		fi->tcpopts |= (sc->sack_ok ? FLOWO_P_SACK : 0) | (sc->ts ? FLOWO_P_TS : 0);
	}
}

static __always_inline void note_own_syn_tcpopts(struct bpf_sock_ops *skops, struct flow_info *fi,
						 struct scratch *s)
{
	struct eno_scan *sc = &s->sc;

	__builtin_memset(sc, 0, sizeof(*sc));
	__builtin_memset(&s->opts, 0, sizeof(s->opts));
	s->opts.b[0] = 3; /* window scale, RFC 7323 §2.2 */
	if (bpf_load_hdr_opt(skops, s->opts.b, 3, 0) == 3)
		sc->wscale = (s->opts.b[2] > 14 ? 14 : s->opts.b[2]) + 1;
	s->opts.b[0] = 4; /* SACK permitted; b[1] = 0: match any length */
	s->opts.b[1] = 0;
	sc->sack_ok = bpf_load_hdr_opt(skops, s->opts.b, 2, 0) == 2;
	s->opts.b[0] = 8; /* timestamps */
	s->opts.b[1] = 0;
	sc->ts = bpf_load_hdr_opt(skops, s->opts.b, 10, 0) == 10;
	note_syn_tcpopts(fi, sc, 1);
}

/*
 * Once both SYNs were seen: what was negotiated (RFC 7323 §2.2: window
 * scaling only if both sent the option; SACK and timestamps likewise).
 */
static __always_inline void settle_tcpopts(struct flow_info *fi)
{
	__u8 o = fi->tcpopts, both_ws = fi->rcv_wscale && fi->snd_wscale;

	fi->rcv_wscale = both_ws ? fi->rcv_wscale - 1 : 0;
	fi->snd_wscale = both_ws ? fi->snd_wscale - 1 : 0;
	fi->tcpopts = ((o & FLOWO_L_SACK) && (o & FLOWO_P_SACK) ? FLOW_OPT_SACK : 0) |
		      ((o & FLOWO_L_TS) && (o & FLOWO_P_TS) ? FLOW_OPT_TS : 0) |
		      (both_ws ? FLOW_OPT_WSCALE : 0);
}

/* What the data path needs to translate this connection's segments. */
static __always_inline void record_tcp_params(struct bpf_sock_ops *skops, struct flow_info *fi)
{
	fi->local_isn = skops->snd_nxt - 1;
	fi->peer_isn = skops->rcv_nxt - 1;
	fi->mss = skops->mss_cache;
	settle_tcpopts(fi);
}

/* Append the peer's option to the transcript and record the negotiated outcome. */
static __always_inline void record_success(struct flow_info *fi, struct scratch *s, __u32 peer_off)
{
	const struct eno_syn *peer_syn = &s->peer;
	__u8 idx = s->res.role == ENO_ROLE_A ? s->res.b_index : s->res.a_index;
	__u32 plen = s->opt.b[1];

	for (__u32 i = 0; i < ENO_OPT_MAX; i++) {
		if (i >= plen)
			break;
		fi->transcript[(peer_off + i) & ENO_MASK] = s->opt.b[i];
	}
	fi->state = FLOW_TCPCRYPT;
	fi->role = s->res.role;
	fi->tep = s->res.tep;
	fi->v = s->res.v;
	fi->peer_a = s->res.peer_a;
	if (idx < ENO_MAX_TEPS) {
		fi->peer_data_off = peer_off + peer_syn->tep[idx].off;
		fi->peer_data_len = peer_syn->tep[idx].len;
	}
}

static __always_inline void negcache_add(const struct flow_key *k, const struct tcpcrypt_config *c)
{
	struct negcache_key nk;
	struct negcache_val nv = {.cause = ENO_FAIL_BLACKHOLE};

	dest_key(k, &nk);
	nv.expires_ns = bpf_ktime_get_ns() + (__u64)c->negcache_ttl_s * 1000000000ULL;
	bpf_map_update_elem(&negcache, &nk, &nv, BPF_ANY);
}

static __always_inline int negcache_hit(const struct flow_key *k)
{
	struct negcache_key nk;
	struct negcache_val *nv;

	dest_key(k, &nk);
	nv = bpf_map_lookup_elem(&negcache, &nk);
	if (!nv)
		return 0;
	if (bpf_ktime_get_ns() >= nv->expires_ns) {
		bpf_map_delete_elem(&negcache, &nk);
		return 0;
	}
	__sync_fetch_and_add(&nv->hits, 1);
	return 1;
}

/* Destinations that completed ENO with us lately (as host A). */
static __always_inline void eno_peer_add(const struct flow_key *k, const struct tcpcrypt_config *c)
{
	__u64 until = bpf_ktime_get_ns() + (__u64)c->negcache_ttl_s * 1000000000ULL;
	struct negcache_key nk;

	dest_key(k, &nk);
	bpf_map_update_elem(&eno_peers, &nk, &until, BPF_ANY);
}

static __always_inline int eno_peer(const struct flow_key *k)
{
	struct negcache_key nk;
	__u64 *until;

	dest_key(k, &nk);
	until = bpf_map_lookup_elem(&eno_peers, &nk);
	return until && bpf_ktime_get_ns() < *until;
}

/*
 * Our SYN carries TCP Fast Open data or a cookie, which a SYN with ENO must
 * not (RFC 8547 §4.7: tcpcrypt defines no SYN data).  The kernel only has a
 * cookie from an earlier connection to the same server, which told whether
 * the server speaks ENO:
 *  - it does (eno_peers), or the port is `require`: the data waits and goes
 *    encrypted.  This SYN gets no ENO, TC egress drops it (tfo_held), and
 *    the kernel, its SYN with data refused, sends at once a plain SYN with a
 *    cookie request, which gets ENO; the data follows the handshake;
 *  - it does not: the SYN goes as TFO meant it, without ENO (tfo_plain),
 *    since the data would go in plaintext to that server anyway.
 * No SYN carries both ENO and data, and no SYN data is ever acknowledged on
 * a flow that negotiates, which makes the abort rule of §4.7 vacuous.
 * docs/architecture.md#tcp-fast-open has the measurements.
 */
static __always_inline void syn_with_tfo(struct flow_info *fi, const struct flow_key *k)
{
	if (fi->policy == POLICY_REQUIRE || eno_peer(k))
		return; /* NEGOTIATING, no ENO in this SYN: TC egress holds it */
	fi->state = FLOW_PLAIN;
	fi->reason = ENO_FAIL_TFO;
	STAT_INC(tfo_plain);
}

/* Does the SYN being written carry a TFO cookie (RFC 7413, or its experimental form)? */
static __always_inline int own_syn_tfo_cookie(struct bpf_sock_ops *skops, struct scratch *s)
{
	int n;

	__builtin_memset(&s->opts, 0, sizeof(s->opts));
	s->opts.b[0] = ENO_TFO_KIND;
	n = bpf_load_hdr_opt(skops, s->opts.b, sizeof(s->opts.b), 0);
	if (n > 2)
		return 1;
	__builtin_memset(&s->opts, 0, sizeof(s->opts));
	s->opts.b[0] = ENO_TFO_EXP_KIND;
	s->opts.b[1] = 4;
	s->opts.b[2] = ENO_TFO_EXP_MAGIC >> 8;
	s->opts.b[3] = ENO_TFO_EXP_MAGIC & 0xff;
	n = bpf_load_hdr_opt(skops, s->opts.b, sizeof(s->opts.b), 0);
	return n > 4;
}

/* Active open: offer ENO if policy and route allow it. */
static __always_inline void on_connect(struct bpf_sock_ops *skops, struct tcpcrypt_config *c)
{
	struct flow_key k;
	struct scratch *s = get_scratch();
	struct tcpcrypt_sk_opts *o;
	struct eno_prefs teps;
	struct flow_info *fi;
	__u32 mtu = 0;
	__u8 policy, gopt, with_gopt;

	if (!s)
		return;
	o = sock_opts(skops);
	key_from_skops(skops, &k);
	policy = sock_policy(port_policy(c, k.rport), o);
	if (policy == POLICY_OFF) {
		if (o && (o->set & SKO_SET_ENABLED))
			STAT_INC(sock_off);
		else
			STAT_INC(port_off);
		return;
	}
	if (!route_is_steered(skops, &mtu))
		return;
	fi = &s->fi;
	__builtin_memset(fi, 0, sizeof(*fi));
	fi->role = ENO_ROLE_A;
	fi->policy = policy;
	fi->flags = FLOWF_ACTIVE;
	fi->cookie = bpf_get_socket_cookie(skops);
	fi->start_ns = bpf_ktime_get_ns();
	sock_flow_opts(fi, o);
	if (policy != POLICY_REQUIRE && negcache_hit(&k)) {
		fi->state = FLOW_PLAIN;
		fi->reason = ENO_FAIL_NEGCACHE;
		STAT_INC(negcache_plain);
		set_cb_flags(skops, BPF_SOCK_OPS_STATE_CB_FLAG);
	} else {
		/*
		 * A's b bit is 0; an explicit global suboption only to send a = 1
		 * (§4.2), or the one the socket set (TCP_ENO_SELF_GOPT), with the
		 * socket's TEPs (TCP_ENO_SPECS) if it set them.
		 */
		teps = o && (o->set & SKO_SET_SPECS) ? o->specs : c->teps;
		with_gopt = o && (o->set & SKO_SET_GOPT) ? 1 : c->app_aware;
		gopt = o && (o->set & SKO_SET_GOPT) ? o->gopt : ENO_GOPT_A;
		fi->state = FLOW_NEGOTIATING;
		if (claim_offer(skops, &k, s)) {
			STAT_INC(rs_offered);
			fi->rs_id = s->rs_offer.id;
			fi->rs_tep = s->rs_offer.own.tep;
			fi->rs_expect = s->rs_offer.expect;
			fi->a_opt_len =
			    eno_build_resume(&s->opt, with_gopt, gopt, &s->rs_offer.own);
		} else {
			fi->a_opt_len = eno_build_syn(&s->opt, with_gopt, gopt, &teps);
		}
		if (fi->a_opt_len < 2 || fi->a_opt_len > ENO_OPT_MAX)
			return;
		copy_opt(fi->transcript, s->opt.b, 0, fi->a_opt_len);
		fi->transcript_len = fi->a_opt_len;
		if (c->datapath)
			reduce_mss(skops, &k, mtu);
		set_cb_flags(skops,
			     BPF_SOCK_OPS_STATE_CB_FLAG | BPF_SOCK_OPS_WRITE_HDR_OPT_CB_FLAG);
	}
	if (bpf_map_update_elem(&flows, &k, fi, BPF_ANY) == 0)
		STAT_INC(flows_created);
}

/* Passive open: read A's SYN, choose a TEP, remember the tuple; returns option length. */
/* (resumption: claim_accept; B's option then carries its half and nonce) */
static __always_inline __u32 on_synack_first(struct bpf_sock_ops *skops, struct tcpcrypt_config *c,
					     struct scratch *s, const struct flow_key *k,
					     const struct tcpcrypt_sk_opts *lo, __u8 policy)
{
	struct flow_info *fi = &s->fi;
	struct eno_prefs ours = {.n = 1};
	struct eno_prefs teps;
	int n, optlen, fail, need_a;
	__u8 gopt_a;
	__u32 blen;

	/* the listener's TCP_ENO_SPECS, _AA_MANDATORY and the a bit of _SELF_GOPT */
	teps = lo && (lo->set & SKO_SET_SPECS) ? lo->specs : c->teps;
	need_a = c->need_peer_a || (lo && (lo->set & SKO_SET_AA_MANDATORY) && lo->aa_mandatory);
	if (lo && (lo->set & SKO_SET_GOPT))
		gopt_a = lo->gopt & ENO_GOPT_A;
	else
		gopt_a = c->app_aware ? ENO_GOPT_A : 0;
	__builtin_memset(fi, 0, sizeof(*fi));
	fi->role = ENO_ROLE_B;
	fi->policy = policy;
	fi->start_ns = bpf_ktime_get_ns();
	__builtin_memset(&s->syn, 0, sizeof(s->syn));
	n = bpf_getsockopt(skops, SOL_TCP, TCP_BPF_SYN, &s->syn, 60);
	optlen = n < 20 || n > 60 ? -1 : n - 20;
	/*
	 * A's ISN, already: TC ingress looks at A's first payload (at
	 * peer_isn + 1) also when it is the segment that completes the
	 * handshake (a lost pure ACK, TCP_DEFER_ACCEPT).
	 */
	fi->peer_isn = (__u32)s->syn.th[4] << 24 | (__u32)s->syn.th[5] << 16 |
		       (__u32)s->syn.th[6] << 8 | s->syn.th[7];
	fail = eno_peer_syn(&s->syn.opts, optlen, &s->sc, &s->opt, &s->peer);
	note_syn_tcpopts(fi, &s->sc, 0);
	if (fail == ENO_OK)
		fail = eno_answer_syn(&s->peer, &teps, need_a, &ours.tep[0]);
	if (fail == ENO_OK) {
		/* transcript = A's SYN option (where the scan in s->sc found it) | ours (§4.8) */
		__u32 alen = s->sc.len, aoff = s->sc.off;

		__u8 gopt = ENO_GOPT_B | gopt_a;

		struct negcache_key nk;

		/*
		 * fi->v, the outcome, is read back from memory (volatile), so
		 * that the verifier sees one state, not two, for what follows.
		 */
		dest_key(k, &nk);
		/* a listener with TCP_ENO no-resume (SKO_NO_RESUME) agrees to none */
		fi->v = lo && (lo->cache & SKO_NO_RESUME) ? 0 : claim_accept(s, &nk, ours.tep[0]);
		if (*(volatile __u8 *)&fi->v) {
			STAT_INC(rs_accepted);
			fi->rs_id = s->rs_accept.id;
			fi->rs_tep = ours.tep[0];
		} else {
			s->rs_accept.own.tep = ours.tep[0];
		}
		/* s->peer is parsed; s->opt now takes our SYN-ACK option */
		blen = eno_build_answer(&s->opt, gopt, &s->rs_accept.own, *(volatile __u8 *)&fi->v);
		copy_opt(fi->transcript, s->syn.opts.b, aoff, alen);
		/* B's option: at most 21 bytes (eno_build_answer) */
		for (__u32 i = 0; i < 24; i++) {
			if (i >= blen)
				break;
			fi->transcript[(alen + i) & ENO_MASK] = s->opt.b[i];
		}
		fi->a_opt_len = alen;
		fi->transcript_len = alen + blen;
		fi->state = FLOW_NEGOTIATING;
		fi->tep = ours.tep[0];
		fi->peer_a = !!(s->peer.global & ENO_GOPT_A);
		for (int k = 0; k < ENO_MAX_TEPS; k++) {
			if (k >= s->peer.ntep)
				break;
			if (s->peer.tep[k].id == fi->tep) {
				fi->peer_data_off =
				    s->peer.tep[k].off; /* A's option opens the transcript */
				fi->peer_data_len = s->peer.tep[k].len;
			}
		}
	}
	if (fail != ENO_OK) {
		fi->state = FLOW_PLAIN;
		fi->reason = fail;
		fi->a_opt_len = 0;
		fi->transcript_len = 0;
		count_fail(fail);
	}
	bpf_map_update_elem(&pending, k, fi, BPF_ANY);
	return fail == ENO_OK ? fi->transcript_len - fi->a_opt_len : 0;
}

/*
 * Reserve or write the ENO option; a failure means it is not sent (which
 * cannot happen within the 40 bytes of option space we count on, but is
 * recorded, drop_opt_reserve_failed / drop_opt_store_failed, if it does).
 */
static __always_inline int reserve_opt(struct bpf_sock_ops *skops, __u32 len)
{
	if (!bpf_reserve_hdr_opt(skops, len, 0))
		return 0;
	DROP_INC(DROP_OPT_RESERVE);
	return -1;
}

/* Reserve room for the option at off in fi's transcript, a resumption nonce shortened to fit. */
static __always_inline int reserve_syn_opt(struct bpf_sock_ops *skops, struct flow_info *fi,
					   __u32 off)
{
	__u32 len = fi->transcript[(off + 1) & ENO_MASK];

	if (!bpf_reserve_hdr_opt(skops, len & ENO_MASK, 0))
		return 0;
	if (!rs_shorten(fi, off))
		return -1;
	return bpf_reserve_hdr_opt(skops, (len - 1) & ENO_MASK, 0) ? -1 : 0;
}

static __always_inline void store_opt(struct bpf_sock_ops *skops, const void *opt, __u32 len)
{
	if (bpf_store_hdr_opt(skops, opt, len, 0))
		DROP_INC(DROP_OPT_STORE);
}

static __always_inline void on_hdr_opt_len(struct bpf_sock_ops *skops, struct tcpcrypt_config *c)
{
	__u32 tcp_flags = skops->skb_tcp_flags;
	struct flow_key k;
	struct flow_info *fi;
	struct scratch *s;
	__u32 len;

	key_from_skops(skops, &k);
	if ((tcp_flags & (TH_SYN | TH_ACK)) == (TH_SYN | TH_ACK) && !skops->is_fullsock) {
		fi = bpf_map_lookup_elem(&pending, &k);
		if (!fi) {
			struct tcpcrypt_sk_opts *lo = listener_opts(&k);
			__u8 policy = sock_policy(port_policy(c, k.lport), lo);

			if (policy == POLICY_OFF)
				return;
			if (!bpf_map_lookup_elem(&syn_seen, &k))
				return; /* not from a steered interface, e.g. loopback */
			s = get_scratch();
			if (!s)
				return;
			if (!on_synack_first(skops, c, s, &k, lo, policy))
				return;
			fi = bpf_map_lookup_elem(&pending, &k);
			if (!fi)
				return;
		}
		if (fi->state == FLOW_NEGOTIATING && reserve_syn_opt(skops, fi, fi->a_opt_len))
			DROP_INC(DROP_OPT_RESERVE);
		return;
	}
	fi = bpf_map_lookup_elem(&flows, &k);
	if (!fi)
		return;
	if (tcp_flags & TH_SYN) {
		if (fi->state != FLOW_NEGOTIATING)
			return;
		/* a TCP Fast Open SYN with data: no ENO in it (RFC 8547 §4.7) */
		if (skops->skb_len) {
			syn_with_tfo(fi, &k);
			return;
		}
		/*
		 * SYN black hole (RFC 8547 §4.6 allows dropping ENO from a
		 * retransmitted SYN): after syn_eno_tries SYNs with ENO, go on
		 * without it and remember the destination.
		 */
		if (fi->syn_tx >= c->syn_eno_tries && fi->policy != POLICY_REQUIRE) {
			fi->state = FLOW_PLAIN;
			fi->reason = ENO_FAIL_BLACKHOLE;
			STAT_INC(syn_blackhole);
			negcache_add(&k, c);
			return;
		}
		if (!reserve_syn_opt(skops, fi, 0))
			return;
		if (!fi->rs_id || !(s = get_scratch())) {
			DROP_INC(DROP_OPT_RESERVE);
			return;
		}
		/* no room even with a shorter nonce: a fresh offer (the offer is spent) */
		STAT_INC(rs_unoffered);
		fi->rs_id = 0;
		len = eno_build_syn(&s->opt, c->app_aware, ENO_GOPT_A, &c->teps);
		if (len < 2 || len > ENO_OPT_MAX)
			return;
		copy_opt(fi->transcript, s->opt.b, 0, len);
		fi->a_opt_len = len;
		fi->transcript_len = len;
		reserve_opt(skops, len & ENO_MASK);
		return;
	}
	if (fi->flags & FLOWF_SEND_ACK_OPT)
		reserve_opt(skops, 2);
}

static __always_inline void on_write_hdr_opt(struct bpf_sock_ops *skops)
{
	static const __u8 ack_opt[2] = {ENO_KIND, 2};
	__u32 tcp_flags = skops->skb_tcp_flags;
	struct flow_key k;
	struct flow_info *fi;
	struct scratch *s;
	__u32 off, len;

	key_from_skops(skops, &k);
	if ((tcp_flags & (TH_SYN | TH_ACK)) == (TH_SYN | TH_ACK) && !skops->is_fullsock) {
		fi = bpf_map_lookup_elem(&pending, &k);
		if (!fi || fi->state != FLOW_NEGOTIATING)
			return;
		off = fi->a_opt_len;
		len = fi->transcript_len - off;
	} else {
		fi = bpf_map_lookup_elem(&flows, &k);
		if (!fi)
			return;
		if (!(tcp_flags & TH_SYN)) {
			if (fi->flags & FLOWF_SEND_ACK_OPT)
				store_opt(skops, ack_opt, sizeof(ack_opt));
			return;
		}
		if (fi->state != FLOW_NEGOTIATING)
			return;
		s = get_scratch();
		if (!s)
			return;
		/* a cookie without data: space was reserved, the kernel fills it with NOPs */
		if (own_syn_tfo_cookie(skops, s)) {
			syn_with_tfo(fi, &k);
			return;
		}
		fi->syn_tx++;
		off = 0;
		len = fi->a_opt_len;
	}
	s = get_scratch();
	if (!s)
		return;
	/*
	 * The kernel has written its options (the header's data offset is not
	 * final yet, so they are looked up one by one): note ours for the
	 * data path.
	 */
	note_own_syn_tcpopts(skops, fi, s);
	copy_opt(s->opt.b, fi->transcript, off, len);
	len &= ENO_MASK;
	if (len >= 2 && len <= ENO_OPT_MAX)
		store_opt(skops, s->opt.b, len);
}

/* The SYN-ACK that concludes an active open: finish negotiation as host A. */
static __always_inline void on_active_established(struct bpf_sock_ops *skops,
						  struct tcpcrypt_config *c)
{
	struct flow_key k;
	struct flow_info *fi;
	struct scratch *s;
	struct tcphdr *th;
	int fail;

	key_from_skops(skops, &k);
	fi = bpf_map_lookup_elem(&flows, &k);
	if (!fi)
		return;
	if (fi->state != FLOW_NEGOTIATING) {
		set_cb_flags(skops, BPF_SOCK_OPS_STATE_CB_FLAG);
		return;
	}
	s = get_scratch();
	if (!s)
		return;
	th = (void *)(long)skops->skb_data;
	if ((void *)(th + 1) > (void *)(long)skops->skb_data_end)
		return;
	if (!th->syn) {
		/* simultaneous open with both sides at the default b = 0 (§4.3) */
		fail = ENO_FAIL_ROLE;
	} else {
		fail = peer_syn_option((void *)(long)skops->skb_data_end, th, s);
		note_syn_tcpopts(fi, &s->sc, 0);
	}
	if (fail == ENO_OK)
		fail = complete_offer(fi, c, s);
	if (fail != ENO_OK) {
		fi->state = FLOW_PLAIN;
		fi->reason = fail;
		count_fail(fail);
		set_cb_flags(skops, BPF_SOCK_OPS_STATE_CB_FLAG);
		return;
	}
	record_success(fi, s, fi->a_opt_len);
	eno_peer_add(&k, c);
	record_tcp_params(skops, fi);
	fi->transcript_len = fi->a_opt_len + s->opt.b[1];
	fi->flags |= FLOWF_SEND_ACK_OPT;
	STAT_INC(negotiated);
	if (fi->rs_id && fi->v)
		STAT_INC(rs_resumed);
	else if (fi->rs_id)
		STAT_INC(rs_fresh);
	set_cb_flags(skops, BPF_SOCK_OPS_STATE_CB_FLAG | BPF_SOCK_OPS_WRITE_HDR_OPT_CB_FLAG |
				BPF_SOCK_OPS_PARSE_ALL_HDR_OPT_CB_FLAG);
}

/* The ACK that concludes a passive open: ENO must be in it (§4.6). */
static __always_inline void on_passive_established(struct bpf_sock_ops *skops)
{
	struct flow_key k;
	struct flow_info *fi;
	struct scratch *s;
	struct eno_scan sc;
	int optlen;

	key_from_skops(skops, &k);
	bpf_map_delete_elem(&syn_seen, &k);
	fi = bpf_map_lookup_elem(&pending, &k);
	if (!fi) {
		set_cb_flags(skops, 0);
		return;
	}
	s = get_scratch();
	if (!s)
		return;
	s->fi = *fi;
	bpf_map_delete_elem(&pending, &k);
	fi = &s->fi;
	if (fi->state == FLOW_PLAIN) {
		/* ENO failed on A's SYN: plain TCP, not worth an entry (counted) */
		set_cb_flags(skops, 0);
		return;
	}
	{
		optlen = load_opts((void *)(long)skops->skb_data_end, (void *)(long)skops->skb_data,
				   &s->opts);
		eno_scan_opts(&s->opts, optlen < 0 ? 0 : optlen, &sc);
		if (sc.count > 0) {
			fi->state = FLOW_TCPCRYPT;
			STAT_INC(negotiated);
		} else {
			fi->state = FLOW_PLAIN;
			fi->reason = ENO_FAIL_STRIPPED;
			STAT_INC(stripped);
		}
	}
	fi->cookie = bpf_get_socket_cookie(skops);
	sock_flow_opts(fi, listener_opts(&k));
	record_tcp_params(skops, fi);
	if (bpf_map_update_elem(&flows, &k, fi, BPF_ANY) == 0)
		STAT_INC(flows_created);
	/* stop the per-segment option callbacks inherited from the listener */
	set_cb_flags(skops, BPF_SOCK_OPS_STATE_CB_FLAG);
}

/* Any segment received after the handshake: stop sending the non-SYN option. */
static __always_inline void on_parse_hdr(struct bpf_sock_ops *skops)
{
	struct flow_key k;
	struct flow_info *fi;

	if (skops->skb_tcp_flags & TH_SYN)
		return;
	key_from_skops(skops, &k);
	fi = bpf_map_lookup_elem(&flows, &k);
	if (fi)
		fi->flags &= ~FLOWF_SEND_ACK_OPT;
	set_cb_flags(skops, BPF_SOCK_OPS_STATE_CB_FLAG);
}

static __always_inline void on_state(struct bpf_sock_ops *skops)
{
	struct tcpcrypt_config *c;
	struct flow_info *fi;
	struct flow_key k;

	if (skops->args[1] != BPF_TCP_CLOSE)
		return;
	if (skops->args[0] == BPF_TCP_LISTEN) {
		struct flow_key lk;

		listen_key_skops(skops, &lk);
		bpf_map_delete_elem(&listen_opts, &lk);
		return;
	}
	key_from_skops(skops, &k);
	fi = bpf_map_lookup_elem(&flows, &k);
	if (!fi)
		return;
	/*
	 * An orphaned socket becomes a time-wait socket (also from FIN-WAIT-2)
	 * that sock_ops no longer sees; its ACKs must still be translated.
	 */
	c = get_settings();
	if (fi->state == FLOW_TCPCRYPT && c && c->datapath) {
		if (!(fi->flags & FLOWF_CLOSED))
			STAT_INC(flows_deleted);
		fi->flags |= FLOWF_CLOSED;
		return;
	}
	if (bpf_map_delete_elem(&flows, &k) == 0)
		STAT_INC(flows_deleted);
}

/*
 * A socket starts listening: keep its TCP_ENO_* settings for the SYN-ACKs
 * of its request sockets.  Returns whether it has any (its close must then
 * remove them).
 */
static __always_inline int on_listen(struct bpf_sock_ops *skops)
{
	struct tcpcrypt_sk_opts *o;
	struct flow_key lk;

	listen_key_skops(skops, &lk);
	o = sock_opts(skops);
	if (!o || (!o->set && !o->cache)) {
		bpf_map_delete_elem(&listen_opts, &lk);
		return 0;
	}
	return bpf_map_update_elem(&listen_opts, &lk, o, BPF_ANY) == 0;
}

SEC("sockops")
int tcpcrypt_sockops(struct bpf_sock_ops *skops)
{
	struct tcpcrypt_config *c;

	if (skops->family != AF_INET && skops->family != AF_INET6)
		return 1;
	c = get_settings();
	if (!c)
		return 1;
	/*
	 * A socket of another network namespace (a container in this cgroup):
	 * its route device's ifindex names another namespace's interface, and
	 * its packets, if NATed out of a steered one, never pass the agent.
	 */
	if (bpf_get_netns_cookie(skops) != c->netns_cookie) {
		if (skops->op == BPF_SOCK_OPS_TCP_CONNECT_CB ||
		    skops->op == BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB)
			STAT_INC(foreign_netns);
		return 1;
	}
	switch (skops->op) {
	case BPF_SOCK_OPS_STATE_CB:
		on_state(skops);
		return 1;
	case BPF_SOCK_OPS_PARSE_HDR_OPT_CB:
		on_parse_hdr(skops);
		return 1;
	case BPF_SOCK_OPS_WRITE_HDR_OPT_CB:
		on_write_hdr_opt(skops);
		return 1;
	case BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB:
		/*
		 * Also while the agent stops: host A decided with its ACK, and
		 * the flow must be steered (and reset by the agent) rather
		 * than run in plaintext under A's Init1.
		 */
		on_passive_established(skops);
		return 1;
	}
	c = get_config();
	if (!c)
		return 1;
	switch (skops->op) {
	case BPF_SOCK_OPS_TCP_LISTEN_CB:
		/* children inherit these; PASSIVE_ESTABLISHED trims them */
		set_cb_flags(skops, BPF_SOCK_OPS_WRITE_HDR_OPT_CB_FLAG |
					(on_listen(skops) ? BPF_SOCK_OPS_STATE_CB_FLAG : 0));
		break;
	case BPF_SOCK_OPS_TCP_CONNECT_CB:
		on_connect(skops, c);
		break;
	case BPF_SOCK_OPS_HDR_OPT_LEN_CB:
		on_hdr_opt_len(skops, c);
		break;
	case BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB:
		on_active_established(skops, c);
		break;
	}
	return 1;
}
