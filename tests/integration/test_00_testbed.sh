#!/bin/bash
# Self-test of the test bed (tests/lib/testbed.sh) and of tests/lib/pcap.py:
# routing through M over IPv4 and IPv6, a TCP transfer checked by sha256 and by
# reassembling it from a capture, the middlebox helpers verified on the wire
# with hand-built SYNs carrying TCP-ENO (kind 69), the agent helpers against a
# stand-in, two beds at once, and that nothing is left behind after a normal
# end, a failure or SIGINT.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lib/testbed.sh
. "$here/../lib/testbed.sh"
PCAP=$TB_ROOT/tests/lib/pcap.py

tb_require_root
for c in nsenter tcpdump socat iptables ip6tables ping python3; do
	command -v "$c" >/dev/null || tb_skip "$c not installed; run: make deps"
done

tb_init
tb_create
# The interpreter itself: a version-manager shim in PATH costs 0.2 s a call.
PY=$(python3 -c 'import sys; print(sys.executable)')
pcap() { "$PY" "$PCAP" "$@"; }

# Everything a bed with prefix P could leave behind; prints what is left.
leftovers() { # PREFIX [PID...]
	local p=$1 pid f
	shift
	for f in "/run/netns/$p-"* "$TB_CGROUP_ROOT/$p-"* "$TB_BPFFS/$p-"*; do
		[[ -e $f ]] && echo "$f"
	done
	for pid in "$@"; do
		tb_alive "$pid" && echo "process $pid"
	done
	return 0
}

# SYNs (or, with "SA", SYN-ACKs) built by hand with MSS and TCP-ENO options,
# one per group of arguments SRC DST SPORT DPORT FLAGS.
cat >"$TB_DIR/craft_syn.py" <<'EOF'
import socket, struct, sys

def csum(b):
    b += b"\0" * (len(b) % 2)
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF

