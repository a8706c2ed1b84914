/* SPDX-License-Identifier: MIT */
/* A tcpcrypt connection: RFC 8548 §3.2-§3.9 over the core primitives. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include "core/aead.h"
#include "core/conn.h"
#include "core/err.h"
#include "core/frame.h"
#include "core/handshake.h"
#include "core/init.h"

/* A byte queue; its memory is wiped whenever it is released (plaintext, Init bytes). */
struct bq {
	uint8_t *buf;
	size_t head, len, cap;
};

struct tc_conn {
	int err; /* sticky: TC_OK or the abort */
	int role, orig_role;
	uint8_t tep_byte;
	const struct tc_tep *tep;
	const struct tc_aead_alg *aead; /* NULL until the keys exist */
	bool resumed;
	struct tc_sesscache *cache;
	const struct tc_keysrc *keysrc;
	struct tc_sc_ref cache_ref;
	uint8_t ss_next[TC_K_LEN]; /* ss[1], cached once the peer proved its keys */
	bool cache_pending;
	struct tc_peer peer;
	unsigned policy, events;
	size_t max_frame_data, max_buffer;
	uint16_t aeads[TC_INIT_MAX_CIPHERS];
	size_t naeads;
	uint8_t transcript[TC_CONN_TRANSCRIPT_MAX];
	size_t transcript_len;

	struct tc_hs hs;	  /* fresh sessions: own Init message and key pair */
	size_t init_sent;	  /* bytes of hs.msg output so far */
	struct bq peer_init;	  /* the peer's Init message while it arrives */
	uint64_t in_total;	  /* bytes of the peer's stream taken so far */
	struct tc_frame_dec *dec; /* NULL until the keys exist */
	struct tc_frame_enc enc;
	struct bq sendq, readq;
	bool fin_queued, eof;
	/* Urgent data (§3.7), offsets in the application streams counted from their first byte. */
	uint64_t out_plain, in_plain; /* data framed, and data of the peer's frames */
	uint64_t urg_out;	      /* the urgent byte to frame next, if urg_out_set */
	uint64_t urg_frame_end;	      /* end of the last frame sent with URGp (wire stream) */
	uint64_t urg_in;	      /* the peer's last urgent byte, if urg_in_set */
	bool urg_out_set, urg_in_set;

	uint8_t session_id[TC_SESSID_LEN];
	uint64_t ss_index;
	bool keylog;
	struct tc_keylog kl;
};

static void bq_free(struct bq *q)
{
	if (q->buf)
		OPENSSL_cleanse(q->buf, q->cap);
	free(q->buf);
	memset(q, 0, sizeof(*q));
}

/* The queued bytes; never a null pointer, so empty queues need no special case. */
static const uint8_t *bq_data(const struct bq *q)
{
	return q->buf ? q->buf + q->head : (const uint8_t *)"";
}

static int bq_append(struct bq *q, const uint8_t *data, size_t len)
{
	if (!len)
		return TC_OK;
	if (q->head + q->len + len > q->cap) {
		size_t cap = q->cap ? q->cap : 4096;
		uint8_t *buf;

		while (cap < q->len + len)
			cap *= 2;
		buf = malloc(cap);
		if (!buf)
			return TC_E_NOMEM;
		if (q->len)
			memcpy(buf, q->buf + q->head, q->len);
		bq_free(&(struct bq){q->buf, 0, 0, q->cap});
		q->buf = buf;
		q->cap = cap;
		q->head = 0;
	}
	memcpy(q->buf + q->head + q->len, data, len);
	q->len += len;
	return TC_OK;
}

static void bq_consume(struct bq *q, size_t n)
{
	/* No wipe here, on the hot path: bq_free wipes the whole buffer. */
	if (!n)
		return;
	q->head += n;
	q->len -= n;
	if (!q->len)
		q->head = 0;
}

static size_t min_sz(size_t a, size_t b)
{
	return a < b ? a : b;
}

