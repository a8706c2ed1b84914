#!/bin/bash
# tcpcrypt-proxy (docs/auth.md#tcpcrypt-proxy) in front of unmodified
# applications, between real agents.  On B python3 -m http.server and a
# socat service, both bound to 127.0.0.1 only, behind server proxies; on A
# client proxies on loopback and curl / socat to them.  PSK: a page arrives
# intact, the same session ID is logged by both proxies; 8 concurrent curls;
# 4 MiB up and 2 MiB down through socat (IPv6) with a half close each way
# and checksums.  Batch-signed Ed25519: 12 connections accepted together,
# one credential.  A password at A against its SPAKE2+ verifier at B (IPv6).  Wrong PSK, a peer that does
# not speak tcpcrypt-auth and a man in the middle (M's own agent and a socat
# relay, as test_43): curl gets nothing, the proxies log one line (peer,
# session ID, error) and go on serving, and the service never sees a
# connection (its access log, and a capture of B's loopback: one SYN to the
# services per authenticated connection, none other).  A missing server
# proxy, --max-conns 1 (the second connection waits), SIGTERM with a
# connection open (no new one, the open one finishes, status 0).  A target
# that is not an address of the host and a non-loopback client listener are
# refused (status 2).  M's capture: every A-B connection negotiated (ENO in
# the SYN-ACK), not a byte of the data nor the session ID in clear.
# TB_PROXY=path runs another build (e.g. with sanitizers).
set -euo pipefail
source "$(dirname "$0")/../lib/enotest.sh"
tb_require_agent
PROXY=${TB_PROXY:-$TB_ROOT/build/tcpcrypt-proxy}
[[ -x $PROXY ]] || tb_skip "build/tcpcrypt-proxy not built; run: make"
tb_init
tb_create
tb_agent_start A
tb_agent_start B
K=$TB_DIR/keys
mkdir "$K" "$TB_DIR/www"
head -c 32 /dev/urandom >"$K/psk"
head -c 32 /dev/urandom >"$K/psk-other"
echo 'correct horse battery' >"$K/pw"
"$TB_ROOT/build/tcpcrypt-cat" make-verifier --password-file "$K/pw" -o "$K/pw.verifier"
openssl genpkey -algorithm ed25519 -out "$K/server.key" 2>/dev/null
openssl pkey -in "$K/server.key" -pubout -out "$K/server.pub"
MARK="tcpcrypt-proxy-cleartext-marker-$$"
head -c 300000 /dev/urandom >"$TB_DIR/www/page.bin"
printf '%s' "$MARK" | dd of="$TB_DIR/www/page.bin" bs=1 seek=70000 conv=notrunc status=none
tb_mkdata "$TB_DIR/up" 4
tb_mkdata "$TB_DIR/down" 2
printf '%s' "$MARK" | dd of="$TB_DIR/up" bs=1 seek=100000 conv=notrunc status=none
printf '%s' "$MARK" | dd of="$TB_DIR/down" bs=1 seek=100000 conv=notrunc status=none

# tcpcrypt-proxy ARGS in HOST, in the background: NAME.err, NAME.pid (the
# proxy's own PID, for the signal), NAME.rc once it has ended
proxy() { # HOST NAME ARGS...
	local h=$1 n=$TB_DIR/$2
	shift 2
	tb_bg "$h" "$n.log" env N="$n" sh -c \
		'"$0" "$@" 2>"$N.err" & echo $! >"$N.pid"; wait $!; echo $? >"$N.rc"' \
		"$PROXY" "$@" >/dev/null
	tb_wait 10 grep -qs 'listening on' "$n.err" ||
		tb_fail "$2 did not start: $(cat "$n.err" 2>/dev/null)"
}
stop() { # NAME: SIGTERM, then its exit status
	local n=$TB_DIR/$1
	kill -TERM "$(cat "$n.pid")"
	tb_wait 15 test -s "$n.rc" || tb_fail "$1 did not end after SIGTERM"
	cat "$n.rc"
}
# one curl on A through the client proxy on PORT: its exit status; NAME.out
get() { # PORT NAME
	tb_exec A curl -sS --max-time 20 -o "$TB_DIR/$2.out" \
		"http://127.0.0.1:$1/page.bin" 2>"$TB_DIR/$2.curl" && echo 0 || echo $?
}
nlines() { grep -c -- "$2" "$TB_DIR/$1" || true; }
# every connection to PORT in PCAP: count, and how many had ENO in the SYN-ACK
wire_eno() { # PCAP PORT -> "N M"
	tt_wire "$1" "$2" | python3 -c 'import json,sys
c=[json.loads(l) for l in sys.stdin if l.strip()]
print(len(c), sum(1 for x in c if x["synack"] and str(x["synack"][0]).startswith("45")))'
}

