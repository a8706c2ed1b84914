#!/bin/bash
# X.509 chains for the signed server identity (docs/auth.md#x509-chains)
# with tcpcrypt-cat between real agents.  A test PKI made here with the
# openssl command: an Ed25519 root, a P-256 intermediate, B's Ed25519 key
# certified for DNS:b.test and B's IPv4 and IPv6 addresses (directly under
# the root, and under the intermediate), and a second root.  Success A->B,
# 1 MiB intact, one session ID printed at both ends and listed by
# tcpcryptctl on both, the CERT's leaf and the data's marker not in clear
# on the wire (capture in M): single signature by IPv4 address, batch
# signature with the intermediate by IPv6 address, --name b.test, and a
# client pinning the key (--verify) beside a chain.  Failures, nothing
# delivered either way: a client with another CA (35 / 22), a wrong name
# (36 / 22), a server signing without a chain (35 / 22), a leaf that does
# not certify the server's key (the server refuses to start: 2).
set -euo pipefail
source "$(dirname "$0")/../lib/enotest.sh"
tb_require_agent
CAT=$TB_ROOT/build/tcpcrypt-cat
[[ -x $CAT ]] || tb_skip "build/tcpcrypt-cat not built; run: make"
command -v openssl >/dev/null || tb_skip "no openssl command"
tb_init
tb_create
# fresh exchanges only: the payload comparison below assumes an Init2 from B on
# every connection (a resumed one has none, 7306 resumed and 7307 not was 369 < 378)
tb_agent_start A --cache-size 0
tb_agent_start B --cache-size 0

# --- the PKI, with the openssl command alone
K=$TB_DIR/pki
mkdir "$K"
ossl() { openssl "$@" 2>>"$K/openssl.log" >/dev/null || tb_fail "openssl $1 failed: $(tail -3 "$K/openssl.log")"; }
ext() { printf '%s\n' "$@" >"$K/ext"; }
ossl genpkey -algorithm ed25519 -out "$K/root.key"
ossl req -x509 -new -key "$K/root.key" -subj "/CN=test_46 root" -days 2 -out "$K/root.pem" \
	-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign"
ossl genpkey -algorithm ed25519 -out "$K/other-root.key"
ossl req -x509 -new -key "$K/other-root.key" -subj "/CN=test_46 other root" -days 2 \
	-out "$K/other-root.pem" -addext "basicConstraints=critical,CA:TRUE" \
	-addext "keyUsage=critical,keyCertSign"
ossl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$K/inter.key"
ossl req -new -key "$K/inter.key" -subj "/CN=test_46 intermediate" -out "$K/inter.csr"
ext "basicConstraints=critical,CA:TRUE" "keyUsage=critical,keyCertSign"
ossl x509 -req -in "$K/inter.csr" -CA "$K/root.pem" -CAkey "$K/root.key" -set_serial 2 -days 2 \
	-extfile "$K/ext" -out "$K/inter.pem"
ossl genpkey -algorithm ed25519 -out "$K/server.key"
ossl pkey -in "$K/server.key" -pubout -out "$K/server.pub"
ossl req -new -key "$K/server.key" -subj "/CN=b.test" -out "$K/server.csr"
ext "basicConstraints=CA:FALSE" "keyUsage=critical,digitalSignature" "extendedKeyUsage=serverAuth" \
	"subjectAltName=DNS:b.test,IP:$TB_B4,IP:$TB_B6"
ossl x509 -req -in "$K/server.csr" -CA "$K/root.pem" -CAkey "$K/root.key" -set_serial 3 -days 2 \
	-extfile "$K/ext" -out "$K/server.pem"
ossl x509 -req -in "$K/server.csr" -CA "$K/inter.pem" -CAkey "$K/inter.key" -set_serial 4 -days 2 \
	-extfile "$K/ext" -out "$K/server-i.pem"
cat "$K/server-i.pem" "$K/inter.pem" >"$K/server-chain.pem"
ossl genpkey -algorithm ed25519 -out "$K/other.key"
# the openssl command agrees with the chains
openssl verify -CAfile "$K/root.pem" -purpose sslserver "$K/server.pem" >/dev/null ||
	tb_fail "openssl verify: server.pem"
openssl verify -CAfile "$K/root.pem" -untrusted "$K/inter.pem" -purpose sslserver \
	"$K/server-i.pem" >/dev/null || tb_fail "openssl verify: server-i.pem"
LEAF_HEX=$(openssl x509 -in "$K/server.pem" -outform DER | od -An -v -tx1 | tr -d ' \n')

tb_mkdata "$TB_DIR/data" 1
MARK="tcpcrypt-x509-cleartext-marker-$$"
printf '%s' "$MARK" | dd of="$TB_DIR/data" bs=1 seek=4096 conv=notrunc status=none

source "$TB_ROOT/tests/lib/authcat.sh"
# (its own cli: tcpcrypt-cat ARGS ADDR PORT in HOST with the data on stdin, then HOLD s more)
cli() { # HOST NAME HOLD ADDR PORT ARGS...
	local h=$1 n=$TB_DIR/$2 hold=$3 addr=$4 port=$5
	shift 5
	tb_exec "$h" env N="$n" HOLD="$hold" D="$TB_DIR/data" sh -c \
		'{ cat "$D"; sleep "$HOLD"; } | "$0" "$@" >"$N.out" 2>"$N.err"; echo $? >"$N.rc"' \
		"$CAT" "$@" "$addr" "$port" &
}
tb_capture_start wire a0 tcp

