#!/bin/bash
# Bulk throughput only, for data-path work: one test bed, agents on A and B,
# iperf3 A->B (one flow) plain TCP (port 5201 off), tcpcrypt (5202 on) and
# stunnel4 at both ends (TLS 1.3 over port 5203, off for tcpcrypt, in front
# of the same iperf3 server), RUNS times alternately; medians and ratios.
# Not a test: it prints a table (and BULK_JSON=FILE writes the figures).
#   RUNS=5 SECS=5 AGENT_ARGS="..." PERF=1 (a perf profile of this bed's
#   cgroups during one tcpcrypt run into $TB_DIR/perf.data, kept with
#   TB_KEEP=1); ALT_ARGS="--capture xdp --multi-buffer off": each run also
#   measures tcpcrypt with the agents restarted with those options
#   ("tcpcrypt-alt"), the earlier data path, in the same run.
set -euo pipefail
source "$(dirname "$0")/testbed.sh"
source "$(dirname "$0")/enotest.sh"
tb_require_root
tb_require_agent
RUNS=${RUNS:-5}
SECS=${SECS:-5}
command -v iperf3 >/dev/null || tb_fail "iperf3 missing (make deps)"
tb_init
tb_create
# shellcheck disable=SC2086 # AGENT_ARGS is a list of options
tb_agent_start A ${AGENT_ARGS:-}
# shellcheck disable=SC2086
tb_agent_start B ${AGENT_ARGS:-}
for h in A B; do
	tb_ctl "$h" port 5201 off
	tb_ctl "$h" port 5203 off
	tb_ctl "$h" port 5204 off
done

STUNNEL=$(command -v stunnel4 || command -v stunnel || true)
if [[ -n $STUNNEL ]]; then
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
		-subj /CN=bench -keyout "$TB_DIR/st.key" -out "$TB_DIR/st.crt" 2>/dev/null
	cat >"$TB_DIR/st-b.conf" <<EOF
foreground = yes
pid =
[srv]
accept = 0.0.0.0:5203
connect = 127.0.0.1:5202
cert = $TB_DIR/st.crt
key = $TB_DIR/st.key
sslVersionMin = TLSv1.3
EOF
	cat >"$TB_DIR/st-a.conf" <<EOF
foreground = yes
pid =
[cli]
client = yes
accept = 127.0.0.1:5204
connect = $TB_B4:5203
sslVersionMin = TLSv1.3
EOF
	tb_bg B "$TB_DIR/st-b.log" "$STUNNEL" "$TB_DIR/st-b.conf" >/dev/null
	tb_bg A "$TB_DIR/st-a.log" "$STUNNEL" "$TB_DIR/st-a.conf" >/dev/null
fi
for p in 5201 5202; do
	tb_bg B "$TB_DIR/iperf-$p.log" iperf3 -s -p "$p" >/dev/null
done
tb_wait_port B 5202
[[ -z $STUNNEL ]] || { tb_wait_port B 5203 && tb_wait_port A 5204; }

iperf() { # ADDR PORT -> Gbit/s
	tb_exec A iperf3 -c "$1" -p "$2" -t "$SECS" -J |
		python3 -c "import json,sys; print(round(json.load(sys.stdin)['end']['sum_received']['bits_per_second'] / 1e9, 3))"
}

agent_ticks() { # CPU clock ticks the two agents used so far (utime + stime)
	local t=0 h f
	for h in A B; do
		f=($(sed 's/.*) //' "/proc/$(tb_agent_pid "$h")/stat"))
		t=$((t + f[11] + f[12]))
	done
	echo "$t"
}

us_per_mb() { # TICKS0 TICKS1 GBITS: the agents' CPU time per MB moved, in us
	python3 -c "print(round(($2 - $1) * 1e6 / $(getconf CLK_TCK) / ($3 * 1e3 / 8 * $SECS), 1))"
}

agents() { # ARGS...
	tb_agent_stop A
	tb_agent_stop B
	tb_agent_start A "$@"
	tb_agent_start B "$@"
	for h in A B; do
		tb_ctl "$h" port 5201 off
		tb_ctl "$h" port 5203 off
		tb_ctl "$h" port 5204 off
	done
}

