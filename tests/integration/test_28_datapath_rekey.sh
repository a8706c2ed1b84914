#!/bin/bash
# Issue 4, item 2 (rekeying): agents that rekey every 1 MiB sent
# (--rekey-bytes 1M, RFC 8548 §3.8).  A moves 8 MiB to B: the file arrives
# byte-identical; in the capture in M, A's frames carry the rekey bit at
# least 7 times and B answers each rekey with one of its own (§3.8: at once,
# an empty frame if need be); both hosts' sessions maps show the same
# generations, each side's local one equal to the other's remote one.
set -euo pipefail
source "$(dirname "$0")/../lib/enotest.sh"
MIB=8
tt_bed A B -- --rekey-bytes 1M
tb_mkdata "$TB_DIR/data" "$MIB"
tb_capture_start wire a0 tcp port 5001
tt_sink B 5001 "$TB_DIR/recv"
tt_send A "$TB_B4" 5001 "$TB_DIR/data" 3 &
sender=$!
tt_wait_size "$TB_DIR/recv" $((MIB << 20)) 60
sleep 1.5 # the agent refreshes a session entry at least once a second
sa=$(tb_ctl A -j sessions)
sb=$(tb_ctl B -j sessions)
wait "$sender"
pcap=$(tb_capture_stop wire)
tb_assert_same_file "$TB_DIR/data" "$TB_DIR/recv" "8 MiB A->B byte-identical across rekeys"

frames=$(python3 "$TB_ROOT/tests/lib/pcap.py" frames "$pcap")
tb_log "frames on the wire: $(tr '\n' ' ' <<<"$frames")"
rekeys() { # SRC
	sed -n "s/^$1:[0-9]*>.* rekeys=\([0-9]*\)$/\1/p" <<<"$frames"
}
ra=$(rekeys "$TB_A4")
rb=$(rekeys "$TB_B4")
[[ -n $ra && $ra -ge 7 ]] || tb_fail "A's frames carry the rekey bit ${ra:-0} times, expected >= 7"
tb_assert_eq "$ra" "$rb" "B answered every rekey of A with one of its own"

gen() { # JSON FIELD
	tt_py "[s['$2'] for s in d if s['remote'].endswith(':5001') or s['local'].endswith(':5001')][0]" <<<"$1"
}
tb_assert_eq "$ra" "$(gen "$sa" local_gen)" "A's sessions map: local generation = rekeys on the wire"
tb_assert_eq "$ra" "$(gen "$sb" remote_gen)" "B's remote generation = A's local one"
tb_assert_eq "$(gen "$sb" local_gen)" "$(gen "$sa" remote_gen)" "B's local generation = A's remote one"
tb_pass "rekeying every 1 MiB: byte-identical, rekeys on the wire, generations agree"
