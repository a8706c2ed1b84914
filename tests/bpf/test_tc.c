// SPDX-License-Identifier: MIT
/*
 * The TC programs (bpf/tc.bpf.c) run in the kernel with BPF_PROG_TEST_RUN
 * on frames built here: the `require` policy's RST reply to a SYN and its
 * SYN-ACK and third-ACK resets, the resets while the agent is not ready,
 * steering by flow state both ways, the stripped-Init1 rule and TCP Fast
 * Open options in a SYN with ENO.  Every expected frame is built by the
 * test, byte for byte, with checksums from tests/bpf/bpf_test.c.
 *
 * The test runs use the loopback device as the steered interface: a test
 * run's skb can only name an existing device, and bpf_redirect() in a test
 * run returns TC_ACT_REDIRECT without sending anything.
 */
#include <arpa/inet.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <bpf/bpf.h>
#include "bpf_test.h"
#include "tc.skel.h"
#include "t.h"

#define CPORT 40000 /* the client's port */
#define SPORT 8443  /* the server's */

static struct tc_bpf *skel;
static __u32 lo;

static void skel_destroy(void)
{
	tc_bpf__destroy(skel);
}

static struct tc_bpf *tc_get(void)
{
	if (skel)
		return skel;
	bt_need_root();
	lo = if_nametoindex("lo");
	skel = tc_bpf__open();
	if (!skel || bt_unpin(skel->obj) || tc_bpf__load(skel)) {
		fprintf(stderr, "loading bpf/tc.bpf.c failed\n");
		printf("0 passed, 1 failed\n");
		exit(1);
	}
	atexit(skel_destroy);
	return skel;
}

static struct tcpcrypt_config config(void)
{
	struct tcpcrypt_config c = {
	    .enabled = 1,
	    .syn_eno_tries = 2,
	    .default_policy = POLICY_ON,
	    .teps = {4, {TEP_P256, TEP_P521, TEP_X448, TEP_X25519}},
	    .datapath = 1,
	};

	return c;
}

/* How many ports are set to require, as tcpcryptctl records it (struct port_state). */
static void set_nrequire(struct tc_bpf *s, __u16 nrequire)
{
	struct port_state ps = {.nrequire = nrequire};
	__u32 zero = 0;

	if (bpf_map_update_elem(bpf_map__fd(s->maps.portstate), &zero, &ps, BPF_ANY))
		abort();
}

/* Empty maps, zero counters, settings c. */
static struct tc_bpf *setup(const struct tcpcrypt_config *c)
{
	struct tc_bpf *s = tc_get();
	__u32 zero = 0;

	bt_map_clear(s->maps.flows);
	bt_map_clear(s->maps.pending);
	bt_map_clear(s->maps.ports);
	bt_map_clear(s->maps.ifaces);
	bt_map_clear(s->maps.syn_seen);
	bt_stats_zero(s->maps.stats);
	bt_drops_zero(s->maps.drops);
	if (bpf_map_update_elem(bpf_map__fd(s->maps.settings), &zero, c, BPF_ANY))
		abort();
	set_nrequire(s, 0);
	return s;
}

static void set_port(struct tc_bpf *s, __u16 port, __u8 policy)
{
	if (bpf_map_update_elem(bpf_map__fd(s->maps.ports), &port, &policy, BPF_ANY))
		abort();
}

static void set_flow(const struct bpf_map *map, const struct flow_key *k,
		     const struct flow_info *fi)
{
	if (bpf_map_update_elem(bpf_map__fd(map), k, fi, BPF_ANY))
		abort();
}

static struct flow_info get_flow(const struct bpf_map *map, const struct flow_key *k)
{
	struct flow_info fi;

	if (bpf_map_lookup_elem(bpf_map__fd(map), k, &fi))
		abort();
	return fi;
}

/* lo is the steered interface, its capture veth the (absent) device 4242. */
#define CAPTURE_PEER 4242

static void set_wire_iface(struct tc_bpf *s)
{
	struct iface_info ii = {.slot = 0, .peer_ifindex = CAPTURE_PEER, .kind = IFACE_WIRE};

	if (bpf_map_update_elem(bpf_map__fd(s->maps.ifaces), &lo, &ii, BPF_ANY))
		abort();
}

static const char *client(int family)
{
	return family == AF_INET ? "192.0.2.1" : "2001:db8::1";
}

static const char *server(int family)
{
	return family == AF_INET ? "192.0.2.2" : "2001:db8::2";
}

static const int families[] = {AF_INET, AF_INET6};

/*
 * A listener on SPORT in this namespace (IPv6 and IPv4): TC applies its SYN
 * rules only to SYNs for a local socket, not to those forwarded or NATed.
 */
static int listen_server(void)
{
	struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_port = htons(SPORT)};
	int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0), off = 0, on = 1;

	if (fd < 0 || setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off)) ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) ||
	    bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 1)) {
		perror("test_tc: listening on the server port");
		abort();
	}
	return fd;
}

