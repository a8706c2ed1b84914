#!/bin/bash
# make demo: two hosts in network namespaces, tcpcryptd on both, an
# unmodified HTTP server and client talking across a router, and what the
# agents and the wire show about it.  Everything is torn down at the end.
set -euo pipefail
source "$(dirname "$0")/lib/testbed.sh"
source "$(dirname "$0")/lib/enotest.sh"
tb_require_root
tb_require_agent

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

tb_init
tb_create
say "Test bed: host A ($TB_A4, $TB_A6) -- router M -- host B ($TB_B4, $TB_B6)"
say "Starting tcpcryptd on A and B (TC on eth0, XDP + AF_XDP on its capture veth, sock_ops on the cgroup)"
tb_agent_start A
tb_agent_start B
tb_ctl A status

say "B serves files with an unmodified 'python3 -m http.server 8080'"
mkdir -p "$TB_DIR/www"
{
	for i in $(seq 2000); do echo "Hello from an unmodified HTTP server, line $i"; done
	head -c $((12 << 20)) /dev/urandom
} >"$TB_DIR/www/file.bin"
tb_bg B "$TB_DIR/http.log" python3 -m http.server 8080 --directory "$TB_DIR/www" >/dev/null
tb_wait_port B 8080
tb_capture_start demo a0 tcp port 8080

say "A fetches it with an unmodified curl (rate-limited so the connection stays up a moment)"
tb_exec A curl -s --limit-rate 3M -o "$TB_DIR/got.bin" "http://$TB_B4:8080/file.bin" &
curl_pid=$!
tb_wait 10 eval "[[ \$(tb_ctl A -j flows tcpcrypt | tt_py 'len(d)') -ge 1 ]]" ||
	tb_fail "no tcpcrypt flow appeared on A"
say "tcpcryptctl flows on A"
tb_ctl A flows
say "tcpcryptctl flows on B"
tb_ctl B flows
fa=$(tb_ctl A -j flows tcpcrypt)
fb=$(tb_ctl B -j flows tcpcrypt)
printf '\nA: negotiated TEP 0x%02x (%s), role %s\n' "$(tt_py 'd[0]["tep"]' <<<"$fa")" \
	"$(tt_py 'd[0]["tep_name"]' <<<"$fa")" "$(tt_py 'd[0]["role"]' <<<"$fa")"
printf 'B: negotiated TEP 0x%02x (%s), role %s\n' "$(tt_py 'd[0]["tep"]' <<<"$fb")" \
	"$(tt_py 'd[0]["tep_name"]' <<<"$fb")" "$(tt_py 'd[0]["role"]' <<<"$fb")"
printf 'transcript (A): %s\ntranscript (B): %s\n' "$(tt_py 'd[0]["transcript"]' <<<"$fa")" \
	"$(tt_py 'd[0]["transcript"]' <<<"$fb")"
say "tcpcryptctl sessions on A and on B: the same session ID at both ends"
tb_ctl A sessions
tb_ctl B sessions
sa=$(tb_ctl A -j sessions | tt_py 'd[0]["session_id"]')
sb=$(tb_ctl B -j sessions | tt_py 'd[0]["session_id"]')
if [[ -n $sa && $sa == "$sb" ]]; then
	echo "session ID matches: $sa"
fi
say "The same, raw, with bpftool (session_id is the array of 33 bytes)"
bpftool map dump pinned "$TB_PIN_B/sessions" >"$TB_DIR/sessions.json"
head -24 "$TB_DIR/sessions.json"
wait "$curl_pid"
pcap=$(tb_capture_stop demo)

say "On the wire (captured in M): the TCP-ENO option, kind 69"
python3 "$TB_ROOT/tests/lib/pcap.py" packets "$pcap" >"$TB_DIR/packets.json"
head -3 "$TB_DIR/packets.json" | python3 -c '
import json, sys
for line in sys.stdin:
    p = json.loads(line)
    opts = " ".join("%d:%s" % (o["kind"], o["data"]) if o["data"] else str(o["kind"])
                    for o in p["options"])
    print("%s:%d > %s:%d [%s] options %s" % (p["src"], p["sport"], p["dst"], p["dport"],
                                              p["flags"], opts))'
