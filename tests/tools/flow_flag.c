// SPDX-License-Identifier: MIT
/*
 * Test helper: set a flag (enum flow_flags) in the flow entries of local
 * port LPORT, as the socket-option hooks do for a connected socket (e.g.
 * FLOWF_FLUSH: RFC 8548 §3.5 "flush what this connection used or
 * produced"), so that a test can watch the agent act on it.
 *
 *   flow_flag PIN_DIR LPORT FLAG    prints how many entries it changed
 */
#include <stdio.h>
#include <stdlib.h>
#include <bpf/bpf.h>
#include "tcpcrypt_common.h"

int main(int argc, char **argv)
{
	struct flow_key key, next;
	struct flow_info fi;
	char path[512];
	int fd, n = 0, err;

	if (argc != 4) {
		fprintf(stderr, "usage: flow_flag PIN_DIR LPORT FLAG\n");
		return 2;
	}
	snprintf(path, sizeof(path), "%s/%s", argv[1], MAP_FLOWS);
	fd = bpf_obj_get(path);
	if (fd < 0) {
		perror("flow_flag: flows");
		return 1;
	}
	for (err = bpf_map_get_next_key(fd, NULL, &next); !err;
	     err = bpf_map_get_next_key(fd, &key, &next)) {
		key = next;
		if (key.lport != atoi(argv[2]) || bpf_map_lookup_elem(fd, &key, &fi))
			continue;
		fi.flags |= strtoul(argv[3], NULL, 0);
		if (!bpf_map_update_elem(fd, &key, &fi, BPF_EXIST))
			n++;
	}
	printf("%d\n", n);
	return n ? 0 : 1;
}
