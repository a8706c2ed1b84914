#!/bin/bash
# Path MTU 1280 and 9000, set on the hosts and on M's links, with ECN on at
# both hosts: no wire segment exceeds the MTU (checked in the capture, in M;
# on jumbo links segments stay within one AF_XDP frame) and transfers are
# byte-identical.  TSO and GSO are off on the hosts' wire interfaces, so that
# M sees segments as a wire would: with them on, the agent's GSO packets (as
# the kernel's own) cross the veths whole, and a NIC would cut them
# (test_42_datapath_gso.sh covers that path).
set -euo pipefail
source "$(dirname "$0")/../lib/enotest.sh"
tt_bed
tb_exec A sysctl -qw net.ipv4.tcp_ecn=1
tb_exec B sysctl -qw net.ipv4.tcp_ecn=1
tb_mkdata "$TB_DIR/data" 8
port=5000
for mtu in 1280 9000; do
	tb_mtu a0 "$mtu"
	tb_mtu b0 "$mtu"
	tb_exec A ethtool -K eth0 tso off gso off >/dev/null
	tb_exec B ethtool -K eth0 tso off gso off >/dev/null
	tb_agent_start A
	tb_agent_start B
	for dst in "$TB_B4" "$TB_B6"; do
		port=$((port + 1))
		tb_capture_start "m$port" a0 tcp port "$port"
		tt_sink B "$port" "$TB_DIR/up$port"
		tt_send A "$dst" "$port" "$TB_DIR/data"
		tt_wait_size "$TB_DIR/up$port" $((8 << 20)) 60
		tb_assert_same_file "$TB_DIR/data" "$TB_DIR/up$port" "MTU $mtu to $dst"
		pcap=$(tb_capture_stop "m$port")
		big=$(python3 "$TB_ROOT/tests/lib/pcap.py" packets "$pcap" --max-payload 0 |
			python3 -c "
import json, sys
worst = 0
for l in sys.stdin:
    p = json.loads(l)
    hdr = (20 if p['ip'] == 4 else 40) + 20 + sum(2 if o['kind'] > 1 else 1 for o in p['options']) + sum(len(o['data']) // 2 for o in p['options'])
    worst = max(worst, hdr + p['len'])
print(worst)")
		[[ $big -le $mtu ]] || tb_fail "MTU $mtu to $dst: a $big-byte IP packet on the wire"
		[[ $big -gt $((mtu < 3400 ? mtu - 120 : 3300)) ]] ||
			tb_fail "MTU $mtu to $dst: largest packet only $big bytes"
		tb_log "MTU $mtu to $dst: largest IP packet $big bytes"
	done
	tb_agent_stop A
	tb_agent_stop B
done
tb_pass "MTU 1280 and 9000 with ECN: segments fit, transfers byte-identical"
