/* SPDX-License-Identifier: MIT */
/*
 * The stream translator (docs/architecture.md#the-stream-translator).  Offsets are 64-bit
 * positions in a stream counted from ISN + 1, so that sequence wrap-around is
 * handled once, where a 32-bit number comes in (seq_off) or goes out (emit).
 *
 *   out: the local kernel's plaintext -> tc_conn -> Init | frames on the wire;
 *        the wire bytes stay in out.store (unit map: where each Init/frame
 *        ends in both spaces) until the peer acknowledges them.
 *   in:  the peer's wire bytes -> in.wire (reassembly) -> whole units into
 *        tc_conn -> authenticated plaintext injected to the kernel and kept
 *        in in.store (same unit map) until the kernel acknowledges it.
 *
 * ACKs cross over at unit boundaries: the kernel hears of a wire ACK only up
 * to the end of the last whole frame it covers, and the peer hears of a kernel
 * ACK only as the end of the last frame whose plaintext it covers.  Units
 * without plaintext (Init messages, empty frames) are acknowledged as soon as
 * the plaintext before them is.
 */
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include "core/err.h"
#include "core/frame.h"
#include "core/init.h"
#include "dp/reasm.h"
#include "dp/sentq.h"
#include "dp/xlate.h"
#include "core/bytes.h"

#define NS_PER_MS 1000000ull
/*
 * The agent's own retransmission timer (Init messages, empty frames): RFC
 * 6298 with a 1 s start before the first sample (§2.1; the SYN exchange's
 * RTT does not include either agent, and under a burst of opens the Init
 * round trip waits behind every other handshake) and Linux's 200 ms floor.
 */
#define RTO_INIT_NS (1000 * NS_PER_MS)
#define RTO_MIN_NS  (200 * NS_PER_MS)
#define RTO_MAX_NS  (10000 * NS_PER_MS)
#define RTO_TRIES   10
/*
 * Host A: how long the peer may leave an acknowledged Init1 unanswered.  A
 * tcpcrypt peer sends Init2 as soon as Init1 is in; an Init1 that the stack
 * acknowledges but nothing answers went to a plain TCP application (ENO
 * stripped after the SYN, RFC 8547 §9), which must not wait for minutes.
 */
#define INIT2_WAIT_NS (3000 * NS_PER_MS) /* B's Init2 lost 3 times in a row still fits */
/*
 * Path MTU black holes (RFC 4821 §3): the kernel resending at una after this
 * long without progress, twice in a row, while full segments are in flight,
 * makes the agent try smaller wire segments: DP_MSS_PROBE, then
 * DP_MSS_FLOOR (an IPv4 path of 576 bytes carries it).
 */
#define STALL_NS     (200 * NS_PER_MS)
#define STALLS_PROBE 2
#define DP_MSS_PROBE 1024
#define DP_MSS_FLOOR 512
#define TS_ALLOWANCE 12 /* NOP, NOP, timestamps: what the kernel keeps out of its MSS */
#define INIT_HDR_LEN 8	/* magic | message_len (RFC 8548 §4.1) */

#define TCPOPT_EOL  0
#define TCPOPT_NOP  1
#define TCPOPT_SACK 5
#define TCPOPT_TS   8
#define TCPOLEN_TS  10
#define TCPOPT_ENO  69

/* The peer (or kernel) side's last ACK, to tell duplicate ACKs (RFC 5681 §2). */
struct ack_seen {
	bool valid;
	uint32_t ack, win;
};

/* The local kernel's plaintext stream, framed towards the wire. */
struct dp_out {
	struct reasm plain; /* kernel bytes not taken by tc_conn yet; base: bytes taken */
	struct sentq store; /* wire bytes sent, until the peer acknowledges them */
	uint64_t parsed;    /* wire offset up to which units are in the store's map */
	uint64_t una;	    /* the peer's cumulative ACK */
	uint32_t peer_win;  /* the peer's window field with it */
	bool fin_in;	    /* the kernel's FIN arrived, at plaintext offset fin_plain */
	bool fin_given;	    /* ... and was given to tc_conn */
	bool fin_out;	    /* the FINp frame went out: the wire FIN is at fin_wire */
	uint64_t fin_plain, fin_wire;
	uint64_t urg_up;  /* one past the kernel's last urgent byte (plaintext), 0: none */
	uint64_t own_end; /* end of the last unit the agent resends itself (Init, empty frames) */
	uint64_t rto_at, rto; /* its retransmission timer */
	unsigned tries;
	/* RTT of the wire path, agents included (RFC 6298 §2); 0: no sample yet */
	uint64_t srtt, rttvar;
	uint64_t rtt_seq, rtt_sent; /* one timed unit: its end offset and when it left */
	uint64_t rto_armed;	    /* when the retransmission timer was last set */
	bool rtt_timing;	    /* ... and no resend touched it since (Karn) */
	unsigned dupacks;	    /* duplicate ACKs at una in a row (see wire_recover) */
	/*
	 * After a fast retransmit: when to resend at una again if it has not
	 * moved (the resend may be lost too), and the backed-off interval.
	 */
	uint64_t rec_at, rec_rto;
	uint64_t answer_by; /* host A: the peer's first byte is due by then (INIT2_WAIT_NS) */
	uint64_t una_at;    /* when una last moved */
	/*
	 * When the oldest wire byte in flight was first sent, 0 if none is or
	 * the peer has shown a loss since (duplicate ACK, SACK block): see
	 * resend_held.
	 */
	uint64_t flight_at;
	unsigned stalls;    /* resends at una after STALL_NS without progress, in a row */
	uint32_t first_mss; /* wire_mss at the start: resends below it are re-cut */
	/*
	 * The kernel's keep-alive probe waits for the peer's reply to a rekey
	 * (ka_wait), which proves the peer alive (RFC 8548 §3.9); then the
	 * kernel gets its answer (ka_answer).
	 */
	bool ka_wait, ka_answer;
};

/* The peer's wire stream, decrypted towards the local kernel. */
struct dp_in {
	struct reasm wire;  /* the peer's bytes; base: bytes given to tc_conn */
	struct sentq store; /* plaintext injected, until the kernel acknowledges it */
	uint64_t kacked;    /* the kernel's cumulative ACK (plaintext, FIN included) */
	uint32_t kwin;	    /* the kernel's window field with it */
	bool fin_seen;	    /* the peer's TCP FIN is at fin_wire */
	bool fin_done;	    /* ... and tc_conn took it after the FINp frame (§3.7) */
	bool eof;	    /* tc_conn reported the FINp frame: FIN injected after the plaintext */
	uint64_t fin_wire;
	uint64_t urg_up;     /* one past the peer's last urgent byte (plaintext), 0: none */
	unsigned dups;	     /* out-of-order segments still to answer (see wire_data) */
	uint64_t ooo_recent; /* where the latest out-of-order segment began (RFC 2018 §4) */
	/*
	 * defer_inject: new plaintext from pend_lo on (and the FIN, pend_fin)
	 * not injected yet, to go up as one segment at dp_flow_flush; pend_trig:
	 * the latest wire segment it came from (options, ECN flags of all).
	 */
	bool pend, pend_fin, pend_has_trig;
	uint64_t pend_lo;
	struct dp_seg pend_trig;
};

/* Latest TSval each end sent (RFC 7323), for the agent's own segments. */
struct ts_seen {
	bool known;
	uint32_t val;
};

struct dp_flow {
	struct dp_flow_params p; /* eno pointers cleared: used only in dp_flow_new */
	dp_emit_fn emit;
	void *ctx;
	struct tc_conn *conn; /* NULL once reset or aborted */
	bool resumed;	      /* no Init messages: frames from offset 0 (§3.5) */
	bool role_a;	      /* this host is A (RFC 8547 §4.3) */
	bool eno_opt;	 /* RFC 8547 §4.6: host A marks its segments until a non-SYN one arrives */
	bool win_opened; /* the keys arrived: the kernel needs the window now */
	uint64_t now;
	struct dp_out out;
	struct dp_in in;
	struct ts_seen ts[2];	   /* [DP_TO_WIRE]: the kernel's, [DP_TO_LOCAL]: the peer's */
	struct ts_seen ts_sent[2]; /* the latest TSval sent in each direction */
	struct ack_seen seen[2];   /* the last ACK of the kernel [DP_TO_WIRE], of the peer */
	uint64_t acked[2];	   /* the latest ACK sent in each direction (offset) */
	unsigned long nemit[2];	   /* segments emitted per direction */
	struct dp_flow_stats st;
};

static uint64_t min64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static uint64_t max64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