/* A segment between the client (CPORT) and the server (SPORT), either way. */
static struct bt_seg seg(int family, int from_client, __u32 seq, __u32 ack, __u8 flags,
			 const __u8 *opts, size_t optlen, const __u8 *data, size_t len)
{
	struct bt_seg s = {
	    .family = family,
	    .src = from_client ? client(family) : server(family),
	    .dst = from_client ? server(family) : client(family),
	    .sport = from_client ? CPORT : SPORT,
	    .dport = from_client ? SPORT : CPORT,
	    .seq = seq,
	    .ack = ack,
	    .flags = flags,
	    .opts = opts,
	    .optlen = optlen,
	    .data = data,
	    .len = len,
	};

	return s;
}

static int run(const struct bpf_program *prog, const struct bt_seg *sg, struct bt_frame *in,
	       struct bt_frame *out)
{
	bt_frame_build(in, sg);
	return bt_run_tc(prog, in, lo, out);
}

static void check_unchanged(const struct bt_frame *in, const struct bt_frame *out)
{
	CHECK_EQ(out->len, in->len);
	CHECK_MEM(out->b, in->b, in->len);
}

/* out is in with its TCP flags replaced by flags and a checksum that verifies. */
static void check_flags_now(const struct bt_frame *in, const struct bt_frame *out, __u8 flags)
{
	struct bt_frame exp = *in;

	BT_TCP_FLAGS(&exp) = flags;
	bt_frame_fix_csum(&exp);
	CHECK_EQ(out->len, exp.len);
	CHECK_EQ(BT_TCP_FLAGS(out), flags);
	CHECK(bt_tcp_csum_ok(out));
	CHECK_MEM(out->b, exp.b, exp.len);
}

/* out is in with its TCP window zero and a checksum that verifies (close_window). */
static void check_window_closed(const struct bt_frame *in, const struct bt_frame *out)
{
	struct bt_frame exp = *in;

	CHECK(in->b[in->l4 + 14] || in->b[in->l4 + 15]);
	exp.b[exp.l4 + 14] = exp.b[exp.l4 + 15] = 0;
	bt_frame_fix_csum(&exp);
	CHECK_EQ(out->len, exp.len);
	CHECK(bt_tcp_csum_ok(out));
	CHECK_MEM(out->b, exp.b, exp.len);
}

/* Name the table row of the checks that failed since before. */
static void row_done(int before, const char *what, int family)
{
	if (t_failed_checks != before)
		fprintf(stderr, "    in case: %s (%s)\n", what,
			family == AF_INET ? "IPv4" : "IPv6");
}

static __u32 get32(const __u8 *p)
{
	return (__u32)p[0] << 24 | (__u32)p[1] << 16 | (__u32)p[2] << 8 | p[3];
}

/*
 * A SYN to a port: the reply the ingress program makes of it.  For the
 * require policy, a SYN that cannot negotiate becomes, in place, the
 * RST|ACK that answers it (RFC 9293 §3.10.7.1: seq 0, ack = SEG.SEQ + 1),
 * sent back out of the interface.
 */
static const struct {
	const char *what;
	__u8 enabled;
	__u8 policy;
	__u8 opts[12];
	__u8 optlen;
	int rst;
} syn_rows[] = {
    {"require, no ENO", 1, POLICY_REQUIRE, {0x02, 0x04, 0x05, 0xb4}, 4, 1},
    {"require, ENO with the b bit", 1, POLICY_REQUIRE, {0x45, 0x04, 0x01, 0x23}, 4, 1},
    {"require, ENO with only an unknown TEP", 1, POLICY_REQUIRE, {0x45, 0x03, 0x30, 0x01}, 4, 1},
    {"require, ENO listing a TEP twice", 1, POLICY_REQUIRE, {0x45, 0x04, 0x23, 0x23}, 4, 1},
    {"require, two ENO options",
     1,
     POLICY_REQUIRE,
     {0x45, 0x03, 0x23, 0x45, 0x03, 0x23, 0x01, 0x01},
     8,
     1},
    {"require, ENO with length 1", 1, POLICY_REQUIRE, {0x45, 0x01, 0x01, 0x01}, 4, 1},
    {"require, negotiable ENO, agent not ready", 0, POLICY_REQUIRE, {0x45, 0x03, 0x23, 0x01}, 4, 1},
    {"require, negotiable ENO (X25519)", 1, POLICY_REQUIRE, {0x45, 0x03, 0x23, 0x01}, 4, 0},
    {"require, negotiable ENO (global, P-256, X25519)",
     1,
     POLICY_REQUIRE,
     {0x45, 0x05, 0x00, 0x21, 0x23, 0x01, 0x01, 0x01},
     8,
     0},
    {"on, no ENO", 1, POLICY_ON, {0x02, 0x04, 0x05, 0xb4}, 4, 0},
    {"off, no ENO", 1, POLICY_OFF, {0x02, 0x04, 0x05, 0xb4}, 4, 0},
};

