#!/bin/bash
# Session-ID authentication (docs/auth.md) with tcpcrypt-cat between real
# agents.  PSK (IPv4), Ed25519 signatures (IPv6), batch signatures and a
# password (SPAKE2, --spake2-password-file; SPAKE2+ is test_45) succeed A->B: 1 MiB
# intact, the same session ID printed at both ends and listed by
# `tcpcryptctl sessions` on A and B, nothing of it in clear on the wire
# (capture in M).  Failures, each with its own exit status at each end and
# not a byte delivered to either output: wrong PSK (19 / 19), wrong
# password (27 / 27), a server key
# other than the pinned one (19 / 22: the server hears the rejection),
# another scheme (15), a listener that does not speak tcpcrypt-auth (13),
# port policy off on B (plain: 11 / 11), and host C without an agent (A: 11
# plain fall-back, C: 12 no agent).
set -euo pipefail
source "$(dirname "$0")/../lib/enotest.sh"
tb_require_agent
CAT=$TB_ROOT/build/tcpcrypt-cat
[[ -x $CAT ]] || tb_skip "build/tcpcrypt-cat not built; run: make"
tb_init
tb_create --hosts "A B C"
tb_agent_start A
tb_agent_start B
K=$TB_DIR/keys
mkdir "$K"
head -c 32 /dev/urandom >"$K/psk"
head -c 32 /dev/urandom >"$K/psk-other"
echo 'correct horse battery' >"$K/pw"
echo 'correct horse battery staple' >"$K/pw-other"
openssl genpkey -algorithm ed25519 -out "$K/server.key" 2>/dev/null
openssl pkey -in "$K/server.key" -pubout -out "$K/server.pub"
openssl genpkey -algorithm ed25519 -out "$K/other.key" 2>/dev/null
openssl pkey -in "$K/other.key" -pubout -out "$K/other.pub"
tb_mkdata "$TB_DIR/data" 1
MARK="tcpcrypt-auth-cleartext-marker-$$"
printf '%s' "$MARK" | dd of="$TB_DIR/data" bs=1 seek=4096 conv=notrunc status=none

source "$TB_ROOT/tests/lib/authcat.sh"
tb_capture_start wire a0 tcp

# --- success: PSK over IPv4, Ed25519 over IPv6, data A -> B intact, one ID everywhere
ok_case() { # NAME PORT ADDR SRVARGS CLIARGS
	local name=$1 port=$2 addr=$3 sa ca
	read -ra sa <<<"$4"
	read -ra ca <<<"$5"
	srv B "$name-b" "$port" "${sa[@]}"
	tb_wait_port B "$port"
	cp "$TB_DIR/data" "$TB_DIR/$name-a.in"
	cli A "$name-a" 3 "$addr" "$port" "${ca[@]}"
	tb_wait 10 grep -qs 'authenticated session' "$TB_DIR/$name-a.err" ||
		tb_fail "$name: client did not authenticate: $(cat "$TB_DIR/$name-a.err")"
	tb_wait 10 grep -qs 'authenticated session' "$TB_DIR/$name-b.err" ||
		tb_fail "$name: server did not authenticate: $(cat "$TB_DIR/$name-b.err")"
	local ida idb ctla ctlb
	ida=$(sid_of "$name-a")
	idb=$(sid_of "$name-b")
	ctla=$(sess A "$port")
	ctlb=$(sess B "$port")
	tb_assert_eq 0 "$(rc "$name-a")" "$name: client exit status"
	tb_assert_eq 0 "$(rc "$name-b")" "$name: server exit status"
	tb_assert_match '^[2a][1-4][0-9a-f]{64}$' "$ida" "$name: session ID printed by the client"
	tb_assert_eq "$ida" "$idb" "$name: the same ID printed at both ends"
	tb_assert_eq "[\"$ida\"]" "$ctla" "$name: A's tcpcryptctl sessions"
	tb_assert_eq "[\"$ida\"]" "$ctlb" "$name: B's tcpcryptctl sessions"
	tb_assert_same_file "$TB_DIR/data" "$TB_DIR/$name-b.out" "$name: 1 MiB A -> B intact"
	tb_assert_eq "role A" "$(grep -oE 'role [AB]' "$TB_DIR/$name-a.err")" "$name: client is A"
	tb_assert_eq "role B" "$(grep -oE 'role [AB]' "$TB_DIR/$name-b.err")" "$name: server is B"
	IDS+=("$ida")
	tb_log "$name: $ida"
}
IDS=()
ok_case psk 7101 "$TB_B4" "--psk $K/psk" "--psk $K/psk"
ok_case sig 7102 "$TB_B6" "--sign $K/server.key" "--verify $K/server.pub"
ok_case batch 7109 "$TB_B4" "--sign-batch $K/server.key" "--verify $K/server.pub"
ok_case pake 7111 "$TB_B6" "--spake2-password-file $K/pw" "--spake2-password-file $K/pw"
tb_assert_eq 4 "$(printf '%s\n' "${IDS[@]}" | sort -u | wc -l)" "four connections, four session IDs"

