#!/bin/bash
# TCP Fast Open and data in SYNs (RFC 8547 §4.7), with net.ipv4.tcp_fastopen=3
# on A and B and a client that sends its request with sendto(MSG_FASTOPEN).
#  - To B, which runs an agent: the first connection (no cookie yet) is
#    encrypted; once A holds a cookie, its SYN with the request is held back
#    (tfo_held), the kernel sends a plain SYN with a cookie request at once,
#    which gets ENO, and the request goes encrypted after the handshake: on
#    an `on` port and on a `require` port alike, never in plaintext.
#  - To C, a server without tcpcrypt: plain TFO, the request in the SYN
#    (tfo_plain), as without the agent.
#  - From the capture in M: no SYN carries ENO together with payload or a
#    TFO cookie.
#  - A crafted SYN with ENO, a valid TFO cookie and data, towards B: B
#    negotiates and acknowledges none of the data (syn_data_refused), and B's
#    application never reads it; the same SYN without ENO is accepted with
#    its data (plain TFO still works, and the cookie was valid).
set -euo pipefail
source "$(dirname "$0")/../lib/enotest.sh"
tb_require_agent
tb_init
tb_create --hosts "A B C"
for h in A B C; do
	tb__sysctl "$(tb__ns "$h")" net.ipv4.tcp_fastopen=3
done
tb_agent_start A
tb_agent_start B
TFO=$TB_ROOT/tests/lib/tfo.py
tb_capture_start wire a0 tcp
tb_capture_start wireC c0 tcp
tb_bg B "$TB_DIR/srv-on.log" python3 "$TFO" serve 9101 10 "$TB_DIR/srv-on.json" >/dev/null
tb_bg B "$TB_DIR/srv-req.log" python3 "$TFO" serve 9102 10 "$TB_DIR/srv-req.json" >/dev/null
tb_bg B "$TB_DIR/srv-craft.log" python3 "$TFO" serve 9103 10 "$TB_DIR/srv-craft.json" >/dev/null
tb_wait_port B 9101
tb_wait_port B 9102
tb_wait_port B 9103
tb_bg C "$TB_DIR/srv-legacy.log" python3 "$TFO" serve 9104 10 "$TB_DIR/srv-legacy.json" >/dev/null
tb_wait_port C 9104
tb_ctl A port 9102 require

get() { # PORT REQUEST [ADDR] -> JSON result
	tb_exec A python3 "$TFO" get "${3:-$TB_B4}" "$1" "$2" "$TB_DIR/get-$2.json"
	cat "$TB_DIR/get-$2.json"
}

r=$(get 9101 TFO-ON-FIRST)
tb_assert_eq "REPLY:TFO-ON-FIRST false" "$(tt_py '"%s %s" % (d["reply"].strip(), str(d["syn_data"]).lower())' <<<"$r")" \
	"policy on, first connection (no cookie yet)"
for i in 1 2; do
	r=$(get 9101 "TFO-ON-COOKIE-$i")
	tb_assert_eq "REPLY:TFO-ON-COOKIE-$i false" "$(tt_py '"%s %s" % (d["reply"].strip(), str(d["syn_data"]).lower())' <<<"$r")" \
		"policy on, with a cookie, connection $i: the request after the handshake"
	tb_log "policy on, with a cookie, connection $i: $r"
done
tt_expect_stats A tfo_held=2 tfo_plain=0
# read now: a finished flow's session entry lingers only 3 s (LINGER_NS)
sessions_9101=$(tb_ctl A -j sessions)
# a server without tcpcrypt: plain TFO
r=$(get 9104 TFO-LEGACY-FIRST "$TB_C4")
r=$(get 9104 TFO-LEGACY-COOKIE "$TB_C4")
tb_assert_eq "REPLY:TFO-LEGACY-COOKIE true" "$(tt_py '"%s %s" % (d["reply"].strip(), str(d["syn_data"]).lower())' <<<"$r")" \
	"a server without tcpcrypt, with a cookie: the request in the SYN"
