/* SPDX-License-Identifier: MIT */
/*
 * Structures and constants seen by both the BPF programs and user space
 * (tcpcryptd, tcpcryptctl), so that the two cannot drift; those the
 * agent's protocol core also defines under its own names are tied to them
 * with _Static_assert in agent/bridge.h.  Every map is
 * pinned under one directory (default /sys/fs/bpf/tcpcrypt) with BTF, so
 * `bpftool map dump pinned <dir>/<map>` prints these field names.
 */
#ifndef TCPCRYPT_COMMON_H
#define TCPCRYPT_COMMON_H

#ifndef __bpf__
#include <linux/types.h>
#endif
#include "eno.h"

#define TCPCRYPT_PIN_DIR	"/sys/fs/bpf/tcpcrypt"
#define TCPCRYPT_TRANSCRIPT_MAX 80 /* two SYN-form options of at most 40 bytes */
#define TCPCRYPT_MAX_IFACES	64
#define TCPCRYPT_FRAME_OVERHEAD 20 /* RFC 8548 §4.2: control, clen, flags, 16-byte tag */
/*
 * Largest TCP payload of a wire segment of the data path: every packet must
 * fit one AF_XDP frame (4 KiB less the kernel's headroom), also on jumbo
 * links, since copy mode on veth has no multi-buffer frames here.
 */
#define TCPCRYPT_WIRE_MSS_MAX 3300
/*
 * MTU of the capture veth pairs: the largest segment (plaintext or wire,
 * IPv6 with options) fits, and it stays below what driver-mode XDP on a
 * veth accepts (about 3.5 KB).
 */
#define TCPCRYPT_CAPTURE_MTU 3440

/*
 * Map names, as xdp-tools does it: each map's BPF identifier is the
 * MAP_*_NAME token (bpf/maps.bpf.h declares `} MAP_FLOWS_NAME SEC(".maps")`),
 * and its pin file name under the pin directory is that token as a string,
 * MAP_* (textify), so that the two cannot drift.
 */
#define _textify(x) #x
#define textify(x)  _textify(x)

#define MAP_FLOWS_NAME	    flows
#define MAP_PENDING_NAME    pending
#define MAP_PORTS_NAME	    ports
#define MAP_CONFIG_NAME	    settings
#define MAP_PORTSTATE_NAME  portstate
#define MAP_STATS_NAME	    stats
#define MAP_DROPS_NAME	    drops
#define MAP_NEGCACHE_NAME   negcache
#define MAP_ENO_PEERS_NAME  eno_peers
#define MAP_IFACES_NAME	    ifaces
#define MAP_SESSIONS_NAME   sessions
#define MAP_DPSTATS_NAME    dpstats
#define MAP_AGENT_NAME	    agent
#define MAP_XSKS_NAME	    xsks
#define MAP_SYNSEEN_NAME    syn_seen
#define MAP_SKOPTS_NAME	    sk_opts
#define MAP_LISTENOPTS_NAME listen_opts
#define MAP_RS_PEERS_NAME   rs_peers
#define MAP_RS_OFFERS_NAME  rs_offers
#define MAP_RS_ACCEPTS_NAME rs_accepts
#define MAP_RS_CACHE_NAME   rs_cache
#define MAP_RS_CTL_NAME	    rs_ctl
#define MAP_CAPSEEN_NAME    capture_seen

