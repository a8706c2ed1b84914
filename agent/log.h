/* SPDX-License-Identifier: MIT */
/*
 * The agent's levelled log, on stderr (journald adds the time): lines at
 * or above the level set with --log-level (default info) are written.
 */
#ifndef TCPCRYPT_LOG_H
#define TCPCRYPT_LOG_H

#include <stdbool.h>
#include "tcpcrypt_common.h"

enum log_level {
	LOGL_ERROR,
	LOGL_WARN,
	LOGL_INFO,
	LOGL_DEBUG,
};

/* error|warn|info|debug; -1 if unknown. */
int log_level_parse(const char *s);
void log_set_level(enum log_level level);
bool log_enabled(enum log_level level);
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * An encrypted flow was aborted (k from the local host's view, reason its
 * error's text): one warning line with its 4-tuple, at most LOG_ABORTS_PER_S
 * a second; lines left out are counted in the next one written.
 */
#define LOG_ABORTS_PER_S 10
void log_flow_aborted(const struct flow_key *k, const char *reason);

#endif
