#!/bin/bash
# The per-socket controls of the application API (tcpcrypt(7)) change what
# goes on the wire, read from captures in M: TCP_CRYPT_AEAD puts A's choice
# first in its Init1 cipher list (B still picks, RFC 8548 §3.3), and a
# listener's makes B choose it; a listener's TCP_ENO_ENABLED = 0 answers
# without ENO (plain, EOPNOTSUPP), = 1 encrypts on a port set to off, as a
# client's = 1 does; TCP_ENO_SELF_GOPT's a bit is in A's SYN and B reads it
# with TCP_ENO_PEER_GOPT; TCP_ENO_AA_MANDATORY falls back against a peer
# with a = 0; TCP_CRYPT_CACHE (no cache) and TCP_CRYPT_CACHE_FLUSH reach
# the connection's flow entry for the agent.  A listener's settings are
# forgotten when it closes.
set -euo pipefail
source "$(dirname "$0")/../lib/enotest.sh"
# fresh key exchanges throughout (Init1 on the wire): resumption off, see test_41
tt_bed A B -- --cache-size 0
PY="python3 $TB_ROOT/tests/lib/sessid.py"
j() { tt_py "$1" <<<"$2"; }
# the cipher ids of the first Init1 (RFC 8548 §4.1) in capture PCAP, in hex
init1_ciphers() {
	python3 - "$1" <<'PYEOF'
import struct, sys
b = open(sys.argv[1], "rb").read()
i = b.find(bytes.fromhex("15101a0e"))
if i < 0:
    print("none")
else:
    n = b[i + 8]
    print(" ".join("%04x" % struct.unpack_from(">H", b, i + 9 + 2 * k)[0] for k in range(n)))
PYEOF
}
# the first SYN's (or SYN-ACK's, FIELD synack) ENO option of each connection to PORT
wire() { # PCAP PORT FIELD
	tt_wire "$1" | python3 -c 'import json,sys; print(" ".join(str(c[sys.argv[2]][0])
		for c in map(json.loads, sys.stdin) if c["server"].endswith(":" + sys.argv[1])))' "$2" "$3"
}
# one connection: a server on B with SERVER_OPTS, a client on A with CLIENT_OPTS; sets $cli $srv
one() { # PORT "SERVER_OPTS" "CLIENT_OPTS"
	# shellcheck disable=SC2086 # option lists
	tb_bg B "$TB_DIR/srv-$1.log" $PY server "$1" 1 $2 >/dev/null
	tb_wait_port B "$1"
	# shellcheck disable=SC2086
	cli=$(tb_exec A $PY client "$TB_B4" "$1" $3)
	tb_wait 5 grep -q sessid "$TB_DIR/srv-$1.log"
	srv=$(cat "$TB_DIR/srv-$1.log")
}

# --- AEAD: A's preference first in Init1 and chosen; a listener's preference chosen by B
tb_capture_start aead a0 tcp port 7010
one 7010 "" "--aead 16"
pcap=$(tb_capture_stop aead)
tb_assert_eq "0010 0001 0002" "$(init1_ciphers "$pcap")" "Init1 on the wire: ChaCha20-Poly1305 first"
# RFC 8548 §3.3: B picks from A's list; this B has no preference of its own, so its order
tb_assert_eq "1 1" "$(j 'd["aead"]' "$cli") $(j 'd["aead"]' "$srv")" "B chose by its own order"
tb_capture_start aead2 a0 tcp port 7011
one 7011 "--aead 2" ""
pcap=$(tb_capture_stop aead2)
tb_assert_eq "0001 0002 0010" "$(init1_ciphers "$pcap")" "Init1 on the wire: the default order"
tb_assert_eq "2 2" "$(j 'd["aead"]' "$cli") $(j 'd["aead"]' "$srv")" "B chose its listener's AES-256-GCM"

# --- ENABLED on listeners and on a client, against port policy
tb_capture_start en a0 tcp portrange 7012-7014
one 7012 "--enabled 0" ""
tb_assert_eq "EOPNOTSUPP EOPNOTSUPP" "$(j 'd["sessid"]' "$cli") $(j 'd["sessid"]' "$srv")" \
	"listener with ENO off: plain at both ends"
tb_ctl B port 7013 off >/dev/null
one 7013 "--enabled 1" ""
tb_assert_match '^23[0-9a-f]{64}$' "$(j 'd["sessid"]' "$cli")" "listener with ENO on, port off: encrypted"
tb_assert_eq "$(j 'd["sessid"]' "$cli")" "$(j 'd["sessid"]' "$srv")" "... same ID at both ends"
tb_ctl A port 7014 off >/dev/null
one 7014 "" "--enabled 1"
tb_assert_match '^23[0-9a-f]{64}$' "$(j 'd["sessid"]' "$cli")" "client with ENO on, port off: encrypted"
pcap=$(tb_capture_stop en)
tb_assert_eq None "$(wire "$pcap" 7012 synack)" "listener off: SYN-ACK without ENO"
tb_assert_match '^45' "$(wire "$pcap" 7013 synack)" "listener on, port off: SYN-ACK with ENO"
tb_assert_match '^45' "$(wire "$pcap" 7014 syn)" "client on, port off: SYN with ENO"

# --- SELF_GOPT a bit, PEER_GOPT; AA_MANDATORY against a = 0
tb_capture_start gopt a0 tcp portrange 7015-7016
one 7015 "" "--gopt 2"
tb_assert_eq "2 2" "$(j 'd["self_gopt"]' "$cli") $(j 'd["peer_gopt"]' "$srv")" "A sent a = 1, B read it"
tb_assert_eq 1 "$(j 'd["peer_gopt"]' "$cli")" "A reads B's b bit (no a)"
one 7016 "" "--aa 1"
tb_assert_eq EOPNOTSUPP "$(j 'd["sessid"]' "$cli")" "AA_MANDATORY, peer a = 0: fell back"
pcap=$(tb_capture_stop gopt)
tb_assert_eq 4507022122242 "$(wire "$pcap" 7015 syn | cut -c1-13)" "global suboption 0x02 in A's SYN"
tt_expect_stats A app_aware_fail=1

# --- cache controls reach the flow entry, for the agent
tb_bg B "$TB_DIR/srv-7017.log" $PY server 7017 1 >/dev/null
tb_wait_port B 7017
tb_exec A $PY client "$TB_B4" 7017 --cache 2 --flush --hold 2 >/dev/null &
cli_pid=$!
tb_wait 5 grep -q sessid "$TB_DIR/srv-7017.log"
sleep 0.3
fl=$(tb_ctl A -j flows | tt_py '[f for f in d if f["remote"].endswith(":7017")][0]')
wait "$cli_pid"
tb_assert_eq "true true" "$(j 'str(d["no_cache"]).lower() + " " + str(d["flush"]).lower()' "$fl")" \
	"TCP_CRYPT_NO_CACHE before connect, CACHE_FLUSH after: both in the flow entry"

# --- a listener's settings are removed when it closes (every server above has exited)
tb_wait 5 eval "[[ \$(bpftool -j map dump pinned '$TB_PIN_B/listen_opts' | tt_py 'len(d)') == 0 ]]" ||
	tb_fail "listen_opts keeps entries of closed listeners: $(bpftool map dump pinned "$TB_PIN_B/listen_opts")"
tb_pass "AEAD preference in Init1, ENABLED on listeners and clients, gopt/a bit, AA_MANDATORY, cache flags"