/* Abort (RFC 8548 §3.3, §3.6, §3.7): the error sticks and buffered plaintext is dropped. */
static int fail(struct tc_conn *c, int err)
{
	if (!c->err) {
		c->err = err;
		c->events |= TC_CONN_EV_ABORT;
		bq_free(&c->readq);
		bq_free(&c->sendq);
	}
	return c->err;
}

/*
 * Both directions' framing from mk[0]; frames start at enc_off / dec_off
 * (docs/rfc-notes.md#tcpcrypt-frames).
 */
static int keys_ready(struct tc_conn *c, const struct tc_aead_alg *aead,
		      const struct tc_session_keys *keys, uint64_t enc_off, uint64_t dec_off)
{
	int err;

	c->dec = calloc(1, sizeof(*c->dec));
	if (!c->dec)
		return TC_E_NOMEM;
	err = tc_frame_enc_init(&c->enc, aead, keys->mk0, c->orig_role, enc_off);
	if (!err)
		err = tc_frame_dec_init(c->dec, aead, keys->mk0, c->orig_role, dec_off);
	if (err)
		return err;
	c->aead = aead;
	memcpy(c->session_id, keys->session_id, TC_SESSID_LEN);
	memcpy(c->kl.session_id, keys->session_id, TC_SESSID_LEN);
	c->kl.ss_index = c->ss_index;
	c->events |= TC_CONN_EV_KEYS;
	return TC_OK;
}

/* §3.5: keys of a resumed session from ss[i] and sn[i]; no Init messages, frames at 0. */
static int resume(struct tc_conn *c, struct tc_sc_ticket *t)
{
	const struct tc_aead_alg *aead = tc_aead_find(t->aead);
	struct tc_session_keys keys;
	uint8_t sn[TC_SN_MAX];
	size_t sn_len = tc_sc_ticket_sn(t, sn);
	int err;

	if (!aead)
		return TC_E_UNSUPPORTED;
	c->resumed = true;
	c->orig_role = t->ref.orig_role;
	c->ss_index = t->index;
	c->cache_ref = t->ref;
	if (c->keylog)
		memcpy(c->kl.ss, t->ss, TC_K_LEN);
	/* The successor ss[i+1] is already in the cache (tc_sc_offer/accept). */
	err = tc_session_keys(t->ss, c->tep_byte, sn, sn_len, &keys);
	if (!err)
		err = keys_ready(c, aead, &keys, 0, 0);
	tc_session_keys_wipe(&keys);
	OPENSSL_cleanse(sn, sizeof(sn));
	return err;
}

/*
 * For the key log only: ES and ss[0] again, which the handshake wipes before
 * returning (one more ECDH; only with cfg.keylog).
 */
static int keylog_fresh(struct tc_conn *c, const uint8_t *init1, size_t init1_len,
			const uint8_t *init2, size_t init2_len)
{
	const uint8_t *pub = c->hs.init1.pub;
	size_t pub_len = c->hs.init1.pub_len;
	struct tc_init2 i2;
	int err;

	if (c->role == ENO_ROLE_A) {
		err = tc_init2_decode(c->tep, init2, init2_len, &i2, NULL);
		if (err < 0)
			return err;
		pub = i2.pub;
		pub_len = i2.pub_len;
	}
	c->kl.es_len = c->tep->es_len;
	err = tc_tep_derive(&c->hs.key, pub, pub_len, c->kl.es);
	if (!err)
		err = tc_prk(c->hs.init1.nonce, c->transcript, c->transcript_len, init1, init1_len,
			     init2, init2_len, c->kl.es, c->kl.es_len, c->kl.ss);
	return err;
}

