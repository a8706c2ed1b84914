#!/bin/bash
# A middlebox that lets ENO through the SYNs and strips it from every later
# segment from A (RFC 8547 §9, "type 2"): B falls back (the first ACK lacks
# ENO) while A has enabled encryption.  Over IPv4 and IPv6:
#  - the first connection fails fast, with an error at both applications,
#    and B's application reads not one byte (A's Init1 is reset at B's TC
#    ingress: stripped_init1); A's agent puts B into the negative cache
#    (cause init-failed, dp_init_failed);
#  - the second connection to B is plain TCP and byte-identical;
#  - the same with a TCP_DEFER_ACCEPT server, where Init1 completes the
#    handshake;
#  - curl --retry completes its download through the middlebox;
#  - a require port fails every time, and no request byte is on the wire;
#  - stripping after the SYN only from B to A changes nothing (encrypted);
#  - without the rule, and the cache flushed, connections are encrypted again.
set -euo pipefail
source "$(dirname "$0")/../lib/enotest.sh"
tt_bed A B
STREAMS=$TB_ROOT/tests/lib/streams.py
tb_mkdata "$TB_DIR/data" 1
mkdir -p "$TB_DIR/www"
tb_mkdata "$TB_DIR/www/file.bin" 1
tb_bg B "$TB_DIR/http.log" python3 -m http.server 8080 --bind :: --directory "$TB_DIR/www" >/dev/null
tb_wait_port B 8080
tb_capture_start wire a0 tcp
tb_strip_eno a2b after-syn

# One connection from A to B's PORT over IPv FAM: both ends must get an error, B no byte.
# A's agent learns of the reset when it resends its Init1 (its first RTO is
# 1 s, RFC 6298 2.1) and B's kernel answers with a RST: the error comes within 2 s.
first_fails() { # FAM PORT
	local fam=$1 port=$2 dst=TB_B$1
	tb_bg B "$TB_DIR/srv-$port.log" python3 "$STREAMS" serve "$port" 1 "STRIPMARK-$port" \
		"$TB_DIR/srv-$port.json" >/dev/null
	tb_wait_port B "$port"
	tb_bg A "$TB_DIR/cli-$port.log" python3 "$STREAMS" send "${!dst}" "$port" 1 5 \
		"STRIPMARK-$port" "$TB_DIR/cli-$port.json" >/dev/null
	tb_wait 6 test -s "$TB_DIR/cli-$port.json" || tb_fail "IPv$fam: the sender did not end"
	tb_wait 6 test -s "$TB_DIR/srv-$port.json" || tb_fail "IPv$fam: the receiver did not end"
	tt_py "sum(d['errors'].values()) == 1 and d['first_error_s'] < 2" <"$TB_DIR/cli-$port.json" |
		grep -q true || tb_fail "IPv$fam: A's application: $(cat "$TB_DIR/cli-$port.json")"
	tt_py "sum(d['errors'].values()) == 1 and d['bytes'] == 0" <"$TB_DIR/srv-$port.json" |
		grep -q true || tb_fail "IPv$fam: B's application: $(cat "$TB_DIR/srv-$port.json")"
	tb_log "IPv$fam first connection: A $(cat "$TB_DIR/cli-$port.json"), B $(cat "$TB_DIR/srv-$port.json")"
}

# FILE from A to B's PORT over IPv FAM, byte-identical.
transfer() { # FAM PORT FILE
	local dst=TB_B$1
	tt_sink B "$2" "$TB_DIR/recv-$2"
	tt_send A "${!dst}" "$2" "$3"
	tt_wait_size "$TB_DIR/recv-$2" "$(stat -c %s "$3")"
	tb_assert_same_file "$3" "$TB_DIR/recv-$2" "IPv$1 transfer on port $2"
}

first_fails 4 9001
transfer 4 9002 "$TB_DIR/data"
first_fails 6 9003
transfer 6 9004 "$TB_DIR/data"
tt_expect_stats A dp_init_failed=2
tt_expect_stats B stripped_init1=2
nc=$(tb_ctl A -j negcache)
tb_assert_eq '["init-failed", "init-failed"]' "$(tt_py 'sorted(e["cause"] for e in d)' <<<"$nc")" \
	"A's negative cache"

