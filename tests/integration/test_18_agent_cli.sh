#!/bin/bash
# tcpcryptd and tcpcryptctl as a user meets them: --help, precise errors
# (not root, no bpffs, not a cgroup v2, missing interface, loopback, second
# instance, bad arguments), clean detach and unpin on SIGTERM and SIGINT,
# maps that outlive a crash and are reused on restart, and named fields in
# `bpftool map dump`.
set -euo pipefail
source "$(dirname "$0")/../lib/enotest.sh"
tt_bed
D=$TB_ROOT/build/tcpcryptd
C=$TB_ROOT/build/tcpcryptctl

expect_fail() { # RC PATTERN CMD...
	local want=$1 pat=$2 rc=0 out
	shift 2
	out=$("$@" 2>&1) || rc=$?
	[[ $rc == "$want" ]] || tb_fail "'$*' exited $rc, expected $want: $out"
	[[ $out =~ $pat ]] || tb_fail "'$*' said '$out', expected /$pat/"
}

tb_assert_match "Usage: tcpcryptd" "$("$D" --help)" "tcpcryptd --help"
tb_assert_match "Usage: tcpcryptctl" "$("$C" --help)" "tcpcryptctl --help"
expect_fail 2 "no interface to steer" "$D"
expect_fail 2 "Try 'tcpcryptd --help'" "$D" --bogus
expect_fail 2 "bad policy" "$D" -i eth0 --default-policy maybe
expect_fail 2 "unknown TEP 'rsa'" "$D" -i eth0 --teps x25519,rsa
expect_fail 1 "must run as root" setpriv --reuid=65534 --regid=65534 --clear-groups "$D" -i eth0
expect_fail 1 "is not on a bpffs; mount one" "$D" -i eth0 --pin-dir "$TB_DIR/pins"
expect_fail 1 "not a cgroup v2 directory" tb_exec A "$D" -i eth0 --pin-dir "$TB_PIN_A" \
	--cgroup "$TB_DIR"
expect_fail 1 "no interface named 'nosuch0'" tb_exec A "$D" -i nosuch0 --pin-dir "$TB_PIN_A"
expect_fail 1 "loopback cannot be steered" tb_exec A "$D" -i lo --pin-dir "$TB_PIN_A"
expect_fail 1 "no such map; is tcpcryptd running" "$C" --pin-dir "$TB_PIN_A" status
expect_fail 2 "unknown subcommand 'frobnicate'" "$C" frobnicate
fresh=${TB_PIN_A}-fresh
tb_defer "rm -rf '$fresh'"
expect_fail 1 "no interface named" tb_exec A "$D" -i nosuch0 --pin-dir "$fresh"
expect_fail 1 "not a cgroup v2" tb_exec A "$D" -i eth0 --pin-dir "$fresh" --cgroup /tmp
[[ ! -e $fresh ]] || tb_fail "a failed start left $fresh behind"

tb_agent_start A
expect_fail 1 "another tcpcryptd is running on $TB_PIN_A" \
	tb_exec A "$D" -i eth0 --pin-dir "$TB_PIN_A" --cgroup "$TB_CG_A"
expect_fail 2 "bad port or range '0'" tb_ctl A port 0 on
expect_fail 2 "bad port or range '9-3'" tb_ctl A port 9-3 on
expect_fail 2 "bad port or range '70000'" tb_ctl A port 70000 off
expect_fail 2 "bad policy 'sometimes'" tb_ctl A port 80 sometimes
expect_fail 2 "usage: tcpcryptctl port" tb_ctl A port 80
tb_assert_match "agent: +running" "$(tb_ctl A status)" "status shows the agent"
tb_assert_match "eth0 .*TC ingress" "$(tb_ctl A status)" "status shows the interface"
tb_assert_eq running "$(tb_ctl A -j status | tt_py 'd["agent"]')" "status -j"
# packet capture (the default): AF_PACKET sockets, no AF_XDP socket
tb_assert_eq "packet true 0" "$(tb_ctl A -j status |
	tt_py '"%s %s %d" % (d["interfaces"][0]["capture_mode"], str(d["interfaces"][0]["inject_64k"]).lower(), len(d["interfaces"][0]["xsk"]))')" \
	"status -j shows packet capture"
