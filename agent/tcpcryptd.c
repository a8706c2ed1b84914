// SPDX-License-Identifier: MIT
/*
 * tcpcryptd: the tcpcrypt agent.  Loads the BPF programs, pins every map
 * under the pin directory, attaches sock_ops to a cgroup v2 and TC filters to
 * the steered interfaces, and stays in the foreground until SIGINT/SIGTERM,
 * when it resets every encrypted connection, then detaches and unpins
 * everything (a stop fails closed: see datapath_stop).
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <net/if.h>
#include <signal.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include "keypool.h"
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>
#include <openssl/rand.h>
#include "bpf_setup.h"
#include "bridge.h"
#include "log.h"
#include "datapath.h"
#include "eno.h"
#include "names.h"
#include "pindir.h"
#include "version.h"

#define CGROUP2_SUPER_MAGIC_ 0x63677270

static const char usage_text[] =
    "Usage: tcpcryptd [OPTIONS] -i IFACE [-i IFACE]...\n"
    "       tcpcryptd --detach-only [--force] [-p DIR]\n"
    "\n"
    "Opportunistic encryption of TCP connections with TCP-ENO (RFC 8547) and\n"
    "tcpcrypt (RFC 8548).  Loads the BPF programs, attaches sock_ops to a cgroup\n"
    "and TC filters to each IFACE, pins its maps, and runs in the foreground.\n"
    "ENO is offered only on connections that leave through a steered interface.\n"
    "Processes in the cgroup read their own session ID and steer their own\n"
    "connections with the TCP_ENO_* socket options (getsockopt/setsockopt at\n"
    "IPPROTO_TCP, tcpcrypt(7)), answered by the cgroup sockopt programs it attaches.\n"
    "\n"
    "Stopping (SIGINT, SIGTERM: Ctrl-C, systemctl stop or restart) resets every\n"
    "encrypted connection: both applications get an error at once, and no byte\n"
    "of it ever leaves in plaintext; then everything is detached and unpinned,\n"
    "and new connections are plain TCP until an agent runs again.  Connections\n"
    "that fell back to plain TCP are not touched.  If the agent dies instead\n"
    "(SIGKILL, a crash), its programs stay attached and drop the segments of\n"
    "encrypted connections; the next agent resets those at start, and\n"
    "--detach-only removes what a dead agent left.\n"
    "\n"
    "Options:\n"
    "  -i, --iface IFACE          steer IFACE (repeatable, at least one)\n"
    "  -p, --pin-dir DIR          pin maps under DIR (default " TCPCRYPT_PIN_DIR ")\n"
    "  -c, --cgroup DIR           attach sock_ops and the socket-option programs\n"
    "                             to this cgroup v2 directory\n"
    "                             (default: the root of the cgroup v2 mount)\n"
    "  -t, --teps LIST            TEPs, comma-separated, in increasing priority\n"
    "                             (default p256,p521,x448,x25519)\n"
    "      --default-policy P     policy of ports not set with tcpcryptctl:\n"
    "                             on (default), off or require\n"
    "      --syn-eno-tries N      SYNs sent with ENO before retrying without (default 2)\n"
    "      --negcache-ttl SEC     how long a SYN black hole is remembered (default 600)\n"
    "      --app-aware            send the application-aware bit (a = 1)\n"
    "      --require-app-aware    mandatory application-aware mode: no encryption\n"
    "                             unless the peer sends a = 1\n"
    "      --capture MODE         how the agent takes the packets of its capture veths:\n"
    "                             packet (default: an AF_PACKET ring, the kernel's\n"
    "                             64 KB GSO segments whole) or xdp (XDP and AF_XDP,\n"
    "                             segments cut to the MTU)\n"
    "      --xdp-mode MODE        with --capture xdp, XDP mode of the capture veths:\n"
    "                             native (default: driver mode when available) or\n"
    "                             generic\n"
    "      --multi-buffer on|off  inject the peer's plaintext into the local stack in\n"
    "                             segments of up to 64 KB (AF_XDP multi-buffer,\n"
    "                             XDP_USE_SG; default on, off by itself on a kernel\n"
    "                             without it)\n"
    "      --negotiate-only       diagnostics: negotiate TCP-ENO but run no data path;\n"
    "                             negotiated connections then carry PLAINTEXT, which\n"
    "                             a peer running tcpcryptd resets.  Never in production\n"
    "      --rekey-bytes N        new keys (RFC 8548 §3.8) after every N bytes a\n"
    "                             connection sends; suffixes K, M, G (default 1G,\n"
    "                             0: never)\n"
    "      --key-pool N           keep N key pairs per TEP made ahead of time, in\n"
    "                             idle CPU time (default 16, 0: generate each when\n"
    "                             needed); each is used for one connection only\n"
    "      --key-reuse MS         as host B, answer every Init1 within MS ms (at most\n"
    "                             1000) with the same key pair (RFC 8548 3.3, 8: as\n"
    "                             short as practical; default 0: a fresh one each)\n"
    "      --keylog FILE          append '<session-id> <ss> <es>' per session to FILE\n"
    "                             ('-' for <es> of a resumed one; mode 0600; for\n"
    "                             debugging: it defeats tcpcrypt)\n"
    "      --cache-size N         session cache: at most N peers' secret chains kept\n"
    "                             for resumption (RFC 8548 3.5; default 1024, 0: none)\n"
    "      --cache-ttl SEC        a chain is forgotten SEC seconds after the full key\n"
    "                             exchange that made it (default 3600)\n"
    "      --test-cut-segments    test mode: cut wire segments at random points\n"
    "      --detach-only          run no agent: remove the programs, capture veths\n"
    "                             and pins a killed agent left under the pin dir;\n"
    "                             refused while encrypted connections are open\n"
    "      --force                with --detach-only: abort those connections first\n"
    "      --log-level LEVEL      error, warn, info (default) or debug; from warn on,\n"
    "                             a line per aborted encrypted connection\n"
    "  -v, --verbose              print libbpf debug messages\n"
    "  -h, --help                 show this help\n"
    "  -V, --version              print the version\n"
    "\n"
    "Applications: tcpcrypt(7), libtcpcrypt(3).\n"
    "Inspect and control a running agent with tcpcryptctl(8), or with\n"
    "  bpftool map dump pinned DIR/flows\n";

static int verbose;

static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char msg[1024];

	if (level == LIBBPF_DEBUG && !verbose)
		return 0;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	/* creating the clsact qdisc when it exists already is expected */
	if (!verbose && strstr(msg, "Exclusivity flag on"))
		return 0;
	return fprintf(stderr, "libbpf: %s", msg);
}

