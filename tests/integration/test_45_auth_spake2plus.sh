#!/bin/bash
# SPAKE2+ (docs/auth.md#spake2plus) with tcpcrypt-cat between real agents:
# the server holds only a verifier, made by `tcpcrypt-cat make-verifier` in
# B (mode 0600, no overwrite without --force, a malformed one refused with
# its line), the client the password.  Success A->B over IPv4 and IPv6 (also
# with the verifier at the connecting end, and with the password at both):
# 1 MiB intact, the same session ID printed at both ends and listed by
# `tcpcryptctl sessions` on A and B, nothing of it in clear on the wire
# (capture in M), the tcpcrypt-auth messages neither.  Failures, nothing
# delivered to either output: wrong password (client 27 "wrong password",
# server 22 "the peer rejected ... wrong password"), two verifiers (server
# 29, client 22), SPAKE2 against SPAKE2+ (15 / 15).
set -euo pipefail
source "$(dirname "$0")/../lib/enotest.sh"
tb_require_agent
CAT=$TB_ROOT/build/tcpcrypt-cat
[[ -x $CAT ]] || tb_skip "build/tcpcrypt-cat not built; run: make"
tb_init
tb_create
tb_agent_start A
tb_agent_start B
K=$TB_DIR/keys
mkdir "$K"
echo 'correct horse battery staple' >"$K/pw"
echo 'correct horse battery stapler' >"$K/pw-other"

# --- make-verifier, in B (the server keeps the verifier, never the password)
tb_exec B "$CAT" make-verifier --password-file "$K/pw" -o "$K/v"
tb_assert_eq 600 "$(stat -c %a "$K/v")" "make-verifier: mode 0600"
tb_assert_eq "tcpcrypt-auth spake2+ verifier v1" "$(head -1 "$K/v")" "make-verifier: line 1"
! grep -q 'correct horse' "$K/v" || tb_fail "make-verifier: the password is in the verifier"
rc=0
tb_exec B "$CAT" make-verifier --password-file "$K/pw-other" -o "$K/v" 2>"$TB_DIR/mv.err" || rc=$?
tb_assert_eq 2 "$rc" "make-verifier: refuses to overwrite"
grep -q 'exists (--force' "$TB_DIR/mv.err" || tb_fail "make-verifier: message ($(cat "$TB_DIR/mv.err"))"
tb_exec B "$CAT" make-verifier --password-file "$K/pw" -o "$K/v" --force
# the same password, the same verifier (no random salt: docs/auth.md#verifier-file)
tb_assert_eq "$(tb_exec B "$CAT" make-verifier --password-file "$K/pw")" "$(cat "$K/v")" \
	"make-verifier: stdout, same verifier"
tb_exec A "$CAT" make-verifier --password-file "$K/pw-other" -o "$K/v-other"
rc=0
tb_exec B "$CAT" -l --verifier "$K/pw" 7300 2>"$TB_DIR/bad.err" || rc=$?
tb_assert_eq 2 "$rc" "a password file given as a verifier: exit status"
grep -q 'not a SPAKE2+ verifier file: line 1' "$TB_DIR/bad.err" || tb_fail "bad verifier: message ($(cat "$TB_DIR/bad.err"))"
sed 's/^kdf scrypt 32768/kdf scrypt 16384/' "$K/v" >"$K/v-kdf"
rc=0
tb_exec B "$CAT" -l --verifier "$K/v-kdf" 7300 2>"$TB_DIR/bad.err" || rc=$?
tb_assert_eq 2 "$rc" "other KDF parameters: exit status"
grep -q 'line 2' "$TB_DIR/bad.err" || tb_fail "other KDF parameters: message ($(cat "$TB_DIR/bad.err"))"

tb_mkdata "$TB_DIR/data" 1
MARK="tcpcrypt-spake2plus-cleartext-marker-$$"
printf '%s' "$MARK" | dd of="$TB_DIR/data" bs=1 seek=4096 conv=notrunc status=none

source "$TB_ROOT/tests/lib/authcat.sh"
tb_capture_start wire a0 tcp

ok_case() { # NAME PORT ADDR SRVARGS CLIARGS
	local name=$1 port=$2 addr=$3 sa ca ida idb
	read -ra sa <<<"$4"
	read -ra ca <<<"$5"
	srv B "$name-b" "$port" "${sa[@]}"
	tb_wait_port B "$port"
	cp "$TB_DIR/data" "$TB_DIR/$name-a.in"
	cli A "$name-a" 3 "$addr" "$port" "${ca[@]}"
	tb_wait 15 grep -qs 'authenticated session' "$TB_DIR/$name-a.err" ||
		tb_fail "$name: client did not authenticate: $(cat "$TB_DIR/$name-a.err")"
	tb_wait 15 grep -qs 'authenticated session' "$TB_DIR/$name-b.err" ||
		tb_fail "$name: server did not authenticate: $(cat "$TB_DIR/$name-b.err")"
	ida=$(sid_of "$name-a")
	idb=$(sid_of "$name-b")
	tb_assert_eq "[\"$ida\"]" "$(sess A "$port")" "$name: A's tcpcryptctl sessions"
	tb_assert_eq "[\"$ida\"]" "$(sess B "$port")" "$name: B's tcpcryptctl sessions"
	tb_assert_eq 0 "$(rc "$name-a")" "$name: client exit status"
	tb_assert_eq 0 "$(rc "$name-b")" "$name: server exit status"
	tb_assert_match '^[2a][1-4][0-9a-f]{64}$' "$ida" "$name: session ID printed by the client"
	tb_assert_eq "$ida" "$idb" "$name: the same ID printed at both ends"
	tb_assert_same_file "$TB_DIR/data" "$TB_DIR/$name-b.out" "$name: 1 MiB A -> B intact"
	tb_assert_eq "role A" "$(grep -oE 'role [AB]' "$TB_DIR/$name-a.err")" "$name: client is A"
	IDS+=("$ida")
	tb_log "$name: $ida"
}
IDS=()
ok_case verifier 7301 "$TB_B4" "--verifier $K/v" "--password-file $K/pw"
ok_case verifier6 7302 "$TB_B6" "--verifier $K/v" "--password-file $K/pw"
ok_case bothpw 7303 "$TB_B4" "--password-file $K/pw" "--password-file $K/pw"
ok_case clientverifier 7304 "$TB_B6" "--password-file $K/pw" "--verifier $K/v"
grep -q '(verifier, role A)' "$TB_DIR/clientverifier-a.err" || tb_fail "clientverifier: A's line"
tb_assert_eq 4 "$(printf '%s\n' "${IDS[@]}" | sort -u | wc -l)" "four connections, four session IDs"

