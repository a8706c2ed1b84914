#!/bin/bash
# A real man in the middle against session-ID authentication (docs/auth.md).
# Router M runs its own tcpcryptd (steering a0 and b0, in its own cgroup)
# and a socat relay on its address 198.18.1.1; A is pointed at M instead of
# B, as a poisoned DNS answer would.  A-M and M-B are each a valid tcpcrypt
# session (ENO in both SYN-ACKs; the unauthenticated session ID A prints is
# in A's and M's key logs, B's in B's and M's) with different session IDs.  With the relay, every scheme fails at both ends
# and delivers nothing (PSK and password (SPAKE2): 18 / 18 "session IDs differ";
# Ed25519, single and batch: client 18, server 22 "the peer rejected"; SPAKE2+,
# client password, server verifier: server 18, client 22 "the peer rejected:
# session IDs differ"); the same transfers straight to B, with
# M's agent still running, succeed byte for byte.  X.509 (docs/auth.md#x509-chains): B's chain
# for b.test, relayed by M, fails as the pinned key does (18 / 22); M
# answering itself, with a certificate of the same CA for its own name
# m.test or with a self-signed one for b.test, fails at A (36 / 35) and at
# M (22): M has no certificate for B's name.
set -euo pipefail
source "$(dirname "$0")/../lib/enotest.sh"
tb_require_agent
CAT=$TB_ROOT/build/tcpcrypt-cat
[[ -x $CAT ]] || tb_skip "build/tcpcrypt-cat not built; run: make"
tb_init
tb_create
tb_agent_start A --keylog "$TB_DIR/keylog-A"
tb_agent_start B --keylog "$TB_DIR/keylog-B"
# M's own agent: a cgroup and pin directory named like the hosts', which
# tb_cleanup removes with the bed
TB_CG_M=$TB_CGROUP_ROOT/$TB_PREFIX-M
TB_PIN_M=$TB_BPFFS/$TB_PREFIX-M
export TB_CG_M TB_PIN_M
mkdir "$TB_CG_M" "$TB_PIN_M"
# run CMD in M inside M's cgroup (tb_bg alone leaves M's processes outside)
m_bg() { # LOG CMD...
	local log=$1
	shift
	tb_bg M "$log" sh -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$TB_CG_M" "$@"
}
pid=$(m_bg "$TB_DIR/agent-M.log" "$TB_ROOT/build/tcpcryptd" --pin-dir "$TB_PIN_M" \
	--cgroup "$TB_CG_M" -i a0 -i b0 --keylog "$TB_DIR/keylog-M")
echo "$pid" >"$TB_DIR/agent-M.pid"
tb_wait 10 grep -q "tcpcryptd: running" "$TB_DIR/agent-M.log" ||
	tb_fail "M's agent not running: $(cat "$TB_DIR/agent-M.log")"

K=$TB_DIR/keys
mkdir "$K"
head -c 32 /dev/urandom >"$K/psk"
echo 'correct horse battery' >"$K/pw"
"$CAT" make-verifier --password-file "$K/pw" -o "$K/pw.verifier"
openssl genpkey -algorithm ed25519 -out "$K/server.key" 2>/dev/null
openssl pkey -in "$K/server.key" -pubout -out "$K/server.pub"
# X.509: a root, B's leaf for b.test, M's leaf for m.test under the same
# root, and M's self-signed b.test (the openssl command alone)
x509_leaf() { # NAME CN ISSUER (empty: self-signed)
	openssl genpkey -algorithm ed25519 -out "$K/$1.key" 2>/dev/null
	openssl req -new -key "$K/$1.key" -subj "/CN=$2" -out "$K/$1.csr"
	printf '%s\n' "basicConstraints=CA:FALSE" "keyUsage=critical,digitalSignature" \
		"extendedKeyUsage=serverAuth" "subjectAltName=DNS:$2" >"$K/$1.ext"
	if [[ -n $3 ]]; then
		openssl x509 -req -in "$K/$1.csr" -CA "$K/$3.pem" -CAkey "$K/$3.key" -set_serial "$RANDOM" \
			-days 2 -extfile "$K/$1.ext" -out "$K/$1.pem" 2>/dev/null
	else
		openssl x509 -req -in "$K/$1.csr" -key "$K/$1.key" -days 2 -extfile "$K/$1.ext" \
			-out "$K/$1.pem" 2>/dev/null
	fi
}
openssl genpkey -algorithm ed25519 -out "$K/root.key" 2>/dev/null
openssl req -x509 -new -key "$K/root.key" -subj "/CN=test_43 root" -days 2 -out "$K/root.pem" \
	-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign"
x509_leaf b b.test root
x509_leaf m m.test root
x509_leaf mself b.test ""
for c in b m; do
	openssl verify -CAfile "$K/root.pem" -purpose sslserver "$K/$c.pem" >/dev/null ||
		tb_fail "openssl verify: $c.pem"