static int die_usage(const char *fmt, const char *arg)
{
	fprintf(stderr, "tcpcryptd: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry 'tcpcryptd --help'.\n");
	return 2;
}

/* The root of the first cgroup v2 mount, from /proc/self/mounts. */
static const char *cgroup2_root(void)
{
	static char path[PATH_MAX];
	char dev[256], dir[PATH_MAX], type[64];
	FILE *f = fopen("/proc/self/mounts", "r");
	const char *found = NULL;

	if (!f)
		return NULL;
	while (fscanf(f, "%255s %4095s %63s %*[^\n]", dev, dir, type) == 3) {
		if (!strcmp(type, "cgroup2")) {
			snprintf(path, sizeof(path), "%s", dir);
			found = path;
			break;
		}
	}
	fclose(f);
	return found;
}

static int parse_teps(const char *list, struct tcpcrypt_config *cfg)
{
	char buf[256], *save = NULL, *tok;

	snprintf(buf, sizeof(buf), "%s", list);
	cfg->teps.n = 0;
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		int t = tep_parse(tok);

		if (t < 0 || !eno_tep_known(t)) {
			fprintf(stderr,
				"tcpcryptd: unknown TEP '%s' (known: p256, p521, x25519, x448)\n",
				tok);
			return -1;
		}
		if (cfg->teps.n == sizeof(cfg->teps.tep))
			return -1;
		cfg->teps.tep[cfg->teps.n++] = t;
	}
	return cfg->teps.n ? 0 : -1;
}