#define MAP_FLOWS      textify(MAP_FLOWS_NAME)
#define MAP_PENDING    textify(MAP_PENDING_NAME)
#define MAP_PORTS      textify(MAP_PORTS_NAME)
#define MAP_CONFIG     textify(MAP_CONFIG_NAME)
#define MAP_PORTSTATE  textify(MAP_PORTSTATE_NAME)
#define MAP_STATS      textify(MAP_STATS_NAME)
#define MAP_DROPS      textify(MAP_DROPS_NAME)
#define MAP_NEGCACHE   textify(MAP_NEGCACHE_NAME)
#define MAP_ENO_PEERS  textify(MAP_ENO_PEERS_NAME)
#define MAP_IFACES     textify(MAP_IFACES_NAME)
#define MAP_SESSIONS   textify(MAP_SESSIONS_NAME)
#define MAP_DPSTATS    textify(MAP_DPSTATS_NAME)
#define MAP_AGENT      textify(MAP_AGENT_NAME)
#define MAP_XSKS       textify(MAP_XSKS_NAME)
#define MAP_SYNSEEN    textify(MAP_SYNSEEN_NAME)
#define MAP_SKOPTS     textify(MAP_SKOPTS_NAME)
#define MAP_LISTENOPTS textify(MAP_LISTENOPTS_NAME)
#define MAP_RS_PEERS   textify(MAP_RS_PEERS_NAME)
#define MAP_RS_OFFERS  textify(MAP_RS_OFFERS_NAME)
#define MAP_RS_ACCEPTS textify(MAP_RS_ACCEPTS_NAME)
#define MAP_RS_CACHE   textify(MAP_RS_CACHE_NAME)
#define MAP_RS_CTL     textify(MAP_RS_CTL_NAME)
#define MAP_CAPSEEN    textify(MAP_CAPSEEN_NAME)

/*
 * Packet capture: the agent writes bpf_ktime_get_ns()'s clock (CLOCK_MONOTONIC)
 * into capture_seen[slot] at least this often; TC ingress on the capture veth
 * counts what it drops as drop_capture_no_socket once the entry is older than
 * TCPCRYPT_CAPTURE_ALIVE_NS (the agent is gone: fail closed).
 */
#define TCPCRYPT_CAPTURE_BEAT_NS  (100 * 1000000ull)
#define TCPCRYPT_CAPTURE_ALIVE_NS (1200 * 1000000ull)

/*
 * TCP header flags (RFC 9293 §3.1), byte 13 of the header, as the BPF
 * programs use them; the agent's DP_* (agent/dp/xlate.h) are tied to them
 * in agent/bridge.h.
 */
#define TH_FIN 0x01
#define TH_SYN 0x02
#define TH_RST 0x04
#define TH_PSH 0x08
#define TH_ACK 0x10
#define TH_URG 0x20
#define TH_ECE 0x40
#define TH_CWR 0x80

/* A connection from the local host's point of view; ports in host order. */
struct flow_key {
	__u8 family; /* AF_INET (2) or AF_INET6 (10) */
	__u8 pad;
	__u16 lport;
	__u16 rport;
	__u16 pad2;
	__u32 laddr[4]; /* network order; IPv4 in laddr[0] */
	__u32 raddr[4];
};

enum flow_state {
	FLOW_NEGOTIATING = 1, /* ENO sent, outcome not known yet */
	FLOW_TCPCRYPT = 2,    /* ENO succeeded: the TEP governs the connection */
	FLOW_PLAIN = 3,	      /* fell back to plain TCP (see reason) */
};

enum port_policy {
	POLICY_ON = 0,	    /* opportunistic (default) */
	POLICY_OFF = 1,	    /* never send or answer ENO */
	POLICY_REQUIRE = 2, /* refuse the connection unless ENO succeeds */
};

enum flow_flags {
	FLOWF_ACTIVE = 1 << 0, /* we sent the SYN */
	FLOWF_SEND_ACK_OPT =
	    1 << 1, /* RFC 8547 §4.6: ENO on every segment until a non-SYN one arrives */
	/*
	 * The socket closed, but the flow is encrypted: its time-wait socket
	 * and the peer may still send, and their segments must go through the
	 * agent, which removes the entry once it is done with the flow.
	 */
	FLOWF_CLOSED = 1 << 2,
	/* B, fallen back: the peer's first payload was looked at (see TC ingress) */
	FLOWF_FIRST_SEEN = 1 << 3,
	/* the socket asked (SKO_NO_CACHE): the agent caches no secret of this session */
	FLOWF_NO_CACHE = 1 << 4,
	/* the socket asked (SKO_FLUSH): the agent flushes what this session used or produced */
	FLOWF_FLUSH = 1 << 5,
	/*
	 * the socket asked (TCP_ENO_AA_MANDATORY): fall back unless the peer
	 * sends a = 1, as the system's need_peer_a does (RFC 8547 §4.2)
	 */
	FLOWF_AA_MANDATORY = 1 << 6,
};

