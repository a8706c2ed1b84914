#!/bin/bash
# Session resumption on the wire (RFC 8548 §3.5;
# docs/architecture.md#session-resumption-on-the-wire), two hosts with agents,
# python3 echo clients and server (tests/lib/echo.py), every byte checked.
# From the capture in M: the second connection to B carries a v = 1
# resumption suboption in its SYN and SYN-ACK and its streams start with
# frames (no Init1/Init2 magic); its session ID differs from the first's and
# is the same on A and B; the key log ("<id> <ss[i]> -") decrypts it with
# tests/lib/tcdecrypt.py, which checks halves, session ID and frames on its
# own.  200 sequential reconnections: all resumed, no identifier half twice.
# 100 at the same instant: none broken, each resumed or fresh, no half and no
# session ID twice.  IPv6 alike.  A socket with SKO_NO_RESUME in its
# sk_opts: a full exchange; FLOWF_FLUSH on a connection: A forgets its chain.  A flushed cache on B, a restarted agent on A, and a chain past
# its --cache-ttl: a fresh exchange, then (but for the last) resumption again.
set -euo pipefail
source "$(dirname "$0")/../lib/enotest.sh"
tt_bed
tb_agent_start A --keylog "$TB_DIR/keylog-A"
tb_agent_start B --keylog "$TB_DIR/keylog-B"
ECHO=$TB_ROOT/tests/lib/echo.py
DEC=$TB_ROOT/tests/lib/tcdecrypt.py
PORT=7000
python3 "$DEC" selftest >/dev/null || tb_fail "tcdecrypt.py fails its RFC worked example"
tb_bg B "$TB_DIR/echo.log" python3 "$ECHO" serve $PORT >/dev/null
tb_wait_port B $PORT

echo_run() { # MODE N SIZE OUT: run the echo clients on A; all must be intact
	tb_exec A python3 "$ECHO" "$1" "$TB_B4" $PORT "$2" "$3" "$4"
	tb_assert_eq "$2" "$(tt_py 'd["ok"]' <"$4")" "$1 x$2: every connection intact ($(cat "$4" | head -c 200))"
}
# A offers to B, B accepts from A: both caches hold the chain and published for it
cache_ready() {
	[[ $(tb_ctl A -j cache | tt_py 'sum(1 for c in d if c["orig_role"] == "A" and c["published"] > 0)') -ge 1 ]] &&
		[[ $(tb_ctl B -j cache | tt_py 'sum(1 for c in d if c["orig_role"] == "B" and c["published"] > 0)') -ge 1 ]]
}
wire() { python3 "$DEC" wire "$1" $PORT; }
ports_of() { tt_py '" ".join(map(str, d["ports"]))' <"$1"; }
# a session of HOST with B's port whose ID starts with PREFIX exists (keys ready)
has_session() { # HOST PREFIX
	tb_ctl "$1" -j sessions | tt_py "any(s['session_id'].startswith('$2') and ':$PORT' in s['remote'] + s['local'] for s in d)" | grep -q true
}

tb_capture_start wire a0 tcp
# 1. a fresh session
ECHO_HOLD=2 echo_run seq 1 3000 "$TB_DIR/r1.json" &
holder=$!
tb_wait 10 has_session A 23 || tb_fail "no session on A for the first connection"
id1a=$(tb_ctl A -j sessions | tt_py "[s['session_id'] for s in d if s['remote'].endswith(':$PORT') and s['session_id'].startswith('23')][0]")
wait "$holder"
tb_assert_match '^23[0-9a-f]{64}$' "$id1a" "first connection: a fresh session (TEP byte 0x23)"
tb_wait 5 cache_ready || tb_fail "no chain published after the first session: $(tb_ctl A cache; tb_ctl B cache)"

