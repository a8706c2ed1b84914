// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/statfs.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "pindir.h"

#define BPF_FS_MAGIC_ 0xcafe4a11

bool pindir_on_bpffs(const char *path)
{
	char copy[PATH_MAX];
	struct statfs st;

	if (statfs(path, &st) == 0)
		return st.f_type == BPF_FS_MAGIC_;
	snprintf(copy, sizeof(copy), "%s", path);
	return statfs(dirname(copy), &st) == 0 && st.f_type == BPF_FS_MAGIC_;
}

int pindir_lock(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

bool pindir_agent_running(const char *dir)
{
	int fd = pindir_lock(dir);

	if (fd >= 0) {
		close(fd);
		return false;
	}
	return errno == EWOULDBLOCK;
}

int pindir_map_open(const char *dir, const char *name)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = bpf_obj_get(path);
	if (fd >= 0)
		return fd;
	if (errno == ENOENT && !pindir_on_bpffs(dir))
		fprintf(stderr,
			"%s: not on a bpffs; is bpffs mounted? (mount -t bpf bpf /sys/fs/bpf)\n",
			dir);
	else if (errno == ENOENT)
		fprintf(stderr, "%s: no such map; is tcpcryptd running with --pin-dir %s?\n", path,
			dir);
	else if (errno == EACCES || errno == EPERM)
		fprintf(stderr, "%s: %s; run as root\n", path, strerror(errno));
	else
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
	return -1;
}
