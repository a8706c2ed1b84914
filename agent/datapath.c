// SPDX-License-Identifier: MIT
#include <errno.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>
#include <malloc.h>
#include <bpf/bpf.h>
#include <openssl/crypto.h>
#include "core/aead.h"
#include "core/conn.h"
#include "core/err.h"
#include "datapath.h"
#include "keypool.h"
#include "dp/xlate.h"
#include "dp/packet.h"
#include "xsk.h"
#include "pktring.h"
#include "log.h"
#include "names.h"
#include "resume.h"

#define FLOW_BUCKETS 4096
#define RX_BUDGET    64
#define PARK_MAX     64
/*
 * The slow lane (docs/machine-facts.md#the-slow-lane): the peer's Init
 * messages, whose key exchange costs ~100 us, wait behind the segments of
 * flows that have keys; at most SLOW_MAX, taken SLOW_BATCH per receive pass.
 */
#define SLOW_MAX       4096
#define SLOW_BATCH     8
#define SLOW_FRAME     2048 /* longer segments are taken at once */
#define PEND_MAX       RX_BUDGET
#define PARK_NS	       100000000ull /* how long a segment waits for its flow */
#define PEER_RTT_SLOTS 1024	    /* peers whose Init round trips are remembered */
#define NS_PER_SEC     1000000000ull
/*
 * A finished flow is kept this long to answer a retransmitted FIN, should
 * the final ACK be lost (a few RTOs), before it and its entries go.
 */
#define LINGER_NS (3 * NS_PER_SEC)
/*
 * A flow that never finished, whose socket closed: removed after this long
 * without a segment (Linux's tcp_fin_timeout, 60 s, bounds FIN-WAIT-2).
 */
#define IDLE_NS (60 * NS_PER_SEC)
/* A flow without a segment for this long gives its drained buffers back. */
#define TRIM_NS NS_PER_SEC

struct iface {
	char name[IF_NAMESIZE];
	uint8_t mac[6];	       /* of the wire interface */
	uint8_t kernel_mac[6]; /* of the kernel's end of the capture veth */
	struct xsk_port wire[XSK_QUEUES_MAX];
	unsigned nqueues;
	struct xsk_port capture;
	struct pkt_ring ring; /* packet capture (fd -1 with XDP capture): what capture receives */
	int wire_tx, capt_tx; /* ... and its AF_PACKET sockets that transmit on name and capture */
	/*
	 * The capture socket is multi-buffer and the kernel's end takes packets
	 * of up to XSK_CHAIN_TX_MAX: the peer's plaintext goes up in segments
	 * of up to DP_INJECT_MSS (docs/architecture.md#multi-buffer-capture).
	 */
	bool inject_big;
};

/* Plaintext per injected segment with inject_big: 16 frames less the largest headers. */
#define DP_INJECT_MSS 64000
/* Payload of one GSO packet the agent sends with packet capture (IPv4's 64 KB, with room). */
#define DP_GSO_MAX 64000
#define DP_TXBUF   (PKT_VNET_HLEN + 14 + 40 + 60 + DP_GSO_MAX + 4096)

/*
 * Packet capture: the agent's consecutive wire segments of a flow, gathered
 * into one GSO packet (the kernel cuts it into segments of gso_size where a
 * device needs it), sent when something else is to go.
 */
struct gso_pend {
	int fd; /* -1: nothing gathered */
	struct pkt_addr a;
	struct dp_seg seg; /* its header; payload in buf */
	uint32_t gso_size;
	uint8_t *buf; /* DP_GSO_MAX bytes */
};

struct agent_flow {
	struct flow_key key; /* local point of view */
	struct agent_flow *next;
	struct datapath *dp;
	struct iface *ifc;
	struct pkt_addr out; /* addresses of our segments (local -> peer) */
	struct dp_flow *x;
	uint32_t local_isn, peer_isn; /* which connection on this 4-tuple */
	uint64_t deadline;
	uint64_t last_seen; /* the last segment either way */
	uint64_t done_at;   /* when the translator finished, 0 before */
	uint64_t check_at;  /* next look at the socket's flow entry */
	uint64_t last_stats_ns;
	uint64_t periodic_at; /* the last look at the flow by the 1-second rule of run_timers */
	uint64_t wake_at;     /* when run_timers must look at it next (flow_wake) */
	unsigned heap_idx;    /* its place in the datapath's timer heap */
	uint64_t rekey_at;    /* plaintext sent when the next rekey is due */
	uint32_t told_room;   /* the wire room (PMTU) the local kernel was last told of */
	enum dp_state last_state;
	bool had_id;
	bool keylogged;
	bool trimmed;	    /* idle: its drained buffers given back (dp_flow_trim) */
	bool pend_listed;   /* in the datapath's pend list */
	unsigned slow_n;    /* its segments in the slow lane: the next ones queue behind them */
	uint32_t local_gso; /* the local kernel's MSS: GSO size of the plaintext it is given */
	__u8 role, tep_byte;
	/* resumption: the cache chain this connection used or produced, once known */
	bool chain_known, flushed, no_cache;
	struct tc_sc_ref chain;
};

/*
 * A segment that arrived before sock_ops recorded its flow as negotiated
 * (host A's Init1 can overtake the stack's handling of its third ACK): kept
 * a moment instead of dropped, which would cost the peer an RTO.
 */
struct parked {
	uint64_t since;
	struct iface *ifc;
	bool from_wire;
	uint32_t len;
	uint8_t frame[]; /* len bytes: a multi-buffer packet may be longer than a frame */
};

struct datapath {
	struct agent_counters cnt; /* of flows gone; live ones are added when published */
	/*
	 * When this agent opened its data path; flows negotiated before it
	 * belong to a previous agent, whose keys are gone.
	 */
	uint64_t started_ns;
	bool stopping;		 /* every flow was reset: no new ones */
	uint64_t cnt_published;	 /* when dpstats was last written */
	uint64_t timers_run;	 /* when run_timers last ran */
	uint64_t malloc_trimmed; /* when memory idle flows gave back was last returned */
	bool trim_pending;	 /* ... and some was given back since */
	int dpstats_fd, agent_fd, capture_seen_fd;
	uint64_t beat_at;     /* when capture_seen was last written */
	uint64_t cut_rng;     /* --test-cut-segments: xorshift state, 0 when off */
	uint64_t rekey_bytes; /* --rekey-bytes, 0: never */
	struct iface ifaces[TCPCRYPT_MAX_IFACES];
	struct parked *park[PARK_MAX];
	unsigned nparked;
	struct parked **slow; /* SLOW_MAX, a FIFO: slow[slow_head .. slow_head + nslow) */
	unsigned slow_head, nslow;
	int nifaces;
	int flows_fd, sessions_fd, negcache_fd, pending_fd;
	uint32_t negcache_ttl_s;
	struct agent_flow *buckets[FLOW_BUCKETS];
	unsigned nflows;
	/*
	 * Every flow, in a binary min-heap on wake_at: the timers cost what is
	 * due, not a walk over every flow (finished ones linger LINGER_NS).
	 */
	struct agent_flow **heap;
	unsigned heap_n, heap_cap;
	FILE *keylog;
	struct keypool *keys; /* key pairs made ahead of time, or NULL */
	/*
	 * Round trips of the agents' own units per peer (struct dp_rtt), shared
	 * by the flows to it: a direct-mapped table; a peer that lands on
	 * another's slot takes it over (the flows of the old one then feed the
	 * new one's estimate until they end: an estimate, never a correctness
	 * matter).
	 */
	struct peer_rtt {
		uint8_t family;
		uint32_t addr[4];
		struct dp_rtt rtt;
	} peer_rtt[PEER_RTT_SLOTS];
	uint64_t batch_t0;     /* when the loop began taking the current receive batch */
	uint64_t batch_rt_off; /* ... and CLOCK_REALTIME - CLOCK_MONOTONIC then */
	unsigned batch_frames; /* ... and how many packets it took */
	struct resume *rs;     /* the session cache and its offers (agent/resume.h) */
	uint64_t rs_missing;   /* resumed flows whose ticket was gone: reset */
	uint8_t *txbuf; /* DP_TXBUF bytes: a packet built to go out as a chain or with AF_PACKET */
	struct gso_pend gso;
	int gso_fd;		/* where the gathered packet goes */
	uint64_t gso_off_until; /* a device refused a GSO packet: segments until then */
	/* Flows holding plaintext back (defer_inject) until the end of the receive batch. */
	struct agent_flow *pend[PEND_MAX];
	unsigned npend;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static int iface_mac(const char *name, uint8_t mac[6])
{
	struct ifreq ifr = {};
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), err;

	if (fd < 0)
		return -1;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	err = ioctl(fd, SIOCGIFHWADDR, &ifr);
	close(fd);
	if (err)
		return -1;
	memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	return 0;
}

static unsigned key_hash(const struct flow_key *k)
{
	const uint8_t *p = (const uint8_t *)k;
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < sizeof(*k); i++)
		h = (h ^ p[i]) * 16777619u;
	return h % FLOW_BUCKETS;
}

/* The shared round-trip estimate of the flow's peer. */
static struct dp_rtt *peer_rtt_of(struct datapath *dp, const struct flow_key *k)
{
	uint32_t h = 2166136261u;
	struct peer_rtt *e;

	for (size_t i = 0; i < sizeof(k->raddr); i++)
		h = (h ^ ((const uint8_t *)k->raddr)[i]) * 16777619u;
	e = &dp->peer_rtt[(h ^ k->family) % PEER_RTT_SLOTS];
	if (e->family != k->family || memcmp(e->addr, k->raddr, sizeof(e->addr))) {
		memset(e, 0, sizeof(*e));
		e->family = k->family;
		memcpy(e->addr, k->raddr, sizeof(e->addr));
	}
	return &e->rtt;
}

