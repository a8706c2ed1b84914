// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <linux/if_xdp.h>
#include "tcpcrypt_common.h"
#include "xsk.h"

/* Linux 6.6 uapi (if_xdp.h); Debian 12's headers are older than the kernels that have it. */
#ifndef XDP_USE_SG
#define XDP_USE_SG (1 << 4)
#endif
#ifndef XDP_PKT_CONTD
#define XDP_PKT_CONTD (1 << 0)
#endif

static void recycle_completed(struct xsk_port *p)
{
	uint32_t idx;
	unsigned n = xsk_ring_cons__peek(&p->cq, XSK_TX_FRAMES, &idx);

	for (unsigned i = 0; i < n; i++)
		p->tx_free[p->tx_nfree++] = *xsk_ring_cons__comp_addr(&p->cq, idx + i);
	xsk_ring_cons__release(&p->cq, n);
}

int xsk_port_open(struct xsk_port *p, const char *ifname, unsigned queue, int xsks_fd, uint32_t key,
		  unsigned rx_frames, bool sg)
{
	struct xsk_umem_config ucfg = {
	    .fill_size = rx_frames,
	    .comp_size = XSK_TX_FRAMES,
	    .frame_size = XSK_FRAME_SIZE,
	    .frame_headroom = 0,
	};
	struct xsk_socket_config scfg = {
	    .rx_size = rx_frames,
	    .tx_size = XSK_TX_FRAMES,
	    .libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
	    .bind_flags = XDP_COPY | (sg ? XDP_USE_SG : 0),
	};
	size_t size = (size_t)(rx_frames + XSK_TX_FRAMES) * XSK_FRAME_SIZE;
	uint32_t idx;
	int err, fd;

	memset(p, 0, sizeof(*p));
	snprintf(p->ifname, sizeof(p->ifname), "%s", ifname);
	p->queue = queue;
	p->rx_frames = rx_frames;
	p->area_size = size;
	p->area = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p->area == MAP_FAILED) {
		p->area = NULL;
		err = -errno;
		fprintf(stderr, "tcpcryptd: cannot map %zu bytes for AF_XDP: %s\n", size,
			strerror(errno));
		return err;
	}
	err = xsk_umem__create(&p->umem, p->area, size, &p->fq, &p->cq, &ucfg);
	if (!err)
		err = xsk_socket__create(&p->xsk, ifname, queue, p->umem, &p->rx, &p->tx, &scfg);
	if (sg && (err == -EINVAL || err == -EOPNOTSUPP)) {
		/* a kernel without multi-buffer AF_XDP (before 6.6) refuses the flag */
		fprintf(stderr,
			"tcpcryptd: %s queue %u: no multi-buffer AF_XDP (%s), one frame per "
			"packet\n",
			ifname, queue, strerror(-err));
		scfg.bind_flags = XDP_COPY;
		sg = false;
		err = xsk_socket__create(&p->xsk, ifname, queue, p->umem, &p->rx, &p->tx, &scfg);
	}
	if (!err && sg) {
		p->chain.buf = malloc(XSK_CHAIN_RX_MAX);
		p->chain.cap = p->chain.buf ? XSK_CHAIN_RX_MAX : 0;
		err = p->chain.buf ? 0 : -ENOMEM;
		p->sg = true;
	}
	if (err) {
		fprintf(stderr, "tcpcryptd: AF_XDP socket on %s queue %u: %s%s\n", ifname, queue,
			strerror(-err),
			err == -EPERM	 ? " (needs CAP_NET_RAW and CAP_BPF)"
			: err == -ENOMEM ? " (locked memory limit? see ulimit -l)"
					 : "");
		xsk_port_close(p);
		return err;
	}
	/* frames 0..rx_frames-1 receive, the XSK_TX_FRAMES after them transmit */
	if (xsk_ring_prod__reserve(&p->fq, rx_frames, &idx) != rx_frames) {
		xsk_port_close(p);
		return -ENOSPC;
	}
	for (unsigned i = 0; i < rx_frames; i++)
		*xsk_ring_prod__fill_addr(&p->fq, idx + i) = (uint64_t)i * XSK_FRAME_SIZE;
	xsk_ring_prod__submit(&p->fq, rx_frames);
	for (unsigned i = 0; i < XSK_TX_FRAMES; i++)
		p->tx_free[i] = (uint64_t)(rx_frames + i) * XSK_FRAME_SIZE;
	p->tx_nfree = XSK_TX_FRAMES;
	fd = xsk_socket__fd(p->xsk);
	{
		struct xdp_options xo = {};
		socklen_t olen = sizeof(xo);

		if (!getsockopt(fd, SOL_XDP, XDP_OPTIONS, &xo, &olen))
			p->zerocopy = xo.flags & XDP_OPTIONS_ZEROCOPY;
	}
	if (bpf_map_update_elem(xsks_fd, &key, &fd, BPF_ANY)) {
		err = -errno;
		fprintf(stderr, "tcpcryptd: registering the AF_XDP socket of %s queue %u: %s\n",
			ifname, queue, strerror(errno));
		xsk_port_close(p);
		return err;
	}
	return 0;
}

