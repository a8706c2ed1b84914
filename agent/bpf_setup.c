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
#include "sockopt.skel.h"
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

/* What the agent attached for one steered interface. */
struct steered {
	struct tc_filter ingress, egress; /* on the wire interface */
	bool clsact_created;		  /* ... whose clsact qdisc is ours to remove */
	/* its capture veth pair: the agent's end, the kernel's end */
	char capture[IF_NAMESIZE], kernel[IF_NAMESIZE];
	int capture_link; /* the capture XDP program's bpf_link fd, or -1 */
	char capture_pin[128];
};

/* A program attached to the cgroup, through a pinned link. */
struct cg_link {
	struct bpf_link *link;
	char pin[128]; /* empty: not pinned by us */
};

struct bpf_state {
	struct sockops_bpf *sockops;
	struct sockopt_bpf *sockopt;
	struct tc_bpf *tc;
	struct capture_bpf *capture;
	struct steered ifs[TCPCRYPT_MAX_IFACES];
	/* sock_ops, and the application API's cgroup/getsockopt and setsockopt */
	struct cg_link cg_sockops, cg_getsockopt, cg_setsockopt;
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
static int capture_veth_create(struct steered *s, int wire_ifindex, const char *wire)
{
	char *kend = s->kernel, *aend = s->capture, path[128];
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
static int xdp_attach(struct steered *s, struct bpf_program *prog, int flags, const char *pin_dir)
{
	LIBBPF_OPTS(bpf_link_create_opts, lopts, .flags = flags);
	int prog_fd = bpf_program__fd(prog);
	const char *ifname = s->capture;
	char *path = s->capture_pin;

	link_pin_path(path, sizeof(s->capture_pin), pin_dir, "capture", ifname);
	/* a capture veth is new each run: an old link points at a deleted device */
	unlink(path);
	s->capture_link = bpf_link_create(prog_fd, if_nametoindex(ifname), BPF_XDP, &lopts);
	if (s->capture_link < 0 && !flags && (errno == ERANGE || errno == EOPNOTSUPP)) {
		/* e.g. a veth with an MTU too large for driver-mode XDP */
		fprintf(stderr, "tcpcryptd: %s: driver-mode XDP refused (%s), using generic mode\n",
			ifname, strerror(errno));
		lopts.flags = XDP_FLAGS_SKB_MODE;
		s->capture_link = bpf_link_create(prog_fd, if_nametoindex(ifname), BPF_XDP, &lopts);
	}
	if (s->capture_link < 0) {
		fprintf(stderr, "tcpcryptd: attaching XDP to %s failed: %s%s\n", ifname,
			strerror(errno),
			errno == EBUSY || errno == EEXIST
			    ? " (another XDP program is attached; see: ip link show dev IFACE)"
			    : "");
		path[0] = 0;
		return -1;
	}
	if (bpf_obj_pin(s->capture_link, path)) {
		fprintf(stderr, "tcpcryptd: pinning the XDP link of %s at %s failed: %s\n", ifname,
			path, strerror(errno));
		path[0] = 0;
		return -1;
	}
	return 0;
}

static int tc_attach(struct steered *s, struct tc_filter *f, enum bpf_tc_attach_point point,
		     struct bpf_program *prog, const char *ifname);

/*
 * The agent's end of the capture veth: with packet capture, a TC ingress
 * filter that drops every packet once the taps (the agent's AF_PACKET ring)
 * have seen it; it stays when the agent dies (fail closed) and goes with
 * the veth.  Else the XDP program and its pinned link.
 */
static int capture_attach(struct bpf_state *st, struct steered *s, const struct agent_opts *o)
{
	struct steered veth = {};
	struct tc_filter f;

	if (o->capture_mode == CAPTURE_XDP)
		return xdp_attach(s, st->capture->progs.tcpcrypt_capture, o->xdp_flags, o->pin_dir);
	/* the veth is ours and goes whole: its clsact is not recorded for removal */
	return tc_attach(&veth, &f, BPF_TC_INGRESS, st->capture->progs.tcpcrypt_capture_tc,
			 s->capture);
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

static int tc_attach(struct steered *s, struct tc_filter *f, enum bpf_tc_attach_point point,
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
		s->clsact_created = true;
	err = bpf_tc_attach(&hook, &opts);
	if (err) {
		fprintf(stderr, "tcpcryptd: attaching TC to %s failed: %s\n", ifname,
			strerror(-err));
		return -1;
	}
	f->ifindex = ifindex;
	f->point = point;
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
	struct iter_bpf *it = iter_bpf__open_opts(&open_opts);
	struct bpf_link *link = NULL;
	int fd = -1, err = 0;
	char buf[64];

	if (!it)
		return -errno;
	err = iter_bpf__load(it);
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
	iter_bpf__destroy(it);
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
		/* the application API: its options answer ENOPROTOOPT again */
		link_pin_path(path, sizeof(path), pin_dir, "getsockopt", NULL);
		unlink(path);
		link_pin_path(path, sizeof(path), pin_dir, "setsockopt", NULL);
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

/*
 * Attach prog to the cgroup through a link pinned as link-<what>, pinned like
 * the XDP links and taken over the same way (a restarted agent replaces the
 * program of the link a previous one left).
 */
static int cg_attach(struct cg_link *l, struct bpf_program *prog, int cg_fd,
		     const struct agent_opts *o, const char *what, const char *desc)
{
	link_pin_path(l->pin, sizeof(l->pin), o->pin_dir, what, NULL);
	l->link = access(l->pin, F_OK) ? NULL : bpf_link__open(l->pin);
	if (l->link && bpf_link__update_program(l->link, prog)) {
		bpf_link__destroy(l->link);
		l->link = NULL;
	}
	if (l->link)
		return 0;
	unlink(l->pin);
	l->link = bpf_program__attach_cgroup(prog, cg_fd);
	if (!l->link) {
		fprintf(stderr, "tcpcryptd: attaching %s to cgroup %s failed: %s\n", desc,
			o->cgroup, strerror(errno));
		l->pin[0] = 0;
		return -1;
	}
	if (bpf_link__pin(l->link, l->pin)) {
		fprintf(stderr, "tcpcryptd: pinning the %s link failed: %s\n", desc,
			strerror(errno));
		l->pin[0] = 0;
		return -1;
	}
	return 0;
}

/* Detach: remove the pin, drop our reference. */
static void cg_detach(struct cg_link *l)
{
	if (l->pin[0])
		unlink(l->pin);
	bpf_link__destroy(l->link);
	l->link = NULL;
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
		st->ifs[i].capture_link = -1;
	st->sockops = sockops_bpf__open_opts(&open_opts);
	st->sockopt = sockopt_bpf__open_opts(&open_opts);
	st->tc = tc_bpf__open_opts(&open_opts);
	st->capture = capture_bpf__open_opts(&open_opts);
	if (!st->sockops || !st->sockopt || !st->tc || !st->capture) {
		fprintf(stderr, "tcpcryptd: opening the BPF objects failed: %s\n", strerror(errno));
		goto fail;
	}
	if ((err = sockops_bpf__load(st->sockops))) {
		explain_load_error("sock_ops", err);
		goto fail;
	}
	if ((err = sockopt_bpf__load(st->sockopt))) {
		explain_load_error("socket options", err);
		goto fail;
	}
	if ((err = tc_bpf__load(st->tc))) {
		explain_load_error("TC", err);
		goto fail;
	}
	if ((err = capture_bpf__load(st->capture))) {
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
		struct steered *s = &st->ifs[i];

		if (o->cfg.datapath) {
			struct iface_info ci = {.slot = i, .kind = IFACE_CAPTURE};

			if (capture_veth_create(s, wire_ifindex, wire))
				goto fail;
			ii.peer_ifindex = if_nametoindex(s->kernel);
			ci.peer_ifindex = wire_ifindex;
			if (iface_record(st->sockops->maps.ifaces, if_nametoindex(s->capture), &ci,
					 s->capture) ||
			    capture_attach(st, s, o) ||
			    tc_attach(s, &s->egress, BPF_TC_EGRESS,
				      st->tc->progs.tcpcrypt_tc_egress, wire))
				goto fail;
		}
		if (iface_record(st->sockops->maps.ifaces, wire_ifindex, &ii, wire) ||
		    tc_attach(s, &s->ingress, BPF_TC_INGRESS, st->tc->progs.tcpcrypt_tc_ingress,
			      wire))
			goto fail;
	}
	st->cg_fd = open(o->cgroup, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (st->cg_fd < 0) {
		fprintf(stderr, "tcpcryptd: cannot open cgroup %s: %s\n", o->cgroup,
			strerror(errno));
		goto fail;
	}
	if (cg_attach(&st->cg_sockops, st->sockops->progs.tcpcrypt_sockops, st->cg_fd, o, "sockops",
		      "sock_ops") ||
	    cg_attach(&st->cg_getsockopt, st->sockopt->progs.tcpcrypt_getsockopt, st->cg_fd, o,
		      "getsockopt", "cgroup/getsockopt") ||
	    cg_attach(&st->cg_setsockopt, st->sockopt->progs.tcpcrypt_setsockopt, st->cg_fd, o,
		      "setsockopt", "cgroup/setsockopt"))
		goto fail;
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

void bpf_dp_maps(struct bpf_state *st, struct dp_maps *m)
{
	const typeof(st->sockops->maps) *s = &st->sockops->maps;

	*m = (struct dp_maps){
	    .flows = bpf_map__fd(s->flows),
	    .pending = bpf_map__fd(s->pending),
	    .sessions = bpf_map__fd(s->sessions),
	    .negcache = bpf_map__fd(s->negcache),
	    .xsks = bpf_map__fd(st->capture->maps.xsks),
	    .dpstats = bpf_map__fd(s->dpstats),
	    .agent = bpf_map__fd(s->agent),
	    .rs_peers = bpf_map__fd(s->rs_peers),
	    .rs_offers = bpf_map__fd(s->rs_offers),
	    .rs_accepts = bpf_map__fd(s->rs_accepts),
	    .rs_cache = bpf_map__fd(s->rs_cache),
	    .rs_ctl = bpf_map__fd(s->rs_ctl),
	    .capture_seen = bpf_map__fd(st->capture->maps.capture_seen),
	};
}

const char *bpf_capture_ifname(struct bpf_state *st, int slot)
{
	return st->ifs[slot].capture;
}

const char *bpf_capture_kernel_ifname(struct bpf_state *st, int slot)
{
	return st->ifs[slot].kernel;
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
	cg_detach(&st->cg_sockops);
	cg_detach(&st->cg_getsockopt);
	cg_detach(&st->cg_setsockopt);
	for (int i = 0; i < TCPCRYPT_MAX_IFACES; i++) {
		struct steered *s = &st->ifs[i];
		LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = s->ingress.ifindex,
			    .attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS);

		tc_detach(&s->ingress);
		tc_detach(&s->egress);
		/* only a clsact we created */
		if (s->clsact_created && hook.ifindex)
			bpf_tc_hook_destroy(&hook);
		if (s->capture_pin[0])
			unlink(s->capture_pin);
		if (s->capture_link >= 0)
			close(s->capture_link);
		if (s->capture[0])
			nl_link_delete(s->capture);
	}
	if (st->cg_fd >= 0)
		close(st->cg_fd);
	if (st->sockops)
		unpin_all(st->sockops->obj);
	if (st->sockopt)
		unpin_all(st->sockopt->obj);
	if (st->tc)
		unpin_all(st->tc->obj);
	if (st->capture)
		unpin_all(st->capture->obj);
	sockops_bpf__destroy(st->sockops);
	sockopt_bpf__destroy(st->sockopt);
	tc_bpf__destroy(st->tc);
	capture_bpf__destroy(st->capture);
	free(st);
}