/* §3.3: the peer's Init message is complete; run our side of the exchange. */
static int handshake(struct tc_conn *c)
{
	const uint8_t *peer = bq_data(&c->peer_init);
	size_t peer_len = c->peer_init.len;
	bool a = c->role == ENO_ROLE_A;
	struct tc_hs_result res;
	int err;

	memset(&res, 0, sizeof(res));
	if (a)
		err =
		    tc_hs_finish_a(&c->hs, c->transcript, c->transcript_len, peer, peer_len, &res);
	else
		err = tc_hs_respond_b_from(&c->hs, c->keysrc, c->tep, c->aeads, c->naeads,
					   c->transcript, c->transcript_len, peer, peer_len, &res);
	if (err)
		goto out;
	if (c->keylog) {
		err = a ? keylog_fresh(c, c->hs.msg, c->hs.msg_len, peer, peer_len)
			: keylog_fresh(c, peer, peer_len, c->hs.msg, c->hs.msg_len);
		if (err)
			goto out;
	}
	/* Frames follow the Init messages in each direction (docs/rfc-notes.md#tcpcrypt-frames). */
	err = keys_ready(c, res.aead, &res.keys, c->hs.msg_len, peer_len);
	if (err)
		goto out;
	memcpy(c->ss_next, res.keys.ss_next, TC_K_LEN);
	c->cache_pending = c->cache != NULL;
out:
	/* Forward secrecy: the ephemeral private key is not needed any more (§3.3). */
	tc_tep_key_free(&c->hs.key);
	bq_free(&c->peer_init);
	tc_session_keys_wipe(&res.keys);
	return err;
}

static int init_decode(struct tc_conn *c, size_t *need)
{
	const uint8_t *in = bq_data(&c->peer_init);
	size_t len = c->peer_init.len;
	struct tc_init1 i1;
	struct tc_init2 i2;

	return c->role == ENO_ROLE_A ? tc_init2_decode(c->tep, in, len, &i2, need)
				     : tc_init1_decode(c->tep, in, len, &i1, need);
}

/* Collect the peer's Init message, exactly; returns the bytes taken or an error. */
static int input_init(struct tc_conn *c, const uint8_t *in, size_t len)
{
	size_t n = 0, need = 0;
	int r;

	while ((r = init_decode(c, &need)) == TC_E_NEED_MORE && n < len) {
		size_t take =
		    min_sz(need > c->peer_init.len ? need - c->peer_init.len : 1, len - n);

		r = bq_append(&c->peer_init, in + n, take);
		if (r)
			return r;
		n += take;
	}
	if (r == TC_E_NEED_MORE)
		return n;
	if (r < 0)
		return r;
	r = handshake(c);
	return r ? r : (int)n;
}

/*
 * §3.5: cache ss[1] of a fresh session, but only once a frame from the peer
 * authenticated, so that a tampered exchange cannot displace a good chain.
 */
static int cache_insert(struct tc_conn *c)
{
	int err = tc_sc_insert(c->cache, &c->peer, c->role, c->tep->id, c->aead->id, c->ss_next, 1,
			       c->policy, &c->cache_ref);

	OPENSSL_cleanse(c->ss_next, TC_K_LEN);
	c->cache_pending = false;
	return err;
}

static int input_frames(struct tc_conn *c, const uint8_t *in, size_t len)
{
	size_t n = 0;

	while (n < len && c->readq.len < c->max_buffer) {
		struct tc_frame_msg msg;
		size_t used;
		int r = tc_frame_dec_feed(c->dec, in + n, len - n, &used, &msg);

		n += used;
		if (r == TC_E_NEED_MORE)
			break;
		if (r < 0)
			return r;
		if (c->cache_pending) {
			r = cache_insert(c);
			if (r)
				return r;
		}
		/* §3.7: the urgent field counts from the frame's first data byte. */
		if ((msg.flags & TC_FRAME_URGP) &&
		    (!c->urg_in_set || c->in_plain + msg.urgent > c->urg_in)) {
			c->urg_in = c->in_plain + msg.urgent;
			c->urg_in_set = true;
			c->events |= TC_CONN_EV_URGENT;
		}
		c->in_plain += msg.len;
		if (msg.len) {
			r = bq_append(&c->readq, msg.data, msg.len);
			if (r)
				return r;
			c->events |= TC_CONN_EV_DATA;
		}
		/* §3.8: follow the peer's generation; the encoder answers at once if due. */
		if (msg.rekey) {
			tc_frame_enc_sync(&c->enc, msg.gen);
			c->events |= TC_CONN_EV_PEER_REKEY;
		}
		if (msg.flags & TC_FRAME_FINP) {
			c->eof = true;
			c->events |= TC_CONN_EV_EOF;
		}
	}
	return n;
}