void xsk_port_stats_add(const struct xsk_port *p, struct agent_counters *c)
{
	struct xdp_statistics xs = {};
	socklen_t len = sizeof(xs);

	if (!p->xsk || getsockopt(xsk_socket__fd(p->xsk), SOL_XDP, XDP_STATISTICS, &xs, &len))
		return;
	c->xsk_rx_dropped += xs.rx_dropped + xs.rx_invalid_descs;
	c->xsk_rx_ring_full += xs.rx_ring_full;
	c->xsk_fill_empty += xs.rx_fill_ring_empty_descs;
	c->xsk_tx_invalid += xs.tx_invalid_descs;
	c->xsk_tx_ring_empty += xs.tx_ring_empty_descs;
	c->rx_chains += p->chain.chains;
	c->chain_drops += p->chain.dropped;
}

void xsk_port_close(struct xsk_port *p)
{
	if (p->xsk)
		xsk_socket__delete(p->xsk);
	if (p->umem)
		xsk_umem__delete(p->umem);
	if (p->area)
		munmap(p->area, p->area_size);
	free(p->chain.buf);
	memset(p, 0, sizeof(*p));
}

int xsk_port_fd(const struct xsk_port *p)
{
	return xsk_socket__fd(p->xsk);
}

unsigned xsk_port_rx(struct xsk_port *p, xsk_rx_fn fn, void *ctx, unsigned budget)
{
	uint32_t idx_rx, idx_fq;
	unsigned n = xsk_ring_cons__peek(&p->rx, budget, &idx_rx);

	if (!n)
		return 0;
	for (unsigned i = 0; i < n; i++) {
		const struct xdp_desc *d = xsk_ring_cons__rx_desc(&p->rx, idx_rx + i);
		uint8_t *data = xsk_umem__get_data(p->area, d->addr);
		const uint8_t *pkt;
		uint32_t len;

		if (!p->sg) {
			fn(ctx, p, data, d->len);
			continue;
		}
		/* a chain may go on in the next batch: its bytes are copied out already */
		if (dp_chain_add(&p->chain, data, d->len, d->options & XDP_PKT_CONTD, &pkt, &len) ==
		    DP_CHAIN_DONE)
			fn(ctx, p, (uint8_t *)pkt, len);
	}
	/* the fill ring has room for every RX frame, so this cannot fail for long */
	while (xsk_ring_prod__reserve(&p->fq, n, &idx_fq) != n)
		;
	for (unsigned i = 0; i < n; i++) {
		const struct xdp_desc *d = xsk_ring_cons__rx_desc(&p->rx, idx_rx + i);

		*xsk_ring_prod__fill_addr(&p->fq, idx_fq + i) =
		    xsk_umem__extract_addr(d->addr) & ~((uint64_t)XSK_FRAME_SIZE - 1);
	}
	xsk_ring_prod__submit(&p->fq, n);
	xsk_ring_cons__release(&p->rx, n);
	return n;
}

bool xsk_port_rx_meta(const struct xsk_port *p, uint8_t *frame, void *meta, size_t len)
{
	size_t off = (size_t)(frame - (uint8_t *)p->area);

	if (off >= p->area_size || off % XSK_FRAME_SIZE < len)
		return false;
	memcpy(meta, frame - len, len);
	return true;
}