/* The offset of seq in a stream starting at isn + 1: the candidate nearest ref (mod 2^32). */
static int64_t seq_off(uint32_t isn, uint64_t ref, uint32_t seq)
{
	return (int64_t)ref + (int32_t)(seq - (uint32_t)(isn + 1 + ref));
}

static bool dead(const struct dp_flow *f)
{
	return f->st.state == DP_ST_RESET || f->st.state == DP_ST_ABORTED;
}

/* ---- acknowledgement translation ---- */

/* What the peer is told we received: the end of the last unit whose plaintext the kernel acked. */
static uint64_t wire_ack(const struct dp_flow *f)
{
	const struct dp_in *in = &f->in;

	if (in->fin_done && in->kacked > sq_end(&in->store))
		return in->fin_wire + 1;
	return sq_floor(&in->store, SQ_PLAIN, in->kacked).off[SQ_WIRE];
}

/* What the kernel is told the peer received: the plaintext of the whole frames it acked. */
static uint64_t plain_ack(const struct dp_flow *f)
{
	const struct dp_out *o = &f->out;

	if (o->fin_out && o->una > o->fin_wire)
		return o->fin_plain + 1;
	return sq_floor(&o->store, SQ_WIRE, o->una).off[SQ_PLAIN];
}

/*
 * The peer's window in plaintext bytes from plain_ack(): its right edge in
 * wire bytes, less one frame overhead per full-sized wire segment, so that
 * the kernel's data still fits once framed.  Zero until the keys exist: data
 * the kernel sent then would wait in the agent for the key exchange, however
 * long that takes under load, while the kernel's RTO (timed from the SYN
 * exchange, which passes no agent) runs out.  TC ingress closes the window
 * of the SYN-ACK (A) or third ACK (B) that makes a flow encrypted, so the
 * kernel holds its data until this window opens (docs/architecture.md#the-window-before-the-keys).
 */
static uint32_t local_win(const struct dp_flow *f)
{
	const struct dp_out *o = &f->out;

	if (!f->st.have_session_id)
		return 0;
	uint64_t edge = o->una + ((uint64_t)o->peer_win << f->p.peer_wscale);
	uint64_t avail = edge - sq_floor(&o->store, SQ_WIRE, o->una).off[SQ_WIRE];
	uint64_t cost = (avail + f->p.wire_mss - 1) / f->p.wire_mss * TC_FRAME_OVERHEAD;
	uint64_t win = avail > cost ? (avail - cost) >> f->p.peer_wscale : 0;

	return min64(win, 0xffff);
}

/*
 * Was this a duplicate ACK or a window update (RFC 5681 §2), which must reach
 * the other end even when it acknowledges nothing new there?  Remembers it.
 */
static bool ack_note(struct ack_seen *a, const struct dp_seg *s)
{
	bool pure = !s->len && !(s->flags & (DP_FIN | DP_SYN));
	bool fwd = pure && (!a->valid || s->ack == a->ack || s->win != a->win);

	*a = (struct ack_seen){true, s->ack, s->win};
	return fwd;
}

/* ---- options ---- */

/* Length of the option at o[i] (1 for NOP), 0 at the end of the list or a malformed one. */
static size_t opt_len(const uint8_t *o, size_t len, size_t i)
{
	if (i >= len || o[i] == TCPOPT_EOL)
		return 0;
	if (o[i] == TCPOPT_NOP)
		return 1;
	if (i + 1 >= len || o[i + 1] < 2 || i + o[i + 1] > len)
		return 0;
	return o[i + 1];
}

static size_t optlen(const struct dp_seg *s)
{
	return s->optlen < DP_OPT_MAX ? s->optlen : DP_OPT_MAX;
}

/* Remember the TSval/TSecr of a segment from the kernel (to = DP_TO_WIRE) or the peer. */
static void ts_note(struct dp_flow *f, enum dp_dir to, const struct dp_seg *s)
{
	size_t i, k;

	for (i = 0; (k = opt_len(s->opts, optlen(s), i)); i += k) {
		const uint32_t v[2] = {get_be32(s->opts + i + 2), get_be32(s->opts + i + 6)};

		if (s->opts[i] != TCPOPT_TS || k != TCPOLEN_TS)
			continue;
		/* TSval is the sender's clock, TSecr echoes the other end's. */
		for (int who = 0; who < 2; who++) {
			struct ts_seen *t = &f->ts[who];
			uint32_t val = v[who != (int)to];

			if (!t->known || dp_seq_after(val, t->val))
				*t = (struct ts_seen){true, val};
		}
	}
}

/*
 * A TSval going out towards dir never goes back: a reordered wire segment
 * passes its plaintext on with the latest TSval instead of its own, which
 * PAWS would drop (RFC 7323 §5.3).  Only the echo matters for RTT samples.
 */
static uint32_t ts_out(struct dp_flow *f, enum dp_dir dir, uint32_t val)
{
	struct ts_seen *t = &f->ts_sent[dir];

	if (!t->known || dp_seq_after(val, t->val))
		*t = (struct ts_seen){true, val};
	return t->val;
}

static bool ts_ready(const struct dp_flow *f)
{
	return !f->p.timestamps || (f->ts[0].known && f->ts[1].known);
}

/*
 * Timestamps are in use and both ends' are known: negotiated in the SYNs,
 * or seen from both ends after them, which they send only if negotiated
 * (RFC 7323 §3.2), should the SYNs' record miss them.
 */
static bool ts_on(const struct dp_flow *f)
{
	return f->ts[0].known && f->ts[1].known;
}

/* A SACK block for stream offsets [lo, hi) at o + n, after the option's kind and length. */
static size_t sack_block(uint8_t *o, size_t n, uint32_t isn, uint64_t lo, uint64_t hi)
{
	put_be32(o + n, isn + 1 + (uint32_t)lo);
	put_be32(o + n + 4, isn + 1 + (uint32_t)hi);
	return n + 8;
}

/* The option's kind and length once its n - 2 bytes of blocks are written; 0 if none. */
static size_t sack_close(uint8_t *o, size_t n)
{
	if (n == 2)
		return 0;
	o[0] = TCPOPT_SACK;
	o[1] = n;
	return n;
}

/* The segment carries a SACK option (RFC 2018), D-SACK included. */
static bool has_sack(const struct dp_seg *s)
{
	size_t k;

	for (size_t i = 0; (k = opt_len(s->opts, optlen(s), i)); i += k)
		if (s->opts[i] == TCPOPT_SACK)
			return true;
	return false;
}

/*
 * The peer's SACK blocks (RFC 2018), which name our wire stream, for the
 * kernel: each block becomes the plaintext of the whole units inside it, in
 * the same order; blocks at or below the cumulative ACK (D-SACK, RFC 2883)
 * and blocks without a whole frame are left out.  Writes the option at o
 * within room bytes; returns its length, 0 if no block is left.
 */
static size_t sack_to_local(const struct dp_flow *f, const uint8_t *opt, size_t k, uint8_t *o,
			    size_t room)
{
	const struct dp_out *out = &f->out;
	uint64_t end = sq_end(&out->store), pa = plain_ack(f);
	size_t n = 2;

	for (size_t i = 2; i + 8 <= k && n + 8 <= room; i += 8) {
		int64_t l = seq_off(f->p.local_isn, out->una, get_be32(opt + i));
		int64_t r = seq_off(f->p.local_isn, out->una, get_be32(opt + i + 4));
		uint64_t lo = l > (int64_t)out->una ? (uint64_t)l : out->una;
		struct sq_pos a, b;

		if (r <= (int64_t)out->una || l >= r ||
		    !sq_inner(&out->store, SQ_WIRE, lo, min64(r, end), &a, &b) ||
		    a.off[SQ_PLAIN] <= pa || a.off[SQ_PLAIN] >= b.off[SQ_PLAIN])
			continue;
		n = sack_block(o, n, f->p.local_isn, a.off[SQ_PLAIN], b.off[SQ_PLAIN]);
	}
	return sack_close(o, n);
}

/*
 * SACK blocks for the peer (RFC 2018): the out-of-order wire bytes the agent
 * holds, the block with the latest arrival first (§4), then the others from
 * the lowest.  The kernel's own blocks name injected plaintext, and injected
 * plaintext is always in order; so the agent's reassembly is what the peer
 * needs to hear of.  Returns the option's length within room, 0 if none.
 */
