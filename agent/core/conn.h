/* SPDX-License-Identifier: MIT */
/*
 * One tcpcrypt connection after a successful TCP-ENO negotiation (RFC 8548
 * §3.2-§3.9): the key exchange or resumption, then AEAD framing of both
 * directions of the TCP payload stream.  Pure and I/O-free: the caller feeds
 * the peer's payload bytes in (any cut), takes wire bytes out, and moves
 * plaintext in and out.
 *
 *   fresh, host A:  output Init1 | frames ...      input  Init2 | frames ...
 *   fresh, host B:  output Init2 | frames ...      input  Init1 | frames ...
 *   resumed:        output frames from offset 0    input  frames from offset 0
 *
 * Application data given before the keys exist is held and framed once they
 * do (B: after Init1 arrived; A: after Init2 arrived).  Only authenticated
 * plaintext is ever returned.  Any error aborts the connection: it sticks,
 * every later call returns it, and no more plaintext is delivered; the caller
 * then resets the TCP connection and reports an error that is not EOF.
 */
#ifndef TCPCRYPT_CORE_CONN_H
#define TCPCRYPT_CORE_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "core/kdf.h"
#include "core/sesscache.h"
#include "core/tep.h"

#define TC_CONN_TRANSCRIPT_MAX 80	    /* two SYN-form ENO options of <= 40 bytes */
#define TC_CONN_BUFFER_DFLT    (256 * 1024) /* default bound on queued plaintext */

/* tc_conn_new: tcpcrypt must not run; disable TCP-ENO, plain TCP (§3.5). */
#define TC_CONN_DISABLE 1

struct tc_conn_config {
	/*
	 * AEAD ids.  Host A offers them in Init1 in this order; host B picks the
	 * first one A offered (its preference, best first).  NULL: all we
	 * implement, tc_aead_default_pref.
	 */
	const uint16_t *aeads;
	size_t naeads;
	struct tc_sesscache *cache; /* NULL: no session caching; must outlive the conn */
	unsigned policy;	    /* enum tc_sc_policy, for this connection */
	size_t max_frame_data;	    /* data bytes per frame; 0: TC_FRAME_DATA_MAX */
	size_t max_buffer;	    /* plaintext queued per direction; 0: TC_CONN_BUFFER_DFLT */
	bool keylog;		    /* keep ES and ss for tc_conn_keylog (debugging only) */
	/* key pairs made ahead of time (must outlive the conn); NULL: generate when needed */
	const struct tc_keysrc *keysrc;
};

/* What TCP-ENO decided (RFC 8547 §4), plus the resumption state of this host. */
struct tc_eno_result {
	int role;		   /* ENO_ROLE_A or ENO_ROLE_B in this connection */
	uint8_t tep_byte;	   /* negotiated TEP as host B sent it, v bit included */
	const uint8_t *transcript; /* RFC 8547 §4.8, exact bytes; used by fresh sessions */
	size_t transcript_len;
	/* The peer's suboption for the TEP (TEP byte first), when it carried data. */
	const uint8_t *peer_subopt;
	size_t peer_subopt_len;
	/*
	 * The secret this host took out of the cache for this connection:
	 * tc_sc_offer() before its SYN, or tc_sc_accept() on the peer's SYN;
	 * NULL if none.  tc_conn_new wipes it in every case.
	 */
	struct tc_sc_ticket *ticket;
	struct tc_peer peer; /* cache key for the session this connection creates */
};

/* Event bits, collected until tc_conn_events() takes them. */
enum tc_conn_event {
	TC_CONN_EV_KEYS = 1 << 0,	/* keys ready: session ID, AEAD, data flows */
	TC_CONN_EV_DATA = 1 << 1,	/* plaintext to read */
	TC_CONN_EV_EOF = 1 << 2,	/* the peer's FINp frame arrived (§3.7) */
	TC_CONN_EV_FIN_SENT = 1 << 3,	/* our FINp frame is output: TCP FIN after it */
	TC_CONN_EV_PEER_REKEY = 1 << 4, /* the peer moved to a new key set (§3.8) */
	TC_CONN_EV_ABORT = 1 << 5,	/* the connection failed: see tc_conn_error */
	TC_CONN_EV_URGENT = 1 << 6, /* a frame with URGp moved the peer's mark: tc_conn_urgent */
};

struct tc_conn_info {
	int role;	  /* in this connection */
	int orig_role;	  /* in the session that produced ss[0]: picks k_ab or k_ba */
	uint8_t tep_byte; /* v bit set when resumed */
	uint16_t aead;	  /* 0 until the keys are ready */
	bool resumed, keys_ready, eof, fin_sent;
	uint64_t ss_index;		/* i of the ss[i] the keys came from */
	uint64_t local_gen, remote_gen; /* key generations (§3.8) */
	uint64_t sent_gen;		/* generation of the last frame sent */
	struct tc_sc_ref cache_ref;	/* chain this connection used or produced */
};

/* Secrets for a key log ("<session-id> <ss> <es>"); a debugging aid that defeats tcpcrypt. */
struct tc_keylog {
	uint8_t session_id[TC_SESSID_LEN];
	uint8_t ss[TC_K_LEN]; /* ss[i]; ss[0] = PRK in a fresh session */
	uint64_t ss_index;
	uint8_t es[TC_TEP_ES_MAX];
	size_t es_len; /* 0 when resumed: no key exchange took place */
};

struct tc_conn;