static int parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 10);
	return errno || !*s || *end || *out > max ? -1 : 0;
}

/* A byte count: digits, then K, M or G (powers of 1024). */
static int parse_size(const char *s, uint64_t *out)
{
	unsigned shift = 0;
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	*out = strtoull(s, &end, 10);
	if (*end && !end[1])
		shift = *end == 'K' ? 10 : *end == 'M' ? 20 : *end == 'G' ? 30 : 64;
	else if (*end)
		shift = 64;
	if (errno || shift == 64 || *out > UINT64_MAX >> shift)
		return -1;
	*out <<= shift;
	return 0;
}

enum {
	OPT_POLICY = 256,
	OPT_TRIES,
	OPT_TTL,
	OPT_APP_AWARE,
	OPT_NEED_A,
	OPT_XDP_MODE,
	OPT_MULTI_BUFFER,
	OPT_CAPTURE,
	OPT_NEGOTIATE_ONLY,
	OPT_KEYLOG,
	OPT_REKEY,
	OPT_TEST_CUT,
	OPT_DETACH_ONLY,
	OPT_FORCE,
	OPT_LOG_LEVEL,
	OPT_KEY_POOL,
	OPT_KEY_REUSE,
	OPT_CACHE_SIZE,
	OPT_CACHE_TTL,
};

