// SPDX-License-Identifier: MIT
/*
 * nfq_netem: delay (and so reorder) or tamper with the packets of one NFQUEUE.
 * It stands in for `tc qdisc ... netem` on kernels without sch_netem, for the
 * test bed (tests/lib/testbed.sh: tb_netem, tb_tamper), which queues a
 * forwarding namespace's packets to it with `iptables -j NFQUEUE`.
 *
 *   nfq_netem --queue N --delay-ms D [--delay-pct P] [--seed S] [--max-seconds T]
 *   nfq_netem --queue N --tamper-after BYTES [--tamper-count K] [--tamper-port PORT]
 *             [--max-seconds T]
 *
 * Delay: each packet is, with probability P% (default 100), held for D ms and
 * then accepted; the others are accepted at once and overtake the held ones.
 * Verdicts name packets by id, so they may be issued in any order. The delay
 * is fixed, so release times grow with arrival and a FIFO is the timer queue.
 *
 * Tamper: TCP segments with payload (IPv4 and IPv6; with --tamper-port only
 * those from or to PORT) are placed in the stream by sequence number (from the
 * SYN, or the first payload seen), so retransmissions do not move the count;
 * the first segment reaching past stream byte BYTES gets that byte (or, if it
 * starts beyond, its middle one) inverted (XOR 0xff) and its TCP checksum
 * recomputed, K times in all (default 1), each logged to stderr.
 *
 * Runs at most T seconds (default 300). On SIGTERM or SIGINT, or at the end,
 * it accepts every packet it holds or that is waiting to be read, then exits.
 * Without --queue-bypass on the rule, the kernel drops queued packets while
 * no nfq_netem is bound: a dead impairment shows as loss, not as a clean path.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <sys/socket.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

#define HELD_MAX 16384 /* also the kernel queue length: held packets count there */
#define RCVBUF	 (16 << 20)

struct held {
	uint32_t id;
	uint64_t due_ns;
};

static struct {
	unsigned int queue;
	unsigned int delay_ms;
	bool tamper;
	double delay_pct;
	uint64_t tamper_after;
	unsigned int tamper_count;
	int tamper_port; /* -1: any */
	unsigned int max_seconds;
	uint64_t seed;
} opt = {.delay_pct = 100.0, .tamper_count = 1, .tamper_port = -1, .max_seconds = 300};

static struct {
	struct nfq_q_handle *qh;
	struct held ring[HELD_MAX];
	unsigned int head, count;
	bool passthrough; /* shutting down: accept everything at once */
	uint64_t rng;
	bool have_base; /* the stream's first sequence number is known: */
	uint32_t base;	/* from the SYN (ISN + 1) or the first payload seen */
	unsigned int tampered;
	/* statistics, printed at exit */
	uint64_t packets, delayed, overflow, lost_msgs, verdict_errors;
	unsigned int max_held;
} st;

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* xorshift64*: enough for choosing packets, and reproducible with --seed */
static double rand_pct(void)
{
	st.rng ^= st.rng >> 12;
	st.rng ^= st.rng << 25;
	st.rng ^= st.rng >> 27;
	return ((st.rng * 0x2545F4914F6CDD1DULL) >> 11) * 0x1p-53 * 100.0;
}

static void verdict(uint32_t id, uint32_t len, const unsigned char *buf)
{
	if (nfq_set_verdict(st.qh, id, NF_ACCEPT, len, buf) < 0)
		st.verdict_errors++;
}

static void release_due(uint64_t now)
{
	while (st.count && (st.passthrough || st.ring[st.head].due_ns <= now)) {
		verdict(st.ring[st.head].id, 0, NULL);
		st.head = (st.head + 1) % HELD_MAX;
		st.count--;
	}
}

static void hold(uint32_t id)
{
	if (st.count == HELD_MAX) {
		st.overflow++;
		verdict(id, 0, NULL);
		return;
	}
	st.ring[(st.head + st.count) % HELD_MAX] = (struct held){
	    .id = id,
	    .due_ns = now_ns() + opt.delay_ms * 1000000ULL,
	};
	st.count++;
	st.delayed++;
	if (st.count > st.max_held)
		st.max_held = st.count;
}

/* A TCP segment inside an IP packet, and its pseudo-header sum (RFC 9293 §3.1). */
struct seg {
	unsigned char *tcp;
	uint32_t tcp_len, payload_off, payload_len;
	uint32_t pseudo;
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];
};