uint8_t *xsk_port_tx_frame(struct xsk_port *p)
{
	if (!p->tx_nfree)
		recycle_completed(p);
	if (!p->tx_nfree) {
		xsk_port_kick(p);
		if (!p->tx_nfree)
			return NULL;
	}
	return xsk_umem__get_data(p->area, p->tx_free[p->tx_nfree - 1]);
}

int xsk_port_tx_submit(struct xsk_port *p, uint8_t *frame, uint32_t len)
{
	uint32_t idx;
	struct xdp_desc *d;

	if (xsk_ring_prod__reserve(&p->tx, 1, &idx) != 1) {
		xsk_port_kick(p);
		if (xsk_ring_prod__reserve(&p->tx, 1, &idx) != 1)
			return -ENOSPC;
	}
	d = xsk_ring_prod__tx_desc(&p->tx, idx);
	d->addr = (uint64_t)(frame - (uint8_t *)p->area);
	d->len = len;
	d->options = 0; /* the slot may hold a chain's XDP_PKT_CONTD from before */
	p->tx_nfree--;
	xsk_ring_prod__submit(&p->tx, 1);
	/* start on a burst early, so the ring does not fill up before the kick */
	if (xsk_port_tx_queued(p) >= XSK_TX_BATCH)
		xsk_port_kick(p);
	return 0;
}

int xsk_port_tx_copy(struct xsk_port *p, const uint8_t *pkt, uint32_t len)
{
	uint32_t nf = dp_chain_frames(len, XSK_FRAME_SIZE), idx;

	if (len > XSK_CHAIN_TX_MAX || (nf > 1 && !p->sg))
		return -EMSGSIZE;
	if (p->tx_nfree < nf)
		recycle_completed(p);
	if (p->tx_nfree < nf) {
		xsk_port_kick(p);
		if (p->tx_nfree < nf)
			return -ENOSPC;
	}
	if (xsk_ring_prod__reserve(&p->tx, nf, &idx) != nf) {
		xsk_port_kick(p);
		if (xsk_ring_prod__reserve(&p->tx, nf, &idx) != nf)
			return -ENOSPC;
	}
	for (uint32_t i = 0; i < nf; i++) {
		struct xdp_desc *d = xsk_ring_prod__tx_desc(&p->tx, idx + i);
		uint32_t n = len - i * XSK_FRAME_SIZE;

		if (n > XSK_FRAME_SIZE)
			n = XSK_FRAME_SIZE;
		d->addr = p->tx_free[--p->tx_nfree];
		d->len = n;
		d->options = i + 1 < nf ? XDP_PKT_CONTD : 0;
		memcpy(xsk_umem__get_data(p->area, d->addr), pkt + i * XSK_FRAME_SIZE, n);
	}
	xsk_ring_prod__submit(&p->tx, nf);
	if (xsk_port_tx_queued(p) >= XSK_TX_BATCH)
		xsk_port_kick(p);
	return 0;
}

unsigned xsk_port_tx_queued(const struct xsk_port *p)
{
	return *p->tx.producer - __atomic_load_n(p->tx.consumer, __ATOMIC_ACQUIRE);
}

bool xsk_port_kick(struct xsk_port *p)
{
	unsigned queued = xsk_port_tx_queued(p);

	/*
	 * Copy mode transmits on this syscall, but at most a batch of
	 * descriptors per call (32, the kernel's TX_BATCH_SIZE), and then
	 * fails with EAGAIN while the rest wait in the ring.  Whatever is
	 * left there would go out only with the next kick, which may never
	 * come once the flow waits for exactly those segments (a resend, an
	 * ACK): call again as long as the ring drains.  No progress (device
	 * queue busy, socket send buffer full): the caller kicks again soon.
	 */
	while (queued) {
		unsigned left;

		if (sendto(xsk_socket__fd(p->xsk), NULL, 0, MSG_DONTWAIT, NULL, 0) < 0 &&
		    errno != EAGAIN && errno != EBUSY && errno != ENOBUFS && errno != EINTR)
			break;
		left = xsk_port_tx_queued(p);
		if (left >= queued)
			break;
		queued = left;
	}
	recycle_completed(p);
	return queued != 0;
}
