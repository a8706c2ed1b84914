#!/bin/bash
# RFC 8548 §3.9: TCP keep-alive probes of an encrypted connection are
# answered only by the peer, through an authenticated rekey, never by the
# agent on its own (which would keep a connection to a dead host open).
#   live: an idle socat connection with keep-alive every second stays up;
#         each probe became a rekey (generations in the sessions map);
#   dead: the same with B's agent stopped (SIGSTOP): A's kernel gets no
#         answer and drops the connection within its keep-alive budget.
set -euo pipefail
source "$(dirname "$0")/../lib/enotest.sh"
tt_bed A B
KA="keepalive,keepidle=1,keepintvl=1,keepcnt=3"

# live: 6 s idle after one line, probes every second from the first
tt_sink B 5001 "$TB_DIR/live.recv"
tb_bg A "$TB_DIR/live.log" sh -c "{ echo hello; sleep 6; } | socat -u - TCP:$TB_B4:5001,$KA" >"$TB_DIR/live.pid"
sleep 4.5
gen=$(tb_ctl A -j sessions | tt_py "[s['local_gen'] for s in d if s['remote'].endswith(':5001')][0]")
[[ $gen -ge 2 ]] || tb_fail "live peer: A's local generation is $gen after 3 s of probes, expected >= 2"
tb_wait 10 eval "! tb_alive $(cat "$TB_DIR/live.pid")" || tb_fail "live: socat did not finish"
tb_assert_eq "hello" "$(cat "$TB_DIR/live.recv")" "live: data delivered"
grep -qi "error" "$TB_DIR/live.log" && tb_fail "live: socat failed: $(cat "$TB_DIR/live.log")"
tb_log "live peer: probes answered through $gen rekeys"

# dead: B's agent stops answering; A's kernel must find out
tt_sink B 5002 "$TB_DIR/dead.recv"
tb_bg A "$TB_DIR/dead.log" sh -c "{ echo hello; sleep 30; } | socat -u - TCP:$TB_B4:5002,$KA" >"$TB_DIR/dead.pid"
tt_wait_size "$TB_DIR/dead.recv" 6
sleep 0.5
established() { tb_exec A ss -Htn state established "( dport = :5002 )" | wc -l; }
tb_assert_eq 1 "$(established)" "dead: the connection is up before"
kill -STOP "$(tb_agent_pid B)"
t0=$SECONDS
# keepidle 1 + keepcnt 3 x keepintvl 1: gone after about 4 s
tb_wait 20 eval '[[ $(established) == 0 ]]' || {
	kill -CONT "$(tb_agent_pid B)"
	tb_fail "dead peer: A's connection still established after $((SECONDS - t0)) s"
}
kill -CONT "$(tb_agent_pid B)"
tb_stop_pid "$(cat "$TB_DIR/dead.pid")"
tb_log "dead peer: A's connection timed out after $((SECONDS - t0)) s"
tb_pass "keep-alive probes answered only by a live peer (authenticated by rekey)"