tt_expect_stats A tfo_plain=1
for i in 1 2; do
	r=$(get 9102 "TFO-REQUIRE-$i")
	tb_assert_eq "REPLY:TFO-REQUIRE-$i" "$(tt_py 'd["reply"].strip()' <<<"$r")" \
		"require, connection $i: the reply arrives"
	tb_log "require, connection $i: $r"
done
tt_expect_stats A tfo_held=4
sessions_9102=$(tb_ctl A -j sessions)
for p in 9101 9102; do
	v=sessions_$p
	sessions=${!v}
	n=$(tt_py "len([s for s in d if s['remote'].endswith(':$p')])" <<<"$sessions")
	[[ $n == 3 || $p == 9102 && $n == 2 ]] || tb_fail "connections to $p not all encrypted: $sessions"
done

# crafted SYNs from C (no agent; its kernel must not reset B's SYN-ACKs)
tb_exec C iptables -w -A OUTPUT -p tcp --tcp-flags RST RST -j DROP
tb_exec C python3 "$TFO" crafted "$TB_C4" "$TB_B4" 9103 450323 CRAFTED-ENO-SYN-DATA "$TB_DIR/craft-eno.json"
tb_exec C python3 "$TFO" crafted "$TB_C4" "$TB_B4" 9103 - CRAFTED-PLAIN-SYN-DATA "$TB_DIR/craft-plain.json"
ce=$(cat "$TB_DIR/craft-eno.json")
cp=$(cat "$TB_DIR/craft-plain.json")
tb_log "crafted SYN+ENO+cookie+data: $ce; without ENO: $cp"
tb_assert_eq "true 0" "$(tt_py '"%s %s" % (str(d["synack_eno"]).lower(), d["acked"])' <<<"$ce")" \
	"B's answer to SYN+ENO+cookie+data (ENO in the SYN-ACK, data bytes acknowledged)"
tb_assert_eq 22 "$(tt_py 'd["acked"]' <<<"$cp")" "B's answer to the same SYN without ENO (plain TFO)"
tt_expect_stats B syn_data_refused=1

tb_wait 30 test -s "$TB_DIR/srv-craft.json" || tb_fail "B's server on 9103 did not report"
grep -q CRAFTED-ENO-SYN-DATA "$TB_DIR/srv-craft.json" && tb_fail "B's application read the data of a SYN with ENO"
pa=$(tb_capture_stop wire)
pc=$(tb_capture_stop wireC)
for m in TFO-ON-FIRST TFO-ON-COOKIE-1 TFO-ON-COOKIE-2 TFO-REQUIRE-1 TFO-REQUIRE-2; do
	if python3 "$TB_ROOT/tests/lib/pcap.py" grep "$pa" "$m"; then
		tb_fail "$m in plaintext on the wire"
	fi
done
python3 "$TB_ROOT/tests/lib/pcap.py" grep "$pa" TFO-LEGACY-COOKIE ||
	tb_fail "the plain TFO request to C is not on the wire: is the capture complete?"
# no SYN with ENO and payload or a TFO cookie, from anyone but the crafting host
bad=$(python3 "$TB_ROOT/tests/lib/pcap.py" packets "$pa" | python3 -c "
import json, sys
n = 0
for l in sys.stdin:
    p = json.loads(l)
    if 'S' not in p['flags'] or 'A' in p['flags']:
        continue
    kinds = {o['kind']: o['data'] for o in p['options']}
    if 69 in kinds and (p['payload'] or len(kinds.get(34, '')) > 0):
        n += 1
print(n)")
tb_assert_eq 0 "$bad" "SYNs from A with ENO and data or a cookie"
tb_pass "TFO: requests to tcpcrypt servers wait and go encrypted (on and require), plain TFO to others, never ENO with SYN data; B refuses SYN data with ENO"
