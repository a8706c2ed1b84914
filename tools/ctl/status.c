// SPDX-License-Identifier: MIT
/* tcpcryptctl status: agent, steered interfaces, XDP mode, configuration. */
#include <net/if.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>
#include "ctl.h"
#include "names.h"
#include "pindir.h"

static const char *xdp_mode(int ifindex)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);

	if (bpf_xdp_query(ifindex, 0, &q))
		return "unknown";
	switch (q.attach_mode) {
	case XDP_ATTACHED_DRV:
		return "native";
	case XDP_ATTACHED_SKB:
		return "generic";
	case XDP_ATTACHED_HW:
		return "offload";
	case XDP_ATTACHED_MULTI:
		return "multi";
	}
	return "none";
}

static const char *xsk_mode(__u8 zerocopy)
{
	return zerocopy ? "zero-copy" : "copy";
}

static __u64 count_flows(int fd, __u64 *by_state)
{
	struct flow_key key, next;
	struct flow_info info;
	__u64 n = 0;
	int err;

	for (err = bpf_map_get_next_key(fd, NULL, &next); !err;
	     err = bpf_map_get_next_key(fd, &key, &next)) {
		key = next;
		if (bpf_map_lookup_elem(fd, &key, &info))
			continue;
		if (info.state <= FLOW_PLAIN)
			by_state[info.state]++;
		n++;
	}
	return n;
}

/* The agent's sockets on steered interface number slot (all zero if none). */
static void agent_iface_find(__u32 slot, struct agent_iface *ai)
{
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", ctl.pin_dir, MAP_AGENT);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return;
	if (bpf_map_lookup_elem(fd, &slot, ai))
		memset(ai, 0, sizeof(*ai));
	close(fd);
}

