// SPDX-License-Identifier: MIT
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <arpa/inet.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include "bpf_setup.h"
#include "netlink.h"
#include "portmap.h"
#include "sockops.skel.h"
#include "tc.skel.h"
#include "capture.skel.h"
#include "iter.skel.h"

/* Our TC filters: a fixed handle and priority, so a restart replaces them. */
#define TC_HANDLE 0x7463
#define TC_PRIO	  0x7463

struct tc_filter {
	int ifindex; /* 0: not attached */
	enum bpf_tc_attach_point point;
};

struct bpf_state {
	struct sockops *sockops;
	struct tc *tc;
	struct capture *capture;
	struct tc_filter tc_filters[2 * TCPCRYPT_MAX_IFACES];
	bool clsact_created[TCPCRYPT_MAX_IFACES];
	struct bpf_link *cg_link;
	int xdp_fds[2 * TCPCRYPT_MAX_IFACES]; /* XDP bpf_link fds */
	char xdp_pins[2 * TCPCRYPT_MAX_IFACES][128];
	char cg_pin[128];
	/* each capture veth pair: the agent's end, the kernel's end */
	char capture_names[TCPCRYPT_MAX_IFACES][IF_NAMESIZE];
	char kernel_names[TCPCRYPT_MAX_IFACES][IF_NAMESIZE];
	int cg_fd;
};

static int config_write(struct bpf_map *map, const struct tcpcrypt_config *cfg)
{
	__u32 zero = 0;

	return bpf_map__update_elem(map, &zero, sizeof(zero), cfg, sizeof(*cfg), BPF_ANY);
}

static int iface_record(struct bpf_map *map, __u32 ifindex, const struct iface_info *ii,
			const char *name)
{
	if (bpf_map__update_elem(map, &ifindex, sizeof(ifindex), ii, sizeof(*ii), BPF_ANY)) {
		fprintf(stderr, "tcpcryptd: cannot record interface %s: %s\n", name,
			strerror(errno));
		return -1;
	}
	return 0;
}

/* Names of the capture veth pair of wire interface number ifindex. */
static void capture_names(int ifindex, char *kernel_end, char *agent_end)
{
	snprintf(kernel_end, IF_NAMESIZE, "tcpc%dk", ifindex);
	snprintf(agent_end, IF_NAMESIZE, "tcpc%da", ifindex);
}

static int write_sysctl(const char *path, const char *val)
{
	FILE *f = fopen(path, "w");
	int err;

	if (!f)
		return -1;
	err = fputs(val, f) < 0;
	return fclose(f) || err ? -1 : 0;
}

/*
 * The kernel's end receives the plaintext the agent injects, from the
 * peer's address: loose reverse-path filtering lets it in (only on this
 * interface, which carries nothing else).
 */
static int capture_veth_create(struct bpf_state *st, int slot, int wire_ifindex, const char *wire)
{
	char *kend = st->kernel_names[slot], *aend = st->capture_names[slot], path[128];
	int err;

	static const char *const sysctls[][2] = {
	    /* no IPv6 link-local address: nothing but our packets on this link */
	    {"ipv6/conf/%s/addr_gen_mode", "1"},
	    {"ipv4/conf/%s/rp_filter", "2"},
	};

	capture_names(wire_ifindex, kend, aend);
	nl_link_delete(kend); /* left over from a crashed run */
	err = nl_veth_create(kend, aend, TCPCRYPT_CAPTURE_MTU);
	if (err) {
		fprintf(stderr,
			"tcpcryptd: creating the capture veth pair %s/%s for %s failed: %s\n", kend,
			aend, wire, strerror(-err));
		return -1;
	}
	for (size_t i = 0; i < sizeof(sysctls) / sizeof(sysctls[0]); i++) {
		for (int end = 0; end < 2; end++) {
			char rel[96];

			snprintf(rel, sizeof(rel), sysctls[i][0], end ? aend : kend);
			snprintf(path, sizeof(path), "/proc/sys/net/%s", rel);
			if (write_sysctl(path, sysctls[i][1]) && errno != ENOENT) {
				fprintf(stderr, "tcpcryptd: cannot set %s: %s\n", path,
					strerror(errno));
				return -1;
			}
		}
	}
	/*
	 * Reverse-path filtering refuses every packet arriving on an interface
	 * without an IPv4 address (unless it is off everywhere); a link-local
	 * /32 lets the loose mode set above accept the peer's address.
	 */
	err = nl_addr4_add(kend, htonl(0xa9fe7463), 32, RT_SCOPE_LINK);
	if (!err)
		err = nl_link_up(aend);
	if (!err)
		err = nl_link_up(kend);
	if (err) {
		fprintf(stderr, "tcpcryptd: bringing up %s/%s failed: %s\n", kend, aend,
			strerror(-err));
		return -1;
	}
	return 0;
}

