/* SPDX-License-Identifier: MIT */
/* The pin directory: where tcpcryptd pins its maps, shared with tcpcryptctl. */
#ifndef TCPCRYPT_PINDIR_H
#define TCPCRYPT_PINDIR_H

#include <stdbool.h>

/* Is path (or, if it does not exist, its parent) on a bpffs? */
bool pindir_on_bpffs(const char *path);
/*
 * Take the single-instance lock on the pin directory (flock on the
 * directory itself).  Returns the locked fd, or -1 with errno EWOULDBLOCK
 * when another tcpcryptd holds it.
 */
int pindir_lock(const char *dir);
/* Is a tcpcryptd running on this pin directory? */
bool pindir_agent_running(const char *dir);
/* Open a pinned map; prints a precise error and returns -1 on failure. */
int pindir_map_open(const char *dir, const char *name);

#endif
