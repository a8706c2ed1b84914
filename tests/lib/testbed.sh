# shellcheck shell=bash
# Test bed for integration tests, the demo and benchmarks: hosts are network
# namespaces (A, B, optionally C) routed through a middle namespace M, each host
# with its own cgroup v2 directory and bpffs pin directory. Source this file,
# then: tb_init; tb_create; ...; everything is removed on exit, failure, Ctrl-C.
#
# Addresses: host N (A=1, B=2, C=3) is 198.18.N.2/24 and fd00:7463:N::2/64 on its
# eth0; M is .1 / ::1 on its <host>0 interface (a0, b0, c0). Captures are taken
# in M, because tcpdump on an interface with XDP misses redirected packets.
#
# Processes are entered with `nsenter --net` (not `ip netns exec`, which remounts
# /sys and hides /sys/fs/bpf and the cgroup2 mount) and moved into the host's
# cgroup before exec, so sock_ops programs attached there see their sockets.
# Works under `set -euo pipefail`. TB_KEEP=1 keeps the scratch dir $TB_DIR.
# tb_init owns the EXIT/INT/TERM/ERR traps: register extra clean-up with tb_defer.
#
#   tb_init, tb_create [--hosts "A B C"], tb_cleanup [RC], tb_defer CMD,
#   tb_container HOST NAME N [IFINDEX]
#   tb_exec HOST CMD..., tb_bg HOST LOG CMD... (echoes PID), tb_stop_pid PID,
#   tb_alive PID, tb_wait SECS CMD..., tb_wait_port HOST PORT
#   tb_agent_start HOST [ARGS], tb_agent_stop HOST [SIG], tb_agent_kill9 HOST,
#   tb_agent_pid HOST, tb_ctl HOST ARGS...  (TB_AGENT/TB_CTL override binaries)
#   tb_capture_start NAME [IFACE] [FILTER...], tb_capture_stop NAME...
#   tb_strip_eno a2b|b2a [after-syn], tb_drop_eno_syn, tb_middlebox_clear, tb_mtu IFACE MTU,
#   tb_netem IFACE SPEC, tb_netem_clear IFACE, tb_has_netem,
#   tb_tamper IFACE AFTER_BYTES [PORT], tb_tamper_clear IFACE
#   tb_fail, tb_pass, tb_skip, tb_log, tb_assert_eq/_ne/_match/_same_file,
#   tb_require_root, tb_require_agent, tb_sha256 FILE, tb_mkdata FILE MIB

TB_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# the first cgroup v2 mount (Debian: /sys/fs/cgroup; hybrid hosts: .../unified)
TB_CGROUP_ROOT=${TB_CGROUP_ROOT:-$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)}
TB_CGROUP_ROOT=${TB_CGROUP_ROOT:-/sys/fs/cgroup/unified}
TB_BPFFS=${TB_BPFFS:-/sys/fs/bpf}
TB_TABLES=${TB_TABLES:-iptables}
TB_TABLES6=${TB_TABLES6:-ip6tables}
TB_IF_A=eth0
TB_IF_B=eth0
TB_M_IF_A=a0
TB_M_IF_B=b0
export TB_ROOT TB_IF_A TB_IF_B TB_M_IF_A TB_M_IF_B

# ---------------------------------------------------------------- reporting

tb_log() { echo "testbed: $*" >&2; }

tb_fail() {
	echo "FAIL: $*" >&2
	exit 1
}

tb_pass() { echo "PASS: $*"; }

# Exit 77, which tests/run-tests.sh reports as skipped.
tb_skip() {
	echo "SKIP: $*" >&2
	exit 77
}

tb_assert_eq() { # EXPECTED ACTUAL MSG
	[[ $1 == "$2" ]] || tb_fail "$3: expected '$1', got '$2'"
}

tb_assert_ne() { # UNEXPECTED ACTUAL MSG
	[[ $1 != "$2" ]] || tb_fail "$3: got '$2'"
}

tb_assert_match() { # REGEX ACTUAL MSG
	[[ $2 =~ $1 ]] || tb_fail "$3: '$2' does not match /$1/"
}

tb_assert_same_file() { # FILE1 FILE2 MSG
	local a b
	a=$(tb_sha256 "$1")
	b=$(tb_sha256 "$2")
	[[ $a == "$b" ]] || tb_fail "$3: sha256 differs ($1 $a, $2 $b)"
}

tb_require_root() {
	[[ $(id -u) == 0 ]] || tb_skip "needs root (network namespaces, cgroups, bpffs)"
}