enum flow_tcpopts {
	FLOW_OPT_SACK = 1 << 0,
	FLOW_OPT_TS = 1 << 1,
	FLOW_OPT_WSCALE = 1 << 2,
	/* while the SYNs are exchanged: who sent what (sock_ops only) */
	FLOWO_L_SACK = 1 << 4,
	FLOWO_L_TS = 1 << 5,
	FLOWO_P_SACK = 1 << 6,
	FLOWO_P_TS = 1 << 7,
};

struct flow_info {
	__u8 state;	     /* enum flow_state */
	__u8 role;	     /* ENO_ROLE_A (1) or ENO_ROLE_B (2), 0 if none */
	__u8 tep;	     /* negotiated TEP id */
	__u8 v;		     /* v bit of B's suboption for the TEP */
	__u8 peer_a;	     /* application-aware bit the peer sent */
	__u8 policy;	     /* enum port_policy in force at connect/accept time */
	__u8 reason;	     /* enum eno_fail when state is FLOW_PLAIN */
	__u8 flags;	     /* enum flow_flags */
	__u8 syn_tx;	     /* SYNs sent carrying ENO */
	__u8 transcript_len; /* RFC 8547 §4.8: A's SYN option then B's */
	__u8 a_opt_len;	     /* length of A's part of the transcript */
	__u8 peer_data_off;  /* peer's suboption data for the TEP, offset in transcript */
	__u8 peer_data_len;
	__u8 snd_wscale; /* window scale shift the peer applies (RFC 7323) */
	__u8 rcv_wscale; /* window scale shift we apply */
	__u8 tcpopts;	 /* FLOW_OPT_*: options negotiated in the SYNs */
	__u32 local_isn; /* ISNs of this host's and the peer's SYN, for the data path */
	__u32 peer_isn;
	__u16 mss;	 /* this host's send MSS when the handshake completed */
	__u16 aead_pref; /* the socket's preferred AEAD (SKO_SET_AEAD), 0: the agent's order */
	__u64 cookie;	 /* socket cookie */
	__u64 start_ns;
	/*
	 * Resumption (docs/architecture.md#session-resumption-on-the-wire):
	 * the id of the offer (A) or acceptance (B) this connection claimed in
	 * rs_offers / rs_accepts, 0 if none; A: the TEP it proposed and the
	 * identifier half B must answer with.
	 */
	__u32 rs_id;
	__u8 rs_tep;
	__u8 rs_pad[3];
	struct eno_rshalf rs_expect;
	__u8 transcript[TCPCRYPT_TRANSCRIPT_MAX];
};

/*
 * One socket's own tcpcrypt settings (TCP_ENO_* socket options, the
 * application API): socket-local storage (MAP_SKOPTS), written by the
 * cgroup/setsockopt program, read by sock_ops when it builds or answers the
 * ENO option and by the resumption code.  A socket without an entry uses the
 * system settings throughout; each field below says what its zero means.
 */
enum sk_opts_set {
	SKO_SET_ENABLED = 1 << 0, /* enabled holds the socket's choice */
	SKO_SET_SPECS = 1 << 1,	  /* specs holds this socket's TEP list */
	SKO_SET_AEAD = 1 << 2,	  /* aead holds the socket's AEAD preference */
	SKO_SET_GOPT = 1 << 3,	  /* gopt holds the global suboption to send */
	SKO_SET_AA_MANDATORY = 1 << 4,
};

