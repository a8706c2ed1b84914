#!/bin/bash
# ENO is offered only on connections that leave through a steered
# interface.  An application connecting to a local address (the host's own
# address on its steered interface, 127.0.0.1, ::1) gets no ENO on the wire
# (capture on lo) and no flow entry; a remote connection made at the same
# time still negotiates.
set -euo pipefail
source "$(dirname "$0")/../lib/enotest.sh"
tt_bed A B
tb_mkdata "$TB_DIR/data" 1
lo_pid=$(tb_bg B "$TB_DIR/lo.log" tcpdump -U -n -s 0 -i lo -w "$TB_DIR/lo.pcap" tcp)
tb_wait 10 grep -q "listening on" "$TB_DIR/lo.log" || tb_fail "tcpdump on B's lo did not start"
n=0
for addr in "$TB_B4" 127.0.0.1 ::1 "$TB_B6"; do
	n=$((n + 1))
	tt_sink B $((5000 + n)) "$TB_DIR/recv$n"
	tt_send B "$addr" $((5000 + n)) "$TB_DIR/data"
	tt_wait_size "$TB_DIR/recv$n" $((1 << 20))
	tb_assert_same_file "$TB_DIR/data" "$TB_DIR/recv$n" "local connection to $addr"
done
tt_sink B 5010 "$TB_DIR/recv-remote"
tt_send A "$TB_B4" 5010 "$TB_DIR/data"
tt_wait_size "$TB_DIR/recv-remote" $((1 << 20))
sleep 0.3
tb_stop_pid "$lo_pid" 5 INT
syns=$(python3 "$TB_ROOT/tests/lib/pcap.py" packets "$TB_DIR/lo.pcap" |
	python3 -c 'import json,sys; print(sum(1 for l in sys.stdin if "S" in json.loads(l)["flags"]))')
[[ $syns -ge 8 ]] || tb_fail "expected the 4 local handshakes on lo, saw $syns SYN/SYN-ACKs"
eno=$(python3 "$TB_ROOT/tests/lib/pcap.py" packets "$TB_DIR/lo.pcap" |
	python3 -c 'import json,sys; print(sum(1 for l in sys.stdin for o in json.loads(l)["options"] if o["kind"] == 69))')
tb_assert_eq 0 "$eno" "no option 69 on loopback"
tt_expect_stats B negotiated=1 flows_created=1 peer_no_eno=0
tb_pass "no ENO for local connections; remote ones still negotiate"