tb_assert_match "AF_PACKET: tcpc[0-9]+a RX ring \(GSO skbs whole\), TX with GSO on eth0" \
	"$(tb_ctl A status)" "status shows the packet sockets"
dump=$(bpftool map dump pinned "$TB_PIN_A/settings")
for field in enabled syn_eno_tries teps negcache_ttl_s; do
	tb_assert_match "\"$field\"" "$dump" "bpftool shows named field $field"
done
tb_bg B "$TB_DIR/srv.log" socat -u TCP-LISTEN:5001,reuseaddr OPEN:/dev/null >/dev/null
tb_wait_port B 5001
{ echo hi; sleep 2; } | tb_exec A socat -u - "TCP:$TB_B4:5001" &
sender=$!
tb_wait 5 eval "[[ \$(tb_ctl A -j flows | tt_py 'len(d)') == 1 ]]" || tb_fail "no flow entry"
dump=$(bpftool map dump pinned "$TB_PIN_A/flows")
for field in state role transcript cookie laddr rport; do
	tb_assert_match "\"$field\"" "$dump" "bpftool shows named flow field $field"
done
wait "$sender"

# a crash leaves the maps pinned; tcpcryptctl still reads them; a restart reuses them
tb_ctl A port 7777 off
tb_agent_kill9 A
tb_assert_match "agent: +stopped \(maps still pinned\)" "$(tb_ctl A status)" "status after crash"
tb_assert_match "7777 +off" "$(tb_ctl A ports)" "policy readable after crash"
tb_agent_start A
tb_assert_match "7777 +off" "$(tb_ctl A ports)" "policy kept across restart"

# SIGTERM: everything detached and unpinned
stopped_clean() { # HOST
	local pin=TB_PIN_$1 cg=TB_CG_$1
	[[ -z $(ls -A "${!pin}") ]] || tb_fail "$1: pins left in ${!pin}: $(ls "${!pin}")"
	[[ $(tb_exec "$1" ip link show eth0) != *xdp* ]] || tb_fail "$1: XDP still attached"
	[[ -z $(tb_exec "$1" tc filter show dev eth0 ingress) ]] || tb_fail "$1: TC filter left"
	[[ -z $(bpftool cgroup show "${!cg}") ]] || tb_fail "$1: sock_ops still attached"
}
tb_agent_stop A
stopped_clean A
tb_assert_match "SIGTERM|Terminated" "$(cat "$TB_DIR/agent-A.log")" "agent logged the signal"
# the AF_XDP data path on request: its sockets per queue, with their mode (veth: copy only)
tb_agent_start B --capture xdp --multi-buffer off
tb_assert_eq "xdp rx:0:copy tx:0:copy" "$(tb_ctl B -j status |
	tt_py '" ".join([d["interfaces"][0]["capture_mode"]] + ["%s:%d:%s" % (x["dir"], x["queue"], x["mode"]) for x in d["interfaces"][0]["xsk"]])')" \
	"status -j lists the AF_XDP sockets per queue"
tb_assert_match "AF_XDP: tcpc[0-9]+a queue 0 RX \(copy, single-buffer: one frame per packet\), eth0 queue 0 TX \(copy\)" \
	"$(tb_ctl B status)" "status shows the AF_XDP sockets"
tb_agent_stop B
stopped_clean B
tb_agent_start B
kill -INT "$(tb_agent_pid B)"
tb_wait 5 eval "! tb_alive $(tb_agent_pid B)" || tb_fail "B's agent ignored SIGINT"
stopped_clean B
tb_pass "tcpcryptd/tcpcryptctl errors, lifecycle and inspection"