# --- failures: distinct exit status at each end, nothing delivered either way
fail_case() { # NAME PORT HOSTSRV ADDR SRVARGS CLIARGS EXPECT_CLI EXPECT_SRV
	local name=$1 port=$2 hs=$3 addr=$4 sa ca
	read -ra sa <<<"$5"
	read -ra ca <<<"$6"
	srv "$hs" "$name-s" "$port" "${sa[@]}"
	tb_wait_port "$hs" "$port"
	cp "$TB_DIR/data" "$TB_DIR/$name-a.in"
	cli A "$name-a" 0 "$addr" "$port" "${ca[@]}"
	tb_assert_eq "$7" "$(rc "$name-a")" "$name: client exit status ($(cat "$TB_DIR/$name-a.err"))"
	tb_assert_eq "$8" "$(rc "$name-s")" "$name: server exit status ($(cat "$TB_DIR/$name-s.err"))"
	tb_assert_eq 0 "$(stat -c %s "$TB_DIR/$name-s.out")" "$name: nothing delivered to the server"
	tb_assert_eq 0 "$(stat -c %s "$TB_DIR/$name-a.out")" "$name: nothing delivered to the client"
	grep -q 'authentication failed' "$TB_DIR/$name-a.err" || tb_fail "$name: no message at A"
	! grep -q 'tcpcrypt-cat: authenticated session' "$TB_DIR/$name-a.err" "$TB_DIR/$name-s.err" ||
		tb_fail "$name: claimed success"
	tb_log "$name: A: $(cat "$TB_DIR/$name-a.err") | server: $(cat "$TB_DIR/$name-s.err")"
}
fail_case wrongpsk 7103 B "$TB_B4" "--psk $K/psk" "--psk $K/psk-other" 19 19
grep -q 'wrong key' "$TB_DIR/wrongpsk-s.err" || tb_fail "wrong PSK: server message"
fail_case wrongkey 7104 B "$TB_B6" "--sign $K/other.key" "--verify $K/server.pub" 19 22
fail_case wrongbatchkey 7110 B "$TB_B4" "--sign-batch $K/other.key" "--verify $K/server.pub" 19 22
grep -q 'the peer rejected' "$TB_DIR/wrongkey-s.err" || tb_fail "wrong key: server message"
fail_case wrongpw 7112 B "$TB_B4" "--spake2-password-file $K/pw" "--spake2-password-file $K/pw-other" 27 27
grep -q 'wrong password' "$TB_DIR/wrongpw-s.err" || tb_fail "wrong password: server message"
fail_case scheme 7105 B "$TB_B4" "--sign $K/server.key" "--psk $K/psk" 15 15

# a listener that does not speak the protocol (its banner comes first)
tb_bg B "$TB_DIR/banner.log" socat TCP6-LISTEN:7106,reuseaddr SYSTEM:'echo SSH-2.0-banner; sleep 3' >/dev/null
tb_wait_port B 7106
cli A notauth-a 0 "$TB_B4" 7106 --psk "$K/psk"
tb_assert_eq 13 "$(rc notauth-a)" "not tcpcrypt-auth: exit status"
tb_assert_eq 0 "$(stat -c %s "$TB_DIR/notauth-a.out")" "not tcpcrypt-auth: banner not delivered"

# port off on B: plain TCP, both ends fail closed with the fall-back error
tb_ctl B port 7107 off >/dev/null
fail_case portoff 7107 B "$TB_B4" "--psk $K/psk" "--psk $K/psk" 11 11

# host C runs no agent: A falls back to plain TCP (11), C has no tcpcryptd (12)
fail_case noagent 7108 C "$TB_C4" "--psk $K/psk" "--psk $K/psk" 11 12
grep -q 'plain TCP' "$TB_DIR/noagent-a.err" || tb_fail "no agent: A's message"
grep -q 'no tcpcryptd' "$TB_DIR/noagent-s.err" || tb_fail "no agent: C's message"

pcap=$(tb_capture_stop wire)
for p in 7101 7102 7103 7104 7105 7109 7110 7111 7112; do
	tb_assert_match '^45' "$(tt_wire "$pcap" "$p" | tt_py 'str(d["synack"][0])')" "port $p: ENO in B's SYN-ACK"
done
for p in 7107 7108; do
	tb_assert_eq None "$(tt_wire "$pcap" "$p" | tt_py 'str(d["synack"][0])')" "port $p: no ENO in the SYN-ACK"
done
in_pcap() { python3 -c 'import sys; sys.exit(0 if sys.argv[2].encode() in open(sys.argv[1],"rb").read() else 1)' "$1" "$2"; }
in_pcap_hex() { python3 -c 'import sys; sys.exit(0 if bytes.fromhex(sys.argv[2]) in open(sys.argv[1],"rb").read() else 1)' "$1" "$2"; }
# the marker was sent on 7101-7105 (encrypted) and 7107/7108 (plain, but never: nothing sent)
! in_pcap "$pcap" "$MARK" || tb_fail "the data's marker is on the wire in clear"
for id in "${IDS[@]}"; do
	! in_pcap_hex "$pcap" "$id" || tb_fail "session ID $id in clear on the wire"
done
# the plain connections carried no authentication message nor data from A
tb_assert_eq "0 0" "$(tt_wire "$pcap" 7107 | tt_py 'd["client_payload"]') $(tt_wire "$pcap" 7108 | tt_py 'd["client_payload"]')" \
	"plain fall-back: A sent not a byte"
wait
tb_pass "tcpcrypt-cat: PSK, Ed25519 (single, batch) and password authenticate one session ID at both ends; wrong secret, wrong key, scheme, non-speaker, plain fall-back and no agent fail closed with their own status"
