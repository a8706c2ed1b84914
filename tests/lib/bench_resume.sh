#!/bin/bash
# Resumed connections (RFC 8548 §3.5) beside fresh and plain TCP, for make bench.
#
#   source tests/lib/bench_resume.sh; bench_resume [RUNS] [CONNS]
#       in a test bed made by tb_create (hosts A and B, no agent running,
#       ports 6101 and 6102 free on B); prints a table, then one JSON line
#       "bench_resume: {...}" with the medians.
#   tests/lib/bench_resume.sh [RUNS] [CONNS]
#       the same in a test bed of its own (as root).
#
# Per run, the agents start twice: with --cache-size 0 (every connection a
# full key exchange: "fresh") and with the default cache ("resumed", after
# one warm-up connection whose chain both caches publish).  Plain TCP is port
# 6101 set off on both hosts, measured in both halves.  Two measures from
# tests/lib/connbench.py (connect, 1 byte each way, close): the connect +
# first byte p50 of CONNS sequential connections, and the connection rate of
# CONNS connections by 16 clients at a time.  "resumed %" is the share of
# connections A's sock_ops proposed resumption for and got it (rs_resumed /
# connections), from the counters of the resumed half.
bench_resume__conns() { # PORT N CONC -> JSON
	tb_exec A python3 "$TB_ROOT/tests/lib/connbench.py" client "$TB_B4" "$1" "$2" "$3" || true
}

bench_resume__ready() {
	[[ $(tb_ctl A -j cache | tt_py 'sum(c["published"] for c in d if c["orig_role"] == "A")') -gt 0 ]] &&
		[[ $(tb_ctl B -j cache | tt_py 'sum(c["published"] for c in d if c["orig_role"] == "B")') -gt 0 ]]
}

bench_resume__agents() { # EXTRA AGENT ARGS...
	tb_agent_start A "$@"
	tb_agent_start B "$@"
	tb_ctl A port 6101 off
	tb_ctl B port 6101 off
}

bench_resume() { # [RUNS] [CONNS]
	local runs=${1:-3} n=${2:-500} i r s0 s1
	local -a p50p=() p50f=() p50r=() ratep=() ratef=() rater=() share=()
	tb_bg B "$TB_DIR/cb-resume.log" python3 "$TB_ROOT/tests/lib/connbench.py" server 0.0.0.0 6101,6102 >/dev/null
	tb_wait_port B 6102
	for i in $(seq "$runs"); do
		bench_resume__agents --cache-size 0
		r=$(bench_resume__conns 6101 "$n" 1)
		p50p+=("$(tt_py 'd["p50_ms"]' <<<"$r")")
		r=$(bench_resume__conns 6101 "$n" 16)
		ratep+=("$(tt_py 'd["rate"]' <<<"$r")")
		r=$(bench_resume__conns 6102 "$n" 1)
		p50f+=("$(tt_py 'd["p50_ms"]' <<<"$r")")
		r=$(bench_resume__conns 6102 "$n" 16)
		ratef+=("$(tt_py 'd["rate"]' <<<"$r")")
		tb_agent_stop A
		tb_agent_stop B
		bench_resume__agents
		bench_resume__conns 6102 1 1 >/dev/null
		tb_wait 5 bench_resume__ready || tb_log "bench_resume: no chain published after the warm-up"
		s0=$(tt_stat A rs_resumed)
		r=$(bench_resume__conns 6102 "$n" 1)
		p50r+=("$(tt_py 'd["p50_ms"]' <<<"$r")")
		r=$(bench_resume__conns 6102 "$n" 16)
		rater+=("$(tt_py 'd["rate"]' <<<"$r")")
		s1=$(tt_stat A rs_resumed)
		share+=("$(python3 -c "print(round(100 * ($s1 - $s0) / (2 * $n), 1))")")
		r=$(bench_resume__conns 6101 "$n" 1)
		p50p+=("$(tt_py 'd["p50_ms"]' <<<"$r")")
		r=$(bench_resume__conns 6101 "$n" 16)
		ratep+=("$(tt_py 'd["rate"]' <<<"$r")")
		tb_agent_stop A
		tb_agent_stop B
	done
	python3 - "${p50p[*]}" "${p50f[*]}" "${p50r[*]}" "${ratep[*]}" "${ratef[*]}" "${rater[*]}" \
		"${share[*]}" <<'PY'
import json, statistics, sys
m = [statistics.median(float(x) for x in a.split()) for a in sys.argv[1:]]
p50p, p50f, p50r, rp, rf, rr, share = m
print(f"{'':34}{'plain':>10}{'fresh':>10}{'resumed':>10}")
print(f"{'connect + first byte p50 (ms)':34}{p50p:10.3f}{p50f:10.3f}{p50r:10.3f}")
print(f"{'connections/s, 16 clients':34}{rp:10.0f}{rf:10.0f}{rr:10.0f}")
print(f"{'resumed p50 - plain p50 (ms)':34}{p50r - p50p:10.3f}")
print(f"{'resumed rate / plain rate':34}{rr / rp:10.2f}")
print(f"{'connections resumed (%)':34}{share:10.1f}")
print("bench_resume: " + json.dumps({
    "p50_ms": {"plain": p50p, "fresh": p50f, "resumed": p50r},
    "rate": {"plain": rp, "fresh": rf, "resumed": rr}, "resumed_pct": share}))
PY
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
	set -euo pipefail
	source "$(dirname "$0")/testbed.sh"
	source "$(dirname "$0")/enotest.sh"
	tb_require_root
	tb_require_agent
	tb_init
	tb_create
	bench_resume "$@"
fi