static void expect_rst_reply(const struct bt_seg *syn, const struct bt_frame *out)
{
	struct bt_seg r = {
	    .family = syn->family,
	    .src = syn->dst,
	    .dst = syn->src,
	    .sport = syn->dport,
	    .dport = syn->sport,
	    .seq = 0,
	    .ack = syn->seq + 1,
	    .flags = BT_RST | BT_ACK,
	};
	struct bt_frame exp;

	bt_frame_build(&exp, &r);
	memcpy(exp.b, bt_mac_src, 6); /* back to the sender */
	memcpy(exp.b + 6, bt_mac_dst, 6);
	exp.b[exp.l3 + (syn->family == AF_INET ? 8 : 7)] = 64; /* a fresh TTL / hop limit */
	exp.b[exp.l4 + 14] = exp.b[exp.l4 + 15] = 0;	       /* window 0 */
	bt_frame_fix_csum(&exp);

	CHECK_EQ(out->len, exp.len);
	CHECK(bt_ip_csum_ok(out));
	CHECK(bt_tcp_csum_ok(out));
	CHECK_EQ(BT_TCP_FLAGS(out), BT_RST | BT_ACK);
	CHECK_EQ(get32(out->b + out->l4 + 8), syn->seq + 1);
	CHECK_MEM(out->b, exp.b, exp.len);
}

T(syn_require_policy)
{
	int lfd = listen_server();

	for (size_t i = 0; i < sizeof(syn_rows) / sizeof(syn_rows[0]); i++) {
		for (size_t f = 0; f < 2; f++) {
			struct tcpcrypt_config c = config();
			int fam = families[f], before = t_failed_checks, rc;
			/* the IPv6 SYN's ack wraps around */
			struct bt_seg syn =
			    seg(fam, 1, fam == AF_INET ? 0x11223344 : 0xffffffff, 0, BT_SYN,
				syn_rows[i].opts, syn_rows[i].optlen, NULL, 0);
			struct flow_key k = bt_key(&syn, 1);
			struct bt_frame in, out;
			struct tc_bpf *s;
			__u32 seen = 0;

			c.enabled = syn_rows[i].enabled;
			s = setup(&c);
			set_nrequire(s, syn_rows[i].policy == POLICY_REQUIRE);
			set_port(s, SPORT, syn_rows[i].policy);
			rc = run(s->progs.tcpcrypt_tc_ingress, &syn, &in, &out);
			if (syn_rows[i].rst) {
				CHECK_EQ(rc, BT_TC_ACT_REDIRECT);
				expect_rst_reply(&syn, &out);
				CHECK_EQ(BT_STAT(s->maps.stats, require_reset), 1);
			} else {
				CHECK_EQ(rc, BT_TC_ACT_OK);
				check_unchanged(&in, &out);
				CHECK_EQ(BT_STAT(s->maps.stats, require_reset), 0);
			}
			/* every SYN on a steered interface is recorded, with its interface */
			CHECK_EQ(bpf_map_lookup_elem(bpf_map__fd(s->maps.syn_seen), &k, &seen), 0);
			CHECK_EQ(seen, lo);
			row_done(before, syn_rows[i].what, fam);
		}
	}
	close(lfd);
	/* no local socket for it (a SYN forwarded or NATed to a container): left alone */
	for (size_t f = 0; f < 2; f++) {
		struct tcpcrypt_config c = config();
		struct bt_seg syn = seg(families[f], 1, 1000, 0, BT_SYN, NULL, 0, NULL, 0);
		struct bt_frame in, out;
		struct tc_bpf *s;

		s = setup(&c);
		set_nrequire(s, 1);
		set_port(s, SPORT, POLICY_REQUIRE);
		CHECK_EQ(run(s->progs.tcpcrypt_tc_ingress, &syn, &in, &out), BT_TC_ACT_OK);
		check_unchanged(&in, &out);
		CHECK_EQ(BT_STAT(s->maps.stats, require_reset), 0);
	}
}

/*
 * Host A's SYN offered X25519 alone (45 03 23) on a require port; the
 * SYN-ACK must complete that offer, or it becomes a RST|ACK for the local
 * stack, in place (connect() fails with ECONNREFUSED).
 */
