#!/bin/bash
# With the data path on, everything that does not negotiate stays plain
# TCP, byte for byte (the fall-back tests 11-13 run with the data path, the
# agent's default):
#   - a connection opened before the agents started keeps working, plain;
#   - changing a port's policy affects new connections only: an encrypted
#     connection stays encrypted after `port off`, the next one is plain.
set -euo pipefail
here=$(dirname "$0")
source "$here/../lib/enotest.sh"
tt_bed
tb_mkdata "$TB_DIR/data" 2
# opened before the agents: a slow writer that keeps going across their start
tt_sink B 5001 "$TB_DIR/early.recv"
tb_bg A "$TB_DIR/early.log" sh -c "(head -c 1048576 '$TB_DIR/data'; sleep 3; tail -c +1048577 '$TB_DIR/data') |
	socat -u - TCP:$TB_B4:5001" >/dev/null
tt_wait_size "$TB_DIR/early.recv" $((1 << 20))
tb_agent_start A
tb_agent_start B
tt_wait_size "$TB_DIR/early.recv" $((2 << 20)) 20
tb_assert_same_file "$TB_DIR/data" "$TB_DIR/early.recv" "connection opened before the agents"
# policy changes: an encrypted connection survives `port off`
tb_capture_start wire a0 tcp
tt_sink B 5002 "$TB_DIR/enc.recv"
tb_bg A "$TB_DIR/enc.log" sh -c "(head -c 1048576 '$TB_DIR/data'; sleep 2; tail -c +1048577 '$TB_DIR/data') |
	socat -u - TCP:$TB_B4:5002" >/dev/null
tt_wait_size "$TB_DIR/enc.recv" $((1 << 20))
tb_ctl A port 5002 off
tb_ctl A port 5003 off
tt_wait_size "$TB_DIR/enc.recv" $((2 << 20)) 20
tt_sink B 5003 "$TB_DIR/plain.recv"
tt_send A "$TB_B4" 5003 "$TB_DIR/data"
tt_wait_size "$TB_DIR/plain.recv" $((2 << 20))
pcap=$(tb_capture_stop wire)
tb_assert_same_file "$TB_DIR/data" "$TB_DIR/enc.recv" "encrypted connection across 'port off'"
tb_assert_same_file "$TB_DIR/data" "$TB_DIR/plain.recv" "new connection after 'port off'"
w=$(tt_wire "$pcap" 5002)
tb_assert_eq 4502 "$(tt_py 'd["third_ack"]' <<<"$w")" "the first connection negotiated"
w=$(tt_wire "$pcap" 5003)
tb_assert_eq '[null]' "$(tt_py 'd["syn"]' <<<"$w")" "the new connection offered no ENO"
block=$(head -c 64 "$TB_DIR/data" | od -An -tx1 | tr -d ' \n')
python3 "$TB_ROOT/tests/lib/pcap.py" packets "$pcap" --port 5003 | grep -q "$block" ||
	tb_fail "the new connection's data is not in plaintext on the wire"
python3 "$TB_ROOT/tests/lib/pcap.py" packets "$pcap" --port 5002 | grep -q "$block" &&
	tb_fail "the encrypted connection's data is in plaintext on the wire"
tb_pass "fall-backs with the data path; early connections and policy changes"