static uint32_t sum16(uint32_t sum, const unsigned char *p, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

static bool find_tcp(unsigned char *pkt, uint32_t len, struct seg *s)
{
	uint32_t off, tot;
	uint8_t nh;

	if (len < 1)
		return false;
	if (pkt[0] >> 4 == 4) {
		off = (pkt[0] & 0xf) * 4;
		tot = pkt[2] << 8 | pkt[3];
		/* not a fragment: MF clear and offset zero */
		if (len < 20 || off < 20 || tot < off || tot > len || pkt[9] != IPPROTO_TCP ||
		    ((pkt[6] << 8 | pkt[7]) & 0x3fff))
			return false;
		s->pseudo = sum16(0, pkt + 12, 8) + IPPROTO_TCP + (tot - off);
		inet_ntop(AF_INET, pkt + 12, s->src, sizeof(s->src));
		inet_ntop(AF_INET, pkt + 16, s->dst, sizeof(s->dst));
	} else if (pkt[0] >> 4 == 6) {
		if (len < 40)
			return false;
		tot = 40 + (pkt[4] << 8 | pkt[5]);
		if (tot > len)
			return false;
		nh = pkt[6];
		off = 40;
		/* hop-by-hop, routing and destination options headers */
		while ((nh == 0 || nh == 43 || nh == 60) && off + 8 <= tot) {
			nh = pkt[off];
			off += (pkt[off + 1] + 1) * 8;
		}
		if (nh != IPPROTO_TCP || off > tot)
			return false;
		s->pseudo = sum16(0, pkt + 8, 32) + IPPROTO_TCP + (tot - off);
		inet_ntop(AF_INET6, pkt + 8, s->src, sizeof(s->src));
		inet_ntop(AF_INET6, pkt + 24, s->dst, sizeof(s->dst));
	} else {
		return false;
	}
	s->tcp = pkt + off;
	s->tcp_len = tot - off;
	if (s->tcp_len < 20)
		return false;
	s->payload_off = (s->tcp[12] >> 4) * 4;
	if (s->payload_off < 20 || s->payload_off > s->tcp_len)
		return false;
	s->payload_len = s->tcp_len - s->payload_off;
	return true;
}

static void tcp_checksum(struct seg *s)
{
	uint32_t sum;

	s->tcp[16] = s->tcp[17] = 0;
	sum = sum16(s->pseudo, s->tcp, s->tcp_len);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	sum = ~sum & 0xffff;
	s->tcp[16] = sum >> 8;
	s->tcp[17] = sum & 0xff;
}

/* True if the packet was altered (and must be accepted with its new bytes). */
static bool tamper(unsigned char *pkt, uint32_t len)
{
	unsigned int sport, dport, at;
	unsigned char old;
	struct seg s;
	uint32_t seq, off;

	if (st.tampered >= opt.tamper_count || !find_tcp(pkt, len, &s))
		return false;
	sport = s.tcp[0] << 8 | s.tcp[1];
	dport = s.tcp[2] << 8 | s.tcp[3];
	if (opt.tamper_port >= 0 && sport != (unsigned int)opt.tamper_port &&
	    dport != (unsigned int)opt.tamper_port)
		return false;
	seq = (uint32_t)s.tcp[4] << 24 | s.tcp[5] << 16 | s.tcp[6] << 8 | s.tcp[7];
	/*
	 * Stream offsets by sequence number, not by payload bytes counted:
	 * retransmissions carry old offsets and must not move the count.
	 */
	if (s.tcp[13] & 0x02) { /* SYN */
		st.base = seq + 1;
		st.have_base = true;
		return false;
	}
	if (!s.payload_len)
		return false;
	if (!st.have_base) {
		st.base = seq;
		st.have_base = true;
	}
	off = seq - st.base;
	if ((uint64_t)off + s.payload_len <= opt.tamper_after)
		return false;
	/* the middle of a segment past the mark, or the mark itself */
	at = off >= opt.tamper_after ? s.payload_len / 2 : (uint32_t)(opt.tamper_after - off);
	old = s.tcp[s.payload_off + at];
	s.tcp[s.payload_off + at] ^= 0xff;
	tcp_checksum(&s);
	st.tampered++;
	fprintf(stderr,
		"nfq_netem: tampered %s.%u > %s.%u seq=%" PRIu32 " offset=%u len=%u "
		"byte 0x%02x -> 0x%02x (stream byte %" PRIu64 ")\n",
		s.src, sport, s.dst, dport, seq, at, s.payload_len, old, old ^ 0xff,
		(uint64_t)off + at);
	return true;
}

static int on_packet(struct nfq_q_handle *qh, struct nfgenmsg *msg, struct nfq_data *nfa,
		     void *data)
{
	struct nfqnl_msg_packet_hdr *ph = nfq_get_msg_packet_hdr(nfa);
	unsigned char *pkt;
	uint32_t id;
	int len;

	(void)qh;
	(void)msg;
	(void)data;
	if (!ph)
		return 0;
	id = ntohl(ph->packet_id);
	st.packets++;
	len = nfq_get_payload(nfa, &pkt);
	if (!st.passthrough && opt.tamper && len > 0 && tamper(pkt, len)) {
		verdict(id, len, pkt);
		return 0;
	}
	if (!st.passthrough && opt.delay_ms && rand_pct() < opt.delay_pct) {
		hold(id);
		return 0;
	}
	verdict(id, 0, NULL);
	return 0;
}

/* Read and judge every message waiting on the netlink socket. */
static int drain(struct nfq_handle *h, int fd)
{
	static char buf[65536 + 4096] __attribute__((aligned));
	ssize_t n;

	for (;;) {
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n >= 0) {
			nfq_handle_packet(h, buf, n);
			continue;
		}
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		if (errno == EINTR)
			continue;
		if (errno == ENOBUFS) { /* packets whose message was lost stay queued */
			st.lost_msgs++;
			continue;
		}
		perror("nfq_netem: recv");
		return -1;
	}
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: nfq_netem --queue N [--delay-ms D [--delay-pct P] [--seed S]]\n"
		"                 [--tamper-after BYTES [--tamper-count K] [--tamper-port PORT]]\n"
		"                 [--max-seconds T]\n"
		"Delay P%% of the packets on NFQUEUE N by D ms (reordering them), or invert one\n"
		"TCP payload byte K times after BYTES of payload; exits after T s (300).\n");
}