static const struct {
	const char *what;
	__u8 enabled;
	__u8 policy;
	__u8 opts[8];
	__u8 optlen;
	int rst;
	int closed; /* the window closed until the agent has keys */
} synack_rows[] = {
    {"require, no ENO", 1, POLICY_REQUIRE, {0x02, 0x04, 0x05, 0xb4}, 4, 1, 0},
    {"require, B answers with a TEP A did not offer",
     1,
     POLICY_REQUIRE,
     {0x45, 0x04, 0x01, 0x21},
     4,
     1,
     0},
    {"require, B's option without the b bit", 1, POLICY_REQUIRE, {0x45, 0x03, 0x23, 0x01}, 4, 1, 0},
    {"require, B answers X25519, agent not ready",
     0,
     POLICY_REQUIRE,
     {0x45, 0x04, 0x01, 0x23},
     4,
     1,
     0},
    {"require, B answers X25519", 1, POLICY_REQUIRE, {0x45, 0x04, 0x01, 0x23}, 4, 0, 1},
    {"on, B answers X25519", 1, POLICY_ON, {0x45, 0x04, 0x01, 0x23}, 4, 0, 1},
    {"on, B answers X25519, agent not ready", 0, POLICY_ON, {0x45, 0x04, 0x01, 0x23}, 4, 0, 0},
    {"on, B's option without the b bit", 1, POLICY_ON, {0x45, 0x03, 0x23, 0x01}, 4, 0, 0},
    {"on, no ENO", 1, POLICY_ON, {0x02, 0x04, 0x05, 0xb4}, 4, 0, 0},
};

T(synack_require_policy)
{
	static const __u8 a_opt[] = {0x45, 0x03, 0x23};

	for (size_t i = 0; i < sizeof(synack_rows) / sizeof(synack_rows[0]); i++) {
		for (size_t f = 0; f < 2; f++) {
			struct tcpcrypt_config c = config();
			int fam = families[f], before = t_failed_checks, rc;
			struct bt_seg sa = seg(fam, 0, 7000, 1001, BT_SYN | BT_ACK,
					       synack_rows[i].opts, synack_rows[i].optlen, NULL, 0);
			struct flow_key k = bt_key(&sa, 1);
			struct flow_info fi = {
			    .state = FLOW_NEGOTIATING,
			    .policy = synack_rows[i].policy,
			    .flags = FLOWF_ACTIVE | FLOWF_SEND_ACK_OPT,
			    .syn_tx = 1,
			    .transcript_len = sizeof(a_opt),
			    .a_opt_len = sizeof(a_opt),
			    .local_isn = 1000,
			};
			struct bt_frame in, out;
			struct tc_bpf *s;

			memcpy(fi.transcript, a_opt, sizeof(a_opt));
			c.enabled = synack_rows[i].enabled;
			s = setup(&c);
			set_nrequire(s, 1);
			set_flow(s->maps.flows, &k, &fi);
			rc = run(s->progs.tcpcrypt_tc_ingress, &sa, &in, &out);
			CHECK_EQ(rc, BT_TC_ACT_OK);
			if (synack_rows[i].rst)
				check_flags_now(&in, &out, BT_RST | BT_ACK);
			else if (synack_rows[i].closed)
				check_window_closed(&in, &out);
			else
				check_unchanged(&in, &out);
			CHECK_EQ(BT_STAT(s->maps.stats, require_reset), synack_rows[i].rst);
			CHECK_EQ(BT_STAT(s->maps.stats, window_closed), synack_rows[i].closed);
			row_done(before, synack_rows[i].what, fam);
		}
	}
}

/*
 * The third ACK of a passive open (pending entry, sock_ops sent ENO in its
 * SYN-ACK).  Under require, one without ENO (stripped, RFC 8547 §4.6)
 * becomes a RST; while the agent is not ready (enabled = 0) any third ACK
 * of a negotiating entry does, whatever the policy.
 */
static const struct {
	const char *what;
	__u8 enabled;
	__u8 state;
	__u8 policy;
	__u8 opts[4];
	__u8 optlen;
	int rst;
	int require_reset, unready_reset;
	int closed; /* the window closed until the agent has keys */
} third_ack_rows[] = {
    {"require, no ENO", 1, FLOW_NEGOTIATING, POLICY_REQUIRE, {0}, 0, 1, 1, 0, 0},
    {"require, other options, no ENO",
     1,
     FLOW_NEGOTIATING,
     POLICY_REQUIRE,
     {0x01, 0x01, 0x04, 0x02},
     4,
     1,
     1,
     0,
     0},
    {"require, ENO", 1, FLOW_NEGOTIATING, POLICY_REQUIRE, {0x45, 0x02, 0x01, 0x01}, 4, 0, 0, 0, 1},
    {"on, ENO", 1, FLOW_NEGOTIATING, POLICY_ON, {0x45, 0x02, 0x01, 0x01}, 4, 0, 0, 0, 1},
    {"require, fallen back already",
     1,
     FLOW_PLAIN,
     POLICY_REQUIRE,
     {0x45, 0x02, 0x01, 0x01},
     4,
     1,
     1,
     0,
     0},
    {"on, no ENO", 1, FLOW_NEGOTIATING, POLICY_ON, {0}, 0, 0, 0, 0, 0},
    {"not ready, on, no ENO", 0, FLOW_NEGOTIATING, POLICY_ON, {0}, 0, 1, 0, 1, 0},
    {"not ready, on, ENO", 0, FLOW_NEGOTIATING, POLICY_ON, {0x45, 0x02, 0x01, 0x01}, 4, 1, 0, 1, 0},
    {"not ready, require, ENO",
     0,
     FLOW_NEGOTIATING,
     POLICY_REQUIRE,
     {0x45, 0x02, 0x01, 0x01},
     4,
     1,
     0,
     1,
     0},
    {"not ready, fallen back", 0, FLOW_PLAIN, POLICY_ON, {0}, 0, 0, 0, 0, 0},
};

