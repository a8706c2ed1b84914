#!/bin/bash
# The packet-capture data path (the default, docs/architecture.md#packet-capture):
# the local kernel's GSO skbs reach the agent whole, the agent sends its wire
# segments as GSO packets and the peer's plaintext up in 64 KB units.  Shown
# by the counters (packets read whole from the ring, GSO packets sent) and by
# the capture in M (packets longer than the wire MSS: GSO packets, seen whole
# on a veth).  Transfers both ways, clean and under loss, reordering and
# duplication in M, are byte-identical; the plaintext never shows on the
# wire; every byte sent again at a sequence number is the byte first sent
# there (RFC 8548 §3.8).  Then with TSO off on A's wire interface, the same
# GSO packets leave cut to the MTU.
set -euo pipefail
source "$(dirname "$0")/../lib/enotest.sh"
MIB=${TT_GSO_MIB:-8}
tt_bed A B
tb_assert_match "packet capture" "$(tb_ctl A status)" "status shows packet capture"
tb_assert_match "AF_PACKET: tcpc[0-9]+a RX ring .*TX with GSO" "$(tb_ctl A status)" \
	"status shows the packet sockets"
tb_mkdata "$TB_DIR/data" "$MIB"
MARKER=tcpcrypt-gso-marker-52e1
for off in 4096 1000000 $((MIB << 19)); do
	printf '%s' "$MARKER" | dd of="$TB_DIR/data" bs=1 seek="$off" conv=notrunc status=none
done
mtu=$(tb_exec A ip -o link show eth0 | sed "s/.* mtu \([0-9]*\).*/\1/")

transfer() { # PORT NAME: A->B and B->A, each on its own connection, captured in M
	local port=$1 name=$2 pcap out
	tb_capture_start "$name" a0 tcp portrange "$port-$((port + 100))"
	tt_sink B "$port" "$TB_DIR/up$port"
	tt_send A "$TB_B4" "$port" "$TB_DIR/data"
	tt_wait_size "$TB_DIR/up$port" $((MIB << 20)) 120
	tt_sink A "$((port + 100))" "$TB_DIR/down$port"
	tt_send B "$TB_A4" "$((port + 100))" "$TB_DIR/data"
	tt_wait_size "$TB_DIR/down$port" $((MIB << 20)) 120
	pcap=$(tb_capture_stop "$name")
	tb_assert_same_file "$TB_DIR/data" "$TB_DIR/up$port" "$name: A->B byte-identical"
	tb_assert_same_file "$TB_DIR/data" "$TB_DIR/down$port" "$name: B->A byte-identical"
	if python3 "$TB_ROOT/tests/lib/pcap.py" grep "$pcap" "$MARKER"; then
		tb_fail "$name: plaintext on the wire"
	fi
	out=$(python3 "$TB_ROOT/tests/lib/pcap.py" resend "$pcap") ||
		tb_fail "$name: a byte sent again differed from its first copy: $out"
	tb_log "$name: $(tr '\n' ';' <<<"$out")"
	echo "$out"
}

before_a=$(tt_stat A dp_tx_chains)
out=$(transfer 5001 clean)
# the data directions (from the sender's port to the sink's)
for p in 5001 5101; do
	big=$(grep "> [^ ]*:$p " <<<"$out" | sed 's/.*largest=//')
	[[ $big -gt $mtu ]] || tb_fail "clean, port $p: largest wire packet $big bytes: no GSO packet"
done
for h in A B; do
	[[ $(tt_stat "$h" dp_capture_big) -gt 0 ]] || tb_fail "$h: no GSO skb came in whole"
	[[ $(tt_stat "$h" dp_tx_chains) -gt 0 ]] || tb_fail "$h: sent no GSO packet"
	tt_expect_stats "$h" dp_capture_truncated=0 dp_auth_failures=0 dp_aborted=0
done

port=5200
for spec in "loss 2%" "delay 10ms reorder 25%" "duplicate 1%" \
	"loss 2% duplicate 1% delay 10ms reorder 25%"; do
	port=$((port + 200))
	tb_netem a0 "$spec"
	tb_netem b0 "$spec"
	out=$(transfer "$port" "netem-${spec// /_}")
	tb_netem_clear a0
	tb_netem_clear b0
	if [[ $spec == loss* ]]; then
		again=$(grep "> [^ ]*:$port " <<<"$out" | sed 's/.*again=\([0-9]*\).*/\1/')
		[[ $again -gt 0 ]] || tb_fail "$spec: nothing sent again under loss (the check saw no resend)"
	fi
done
after_a=$(tt_stat A dp_tx_chains)
[[ $after_a -gt $before_a ]] || tb_fail "A sent no GSO packet"

# TSO off on A's wire interface: the kernel cuts the agent's GSO packets to the MTU
tb_exec A ethtool -K eth0 tso off gso off >/dev/null
out=$(transfer 6001 tso-off)
big=$(grep "> [^ ]*:6001 " <<<"$out" | sed 's/.*largest=//')
[[ $big -le $((mtu - 40)) ]] || tb_fail "TSO off: a $big-byte payload on a $mtu-byte MTU"
[[ $(tt_stat A dp_gso_refused) -gt 0 ]] || tb_fail "TSO off: no GSO packet was refused and resent as segments"
tb_pass "packet capture with GSO: byte-identical clean and under loss/reorder/duplication, same bytes on resend"
