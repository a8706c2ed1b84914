#!/bin/bash
# make bench: side by side in one test bed run, medians of RUNS runs.
#   bulk:   iperf3 A->B, plain TCP (port off) vs tcpcrypt (port on, data path)
#   short:  connections per second and connect+first-byte latency (p50/p99)
#   attach: plain TCP with the agents attached (port off) vs no agents at all
#   idle:   agent memory per 1000 idle connections, plain (port off) and encrypted
# Not a test: it prints a table.  The machine is shared and noisy; ratios
# measured in the same run are what count.
set -euo pipefail
source "$(dirname "$0")/lib/testbed.sh"
source "$(dirname "$0")/lib/enotest.sh"
tb_require_root
tb_require_agent
RUNS=${RUNS:-5}
SECS=${SECS:-5}
CONNS=${CONNS:-2000}
tb_init
tb_create
command -v iperf3 >/dev/null || tb_fail "iperf3 missing (make deps)"

median() { python3 -c "import statistics,sys; print(statistics.median(float(x) for x in sys.argv[1:]))" "$@"; }

iperf() { # PORT -> Gbit/s
	tb_exec A iperf3 -c "$TB_B4" -p "$1" -t "$SECS" -J |
		python3 -c "import json,sys; print(round(json.load(sys.stdin)['end']['sum_received']['bits_per_second'] / 1e9, 3))"
}

conns() { # PORT FIELD...
	# a failed connection is counted in the JSON, not fatal here
	tb_exec A python3 "$TB_ROOT/tests/lib/connbench.py" client "$TB_B4" "$1" "$CONNS" 16 || true
}

start_servers() {
	for p in 5201 5202; do
		tb_bg B "$TB_DIR/iperf-$p.log" iperf3 -s -p "$p" >/dev/null
	done
	for p in 6001 6002; do
		tb_bg B "$TB_DIR/cb-$p.log" python3 "$TB_ROOT/tests/lib/connbench.py" server 0.0.0.0 "$p" >/dev/null
	done
	tb_wait_port B 5202
	tb_wait_port B 6002
}

start_servers
declare -a detached=() attached=() plain=() enc=() cr_plain=() cr_enc=() p50_plain=() p50_enc=() p99_plain=() p99_enc=()
sessions=0
# Each run: plain TCP without agents, then with them (detached and attached
# alternate, so that the machine's drift does not fall on one side).
for i in $(seq "$RUNS"); do
	detached+=("$(iperf 5201)")
	tb_agent_start A
	tb_agent_start B
	for h in A B; do
		tb_ctl "$h" port 5201 off
		tb_ctl "$h" port 6001 off
	done
	attached+=("$(iperf 5201)")
	plain+=("${attached[-1]}")
	enc+=("$(iperf 5202)")
	r=$(conns 6001)
	cr_plain+=("$(tt_py 'd["rate"]' <<<"$r")"); p50_plain+=("$(tt_py 'd["p50_ms"]' <<<"$r")")
	p99_plain+=("$(tt_py 'd["p99_ms"]' <<<"$r")")
	r=$(conns 6002)
	cr_enc+=("$(tt_py 'd["rate"]' <<<"$r")"); p50_enc+=("$(tt_py 'd["p50_ms"]' <<<"$r")")
	p99_enc+=("$(tt_py 'd["p99_ms"]' <<<"$r")")
	sessions=$((sessions + $(tt_stat A dp_sessions)))
	tb_agent_stop A
	tb_agent_stop B
done
[[ $sessions -gt 0 ]] || tb_fail "no encrypted session was made: the tcpcrypt numbers would be plain"

# agent memory per idle flow: IDLE connections that each sent a line, held
IDLE=${IDLE:-1000}
tb_bg B "$TB_DIR/idle.log" python3 "$TB_ROOT/tests/lib/idleconns.py" serve 6003 >/dev/null
tb_bg B "$TB_DIR/idle-off.log" python3 "$TB_ROOT/tests/lib/idleconns.py" serve 6004 >/dev/null
tb_wait_port B 6003
tb_wait_port B 6004
tb_agent_start A
tb_agent_start B
for h in A B; do
	tb_ctl "$h" port 6004 off
done
rss() { awk '/VmRSS/ {print $2}' "/proc/$(tb_agent_pid "$1")/status"; }
idle_kb=()
for port in 6004 6003; do
	a0=$(rss A) b0=$(rss B)
	tb_bg A "$TB_DIR/hold-$port.log" python3 "$TB_ROOT/tests/lib/idleconns.py" hold "$TB_B4" \
		"$port" "$IDLE" 5 >/dev/null
	tb_wait 60 grep -q "^held $IDLE" "$TB_DIR/hold-$port.log" ||
		tb_fail "idle connections on $port: $(cat "$TB_DIR/hold-$port.log")"
	sleep 3.5 # past the agents' idle trim (1 s) and their return of memory (once a second)
	idle_kb+=("$(( ($(rss A) - a0) * 1000 / IDLE ))/$(( ($(rss B) - b0) * 1000 / IDLE ))")
	sleep 4
done
tb_agent_stop A
tb_agent_stop B
python3 - "$RUNS" "${detached[*]}" "${attached[*]}" "${plain[*]}" "${enc[*]}" "${cr_plain[*]}" \
	"${cr_enc[*]}" "${p50_plain[*]}" "${p50_enc[*]}" "${p99_plain[*]}" "${p99_enc[*]}" <<'PY'
import statistics, sys
runs = sys.argv[1]
v = [[float(x) for x in a.split()] for a in sys.argv[2:]]
m = [statistics.median(x) for x in v]
det, att, pl, en, crp, cre, p50p, p50e, p99p, p99e = m
print(f"\nmake bench: medians of {runs} runs, test bed A -- M -- B (veth), one run side by side\n")
print(f"{'':38}{'plain TCP':>14}{'tcpcrypt':>14}{'ratio':>9}")
print(f"{'bulk throughput, iperf3 (Gbit/s)':38}{pl:14.3f}{en:14.3f}{en / pl:9.2f}")
print(f"{'short connections per second':38}{crp:14.1f}{cre:14.1f}{cre / crp:9.2f}")
print(f"{'connect + first byte p50 (ms)':38}{p50p:14.3f}{p50e:14.3f}{p50e / p50p:9.2f}")
print(f"{'connect + first byte p99 (ms)':38}{p99p:14.3f}{p99e:14.3f}{p99e / p99p:9.2f}")
print(f"\n{'':38}{'detached':>14}{'attached':>14}{'ratio':>9}")
print(f"{'plain bulk throughput (Gbit/s)':38}{det:14.3f}{att:14.3f}{att / det:9.2f}")
print("\nall runs:", " | ".join(" ".join(f"{x:g}" for x in a) for a in v))
PY
echo "agent RSS per 1000 idle flows (KB, host A/B): plain ${idle_kb[0]}, tcpcrypt ${idle_kb[1]} ($IDLE flows held)"
