#!/bin/bash
# The test bed's stand-ins for sch_netem, proved on the wire without any agent:
# tb_netem "delay 10ms reorder 25%" (nfq_netem on an NFQUEUE in M) delays a
# quarter of the packets by 10 ms, so a capture behind M shows segments out of
# order while one before M does not, and an 8 MiB TCP transfer still arrives
# intact; "delay" with "loss" in one spec does both; tb_tamper inverts exactly
# one payload byte of a plain TCP stream (IPv4 and IPv6), which TCP cannot
# notice because the checksum is recomputed; after the clear functions the
# path is clean and fast again, with no rule or process left.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lib/testbed.sh
. "$here/../lib/testbed.sh"
PCAP=$TB_ROOT/tests/lib/pcap.py

tb_require_root
for c in nsenter tcpdump socat iptables ip6tables ping python3 cmp; do
	command -v "$c" >/dev/null || tb_skip "$c not installed; run: make deps"
done
[[ -x $TB_ROOT/build/tests/nfq_netem ]] || tb_skip "build/tests/nfq_netem not built; run: make"

tb_init
tb_create
PY=$(python3 -c 'import sys; print(sys.executable)')
DATA=$TB_DIR/data
tb_mkdata "$DATA" 8

# Send FILE from A to B's ADDR:PORT with socat; the copy is $TB_DIR/NAME.out.
# Sets SECS to the transfer's duration.
transfer() { # NAME ADDR PORT [FILE]
	local name=$1 addr=$2 port=$3 file=${4:-$DATA} listen=TCP4-LISTEN connect pid t0
	connect=TCP4:$addr:$port
	if [[ $addr == *:* ]]; then
		listen=TCP6-LISTEN connect=TCP6:[$addr]:$port
	fi
	pid=$(tb_bg B "$TB_DIR/$name.socat.log" socat -u -T 10 "$listen:$port,reuseaddr" \
		"CREATE:$TB_DIR/$name.out")
	tb_wait_port B "$port"
	t0=$(date +%s.%N)
	tb_exec A socat -u -T 10 "OPEN:$file" "$connect" ||
		tb_fail "$name: sender failed"
	tb_wait 15 eval "! tb_alive $pid" || tb_fail "$name: receiver still running after 15 s"
	SECS=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
}

# RTTs in ms of COUNT pings from A to ADDR, one a line (lost ones left out).
rtts() { # ADDR COUNT
	tb_exec A ping -n -c "$2" -i 0.02 -W 1 "$1" | sed -n 's/.*time=\([0-9.]*\) ms.*/\1/p' || true
}

# Reordering seen in a capture: "LATE SEGMENTS", LATE counting the data
# segments from SRC that come below the highest sequence number seen so far and
# still carry bytes not seen before: holes filled late. A retransmission of
# bytes that already went by does not count, so the sender's own
# retransmissions do not make a capture taken before M look reordered.
late_segments() { # PCAP SRC
	"$PY" "$PCAP" packets "$1" --max-payload 0 | "$PY" -c '
import json, sys
src, isn, top, late, n, seen = sys.argv[1], None, 0, 0, 0, bytearray()
for line in sys.stdin:
    p = json.loads(line)
    if p["src"] == src and p["flags"] == "S":
        isn = p["seq"]
    if p["src"] != src or not p["len"] or isn is None:
        continue
    seq, end = (p["seq"] - isn) % 2**32, (p["seq"] - isn) % 2**32 + p["len"]
    n += 1
    if len(seen) < end:
        seen.extend(bytes(end - len(seen)))
    if seq < top and 0 in seen[seq:end]:
        late += 1
    seen[seq:end] = b"\1" * p["len"]
    top = max(top, end)
print(late, n)' "$2"
}

# ---- (a) delay 10ms reorder 25%: ping RTTs, then reordering of a transfer

tb_netem b0 "delay 10ms reorder 25%"
mapfile -t r < <(rtts "$TB_B4" 40)
slow=0 fast=0
for t in "${r[@]}"; do
	if awk -v t="$t" 'BEGIN { exit !(t >= 9.9 && t < 30) }'; then
		slow=$((slow + 1))
	elif awk -v t="$t" 'BEGIN { exit !(t < 5) }'; then
		fast=$((fast + 1))
	else
		tb_fail "reorder 25%: ping RTT $t ms is neither about 0 nor about 10 ms"
	fi
done
tb_assert_eq 40 "${#r[@]}" "reorder 25%: pings answered"
((slow >= 2 && slow <= 25)) || tb_fail "reorder 25%: $slow of 40 pings delayed 10 ms"
tb_log "reorder 25%: $slow of 40 ping RTTs about 10 ms longer, $fast not delayed"