fail_case() { # NAME PORT ADDR SRVARGS CLIARGS EXPECT_CLI EXPECT_SRV
	local name=$1 port=$2 addr=$3 sa ca
	read -ra sa <<<"$4"
	read -ra ca <<<"$5"
	srv B "$name-s" "$port" "${sa[@]}"
	tb_wait_port B "$port"
	cp "$TB_DIR/data" "$TB_DIR/$name-a.in"
	cli A "$name-a" 0 "$addr" "$port" "${ca[@]}"
	tb_assert_eq "$6" "$(rc "$name-a")" "$name: client exit status ($(cat "$TB_DIR/$name-a.err"))"
	tb_assert_eq "$7" "$(rc "$name-s")" "$name: server exit status ($(cat "$TB_DIR/$name-s.err"))"
	tb_assert_eq 0 "$(stat -c %s "$TB_DIR/$name-s.out")" "$name: nothing delivered to the server"
	tb_assert_eq 0 "$(stat -c %s "$TB_DIR/$name-a.out")" "$name: nothing delivered to the client"
	! grep -q 'tcpcrypt-cat: authenticated session' "$TB_DIR/$name-a.err" "$TB_DIR/$name-s.err" ||
		tb_fail "$name: claimed success"
	tb_log "$name: A: $(cat "$TB_DIR/$name-a.err") | server: $(cat "$TB_DIR/$name-s.err")"
}
fail_case wrongpw 7311 "$TB_B4" "--verifier $K/v" "--password-file $K/pw-other" 27 22
grep -q 'wrong password' "$TB_DIR/wrongpw-a.err" || tb_fail "wrong password: client message"
grep -q 'the peer rejected.*wrong password' "$TB_DIR/wrongpw-s.err" || tb_fail "wrong password: server message"
fail_case otherverifier 7312 "$TB_B6" "--verifier $K/v-other" "--password-file $K/pw" 27 22
fail_case twoverifiers 7313 "$TB_B4" "--verifier $K/v" "--verifier $K/v" 22 29
grep -q 'both ends hold a SPAKE2+ verifier' "$TB_DIR/twoverifiers-s.err" || tb_fail "two verifiers: server message"
fail_case spake2 7314 "$TB_B4" "--verifier $K/v" "--spake2-password-file $K/pw" 15 15

pcap=$(tb_capture_stop wire)
for p in 7301 7302 7303 7304 7311 7312 7313 7314; do
	tb_assert_match '^45' "$(tt_wire "$pcap" "$p" | tt_py 'str(d["synack"][0])')" "port $p: ENO in B's SYN-ACK"
done
# the capture is not empty: four MiB crossed a0, encrypted
tb_assert_match '^[0-9]+$' "$(stat -c %s "$pcap")" "capture size"
(($(stat -c %s "$pcap") > 4 * 1048576)) || tb_fail "the capture holds less than the 4 MiB sent"
in_pcap() { python3 -c 'import sys; sys.exit(0 if bytes.fromhex(sys.argv[2]) in open(sys.argv[1],"rb").read() else 1)' "$1" "$2"; }
! in_pcap "$pcap" "$(printf '%s' "$MARK" | xxd -p | tr -d '\n')" || tb_fail "the data's marker is on the wire in clear"
for id in "${IDS[@]}"; do
	! in_pcap "$pcap" "$id" || tb_fail "session ID $id in clear on the wire"
done
# the SHARE and PROOF headers ("TCA", version 1, type 3 or 1, scheme 5), and w0, only encrypted
! in_pcap "$pcap" 5443410103 || tb_fail "a SPAKE2+ SHARE header in clear on the wire"
! in_pcap "$pcap" 5443410101 || tb_fail "a tcpcrypt-auth PROOF header in clear on the wire"
! in_pcap "$pcap" "$(sed -n 's/^w0 //p' "$K/v")" || tb_fail "w0 on the wire"
wait
tb_pass "tcpcrypt-cat SPAKE2+: a verifier made by make-verifier authenticates the password's client (IPv4, IPv6, either end, or two passwords), one session ID; wrong password, another verifier, two verifiers, SPAKE2 against SPAKE2+ fail at both ends with nothing delivered"