static struct agent_flow *flow_find(struct datapath *dp, const struct flow_key *k)
{
	for (struct agent_flow *f = dp->buckets[key_hash(k)]; f; f = f->next)
		if (!memcmp(&f->key, k, sizeof(*k)))
			return f;
	return NULL;
}

static void emit_one(struct agent_flow *f, enum dp_dir dir, const struct dp_seg *seg);

/*
 * Test mode (--test-cut-segments): cut each wire segment at random points
 * into up to three segments carrying the same bytes at the same sequence
 * numbers, so that the peer sees frames spanning segments.
 */
static void emit_cut(struct agent_flow *f, const struct dp_seg *seg)
{
	uint32_t cuts[2], n = 0, start = 0;
	struct datapath *dp = f->dp;

	for (int i = 0; i < 2; i++) {
		dp->cut_rng ^= dp->cut_rng << 13;
		dp->cut_rng ^= dp->cut_rng >> 7;
		dp->cut_rng ^= dp->cut_rng << 17;
		if (seg->len > 2 && dp->cut_rng % 2)
			cuts[n++] = 1 + dp->cut_rng % (seg->len - 1);
	}
	if (n == 2 && cuts[0] > cuts[1]) {
		uint32_t t = cuts[0];

		cuts[0] = cuts[1];
		cuts[1] = t;
	}
	for (uint32_t i = 0; i <= n; i++) {
		uint32_t end = i < n ? cuts[i] : seg->len;
		struct dp_seg piece = *seg;

		if (end <= start)
			continue;
		piece.seq = seg->seq + start;
		piece.data = seg->data + start;
		piece.len = end - start;
		if (end < seg->len)
			piece.flags &= ~(DP_FIN | DP_PSH);
		emit_one(f, DP_TO_WIRE, &piece);
		start = end;
	}
}

/* Build and transmit one segment the translator emitted. */
static void emit(void *ctx, enum dp_dir dir, const struct dp_seg *seg)
{
	struct agent_flow *f = ctx;

	if (dir == DP_TO_WIRE && f->dp->cut_rng && seg->len > 2)
		emit_cut(f, seg);
	else
		emit_one(f, dir, seg);
}

/*
 * Send seg with checksum offload, as one GSO packet of gso_size segments if
 * longer.  A device without TSO (off, or none) makes the kernel drop a GSO
 * packet sent past the qdisc (ENOBUFS: __dev_direct_xmit does not segment):
 * then it goes as segments of gso_size, and GSO waits a second
 * (docs/architecture.md#packet-capture).
 */
static void send_offload(struct datapath *dp, int fd, const struct pkt_addr *a,
			 const struct dp_seg *seg, uint32_t gso_size)
{
	bool gso = seg->len > gso_size && dp->gso_off_until <= now_ns();
	struct dp_seg piece = *seg;
	uint32_t n;
	int err;

	if (gso) {
		n = pkt_build_offload_hdr(dp->txbuf, DP_TXBUF, a, seg, gso_size);
		err = n ? pkt_tx_send2(fd, dp->txbuf, n, seg->data, seg->len) : -EMSGSIZE;
		if (!err) {
			dp->cnt.tx_frames++;
			dp->cnt.tx_chains++;
			return;
		}
		if (err != -ENOBUFS) {
			dp->cnt.tx_drops++;
			return;
		}
		dp->gso_off_until = now_ns() + NS_PER_SEC;
		dp->cnt.gso_refused++;
	}
	/* one segment at a time: PSH and FIN on the last only */
	for (uint32_t off = 0; off < seg->len || !off; off += piece.len) {
		piece.seq = seg->seq + off;
		piece.data = seg->data + off;
		piece.len = seg->len - off < gso_size ? seg->len - off : gso_size;
		piece.flags =
		    off + piece.len < seg->len ? seg->flags & ~(DP_PSH | DP_FIN) : seg->flags;
		n = pkt_build_offload_hdr(dp->txbuf, DP_TXBUF, a, &piece, 0);
		if (n && !pkt_tx_send2(fd, dp->txbuf, n, piece.data, piece.len))
			dp->cnt.tx_frames++;
		else
			dp->cnt.tx_drops++; /* TCP recovers the segment */
		if (!seg->len)
			break;
	}
}

/* Send the GSO packet gathered, if any. */
static void gso_flush(struct datapath *dp)
{
	struct gso_pend *g = &dp->gso;

	if (g->fd < 0)
		return;
	g->fd = -1;
	g->seg.data = g->buf;
	send_offload(dp, dp->gso_fd, &g->a, &g->seg, g->gso_size);
}

/* Can seg go at the end of the gathered packet: the next bytes, the same header? */
static bool gso_fits(const struct gso_pend *g, int fd, const struct pkt_addr *a,
		     const struct dp_seg *s)
{
	const struct dp_seg *p = &g->seg;

	return g->fd == fd && !memcmp(&g->a, a, sizeof(*a)) && s->seq == p->seq + p->len &&
	       s->ack == p->ack && s->win == p->win &&
	       (s->flags & ~DP_PSH) == (p->flags & ~DP_PSH) && s->optlen == p->optlen &&
	       !memcmp(s->opts, p->opts, s->optlen) && p->len + s->len <= DP_GSO_MAX &&
	       /* the kernel cuts at gso_size: only whole segments of it before the last */
	       p->len % g->gso_size == 0 && s->len <= g->gso_size;
}

/*
 * Packet capture: a wire segment with payload joins or starts a GSO packet;
 * anything else (SYN, FIN, RST, urgent, pure ACKs, plaintext for the kernel)
 * goes at once, after what was gathered, with checksum offload.
 */
static void emit_packet(struct agent_flow *f, enum dp_dir dir, const struct pkt_addr *a,
			const struct dp_seg *seg)
{
	struct datapath *dp = f->dp;
	struct gso_pend *g = &dp->gso;
	int fd = dir == DP_TO_WIRE ? f->ifc->wire_tx : f->ifc->capt_tx;
	bool gather = dir == DP_TO_WIRE && seg->len && !dp->cut_rng &&
		      !(seg->flags & (DP_SYN | DP_FIN | DP_RST | DP_URG));

	if (gather && gso_fits(g, fd, a, seg)) {
		memcpy(g->buf + g->seg.len, seg->data, seg->len);
		g->seg.len += seg->len;
		g->seg.flags |= seg->flags;
		return;
	}
	gso_flush(dp);
	if (gather) {
		g->fd = dp->gso_fd = fd;
		g->a = *a;
		g->seg = *seg;
		/*
		 * The first segment's size: the translator cuts its segments at
		 * the wire MSS, less the ENO option's room while it marks them.
		 */
		g->gso_size = seg->len;
		memcpy(g->buf, seg->data, seg->len);
		return;
	}
	send_offload(dp, fd, a, seg,
		     dir == DP_TO_WIRE ? dp_flow_peek(f->x)->wire_mss : f->local_gso);
}

static void emit_one(struct agent_flow *f, enum dp_dir dir, const struct dp_seg *seg)
{
	struct pkt_addr a = f->out;
	struct xsk_port *port;
	uint8_t *frame;
	uint32_t len;

	if (dir == DP_TO_WIRE) {
		memcpy(a.src_mac, f->ifc->mac, 6);
		port = &f->ifc->wire[0];
	} else {
		/* the peer's segment, arriving at the kernel's end of the capture veth */
		memcpy(a.saddr, f->out.daddr, sizeof(a.saddr));
		memcpy(a.daddr, f->out.saddr, sizeof(a.daddr));
		a.sport = f->out.dport;
		a.dport = f->out.sport;
		memcpy(a.src_mac, f->out.dst_mac, 6);
		memcpy(a.dst_mac, f->ifc->kernel_mac, 6);
		port = &f->ifc->capture;
	}
	if (f->ifc->wire_tx >= 0) {
		emit_packet(f, dir, &a, seg);
		return;
	}
	/* headers: Ethernet, IPv6, TCP with options at most */
	if (port->sg && seg->len > XSK_FRAME_SIZE - 14 - 40 - 60) {
		len = pkt_build(f->dp->txbuf, XSK_CHAIN_TX_MAX, &a, seg);
		if (len && !xsk_port_tx_copy(port, f->dp->txbuf, len)) {
			f->dp->cnt.tx_frames++;
			f->dp->cnt.tx_chains++;
		} else {
			f->dp->cnt.tx_drops++;
		}
		return;
	}
	frame = xsk_port_tx_frame(port);
	len = frame ? pkt_build(frame, XSK_FRAME_SIZE, &a, seg) : 0;
	if (len && !xsk_port_tx_submit(port, frame, len))
		f->dp->cnt.tx_frames++;
	else
		f->dp->cnt.tx_drops++; /* ring full: TCP recovers the segment */
}

static const __u8 session_states[] = {
    [DP_ST_HANDSHAKE] = SESSION_HANDSHAKE, [DP_ST_ESTABLISHED] = SESSION_ESTABLISHED,
    [DP_ST_CLOSING] = SESSION_CLOSING,	   [DP_ST_CLOSED] = SESSION_CLOSED,
    [DP_ST_RESET] = SESSION_CLOSED,	   [DP_ST_ABORTED] = SESSION_ABORTED,
};

