#!/bin/bash
# 100 concurrent connections through the data path, each moving data both
# ways (client sends a file, the server echoes it back); every connection's
# echo is byte-identical, and every one was encrypted (one tcpcrypt session
# per connection, all with distinct session IDs).
set -euo pipefail
source "$(dirname "$0")/../lib/enotest.sh"
tt_bed
N=${TT_CONCURRENT:-100}
tb_agent_start A --keylog "$TB_DIR/keylog"
tb_agent_start B
tb_bg B "$TB_DIR/echo.log" socat TCP-LISTEN:5001,reuseaddr,fork,backlog=256 EXEC:cat >/dev/null
tb_wait_port B 5001
head -c $((256 << 10)) /dev/urandom >"$TB_DIR/data"
tb_exec A bash -c '
	for i in $(seq '"$N"'); do
		timeout 60 socat -t 10 -T 30 - TCP:'"$TB_B4"':5001 <"'"$TB_DIR"'/data" >"'"$TB_DIR"'/echo.$i" &
	done
	wait'
bad=0
for i in $(seq "$N"); do
	cmp -s "$TB_DIR/data" "$TB_DIR/echo.$i" || bad=$((bad + 1))
done
tb_assert_eq 0 "$bad" "connections whose echo differs (of $N)"
ids=$(awk '{print $1}' "$TB_DIR/keylog" | sort -u | wc -l)
tb_assert_eq "$N" "$ids" "distinct session IDs in the key log"
tb_wait 10 eval "[[ \$(tb_ctl A -j sessions | tt_py 'len(d)') == 0 ]]" ||
	tb_fail "A still lists $(tb_ctl A -j sessions | tt_py 'len(d)') sessions after all closed"
tb_pass "$N concurrent connections, both ways, all encrypted and correct"