enum sk_opts_cache {
	SKO_NO_RESUME = 1 << 0, /* RFC 8548 §3.5: neither offer nor accept resumption */
	SKO_NO_CACHE = 1 << 1,	/* cache no secret this connection produces */
	SKO_FLUSH = 1 << 2,	/* flush what this connection used or produced (once known) */
};

struct tcpcrypt_sk_opts {
	__u8 set;	   /* enum sk_opts_set: which fields below are in force */
	__u8 enabled;	   /* SKO_SET_ENABLED: 0 off, 1 on */
	__u8 gopt;	   /* SKO_SET_GOPT: global suboption byte (b, a bits) */
	__u8 aa_mandatory; /* SKO_SET_AA_MANDATORY: refuse a peer with a = 0 */
	__u8 cache;	   /* enum sk_opts_cache */
	__u8 pad[3];
	__u16 aead; /* SKO_SET_AEAD: preferred AEAD id, RFC 8548 §7 */
	__u16 pad2;
	struct eno_prefs specs; /* SKO_SET_SPECS: TEPs in increasing priority */
};

/* Global configuration written by tcpcryptd, read by the BPF programs. */
struct tcpcrypt_config {
	__u8 enabled;	       /* 0 while the agent is not ready */
	__u8 syn_eno_tries;    /* SYNs sent with ENO before retrying without */
	__u8 app_aware;	       /* send a = 1 */
	__u8 need_peer_a;      /* mandatory application-aware mode */
	__u8 default_policy;   /* enum port_policy for ports not in the ports map */
	struct eno_prefs teps; /* offered and accepted, in increasing priority */
	__u16 pad2;	       /* (was nrequire, now in struct port_state) */
	__u32 negcache_ttl_s;  /* how long a SYN black hole is remembered */
	__u8 datapath;	       /* the agent encrypts: steer negotiated flows to it */
	__u8 pad[3];
	/*
	 * The agent's network namespace (SO_NETNS_COOKIE): sock_ops, attached to
	 * a cgroup that may hold other namespaces' processes (containers), only
	 * ever acts on sockets of this one, where the steered interfaces, their
	 * ifindexes and the flow tuples are the agent's.
	 */
	__u64 netns_cookie;
};

/*
 * What the BPF programs need to know of the ports map as a whole, in its
 * own map (MAP_PORTSTATE): tcpcryptctl rewrites it after every `port`
 * command, and tcpcryptd when it starts negotiating, each from a count of
 * the ports map, so that neither ever rewrites the other's `settings`.
 */
struct port_state {
	__u16 nrequire; /* ports set to require: TC ingress checks third ACKs only then */
	__u16 pad;
};

/*
 * A steered interface (IFACE_WIRE) and the capture veth of its data path
 * (IFACE_CAPTURE, the agent's end of the internal veth pair).
 */
enum iface_kind {
	IFACE_WIRE = 1,
	IFACE_CAPTURE = 2,
};

#define XSK_QUEUES_MAX 32 /* AF_XDP sockets per interface (one per RX queue) */

/*
 * Destination MAC that TC ingress puts on the peer's segments it steers
 * into the capture veth, so the agent tells them from the kernel's own.
 */
#define TCPCRYPT_FROM_WIRE_MAC                                                                     \
	{                                                                                          \
		0x02, 0x74, 0x63, 0x77, 0x69, 0x72                                                 \
	}

/*
 * What the capture XDP program puts in front of each packet it hands the
 * agent (XDP metadata, copied by AF_XDP copy mode): when it ran, so that
 * the agent can count how long a packet waited for it (wake_* counters).
 */
#define CAPTURE_META_MAGIC 0x74637078u /* "tcpx" */
struct capture_meta {
	__u64 rx_ns; /* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
	__u32 magic; /* CAPTURE_META_MAGIC; the agent clears it once read */
	__u32 pad;
};

struct iface_info {
	__u32 slot; /* 0..TCPCRYPT_MAX_IFACES-1, the same for both kinds */
	__u32
	    peer_ifindex; /* WIRE: the kernel's end of the capture veth; CAPTURE: the wire iface */
	__u8 kind;	  /* enum iface_kind */
	__u8 pad[3];
};