static size_t sack_to_wire(const struct dp_flow *f, uint8_t *o, size_t room)
{
	const struct reasm *w = &f->in.wire;
	size_t n = 2, i, first = w->nranges;

	if (!f->p.sack_ok)
		return 0;
	for (i = 0; i < w->nranges; i++)
		if (w->ranges[i].lo <= f->in.ooo_recent && f->in.ooo_recent < w->ranges[i].hi)
			first = i;
	for (i = 0; i <= w->nranges && n + 8 <= room; i++) {
		size_t j = i ? i - 1 : first;

		if (j >= w->nranges || (i && j == first) || w->ranges[j].lo <= w->base)
			continue;
		n = sack_block(o, n, f->p.peer_isn, w->ranges[j].lo, w->ranges[j].hi);
	}
	return sack_close(o, n);
}

/*
 * Options of a segment towards dir: those of the segment that caused it
 * (trig, going the same way), with SACK blocks of the other space translated
 * (towards the kernel) or replaced by the agent's (towards the peer); a timestamp from both ends'
 * latest when trig has none (the agent's own segments, or the peer agent's made from them): RFC
 * 7323 §3.2, once negotiated, on every segment.  A segment without one would leave the receiver's
 * TS.Recent behind, and the echo of that old TSval gives the sender an RTT sample of seconds after
 * a loss, and an RTO to match.  Then the non-SYN ENO option while RFC 8547 §4.6 requires it.
 */
static void build_opts(struct dp_flow *f, enum dp_dir dir, const struct dp_seg *trig,
		       struct dp_seg *s)
{
	uint8_t *o = s->opts;
	const uint8_t *sack = NULL;
	size_t n = 0, i, k, sack_len = 0, room;
	bool eno = false, ts = false, strip = false;

	/*
	 * The kernel writes ENO until it sees a non-SYN segment (RFC 8547
	 * §4.6); once the peer's came, the wire needs it no more, and with its
	 * padding it would take 4 bytes of the path's room: dropped, NOPs too
	 * (the area is padded again below).
	 */
	for (i = 0;
	     trig && dir == DP_TO_WIRE && !f->eno_opt && (k = opt_len(trig->opts, optlen(trig), i));
	     i += k)
		strip |= trig->opts[i] == TCPOPT_ENO;
	if (trig) {
		for (i = 0; (k = opt_len(trig->opts, optlen(trig), i)); i += k) {
			if (strip && (trig->opts[i] == TCPOPT_ENO || trig->opts[i] == TCPOPT_NOP))
				continue;
			if (trig->opts[i] == TCPOPT_SACK) {
				sack = trig->opts + i;
				sack_len = k;
				continue;
			}
			eno |= trig->opts[i] == TCPOPT_ENO;
			memcpy(o + n, trig->opts + i, k);
			if (trig->opts[i] == TCPOPT_TS && k == TCPOLEN_TS) {
				put_be32(o + n + 2, ts_out(f, dir, get_be32(o + n + 2)));
				ts = true;
			}
			n += k;
		}
	}
	if (!ts && ts_on(f) && n + 2 + TCPOLEN_TS <= DP_OPT_MAX) {
		o[n++] = TCPOPT_NOP;
		o[n++] = TCPOPT_NOP;
		o[n++] = TCPOPT_TS;
		o[n++] = TCPOLEN_TS;
		/* Towards the wire we speak for the kernel, towards it for the peer. */
		put_be32(o + n, ts_out(f, dir, f->ts[dir].val));
		put_be32(o + n + 4, f->ts[!dir].val);
		n += 8;
	}
	/* What is left once the ENO option has its place. */
	room = DP_OPT_MAX - (dir == DP_TO_WIRE && f->eno_opt && !eno ? 2 : 0) - n;
	if (dir == DP_TO_WIRE)
		n += sack_to_wire(f, o + n, room);
	else if (sack)
		n += sack_to_local(f, sack, sack_len, o + n, room);
	if (dir == DP_TO_WIRE && f->eno_opt && !eno && n + 2 <= DP_OPT_MAX) {
		o[n++] = TCPOPT_ENO;
		o[n++] = 2;
	}
	while (n % 4)
		o[n++] = TCPOPT_NOP;
	s->optlen = n;
}

/* ---- emission ---- */

/* Where the next new byte goes in dir, after a FIN if one was sent. */
static uint64_t snd_nxt(const struct dp_flow *f, enum dp_dir dir)
{
	if (dir == DP_TO_WIRE)
		return sq_end(&f->out.store) + f->out.fin_out;
	return sq_end(&f->in.store) + f->in.eof;
}

static void flush_in(struct dp_flow *f);

static void emit_rst(struct dp_flow *f, enum dp_dir dir, uint32_t seq)
{
	struct dp_seg s = {.seq = seq, .flags = DP_RST};

	if (dir == DP_TO_LOCAL)
		flush_in(f);
	f->nemit[dir]++;
	f->emit(f->ctx, dir, &s);
}

static void inject(struct dp_flow *f, uint64_t lo, uint64_t hi, bool fin,
		   const struct dp_seg *trig);

/* Plaintext held back by defer_inject goes up now, before anything else to the kernel. */
static void flush_in(struct dp_flow *f)
{
	struct dp_in *in = &f->in;

	if (!in->pend)
		return;
	in->pend = false;
	if (dead(f))
		return;
	inject(f, in->pend_lo, sq_end(&in->store), in->pend_fin,
	       in->pend_has_trig ? &in->pend_trig : NULL);
}

/* One segment at stream offset off towards dir, with the current ACK and window. */
static void emit(struct dp_flow *f, enum dp_dir dir, uint64_t off, const uint8_t *data,
		 uint32_t len, uint8_t flags, const struct dp_seg *trig)
{
	bool wire = dir == DP_TO_WIRE;
	uint64_t ack;
	struct dp_seg s;

	if (!wire)
		flush_in(f);
	ack = wire ? wire_ack(f) : plain_ack(f);
	s = (struct dp_seg){
	    .seq = (wire ? f->p.local_isn : f->p.peer_isn) + 1 + (uint32_t)off,
	    .ack = (wire ? f->p.peer_isn : f->p.local_isn) + 1 + (uint32_t)ack,
	    .win = wire ? f->in.kwin : local_win(f),
	    .flags = flags | DP_ACK,
	    .data = len ? data : NULL,
	    .len = len,
	};

	/* ECN feedback (RFC 3168 §6.1) rides on what the segment came from. */
	if (trig)
		s.flags |= trig->flags & (DP_ECE | DP_CWR);
	/*
	 * The peer's urgent data (RFC 8548 §3.7) reaches the kernel as TCP's
	 * would: URG on every segment at or before the urgent byte, the pointer
	 * one past it (RFC 6093 §2), retransmissions included.  Towards the wire
	 * urgency travels only inside the frames.
	 */
	if (!wire && f->in.urg_up > off && f->in.urg_up - off <= 0xffff) {
		s.flags |= DP_URG;
		s.urg_ptr = (uint16_t)(f->in.urg_up - off);
	}
	build_opts(f, dir, trig, &s);
	f->acked[dir] = ack;
	f->nemit[dir]++;
	f->emit(f->ctx, dir, &s);
}

/* A pure ACK towards dir if it tells something new, or if force. */
static void sync_ack(struct dp_flow *f, enum dp_dir dir, bool force, const struct dp_seg *trig)
{
	uint64_t ack = dir == DP_TO_WIRE ? wire_ack(f) : plain_ack(f);

	if (force || ack > f->acked[dir])
		emit(f, dir, snd_nxt(f, dir), NULL, 0, 0, trig);
}

/*
 * The payload a wire segment may carry now: wire_mss, less the 4 bytes of
 * the non-SYN ENO option and its padding while host A still marks its
 * segments (RFC 8547 §4.6): a resumed flow's first frames go out before the
 * peer's first non-SYN segment, and must fit the path with the option.
 */
static uint32_t seg_cap(const struct dp_flow *f)
{
	return f->p.wire_mss - (f->eno_opt ? 4 : 0);
}

/*
 * Stored wire bytes [lo, hi) in segments of at most wire_mss; PSH on the last,
 * and the FIN on the one that ends where the FIN goes (RFC 8548 §3.7).  With
 * lo == hi == the FIN's place: the FIN alone.
 */
static void wire_range(struct dp_flow *f, uint64_t lo, uint64_t hi, const struct dp_seg *trig)
{
	const struct dp_out *o = &f->out;

	do {
		uint32_t n = min64(hi - lo, seg_cap(f));
		uint8_t flags = lo + n == hi ? DP_PSH : 0;

		if (o->fin_out && lo + n == o->fin_wire)
			flags |= DP_FIN;
		emit(f, DP_TO_WIRE, lo, n ? sq_bytes(&o->store, lo) : NULL, n, flags, trig);
		lo += n;
	} while (lo < hi);
}