/* Publish the flow in the sessions map (tcpcryptctl sessions, bpftool). */
static void session_update(struct agent_flow *f, uint64_t now)
{
	struct dp_flow_stats st;
	struct session_info si = {};

	dp_flow_stats(f->x, &st);
	if (st.have_session_id)
		memcpy(si.session_id, st.session_id, sizeof(si.session_id));
	si.state = session_states[st.state];
	si.role = f->role;
	si.local_isn = f->local_isn;
	si.peer_isn = f->peer_isn;
	si.tep_byte = f->tep_byte;
	si.error = st.error < 0 ? -st.error : 0;
	si.plain_out = st.plain_out;
	si.plain_in = st.plain_in;
	si.wire_out = st.wire_out;
	si.wire_in = st.wire_in;
	si.retransmits = st.wire_resent;
	si.aead = st.aead;
	si.local_gen = st.local_gen;
	si.remote_gen = st.remote_gen;
	si.wire_mss = st.wire_mss;
	bpf_map_update_elem(f->dp->sessions_fd, &f->key, &si, BPF_ANY);
	f->last_stats_ns = now;
	if (f->dp->keylog && st.have_session_id && !f->keylogged) {
		struct tc_keylog kl;
		char line[512];

		if (dp_flow_keylog(f->x, &kl) == TC_OK &&
		    tc_keylog_format(&kl, line, sizeof(line)) > 0) {
			fputs(line, f->dp->keylog);
			fflush(f->dp->keylog);
		}
		OPENSSL_cleanse(&kl, sizeof(kl));
		OPENSSL_cleanse(line, sizeof(line));
		f->keylogged = true;
	}
}

/* ---- the timer heap ---- */

static void heap_set(struct datapath *dp, unsigned i, struct agent_flow *f)
{
	dp->heap[i] = f;
	f->heap_idx = i;
}

