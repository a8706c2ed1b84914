// SPDX-License-Identifier: MIT
#include <stdarg.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "log.h"
#include "names.h"

static enum log_level log_level = LOGL_INFO;

static const char *const level_names[] = {
    [LOGL_ERROR] = "error",
    [LOGL_WARN] = "warn",
    [LOGL_INFO] = "info",
    [LOGL_DEBUG] = "debug",
};

int log_level_parse(const char *s)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++)
		if (!strcmp(s, level_names[i]))
			return i;
	return -1;
}

void log_set_level(enum log_level level)
{
	log_level = level;
}

bool log_enabled(enum log_level level)
{
	return level <= log_level;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	if (!log_enabled(level))
		return;
	fprintf(stderr, "tcpcryptd: %s: ", level_names[level]);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void log_flow_aborted(const struct flow_key *k, const char *reason)
{
	static time_t window;
	static unsigned int in_window, left_out;
	char local[INET6_ADDRSTRLEN + 8], remote[INET6_ADDRSTRLEN + 8];
	struct timespec now;

	if (!log_enabled(LOGL_WARN))
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (now.tv_sec != window) {
		window = now.tv_sec;
		in_window = 0;
	}
	if (in_window++ >= LOG_ABORTS_PER_S) {
		left_out++;
		return;
	}
	endpoint_str(k->family, k->laddr, k->lport, local, sizeof(local));
	endpoint_str(k->family, k->raddr, k->rport, remote, sizeof(remote));
	if (left_out)
		log_msg(LOGL_WARN, "flow %s -> %s aborted: %s (and %u more not logged)", local,
			remote, reason, left_out);
	else
		log_msg(LOGL_WARN, "flow %s -> %s aborted: %s", local, remote, reason);
	left_out = 0;
}