/* Without a data path (--negotiate-only) nobody would open the window: it stays. */
T(window_stays_open_without_data_path)
{
	static const __u8 a_opt[] = {0x45, 0x03, 0x23}, b_opt[] = {0x45, 0x04, 0x01, 0x23},
			  ack_opt[] = {0x45, 0x02, 0x01, 0x01};

	for (size_t f = 0; f < 2; f++) {
		struct tcpcrypt_config c = config();
		int fam = families[f];
		struct bt_seg sa =
		    seg(fam, 0, 7000, 1001, BT_SYN | BT_ACK, b_opt, sizeof(b_opt), NULL, 0);
		struct bt_seg ack =
		    seg(fam, 1, 1001, 7001, BT_ACK, ack_opt, sizeof(ack_opt), NULL, 0);
		struct flow_key ka = bt_key(&sa, 1), kb = bt_key(&ack, 1);
		struct flow_info fa = {
		    .state = FLOW_NEGOTIATING,
		    .flags = FLOWF_ACTIVE | FLOWF_SEND_ACK_OPT,
		    .syn_tx = 1,
		    .transcript_len = sizeof(a_opt),
		    .a_opt_len = sizeof(a_opt),
		    .local_isn = 1000,
		};
		struct flow_info fb = {
		    .state = FLOW_NEGOTIATING,
		    .role = ENO_ROLE_B,
		    .tep = TEP_X25519,
		    .local_isn = 7000,
		    .peer_isn = 1000,
		};
		struct bt_frame in, out;
		struct tc_bpf *s;

		memcpy(fa.transcript, a_opt, sizeof(a_opt));
		c.datapath = 0;
		s = setup(&c);
		set_flow(s->maps.flows, &ka, &fa);
		set_flow(s->maps.pending, &kb, &fb);
		CHECK_EQ(run(s->progs.tcpcrypt_tc_ingress, &sa, &in, &out), BT_TC_ACT_OK);
		check_unchanged(&in, &out);
		CHECK_EQ(run(s->progs.tcpcrypt_tc_ingress, &ack, &in, &out), BT_TC_ACT_OK);
		check_unchanged(&in, &out);
		CHECK_EQ(BT_STAT(s->maps.stats, window_closed), 0);
	}
}

T(third_ack)
{
	for (size_t i = 0; i < sizeof(third_ack_rows) / sizeof(third_ack_rows[0]); i++) {
		for (size_t f = 0; f < 2; f++) {
			struct tcpcrypt_config c = config();
			int fam = families[f], before = t_failed_checks, rc;
			struct bt_seg ack = seg(fam, 1, 1001, 7001, BT_ACK, third_ack_rows[i].opts,
						third_ack_rows[i].optlen, NULL, 0);
			struct flow_key k = bt_key(&ack, 1);
			struct flow_info fi = {
			    .state = third_ack_rows[i].state,
			    .role = ENO_ROLE_B,
			    .tep = TEP_X25519,
			    .policy = third_ack_rows[i].policy,
			    .reason = third_ack_rows[i].state == FLOW_PLAIN ? ENO_FAIL_STRIPPED : 0,
			    .local_isn = 7000,
			    .peer_isn = 1000,
			};
			struct bt_frame in, out;
			struct tc_bpf *s;

			c.enabled = third_ack_rows[i].enabled;
			s = setup(&c);
			set_nrequire(s, 1);
			set_flow(s->maps.pending, &k, &fi);
			rc = run(s->progs.tcpcrypt_tc_ingress, &ack, &in, &out);
			CHECK_EQ(rc, BT_TC_ACT_OK);
			if (third_ack_rows[i].rst)
				check_flags_now(&in, &out, BT_RST);
			else if (third_ack_rows[i].closed)
				check_window_closed(&in, &out);
			else
				check_unchanged(&in, &out);
			CHECK_EQ(BT_STAT(s->maps.stats, window_closed), third_ack_rows[i].closed);
			CHECK_EQ(BT_STAT(s->maps.stats, require_reset),
				 third_ack_rows[i].require_reset);
			CHECK_EQ(BT_STAT(s->maps.stats, unready_reset),
				 third_ack_rows[i].unready_reset);
			row_done(before, third_ack_rows[i].what, fam);
		}
	}
}

