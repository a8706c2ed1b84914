/* SPDX-License-Identifier: MIT */
/*
 * tcpcrypt encryption frames (RFC 8548 §3.6-§3.9, §4.2).
 *
 *   frame     = control(1) | clen(BE16) | ciphertext[clen]
 *   control   : bit 0 rekey, bits 7..1 reserved (send 0, ignore)
 *   plaintext = flags(1) [| urgent(BE16) if URGp] | data
 *   flags     : bit 0 FINp, bit 1 URGp, bits 7..2 reserved (send 0, ignore)
 *   AD        = control | clen
 *   nonce     = (zero bytes | offset as BE64) XOR NR
 *
 * offset is where the frame starts in this direction's TCP payload stream,
 * counted from its first byte, so it includes the Init message (our reading,
 * docs/rfc-notes.md#gaps-and-our-readings item 2): host A's first frame is at
 * len(Init1), host B's at len(Init2), both are at 0 in a resumed session.
 *
 * Each direction has its own key chain mk[j] (§3.8): the encoder of a host
 * walks it with its local generation, the decoder with its record of the
 * remote generation.  Both start from the session's mk[0].
 */
#ifndef TCPCRYPT_CORE_FRAME_H
#define TCPCRYPT_CORE_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "core/aead.h"
#include "core/kdf.h"

#define TC_FRAME_HDR_LEN      3	    /* control | clen */
#define TC_FRAME_CLEN_MAX     65535 /* clen < 2^16 (§3.6) */
#define TC_FRAME_MAX_LEN      (TC_FRAME_HDR_LEN + TC_FRAME_CLEN_MAX)
#define TC_FRAME_CLEN_MIN     (1 + TC_AEAD_TAG_LEN)		      /* flags byte and tag */
#define TC_FRAME_OVERHEAD     (TC_FRAME_HDR_LEN + TC_FRAME_CLEN_MIN)  /* 20 bytes */
#define TC_FRAME_DATA_MAX     (TC_FRAME_CLEN_MAX - TC_FRAME_CLEN_MIN) /* 65518 */
#define TC_FRAME_URG_DATA_MAX (TC_FRAME_DATA_MAX - 2)		      /* 65516 */

#define TC_FRAME_CTL_REKEY 0x01
#define TC_FRAME_FINP	   0x01 /* flags: last frame of the stream (§3.7) */
#define TC_FRAME_URGP	   0x02 /* flags: urgent field present (§3.7) */

/* Bytes on the wire for a frame carrying data_len bytes (urg: URGp set). */
static inline size_t tc_frame_len(size_t data_len, bool urg)
{
	return TC_FRAME_OVERHEAD + (urg ? 2 : 0) + data_len;
}

/* One direction's key chain: mk[gen] and the traffic key derived from it. */
struct tc_frame_keys {
	struct tc_aead aead; /* bound to K of k_ab[gen] or k_ba[gen] */
	uint8_t nr[TC_AE_NONCE_MAX];
	uint8_t mk[TC_K_LEN]; /* mk[gen] */
	uint64_t gen;
	uint8_t key_const; /* TC_CONST_KEY_A or TC_CONST_KEY_B */
};

/* ---- sending ---- */

struct tc_frame_enc {
	struct tc_frame_keys keys; /* keys.gen: generation of the last frame sealed */
	uint64_t offset;	   /* stream offset of the next frame */
	uint64_t local_gen;	   /* local generation (§3.8); > keys.gen: rekey frames due */
	uint64_t remote_gen;	   /* highest generation the peer has shown us */
	bool fin_sent;
};

/*
 * Start sending with key set 0 of a session: alg is the session's AEAD, mk0
 * its mk[0], orig_role this host's role in the session that produced ss[0]
 * (it picks k_ab or k_ba, §3.5), offset the stream offset of the first frame.
 * Returns TC_OK, TC_E_NOMEM or TC_E_CRYPTO.  Free with tc_frame_enc_free.
 */
int tc_frame_enc_init(struct tc_frame_enc *e, const struct tc_aead_alg *alg,
		      const uint8_t mk0[TC_K_LEN], int orig_role, uint64_t offset);
void tc_frame_enc_free(struct tc_frame_enc *e);

/*
 * Seal one frame carrying data[0..len) into out (tc_frame_len(len, urg)
 * bytes).  data may overlap out; placed at out + 4 (out + 6 with URGp), its
 * final position, it is encrypted in place without a copy.  flags: TC_FRAME_FINP on the last frame
 * only; TC_FRAME_URGP with urgent as the urgent field (§3.7).  If local_gen is ahead of the key in
 * use, the frame moves one generation up and carries rekey = 1 (§3.8);
 * callers keep sealing (empty frames if need be) while
 * tc_frame_enc_rekey_due() is true.
 * Returns the frame length, or TC_E_STATE (after FINp, or the 2^64 offset
 * limit), TC_E_TOO_LONG (len too large), TC_E_NOSPACE, TC_E_CRYPTO.
 */
int tc_frame_seal(struct tc_frame_enc *e, const uint8_t *data, size_t len, uint8_t flags,
		  uint16_t urgent, uint8_t *out, size_t cap);

