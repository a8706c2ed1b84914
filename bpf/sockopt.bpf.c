// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The application API (include/tcpcrypt/tcpcrypt.h): the TCP_ENO_* and
 * TCP_CRYPT_* socket options at level IPPROTO_TCP, for unmodified kernels,
 * as cgroup/setsockopt and cgroup/getsockopt programs attached beside
 * sock_ops (docs/architecture.md#the-application-api).
 *
 * setsockopt runs before the kernel: one of our options is stored in the
 * socket's storage (sk_opts), which sock_ops reads when it builds or answers
 * the ENO option, and the kernel handler is skipped (optlen = -1).
 * getsockopt runs after the kernel, which answered ENOPROTOOPT for a number
 * it does not know: a fact of the connection comes from the maps sock_ops and
 * the agent fill (flows, sessions), keyed by the socket's 4-tuple.  Every
 * other option and level returns at the first test, untouched.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "tcpcrypt/tcpcrypt.h"
#include "maps.bpf.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

#define IPPROTO_TCP_ 6
#define EINVAL_	     22
#define ENOTCONN_    107
#define EISCONN_     106
#define EOPNOTSUPP_  95
#define ECONNRESET_  104
#define ENOPROTOOPT_ 92
#define ENOMEM_	     12

/* include/linux/tcp_states.h, the values of bpf_sock.state */
#define TCP_ESTABLISHED_ 1
#define TCP_SYN_SENT_	 2
#define TCP_SYN_RECV_	 3
#define TCP_CLOSE_	 7
#define TCP_LISTEN_	 10

/* the public values are the contract's: one definition each */
_Static_assert(TCP_CRYPT_NO_RESUME == SKO_NO_RESUME, "TCP_CRYPT_NO_RESUME");
_Static_assert(TCP_CRYPT_NO_CACHE == SKO_NO_CACHE, "TCP_CRYPT_NO_CACHE");
_Static_assert(TCP_ENO_SESSID_LEN == TCPCRYPT_SESSID_LEN, "session ID length");
_Static_assert(TCP_ENO_TRANSCRIPT_MAX == TCPCRYPT_TRANSCRIPT_MAX, "transcript length");
_Static_assert(TCP_ENO_GOPT_B == ENO_GOPT_B && TCP_ENO_GOPT_A == ENO_GOPT_A, "gopt bits");
_Static_assert(TCP_ENO_TEP_P256 == TEP_P256 && TCP_ENO_TEP_X448 == TEP_X448, "TEP ids");
_Static_assert(TCP_CRYPT_AEAD_AES_128_GCM == TCPCRYPT_AEAD_AES_128_GCM &&
		   TCP_CRYPT_AEAD_AES_256_GCM == TCPCRYPT_AEAD_AES_256_GCM &&
		   TCP_CRYPT_AEAD_CHACHA20_POLY1305 == TCPCRYPT_AEAD_CHACHA20_POLY1305,
	       "AEAD ids");
_Static_assert(TCP_ENO_SPECS_MAX == sizeof(((struct eno_prefs *)0)->tep), "TEP list length");

/* The connection of sk, keyed as sock_ops keys it (v4-mapped IPv6 as IPv4). */
static __always_inline void key_from_sk(const struct bpf_sock *sk, struct flow_key *k)
{
	const struct bpf_sock *p = sk;

	__builtin_memset(k, 0, sizeof(*k));
	k->family = sk->family;
	k->lport = sk->src_port;
	k->rport = bpf_ntohs(sk->dst_port);
	/*
	 * Each address read in its own branch (through a barrier): the compiler
	 * would otherwise pick the field's offset at run time, which the
	 * verifier refuses on a socket pointer.
	 */
	if (sk->family == AF_INET) {
		asm volatile("" : "+r"(p));
		k->laddr[0] = p->src_ip4;
		k->raddr[0] = p->dst_ip4;
	} else if (sk->dst_ip6[0] == 0 && sk->dst_ip6[1] == 0 &&
		   sk->dst_ip6[2] == bpf_htonl(0xffff)) {
		asm volatile("" : "+r"(p));
		k->family = AF_INET;
		k->laddr[0] = p->src_ip6[3];
		k->raddr[0] = p->dst_ip6[3];
	} else {
		k->laddr[0] = sk->src_ip6[0];
		k->laddr[1] = sk->src_ip6[1];
		k->laddr[2] = sk->src_ip6[2];
		k->laddr[3] = sk->src_ip6[3];
		k->raddr[0] = sk->dst_ip6[0];
		k->raddr[1] = sk->dst_ip6[1];
		k->raddr[2] = sk->dst_ip6[2];
		k->raddr[3] = sk->dst_ip6[3];
	}
}

/* Before the SYN: options that shape the SYN or its answer may still change. */
static __always_inline int pre_syn(const struct bpf_sock *sk)
{
	return sk->state == TCP_CLOSE_;
}

/*
 * The negotiated flow of this socket's connection, or NULL with *err:
 * -ENOTCONN while there is none yet (not connected, handshake), -EOPNOTSUPP
 * when the connection is plain (ENO fell back or never ran).
 */
static __always_inline struct flow_info *conn_flow(struct bpf_sockopt *ctx,
						   const struct bpf_sock *sk,
						   const struct tcpcrypt_config *c,
						   struct flow_key *k, int *err)
{
	struct flow_info *fi;
	__u32 st = sk->state;

	*err = -ENOTCONN_;
	if (st == TCP_CLOSE_ || st == TCP_SYN_SENT_ || st == TCP_SYN_RECV_ || st == TCP_LISTEN_)
		return NULL;
	*err = -EOPNOTSUPP_;
	if (!c || bpf_get_netns_cookie(ctx) != c->netns_cookie)
		return NULL;
	key_from_sk(sk, k);
	fi = bpf_map_lookup_elem(&flows, k);
	if (!fi || fi->state == FLOW_PLAIN)
		return NULL;
	if (fi->state != FLOW_TCPCRYPT) {
		*err = -ENOTCONN_;
		return NULL;
	}
	return fi;
}

/*
 * The session of an encrypted connection once its keys exist, or NULL with
 * *err: -ENOTCONN during the key exchange, -ECONNRESET if it was aborted
 * first, -EOPNOTSUPP if nothing will encrypt it (the agent runs
 * --negotiate-only).
 */
static __always_inline struct session_info *conn_session(struct bpf_sockopt *ctx,
							 const struct bpf_sock *sk,
							 const struct tcpcrypt_config *c, int *err)
{
	struct session_info *si;
	struct flow_info *fi;
	struct flow_key k;

	fi = conn_flow(ctx, sk, c, &k, err);
	if (!fi)
		return NULL;
	if (!c->datapath) {
		*err = -EOPNOTSUPP_;
		return NULL;
	}
	si = bpf_map_lookup_elem(&sessions, &k);
	/* a previous connection's on this 4-tuple: this one's is not there yet */
	if (si && (si->local_isn != fi->local_isn || si->peer_isn != fi->peer_isn))
		si = NULL;
	/* the ID starts with the TEP byte, never 0 once it exists */
	if (si && si->session_id[0])
		return si;
	*err = si && si->state == SESSION_ABORTED ? -ECONNRESET_ : -ENOTCONN_;
	return NULL;
}

static __always_inline int put_int(struct bpf_sockopt *ctx, int v)
{
	int *p = ctx->optval;

	if ((void *)(p + 1) > ctx->optval_end)
		return -EINVAL_;
	*p = v;
	ctx->optlen = sizeof(int);
	return 0;
}

/* len bytes of src (a map value of at least max bytes), or -EINVAL if they do not fit. */
static __always_inline int put_bytes(struct bpf_sockopt *ctx, const __u8 *src, __u32 len, __u32 max)
{
	__u8 *p = ctx->optval;

	if (len > max || (void *)(p + len) > ctx->optval_end)
		return -EINVAL_;
	for (__u32 i = 0; i < TCPCRYPT_TRANSCRIPT_MAX; i++) {
		if (i >= len || i >= max)
			break;
		if ((void *)(p + i + 1) > ctx->optval_end)
			return -EINVAL_;
		p[i] = src[i];
	}
	ctx->optlen = len;
	return 0;
}

/* The global suboption of one side's SYN-form option at off in the transcript, 0 if none. */
static __always_inline int transcript_gopt(const struct flow_info *fi, __u32 off)
{
	__u8 len, b;

	if (off + 2 >= TCPCRYPT_TRANSCRIPT_MAX)
		return 0;
	len = fi->transcript[off + 1];
	b = fi->transcript[off + 2];
	return len > 2 && b < 0x20 ? b : 0;
}

static __always_inline int get_opt(struct bpf_sockopt *ctx, struct bpf_sock *sk)
{
	struct tcpcrypt_config *c = get_settings();
	struct tcpcrypt_sk_opts *o = bpf_sk_storage_get(&sk_opts, sk, 0, 0);
	__u8 set = o ? o->set : 0;
	struct session_info *si;
	struct flow_info *fi;
	struct flow_key k;
	int err;

	switch (ctx->optname) {
	case TCP_ENO_ENABLED:
		return put_int(ctx, o && (set & SKO_SET_ENABLED) ? o->enabled : -1);
	case TCP_ENO_SESSID:
		if ((void *)((__u8 *)ctx->optval + TCPCRYPT_SESSID_LEN) > ctx->optval_end)
			return -EINVAL_;
		si = conn_session(ctx, sk, c, &err);
		if (!si)
			return err;
		return put_bytes(ctx, si->session_id, TCPCRYPT_SESSID_LEN, TCPCRYPT_SESSID_LEN);
	case TCP_ENO_NEGSPEC:
		fi = conn_flow(ctx, sk, c, &k, &err);
		return fi ? put_int(ctx, fi->tep | (fi->v ? TCP_ENO_V_BIT : 0)) : err;
	case TCP_ENO_SPECS:
		if (o && (set & SKO_SET_SPECS))
			return put_bytes(ctx, o->specs.tep, o->specs.n, sizeof(o->specs.tep));
		if (!c)
			return -EOPNOTSUPP_;
		return put_bytes(ctx, c->teps.tep, c->teps.n, sizeof(c->teps.tep));
	case TCP_ENO_SELF_GOPT:
		if (o && (set & SKO_SET_GOPT) && sk->state != TCP_LISTEN_)
			return put_int(ctx, o->gopt);
		fi = conn_flow(ctx, sk, c, &k, &err);
		if (fi)
			return put_int(
			    ctx, transcript_gopt(fi, fi->role == ENO_ROLE_A ? 0 : fi->a_opt_len));
		/* what this socket would send: B always sets b (RFC 8547 §4.3) */
		err = sk->state == TCP_LISTEN_ ? ENO_GOPT_B : 0;
		if (o && (set & SKO_SET_GOPT))
			return put_int(ctx, err | o->gopt);
		return put_int(ctx, err | (c && c->app_aware ? ENO_GOPT_A : 0));
	case TCP_ENO_PEER_GOPT:
		fi = conn_flow(ctx, sk, c, &k, &err);
		if (!fi)
			return err;
		return put_int(ctx,
			       transcript_gopt(fi, fi->role == ENO_ROLE_A ? fi->a_opt_len : 0));
	case TCP_ENO_AA_MANDATORY:
		/* a socket can make it mandatory, not relax the system's */
		return put_int(ctx, (c && c->need_peer_a) ||
					(o && (set & SKO_SET_AA_MANDATORY) && o->aa_mandatory));
	case TCP_ENO_ROLE:
		fi = conn_flow(ctx, sk, c, &k, &err);
		if (!fi)
			return err;
		return put_int(ctx, fi->role == ENO_ROLE_A ? TCP_ENO_ROLE_A : TCP_ENO_ROLE_B);
	case TCP_ENO_TRANSCRIPT:
		fi = conn_flow(ctx, sk, c, &k, &err);
		if (!fi)
			return err;
		return put_bytes(ctx, fi->transcript, fi->transcript_len, TCPCRYPT_TRANSCRIPT_MAX);
	case TCP_CRYPT_AEAD:
		return put_int(ctx, o && (set & SKO_SET_AEAD) ? o->aead : 0);
	case TCP_CRYPT_NEGAEAD:
		si = conn_session(ctx, sk, c, &err);
		return si ? put_int(ctx, si->aead) : err;
	case TCP_CRYPT_CACHE:
		return put_int(ctx, o ? o->cache & (SKO_NO_RESUME | SKO_NO_CACHE) : 0);
	}
	return -ENOPROTOOPT_;
}

static __always_inline int valid_tep(__u8 t)
{
	return t >= TEP_P256 && t <= TEP_X448;
}

/* A TEP list for TCP_ENO_SPECS: 1..8 distinct TEPs we speak (eno.h gives repeats no meaning). */
static __always_inline int parse_specs(const struct bpf_sockopt *ctx, struct eno_prefs *p)
{
	const __u8 *b = ctx->optval;
	__u8 seen = 0;
	int n = ctx->optlen;

	if (n < 1 || n > TCP_ENO_SPECS_MAX)
		return -EINVAL_;
	for (int i = 0; i < TCP_ENO_SPECS_MAX; i++) {
		__u8 bit;

		if (i >= n)
			break;
		if ((void *)(b + i + 1) > ctx->optval_end)
			return -EINVAL_;
		if (!valid_tep(b[i]))
			return -EINVAL_;
		bit = 1 << ((b[i] - TEP_P256) & 7);
		if (seen & bit)
			return -EINVAL_;
		seen |= bit;
		p->tep[i] = b[i];
	}
	p->n = n;
	return 0;
}

static __always_inline int get_int_arg(const struct bpf_sockopt *ctx, int *v)
{
	const int *p = ctx->optval;

	if (ctx->optlen < (int)sizeof(int) || (void *)(p + 1) > ctx->optval_end)
		return -EINVAL_;
	*v = *p;
	return 0;
}

static __always_inline int set_opt(struct bpf_sockopt *ctx, struct bpf_sock *sk)
{
	struct tcpcrypt_sk_opts *o;
	struct eno_prefs specs = {};
	struct tcpcrypt_config *c;
	struct flow_info *fi;
	struct flow_key k;
	int v = 0, err;

	switch (ctx->optname) {
	case TCP_ENO_SPECS:
		err = parse_specs(ctx, &specs);
		break;
	case TCP_ENO_ENABLED:
	case TCP_ENO_SELF_GOPT:
	case TCP_ENO_AA_MANDATORY:
	case TCP_CRYPT_AEAD:
	case TCP_CRYPT_CACHE:
	case TCP_CRYPT_CACHE_FLUSH:
		err = get_int_arg(ctx, &v);
		break;
	default: /* the read-only ones, and numbers of the block we do not define */
		return -ENOPROTOOPT_;
	}
	if (err)
		return err;
	switch (ctx->optname) {
	case TCP_ENO_ENABLED:
		err = v < -1 || v > 1 ? -EINVAL_ : 0;
		break;
	case TCP_ENO_SELF_GOPT:
		err = v & ~(ENO_GOPT_A | ENO_GOPT_B) ? -EINVAL_ : 0;
		break;
	case TCP_ENO_AA_MANDATORY:
		err = v & ~1 ? -EINVAL_ : 0;
		break;
	case TCP_CRYPT_AEAD:
		err = v && v != TCPCRYPT_AEAD_AES_128_GCM && v != TCPCRYPT_AEAD_AES_256_GCM &&
			      v != TCPCRYPT_AEAD_CHACHA20_POLY1305
			  ? -EINVAL_
			  : 0;
		break;
	case TCP_CRYPT_CACHE:
		err = v & ~(SKO_NO_RESUME | SKO_NO_CACHE) ? -EINVAL_ : 0;
		break;
	}
	if (err)
		return err;
	if (ctx->optname == TCP_CRYPT_CACHE_FLUSH && !pre_syn(sk)) {
		/* on a connection: the flow tells the agent (RFC 8548 §3.5) */
		c = get_settings();
		fi = conn_flow(ctx, sk, c, &k, &err);
		if (!fi)
			return err == -ENOTCONN_ ? -ENOTCONN_ : -EOPNOTSUPP_;
		fi->flags |= FLOWF_FLUSH;
		return 0;
	}
	if (!pre_syn(sk))
		return -EISCONN_;
	o = bpf_sk_storage_get(&sk_opts, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (!o)
		return -ENOMEM_;
	switch (ctx->optname) {
	case TCP_ENO_ENABLED:
		if (v < 0) {
			o->set &= ~SKO_SET_ENABLED;
		} else {
			o->set |= SKO_SET_ENABLED;
			o->enabled = v;
		}
		break;
	case TCP_ENO_SPECS:
		o->specs = specs;
		o->set |= SKO_SET_SPECS;
		break;
	case TCP_ENO_SELF_GOPT:
		o->gopt = v;
		o->set |= SKO_SET_GOPT;
		break;
	case TCP_ENO_AA_MANDATORY:
		o->aa_mandatory = v;
		o->set |= SKO_SET_AA_MANDATORY;
		break;
	case TCP_CRYPT_AEAD:
		o->aead = v;
		if (v)
			o->set |= SKO_SET_AEAD;
		else
			o->set &= ~SKO_SET_AEAD;
		break;
	case TCP_CRYPT_CACHE:
		o->cache = (o->cache & SKO_FLUSH) | v;
		break;
	case TCP_CRYPT_CACHE_FLUSH:
		o->cache |= SKO_FLUSH;
		break;
	}
	return 0;
}

/* Ours: IPPROTO_TCP, a TCP socket, a number of the block. */
static __always_inline int ours(const struct bpf_sockopt *ctx)
{
	return ctx->level == IPPROTO_TCP_ &&
	       ((__u32)ctx->optname & TCP_ENO_OPT_MASK) == TCP_ENO_OPT_BASE;
}

SEC("cgroup/getsockopt")
int tcpcrypt_getsockopt(struct bpf_sockopt *ctx)
{
	struct bpf_sock *sk;
	int err;

	if (!ours(ctx))
		return 1;
	sk = ctx->sk;
	if (!sk || sk->protocol != IPPROTO_TCP_)
		return 1;
	err = get_opt(ctx, sk);
	if (err == -ENOPROTOOPT_)
		return 1; /* a number of the block we do not define: the kernel's answer */
	ctx->retval = err;
	return 1;
}

SEC("cgroup/setsockopt")
int tcpcrypt_setsockopt(struct bpf_sockopt *ctx)
{
	struct bpf_sock *sk;
	int err;

	if (!ours(ctx))
		return 1;
	sk = ctx->sk;
	if (!sk || sk->protocol != IPPROTO_TCP_)
		return 1;
	err = set_opt(ctx, sk);
	if (err == -ENOPROTOOPT_)
		return 1; /* read-only, or not defined: the kernel's ENOPROTOOPT */
	ctx->optlen = -1; /* the kernel does not know these numbers: never pass them on */
	if (err) {
		bpf_set_retval(err);
		return 0;
	}
	return 1;
}
