// SPDX-License-Identifier: MIT
/*
 * tcpcryptctl: inspect and control tcpcrypt through the maps tcpcryptd
 * pins.  It talks to no daemon, so it also works while the agent is
 * stopped or has crashed (as long as the maps are pinned).
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include "ctl.h"
#include "tcpcrypt_common.h"
#include "version.h"

struct ctl ctl = {.pin_dir = TCPCRYPT_PIN_DIR};

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *args;
	const char *description;
} subcommands[] = {
    {"status", status_main, "", "Show the agent, interfaces, XDP mode and configuration"},
    {"ports", ports_main, "", "List per-port policies"},
    {"port", port_main, "PORT[-PORT] on|off|require",
     "Set the policy of a port or range (new connections)"},
    {"flows", flows_main, "[tcpcrypt|plain|negotiating]",
     "List connections taking part in TCP-ENO"},
    {"sessions", sessions_main, "",
     "List encrypted connections: role, TEP, AEAD, session ID, bytes, state"},
    {"stats", stats_main, "", "Show negotiation counters"},
    {"negcache", negcache_main, "[flush]",
     "List (or flush) destinations that black-holed SYNs with ENO"},
    {"cache", cache_main, "[flush]",
     "List (or flush) the session cache for resumption: peers, next index, offers"},
};

#define NSUB (sizeof(subcommands) / sizeof(subcommands[0]))

static void usage(FILE *f)
{
	fprintf(f, "Usage: tcpcryptctl [-p PIN_DIR] [-j] SUBCOMMAND [ARGS]\n"
		   "\n"
		   "Inspect and control tcpcrypt (RFC 8547 TCP-ENO, RFC 8548) through the\n"
		   "BPF maps that tcpcryptd pins.\n"
		   "\n"
		   "Options:\n"
		   "  -p, --pin-dir DIR   maps pinned under DIR (default " TCPCRYPT_PIN_DIR ")\n"
		   "  -j, --json          print JSON\n"
		   "  -h, --help          show this help\n"
		   "  -V, --version       print the version\n"
		   "\n"
		   "Subcommands:\n");
	for (size_t i = 0; i < NSUB; i++) {
		char head[64];

		snprintf(head, sizeof(head), "%s %s", subcommands[i].name, subcommands[i].args);
		fprintf(f, "  %-36s %s\n", head, subcommands[i].description);
	}
	fprintf(f, "\nPolicies: on (default) offers and accepts ENO; off never sends or answers\n"
		   "it; require refuses a connection before any data unless ENO succeeds.\n"
		   "The policy of a connection is that of its service port: the remote port\n"
		   "of connections this host opens, the local port of those it accepts.\n");
}

int ctl_usage(const char *subcmd, const char *args)
{
	fprintf(stderr, "usage: tcpcryptctl %s %s\n", subcmd, args);
	return 2;
}

void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"pin-dir", required_argument, NULL, 'p'},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {},
	};
	int c;

	/* options stop at the subcommand, whose own arguments follow */
	while ((c = getopt_long(argc, argv, "+p:jhV", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			ctl.pin_dir = optarg;
			break;
		case 'j':
			ctl.json = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("tcpcryptctl %s\n", TCPCRYPT_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[optind], "help")) {
		usage(stdout);
		return 0;
	}
	for (size_t i = 0; i < NSUB; i++)
		if (!strcmp(argv[optind], subcommands[i].name))
			return subcommands[i].fn(argc - optind, argv + optind);
	fprintf(stderr, "tcpcryptctl: unknown subcommand '%s'\n", argv[optind]);
	usage(stderr);
	return 2;
}