# Skip (exit 77) unless the agent and the CLI have been built.
tb_require_agent() {
	local f
	for f in tcpcryptd tcpcryptctl; do
		[[ -x $TB_ROOT/build/$f ]] || tb_skip "build/$f not built; run: make"
	done
}

# ---------------------------------------------------------------- utilities

tb_sha256() { sha256sum "$1" | cut -d' ' -f1; }

tb_mkdata() { # FILE SIZE_MIB
	head -c $(($2 * 1048576)) /dev/urandom >"$1"
}

# Poll CMD every 0.1 s until it succeeds or TIMEOUT seconds pass.
tb_wait() { # TIMEOUT CMD [ARGS...]
	local deadline=$((SECONDS + $1))
	shift
	until "$@"; do
		((SECONDS < deadline)) || return 1
		sleep 0.1
	done
}

# ---------------------------------------------------------------- set-up

tb__ns() { # HOST -> netns name
	local v=TB_NS_$1
	[[ -n ${!v:-} ]] || tb_fail "unknown test-bed host '$1' (have: M ${TB_HOSTS:-})"
	echo "${!v}"
}

# Choose a unique prefix, make the scratch dir and install the cleanup traps.
tb_init() {
	# A subshell or child script may build its own bed beside its parent's;
	# the parent's bed stays the parent's to remove.
	if [[ -n ${TB_PREFIX:-} && ${TB_OWNER:-} == "$BASHPID" ]]; then
		tb_fail "tb_init: test bed $TB_PREFIX already initialised"
	fi
	local p v
	for v in ${!TB_NS_*} ${!TB_CG_*} ${!TB_PIN_*}; do
		unset "$v"
	done
	TB_DEFERRED=()
	while :; do
		p=tc$(od -An -N2 -tx2 /dev/urandom | tr -d ' \n')
		[[ -e /run/netns/$p-M || -e $TB_CGROUP_ROOT/$p-A || -e $TB_BPFFS/$p-A ]] || break
	done
	TB_PREFIX=$p
	TB_OWNER=$BASHPID
	TB_DIR=$(mktemp -d "/tmp/tb-$p.XXXXXX")
	TB_HOSTS=""
	TB_NS_M=$p-M
	export TB_PREFIX TB_OWNER TB_DIR TB_HOSTS TB_NS_M
	: >"$TB_DIR/pids"
	# INT and TERM before EXIT: in an asynchronous subshell, bash 5.2 leaves
	# SIGINT ignored if its trap is set after an EXIT trap.
	trap 'tb__on_signal INT 130' INT
	trap 'tb__on_signal TERM 143' TERM
	trap 'tb__on_err "$LINENO" "$BASH_COMMAND"' ERR
	trap 'tb__on_exit' EXIT
}

tb__on_err() {
	[[ $- == *e* ]] && echo "testbed: command failed (line $1): $2" >&2
	return 0
}

tb__on_signal() {
	trap - "$1"
	echo "testbed: caught SIG$1, cleaning up" >&2
	exit "$2" # runs the EXIT trap
}

tb__on_exit() {
	local rc=$?
	trap - EXIT INT TERM ERR
	tb_cleanup "$rc"
	exit "$rc"
}

tb__sysctl() { # NS KEY=VALUE...
	local ns=$1 kv
	shift
	for kv in "$@"; do
		nsenter --net="/run/netns/$ns" sysctl -qw "$kv" >/dev/null
	done
}

# No duplicate address detection, also for link-local addresses: with it, the
# first IPv6 packets through M wait about 2 s for neighbour discovery.
tb__nodad() { # NS
	tb__sysctl "$1" net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 \
		net.ipv6.conf.all.dad_transmits=0 net.ipv6.conf.default.dad_transmits=0
}

# Create M and the hosts (default A and B): tb_create [--hosts "A B C"].
tb_create() {
	local hosts="A B"
	[[ -n ${TB_PREFIX:-} ]] || tb_fail "tb_create: call tb_init first"
	if [[ ${1:-} == --hosts ]]; then
		hosts=$2
	fi
	ip netns add "$TB_NS_M"
	ip -n "$TB_NS_M" link set lo up
	tb__sysctl "$TB_NS_M" net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
	tb__nodad "$TB_NS_M"
	local h
	for h in $hosts; do
		tb__add_host "$h"
	done
}