/*
 * Segments of an established connection, each way: those of a flow that
 * negotiated tcpcrypt go to the agent through the capture veth (peer's
 * segments marked by their destination MAC), or are dropped when the
 * interface is not known; all others pass untouched.
 */
static const struct {
	const char *what;
	__u8 state; /* 0: no flows entry */
	__u8 datapath;
	int iface;
	int rc;
} steer_rows[] = {
    {"tcpcrypt", FLOW_TCPCRYPT, 1, 1, BT_TC_ACT_REDIRECT},
    {"tcpcrypt, interface unknown", FLOW_TCPCRYPT, 1, 0, BT_TC_ACT_SHOT},
    {"tcpcrypt, no data path", FLOW_TCPCRYPT, 0, 1, BT_TC_ACT_OK},
    {"plain", FLOW_PLAIN, 1, 1, BT_TC_ACT_OK},
    {"negotiating", FLOW_NEGOTIATING, 1, 1, BT_TC_ACT_OK},
    {"no entry", 0, 1, 1, BT_TC_ACT_OK},
};

static void steer_case(int ingress)
{
	static const __u8 data[] = "GET / HTTP/1.1\r\n\r\n";
	static const __u8 mark[6] = TCPCRYPT_FROM_WIRE_MAC;

	for (size_t i = 0; i < sizeof(steer_rows) / sizeof(steer_rows[0]); i++) {
		for (size_t f = 0; f < 2; f++) {
			struct tcpcrypt_config c = config();
			int fam = families[f], before = t_failed_checks, rc;
			/* ingress: the peer (server) sends; egress: we (client) send */
			struct bt_seg sg =
			    seg(fam, !ingress, ingress ? 7001 : 1001, ingress ? 1001 : 7001,
				BT_ACK | BT_PSH, NULL, 0, data, sizeof(data) - 1);
			struct flow_key k = bt_key(&sg, ingress);
			struct flow_info fi = {
			    .state = steer_rows[i].state,
			    .role = ENO_ROLE_A,
			    .flags = FLOWF_ACTIVE,
			    .local_isn = 1000,
			    .peer_isn = 7000,
			};
			struct bt_frame in, out, exp;
			struct tc_bpf *s;

			c.datapath = steer_rows[i].datapath;
			s = setup(&c);
			if (steer_rows[i].state)
				set_flow(s->maps.flows, &k, &fi);
			if (steer_rows[i].iface)
				set_wire_iface(s);
			rc = run(ingress ? s->progs.tcpcrypt_tc_ingress
					 : s->progs.tcpcrypt_tc_egress,
				 &sg, &in, &out);
			CHECK_EQ(rc, steer_rows[i].rc);
			exp = in;
			if (ingress && rc == BT_TC_ACT_REDIRECT)
				memcpy(exp.b, mark, sizeof(mark));
			if (rc != BT_TC_ACT_SHOT)
				check_unchanged(&exp, &out);
			/* a drop has a reason */
			CHECK_EQ(bt_drop(s->maps.drops,
					 ingress ? DROP_STEER_NO_IFACE : DROP_EGRESS_NO_IFACE),
				 (__u64)(rc == BT_TC_ACT_SHOT));
			row_done(before, steer_rows[i].what, fam);
		}
	}
}

T(steer_ingress)
{
	steer_case(1);
}

T(steer_egress)
{
	steer_case(0);
}

/*
 * RFC 8547 §9: B fell back (ENO stripped from the first ACK) but A sends
 * its Init1 (RFC 8548 §4.1: magic 15 10 1a 0e, message_len, nciphers):
 * B's ingress turns the first payload into a RST if it is one, and looks
 * at the first payload only once.
 */
#define INIT1_HEAD 0x15, 0x10, 0x1a, 0x0e