IDS=()
ok_case() { # NAME PORT ADDR SRVARGS CLIARGS
	local name=$1 port=$2 addr=$3 sa ca ida idb
	read -ra sa <<<"$4"
	read -ra ca <<<"$5"
	srv B "$name-b" "$port" "${sa[@]}"
	tb_wait_port B "$port"
	cli A "$name-a" 3 "$addr" "$port" "${ca[@]}"
	tb_wait 10 grep -qs 'authenticated session' "$TB_DIR/$name-a.err" ||
		tb_fail "$name: client did not authenticate: $(cat "$TB_DIR/$name-a.err")"
	tb_wait 10 grep -qs 'authenticated session' "$TB_DIR/$name-b.err" ||
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
	IDS+=("$ida")
	tb_log "$name: $ida"
}
ok_case sig 7301 "$TB_B4" "--sign $K/server.key --cert $K/server.pem" "--ca $K/root.pem"
ok_case batch 7302 "$TB_B6" "--sign-batch $K/server.key --cert $K/server-chain.pem" "--ca $K/root.pem"
ok_case dns 7303 "$TB_B4" "--sign $K/server.key --cert $K/server-chain.pem" \
	"--ca $K/root.pem --name B.TEST"
ok_case pinned 7304 "$TB_B4" "--sign $K/server.key --cert $K/server.pem" "--verify $K/server.pub"
tb_assert_eq 4 "$(printf '%s\n' "${IDS[@]}" | sort -u | wc -l)" "four connections, four session IDs"

fail_case() { # NAME PORT SRVARGS CLIARGS EXPECT_CLI EXPECT_SRV CLI_MESSAGE
	local name=$1 port=$2 sa ca
	read -ra sa <<<"$3"
	read -ra ca <<<"$4"
	srv B "$name-s" "$port" "${sa[@]}"
	tb_wait_port B "$port"
	cli A "$name-a" 0 "$TB_B4" "$port" "${ca[@]}"
	tb_assert_eq "$5" "$(rc "$name-a")" "$name: client exit status ($(cat "$TB_DIR/$name-a.err"))"
	tb_assert_eq "$6" "$(rc "$name-s")" "$name: server exit status ($(cat "$TB_DIR/$name-s.err"))"
	tb_assert_eq 0 "$(stat -c %s "$TB_DIR/$name-s.out")" "$name: nothing delivered to the server"
	tb_assert_eq 0 "$(stat -c %s "$TB_DIR/$name-a.out")" "$name: nothing delivered to the client"
	grep -q "$7" "$TB_DIR/$name-a.err" || tb_fail "$name: client message: $(cat "$TB_DIR/$name-a.err")"
	grep -q 'the peer rejected' "$TB_DIR/$name-s.err" || tb_fail "$name: server message"
	tb_log "$name: A: $(cat "$TB_DIR/$name-a.err") | B: $(cat "$TB_DIR/$name-s.err")"
}
fail_case otherca 7305 "--sign $K/server.key --cert $K/server.pem" "--ca $K/other-root.pem" 35 22 \
	'certificate chain does not verify (certificate 0 of the chain: unable to get local issuer certificate'
grep -q 'the peer: the peer.s certificate chain does not verify' "$TB_DIR/otherca-s.err" ||
	tb_fail "another CA: the server's message"
fail_case wrongname 7306 "--sign $K/server.key --cert $K/server.pem" \
	"--ca $K/root.pem --name c.test" 36 22 'not for host name c.test'
fail_case nochain 7307 "--sign $K/server.key" "--ca $K/root.pem" 35 22 'no certificate chain'
# a leaf that is not the key's: the server refuses at start
tb_exec B "$CAT" -l --sign "$K/other.key" --cert "$K/server.pem" 7308 2>"$TB_DIR/mismatch.err" &&
	tb_fail "a chain for another key accepted" || tb_assert_eq 2 "$?" "leaf key != signing key: exit status"
grep -q 'unusable credential' "$TB_DIR/mismatch.err" || tb_fail "mismatch: message"

pcap=$(tb_capture_stop wire)
for p in 7301 7302 7303 7304 7305 7306 7307; do
	tb_assert_match '^45' "$(tt_wire "$pcap" "$p" | tt_py 'str(d["synack"][0])')" "port $p: ENO in B's SYN-ACK"
done
in_pcap() { python3 -c 'import sys; sys.exit(0 if sys.argv[2].encode() in open(sys.argv[1],"rb").read() else 1)' "$1" "$2"; }
in_pcap_hex() { python3 -c 'import sys; sys.exit(0 if bytes.fromhex(sys.argv[2]) in open(sys.argv[1],"rb").read() else 1)' "$1" "$2"; }
! in_pcap "$pcap" "$MARK" || tb_fail "the data's marker is on the wire in clear"
! in_pcap_hex "$pcap" "${LEAF_HEX:0:256}" || tb_fail "the server's certificate is on the wire in clear"
for id in "${IDS[@]}"; do
	! in_pcap_hex "$pcap" "$id" || tb_fail "session ID $id in clear on the wire"
done
# the chain did cross, encrypted: B sent at least a certificate's bytes more on 7306
# (CERT, PROOF) than on 7307 (PROOF alone); A the same (its RESULT) on both
s6=$(tt_wire "$pcap" 7306 | tt_py 'd["server_payload"]')
s7=$(tt_wire "$pcap" 7307 | tt_py 'd["server_payload"]')
((s6 - s7 >= ${#LEAF_HEX} / 2)) ||
	tb_fail "B's payload with a chain $s6, without $s7: no certificate's worth ($((${#LEAF_HEX} / 2)) bytes)"
tb_log "B's payload: $s6 bytes with the chain, $s7 without (leaf: $((${#LEAF_HEX} / 2)) bytes of DER)"
wait
tb_pass "tcpcrypt-cat with X.509 chains: single and batch signatures through a root and an intermediate, by address and by name, pinned key beside a chain; another CA, another name, no chain, and a leaf for another key fail closed with their own status"
