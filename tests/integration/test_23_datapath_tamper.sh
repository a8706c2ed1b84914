#!/bin/bash
# Authentication failure aborts: one ciphertext byte altered in flight (a
# tamper hook in M).  The receiving application gets an error, never the
# altered data and not a clean end of file: its connection is reset (RFC
# 8548 §4.2: authentication failure aborts).  Everything it did receive is
# an exact prefix of what was sent.
set -euo pipefail
source "$(dirname "$0")/../lib/enotest.sh"
tt_bed A B
tb_mkdata "$TB_DIR/data" 4
# A small python receiver that says how its read loop ended.
cat >"$TB_DIR/recv.py" <<'PY'
import socket, sys
s = socket.create_server(("0.0.0.0", 5001))
c, _ = s.accept()
with open(sys.argv[1], "wb") as f:
    try:
        while True:
            b = c.recv(65536)
            if not b:
                print("EOF"); break
            f.write(b)
    except OSError as e:
        print("ERROR", e.__class__.__name__, e.errno)
PY
tb_tamper b0 200000 5001
tb_bg B "$TB_DIR/recv.out" python3 "$TB_DIR/recv.py" "$TB_DIR/recv" >/dev/null
tb_wait_port B 5001
tb_exec A timeout 20 socat -u - "TCP:$TB_B4:5001" <"$TB_DIR/data" 2>"$TB_DIR/send.err" || true
tb_wait 10 eval "[[ -s '$TB_DIR/recv.out' ]]" || tb_fail "receiver did not finish"
tb_tamper_clear b0
grep -q "tampered" "$TB_DIR/nfq-tamper-b0.log" || tb_fail "M altered nothing: $(cat "$TB_DIR"/nfq-tamper-b0.log)"
tb_assert_match "^ERROR ConnectionResetError" "$(cat "$TB_DIR/recv.out")" \
	"receiver's read ended with a reset, not EOF"
got=$(stat -c %s "$TB_DIR/recv")
[[ $got -lt $((4 << 20)) ]] || tb_fail "receiver got all $got bytes despite the altered frame"
cmp -s <(head -c "$got" "$TB_DIR/data") "$TB_DIR/recv" ||
	tb_fail "receiver got altered data ($got bytes, not a prefix of what was sent)"
tb_wait 2 eval "[[ \$(tt_stat B dp_auth_failures) == 1 ]]" ||
	tb_fail "B's dp_auth_failures is $(tt_stat B dp_auth_failures), expected 1"
tb_pass "altered ciphertext: reset, no altered data delivered ($got good bytes first)"
