#!/bin/bash
# tcpcrypt-cat ($CAT) at both ends of a test bed, for the authentication
# tests (test_40, test_45, test_46; sourced after enotest.sh, with CAT set).
# Each run NAME leaves $TB_DIR/NAME.out (what it copied to stdout),
# NAME.err and NAME.rc (its exit status).

# tcpcrypt-cat -l ARGS PORT in HOST, stdin empty, in the background
srv() { # HOST NAME PORT ARGS...
	local h=$1 n=$TB_DIR/$2 port=$3
	shift 3
	tb_bg "$h" "$n.log" env N="$n" PORT="$port" \
		sh -c '"$0" "$@" -l "$PORT" >"$N.out" 2>"$N.err"; echo $? >"$N.rc"' "$CAT" "$@" >/dev/null
}
# tcpcrypt-cat ARGS ADDR PORT in HOST with NAME.in (if any) on stdin, then
# HOLD s more of open stdin; in the background
cli() { # HOST NAME HOLD ADDR PORT ARGS...
	local h=$1 n=$TB_DIR/$2 hold=$3 addr=$4 port=$5
	shift 5
	tb_exec "$h" env N="$n" HOLD="$hold" sh -c \
		'{ cat "$N.in" 2>/dev/null; sleep "$HOLD"; } | "$0" "$@" >"$N.out" 2>"$N.err"; echo $? >"$N.rc"' \
		"$CAT" "$@" "$addr" "$port" &
}
# wait for NAME.rc; echo it
rc() { # NAME
	tb_wait 20 test -s "$TB_DIR/$1.rc" || tb_fail "$1: tcpcrypt-cat did not end ($(cat "$TB_DIR/$1.err" 2>/dev/null))"
	cat "$TB_DIR/$1.rc"
}
# the session ID NAME printed on success
sid_of() { grep -oE 'tcpcrypt-cat: authenticated session [0-9a-f]{66}' "$TB_DIR/$1.err" | awk '{print $4}'; }
sess() { # HOST PORT -> the session ID tcpcryptctl lists for the connection on PORT
	tb_ctl "$1" -j sessions | tt_py "[s['session_id'] for s in d if s['local'].endswith(':$2') or s['remote'].endswith(':$2')]"
}
