#!/bin/bash
# Fall-back when the peer has no ENO: B runs no agent.  A offers ENO, B's
# SYN-ACK has none, so A falls back (RFC 8547 §4.6): no ENO in the third ACK
# or later segments, plain TCP byte for byte, and A's flow is listed as
# plain (peer-no-eno).
set -euo pipefail
source "$(dirname "$0")/../lib/enotest.sh"
tt_bed A
tb_mkdata "$TB_DIR/data" 4
tb_capture_start wire a0 tcp
tt_sink B 5001 "$TB_DIR/recv"
tt_send A "$TB_B4" 5001 "$TB_DIR/data" 2 &
sender=$!
tt_wait_size "$TB_DIR/recv" $((4 << 20))
f=$(tb_ctl A -j flows)
tb_assert_eq 1 "$(tt_py 'len(d)' <<<"$f")" "one flow on A"
tb_assert_eq plain "$(tt_py 'd[0]["state"]' <<<"$f")" "A's flow is plain"
tb_assert_eq peer-no-eno "$(tt_py 'd[0]["reason"]' <<<"$f")" "fallback reason"
wait "$sender"
pcap=$(tb_capture_stop wire)
tb_assert_same_file "$TB_DIR/data" "$TB_DIR/recv" "transfer byte-identical"
w=$(tt_wire "$pcap" 5001)
tb_assert_eq '["450621222423"]' "$(tt_py 'd["syn"]' <<<"$w")" "A offered ENO in its SYN"
tb_assert_eq '[null]' "$(tt_py 'd["synack"]' <<<"$w")" "no ENO in B's SYN-ACK"
tb_assert_eq None "$(tt_py 'str(d["third_ack"])' <<<"$w")" "no ENO in A's third ACK"
tb_assert_eq 0 "$(tt_py 'd["client_data_eno"]' <<<"$w")" "no ENO on A's data segments"
tb_assert_ne 0 "$(tt_py 'd["client_data"]' <<<"$w")" "A's data is on the wire"
tt_expect_stats A negotiated=0 peer_no_eno=1 stripped=0 malformed=0
tb_pass "peer without agent: plain TCP, byte-identical, flow marked plain"
