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

struct field {
	const char *name;
	size_t off;
};

#define STAT_FIELD_(f, desc) {#f, offsetof(struct tcpcrypt_stats, f)},
#define DPC_FIELD_(f, desc)  {#f, offsetof(struct agent_counters, f)},

static const struct field fields[] = {TCPCRYPT_STATS(STAT_FIELD_)};
static const struct field dp_fields[] = {TCPCRYPT_AGENT_COUNTERS(DPC_FIELD_)};

#define DROP_NAME_(id, name, desc) [id] = #name,

static const char *const drop_names[DROP__MAX] = {TCPCRYPT_DROP_REASONS(DROP_NAME_)};

/* The BPF programs' drops by reason, per-CPU, summed (prefixed drop_). */
static void print_drops(int ncpu)
{
	__u64 *per = calloc(ncpu, sizeof(*per));
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", ctl.pin_dir, MAP_DROPS);
	fd = bpf_obj_get(path);
	if (fd < 0 || !per) {
		free(per);
		if (fd >= 0)
			close(fd);
		return;
	}
	for (__u32 r = 0; r < DROP__MAX; r++) {
		unsigned long long v = 0;

		if (bpf_map_lookup_elem(fd, &r, per))
			continue;
		for (int c = 0; c < ncpu; c++)
			v += per[c];
		if (ctl.json)
			printf(",\"drop_%s\":%llu", drop_names[r], v);
		else
			printf("drop_%-15s %llu\n", drop_names[r], v);
	}
	free(per);
	close(fd);
}

/* The agent's data path counters, when it runs one (prefixed dp_). */
static void print_agent_counters(void)
{
	struct agent_counters c;
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
	print_drops(ncpu);
	print_agent_counters();
	if (ctl.json)
		printf("}\n");
	free(per);
	close(fd);
	return 0;
}
