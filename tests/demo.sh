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
say "Starting tcpcryptd on A and B (XDP + TC on eth0, sock_ops on each host's cgroup)"
tb_agent_start A
tb_agent_start B
tb_ctl A status

say "B serves files with an unmodified 'python3 -m http.server 8080'"
mkdir -p "$TB_DIR/www"
head -c $((12 << 20)) /dev/urandom >"$TB_DIR/www/file.bin"
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
say "The same, raw, with bpftool"
bpftool map dump pinned "$TB_PIN_B/flows" | head -40
wait "$curl_pid"
pcap=$(tb_capture_stop demo)

say "On the wire (captured in M): the TCP-ENO option, kind 69"
python3 "$TB_ROOT/tests/lib/pcap.py" packets "$pcap" | head -3 | python3 -c '
import json, sys
for line in sys.stdin:
    p = json.loads(line)
    opts = " ".join("%d:%s" % (o["kind"], o["data"]) if o["data"] else str(o["kind"])
                    for o in p["options"])
    print("%s:%d > %s:%d [%s] options %s" % (p["src"], p["sport"], p["dst"], p["dport"],
                                              p["flags"], opts))'
echo "(69:21222423 = A offers TEPs p256 p521 x448 x25519; 69:0123 = B, b=1, picks x25519; 69 = 45 02)"
say "Counters"
tb_ctl A stats | grep -E "negotiated|peer_no_eno|flows"
if cmp -s "$TB_DIR/www/file.bin" "$TB_DIR/got.bin"; then
	echo "curl received the file intact ($(stat -c %s "$TB_DIR/got.bin") bytes)"
fi
say "Note"
echo "This build negotiates TCP-ENO (RFC 8547) in the kernel; the tcpcrypt data path"
echo "(key exchange and encryption in the AF_XDP agent, session IDs) is the next step,"
echo "so the payload above still travels in plaintext."
say "Tearing down"