static bool parse_uint(const char *s, unsigned long long max, unsigned long long *out)
{
	char *end;

	errno = 0;
	*out = strtoull(s, &end, 0);
	return !errno && end != s && !*end && *s != '-' && *out <= max;
}

static int parse_args(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"queue", required_argument, NULL, 'q'},
	    {"delay-ms", required_argument, NULL, 'd'},
	    {"delay-pct", required_argument, NULL, 'p'},
	    {"seed", required_argument, NULL, 's'},
	    {"tamper-after", required_argument, NULL, 'a'},
	    {"tamper-count", required_argument, NULL, 'c'},
	    {"tamper-port", required_argument, NULL, 'P'},
	    {"max-seconds", required_argument, NULL, 't'},
	    {"help", no_argument, NULL, 'h'},
	    {},
	};
	bool have_queue = false;
	unsigned long long v;
	char *end;
	int c, idx = 0;

	opt.seed = now_ns() ^ ((uint64_t)getpid() << 32);
	while ((c = getopt_long(argc, argv, "h", longopts, &idx)) != -1) {
		bool ok = true;

		switch (c) {
		case 'q':
			ok = parse_uint(optarg, 65535, &v);
			opt.queue = v;
			have_queue = true;
			break;
		case 'd':
			ok = parse_uint(optarg, 60000, &v) && v;
			opt.delay_ms = v;
			break;
		case 'p':
			errno = 0;
			opt.delay_pct = strtod(optarg, &end);
			ok = !errno && end != optarg && !*end && opt.delay_pct >= 0 &&
			     opt.delay_pct <= 100;
			break;
		case 's':
			ok = parse_uint(optarg, UINT64_MAX, &v);
			opt.seed = v;
			break;
		case 'a':
			ok = parse_uint(optarg, UINT64_MAX, &v);
			opt.tamper_after = v;
			opt.tamper = true;
			break;
		case 'c':
			ok = parse_uint(optarg, UINT32_MAX, &v);
			opt.tamper_count = v;
			break;
		case 'P':
			ok = parse_uint(optarg, 65535, &v);
			opt.tamper_port = v;
			break;
		case 't':
			ok = parse_uint(optarg, 86400, &v) && v;
			opt.max_seconds = v;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
		if (!ok) {
			fprintf(stderr, "nfq_netem: bad value '%s' for --%s\n", optarg,
				longopts[idx].name);
			usage(stderr);
			return -1;
		}
	}
	if (optind != argc || !have_queue) {
		fprintf(stderr, "nfq_netem: --queue N is required, and takes no other arguments\n");
		usage(stderr);
		return -1;
	}
	if (opt.tamper && opt.delay_ms) {
		fprintf(stderr, "nfq_netem: --delay-ms and --tamper-after exclude each other; "
				"run one nfq_netem per queue for each\n");
		return -1;
	}
	st.rng = opt.seed ? opt.seed : 1;
	return 0;
}