declare -a plain=() enc=() stun=() alt=() cpu=() cpu_alt=()
for i in $(seq "$RUNS"); do
	plain+=("$(iperf "$TB_B4" 5201)")
	if [[ ${PERF:-0} == 1 && $i == 1 ]]; then
		# only this bed's processes (cgroups of A and B): the machine is shared
		perf record -a -g -e cycles -G "${TB_CG_A#"$TB_CGROUP_ROOT"/}" -e cycles \
			-G "${TB_CG_B#"$TB_CGROUP_ROOT"/}" -o "$TB_DIR/perf.data" -- sleep 3 >/dev/null 2>&1 &
		perfpid=$!
	fi
	t0=$(agent_ticks)
	enc+=("$(iperf "$TB_B4" 5202)")
	cpu+=("$(us_per_mb "$t0" "$(agent_ticks)" "${enc[-1]}")")
	if ((i == RUNS)); then # the counters of the last tcpcrypt run (ALT_ARGS restarts the agents)
		for h in A B; do
			echo "host $h: $(tb_ctl "$h" stats | grep -E 'dp_(rx_frames|tx_frames|tx_chains|capture_big|capture_drops|wire_retrans|tx_drops|gso_refused) ' | tr -s ' ' | tr '\n' ' ')"
		done >"$TB_DIR/counters"
	fi
	[[ $(tt_stat A dp_sessions) -gt 0 ]] || tb_fail "no encrypted session: tcpcrypt figures would be plain"
	[[ -z ${perfpid:-} ]] || { wait "$perfpid" || true; unset perfpid; }
	[[ -z $STUNNEL ]] || stun+=("$(iperf 127.0.0.1 5204)")
	if [[ -n ${ALT_ARGS:-} ]]; then
		# shellcheck disable=SC2086
		agents $ALT_ARGS
		t0=$(agent_ticks)
		alt+=("$(iperf "$TB_B4" 5202)")
		cpu_alt+=("$(us_per_mb "$t0" "$(agent_ticks)" "${alt[-1]}")")
		# shellcheck disable=SC2086
		agents ${AGENT_ARGS:-}
	fi
	echo "run $i: plain ${plain[-1]} tcpcrypt ${enc[-1]} (agents ${cpu[-1]} us/MB)" \
		"stunnel ${stun[*]: -1} alt ${alt[*]: -1} (${cpu_alt[*]: -1} us/MB)" >&2
done
cat "$TB_DIR/counters" >&2
python3 - "${BULK_JSON:-}" "${plain[*]}" "${enc[*]}" "${stun[*]:-}" "${alt[*]:-}" \
	"${cpu[*]}" "${cpu_alt[*]:-}" <<'EOF'
import json, statistics, sys
out = sys.argv[1]
runs = dict(zip(("plain", "tcpcrypt", "stunnel", "tcpcrypt-alt", "agent_us_per_MB",
                 "agent_us_per_MB-alt"),
                ([float(x) for x in a.split()] for a in sys.argv[2:])))
runs = {k: v for k, v in runs.items() if v}
m = {k: statistics.median(v) for k, v in runs.items()}
print(f"bulk one flow, iperf3 Gbit/s, medians of {len(runs['plain'])} alternated runs")
for k, v in m.items():
    print(f"  {k:19} {v:8.3f}   runs: {' '.join(str(x) for x in runs[k])}")
for k in ("tcpcrypt", "tcpcrypt-alt"):
    if k in m:
        print(f"  {k}/plain {m[k] / m['plain']:.3f}" +
              (f"   {k}/stunnel {m[k] / m['stunnel']:.3f}" if "stunnel" in m else ""))
if out:
    json.dump({"runs": runs, "median": m}, open(out, "w"))
EOF
if [[ ${PERF:-0} == 1 ]]; then
	perf report -i "$TB_DIR/perf.data" --no-children --sort comm,dso,sym --stdio 2>/dev/null |
		grep -v '^#' | grep '%' | head -40 >"$TB_DIR/perf.txt" || true
	perf report -i "$TB_DIR/perf.data" --no-children --sort comm --stdio 2>/dev/null |
		grep -v '^#' | grep '%' | head -10 >>"$TB_DIR/perf.txt" || true
	cp "$TB_DIR/perf.txt" "${PERF_OUT:-/tmp/bulkbench-perf.txt}"
	echo "perf profile: ${PERF_OUT:-/tmp/bulkbench-perf.txt}" >&2
fi
