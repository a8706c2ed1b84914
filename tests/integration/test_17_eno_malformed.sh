#!/bin/bash
# Malformed ENO options: B (with agent) receives hand-built SYNs whose ENO
# options must make it fall back (RFC 8547 §4.1, §4.3, §4.4, §4.5): each is
# counted under its own counter and B's SYN-ACK carries no ENO.  A valid SYN
# sent the same way gets ENO back, which shows the crafted path itself works.
set -euo pipefail
source "$(dirname "$0")/../lib/enotest.sh"
tt_bed B
tb_bg B "$TB_DIR/srv.log" socat -u TCP-LISTEN:5001,reuseaddr,fork OPEN:/dev/null >/dev/null
tb_wait_port B 5001
tb_capture_start wire a0 tcp
opts=(
	45048023     # length byte followed by a byte < 0xa0: malformed (§4.4)
	45049fa3     # length byte claims 32 data bytes past the end: malformed (§4.4)
	4503234503230101 # two ENO options in one SYN (§4.1)
	45040123     # b = 1 from the active opener: same b as B (§4.3)
	45033001     # only an unknown TEP: no valid TEP (§4.5)
	450621222423 # valid: four tcpcrypt TEPs
)
tb_exec A python3 "$TB_ROOT/tests/lib/craftsyn.py" "$TB_A4" "$TB_B4" 5001 "${opts[@]}"
sleep 0.5
pcap=$(tb_capture_stop wire)
answers=$(python3 "$TB_ROOT/tests/lib/pcap.py" packets "$pcap" --port 5001 | python3 -c '
import json, sys
by_port = {}
for line in sys.stdin:
    p = json.loads(line)
    if p["flags"] == "SA" and p["dport"] not in by_port:
        eno = [o["data"] for o in p["options"] if o["kind"] == 69]
        by_port[p["dport"]] = eno[0] if eno else None
print(json.dumps([by_port.get(40000 + i, "missing") for i in range(6)]))')
tb_assert_eq '[null, null, null, null, null, "0123"]' "$answers" \
	"B's SYN-ACK options for the six SYNs"
tt_expect_stats B malformed=3 role_conflict=1 no_common_tep=1 negotiated=0
tb_pass "malformed and incompatible ENO options fall back, each counted"