echo "(69:21222423 = A offers TEPs p256 p521 x448 x25519; 69:0123 = B, b=1, picks x25519; 69 = 45 02)"
say "What the wire carries: the start of each direction's TCP payload stream"
cport=$(head -1 "$TB_DIR/packets.json" | tt_py 'd["sport"]')
echo "A -> B (Init1 magic 15101a0e, then frames):"
python3 "$TB_ROOT/tests/lib/pcap.py" stream "$pcap" --src "$TB_A4" --sport "$cport" >"$TB_DIR/a2b.bin"
head -c 64 "$TB_DIR/a2b.bin" | od -An -tx1
echo "B -> A (Init2 magic 097105e0, then frames):"
python3 "$TB_ROOT/tests/lib/pcap.py" stream "$pcap" --src "$TB_B4" --sport 8080 >"$TB_DIR/b2a.bin"
head -c 64 "$TB_DIR/b2a.bin" | od -An -tx1
if python3 "$TB_ROOT/tests/lib/pcap.py" grep "$pcap" "Hello from an unmodified HTTP server"; then
	echo "!! the server's plaintext is on the wire"
else
	echo "The server's text ('Hello from an unmodified HTTP server ...') appears nowhere on the wire."
fi
say "An application reads its own session ID: python3, socket.getsockopt(IPPROTO_TCP, TCP_ENO_SESSID, 33)"
echo "(tests/lib/sessid.py: a plain TCP client and server; each end prints its ID and the one the other sent)"
echo "(the second connection from A to B: it resumes the curl connection's session, RFC 8548 3.5)"
tb_bg B "$TB_DIR/sid-srv.log" python3 "$TB_ROOT/tests/lib/sessid.py" server 7000 1 >/dev/null
tb_wait_port B 7000
tb_capture_start resumed a0 tcp port 7000
: >"$TB_DIR/sid-cli.out"
tb_exec A python3 "$TB_ROOT/tests/lib/sessid.py" client "$TB_B4" 7000 --hold 1 >"$TB_DIR/sid-cli.out" &
sid_pid=$!
tb_wait 10 grep -q sessid "$TB_DIR/sid-cli.out" || tb_fail "the client printed no session ID"
ctl_a=$(tb_ctl A -j sessions | tt_py '[s["session_id"] for s in d if s["remote"].endswith(":7000")][0]')
wait "$sid_pid"
tb_wait 5 grep -q sessid "$TB_DIR/sid-srv.log"
app_a=$(tt_py 'd["sessid"]' <"$TB_DIR/sid-cli.out")
app_b=$(tt_py 'd["sessid"]' <"$TB_DIR/sid-srv.log")
printf 'client on A (role A) reads     %s
' "$app_a"
printf 'server on B (role B) reads     %s
' "$app_b"
printf 'tcpcryptctl sessions on A says %s
' "$ctl_a"
if [[ $app_a == "$app_b" && $app_a == "$ctl_a" && $app_a =~ ^(23|a3) ]]; then
	echo "The application's session ID is the same at both ends and is the agent's."
else
	tb_fail "the session IDs differ"
fi
tb_capture_stop resumed >/dev/null
say "That connection was resumed: checked on the wire (capture in M)"
PCAP=$TB_ROOT/tests/lib/pcap.py
syn=$(python3 "$PCAP" summary "$TB_DIR/resumed.pcap" --port 7000 | awk '$5 == "S" { print; exit }')
echo "A's SYN:     $syn"
sport=$(awk '{ print $2 }' <<<"$syn")
python3 "$PCAP" stream "$TB_DIR/resumed.pcap" --src "$TB_A4" --sport "$sport" >"$TB_DIR/resumed.a"
python3 "$PCAP" stream "$TB_DIR/resumed.pcap" --src "$TB_B4" --sport 7000 >"$TB_DIR/resumed.b"
head_a=$(head -c 4 "$TB_DIR/resumed.a" | od -An -tx1 | tr -d ' ')
head_b=$(head -c 4 "$TB_DIR/resumed.b" | od -An -tx1 | tr -d ' ')
printf 'first bytes of the streams: A %s, B %s (Init1 would be 15101a0e, Init2 097105e0)\n' "$head_a" "$head_b"
if [[ $app_a == a3* && $syn == *69:*a3* && $head_a != 15101a0e && $head_b != 097105e0 ]]; then
	echo "Resumed: the SYN's ENO option carries TEP 0xa3 (v = 1, the resumption suboption), the"
	echo "session ID starts with 0xa3, and both streams start with frames: no key exchange."
else
	tb_fail "the second connection was not resumed (session ID $app_a)"
fi
say "Counters"
tb_ctl A stats >"$TB_DIR/stats.txt"
grep -E "^negotiated|^dp_(sessions|established|plain_in|auth)" "$TB_DIR/stats.txt"
if cmp -s "$TB_DIR/www/file.bin" "$TB_DIR/got.bin"; then
	echo "curl received the file intact ($(stat -c %s "$TB_DIR/got.bin") bytes)"
else
	tb_fail "curl's copy differs from the server's file"
fi
say "Tearing down"
