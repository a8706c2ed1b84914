// SPDX-License-Identifier: MIT
/* tcpcryptctl flows [STATE]: connections taking part in TCP-ENO. */
#include <arpa/inet.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "ctl.h"
#include "names.h"
#include "pindir.h"

static void print_flow(const struct flow_key *k, const struct flow_info *f, bool first)
{
	char local[64], remote[64], tr[2 * TCPCRYPT_TRANSCRIPT_MAX + 1], tep[8];
	unsigned int tlen = f->transcript_len;

	if (tlen > TCPCRYPT_TRANSCRIPT_MAX)
		tlen = TCPCRYPT_TRANSCRIPT_MAX;
	endpoint_str(k->family, k->laddr, k->lport, local, sizeof(local));
	endpoint_str(k->family, k->raddr, k->rport, remote, sizeof(remote));
	hex_str(f->transcript, tlen, tr);
	snprintf(tep, sizeof(tep), "0x%02x", f->tep | (f->v ? 0x80 : 0));
	if (ctl.json) {
		printf("%s{\"local\":", first ? "" : ",");
		json_str(stdout, local);
		printf(",\"remote\":");
		json_str(stdout, remote);
		printf(",\"state\":\"%s\",\"role\":\"%s\",\"tep\":%u,\"tep_name\":\"%s\",\"v\":%u,"
		       "\"peer_a\":%u,\"policy\":\"%s\",\"reason\":\"%s\",\"active\":%s,"
		       "\"syn_eno_sent\":%u,\"cookie\":%llu,\"transcript\":\"%s\","
		       "\"a_opt_len\":%u,\"no_cache\":%s,\"flush\":%s,\"aa_mandatory\":%s,"
		       "\"aead_pref\":%u}",
		       flow_state_name(f->state), role_name(f->role), f->tep,
		       f->tep ? tep_name(f->tep) : "-", f->v, f->peer_a, policy_name(f->policy),
		       fail_reason_name(f->reason), f->flags & FLOWF_ACTIVE ? "true" : "false",
		       f->syn_tx, (unsigned long long)f->cookie, tr, f->a_opt_len,
		       f->flags & FLOWF_NO_CACHE ? "true" : "false",
		       f->flags & FLOWF_FLUSH ? "true" : "false",
		       f->flags & FLOWF_AA_MANDATORY ? "true" : "false", f->aead_pref);
		return;
	}
	printf("%-28s %-28s %-11s %-4s %-11s %-19s %s\n", local, remote, flow_state_name(f->state),
	       role_name(f->role), f->tep ? tep : "-", fail_reason_name(f->reason),
	       tlen ? tr : "-");
}

int flows_main(int argc, char **argv)
{
	struct flow_key key, next;
	struct flow_info info;
	int fd, err, want = 0;
	bool first = true;

	if (argc > 2)
		return ctl_usage("flows", "[tcpcrypt|plain|negotiating]");
	if (argc == 2) {
		for (want = FLOW_NEGOTIATING; want <= FLOW_PLAIN; want++)
			if (!strcmp(argv[1], flow_state_name(want)))
				break;
		if (want > FLOW_PLAIN)
			return ctl_usage("flows", "[tcpcrypt|plain|negotiating]");
	}
	fd = pindir_map_open(ctl.pin_dir, MAP_FLOWS);
	if (fd < 0)
		return 1;
	if (ctl.json)
		printf("[");
	else
		printf("%-28s %-28s %-11s %-4s %-11s %-19s %s\n", "LOCAL", "REMOTE", "STATE",
		       "ROLE", "TEP", "FALLBACK", "TRANSCRIPT");
	for (err = bpf_map_get_next_key(fd, NULL, &next); !err;
	     err = bpf_map_get_next_key(fd, &key, &next)) {
		key = next;
		if (bpf_map_lookup_elem(fd, &key, &info))
			continue; /* closed meanwhile */
		if (want && info.state != want)
			continue;
		print_flow(&key, &info, first);
		first = false;
	}
	if (ctl.json)
		printf("]\n");
	close(fd);
	return 0;
}
