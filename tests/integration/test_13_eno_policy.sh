#!/bin/bash
# Per-port policy, changed live with tcpcryptctl.
#   off on B: B's SYN-ACK carries no ENO; A falls back.
#   off on A: A's SYN carries no ENO (port_off counted).
#   require on both: negotiates as usual.
#   require on A towards a host without agent: connect() is refused before
#     any payload leaves A (TC ingress turns the SYN-ACK without ENO into a
#     RST).
#   require on B, client without ENO: B answers the SYN with a RST.
set -euo pipefail
source "$(dirname "$0")/../lib/enotest.sh"
tt_bed A B
tb_mkdata "$TB_DIR/data" 1
tb_capture_start wire a0 tcp

# off on B
tb_ctl B port 5001 off
tb_assert_match "5001 +off" "$(tb_ctl B ports)" "ports lists 5001 off"
tt_sink B 5001 "$TB_DIR/recv1"
tt_send A "$TB_B4" 5001 "$TB_DIR/data"
tt_wait_size "$TB_DIR/recv1" $((1 << 20))
tb_assert_same_file "$TB_DIR/data" "$TB_DIR/recv1" "off on B: byte-identical"

# off on A (a range)
tb_ctl A port 5002-5003 off
tt_sink B 5002 "$TB_DIR/recv2"
tt_send A "$TB_B4" 5002 "$TB_DIR/data"
tt_wait_size "$TB_DIR/recv2" $((1 << 20))
tb_ctl A port 5002-5003 on
tb_assert_eq "default: on" "$(tb_ctl A ports)" "setting the default removes entries"

# require on both sides
tb_ctl A port 5005 require
tb_ctl B port 5005 require
tt_sink B 5005 "$TB_DIR/recv5"
tt_send A "$TB_B4" 5005 "$TB_DIR/data"
tt_wait_size "$TB_DIR/recv5" $((1 << 20))
tb_assert_same_file "$TB_DIR/data" "$TB_DIR/recv5" "require on both: byte-identical"

# require on A, B without agent
tb_agent_stop B
tb_ctl A port 5003 require
tt_sink B 5003 "$TB_DIR/recv3"
if echo "MARKER-REQUIRE-A" | tb_exec A socat -u - "TCP:$TB_B4:5003" 2>"$TB_DIR/err3"; then
	tb_fail "require on A: connection to a host without agent succeeded"
fi
tb_assert_match "Connection refused" "$(cat "$TB_DIR/err3")" "require on A: connect() refused"

# require on B, client without ENO (port off on A)
tb_agent_start B

tb_ctl B port 5004 require
tb_ctl A port 5004 off
tt_sink B 5004 "$TB_DIR/recv4"
if echo "MARKER-REQUIRE-B" | tb_exec A socat -u - "TCP:$TB_B4:5004" 2>"$TB_DIR/err4"; then
	tb_fail "require on B: a client without ENO got through"
fi
tb_assert_match "Connection refused" "$(cat "$TB_DIR/err4")" "require on B: connect() refused"
pcap=$(tb_capture_stop wire)

w=$(tt_wire "$pcap" 5001)
tb_assert_eq '["450621222423"]' "$(tt_py 'd["syn"]' <<<"$w")" "off on B: A still offers ENO"
tb_assert_eq '[null]' "$(tt_py 'd["synack"]' <<<"$w")" "off on B: no ENO in B's SYN-ACK"
w=$(tt_wire "$pcap" 5002)
tb_assert_eq '[null]' "$(tt_py 'd["syn"]' <<<"$w")" "off on A: no ENO in A's SYN"
w=$(tt_wire "$pcap" 5005)
tb_assert_eq 4502 "$(tt_py 'd["third_ack"]' <<<"$w")" "require on both: ENO completed"
w=$(tt_wire "$pcap" 5003)
tb_assert_eq 0 "$(tt_py 'd["client_payload"]' <<<"$w")" "require on A: no payload left A"
if python3 "$TB_ROOT/tests/lib/pcap.py" grep "$pcap" MARKER-REQUIRE-A; then
	tb_fail "require on A: the marker is on the wire"
fi
w=$(tt_wire "$pcap" 5004)
tb_assert_eq '[]' "$(tt_py 'd["synack"]' <<<"$w")" "require on B: no SYN-ACK"
tb_assert_eq true "$(tt_py 'd["rst"]' <<<"$w")" "require on B: RST on the wire"
tb_assert_eq 0 "$(tt_py 'd["client_payload"]' <<<"$w")" "require on B: no payload"
[[ ! -s $TB_DIR/recv4 ]] || tb_fail "require on B: the application received data"

tt_expect_stats A negotiated=1 peer_no_eno=1 port_off=2 require_reset=1
tt_expect_stats B require_reset=1
tb_pass "port policies off and require behave on the wire"
