/* SPDX-License-Identifier: MIT */
/*
 * The stream translator of one tcpcrypt flow (docs/architecture.md#the-stream-translator).
 *
 * The local kernel's TCP socket speaks the PLAINTEXT sequence space; the wire
 * speaks the CIPHERTEXT sequence space, whose payload stream is this host's
 * Init message (fresh sessions) followed by AEAD frames, each 20 bytes longer
 * than its data (RFC 8548 §3.3, §3.6).  Both spaces start at the ISNs of the
 * SYN exchange, which is never touched.  The translator sits between the two:
 * every segment of the flow, in both directions, goes through it, and every
 * segment it wants sent comes out of the emit callback.  It owns the
 * ciphertext stream: it frames new data, keeps every wire byte until the peer
 * acknowledges it and resends the same bytes for the same sequence numbers,
 * reassembles and decrypts the peer's stream, and translates ACKs, windows and
 * FINs between the spaces.
 *
 * Pure and I/O-free: no clocks (time comes in as now_ns), no sockets, no
 * globals.  The caller parses headers into struct dp_seg, builds one packet per
 * emitted segment (addresses and ports of the flow in that direction,
 * checksums), and calls dp_timer() at the deadline it returns.
 */
#ifndef TCPCRYPT_DP_XLATE_H
#define TCPCRYPT_DP_XLATE_H

#include <stdbool.h>
#include <stdint.h>
#include "core/conn.h"

/* TCP header flags (RFC 9293 §3.1, RFC 3168 §6.1). */
#define DP_FIN 0x01
#define DP_SYN 0x02
#define DP_RST 0x04
#define DP_PSH 0x08
#define DP_ACK 0x10
#define DP_URG 0x20
#define DP_ECE 0x40
#define DP_CWR 0x80

#define DP_OPT_MAX 40 /* TCP option space */

/* Translator-level abort: the agent's Init message or rekey frame was never acknowledged. */
#define DP_E_TIMEOUT (-100)
/* ... the agent is stopping (dp_flow_abort) */
#define DP_E_STOPPED (-101)
/* ... host A: the peer acknowledged Init1 and sent nothing (RFC 8547 §9 "type 2" middlebox) */
#define DP_E_NO_INIT2 (-102)

/* Wrap-around comparison of 32-bit sequence numbers, as the kernel's before()/after(). */
static inline bool dp_seq_before(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}

static inline bool dp_seq_after(uint32_t a, uint32_t b)
{
	return dp_seq_before(b, a);
}

/* A TCP segment as the translator sees it (headers parsed by the caller). */
struct dp_seg {
	uint32_t seq, ack;
	uint32_t win;  /* window field as on the wire (unscaled 16-bit value) */
	uint8_t flags; /* DP_FIN ... DP_CWR */
	/*
	 * Urgent pointer field, meaningful with DP_URG: as Linux sends and reads
	 * it (BSD semantics, RFC 6093 §2), seq + urg_ptr is one past the urgent byte.
	 */
	uint16_t urg_ptr;
	uint8_t optlen; /* bytes of TCP options, at most DP_OPT_MAX; a multiple of 4 when emitted */
	uint8_t opts[DP_OPT_MAX]; /* the option area as in the header */
	const uint8_t *data;	  /* payload; valid only during the call */
	uint32_t len;
};

enum dp_dir {
	DP_TO_WIRE = 0,	 /* towards the peer, from the local host's addresses */
	DP_TO_LOCAL = 1, /* up the local stack, as if from the peer */
};

/*
 * Send one segment (same addresses and ports as the flow, in that direction).
 * The segment and its data are valid only during the call.
 */
typedef void (*dp_emit_fn)(void *ctx, enum dp_dir dir, const struct dp_seg *seg);

/*
 * What the flows to one peer have learnt of the round trip of the agents'
 * own units (Init messages, empty frames), the peer's agent included: an
 * RFC 6298 estimator shared by those flows, as Linux shares RTT estimates
 * per destination (tcp_metrics).  A new flow's first RTO is RFC 6298's
 * 1 s or this estimate's RTO if that is longer, and a first timer that runs
 * out before the estimate (grown since) says it should waits that long
 * instead of resending.  srtt 0: no sample.
 */
struct dp_rtt {
	uint64_t srtt, rttvar; /* ns */
	uint64_t at;	       /* when the last sample came */
};