int tc_conn_input(struct tc_conn *c, const uint8_t *wire, size_t len, bool fin)
{
	uint64_t fin_at = c->in_total + len;
	int n = 0, r;

	if (c->err)
		return c->err;
	if (len > INT_MAX) {
		len = INT_MAX;
		fin = false;
	}
	if (!c->aead) {
		n = input_init(c, wire, len);
		if (n < 0)
			return fail(c, n);
	}
	if (c->aead) {
		r = input_frames(c, wire + n, len - n);
		if (r < 0)
			return fail(c, r);
		n += r;
	}
	c->in_total += n;
	if (!fin)
		return n;
	/* §3.7: TCP FIN is EOF only right after a FINp frame; else abort, distinct from EOF. */
	if (!c->aead)
		return (size_t)n == len ? fail(c, TC_E_FIN_NO_FINP) : n;
	r = tc_frame_dec_fin(c->dec, fin_at);
	if (r < 0 && r != TC_E_NEED_MORE)
		return fail(c, r);
	return n;
}

int tc_conn_send(struct tc_conn *c, const uint8_t *data, size_t len, bool fin)
{
	size_t room = c->sendq.len < c->max_buffer ? c->max_buffer - c->sendq.len : 0;
	size_t take = min_sz(len, room);
	int err;

	if (c->err)
		return c->err;
	if (c->fin_queued)
		return TC_E_STATE;
	err = bq_append(&c->sendq, data, take);
	if (err)
		return fail(c, err);
	c->fin_queued = fin && take == len;
	return take;
}

int tc_conn_send_urgent(struct tc_conn *c, uint64_t off)
{
	if (c->err)
		return c->err;
	if (off < c->out_plain || (c->fin_queued && off - c->out_plain >= c->sendq.len))
		return TC_E_STATE;
	c->urg_out = off;
	c->urg_out_set = true;
	return TC_OK;
}

uint64_t tc_conn_urgent_frame_end(const struct tc_conn *c)
{
	return c->urg_frame_end;
}

bool tc_conn_urgent(const struct tc_conn *c, uint64_t *off)
{
	*off = c->urg_in;
	return c->urg_in_set;
}

/*
 * §3.7: the frame whose data holds the pending urgent byte gets URGp, and the
 * byte's index in its data as the urgent field (docs/urgent-data.md).  With
 * no room for the 2-byte field, the frame ends before the byte, and the next
 * one starts with it.  *data: the frame's data length, adjusted; room: the
 * space for data in the frame without the field.  Returns the flags to add.
 */
static uint8_t urgent_place(const struct tc_conn *c, size_t *data, size_t room, uint16_t *urgent)
{
	uint64_t at = c->urg_out - c->out_plain;
	size_t fit;

	if (!c->urg_out_set || at >= *data)
		return 0;
	fit = min_sz(min_sz(*data, room >= 2 ? room - 2 : 0), TC_FRAME_URG_DATA_MAX);
	if (at >= fit) {
		*data = at;
		return 0;
	}
	*data = fit;
	*urgent = at;
	return TC_FRAME_URGP;
}

static bool frame_due(const struct tc_conn *c)
{
	return c->aead && c->init_sent == c->hs.msg_len && !c->enc.fin_sent &&
	       (c->sendq.len || c->fin_queued || tc_frame_enc_rekey_due(&c->enc));
}

bool tc_conn_want_output(const struct tc_conn *c)
{
	return !c->err && (c->init_sent < c->hs.msg_len || frame_due(c));
}