/*
 * Segments of at most mss from now on, if that is smaller (RFC 1191, RFC
 * 8201, RFC 4821): frames to come are sealed to fit, and stored ones are
 * re-cut when resent, the same bytes at the same sequence numbers.
 */
static int set_wire_mss(struct dp_flow *f, uint32_t mss, bool probe)
{
	mss = max64(mss, DP_MSS_FLOOR);
	if (mss >= f->p.wire_mss)
		return TC_E_STATE;
	f->p.wire_mss = mss;
	f->st.wire_mss = mss;
	f->st.wire_room = mss + (f->p.timestamps ? TS_ALLOWANCE : 0);
	if (probe)
		f->st.mtu_probes++;
	else
		f->st.pmtu_updates++;
	return TC_OK;
}

/* The kernel resends at una: a black hole if it keeps doing so with big segments (STALL_NS). */
static void stall_check(struct dp_flow *f)
{
	struct dp_out *o = &f->out;

	if (f->now - o->una_at < STALL_NS)
		return;
	o->una_at = f->now;
	if (++o->stalls < STALLS_PROBE || f->p.wire_mss <= DP_MSS_FLOOR)
		return;
	o->stalls = 0;
	set_wire_mss(f, f->p.wire_mss > DP_MSS_PROBE ? DP_MSS_PROBE : DP_MSS_FLOOR, true);
}

/* Stored wire bytes [lo, hi) again, counted (re-cut: in smaller segments than at first). */
static void resend(struct dp_flow *f, uint64_t lo, uint64_t hi, const struct dp_seg *trig)
{
	f->st.wire_resent += hi - lo;
	if (lo < f->out.rtt_seq)
		f->out.rtt_timing = false; /* Karn: an ACK of it no longer times one send */
	if (f->p.wire_mss < f->out.first_mss)
		f->st.recut += (hi - lo + f->p.wire_mss - 1) / f->p.wire_mss;
	wire_range(f, lo, hi, trig);
}

/* Stored plaintext [lo, hi) to the kernel in segments of at most local_mss, then the FIN if fin. */
static void inject(struct dp_flow *f, uint64_t lo, uint64_t hi, bool fin, const struct dp_seg *trig)
{
	const struct dp_in *in = &f->in;

	do {
		uint32_t n = min64(hi - lo, f->p.local_mss);
		bool last = lo + n == hi;

		emit(f, DP_TO_LOCAL, lo, n ? sq_bytes(&in->store, lo) : NULL, n,
		     last ? DP_PSH | (fin ? DP_FIN : 0) : 0, trig);
		lo += n;
	} while (lo < hi);
}

/* ---- abort and reset ---- */

/* Drop the keys and every byte held; the flow answers with RSTs from now on. */
static void release(struct dp_flow *f, enum dp_state state)
{
	f->st.state = state;
	f->st.reasm_dropped += f->in.wire.dropped;
	tc_conn_free(f->conn);
	f->conn = NULL;
	reasm_free(&f->out.plain);
	reasm_free(&f->in.wire);
	sq_free(&f->out.store);
	sq_free(&f->in.store);
}

/*
 * RFC 8548 §3.3, §3.6, §3.7: abort, with an error distinct from EOF.  RST to
 * the peer at our next wire sequence number, and to the kernel at its
 * expected plaintext one, so the application gets ECONNRESET.
 */
static int flow_abort(struct dp_flow *f, int err)
{
	emit_rst(f, DP_TO_WIRE, f->p.local_isn + 1 + (uint32_t)snd_nxt(f, DP_TO_WIRE));
	emit_rst(f, DP_TO_LOCAL, f->p.peer_isn + 1 + (uint32_t)snd_nxt(f, DP_TO_LOCAL));
	f->st.error = err;
	release(f, DP_ST_ABORTED);
	return err;
}

/*
 * A reset or aborted flow behaves as a closed TCP endpoint (RFC 9293
 * §3.10.7.1): it answers a segment with an RST at the sequence number that
 * segment acknowledges, which also satisfies an RFC 5961 challenge ACK.
 */
static int answer_dead(struct dp_flow *f, enum dp_dir back, const struct dp_seg *s)
{
	if ((s->flags & DP_ACK) && !(s->flags & DP_RST))
		emit_rst(f, back, s->ack);
	return f->st.error;
}

/* ---- the stream towards the wire ---- */

/* RFC 8548 §4.1, §4.2: length of the unit at p (Init: message_len, frame: 3 + clen), 0 if unknown.
 */
static size_t unit_len(const uint8_t *p, size_t avail, bool init)
{
	if (init)
		return avail < INIT_HDR_LEN ? 0 : get_be32(p + 4);
	return avail < TC_FRAME_HDR_LEN ? 0 : TC_FRAME_HDR_LEN + ((size_t)p[1] << 8 | p[2]);
}

/*
 * Map the units tc_conn output.  A frame holds clen - 17 bytes of plaintext
 * (flags byte and tag, §4.2), 2 fewer if it has the urgent field: the frame
 * tc_conn_urgent_frame_end names (at most one per output call).
 */
static int map_output(struct dp_flow *f)
{
	struct dp_out *o = &f->out;
	size_t len;

	while ((len = unit_len(sq_bytes(&o->store, o->parsed), sq_end(&o->store) - o->parsed,
			       !f->resumed && !o->parsed)) &&
	       o->parsed + len <= sq_end(&o->store)) {
		bool init = !f->resumed && !o->parsed;
		bool urg = !init && o->parsed + len == tc_conn_urgent_frame_end(f->conn);
		size_t data = init ? 0 : len - TC_FRAME_OVERHEAD - (urg ? 2 : 0);
		struct sq_pos end = {{o->parsed + len, sq_last(&o->store).off[SQ_PLAIN] + data}};
		int err = sq_mark(&o->store, end);

		if (err)
			return err;
		o->parsed += len;
		if (!data)
			o->own_end = o->parsed;
		f->st.plain_out += data;
		f->st.frames_out += !init;
		f->st.urgent_out += urg;
	}
	return TC_OK;
}

static void take_events(struct dp_flow *f)
{
	unsigned ev = tc_conn_events(f->conn);

	if (ev & TC_CONN_EV_KEYS) {
		tc_conn_session_id(f->conn, f->st.session_id);
		f->st.have_session_id = true;
		f->win_opened = true;
	}
	if (ev & TC_CONN_EV_EOF)
		f->in.eof = true;
	if (ev & TC_CONN_EV_URGENT) {
		uint64_t at;

		tc_conn_urgent(f->conn, &at);
		f->in.urg_up = at + 1;
		f->st.urgent_in++;
	}
	if ((ev & TC_CONN_EV_PEER_REKEY) && f->out.ka_wait) {
		f->out.ka_wait = false;
		f->out.ka_answer = true;
	}
	if (ev & TC_CONN_EV_FIN_SENT) {
		/* The FINp frame is the last unit tc_conn ever outputs (§3.7). */
		f->out.fin_out = true;
		f->out.fin_wire = sq_end(&f->out.store);
	}
}

/* RFC 6298 §2.2-§2.3: a new RTT sample r into the estimator srtt/rttvar. */
static void rtt_update(uint64_t *srtt, uint64_t *rttvar, uint64_t r)
{
	if (!*srtt) {
		*srtt = r ? r : 1;
		*rttvar = r / 2;
	} else {
		uint64_t d = *srtt > r ? *srtt - r : r - *srtt;

		*rttvar = (3 * *rttvar + d) / 4;
		*srtt = (7 * *srtt + r) / 8;
	}
}

static void rtt_sample(struct dp_flow *f, uint64_t r)
{
	rtt_update(&f->out.srtt, &f->out.rttvar, r);
	if (f->p.peer_rtt) {
		rtt_update(&f->p.peer_rtt->srtt, &f->p.peer_rtt->rttvar, r);
		f->p.peer_rtt->at = f->now;
	}
}

/* RFC 6298 §2.4: srtt + 4 rttvar, between the floor and RTO_MAX_NS. */
static uint64_t rto_of(uint64_t srtt, uint64_t rttvar)
{
	return min64(max64(srtt + 4 * rttvar, RTO_MIN_NS), RTO_MAX_NS);
}

/* How long a shared estimate stays good for a flow without samples of its own. */
#define PEER_RTT_TTL_NS (10000 * NS_PER_MS)

