#!/bin/bash
# What a killed agent leaves behind.  A streams a marker to B over an
# encrypted connection and A's agent gets SIGKILL: the connection stalls and
# nothing of it leaves in plaintext (the pinned programs drop it).
#  - `tcpcryptd --detach-only` refuses while that connection is open;
#  - a restarted agent aborts it at once (its keys died with the old agent):
#    the sender gets an error within a second, orphans_reset counts it, and
#    new connections are encrypted;
#  - after a second kill, `--detach-only --force` aborts the connection and
#    removes everything (TC filters, capture veth, pins): new connections are
#    plain TCP and work.
# The marker of the encrypted streams is nowhere in the capture taken in M.
set -euo pipefail
source "$(dirname "$0")/../lib/enotest.sh"
tt_bed A B
STREAMS=$TB_ROOT/tests/lib/streams.py
AGENT=${TB_AGENT:-$TB_ROOT/build/tcpcryptd}
tb_capture_start wire a0 tcp

# A stream from A to B's PORT, established and encrypted; then A's agent killed.
stream_then_kill() { # PORT MARK
	tb_bg B "$TB_DIR/srv-$1.log" python3 "$STREAMS" serve "$1" 1 "$2" "$TB_DIR/srv-$1.json" >/dev/null
	tb_wait_port B "$1"
	tb_bg A "$TB_DIR/cli-$1.log" python3 "$STREAMS" send "$TB_B4" "$1" 1 15 "$2" \
		"$TB_DIR/cli-$1.json" >/dev/null
	tt_wait_established A 1 || tb_fail "port $1: the session is not established"
	sleep 0.3
	tb_agent_kill9 A
	sleep 1
	[[ ! -s $TB_DIR/cli-$1.json ]] || tb_fail "port $1: the sender ended early: $(cat "$TB_DIR/cli-$1.json")"
}

stream_then_kill 7001 CRASHMARK-ONE
if tb_exec A "$AGENT" --detach-only --pin-dir "$TB_PIN_A" 2>"$TB_DIR/detach1.err"; then
	tb_fail "--detach-only detached with an encrypted connection open"
fi
grep -q "1 encrypted connection is open" "$TB_DIR/detach1.err" ||
	tb_fail "--detach-only does not say why it refuses: $(cat "$TB_DIR/detach1.err")"
# (into a variable first: grep -q would close the pipe early, and pipefail fail it)
filters=$(tb_exec A tc filter show dev eth0 ingress)
grep -q bpf <<<"$filters" || tb_fail "--detach-only removed the TC filter: $filters"
t0=$(date +%s.%N)
tb_agent_start A
tb_wait 3 test -s "$TB_DIR/cli-7001.json" || tb_fail "the stalled sender got no error after the restart"
t1=$(date +%s.%N)
tt_py "sum(d['errors'].values()) == 1" <"$TB_DIR/cli-7001.json" | grep -q true ||
	tb_fail "the sender's end: $(cat "$TB_DIR/cli-7001.json")"
tb_log "sender's error $(python3 -c "print(round($t1 - $t0, 2))") s after the restart began: $(cat "$TB_DIR/cli-7001.json")"
tt_expect_stats A dp_orphans_reset=1
grep -q "reset 1 encrypted connection of a previous agent" "$TB_DIR/agent-A.log" ||
	tb_fail "the restarted agent does not say it reset the connection"

# new connections are encrypted after the restart
tt_marked_transfer A B "$TB_B4" 7101 CRASHMARK-AFTER-RESTART "a connection after the restart"

stream_then_kill 7002 CRASHMARK-TWO
tb_exec A "$AGENT" --detach-only --force --pin-dir "$TB_PIN_A" 2>"$TB_DIR/detach2.err" ||
	tb_fail "--detach-only --force failed: $(cat "$TB_DIR/detach2.err")"
grep -q "aborted 1 encrypted connection" "$TB_DIR/detach2.err" ||
	tb_fail "--detach-only --force: $(cat "$TB_DIR/detach2.err")"
tb_wait 3 test -s "$TB_DIR/cli-7002.json" || tb_fail "--force left the sender hanging"
tt_py "sum(d['errors'].values()) == 1" <"$TB_DIR/cli-7002.json" | grep -q true ||
	tb_fail "the sender's end: $(cat "$TB_DIR/cli-7002.json")"
filters=$(tb_exec A tc filter show dev eth0 ingress; tb_exec A tc filter show dev eth0 egress)
if grep -q bpf <<<"$filters"; then
	tb_fail "TC filters left on A's eth0 after --detach-only"
fi
[[ -z $(tb_exec A ip -o link show | grep tcpc) ]] || tb_fail "a capture veth is left"
[[ -z $(ls -A "$TB_PIN_A") ]] || tb_fail "pins left: $(ls "$TB_PIN_A")"
[[ -z $(bpftool cgroup show "$TB_CG_A" 2>/dev/null | grep sock_ops) ]] ||
	tb_fail "sock_ops still attached to A's cgroup"

# nothing attached on A: plain TCP, and it works
tt_marked_transfer A B "$TB_B4" 7102 PLAIN-AFTER-DETACH "a connection after --detach-only"

pcap=$(tb_capture_stop wire)
for m in CRASHMARK-ONE CRASHMARK-TWO CRASHMARK-AFTER-RESTART; do
	if python3 "$TB_ROOT/tests/lib/pcap.py" grep "$pcap" "$m"; then
		tb_fail "plaintext of an encrypted connection on the wire: $m"
	fi
done
python3 "$TB_ROOT/tests/lib/pcap.py" grep "$pcap" PLAIN-AFTER-DETACH --port 7102 ||
	tb_fail "the connection after --detach-only is not plain on the wire"
tb_pass "kill -9: fail closed; --detach-only refuses, --force aborts and removes all; restart resets orphans at once"