tb__add_host() { # HOST (A, B or C)
	local h=$1 n
	case $h in
	A) n=1 ;;
	B) n=2 ;;
	C) n=3 ;;
	*) tb_fail "tb_create: hosts are A, B or C, not '$h'" ;;
	esac
	local ns=$TB_PREFIX-$h mif=${h,,}0
	local cg=$TB_CGROUP_ROOT/$TB_PREFIX-$h pin=$TB_BPFFS/$TB_PREFIX-$h
	TB_HOSTS="${TB_HOSTS:+$TB_HOSTS }$h"
	printf -v "TB_NS_$h" %s "$ns"
	printf -v "TB_${h}4" %s "198.18.$n.2"
	printf -v "TB_${h}6" %s "fd00:7463:$n::2"
	printf -v "TB_IF_$h" %s eth0
	printf -v "TB_M_IF_$h" %s "$mif"
	printf -v "TB_CG_$h" %s "$cg"
	printf -v "TB_PIN_$h" %s "$pin"
	export TB_HOSTS "TB_NS_$h" "TB_${h}4" "TB_${h}6" "TB_IF_$h" "TB_M_IF_$h" "TB_CG_$h" \
		"TB_PIN_$h"

	ip netns add "$ns"
	tb__nodad "$ns"
	ip -n "$TB_NS_M" link add "$mif" type veth peer name eth0 netns "$ns"
	ip -n "$ns" link set lo up
	ip -n "$ns" link set eth0 up
	ip -n "$TB_NS_M" link set "$mif" up
	ip -n "$TB_NS_M" addr add "198.18.$n.1/24" dev "$mif"
	ip -n "$TB_NS_M" addr add "fd00:7463:$n::1/64" dev "$mif" nodad
	ip -n "$ns" addr add "198.18.$n.2/24" dev eth0
	ip -n "$ns" addr add "fd00:7463:$n::2/64" dev eth0 nodad
	ip -n "$ns" route add default via "198.18.$n.1"
	ip -n "$ns" -6 route add default via "fd00:7463:$n::1"

	[[ -d $TB_CGROUP_ROOT ]] || tb_fail "cgroup v2 not mounted at $TB_CGROUP_ROOT"
	mkdir "$cg"
	if ! mountpoint -q "$TB_BPFFS"; then
		tb_fail "bpffs not mounted at $TB_BPFFS; run: mount -t bpf bpf $TB_BPFFS"
	fi
	mkdir "$pin"
}

# A container behind HOST: namespace NAME, its eth0 (interface number IFINDEX,
# if given) joined to HOST's v<NAME>, addresses 198.18.N.2 and fd00:7463:N::2,
# NATed by HOST out of its eth0.  Its processes run in HOST's cgroup, as a
# container's do under an agent attached to the cgroup v2 root:
# tb_exec NAME ..., tb_bg NAME ...  Removed with the test bed.
tb_container() { # HOST NAME N [IFINDEX]
	local h=$1 name=$2 n=$3 idx=${4:-} ns hns cg
	hns=$(tb__ns "$h") || exit 1
	ns=$TB_PREFIX-$name cg=TB_CG_$h
	printf -v "TB_NS_$name" %s "$ns"
	printf -v "TB_CG_$name" %s "${!cg}"
	printf -v "TB_${name}4" %s "198.18.$n.2"
	printf -v "TB_${name}6" %s "fd00:7463:$n::2"
	export "TB_NS_$name" "TB_CG_$name" "TB_${name}4" "TB_${name}6"
	ip netns add "$ns"
	tb_defer "ip netns del $ns"
	tb__nodad "$ns"
	ip -n "$hns" link add "v$name" type veth peer name eth0 netns "$ns" ${idx:+index "$idx"}
	ip -n "$ns" link set lo up
	ip -n "$ns" link set eth0 up
	ip -n "$hns" link set "v$name" up
	ip -n "$hns" addr add "198.18.$n.1/24" dev "v$name"
	ip -n "$hns" addr add "fd00:7463:$n::1/64" dev "v$name" nodad
	ip -n "$ns" addr add "198.18.$n.2/24" dev eth0
	ip -n "$ns" addr add "fd00:7463:$n::2/64" dev eth0 nodad
	ip -n "$ns" route add default via "198.18.$n.1"
	ip -n "$ns" -6 route add default via "fd00:7463:$n::1"
	tb__sysctl "$hns" net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
	nsenter --net="/run/netns/$hns" "$TB_TABLES" -w -t nat -A POSTROUTING \
		-s "198.18.$n.0/24" -o eth0 -j MASQUERADE
	nsenter --net="/run/netns/$hns" "$TB_TABLES6" -w -t nat -A POSTROUTING \
		-s "fd00:7463:$n::/64" -o eth0 -j MASQUERADE
}

# ---------------------------------------------------------------- running