static void link_pin_path(char *path, size_t len, const char *pin_dir, const char *what,
			  const char *ifname)
{
	snprintf(path, len, "%s/link-%s%s%s", pin_dir, what, ifname ? "-" : "",
		 ifname ? ifname : "");
}

/*
 * XDP links are pinned, so that they outlive the agent: if it dies, its
 * programs stay attached and, finding no AF_XDP socket, drop the segments
 * of tcpcrypt flows instead of handing ciphertext to applications (fail
 * closed).  A restarted agent takes the pinned link over.
 */
static int xdp_attach(struct bpf_state *st, int i, struct bpf_program *prog, const char *ifname,
		      int flags, const char *pin_dir)
{
	LIBBPF_OPTS(bpf_link_create_opts, lopts, .flags = flags);
	int prog_fd = bpf_program__fd(prog), fd;
	char *path = st->xdp_pins[i];

	link_pin_path(path, sizeof(st->xdp_pins[i]), pin_dir,
		      i < TCPCRYPT_MAX_IFACES ? "xdp" : "capture", ifname);
	/* a capture veth is new each run: its old link points at a deleted device */
	if (i >= TCPCRYPT_MAX_IFACES)
		unlink(path);
	fd = bpf_obj_get(path);
	if (fd >= 0 && !bpf_link_update(fd, prog_fd, NULL)) {
		st->xdp_fds[i] = fd;
		return 0;
	}
	if (fd >= 0)
		close(fd);
	unlink(path);
	st->xdp_fds[i] = bpf_link_create(prog_fd, if_nametoindex(ifname), BPF_XDP, &lopts);
	if (st->xdp_fds[i] < 0 && !flags && (errno == ERANGE || errno == EOPNOTSUPP)) {
		/* e.g. a veth with an MTU too large for driver-mode XDP */
		fprintf(stderr, "tcpcryptd: %s: driver-mode XDP refused (%s), using generic mode\n",
			ifname, strerror(errno));
		lopts.flags = XDP_FLAGS_SKB_MODE;
		st->xdp_fds[i] = bpf_link_create(prog_fd, if_nametoindex(ifname), BPF_XDP, &lopts);
	}
	if (st->xdp_fds[i] < 0) {
		fprintf(stderr, "tcpcryptd: attaching XDP to %s failed: %s%s\n", ifname,
			strerror(errno),
			errno == EBUSY || errno == EEXIST
			    ? " (another XDP program is attached; see: ip link show dev IFACE)"
			    : "");
		path[0] = 0;
		return -1;
	}
	if (bpf_obj_pin(st->xdp_fds[i], path)) {
		fprintf(stderr, "tcpcryptd: pinning the XDP link of %s at %s failed: %s\n", ifname,
			path, strerror(errno));
		path[0] = 0;
		return -1;
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

static int tc_attach(struct bpf_state *st, int i, int slot, enum bpf_tc_attach_point point,
		     struct bpf_program *prog, const char *ifname)
{
	int ifindex = if_nametoindex(ifname);
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = point);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = TC_HANDLE, .priority = TC_PRIO,
		    .flags = BPF_TC_F_REPLACE, .prog_fd = bpf_program__fd(prog));
	int err = bpf_tc_hook_create(&hook);

	if (err && err != -EEXIST) {
		fprintf(stderr, "tcpcryptd: creating the clsact qdisc on %s failed: %s\n", ifname,
			strerror(-err));
		return -1;
	}
	if (!err)
		st->clsact_created[slot] = true;
	err = bpf_tc_attach(&hook, &opts);
	if (err) {
		fprintf(stderr, "tcpcryptd: attaching TC to %s failed: %s\n", ifname,
			strerror(-err));
		return -1;
	}
	st->tc_filters[i].ifindex = ifindex;
	st->tc_filters[i].point = point;
	return 0;
}

static void tc_detach(const struct tc_filter *f)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = f->ifindex, .attach_point = f->point);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = TC_HANDLE, .priority = TC_PRIO);

	if (f->ifindex)
		bpf_tc_detach(&hook, &opts);
}

/*
 * Run one of the socket iterators of iter.bpf.c over this network
 * namespace's TCP sockets: tcpcrypt_reset with r, or tcpcrypt_listeners if
 * r is NULL.  Returns the sockets it reset (or counted), or -errno.
 */