/* The peer's shared estimate, NULL if there is none (or it is stale). */
static const struct dp_rtt *peer_est(const struct dp_flow *f)
{
	const struct dp_rtt *r = f->p.peer_rtt;

	return r && r->srtt && f->now - r->at <= PEER_RTT_TTL_NS ? r : NULL;
}

/* The peer's shared RTO, 0 if there is none (or it is stale). */
static uint64_t rto_peer(const struct dp_flow *f)
{
	const struct dp_rtt *r = peer_est(f);

	return r ? rto_of(r->srtt, r->rttvar) : 0;
}

/*
 * The RTO when nothing is backed off: from the flow's own samples; before
 * the first, RFC 6298 §2.1's 1 s, or longer when the peer's shared estimate
 * says so (a burst of opens: the Init round trips of the flows before took
 * longer).  Never shorter: early samples of a burst are short, and a start
 * from them made the later flows resend their Init messages.
 */
static uint64_t rto_base(const struct dp_flow *f)
{
	const struct dp_out *o = &f->out;

	if (o->srtt)
		return rto_of(o->srtt, o->rttvar);
	return max64(rto_peer(f), RTO_INIT_NS);
}

static void rto_arm(struct dp_flow *f)
{
	struct dp_out *o = &f->out;

	if (!o->tries && !o->srtt)
		o->rto = rto_base(f); /* the peer's shared estimate, or 1 s */
	o->rto_armed = f->now;
	o->rto_at = o->own_end > o->una ? f->now + o->rto : UINT64_MAX;
}

/*
 * tc_conn's output onto the wire, one segment per call with cap = wire_mss
 * (its frames never span segments), each kept in out.store.  trig: the kernel
 * segment that caused it, whose options it carries.
 */
static int drain_output(struct dp_flow *f, const struct dp_seg *trig)
{
	struct dp_out *o = &f->out;

	/* The agent's own segments need both ends' timestamps (RFC 7323 §3.2). */
	if (!trig && !ts_ready(f))
		return TC_OK;
	while (tc_conn_want_output(f->conn) && o->store.len < f->p.max_unacked) {
		uint64_t off = sq_end(&o->store), own = o->own_end;
		uint8_t *p = sq_reserve(&o->store, seg_cap(f));
		int n, err;

		if (!p)
			return TC_E_NOMEM;
		n = tc_conn_output(f->conn, p, seg_cap(f));
		if (n <= 0)
			return n;
		sq_commit(&o->store, n);
		take_events(f);
		err = map_output(f);
		if (err)
			return err;
		f->st.wire_out += n;
		if (off == o->una)
			o->flight_at = f->now;
		wire_range(f, off, off + n, trig);
		if (o->own_end != own && !o->rtt_timing) {
			o->rtt_timing = true;
			o->rtt_seq = o->own_end;
			o->rtt_sent = f->now;
		}
		if (o->own_end != own && o->rto_at == UINT64_MAX)
			rto_arm(f);
	}
	return TC_OK;
}

/* The kernel's in-order plaintext (and its FIN) into tc_conn; returns bytes taken or an error. */
static int feed_conn(struct dp_flow *f)
{
	struct dp_out *o = &f->out;
	size_t n = reasm_ready(&o->plain);
	bool fin;
	int r;

	if (o->fin_in)
		n = min64(n, o->fin_plain - o->plain.base);
	fin = o->fin_in && !o->fin_given && o->plain.base + n == o->fin_plain;
	if (!n && !fin)
		return 0;
	r = tc_conn_send(f->conn, reasm_data(&o->plain), n, fin);
	if (r < 0)
		return r;
	reasm_consume(&o->plain, r);
	o->fin_given = fin && (size_t)r == n;
	return r;
}

/*
 * RFC 8548 §3.9: a keep-alive probe of the kernel (at most one byte, just
 * below what the peer acknowledged, nothing outstanding) is not answered
 * as the peer would: an ACK from the agent would keep a connection to a
 * dead peer open for ever.  A rekey goes out instead, which the peer must
 * answer at once (§3.8); that authenticated reply is the kernel's answer.
 * No reply: the agent resends the rekey frame, then aborts (RSTs).  False
 * if the segment is no such probe, or no rekey can start (after our FIN).
 */
static bool keepalive(struct dp_flow *f, const struct dp_seg *s, int64_t lo, uint64_t pa)
{
	struct dp_out *o = &f->out;
	int r;

	/* All the kernel's plaintext acknowledged; the agent's own units may be out. */
	if (!f->st.have_session_id || s->len > 1 || (s->flags & DP_FIN) || lo + 1 != (int64_t)pa ||
	    sq_last(&o->store).off[SQ_PLAIN] != pa || reasm_end(&o->plain) != o->plain.base ||
	    o->fin_in)
		return false;
	if (o->ka_wait)
		return true;
	/* TC_E_STATE: a rekey is out already, and its reply serves as well. */
	r = tc_conn_rekey(f->conn);
	if (r && r != TC_E_STATE)
		return false;
	o->ka_wait = true;
	return true;
}

/*
 * A kernel resend of framed bytes that the agent holds back: every byte in
 * flight left less than srtt + 4 rttvar ago (the RTT of the whole path, both
 * agents included, RFC 6298 §2, without its 200 ms floor: the flow's own
 * samples, else the peer's shared estimate, else no hold) and the peer has
 * shown no loss.  The kernel's timers know only its handshake's RTT, which
 * no agent was on: when the agents are busy (a burst of opens) its tail-loss
 * probe (RFC 8985 §7) and RTO fire while the answer is still queued, and
 * each resend costs both agents a pass.  The kernel backs off and asks
 * again; once the flight is older, or a loss was seen, its resend goes out.
 * docs/machine-facts.md#kernel-resends-in-a-burst.
 */
static bool resend_held(struct dp_flow *f, uint64_t wlo)
{
	struct dp_out *o = &f->out;
	const struct dp_rtt *r = peer_est(f);
	uint64_t hold = 0;

	if (o->srtt)
		hold = o->srtt + 4 * o->rttvar;
	else if (r)
		hold = r->srtt + 4 * r->rttvar;
	if (!o->flight_at || wlo < o->una || f->now - o->flight_at >= hold)
		return false;
	f->st.resend_held++;
	return true;
}

/*
 * A kernel segment's sequence range.  Below what the peer acknowledged
 * (keep-alive, window probe, stale copy): answer the kernel as the peer
 * would.  Already framed: resend the stored ciphertext of the covering units,
 * never new encryption (RFC 8548 §3.8).  Beyond: new plaintext.
 */
static int local_data(struct dp_flow *f, const struct dp_seg *s, bool *old)
{
	struct dp_out *o = &f->out;
	bool fin = s->flags & DP_FIN;
	uint64_t framed = sq_last(&o->store).off[SQ_PLAIN], pa = plain_ack(f);
	int64_t lo = seq_off(f->p.local_isn, o->plain.base, s->seq);
	uint64_t hi = lo + s->len, wlo = UINT64_MAX, whi = 0;
	struct sq_pos a, b;

	if (lo < 0 || (hi + fin <= pa && (s->len || fin || (uint64_t)lo < pa))) {
		*old = true;
		if (!keepalive(f, s, lo, pa))
			sync_ack(f, DP_TO_LOCAL, true, NULL);
		return TC_OK;
	}
	if ((uint64_t)lo < framed && s->len &&
	    sq_span(&o->store, SQ_PLAIN, lo, min64(hi, framed), &a, &b)) {
		wlo = a.off[SQ_WIRE];
		whi = b.off[SQ_WIRE];
	}
	if (fin && o->fin_out && hi == o->fin_plain) {
		wlo = min64(wlo, o->una);
		whi = o->fin_wire;
	}
	wlo = max64(max64(wlo, o->una), o->store.base.off[SQ_WIRE]);
	if ((wlo < whi || (wlo == whi && whi == o->fin_wire && o->fin_out)) &&
	    !resend_held(f, wlo)) {
		if (wlo == o->una)
			stall_check(f);
		resend(f, wlo, whi, s);
	}
	/*
	 * The kernel's urgent byte (RFC 6093 §2: seq + urg_ptr is one past it),
	 * taken from the segment that holds it, goes into the frame that carries
	 * it (RFC 8548 §3.7).  A pointer beyond the segment names data to come,
	 * whose own segment will hold it; TC_E_STATE: framed already.
	 */
	if ((s->flags & DP_URG) && s->urg_ptr && s->urg_ptr <= s->len &&
	    (uint64_t)lo + s->urg_ptr > o->urg_up) {
		int r;

		o->urg_up = lo + s->urg_ptr;
		r = tc_conn_send_urgent(f->conn, o->urg_up - 1);
		if (r && r != TC_E_STATE)
			return r;
	}
	if (fin && !o->fin_in && hi >= o->plain.base && hi >= reasm_end(&o->plain)) {
		o->fin_in = true;
		o->fin_plain = hi;
	}
	if (o->fin_in && hi > o->fin_plain)
		return TC_OK;
	return reasm_insert(&o->plain, lo, s->data, s->len);
}

