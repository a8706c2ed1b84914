/* SPDX-License-Identifier: MIT */
/* tcpcryptctl: shared state of the subcommands. */
#ifndef TCPCRYPT_CTL_H
#define TCPCRYPT_CTL_H

#include <stdbool.h>
#include <stdio.h>

struct ctl {
	const char *pin_dir;
	bool json;
};

extern struct ctl ctl;

int status_main(int argc, char **argv);
int ports_main(int argc, char **argv);
int port_main(int argc, char **argv);
int flows_main(int argc, char **argv);
int stats_main(int argc, char **argv);
int sessions_main(int argc, char **argv);
int negcache_main(int argc, char **argv);
int cache_main(int argc, char **argv);

/* Print "usage: tcpcryptctl SUBCMD ARGS" to stderr and return 2. */
int ctl_usage(const char *subcmd, const char *args);
/* A JSON string literal (the values we print need no escaping beyond this). */
void json_str(FILE *f, const char *s);

#endif
