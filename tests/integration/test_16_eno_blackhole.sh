#!/bin/bash
# SYN black holes: M drops every SYN that carries option 69.  A sends ENO on
# the first two SYNs only, then retries without it (RFC 8547 §4.6 allows
# dropping ENO from a retransmitted SYN), so the connection completes as
# plain TCP within a few seconds; B's address goes into the negative cache,
# and the next connection goes out without ENO at once.
set -euo pipefail
source "$(dirname "$0")/../lib/enotest.sh"
tt_bed A B
tb_drop_eno_syn
tb_mkdata "$TB_DIR/data" 1
tb_capture_start wire a0 tcp
tt_sink B 5001 "$TB_DIR/recv1"
t0=$(date +%s.%N)
tt_send A "$TB_B4" 5001 "$TB_DIR/data" 2 &
sender=$!
tt_wait_size "$TB_DIR/recv1" $((1 << 20)) 15
t1=$(date +%s.%N)
f=$(tb_ctl A -j flows)
tb_assert_eq plain "$(tt_py 'd[0]["state"]' <<<"$f")" "the flow fell back"
tb_assert_eq syn-blackhole "$(tt_py 'd[0]["reason"]' <<<"$f")" "fallback reason"
wait "$sender"
secs=$(python3 -c "print($t1 - $t0)")
python3 -c "import sys; sys.exit(0 if $secs < 6 else 1)" ||
	tb_fail "connection took $secs s to complete"
nc=$(tb_ctl A -j negcache)
tb_assert_eq "$TB_B4" "$(tt_py 'd[0]["destination"]' <<<"$nc")" "B is in the negative cache"
tb_assert_match "$TB_B4" "$(tb_ctl A negcache)" "negcache listing shows B"
tt_expect_stats A syn_blackhole=1 negcache_plain=0 negotiated=0

tt_sink B 5002 "$TB_DIR/recv2"
t0=$(date +%s.%N)
tt_send A "$TB_B4" 5002 "$TB_DIR/data"
tt_wait_size "$TB_DIR/recv2" $((1 << 20))
secs=$(python3 -c "print($(date +%s.%N) - $t0)")
python3 -c "import sys; sys.exit(0 if $secs < 1 else 1)" ||
	tb_fail "second connection took $secs s despite the negative cache"
pcap=$(tb_capture_stop wire)
tb_assert_same_file "$TB_DIR/data" "$TB_DIR/recv1" "first transfer byte-identical"
tb_assert_same_file "$TB_DIR/data" "$TB_DIR/recv2" "second transfer byte-identical"
w=$(tt_wire "$pcap" 5001)
tb_assert_eq '["450621222423", "450621222423", null]' "$(tt_py 'd["syn"]' <<<"$w")" \
	"two SYNs with ENO, then one without"
w=$(tt_wire "$pcap" 5002)
tb_assert_eq '[null]' "$(tt_py 'd["syn"]' <<<"$w")" "negative cache: SYN without ENO"
tt_expect_stats A syn_blackhole=1 negcache_plain=1
tb_ctl A negcache flush
tb_assert_eq 0 "$(tb_ctl A -j negcache | tt_py 'len(d)')" "negcache flush empties it"
tb_pass "SYN black hole: plain within a few seconds, negative cache visible"
