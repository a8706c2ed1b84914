#!/bin/bash
# Frames spanning segments: the senders cut their wire segments at random
# points of the ciphertext stream (tcpcryptd --test-cut-segments), so that
# receivers get frames spanning segments and segments holding parts of
# several frames.  Transfers both ways stay byte-identical, and the capture
# shows the irregular segment sizes.
set -euo pipefail
source "$(dirname "$0")/../lib/enotest.sh"
tt_bed A B -- --test-cut-segments
tb_mkdata "$TB_DIR/data" 8
tb_capture_start wire a0 tcp
tt_sink B 5001 "$TB_DIR/up"
tt_send A "$TB_B4" 5001 "$TB_DIR/data"
tt_wait_size "$TB_DIR/up" $((8 << 20)) 60
tt_sink A 5002 "$TB_DIR/down"
tt_send B "$TB_A4" 5002 "$TB_DIR/data"
tt_wait_size "$TB_DIR/down" $((8 << 20)) 60
pcap=$(tb_capture_stop wire)
tb_assert_same_file "$TB_DIR/data" "$TB_DIR/up" "A->B with cut segments"
tb_assert_same_file "$TB_DIR/data" "$TB_DIR/down" "B->A with cut segments"
sizes=$(python3 "$TB_ROOT/tests/lib/pcap.py" packets "$pcap" --max-payload 0 |
	python3 -c "import json,sys; print(len({json.loads(l)['len'] for l in sys.stdin if json.loads(l)['len']}))")
[[ $sizes -gt 100 ]] || tb_fail "only $sizes distinct segment sizes: segments were not cut"
tb_pass "frames spanning segments: byte-identical ($sizes distinct segment sizes)"