/* Key of an AF_XDP socket in the xsks map. */
static inline __u32 xsk_key(__u32 slot, __u8 kind, __u32 queue)
{
	return slot * 2 * XSK_QUEUES_MAX + (kind == IFACE_CAPTURE ? XSK_QUEUES_MAX : 0) + queue;
}

/* Negative cache: destinations that dropped SYNs carrying ENO. */
struct negcache_key {
	__u8 family;
	__u8 pad[3];
	__u32 addr[4];
};

struct negcache_val {
	__u64 expires_ns; /* CLOCK_MONOTONIC (bpf_ktime_get_ns) */
	__u64 hits;	  /* connections sent without ENO because of this entry */
	__u8 cause;	  /* ENO_FAIL_BLACKHOLE (SYNs with ENO dropped) or ENO_FAIL_INIT */
	__u8 pad[7];
};

/*
 * Session resumption on the wire (RFC 8548 §3.5;
 * docs/architecture.md#session-resumption-on-the-wire).  The secrets ss[i]
 * stay in the agent; these maps hold only what goes on the wire anyway
 * (identifier halves, nonces) and ids.  Every offer and acceptance is
 * claimed by one connection at most: sock_ops takes it with
 * bpf_map_delete_elem, whose success is exclusive, and no key is ever
 * inserted twice in one agent's lifetime (offer keys carry an increasing
 * generation, acceptance keys are identifier halves of distinct secrets).
 */
#define RS_OFFERS_PER_PEER 32 /* offers sock_ops looks at per peer (gen lo..lo+31) */

/* rs_peers: destination -> the generations of its published offers. */
struct rs_peer {
	__u64 lo; /* lowest generation that may still be published */
};

/* rs_offers key: one published offer to a destination. */
struct rs_offer_key {
	struct negcache_key peer;
	__u32 pad;
	__u64 gen; /* the chain's number << 32 | the offer's number in it */
};

/* rs_offers value: what host A's SYN carries, and what B must answer. */
struct rs_offer {
	__u32 id; /* the agent's ticket; recorded in flow_info.rs_id */
	__u32 pad;
	struct eno_rsopt own;	  /* TEP, this host's half and nonce */
	struct eno_rshalf expect; /* the half the peer answers with */
};

/* rs_accepts: keyed by the identifier half host A sends, one per secret. */
struct rs_accept {
	__u32 id;
	__u32 pad;
	struct negcache_key peer; /* only this peer may claim it */
	struct eno_rsopt own;	  /* B's answer: TEP, half and nonce */
};

/* rs_cache: what the agent's session cache holds, public parts only (tcpcryptctl cache). */
struct rs_chain_key {
	struct negcache_key peer;
	__u8 orig_role; /* this host's role in the session that produced ss[0] */
	__u8 tep;
	__u8 pad[2];
};

struct rs_chain {
	__u64 next_index; /* i of the next secret of the chain not taken yet */
	__u64 expires_ns; /* CLOCK_MONOTONIC */
	__u32 published;  /* offers or acceptances in rs_offers / rs_accepts now */
	__u32 resumed;	  /* connections resumed from it */
};

/* rs_ctl (one entry): requests from tcpcryptctl to the agent. */
struct rs_ctl {
	__u64 flush_req;  /* tcpcryptctl cache flush increments it */
	__u64 flush_done; /* the agent sets it to flush_req once the cache is empty */
};

/* An encrypted connection, as the agent's data path sees it (keyed by flow_key). */
enum session_state {
	SESSION_HANDSHAKE = 1, /* Init1/Init2 under way */
	SESSION_ESTABLISHED = 2,
	SESSION_CLOSING = 3,
	SESSION_CLOSED = 4,
	SESSION_ABORTED = 5,
};