# Set TB__ARGV to the command prefix that enters HOST: its netns and (except
# for M) its cgroup. Callers run "${TB__ARGV[@]}" CMD directly, so a command
# started with & is the process itself (nsenter and sh exec), not a subshell.
tb__enter() { # HOST
	local ns v=TB_CG_$1
	ns=$(tb__ns "$1") || exit 1
	TB__ARGV=(nsenter --net="/run/netns/$ns" --)
	if [[ $1 != M ]]; then
		# shellcheck disable=SC2016 # $$ and $@ are for the inner sh
		TB__ARGV+=(sh -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "${!v}")
	fi
}

# Run CMD in HOST's netns and (except for M) in HOST's cgroup.
tb_exec() { # HOST CMD [ARGS...]
	tb__enter "$1"
	shift
	"${TB__ARGV[@]}" "$@"
}

# Remember a PID (with its start time, so a reused PID is never killed).
tb__track() { # PID
	local st
	st=$(tb__starttime "$1") || return 0
	echo "$1 $st" >>"$TB_DIR/pids"
}

tb__starttime() { # PID -> field 22 of /proc/PID/stat
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	# shellcheck disable=SC2086 # split the fields on purpose
	set -- $stat
	[[ $1 != Z ]] || return 1
	echo "${20}"
}

# True while PID is alive (not a zombie) and, given STARTTIME, the same process.
tb_alive() { # PID [STARTTIME]
	local st
	st=$(tb__starttime "$1") || return 1
	[[ -z ${2:-} || $st == "$2" ]]
}

# Start CMD in HOST in the background, output to LOG; echoes the PID.
tb_bg() { # HOST LOG CMD [ARGS...]
	tb__enter "$1"
	local log=$2
	shift 2
	"${TB__ARGV[@]}" "$@" >"$log" 2>&1 </dev/null &
	local pid=$!
	tb__track "$pid"
	echo "$pid"
}

# Send SIG to PID, wait up to TIMEOUT s for it to go; SIGKILL after that.
tb_stop_pid() { # PID [TIMEOUT] [SIG]
	local pid=$1 t=${2:-5} sig=${3:-TERM}
	tb_alive "$pid" || return 0
	kill -"$sig" "$pid" 2>/dev/null || return 0
	if ! tb_wait "$t" eval "! tb_alive $pid"; then
		kill -KILL "$pid" 2>/dev/null || true
		tb_wait 2 eval "! tb_alive $pid" || true
	fi
}

# True if a TCP listener on PORT exists in HOST.
tb__listening() { # HOST PORT
	[[ -n $(tb_exec "$1" ss -Hltn "sport = :$2") ]]
}

tb_wait_port() { # HOST PORT [TIMEOUT]
	tb_wait "${3:-10}" tb__listening "$1" "$2" ||
		tb_fail "no TCP listener on port $2 in host $1 after ${3:-10} s"
}

# ---------------------------------------------------------------- agent

tb__agent_pidfile() { echo "$TB_DIR/agent-$1.pid"; }

# Start tcpcryptd in HOST and wait until it logs "tcpcryptd: running".
tb_agent_start() { # HOST [EXTRA ARGS...]
	local h=$1 cg pin log pid
	shift
	cg=TB_CG_$h pin=TB_PIN_$h log=$TB_DIR/agent-$h.log
	[[ -n ${!cg:-} ]] || tb_fail "tb_agent_start: unknown host '$h'"
	pid=$(tb_bg "$h" "$log" "${TB_AGENT:-$TB_ROOT/build/tcpcryptd}" --pin-dir "${!pin}" \
		--cgroup "${!cg}" -i eth0 "$@")
	echo "$pid" >"$(tb__agent_pidfile "$h")"
	local deadline=$((SECONDS + 10))
	until grep -q "tcpcryptd: running" "$log" 2>/dev/null; do
		if ! tb_alive "$pid"; then
			sed 's/^/  | /' "$log" >&2
			tb_fail "agent on $h exited during start-up (log above, $log)"
		fi
		if ((SECONDS >= deadline)); then
			sed 's/^/  | /' "$log" >&2
			tb_fail "agent on $h not running after 10 s (log above, $log)"
		fi
		sleep 0.05
	done
}

tb_agent_pid() { # HOST
	cat "$(tb__agent_pidfile "$1")" 2>/dev/null
}

tb_agent_stop() { # HOST [SIG]: SIG (default TERM), 5 s grace, then SIGKILL
	local pid
	pid=$(tb_agent_pid "$1") || return 0
	tb_stop_pid "$pid" 5 "${2:-TERM}"
	rm -f "$(tb__agent_pidfile "$1")"
}

tb_agent_kill9() { # HOST
	local pid
	pid=$(tb_agent_pid "$1") || return 0
	tb_stop_pid "$pid" 10 KILL # its sockets go after an RCU grace period each: seconds when loaded
	rm -f "$(tb__agent_pidfile "$1")"
}

