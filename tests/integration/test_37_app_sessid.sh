#!/bin/bash
# The application API (tcpcrypt(7)): unmodified C and Python clients and
# servers, but for getsockopt/setsockopt on the TCP_ENO_* options, read the
# same session ID at both ends, equal to `tcpcryptctl sessions` and to the
# key log, different for every connection.  Before the key exchange has
# completed (a 150 ms delay in M holds Init2 back; the capture shows Init2
# leaving M later than the call) the ID is ENOTCONN; a
# 32-byte buffer is EINVAL; a pre-SYN option on a connected socket is
# EISCONN; other options (TCP_NODELAY, SO_RCVBUF, TCP_INFO) work as without
# tcpcrypt.  Plain connections (port off; a peer without an agent) give
# EOPNOTSUPP, a host without an agent ENOPROTOOPT.  TCP_ENO_ENABLED = 0 on
# one socket makes that connection plain on the wire while the next one of
# the same process is encrypted; TCP_ENO_SPECS changes the TEPs in that SYN
# (option bytes in the capture), and a listener's list decides its answer.
# Everything about the wire is read from captures in M.
set -euo pipefail
source "$(dirname "$0")/../lib/enotest.sh"
tt_bed
# fresh key exchanges (TEP byte 0x23, Init2 held in M): resumption off, see test_41
tb_agent_start A --keylog "$TB_DIR/keylog-A" --cache-size 0
tb_agent_start B --cache-size 0
PY="python3 $TB_ROOT/tests/lib/sessid.py"
PEER=$TB_ROOT/build/tests/sessid_peer
[[ -x $PEER ]] || tb_fail "$PEER not built (make)"
j() { tt_py "$1" <<<"$2"; }
# bytes of the capture contain STRING?
in_pcap() { python3 -c 'import sys; sys.exit(0 if sys.argv[2].encode() in open(sys.argv[1],"rb").read() else 1)' "$1" "$2"; }

tb_capture_start wire a0 tcp

# --- Python, with a delay that holds Init2 back: ENOTCONN, EINVAL, EISCONN
tb_netem a0 "delay 150ms"
tb_bg B "$TB_DIR/py-srv.log" $PY server 7001 1 >/dev/null
tb_wait_port B 7001
: >"$TB_DIR/py-cli.out"
tb_exec A $PY client "$TB_B4" 7001 --probe --hold 2 >"$TB_DIR/py-cli.out" &
cli=$!
tb_wait 10 grep -q '"side": "client"' "$TB_DIR/py-cli.out" || tb_fail "python client printed nothing"
sa=$(tb_ctl A -j sessions)
sb=$(tb_ctl B -j sessions)
wait "$cli"
tb_netem_clear a0
c=$(grep '"side": "client"' "$TB_DIR/py-cli.out")
o=$(grep '"side": "client-others"' "$TB_DIR/py-cli.out")
tb_wait 5 grep -q sessid "$TB_DIR/py-srv.log"
s=$(grep '"side": "server"' "$TB_DIR/py-srv.log")
tb_assert_eq ENOTCONN "$(j 'd["early"]' "$c")" "SESSID right after connect(), Init2 held in M"
early_t=$(j 'd["early_time"]' "$c")
tb_assert_eq EINVAL "$(j 'd["short"]' "$c")" "SESSID into 32 bytes (before the exchange)"
tb_assert_eq EINVAL "$(j 'd["short_after"]' "$o")" "SESSID into 32 bytes (after it)"
tb_assert_eq EISCONN "$(j 'd["eisconn"]' "$c")" "TCP_ENO_ENABLED on a connected socket"
ida=$(j 'd["sessid"]' "$c")
tb_assert_match '^23[0-9a-f]{64}$' "$ida" "Python client's session ID (33 bytes, x25519)"
tb_assert_eq "$ida" "$(j 'd["sessid"]' "$s")" "Python server reads the same ID"
tb_assert_eq "$ida" "$(j 'd["peer_sessid"]' "$s")" "... and the client sent it that ID"
tb_assert_eq "$ida" "$(j '[x["session_id"] for x in d if x["remote"].endswith(":7001")][0]' "$sa")" \
	"A's tcpcryptctl sessions"
tb_assert_eq "$ida" "$(j '[x["session_id"] for x in d if x["local"].endswith(":7001")][0]' "$sb")" \
	"B's tcpcryptctl sessions"
