/* SPDX-License-Identifier: MIT */
/* Loading, pinning and attaching the tcpcrypt BPF programs. */
#ifndef TCPCRYPT_BPF_SETUP_H
#define TCPCRYPT_BPF_SETUP_H

#include <stdint.h>
#include "tcpcrypt_common.h"

struct agent_opts {
	const char *pin_dir;
	const char *cgroup;
	const char *ifnames[TCPCRYPT_MAX_IFACES];
	int nifaces;
	struct tcpcrypt_config cfg;
	int xdp_flags;	       /* 0 (driver mode, falling back to generic), or XDP_FLAGS_SKB_MODE */
	const char *keylog;    /* --keylog FILE, or NULL */
	int test_cut_segments; /* test mode: random wire segment boundaries */
	uint64_t rekey_bytes;  /* --rekey-bytes: new keys after this much plaintext sent */
	int verbose;
};

struct bpf_state;

/* Load, pin and attach everything; prints a precise error and returns NULL on failure. */
struct bpf_state *bpf_setup(const struct agent_opts *o);
/* A pinned map's fd (owned by st), or -1. */
int bpf_map_fd_by_name(struct bpf_state *st, const char *name);
/* The agent's end of the capture veth of steered interface number slot. */
const char *bpf_capture_ifname(struct bpf_state *st, int slot);
/* ... and the kernel's end, where the agent injects the peer's plaintext. */
const char *bpf_capture_kernel_ifname(struct bpf_state *st, int slot);
/* Mark the agent not ready, detach all programs, unpin all maps. */
void bpf_teardown(struct bpf_state *st, const struct agent_opts *o);

#endif