# --- the services on B, loopback only, and a capture of B's loopback
tb_bg B "$TB_DIR/http.log" python3 -u -m http.server 8080 --bind 127.0.0.1 \
	--directory "$TB_DIR/www" >/dev/null
tb_bg B "$TB_DIR/updown.log" socat -d -d TCP4-LISTEN:8090,bind=127.0.0.1,reuseaddr,fork \
	SYSTEM:"sha256sum; cat $TB_DIR/down" >/dev/null
tb_wait_port B 8080
tb_wait_port B 8090
tb_bg B "$TB_DIR/lo.tcpdump.log" tcpdump -Z root -U -n -i lo -w "$TB_DIR/lo.pcap" \
	'tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn and (dst port 8080 or dst port 8090)' >/dev/null
tb_wait 10 grep -q 'listening on' "$TB_DIR/lo.tcpdump.log" || tb_fail "tcpdump on B's lo"
tb_capture_start wire a0 tcp

# --- refused configurations (nothing started)
set +e
tb_exec B "$PROXY" --psk "$K/psk" --server 7499 "$TB_A4:8080" 2>"$TB_DIR/refuse1.err"
r1=$?
tb_exec B "$PROXY" --psk "$K/psk" --server 7499 "[fd00:7463:2::1]:8080" 2>"$TB_DIR/refuse2.err"
r2=$?
tb_exec A "$PROXY" --psk "$K/psk" --client "$TB_A4:7400" "$TB_B4" 7401 2>"$TB_DIR/refuse3.err"
r3=$?
tb_exec A "$PROXY" --psk "$K/psk" --client 7400 "$TB_B4" 7401 extra 2>/dev/null
r4=$?
set -e
tb_assert_eq "2 2 2 2" "$r1 $r2 $r3 $r4" "refused configurations: exit status"
grep -q "target $TB_A4:8080 is not an address of this host" "$TB_DIR/refuse1.err" ||
	tb_fail "another host's target: message: $(cat "$TB_DIR/refuse1.err")"
grep -q "is not an address of this host" "$TB_DIR/refuse2.err" ||
	tb_fail "the router's IPv6 address as target: message: $(cat "$TB_DIR/refuse2.err")"
grep -q "is not a loopback address" "$TB_DIR/refuse3.err" ||
	tb_fail "client listening on eth0: message: $(cat "$TB_DIR/refuse3.err")"
# with the explicit flag, a client proxy may listen on eth0
proxy A open-a --allow-remote-clients --psk "$K/psk" --client "$TB_A4:7480" "$TB_B4" 7401
tb_exec A ss -Hltn "src $TB_A4:7480" | grep -q LISTEN || tb_fail "open-a: not listening on eth0"
tb_assert_eq 0 "$(stop open-a)" "client proxy on eth0 with --allow-remote-clients: SIGTERM status"
# B's own eth0 address is an address of B: accepted (then SIGTERM, status 0)
proxy B ownaddr --psk "$K/psk" --server 7498 "$TB_B4:8080"
tb_assert_eq 0 "$(stop ownaddr)" "server proxy to B's own address: SIGTERM status"