done
tb_mkdata "$TB_DIR/data" 1
MARK="tcpcrypt-mitm-cleartext-marker-$$"
printf '%s' "$MARK" | dd of="$TB_DIR/data" bs=1 seek=4096 conv=notrunc status=none
M4=198.18.1.1

srv() { # HOST NAME PORT ARGS...: tcpcrypt-cat -l, stdin empty
	local h=$1 n=$TB_DIR/$2 port=$3
	shift 3
	tb_bg "$h" "$n.log" env N="$n" PORT="$port" \
		sh -c '"$0" "$@" -l "$PORT" >"$N.out" 2>"$N.err"; echo $? >"$N.rc"' "$CAT" "$@" >/dev/null
}
cli() { # HOST NAME HOLD ADDR PORT ARGS...: the data, HOLD s of open stdin
	local h=$1 n=$TB_DIR/$2 hold=$3 addr=$4 port=$5
	shift 5
	tb_exec "$h" env N="$n" HOLD="$hold" D="$TB_DIR/data" sh -c \
		'{ cat "$D"; sleep "$HOLD"; } | "$0" "$@" >"$N.out" 2>"$N.err"; echo $? >"$N.rc"' \
		"$CAT" "$@" "$addr" "$port" &
}
rc() { # NAME
	tb_wait 20 test -s "$TB_DIR/$1.rc" || tb_fail "$1: tcpcrypt-cat did not end"
	cat "$TB_DIR/$1.rc"
}
# the unauthenticated session ID tcpcrypt-cat NAME printed with its failure
sid_of() { grep -oE 'unauthenticated session [0-9a-f]{66}' "$TB_DIR/$1.err" | awk '{print $3}'; }
in_keylog() { grep -q "^$2 " "$TB_DIR/keylog-$1"; }

tb_capture_start wa a0 tcp
tb_capture_start wb b0 tcp

# --- without M in the path (M's agent running): both schemes succeed
direct() { # NAME PORT SRVARGS CLIARGS
	local sa ca
	read -ra sa <<<"$3"
	read -ra ca <<<"$4"
	srv B "$1-b" "$2" "${sa[@]}"
	tb_wait_port B "$2"
	cli A "$1-a" 0 "$TB_B4" "$2" "${ca[@]}"
	tb_assert_eq 0 "$(rc "$1-a")" "$1 without M: client ($(cat "$TB_DIR/$1-a.err"))"
	tb_assert_eq 0 "$(rc "$1-b")" "$1 without M: server ($(cat "$TB_DIR/$1-b.err"))"
	tb_assert_same_file "$TB_DIR/data" "$TB_DIR/$1-b.out" "$1 without M: data intact"
}
direct psk-direct 7201 "--psk $K/psk" "--psk $K/psk"
direct sig-direct 7202 "--sign $K/server.key" "--verify $K/server.pub"
direct batch-direct 7206 "--sign-batch $K/server.key" "--verify $K/server.pub"
direct pake-direct 7207 "--spake2-password-file $K/pw" "--spake2-password-file $K/pw"
direct x509-direct 7209 "--sign $K/b.key --cert $K/b.pem" "--ca $K/root.pem --name b.test"
direct spake2p-direct 7213 "--verifier $K/pw.verifier" "--password-file $K/pw"

# --- through M's relay: two tcpcrypt sessions, two IDs, every scheme fails at both ends
mitm() { # NAME PORT SRVARGS CLIARGS EXPECT_CLI EXPECT_SRV
	local sa ca ida idb
	read -ra sa <<<"$3"
	read -ra ca <<<"$4"
	srv B "$1-b" "$2" "${sa[@]}"
	tb_wait_port B "$2"
	m_bg "$TB_DIR/$1-relay.log" socat "TCP4-LISTEN:$2,bind=$M4,reuseaddr" "TCP4:$TB_B4:$2" >/dev/null
	tb_wait_port M "$2"
	cli A "$1-a" 3 "$M4" "$2" "${ca[@]}"
	tb_assert_eq "$5" "$(rc "$1-a")" "$1 through M: client ($(cat "$TB_DIR/$1-a.err"))"
	tb_assert_eq "$6" "$(rc "$1-b")" "$1 through M: server ($(cat "$TB_DIR/$1-b.err"))"
	ida=$(sid_of "$1-a")
	idb=$(sid_of "$1-b")
	tb_assert_match '^[2a][1-4][0-9a-f]{64}$' "$ida" "$1: A's session ID (A-M)"
	tb_assert_match '^[2a][1-4][0-9a-f]{64}$' "$idb" "$1: B's session ID (M-B)"
	tb_assert_ne "$ida" "$idb" "$1: A-M and M-B have different session IDs"
	in_keylog A "$ida" || tb_fail "$1: A's ID not in A's key log"
	in_keylog M "$ida" || tb_fail "$1: A's ID not in M's key log: M terminated A's session"
	in_keylog B "$idb" || tb_fail "$1: B's ID not in B's key log"
	in_keylog M "$idb" || tb_fail "$1: B's ID not in M's key log: M terminated B's session"
	! in_keylog B "$ida" || tb_fail "$1: A's session reached B"
	tb_assert_eq 0 "$(stat -c %s "$TB_DIR/$1-b.out")" "$1 through M: nothing delivered to B"
	tb_assert_eq 0 "$(stat -c %s "$TB_DIR/$1-a.out")" "$1 through M: nothing delivered to A"
	grep -q 'session IDs differ' "$TB_DIR/$1-a.err" || tb_fail "$1: A's message"
	tb_log "$1: A-M $ida, M-B $idb; A: $(cat "$TB_DIR/$1-a.err") | B: $(cat "$TB_DIR/$1-b.err")"
}
mitm psk-mitm 7203 "--psk $K/psk" "--psk $K/psk" 18 18
mitm sig-mitm 7204 "--sign $K/server.key" "--verify $K/server.pub" 18 22
grep -q 'the peer rejected.*session IDs differ' "$TB_DIR/sig-mitm-b.err" || tb_fail "sig: B's message"
mitm batch-mitm 7205 "--sign-batch $K/server.key" "--verify $K/server.pub" 18 22
mitm pake-mitm 7208 "--spake2-password-file $K/pw" "--spake2-password-file $K/pw" 18 18
mitm x509-mitm 7210 "--sign $K/b.key --cert $K/b.pem" "--ca $K/root.pem --name b.test" 18 22
grep -q 'the peer rejected.*session IDs differ' "$TB_DIR/x509-mitm-b.err" || tb_fail "x509: B's message"

