// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>
#include "bpf_setup.h"
#include "sockops.skel.h"
#include "ingress.skel.h"
#include "tc_ingress.skel.h"

/* Our TC filter: a fixed handle and priority, so a restart replaces it. */
#define TC_HANDLE 0x7463
#define TC_PRIO	  0x7463

struct bpf_state {
	struct sockops *sockops;
	struct ingress *ingress;
	struct tc_ingress *tc;
	int tc_ifindex[TCPCRYPT_MAX_IFACES]; /* where our TC filter is attached */
	bool tc_hook_created[TCPCRYPT_MAX_IFACES];
	struct bpf_link *cg_link;
	int xdp_fds[TCPCRYPT_MAX_IFACES]; /* XDP bpf_link fds; closing one detaches */
	int cg_fd;
};

static int config_write(struct bpf_map *map, const struct tcpcrypt_config *cfg)
{
	__u32 zero = 0;

	return bpf_map__update_elem(map, &zero, sizeof(zero), cfg, sizeof(*cfg), BPF_ANY);
}

/* Ports set to require in a ports map reused from a previous run. */
static __u16 count_require(struct bpf_map *ports)
{
	__u16 key, next;
	__u32 n = 0;
	int fd = bpf_map__fd(ports), err;

	for (err = bpf_map_get_next_key(fd, NULL, &next); !err;
	     err = bpf_map_get_next_key(fd, &key, &next)) {
		__u8 pol;

		key = next;
		if (!bpf_map_lookup_elem(fd, &key, &pol) && pol == POLICY_REQUIRE)
			n++;
	}
	return n > 0xffff ? 0xffff : n;
}

static int ifaces_write(struct bpf_map *map, const struct agent_opts *o)
{
	for (int i = 0; i < o->nifaces; i++) {
		__u32 ifindex = if_nametoindex(o->ifnames[i]);
		__u8 one = 1;

		if (bpf_map__update_elem(map, &ifindex, sizeof(ifindex), &one, sizeof(one),
					 BPF_ANY)) {
			fprintf(stderr, "tcpcryptd: cannot record interface %s: %s\n",
				o->ifnames[i], strerror(errno));
			return -1;
		}
	}
	return 0;
}

static void explain_load_error(const char *what, int err)
{
	fprintf(stderr, "tcpcryptd: loading the %s BPF program failed: %s\n", what, strerror(-err));
	if (err == -EPERM)
		fprintf(stderr, "tcpcryptd: run as root (needs CAP_BPF, CAP_NET_ADMIN, "
				"CAP_SYS_ADMIN)\n");
	else
		fprintf(stderr, "tcpcryptd: the verifier's reason is in the libbpf log above; "
				"a stale pin directory from another version can also cause this "
				"(remove it and retry)\n");
}

static int tc_attach(struct bpf_state *st, int i, int ifindex, const char *ifname)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = TC_HANDLE, .priority = TC_PRIO,
		    .flags = BPF_TC_F_REPLACE,
		    .prog_fd = bpf_program__fd(st->tc->progs.tcpcrypt_tc_ingress));
	int err = bpf_tc_hook_create(&hook);

	if (err && err != -EEXIST) {
		fprintf(stderr, "tcpcryptd: creating the clsact qdisc on %s failed: %s\n", ifname,
			strerror(-err));
		return -1;
	}
	st->tc_hook_created[i] = !err;
	err = bpf_tc_attach(&hook, &opts);
	if (err) {
		fprintf(stderr, "tcpcryptd: attaching TC ingress to %s failed: %s\n", ifname,
			strerror(-err));
		return -1;
	}
	st->tc_ifindex[i] = ifindex;
	return 0;
}

static void tc_detach(struct bpf_state *st, int i)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = st->tc_ifindex[i],
		    .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = TC_HANDLE, .priority = TC_PRIO);

	if (!st->tc_ifindex[i])
		return;
	bpf_tc_detach(&hook, &opts);
	if (st->tc_hook_created[i]) {
		/* only a clsact we created, and only if nothing else uses it */
		hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
		bpf_tc_hook_destroy(&hook);
	}
}

struct bpf_state *bpf_setup(const struct agent_opts *o)
{
	LIBBPF_OPTS(bpf_object_open_opts, open_opts, .pin_root_path = o->pin_dir);
	struct bpf_state *st = calloc(1, sizeof(*st));
	struct tcpcrypt_config cfg;
	int err;

