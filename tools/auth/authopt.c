// SPDX-License-Identifier: MIT
/* The AUTH options of tcpcrypt-cat and tcpcrypt-proxy: tools/auth/authopt.h. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "authopt.h"

const char authopt_help[] =
    "AUTH (one):\n"
    "  --psk FILE        pre-shared key: FILE's exact bytes (16 to 1024, random)\n"
    "  --sign KEY        prove this end's identity: Ed25519 private key, PEM\n"
    "                    (openssl genpkey -algorithm ed25519 -out KEY); the server\n"
    "  --sign-batch KEY  the same as a batch signature: connections at the same time\n"
    "                    share one (a Merkle tree over their session IDs)\n"
    "  --verify PUBKEY   accept only the peer holding PUBKEY's private key: Ed25519\n"
    "                    public key, PEM (openssl pkey -in KEY -pubout); the client\n"
    "  --ca CAFILE       accept only a peer whose X.509 chain (--cert) leads to a\n"
    "                    certificate of CAFILE (PEM) and is for NAME; the client\n"
    "  --password-file FILE  a password (FILE's bytes but one trailing newline):\n"
    "                    SPAKE2+ (RFC 9383), confirmed both ways; proves to the\n"
    "                    peer's --verifier, or (both with the password) role A\n"
    "                    proves and B verifies\n"
    "  --verifier FILE   the server: a SPAKE2+ verifier of the client's password\n"
    "                    (tcpcrypt-cat make-verifier), not the password itself\n"
    "  --spake2-password-file FILE  a password both ends hold: SPAKE2 (RFC 9382),\n"
    "                    the scheme of --password-file before SPAKE2+\n"
    "\n"
    "X.509 (docs/auth.md#x509-chains):\n"
    "  --cert CERT       with --sign or --sign-batch: send this chain (PEM: the\n"
    "                    certificate of KEY, then its intermediates) before the proof\n"
    "  --name NAME       with --ca: the host name (DNS names of the certificate) or\n"
    "                    IP address (its IP addresses) to expect; default HOST\n";

int authopt_take(struct authopt *o, int c, const char *arg, const char *prog)
{
	switch (c) {
	case AUTHOPT_CERT:
		o->cert = arg;
		return 1;
	case AUTHOPT_NAME:
		o->name = arg;
		return 1;
	case AUTHOPT_PSK:
	case AUTHOPT_SIGN:
	case AUTHOPT_SIGN_BATCH:
	case AUTHOPT_VERIFY:
	case AUTHOPT_PASSWORD:
	case AUTHOPT_VERIFIER:
	case AUTHOPT_SPAKE2:
	case AUTHOPT_CA:
		if (o->scheme) {
			fprintf(stderr, "%s: give one AUTH option\n", prog);
			return -1;
		}
		o->scheme = c;
		o->file = arg;
		return 1;
	default:
		return 0;
	}
}

const char *authopt_name(const struct authopt *o)
{
	switch (o->scheme) {
	case AUTHOPT_PSK:
		return "psk";
	case AUTHOPT_SIGN:
		return "sign";
	case AUTHOPT_SIGN_BATCH:
		return "sign-batch";
	case AUTHOPT_VERIFY:
		return "verify";
	case AUTHOPT_PASSWORD:
		return "password";
	case AUTHOPT_VERIFIER:
		return "verifier";
	case AUTHOPT_SPAKE2:
		return "spake2-password";
	case AUTHOPT_CA:
		return "ca";
	default:
		return "none";
	}
}

struct tcpcrypt_auth *authopt_load(const struct authopt *o, const char *default_name,
				   const char *prog)
{
	const char *name = o->name ? o->name : default_name;
	struct tcpcrypt_auth *a;
	int err = 0;

	if (!o->scheme) {
		fprintf(stderr,
			"%s: no AUTH (--psk, --password-file, --verifier, --sign, --sign-batch, "
			"--verify or --ca)\n",
			prog);
		return NULL;
	}
	if (o->cert && o->scheme != AUTHOPT_SIGN && o->scheme != AUTHOPT_SIGN_BATCH) {
		fprintf(stderr, "%s: --cert goes with --sign or --sign-batch\n", prog);
		return NULL;
	}
	if (o->name && o->scheme != AUTHOPT_CA) {
		fprintf(stderr, "%s: --name goes with --ca\n", prog);
		return NULL;
	}
	if (o->scheme == AUTHOPT_CA && !name) {
		fprintf(stderr, "%s: --ca here needs --name\n", prog);
		return NULL;
	}
	switch (o->scheme) {
	case AUTHOPT_PSK:
		a = tcpcrypt_auth_psk_file(o->file, &err);
		break;
	case AUTHOPT_SIGN:
		a = o->cert ? tcpcrypt_auth_sign_cert_file(o->file, o->cert, &err)
			    : tcpcrypt_auth_sign_file(o->file, &err);
		break;
	case AUTHOPT_SIGN_BATCH:
		a = o->cert ? tcpcrypt_auth_sign_batch_cert_file(o->file, o->cert, &err)
			    : tcpcrypt_auth_sign_batch_file(o->file, &err);
		break;
	case AUTHOPT_VERIFY:
		a = tcpcrypt_auth_verify_file(o->file, &err);
		break;
	case AUTHOPT_CA:
		a = tcpcrypt_auth_verify_ca_file(o->file, name, &err);
		break;
	case AUTHOPT_PASSWORD:
		a = tcpcrypt_auth_spake2p_password_file(o->file, &err);
		break;
	case AUTHOPT_VERIFIER:
		a = tcpcrypt_auth_verifier_file(o->file, &err);
		break;
	default: /* AUTHOPT_SPAKE2 */
		a = tcpcrypt_auth_password_file(o->file, &err);
		break;
	}
	if (a)
		return a;
	fprintf(stderr, "%s: %s%s%s: %s", prog, o->file, o->cert ? ", " : "",
		o->cert ? o->cert : "",
		err == TCPCRYPT_AUTH_ESYS ? strerror(errno) : tcpcrypt_auth_strerror(err));
	if (o->scheme == AUTHOPT_VERIFIER && tcpcrypt_auth_verifier_error())
		fprintf(stderr,
			": not a SPAKE2+ verifier file: %s (tcpcrypt-cat make-verifier writes one)",
			tcpcrypt_auth_verifier_error());
	fprintf(stderr, "\n");
	return NULL;
}