# 2. the second connection resumes
ECHO_HOLD=2 echo_run seq 1 3000 "$TB_DIR/r2.json" &
holder=$!
tb_wait 10 has_session A a3 || tb_fail "no resumed session on A"
tb_wait 10 has_session B a3 || tb_fail "no resumed session on B"
sa=$(tb_ctl A -j sessions)
sb=$(tb_ctl B -j sessions)
wait "$holder"
p2=$(ports_of "$TB_DIR/r2.json")
id2a=$(tt_py "[s['session_id'] for s in d if s['remote'].endswith(':$PORT') and s['local'].endswith(':$p2')][0]" <<<"$sa")
id2b=$(tt_py "[s['session_id'] for s in d if s['local'].endswith(':$PORT') and s['remote'].endswith(':$p2')][0]" <<<"$sb")
tb_assert_match '^a3[0-9a-f]{64}$' "$id2a" "second connection: resumed (TEP byte 0xa3, v = 1)"
tb_assert_eq "$id2a" "$id2b" "resumed session: the same session ID on A and B"
tb_assert_ne "$id1a" "$id2a" "resumed session ID differs from the first"
pcap=$(tb_capture_stop wire)
w=$(wire "$pcap" | grep "\"cport\": $p2,")
tb_assert_eq true "$(tt_py 'd["syn_resume"]' <<<"$w")" "SYN of the second connection: v = 1 resumption suboption"
tb_assert_eq true "$(tt_py 'd["synack_resume"]' <<<"$w")" "SYN-ACK: v = 1 with B's half"
for dir in a_start b_start; do
	s=$(tt_py "d['$dir']" <<<"$w")
	[[ $s != 15101a0e && $s != 097105e0 && -n $s ]] || tb_fail "$dir of the resumed connection is '$s' (Init magic or empty)"
done
syn=$(tt_wire "$pcap" $PORT | grep "\"client\": \"$TB_A4:$p2\"" | tt_py 'd["syn"][0]')
tb_assert_match '^4514a3[0-9a-f]{34}$' "$syn" "SYN option: 45 14 a3 | half (9) | nonce (8)"
# the key log decrypts it, checked by a tool that shares nothing with the agent
d=$(python3 "$DEC" resumed "$pcap" "$TB_DIR/keylog-A" "$p2") || tb_fail "tcdecrypt.py: the resumed connection does not decrypt"
tb_assert_eq "$id2a" "$(tt_py 'd["session_id"]' <<<"$d")" "decrypted with the key-log line of that session ID"
tb_assert_eq "[3000, 3000]" "$(tt_py 'd["plain_len"]' <<<"$d")" "decrypted: 3000 bytes each way"
tb_assert_eq "$(tt_py 'd["plain_sha256"][0]' <<<"$d")" "$(tt_py 'd["plain_sha256"][1]' <<<"$d")" \
	"decrypted: the echo carries what the client sent"
grep -q "^$id2a [0-9a-f]\{64\} -$" "$TB_DIR/keylog-B" || tb_fail "B's key log lacks '$id2a <ss> -'"
[[ $(grep "^$id2a " "$TB_DIR/keylog-A") == $(grep "^$id2a " "$TB_DIR/keylog-B") ]] ||
	tb_fail "A and B log different secrets for $id2a"

# 2b. a socket that says SKO_NO_RESUME (its sk_opts entry, as the socket-option
# hooks write it) proposes nothing: a full exchange, while offers are there
offered0=$(tt_stat A rs_offered)
tb_capture_start nores a0 tcp
pn=$(tb_exec A "$TB_ROOT/build/tests/sko_echo" "$TB_PIN_A" "$TB_B4" $PORT) ||
	tb_fail "SKO_NO_RESUME connection broken"
pcap=$(tb_capture_stop nores)
w=$(wire "$pcap" | grep "\"cport\": $pn,")
tb_assert_eq "False False 15101a0e" "$(tt_py '"%s %s %s" % (d["syn_resume"], d["synack_resume"], d["a_start"])' <<<"$w")" \
	"SKO_NO_RESUME: no resumption suboption, A sends Init1"
tb_assert_eq "$offered0" "$(tt_stat A rs_offered)" "SKO_NO_RESUME: no offer claimed"

# 2c. IPv6: its own chain (the cache keys the peer by address); the second resumes
v6_ready() {
	[[ $(tb_ctl A -j cache | tt_py "sum(1 for c in d if c['peer'] == '$TB_B6' and c['published'] > 0)") -ge 1 ]]
}
tb_capture_start v6 a0 tcp
tb_exec A python3 "$ECHO" seq "$TB_B6" $PORT 1 2000 "$TB_DIR/r6a.json"
tb_wait 5 v6_ready || tb_fail "no IPv6 chain: $(tb_ctl A cache)"
tb_exec A python3 "$ECHO" seq "$TB_B6" $PORT 1 2000 "$TB_DIR/r6b.json"
pcap=$(tb_capture_stop v6)
for f in r6a r6b; do
	tb_assert_eq 1 "$(tt_py 'd["ok"]' <"$TB_DIR/$f.json")" "IPv6 connection $f intact"