#define TCPCRYPT_SESSID_LEN 33 /* RFC 8548 §3.4 */
/* AEAD identifiers, RFC 8548 §7 (session_info.aead) */
#define TCPCRYPT_AEAD_AES_128_GCM	0x0001
#define TCPCRYPT_AEAD_AES_256_GCM	0x0002
#define TCPCRYPT_AEAD_CHACHA20_POLY1305 0x0010
/* RFC 8548 §4.1: Init1 = magic(4) | message_len(4) | nciphers(1) | ... */
#define TCPCRYPT_INIT1_MAGIC   0x15101a0eu
#define TCPCRYPT_INIT1_MIN_LEN 43 /* magic, length, nciphers, one cipher, N_A */

struct session_info {
	__u8 session_id[TCPCRYPT_SESSID_LEN]; /* all zero until the keys exist */
	__u8 state;			      /* enum session_state */
	__u8 role;			      /* ENO_ROLE_A or ENO_ROLE_B */
	__u8 tep_byte;			      /* v bit set for a resumed session */
	__u16 aead;			      /* RFC 8548 §7 AEAD id */
	__u16 error;			      /* -tc_err that aborted it, or 0 */
	__u64 plain_out, plain_in;	      /* application bytes each way */
	__u64 wire_out, wire_in;	      /* tcpcrypt stream bytes each way */
	__u64 retransmits;		      /* wire segments resent from the ciphertext store */
	__u32 local_gen, remote_gen;	      /* key generations (RFC 8548 §3.8) */
	__u32 wire_mss;			      /* largest payload of its wire segments now (PMTU) */
	/*
	 * Which connection on the 4-tuple: its flows entry's ISNs.  A new
	 * connection on a reused 4-tuple has a new flows entry at once, while
	 * the finished one's session lingers until the agent replaces it.
	 */
	__u32 local_isn, peer_isn;
	__u32 pad;
};

/*
 * Counters of the agent's data path (one entry, written by the agent), as
 * X(name, description): the struct and tcpcryptctl's names come from this
 * one list.
 */
