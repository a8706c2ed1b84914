#!/bin/bash
# Fail closed.  While A sends a stream with a marker in every block, A's
# agent is killed with SIGKILL.  From then on the capture in M shows no
# marker (no plaintext leaves: A's TC filters and pinned capture XDP program
# stay and drop, since the AF_XDP socket is gone), and B's application never
# receives a corrupted byte.  The stalled connection is abandoned; after a
# restart of the agent a new connection works, encrypted.
set -euo pipefail
source "$(dirname "$0")/../lib/enotest.sh"
tt_bed A B
python3 -c "
import sys
blk = (b'KILL9-PLAINTEXT-MARKER-' + b'x' * 1001)
sys.stdout.buffer.write(blk * 16000)" >"$TB_DIR/data"
tt_sink B 5001 "$TB_DIR/recv"
tb_capture_start wire a0 tcp
sender=$(tb_bg A "$TB_DIR/send.log" sh -c "exec socat -u - TCP:$TB_B4:5001 <'$TB_DIR/data'")
tb_wait 20 eval "[[ -f '$TB_DIR/recv' && \$(stat -c %s '$TB_DIR/recv') -gt 100000 ]]" ||
	tb_fail "transfer did not start"
tb_agent_kill9 A
sleep 0.2
mark=$(date +%s.%N)
sleep 2
tb_stop_pid "$sender" 2 KILL
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
tb_pass "kill -9: nothing in plaintext, B got only good bytes ($got), restart works"
