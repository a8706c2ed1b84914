// SPDX-License-Identifier: MIT
/* tcpcryptctl sessions: encrypted connections, from the agent's sessions map. */
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "ctl.h"
#include "names.h"
#include "pindir.h"

static const char *session_state_name(unsigned int s)
{
	switch (s) {
	case SESSION_HANDSHAKE:
		return "handshake";
	case SESSION_ESTABLISHED:
		return "established";
	case SESSION_CLOSING:
		return "closing";
	case SESSION_CLOSED:
		return "closed";
	case SESSION_ABORTED:
		return "aborted";
	}
	return "unknown";
}

int sessions_main(int argc, char **argv)
{
	struct flow_key key, next;
	struct session_info si;
	bool first = true;
	int fd, err;

	(void)argv;
	if (argc != 1)
		return ctl_usage("sessions", "");
	fd = pindir_map_open(ctl.pin_dir, MAP_SESSIONS);
	if (fd < 0)
		return 1;
	if (ctl.json)
		printf("[");
	else
		printf("%-28s %-28s %-4s %-6s %-16s %-11s %-5s %-10s %-10s %s\n", "LOCAL", "REMOTE",
		       "ROLE", "TEP", "AEAD", "STATE", "MSS", "BYTES-OUT", "BYTES-IN",
		       "SESSION-ID");
	for (err = bpf_map_get_next_key(fd, NULL, &next); !err;
	     err = bpf_map_get_next_key(fd, &key, &next)) {
		char local[64], remote[64], sid[2 * TCPCRYPT_SESSID_LEN + 1];
		bool have_id = false;

		key = next;
		if (bpf_map_lookup_elem(fd, &key, &si))
			continue;
		for (int i = 0; i < TCPCRYPT_SESSID_LEN; i++)
			have_id |= si.session_id[i] != 0;
		endpoint_str(key.family, key.laddr, key.lport, local, sizeof(local));
		endpoint_str(key.family, key.raddr, key.rport, remote, sizeof(remote));
		hex_str(si.session_id, TCPCRYPT_SESSID_LEN, sid);
		if (ctl.json) {
			printf("%s{\"local\":", first ? "" : ",");
			json_str(stdout, local);
			printf(",\"remote\":");
			json_str(stdout, remote);
			printf(",\"role\":\"%s\",\"tep\":%u,\"tep_name\":\"%s\",\"aead\":%u,"
			       "\"aead_name\":\"%s\",\"state\":\"%s\",\"error\":%u,"
			       "\"session_id\":\"%s\",\"plain_out\":%llu,\"plain_in\":%llu,"
			       "\"wire_out\":%llu,\"wire_in\":%llu,\"retransmits\":%llu,"
			       "\"local_gen\":%u,\"remote_gen\":%u,\"wire_mss\":%u}",
			       role_name(si.role), si.tep_byte, tep_name(si.tep_byte), si.aead,
			       aead_name(si.aead), session_state_name(si.state), si.error,
			       have_id ? sid : "", (unsigned long long)si.plain_out,
			       (unsigned long long)si.plain_in, (unsigned long long)si.wire_out,
			       (unsigned long long)si.wire_in, (unsigned long long)si.retransmits,
			       si.local_gen, si.remote_gen, si.wire_mss);
		} else {
			char tep[8];

			snprintf(tep, sizeof(tep), "0x%02x", si.tep_byte);
			printf("%-28s %-28s %-4s %-6s %-16s %-11s %-5u %-10llu %-10llu %s\n", local,
			       remote, role_name(si.role), tep, aead_name(si.aead),
			       session_state_name(si.state), si.wire_mss,
			       (unsigned long long)si.plain_out, (unsigned long long)si.plain_in,
			       have_id ? sid : "-");
		}
		first = false;
	}
	if (ctl.json)
		printf("]\n");
	close(fd);
	return 0;
}