# --- PSK: the page, the same session ID at both ends
proxy B psk-b -v --psk "$K/psk" --server 7401 8080
proxy B updown-b --psk "$K/psk" --server 7402 8090
proxy A psk-a -v --psk "$K/psk" --client 7400 "$TB_B4" 7401
proxy A updown-a --psk "$K/psk" --client "[::1]:7410" "$TB_B6" 7402
tb_assert_eq 0 "$(get 7400 one)" "curl through the proxies ($(cat "$TB_DIR/one.curl"))"
tb_assert_same_file "$TB_DIR/www/page.bin" "$TB_DIR/one.out" "the page through the proxies"
sida=$(grep -oE 'session [0-9a-f]{66}: authenticated' "$TB_DIR/psk-a.err" | awk '{print substr($2, 1, 66)}')
sidb=$(grep -oE 'session [0-9a-f]{66}: authenticated' "$TB_DIR/psk-b.err" | awk '{print substr($2, 1, 66)}')
tb_assert_match '^[2a][1-4][0-9a-f]{64}$' "$sida" "the client proxy's session ID"
tb_assert_eq "$sida" "$sidb" "the same session ID at both proxies"
grep -q "peer $TB_B4:7401 session $sida: authenticated (psk, role A)" "$TB_DIR/psk-a.err" ||
	tb_fail "A's line: $(cat "$TB_DIR/psk-a.err")"
grep -q "peer $TB_A4:[0-9]* session $sida: authenticated (psk, role B)" "$TB_DIR/psk-b.err" ||
	tb_fail "B's line: $(cat "$TB_DIR/psk-b.err")"
tb_wait 5 grep -q "session $sidb: closed, [0-9]* bytes to the service, 30[0-9]\{4\} from it" \
	"$TB_DIR/psk-b.err" || tb_fail "B's closed line: $(cat "$TB_DIR/psk-b.err")"
tb_wait 5 grep -q "session $sida: closed, [0-9]\{2,3\} bytes to the peer, 30[0-9]\{4\} from it" \
	"$TB_DIR/psk-a.err" || tb_fail "A's closed line: $(cat "$TB_DIR/psk-a.err")"
tb_assert_eq 1 "$(nlines http.log 'GET /page.bin HTTP/1.1" 200')" "the service's access log"
grep -q '^127.0.0.1 ' "$TB_DIR/http.log" || tb_fail "the service saw another client than 127.0.0.1"

# --- 8 concurrent curls
jobs=()
for i in 1 2 3 4 5 6 7 8; do
	get 7400 "conc$i" >"$TB_DIR/conc$i.rc" &
	jobs+=($!)
done
wait "${jobs[@]}" # not a bare wait: the proxies are background jobs too
for i in 1 2 3 4 5 6 7 8; do
	tb_assert_eq 0 "$(cat "$TB_DIR/conc$i.rc")" "concurrent curl $i ($(cat "$TB_DIR/conc$i.curl"))"
	tb_assert_same_file "$TB_DIR/www/page.bin" "$TB_DIR/conc$i.out" "concurrent page $i"
done
tb_assert_eq 9 "$(nlines psk-b.err ': authenticated (psk')" "9 connections authenticated at B"
tb_assert_eq 9 "$(nlines http.log 'GET /page.bin HTTP/1.1" 200')" "9 requests in the access log"

# --- 4 MiB up, half close, the service's checksum and 2 MiB down, half close
tb_exec A sh -c "socat -t 30 -T 60 STDIO TCP6:[::1]:7410 <'$TB_DIR/up' >'$TB_DIR/updown.out'" ||
	tb_fail "socat through the proxies failed"
tb_assert_eq "$(tb_sha256 "$TB_DIR/up")  -" "$(head -n 1 "$TB_DIR/updown.out")" \
	"the service's sha256 of the 4 MiB (A's half close reached it)"
tail -c +69 "$TB_DIR/updown.out" >"$TB_DIR/down.out"
tb_assert_same_file "$TB_DIR/down" "$TB_DIR/down.out" "2 MiB back (the service's end reached A)"

# --- batch-signed Ed25519: 12 concurrent connections, one credential
proxy B batch-b --sign-batch "$K/server.key" --server 7403 8080
proxy A batch-a --verify "$K/server.pub" --client 7420 "$TB_B4" 7403
# the server proxy stopped (SIGSTOP) while the 12 connect: they are accepted
# together when it resumes, and their proofs asked for at once
kill -STOP "$(cat "$TB_DIR/batch-b.pid")"
jobs=()
for i in $(seq 1 12); do
	get 7420 "batch$i" >"$TB_DIR/batch$i.rc" &
	jobs+=($!)