int status_main(int argc, char **argv)
{
	struct tcpcrypt_config cfg;
	__u64 by_state[FLOW_PLAIN + 1] = {};
	bool running = pindir_agent_running(ctl.pin_dir);
	__u32 zero = 0, ifkey, ifnext;
	int cfg_fd, if_fd, flows_fd, err;
	char teps[64] = "";
	__u64 nflows;
	bool first = true;

	(void)argv;
	if (argc != 1)
		return ctl_usage("status", "");
	cfg_fd = pindir_map_open(ctl.pin_dir, MAP_CONFIG);
	if (cfg_fd < 0)
		return 1;
	if_fd = pindir_map_open(ctl.pin_dir, MAP_IFACES);
	flows_fd = pindir_map_open(ctl.pin_dir, MAP_FLOWS);
	if (if_fd < 0 || flows_fd < 0 || bpf_map_lookup_elem(cfg_fd, &zero, &cfg))
		return 1;
	for (int i = 0; i < cfg.teps.n && i < 8; i++) {
		strcat(teps, i ? "," : "");
		strcat(teps, tep_name(cfg.teps.tep[i]));
	}
	nflows = count_flows(flows_fd, by_state);
	if (ctl.json)
		printf("{\"pin_dir\":\"%s\",\"agent\":\"%s\",\"enabled\":%s,\"teps\":\"%s\","
		       "\"default_policy\":\"%s\",\"syn_eno_tries\":%u,\"negcache_ttl_s\":%u,"
		       "\"app_aware\":%u,\"require_app_aware\":%u,\"flows\":%llu,"
		       "\"tcpcrypt\":%llu,\"plain\":%llu,\"negotiating\":%llu,\"interfaces\":[",
		       ctl.pin_dir, running ? "running" : "stopped", cfg.enabled ? "true" : "false",
		       teps, policy_name(cfg.default_policy), cfg.syn_eno_tries, cfg.negcache_ttl_s,
		       cfg.app_aware, cfg.need_peer_a, (unsigned long long)nflows,
		       (unsigned long long)by_state[FLOW_TCPCRYPT],
		       (unsigned long long)by_state[FLOW_PLAIN],
		       (unsigned long long)by_state[FLOW_NEGOTIATING]);
	else
		printf("pin dir:         %s\n"
		       "agent:           %s%s\n"
		       "TEPs:            %s (increasing priority)\n"
		       "default policy:  %s\n"
		       "SYN black hole:  ENO on the first %u SYNs; remembered %u s\n"
		       "app-aware:       send a=%u, require peer a=1: %s\n"
		       "flows:           %llu (%llu tcpcrypt, %llu plain, %llu negotiating)\n"
		       "interfaces:\n",
		       ctl.pin_dir, running ? "running" : "stopped (maps still pinned)",
		       cfg.enabled ? "" : ", not enabled", teps, policy_name(cfg.default_policy),
		       cfg.syn_eno_tries, cfg.negcache_ttl_s, cfg.app_aware,
		       cfg.need_peer_a ? "yes" : "no", (unsigned long long)nflows,
		       (unsigned long long)by_state[FLOW_TCPCRYPT],
		       (unsigned long long)by_state[FLOW_PLAIN],
		       (unsigned long long)by_state[FLOW_NEGOTIATING]);
	for (err = bpf_map_get_next_key(if_fd, NULL, &ifnext); !err;
	     err = bpf_map_get_next_key(if_fd, &ifkey, &ifnext)) {
		char name[IF_NAMESIZE] = "?";
		struct agent_iface ai = {};
		struct iface_info ii;
		unsigned capt_if;

		ifkey = ifnext;
		if (bpf_map_lookup_elem(if_fd, &ifkey, &ii) || ii.kind != IFACE_WIRE)
			continue; /* the capture veths are shown with their interface */
		if_indextoname(ifkey, name);
		agent_iface_find(ii.slot, &ai);
		capt_if = ai.capture[0] ? if_nametoindex(ai.capture) : 0;
		if (ctl.json) {
			bool packet = ai.capture_sg & 4;

			printf("%s{\"name\":\"%s\",\"ifindex\":%u,\"tc\":true,\"capture\":\"%s\","
			       "\"capture_mode\":\"%s\",\"capture_xdp\":\"%s\",\"inject_64k\":%s,"
			       "\"xsk\":[",
			       first ? "" : ",", name, ifkey, ai.capture,
			       !ai.capture[0] ? "-"
			       : packet	      ? "packet"
					      : "xdp",
			       capt_if ? xdp_mode(capt_if) : "-",
			       ai.capture_sg & 2 ? "true" : "false");
			if (ai.capture[0] && !packet)
				printf("{\"ifname\":\"%s\",\"queue\":0,\"dir\":\"rx\",\"mode\":\"%"
				       "s\",\"multi_buffer\":%s,\"inject_64k\":%s}",
				       ai.capture, xsk_mode(ai.capture_zerocopy),
				       ai.capture_sg & 1 ? "true" : "false",
				       ai.capture_sg & 2 ? "true" : "false");
			for (__u32 q = 0; ai.capture[0] && q < ai.nqueues; q++)
				printf(",{\"ifname\":\"%s\",\"queue\":%u,\"dir\":\"tx\",\"mode\":"
				       "\"%s\"}",
				       name, q, xsk_mode(ai.zerocopy));
			printf("]}");
		} else if (ai.capture[0] && (ai.capture_sg & 4)) {
			printf(
			    "  %-16s ifindex %-4u TC ingress+egress; data path via %s (packet "
			    "capture)\n"
			    "  %-16s AF_PACKET: %s RX ring (GSO skbs whole), TX with GSO on %s and "
			    "%s%s\n",
			    name, ifkey, ai.capture, "", ai.capture, name, ai.capture,
			    ai.capture_sg & 2 ? " (plaintext in 64 KB units)" : "");
		} else if (ai.capture[0]) {
			printf("  %-16s ifindex %-4u TC ingress+egress; data path via %s (XDP %s)\n"
			       "  %-16s AF_XDP: %s queue 0 RX (%s, %s)",
			       name, ifkey, ai.capture, xdp_mode(capt_if), "", ai.capture,
			       xsk_mode(ai.capture_zerocopy),
			       ai.capture_sg & 2   ? "multi-buffer, 64 KB units both ways"
			       : ai.capture_sg & 1 ? "multi-buffer RX, one frame per TX packet"
						   : "single-buffer: one frame per packet");
			for (__u32 q = 0; q < ai.nqueues; q++)
				printf(", %s queue %u TX (%s)", name, q, xsk_mode(ai.zerocopy));
			printf("\n");
		} else
			printf("  %-16s ifindex %-4u TC ingress (negotiation only, no data path)\n",
			       name, ifkey);
		first = false;
	}
	if (ctl.json)
		printf("]}\n");
	close(cfg_fd);
	close(if_fd);
	close(flows_fd);
	return 0;
}