int tc_conn_output(struct tc_conn *c, uint8_t *buf, size_t cap)
{
	size_t n;

	if (c->err)
		return c->err;
	cap = min_sz(cap, INT_MAX);
	/* §3.3: the Init message is the first thing in this host's stream. */
	n = min_sz(c->hs.msg_len - c->init_sent, cap);
	if (n)
		memcpy(buf, c->hs.msg + c->init_sent, n);
	c->init_sent += n;
	while (frame_due(c) && cap - n >= TC_FRAME_OVERHEAD) {
		size_t room = cap - n - TC_FRAME_OVERHEAD;
		size_t data = min_sz(min_sz(c->sendq.len, c->max_frame_data), room);
		uint16_t urgent = 0;
		uint8_t flags = urgent_place(c, &data, room, &urgent);
		int r;

		if (c->fin_queued && data == c->sendq.len)
			flags |= TC_FRAME_FINP;
		/* Rather wait for room than send an empty frame while data waits. */
		if (!data && c->sendq.len)
			break;
		r = tc_frame_seal(&c->enc, bq_data(&c->sendq), data, flags, urgent, buf + n,
				  cap - n);
		if (r < 0)
			return fail(c, r);
		n += r;
		bq_consume(&c->sendq, data);
		c->out_plain += data;
		if (flags & TC_FRAME_URGP) {
			c->urg_out_set = false;
			c->urg_frame_end = c->enc.offset;
		}
		if (flags & TC_FRAME_FINP)
			c->events |= TC_CONN_EV_FIN_SENT;
	}
	return n;
}

int tc_conn_read(struct tc_conn *c, uint8_t *buf, size_t cap)
{
	size_t n = min_sz(min_sz(c->readq.len, cap), INT_MAX);

	if (c->err)
		return c->err;
	if (n)
		memcpy(buf, bq_data(&c->readq), n);
	bq_consume(&c->readq, n);
	return n;
}

int tc_conn_rekey(struct tc_conn *c)
{
	if (c->err)
		return c->err;
	if (!c->aead)
		return TC_E_STATE;
	return tc_frame_enc_rekey(&c->enc);
}

unsigned tc_conn_events(struct tc_conn *c)
{
	unsigned ev = c->events;

	c->events = 0;
	return ev;
}

int tc_conn_error(const struct tc_conn *c)
{
	return c->err;
}

int tc_conn_session_id(const struct tc_conn *c, uint8_t id[TC_SESSID_LEN])
{
	if (!c->aead)
		return TC_E_STATE;
	memcpy(id, c->session_id, TC_SESSID_LEN);
	return TC_OK;
}

void tc_conn_info(const struct tc_conn *c, struct tc_conn_info *info)
{
	memset(info, 0, sizeof(*info));
	info->role = c->role;
	info->orig_role = c->orig_role;
	info->tep_byte = c->tep_byte;
	info->aead = c->aead ? c->aead->id : 0;
	info->resumed = c->resumed;
	info->keys_ready = c->aead != NULL;
	info->eof = c->eof;
	info->fin_sent = c->enc.fin_sent;
	info->ss_index = c->ss_index;
	info->local_gen = c->enc.local_gen;
	info->sent_gen = c->enc.keys.gen;
	info->remote_gen = c->dec ? c->dec->keys.gen : 0;
	info->cache_ref = c->cache_ref;
}

int tc_conn_keylog(const struct tc_conn *c, struct tc_keylog *kl)
{
	if (!c->keylog || !c->aead)
		return TC_E_STATE;
	*kl = c->kl;
	return TC_OK;
}

static void hex(char *out, const uint8_t *in, size_t len)
{
	for (size_t i = 0; i < len; i++)
		sprintf(out + 2 * i, "%02x", in[i]);
}

int tc_keylog_format(const struct tc_keylog *kl, char *buf, size_t cap)
{
	size_t len = 2 * TC_SESSID_LEN + 1 + 2 * TC_K_LEN + 1 + (kl->es_len ? 2 * kl->es_len : 1);
	char *p = buf;

	if (kl->es_len > TC_TEP_ES_MAX || cap < len + 2)
		return TC_E_NOSPACE;
	hex(p, kl->session_id, TC_SESSID_LEN);
	p += 2 * TC_SESSID_LEN;
	*p++ = ' ';
	hex(p, kl->ss, TC_K_LEN);
	p += 2 * TC_K_LEN;
	*p++ = ' ';
	if (kl->es_len)
		hex(p, kl->es, kl->es_len);
	else
		*p = '-';
	strcpy(buf + len, "\n");
	return len + 1;
}

