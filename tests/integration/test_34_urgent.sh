#!/bin/bash
# Issue 13: urgent data (MSG_OOB) through tcpcrypt behaves as on plain TCP.
# An unmodified-style application pair (tests/lib/oobtest.py: plain sockets,
# select() for the exceptional condition, SIOCATMARK, recv(MSG_OOB)) sends
# "before-", one urgent byte "!", "-after", A->B then B->A on one connection,
# with and without SO_OOBINLINE.  Each case runs on a port set off (plain
# TCP) and on one with tcpcrypt: the applications' transcripts must be
# identical, and the plain ones what Linux gives (the urgent byte out of band,
# or in band with SO_OOBINLINE).  From the capture in M: the tcpcrypt
# connections carry no TCP URG flag and no plaintext (RFC 8548 §3.7: urgency
# travels inside the authenticated frames), while the plain ones show both.
set -euo pipefail
source "$(dirname "$0")/../lib/enotest.sh"
tt_bed A B
OOB=$TB_ROOT/tests/lib/oobtest.py
tb_ctl A port 6001 off
tb_ctl B port 6001 off
tb_ctl A port 6003 off
tb_ctl B port 6003 off
tb_capture_start wire a0 tcp

# One connection A -> B:PORT; "A->B" is the server's transcript, "B->A" the client's.
run() { # PORT [--inline]
	local port=$1 srv
	shift
	srv=$(tb_bg B "$TB_DIR/oob-$port.srv" python3 "$OOB" serve :: "$port" "$@")
	tb_wait_port B "$port"
	tb_exec A timeout 30 python3 "$OOB" connect "$TB_B4" "$port" "$@" >"$TB_DIR/oob-$port.cli" ||
		tb_fail "port $port: client failed: $(cat "$TB_DIR/oob-$port.cli")"
	tb_wait 10 eval "! tb_alive $srv" || tb_fail "port $port: server did not finish"
	tb_assert_match '^\{' "$(cat "$TB_DIR/oob-$port.srv")" "port $port: server transcript"
}

for p in 6001 6002; do run "$p"; done
for p in 6003 6004; do run "$p" --inline; done

# The plain TCP transcripts, as Linux gives them (expected values written out here).
for f in srv cli; do
	tb_assert_eq 'before--after' "$(tt_py 'd["inband"]' <"$TB_DIR/oob-6001.$f")" \
		"plain, $f: in band without the urgent byte"
	tb_assert_match '\["oob", "!"\], \["oob_again", "EINVAL"\]' "$(cat "$TB_DIR/oob-6001.$f")" \
		"plain, $f: the urgent byte out of band, once"
	tb_assert_match '^\{"inband": "before--after", "transcript": \[\["exceptional", true\], \["atmark", false\]' \
		"$(cat "$TB_DIR/oob-6001.$f")" "plain, $f: exceptional condition, not at the mark yet"
	tb_assert_eq 'before-!-after' "$(tt_py 'd["inband"]' <"$TB_DIR/oob-6003.$f")" \
		"plain SO_OOBINLINE, $f: the urgent byte in band"
	tb_assert_match '\["oob", "EINVAL"\]' "$(cat "$TB_DIR/oob-6003.$f")" \
		"plain SO_OOBINLINE, $f: recv(MSG_OOB) refused"
done
# tcpcrypt: exactly the same at the application, both directions, both modes.
for pair in 6001:6002 6003:6004; do
	for f in srv cli; do
		dir=$([[ $f == srv ]] && echo "A->B" || echo "B->A")
		tb_assert_eq "$(cat "$TB_DIR/oob-${pair%:*}.$f")" "$(cat "$TB_DIR/oob-${pair#*:}.$f")" \
			"port ${pair#*:} $dir: tcpcrypt transcript equals plain TCP's"
	done
done

pcap=$(tb_capture_stop wire)
for port in 6001 6003; do
	tb_assert_ne 4502 "$(tt_wire "$pcap" "$port" | head -1 | tt_py 'd["third_ack"]')" \
		"port $port: no ENO (plain TCP)"
done
for port in 6002 6004; do
	tb_assert_eq 4502 "$(tt_wire "$pcap" "$port" | head -1 | tt_py 'd["third_ack"]')" \
		"port $port: ENO negotiated"
done
# Segments with the TCP URG flag, per port (pcap.py prints flags as letters, U for URG).
urg_segs() { # PORT
	python3 "$TB_ROOT/tests/lib/pcap.py" packets "$pcap" --port "$1" --max-payload 0 |
		python3 -c 'import json, sys; print(sum("U" in json.loads(l)["flags"] for l in sys.stdin))'
}
# Is STRING in the port's payloads or streams?  (pcap.py: 0 yes, 1 no, else broken.)
on_wire() { # PORT STRING
	local rc=0
	python3 "$TB_ROOT/tests/lib/pcap.py" grep --port "$1" "$pcap" -- "$2" || rc=$?
	((rc < 2)) || tb_fail "pcap.py grep failed ($rc)"
	return "$rc"
}
for port in 6001 6003; do
	[[ $(urg_segs "$port") -ge 2 ]] || tb_fail "port $port: plain TCP shows no URG on the wire"
	on_wire "$port" "before-!-after" ||
		tb_fail "port $port: plain TCP's stream does not show the exchange (capture broken?)"
done
for port in 6002 6004; do
	tb_assert_eq 0 "$(urg_segs "$port")" "port $port: segments with URG on the wire"
	for s in "before-" "-after" "-!-" "!-after" "before-!"; do
		if on_wire "$port" "$s"; then
			tb_fail "port $port: plaintext '$s' on the wire"
		fi
	done
done
# One frame with URGp per urgent byte each way: two tcpcrypt connections.
tb_wait 5 eval '[[ $(tt_stat A dp_urgent_sealed) == 2 && $(tt_stat B dp_urgent_opened) == 2 &&
	$(tt_stat B dp_urgent_sealed) == 2 && $(tt_stat A dp_urgent_opened) == 2 ]]' ||
	tb_fail "URGp frames: A sealed $(tt_stat A dp_urgent_sealed), B opened $(tt_stat B dp_urgent_opened), B sealed $(tt_stat B dp_urgent_sealed), A opened $(tt_stat A dp_urgent_opened); expected 2 each"
for h in A B; do
	tt_expect_stats "$h" dp_auth_failures=0 dp_aborted=0
done
tb_pass "urgent data: same as plain TCP both ways, with and without SO_OOBINLINE; no URG, no plaintext on the wire"
