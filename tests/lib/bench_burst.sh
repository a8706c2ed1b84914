#!/bin/bash
# A burst of N simultaneous opens (tests/lib/idleconns.py hold) against
# agents started with each argument set in turn, on one bed: how long until
# every connection had its answer, the agents' CPU, the kernels' RTOs and
# the resumption counters.  docs/machine-facts.md#resumption-in-a-burst.
#   tests/lib/bench_burst.sh [N] ['ARGS|ARGS...']      (as root)
#   WARM=1: one connection first, so that the cache holds a chain.
set -euo pipefail
source "$(dirname "$0")/enotest.sh"
N=${1:-2000}
IFS='|' read -ra CASES <<<"${2:---cache-size 0|--cache-size 4096}"
tt_bed
tb_exec A sysctl -qw net.ipv4.ip_local_port_range="1024 65000"
tb_bg B "$TB_DIR/srv.log" python3 "$TB_ROOT/tests/lib/idleconns.py" serve 6006 >/dev/null
tb_wait_port B 6006
cpu() { awk '{ print $14 + $15 }' "/proc/$(tb_agent_pid "$1")/stat"; }
rtos() { tb_exec "$1" nstat -asz TcpExtTCPTimeouts | awk '/TCPTimeouts/ { print $2 }'; }
nst() { tb_exec "$1" nstat -asz | awk '$2 > 0 && $1 ~ /Syn|Probe|Timeout|Retrans|Drop|Overflow|Prune|Collapse/ { printf "%s=%s ", $1, $2 }'; echo; }
for args in "${CASES[@]}"; do
	# shellcheck disable=SC2086 # the argument set is split on purpose
	tb_agent_start A $args
	# shellcheck disable=SC2086
	tb_agent_start B $args
	if [[ -n ${WARM:-} ]]; then
		tb_exec A python3 "$TB_ROOT/tests/lib/idleconns.py" hold "$TB_B4" 6006 1 0 >/dev/null
		sleep 1.5
	fi
	ca=$(cpu A) cb=$(cpu B) ra=$(rtos A) rb=$(rtos B)
	tb_bg A "$TB_DIR/hold.log" python3 "$TB_ROOT/tests/lib/idleconns.py" hold "$TB_B4" 6006 "$N" 4 >/dev/null
	tb_wait 90 grep -q "^held " "$TB_DIR/hold.log" || tb_fail "burst: $(cat "$TB_DIR/hold.log")"
	tck=$(getconf CLK_TCK)
	printf '[%s] %s; agent CPU A %.2f s B %.2f s; kernel RTOs A %d B %d; %s\n' "$args" \
		"$(cat "$TB_DIR/hold.log")" "$(awk -v t="$(cpu A)" -v t0="$ca" -v hz="$tck" 'BEGIN { print (t - t0) / hz }')" \
		"$(awk -v t="$(cpu B)" -v t0="$cb" -v hz="$tck" 'BEGIN { print (t - t0) / hz }')" $(($(rtos A) - ra)) $(($(rtos B) - rb)) \
		"$(tb_ctl A stats | awk '$1 ~ /^(rs_offered|rs_resumed|rs_mismatch|dp_wire_retrans|dp_resend_held|dp_slow_lane|dp_sessions)$/ { printf "%s %s ", $1, $2 }')"
	[[ -n ${VERBOSE:-} ]] && echo "A: $(nst A)" && echo "B: $(nst B)"
	sleep 5 # the connections close
	tb_agent_stop A
	tb_agent_stop B
	rm -f "$TB_DIR/hold.log"
done