tb_ctl() { # HOST ARGS...
	local h=$1 pin
	shift
	pin=TB_PIN_$h
	tb_exec "$h" "${TB_CTL:-$TB_ROOT/build/tcpcryptctl}" --pin-dir "${!pin}" "$@"
}

# ---------------------------------------------------------------- captures

# Capture in M into $TB_DIR/NAME.pcap; returns once tcpdump is listening.
# TB_CAPTURE_SNAPLEN (default 0: whole packets) keeps only that many bytes
# of each, for captures that count many packets rather than read them.
tb_capture_start() { # NAME [IFACE] [FILTER...]
	local name=$1 ifc=${2:-a0} pid
	shift $(($# < 2 ? $# : 2))
	local err=$TB_DIR/$name.tcpdump.log
	: >"$err"
	tb__enter M
	# A large buffer: at veth speed with 64 KB GSO packets the default 2 MiB
	# ring overflows within a few MiB of transfer. Raise it for bigger captures.
	"${TB__ARGV[@]}" tcpdump -Z root -U --immediate-mode -B "${TB_CAPTURE_BUF_KIB:-32768}" \
		-s "${TB_CAPTURE_SNAPLEN:-0}" -n -i "$ifc" \
		-w "$TB_DIR/$name.pcap" "$@" 2>"$err" >/dev/null </dev/null &
	pid=$!
	tb__track "$pid"
	echo "$pid" >"$TB_DIR/$name.capture.pid"
	local deadline=$((SECONDS + 10))
	until grep -q "listening on" "$err"; do
		if ! tb_alive "$pid" || ((SECONDS >= deadline)); then
			sed 's/^/  | /' "$err" >&2
			tb_fail "tcpdump for capture '$name' on M:$ifc did not start"
		fi
		sleep 0.02
	done
}

# Stop captures (SIGINT, so the files are complete); echoes each pcap path,
# one a line. Warns if tcpdump reports packets dropped by the kernel.
tb_capture_stop() { # NAME...
	local name pidf pid
	sleep 0.2 # let the last packets of the test reach the files
	for name in "$@"; do
		pidf=$TB_DIR/$name.capture.pid
		[[ -f $pidf ]] && kill -INT "$(cat "$pidf")" 2>/dev/null
	done
	for name in "$@"; do
		pidf=$TB_DIR/$name.capture.pid
		if [[ -f $pidf ]]; then
			pid=$(cat "$pidf")
			if ! tb_wait 5 eval "! tb_alive $pid"; then
				kill -KILL "$pid" 2>/dev/null
				tb_log "capture '$name': tcpdump ignored SIGINT, killed"
			fi
			rm -f "$pidf"
			if grep -q "^[1-9][0-9]* packets dropped by kernel" "$TB_DIR/$name.tcpdump.log"; then
				tb_log "capture '$name' is incomplete: $(grep 'dropped by kernel' \
					"$TB_DIR/$name.tcpdump.log")"
			fi
		fi
		echo "$TB_DIR/$name.pcap"
	done
}

# ---------------------------------------------------------------- middlebox (in M)

# Both iptables families in M.
tb__tables46() { # ARGS...
	tb_exec M "$TB_TABLES" -w "$@"
	tb_exec M "$TB_TABLES6" -w "$@"
}

tb__m_if() { # a2b|b2a|IFACE -> ingress interface in M
	case $1 in
	a2b) echo a0 ;;
	b2a) echo b0 ;;
	*) echo "$1" ;;
	esac
}

# The middlebox rules live in their own mangle chain, jumped to from FORWARD,
# so that tb_middlebox_clear leaves tb_netem's rules alone.
tb__middlebox_chain() {
	local t
	for t in "$TB_TABLES" "$TB_TABLES6"; do
		if ! tb_exec M "$t" -w -t mangle -n -L TB_MIDDLEBOX >/dev/null 2>&1; then
			tb_exec M "$t" -w -t mangle -N TB_MIDDLEBOX
			tb_exec M "$t" -w -t mangle -A FORWARD -j TB_MIDDLEBOX
		fi
	done
}

# Replace the TCP-ENO option (kind 69) by NOPs in packets entering M on the
# sending side: DIR is a2b (from A) or b2a (from B), or an M interface name.
# With after-syn, only in segments without SYN (the middlebox that lets ENO
# through the handshake and strips it later, RFC 8547 §9 "type 2").
# Verified on the wire with iptables-nft: xt_TCPOPTSTRIP works, IPv4 and IPv6.
tb_strip_eno() { # DIR [after-syn]
	local sel=()
	[[ ${2:-} == after-syn ]] && sel=(--tcp-flags SYN NONE)
	tb__middlebox_chain
	tb__tables46 -t mangle -A TB_MIDDLEBOX -i "$(tb__m_if "$1")" -p tcp "${sel[@]}" \
		-j TCPOPTSTRIP --strip-options 69
}

