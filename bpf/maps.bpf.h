/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Maps shared by all tcpcrypt BPF programs.  Each object declares them with
 * LIBBPF_PIN_BY_NAME; tcpcryptd opens every object with the same pin root,
 * so the first object creates and pins a map and the others reuse it.
 */
#ifndef TCPCRYPT_MAPS_BPF_H
#define TCPCRYPT_MAPS_BPF_H

#include "tcpcrypt_common.h"

#define AF_INET	 2
#define AF_INET6 10
#define SOL_TCP	 6

/* Connections that take part in ENO, keyed by 4-tuple; removed on close. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 262144);
	__type(key, struct flow_key);
	__type(value, struct flow_info);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} MAP_FLOWS_NAME SEC(".maps");

/*
 * Passive opens between SYN-ACK and the third ACK: the request socket has
 * no storage of its own and syncookies may drop it, so state is per tuple.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct flow_key);
	__type(value, struct flow_info);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} MAP_PENDING_NAME SEC(".maps");

/*
 * The socket iterators (iter.bpf.c) need only the flow maps: declaring no
 * other keeps them working on the pins of an agent of another version, whose
 * other maps may have other layouts (tcpcryptd --detach-only after an upgrade).
 */
#ifndef TCPCRYPT_FLOW_MAPS_ONLY

/* Per-port policy (enum port_policy); ports not listed use the default. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u16);
	__type(value, __u8);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} MAP_PORTS_NAME SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tcpcrypt_config);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} MAP_CONFIG_NAME SEC(".maps");

/* Derived from the ports map (struct port_state), written by tcpcryptctl and tcpcryptd. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct port_state);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} MAP_PORTSTATE_NAME SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tcpcrypt_stats);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} MAP_STATS_NAME SEC(".maps");

/* Per-CPU drop counters, one per enum drop_reason (DROP_INC). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, DROP__MAX);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} MAP_DROPS_NAME SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct negcache_key);
	__type(value, struct negcache_val);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} MAP_NEGCACHE_NAME SEC(".maps");

/*
 * Destinations that completed ENO with this host as A lately: key as the
 * negative cache, value until when (bpf_ktime_get_ns).  It tells sock_ops
 * whether a TCP Fast Open request to it should wait and go encrypted.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct negcache_key);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} MAP_ENO_PEERS_NAME SEC(".maps");

/* Interfaces tcpcryptd steers, and their capture veths: ifindex -> info. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 2 * TCPCRYPT_MAX_IFACES);
	__type(key, __u32);
	__type(value, struct iface_info);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} MAP_IFACES_NAME SEC(".maps");

/* The agent's encrypted connections, written by the agent for inspection. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 262144);
	__type(key, struct flow_key);
	__type(value, struct session_info);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} MAP_SESSIONS_NAME SEC(".maps");

/* Counters of the agent's data path. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct agent_counters);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} MAP_DPSTATS_NAME SEC(".maps");

/* The agent's sockets per steered interface (slot). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, TCPCRYPT_MAX_IFACES);
	__type(key, __u32);
	__type(value, struct agent_iface);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} MAP_AGENT_NAME SEC(".maps");

/* The agent's AF_XDP sockets, keyed by xsk_key(slot, kind, queue). */
struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, TCPCRYPT_MAX_IFACES * 2 * XSK_QUEUES_MAX);
	__type(key, __u32);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} MAP_XSKS_NAME SEC(".maps");

/* SYNs that arrived on a steered interface (recorded by XDP): tuple -> ifindex. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct flow_key);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} MAP_SYNSEEN_NAME SEC(".maps");

/* Per-socket TCP_ENO_* settings (struct tcpcrypt_sk_opts), socket-local storage. */
struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct tcpcrypt_sk_opts);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} MAP_SKOPTS_NAME SEC(".maps");

/*
 * Session resumption (docs/architecture.md#session-resumption-on-the-wire):
 * offers to peers (host A) and acceptances of peers' offers (host B),
 * published by the agent, each claimed by one connection at most with
 * bpf_map_delete_elem.  rs_cache and rs_ctl are the agent's and
 * tcpcryptctl's only (the public view of the cache, flush requests).
 * Not preallocated: up to 4096 peers' offers and acceptances would pin
 * some 25 MB of kernel memory, and a deleted element is freed only after
 * an RCU grace period, never reused under a reader's copy.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 4096);
	__type(key, struct negcache_key);
	__type(value, struct rs_peer);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} MAP_RS_PEERS_NAME SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 4096 * RS_OFFERS_PER_PEER);
	__type(key, struct rs_offer_key);
	__type(value, struct rs_offer);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} MAP_RS_OFFERS_NAME SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 4096 * 2 * RS_OFFERS_PER_PEER);
	__type(key, struct eno_rshalf);
	__type(value, struct rs_accept);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} MAP_RS_ACCEPTS_NAME SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 4096);
	__type(key, struct rs_chain_key);
	__type(value, struct rs_chain);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} MAP_RS_CACHE_NAME SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct rs_ctl);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} MAP_RS_CTL_NAME SEC(".maps");

/* The destination of a flow, as the negative cache and eno_peers key it. */
static __always_inline void dest_key(const struct flow_key *k, struct negcache_key *nk)
{
	__builtin_memset(nk, 0, sizeof(*nk));
	nk->family = k->family;
	__builtin_memcpy(nk->addr, k->raddr, sizeof(nk->addr));
}

#define STAT_INC(field)                                                                            \
	do {                                                                                       \
		__u32 z_ = 0;                                                                      \
		struct tcpcrypt_stats *s_ = bpf_map_lookup_elem(&stats, &z_);                      \
		if (s_)                                                                            \
			s_->field++;                                                               \
	} while (0)

/* Count a drop (or an option not written) under its reason, enum drop_reason. */
#define DROP_INC(reason)                                                                           \
	do {                                                                                       \
		__u32 r_ = (reason);                                                               \
		__u64 *n_ = bpf_map_lookup_elem(&drops, &r_);                                      \
		if (n_)                                                                            \
			(*n_)++;                                                                   \
	} while (0)

/*
 * The configuration, whether or not the agent negotiates new connections:
 * steering and the closing of encrypted flows go on while it starts and
 * stops (enabled = 0), so that no segment of such a flow leaves unencrypted.
 */
static __always_inline struct tcpcrypt_config *get_settings(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&settings, &zero);
}

/* The configuration while the agent negotiates new connections, else NULL. */
static __always_inline struct tcpcrypt_config *get_config(void)
{
	struct tcpcrypt_config *c = get_settings();

	return c && c->enabled ? c : NULL;
}

/* Does the data path take this flow (it negotiated tcpcrypt and the agent encrypts)? */
static __always_inline int flow_steered(const struct tcpcrypt_config *c, const struct flow_key *k)
{
	struct flow_info *fi;

	if (!c->datapath)
		return 0;
	fi = bpf_map_lookup_elem(&flows, k);
	return fi && fi->state == FLOW_TCPCRYPT;
}

/* Is some port set to require? */
static __always_inline int require_ports(void)
{
	__u32 zero = 0;
	struct port_state *ps = bpf_map_lookup_elem(&portstate, &zero);

	return ps && ps->nrequire;
}

static __always_inline __u8 port_policy(const struct tcpcrypt_config *c, __u16 port)
{
	__u8 *p = bpf_map_lookup_elem(&ports, &port);

	return p ? *p : c->default_policy;
}

#endif /* TCPCRYPT_FLOW_MAPS_ONLY */

#endif
