#!/bin/sh
# Install the Debian packages this project needs to build, test, demo and bench.
# Idempotent: installs only what is missing.
#   install-deps.sh          what build, tests and demo need
#   install-deps.sh bench    that, and the peers make bench compares with
set -eu
PKGS="clang llvm libbpf-dev bpftool libxdp-dev libssl-dev openssl libelf-dev zlib1g-dev
pkg-config make gcc iproute2 iptables ethtool tcpdump socat netcat-openbsd iperf3 curl
python3 libclang-rt-14-dev iputils-ping libnetfilter-queue-dev"
if [ "${1:-}" = bench ]; then
	# TLS 1.3 at both ends, and a user-space WireGuard tunnel (this kernel has
	# no in-kernel WireGuard): docs/machine-facts.md#performance-where-the-time-goes
	PKGS="$PKGS stunnel4 wireguard-go wireguard-tools"
fi
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
