#!/bin/bash
# A clean stop of the agent fails closed.  An application streams a marker
# over an encrypted connection; one agent gets SIGTERM or SIGINT (what
# systemctl stop and restart send), that of the sender or of the receiver,
# over IPv4 and IPv6.  From the capture in M: the marker never appears on the
# wire, before or after the stop.  At the applications: both ends get an
# error (not EOF), at once, and the receiver got only the sender's bytes.
# After the stop a new connection is plain TCP and works (its marker is on
# the wire, no ENO in its SYN); after a restart, new connections are
# encrypted again.  The same for a stop while 100 connections are open, and
# for one whose RSTs to the local socket are lost (the kernel-side abort).
set -euo pipefail
source "$(dirname "$0")/../lib/enotest.sh"
tt_bed A B
STREAMS=$TB_ROOT/tests/lib/streams.py
tb_capture_start wire a0 tcp
markers=()

# Fail unless the streams.py results in FILE satisfy the Python condition COND on d.
check_json() { # FILE COND MSG
	tb_wait 15 test -s "$1" || tb_fail "$3: no result in $1"
	[[ $(tt_py "$2" <"$1") == true ]] || tb_fail "$3: $(cat "$1")"
}

# N streams from SND to RCV, the agent of STOP stopped with SIG midway.
stop_case() { # SIG FAMILY STOP SND RCV PORT N
	local sig=$1 fam=$2 stop=$3 snd=$4 rcv=$5 port=$6 n=$7 addr pid t0 t1
	local mark=STOPMARK-$sig-v$fam-$stop-$port tag=$port
	addr=TB_${rcv}${fam}
	markers+=("$mark")
	tb_bg "$rcv" "$TB_DIR/srv-$tag.log" python3 "$STREAMS" serve "$port" "$n" "$mark" \
		"$TB_DIR/srv-$tag.json" >/dev/null
	tb_wait_port "$rcv" "$port"
	tb_bg "$snd" "$TB_DIR/cli-$tag.log" python3 "$STREAMS" send "${!addr}" "$port" "$n" 20 \
		"$mark" "$TB_DIR/cli-$tag.json" >/dev/null
	tb_wait 10 grep -q "connected $n" "$TB_DIR/cli-$tag.log" ||
		tb_fail "case $tag: $n connections not made: $(cat "$TB_DIR/cli-$tag.log")"
	tt_wait_established "$stop" "$n" || tb_fail "case $tag: the sessions are not established on $stop"
	sleep 0.3
	pid=$(tb_agent_pid "$stop")
	t0=$(date +%s.%N)
	tb_agent_stop "$stop" "$sig"
	t1=$(date +%s.%N)
	grep -q "tcpcryptd: stopped" "$TB_DIR/agent-$stop.log" ||
		tb_fail "case $tag: agent $pid did not stop by itself on SIG$sig"
	grep -q "reset $n encrypted connection" "$TB_DIR/agent-$stop.log" ||
		tb_fail "case $tag: the agent did not reset $n connections: $(tail -3 "$TB_DIR/agent-$stop.log")"
	python3 -c "import sys; sys.exit(0 if $t1 - $t0 < 3 else 1)" ||
		tb_fail "case $tag: the stop took $(python3 -c "print($t1 - $t0)") s"
	check_json "$TB_DIR/cli-$tag.json" \
		"sum(d['errors'].values()) == $n and d['closed'] == 0 and d['first_error_s'] < 19" \
		"case $tag: every sender gets an error"
	check_json "$TB_DIR/srv-$tag.json" \
		"sum(d['errors'].values()) == $n and d['eof'] == 0 and d['intact'] and d['bytes'] > 0" \
		"case $tag: every receiver gets an error, and only the sender's bytes"
	tb_log "case $tag: SIG$sig to $stop's agent: $(cat "$TB_DIR/cli-$tag.json") / $(cat "$TB_DIR/srv-$tag.json")"
}

stop_case TERM 4 A A B 6001 1
# with the agent of A stopped: plain TCP, and it works
tt_marked_transfer A B "$TB_B4" 6100 PLAIN-AFTER-STOP-MARK "a connection after the stop"
tb_agent_start A
# SIG FAMILY STOP SND RCV PORT N: each signal, family, and stopped end (sender or receiver)
while read -r sig fam stop snd rcv port n; do
	stop_case "$sig" "$fam" "$stop" "$snd" "$rcv" "$port" "$n"
	tb_agent_start "$stop"
done <<'CASES'
TERM 6 B A B 6002 1
TERM 4 B B A 6003 1
TERM 6 A B A 6004 1
INT 4 A A B 6005 1
INT 6 B A B 6006 1
INT 4 B B A 6007 1
INT 6 A B A 6008 1
TERM 4 A A B 6009 100
CASES
# the agent's RSTs to the local socket lost: the kernel-side abort must catch it
for ipt in iptables ip6tables; do
	tb_exec A "$ipt" -w -t raw -A PREROUTING -i tcpc+ -p tcp --tcp-flags RST RST -j DROP
done
stop_case TERM 6 A A B 6010 1
grep -q "aborted 1 more local socket" "$TB_DIR/agent-A.log" ||
	tb_fail "the stop did not abort the surviving socket in the kernel: $(tail -3 "$TB_DIR/agent-A.log")"
for ipt in iptables ip6tables; do
	tb_exec A "$ipt" -w -t raw -D PREROUTING -i tcpc+ -p tcp --tcp-flags RST RST -j DROP
done
tb_agent_start A
# after the restarts: encrypted again
tt_marked_transfer A B "$TB_B6" 6101 ENC-AFTER-RESTART-MARK "a connection after the restart"
tt_expect_stats A unready_reset=0 dp_rst_answers=0

pcap=$(tb_capture_stop wire)
for m in "${markers[@]}" ENC-AFTER-RESTART-MARK; do
	if python3 "$TB_ROOT/tests/lib/pcap.py" grep "$pcap" "$m"; then
		tb_fail "plaintext of an encrypted connection on the wire: $m"
	fi
done
python3 "$TB_ROOT/tests/lib/pcap.py" grep "$pcap" PLAIN-AFTER-STOP-MARK --port 6100 ||
	tb_fail "the connection made while A had no agent is not plain on the wire"
plain_eno=$(tt_wire "$pcap" 6100 | sed -n 1p | tt_py 'd["syn"][0] is not None')
tb_assert_eq false "$plain_eno" "ENO in the SYN of the connection made while A had no agent"
enc_eno=$(tt_wire "$pcap" 6101 | sed -n 1p | tt_py 'd["syn"][0] is not None')
tb_assert_eq true "$enc_eno" "ENO in the SYN of the connection after the restart"
tb_pass "SIGTERM/SIGINT, sender/receiver, IPv4/IPv6, 1 and 100 connections: reset both ways, no plaintext; plain while stopped, encrypted after restart"