#define TCPCRYPT_AGENT_COUNTERS(X)                                                                 \
	X(sessions, "encrypted connections started")                                               \
	X(established, "... whose keys were set up")                                               \
	X(auth_failures, "aborted: a frame failed authentication")                                 \
	X(aborted, "aborted for any other tcpcrypt reason")                                        \
	X(wire_retrans, "wire bytes resent from the ciphertext store")                             \
	X(resend_held, "kernel resends held back: the flight younger than the path's RTT")         \
	X(slow_lane, "peer Init segments queued behind the segments of flows with keys")           \
	X(plain_out, "application bytes encrypted")                                                \
	X(plain_in, "application bytes decrypted")                                                 \
	X(frames_sealed, "tcpcrypt frames sent (RFC 8548 4.2)")                                    \
	X(frames_opened, "... and the peer's that authenticated")                                  \
	X(urgent_sealed, "... frames sent with urgent data: URGp (RFC 8548 3.7)")                  \
	X(urgent_opened, "... and the peer's")                                                     \
	X(rx_frames, "packets the agent received (AF_XDP)")                                        \
	X(tx_frames, "packets the agent sent (AF_XDP)")                                            \
	X(tx_drops, "packets not sent: AF_XDP ring full")                                          \
	X(unknown_drops, "packets of flows it never learned of")                                   \
	X(reasm_drops, "peer bytes beyond the reassembly bound")                                   \
	X(orphans_reset, "sockets of a previous agent's encrypted flows, aborted at start")        \
	X(rst_answers, "segments of flows without keys answered with a RST")                       \
	X(init_failed, "Init1 answered by a RST or no Init2, or unanswered: negative cache")       \
	X(pmtu_updates, "wire segments made smaller by an ICMP too-big error (RFC 1191, 8201)")    \
	X(mtu_probes, "... by a black-hole probe: resends at una stalled (RFC 4821)")              \
	X(recut_segments, "stored wire segments resent smaller than they first went")              \
	X(pmtu_ignored, "ICMP too-big errors quoting no segment in flight (RFC 5927)")             \
	X(xsk_rx_dropped, "AF_XDP: dropped by the kernel, no room or too large")                   \
	X(xsk_rx_ring_full, "AF_XDP: ... because the RX ring was full")                            \
	X(xsk_fill_empty, "AF_XDP: ... because no frame was free to receive into")                 \
	X(xsk_tx_invalid, "AF_XDP: TX descriptors the kernel refused")                             \
	X(xsk_tx_ring_empty, "AF_XDP: times the kernel found the TX ring empty")                   \
	X(wake_16us,                                                                               \
	  "packets from the capture (XDP stamp or ring time) to the agent's pickup < 16 us")       \
	X(wake_64us, "... 16-64 us")                                                               \
	X(wake_256us, "... 64-256 us")                                                             \
	X(wake_1ms, "... 256 us - 1 ms")                                                           \
	X(wake_slow, "... 1 ms or more")                                                           \
	X(wake_ns, "... their sum, ns (mean: wake_ns / all wake_* )")                              \
	X(work_16us, "packets from the agent's pickup to the TX of what they caused in < 16 us")   \
	X(work_64us, "... 16-64 us")                                                               \
	X(work_256us, "... 64-256 us")                                                             \
	X(work_1ms, "... 256 us - 1 ms")                                                           \
	X(work_slow, "... 1 ms or more")                                                           \
	X(work_ns, "... their sum, ns")                                                            \
	X(key_pool_hits, "fresh key exchanges whose key pair was made ahead of time")              \
	X(key_pool_misses, "... that found the pool empty and made one on the spot")               \
	X(key_reused, "... as host B, with the key pair of an earlier one (--key-reuse)")          \
	X(rx_chains, "packets received as a multi-buffer descriptor chain (XDP_USE_SG)")           \
	X(tx_chains, "packets sent as one (plaintext up to 64 KB into the capture veth)")          \
	X(chain_drops, "AF_XDP: receive chains too long to gather, dropped")                       \
	X(capture_drops, "packet capture: dropped by the kernel, no free frame in the ring")       \
	X(capture_truncated, "packet capture: longer than a frame, dropped")                       \
	X(capture_big, "packet capture: packets longer than a ring frame (GSO), read whole")       \
	X(gso_refused, "GSO packets a device without TSO refused, sent again as segments")

#define TCPCRYPT_COUNTER_FIELD_(name, desc) __u64 name;

struct agent_counters {
	TCPCRYPT_AGENT_COUNTERS(TCPCRYPT_COUNTER_FIELD_)
};

/* What the agent runs on each steered interface, for tcpcryptctl status. */
struct agent_iface {
	char name[16];
	char capture[16];
	__u32 ifindex;
	__u32 nqueues;	       /* queues 0..nqueues-1 of name, each with a TX-only AF_XDP socket */
	__u8 xdp_mode;	       /* 1 driver, 2 generic */
	__u8 zerocopy;	       /* AF_XDP mode of those: 0 copy, 1 zero-copy */
	__u8 capture_zerocopy; /* ... of the RX socket on queue 0 of capture (its only queue) */
	__u8 capture_sg;       /* bit 0: it is multi-buffer (XDP_USE_SG); bit 1: 64 KB injection */
};

