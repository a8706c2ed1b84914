#!/bin/bash
# Fail closed.  While A sends a stream with a marker in every block, A's
# agent is killed with SIGKILL.  From then on the capture in M shows no
# marker (no plaintext leaves: A's TC filters and pinned capture XDP program
# stay and drop, since the AF_XDP socket is gone), and B's application never
# receives a corrupted byte.  Those drops are counted: A's
# drop_capture_no_socket (tcpcryptctl -j stats, read from the pinned maps
# while no agent runs) grows while the sender's kernel keeps retransmitting.
# The stalled connection is abandoned; after a restart of the agent a new
# connection works, encrypted.
set -euo pipefail
source "$(dirname "$0")/../lib/enotest.sh"
tt_bed A B
python3 -c "
import sys
blk = (b'KILL9-PLAINTEXT-MARKER-' + b'x' * 1001)
sys.stdout.buffer.write(blk * 16000)" >"$TB_DIR/data"
tt_sink B 5001 "$TB_DIR/recv"
tb_capture_start wire a0 tcp
# paced (64 KiB every 40 ms, about 10 s in all), so that it is still sending
# when the agent dies and after
sender=$(tb_bg A "$TB_DIR/send.log" python3 -c "
import socket, sys, time
d = open(sys.argv[1], 'rb').read()
s = socket.create_connection((sys.argv[2], 5001))
for i in range(0, len(d), 65536):
    s.sendall(d[i:i + 65536])
    time.sleep(0.04)
s.close()" "$TB_DIR/data" "$TB_B4")
tb_wait 20 eval "[[ -f '$TB_DIR/recv' && \$(stat -c %s '$TB_DIR/recv') -gt 100000 ]]" ||
	tb_fail "transfer did not start"
drops_before=$(tt_stat A drop_capture_no_socket)
tb_agent_kill9 A
sleep 0.2
mark=$(date +%s.%N)
sleep 2
drops_after=$(tt_stat A drop_capture_no_socket)
tb_stop_pid "$sender" 2 KILL
((drops_after > drops_before)) ||
	tb_fail "fail-closed drops not counted: drop_capture_no_socket $drops_before before the kill, $drops_after after"
((drops_after > 0))
pcap=$(tb_capture_stop wire)
got=$(stat -c %s "$TB_DIR/recv")
cmp -s <(head -c "$got" "$TB_DIR/data") "$TB_DIR/recv" || tb_fail "B received altered data"
after=$(python3 "$TB_ROOT/tests/lib/pcap.py" packets "$pcap" --port 5001 | python3 -c "
import json, sys
n = 0
for l in sys.stdin:
    p = json.loads(l)
    if p['time'] > $mark and 'KILL9-PLAINTEXT-MARKER' in bytes.fromhex(p['payload']).decode('latin1'):
        n += 1
print(n)")
tb_assert_eq 0 "$after" "segments with the plaintext marker on the wire after the kill"
if python3 "$TB_ROOT/tests/lib/pcap.py" grep "$pcap" KILL9-PLAINTEXT-MARKER; then
	tb_fail "the marker is on the wire"
fi
tb_agent_start A
tb_mkdata "$TB_DIR/data2" 2
tt_sink B 5002 "$TB_DIR/recv2"
tt_send A "$TB_B4" 5002 "$TB_DIR/data2"
tt_wait_size "$TB_DIR/recv2" $((2 << 20))
tb_assert_same_file "$TB_DIR/data2" "$TB_DIR/recv2" "new connection after restart"
tb_pass "kill -9: nothing in plaintext, B got only good bytes ($got), $((drops_after - drops_before)) fail-closed drops counted, restart works"
