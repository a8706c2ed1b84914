# shellcheck shell=bash
# Helpers for the integration tests (sources testbed.sh if need be).
# Everything here observes the product from outside: pinned maps through
# tcpcryptctl -j, and the wire through captures taken in M.
[[ $(type -t tb_init) == function ]] || source "$(dirname "${BASH_SOURCE[0]}")/testbed.sh"

# The usual start of a test: a new test bed, and an agent on each HOST given,
# started with ARGS (after --).
tt_bed() { # [HOST...] [-- ARGS...]
	local hosts=() h
	while (($#)) && [[ $1 != -- ]]; do
		hosts+=("$1")
		shift
	done
	[[ ${1:-} == -- ]] && shift
	tb_require_agent
	tb_init
	tb_create
	for h in "${hosts[@]+"${hosts[@]}"}"; do
		tb_agent_start "$h" "$@"
	done
}

# Evaluate a Python expression over JSON read from stdin (bound to d).
tt_py() { # EXPR
	python3 -c "import json,sys; d=json.load(sys.stdin); r=($1); print(json.dumps(r) if not isinstance(r,str) else r)"
}

# One counter from `tcpcryptctl stats`.
tt_stat() { # HOST FIELD
	tb_ctl "$1" -j stats | tt_py "d['$2']"
}

# Fail unless each FIELD=VALUE pair matches the host's counters.
tt_expect_stats() { # HOST FIELD=VALUE...
	local h=$1 json kv
	shift
	json=$(tb_ctl "$h" -j stats)
	for kv in "$@"; do
		local got
		got=$(tt_py "d['${kv%%=*}']" <<<"$json")
		[[ $got == "${kv#*=}" ]] ||
			tb_fail "host $h: counter ${kv%%=*} is $got, expected ${kv#*=} (all: $json)"
	done
}

# The ENO summary (tests/lib/enowire.py) of the connections in a capture.
tt_wire() { # PCAP [PORT]
	python3 "$TB_ROOT/tests/lib/enowire.py" "$1" ${2:+--port "$2"}
}

# Start a sink in HOST that writes what it receives on PORT to FILE.
tt_sink() { # HOST PORT FILE
	tb_bg "$1" "$TB_DIR/sink-$2.log" socat -u "TCP6-LISTEN:$2,reuseaddr" "CREATE:$3" >/dev/null
	tb_wait_port "$1" "$2"
}

# Send FILE from HOST to ADDR:PORT, then hold the connection open HOLD s.
tt_send() { # HOST ADDR PORT FILE [HOLD]
	local addr=$2
	[[ $addr == *:* ]] && addr="[$addr]"
	{ cat "$4"; sleep "${5:-0}"; } | tb_exec "$1" socat -u - "TCP:$addr:$3"
}

# Wait until FILE has SIZE bytes.
tt_wait_size() { # FILE SIZE [TIMEOUT]
	tb_wait "${3:-20}" eval "[[ -f '$1' && \$(stat -c %s '$1') -ge $2 ]]" ||
		tb_fail "$1 has $(stat -c %s "$1" 2>/dev/null || echo 0) bytes, expected $2"
}

# 1 MiB from SRC to DST's ADDR:PORT with MARK written into it, byte-identical
# (MSG names the case); the capture can then look for MARK.
tt_marked_transfer() { # SRC DST ADDR PORT MARK MSG
	local f=$TB_DIR/marked-$4
	tb_mkdata "$f" 1
	printf '%s' "$5" | dd of="$f" bs=1 seek=5000 conv=notrunc status=none
	tt_sink "$2" "$4" "$f.recv"
	tt_send "$1" "$3" "$4" "$f"
	tt_wait_size "$f.recv" $((1 << 20))
	tb_assert_same_file "$f" "$f.recv" "$6"
}

# Wait until HOST's agent shows at least N established sessions.
tt_wait_established() { # HOST N
	tb_wait 10 eval "[[ \$(tb_ctl $1 -j sessions | tt_py \
		'len([s for s in d if s[\"state\"] == \"established\"])') -ge $2 ]]"
}