struct dp_flow_params {
	struct tc_eno_result eno;     /* role, TEP byte, transcript, peer suboption (see conn.h) */
	struct tc_conn_config conn;   /* AEADs, cache, keylog ... */
	uint32_t local_isn, peer_isn; /* seq of the local kernel's SYN and of the peer's SYN */
	uint32_t wire_mss;	      /* largest payload per wire segment (path MSS); >= 64 */
	uint32_t local_mss;	      /* largest plaintext payload per segment injected locally */
	uint8_t local_wscale;	      /* window scale shift the local kernel sent in its SYN */
	uint8_t peer_wscale;	      /* ... and the peer in its SYN; 0 if none */
	/*
	 * Negotiated in the SYNs.  With sack_ok the peer's SACK blocks reach the
	 * kernel translated into plaintext, and the agent's out-of-order bytes
	 * are reported to the peer (RFC 2018); the kernel's own blocks, in the
	 * other space, never leave.
	 */
	bool sack_ok, timestamps;
	/*
	 * Hold the peer's new plaintext back until dp_flow_flush (or anything
	 * else goes to the kernel, or dp_timer), so that what several wire
	 * segments carried goes up as one segment of up to local_mss: the
	 * caller flushes after each receive batch.
	 */
	bool defer_inject;
	/* Bounds per flow; 0 picks DP_BUF_DFLT. */
	uint32_t max_reasm;	 /* the peer's out-of-order ciphertext held */
	uint32_t max_unacked;	 /* wire bytes sent and plaintext injected, each, awaiting ACK */
	struct dp_rtt *peer_rtt; /* shared with the other flows to the peer; NULL: none */
};

#define DP_BUF_DFLT (4u << 20)

enum dp_state {
	DP_ST_HANDSHAKE = 0, /* keys do not exist yet */
	DP_ST_ESTABLISHED,   /* keys exist, no FIN either way yet */
	DP_ST_CLOSING,	     /* a FIN went or came, not both acknowledged */
	DP_ST_CLOSED,	     /* both FINs acknowledged: done */
	DP_ST_RESET,	     /* reset by the kernel or the peer: done */
	DP_ST_ABORTED,	     /* tcpcrypt failure or timeout: RSTs sent both ways, done */
};

struct dp_flow_stats {
	enum dp_state state;
	int error;			   /* TC_OK, or the tc_err / DP_E_* that aborted */
	bool have_session_id;		   /* keys exist */
	uint8_t session_id[TC_SESSID_LEN]; /* RFC 8548 §3.4 */
	uint64_t plain_out;		   /* plaintext taken from the local kernel, framed */
	uint64_t wire_out;		   /* wire stream bytes sent (first transmissions) */
	uint64_t wire_in;		   /* wire stream bytes of the peer taken in order */
	uint64_t plain_in;		/* authenticated plaintext injected to the local kernel */
	uint64_t wire_resent;		/* wire bytes sent again from the store */
	uint64_t resend_held;		/* kernel resends not sent: the flight was young */
	uint64_t plain_resent;		/* plaintext injected again from the store */
	uint64_t reasm_dropped;		/* peer bytes dropped: beyond the buffer bound */
	uint64_t frames_out, frames_in; /* frames sealed, and the peer's authenticated (§4.2) */
	uint64_t urgent_out, urgent_in; /* ... of them with URGp, the urgent field (§3.7) */
	uint64_t local_gen, remote_gen; /* key generations (RFC 8548 §3.8) */
	uint16_t aead;			/* AEAD id once the keys exist, else 0 */
	bool peer_reset;		/* DP_ST_RESET came from the peer's RST */
	/*
	 * Path MTU: the largest payload of a wire segment now, and with the
	 * option bytes the kernel keeps out of its MSS (the TCP room above the
	 * 20-byte header); changes from an ICMP error (dp_flow_path_mtu) and
	 * from black-hole probes; stored segments resent smaller than at first.
	 */
	uint32_t wire_mss, wire_room;
	uint64_t pmtu_updates, mtu_probes, recut;
	uint32_t local_una; /* the kernel's oldest unacknowledged plaintext seq (dp_flow_stats) */
};

struct dp_flow;

/*
 * Create the translator of a flow that negotiated tcpcrypt.  Nothing is
 * emitted yet: call dp_timer(f, now) next (host A's Init1 goes out at the
 * first call that has seen a segment of the flow when timestamps are on,
 * since the agent's own segments must carry valid ones, RFC 7323 §3.2).
 * Returns NULL with *err = TC_CONN_DISABLE (resumption refused, RFC 8548 §3.5:
 * plain TCP) or a negative tc_err.
 */