int main(int argc, char **argv)
{
	struct nfq_handle *h = NULL;
	struct sigaction sa = {.sa_handler = on_signal};
	sigset_t block, run;
	uint64_t end;
	int fd, rcvbuf = RCVBUF, rc = 1;
	char port[16] = "any port";

	if (parse_args(argc, argv))
		return 2;

	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &run);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	h = nfq_open();
	if (!h) {
		perror("nfq_netem: nfq_open (needs CAP_NET_ADMIN and nfnetlink_queue)");
		return 1;
	}
	st.qh = nfq_create_queue(h, opt.queue, on_packet, NULL);
	if (!st.qh) {
		fprintf(stderr, "nfq_netem: cannot bind queue %u: %s (is another program bound?)\n",
			opt.queue, strerror(errno));
		goto cleanup;
	}
	if (nfq_set_mode(st.qh, NFQNL_COPY_PACKET, 0xffff) < 0 ||
	    nfq_set_queue_maxlen(st.qh, HELD_MAX) < 0) {
		fprintf(stderr, "nfq_netem: configuring queue %u: %s\n", opt.queue,
			strerror(errno));
		goto cleanup;
	}
	fd = nfq_fd(h);
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));

	if (opt.tamper_port >= 0)
		snprintf(port, sizeof(port), "port %d", opt.tamper_port);
	if (opt.tamper)
		fprintf(stderr,
			"nfq_netem: queue %u ready (tamper %u segment(s) after %" PRIu64
			" payload bytes, %s)\n",
			opt.queue, opt.tamper_count, opt.tamper_after, port);
	else
		fprintf(stderr,
			"nfq_netem: queue %u ready (delay %u ms to %g%% of packets, seed %" PRIu64
			")\n",
			opt.queue, opt.delay_ms, opt.delay_pct, opt.seed);

	end = now_ns() + opt.max_seconds * 1000000000ULL;
	while (!stop) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		uint64_t now = now_ns(), wake = end;
		struct timespec ts;

		release_due(now);
		if (now >= end) {
			fprintf(stderr, "nfq_netem: --max-seconds %u reached, exiting\n",
				opt.max_seconds);
			break;
		}
		if (st.count && st.ring[st.head].due_ns < wake)
			wake = st.ring[st.head].due_ns;
		ts.tv_sec = (wake - now) / 1000000000ULL;
		ts.tv_nsec = (wake - now) % 1000000000ULL;
		if (ppoll(&pfd, 1, &ts, &run) < 0) {
			if (errno == EINTR)
				continue;
			perror("nfq_netem: ppoll");
			goto cleanup;
		}
		if ((pfd.revents & POLLIN) && drain(h, fd))
			goto cleanup;
	}
	rc = 0;

cleanup:
	/* Accept what we hold and what waits unread: destroying the queue would drop it. */
	st.passthrough = true;
	if (st.qh) {
		release_due(0);
		drain(h, nfq_fd(h));
		nfq_destroy_queue(st.qh);
	}
	nfq_close(h);
	fprintf(stderr,
		"nfq_netem: queue %u: %" PRIu64 " packets, %" PRIu64 " delayed (max %u held), %u "
		"tampered, %" PRIu64 " over capacity, %" PRIu64 " lost messages, %" PRIu64
		" verdict errors\n",
		opt.queue, st.packets, st.delayed, st.max_held, st.tampered, st.overflow,
		st.lost_msgs, st.verdict_errors);
	return rc;
}
