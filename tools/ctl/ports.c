// SPDX-License-Identifier: MIT
/* tcpcryptctl ports, tcpcryptctl port PORT[-PORT] on|off|require */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "ctl.h"
#include "names.h"
#include "pindir.h"
#include "portmap.h"

static int default_policy(void)
{
	struct tcpcrypt_config cfg;
	__u32 zero = 0;
	int fd = pindir_map_open(ctl.pin_dir, MAP_CONFIG);
	int ret = -1;

	if (fd < 0)
		return -1;
	if (bpf_map_lookup_elem(fd, &zero, &cfg) == 0)
		ret = cfg.default_policy;
	close(fd);
	return ret;
}

static int port_cmp(const void *a, const void *b)
{
	return *(const __u16 *)a - *(const __u16 *)b;
}

int ports_main(int argc, char **argv)
{
	static __u16 keys[65536];
	__u16 key, next;
	size_t n = 0;
	int fd, def, err = 0;

	(void)argv;
	if (argc != 1)
		return ctl_usage("ports", "");
	def = default_policy();
	fd = pindir_map_open(ctl.pin_dir, MAP_PORTS);
	if (fd < 0 || def < 0)
		return 1;
	for (err = bpf_map_get_next_key(fd, NULL, &next); !err;
	     err = bpf_map_get_next_key(fd, &key, &next)) {
		keys[n++] = next;
		key = next;
	}
	qsort(keys, n, sizeof(keys[0]), port_cmp);
	if (ctl.json)
		printf("{\"default\":\"%s\",\"ports\":[", policy_name(def));
	else
		printf("default: %s\n", policy_name(def));
	for (size_t i = 0; i < n; i++) {
		__u8 pol;

		if (bpf_map_lookup_elem(fd, &keys[i], &pol))
			continue;
		if (ctl.json)
			printf("%s{\"port\":%u,\"policy\":\"%s\"}", i ? "," : "", keys[i],
			       policy_name(pol));
		else
			printf("%-5u %s\n", keys[i], policy_name(pol));
	}
	if (ctl.json)
		printf("]}\n");
	close(fd);
	return 0;
}

static int parse_port(const char *s, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 10);
	return errno || end == s || *out < 1 || *out > 65535 ? -1 : (int)(end - s);
}

/* TC ingress checks third ACKs only while some port requires ENO (struct port_state). */
static int update_portstate(int ports_fd)
{
	int fd = pindir_map_open(ctl.pin_dir, MAP_PORTSTATE);
	int ret;

	if (fd < 0)
		return -1;
	ret = portmap_sync_state(ports_fd, fd);
	if (ret)
		fprintf(stderr, "tcpcryptctl: updating the %s map: %s\n", MAP_PORTSTATE,
			strerror(errno));
	close(fd);
	return ret;
}

int port_main(int argc, char **argv)
{
	unsigned long lo, hi;
	int n, policy, fd, def, err;
	const char *range;

	if (argc != 3)
		return ctl_usage("port", "PORT[-PORT] on|off|require");
	range = argv[1];
	n = parse_port(range, &lo);
	hi = lo;
	if (n > 0 && range[n] == '-') {
		int m = parse_port(range + n + 1, &hi);

		if (m < 0 || range[n + 1 + m])
			n = -1;
	} else if (n > 0 && range[n]) {
		n = -1;
	}
	if (n < 0 || hi < lo) {
		fprintf(stderr,
			"tcpcryptctl: bad port or range '%s' (1-65535, e.g. 80 or "
			"8000-8080)\n",
			range);
		return 2;
	}
	policy = policy_parse(argv[2]);
	if (policy < 0) {
		fprintf(stderr, "tcpcryptctl: bad policy '%s' (on, off or require)\n", argv[2]);
		return 2;
	}
	def = default_policy();
	fd = pindir_map_open(ctl.pin_dir, MAP_PORTS);
	if (fd < 0 || def < 0)
		return 1;
	for (unsigned long p = lo; p <= hi; p++) {
		__u16 key = p;
		__u8 val = policy;

		/* the default needs no entry: keeps the map small and the listing short */
		if (policy == def)
			err = bpf_map_delete_elem(fd, &key) && errno != ENOENT;
		else
			err = bpf_map_update_elem(fd, &key, &val, BPF_ANY);
		if (err) {
			fprintf(stderr, "tcpcryptctl: setting port %lu: %s\n", p, strerror(errno));
			close(fd);
			return 1;
		}
	}
	err = update_portstate(fd);
	close(fd);
	return err ? 1 : 0;
}