# Drop, in M, every SYN and SYN-ACK that carries option 69, both directions
# (xt_tcpudp --tcp-option; other SYNs pass).
tb_drop_eno_syn() {
	tb__middlebox_chain
	tb__tables46 -t mangle -A TB_MIDDLEBOX -p tcp --syn --tcp-option 69 -j DROP
	tb__tables46 -t mangle -A TB_MIDDLEBOX -p tcp --tcp-flags SYN,ACK,RST SYN,ACK \
		--tcp-option 69 -j DROP
}

# Remove every rule added with tb_strip_eno / tb_drop_eno_syn.
tb_middlebox_clear() {
	tb__middlebox_chain
	tb__tables46 -t mangle -F TB_MIDDLEBOX
}

# Set the MTU of both ends of the link behind M's IFACE (a0, b0, c0).
tb_mtu() { # IFACE MTU
	local h=${1%0}
	h=${h^^}
	tb__ns "$h" >/dev/null
	tb_exec M ip link set dev "$1" mtu "$2"
	tb_exec "$h" ip link set dev eth0 mtu "$2"
}

# True if the kernel has sch_netem (delay, reorder, ... need it).
tb_has_netem() {
	tb_exec M tc qdisc replace dev lo root netem delay 0ms 2>/dev/null || return 1
	tb_exec M tc qdisc del dev lo root 2>/dev/null || true
}

# NFQUEUE number in M for nfq_netem's job (netem, tamper) on IFACE. Queues
# belong to a network namespace, so test beds side by side never collide.
tb__nfq_queue() { # netem|tamper IFACE
	local n
	case $2 in
	a0) n=1 ;;
	b0) n=2 ;;
	c0) n=3 ;;
	*) tb_fail "tb_$1: no host behind M interface '$2'" ;;
	esac
	[[ $1 == netem ]] && echo $((100 + n)) || echo $((200 + n))
}

# Start build/tests/nfq_netem in M on JOB's queue for IFACE (tracked for
# clean-up, log $TB_DIR/nfq-JOB-IFACE.log) and wait until it has bound it.
tb__nfq_start() { # netem|tamper IFACE ARGS...
	local job=$1 ifc=$2 bin=${TB_NFQ_NETEM:-$TB_ROOT/build/tests/nfq_netem} q log pid
	shift 2
	[[ -x $bin ]] || tb_fail "tb_$job: $bin not built; run: make"
	q=$(tb__nfq_queue "$job" "$ifc")
	log=$TB_DIR/nfq-$job-$ifc.log
	pid=$(tb_bg M "$log" "$bin" --queue "$q" --max-seconds "${TB_NFQ_SECONDS:-300}" "$@")
	echo "$pid" >"$TB_DIR/nfq-$job-$ifc.pid"
	local deadline=$((SECONDS + 5))
	until grep -q "ready" "$log" 2>/dev/null; do
		if ! tb_alive "$pid" || ((SECONDS >= deadline)); then
			sed 's/^/  | /' "$log" >&2
			tb_fail "tb_$job: nfq_netem on M:$ifc did not start (log above, $log)"
		fi
		sleep 0.02
	done
}

# Stop nfq_netem (SIGTERM: it accepts the packets it holds, prints its counts).
tb__nfq_stop() { # netem|tamper IFACE
	local pidf=$TB_DIR/nfq-$1-$2.pid
	[[ -f $pidf ]] || return 0
	tb_stop_pid "$(cat "$pidf")" 5 TERM
	rm -f "$pidf"
}

# Add (-A) or delete (-D) a rule in both families; deleting a missing rule is fine.
tb__rule46() { # -A|-D TABLE CHAIN RULE...
	local op=$1 t
	shift
	for t in "$TB_TABLES" "$TB_TABLES6"; do
		if [[ $op == -D ]]; then
			tb_exec M "$t" -w -t "$1" -D "${@:2}" 2>/dev/null || true
		else
			tb_exec M "$t" -w -t "$1" -A "${@:2}"
		fi
	done
}

