// SPDX-License-Identifier: MIT
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>
#include "pktring.h"

int pkt_ring_open(struct pkt_ring *r, const char *ifname)
{
	struct tpacket_req req = {
	    .tp_block_size = PKT_RING_BLOCK,
	    .tp_block_nr = PKT_RING_BLOCKS,
	    .tp_frame_size = PKT_RING_FRAME,
	    .tp_frame_nr = PKT_RING_BLOCK / PKT_RING_FRAME * PKT_RING_BLOCKS,
	};
	struct sockaddr_ll sll = {.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL)};
	int v = TPACKET_V2, one = 1, rcvbuf = PKT_RCVBUF, err;
	const char *what = "socket";

	memset(r, 0, sizeof(*r));
	/* protocol 0: nothing arrives until bound to the interface */
	r->fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (r->fd < 0)
		goto fail;
	what = "TPACKET_V2 ring";
	if (setsockopt(r->fd, SOL_PACKET, PACKET_VERSION, &v, sizeof(v)) ||
	    setsockopt(r->fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one)) ||
	    setsockopt(r->fd, SOL_PACKET, PACKET_COPY_THRESH, &one, sizeof(one)) ||
	    setsockopt(r->fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) ||
	    setsockopt(r->fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof(req)))
		goto fail;
	errno = ENOMEM;
	what = "buffer";
	if (!(r->buf = malloc(PKT_BIG_MAX)))
		goto fail;
	r->nframes = req.tp_frame_nr;
	r->size = (size_t)req.tp_block_size * req.tp_block_nr;
	r->ring = mmap(NULL, r->size, PROT_READ | PROT_WRITE, MAP_SHARED, r->fd, 0);
	if (r->ring == MAP_FAILED) {
		r->ring = NULL;
		what = "mapping the ring";
		goto fail;
	}
	what = "binding";
	sll.sll_ifindex = if_nametoindex(ifname);
	if (!sll.sll_ifindex || bind(r->fd, (struct sockaddr *)&sll, sizeof(sll)))
		goto fail;
	return 0;
fail:
	err = -errno;
	fprintf(stderr, "tcpcryptd: packet capture on %s: %s: %s\n", ifname, what, strerror(errno));
	pkt_ring_close(r);
	return err;
}

void pkt_ring_close(struct pkt_ring *r)
{
	if (r->ring)
		munmap(r->ring, r->size);
	if (r->fd > 0)
		close(r->fd);
	free(r->buf);
	memset(r, 0, sizeof(*r));
	r->fd = -1;
}

/* The frames of a block follow each other; blocks hold a whole number of frames. */
static struct tpacket2_hdr *frame_at(const struct pkt_ring *r, unsigned i)
{
	unsigned per = PKT_RING_BLOCK / PKT_RING_FRAME;

	return (struct tpacket2_hdr *)(r->ring + (size_t)(i / per) * PKT_RING_BLOCK +
				       (size_t)(i % per) * PKT_RING_FRAME);
}

unsigned pkt_ring_rx(struct pkt_ring *r, pkt_ring_fn fn, void *ctx, unsigned budget)
{
	unsigned n = 0;

	for (; n < budget; n++) {
		struct tpacket2_hdr *h = frame_at(r, r->idx);

		if (!(__atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER))
			break;
		r->stamp_ns = (uint64_t)h->tp_sec * 1000000000ull + h->tp_nsec;
		if (h->tp_status & TP_STATUS_COPY) {
			/* the whole packet is next on the queue; the frame has its head only */
			ssize_t len = recv(r->fd, r->buf, PKT_BIG_MAX, MSG_DONTWAIT | MSG_TRUNC);

			if (len > 0 && len <= PKT_BIG_MAX) {
				r->big++;
				fn(ctx, r->buf, len);
			} else {
				r->truncated++;
			}
		} else if (h->tp_snaplen == h->tp_len &&
			   h->tp_mac + h->tp_snaplen <= PKT_RING_FRAME) {
			fn(ctx, (uint8_t *)h + h->tp_mac, h->tp_snaplen);
		} else {
			r->truncated++;
		}
		__atomic_store_n(&h->tp_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
		r->idx = (r->idx + 1) % r->nframes;
	}
	return n;
}

uint64_t pkt_ring_drops(struct pkt_ring *r)
{
	struct tpacket_stats st = {};
	socklen_t len = sizeof(st);

	/* reading the statistics resets them */
	if (r->fd >= 0 && !getsockopt(r->fd, SOL_PACKET, PACKET_STATISTICS, &st, &len))
		r->drops += st.tp_drops;
	return r->drops;
}

int pkt_tx_open(const char *ifname)
{
	struct sockaddr_ll sll = {.sll_family = AF_PACKET, .sll_ifindex = if_nametoindex(ifname)};
	int one = 1, sndbuf = 8 << 20, fd, err;

	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (fd < 0 || !sll.sll_ifindex ||
	    setsockopt(fd, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof(one)) ||
	    setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one)) ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof(sndbuf)) ||
	    bind(fd, (struct sockaddr *)&sll, sizeof(sll))) {
		err = sll.sll_ifindex ? -errno : -ENODEV;
		fprintf(stderr, "tcpcryptd: packet socket to transmit on %s: %s\n", ifname,
			strerror(-err));
		if (fd >= 0)
			close(fd);
		return err;
	}
	return fd;
}

int pkt_tx_send(int fd, const uint8_t *buf, uint32_t len)
{
	return send(fd, buf, len, MSG_DONTWAIT) == (ssize_t)len ? 0 : -errno;
}

int pkt_tx_send2(int fd, const uint8_t *hdr, uint32_t hlen, const uint8_t *data, uint32_t len)
{
	struct iovec iov[2] = {{(void *)hdr, hlen}, {(void *)data, len}};
	struct msghdr m = {.msg_iov = iov, .msg_iovlen = len ? 2 : 1};

	return sendmsg(fd, &m, MSG_DONTWAIT) == (ssize_t)(hlen + len) ? 0 : -errno;
}
