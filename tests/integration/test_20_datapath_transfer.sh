#!/bin/bash
# Encrypted transfers through the data path, two hosts with agents.
# Unmodified socat and curl <-> python3 -m http.server move data both ways
# over IPv4 and IPv6; everything arrives SHA-256 identical.  From the
# capture in M (nothing from the agents' own logs): ENO in the handshake,
# Init1 and Init2 with their magics at the start of each direction's stream,
# and no plaintext: a marker the applications send never appears on the
# wire.  Both hosts show the same session ID for a connection, different
# connections have different IDs, and --keylog writes a 0600 file whose
# session IDs match.
set -euo pipefail
source "$(dirname "$0")/../lib/enotest.sh"
tt_bed
MIB=${TT_TRANSFER_MIB:-64}
tb_agent_start A --keylog "$TB_DIR/keylog-A"
tb_agent_start B
MARKER=tcpcrypt-plaintext-marker-7f3a9c
# random data with the marker in it, several times
mkdata_marked() { # FILE MIB
	tb_mkdata "$1" "$2"
	for off in 1000 100000 $(($2 << 19)); do
		printf '%s' "$MARKER" | dd of="$1" bs=1 seek="$off" conv=notrunc status=none
	done
}
mkdata_marked "$TB_DIR/up" "$MIB"
mkdata_marked "$TB_DIR/www/file.bin" "$MIB" 2>/dev/null || {
	mkdir -p "$TB_DIR/www"
	mkdata_marked "$TB_DIR/www/file.bin" "$MIB"
}
tb_bg B "$TB_DIR/http.log" python3 -m http.server 8080 --bind :: --directory "$TB_DIR/www" >/dev/null
tb_wait_port B 8080
tb_capture_start wire a0 tcp

# upload: socat A -> B, held open briefly so both maps can be compared
tt_sink B 5001 "$TB_DIR/up.recv"
tt_send A "$TB_B4" 5001 "$TB_DIR/up" 3 &
sender=$!
tt_wait_size "$TB_DIR/up.recv" $((MIB << 20)) 120
sa=$(tb_ctl A -j sessions)
sb=$(tb_ctl B -j sessions)
wait "$sender"
tb_assert_same_file "$TB_DIR/up" "$TB_DIR/up.recv" "upload A->B byte-identical"
ida=$(tt_py '[s["session_id"] for s in d if s["remote"].endswith(":5001")][0]' <<<"$sa")
idb=$(tt_py '[s["session_id"] for s in d if s["local"].endswith(":5001")][0]' <<<"$sb")
tb_assert_match '^23[0-9a-f]{64}$' "$ida" "A's session ID: 33 bytes, TEP 0x23 first"
tb_assert_eq "$ida" "$idb" "same session ID on both hosts"

# download: curl on A from python's http.server on B
tb_exec A curl -sS -o "$TB_DIR/down" "http://$TB_B4:8080/file.bin"
tb_assert_same_file "$TB_DIR/www/file.bin" "$TB_DIR/down" "download B->A byte-identical"

# IPv6, both ways on one connection
tt_sink B 5002 "$TB_DIR/up6.recv"
tt_send A "$TB_B6" 5002 "$TB_DIR/up"
tt_wait_size "$TB_DIR/up6.recv" $((MIB << 20)) 120
tb_assert_same_file "$TB_DIR/up" "$TB_DIR/up6.recv" "IPv6 upload byte-identical"
tb_exec A curl -sS -o "$TB_DIR/down6" "http://[$TB_B6]:8080/file.bin"
tb_assert_same_file "$TB_DIR/www/file.bin" "$TB_DIR/down6" "IPv6 download byte-identical"
pcap=$(tb_capture_stop wire)

# the wire: ENO, Init1/Init2 magics, no marker
for port in 5001 8080; do
	w=$(tt_wire "$pcap" "$port" | head -1)
	tb_assert_eq 4502 "$(tt_py 'd["third_ack"]' <<<"$w")" "port $port: ENO negotiated"
done
cli=$(python3 "$TB_ROOT/tests/lib/pcap.py" packets "$pcap" --port 5001 --max-payload 0 |
	head -1 | tt_py 'd["sport"]')
tb_assert_eq 15101a0e "$(python3 "$TB_ROOT/tests/lib/pcap.py" stream "$pcap" --src "$TB_A4" \
	--sport "$cli" | head -c 4 | od -An -tx1 | tr -d ' \n')" "A's stream starts with Init1"
tb_assert_eq 097105e0 "$(python3 "$TB_ROOT/tests/lib/pcap.py" stream "$pcap" --src "$TB_B4" \
	--sport 5001 | head -c 4 | od -An -tx1 | tr -d ' \n')" "B's stream starts with Init2"
if python3 "$TB_ROOT/tests/lib/pcap.py" grep "$pcap" "$MARKER"; then
	tb_fail "the plaintext marker is on the wire"
fi
python3 "$TB_ROOT/tests/lib/pcap.py" grep "$pcap" "$(head -c 24 "$TB_DIR/up" | od -An -c | tr -d ' \n')" &&
	tb_fail "plaintext of the upload is on the wire" || true

# distinct sessions, key log
ids=$(awk '{print $1}' "$TB_DIR/keylog-A" | sort -u | wc -l)
[[ $ids -ge 4 ]] || tb_fail "key log has $ids distinct sessions, expected 4 connections"
tb_assert_eq 600 "$(stat -c %a "$TB_DIR/keylog-A")" "key log mode"
tb_assert_match "^$ida [0-9a-f]{64} [0-9a-f]+$" "$(grep "^$ida " "$TB_DIR/keylog-A")" \
	"key log line of the upload"
# the kernel's AF_XDP counters (XDP_STATISTICS) are in the agent's: it
# never handed the kernel a bad TX descriptor
for h in A B; do
	tt_expect_stats "$h" dp_xsk_tx_invalid=0 dp_auth_failures=0 dp_aborted=0
done
# each host sealed at least its uploads' worth of frames, and the other opened them all
for h in A B; do
	sealed=$(tt_stat "$h" dp_frames_sealed)
	[[ $sealed -ge $((2 * (MIB << 20) / 1428)) ]] || tb_fail "$h sealed $sealed frames only"
done
# (the agents publish their counters within a second)
tb_wait 5 eval '[[ $(tt_stat A dp_frames_sealed) == $(tt_stat B dp_frames_opened) ]]' ||
	tb_fail "A sealed $(tt_stat A dp_frames_sealed) frames, B opened $(tt_stat B dp_frames_opened)"
tb_wait 5 eval '[[ $(tt_stat B dp_frames_sealed) == $(tt_stat A dp_frames_opened) ]]' ||
	tb_fail "B sealed $(tt_stat B dp_frames_sealed) frames, A opened $(tt_stat A dp_frames_opened)"
tb_pass "data path: ${MIB} MiB each way over IPv4 and IPv6, encrypted on the wire"