# A larger capture buffer: even 32 MiB drops a few packets of this transfer.
TB_CAPTURE_BUF_KIB=131072 tb_capture_start before a0 tcp port 5001
TB_CAPTURE_BUF_KIB=131072 tb_capture_start after b0 tcp port 5001
transfer reorder "$TB_B4" 5001
mapfile -t caps < <(tb_capture_stop before after)
tb_assert_same_file "$DATA" "$TB_DIR/reorder.out" "8 MiB with 'delay 10ms reorder 25%'"
read -r late_a n_a <<<"$(late_segments "${caps[0]}" "$TB_A4")"
read -r late_b n_b <<<"$(late_segments "${caps[1]}" "$TB_A4")"
tb_log "reorder 25%: 8 MiB in $SECS s; segments filling a hole late: before M (a0)" \
	"$late_a of $n_a, after M (b0) $late_b of $n_b"
((late_b >= 10)) || tb_fail "reorder 25%: only $late_b segments reordered after M"
((late_a * 10 < late_b)) ||
	tb_fail "reorder 25%: $late_a segments out of order before M already, $late_b after"
tb_netem_clear b0
grep -h "nfq_netem: queue" "$TB_DIR/nfq-netem-b0.log" >&2

# "delay" alone delays every packet; with "loss" in the same spec both apply.
tb_netem b0 "delay 10ms"
mapfile -t r < <(rtts "$TB_B6" 10)
tb_assert_eq 10 "${#r[@]}" "delay 10ms: pings answered over IPv6"
min6=$(printf '%s\n' "${r[@]}" | sort -n | head -1)
awk -v t="$min6" 'BEGIN { exit !(t >= 9.9) }' || tb_fail "delay 10ms: an IPv6 RTT of $min6 ms"
tb_netem b0 "loss 50% delay 10ms"
mapfile -t r < <(rtts "$TB_B4" 40)
((${#r[@]} >= 5 && ${#r[@]} <= 35)) || tb_fail "loss 50%: ${#r[@]} of 40 pings answered"
min=$(printf '%s\n' "${r[@]}" | sort -n | head -1)
awk -v t="$min" 'BEGIN { exit !(t >= 9.9) }' || tb_fail "loss 50% delay 10ms: an RTT of $min ms"
tb_log "delay 10ms: IPv6 RTTs from $min6 ms; with loss 50%: ${#r[@]} of 40 answered, from $min ms"
tb_netem_clear b0

# ---- (b) tamper: exactly one byte of a plain TCP stream changes, undetected

# "POSITION OLD NEW" (position from 1, bytes in octal) of each differing byte.
check_tamper() { # NAME COPY LOG
	local diffs pos old new logged
	diffs=$(cmp -l "$DATA" "$2" || true)
	tb_assert_eq 1 "$(wc -l <<<"$diffs")" "$1: bytes differing"
	read -r pos old new <<<"$diffs"
	(((8#$old ^ 8#$new) == 0xff)) || tb_fail "$1: byte $pos is $new, not $old inverted"
	((pos > 100000)) || tb_fail "$1: byte $pos changed, before the first 100000"
	grep "tampered" "$3" >&2
	logged=$(sed -n 's/.*stream byte \([0-9]*\).*/\1/p' "$3")
	tb_assert_eq "$((pos - 1))" "$logged" "$1: changed byte (from 0) against nfq_netem's log"
}

tb_tamper b0 100000 5002
transfer tamper4 "$TB_B4" 5002
check_tamper tamper4 "$TB_DIR/tamper4.out" "$TB_DIR/nfq-tamper-b0.log"
cp "$TB_DIR/nfq-tamper-b0.log" "$TB_DIR/tamper4.nfq.log"
tb_tamper b0 100000 5003
head -c 2097152 "$DATA" >"$TB_DIR/data2"
transfer tamper6 "$TB_B6" 5003 "$TB_DIR/data2"
DATA=$TB_DIR/data2 check_tamper tamper6 "$TB_DIR/tamper6.out" "$TB_DIR/nfq-tamper-b0.log"

# ---- (c) clear: no rule, no nfq_netem left, the path clean and fast

tb_netem b0 "delay 10ms reorder 25%"
tb_tamper b0 0
tb_netem_clear b0
tb_tamper_clear b0
for t in iptables ip6tables; do
	left=$(tb_exec M "$t" -w -t mangle -S; tb_exec M "$t" -w -t filter -S)
	[[ $left != *NFQUEUE* && $left != *TB_NETEM* ]] || tb_fail "$t rules left: $left"
done
for f in "$TB_DIR"/nfq-*.pid; do
	[[ ! -e $f ]] || tb_fail "nfq_netem still tracked after clear: $f"
done
for pid in $(ip netns pids "$TB_NS_M"); do
	[[ $(cat "/proc/$pid/comm" 2>/dev/null) != nfq_netem ]] ||
		tb_fail "nfq_netem (PID $pid) still running in M after clear"
done
transfer clean "$TB_B4" 5004
tb_assert_same_file "$DATA" "$TB_DIR/clean.out" "8 MiB after the clear functions"
awk -v s="$SECS" 'BEGIN { exit !(s < 5) }' || tb_fail "8 MiB took $SECS s after clear"
tb_log "after clear: 8 MiB intact in $SECS s"

tb_pass "nfq_netem: delay, reorder ($late_b segments late), tamper and clear"