tb_assert_eq "0 1" "$(j 'd["role"]' "$c") $(j 'd["role"]' "$s")" "roles A (0) and B (1)"
tb_assert_eq "35 35" "$(j 'd["negspec"]' "$c") $(j 'd["negspec"]' "$s")" "NEGSPEC 0x23 at both ends"
tb_assert_eq "1 1" "$(j 'd["nodelay"]' "$o") $(j 'd["tcp_info_state"]' "$o")" \
	"TCP_NODELAY and TCP_INFO (state ESTABLISHED) unaffected"
tb_assert_match '^[0-9]+$' "$(j 'd["rcvbuf"]' "$o")" "SO_RCVBUF unaffected"
[[ $(j 'd["rcvbuf"]' "$o") -ge 65536 ]] || tb_fail "SO_RCVBUF not set: $o"
tr=$(j 'd["transcript"]' "$c")
tb_assert_eq "$tr" "$(j 'd["transcript"]' "$s")" "same transcript at both ends"
tb_log "python: $ida, transcript $tr"

# --- C with libtcpcrypt: three connections, three IDs, each equal at both ends and in the key log
tb_bg B "$TB_DIR/c-srv.log" "$PEER" server 7002 3 >/dev/null
tb_wait_port B 7002
for i in 1 2 3; do
	tb_exec A "$PEER" client "$TB_B6" 7002 >>"$TB_DIR/c-cli.out"
done
tb_wait 5 eval "[[ \$(grep -c sessid '$TB_DIR/c-srv.log') -ge 3 ]]"
ids=()
while read -r line; do
	id=$(j 'd["sessid"]' "$line")
	tb_assert_match '^23[0-9a-f]{64}$' "$id" "C client's session ID"
	tb_assert_eq "$id" "$(j 'd["peer_sessid"]' "$line")" "C server sent the same ID"
	tb_assert_eq "A x25519" "$(j 'd["role"] + " " + d["tep"]' "$line")" "C client: role, TEP names"
	grep -q "\"sessid\": \"$id\"" "$TB_DIR/c-srv.log" || tb_fail "C server did not read $id"
	grep -q "^$id " "$TB_DIR/keylog-A" || tb_fail "$id is not in A's key log"
	ids+=("$id")
done <"$TB_DIR/c-cli.out"
tb_assert_eq 3 "${#ids[@]}" "three C connections"
tb_assert_eq 4 "$(printf '%s\n' "${ids[@]}" "$ida" | sort -u | wc -l)" "every connection its own ID"