/* The kernel's ACK of injected plaintext, and its window. */
static bool local_ack(struct dp_flow *f, const struct dp_seg *s)
{
	struct dp_in *in = &f->in;
	bool fwd;
	int64_t ka;

	if (!(s->flags & DP_ACK))
		return false;
	fwd = ack_note(&f->seen[DP_TO_WIRE], s);
	ka = seq_off(f->p.peer_isn, in->kacked, s->ack);
	in->kwin = s->win;
	if (ka > (int64_t)in->kacked && (uint64_t)ka <= snd_nxt(f, DP_TO_LOCAL)) {
		in->kacked = ka;
		sq_trim(&in->store, SQ_PLAIN, ka);
	}
	return fwd;
}

/* ---- the stream from the wire ---- */

static int read_plain(struct dp_flow *f)
{
	struct sentq *q = &f->in.store;

	for (;;) {
		uint8_t *p = sq_reserve(q, TC_FRAME_DATA_MAX);
		int n;

		if (!p)
			return TC_E_NOMEM;
		n = tc_conn_read(f->conn, p, TC_FRAME_DATA_MAX);
		if (n <= 0)
			return n;
		sq_commit(q, n);
	}
}

/*
 * Give tc_conn the peer's stream one whole unit at a time, so that each
 * unit's plaintext (and so the map between the spaces) is known, and inject
 * that plaintext.  The TCP FIN goes with the bytes that end where it is; a
 * FIN that does not follow a FINp frame makes tc_conn abort (§3.7).
 */
static int take_units(struct dp_flow *f, const struct dp_seg *trig)
{
	struct dp_in *in = &f->in;

	while (!in->fin_done && in->store.len < f->p.max_unacked) {
		const uint8_t *p = reasm_data(&in->wire);
		uint64_t at = in->wire.base, plain = sq_end(&in->store);
		size_t avail = reasm_ready(&in->wire), len, feed;
		bool init = !f->resumed && !at, eof = in->eof, at_fin, fin;
		int r;

		if (in->fin_seen)
			avail = min64(avail, in->fin_wire - at);
		at_fin = in->fin_seen && at + avail == in->fin_wire;
		len = unit_len(p, avail, init);
		/* An impossible Init length: give tc_conn the header, which it rejects. */
		if (init && len && (len < INIT_HDR_LEN || len > TC_INIT_MAX_LEN))
			len = INIT_HDR_LEN;
		if (len && len <= avail)
			feed = len;
		else if (at_fin)
			feed = avail;
		else
			break;
		fin = at_fin && feed == avail;
		r = tc_conn_input(f->conn, p, feed, fin);
		if (r >= 0 && (size_t)r != feed)
			r = TC_E_MALFORMED;
		if (r < 0)
			return r;
		reasm_consume(&in->wire, feed);
		f->st.wire_in += feed;
		f->st.frames_in += !init && feed == len;
		in->fin_done = fin;
		r = read_plain(f);
		if (!r && feed)
			r = sq_mark(&in->store, (struct sq_pos){{at + feed, sq_end(&in->store)}});
		if (r)
			return r;
		take_events(f);
		f->st.plain_in += sq_end(&in->store) - plain;
		/* EOF when, and only when, the FINp frame arrived (§3.7). */
		if ((sq_end(&in->store) > plain || in->eof != eof) && f->p.defer_inject) {
			if (!in->pend) {
				in->pend = true;
				in->pend_fin = in->pend_has_trig = false;
				in->pend_lo = plain;
				in->pend_trig.flags = 0;
			}
			in->pend_fin |= in->eof != eof;
			if (trig) {
				uint8_t ecn = in->pend_trig.flags & (DP_ECE | DP_CWR);

				in->pend_trig = *trig;
				in->pend_trig.flags |= ecn;
				in->pend_trig.data = NULL;
				in->pend_trig.len = 0;
				in->pend_has_trig = true;
			}
		} else if (sq_end(&in->store) > plain || in->eof != eof) {
			inject(f, plain, sq_end(&in->store), in->eof != eof, trig);
		}
	}
	return TC_OK;
}

/* Everything that can move now: the peer's units in, the kernel's bytes out. */
static int pump(struct dp_flow *f, const struct dp_seg *local_trig, const struct dp_seg *wire_trig)
{
	int r = take_units(f, wire_trig);

	while (!r) {
		r = feed_conn(f);
		if (r >= 0) {
			uint64_t sent = f->st.wire_out;
			int taken = r;

			r = drain_output(f, local_trig);
			if (!r && !taken && f->st.wire_out == sent)
				break;
		}
	}
	return r < 0 ? flow_abort(f, r) : TC_OK;
}

/* A duplicate from the peer: acknowledge it, and inject again what the kernel has not acked. */
static void wire_dup(struct dp_flow *f, uint64_t lo, uint64_t hi)
{
	struct dp_in *in = &f->in;
	uint64_t end = sq_end(&in->store);
	struct sq_pos a = {{in->wire.base, end}}, b = a;
	bool fin;

	if (lo < hi && !sq_span(&in->store, SQ_WIRE, lo, hi, &a, &b))
		return;
	/* The FIN again with a copy of the stream's end (FINp frame or TCP FIN). */
	fin = in->eof && in->kacked <= end && b.off[SQ_PLAIN] == end;
	a.off[SQ_PLAIN] = max64(a.off[SQ_PLAIN], in->kacked);
	if (a.off[SQ_PLAIN] < b.off[SQ_PLAIN] || (fin && a.off[SQ_PLAIN] == end)) {
		f->st.plain_resent += b.off[SQ_PLAIN] - a.off[SQ_PLAIN];
		inject(f, a.off[SQ_PLAIN], b.off[SQ_PLAIN], fin, NULL);
	}
}

/*
 * The peer's payload and FIN.  *ack_now: the peer needs an ACK at once
 * (duplicate or out-of-order data, RFC 5681 §4.2, or a keep-alive); the
 * kernel never sees those segments.
 */
static int wire_data(struct dp_flow *f, const struct dp_seg *s, bool *ack_now)
{
	struct dp_in *in = &f->in;
	bool fin = s->flags & DP_FIN;
	int64_t lo = seq_off(f->p.peer_isn, in->wire.base, s->seq);
	uint64_t rcv = in->wire.base + in->fin_done, hi = lo + s->len;
	uint32_t len = s->len;

	if (!len && !fin) {
		*ack_now = lo < (int64_t)rcv;
		return TC_OK;
	}
	if (lo < 0 || hi + fin <= rcv) {
		*ack_now = true;
		if (lo >= 0)
			wire_dup(f, lo, hi);
		return TC_OK;
	}
	if (in->fin_seen) {
		len = (uint64_t)lo < in->fin_wire ? min64(len, in->fin_wire - lo) : 0;
	} else if (fin && hi >= reasm_end(&in->wire)) {
		in->fin_seen = true;
		in->fin_wire = hi;
	}
	/*
	 * Out of order: a duplicate ACK at once (RFC 5681 §4.2), but only one
	 * that names the hole.  Until the kernel acknowledged what came before
	 * it, the ACK would name an older point, and the peer would resend
	 * there for nothing; flush_dups() sends it when the kernel has.
	 */
	if ((uint64_t)lo > in->wire.base) {
		in->ooo_recent = lo;
		if (wire_ack(f) == in->wire.base)
			*ack_now = true;
		else
			in->dups++;
	}
	return reasm_insert(&in->wire, lo, s->data, len);
}

/* The duplicate ACKs wire_data() held back, once the kernel's ACK reached the hole. */
static void flush_dups(struct dp_flow *f)
{
	struct dp_in *in = &f->in;

	if (wire_ack(f) != in->wire.base)
		return;
	if (reasm_end(&in->wire) > in->wire.base)
		for (; in->dups; in->dups--)
			sync_ack(f, DP_TO_WIRE, true, NULL);
	in->dups = 0;
}

/* One wire segment of stored bytes at una (or the FIN alone), for loss recovery. */
static void resend_una(struct dp_flow *f)
{
	struct dp_out *o = &f->out;
	uint64_t end = sq_end(&o->store);

	if (o->una < end) {
		uint64_t hi = min64(end, o->una + f->p.wire_mss);

		resend(f, o->una, hi, NULL);
	} else if (o->fin_out && o->una == o->fin_wire) {
		wire_range(f, o->una, o->una, NULL);
	}
}