static int parse_args(int argc, char **argv, struct agent_opts *o)
{
	static const struct option longopts[] = {
	    {"iface", required_argument, NULL, 'i'},
	    {"pin-dir", required_argument, NULL, 'p'},
	    {"cgroup", required_argument, NULL, 'c'},
	    {"teps", required_argument, NULL, 't'},
	    {"default-policy", required_argument, NULL, OPT_POLICY},
	    {"syn-eno-tries", required_argument, NULL, OPT_TRIES},
	    {"negcache-ttl", required_argument, NULL, OPT_TTL},
	    {"app-aware", no_argument, NULL, OPT_APP_AWARE},
	    {"require-app-aware", no_argument, NULL, OPT_NEED_A},
	    {"xdp-mode", required_argument, NULL, OPT_XDP_MODE},
	    {"multi-buffer", required_argument, NULL, OPT_MULTI_BUFFER},
	    {"capture", required_argument, NULL, OPT_CAPTURE},
	    {"negotiate-only", no_argument, NULL, OPT_NEGOTIATE_ONLY},
	    {"keylog", required_argument, NULL, OPT_KEYLOG},
	    {"rekey-bytes", required_argument, NULL, OPT_REKEY},
	    {"test-cut-segments", no_argument, NULL, OPT_TEST_CUT},
	    {"detach-only", no_argument, NULL, OPT_DETACH_ONLY},
	    {"force", no_argument, NULL, OPT_FORCE},
	    {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
	    {"key-pool", required_argument, NULL, OPT_KEY_POOL},
	    {"key-reuse", required_argument, NULL, OPT_KEY_REUSE},
	    {"cache-size", required_argument, NULL, OPT_CACHE_SIZE},
	    {"cache-ttl", required_argument, NULL, OPT_CACHE_TTL},
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {},
	};
	unsigned long n;
	int c, p;

	o->pin_dir = TCPCRYPT_PIN_DIR;
	o->multi_buffer = 1;
	parse_teps("p256,p521,x448,x25519", &o->cfg);
	o->cfg.syn_eno_tries = 2;
	o->cfg.negcache_ttl_s = 600;
	o->cfg.enabled = 1;
	o->cfg.datapath = 1;
	o->rekey_bytes = 1ull << 30;
	o->key_pool = KEYPOOL_DEPTH_DFLT;
	o->cache_size = 1024;
	o->cache_ttl_s = 3600;
	while ((c = getopt_long(argc, argv, "i:p:c:t:vhV", longopts, NULL)) != -1) {
		switch (c) {
		case 'i':
			if (o->nifaces == TCPCRYPT_MAX_IFACES)
				return die_usage("too many interfaces%s", "");
			o->ifnames[o->nifaces++] = optarg;
			break;
		case 'p':
			o->pin_dir = optarg;
			break;
		case 'c':
			o->cgroup = optarg;
			break;
		case 't':
			if (parse_teps(optarg, &o->cfg))
				return die_usage("bad TEP list '%s'", optarg);
			break;
		case OPT_POLICY:
			p = policy_parse(optarg);
			if (p < 0)
				return die_usage("bad policy '%s' (on, off or require)", optarg);
			o->cfg.default_policy = p;
			break;
		case OPT_TRIES:
			if (parse_uint(optarg, 10, &n))
				return die_usage("bad --syn-eno-tries '%s' (0 to 10)", optarg);
			o->cfg.syn_eno_tries = n;
			break;
		case OPT_TTL:
			if (parse_uint(optarg, 86400 * 7, &n))
				return die_usage(
				    "bad --negcache-ttl '%s' (seconds, at most a week)", optarg);
			o->cfg.negcache_ttl_s = n;
			break;
		case OPT_APP_AWARE:
			o->cfg.app_aware = 1;
			break;
		case OPT_NEED_A:
			o->cfg.need_peer_a = 1;
			break;
		case OPT_XDP_MODE:
			if (!strcmp(optarg, "generic"))
				o->xdp_flags = XDP_FLAGS_SKB_MODE;
			else if (!strcmp(optarg, "native"))
				o->xdp_flags = 0;
			else
				return die_usage("bad --xdp-mode '%s' (native or generic)", optarg);
			break;
		case OPT_CAPTURE:
			if (!strcmp(optarg, "packet"))
				o->capture_mode = CAPTURE_PACKET;
			else if (!strcmp(optarg, "xdp"))
				o->capture_mode = CAPTURE_XDP;
			else
				return die_usage("bad --capture '%s' (packet or xdp)", optarg);
			break;
		case OPT_MULTI_BUFFER:
			if (!strcmp(optarg, "on"))
				o->multi_buffer = 1;
			else if (!strcmp(optarg, "off"))
				o->multi_buffer = 0;
			else
				return die_usage("bad --multi-buffer '%s' (on or off)", optarg);
			break;
		case OPT_NEGOTIATE_ONLY:
			o->cfg.datapath = 0;
			break;
		case OPT_KEYLOG:
			o->keylog = optarg;
			break;
		case OPT_CACHE_SIZE:
			if (parse_uint(optarg, 4096, &n))
				return die_usage("bad --cache-size '%s' (0 to 4096)", optarg);
			o->cache_size = n;
			break;
		case OPT_CACHE_TTL:
			if (parse_uint(optarg, 86400 * 7, &n) || !n)
				return die_usage("bad --cache-ttl '%s' (seconds, 1 to a week)",
						 optarg);
			o->cache_ttl_s = n;
			break;
		case OPT_REKEY:
			if (parse_size(optarg, &o->rekey_bytes))
				return die_usage("bad --rekey-bytes '%s' (bytes, with K, M or G)",
						 optarg);
			break;
		case OPT_KEY_POOL:
			if (parse_uint(optarg, KEYPOOL_DEPTH_MAX, &n))
				return die_usage("bad --key-pool '%s' (0 to 256)", optarg);
			o->key_pool = n;
			break;
		case OPT_KEY_REUSE:
			if (parse_uint(optarg, KEYPOOL_REUSE_MAX_MS, &n))
				return die_usage("bad --key-reuse '%s' (milliseconds, 0 to 1000)",
						 optarg);
			o->key_reuse_ms = n;
			break;
		case OPT_TEST_CUT:
			o->test_cut_segments = 1;
			break;
		case OPT_DETACH_ONLY:
			o->detach_only = 1;
			break;
		case OPT_FORCE:
			o->force = 1;
			break;
		case OPT_LOG_LEVEL: {
			int l = log_level_parse(optarg);

			if (l < 0)
				return die_usage("bad log level '%s' (error, warn, info or debug)",
						 optarg);
			log_set_level(l);
			break;
		}
		case 'v':
			o->verbose = verbose = 1;
			break;
		case 'h':
			fputs(usage_text, stdout);
			exit(0);
		case 'V':
			printf("tcpcryptd %s\n", TCPCRYPT_VERSION);
			exit(0);
		default:
			fprintf(stderr, "Try 'tcpcryptd --help'.\n");
			return 2;
		}
	}
	if (optind < argc)
		return die_usage("unexpected argument '%s'", argv[optind]);

	if (o->force && !o->detach_only)
		return die_usage("--force goes with --detach-only%s", "");
	if (o->key_reuse_ms && !o->key_pool)
		return die_usage("--key-reuse takes its key pairs from the pool: not with "
				 "--key-pool 0%s",
				 "");
	if (o->detach_only && o->nifaces)
		return die_usage("--detach-only takes no -i: it removes what the pin dir names%s",
				 "");
	if (!o->nifaces && !o->detach_only)
		return die_usage("no interface to steer; give at least one -i IFACE%s", "");
	return 0;
}

/* The cookie of the network namespace the agent runs in. */
static int own_netns_cookie(__u64 *cookie)
{
	socklen_t len = sizeof(*cookie);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), err;

	if (fd < 0)
		return -1;
	err = getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, cookie, &len);
	close(fd);
	return err;
}