/*
 * Initiate rekeying (§3.8), also the authenticated keep-alive (§3.9): raise
 * the local generation by one; the next sealed frame (send an empty one for a
 * keep-alive) carries rekey = 1, and the peer's rekey reply proves it alive.
 * Returns TC_E_STATE while an earlier rekey is unanswered (local generation
 * above the remote one): the RFC forbids more than one outstanding rekey with
 * empty frames, and we apply that to all.
 */
int tc_frame_enc_rekey(struct tc_frame_enc *e);

/*
 * Tell the encoder the peer reached generation remote_gen (from a decoded
 * frame with rekey set).  Returns true when this host must now send a frame
 * with rekey = 1 at once (§3.8: the remote generation passed the local one and
 * no FINp has been sent); the caller then seals a frame, empty if it has no data.
 */
bool tc_frame_enc_sync(struct tc_frame_enc *e, uint64_t remote_gen);

/* True while frames must still be sealed to bring the key up to local_gen. */
static inline bool tc_frame_enc_rekey_due(const struct tc_frame_enc *e)
{
	return e->local_gen > e->keys.gen && !e->fin_sent;
}

/* ---- receiving ---- */

/* A frame that authenticated. */
struct tc_frame_msg {
	const uint8_t *data; /* plaintext data, valid until the next decoder call */
	size_t len;
	uint64_t offset; /* stream offset of the frame */
	uint64_t gen;	 /* generation it was encrypted under */
	uint16_t urgent; /* urgent field if URGp */
	uint8_t flags;	 /* TC_FRAME_FINP, TC_FRAME_URGP (reserved bits cleared) */
	bool rekey;	 /* frame had rekey = 1: call tc_frame_enc_sync(enc, gen) */
};

enum tc_frame_dec_state {
	TC_DEC_HDR,  /* collecting control | clen */
	TC_DEC_BODY, /* collecting ciphertext */
	TC_DEC_FIN,  /* FINp frame received: nothing may follow */
	TC_DEC_FAIL, /* error reported; it sticks */
};

/*
 * Streaming decoder.  Memory is bounded: it buffers at most one frame,
 * TC_FRAME_MAX_LEN bytes (the struct is about 64 KiB; allocate it).
 */
struct tc_frame_dec {
	struct tc_frame_keys keys; /* keys.gen: remote generation (§3.8) */
	uint64_t offset;	   /* stream offset of the frame being collected */
	uint64_t fin_at;	   /* TCP FIN offset from tc_frame_dec_fin, or UINT64_MAX */
	enum tc_frame_dec_state state;
	int err; /* sticky error in TC_DEC_FAIL */
	size_t have;
	/*
	 * A frame collected across inputs, and the plaintext of every frame:
	 * taken on demand, as large as the largest frame yet, wiped (the part
	 * ever written, dirty) and given back by tc_frame_dec_trim when idle.
	 */
	uint8_t *buf;
	size_t cap, dirty;
};

/*
 * Start receiving with key set 0 (arguments as for tc_frame_enc_init;
 * orig_role is this host's role: it decrypts with the other direction's key).
 */
int tc_frame_dec_init(struct tc_frame_dec *d, const struct tc_aead_alg *alg,
		      const uint8_t mk0[TC_K_LEN], int orig_role, uint64_t offset);
void tc_frame_dec_free(struct tc_frame_dec *d);
/* Between frames: wipe and give back the buffer (an idle connection holds none). */
void tc_frame_dec_trim(struct tc_frame_dec *d);

/*
 * Feed stream bytes.  Consumes bytes of in (*used says how many) up to the end
 * of at most one frame.  Returns:
 *   TC_OK            a frame authenticated; *msg describes it
 *   TC_E_NEED_MORE   all len bytes consumed, no frame completed yet
 *   TC_E_AUTH        a frame failed verification; nothing of it is delivered
 *   TC_E_MALFORMED   clen < 17, or URGp in a frame too short for the urgent field
 *   TC_E_AFTER_FIN   bytes after the FINp frame
 *   TC_E_FIN_NO_FINP the stream reached the TCP FIN offset (tc_frame_dec_fin)
 *                    without a FINp frame ending there
 * Any error is sticky: later calls return it again.  The stream can be cut
 * anywhere: any split of the same bytes gives the same frames.
 */
int tc_frame_dec_feed(struct tc_frame_dec *d, const uint8_t *in, size_t len, size_t *used,
		      struct tc_frame_msg *msg);

/*
 * The peer's TCP FIN sits at stream offset fin_offset (= the length of its
 * whole stream).  Returns:
 *   TC_OK            the decoder consumed exactly fin_offset bytes and the last
 *                    frame had FINp: a clean, authenticated end of stream (§3.7)
 *   TC_E_NEED_MORE   earlier bytes are still to be fed; tc_frame_dec_feed
 *                    does the check when the stream reaches fin_offset
 *   TC_E_FIN_NO_FINP no FINp frame ends at fin_offset (§3.7: abort, not EOF)
 *   TC_E_AFTER_FIN   the FINp frame ended before fin_offset
 */
int tc_frame_dec_fin(struct tc_frame_dec *d, uint64_t fin_offset);

#endif
