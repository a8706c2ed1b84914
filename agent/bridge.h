/* SPDX-License-Identifier: MIT */
/*
 * The bridge between the BPF side (include/tcpcrypt_common.h, include/eno.h:
 * map layouts, what the kernel and tcpcryptctl see) and the agent's pure
 * protocol core and translator (agent/core/, agent/dp/), which keep their
 * own names so that they stay free of BPF headers.  Every fact both sides
 * need is tied here at compile time: a change on one side that the other
 * does not follow stops the build.  Included by agent/tcpcryptd.c.
 */
#ifndef TCPCRYPT_BRIDGE_H
#define TCPCRYPT_BRIDGE_H

#include "tcpcrypt_common.h"
#include "core/aead.h"
#include "core/conn.h"
#include "core/frame.h"
#include "core/init.h"
#include "core/kdf.h"
#include "core/tep.h"
#include "dp/xlate.h"

/* TEP identifiers, RFC 8548 §7 */
_Static_assert(TC_TEP_P256 == TEP_P256, "TEP id P-256");
_Static_assert(TC_TEP_P521 == TEP_P521, "TEP id P-521");
_Static_assert(TC_TEP_X25519 == TEP_X25519, "TEP id X25519");
_Static_assert(TC_TEP_X448 == TEP_X448, "TEP id X448");

/* AEAD identifiers, RFC 8548 §7 (session_info.aead, tcpcryptctl sessions) */
_Static_assert(TC_AEAD_AES_128_GCM == TCPCRYPT_AEAD_AES_128_GCM, "AEAD id AES-128-GCM");
_Static_assert(TC_AEAD_AES_256_GCM == TCPCRYPT_AEAD_AES_256_GCM, "AEAD id AES-256-GCM");
_Static_assert(TC_AEAD_CHACHA20_POLY1305 == TCPCRYPT_AEAD_CHACHA20_POLY1305,
	       "AEAD id ChaCha20-Poly1305");

/* Sizes */
_Static_assert(TC_SESSID_LEN == TCPCRYPT_SESSID_LEN, "session ID length, RFC 8548 §3.4");
_Static_assert(sizeof(((struct session_info *)0)->session_id) == TC_SESSID_LEN,
	       "session_info holds a whole session ID");
_Static_assert(TC_FRAME_OVERHEAD == TCPCRYPT_FRAME_OVERHEAD,
	       "frame overhead, RFC 8548 §4.2: sock_ops lowers the MSS by it");
_Static_assert(TC_CONN_TRANSCRIPT_MAX == TCPCRYPT_TRANSCRIPT_MAX,
	       "transcript maximum: flow_info.transcript feeds the core's");
_Static_assert(sizeof(((struct flow_info *)0)->transcript) == TC_CONN_TRANSCRIPT_MAX,
	       "flow_info holds a whole transcript");

/* Init1's magic, RFC 8548 §4.1: TC ingress recognises it on fallen-back flows */
_Static_assert(TC_INIT1_MAGIC == TCPCRYPT_INIT1_MAGIC, "Init1 magic");

/* TCP header flags, RFC 9293 §3.1: the BPF programs' TH_* and the translator's DP_* */
_Static_assert(DP_FIN == TH_FIN && DP_SYN == TH_SYN && DP_RST == TH_RST && DP_PSH == TH_PSH &&
		   DP_ACK == TH_ACK && DP_URG == TH_URG && DP_ECE == TH_ECE && DP_CWR == TH_CWR,
	       "TCP flags");

#endif