done
w=$(wire "$pcap" | grep "\"cport\": $(ports_of "$TB_DIR/r6a.json"),")
tb_assert_eq "False 15101a0e" "$(tt_py '"%s %s" % (d["syn_resume"], d["a_start"])' <<<"$w")" \
	"IPv6, first connection: fresh"
w=$(wire "$pcap" | grep "\"cport\": $(ports_of "$TB_DIR/r6b.json"),")
tb_assert_eq "True True" "$(tt_py '"%s %s" % (d["syn_resume"], d["synack_resume"])' <<<"$w")" \
	"IPv6, second connection: resumed"

# 3. 200 sequential reconnections: every one resumed, no identifier half twice
tb_capture_start seq a0 tcp
echo_run seq 200 1000 "$TB_DIR/r200.json"
pcap=$(tb_capture_stop seq)
wire "$pcap" >"$TB_DIR/w200.jsonl"
python3 - "$TB_DIR/w200.jsonl" "$(ports_of "$TB_DIR/r200.json")" <<'EOF' || tb_fail "200 sequential reconnections: not all resumed"
import json, sys
ports = set(map(int, sys.argv[2].split()))
cs = [c for c in map(json.loads, open(sys.argv[1])) if c["cport"] in ports]
bad = [c for c in cs if not (c["syn_resume"] and c["synack_resume"]) or c["a_start"] in
       ("15101a0e", "097105e0") or c["b_start"] in ("15101a0e", "097105e0")]
halves = [c["syn_half"] for c in cs] + [c["synack_half"] for c in cs]
assert len(cs) == 200, "captured %d of the 200" % len(cs)
assert not bad, "not resumed: %s" % bad[:3]
assert len(set(halves)) == 400, "an identifier half twice: one ss[i] used twice"
print("PASS: 200 sequential reconnections resumed, 400 distinct identifier halves")
EOF

# 4. 100 at the same instant: none broken; resumed or fresh; no ss[i] twice
n0=$(wc -l <"$TB_DIR/keylog-A")
tb_capture_start par a0 tcp
echo_run par 100 2000 "$TB_DIR/r100.json"
sleep 1
pcap=$(tb_capture_stop par)
wire "$pcap" >"$TB_DIR/w100.jsonl"
python3 - "$TB_DIR/w100.jsonl" "$(ports_of "$TB_DIR/r100.json")" <<'EOF' || tb_fail "100 simultaneous reconnections"
import json, sys
ports = set(map(int, sys.argv[2].split()))
cs = [c for c in map(json.loads, open(sys.argv[1])) if c["cport"] in ports]
assert len(cs) == 100, "captured %d of the 100" % len(cs)
res = [c for c in cs if c["syn_resume"] and c["synack_resume"]]
fresh = [c for c in cs if not c["synack_resume"]]
assert len(res) + len(fresh) == 100, "neither resumed nor fresh: %s" % [c for c in cs if c not in res + fresh]
assert all(c["a_start"] == "15101a0e" and c["b_start"] == "097105e0" for c in fresh), "fresh without Init"
assert all(c["a_start"] not in ("15101a0e",) and c["b_start"] != "097105e0" for c in res), "resumed with Init"
halves = [c["syn_half"] for c in cs if c["syn_half"]]
assert len(set(halves)) == len(halves), "a SYN identifier half twice: one ss[i] offered twice"
assert res, "none resumed"
print("PASS: 100 simultaneous: %d resumed, %d fresh, %d offers, no half twice" % (len(res), len(fresh), len(halves)))
EOF
tb_wait 5 bash -c "(( \$(wc -l <'$TB_DIR/keylog-A') >= $n0 + 100 ))" || true
new=$(tail -n +$((n0 + 1)) "$TB_DIR/keylog-A" | awk '{print $1}')
tb_assert_eq 100 "$(sort -u <<<"$new" | wc -l)" "100 simultaneous: 100 distinct session IDs in A's key log"

# 4b. FLOWF_FLUSH (set here by tests/tools/flow_flag where the socket-option
# hook sets it for a connected socket): A forgets the chain the connection used
tb_wait 5 cache_ready || tb_fail "no chain published after the simultaneous connections"
v4_chain() { tb_ctl A -j cache | tt_py "sum(1 for c in d if c['peer'] == '$TB_B4' and c['orig_role'] == 'A')"; }
tb_assert_eq 1 "$(v4_chain)" "A holds one chain with B's IPv4 address"
echo_run seq 1 1000 "$TB_DIR/rfl.json"
tb_exec A "$TB_ROOT/build/tests/flow_flag" "$TB_PIN_A" "$(ports_of "$TB_DIR/rfl.json")" 0x20 >/dev/null ||
	tb_fail "no flow entry left to flag"
