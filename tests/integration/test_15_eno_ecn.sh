#!/bin/bash
# TCP-ENO with ECN: with net.ipv4.tcp_ecn=1 on both hosts, the SYN carries
# ECE|CWR and ENO, and ENO still negotiates.
set -euo pipefail
source "$(dirname "$0")/../lib/enotest.sh"
tt_bed
tb_exec A sysctl -qw net.ipv4.tcp_ecn=1
tb_exec B sysctl -qw net.ipv4.tcp_ecn=1
tb_agent_start A
tb_agent_start B
tb_mkdata "$TB_DIR/data" 2
tb_capture_start wire a0 tcp
for addr in "$TB_B4" "$TB_B6"; do
	port=$((port = ${port:-5000} + 1))
	tt_sink B "$port" "$TB_DIR/recv$port"
	tt_send A "$addr" "$port" "$TB_DIR/data"
	tt_wait_size "$TB_DIR/recv$port" $((2 << 20))
	tb_assert_same_file "$TB_DIR/data" "$TB_DIR/recv$port" "ECN transfer to $addr"
done
pcap=$(tb_capture_stop wire)
for p in 5001 5002; do
	flags=$(python3 "$TB_ROOT/tests/lib/pcap.py" packets "$pcap" --port "$p" | head -1 |
		tt_py 'd["flags"]')
	[[ $flags == S*E* && $flags == *C* ]] || tb_fail "port $p: SYN flags '$flags' lack ECE/CWR"
	w=$(tt_wire "$pcap" "$p")
	tb_assert_eq 4502 "$(tt_py 'd["third_ack"]' <<<"$w")" "port $p: ENO completed with ECN"
done
tt_expect_stats A negotiated=2 peer_no_eno=0
tt_expect_stats B negotiated=2
tb_pass "ENO negotiates with ECN on"