	if (!st)
		return NULL;
	st->cg_fd = -1;
	for (int i = 0; i < TCPCRYPT_MAX_IFACES; i++)
		st->xdp_fds[i] = -1;
	st->sockops = sockops__open_opts(&open_opts);
	st->ingress = ingress__open_opts(&open_opts);
	st->tc = tc_ingress__open_opts(&open_opts);
	if (!st->sockops || !st->ingress || !st->tc) {
		fprintf(stderr, "tcpcryptd: opening the BPF objects failed: %s\n", strerror(errno));
		goto fail;
	}
	err = sockops__load(st->sockops);
	if (err) {
		explain_load_error("sock_ops", err);
		goto fail;
	}
	err = ingress__load(st->ingress);
	if (err) {
		explain_load_error("XDP ingress", err);
		goto fail;
	}
	err = tc_ingress__load(st->tc);
	if (err) {
		explain_load_error("TC ingress", err);
		goto fail;
	}
	/* not enabled until everything is attached */
	cfg = o->cfg;
	cfg.enabled = 0;
	if (config_write(st->sockops->maps.settings, &cfg) ||
	    ifaces_write(st->sockops->maps.ifaces, o))
		goto fail;
	for (int i = 0; i < o->nifaces; i++) {
		/* flags 0: the kernel uses driver mode when the device has it */
		LIBBPF_OPTS(bpf_link_create_opts, lopts, .flags = o->xdp_flags);
		int prog_fd = bpf_program__fd(st->ingress->progs.tcpcrypt_ingress);

		st->xdp_fds[i] =
		    bpf_link_create(prog_fd, if_nametoindex(o->ifnames[i]), BPF_XDP, &lopts);
		if (st->xdp_fds[i] < 0) {
			fprintf(stderr, "tcpcryptd: attaching XDP to %s failed: %s%s\n",
				o->ifnames[i], strerror(errno),
				errno == EBUSY || errno == EEXIST
				    ? " (another XDP program is attached; see: ip link show dev "
				      "IFACE)"
				    : "");
			goto fail;
		}
	}
	for (int i = 0; i < o->nifaces; i++)
		if (tc_attach(st, i, if_nametoindex(o->ifnames[i]), o->ifnames[i]))
			goto fail;
	st->cg_fd = open(o->cgroup, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (st->cg_fd < 0) {
		fprintf(stderr, "tcpcryptd: cannot open cgroup %s: %s\n", o->cgroup,
			strerror(errno));
		goto fail;
	}
	st->cg_link = bpf_program__attach_cgroup(st->sockops->progs.tcpcrypt_sockops, st->cg_fd);
	if (!st->cg_link) {
		fprintf(stderr, "tcpcryptd: attaching sock_ops to cgroup %s failed: %s\n",
			o->cgroup, strerror(errno));
		goto fail;
	}
	cfg = o->cfg;
	cfg.nrequire = count_require(st->sockops->maps.ports);
	if (config_write(st->sockops->maps.settings, &cfg)) {
		fprintf(stderr, "tcpcryptd: writing the configuration map failed: %s\n",
			strerror(errno));
		goto fail;
	}
	return st;
fail:
	bpf_teardown(st, o);
	return NULL;
}

static void unpin_all(struct bpf_object *obj)
{
	struct bpf_map *map;

	bpf_object__for_each_map(map, obj) if (bpf_map__is_pinned(map)) bpf_map__unpin(map, NULL);
}

void bpf_teardown(struct bpf_state *st, const struct agent_opts *o)
{
	if (!st)
		return;
	if (st->sockops) {
		struct tcpcrypt_config off = o->cfg;

		off.enabled = 0;
		config_write(st->sockops->maps.settings, &off);
	}
	bpf_link__destroy(st->cg_link);
	for (int i = 0; i < TCPCRYPT_MAX_IFACES; i++)
		tc_detach(st, i);
	for (int i = 0; i < TCPCRYPT_MAX_IFACES; i++)
		if (st->xdp_fds[i] >= 0)
			close(st->xdp_fds[i]);
	if (st->cg_fd >= 0)
		close(st->cg_fd);
	if (st->sockops)
		unpin_all(st->sockops->obj);
	if (st->ingress)
		unpin_all(st->ingress->obj);
	if (st->tc)
		unpin_all(st->tc->obj);
	sockops__destroy(st->sockops);
	ingress__destroy(st->ingress);
	tc_ingress__destroy(st->tc);
	free(st);
}
