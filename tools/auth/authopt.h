/* SPDX-License-Identifier: MIT */
/*
 * The AUTH options of tcpcrypt-cat(1) and tcpcrypt-proxy(1), in one place:
 * their long options, their --help text, and the loading of the credential
 * they name (docs/auth.md).  Both tools take exactly the same ones.
 */
#ifndef TCPCRYPT_TOOLS_AUTHOPT_H
#define TCPCRYPT_TOOLS_AUTHOPT_H

#include <getopt.h>
#include "tcpcrypt/auth.h"

/* getopt_long values of the AUTH options (above any short option) */
enum {
	AUTHOPT_PSK = 0x200,
	AUTHOPT_SIGN,
	AUTHOPT_SIGN_BATCH,
	AUTHOPT_VERIFY,
	AUTHOPT_PASSWORD,
	AUTHOPT_VERIFIER,
	AUTHOPT_SPAKE2,
	AUTHOPT_CA,
	AUTHOPT_CERT,
	AUTHOPT_NAME,
};

/* Entries for a tool's struct option table. */
#define AUTHOPT_OPTIONS                                                                            \
	{"psk", required_argument, NULL, AUTHOPT_PSK},                                             \
	    {"sign", required_argument, NULL, AUTHOPT_SIGN},                                       \
	    {"sign-batch", required_argument, NULL, AUTHOPT_SIGN_BATCH},                           \
	    {"verify", required_argument, NULL, AUTHOPT_VERIFY},                                   \
	    {"password-file", required_argument, NULL, AUTHOPT_PASSWORD},                          \
	    {"verifier", required_argument, NULL, AUTHOPT_VERIFIER},                               \
	    {"spake2-password-file", required_argument, NULL, AUTHOPT_SPAKE2},                     \
	    {"ca", required_argument, NULL, AUTHOPT_CA},                                           \
	    {"cert", required_argument, NULL, AUTHOPT_CERT},                                       \
	{                                                                                          \
		"name", required_argument, NULL, AUTHOPT_NAME                                      \
	}

/* The "AUTH (one):" and "X.509:" sections of --help. */
extern const char authopt_help[];

struct authopt {
	int scheme;	  /* the AUTHOPT_* given, 0 if none yet */
	const char *file; /* its argument */
	const char *cert, *name;
};

/*
 * getopt_long's c with its argument: 1 if it was an AUTH option (taken),
 * 0 if it is not one, -1 on a usage error (a second AUTH option; printed
 * with prog).
 */
int authopt_take(struct authopt *o, int c, const char *arg, const char *prog);

/* The AUTH option's name, as the tools print it ("psk", "sign", "ca", ...). */
const char *authopt_name(const struct authopt *o);

/*
 * Check the combination and load the credential.  default_name: what --ca
 * checks the certificate against without --name (the host connected to),
 * NULL if there is none (then --ca needs --name).  NULL on failure, the
 * reason printed with prog (no AUTH option, --cert or --name out of place,
 * an unusable file).
 */
struct tcpcrypt_auth *authopt_load(const struct authopt *o, const char *default_name,
				   const char *prog);

#endif
