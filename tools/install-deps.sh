#!/bin/sh
# Install the Debian packages this project needs to build, test, demo and bench.
# Idempotent: installs only what is missing.
set -eu
PKGS="clang llvm libbpf-dev bpftool libxdp-dev libssl-dev openssl libelf-dev zlib1g-dev
pkg-config make gcc iproute2 iptables ethtool tcpdump socat netcat-openbsd iperf3 curl
python3 libclang-rt-14-dev iputils-ping libnetfilter-queue-dev"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -z "$missing" ]; then
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	echo "install-deps: missing packages:$missing; run as root: apt-get install$missing" >&2
	exit 1
fi
echo "install-deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends $missing