# Impair packets leaving M through IFACE, like `tc qdisc replace ... netem SPEC`.
# Without sch_netem (as on the reference VM: CONFIG_NET_SCH_NETEM unset) this
# SPEC is emulated, any of its parts together:
#   loss P%, duplicate P%  iptables statistic/DROP/TEE in mangle FORWARD
#   delay Dms [reorder P%] nfq_netem on an NFQUEUE in mangle POSTROUTING (after
#                          the middlebox rules, which an NFQUEUE verdict in the
#                          same hook would skip): every packet is held D ms, or
#                          with reorder only P% of them, which the rest overtake.
# Note the reorder P% is the share delayed; tc netem's is the share sent at once.
# The queue has no --queue-bypass: if nfq_netem dies, packets are dropped.
tb_netem() { # IFACE "SPEC"
	local ifc=$1 spec=$2
	# shellcheck disable=SC2086 # SPEC is a word list, as for tc
	if tb_exec M tc qdisc replace dev "$ifc" root netem $spec 2>/dev/null; then
		return 0
	fi
	local h=${ifc%0} chain=TB_NETEM_$ifc delay="" reorder=100
	h=${h^^}
	local v4=TB_${h}4 v6=TB_${h}6
	[[ -n ${!v4:-} ]] || tb_fail "tb_netem: no host behind M interface '$ifc'"
	tb_netem_clear "$ifc"
	tb__tables46 -t mangle -N "$chain"
	tb__tables46 -t mangle -I FORWARD -o "$ifc" -j "$chain"
	local unsupported="sch_netem missing; emulation supports 'loss P%', 'duplicate P%' and 'delay Dms [reorder P%]'"
	# shellcheck disable=SC2086 # SPEC is a word list, as for tc
	set -- $spec
	while (($#)); do
		local what=$1 arg=${2:-} prob=""
		if [[ $what == delay ]]; then
			[[ $arg =~ ^([0-9]+)ms$ ]] || tb_fail "tb_netem: $unsupported, not 'delay $arg'"
			delay=${BASH_REMATCH[1]}
			shift 2
			continue
		fi
		[[ $arg =~ ^([0-9]+(\.[0-9]+)?)%$ ]] || tb_fail "tb_netem: $unsupported, not '$spec'"
		case $what in
		reorder)
			reorder=${BASH_REMATCH[1]}
			;;
		loss)
			prob=$(awk -v p="${BASH_REMATCH[1]}" 'BEGIN { printf "%.6f", p / 100 }')
			tb__tables46 -t mangle -A "$chain" -m statistic --mode random \
				--probability "$prob" -j DROP
			;;
		duplicate)
			prob=$(awk -v p="${BASH_REMATCH[1]}" 'BEGIN { printf "%.6f", p / 100 }')
			tb_exec M "$TB_TABLES" -w -t mangle -I "$chain" -m statistic --mode random \
				--probability "$prob" -j TEE --gateway "${!v4}"
			tb_exec M "$TB_TABLES6" -w -t mangle -I "$chain" -m statistic --mode random \
				--probability "$prob" -j TEE --gateway "${!v6}"
			;;
		*)
			tb_fail "tb_netem: $unsupported, not '$what'"
			;;
		esac
		shift 2
	done
	if [[ -n $delay ]]; then
		tb__nfq_start netem "$ifc" --delay-ms "$delay" --delay-pct "$reorder"
		tb__rule46 -A mangle POSTROUTING -o "$ifc" -j NFQUEUE \
			--queue-num "$(tb__nfq_queue netem "$ifc")"
	elif [[ $reorder != 100 ]]; then
		tb_fail "tb_netem: 'reorder' needs 'delay Dms' ('$spec')"
	fi
}

tb_netem_clear() { # IFACE
	local ifc=$1 chain=TB_NETEM_$1 t
	tb_exec M tc qdisc del dev "$ifc" root 2>/dev/null || true
	for t in "$TB_TABLES" "$TB_TABLES6"; do
		if tb_exec M "$t" -w -t mangle -n -L "$chain" >/dev/null 2>&1; then
			tb_exec M "$t" -w -t mangle -D FORWARD -o "$ifc" -j "$chain" 2>/dev/null || true
			tb_exec M "$t" -w -t mangle -F "$chain"
			tb_exec M "$t" -w -t mangle -X "$chain"
		fi
	done
	# rule first, then the tool: packets still queued are accepted, none dropped
	tb__rule46 -D mangle POSTROUTING -o "$ifc" -j NFQUEUE \
		--queue-num "$(tb__nfq_queue netem "$ifc")"
	tb__nfq_stop netem "$ifc"
}