done
tb_wait 10 eval '[[ $(tb_exec B ss -Hltn "sport = :7403" | awk "{print \$2}") -ge 12 ]]' ||
	tb_fail "12 connections not queued at B: $(tb_exec B ss -Hltn "sport = :7403")"
kill -CONT "$(cat "$TB_DIR/batch-b.pid")"
wait "${jobs[@]}"
for i in $(seq 1 12); do
	tb_assert_eq 0 "$(cat "$TB_DIR/batch$i.rc")" "batch curl $i ($(cat "$TB_DIR/batch$i.curl"))"
	tb_assert_same_file "$TB_DIR/www/page.bin" "$TB_DIR/batch$i.out" "batch page $i"
done
tb_assert_eq 12 "$(nlines batch-a.err ': authenticated (verify')" "12 verified at A"
tb_assert_eq 0 "$(stop batch-b)" "batch server proxy: SIGTERM status"
bl=$(grep -oE 'batch signer: [0-9]+ signatures for [0-9]+ proofs' "$TB_DIR/batch-b.err") ||
	tb_fail "batch-b: no batch line: $(cat "$TB_DIR/batch-b.err")"
tb_assert_match ' for 12 proofs$' "$bl" "batch signer: 12 proofs"
tb_log "$bl"

# --- a password at A, only its SPAKE2+ verifier at B
proxy B pw-b --verifier "$K/pw.verifier" --server 7404 8080
proxy A pw-a --password-file "$K/pw" --client 7460 "$TB_B6" 7404
tb_assert_eq 0 "$(get 7460 pw)" "curl with a password ($(cat "$TB_DIR/pw.curl"))"
tb_assert_same_file "$TB_DIR/www/page.bin" "$TB_DIR/pw.out" "the page with a password"
grep -q "peer \[$TB_B6\]:7404 session [0-9a-f]\{66\}: authenticated (password, role A)" \
	"$TB_DIR/pw-a.err" || tb_fail "password: A's line: $(cat "$TB_DIR/pw-a.err")"

# --- no server proxy at REMOTEPORT: curl gets nothing, the line says why
proxy A refused-a --psk "$K/psk" --client 7470 "$TB_B4" 7409
tb_assert_ne 0 "$(get 7470 refused)" "curl to a client proxy whose server proxy is missing"
tb_wait 5 grep -q "peer $TB_B4:7409: connect: Connection refused" "$TB_DIR/refused-a.err" ||
	tb_fail "refused: A's line: $(cat "$TB_DIR/refused-a.err")"

# --- wrong PSK: nothing reaches the service, both ends log the failure
proxy A wrong-a --psk "$K/psk-other" --client 7430 "$TB_B4" 7401
tb_assert_ne 0 "$(get 7430 wrong)" "curl with the wrong PSK"
tb_assert_eq 0 "$(stat -c %s "$TB_DIR/wrong.out" 2>/dev/null || echo 0)" "wrong PSK: curl got nothing"
tb_wait 5 grep -q "peer $TB_B4:7401 session [0-9a-f]\{66\}: authentication failed: wrong key" \
	"$TB_DIR/wrong-a.err" || tb_fail "wrong PSK: A's line: $(cat "$TB_DIR/wrong-a.err")"
tb_wait 5 grep -q "peer $TB_A4:[0-9]* session [0-9a-f]\{66\}: authentication failed: wrong key" \
	"$TB_DIR/psk-b.err" || tb_fail "wrong PSK: B's line: $(cat "$TB_DIR/psk-b.err")"
tb_assert_eq 1 "$(nlines wrong-a.err 'authentication failed')" "wrong PSK: one line at A"

# --- a man in the middle: M's own agent and a relay on M's address
TB_CG_M=$TB_CGROUP_ROOT/$TB_PREFIX-M
TB_PIN_M=$TB_BPFFS/$TB_PREFIX-M
export TB_CG_M TB_PIN_M
mkdir "$TB_CG_M" "$TB_PIN_M"
m_bg() { # LOG CMD...
	local log=$1
	shift
	tb_bg M "$log" sh -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$TB_CG_M" "$@"
}
pid=$(m_bg "$TB_DIR/agent-M.log" "$TB_ROOT/build/tcpcryptd" --pin-dir "$TB_PIN_M" \
	--cgroup "$TB_CG_M" -i a0 -i b0)