# a server with TCP_DEFER_ACCEPT: the Init1 itself completes the handshake
tb_ctl A negcache flush
tb_bg B "$TB_DIR/defer.log" python3 -c "
import json, select, socket, sys
s = socket.socket(socket.AF_INET6)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_DEFER_ACCEPT, 5)
s.bind(('::', 9040)); s.listen(4)
print('listening', flush=True)
got, res = 0, {'accepted': 0, 'bytes': 0, 'errors': 0}
if select.select([s], [], [], 4)[0]:
    c, _ = s.accept(); res['accepted'] = 1; c.settimeout(3)
    try:
        while True:
            d = c.recv(4096)
            if not d: break
            res['bytes'] += len(d)
    except OSError:
        res['errors'] += 1
json.dump(res, open('$TB_DIR/defer.json', 'w'))" >/dev/null
tb_wait_port B 9040
tb_exec A python3 "$STREAMS" send "$TB_B4" 9040 1 5 DEFERMARK "$TB_DIR/cli-defer.json" >/dev/null
tt_py "sum(d['errors'].values()) == 1 and d['first_error_s'] < 2" <"$TB_DIR/cli-defer.json" |
	grep -q true || tb_fail "TCP_DEFER_ACCEPT: A's application: $(cat "$TB_DIR/cli-defer.json")"
tb_wait 8 test -s "$TB_DIR/defer.json" || tb_fail "TCP_DEFER_ACCEPT: the server did not report"
tt_py "d['bytes'] == 0" <"$TB_DIR/defer.json" | grep -q true ||
	tb_fail "TCP_DEFER_ACCEPT: B's application read bytes: $(cat "$TB_DIR/defer.json")"
tt_expect_stats B stripped_init1=3

# a retrying client gets through: the first try fails, the retry goes plain
tb_ctl A negcache flush
tb_exec A curl -sS --retry 2 --retry-all-errors --retry-delay 1 -o "$TB_DIR/down" \
	"http://$TB_B4:8080/file.bin" 2>"$TB_DIR/curl.err" || tb_fail "curl --retry: $(cat "$TB_DIR/curl.err")"
tb_assert_same_file "$TB_DIR/www/file.bin" "$TB_DIR/down" "curl --retry through the middlebox"

# require: fails every time, never plain
tb_ctl A port 9010 require
for i in 1 2; do
	tb_bg B "$TB_DIR/srv-req$i.log" python3 "$STREAMS" serve 9010 1 "REQMARK-$i" \
		"$TB_DIR/srv-req$i.json" >/dev/null
	tb_wait_port B 9010
	tb_exec A python3 "$STREAMS" send "$TB_B4" 9010 1 5 "REQMARK-$i" "$TB_DIR/cli-req$i.json" >/dev/null
	tt_py "d['connected'] == 0 or sum(d['errors'].values()) == 1" <"$TB_DIR/cli-req$i.json" |
		grep -q true || tb_fail "require, try $i: $(cat "$TB_DIR/cli-req$i.json")"
	tb_wait 6 test -s "$TB_DIR/srv-req$i.json" || tb_fail "require, try $i: B's server did not end"
	tt_py "d['bytes'] == 0" <"$TB_DIR/srv-req$i.json" | grep -q true ||
		tb_fail "require, try $i: B read bytes: $(cat "$TB_DIR/srv-req$i.json")"
done
tb_ctl A port 9010 on

# stripping after the SYN from B to A only: still encrypted
tb_middlebox_clear
tb_ctl A negcache flush
tb_strip_eno b2a after-syn
printf 'B2A-STRIP-MARK' | dd of="$TB_DIR/data" bs=1 seek=3000 conv=notrunc status=none
transfer 4 9020 "$TB_DIR/data"
transfer 6 9021 "$TB_DIR/data"
tb_middlebox_clear
printf 'CLEAN-AGAIN-MARK' | dd of="$TB_DIR/data" bs=1 seek=3000 conv=notrunc status=none
transfer 4 9030 "$TB_DIR/data"
tt_expect_stats A dp_init_failed=6 negcache_plain=3
sessions=$(tb_ctl A -j sessions)
for p in 9020 9021 9030; do
	[[ $(tt_py "len([s for s in d if s['remote'].endswith(':$p')])" <<<"$sessions") == 1 ]] ||
		tb_fail "the connection to port $p is not encrypted: $sessions"
done

pcap=$(tb_capture_stop wire)
for m in B2A-STRIP-MARK CLEAN-AGAIN-MARK REQMARK-1 REQMARK-2; do
	if python3 "$TB_ROOT/tests/lib/pcap.py" grep "$pcap" "$m"; then
		tb_fail "plaintext on the wire: $m"
	fi
done
tb_pass "ENO stripped after the SYN: first connection fails fast at both ends, B reads nothing, the retry is plain; require fails; b2a harmless"
