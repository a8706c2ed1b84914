#!/bin/bash
# Host B's key pair reuse (tcpcryptd --key-reuse MS, RFC 8548 3.3 and 8) and
# the key pool, seen on the wire.  From the capture in M: with B at
# --key-reuse 1000, three connections in a row carry the same Pub_B in their
# Init2 but fresh N_B, A's Pub_A differs every time (A never reuses), and the
# session IDs differ; with the default (no reuse) Pub_B differs too.  The
# transfers are byte-identical, and B counts the reuses.
set -euo pipefail
source "$(dirname "$0")/../lib/enotest.sh"
tt_bed
PCAP=$TB_ROOT/tests/lib/pcap.py
tb_mkdata "$TB_DIR/data" 1

# "PUB_A N_B PUB_B" (hex) of the connection to B's PORT in capture NAME (X25519)
init_keys() { # NAME PORT
	local f=$TB_DIR/$1.pcap sport
	sport=$(python3 "$PCAP" summary "$f" --port "$2" | awk -v a="$TB_A4" '$1 == a { print $2; exit }')
	python3 "$PCAP" stream "$f" --src "$TB_A4" --sport "$sport" >"$TB_DIR/$1-$2.a"
	python3 "$PCAP" stream "$f" --src "$TB_B4" --sport "$2" >"$TB_DIR/$1-$2.b"
	python3 - "$TB_DIR/$1-$2.a" "$TB_DIR/$1-$2.b" <<'PY'
import sys
a, b = (open(p, "rb").read() for p in sys.argv[1:3])
# Init1: magic 15101a0e | len(4) | nciphers(1) | ciphers(2 each) | N_A(32) | Pub_A(32)
# Init2: magic 097105e0 | len(4) | cipher(2) | N_B(32) | Pub_B(32)   (RFC 8548 4.1)
assert a[:4] == bytes.fromhex("15101a0e"), a[:4].hex()
assert b[:4] == bytes.fromhex("097105e0"), b[:4].hex()
na = 9 + 2 * a[8]
print(a[na + 32:na + 64].hex(), b[10:42].hex(), b[42:74].hex())
PY
}

# Three uploads to ports 9301-9303 within the reuse lifetime; prints their keys.
three() { # NAME
	tb_capture_start "$1" a0 tcp
	for p in 9301 9302 9303; do
		tt_sink B "$p" "$TB_DIR/$1-recv-$p"
		tt_send A "$TB_B4" "$p" "$TB_DIR/data"
		tt_wait_size "$TB_DIR/$1-recv-$p" $((1 << 20))
		tb_assert_same_file "$TB_DIR/data" "$TB_DIR/$1-recv-$p" "$1: transfer on $p"
	done
	tb_capture_stop "$1" >/dev/null
	for p in 9301 9302 9303; do
		init_keys "$1" "$p"
	done
}

tb_agent_start A --cache-size 0 # fresh exchanges: no resumption
tb_agent_start B --cache-size 0 --key-reuse 1000 --keylog "$TB_DIR/keylog-B"
mapfile -t k < <(three reuse)
[[ ${#k[@]} == 3 ]] || tb_fail "reuse: keys of ${#k[@]} connections found: ${k[*]}"
read -r pa0 nb0 pb0 <<<"${k[0]}"
read -r pa1 nb1 pb1 <<<"${k[1]}"
read -r pa2 nb2 pb2 <<<"${k[2]}"
tb_assert_eq "$pb0" "$pb1" "reuse: Pub_B of the 1st and 2nd connection"
tb_assert_eq "$pb0" "$pb2" "reuse: Pub_B of the 1st and 3rd connection"
[[ $nb0 != "$nb1" && $nb1 != "$nb2" && $nb0 != "$nb2" ]] || tb_fail "reuse: N_B repeated"
[[ $pa0 != "$pa1" && $pa1 != "$pa2" && $pa0 != "$pa2" ]] || tb_fail "reuse: A reused Pub_A"
ids=$(awk '{ print $1 }' "$TB_DIR/keylog-B" | sort -u | wc -l)
tb_assert_eq 3 "$ids" "reuse: distinct session IDs in B's key log"
tt_expect_stats B dp_key_reused=2
tb_agent_stop A
tb_agent_stop B

tb_agent_start A --cache-size 0 # fresh exchanges: no resumption
tb_agent_start B --cache-size 0
mapfile -t k < <(three fresh)
read -r _ _ pb0 <<<"${k[0]}"
read -r _ _ pb1 <<<"${k[1]}"
read -r _ _ pb2 <<<"${k[2]}"
[[ $pb0 != "$pb1" && $pb1 != "$pb2" && $pb0 != "$pb2" ]] ||
	tb_fail "default: B reused a key pair: $pb0 $pb1 $pb2"
tt_expect_stats B dp_key_reused=0
tb_pass "B's key pair reused within --key-reuse only (Pub_B equal, N_B and IDs fresh), never by default or by A"
