#!/bin/bash
# Sockets of other network namespaces never negotiate, whatever their
# interface numbers.  Host A runs an agent on its eth0 and also hosts two
# "containers" whose processes live in A's cgroup (where sock_ops is
# attached) and whose traffic A NATs out of eth0: K, whose eth0 has the same
# ifindex as A's eth0, and L, whose eth0 has another.  Host C, without an
# agent, sits on M directly; its processes too are in A's cgroup, and its
# eth0 has A's eth0's ifindex.  From each, over IPv4 and IPv6, a transfer to
# B (which runs an agent) is plain TCP and byte-identical: no ENO in the SYN
# on the wire (captures in M), no flow entry on A, nothing aborted on B; A
# counts them (foreign_netns; forwarded_syn for those NATed out of eth0).
set -euo pipefail
source "$(dirname "$0")/../lib/enotest.sh"
tb_require_agent
tb_init
tb_create --hosts "A B C"
wire_idx=$(tb_exec A cat /sys/class/net/eth0/ifindex)
[[ $(tb_exec C cat /sys/class/net/eth0/ifindex) == "$wire_idx" ]] ||
	tb_fail "host C's eth0 should have A's eth0's number ($wire_idx) for this test"
tb_container A K 41 "$wire_idx"
tb_container A L 42 $((wire_idx + 5))
TB_CG_C=$TB_CG_A # C's processes in A's cgroup
tb_agent_start A
tb_agent_start B
tb_capture_start wireA a0 tcp
tb_capture_start wireC c0 tcp
tb_mkdata "$TB_DIR/data" 1

port=8100
nat=0 foreign=0
for src in K L C; do
	for fam in 4 6; do
		port=$((port + 1))
		dst=TB_B$fam
		addr=${!dst}
		[[ $fam == 6 ]] && addr="[$addr]"
		tt_sink B "$port" "$TB_DIR/recv-$port"
		tb_exec "$src" socat -u "OPEN:$TB_DIR/data" "TCP:$addr:$port"
		tt_wait_size "$TB_DIR/recv-$port" $((1 << 20))
		tb_assert_same_file "$TB_DIR/data" "$TB_DIR/recv-$port" "$src -> B over IPv$fam"
		foreign=$((foreign + 1))
		[[ $src != C ]] && nat=$((nat + 1))
	done
done
tb_wait 3 eval "[[ \$(tt_stat A foreign_netns) == $foreign ]]" ||
	tb_fail "A counted $(tt_stat A foreign_netns) connections of other namespaces, expected $foreign"
tt_expect_stats A forwarded_syn=$nat negotiated=0 flows_created=0
tt_expect_stats B negotiated=0 dp_aborted=0 dp_sessions=0
pa=$(tb_capture_stop wireA)
pc=$(tb_capture_stop wireC)
port=8100
for src in K L C; do
	for fam in 4 6; do
		port=$((port + 1))
		pcap=$pa
		[[ $src == C ]] && pcap=$pc
		summary=$(tt_wire "$pcap" "$port" | sed -n 1p)
		[[ -n $summary ]] || tb_fail "$src over IPv$fam: connection not in the capture"
		tb_assert_eq "null null" "$(tt_py '" ".join(json.dumps(x) for x in (d["syn"][0], d["synack"][0]))' <<<"$summary")" \
			"ENO in the SYN or SYN-ACK of $src -> B over IPv$fam"
		# all of it in plaintext (retransmissions may add to it)
		tb_assert_eq true "$(tt_py "d['client_payload'] >= $((1 << 20))" <<<"$summary")" \
			"all bytes of $src -> B over IPv$fam on the wire, plain"
	done
done
tb_pass "containers with and without A's wire ifindex, and an agent-less host with it: plain, intact, counted (IPv4 and IPv6)"