/*
 * Start a connection.  Host A generates its key pair and Init1 here.  A
 * resumed session (v bit in tep_byte) derives its keys here: from the ticket,
 * completed with peer_subopt when this host offered.  Returns TC_OK,
 * TC_CONN_DISABLE (v = 1 but no ticket, or the peer's identifier half does not
 * match ours, §3.5: *out is NULL), or TC_E_INVAL, TC_E_UNSUPPORTED (not a
 * tcpcrypt TEP, unknown AEAD), TC_E_RNG, TC_E_NOMEM, TC_E_CRYPTO.
 */
int tc_conn_new(struct tc_conn **out, const struct tc_conn_config *cfg,
		const struct tc_eno_result *eno);

/* Wipe all keys, secrets and buffered plaintext, and free.  NULL is fine. */
void tc_conn_free(struct tc_conn *c);

/*
 * Bytes of the peer's TCP payload stream, in order, cut anywhere.  fin: the
 * peer's TCP FIN follows these bytes.  Returns how many bytes were taken (fewer
 * than len when len > INT_MAX or when max_buffer bytes of plaintext wait to be
 * read: read, then pass the rest again, with the same fin), or an abort:
 * TC_E_AUTH, TC_E_FIN_NO_FINP, TC_E_AFTER_FIN, TC_E_BAD_CIPHER, TC_E_BAD_KEY,
 * TC_E_MALFORMED, TC_E_TRUNCATED, TC_E_TOO_LONG, ...
 */
int tc_conn_input(struct tc_conn *c, const uint8_t *wire, size_t len, bool fin);

/*
 * Queue plaintext to send; fin: it ends the stream (the last frame gets
 * FINp).  Returns how many bytes were taken (up to max_buffer queued; fin
 * counts only once all of len is taken), TC_E_STATE after fin, or the error.
 */
int tc_conn_send(struct tc_conn *c, const uint8_t *data, size_t len, bool fin);

/*
 * Urgent data (RFC 8548 §3.7): the byte at offset off of this host's
 * application stream (counted from its first byte, as tc_conn_send takes
 * them, queued already or not) is the last byte of urgent data.  The frame
 * whose data holds it gets URGp, and the byte's index in that data as its
 * urgent field (docs/urgent-data.md).  Like TCP's one urgent pointer, a later
 * byte replaces one not framed yet.  TC_E_STATE if the byte is framed
 * already or lies beyond a queued fin; or the sticky error.
 */
int tc_conn_send_urgent(struct tc_conn *c, uint64_t off);

/*
 * Where the last frame with URGp that tc_conn_output gave ends in this host's
 * stream (its payload stream, the Init message included), 0 if none: that
 * frame carries 2 bytes of data fewer than its length says (§4.2.1).  At
 * most one frame with URGp goes out per tc_conn_send_urgent.
 */
uint64_t tc_conn_urgent_frame_end(const struct tc_conn *c);

/*
 * The peer's last byte of urgent data so far, as an offset of the plaintext
 * stream tc_conn_read returns (counted from its first byte); false if no frame
 * with URGp arrived yet.  It only moves forward (as TCP's, RFC 9293 §3.8.5),
 * and may lie ahead of the plaintext received: urgent data still to come.
 */
bool tc_conn_urgent(const struct tc_conn *c, uint64_t *off);

/*
 * Wire bytes to send, at most cap: the rest of this host's Init message, then
 * whole frames sized to fit (at most max_frame_data data bytes each), also the
 * empty ones rekeying calls for.  Call with cap = room in the next segment to
 * make frames fit segments.  The caller keeps what it sent for retransmission.
 * Returns the byte count (0: nothing fits or nothing to send) or the error.
 */
int tc_conn_output(struct tc_conn *c, uint8_t *buf, size_t cap);

/* True when tc_conn_output has bytes to give. */
bool tc_conn_want_output(const struct tc_conn *c);

/* Authenticated plaintext, at most cap bytes; 0 when none is waiting.  Or the error. */
int tc_conn_read(struct tc_conn *c, uint8_t *buf, size_t cap);

/*
 * Move to the next key set (§3.8); the next output frame carries rekey = 1.
 * Also the authenticated keep-alive (§3.9): the peer must answer at once.
 * TC_E_STATE before the keys exist, after FINp, or while a rekey is unanswered.
 */
int tc_conn_rekey(struct tc_conn *c);

/* Take the event bits collected since the last call (enum tc_conn_event). */
unsigned tc_conn_events(struct tc_conn *c);

/* TC_OK, or the error that aborted the connection. */
int tc_conn_error(const struct tc_conn *c);

/* The 33-byte session ID (§3.4); TC_E_STATE until the keys exist (RFC 8547 §5.1). */
int tc_conn_session_id(const struct tc_conn *c, uint8_t id[TC_SESSID_LEN]);

void tc_conn_info(const struct tc_conn *c, struct tc_conn_info *info);

/* The key-log secrets; TC_E_STATE unless cfg.keylog was set and the keys exist. */
int tc_conn_keylog(const struct tc_conn *c, struct tc_keylog *kl);

/*
 * Format kl as one key-log line, "<session-id-hex> <ss-hex> <es-hex>\n" ("-"
 * for a missing ES), NUL-terminated.  Returns its length or TC_E_NOSPACE.
 */
int tc_keylog_format(const struct tc_keylog *kl, char *buf, size_t cap);

/*
 * Erase the cache state this connection used or produced (§3.5 flush).  A
 * fresh session caches its ss[1] when the first frame from the peer
 * authenticates; after this call it never does.
 */
void tc_conn_flush_cache(struct tc_conn *c);

/*
 * Give back the buffers that hold nothing now (wiped): an idle connection
 * keeps its keys and state, a few hundred bytes, not its high-water buffers.
 */
void tc_conn_trim(struct tc_conn *c);

#endif
