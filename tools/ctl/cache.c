// SPDX-License-Identifier: MIT
/*
 * tcpcryptctl cache [flush]: the agent's session cache for resumption
 * (RFC 8548 §3.5), from its public view (rs_cache: peer, original role,
 * TEP, next index, what is published; never a secret).  flush asks the
 * agent to erase it (rs_ctl) and waits until the agent confirms; with no
 * agent, it removes what sock_ops could still claim.
 * docs/architecture.md#session-resumption-on-the-wire.
 */
#include <errno.h>
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

/* Remove every entry of a pinned map (sizes up to 64 bytes). */
static void map_clear(const char *name)
{
	__u8 key[64];
	int fd = pindir_map_open(ctl.pin_dir, name);

	if (fd < 0)
		return;
	while (!bpf_map_get_next_key(fd, NULL, key))
		if (bpf_map_delete_elem(fd, key))
			break;
	close(fd);
}

static int cache_flush(void)
{
	struct rs_ctl c;
	__u32 zero = 0;
	int fd = pindir_map_open(ctl.pin_dir, MAP_RS_CTL);
	__u64 want;

	if (fd < 0)
		return 1;
	if (bpf_map_lookup_elem(fd, &zero, &c)) {
		fprintf(stderr, "tcpcryptctl: cannot read %s: %s\n", MAP_RS_CTL, strerror(errno));
		close(fd);
		return 1;
	}
	want = ++c.flush_req;
	if (bpf_map_update_elem(fd, &zero, &c, BPF_ANY)) {
		fprintf(stderr, "tcpcryptctl: cannot write %s: %s\n", MAP_RS_CTL, strerror(errno));
		close(fd);
		return 1;
	}
	/* the agent answers within its 20 ms tick; 2 s is an agent that does not run */
	for (int i = 0; i < 200; i++) {
		if (!bpf_map_lookup_elem(fd, &zero, &c) && c.flush_done >= want) {
			close(fd);
			return 0;
		}
		usleep(10000);
	}
	close(fd);
	/* no agent: what sock_ops could claim goes, its secrets died with the agent */
	map_clear(MAP_RS_OFFERS);
	map_clear(MAP_RS_ACCEPTS);
	map_clear(MAP_RS_PEERS);
	map_clear(MAP_RS_CACHE);
	fprintf(stderr, "tcpcryptctl: no agent answered; removed the published offers\n");
	return 0;
}

int cache_main(int argc, char **argv)
{
	struct rs_chain_key key, next;
	struct rs_chain val;
	bool first = true;
	__u64 now = now_ns();
	int fd, err;

	if (argc == 2 && !strcmp(argv[1], "flush"))
		return cache_flush();
	if (argc != 1)
		return ctl_usage("cache", "[flush]");
	fd = pindir_map_open(ctl.pin_dir, MAP_RS_CACHE);
	if (fd < 0)
		return 1;
	if (ctl.json)
		printf("[");
	else
		printf("%-40s %-4s %-7s %-10s %-12s %-9s %s\n", "PEER", "ROLE", "TEP", "NEXT-I",
		       "EXPIRES-IN", "PUBLISHED", "RESUMED");
	for (err = bpf_map_get_next_key(fd, NULL, &next); !err;
	     err = bpf_map_get_next_key(fd, &key, &next)) {
		char addr[64];
		__u64 left;

		key = next;
		if (bpf_map_lookup_elem(fd, &key, &val))
			continue;
		left = val.expires_ns > now ? (val.expires_ns - now) / 1000000000ULL : 0;
		addr_str(key.peer.family, key.peer.addr, addr, sizeof(addr));
		if (ctl.json)
			printf("%s{\"peer\":\"%s\",\"orig_role\":\"%s\",\"tep\":%u,\"tep_name\":\"%"
			       "s\","
			       "\"next_index\":%llu,\"expires_in_s\":%llu,\"published\":%u,"
			       "\"resumed\":%u}",
			       first ? "" : ",", addr, role_name(key.orig_role), key.tep,
			       tep_name(key.tep), (unsigned long long)val.next_index,
			       (unsigned long long)left, val.published, val.resumed);
		else
			printf("%-40s %-4s %-7s %-10llu %-12llu %-9u %u\n", addr,
			       role_name(key.orig_role), tep_name(key.tep),
			       (unsigned long long)val.next_index, (unsigned long long)left,
			       val.published, val.resumed);
		first = false;
	}
	if (ctl.json)
		printf("]\n");
	close(fd);
	return 0;
}
