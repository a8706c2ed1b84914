// SPDX-License-Identifier: MIT
/*
 * The capture program (bpf/capture.bpf.c) with BPF_PROG_TEST_RUN: it hands
 * a frame to the agent's AF_XDP socket of its capture veth and queue, and
 * drops it when there is none (fail closed: no plaintext of an encrypted
 * flow goes anywhere without the agent).  The loopback device stands for
 * the capture veth; an AF_XDP socket needs no binding to sit in the map.
 */
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "bpf_test.h"
#include "capture.skel.h"
#include "t.h"

#ifndef AF_XDP
#define AF_XDP 44
#endif

#define SLOT 3

static struct capture_bpf *skel;
static __u32 lo;
static int xsk_fd = -1;

static void skel_destroy(void)
{
	capture_bpf__destroy(skel);
	if (xsk_fd >= 0)
		close(xsk_fd);
}

static struct capture_bpf *capture_get(void)
{
	if (skel)
		return skel;
	bt_need_root();
	lo = if_nametoindex("lo");
	skel = capture_bpf__open();
	if (!skel || bt_unpin(skel->obj) || capture_bpf__load(skel)) {
		fprintf(stderr, "loading bpf/capture.bpf.c failed\n");
		printf("0 passed, 1 failed\n");
		exit(1);
	}
	xsk_fd = socket(AF_XDP, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (xsk_fd < 0) {
		perror("socket(AF_XDP)");
		printf("0 passed, 1 failed\n");
		exit(1);
	}
	atexit(skel_destroy);
	return skel;
}

/*
 * Slot SLOT's sockets in the xsks map: its capture veth's queues come
 * after the XSK_QUEUES_MAX keys of its wire interface's queues.
 */
#define WIRE_KEY(queue)	   (SLOT * 2 * XSK_QUEUES_MAX + (queue))
#define CAPTURE_KEY(queue) (SLOT * 2 * XSK_QUEUES_MAX + XSK_QUEUES_MAX + (queue))

static const struct {
	const char *what;
	int iface;    /* 0: no ifaces entry for the device */
	__u8 kind;    /* of that entry */
	long xsk_key; /* -1: no socket */
	int rc;
	int drop; /* the drop reason counted, -1: none */
} rows[] = {
    {"capture veth, its socket", 1, IFACE_CAPTURE, CAPTURE_KEY(0), BT_XDP_REDIRECT, -1},
    {"capture veth, no socket", 1, IFACE_CAPTURE, -1, BT_XDP_DROP, DROP_CAPTURE_NO_SOCKET},
    {"capture veth, a socket of another queue only", 1, IFACE_CAPTURE, CAPTURE_KEY(1), BT_XDP_DROP,
     DROP_CAPTURE_NO_SOCKET},
    {"capture veth, the wire's socket only", 1, IFACE_CAPTURE, WIRE_KEY(0), BT_XDP_DROP,
     DROP_CAPTURE_NO_SOCKET},
    {"no ifaces entry, a socket", 0, 0, CAPTURE_KEY(0), BT_XDP_DROP, DROP_CAPTURE_NO_IFACE},
    {"a wire interface, a socket", 1, IFACE_WIRE, CAPTURE_KEY(0), BT_XDP_DROP,
     DROP_CAPTURE_NO_IFACE},
};

T(capture)
{
	static const __u8 data[] = "plaintext of an encrypted flow";

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct capture_bpf *s = capture_get();
		struct bt_seg sg = {
		    .family = AF_INET,
		    .src = "192.0.2.1",
		    .dst = "192.0.2.2",
		    .sport = 40000,
		    .dport = 8443,
		    .seq = 1001,
		    .ack = 7001,
		    .flags = BT_ACK | BT_PSH,
		    .data = data,
		    .len = sizeof(data) - 1,
		};
		struct iface_info ii = {.slot = SLOT, .peer_ifindex = 4242, .kind = rows[i].kind};
		int before = t_failed_checks, xsks = bpf_map__fd(s->maps.xsks);
		struct bt_frame in;

		bt_map_clear(s->maps.ifaces);
		for (__u32 k = 0; k < bpf_map__max_entries(s->maps.xsks); k++)
			bpf_map_delete_elem(xsks, &k);
		if (rows[i].iface)
			CHECK_EQ(
			    bpf_map_update_elem(bpf_map__fd(s->maps.ifaces), &lo, &ii, BPF_ANY), 0);
		if (rows[i].xsk_key >= 0) {
			__u32 k = rows[i].xsk_key;

			CHECK_EQ(bpf_map_update_elem(xsks, &k, &xsk_fd, BPF_ANY), 0);
		}
		bt_drops_zero(s->maps.drops);
		bt_frame_build(&in, &sg);
		CHECK_EQ(bt_run_xdp(s->progs.tcpcrypt_capture, &in, lo), rows[i].rc);
		/* every drop counted under its reason, and only there */
		for (__u32 r = 0; r < DROP__MAX; r++)
			CHECK_EQ(bt_drop(s->maps.drops, r), (__u64)(rows[i].drop == (int)r));
		if (t_failed_checks != before)
			fprintf(stderr, "    in case: %s\n", rows[i].what);
	}
}