/*
 * Loss recovery by the agent itself, from the store, for flows without SACK
 * (with SACK, the translated blocks let the kernel recover, RFC 6675): fast
 * retransmit at the third duplicate ACK (RFC 5681 §3.2), once for each point
 * the peer's ACK stops at.  Several losses in one window are each found this way:
 * the peer's agent holds its duplicate ACKs until they name the next hole
 * (flush_dups).  No resend at partial ACKs (RFC 6582): the peer's ACK moves
 * on in steps, as its kernel acknowledges what its agent injects, and each
 * step would resend bytes the peer already holds.  A resend of ours that is
 * lost too is left to the kernel's RTO.
 */
static void wire_recover(struct dp_flow *f, const struct dp_seg *s, uint64_t wa, uint64_t old_una)
{
	struct dp_out *o = &f->out;
	bool pure = !s->len && !(s->flags & (DP_FIN | DP_SYN));

	if (f->p.sack_ok || wa != old_una || !pure || snd_nxt(f, DP_TO_WIRE) <= o->una) {
		o->dupacks = 0;
		return;
	}
	if (++o->dupacks == 3) {
		resend_una(f);
		o->rec_rto = rto_base(f);
		o->rec_at = f->now + o->rec_rto;
	}
}

/* The peer's ACK of our wire stream, and its window. */
static bool wire_ack_in(struct dp_flow *f, const struct dp_seg *s)
{
	struct dp_out *o = &f->out;
	uint64_t old_una = o->una;
	bool fwd;
	int64_t wa;

	if (!(s->flags & DP_ACK))
		return false;
	fwd = ack_note(&f->seen[DP_TO_LOCAL], s);
	wa = seq_off(f->p.local_isn, o->una, s->ack);
	if (wa < (int64_t)o->una || (uint64_t)wa > snd_nxt(f, DP_TO_WIRE))
		return fwd;
	o->peer_win = s->win;
	if (((uint64_t)wa == o->una && !s->len && snd_nxt(f, DP_TO_WIRE) > o->una) || has_sack(s))
		o->flight_at = 0; /* a loss shown: the kernel's recovery goes out */
	if ((uint64_t)wa > o->una) {
		if (o->rtt_timing && (uint64_t)wa >= o->rtt_seq) {
			rtt_sample(f, f->now - o->rtt_sent);
			o->rtt_timing = false;
		}
		o->una = wa;
		o->una_at = f->now;
		o->stalls = 0;
		if (f->role_a && !f->resumed && !f->st.have_session_id && !f->st.wire_in &&
		    (uint64_t)wa >= o->own_end && o->answer_by == UINT64_MAX)
			o->answer_by = f->now + INIT2_WAIT_NS;
		sq_trim(&o->store, SQ_WIRE, wa);
		if ((uint64_t)wa >= sq_end(&o->store))
			o->flight_at = 0; /* nothing in flight */
		o->tries = 0;
		o->rto = rto_base(f);
		o->rec_at = UINT64_MAX; /* the repair arrived */
		rto_arm(f);
	}
	wire_recover(f, s, wa, old_una);
	return fwd;
}

/*
 * The peer's RST, if its sequence number is in our window (RFC 9293
 * §3.10.7.4): reset the kernel at the plaintext sequence number it expects.
 */
static void wire_rst(struct dp_flow *f, const struct dp_seg *s)
{
	uint64_t lo = wire_ack(f);
	uint64_t hi = max64(f->in.wire.base, lo + ((uint64_t)f->in.kwin << f->p.local_wscale));
	int64_t off = seq_off(f->p.peer_isn, lo, s->seq);

	if (off < (int64_t)lo || (uint64_t)off > hi)
		return;
	emit_rst(f, DP_TO_LOCAL, f->p.peer_isn + 1 + (uint32_t)snd_nxt(f, DP_TO_LOCAL));
	f->st.peer_reset = true;
	release(f, DP_ST_RESET);
}

/* SYNs are never touched: both spaces share the ISNs.  Passed on without payload (§4.7). */
static void pass_syn(struct dp_flow *f, enum dp_dir dir, const struct dp_seg *s)
{
	struct dp_seg c = *s;

	c.data = NULL;
	c.len = 0;
	f->nemit[dir]++;
	f->emit(f->ctx, dir, &c);
}

static void update_state(struct dp_flow *f)
{
	struct dp_out *o = &f->out;
	struct dp_in *in = &f->in;

	if (dead(f))
		return;
	if (!f->st.have_session_id) {
		f->st.state = DP_ST_HANDSHAKE;
	} else if (!o->fin_in && !in->fin_seen && !in->eof) {
		f->st.state = DP_ST_ESTABLISHED;
	} else if (o->fin_out && o->una > o->fin_wire && in->fin_done &&
		   f->acked[DP_TO_WIRE] > in->fin_wire) {
		/*
		 * Everything acknowledged both ways: the stores are empty, and
		 * a flow kept a while to answer a late FIN needs no buffers.
		 */
		f->st.state = DP_ST_CLOSED;
		reasm_shrink(&o->plain);
		reasm_shrink(&in->wire);
		sq_shrink(&o->store);
		sq_shrink(&in->store);
	} else {
		f->st.state = DP_ST_CLOSING;
	}
}

/* ---- API ---- */

struct dp_flow *dp_flow_new(const struct dp_flow_params *p, dp_emit_fn emit, void *ctx, int *err)
{
	struct dp_flow *f = NULL;
	struct tc_conn_info info;

	*err = TC_E_INVAL;
	if (!emit || p->wire_mss < 64 || p->wire_mss > 0xffff || p->local_mss < 64 ||
	    p->local_wscale > 14 || p->peer_wscale > 14)
		goto fail;
	*err = TC_E_NOMEM;
	f = calloc(1, sizeof(*f));
	if (!f)
		goto fail;
	*err = tc_conn_new(&f->conn, &p->conn, &p->eno);
	if (*err)
		goto fail;
	f->p = *p;
	memset(&f->p.eno, 0, sizeof(f->p.eno));
	f->p.max_reasm = p->max_reasm ? p->max_reasm : DP_BUF_DFLT;
	f->p.max_unacked = p->max_unacked ? p->max_unacked : DP_BUF_DFLT;
	f->emit = emit;
	f->ctx = ctx;
	tc_conn_info(f->conn, &info);
	f->resumed = info.resumed;
	f->role_a = p->eno.role == ENO_ROLE_A;
	f->eno_opt = f->role_a;
	reasm_init(&f->out.plain, 0, f->p.max_unacked);
	reasm_init(&f->in.wire, 0, f->p.max_reasm);
	sq_init(&f->out.store, SQ_WIRE, (struct sq_pos){{0, 0}});
	sq_init(&f->in.store, SQ_PLAIN, (struct sq_pos){{0, 0}});
	/* Until the first ACKs tell: the largest unscaled windows. */
	f->out.peer_win = 0xffff >> p->peer_wscale;
	f->in.kwin = 0xffff >> p->local_wscale;
	f->out.rto = RTO_INIT_NS;
	f->out.rto_at = UINT64_MAX;
	f->out.rec_at = UINT64_MAX;
	f->out.answer_by = UINT64_MAX;
	f->out.first_mss = p->wire_mss;
	f->st.wire_mss = p->wire_mss;
	f->st.wire_room = p->wire_mss + (p->timestamps ? TS_ALLOWANCE : 0);
	take_events(f);
	update_state(f);
	return f;
fail:
	free(f);
	return NULL;
}

void dp_flow_free(struct dp_flow *f)
{
	if (!f)
		return;
	release(f, f->st.state);
	OPENSSL_cleanse(f, sizeof(*f));
	free(f);
}