struct dp_flow *dp_flow_new(const struct dp_flow_params *p, dp_emit_fn emit, void *ctx, int *err);

/* Wipe and free; NULL is fine.  Emits nothing. */
void dp_flow_free(struct dp_flow *f);

/*
 * A segment the local kernel sent (captured at egress); now_ns: monotonic
 * clock.  Returns 0, or a negative tc_err / DP_E_* when the flow is aborted
 * (sticky): RSTs have then been emitted both ways.
 */
int dp_from_local(struct dp_flow *f, const struct dp_seg *s, uint64_t now_ns);

/* A segment that arrived from the wire; as dp_from_local. */
int dp_from_wire(struct dp_flow *f, const struct dp_seg *s, uint64_t now_ns);

/*
 * Run what is due at now_ns (Init retransmission, pending output) and return
 * the next deadline in ns, or UINT64_MAX.  Call it also after every
 * dp_from_*(), whose work may move the deadline.
 */
uint64_t dp_timer(struct dp_flow *f, uint64_t now_ns);

/*
 * An ICMP "fragmentation needed" / ICMPv6 "packet too big" quoting our wire
 * segment at sequence number seq: the path takes room bytes of TCP options
 * and payload per segment (MTU less the IP and the 20-byte TCP header).  If
 * seq is in flight and that is smaller than now, segments shrink at once
 * (stored ones are re-cut when resent) and the segment at una goes again.
 * TC_OK if the size changed (the caller tells the local kernel: its MTU is
 * wire_room + IP header + 20 - TCPCRYPT_FRAME_OVERHEAD ... see datapath),
 * TC_E_STATE if not smaller, TC_E_INVAL if seq is not in flight (RFC 5927).
 */
int dp_flow_path_mtu(struct dp_flow *f, uint32_t seq, uint32_t room, uint64_t now_ns);

/*
 * Move to the next key set (RFC 8548 §3.8): an empty frame with the rekey bit
 * goes out now, and the peer must answer with one at once, which also makes
 * it the authenticated keep-alive of §3.9.  TC_E_STATE before the keys exist,
 * after our FIN, while a rekey is unanswered, or once the flow is reset;
 * else as dp_from_local.
 */
int dp_flow_rekey(struct dp_flow *f, uint64_t now_ns);

void dp_flow_stats(const struct dp_flow *f, struct dp_flow_stats *st);

/*
 * The same without a copy, for a caller's hot path: state, have_session_id,
 * session_id and the byte counts are current; local_gen, remote_gen, aead and
 * reasm_dropped are not (dp_flow_stats fills them in).
 */
const struct dp_flow_stats *dp_flow_peek(const struct dp_flow *f);

/*
 * The key-log secrets of the flow (see tc_conn_keylog): TC_E_STATE unless
 * conn.keylog was set and the keys exist.
 */
int dp_flow_keylog(const struct dp_flow *f, struct tc_keylog *kl);

/*
 * The connection's tc_conn_info (its resumption state, the cache chain it
 * used or produced); false once the connection is gone (reset, aborted).
 */
bool dp_flow_conn_info(const struct dp_flow *f, struct tc_conn_info *info);

/* tc_conn_flush_cache on the connection, if it is still there (RFC 8548 §3.5 flush). */
void dp_flow_flush_cache(struct dp_flow *f);

/*
 * Abort the flow now with err (e.g. DP_E_STOPPED): an RST to the peer at the
 * next wire sequence number and one to the kernel at its expected plaintext
 * one, keys and buffers dropped; later segments are answered as by a closed
 * endpoint.  Returns err; TC_E_STATE, emitting nothing, if the flow is done.
 */
int dp_flow_abort(struct dp_flow *f, int err);

/*
 * Give back the buffers that are drained (wiped where they held plaintext):
 * for a flow that has been idle a while, so that many idle flows cost little.
 * Emits nothing; the buffers come back on demand.
 */
void dp_flow_trim(struct dp_flow *f);

/* Both FINs acknowledged, or reset, or aborted: the caller may free the flow. */
bool dp_flow_done(const struct dp_flow *f);

/* With defer_inject: is plaintext held back?  dp_flow_flush injects it. */
bool dp_flow_pending(const struct dp_flow *f);
void dp_flow_flush(struct dp_flow *f, uint64_t now_ns);

/* Text for a dp_from_* result (DP_E_* and every tc_err). */
const char *dp_strerror(int err);

#endif