/* Counters of the BPF programs: one per-CPU struct, summed by tcpcryptctl; X(name, description). */
#define TCPCRYPT_STATS(X)                                                                          \
	X(negotiated, "ENO succeeded")                                                             \
	X(peer_no_eno, "peer's SYN or SYN-ACK carried no ENO")                                     \
	X(stripped, "ENO in the SYN exchange, missing from the first ACK")                         \
	X(syn_blackhole, "SYNs with ENO unanswered; retried without ENO")                          \
	X(negcache_plain, "connections sent without ENO due to the negative cache")                \
	X(malformed, "ill-formed or repeated ENO option received")                                 \
	X(role_conflict, "both sides sent the same b bit")                                         \
	X(no_common_tep, "no valid TEP in common")                                                 \
	X(app_aware_fail, "mandatory application-aware mode, peer a = 0")                          \
	X(port_off, "connections on ports set to off")                                             \
	X(require_reset, "connections refused by the require policy")                              \
	X(unready_reset, "handshakes ENO would complete while the agent stops or starts: reset")   \
	X(foreign_netns, "sockets of another network namespace: never offered ENO")                \
	X(forwarded_syn, "SYNs forwarded or NATed out of a steered interface: plain")              \
	X(stripped_init1, "B fell back, A sent an Init1 anyway: reset before the application")     \
	X(sock_off, "connections a socket's TCP_ENO_ENABLED = 0 kept plain")                       \
	X(tfo_plain, "TFO SYNs with data or a cookie to servers without ENO: plain TFO")           \
	X(tfo_held, "... to tcpcrypt servers or require ports: held, the data goes encrypted")     \
	X(syn_data_refused, "SYN+ENO with data or a TFO cookie that negotiates: data refused")     \
	X(window_closed,                                                                           \
	  "SYN-ACKs and third ACKs that encrypt: window closed until the keys exist")              \
	X(rs_offered, "SYNs that proposed resumption (RFC 8548 3.5): an offer claimed")            \
	X(rs_accepted, "resumption proposals this host agreed to, as host B")                      \
	X(rs_resumed, "... answered with the expected half, as host A: resumed")                   \
	X(rs_fresh, "... answered with a fresh exchange, as host A")                               \
	X(rs_mismatch, "... answered v = 1 with another half: plain TCP, as host A")               \
	X(rs_unoffered, "resumption proposals not sent: no room for the option")                   \
	X(resumed_ack_copied,                                                                      \
	  "B: third ACKs of resumed sessions copied to the agent (session ID at once)")            \
	X(flows_created, "flow entries made (connections taking part in ENO)")                     \
	X(flows_deleted, "... whose socket closed (encrypted: the agent removes the entry)")

struct tcpcrypt_stats {
	TCPCRYPT_STATS(TCPCRYPT_COUNTER_FIELD_)
};

/*
 * Drop reasons (as cilium's drop_reasons.h): every place where a BPF
 * program drops a packet, or sock_ops fails to write the ENO option it
 * meant to, counts it under its reason in the per-CPU array `drops`
 * (index enum drop_reason, one __u64 per reason).  X(id, name,
 * description): the enum and tcpcryptctl's drop_<name> come from this list.
 */
#define TCPCRYPT_DROP_REASONS(X)                                                                   \
	X(DROP_CAPTURE_NO_SOCKET, capture_no_socket,                                               \
	  "capture XDP: no AF_XDP socket of the agent, dropped (fail closed)")                     \
	X(DROP_CAPTURE_NO_IFACE, capture_no_iface,                                                 \
	  "capture XDP: the interface is no capture veth in ifaces")                               \
	X(DROP_STEER_NO_IFACE, steer_no_iface,                                                     \
	  "TC ingress: a segment to steer, on an interface not in ifaces")                         \
	X(DROP_EGRESS_NO_IFACE, egress_no_iface,                                                   \
	  "TC egress: a segment to steer, on an interface not in ifaces")                          \
	X(DROP_TFO_HELD, tfo_held,                                                                 \
	  "TC egress: a TFO SYN with data or a cookie, held (RFC 8547 4.7)")                       \
	X(DROP_OPT_RESERVE, opt_reserve_failed,                                                    \
	  "sock_ops: bpf_reserve_hdr_opt failed, no room for the ENO option")                      \
	X(DROP_OPT_STORE, opt_store_failed,                                                        \
	  "sock_ops: bpf_store_hdr_opt failed, ENO option not written")

#define TCPCRYPT_DROP_ENUM_(id, name, desc) id,

enum drop_reason {
	TCPCRYPT_DROP_REASONS(TCPCRYPT_DROP_ENUM_) DROP__MAX,
};

#endif