args = sys.argv[1:]
for i in range(0, len(args), 5):
    src, dst, sport, dport, flags = args[i : i + 5]
    fam = socket.AF_INET6 if ":" in dst else socket.AF_INET
    opts = bytes([2, 4, 0x05, 0xB4, 69, 4, 0x20, 0x21])  # MSS 1460; ENO, TEPs 0x20 0x21
    bits = {"S": 0x02, "SA": 0x12}[flags]
    ack = 0x2000 if "A" in flags else 0
    tcp = struct.pack("!HHIIBBHHH", int(sport), int(dport), 0x1000, ack,
                      (20 + len(opts)) // 4 << 4, bits, 65535, 0, 0) + opts
    a, b = socket.inet_pton(fam, src), socket.inet_pton(fam, dst)
    if fam == socket.AF_INET:
        pseudo = a + b + struct.pack("!xBH", 6, len(tcp))
    else:
        pseudo = a + b + struct.pack("!IxxxB", len(tcp), 6)
    tcp = tcp[:16] + struct.pack("!H", csum(pseudo + tcp)) + tcp[18:]
    s = socket.socket(fam, socket.SOCK_RAW, socket.IPPROTO_TCP)
    s.bind((src, 0))
    s.sendto(tcp, (dst, 0))
EOF

# Flags and options of the packets from SPORT in a capture, one line each,
# e.g. "S 2:05b4,69:2021".
opts_of() { # PCAP SPORT
	pcap summary "$1" --port "$2" | awk -v p="$2" '$2 == p { sub("opts=", "", $10); print $5, $10 }'
}

# Send crafted SYNs A->B and SYN-ACKs B->A over both IP versions while
# capturing on both sides of M; sets A_SIDE and B_SIDE to the captures.
crafted_round() { # NAME
	tb_capture_start "$1-a" a0 tcp
	tb_capture_start "$1-b" b0 tcp
	tb_exec A "$PY" "$TB_DIR/craft_syn.py" "$TB_A4" "$TB_B4" 40004 7 S \
		"$TB_A6" "$TB_B6" 40006 7 S
	tb_exec B "$PY" "$TB_DIR/craft_syn.py" "$TB_B4" "$TB_A4" 40014 7 SA \
		"$TB_B6" "$TB_A6" 40016 7 SA
	{ read -r A_SIDE && read -r B_SIDE; } < <(tb_capture_stop "$1-a" "$1-b")
}

# --- routing through M
out=$(tb_exec A ping -c 1 -W 2 "$TB_B4") || tb_fail "ping A->B over IPv4: $out"
tb_assert_match "ttl=63" "$out" "IPv4 ping is routed by M"
out=$(tb_exec A ping -c 1 -W 2 "$TB_B6") || tb_fail "ping A->B over IPv6: $out"
tb_assert_match "ttl=63" "$out" "IPv6 ping is routed by M"
tb_assert_eq "0::/${TB_CG_A#"$TB_CGROUP_ROOT"/}" "$(tb_exec A grep '^0::' /proc/self/cgroup)" \
	"tb_exec runs in the host's cgroup"
tb_exec A test -d "$TB_PIN_A" || tb_fail "bpffs pin dir not visible inside host A"
tb_pass "A and B reach each other through M over IPv4 and IPv6"

# --- 8 MiB over TCP, also reassembled from the capture in M
tb_mkdata "$TB_DIR/send" 8
TB_CAPTURE_BUF_KIB=131072 tb_capture_start xfer a0 "tcp port 5001" # holds all 8 MiB
srv=$(tb_bg B "$TB_DIR/socat-srv.log" socat -u TCP-LISTEN:5001,reuseaddr \
	"OPEN:$TB_DIR/recv,creat,trunc")
tb_wait_port B 5001
tb_exec A socat -u "OPEN:$TB_DIR/send" "TCP:$TB_B4:5001"
tb_wait 10 eval "! kill -0 $srv 2>/dev/null" || tb_fail "socat server did not finish"
pcap=$(tb_capture_stop xfer)
tb_assert_same_file "$TB_DIR/send" "$TB_DIR/recv" "8 MiB A->B over TCP"
sport=$(pcap summary "$pcap" | awk 'NR == 1 { print $2 }')
syn=$(opts_of "$pcap" "$sport" | sed -n 1p)
tb_assert_match '^S 2:[0-9a-f]{4},.*4:,.*8:[0-9a-f]{16},.*3:[0-9a-f]{2}$' "$syn" \
	"first captured packet is A's SYN with MSS, SACK-permitted, timestamps, window scale"
pcap stream "$pcap" --src "$TB_A4" --sport "$sport" >"$TB_DIR/reassembled"
tb_assert_same_file "$TB_DIR/send" "$TB_DIR/reassembled" "pcap.py stream of the capture"
tb_pass "8 MiB transfer: sha256 identical; SYN options and stream seen in M's capture"

# --- pcap.py grep, IPv6 transfer with a marker
tb_capture_start marker a0 "tcp port 5002"
tb_capture_start sll2 any --time-stamp-precision=nano tcp port 5002
tb_capture_start sll any -y LINUX_SLL tcp port 5002
tb_bg B "$TB_DIR/socat6.log" socat -u TCP6-LISTEN:5002 "OPEN:$TB_DIR/recv6,creat,trunc" >/dev/null
tb_wait_port B 5002
printf 'hello MARKER-7c1e over v6\n' | tb_exec A socat -u - "TCP6:[$TB_B6]:5002"
{ read -r pcap && read -r sll2 && read -r sll; } < <(tb_capture_stop marker sll2 sll)
tb_assert_eq "4d3cb2a1 14010000" "$(od -An -tx1 -N24 "$sll2" | tr -d ' \n' | sed -E 's/^(.{8}).{32}(.{8})$/\1 \2/')" \
	"nanosecond pcap with link type SLL2 (276)"
for f in "$sll2" "$sll"; do
	pcap grep "$f" MARKER-7c1e || tb_fail "pcap.py grep misses the marker in $f"
done
pcap grep "$pcap" MARKER-7c1e || tb_fail "pcap.py grep misses a marker in the capture"
rc=0
pcap grep "$pcap" MARKER-absent || rc=$?
tb_assert_eq 1 "$rc" "pcap.py grep of an absent string"
tb_assert_match '"ip": 6' "$(pcap packets "$pcap" --max-payload 4 | sed -n 1p)" \
	"pcap.py reports IPv6"
tb_pass "pcap.py grep finds a marker sent over IPv6 (Ethernet, SLL, SLL2/ns) and not an absent one"

# --- middlebox helpers on the wire
crafted_round plain
tb_assert_eq "S 2:05b4,69:2021" "$(opts_of "$B_SIDE" 40004)" "crafted IPv4 SYN through M"
tb_assert_eq "S 2:05b4,69:2021" "$(opts_of "$B_SIDE" 40006)" "crafted IPv6 SYN through M"
tb_assert_eq "SA 2:05b4,69:2021" "$(opts_of "$A_SIDE" 40014)" "crafted SYN-ACK through M"

tb_strip_eno a2b
crafted_round strip
tb_assert_eq "S 2:05b4,69:2021" "$(opts_of "$A_SIDE" 40004)" "SYN entering M (a0)"
tb_assert_eq "S 2:05b4,1:,1:,1:,1:" "$(opts_of "$B_SIDE" 40004)" "IPv4 SYN leaving M, ENO stripped"
tb_assert_eq "S 2:05b4,1:,1:,1:,1:" "$(opts_of "$B_SIDE" 40006)" "IPv6 SYN leaving M, ENO stripped"
tb_assert_eq "SA 2:05b4,69:2021" "$(opts_of "$A_SIDE" 40014)" "strip a2b leaves b2a alone"
tb_middlebox_clear
tb_pass "tb_strip_eno replaces option 69 by NOPs (IPv4 and IPv6)"

tb_drop_eno_syn
crafted_round drop
tb_assert_eq "S 2:05b4,69:2021" "$(opts_of "$A_SIDE" 40004)" "SYN entering M (a0)"
tb_assert_eq "" "$(opts_of "$B_SIDE" 40004)$(opts_of "$B_SIDE" 40006)" "ENO SYNs dropped in M"
tb_assert_eq "" "$(opts_of "$A_SIDE" 40014)$(opts_of "$A_SIDE" 40016)" \
	"ENO SYN-ACKs dropped in M"
tb_bg B "$TB_DIR/plain" timeout 5 socat -u TCP-LISTEN:5003 - >/dev/null
tb_wait_port B 5003
echo plain | tb_exec A socat -u - "TCP:$TB_B4:5003,connect-timeout=2" ||
	tb_fail "a SYN without option 69 should pass tb_drop_eno_syn"
tb_wait 5 grep -q plain "$TB_DIR/plain" || tb_fail "data after tb_drop_eno_syn"
tb_middlebox_clear
tb_pass "tb_drop_eno_syn drops SYN and SYN-ACK with option 69 only (IPv4 and IPv6)"

# --- MTU and emulated impairments
tb_mtu a0 1280
tb_exec A ping -c 1 -W 1 -M "do" -s 1300 "$TB_B4" >/dev/null 2>&1 && tb_fail "MTU 1280 not applied"
tb_exec A ping -c 1 -W 1 -M "do" -s 1200 "$TB_B4" >/dev/null || tb_fail "ping under MTU 1280"
tb_netem b0 "loss 100%"
tb_exec A ping -c 1 -W 1 "$TB_B4" >/dev/null 2>&1 && tb_fail "tb_netem loss 100% lets packets pass"
tb_middlebox_clear
tb_exec A ping -c 1 -W 1 "$TB_B4" >/dev/null 2>&1 && tb_fail "tb_middlebox_clear removed tb_netem"
tb_netem_clear b0
tb_exec A ping -c 1 -W 1 "$TB_B4" >/dev/null || tb_fail "tb_netem_clear did not restore the path"
tb_netem b0 "duplicate 100%"
for dst in "$TB_B4" "$TB_B6"; do
	out=$(tb_exec A ping -c 2 -i 0.2 -w 2 "$dst" 2>&1) || true
	tb_assert_match "DUP!" "$out" "tb_netem duplicate 100% towards $dst"
done
tb_netem_clear b0
tb_pass "tb_mtu, tb_netem loss/duplicate and tb_netem_clear"

# --- agent helpers against a stand-in (the real agent is build/tcpcryptd)
cat >"$TB_DIR/agent-ok" <<'EOF'
#!/bin/sh
echo "args: $*"
grep '^0::' /proc/self/cgroup
trap 'echo "tcpcryptd: stopping"; exit 0' TERM
echo "tcpcryptd: running"
while :; do sleep 0.05; done
EOF
printf '#!/bin/sh\necho "tcpcryptd: cannot attach"\nexit 1\n' >"$TB_DIR/agent-bad"
chmod +x "$TB_DIR/agent-ok" "$TB_DIR/agent-bad"
TB_AGENT=$TB_DIR/agent-ok tb_agent_start A --verbose
tb_assert_match "args: --pin-dir $TB_PIN_A --cgroup $TB_CG_A -i eth0 --verbose" \
	"$(cat "$TB_DIR/agent-A.log")" "agent arguments"
grep -qx "0::/${TB_CG_A#"$TB_CGROUP_ROOT"/}" "$TB_DIR/agent-A.log" || tb_fail "agent not in A's cgroup"
tb_agent_stop A
grep -q "tcpcryptd: stopping" "$TB_DIR/agent-A.log" || tb_fail "tb_agent_stop did not send SIGTERM"
TB_AGENT=$TB_DIR/agent-ok tb_agent_start B
pid=$(tb_agent_pid B)
tb_agent_kill9 B
tb_alive "$pid" && tb_fail "tb_agent_kill9 left the agent running"
rc=0
out=$(TB_AGENT=$TB_DIR/agent-bad tb_agent_start A 2>&1) || rc=$?
tb_assert_eq 1 "$rc" "tb_agent_start of an agent that exits"
tb_assert_match "cannot attach" "$out" "tb_agent_start shows the agent's log"
tb_pass "tb_agent_start/stop/kill9 (stand-in agent)"

# --- a second bed at the same time, in a subshell
outer=$TB_DIR # the subshells' beds have their own TB_DIR
(
	tb_init
	tb_create --hosts "A B C"
	echo "$TB_PREFIX" >"$outer/bed2"
	tb_exec A ping -c 1 -W 2 "$TB_B4" >/dev/null
	tb_exec C ping -c 1 -W 2 "$TB_A6" >/dev/null
	touch "$outer/bed2-up"
	tb_wait 20 test -e "$outer/bed2-go"
) &
bed2=$!
tb_wait 20 test -e "$TB_DIR/bed2-up" || tb_fail "second test bed did not come up"
p2=$(cat "$TB_DIR/bed2")
tb_assert_ne "$TB_PREFIX" "$p2" "prefix of a second bed"
# shellcheck disable=SC2153 # set by tb_create
[[ -e /run/netns/$p2-C && -e /run/netns/$TB_NS_A ]] || tb_fail "both beds should exist now"
tb_exec A ping -c 1 -W 2 "$TB_B4" >/dev/null || tb_fail "first bed disturbed by the second"
touch "$TB_DIR/bed2-go"
wait "$bed2" || tb_fail "second test bed failed"
tb_assert_eq "" "$(leftovers "$p2")" "left behind by the second bed"
tb_exec A ping -c 1 -W 2 "$TB_B6" >/dev/null || tb_fail "first bed broken by the second's cleanup"
tb_pass "two beds at once, with different prefixes, cleaned up separately"

# --- cleanup after a failure and after SIGINT
busy_bed() { # TAG: a bed with a process per host, a capture and an agent
	tb_init
	tb_create
	echo "$TB_PREFIX $TB_DIR" >"$outer/$1.bed"
	{
		tb_bg A /dev/null sleep 300
		tb_bg B /dev/null socat TCP-LISTEN:5009,fork /dev/null
		tb_bg M /dev/null sleep 300
	} >"$outer/$1.pids"
	tb_capture_start busy
	TB_AGENT=$outer/agent-ok tb_agent_start A
	tb_agent_pid A >>"$outer/$1.pids"
	touch "$outer/$1.up"
}
# In the background, so that set -e is not suspended as it is left of ||.
(
	busy_bed fail
	false
	echo "not reached"
) 2>"$TB_DIR/fail.log" &
rc=0
wait $! || rc=$?
tb_assert_eq 1 "$rc" "exit status of a subshell bed after 'false' under set -e"
read -r p3 d3 <"$TB_DIR/fail.bed"
mapfile -t pids3 <"$TB_DIR/fail.pids"
tb_assert_eq "" "$(leftovers "$p3" "${pids3[@]}")" "left behind after a failure"
[[ -d $d3 ]] || tb_fail "scratch dir not kept after a failure"
grep -q "kept in $d3" "$TB_DIR/fail.log" || tb_fail "kept scratch dir not reported"
rm -rf "$d3"

(
	busy_bed int
	while :; do sleep 0.05; done
) 2>"$TB_DIR/int.log" &
bed4=$!
tb_wait 20 test -e "$TB_DIR/int.up" || tb_fail "SIGINT bed did not come up"
read -r p4 d4 <"$TB_DIR/int.bed"
mapfile -t pids4 <"$TB_DIR/int.pids"
[[ -n $(leftovers "$p4" "${pids4[@]}") ]] || tb_fail "SIGINT bed should be up"
kill -INT "$bed4"
rc=0
wait "$bed4" || rc=$?
tb_assert_eq 130 "$rc" "exit status after SIGINT"
tb_assert_eq "" "$(leftovers "$p4" "${pids4[@]}")" "left behind after SIGINT"
rm -rf "$d4"
tb_pass "nothing left after a failure or SIGINT"

# --- normal end
prefix=$TB_PREFIX dir=$TB_DIR
tb_cleanup
tb_cleanup
tb_assert_eq "" "$(leftovers "$prefix")" "left behind after tb_cleanup"
[[ ! -e $dir ]] || tb_fail "scratch dir $dir not removed"
tb_pass "test bed self-test"
