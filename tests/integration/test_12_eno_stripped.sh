#!/bin/bash
# Fall-back when a middlebox strips option 69: M strips it in one
# direction, then the other.  Both sides fall back to plain TCP (RFC 8547
# §4.6, §8.1) and the transfer is byte-identical.  a2b: B never sees ENO
# (peer-no-eno on both).  b2a: A sees no ENO in the SYN-ACK and sends none
# in its ACK, so B, which did answer with ENO, learns of the stripping from
# the ACK (stripped on B).
set -euo pipefail
source "$(dirname "$0")/../lib/enotest.sh"
tt_bed A B
tb_mkdata "$TB_DIR/data" 2

run() { # DIR PORT
	local dir=$1 port=$2 pcap w fa fb
	tb_strip_eno "$dir"
	tb_capture_start "in-$dir" a0 tcp
	tb_capture_start "out-$dir" b0 tcp
	tt_sink B "$port" "$TB_DIR/recv-$port"
	tt_send A "$TB_B4" "$port" "$TB_DIR/data" 2 &
	local sender=$!
	tt_wait_size "$TB_DIR/recv-$port" $((2 << 20))
	fa=$(tb_ctl A -j flows)
	fb=$(tb_ctl B -j flows)
	tb_assert_eq plain "$(tt_py 'd[0]["state"]' <<<"$fa")" "$dir: A's flow is plain"
	wait "$sender"
	tb_middlebox_clear
	tb_assert_same_file "$TB_DIR/data" "$TB_DIR/recv-$port" "$dir: transfer byte-identical"
	# the stripping is real: ENO on one side of M, none on the other
	if [[ $dir == a2b ]]; then
		w=$(tt_wire "$(tb_capture_stop in-$dir)" "$port")
		tb_assert_eq '["450621222423"]' "$(tt_py 'd["syn"]' <<<"$w")" "a2b: SYN left A with ENO"
		w=$(tt_wire "$(tb_capture_stop out-$dir)" "$port")
		tb_assert_eq '[null]' "$(tt_py 'd["syn"]' <<<"$w")" "a2b: SYN reached B without ENO"
		tb_assert_eq '[null]' "$(tt_py 'd["synack"]' <<<"$w")" "a2b: B answered without ENO"
		tb_assert_eq 0 "$(tt_py 'len(d)' <<<"$fb")" "a2b: B saw no ENO, so no flow entry"
	else
		w=$(tt_wire "$(tb_capture_stop out-$dir)" "$port")
		tb_assert_eq '["45040123"]' "$(tt_py 'd["synack"]' <<<"$w")" "b2a: SYN-ACK left B with ENO"
		w=$(tt_wire "$(tb_capture_stop in-$dir)" "$port")
		tb_assert_eq '[null]' "$(tt_py 'd["synack"]' <<<"$w")" "b2a: SYN-ACK reached A without ENO"
		tb_assert_eq None "$(tt_py 'str(d["third_ack"])' <<<"$w")" "b2a: no ENO in A's ACK"
		tb_assert_eq plain "$(tt_py 'd[0]["state"]' <<<"$fb")" "b2a: B's flow is plain"
		tb_assert_eq stripped "$(tt_py 'd[0]["reason"]' <<<"$fb")" "b2a: B's reason"
	fi
}

run a2b 5001
tt_expect_stats A negotiated=0 peer_no_eno=1 stripped=0
tt_expect_stats B negotiated=0 peer_no_eno=1 stripped=0
run b2a 5002
tt_expect_stats A negotiated=0 peer_no_eno=2 stripped=0
tt_expect_stats B negotiated=0 peer_no_eno=1 stripped=1
tb_pass "option 69 stripped either way: both fall back, byte-identical"