static int run_iter(const char *pin_dir, const struct bpf_reset *r)
{
	LIBBPF_OPTS(bpf_object_open_opts, open_opts, .pin_root_path = pin_dir);
	struct iter *it = iter__open_opts(&open_opts);
	struct bpf_link *link = NULL;
	int fd = -1, err = 0;
	char buf[64];

	if (!it)
		return -errno;
	err = iter__load(it);
	if (err)
		goto out;
	if (r) {
		it->bss->reset_before_ns = r->before_ns;
		it->bss->reset_handshakes = r->handshakes;
		it->bss->reset_dry_run = r->dry_run;
	}
	link = bpf_program__attach_iter(r ? it->progs.tcpcrypt_reset : it->progs.tcpcrypt_listeners,
					NULL);
	if (!link) {
		err = -errno;
		goto out;
	}
	fd = bpf_iter_create(bpf_link__fd(link));
	if (fd < 0) {
		err = -errno;
		goto out;
	}
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	close(fd);
	err = it->bss->reset_count;
out:
	bpf_link__destroy(link);
	iter__destroy(it);
	return err;
}

/*
 * Servers that were listening before the agent started: their listeners
 * missed TCP_LISTEN_CB, so a socket iterator sets the callback flags on
 * them.  Best effort: a failure only means those servers stay plain.
 */
static void enrol_listeners(const struct agent_opts *o)
{
	int err = run_iter(o->pin_dir, NULL);

	if (err < 0)
		fprintf(stderr,
			"tcpcryptd: note: listening sockets opened before the agent are not "
			"enrolled (%s); restart those servers to use tcpcrypt\n",
			strerror(-err));
}

int bpf_reset_sockets(const char *pin_dir, const struct bpf_reset *r)
{
	return run_iter(pin_dir, r);
}

/* A pinned map of the agent, or -1 (quietly: detach_pinned removes what there is). */
static int pinned_map(const char *pin_dir, const char *name)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", pin_dir, name);
	return bpf_obj_get(path);
}

