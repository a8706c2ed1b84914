#!/bin/bash
# make demo-auth: tcpcrypt-cat authenticating the session ID with a
# pre-shared key between hosts A and B, then a man in the middle (router M
# with its own tcpcryptd and a socat relay, A pointed at M) being caught at
# both ends.  docs/auth.md; everything is torn down at the end.
set -euo pipefail
source "$(dirname "$0")/lib/testbed.sh"
source "$(dirname "$0")/lib/enotest.sh"
tb_require_root
tb_require_agent
CAT=$TB_ROOT/build/tcpcrypt-cat
[[ -x $CAT ]] || tb_skip "build/tcpcrypt-cat not built; run: make"

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

tb_init
tb_create
say "Test bed: host A ($TB_A4) -- router M (198.18.1.1) -- host B ($TB_B4); tcpcryptd on A and B"
tb_agent_start A
tb_agent_start B
head -c 32 /dev/urandom >"$TB_DIR/psk"
echo "a message for B, authenticated with a pre-shared key" >"$TB_DIR/msg"

# tcpcrypt-cat -l on B (stdout to NAME.out), the client on A; both statuses
run() { # NAME ADDR PORT
	tb_bg B "$TB_DIR/$1-b.log" sh -c '"$0" -l --psk "$1" "$2" >"$3"; echo "B: exit $?"' \
		"$CAT" "$TB_DIR/psk" "$3" "$TB_DIR/$1.out" >/dev/null
	tb_wait_port B "$3"
	set +e
	tb_exec A "$CAT" --psk "$TB_DIR/psk" "$2" "$3" <"$TB_DIR/msg"
	echo "A: exit $?"
	set -e
	tb_wait 15 grep -q 'B: exit' "$TB_DIR/$1-b.log" || true
	cat "$TB_DIR/$1-b.log"
	echo "B received: $(cat "$TB_DIR/$1.out")"
}

say "A -> B directly: both ends print the same authenticated session ID"
run direct "$TB_B4" 7000
say "tcpcryptctl sessions on B: the same session ID"
tb_ctl B sessions || true

say "Now M runs its own tcpcryptd (steering a0 and b0) and a relay; A connects to M instead of B"
TB_CG_M=$TB_CGROUP_ROOT/$TB_PREFIX-M TB_PIN_M=$TB_BPFFS/$TB_PREFIX-M
export TB_CG_M TB_PIN_M
mkdir "$TB_CG_M" "$TB_PIN_M"
m_bg() { # LOG CMD...
	local log=$1
	shift
	tb_bg M "$log" sh -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$TB_CG_M" "$@"
}
m_bg "$TB_DIR/agent-M.log" "$TB_ROOT/build/tcpcryptd" --pin-dir "$TB_PIN_M" --cgroup "$TB_CG_M" \
	-i a0 -i b0 >"$TB_DIR/agent-M.pid"
tb_wait 10 grep -q "tcpcryptd: running" "$TB_DIR/agent-M.log" || tb_fail "M's agent did not start"
m_bg "$TB_DIR/relay.log" socat TCP4-LISTEN:7001,bind=198.18.1.1,reuseaddr "TCP4:$TB_B4:7001" >/dev/null
tb_wait_port M 7001
say "A -> M -> B: two valid tcpcrypt sessions, two session IDs; both ends refuse, nothing is delivered"
run mitm 198.18.1.1 7001
say "Done: the relay was caught at both ends (exit 18 = 10 + 8, session IDs differ); without it the transfer succeeded"