static const struct {
	const char *what;
	__u8 state, reason, flags;
	__u32 seq_off; /* from peer_isn */
	__u8 data[16];
	__u8 len;
	int rst, first_seen;
} init1_rows[] = {
    {"Init1", FLOW_PLAIN, ENO_FAIL_STRIPPED, 0, 1, {INIT1_HEAD, 0, 0, 0, 43, 1, 0, 0x01}, 16, 1, 1},
    {"Init1, 2 ciphers, longer",
     FLOW_PLAIN,
     ENO_FAIL_STRIPPED,
     0,
     1,
     {INIT1_HEAD, 0, 0, 0x01, 0x00, 2, 0, 0x01},
     16,
     1,
     1},
    {"HTTP request", FLOW_PLAIN, ENO_FAIL_STRIPPED, 0, 1, "GET / HTTP/1.1\r\n", 16, 0, 1},
    {"Init1 with message_len 42",
     FLOW_PLAIN,
     ENO_FAIL_STRIPPED,
     0,
     1,
     {INIT1_HEAD, 0, 0, 0, 42, 1, 0, 0x01},
     16,
     0,
     1},
    {"Init1 with message_len 65536",
     FLOW_PLAIN,
     ENO_FAIL_STRIPPED,
     0,
     1,
     {INIT1_HEAD, 0, 1, 0, 0, 1, 0, 0x01},
     16,
     0,
     1},
    {"Init1 with no cipher",
     FLOW_PLAIN,
     ENO_FAIL_STRIPPED,
     0,
     1,
     {INIT1_HEAD, 0, 0, 0, 43, 0, 0, 0x01},
     16,
     0,
     1},
    {"Init1 magic alone", FLOW_PLAIN, ENO_FAIL_STRIPPED, 0, 1, {INIT1_HEAD, 0, 0, 0, 43}, 8, 0, 1},
    {"Init1, not the first payload",
     FLOW_PLAIN,
     ENO_FAIL_STRIPPED,
     0,
     101,
     {INIT1_HEAD, 0, 0, 0, 43, 1, 0, 0x01},
     16,
     0,
     0},
    {"Init1, first payload seen already",
     FLOW_PLAIN,
     ENO_FAIL_STRIPPED,
     FLOWF_FIRST_SEEN,
     1,
     {INIT1_HEAD, 0, 0, 0, 43, 1, 0, 0x01},
     16,
     0,
     1},
    {"Init1 to host A",
     FLOW_PLAIN,
     ENO_FAIL_STRIPPED,
     FLOWF_ACTIVE,
     1,
     {INIT1_HEAD, 0, 0, 0, 43, 1, 0, 0x01},
     16,
     0,
     0},
    {"Init1, peer sent no ENO at all",
     FLOW_PLAIN,
     ENO_FAIL_ABSENT,
     0,
     1,
     {INIT1_HEAD, 0, 0, 0, 43, 1, 0, 0x01},
     16,
     0,
     0},
};

T(stripped_init1)
{
	for (size_t i = 0; i < sizeof(init1_rows) / sizeof(init1_rows[0]); i++) {
		for (size_t f = 0; f < 2; f++) {
			struct tcpcrypt_config c = config();
			int fam = families[f], before = t_failed_checks, rc;
			struct bt_seg sg =
			    seg(fam, 1, 1000 + init1_rows[i].seq_off, 7001, BT_ACK | BT_PSH, NULL,
				0, init1_rows[i].data, init1_rows[i].len);
			struct flow_key k = bt_key(&sg, 1);
			struct flow_info fi =
					     {
						 .state = init1_rows[i].state,
						 .role = ENO_ROLE_B,
						 .policy = POLICY_ON,
						 .reason = init1_rows[i].reason,
						 .flags = init1_rows[i].flags,
						 .local_isn = 7000,
						 .peer_isn = 1000,
					     },
					 after;
			struct bt_frame in, out;
			struct tc_bpf *s;

			s = setup(&c);
			set_wire_iface(s);
			set_flow(s->maps.flows, &k, &fi);
			rc = run(s->progs.tcpcrypt_tc_ingress, &sg, &in, &out);
			CHECK_EQ(rc, BT_TC_ACT_OK);
			if (init1_rows[i].rst)
				check_flags_now(&in, &out, BT_RST);
			else
				check_unchanged(&in, &out);
			CHECK_EQ(BT_STAT(s->maps.stats, stripped_init1), init1_rows[i].rst);
			after = get_flow(s->maps.flows, &k);
			CHECK_EQ(!!(after.flags & FLOWF_FIRST_SEEN), init1_rows[i].first_seen);
			CHECK_EQ(after.flags & ~FLOWF_FIRST_SEEN, fi.flags & ~FLOWF_FIRST_SEEN);
			row_done(before, init1_rows[i].what, fam);
		}
	}
}

/*
 * RFC 8547 §4.7: a SYN with ENO that negotiates carries no data B takes.
 * A TCP Fast Open cookie in it is overwritten with NOPs (the stack then
 * takes none of its data); data without a cookie the stack refuses
 * anyway.  Both are counted.
 */
#define COOKIE8 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8