# --- M answers itself (tcpcrypt-cat in M's cgroup): it has no certificate for b.test
impostor() { # NAME PORT CERT EXPECT_CLI MESSAGE
	local n=$TB_DIR/$1-m
	m_bg "$n.log" env N="$n" sh -c '"$0" "$@" >"$N.out" 2>"$N.err"; echo $? >"$N.rc"' \
		"$CAT" -l --sign "$K/$3.key" --cert "$K/$3.pem" "$2" >/dev/null
	tb_wait_port M "$2"
	cli A "$1-a" 0 "$M4" "$2" --ca "$K/root.pem" --name b.test
	tb_assert_eq "$4" "$(rc "$1-a")" "$1: client ($(cat "$TB_DIR/$1-a.err"))"
	tb_assert_eq 22 "$(rc "$1-m")" "$1: M's server ($(cat "$n.err"))"
	tb_assert_eq 0 "$(stat -c %s "$n.out")" "$1: nothing delivered to M"
	tb_assert_eq 0 "$(stat -c %s "$TB_DIR/$1-a.out")" "$1: nothing delivered to A"
	grep -q "$5" "$TB_DIR/$1-a.err" || tb_fail "$1: A's message: $(cat "$TB_DIR/$1-a.err")"
	grep -q 'unauthenticated session' "$TB_DIR/$1-a.err" ||
		tb_fail "$1: A had no tcpcrypt session with M"
	tb_log "$1: A: $(cat "$TB_DIR/$1-a.err") | M: $(cat "$n.err")"
}
impostor x509-own-name 7211 m 36 'not for host name b.test'
impostor x509-self-signed 7212 mself 35 'certificate chain does not verify'
mitm spake2p-mitm 7214 "--verifier $K/pw.verifier" "--password-file $K/pw" 22 18
grep -q 'session IDs differ' "$TB_DIR/spake2p-mitm-b.err" || tb_fail "spake2+: B's message"

pa=$(tb_capture_stop wa)
pb=$(tb_capture_stop wb)
wait # the clients' stdin holds
for p in 7203 7204 7205 7208 7210; do
	tb_assert_match '^45' "$(tt_wire "$pa" "$p" | tt_py 'str(d["synack"][0])')" "port $p: A-M negotiated ENO (M's SYN-ACK)"
	tb_assert_match '^45' "$(tt_wire "$pb" "$p" | tt_py 'str(d["synack"][0])')" "port $p: M-B negotiated ENO (B's SYN-ACK)"
	tb_assert_eq "$M4:$p" "$(tt_wire "$pa" "$p" | tt_py 'd["server"]')" "port $p: A talked to M's address"
done
for p in 7211 7212; do
	tb_assert_match '^45' "$(tt_wire "$pa" "$p" | tt_py 'str(d["synack"][0])')" "port $p: A-M negotiated ENO (M's SYN-ACK)"
done
for f in "$pa" "$pb"; do
	! python3 -c 'import sys; sys.exit(0 if sys.argv[2].encode() in open(sys.argv[1],"rb").read() else 1)' "$f" "$MARK" ||
		tb_fail "the data's marker is on the wire in clear ($f)"
done
tb_pass "man in the middle with its own tcpcryptd: two session IDs; PSK, Ed25519 (single, batch), password (SPAKE2), password/verifier (SPAKE2+) and X.509 fail at both ends, nothing delivered; without it all succeed; M with its own certificate (another name, self-signed) fails"