void tc_conn_flush_cache(struct tc_conn *c)
{
	OPENSSL_cleanse(c->ss_next, TC_K_LEN);
	c->cache_pending = false;
	if (c->cache)
		tc_sc_flush(c->cache, &c->cache_ref);
}

/* §3.2, §3.5: resume when B sent v = 1 and the halves match, else a fresh exchange. */
static int start(struct tc_conn *c, const struct tc_eno_result *eno)
{
	struct tc_sc_ticket *t = eno->ticket;

	if (!(eno->tep_byte & TC_TEP_V_BIT)) {
		c->orig_role = c->role;
		/* Host A speaks first (§3.3); B waits for Init1. */
		return c->role == ENO_ROLE_A
			   ? tc_hs_init1_from(&c->hs, c->keysrc, c->tep, c->aeads, c->naeads)
			   : TC_OK;
	}
	if (!t || t->ref.tep != c->tep->id)
		return TC_CONN_DISABLE;
	/* §3.5: an active opener whose half is not answered must disable tcpcrypt. */
	if (!t->complete && tc_sc_answer(t, eno->peer_subopt, eno->peer_subopt_len) != TC_SC_RESUME)
		return TC_CONN_DISABLE;
	return resume(c, t);
}

int tc_conn_new(struct tc_conn **out, const struct tc_conn_config *cfg,
		const struct tc_eno_result *eno)
{
	struct tc_conn *c = NULL;
	int err = TC_E_INVAL;

	*out = NULL;
	if (!tc_role_valid(eno->role) || eno->transcript_len > TC_CONN_TRANSCRIPT_MAX ||
	    cfg->naeads > TC_INIT_MAX_CIPHERS || (cfg->aeads && !cfg->naeads) ||
	    cfg->max_frame_data > TC_FRAME_DATA_MAX)
		goto out;
	err = TC_E_NOMEM;
	c = calloc(1, sizeof(*c));
	if (!c)
		goto out;
	c->role = eno->role;
	c->tep_byte = eno->tep_byte;
	c->tep = tc_tep_find(eno->tep_byte);
	c->cache = cfg->cache;
	c->keysrc = cfg->keysrc;
	c->peer = eno->peer;
	c->policy = cfg->policy;
	c->keylog = cfg->keylog;
	c->max_frame_data = cfg->max_frame_data ? cfg->max_frame_data : TC_FRAME_DATA_MAX;
	c->max_buffer = cfg->max_buffer ? cfg->max_buffer : TC_CONN_BUFFER_DFLT;
	c->naeads = cfg->aeads ? cfg->naeads : tc_aead_default_pref_len;
	memcpy(c->aeads, cfg->aeads ? cfg->aeads : tc_aead_default_pref,
	       c->naeads * sizeof(*c->aeads));
	if (eno->transcript_len)
		memcpy(c->transcript, eno->transcript, eno->transcript_len);
	c->transcript_len = eno->transcript_len;
	err = c->tep ? start(c, eno) : TC_E_UNSUPPORTED;
	if (err)
		goto out;
	*out = c;
	c = NULL;
out:
	/* A secret taken from the cache is never used twice, whatever happened (§3.5). */
	if (eno->ticket)
		tc_sc_ticket_wipe(eno->ticket);
	tc_conn_free(c);
	return err;
}

void tc_conn_free(struct tc_conn *c)
{
	if (!c)
		return;
	tc_hs_free(&c->hs);
	tc_frame_enc_free(&c->enc);
	if (c->dec) {
		tc_frame_dec_free(c->dec);
		OPENSSL_cleanse(c->dec, sizeof(*c->dec));
		free(c->dec);
	}
	bq_free(&c->peer_init);
	bq_free(&c->sendq);
	bq_free(&c->readq);
	OPENSSL_cleanse(c, sizeof(*c));
	free(c);
}

void tc_conn_trim(struct tc_conn *c)
{
	if (!c->sendq.len)
		bq_free(&c->sendq);
	if (!c->readq.len)
		bq_free(&c->readq);
	if (c->dec)
		tc_frame_dec_trim(c->dec);
}
