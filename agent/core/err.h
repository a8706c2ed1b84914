/* SPDX-License-Identifier: MIT */
/*
 * Error codes of the protocol core.  Every core function returns TC_OK (or a
 * non-negative length/count where documented) on success and a negative
 * enum tc_err on failure.  TC_E_NEED_MORE is not a failure: the caller should
 * supply more stream bytes and call again.  Every other negative value means
 * the connection cannot continue; tc_err_is_abort() says which codes RFC 8548
 * requires to surface as an abort "distinct from end-of-file" (§3.3, §3.6,
 * §3.7) rather than a local programming or resource error.
 */
#ifndef TCPCRYPT_CORE_ERR_H
#define TCPCRYPT_CORE_ERR_H

#include <stdbool.h>

enum tc_err {
	TC_OK = 0,
	TC_E_NEED_MORE = -1,	/* input is a valid prefix; feed more bytes */
	TC_E_MALFORMED = -2,	/* peer sent bytes that violate the wire format */
	TC_E_TRUNCATED = -3,	/* a length field leaves no room for mandatory fields */
	TC_E_TOO_LONG = -4,	/* a length field exceeds the wire format or our cap */
	TC_E_AUTH = -5,		/* AEAD verification failed (RFC 8548 §3.6) */
	TC_E_FIN_NO_FINP = -6,	/* TCP FIN without a FINp frame ending there (§3.7) */
	TC_E_BAD_CIPHER = -7,	/* Init2 chose an AEAD not offered, or none common (§3.3) */
	TC_E_BAD_KEY = -8,	/* peer public key invalid, or all-zero ECDH result (§5) */
	TC_E_RNG = -9,		/* no seeded CSPRNG: must not run tcpcrypt (§8) */
	TC_E_NOMEM = -10,	/* allocation failed */
	TC_E_STATE = -11,	/* call not valid in the object's current state */
	TC_E_CRYPTO = -12,	/* libcrypto failed on a valid input */
	TC_E_UNSUPPORTED = -13, /* unknown TEP or AEAD identifier */
	TC_E_AFTER_FIN = -14,	/* stream bytes after the FINp frame (§3.7) */
	TC_E_NOSPACE = -15,	/* caller's output buffer is too small */
	TC_E_INVAL = -16,	/* invalid argument from the caller */
};

/* Short human-readable text for any enum tc_err value (never NULL). */
const char *tc_strerror(int err);

/*
 * True for results that mean "abort the connection because of what the peer
 * or the network did" (send RST, report an error that is not EOF).  False for
 * TC_OK, positive results and TC_E_NEED_MORE.  Local errors (TC_E_NOMEM,
 * TC_E_STATE, TC_E_CRYPTO, TC_E_RNG, TC_E_NOSPACE, TC_E_INVAL) are also fatal for the
 * connection but are bugs or resource problems on this host, not peer faults.
 */
static inline bool tc_err_is_abort(int err)
{
	switch (err) {
	case TC_E_MALFORMED:
	case TC_E_TRUNCATED:
	case TC_E_TOO_LONG:
	case TC_E_AUTH:
	case TC_E_FIN_NO_FINP:
	case TC_E_BAD_CIPHER:
	case TC_E_BAD_KEY:
	case TC_E_UNSUPPORTED:
	case TC_E_AFTER_FIN:
		return true;
	default:
		return false;
	}
}

#endif