int bpf_detach_pinned(const char *pin_dir, bool force, __u64 netns_cookie)
{
	const struct bpf_reset all = {.before_ns = UINT64_MAX, .handshakes = true};
	struct bpf_reset count = all;
	struct tcpcrypt_config cfg;
	struct iface_info ii;
	__u32 key, *cur = NULL, zero = 0;
	int fd, open_socks, n = 0;
	struct dirent *de;
	DIR *d;

	count.dry_run = true;
	fd = pinned_map(pin_dir, MAP_CONFIG);
	if (fd >= 0 && !bpf_map_lookup_elem(fd, &zero, &cfg)) {
		/* the iterators and the interface numbers are those of the agent's namespace */
		if (cfg.netns_cookie && cfg.netns_cookie != netns_cookie) {
			fprintf(stderr,
				"tcpcryptd: the agent of %s ran in another network "
				"namespace; run --detach-only there\n",
				pin_dir);
			close(fd);
			return -1;
		}
		/*
		 * No new negotiation from now on; encrypted flows stay steered
		 * (and dropped), and a third ACK that would complete ENO is reset.
		 */
		cfg.enabled = 0;
		if (bpf_map_update_elem(fd, &zero, &cfg, BPF_ANY))
			fprintf(stderr, "tcpcryptd: cannot stop negotiation in %s: %s\n", pin_dir,
				strerror(errno));
	}
	if (fd >= 0)
		close(fd);
	fd = pinned_map(pin_dir, MAP_FLOWS);
	if (fd >= 0) {
		struct bpf_reset handshakes = {.handshakes = true};

		close(fd);
		/* handshakes under way hold no data: they go without asking */
		bpf_reset_sockets(pin_dir, &handshakes);
		open_socks = bpf_reset_sockets(pin_dir, &count);
		if (open_socks < 0) {
			fprintf(stderr, "tcpcryptd: cannot look for encrypted connections: %s\n",
				strerror(-open_socks));
			return -1;
		}
		if (open_socks && !force) {
			fprintf(
			    stderr,
			    "tcpcryptd: %d encrypted connection%s open: while the programs "
			    "stay, nothing of them leaves in plaintext (their segments are "
			    "dropped); without the programs their sockets would send plaintext. "
			    "Close them, or give --force to abort them\n",
			    open_socks, open_socks == 1 ? " is" : "s are");
			return -1;
		}
		if (open_socks) {
			int r = bpf_reset_sockets(pin_dir, &all);

			if (r < 0) {
				fprintf(stderr, "tcpcryptd: cannot abort them: %s\n", strerror(-r));
				return -1;
			}
			fprintf(stderr, "tcpcryptd: aborted %d encrypted connection%s\n", r,
				r == 1 ? "" : "s");
		}
		open_socks = bpf_reset_sockets(pin_dir, &count);
		if (open_socks) {
			fprintf(stderr,
				"tcpcryptd: %d encrypted connection%s still open; nothing "
				"detached\n",
				open_socks > 0 ? open_socks : 0, open_socks == 1 ? " is" : "s are");
			return -1;
		}
	}
	/* sock_ops first: no flow is made from now on */
	{
		char path[PATH_MAX];

		link_pin_path(path, sizeof(path), pin_dir, "sockops", NULL);
		unlink(path);
	}
	/* TC filters on the wire interfaces, and the capture veths */
	fd = pinned_map(pin_dir, MAP_IFACES);
	while (fd >= 0 && !bpf_map_get_next_key(fd, cur, &key)) {
		cur = &key;
		if (bpf_map_lookup_elem(fd, &key, &ii))
			continue;
		if (ii.kind == IFACE_WIRE) {
			struct tc_filter in = {.ifindex = key, .point = BPF_TC_INGRESS};
			struct tc_filter out = {.ifindex = key, .point = BPF_TC_EGRESS};

			tc_detach(&in);
			tc_detach(&out);
		} else if (ii.kind == IFACE_CAPTURE) {
			char name[IF_NAMESIZE];

			if (if_indextoname(key, name))
				nl_link_delete(name);
		}
		n++;
	}
	if (fd >= 0)
		close(fd);
	/* the pinned links (their programs detach with the last reference) and maps */
	d = opendir(pin_dir);
	if (!d) {
		fprintf(stderr, "tcpcryptd: %s: %s\n", pin_dir, strerror(errno));
		return -1;
	}
	while ((de = readdir(d))) {
		char path[PATH_MAX];

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", pin_dir, de->d_name);
		if (unlink(path))
			fprintf(stderr, "tcpcryptd: cannot remove %s: %s\n", path, strerror(errno));
	}
	closedir(d);
	fprintf(stderr, "tcpcryptd: detached from %d interface%s, removed the pins in %s\n", n,
		n == 1 ? "" : "s", pin_dir);
	return 0;
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
	for (int i = 0; i < 2 * TCPCRYPT_MAX_IFACES; i++)
		st->xdp_fds[i] = -1;
	st->sockops = sockops__open_opts(&open_opts);
	st->tc = tc__open_opts(&open_opts);
	st->capture = capture__open_opts(&open_opts);
	if (!st->sockops || !st->tc || !st->capture) {
		fprintf(stderr, "tcpcryptd: opening the BPF objects failed: %s\n", strerror(errno));
		goto fail;
	}
	if ((err = sockops__load(st->sockops))) {
		explain_load_error("sock_ops", err);
		goto fail;
	}
	if ((err = tc__load(st->tc))) {
		explain_load_error("TC", err);
		goto fail;
	}
	if ((err = capture__load(st->capture))) {
		explain_load_error("XDP capture", err);
		goto fail;
	}
	/* not enabled until everything is attached */
	cfg = o->cfg;
	cfg.enabled = 0;
	if (config_write(st->sockops->maps.settings, &cfg))
		goto fail;
	for (int i = 0; i < o->nifaces; i++) {
		const char *wire = o->ifnames[i];
		int wire_ifindex = if_nametoindex(wire);
		struct iface_info ii = {.slot = i, .kind = IFACE_WIRE};

		if (o->cfg.datapath) {
			struct iface_info ci = {.slot = i, .kind = IFACE_CAPTURE};
			const char *aend = st->capture_names[i];

			if (capture_veth_create(st, i, wire_ifindex, wire))
				goto fail;
			ii.peer_ifindex = if_nametoindex(st->kernel_names[i]);
			ci.peer_ifindex = wire_ifindex;
			if (iface_record(st->sockops->maps.ifaces, if_nametoindex(aend), &ci,
					 aend) ||
			    xdp_attach(st, TCPCRYPT_MAX_IFACES + i,
				       st->capture->progs.tcpcrypt_capture, aend, o->xdp_flags,
				       o->pin_dir) ||
			    tc_attach(st, TCPCRYPT_MAX_IFACES + i, i, BPF_TC_EGRESS,
				      st->tc->progs.tcpcrypt_tc_egress, wire))
				goto fail;
		}
		if (iface_record(st->sockops->maps.ifaces, wire_ifindex, &ii, wire) ||
		    tc_attach(st, i, i, BPF_TC_INGRESS, st->tc->progs.tcpcrypt_tc_ingress, wire))
			goto fail;
	}
	st->cg_fd = open(o->cgroup, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (st->cg_fd < 0) {
		fprintf(stderr, "tcpcryptd: cannot open cgroup %s: %s\n", o->cgroup,
			strerror(errno));
		goto fail;
	}
	/* pinned like the XDP links, and taken over the same way */
	link_pin_path(st->cg_pin, sizeof(st->cg_pin), o->pin_dir, "sockops", NULL);
	st->cg_link = access(st->cg_pin, F_OK) ? NULL : bpf_link__open(st->cg_pin);
	if (st->cg_link &&
	    bpf_link__update_program(st->cg_link, st->sockops->progs.tcpcrypt_sockops)) {
		bpf_link__destroy(st->cg_link);
		st->cg_link = NULL;
	}
	if (!st->cg_link) {
		unlink(st->cg_pin);
		st->cg_link =
		    bpf_program__attach_cgroup(st->sockops->progs.tcpcrypt_sockops, st->cg_fd);
		if (!st->cg_link) {
			fprintf(stderr, "tcpcryptd: attaching sock_ops to cgroup %s failed: %s\n",
				o->cgroup, strerror(errno));
			st->cg_pin[0] = 0;
			goto fail;
		}
		if (bpf_link__pin(st->cg_link, st->cg_pin)) {
			fprintf(stderr, "tcpcryptd: pinning the sock_ops link failed: %s\n",
				strerror(errno));
			st->cg_pin[0] = 0;
			goto fail;
		}
	}
	enrol_listeners(o);
	return st;
fail:
	bpf_teardown(st, o);
	return NULL;
}

int bpf_negotiate(struct bpf_state *st, const struct agent_opts *o, bool on)
{
	struct tcpcrypt_config cfg = o->cfg;

	cfg.enabled = on;
	if (portmap_sync_state(bpf_map__fd(st->sockops->maps.ports),
			       bpf_map__fd(st->sockops->maps.portstate))) {
		fprintf(stderr, "tcpcryptd: writing the %s map failed: %s\n", MAP_PORTSTATE,
			strerror(errno));
		return -1;
	}
	if (config_write(st->sockops->maps.settings, &cfg)) {
		fprintf(stderr, "tcpcryptd: writing the configuration map failed: %s\n",
			strerror(errno));
		return -1;
	}
	return 0;
}

int bpf_map_fd_by_name(struct bpf_state *st, const char *name)
{
	struct bpf_map *map = bpf_object__find_map_by_name(st->sockops->obj, name);

	return map ? bpf_map__fd(map) : -1;
}

const char *bpf_capture_ifname(struct bpf_state *st, int slot)
{
	return st->capture_names[slot];
}

const char *bpf_capture_kernel_ifname(struct bpf_state *st, int slot)
{
	return st->kernel_names[slot];
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
	if (st->cg_pin[0])
		unlink(st->cg_pin);
	bpf_link__destroy(st->cg_link);
	for (int i = 0; i < 2 * TCPCRYPT_MAX_IFACES; i++)
		tc_detach(&st->tc_filters[i]);
	for (int i = 0; i < TCPCRYPT_MAX_IFACES; i++) {
		LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = st->tc_filters[i].ifindex,
			    .attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS);

		/* only a clsact we created */
		if (st->clsact_created[i] && hook.ifindex)
			bpf_tc_hook_destroy(&hook);
	}
	for (int i = 0; i < 2 * TCPCRYPT_MAX_IFACES; i++) {
		if (st->xdp_pins[i][0])
			unlink(st->xdp_pins[i]);
		if (st->xdp_fds[i] >= 0)
			close(st->xdp_fds[i]);
	}
	for (int i = 0; i < TCPCRYPT_MAX_IFACES; i++)
		if (st->capture_names[i][0])
			nl_link_delete(st->capture_names[i]);
	if (st->cg_fd >= 0)
		close(st->cg_fd);
	if (st->sockops)
		unpin_all(st->sockops->obj);
	if (st->tc)
		unpin_all(st->tc->obj);
	if (st->capture)
		unpin_all(st->capture->obj);
	sockops__destroy(st->sockops);
	tc__destroy(st->tc);
	capture__destroy(st->capture);
	free(st);
}
