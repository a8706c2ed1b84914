#!/bin/sh
# Make sure the kernel interfaces tcpcryptd and the tests need are mounted:
# bpffs at /sys/fs/bpf and a cgroup v2 hierarchy.  Idempotent; mounts only
# what is missing (as root).
set -eu
if ! grep -q " /sys/fs/bpf bpf " /proc/mounts; then
	echo "prepare-host: mounting bpffs at /sys/fs/bpf"
	mount -t bpf bpf /sys/fs/bpf
fi
if ! grep -q " cgroup2 " /proc/mounts; then
	echo "prepare-host: mounting cgroup v2 at /sys/fs/cgroup/unified"
	mkdir -p /sys/fs/cgroup/unified
	mount -t cgroup2 none /sys/fs/cgroup/unified
fi
