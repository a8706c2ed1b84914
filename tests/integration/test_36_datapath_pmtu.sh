#!/bin/bash
# Path MTU discovery through tcpcrypt.  The hosts' links have MTU H, M's link
# towards B has P < H (B's own routes to A are limited to P but advertise
# the MSS of H, so A learns the path only in flight):
#  - H 1500, P 1280 and H 9000, P 1400, IPv4 and IPv6: M answers A's too big
#    wire segments with ICMP "fragmentation needed" / "packet too big"; TC
#    steers them to A's agent, which shrinks the flow's wire segments, re-cuts
#    what it resends, and tells A's kernel (dp_pmtu_updates, dp_recut_segments,
#    the session's wire MSS); 4 MiB each way byte-identical, no packet on the
#    narrow link above P, and the time beside plain TCP's on the same path;
#  - the same with every ICMP too-big dropped in M (a black hole): the agent
#    probes smaller segments (dp_mtu_probes) and the transfer completes in 10 s;
#  - with loss on top, still byte-identical.
set -euo pipefail
source "$(dirname "$0")/../lib/enotest.sh"
tt_bed A B
tb_mkdata "$TB_DIR/data" 4
SIZE=$((4 << 20))
port=9400

narrow() { # HOST_MTU PATH_MTU
	tb_mtu a0 "$1"
	tb_mtu b0 "$1"
	# segments, not GSO packets, on the wire veths: M's capture shows what a
	# wire would carry (GSO packets cross a veth whole; test_37 covers them)
	tb_exec A ethtool -K eth0 tso off gso off >/dev/null
	tb_exec B ethtool -K eth0 tso off gso off >/dev/null
	tb_exec M ip link set dev b0 mtu "$2"
	tb_exec B ip route replace default via 198.18.2.1 mtu lock "$2" advmss $(($1 - 40))
	tb_exec B ip -6 route replace default via fd00:7463:2::1 mtu lock "$2" advmss $(($1 - 60))
	tb_exec A ip route flush cache
	tb_exec A ip -6 route flush cache
}

# The data from SRC to DST's ADDR over a new port ($port); the seconds it took in $took.
xfer() { # SRC DST ADDR [off]
	local t0 t1
	port=$((port + 1))
	if [[ ${4:-} == off ]]; then
		tb_ctl A port "$port" off >/dev/null
		tb_ctl B port "$port" off >/dev/null
	fi
	tt_sink "$2" "$port" "$TB_DIR/recv-$port"
	t0=$(date +%s.%N)
	tt_send "$1" "$3" "$port" "$TB_DIR/data"
	tt_wait_size "$TB_DIR/recv-$port" "$SIZE" 10
	t1=$(date +%s.%N)
	tb_assert_same_file "$TB_DIR/data" "$TB_DIR/recv-$port" "$1 -> $2 ($3, port $port)"
	took=$(python3 -c "print(round($t1 - $t0, 3))")
}

# Largest IP packet in a capture, but for those of port SKIP (plain TCP, whose
# TSO aggregates the capture sees whole: only the agent's frames are real segments).
largest() { # PCAP SKIP
	python3 "$TB_ROOT/tests/lib/pcap.py" packets "$1" --max-payload 0 | python3 -c "
import json, sys
worst = 0
for l in sys.stdin:
    p = json.loads(l)
    if $2 in (p['sport'], p['dport']):
        continue
    opts = sum(2 + len(o['data']) // 2 if o['kind'] > 1 else 1 for o in p['options'])
    worst = max(worst, (20 if p['ip'] == 4 else 40) + 20 + opts + p['len'])
print(worst)"
}

for hp in 1500:1280 9000:1400; do
	host=${hp%:*} path=${hp#*:}
	narrow "$host" "$path"
	for fam in 4 6; do
		a=TB_A$fam b=TB_B$fam
		tb_capture_start narrow b0 tcp
		xfer A B "${!b}" off
		plain=$took plain_port=$port
		tb_exec A ip route flush cache
		tb_exec A ip -6 route flush cache
		xfer A B "${!b}"
		up=$took
		mss=$(tb_ctl A -j sessions | tt_py "[s['wire_mss'] for s in d if s['remote'].endswith(':$port')][0]")
		xfer B A "${!a}"
		down=$took
		big=$(largest "$(tb_capture_stop narrow)" "$plain_port")
		[[ $big -le $path ]] || tb_fail "a $big-byte packet on the $path-byte link"
		[[ $big -gt $((path - 120)) ]] || tb_fail "largest packet on the $path-byte link: only $big bytes"
		# payload of a segment with timestamps that fits: MTU - IP - TCP - 12
		[[ $mss -le $((path - (fam == 6 ? 40 : 20) - 32)) ]] ||
			tb_fail "A's session kept a wire MSS of $mss on a $path-byte path"
		tb_log "MTU $host, path $path, IPv$fam: plain $plain s, tcpcrypt A->B $up s (wire MSS $mss), B->A $down s; largest packet $big"
	done
done
tt_expect_stats A dp_mtu_probes=0
[[ $(tt_stat A dp_pmtu_updates) -ge 4 ]] || tb_fail "A's agent learned no path MTU: $(tb_ctl A -j stats)"
[[ $(tt_stat A dp_recut_segments) -ge 1 ]] || tb_fail "no segment was re-cut"

# a black hole: no ICMP too-big leaves M
narrow 1500 1280
tb_exec M iptables -w -A OUTPUT -p icmp --icmp-type fragmentation-needed -j DROP
tb_exec M ip6tables -w -A OUTPUT -p ipv6-icmp --icmpv6-type packet-too-big -j DROP
for fam in 4 6; do
	b=TB_B$fam
	xfer A B "${!b}"
	up=$took
	tb_log "black hole, IPv$fam: A->B $up s"
done
[[ $(tt_stat A dp_mtu_probes) -ge 2 ]] || tb_fail "A's agent probed no smaller segments: $(tb_ctl A -j stats)"

# loss on top of the narrow path (ICMP allowed again)
tb_exec M iptables -w -D OUTPUT -p icmp --icmp-type fragmentation-needed -j DROP
tb_exec M ip6tables -w -D OUTPUT -p ipv6-icmp --icmpv6-type packet-too-big -j DROP
narrow 1500 1280
tb_netem b0 "loss 1%"
tb_netem a0 "loss 1%"
for fam in 4 6; do
	a=TB_A$fam b=TB_B$fam
	xfer A B "${!b}"
	up=$took
	xfer B A "${!a}"
	down=$took
	tb_log "loss 1% each way, IPv$fam: A->B $up s, B->A $down s"
done
tb_netem_clear a0
tb_netem_clear b0
tb_pass "PMTU: ICMP-learned and black-hole paths, IPv4 and IPv6, with loss: byte-identical, segments fit"
