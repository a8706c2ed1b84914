/* SPDX-License-Identifier: MIT */
#include "core/err.h"

const char *tc_strerror(int err)
{
	switch (err) {
	case TC_OK:
		return "success";
	case TC_E_NEED_MORE:
		return "more input needed";
	case TC_E_MALFORMED:
		return "malformed message from peer";
	case TC_E_TRUNCATED:
		return "length field too small for the mandatory fields";
	case TC_E_TOO_LONG:
		return "length exceeds the protocol or implementation limit";
	case TC_E_AUTH:
		return "frame failed authentication";
	case TC_E_FIN_NO_FINP:
		return "TCP FIN without an authenticated end of stream (FINp)";
	case TC_E_BAD_CIPHER:
		return "AEAD algorithm not offered or not supported";
	case TC_E_BAD_KEY:
		return "invalid peer public key or degenerate shared secret";
	case TC_E_RNG:
		return "no seeded cryptographic random number generator";
	case TC_E_NOMEM:
		return "out of memory";
	case TC_E_STATE:
		return "operation not valid in the current state";
	case TC_E_CRYPTO:
		return "libcrypto failure";
	case TC_E_UNSUPPORTED:
		return "unsupported TEP or AEAD identifier";
	case TC_E_AFTER_FIN:
		return "data after the end of stream (FINp)";
	case TC_E_NOSPACE:
		return "output buffer too small";
	case TC_E_INVAL:
		return "invalid argument";
	default:
		return "unknown error";
	}
}