# Invert one payload byte of the next TCP segment with payload that M forwards
# out of IFACE once AFTER_BYTES of TCP payload (from or to PORT, if given) have
# gone that way, recomputing the TCP checksum: plain TCP cannot notice, an
# authenticated stream must. Once only; tb_tamper again to re-arm. nfq_netem
# logs what it changed ("nfq_netem: tampered ... seq=N offset=N ...") to
# $TB_DIR/nfq-tamper-IFACE.log. The queue sits in filter FORWARD, so it sees
# packets after tb_strip_eno's rules and before tb_netem's delay.
tb_tamper() { # IFACE AFTER_BYTES [PORT]
	local ifc=$1 only=()
	[[ -n ${3:-} ]] && only=(--tamper-port "$3")
	tb_tamper_clear "$ifc"
	tb__nfq_start tamper "$ifc" --tamper-after "$2" --tamper-count 1 "${only[@]}"
	tb__rule46 -A filter FORWARD -o "$ifc" -p tcp -j NFQUEUE \
		--queue-num "$(tb__nfq_queue tamper "$ifc")"
}

tb_tamper_clear() { # IFACE
	tb__rule46 -D filter FORWARD -o "$1" -p tcp -j NFQUEUE \
		--queue-num "$(tb__nfq_queue tamper "$1")"
	tb__nfq_stop tamper "$1"
}

# ---------------------------------------------------------------- cleanup

# Run CMD (a string, eval'ed) first thing in tb_cleanup; last deferred runs first.
tb_defer() { # CMD
	TB_DEFERRED=("$1" "${TB_DEFERRED[@]+"${TB_DEFERRED[@]}"}")
}

# Remove everything this test bed created. Idempotent. RC != 0 (or TB_KEEP=1)
# keeps $TB_DIR with its logs and captures, and says where it is.
tb_cleanup() { # [RC]
	local rc=${1:-0} opts=$- h c pid st
	set +e
	if [[ -z ${TB_PREFIX:-} || -z ${TB_OWNER:-} ]]; then
		[[ $opts == *e* ]] && set -e
		return 0
	fi
	for c in "${TB_DEFERRED[@]+"${TB_DEFERRED[@]}"}"; do
		eval "$c"
	done
	TB_DEFERRED=()
	if [[ -d ${TB_DIR:-} ]]; then
		for c in "$TB_DIR"/*.capture.pid; do
			[[ -f $c ]] && tb_stop_pid "$(cat "$c")" 3 INT && rm -f "$c"
		done
		for c in "$TB_DIR"/agent-*.pid; do
			[[ -f $c ]] && tb_stop_pid "$(cat "$c")" 3 TERM && rm -f "$c"
		done
		if [[ -f $TB_DIR/pids ]]; then
			while read -r pid st; do
				tb_alive "$pid" "$st" && kill -TERM "$pid" 2>/dev/null
			done <"$TB_DIR/pids"
			while read -r pid st; do
				tb_wait 2 eval "! tb_alive $pid $st" ||
					kill -KILL "$pid" 2>/dev/null
			done <"$TB_DIR/pids"
			: >"$TB_DIR/pids"
		fi
	fi
	for h in ${TB_HOSTS:-} M; do
		local ns=$TB_PREFIX-$h cg=$TB_CGROUP_ROOT/$TB_PREFIX-$h
		if [[ -d $cg ]]; then
			tb__cgroup_empty "$cg"
			rmdir "$cg" || tb_log "could not remove cgroup $cg"
		fi
		if [[ -e /run/netns/$ns ]]; then
			for pid in $(ip netns pids "$ns" 2>/dev/null); do
				kill -KILL "$pid" 2>/dev/null
			done
			ip netns del "$ns" || tb_log "could not delete netns $ns"
		fi
		[[ -d $TB_BPFFS/$TB_PREFIX-$h ]] && rm -rf "${TB_BPFFS:?}/$TB_PREFIX-$h"
	done
	if [[ -d ${TB_DIR:-} ]]; then
		if [[ $rc != 0 || ${TB_KEEP:-0} == 1 ]]; then
			echo "testbed: logs and captures kept in $TB_DIR" >&2
		else
			rm -rf "$TB_DIR"
		fi
	fi
	TB_OWNER="" # done: a second call returns at once, tb_init may start anew
	[[ $opts == *e* ]] && set -e
	return 0
}

# Kill every process left in cgroup CG and wait until it is empty.
tb__cgroup_empty() { # CG
	local cg=$1 pid
	[[ -n $(cat "$cg/cgroup.procs") ]] || return 0
	if [[ -f $cg/cgroup.kill ]]; then
		echo 1 >"$cg/cgroup.kill"
	else
		while read -r pid; do
			kill -KILL "$pid" 2>/dev/null
		done <"$cg/cgroup.procs"
	fi
	tb_wait 3 eval "[[ -z \$(cat $cg/cgroup.procs) ]]" || tb_log "processes left in $cg"
}