# --- TCP_ENO_ENABLED = 0 on one socket: plain; the next socket of the same process: encrypted
tb_bg B "$TB_DIR/en-srv.log" $PY server 7004 2 >/dev/null
tb_wait_port B 7004
tb_exec A sh -c "cd '$TB_ROOT/tests/lib' && python3 -c '
import socket, sessid, json
for en in (0, None):
    s = socket.socket()
    if en is not None:
        s.setsockopt(6, sessid.TCP_ENO_ENABLED, en)
    got = sessid.try_get(s, sessid.TCP_ENO_ENABLED)
    s.connect((\"$TB_B4\", 7004))
    sessid.exchange(s, \"client\", {\"enabled\": got, \"lport\": s.getsockname()[1]})
    s.close()
'" >"$TB_DIR/en-cli.out"
off=$(sed -n 1p "$TB_DIR/en-cli.out")
on=$(sed -n 2p "$TB_DIR/en-cli.out")
tb_assert_eq "0 -1" "$(j 'd["enabled"]' "$off") $(j 'd["enabled"]' "$on")" "TCP_ENO_ENABLED reads back"
tb_assert_eq EOPNOTSUPP "$(j 'd["sessid"]' "$off")" "socket with ENO off: SESSID is the fall-back error"
tb_assert_match '^23[0-9a-f]{64}$' "$(j 'd["sessid"]' "$on")" "next socket of the process: encrypted"
tb_wait 5 eval "[[ \$(grep -c sessid '$TB_DIR/en-srv.log') -ge 2 ]]"
tb_assert_eq EOPNOTSUPP "$(sed -n 1p "$TB_DIR/en-srv.log" | tt_py 'd["sessid"]')" "server side of it: plain too"

# --- TCP_ENO_SPECS: the client's list goes into its SYN; a listener's list decides its answer
tb_bg B "$TB_DIR/sp-srv.log" $PY server 7005 1 >/dev/null
tb_wait_port B 7005
sp=$(tb_exec A $PY client "$TB_B4" 7005 --specs 2421)
tb_assert_eq 36 "$(j 'd["negspec"]' "$sp")" "B chose 0x24, its preferred of the two A offered"
tb_bg B "$TB_DIR/sp2-srv.log" $PY server 7006 1 --specs 22 >/dev/null
tb_wait_port B 7006
sp2=$(tb_exec A $PY client "$TB_B4" 7006)
tb_assert_match '^22[0-9a-f]{64}$' "$(j 'd["sessid"]' "$sp2")" "listener with TCP_ENO_SPECS 0x22: P-521"

# --- port off on B: plain, EOPNOTSUPP at both ends
tb_ctl B port 7003 off >/dev/null
tb_bg B "$TB_DIR/off-srv.log" $PY server 7003 1 >/dev/null
tb_wait_port B 7003
po=$(tb_exec A $PY client "$TB_B4" 7003)
tb_assert_eq EOPNOTSUPP "$(j 'd["sessid"]' "$po")" "port off: the fall-back error"
tb_assert_eq EOPNOTSUPP "$(j 'd["role"]' "$po")" "port off: no role either"
pcap=$(tb_capture_stop wire)
# the ENOTCONN was honest: Init2 left M towards A (after the delay) later than that call
init2_t=$(python3 "$TB_ROOT/tests/lib/pcap.py" packets "$pcap" --port 7001 |
	python3 -c 'import json,sys
t = [p["time"] for p in map(json.loads, sys.stdin) if p["payload"].startswith("097105e0")]
print(t[0] if t else "none")')
[[ $init2_t != none ]] || tb_fail "no Init2 to port 7001 in the capture"
python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) < float(sys.argv[2]) else 1)' \
	"$early_t" "$init2_t" || tb_fail "the early SESSID call ($early_t) came after Init2 ($init2_t)"
tb_log "early SESSID at $early_t, Init2 on the wire at $init2_t"

w=$(tt_wire "$pcap")
# the first SYN's ENO option of each connection to PORT, in capture order
syn() {
	python3 -c 'import json,sys; print(" ".join(str(c["syn"][0]) for c in map(json.loads, sys.stdin)
		if c["server"].endswith(":" + sys.argv[1])))' "$1" <<<"$w"
}
tb_assert_match '^None 45' "$(syn 7004)" "ENABLED 0: no ENO in the first SYN, ENO in the next"
tb_assert_eq 45042421 "$(syn 7005)" "TCP_ENO_SPECS 24 21: exactly those TEPs in the SYN"
in_pcap "$pcap" "EOPNOTSUPP" || tb_fail "the plain connections' lines are not on the wire in clear"
for id in "${ids[@]}" "$ida"; do
	! in_pcap "$pcap" "$id" || tb_fail "session ID $id seen in clear on the wire"
done

# --- one 4-tuple, three connections in a row (TIME_WAIT reused): each its own
# session ID, never the one the finished connection's entry still holds
tb_exec A sysctl -qw net.ipv4.tcp_tw_reuse=1
tb_bg B "$TB_DIR/re-srv.log" $PY server 7008 3 >/dev/null
tb_wait_port B 7008
reids=()
for i in 1 2 3; do
	r=$(tb_exec A $PY client "$TB_B4" 7008 --bind-port 41008)
	tb_assert_match '^23[0-9a-f]{64}$' "$(j 'd["sessid"]' "$r")" "reused 4-tuple, connection $i: a session ID"
	tb_assert_eq "$(j 'd["sessid"]' "$r")" "$(j 'd["peer_sessid"]' "$r")" \
		"reused 4-tuple, connection $i: the server read the same ID"
	reids+=("$(j 'd["sessid"]' "$r")")
done
tb_assert_eq 3 "$(printf '%s\n' "${reids[@]}" | sort -u | wc -l)" \
	"reused 4-tuple: three connections, three session IDs (${reids[*]})"

# --- a peer without an agent: EOPNOTSUPP on A; ENOPROTOOPT on B (no tcpcryptd there)
tb_agent_stop B
tb_bg B "$TB_DIR/na-srv.log" $PY server 7007 1 >/dev/null
tb_wait_port B 7007
na=$(tb_exec A $PY client "$TB_B4" 7007)
tb_assert_eq EOPNOTSUPP "$(j 'd["sessid"]' "$na")" "peer without agent: the fall-back error"
tb_wait 5 grep -q sessid "$TB_DIR/na-srv.log"
tb_assert_eq ENOPROTOOPT "$(tt_py 'd["sessid"]' <"$TB_DIR/na-srv.log")" "host without agent: ENOPROTOOPT"
tb_pass "session IDs at both ends (C, Python), errors, per-socket ENABLED and SPECS on the wire, a reused 4-tuple"
