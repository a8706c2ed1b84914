/* SPDX-License-Identifier: MIT */
/*
 * tcpcrypt application API: the TCP_ENO_* socket options of the TCPINC API
 * (draft-ietf-tcpinc-api) and tcpcrypt's own TCP_CRYPT_*, at level
 * IPPROTO_TCP, for plain getsockopt(2) / setsockopt(2) on a TCP socket of a
 * process in the cgroup tcpcryptd serves; and libtcpcrypt (-ltcpcrypt,
 * `pkg-config --cflags --libs libtcpcrypt`), for what a raw getsockopt does
 * not do well.  Plain C: nothing of BPF or libbpf is needed to include it.
 * man: tcpcrypt(7), libtcpcrypt(3); design: docs/architecture.md#the-application-api.
 *
 * The option numbers are a private block (0x454E = "EN") that cannot
 * collide with Linux's own TCP_* options (small integers) nor with 15, which
 * glibc still names TCP_COOKIE_TRANSACTIONS and old tcpcrypt used.  Without a
 * running tcpcryptd the kernel answers every one of them with ENOPROTOOPT.
 *
 * Errors common to all options (errno):
 *   ENOPROTOOPT  no tcpcryptd serves this socket (not attached, or the socket
 *                is not TCP)
 *   EINVAL       a value out of range; a buffer shorter than the value
 *                (never a truncated value)
 *   EISCONN      setting an option that only makes sense before the SYN on a
 *                socket that is connecting, connected or listening
 *   ENOTCONN     a fact of the connection asked for before it exists (the
 *                handshake, or for TCP_ENO_SESSID the key exchange, is not
 *                complete)
 *   EOPNOTSUPP   the connection is plain TCP: ENO fell back (peer without
 *                TCP-ENO, no TEP in common, port off, a middlebox ...) or was
 *                off for this socket; it never will have the fact asked for
 */
#ifndef TCPCRYPT_TCPCRYPT_H
#define TCPCRYPT_TCPCRYPT_H

/* The block, for a quick "is this one of ours" test. */
#define TCP_ENO_OPT_BASE 0x454E0000
#define TCP_ENO_OPT_MASK 0xFFFF0000

/*
 * int, get/set.  -1: the system default (tcpcryptd's configuration and port
 * policy), 0: no ENO on this connection, 1: offer / answer ENO even on a port
 * whose policy is `off`.  A port set to `require` is never plain: 0 is
 * ignored there.  Set before connect(2) or listen(2), else EISCONN; another
 * value: EINVAL.  A listening socket's value governs the connections it
 * accepts.
 */
#define TCP_ENO_ENABLED 0x454E0001

/*
 * get: the session ID, TCP_ENO_SESSID_LEN bytes (RFC 8547 §5.1: the
 * negotiated TEP byte, then for tcpcrypt 32 bytes, RFC 8548 §3.4), the same
 * at both ends of the connection and different for every connection.
 * ENOTCONN until the key exchange has completed; EOPNOTSUPP on a plain
 * connection; EINVAL for a buffer shorter than the ID.
 */
#define TCP_ENO_SESSID	   0x454E0002
#define TCP_ENO_SESSID_LEN 33

/*
 * int, get: the negotiated TEP as host B sent it, v bit (0x80) included
 * (RFC 8547 §4.1).  ENOTCONN during the handshake, EOPNOTSUPP if plain.
 */
#define TCP_ENO_NEGSPEC 0x454E0003

/*
 * bytes, get/set: the TEPs this socket offers (A) or accepts (B), in the
 * order of the SYN-form option, least preferred first (RFC 8547 §4.5: B's
 * last valid one wins).  1 to TCP_ENO_SPECS_MAX distinct bytes among the TEPs
 * this implementation speaks (TCP_ENO_TEP_*), else EINVAL; set before the SYN,
 * else EISCONN.  get without a set: the system's list.
 */
#define TCP_ENO_SPECS	  0x454E0004
#define TCP_ENO_SPECS_MAX 8

/*
 * int, get/set: the global suboption this socket sends (RFC 8547 §4.2): bit
 * TCP_ENO_GOPT_B (passive role, for simultaneous open) and TCP_ENO_GOPT_A
 * (application-aware: the application authenticates the session ID).  Other
 * bits: EINVAL; set before the SYN, else EISCONN.  A listening socket always
 * sends b = 1.  get without a set: what the connection sent, or will send.
 */
#define TCP_ENO_SELF_GOPT 0x454E0005
#define TCP_ENO_GOPT_B	  0x01
#define TCP_ENO_GOPT_A	  0x02

/*
 * int, get: the global suboption the peer sent (0 if it sent none).
 * ENOTCONN during the handshake, EOPNOTSUPP if plain.
 */
#define TCP_ENO_PEER_GOPT 0x454E0006

/*
 * int, get/set: 1: fall back to plain TCP unless the peer sends a = 1
 * (mandatory application-aware mode, RFC 8547 §4.2).  Set before the SYN,
 * else EISCONN.  get without a set: the system's setting.
 */
#define TCP_ENO_AA_MANDATORY 0x454E0007