echo "$pid" >"$TB_DIR/agent-M.pid"
tb_wait 10 grep -q "tcpcryptd: running" "$TB_DIR/agent-M.log" ||
	tb_fail "M's agent not running: $(cat "$TB_DIR/agent-M.log")"
M4=198.18.1.1
m_bg "$TB_DIR/relay.log" socat "TCP4-LISTEN:7401,bind=$M4,reuseaddr,fork" "TCP4:$TB_B4:7401" >/dev/null
tb_wait_port M 7401
proxy A mitm-a --psk "$K/psk" --client 7440 "$M4" 7401
for i in 1 2; do
	tb_assert_ne 0 "$(get 7440 "mitm$i")" "curl through the man in the middle ($i)"
	tb_assert_eq 0 "$(stat -c %s "$TB_DIR/mitm$i.out" 2>/dev/null || echo 0)" "MITM: curl got nothing"
done
tb_wait 5 test "$(nlines mitm-a.err "peer $M4:7401 session [0-9a-f]\{66\}: authentication failed: session IDs differ")" = 2 ||
	tb_fail "MITM: A's lines: $(cat "$TB_DIR/mitm-a.err")"
tb_wait 5 test "$(nlines psk-b.err "authentication failed: session IDs differ")" = 2 ||
	tb_fail "MITM: B's lines: $(cat "$TB_DIR/psk-b.err")"

# --- a peer that does not speak tcpcrypt-auth (over tcpcrypt: A's agent
# negotiates) is closed with its line; the proxy goes on serving
tb_exec A sh -c "echo 'GET /page.bin HTTP/1.0' | socat -t 5 STDIO TCP4:$TB_B4:7401" \
	>"$TB_DIR/raw.out" 2>/dev/null || true
# all it gets back is the server proxy's PSK PROOF (8 + 74 bytes), nothing of the service
tb_assert_eq "82 TCA" "$(stat -c %s "$TB_DIR/raw.out") $(head -c 3 "$TB_DIR/raw.out")" \
	"raw request to the server proxy: only its PROOF back"
tb_wait 5 grep -q "peer $TB_A4:[0-9]* session [0-9a-f]\{66\}: authentication failed: the peer does not speak tcpcrypt-auth" \
	"$TB_DIR/psk-b.err" || tb_fail "raw request: B's line: $(cat "$TB_DIR/psk-b.err")"
tb_assert_eq 0 "$(get 7400 after)" "curl after the failures ($(cat "$TB_DIR/after.curl"))"
tb_assert_same_file "$TB_DIR/www/page.bin" "$TB_DIR/after.out" "the page after the failures"

# --- the service saw only the requests that authenticated
tb_assert_eq 23 "$(nlines http.log '" 200 ')" "the access log: 23 requests, none after a failure"
tb_assert_eq 1 "$(nlines updown.log 'accepting connection')" "the socat service: 1 connection"

# --- --max-conns 1: a second connection waits, unserved, until the first has closed
proxy A max-a --max-conns 1 --psk "$K/psk" --client 7450 "$TB_B4" 7402
tb_exec A sh -c "sleep 3 | socat -t 30 STDIO TCP4:127.0.0.1:7450 >'$TB_DIR/max1.out'" &
m1=$!
tb_wait 10 eval '[[ $(nlines max-a.err ": authenticated") == 1 ]]' || tb_fail "max-conns: first"
tb_exec A sh -c "echo second | socat -t 30 STDIO TCP4:127.0.0.1:7450 >'$TB_DIR/max2.out'" &
m2=$!
sleep 1
tb_assert_eq 1 "$(nlines max-a.err ": authenticated")" "max-conns 1: the second not served yet"
tb_assert_eq 0 "$(stat -c %s "$TB_DIR/max2.out")" "max-conns 1: the second got nothing yet"
wait "$m1" "$m2" || tb_fail "max-conns: a connection failed"
tb_assert_eq "$(printf '' | sha256sum)" "$(head -n 1 "$TB_DIR/max1.out")" "max-conns: the first"
tb_assert_eq "$(printf 'second\n' | sha256sum)" "$(head -n 1 "$TB_DIR/max2.out")" \
	"max-conns: the second, served after the first"
