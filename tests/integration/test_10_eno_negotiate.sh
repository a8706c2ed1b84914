#!/bin/bash
# TCP-ENO negotiation between two hosts with agents, over IPv4 and IPv6.
# On the wire (captured in M): ENO in the SYN, in the SYN-ACK with b=1, and
# `45 02` in the third ACK.  Both flow maps agree on the TEP, hold
# complementary roles and the same transcript, which equals the options
# seen on the wire.  Transfers are byte-identical; entries go away on close.
set -euo pipefail
source "$(dirname "$0")/../lib/enotest.sh"
tt_bed A B
tb_mkdata "$TB_DIR/data" 4

check_conn() { # FAMILY ADDR PORT
	local fam=$1 addr=$2 port=$3 out=$TB_DIR/recv-$3 fa fb
	tt_sink B "$port" "$out"
	tt_send A "$addr" "$port" "$TB_DIR/data" 3 &
	local sender=$!
	tt_wait_size "$out" $((4 << 20))
	fa=$(tb_ctl A -j flows tcpcrypt)
	fb=$(tb_ctl B -j flows tcpcrypt)
	tb_assert_eq 1 "$(tt_py 'len(d)' <<<"$fa")" "$fam: one tcpcrypt flow on A"
	tb_assert_eq 1 "$(tt_py 'len(d)' <<<"$fb")" "$fam: one tcpcrypt flow on B"
	tb_assert_eq A "$(tt_py 'd[0]["role"]' <<<"$fa")" "$fam: A is host A"
	tb_assert_eq B "$(tt_py 'd[0]["role"]' <<<"$fb")" "$fam: B is host B"
	tb_assert_eq 35 "$(tt_py 'd[0]["tep"]' <<<"$fa")" "$fam: TEP on A is x25519 (0x23)"
	tb_assert_eq 35 "$(tt_py 'd[0]["tep"]' <<<"$fb")" "$fam: TEP on B is x25519 (0x23)"
	tb_assert_eq "$(tt_py 'd[0]["transcript"]' <<<"$fa")" \
		"$(tt_py 'd[0]["transcript"]' <<<"$fb")" "$fam: identical transcripts"
	tb_assert_eq "$(tt_py 'd[0]["remote"]' <<<"$fa")" "$(tt_py 'd[0]["local"]' <<<"$fb")" \
		"$fam: the two entries describe the same connection"
	echo "$(tt_py 'd[0]["transcript"]' <<<"$fa")" >"$TB_DIR/transcript-$port"
	wait "$sender"
	# an encrypted flow's entry goes once the agent is done with it: 3 s after both FINs (linger), later when the machine is loaded
	tb_wait 10 eval "[[ \$(tb_ctl A -j flows | tt_py 'len(d)') == 0 ]]" ||
		tb_fail "$fam: A's flow entry not removed after close"
	tb_wait 10 eval "[[ \$(tb_ctl B -j flows | tt_py 'len(d)') == 0 ]]" ||
		tb_fail "$fam: B's flow entry not removed after close"
	tb_assert_same_file "$TB_DIR/data" "$out" "$fam: transfer byte-identical"
}

tb_capture_start wire a0 tcp
check_conn IPv4 "$TB_B4" 5001
check_conn IPv6 "$TB_B6" 5002
pcap=$(tb_capture_stop wire)

for port in 5001 5002; do
	w=$(tt_wire "$pcap" "$port")
	tb_assert_eq 1 "$(wc -l <<<"$w")" "port $port: one connection on the wire"
	# A offers the four tcpcrypt TEPs; B answers b=1 and x25519 (RFC 8547 §4.2, §4.5)
	tb_assert_eq '["450621222423"]' "$(tt_py 'd["syn"]' <<<"$w")" "port $port: ENO in SYN"
	tb_assert_eq '["45040123"]' "$(tt_py 'd["synack"]' <<<"$w")" "port $port: ENO in SYN-ACK, b=1"
	tb_assert_eq 4502 "$(tt_py 'd["third_ack"]' <<<"$w")" "port $port: 45 02 in third ACK"
	tb_assert_eq "450621222423""45040123" "$(cat "$TB_DIR/transcript-$port")" \
		"port $port: the maps' transcript is A's SYN option then B's SYN-ACK option"
done
tt_expect_stats A negotiated=2 peer_no_eno=0 stripped=0 malformed=0 flows_created=2 flows_deleted=2
tt_expect_stats B negotiated=2 peer_no_eno=0 stripped=0 malformed=0 flows_created=2 flows_deleted=2
tb_pass "ENO negotiated over IPv4 and IPv6, checked on the wire and in both maps"
