// SPDX-License-Identifier: MIT
/* tcpcryptctl stats: the per-CPU counters, summed. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "ctl.h"
#include "names.h"
#include "pindir.h"

#define STAT(f)                                                                                    \
	{                                                                                          \
#f, offsetof(struct tcpcrypt_stats, f)                                             \
	}

static const struct {
	const char *name;
	size_t off;
} fields[] = {
    STAT(negotiated),	  STAT(peer_no_eno), STAT(stripped),	  STAT(syn_blackhole),
    STAT(negcache_plain), STAT(malformed),   STAT(role_conflict), STAT(no_common_tep),
    STAT(app_aware_fail), STAT(port_off),    STAT(require_reset), STAT(flows_created),
    STAT(flows_deleted),
};

#define DPC(f)                                                                                     \
	{                                                                                          \
#f, offsetof(struct dp_counters, f)                                                \
	}

static const struct {
	const char *name;
	size_t off;
} dp_fields[] = {
    DPC(sessions),	    DPC(established),	   DPC(auth_failures),	DPC(aborted),
    DPC(wire_retrans),	    DPC(plain_out),	   DPC(plain_in),	DPC(frames_sealed),
    DPC(frames_opened),	    DPC(urgent_sealed),	   DPC(urgent_opened),	DPC(rx_frames),
    DPC(tx_frames),	    DPC(tx_drops),	   DPC(unknown_drops),	DPC(reasm_drops),
    DPC(xsk_rx_dropped),    DPC(xsk_rx_ring_full), DPC(xsk_fill_empty), DPC(xsk_tx_invalid),
    DPC(xsk_tx_ring_empty),
};

/* The agent's data path counters, when it runs one (prefixed dp_). */
static void print_dp_counters(void)
{
	struct dp_counters c;
	char path[4096];
	__u32 zero = 0;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", ctl.pin_dir, MAP_DPSTATS);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return;
	if (!bpf_map_lookup_elem(fd, &zero, &c)) {
		for (size_t i = 0; i < sizeof(dp_fields) / sizeof(dp_fields[0]); i++) {
			unsigned long long v = *(__u64 *)((char *)&c + dp_fields[i].off);

			if (ctl.json)
				printf(",\"dp_%s\":%llu", dp_fields[i].name, v);
			else
				printf("dp_%-17s %llu\n", dp_fields[i].name, v);
		}
	}
	close(fd);
}

int stats_main(int argc, char **argv)
{
	int ncpu = libbpf_num_possible_cpus();
	struct tcpcrypt_stats *per, sum = {};
	__u32 zero = 0;
	int fd;

	(void)argv;
	if (argc != 1)
		return ctl_usage("stats", "");
	if (ncpu <= 0)
		return 1;
	fd = pindir_map_open(ctl.pin_dir, MAP_STATS);
	if (fd < 0)
		return 1;
	per = calloc(ncpu, sizeof(*per));
	if (!per || bpf_map_lookup_elem(fd, &zero, per)) {
		perror("tcpcryptctl: reading stats");
		free(per);
		close(fd);
		return 1;
	}
	for (int c = 0; c < ncpu; c++)
		for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
			*(__u64 *)((char *)&sum + fields[i].off) +=
			    *(__u64 *)((char *)&per[c] + fields[i].off);
	if (ctl.json)
		printf("{");
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		unsigned long long v = *(__u64 *)((char *)&sum + fields[i].off);

		if (ctl.json)
			printf("%s\"%s\":%llu", i ? "," : "", fields[i].name, v);
		else
			printf("%-16s %llu\n", fields[i].name, v);
	}
	print_dp_counters();
	if (ctl.json)
		printf("}\n");
	free(per);
	close(fd);
	return 0;
}