static void heap_up(struct datapath *dp, unsigned i)
{
	struct agent_flow *f = dp->heap[i];

	while (i && dp->heap[(i - 1) / 2]->wake_at > f->wake_at) {
		heap_set(dp, i, dp->heap[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	heap_set(dp, i, f);
}

static void heap_down(struct datapath *dp, unsigned i)
{
	struct agent_flow *f = dp->heap[i];

	for (;;) {
		unsigned c = 2 * i + 1;

		if (c >= dp->heap_n)
			break;
		if (c + 1 < dp->heap_n && dp->heap[c + 1]->wake_at < dp->heap[c]->wake_at)
			c++;
		if (dp->heap[c]->wake_at >= f->wake_at)
			break;
		heap_set(dp, i, dp->heap[c]);
		i = c;
	}
	heap_set(dp, i, f);
}

/* When the timers must look at f next: its deadline, the 1-second look, the idle trim. */
static uint64_t flow_wake(const struct agent_flow *f)
{
	uint64_t t =
	    f->deadline < f->periodic_at + NS_PER_SEC ? f->deadline : f->periodic_at + NS_PER_SEC;

	if (!f->trimmed && f->last_seen + TRIM_NS < t)
		t = f->last_seen + TRIM_NS;
	return t;
}

/* f's wake time may have changed: restore the heap. */
static void heap_fix(struct datapath *dp, struct agent_flow *f)
{
	f->wake_at = flow_wake(f);
	heap_up(dp, f->heap_idx);
	heap_down(dp, f->heap_idx);
}

/* Add f to the heap; -1 if there is no memory for it. */
static int heap_push(struct datapath *dp, struct agent_flow *f)
{
	struct agent_flow **h;
	unsigned cap;

	if (dp->heap_n == dp->heap_cap) {
		cap = dp->heap_cap ? 2 * dp->heap_cap : 1024;
		h = realloc(dp->heap, cap * sizeof(*h));
		if (!h)
			return -1;
		dp->heap = h;
		dp->heap_cap = cap;
	}
	f->wake_at = flow_wake(f);
	heap_set(dp, dp->heap_n++, f);
	heap_up(dp, f->heap_idx);
	return 0;
}
static void heap_remove(struct datapath *dp, struct agent_flow *f)
{
	struct agent_flow *last = dp->heap[--dp->heap_n];

	if (last == f)
		return;
	heap_set(dp, f->heap_idx, last);
	heap_up(dp, last->heap_idx);
	heap_down(dp, last->heap_idx);
}

static void dest_of(const struct flow_key *k, struct negcache_key *nk)
{
	memset(nk, 0, sizeof(*nk));
	nk->family = k->family;
	memcpy(nk->addr, k->raddr, sizeof(nk->addr));
}

/*
 * This host's and the peer's suboption for the negotiated TEP, TEP byte
 * first, as they went on the wire (fi's transcript: A's option, then B's).
 */
static bool transcript_subopts(const struct flow_info *fi, const uint8_t **own, size_t *own_len,
			       const uint8_t **peer, size_t *peer_len)
{
	bool a = fi->role == ENO_ROLE_A;
	uint32_t off = a ? 0 : fi->a_opt_len;
	uint32_t len = a ? fi->a_opt_len : (uint32_t)fi->transcript_len - fi->a_opt_len;
	struct eno_optbuf ob = {0};
	struct eno_syn syn;

	if (fi->transcript_len > sizeof(fi->transcript) || fi->a_opt_len > fi->transcript_len ||
	    len < 2 || len > ENO_OPT_MAX || fi->peer_data_off < 1 ||
	    fi->peer_data_off + fi->peer_data_len > fi->transcript_len)
		return false;
	memcpy(ob.b, fi->transcript + off, len);
	if (eno_parse_syn(&ob, &syn) != ENO_OK)
		return false;
	*own = NULL;
	for (unsigned k = 0; k < syn.ntep; k++)
		if (syn.tep[k].id == fi->tep && syn.tep[k].v && syn.tep[k].off >= 1) {
			*own = fi->transcript + off + syn.tep[k].off - 1;
			*own_len = syn.tep[k].len + 1;
		}
	*peer = fi->transcript + fi->peer_data_off - 1;
	*peer_len = fi->peer_data_len + 1;
	return *own != NULL;
}

/*
 * The secret of a resumed flow (fi.v, an offer or acceptance claimed as
 * fi.rs_id), into *t and p->eno, completed by what this host sent; a claimed
 * offer that B answered with a fresh exchange is spent (RFC 8548 §3.5: used,
 * successfully or not).  False if the flow resumed and no secret is here.
 */
static bool flow_ticket(struct datapath *dp, const struct flow_info *fi, struct dp_flow_params *p,
			struct tc_sc_ticket *t)
{
	const uint8_t *own, *peer;
	size_t own_len, peer_len;
	bool have = fi->rs_id && resume_claim(dp->rs, fi->rs_id, fi->v, t, now_ns());

	if (!fi->v) {
		tc_sc_ticket_wipe(t);
		return true;
	}
	if (!have || !transcript_subopts(fi, &own, &own_len, &peer, &peer_len) ||
	    tc_sc_ticket_sent(t, own, own_len) != TC_OK)
		return false;
	p->eno.peer_subopt = peer;
	p->eno.peer_subopt_len = peer_len;
	p->eno.ticket = t;
	return true;
}

/*
 * A segment of a flow we do not know yet: set it up from what sock_ops
 * recorded.  NULL if it is not (yet) negotiated or closed (*keyless false:
 * the segment may wait for the flow), or if the flow has no keys and never
 * will, being a previous agent's or negotiated once this one stopped
 * (*keyless true).
 */
static struct agent_flow *flow_create(struct datapath *dp, struct iface *ifc,
				      const struct flow_key *k, const struct pkt_addr *out,
				      bool *keyless)
{
	struct flow_info fi;
	struct dp_flow_params p = {};
	uint16_t aeads[4]; /* tc_aead_default_pref_len, checked below */
	struct tc_sc_ticket t = {};
	struct negcache_key nk;
	struct agent_flow *f;
	int err = 0;
	unsigned h;

	*keyless = false;
	/* not (yet) negotiated: the peer retransmits; closed: a segment of the past */
	if (bpf_map_lookup_elem(dp->flows_fd, k, &fi) || fi.state != FLOW_TCPCRYPT ||
	    (fi.flags & FLOWF_CLOSED))
		return NULL;
	if (fi.start_ns < dp->started_ns || dp->stopping) {
		*keyless = true;
		return NULL;
	}
	f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	f->key = *k;
	f->dp = dp;
	f->ifc = ifc;
	f->out = *out;
	f->role = fi.role;
	f->tep_byte = fi.tep | (fi.v ? 0x80 : 0);
	f->local_isn = fi.local_isn;
	f->peer_isn = fi.peer_isn;
	f->local_gso = fi.mss;
	p.eno.role = fi.role;
	p.eno.tep_byte = fi.tep | (fi.v ? 0x80 : 0);
	p.eno.transcript = fi.transcript;
	p.eno.transcript_len = fi.transcript_len;
	dest_of(k, &nk);
	resume_peer(&nk, &p.eno.peer);
	p.conn.cache = resume_cache(dp->rs);
	p.conn.policy = fi.flags & FLOWF_NO_CACHE ? TC_SC_NO_CACHE : 0;
	p.conn.keylog = dp->keylog != NULL;
	p.peer_rtt = peer_rtt_of(dp, k);
	p.conn.keysrc = fi.role == ENO_ROLE_B ? keypool_src_b(dp->keys) : keypool_src(dp->keys);
	/*
	 * The socket's TCP_CRYPT_AEAD first: A offers it first in Init1, B
	 * picks it when A offered it (RFC 8548 §3.3).
	 */
	if (tc_aead_default_pref_len <= sizeof(aeads) / sizeof(aeads[0])) {
		p.conn.aeads = aeads;
		p.conn.naeads = tc_aead_pref_first(fi.aead_pref, aeads);
	}
	if (!flow_ticket(dp, &fi, &p, &t)) {
		/* resumed on the wire, but this agent holds no secret for it: reset */
		dp->rs_missing++;
		log_flow_aborted(k, "resumed without a cached secret");
		tc_sc_ticket_wipe(&t);
		free(f);
		*keyless = true;
		return NULL;
	}
	if (p.eno.ticket) {
		f->chain = t.ref;
		f->chain_known = true;
		/* SKO_NO_CACHE: nothing of this connection's chain stays cached */
		if (fi.flags & FLOWF_NO_CACHE)
			resume_flush_chain(dp->rs, &t.ref);
	}
	f->no_cache = fi.flags & FLOWF_NO_CACHE;
	p.local_isn = fi.local_isn;
	p.peer_isn = fi.peer_isn;
	p.local_mss = ifc->inject_big ? DP_INJECT_MSS : fi.mss;
	p.defer_inject = ifc->inject_big;
	p.wire_mss = fi.mss + TCPCRYPT_FRAME_OVERHEAD;
	p.local_wscale = fi.rcv_wscale;
	p.peer_wscale = fi.snd_wscale;
	p.sack_ok = fi.tcpopts & FLOW_OPT_SACK;
	p.timestamps = fi.tcpopts & FLOW_OPT_TS;
	f->x = dp_flow_new(&p, emit, f, &err);
	tc_sc_ticket_wipe(&t);
	if (!f->x) {
		fprintf(stderr,
			"tcpcryptd: cannot start tcpcrypt on a connection (role %u, TEP 0x%02x, "
			"mss %u, wscale %u/%u, transcript %u bytes): %s\n",
			fi.role, p.eno.tep_byte, fi.mss, fi.rcv_wscale, fi.snd_wscale,
			fi.transcript_len, dp_strerror(err));
		free(f);
		return NULL;
	}
	f->deadline = 0; /* dp_timer at once: host A's Init1 */
	f->rekey_at = dp->rekey_bytes;
	f->told_room = dp_flow_peek(f->x)->wire_room;
	f->last_seen = now_ns();
	f->periodic_at = f->last_seen;
	f->check_at = f->last_seen + IDLE_NS;
	if (heap_push(dp, f)) {
		dp_flow_free(f->x);
		free(f);
		return NULL;
	}
	h = key_hash(k);
	f->next = dp->buckets[h];
	dp->buckets[h] = f;
	dp->nflows++;
	dp->cnt.sessions++;
	session_update(f, f->last_seen);
	return f;
}

/* A flow's byte counts and outcome, added to c. */
static void counters_add(struct agent_counters *c, const struct dp_flow *x)
{
	struct dp_flow_stats st;

	dp_flow_stats(x, &st);
	c->wire_retrans += st.wire_resent;
	c->resend_held += st.resend_held;
	c->plain_out += st.plain_out;
	c->plain_in += st.plain_in;
	c->frames_sealed += st.frames_out;
	c->frames_opened += st.frames_in;
	c->urgent_sealed += st.urgent_out;
	c->urgent_opened += st.urgent_in;
	c->reasm_drops += st.reasm_dropped;
	c->pmtu_updates += st.pmtu_updates;
	c->mtu_probes += st.mtu_probes;
	c->recut_segments += st.recut;
	if (st.state == DP_ST_ABORTED) {
		if (st.error == TC_E_AUTH)
			c->auth_failures++;
		else
			c->aborted++;
	}
}

static void counters_publish(struct datapath *dp, uint64_t now)
{
	struct agent_counters c = dp->cnt;
	__u32 zero = 0;

	for (unsigned b = 0; b < FLOW_BUCKETS; b++)
		for (struct agent_flow *f = dp->buckets[b]; f; f = f->next)
			counters_add(&c, f->x);
	for (int i = 0; i < dp->nifaces; i++) {
		for (unsigned q = 0; q < dp->ifaces[i].nqueues; q++)
			xsk_port_stats_add(&dp->ifaces[i].wire[q], &c);
		xsk_port_stats_add(&dp->ifaces[i].capture, &c);
		if (dp->ifaces[i].ring.fd >= 0) {
			c.capture_drops += pkt_ring_drops(&dp->ifaces[i].ring);
			c.capture_truncated += dp->ifaces[i].ring.truncated;
			c.capture_big += dp->ifaces[i].ring.big;
		}
	}
	{
		uint64_t hits, misses;

		keypool_counts(dp->keys, &hits, &misses);
		c.key_pool_hits = hits;
		c.key_pool_misses = misses;
		c.key_reused = keypool_reused(dp->keys);
	}
	bpf_map_update_elem(dp->dpstats_fd, &zero, &c, BPF_ANY);
	dp->cnt_published = now;
}

static void flow_destroy(struct datapath *dp, struct agent_flow *f)
{
	struct agent_flow **pp = &dp->buckets[key_hash(&f->key)];

	for (unsigned i = 0; f->pend_listed && i < dp->npend; i++)
		if (dp->pend[i] == f)
			dp->pend[i] = dp->pend[--dp->npend];

	while (*pp && *pp != f)
		pp = &(*pp)->next;
	if (*pp)
		*pp = f->next;
	bpf_map_delete_elem(dp->sessions_fd, &f->key);
	counters_add(&dp->cnt, f->x);
	heap_remove(dp, f);
	dp->nflows--;
	dp_flow_free(f->x);
	free(f);
}

enum sock_state {
	SOCK_OPEN,     /* the flow entry is this connection's, its socket open */
	SOCK_CLOSED,   /* ... and closed (FLOWF_CLOSED): the agent removes the entry */
	SOCK_GONE,     /* no entry */
	SOCK_REPLACED, /* the entry is a newer connection's on the same 4-tuple */
};

static void flow_flush(struct datapath *dp, struct agent_flow *f, __u8 flags);

/* (and the socket's FLOWF_FLUSH request, acted on at this look) */
static enum sock_state sock_state(struct datapath *dp, struct agent_flow *f)
{
	struct flow_info fi;

	if (bpf_map_lookup_elem(dp->flows_fd, &f->key, &fi))
		return SOCK_GONE;
	if (fi.local_isn != f->local_isn || fi.peer_isn != f->peer_isn)
		return SOCK_REPLACED;
	flow_flush(dp, f, fi.flags);
	return fi.flags & FLOWF_CLOSED ? SOCK_CLOSED : SOCK_OPEN;
}

/* Forget a flow whose socket is no longer open, and the entry it left, if any. */
static void flow_retire(struct datapath *dp, struct agent_flow *f, enum sock_state ss)
{
	if (ss == SOCK_CLOSED)
		bpf_map_delete_elem(dp->flows_fd, &f->key);
	flow_destroy(dp, f);
}

/*
 * The flow's end: the translator done (both FINs acknowledged, or reset) and
 * LINGER_NS passed, or no segment for IDLE_NS; and either way the socket
 * closed (a time-wait socket may still answer, through the agent).  Looked at
 * when check_at comes, so that live flows cost no map lookups.  True if the
 * flow is gone.
 */
static bool flow_check_end(struct datapath *dp, struct agent_flow *f, uint64_t now)
{
	enum sock_state ss;

	if (!f->done_at && dp_flow_done(f->x)) {
		f->done_at = now;
		f->check_at = now + LINGER_NS;
	}
	if (now < f->check_at)
		return false;
	ss = sock_state(dp, f);
	if (ss != SOCK_OPEN && (f->done_at || now - f->last_seen >= IDLE_NS)) {
		flow_retire(dp, f, ss);
		return true;
	}
	f->check_at = now + (f->done_at ? NS_PER_SEC : IDLE_NS);
	return false;
}

/*
 * Host A's handshake failed after ENO succeeded: its Init1 was answered by
 * the peer's RST or by bytes that are no Init2, or acknowledged and never
 * answered.  The path strips ENO after the SYN (RFC 8547 §9, "type 2"), or
 * the peer is not the tcpcrypt host it claimed: connections to it go plain
 * for a while (negative cache, cause ENO_FAIL_INIT), so that a retry works.
 * At most INIT_FAIL_TTL_S, since a peer whose agent restarts while our
 * handshake is under way looks the same from here; a stripping path costs
 * one failed connection per that time.
 */
#define INIT_FAIL_TTL_S 60
static void init_failed(struct datapath *dp, struct agent_flow *f, const struct dp_flow_stats *st,
			uint64_t now)
{
	struct negcache_key nk = {.family = f->key.family};
	struct negcache_val nv = {.cause = ENO_FAIL_INIT};
	uint32_t ttl = dp->negcache_ttl_s < INIT_FAIL_TTL_S ? dp->negcache_ttl_s : INIT_FAIL_TTL_S;
	char addr[64];

	memcpy(nk.addr, f->key.raddr, sizeof(nk.addr));
	dp->cnt.init_failed++;
	if (!bpf_map_lookup_elem(dp->negcache_fd, &nk, &nv) && nv.expires_ns > now)
		return; /* known already */
	memset(&nv, 0, sizeof(nv));
	nv.cause = ENO_FAIL_INIT;
	nv.expires_ns = now + (uint64_t)ttl * NS_PER_SEC;
	bpf_map_update_elem(dp->negcache_fd, &nk, &nv, BPF_ANY);
	addr_str(f->key.family, f->key.raddr, addr, sizeof(addr));
	fprintf(stderr,
		"tcpcryptd: %s port %u: tcpcrypt handshake failed after ENO (%s); connections "
		"to %s are plain TCP for %u s (tcpcryptctl negcache)\n",
		addr, f->key.rport,
		st->state == DP_ST_RESET ? "Init1 answered by a RST" : dp_strerror(st->error), addr,
		ttl);
}

/*
 * The wire's segments of the flow became smaller (PMTU): the local kernel is
 * told with an ICMP "fragmentation needed" / "packet too big" of its own,
 * quoting its oldest unacknowledged plaintext, for an MTU that leaves room for
 * the frame overhead, so that one plaintext segment still fits one wire
 * segment.  It shrinks its MSS, resends what is outstanding, and keeps the
 * path's MTU for the destination like any learned PMTU.
 */
static void tell_kernel_pmtu(struct agent_flow *f, uint32_t room)
{
	uint32_t iph = f->key.family == AF_INET ? 20 : 40;
	struct pkt_too_big e = {};
	struct dp_flow_stats st;
	uint8_t *frame;
	uint32_t len;

	dp_flow_stats(f->x, &st);
	e.outer = f->out; /* from the peer's address, arriving at the kernel's end */
	memcpy(e.outer.saddr, f->out.daddr, sizeof(e.outer.saddr));
	memcpy(e.outer.daddr, f->out.saddr, sizeof(e.outer.daddr));
	memcpy(e.outer.src_mac, f->out.dst_mac, 6);
	memcpy(e.outer.dst_mac, f->ifc->kernel_mac, 6);
	e.inner = f->out;
	e.seq = st.local_una;
	e.mtu = room + 20 + iph - TCPCRYPT_FRAME_OVERHEAD;
	if (f->ifc->capt_tx >= 0) {
		/* no offload: a struct virtio_net_hdr of zeros */
		gso_flush(f->dp);
		memset(f->dp->txbuf, 0, PKT_VNET_HLEN);
		len = pkt_build_too_big(f->dp->txbuf + PKT_VNET_HLEN, DP_TXBUF - PKT_VNET_HLEN, &e);
		if (len && !pkt_tx_send(f->ifc->capt_tx, f->dp->txbuf, PKT_VNET_HLEN + len))
			f->dp->cnt.tx_frames++;
		else
			f->dp->cnt.tx_drops++;
		return;
	}
	frame = xsk_port_tx_frame(&f->ifc->capture);
	len = frame ? pkt_build_too_big(frame, XSK_FRAME_SIZE, &e) : 0;
	if (len && !xsk_port_tx_submit(&f->ifc->capture, frame, len))
		f->dp->cnt.tx_frames++;
	else
		f->dp->cnt.tx_drops++;
}

/*
 * A fresh session's chain, once its connection cached it (the first frame
 * of the peer authenticated): offers or acceptances for it
 * (docs/architecture.md#session-resumption-on-the-wire).
 */
static void flow_chain(struct datapath *dp, struct agent_flow *f, uint64_t now)
{
	struct tc_conn_info info;
	struct negcache_key nk;

	if (f->no_cache || f->flushed || !dp_flow_conn_info(f->x, &info)) {
		f->chain_known = true;
		return;
	}
	if (!info.cache_ref.chain)
		return; /* not yet */
	f->chain = info.cache_ref;
	f->chain_known = true;
	dest_of(&f->key, &nk);
	if (!info.resumed)
		resume_chain_added(dp->rs, &f->chain, &nk, now);
}

/* SKO_FLUSH (FLOWF_FLUSH in the flow entry): forget what this connection used or produced. */
static void flow_flush(struct datapath *dp, struct agent_flow *f, __u8 flags)
{
	if (!(flags & FLOWF_FLUSH) || f->flushed)
		return;
	f->flushed = true;
	dp_flow_flush_cache(f->x);
	if (f->chain.chain)
		resume_flush_chain(dp->rs, &f->chain);
}

/* After a segment or timer of f: its timers, rekeying, publishing, its end.  True if f is gone. */
static bool after_event(struct datapath *dp, struct agent_flow *f, uint64_t now)
{
	const struct dp_flow_stats *st = dp_flow_peek(f->x); /* per packet: no copy */

	f->deadline = dp_timer(f->x, now);
	if (!f->chain_known && st->have_session_id)
		flow_chain(dp, f, now);
	if (st->wire_room < f->told_room) {
		f->told_room = st->wire_room;
		tell_kernel_pmtu(f, st->wire_room);
	}
	/*
	 * RFC 8548 §3.8: fresh keys after every rekey_bytes sent, which limits
	 * what one key protects and what its compromise reveals.  Refused
	 * (TC_E_STATE) while the last rekey is unanswered: tried again later.
	 */
	if (dp->rekey_bytes && st->plain_out >= f->rekey_at && !dp_flow_rekey(f->x, now)) {
		f->rekey_at = st->plain_out + dp->rekey_bytes;
		f->deadline = dp_timer(f->x, now);
	}
	/* publish at once what a user waits for (keys, state); bytes now and then, while they move
	 */
	if (st->have_session_id != f->had_id || st->state != f->last_state ||
	    (!f->done_at && now - f->last_stats_ns > 200000000ull)) {
		if (st->have_session_id && !f->had_id)
			dp->cnt.established++;
		/* not our stop, nor a path losing everything (Init1 never acknowledged), nor memory
		 */
		if (!st->have_session_id && f->role == ENO_ROLE_A &&
		    ((st->state == DP_ST_RESET && st->peer_reset) ||
		     (st->state == DP_ST_ABORTED && st->error != DP_E_STOPPED &&
		      st->error != DP_E_TIMEOUT && st->error != TC_E_NOMEM)))
			init_failed(dp, f, st, now);
		if (st->state == DP_ST_ABORTED && f->last_state != DP_ST_ABORTED)
			log_flow_aborted(&f->key, dp_strerror(st->error));
		f->had_id = st->have_session_id;
		f->last_state = st->state;
		session_update(f, now);
	}
	if (flow_check_end(dp, f, now))
		return true;
	heap_fix(dp, f);
	return false;
}

static const uint8_t from_wire_mac[6] = TCPCRYPT_FROM_WIRE_MAC;

struct rx_ctx {
	struct datapath *dp;
	struct iface *ifc;
	bool from_wire;
	bool parked; /* replaying a parked segment */
	bool slow;   /* taking a segment from the slow lane */
};

static void park(struct datapath *dp, struct iface *ifc, bool from_wire, const uint8_t *frame,
		 uint32_t len, uint64_t now)
{
	struct parked *p;

	if (dp->nparked == PARK_MAX) {
		dp->cnt.unknown_drops++; /* the peer retransmits */
		return;
	}
	p = malloc(sizeof(*p) + len);
	if (!p)
		return;
	p->since = now;
	p->ifc = ifc;
	p->from_wire = from_wire;
	p->len = len;
	memcpy(p->frame, frame, len);
	dp->park[dp->nparked++] = p;
}

/*
 * A segment of an encrypted flow whose keys are gone: answered as a closed
 * endpoint would (RFC 9293 §3.10.7.1), with a RST at the sequence number it
 * acknowledges, so that whichever end sent it (the peer, in ciphertext
 * space, or the local kernel, in plaintext space) drops the connection now
 * instead of retransmitting into the void.
 */
static void answer_keyless(struct rx_ctx *rc, const struct pkt_addr *out, const struct dp_seg *s)
{
	struct agent_flow tmp = {.dp = rc->dp, .ifc = rc->ifc, .out = *out};
	struct dp_seg rst = {.seq = s->ack, .flags = DP_RST};

	if (!(s->flags & DP_ACK) || (s->flags & DP_RST))
		return;
	rc->dp->cnt.rst_answers++;
	emit_one(&tmp, rc->from_wire ? DP_TO_WIRE : DP_TO_LOCAL, &rst);
}

/* An ICMP too-big error about a wire segment of an encrypted flow (TC steers them here). */
static void on_too_big(struct rx_ctx *rc, const uint8_t *frame, uint32_t len)
{
	uint32_t iph, room;
	struct pkt_too_big e;
	struct agent_flow *f;
	struct flow_key k;
	uint64_t now;

	if (pkt_parse_too_big(frame, len, &e))
		return;
	pkt_key_tx(&e.inner, &k);
	f = flow_find(rc->dp, &k);
	iph = e.inner.family == AF_INET ? 20 : 40;
	if (!f || e.mtu < iph + 20 + 64) {
		rc->dp->cnt.pmtu_ignored++;
		return;
	}
	now = now_ns();
	room = e.mtu - iph - 20;
	if (dp_flow_path_mtu(f->x, e.seq, room, now) == TC_E_INVAL)
		rc->dp->cnt.pmtu_ignored++;
	after_event(rc->dp, f, now);
}

/* Latency histogram buckets: < 16 us, < 64 us, < 256 us, < 1 ms, more. */
_Static_assert(offsetof(struct agent_counters, wake_slow) ==
		       offsetof(struct agent_counters, wake_16us) + 4 * sizeof(__u64) &&
		   offsetof(struct agent_counters, work_slow) ==
		       offsetof(struct agent_counters, work_16us) + 4 * sizeof(__u64),
	       "the wake_* and work_* buckets are consecutive");
static unsigned lat_bucket(uint64_t ns)
{
	unsigned b = 0;

	for (uint64_t lim = 16000; b < 4 && ns >= lim; lim *= 4)
		b++;
	return b;
}

/* How long the packet waited between the capture XDP program and this pickup. */
/* A packet the kernel handed over at rx_ns (CLOCK_MONOTONIC) was picked up at batch_t0. */
static void note_wait(struct datapath *dp, uint64_t rx_ns)
{
	__u64 *h = &dp->cnt.wake_16us;

	if (rx_ns > dp->batch_t0 || dp->batch_t0 - rx_ns > 10 * NS_PER_SEC)
		return;
	h[lat_bucket(dp->batch_t0 - rx_ns)]++;
	dp->cnt.wake_ns += dp->batch_t0 - rx_ns;
}

/* AF_XDP: the capture XDP program's stamp in the packet's metadata. */
static void note_wake(struct datapath *dp, struct xsk_port *port, uint8_t *frame)
{
	struct capture_meta m;

	dp->batch_frames++;
	if (!port || !xsk_port_rx_meta(port, frame, &m, sizeof(m)) || m.magic != CAPTURE_META_MAGIC)
		return;
	/* a frame is reused: the stamp counts once */
	memset(frame - sizeof(m), 0, sizeof(m));
	note_wait(dp, m.rx_ns);
}

/* The batch's packets took until now to be handled and their output sent. */
static void note_work(struct datapath *dp, uint64_t now)
{
	uint64_t ns = now - dp->batch_t0;

	(&dp->cnt.work_16us)[lat_bucket(ns)] += dp->batch_frames;
	dp->cnt.work_ns += ns * dp->batch_frames;
	dp->batch_frames = 0;
}

/* Queue a segment of f in the slow lane; false if it must be taken now. */
static bool slow_push(struct rx_ctx *rc, struct agent_flow *f, const uint8_t *frame, uint32_t len)
{
	struct datapath *dp = rc->dp;
	struct parked *p;

	if (dp->nslow == SLOW_MAX || len > SLOW_FRAME || !dp->slow)
		return false;
	p = malloc(sizeof(*p) + len);
	if (!p)
		return false;
	p->ifc = rc->ifc;
	p->from_wire = rc->from_wire;
	p->len = len;
	memcpy(p->frame, frame, len);
	dp->slow[(dp->slow_head + dp->nslow++) % SLOW_MAX] = p;
	f->slow_n++;
	dp->cnt.slow_lane++;
	return true;
}

static void on_frame(void *arg, struct xsk_port *port, uint8_t *frame, uint32_t len);

/* Take up to max segments from the slow lane, in order; true if any was taken. */
static bool slow_run(struct datapath *dp, unsigned max)
{
	unsigned n = 0;

	for (; n < max && dp->nslow; n++) {
		struct parked *p = dp->slow[dp->slow_head];
		struct rx_ctx rc = {.dp = dp, .ifc = p->ifc, .slow = true};

		dp->slow_head = (dp->slow_head + 1) % SLOW_MAX;
		dp->nslow--;
		on_frame(&rc, NULL, p->frame, p->len);
		free(p);
	}
	return n;
}

static void on_frame(void *arg, struct xsk_port *port, uint8_t *frame, uint32_t len)
{
	struct rx_ctx *rc = arg;
	struct pkt_addr a, out;
	struct dp_seg seg;
	struct flow_key k;
	struct agent_flow *f;
	bool keyless;
	uint64_t now;

	if (!rc->parked && !rc->slow) {
		rc->dp->cnt.rx_frames++;
		note_wake(rc->dp, port, frame);
	}
	/* TC ingress marks the peer's segments; the rest are the kernel's */
	rc->from_wire = len >= 6 && !memcmp(frame, from_wire_mac, 6);
	if (pkt_parse(frame, len, &a, &seg)) {
		if (rc->from_wire && !rc->parked && !rc->slow)
			on_too_big(rc, frame, len);
		return;
	}
	if (rc->from_wire) {
		pkt_key_rx(&a, &k);
		/* our segments go back the way the peer's came */
		out = a;
		memcpy(out.saddr, a.daddr, sizeof(out.saddr));
		memcpy(out.daddr, a.saddr, sizeof(out.daddr));
		out.sport = a.dport;
		out.dport = a.sport;
		memcpy(out.dst_mac, a.src_mac, 6);
	} else {
		pkt_key_tx(&a, &k);
		out = a;
	}
	f = flow_find(rc->dp, &k);
	/* a new connection on the 4-tuple of one that lingers (port reuse) */
	if (f && f->done_at) {
		enum sock_state ss = sock_state(rc->dp, f);

		if (ss == SOCK_REPLACED) {
			flow_retire(rc->dp, f, ss);
			f = NULL;
		}
	}
	if (!f)
		f = flow_create(rc->dp, rc->ifc, &k, &out, &keyless);
	if (!f && keyless) {
		answer_keyless(rc, &out, &seg);
		return;
	}
	if (!f) {
		if (!rc->parked)
			park(rc->dp, rc->ifc, rc->from_wire, frame, len, now_ns());
		return;
	}
	if (rc->slow && f->slow_n)
		f->slow_n--;
	else if (!rc->slow && !rc->parked &&
		 (f->slow_n || (rc->from_wire && seg.len && !f->had_id && !f->done_at)) &&
		 slow_push(rc, f, frame, len))
		return;
	if (!rc->from_wire) {
		/* the kernel knows the next hop: follow it */
		memcpy(f->out.dst_mac, a.dst_mac, 6);
		f->out.tos = a.tos;
	}
	now = now_ns();
	f->last_seen = now;
	f->trimmed = false;
	if (rc->from_wire)
		dp_from_wire(f->x, &seg, now);
	else
		dp_from_local(f->x, &seg, now);
	if (after_event(rc->dp, f, now) || f->pend_listed || !dp_flow_pending(f->x))
		return;
	if (rc->dp->npend == PEND_MAX) {
		dp_flow_flush(f->x, now);
		after_event(rc->dp, f, now);
		return;
	}
	f->pend_listed = true;
	rc->dp->pend[rc->dp->npend++] = f;
}

/*
 * The end of a receive batch: what the peer's segments of each flow carried
 * goes up to the kernel as one segment (defer_inject), so that it handles
 * and acknowledges up to 64 KB at a time
 * (docs/architecture.md#multi-buffer-injection).
 */
static void flush_pending(struct datapath *dp)
{
	uint64_t now = dp->npend ? now_ns() : 0;

	while (dp->npend) {
		struct agent_flow *f = dp->pend[--dp->npend];

		f->pend_listed = false;
		dp_flow_flush(f->x, now);
		after_event(dp, f, now);
	}
}

static void on_packet(void *arg, uint8_t *pkt, uint32_t len)
{
	struct rx_ctx *rc = arg;

	/* packet capture: the ring's own time stamp, moved to CLOCK_MONOTONIC */
	if (rc->ifc->ring.stamp_ns > rc->dp->batch_rt_off)
		note_wait(rc->dp, rc->ifc->ring.stamp_ns - rc->dp->batch_rt_off);
	on_frame(arg, NULL, pkt, len);
}

/* Replay parked segments whose flow has appeared; drop those that waited too long. */
static void unpark(struct datapath *dp, uint64_t now)
{
	struct parked *list[PARK_MAX];
	unsigned n = dp->nparked;

	memcpy(list, dp->park, n * sizeof(list[0]));
	dp->nparked = 0;
	for (unsigned i = 0; i < n; i++) {
		struct parked *p = list[i];
		struct rx_ctx rc = {
		    .dp = dp, .ifc = p->ifc, .from_wire = p->from_wire, .parked = true};
		struct pkt_addr a;
		struct dp_seg seg;
		struct flow_key k;

		if (!pkt_parse(p->frame, p->len, &a, &seg)) {
			if (p->from_wire)
				pkt_key_rx(&a, &k);
			else
				pkt_key_tx(&a, &k);
			on_frame(&rc, NULL, p->frame, p->len);
			if (!flow_find(dp, &k) && now - p->since < PARK_NS) {
				dp->park[dp->nparked++] = p;
				continue;
			}
			if (!flow_find(dp, &k))
				dp->cnt.unknown_drops++;
		}
		free(p);
	}
}

/* Packet capture: tell TC ingress on each capture veth that the agent runs. */
static void heartbeat(struct datapath *dp, uint64_t now)
{
	for (__u32 i = 0; i < (__u32)dp->nifaces; i++)
		if (dp->ifaces[i].ring.fd >= 0)
			bpf_map_update_elem(dp->capture_seen_fd, &i, &now, BPF_ANY);
	dp->beat_at = now;
}

/*
 * Every flow's timers and periodic work.  At most once a millisecond: under
 * traffic the loop comes here after every receive batch, and a walk over
 * thousands of flows (finished ones linger LINGER_NS) each time cost more
 * than the segments themselves.
 */
static void run_timers(struct datapath *dp, uint64_t now)
{
	bool trimmed = false;

	if (now - dp->timers_run < 1000000ull)
		return;
	dp->timers_run = now;
	if (now - dp->beat_at >= TCPCRYPT_CAPTURE_BEAT_NS)
		heartbeat(dp, now);
	if (dp->nparked)
		unpark(dp, now);
	if (now - dp->cnt_published > 200000000ull)
		counters_publish(dp, now);
	resume_tick(dp->rs, now);
	/* what is due, earliest first; each flow once per run at most */
	for (unsigned n = dp->heap_n; n && dp->heap_n && dp->heap[0]->wake_at <= now; n--) {
		struct agent_flow *f = dp->heap[0];

		if (!f->trimmed && now - f->last_seen >= TRIM_NS) {
			dp_flow_trim(f->x);
			f->trimmed = trimmed = true;
		}
		/*
		 * Due, or a look once a second (publishing, the end of the
		 * flow): finished flows publish nothing, and must not be looked
		 * at every millisecond (a third of the agent's time at 1000
		 * connections per second, with 3000 flows lingering).
		 */
		if (now >= f->deadline || now - f->periodic_at >= NS_PER_SEC) {
			/* once a second, a flow with a cached chain: has its socket asked for a
			 * flush? */
			if (now - f->periodic_at >= NS_PER_SEC && f->chain.chain && !f->flushed &&
			    !f->done_at)
				sock_state(dp, f);
			f->periodic_at = now;
			if (after_event(dp, f, now))
				continue;
		}
		heap_fix(dp, f);
	}
	/* what idle flows gave back goes back to the system, not only to malloc */
	/* it walks malloc's heap: at most once a second, and once after the last trim */
	dp->trim_pending |= trimmed;
	if (dp->trim_pending && now - dp->malloc_trimmed >= NS_PER_SEC) {
		malloc_trim(0);
		dp->malloc_trimmed = now;
		dp->trim_pending = false;
	}
}

static void agent_iface_publish(struct datapath *dp, int slot, const char *capt)
{
	struct iface *ifc = &dp->ifaces[slot];
	struct agent_iface ai = {.ifindex = if_nametoindex(ifc->name), .nqueues = ifc->nqueues};
	__u32 key = slot;

	snprintf(ai.name, sizeof(ai.name), "%s", ifc->name);
	snprintf(ai.capture, sizeof(ai.capture), "%s", capt);
	ai.zerocopy = ifc->wire[0].zerocopy;
	ai.capture_zerocopy = ifc->capture.zerocopy;
	ai.capture_sg = ifc->capture.sg | (ifc->inject_big ? 2 : 0) | (ifc->ring.fd >= 0 ? 4 : 0);
	bpf_map_update_elem(dp->agent_fd, &key, &ai, BPF_ANY);
}

/*
 * Entries of encrypted flows that closed while no agent ran (it removes them
 * when done with a flow): nothing is left to translate for them.  Keys are
 * gathered first, since deleting while walking a hash map restarts the walk.
 */
static void sweep_closed(struct datapath *dp)
{
	struct flow_key *keys = NULL, key, next, *cur = NULL;
	size_t n = 0, cap = 0;
	struct flow_info fi;

	while (!bpf_map_get_next_key(dp->flows_fd, cur, &next)) {
		key = next;
		cur = &key;
		if (bpf_map_lookup_elem(dp->flows_fd, &key, &fi) || !(fi.flags & FLOWF_CLOSED))
			continue;
		if (n == cap) {
			struct flow_key *k =
			    realloc(keys, (cap = cap ? 2 * cap : 256) * sizeof(*k));

			if (!k)
				break;
			keys = k;
		}
		keys[n++] = key;
	}
	for (size_t i = 0; i < n; i++)
		bpf_map_delete_elem(dp->flows_fd, &keys[i]);
	free(keys);
}

static int ifreq_ioctl(const char *name, unsigned long req, struct ifreq *ifr)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), err;

	if (fd < 0)
		return -1;
	snprintf(ifr->ifr_name, sizeof(ifr->ifr_name), "%s", name);
	err = ioctl(fd, req, ifr);
	close(fd);
	return err;
}

/*
 * With a multi-buffer capture socket, the peer's plaintext goes up in
 * segments of up to DP_INJECT_MSS once the kernel's end (kend) takes them:
 * veth drops a packet longer than the receiver's MTU, so it is raised (the
 * xdp.frags capture program allows it; docs/machine-facts.md#multi-buffer-injection).
 */
static int capture_units(struct datapath *dp, struct iface *ifc, const char *kend)
{
	struct ifreq ifr = {};

	if (ifc->capture.sg) {
		ifr.ifr_mtu = XSK_CHAIN_TX_MAX - 14;
		if (ifreq_ioctl(kend, SIOCSIFMTU, &ifr)) {
			fprintf(stderr,
				"tcpcryptd: %s: cannot raise the MTU to %d (%s): plaintext goes up "
				"in segments of the wire's size\n",
				kend, ifr.ifr_mtu, strerror(errno));
			return 0;
		}
		if (!dp->txbuf && !(dp->txbuf = malloc(XSK_CHAIN_TX_MAX)))
			return -1;
		ifc->inject_big = true;
	}
	return 0;
}

struct datapath *datapath_open(const struct agent_opts *o, struct bpf_state *st)
{
	struct datapath *dp = calloc(1, sizeof(*dp));
	struct dp_maps m;
	int xsks_fd, orphans;

	if (!dp)
		return NULL;
	dp->slow = calloc(SLOW_MAX, sizeof(*dp->slow)); /* none: every segment taken at once */
	for (int i = 0; i < TCPCRYPT_MAX_IFACES; i++) {
		dp->ifaces[i].ring.fd = -1;
		dp->ifaces[i].wire_tx = dp->ifaces[i].capt_tx = -1;
	}
	dp->gso.fd = -1;
	bpf_dp_maps(st, &m);
	dp->flows_fd = m.flows;
	dp->sessions_fd = m.sessions;
	xsks_fd = m.xsks;
	dp->dpstats_fd = m.dpstats;
	dp->agent_fd = m.agent;
	dp->capture_seen_fd = m.capture_seen;
	dp->negcache_fd = m.negcache;
	dp->pending_fd = m.pending;
	dp->negcache_ttl_s = o->cfg.negcache_ttl_s;
	dp->rs = resume_new(&(struct resume_cfg){.capacity = o->cache_size,
						 .ttl_s = o->cache_ttl_s,
						 .peers_fd = m.rs_peers,
						 .offers_fd = m.rs_offers,
						 .accepts_fd = m.rs_accepts,
						 .cache_fd = m.rs_cache,
						 .ctl_fd = m.rs_ctl});
	if (!dp->rs) {
		free(dp);
		return NULL;
	}
	/*
	 * Encrypted connections of an agent that died: their keys died with it,
	 * and their sockets would wait for ever.  Aborted now (the peer is
	 * reset at its next segment, see answer_keyless); their entries go with
	 * the sweep.
	 */
	dp->started_ns = now_ns();
	orphans = bpf_reset_sockets(o->pin_dir, &(struct bpf_reset){.before_ns = dp->started_ns});
	if (orphans > 0) {
		dp->cnt.orphans_reset = orphans;
		fprintf(
		    stderr,
		    "tcpcryptd: reset %d encrypted connection%s of a previous agent (their keys "
		    "died with it)\n",
		    orphans, orphans == 1 ? "" : "s");
	} else if (orphans < 0) {
		fprintf(
		    stderr,
		    "tcpcryptd: cannot abort the encrypted connections of a previous agent: %s\n",
		    strerror(-orphans));
	}
	sweep_closed(dp);
	dp->rekey_bytes = o->rekey_bytes;
	if (o->key_pool) {
		/* the TEP this host prefers is the likeliest to be negotiated */
		const uint8_t *top = o->cfg.teps.n ? &o->cfg.teps.tep[o->cfg.teps.n - 1] : NULL;

		dp->keys = keypool_new(o->key_pool, top, top ? 1 : 0);
		if (!dp->keys) {
			fprintf(stderr, "tcpcryptd: cannot start the key pool: %s\n",
				strerror(errno));
			goto fail;
		}
		keypool_set_reuse(dp->keys, o->key_reuse_ms);
	}
	if (o->test_cut_segments) {
		dp->cut_rng = (uint64_t)now_ns() | 1;
		fprintf(stderr, "tcpcryptd: test mode: cutting wire segments at random points\n");
	}
	if (o->keylog) {
		int fd = open(o->keylog, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);

		if (fd < 0 || fchmod(fd, 0600) || !(dp->keylog = fdopen(fd, "a"))) {
			fprintf(stderr, "tcpcryptd: cannot open key log %s: %s\n", o->keylog,
				strerror(errno));
			if (fd >= 0)
				close(fd);
			goto fail;
		}
		fprintf(stderr,
			"tcpcryptd: WARNING: writing session secrets to %s (--keylog); "
			"anyone who reads it can decrypt these connections\n",
			o->keylog);
	}
	for (int i = 0; i < o->nifaces; i++) {
		struct iface *ifc = &dp->ifaces[i];
		const char *capt = bpf_capture_ifname(st, i);
		const char *kend = bpf_capture_kernel_ifname(st, i);

		snprintf(ifc->name, sizeof(ifc->name), "%s", o->ifnames[i]);
		if (iface_mac(ifc->name, ifc->mac) || iface_mac(kend, ifc->kernel_mac)) {
			fprintf(stderr, "tcpcryptd: cannot read the MAC address of %s or %s\n",
				ifc->name, kend);
			goto fail;
		}
		if (o->capture_mode == CAPTURE_PACKET) {
			/*
			 * The kernel's GSO skbs and the peer's segments come in
			 * through the ring; everything goes out with AF_PACKET,
			 * in GSO packets where it can (docs/architecture.md#packet-capture).
			 */
			ifc->nqueues = 0;
			if (pkt_ring_open(&ifc->ring, capt) ||
			    (ifc->wire_tx = pkt_tx_open(ifc->name)) < 0 ||
			    (ifc->capt_tx = pkt_tx_open(capt)) < 0)
				goto fail;
			if (!dp->txbuf && !(dp->txbuf = malloc(DP_TXBUF)))
				goto fail;
			if (!dp->gso.buf && !(dp->gso.buf = malloc(DP_GSO_MAX)))
				goto fail;
			ifc->inject_big = o->multi_buffer;
			agent_iface_publish(dp, i, capt);
			dp->nifaces++;
			continue;
		}
		/*
		 * The wire socket only transmits: the peer's segments reach the
		 * agent through the capture veth (TC steers them there).
		 */
		ifc->nqueues = 1;
		if (xsk_port_open(&ifc->wire[0], ifc->name, 0, xsks_fd, xsk_key(i, IFACE_WIRE, 0),
				  XSK_RX_FRAMES_MIN, false))
			goto fail;
		if (xsk_port_open(&ifc->capture, capt, 0, xsks_fd, xsk_key(i, IFACE_CAPTURE, 0),
				  XSK_RX_FRAMES_BULK, o->multi_buffer))
			goto fail;
		if (capture_units(dp, ifc, kend))
			goto fail;
		agent_iface_publish(dp, i, capt);
		dp->nifaces++;
	}
	heartbeat(dp, now_ns());
	counters_publish(dp, now_ns()); /* this agent's, from its start */
	return dp;
fail:
	datapath_close(dp);
	return NULL;
}

/* Transmit what every TX ring holds; true if some could not go yet (device busy). */
static bool kick_all(struct datapath *dp)
{
	bool left = false;

	gso_flush(dp);
	for (int i = 0; i < dp->nifaces; i++) {
		for (unsigned q = 0; q < dp->ifaces[i].nqueues; q++)
			left |= xsk_port_kick(&dp->ifaces[i].wire[q]);
		if (dp->ifaces[i].capture.xsk) /* none with packet capture */
			left |= xsk_port_kick(&dp->ifaces[i].capture);
	}
	return left;
}

/* The sockets the agent waits on: each capture veth, and an extra fd (signals) if >= 0. */
struct loop {
	struct pollfd pfds[1 + TCPCRYPT_MAX_IFACES];
	struct rx_ctx ctxs[TCPCRYPT_MAX_IFACES];
	struct xsk_port *ports[TCPCRYPT_MAX_IFACES];
	int n;
	bool extra;
	bool tx_backlog; /* some TX ring could not be emptied */
};

static void loop_init(struct datapath *dp, struct loop *l, int extra_fd)
{
	memset(l, 0, sizeof(*l));
	for (int i = 0; i < dp->nifaces; i++) {
		struct iface *ifc = &dp->ifaces[i];

		l->ports[l->n] = &ifc->capture;
		l->ctxs[l->n] = (struct rx_ctx){.dp = dp, .ifc = ifc};
		l->pfds[l->n] = (struct pollfd){
		    .fd = ifc->ring.fd >= 0 ? ifc->ring.fd : xsk_port_fd(l->ports[l->n]),
		    .events = POLLIN};
		l->n++;
	}
	l->extra = extra_fd >= 0;
	l->pfds[l->n] = (struct pollfd){.fd = extra_fd, .events = POLLIN};
}

/*
 * Wait up to timeout ms for a packet, take every packet there is, run the
 * timers and transmit.  True if the extra fd is readable.
 */
static bool loop_once(struct datapath *dp, struct loop *l, int timeout)
{
	bool busy;

	if (l->tx_backlog && timeout > 1)
		timeout = 1;
	if (poll(l->pfds, l->n + l->extra, timeout) < 0 && errno != EINTR)
		return false;
	do {
		busy = false;
		dp->batch_t0 = now_ns();
		{
			struct timespec rt;

			clock_gettime(CLOCK_REALTIME, &rt);
			dp->batch_rt_off =
			    (uint64_t)rt.tv_sec * 1000000000ull + rt.tv_nsec - dp->batch_t0;
		}
		for (int i = 0; i < l->n; i++) {
			struct pkt_ring *r = &l->ctxs[i].ifc->ring;

			if (r->fd >= 0 ? pkt_ring_rx(r, on_packet, &l->ctxs[i], RX_BUDGET)
				       : xsk_port_rx(l->ports[i], on_frame, &l->ctxs[i], RX_BUDGET))
				busy = true;
		}
		/* the slow lane: a few between receive passes, all once the rings are empty */
		if (slow_run(dp, busy ? SLOW_BATCH : SLOW_MAX))
			busy = true;
		flush_pending(dp);
		gso_flush(dp);
		kick_all(dp);
		if (dp->batch_frames)
			note_work(dp, now_ns());
	} while (busy);
	run_timers(dp, now_ns());
	flush_pending(dp);
	gso_flush(dp);
	/* what the timers emitted (Init resends, parked segments) goes now */
	l->tx_backlog = kick_all(dp);
	return l->extra && (l->pfds[l->n].revents & POLLIN);
}

int datapath_run(struct datapath *dp, const sigset_t *sigs)
{
	int sfd = signalfd(-1, sigs, SFD_CLOEXEC);
	struct loop l;

	if (sfd < 0) {
		perror("tcpcryptd: signalfd");
		return SIGTERM;
	}
	loop_init(dp, &l, sfd);
	for (;;) {
		/*
		 * Timers need a look every few ms while flows exist; an agent
		 * that has none (plain traffic only) sleeps until a packet or a
		 * signal comes, and publishes its counters once a second.
		 */
		struct signalfd_siginfo si;

		/* idle: 50 ms, for the session cache's flush requests and refills */
		if (!loop_once(dp, &l, dp->nflows || dp->nparked ? 5 : 50))
			continue;
		if (read(sfd, &si, sizeof(si)) == sizeof(si) &&
		    (si.ssi_signo == SIGINT || si.ssi_signo == SIGTERM)) {
			close(sfd);
			return si.ssi_signo;
		}
	}
}

/* Does the socket of some aborted flow still stand? */
static bool aborted_sockets_open(struct datapath *dp)
{
	for (unsigned b = 0; b < FLOW_BUCKETS; b++)
		for (struct agent_flow *f = dp->buckets[b]; f; f = f->next)
			if (dp_flow_peek(f->x)->error == DP_E_STOPPED &&
			    sock_state(dp, f) == SOCK_OPEN)
				return true;
	return false;
}

/* How long a stop waits for the kernel to take the agent's RSTs and for handshakes to resolve. */
#define STOP_WAIT_NS	  (1000 * 1000000ull)
#define STOP_TAIL_NS	  (50 * 1000000ull)
#define STOP_HANDSHAKE_NS (1000 * 1000000ull)

/*
 * A passive open that answered ENO and may complete within a round trip: its
 * third ACK, if it arrives once the programs are gone, could enable
 * encryption at host A with no agent here (TC resets it while attached).
 * Handshakes older than STOP_HANDSHAKE_NS are taken for dead.
 */
static bool handshakes_young(struct datapath *dp, uint64_t now)
{
	struct flow_key key, next, *cur = NULL;
	struct flow_info fi;
	unsigned seen = 0;

	while (seen++ < 65536 && !bpf_map_get_next_key(dp->pending_fd, cur, &next)) {
		key = next;
		cur = &key;
		if (!bpf_map_lookup_elem(dp->pending_fd, &key, &fi) &&
		    fi.state == FLOW_NEGOTIATING && fi.start_ns + STOP_HANDSHAKE_NS > now)
			return true;
	}
	return false;
}

int datapath_stop(struct datapath *dp, const char *pin_dir)
{
	const struct bpf_reset all = {.before_ns = UINT64_MAX, .handshakes = true};
	struct bpf_reset count = all;
	uint64_t t0 = now_ns(), now;
	unsigned reset = 0;
	struct loop l;
	int killed, left;

	loop_init(dp, &l, -1);
	dp->stopping = true;
	count.dry_run = true;
	for (unsigned b = 0; b < FLOW_BUCKETS; b++) {
		struct agent_flow *f = dp->buckets[b], *next;

		for (; f; f = next) {
			next = f->next; /* after_event may retire f */
			if (dp_flow_abort(f->x, DP_E_STOPPED) == DP_E_STOPPED) {
				reset++;
				after_event(dp, f, t0);
			}
		}
	}
	kick_all(dp);
	/*
	 * The kernel takes the RSTs (one not at rcv_nxt draws a challenge ACK,
	 * which the aborted flow answers); handshakes under way resolve.
	 */
	do
		loop_once(dp, &l, 5);
	while ((now = now_ns()) - t0 < STOP_WAIT_NS &&
	       (aborted_sockets_open(dp) || handshakes_young(dp, now)));
	/*
	 * What is still open (flows whose first segment the agent never saw,
	 * handshakes that answered ENO), aborted in the kernel; its own RSTs
	 * reach the agent, answered by nothing, while it drains its rings.
	 */
	killed = bpf_reset_sockets(pin_dir, &all);
	do
		loop_once(dp, &l, 5);
	while (now_ns() - now < STOP_TAIL_NS);
	left = bpf_reset_sockets(pin_dir, &count);
	if (reset || killed > 0)
		fprintf(stderr,
			"tcpcryptd: reset %u encrypted connection%s (both ends), aborted %d more "
			"local socket%s\n",
			reset, reset == 1 ? "" : "s", killed > 0 ? killed : 0,
			killed == 1 ? "" : "s");
	if (killed < 0 || left) {
		fprintf(stderr,
			"tcpcryptd: %s; the programs stay attached and keep dropping their "
			"segments (fail closed); once they are closed, remove the programs with: "
			"tcpcryptd --detach-only --pin-dir %s (--force aborts them)\n",
			killed < 0 || left < 0 ? "cannot abort the remaining encrypted sockets"
					       : "some encrypted sockets survived the stop",
			pin_dir);
		return -1;
	}
	return 0;
}

void datapath_close(struct datapath *dp)
{
	if (!dp)
		return;
	for (unsigned b = 0; b < FLOW_BUCKETS; b++)
		while (dp->buckets[b])
			flow_destroy(dp, dp->buckets[b]);
	if (dp->dpstats_fd >= 0)
		counters_publish(dp, 0);
	for (int i = 0; i < TCPCRYPT_MAX_IFACES; i++) {
		for (unsigned q = 0; q < XSK_QUEUES_MAX; q++)
			if (dp->ifaces[i].wire[q].xsk)
				xsk_port_close(&dp->ifaces[i].wire[q]);
		if (dp->ifaces[i].capture.xsk)
			xsk_port_close(&dp->ifaces[i].capture);
		if (dp->ifaces[i].ring.fd >= 0)
			pkt_ring_close(&dp->ifaces[i].ring);
		if (dp->ifaces[i].wire_tx >= 0)
			close(dp->ifaces[i].wire_tx);
		if (dp->ifaces[i].capt_tx >= 0)
			close(dp->ifaces[i].capt_tx);
	}
	for (unsigned i = 0; i < dp->nparked; i++)
		free(dp->park[i]);
	while (dp->nslow) {
		free(dp->slow[dp->slow_head]);
		dp->slow_head = (dp->slow_head + 1) % SLOW_MAX;
		dp->nslow--;
	}
	free(dp->slow);
	if (dp->keylog)
		fclose(dp->keylog);
	keypool_free(dp->keys);
	resume_free(dp->rs);
	free(dp->heap);
	free(dp->txbuf);
	free(dp->gso.buf);
	free(dp);
}