/* Everything that can be checked before touching BPF, each with its remedy. */
static int check_environment(struct agent_opts *o, bool *pin_created)
{
	struct statfs st;

	if (geteuid() != 0) {
		fprintf(stderr, "tcpcryptd: must run as root (needs CAP_BPF, CAP_NET_ADMIN and "
				"CAP_SYS_ADMIN)\n");
		return -1;
	}
	/* RFC 8547 §10: no ENO without an adequate source of randomness */
	if (RAND_status() != 1) {
		fprintf(stderr, "tcpcryptd: the random number generator is not seeded; refusing "
				"to offer encryption\n");
		return -1;
	}
	if (!pindir_on_bpffs(o->pin_dir)) {
		fprintf(stderr,
			"tcpcryptd: %s is not on a bpffs; mount one: mount -t bpf bpf "
			"/sys/fs/bpf (or choose --pin-dir)\n",
			o->pin_dir);
		return -1;
	}
	if (!o->cgroup) {
		o->cgroup = cgroup2_root();
		if (!o->cgroup) {
			fprintf(stderr, "tcpcryptd: no cgroup v2 is mounted; mount one: mount -t "
					"cgroup2 none /sys/fs/cgroup (or give --cgroup)\n");
			return -1;
		}
	}
	if (statfs(o->cgroup, &st) < 0) {
		fprintf(stderr, "tcpcryptd: cgroup %s: %s\n", o->cgroup, strerror(errno));
		return -1;
	}
	if (st.f_type != CGROUP2_SUPER_MAGIC_) {
		fprintf(stderr,
			"tcpcryptd: %s is not a cgroup v2 directory (cgroup v1 is not "
			"supported)\n",
			o->cgroup);
		return -1;
	}
	for (int i = 0; i < o->nifaces; i++) {
		if (!if_nametoindex(o->ifnames[i])) {
			fprintf(stderr,
				"tcpcryptd: no interface named '%s' in this network "
				"namespace (see: ip link)\n",
				o->ifnames[i]);
			return -1;
		}
		if (!strcmp(o->ifnames[i], "lo")) {
			fprintf(stderr, "tcpcryptd: loopback cannot be steered; local connections "
					"are never encrypted\n");
			return -1;
		}
	}
	if (own_netns_cookie(&o->cfg.netns_cookie)) {
		fprintf(stderr,
			"tcpcryptd: cannot read the network namespace cookie (SO_NETNS_COOKIE, "
			"Linux 5.14 or later): %s\n",
			strerror(errno));
		return -1;
	}
	if (o->detach_only) {
		struct stat sb;

		if (stat(o->pin_dir, &sb) == 0)
			return 0;
		fprintf(stderr, "tcpcryptd: nothing to detach: no pin directory %s\n", o->pin_dir);
		return 1;
	}
	/* last, so that a failed check leaves nothing behind */
	if (mkdir(o->pin_dir, 0700) == 0) {
		*pin_created = true;
	} else if (errno != EEXIST) {
		fprintf(stderr, "tcpcryptd: cannot create pin directory %s: %s\n", o->pin_dir,
			strerror(errno));
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct agent_opts o = {};
	struct bpf_state *st;
	struct datapath *dp = NULL;
	bool pin_created = false;
	sigset_t sigs;
	int lock_fd, rc, sig;

	rc = parse_args(argc, argv, &o);
	if (rc)
		return rc;
	rc = check_environment(&o, &pin_created);
	if (rc)
		return rc < 0 ? 1 : 0;
	lock_fd = pindir_lock(o.pin_dir);
	if (lock_fd < 0) {
		if (errno == EWOULDBLOCK)
			fprintf(stderr,
				"tcpcryptd: another tcpcryptd is running on %s; stop it "
				"first or use another --pin-dir\n",
				o.pin_dir);
		else
			fprintf(stderr, "tcpcryptd: cannot lock %s: %s\n", o.pin_dir,
				strerror(errno));
		if (pin_created)
			rmdir(o.pin_dir);
		return 1;
	}
	libbpf_set_print(libbpf_log);
	/* block the signals before attaching so that none is lost in between */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	if (o.detach_only) {
		rc = bpf_detach_pinned(o.pin_dir, o.force, o.cfg.netns_cookie) ? 1 : 0;
		close(lock_fd);
		return rc;
	}
	st = bpf_setup(&o);
	if (st && o.cfg.datapath) {
		dp = datapath_open(&o, st);
		if (!dp) {
			bpf_teardown(st, &o);
			st = NULL;
		}
	}
	/* negotiate only once the data path can take the connections */
	if (st && bpf_negotiate(st, &o, true)) {
		datapath_close(dp);
		bpf_teardown(st, &o);
		st = NULL;
	}
	if (!st) {
		if (pin_created)
			rmdir(o.pin_dir);
		return 1;
	}
	fprintf(stderr, "tcpcryptd: running (pid %d): pin-dir %s, cgroup %s, interfaces", getpid(),
		o.pin_dir, o.cgroup);
	for (int i = 0; i < o.nifaces; i++)
		fprintf(stderr, " %s", o.ifnames[i]);
	fprintf(stderr, "\n");
	if (dp) {
		sig = datapath_run(dp, &sigs);
	} else {
		do
			sig = sigwaitinfo(&sigs, NULL);
		while (sig != SIGINT && sig != SIGTERM);
	}
	fprintf(stderr, "tcpcryptd: %s received, stopping\n", strsignal(sig));
	/*
	 * Fail closed: no new negotiation, every encrypted connection reset
	 * while the programs still steer it, and only then the detach.
	 */
	bpf_negotiate(st, &o, false);
	if (dp && datapath_stop(dp, o.pin_dir)) {
		/* as after a crash: the pinned programs stay and drop, the lock goes */
		datapath_close(dp);
		close(lock_fd);
		return 1;
	}
	datapath_close(dp);
	bpf_teardown(st, &o);
	if (pin_created)
		rmdir(o.pin_dir);
	close(lock_fd);
	fprintf(stderr, "tcpcryptd: stopped\n");
	return 0;
}