static const struct {
	const char *what;
	__u8 opts[20];
	__u8 optlen;
	__u8 nop_off, nop_len; /* option bytes that become NOPs */
	int data;
	int refused;
} tfo_rows[] = {
    {"ENO, TFO cookie at an odd offset",
     {0x45, 0x03, 0x23, 0x22, 0x0a, COOKIE8, 0x01, 0x01, 0x01},
     16,
     3,
     10,
     0,
     1},
    {"TFO cookie at offset 0, ENO",
     {0x22, 0x0a, COOKIE8, 0x45, 0x03, 0x23, 0x01, 0x01, 0x01},
     16,
     0,
     10,
     0,
     1},
    {"MSS, NOP, 4-byte TFO cookie, ENO",
     {0x02, 0x04, 0x05, 0xb4, 0x01, 0x22, 0x06, 0xd1, 0xd2, 0xd3, 0xd4, 0x45, 0x03, 0x23, 0x00,
      0x00},
     16,
     5,
     6,
     0,
     1},
    {"experimental TFO cookie, ENO",
     {0xfe, 0x0c, 0xf9, 0x89, COOKIE8, 0x45, 0x03, 0x23, 0x01},
     16,
     0,
     12,
     0,
     1},
    {"ENO, data, no cookie", {0x45, 0x03, 0x23, 0x01}, 4, 0, 0, 1, 1},
    {"ENO, TFO cookie request", {0x45, 0x03, 0x23, 0x22, 0x02, 0x01, 0x01, 0x01}, 8, 0, 0, 0, 0},
    {"ENO that does not negotiate, TFO cookie",
     {0x45, 0x04, 0x01, 0x23, 0x22, 0x0a, COOKIE8, 0x01, 0x01},
     16,
     0,
     0,
     0,
     0},
    {"TFO cookie, no ENO", {0x22, 0x0a, COOKIE8, 0x01, 0x01}, 12, 0, 0, 0, 0},
};

T(tfo_syn_with_eno)
{
	static const __u8 data[] = "GET / HTTP/1.1\r\n\r\n";
	int lfd = listen_server();

	for (size_t i = 0; i < sizeof(tfo_rows) / sizeof(tfo_rows[0]); i++) {
		for (size_t f = 0; f < 2; f++) {
			struct tcpcrypt_config c = config();
			int fam = families[f], before = t_failed_checks, rc;
			struct bt_seg syn = seg(fam, 1, 1000, 0, BT_SYN, tfo_rows[i].opts,
						tfo_rows[i].optlen, tfo_rows[i].data ? data : NULL,
						tfo_rows[i].data ? sizeof(data) - 1 : 0);
			struct bt_frame in, out, exp;
			struct tc_bpf *s;

			s = setup(&c);
			rc = run(s->progs.tcpcrypt_tc_ingress, &syn, &in, &out);
			CHECK_EQ(rc, BT_TC_ACT_OK);
			exp = in;
			memset(exp.b + exp.l4 + 20 + tfo_rows[i].nop_off, 0x01,
			       tfo_rows[i].nop_len);
			bt_frame_fix_csum(&exp);
			CHECK(bt_tcp_csum_ok(&out));
			check_unchanged(&exp, &out);
			CHECK_EQ(BT_STAT(s->maps.stats, syn_data_refused), tfo_rows[i].refused);
			row_done(before, tfo_rows[i].what, fam);
		}
	}
	close(lfd);
}

/*
 * RFC 8548 §3.5 with RFC 8547 §9: B fell back (ENO stripped from A's ACK)
 * after it had agreed to resume (flow v = 1 and an rs_id): A then starts
 * with a frame, not an Init1, so TC resets whatever first payload comes,
 * and only the first one.
 */
T(stripped_resumed)
{
	static const struct {
		const char *what;
		__u32 seq_off;
		const char *data;
		int rst;
	} rows[] = {
	    {"a frame", 1, "\x00\x00\x16\x49\x36\x72\x61\xd4\x85\xad\xd9\x7a\xff\x29\x3d\xce", 1},
	    {"any first payload", 1, "GET / HTTP/1.1\r\n", 1},
	    {"not the first payload", 17, "GET / HTTP/1.1\r\n", 0},
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		for (size_t f = 0; f < 2; f++) {
			struct tcpcrypt_config c = config();
			int fam = families[f], before = t_failed_checks, rc;
			struct bt_seg sg =
			    seg(fam, 1, 1000 + rows[i].seq_off, 7001, BT_ACK | BT_PSH, NULL, 0,
				(const __u8 *)rows[i].data, 16);
			struct flow_key k = bt_key(&sg, 1);
			struct flow_info fi = {
			    .state = FLOW_PLAIN,
			    .role = ENO_ROLE_B,
			    .policy = POLICY_ON,
			    .reason = ENO_FAIL_STRIPPED,
			    .v = 1,
			    .rs_id = 7,
			    .local_isn = 7000,
			    .peer_isn = 1000,
			};
			struct bt_frame in, out;
			struct tc_bpf *s;

			s = setup(&c);
			set_wire_iface(s);
			set_flow(s->maps.flows, &k, &fi);
			rc = run(s->progs.tcpcrypt_tc_ingress, &sg, &in, &out);
			CHECK_EQ(rc, BT_TC_ACT_OK);
			if (rows[i].rst)
				check_flags_now(&in, &out, BT_RST);
			else
				check_unchanged(&in, &out);
			CHECK_EQ(BT_STAT(s->maps.stats, stripped_init1), rows[i].rst);
			row_done(before, rows[i].what, fam);
		}
	}
}