int dp_from_local(struct dp_flow *f, const struct dp_seg *s, uint64_t now_ns)
{
	unsigned long sent = f->nemit[DP_TO_WIRE];
	bool fwd, old = false;
	int r;

	f->now = now_ns;
	if (dead(f))
		return answer_dead(f, DP_TO_LOCAL, s);
	if (s->flags & DP_SYN) {
		pass_syn(f, DP_TO_WIRE, s);
		return TC_OK;
	}
	/*
	 * Host A's third ACK, with the ENO option sock_ops wrote (RFC 8547
	 * §4.6), goes to the peer's stack as it is, ahead of Init1, which the
	 * peer's agent takes: the two spaces still coincide there.
	 */
	if (f->eno_opt && !f->st.wire_out && !s->len && !(s->flags & (DP_FIN | DP_RST)) &&
	    s->seq == f->p.local_isn + 1 && s->ack == f->p.peer_isn + 1) {
		struct dp_seg c = *s;

		c.flags &= ~DP_URG; /* urgency goes inside frames only (RFC 8548 §3.7) */
		c.urg_ptr = 0;
		build_opts(f, DP_TO_WIRE, s, &c);
		f->nemit[DP_TO_WIRE]++;
		f->emit(f->ctx, DP_TO_WIRE, &c);
	}
	if (s->flags & DP_RST) {
		/* The kernel's RST goes out at our next wire sequence number. */
		emit_rst(f, DP_TO_WIRE, f->p.local_isn + 1 + (uint32_t)snd_nxt(f, DP_TO_WIRE));
		release(f, DP_ST_RESET);
		return TC_OK;
	}
	ts_note(f, DP_TO_WIRE, s);
	fwd = local_ack(f, s);
	r = local_data(f, s, &old);
	if (r)
		return flow_abort(f, r);
	r = pump(f, s, NULL);
	if (r)
		return r;
	if (f->nemit[DP_TO_WIRE] == sent)
		sync_ack(f, DP_TO_WIRE, fwd && !old, s);
	if (f->win_opened) { /* keys from the start (resumption): open the kernel's window */
		f->win_opened = false;
		sync_ack(f, DP_TO_LOCAL, true, NULL);
	}
	flush_dups(f);
	update_state(f);
	return TC_OK;
}

int dp_from_wire(struct dp_flow *f, const struct dp_seg *s, uint64_t now_ns)
{
	unsigned long sent_local = f->nemit[DP_TO_LOCAL], sent_wire = f->nemit[DP_TO_WIRE];
	bool fwd, ack_now = false;
	int r;

	f->now = now_ns;
	if (dead(f))
		return answer_dead(f, DP_TO_WIRE, s);
	if (s->flags & DP_SYN) {
		pass_syn(f, DP_TO_LOCAL, s);
		return TC_OK;
	}
	if (s->flags & DP_RST) {
		wire_rst(f, s);
		return TC_OK;
	}
	f->eno_opt = false; /* RFC 8547 §4.6: a non-SYN segment arrived */
	ts_note(f, DP_TO_LOCAL, s);
	fwd = wire_ack_in(f, s);
	r = wire_data(f, s, &ack_now);
	if (r)
		return flow_abort(f, r);
	r = pump(f, NULL, s);
	if (r)
		return r;
	/* held-back plaintext carries the ACK and window at the flush */
	if (f->nemit[DP_TO_LOCAL] == sent_local && !f->in.pend)
		sync_ack(f, DP_TO_LOCAL, fwd || f->out.ka_answer || f->win_opened, s);
	f->out.ka_answer = false;
	f->win_opened = false;
	if (f->nemit[DP_TO_WIRE] == sent_wire)
		sync_ack(f, DP_TO_WIRE, ack_now, NULL);
	update_state(f);
	return TC_OK;
}

void dp_flow_flush(struct dp_flow *f, uint64_t now_ns)
{
	if (!f->in.pend)
		return;
	f->now = now_ns;
	flush_in(f);
	update_state(f);
}

bool dp_flow_pending(const struct dp_flow *f)
{
	return f->in.pend;
}

uint64_t dp_timer(struct dp_flow *f, uint64_t now_ns)
{
	struct dp_out *o = &f->out;

	f->now = now_ns;
	flush_in(f);
	if (dead(f))
		return UINT64_MAX;
	/* The agent's own units (Init, empty frames): nobody else resends them. */
	/*
	 * Not backed off yet, and the peer's estimate has grown since the timer
	 * was set (other flows' Init exchanges took longer: a burst of opens
	 * queues in both agents): the unit is late, not lost; wait as long as
	 * the estimate says, and resend only then.
	 */
	if (now_ns >= o->rto_at && !o->tries && !o->srtt && o->rto_armed + rto_base(f) > now_ns)
		o->rto_at = o->rto_armed + rto_base(f);
	if (now_ns >= o->rto_at) {
		if (++o->tries > RTO_TRIES) {
			flow_abort(f, DP_E_TIMEOUT);
			return UINT64_MAX;
		}
		resend(f, max64(o->una, o->store.base.off[SQ_WIRE]), o->own_end, NULL);
		o->rto = min64(2 * o->rto, RTO_MAX_NS);
		rto_arm(f);
	}
	/*
	 * A fast retransmit whose resend was lost as well: the peer keeps
	 * acknowledging una, and the kernel, whose duplicate ACKs carry no
	 * SACK blocks, waits out a backed-off RTO.  Resend again, backing off.
	 */
	if (now_ns >= o->rec_at) {
		resend_una(f);
		o->rec_rto = min64(2 * o->rec_rto, RTO_MAX_NS);
		o->rec_at = now_ns + o->rec_rto;
	}
	if (pump(f, NULL, NULL))
		return UINT64_MAX;
	update_state(f);
	if (f->st.wire_in || f->st.have_session_id)
		o->answer_by = UINT64_MAX;
	if (now_ns >= o->answer_by) {
		flow_abort(f, DP_E_NO_INIT2);
		return UINT64_MAX;
	}
	return min64(min64(o->rto_at, o->rec_at), o->answer_by);
}

int dp_flow_rekey(struct dp_flow *f, uint64_t now_ns)
{
	int r;

	f->now = now_ns;
	if (dead(f) || f->out.fin_in)
		return TC_E_STATE;
	r = tc_conn_rekey(f->conn);
	return r ? r : pump(f, NULL, NULL);
}

int dp_flow_path_mtu(struct dp_flow *f, uint32_t seq, uint32_t room, uint64_t now_ns)
{
	struct dp_out *o = &f->out;
	int64_t off;
	int r;

	f->now = now_ns;
	if (dead(f))
		return TC_E_STATE;
	/* RFC 5927 §4.1: only about a segment we sent and the peer has not acknowledged */
	off = seq_off(f->p.local_isn, o->una, seq);
	if (off < (int64_t)o->una || (uint64_t)off >= snd_nxt(f, DP_TO_WIRE))
		return TC_E_INVAL;
	r = set_wire_mss(f,
			 room > TS_ALLOWANCE || !f->p.timestamps
			     ? room - (f->p.timestamps ? TS_ALLOWANCE : 0)
			     : 0,
			 false);
	if (!r)
		resend_una(f);
	return r;
}

void dp_flow_stats(const struct dp_flow *f, struct dp_flow_stats *st)
{
	*st = f->st;
	st->reasm_dropped += f->in.wire.dropped;
	st->local_una = f->p.local_isn + 1 + (uint32_t)plain_ack(f);
	if (f->conn) {
		struct tc_conn_info info;

		tc_conn_info(f->conn, &info);
		st->local_gen = info.local_gen;
		st->remote_gen = info.remote_gen;
		st->aead = info.aead;
	}
}

const struct dp_flow_stats *dp_flow_peek(const struct dp_flow *f)
{
	return &f->st;
}

int dp_flow_keylog(const struct dp_flow *f, struct tc_keylog *kl)
{
	return f->conn ? tc_conn_keylog(f->conn, kl) : TC_E_STATE;
}

bool dp_flow_conn_info(const struct dp_flow *f, struct tc_conn_info *info)
{
	if (!f->conn)
		return false;
	tc_conn_info(f->conn, info);
	return true;
}

void dp_flow_flush_cache(struct dp_flow *f)
{
	if (f->conn)
		tc_conn_flush_cache(f->conn);
}

bool dp_flow_done(const struct dp_flow *f)
{
	return f->st.state >= DP_ST_CLOSED;
}

void dp_flow_trim(struct dp_flow *f)
{
	if (dead(f))
		return;
	if (f->conn)
		tc_conn_trim(f->conn);
	reasm_shrink(&f->out.plain);
	reasm_shrink(&f->in.wire);
	sq_shrink(&f->out.store);
	sq_shrink(&f->in.store);
}

int dp_flow_abort(struct dp_flow *f, int err)
{
	if (dp_flow_done(f))
		return TC_E_STATE;
	return flow_abort(f, err);
}

const char *dp_strerror(int err)
{
	if (err == DP_E_TIMEOUT)
		return "the peer never acknowledged the agent's Init message or rekey";
	if (err == DP_E_STOPPED)
		return "the agent stopped";
	if (err == DP_E_NO_INIT2)
		return "the peer acknowledged the Init1 but never answered it";
	return tc_strerror(err);
}
