/* SPDX-License-Identifier: MIT */
/* Loading, pinning and attaching the tcpcrypt BPF programs. */
#ifndef TCPCRYPT_BPF_SETUP_H
#define TCPCRYPT_BPF_SETUP_H

#include <stdbool.h>
#include <stdint.h>
#include "tcpcrypt_common.h"

/* How the agent takes the packets of its capture veth (bpf/capture.bpf.c). */
enum { CAPTURE_PACKET = 0, CAPTURE_XDP = 1 };

struct agent_opts {
	const char *pin_dir;
	const char *cgroup;
	const char *ifnames[TCPCRYPT_MAX_IFACES];
	int nifaces;
	struct tcpcrypt_config cfg;
	int xdp_flags;	       /* 0 (driver mode, falling back to generic), or XDP_FLAGS_SKB_MODE */
	int multi_buffer;      /* inject in 64 KB units (XDP_USE_SG), default 1 */
	int capture_mode;      /* CAPTURE_PACKET (default) or CAPTURE_XDP */
	const char *keylog;    /* --keylog FILE, or NULL */
	int test_cut_segments; /* test mode: random wire segment boundaries */
	uint64_t rekey_bytes;  /* --rekey-bytes: new keys after this much plaintext sent */
	unsigned key_pool;     /* --key-pool: key pairs made ahead of time per TEP, 0: none */
	unsigned key_reuse_ms; /* --key-reuse: host B's key pair lifetime, 0: one per connection */
	size_t cache_size;     /* --cache-size: session cache chains (resumption) */
	uint32_t cache_ttl_s;  /* --cache-ttl: how long a chain is kept */
	int detach_only;       /* --detach-only: remove what a dead agent left, run nothing */
	int force;	       /* --force: ... aborting its encrypted connections */
	int verbose;
};

struct bpf_state;

/*
 * Load, pin and attach everything, not negotiating yet (see bpf_negotiate);
 * prints a precise error and returns NULL on failure.
 */
struct bpf_state *bpf_setup(const struct agent_opts *o);
/* A pinned map's fd (owned by st), or -1. */
/* The maps the data path uses, from the skeletons (fds owned by st). */
struct dp_maps {
	int flows, pending, sessions, negcache, xsks, dpstats, agent, capture_seen;
	int rs_peers, rs_offers, rs_accepts, rs_cache, rs_ctl; /* resumption */
};
void bpf_dp_maps(struct bpf_state *st, struct dp_maps *m);
/* The agent's end of the capture veth of steered interface number slot. */
const char *bpf_capture_ifname(struct bpf_state *st, int slot);
/* ... and the kernel's end, where the agent injects the peer's plaintext. */
const char *bpf_capture_kernel_ifname(struct bpf_state *st, int slot);
/*
 * Negotiate new connections (on) or not (enabled in the settings map; a new
 * bpf_setup does not).  Segments of encrypted flows are steered either way.
 */
int bpf_negotiate(struct bpf_state *st, const struct agent_opts *o, bool on);
/* What bpf_reset_sockets aborts. */
struct bpf_reset {
	/* local sockets of encrypted flows negotiated before this (CLOCK_MONOTONIC) */
	uint64_t before_ns;
	bool handshakes; /* ... and passive opens that answered ENO, awaiting the third ACK */
	bool dry_run;	 /* count them, abort nothing */
};

/*
 * Abort (bpf_sock_destroy) the sockets r names, in this network namespace,
 * with the flow maps pinned under pin_dir.  Returns how many, or -errno.
 */
int bpf_reset_sockets(const char *pin_dir, const struct bpf_reset *r);
/*
 * What an agent left attached and pinned under pin_dir (it was killed):
 * remove the TC filters, capture veths, links and maps.  Refuses while local
 * sockets of encrypted flows exist, unless force, which aborts them first.
 * The caller holds the pin directory's lock.  0, or -1 with a message.
 */
int bpf_detach_pinned(const char *pin_dir, bool force, __u64 netns_cookie);
/* Mark the agent not ready, detach all programs, unpin all maps. */
void bpf_teardown(struct bpf_state *st, const struct agent_opts *o);

#endif
