#!/bin/bash
# Rekeying: agents that rekey every 1 MiB sent (--rekey-bytes 1M, RFC 8548
# §3.8).  A moves 8 MiB to B: the file arrives byte-identical; in the
# capture in M, A's frames carry the rekey bit at least 7 times and B
# answers each rekey with one of its own (§3.8: at once, an empty frame if
# need be); both hosts' sessions maps show the same generations, each
# side's local one equal to the other's remote one.
set -euo pipefail
source "$(dirname "$0")/../lib/enotest.sh"
MIB=8
tt_bed A B -- --rekey-bytes 1M
tb_mkdata "$TB_DIR/data" "$MIB"
tb_capture_start wire a0 tcp port 5001
tt_sink B 5001 "$TB_DIR/recv"
# paced to about 250 Mbit/s, so that the capture in M misses no packet: the
# frames are counted along the reassembled stream
tb_exec A python3 -c '
import socket, sys, time
s = socket.create_connection((sys.argv[1], 5001))
d = open(sys.argv[2], "rb").read()
for i in range(0, len(d), 65536):
    s.sendall(d[i:i + 65536])
    time.sleep(0.002)
time.sleep(3)' "$TB_B4" "$TB_DIR/data" &
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
# 8 MiB in frames of at most 1428 bytes (MSS 1448 less the frame's 20): a
# walk cut short by a packet the capture lost shows
[[ $(sed -n "s/^$TB_A4:[0-9]*>.* frames=\([0-9]*\) .*/\1/p" <<<"$frames") -ge $(((MIB << 20) / 1428)) ]] ||
	tb_fail "the capture misses packets of A's stream: cannot count its frames"
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
