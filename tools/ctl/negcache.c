// SPDX-License-Identifier: MIT
/*
 * tcpcryptctl negcache [flush]: destinations connections go to in plain TCP
 * for a while, and why: they black-holed SYNs carrying ENO (syn-blackhole),
 * or ENO succeeded but the tcpcrypt handshake did not (init-failed).
 */
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "ctl.h"
#include "names.h"
#include "pindir.h"

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

int negcache_main(int argc, char **argv)
{
	struct negcache_key key, next;
	struct negcache_val val;
	bool flush = false, first = true;
	__u64 now = now_ns();
	int fd, err;

	if (argc == 2 && !strcmp(argv[1], "flush"))
		flush = true;
	else if (argc != 1)
		return ctl_usage("negcache", "[flush]");
	fd = pindir_map_open(ctl.pin_dir, MAP_NEGCACHE);
	if (fd < 0)
		return 1;
	if (!flush) {
		if (ctl.json)
			printf("[");
		else
			printf("%-40s %-14s %-12s %s\n", "DESTINATION", "CAUSE", "EXPIRES-IN",
			       "HITS");
	}
	for (err = bpf_map_get_next_key(fd, NULL, &next); !err;
	     err = bpf_map_get_next_key(fd, flush ? NULL : &key, &next)) {
		char addr[64];

		key = next;
		if (flush) {
			bpf_map_delete_elem(fd, &key);
			continue;
		}
		if (bpf_map_lookup_elem(fd, &key, &val) || val.expires_ns <= now)
			continue;
		addr_str(key.family, key.addr, addr, sizeof(addr));
		if (ctl.json)
			printf("%s{\"destination\":\"%s\",\"cause\":\"%s\",\"expires_in_s\":%llu,"
			       "\"hits\":%llu}",
			       first ? "" : ",", addr, fail_reason_name(val.cause),
			       (unsigned long long)((val.expires_ns - now) / 1000000000ULL),
			       (unsigned long long)val.hits);
		else
			printf("%-40s %-14s %-12llu %llu\n", addr, fail_reason_name(val.cause),
			       (unsigned long long)((val.expires_ns - now) / 1000000000ULL),
			       (unsigned long long)val.hits);
		first = false;
	}
	if (!flush && ctl.json)
		printf("]\n");
	close(fd);
	return 0;
}