tb_wait 8 bash -c "[[ \$('$TB_ROOT/build/tcpcryptctl' -p '$TB_PIN_A' -j cache | grep -c '\"$TB_B4\",\"orig_role\":\"A\"') == 0 ]]" ||
	tb_fail "FLOWF_FLUSH: A still caches the chain: $(tb_ctl A cache)"
tb_capture_start fl a0 tcp
echo_run seq 1 1000 "$TB_DIR/rfl2.json"
pcap=$(tb_capture_stop fl)
w=$(wire "$pcap" | grep "\"cport\": $(ports_of "$TB_DIR/rfl2.json"),")
tb_assert_eq "False 15101a0e" "$(tt_py '"%s %s" % (d["syn_resume"], d["a_start"])' <<<"$w")" \
	"after FLOWF_FLUSH: A proposes nothing, a full exchange"

# 5. B flushes its cache: A still offers, B answers fresh, nothing breaks
tb_wait 5 cache_ready || tb_fail "no chain published after the flushed one"
tb_ctl B cache flush
tb_assert_eq 0 "$(tb_ctl B -j cache | tt_py 'len(d)')" "B's cache empty after tcpcryptctl cache flush"
fresh0=$(tt_stat A rs_fresh)
tb_capture_start flush a0 tcp
echo_run seq 1 1000 "$TB_DIR/rf.json"
pcap=$(tb_capture_stop flush)
w=$(wire "$pcap" | grep "\"cport\": $(ports_of "$TB_DIR/rf.json"),")
tb_assert_eq "True False 15101a0e" "$(tt_py '"%s %s %s" % (d["syn_resume"], d["synack_resume"], d["a_start"])' <<<"$w")" \
	"after B's flush: A proposes, B answers fresh, A sends Init1"
tb_assert_eq $((fresh0 + 1)) "$(tt_stat A rs_fresh)" "A counted the fresh answer (rs_fresh)"
tb_wait 5 cache_ready || tb_fail "no new chain after the fresh exchange"
echo_run seq 1 1000 "$TB_DIR/rf2.json"

# 6. A restarts: it forgets everything, the next connection is fresh, then resumes again
tb_agent_stop A
tb_agent_start A --keylog "$TB_DIR/keylog-A" --cache-ttl 3
tb_assert_eq 0 "$(tb_ctl A -j cache | tt_py 'len(d)')" "a restarted agent's cache is empty"
tb_capture_start restart a0 tcp
echo_run seq 1 1000 "$TB_DIR/rr.json"
tb_wait 5 cache_ready || tb_fail "no chain after the restart's fresh exchange"
echo_run seq 1 1000 "$TB_DIR/rr2.json"
pcap=$(tb_capture_stop restart)
w=$(wire "$pcap" | grep "\"cport\": $(ports_of "$TB_DIR/rr.json"),")
tb_assert_eq "False False 15101a0e" "$(tt_py '"%s %s %s" % (d["syn_resume"], d["synack_resume"], d["a_start"])' <<<"$w")" \
	"after A's restart: a fresh SYN, a fresh exchange"
w=$(wire "$pcap" | grep "\"cport\": $(ports_of "$TB_DIR/rr2.json"),")
tb_assert_eq "True True" "$(tt_py '"%s %s" % (d["syn_resume"], d["synack_resume"])' <<<"$w")" \
	"and the connection after it resumes"
tb_assert_eq 0 "$(tt_stat A rs_mismatch)" "no resumption answer with a wrong half"

# 7. expiry (--cache-ttl 3 on A): the chain goes, the next SYN proposes nothing
tb_wait 6 bash -c "[[ \$('$TB_ROOT/build/tcpcryptctl' -p '$TB_PIN_A' -j cache) == '[]' ]]" ||
	tb_fail "A's chain still cached after its --cache-ttl: $(tb_ctl A cache)"
tb_capture_start expiry a0 tcp
echo_run seq 1 1000 "$TB_DIR/re.json"
pcap=$(tb_capture_stop expiry)
w=$(wire "$pcap" | grep "\"cport\": $(ports_of "$TB_DIR/re.json"),")
tb_assert_eq "False 15101a0e" "$(tt_py '"%s %s" % (d["syn_resume"], d["a_start"])' <<<"$w")" \
	"after the chain expired: a fresh SYN and a full exchange"
tb_pass "resumption: offered, accepted, resumed at offset 0, each secret once, flushed, forgotten"