/*
 * int, get: this host's role, TCP_ENO_ROLE_A (it sent b = 0: the connecting
 * end, normally) or TCP_ENO_ROLE_B (RFC 8547 §4.3).  Authenticate the role
 * with the session ID (RFC 8547 §5.1).  ENOTCONN during the handshake,
 * EOPNOTSUPP if plain.
 */
#define TCP_ENO_ROLE   0x454E0008
#define TCP_ENO_ROLE_A 0
#define TCP_ENO_ROLE_B 1

/*
 * bytes, get: the negotiation transcript (RFC 8547 §4.8): A's SYN-form
 * option, then B's, exactly as sent, at most TCP_ENO_TRANSCRIPT_MAX bytes.
 * EINVAL for a buffer shorter than it; ENOTCONN during the handshake,
 * EOPNOTSUPP if plain.
 */
#define TCP_ENO_TRANSCRIPT     0x454E0009
#define TCP_ENO_TRANSCRIPT_MAX 80

/*
 * tcpcrypt's own.  TCP_CRYPT_AEAD, int, get/set: the AEAD this socket prefers
 * (RFC 8548 §7 ids, TCP_CRYPT_AEAD_*), 0: the agent's order.  As A it is
 * offered first in Init1, but B picks (§3.3: a B without a preference of
 * its own picks by its agent's order); as B it is chosen when A offered it.
 * Other ids: EINVAL; set before the SYN, else EISCONN.
 */
#define TCP_CRYPT_AEAD			 0x454E0010
#define TCP_CRYPT_AEAD_AES_128_GCM	 0x0001
#define TCP_CRYPT_AEAD_AES_256_GCM	 0x0002
#define TCP_CRYPT_AEAD_CHACHA20_POLY1305 0x0010

/* int, get: the AEAD the session uses.  ENOTCONN until the keys exist, EOPNOTSUPP if plain. */
#define TCP_CRYPT_NEGAEAD 0x454E0011

/*
 * int, get/set: session-cache controls of this connection (RFC 8548 §3.5),
 * bits: TCP_CRYPT_NO_RESUME (neither offer nor accept resumption: a fresh key
 * exchange), TCP_CRYPT_NO_CACHE (keep no secret this session produces for
 * later resumption).  Other bits: EINVAL; set before the SYN, else EISCONN.
 */
#define TCP_CRYPT_CACHE	    0x454E0012
#define TCP_CRYPT_NO_RESUME 0x01
#define TCP_CRYPT_NO_CACHE  0x02

/*
 * set (any int; the value is ignored): forget what this connection used or
 * produced in the session cache (RFC 8548 §3.5), e.g. after its session ID
 * failed to authenticate.  Before connect(2): applies to the connection to
 * come; on a connection: at once.  EOPNOTSUPP on a plain connection.
 */
#define TCP_CRYPT_CACHE_FLUSH 0x454E0013

/* TEP identifiers (RFC 8548 §7), for TCP_ENO_SPECS and TCP_ENO_NEGSPEC & 0x7f. */
#define TCP_ENO_TEP_P256   0x21
#define TCP_ENO_TEP_P521   0x22
#define TCP_ENO_TEP_X25519 0x23
#define TCP_ENO_TEP_X448   0x24
#define TCP_ENO_V_BIT	   0x80

#ifndef __bpf__
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * libtcpcrypt.  Functions return 0 or -1 with errno set, like system calls;
 * errno values as above.
 */

/*
 * Wait until the session ID of connected TCP socket fd exists, at most
 * timeout_ms milliseconds (< 0: no limit), without spinning, and copy it into
 * id (len >= TCP_ENO_SESSID_LEN, else EINVAL).  Returns the ID's length;
 * -1 with errno ETIMEDOUT, EOPNOTSUPP (plain: it never will exist),
 * ENOPROTOOPT (no tcpcryptd), ENOTCONN (fd is not connected: getpeername(2)),
 * ECONNRESET (the connection ended first), or another getsockopt(2) error.
 */
int tcpcrypt_wait_sessid(int fd, unsigned char *id, size_t len, int timeout_ms);

/*
 * Lower-case hex of n bytes into out (size >= 2n + 1), NUL-terminated.
 * Returns out, or NULL (errno EINVAL) if it does not fit.
 */
char *tcpcrypt_hex(const unsigned char *b, size_t n, char *out, size_t size);

/* "A" / "B" for TCP_ENO_ROLE_A / _B, NULL otherwise. */
const char *tcpcrypt_role_name(int role);
/* "x25519" ... for a TEP byte (the v bit ignored), NULL if unknown. */
const char *tcpcrypt_tep_name(int tep);
/* "aes128gcm" ... (as tcpcryptctl prints them) for an AEAD id, NULL if unknown. */
const char *tcpcrypt_aead_name(int aead);
/* The inverse of tcpcrypt_tep_name / _aead_name (case-insensitive); -1 if unknown. */
int tcpcrypt_tep_from_name(const char *name);
int tcpcrypt_aead_from_name(const char *name);

#ifdef __cplusplus
}
#endif
#endif /* !__bpf__ */

#endif
