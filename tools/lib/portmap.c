// SPDX-License-Identifier: MIT
#include <bpf/bpf.h>
#include "portmap.h"
#include "tcpcrypt_common.h"

__u16 portmap_count_require(int ports_fd)
{
	__u16 key, next;
	__u32 n = 0;
	int err;

	for (err = bpf_map_get_next_key(ports_fd, NULL, &next); !err;
	     err = bpf_map_get_next_key(ports_fd, &key, &next)) {
		__u8 pol;

		key = next;
		if (!bpf_map_lookup_elem(ports_fd, &key, &pol) && pol == POLICY_REQUIRE)
			n++;
	}
	return n > 0xffff ? 0xffff : n;
}

int portmap_sync_state(int ports_fd, int portstate_fd)
{
	struct port_state ps = {.nrequire = portmap_count_require(ports_fd)};
	__u32 zero = 0;

	return bpf_map_update_elem(portstate_fd, &zero, &ps, BPF_ANY);
}
