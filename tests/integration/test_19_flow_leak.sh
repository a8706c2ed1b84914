#!/bin/bash
# No leaked state: flow entries are removed when connections end.  100k
# short connections between two hosts with agents all negotiate and are
# encrypted, and afterwards no flow or session entry is left on either side
# and created == deleted.
set -euo pipefail
source "$(dirname "$0")/../lib/enotest.sh"
tt_bed
N=${TT_LEAK_CONNECTIONS:-100000}
tb_exec A sysctl -qw net.ipv4.ip_local_port_range="1024 65000" net.ipv4.tcp_tw_reuse=1
tb_agent_start A
tb_agent_start B
tb_bg B "$TB_DIR/srv.log" python3 "$TB_ROOT/tests/lib/connbench.py" server 0.0.0.0 \
	6000,6001,6002,6003 >/dev/null
tb_wait_port B 6003
t0=$SECONDS
out=$(tb_exec A python3 "$TB_ROOT/tests/lib/connbench.py" client "$TB_B4" 6000,6001,6002,6003 \
	"$N" 64) || tb_fail "client: $out"
tb_log "$N connections in $((SECONDS - t0)) s: $out"
tb_assert_eq "$N 0" "$(tt_py '"%d %d" % (d["ok"], d["failed"])' <<<"$out")" "all connections completed"
tb_wait 10 eval "[[ \$(tb_ctl A -j flows | tt_py 'len(d)') == 0 ]]" ||
	tb_fail "A: $(tb_ctl A -j flows | tt_py 'len(d)') flow entries left"
tb_wait 10 eval "[[ \$(tb_ctl B -j flows | tt_py 'len(d)') == 0 ]]" ||
	tb_fail "B: $(tb_ctl B -j flows | tt_py 'len(d)') flow entries left"
tt_expect_stats A negotiated="$N" flows_created="$N" flows_deleted="$N"
tt_expect_stats B negotiated="$N" flows_created="$N" flows_deleted="$N"
# each one encrypted by the data path, and its session entry gone after
for h in A B; do
	tt_expect_stats "$h" dp_sessions="$N" dp_established="$N" dp_aborted=0 dp_auth_failures=0
	tb_wait 10 eval "[[ \$(tb_ctl $h -j sessions | tt_py 'len(d)') == 0 ]]" ||
		tb_fail "$h: $(tb_ctl "$h" -j sessions | tt_py 'len(d)') session entries left"
done
pending=$(bpftool map dump pinned "$TB_PIN_B/pending" | tt_py 'len(d)')
tb_assert_eq 0 "$pending" "no passive negotiation state left on B"
tb_pass "$N connections, no flow entry left"