tb_assert_eq 2 "$(nlines psk-b.err 'session IDs differ')" "B: 2 MITM failures logged"
# --- SIGTERM with a connection open: no new connection, the open one finishes
tb_exec A sh -c "{ sleep 2; echo hi; } | socat -t 30 STDIO TCP6:[::1]:7410 >'$TB_DIR/late.out'" &
late=$!
tb_wait 10 eval '[[ $(nlines updown-a.err ": authenticated") == 2 ]]' ||
	tb_fail "the late connection did not authenticate: $(cat "$TB_DIR/updown-a.err")"
kill -TERM "$(cat "$TB_DIR/updown-a.pid")"
tb_wait 5 grep -q 'Terminated: no new connections; 1 open' "$TB_DIR/updown-a.err" ||
	tb_fail "updown-a: stop line: $(cat "$TB_DIR/updown-a.err")"
! tb_exec A socat -u /dev/null "TCP6:[::1]:7410" 2>/dev/null || tb_fail "a new connection after SIGTERM"
wait "$late" || tb_fail "the open connection failed after SIGTERM"
tb_assert_eq "$(printf 'hi\n' | sha256sum)" "$(head -n 1 "$TB_DIR/late.out")" \
	"the open connection finished after SIGTERM"
tb_wait 10 test -s "$TB_DIR/updown-a.rc" || tb_fail "updown-a did not end"
tb_assert_eq 0 "$(cat "$TB_DIR/updown-a.rc")" "updown-a: SIGTERM status (with a connection open)"

for n in psk-a psk-b updown-b wrong-a mitm-a batch-a max-a pw-a pw-b refused-a; do
	tb_assert_eq 0 "$(stop "$n")" "$n: SIGTERM status"
	grep -q 'Terminated: no new connections' "$TB_DIR/$n.err" || tb_fail "$n: no stop line"
done

pcap=$(tb_capture_stop wire)
sleep 0.3
# distinct connections (python's listen queue of 5 makes the burst retransmit SYNs)
lo_syns=$(tcpdump -n -r "$TB_DIR/lo.pcap" 2>/dev/null | awk '{print $3}' | sort -u | wc -l)
tb_assert_eq $((23 + 4)) "$lo_syns" \
	"SYNs to the services on B's loopback: one per authenticated connection (23 HTTP, 4 socat)"
tb_assert_eq "14 14" "$(wire_eno "$pcap" 7401)" \
	"port 7401: 10 good, 1 wrong PSK, 1 raw, 2 to M: all negotiated"
tb_assert_eq "4 4" "$(wire_eno "$pcap" 7402)" "port 7402: 4 socat connections, all negotiated"
tb_assert_eq "12 12" "$(wire_eno "$pcap" 7403)" "port 7403: 12 batch connections, all negotiated"
tb_assert_eq "1 1" "$(wire_eno "$pcap" 7404)" "port 7404 (IPv6): 1 password connection, negotiated"
! python3 -c 'import sys; sys.exit(0 if sys.argv[2].encode() in open(sys.argv[1],"rb").read() else 1)' \
	"$pcap" "$MARK" || tb_fail "the marker is on the wire in clear"
! python3 -c 'import sys; sys.exit(0 if bytes.fromhex(sys.argv[2]) in open(sys.argv[1],"rb").read() else 1)' \
	"$pcap" "$sida" || tb_fail "the session ID in clear on the wire"
tb_pass "tcpcrypt-proxy: curl and socat through client and server proxies (PSK, batch Ed25519, SPAKE2+ password and verifier), concurrent, half close both ways, negotiated on the wire; wrong PSK, a raw peer and a man in the middle reach nothing of the service; --max-conns; non-local targets refused; SIGTERM drains and exits 0"
