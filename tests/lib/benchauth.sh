# shellcheck shell=bash
# make bench's auth section (BENCH=auth, issue 10): connect + authenticated
# first byte per connection, and the batch signer's amortisation, in the
# bench's test bed; sourced by tests/bench.sh after the bed, its agents
# (fresh: --cache-size 0) and stunnel are up.  Client and server are
# build/authbench (tests/bench/authbench.c): per connection connect,
# tcpcrypt_auth_fd (or nothing), one byte each way.
# docs/machine-facts.md#session-id-authentication-in-the-test-bed
#
#   ba_setup        keys, one authbench server per row on B
#   ba_wire_check   stunnel's fresh and resumed services on the wire (capture
#                   in M, tests/lib/tlsresume.py); JSON into $TB_DIR/auth-wire.json
#   ba_run RUN      one run: the fresh rows, the batch signer at 1, 4, 16 and 64
#                   clients, then the agents with their session cache and the
#                   resumed rows; records into $RES
#
# Rows: TCP (port off), tcpcrypt without authentication, each scheme of
# BA_SCHEMES, fresh (agents with --cache-size 0) and resumed (agents with a
# cache, after one warm-up connection); stunnel4 TLS 1.3 fresh
# (sessionResume = no) and resumed (its default).  AUTH_CONNS sequential
# connections per row and run, at most AUTH_SECS s; the batch runs
# AUTH_BATCH_SECS s per client count.  AUTH_BATCH_WINDOWS="0 2000 ..." adds
# batch signers whose gather window is bounded by that many us instead of
# the library's (authbench --batch-window), measured the same way.

AUTH_CONNS=${AUTH_CONNS:-300}
AUTH_SECS=${AUTH_SECS:-2}
AUTH_BATCH_SECS=${AUTH_BATCH_SECS:-3}
AUTH_BATCH_WINDOWS=${AUTH_BATCH_WINDOWS:-}
BA_BIN=${BA_BIN:-$TB_ROOT/build/authbench}
BA_K=$TB_DIR/authkeys
# The schemes, one line each: row name, B's port, server AUTH, client AUTH
# (authbench's options, tcpcrypt-cat's names; $BA_K/psk, pw, pw.verifier, ed.key, ed.pub
# are made by ba_setup).  A new scheme is one line here (and its option in
# authbench's creds table).
BA_SCHEMES=(
	"psk|6122|--psk $BA_K/psk|--psk $BA_K/psk"
	"ed25519|6123|--sign $BA_K/ed.key|--verify $BA_K/ed.pub"
	"ed25519-batch|6124|--sign-batch $BA_K/ed.key|--verify $BA_K/ed.pub"
	"spake2|6125|--spake2-password-file $BA_K/pw|--spake2-password-file $BA_K/pw"
	"spake2plus|6126|--verifier $BA_K/pw.verifier|--password-file $BA_K/pw"
)
BA_TCP=6120 BA_TC=6121     # B's plain (port off) and tcpcrypt servers, no authentication
BA_TLS_FRESH=7020 BA_TLS_RES=7021 # A's stunnel fronts, to B's $BA_TCP
BA_BATCH=${BA_BATCH:-ed25519-batch} # the row whose server's batch stats are read
# the ports the agents leave plain (bench.sh's OFF_PORTS) and stunnel's services, for bench.sh
# shellcheck disable=SC2034
BA_OFF_PORTS="$BA_TCP $BA_TLS_FRESH $BA_TLS_RES $((BA_TLS_FRESH + BP_TLS_OFF)) $((BA_TLS_RES + BP_TLS_OFF))"
# shellcheck disable=SC2034
BA_STUNNEL="$BA_TLS_FRESH:$BA_TCP:fresh $BA_TLS_RES:$BA_TCP"
declare -A BA_PORT=() BA_SRV=() BA_CLI=() BA_PID=()

ba_setup() {
	local s name port sa ca
	[[ -x $BA_BIN ]] || tb_fail "$BA_BIN not built (make build/authbench)"
	mkdir -p "$BA_K"
	head -c 32 /dev/urandom >"$BA_K/psk"
	echo "bench password $RANDOM" >"$BA_K/pw"
	"$TB_ROOT/build/tcpcrypt-cat" make-verifier --password-file "$BA_K/pw" -o "$BA_K/pw.verifier" ||
		tb_fail "make-verifier"
	openssl genpkey -algorithm ed25519 -out "$BA_K/ed.key" 2>/dev/null
	openssl pkey -in "$BA_K/ed.key" -pubout -out "$BA_K/ed.pub"
	BA_PORT=([tcp]=$BA_TCP [tcpcrypt]=$BA_TC)
	for s in "${BA_SCHEMES[@]}"; do
		IFS='|' read -r name port sa ca <<<"$s"
		BA_PORT[$name]=$port BA_SRV[$name]=$sa BA_CLI[$name]=$ca
	done
	port=6130
	for s in $AUTH_BATCH_WINDOWS; do
		name=$BA_BATCH-w$s
		BA_PORT[$name]=$((port++)) BA_CLI[$name]=${BA_CLI[$BA_BATCH]}
		BA_SRV[$name]="${BA_SRV[$BA_BATCH]} --batch-window $s"
	done
	for name in "${!BA_PORT[@]}"; do
		# shellcheck disable=SC2086 # the AUTH options are a word list
		BA_PID[$name]=$(tb_bg B "$TB_DIR/authbench-$name.log" "$BA_BIN" server \
			"${BA_PORT[$name]}" ${BA_SRV[$name]:-})
	done
	for name in "${!BA_PORT[@]}"; do
		tb_wait_port B "${BA_PORT[$name]}"
	done
}

# stunnel is measured (bench.sh's peers)
# shellcheck disable=SC2154
ba_tls() { [[ " ${peers[*]} " == *" stunnel "* ]]; }

# One row's connections from A: authbench's JSON
ba_conns() { # ROW N CONC SECS
	local host=$TB_B4 port=${BA_PORT[$1]:-}
	case $1 in
	stunnel-fresh) host=127.0.0.1 port=$BA_TLS_FRESH ;;
	stunnel-resumed) host=127.0.0.1 port=$BA_TLS_RES ;;
	esac
	# shellcheck disable=SC2086
	tb_exec A "$BA_BIN" client "$host" "$port" "$2" "$3" --seconds "$4" \
		--port-file "$TB_DIR/authbench.lport" ${BA_CLI[$1]:-} \
		2>>"$TB_DIR/authbench-client.err" || true
}

# A's agent counters: negotiated rs_resumed
ba_ctr() {
	tb_ctl A -j stats | tt_py '"%d %d" % (d["negotiated"], d.get("rs_resumed", 0))'
}

ba_measure() { # RUN ROW PHASE
	local c0 c1 r
	c0=$(ba_ctr)
	r=$(ba_conns "$2" "$AUTH_CONNS" 1 "$AUTH_SECS")
	c1=$(ba_ctr)
	[[ -n $r ]] || r='{"ok": null}'
	r=${r#\{} r=${r%\}}
	rec "\"run\": $1, \"peer\": \"auth\", \"measure\": \"auth\", \"row\": \"$2\", \"phase\": \"$3\", $r, \"a_negotiated\": $((${c1% *} - ${c0% *})), \"a_resumed\": $((${c1#* } - ${c0#* }))"
}

# A batch signer's counts, from its server: "ok failed signatures proofs"
ba_stats() { # ROW
	local log=$TB_DIR/authbench-$1.log n
	n=$(grep -c '^stats ' "$log" || true)
	kill -USR1 "${BA_PID[$1]}"
	tb_wait 5 eval "[[ \$(grep -c '^stats ' '$log') -gt $n ]]" || tb_fail "no stats from the batch server"
	grep '^stats ' "$log" | tail -n 1 | sed 's/[a-z]*=//g; s/^stats //'
}

# The rows in an order rotated by RUN
ba_rotate() { # RUN ROW...
	local k=$1
	shift
	local -a rows=("$@")
	k=$(((k - 1) % ${#rows[@]}))
	echo "${rows[@]:k}" "${rows[@]:0:k}"
}

ba_run() { # RUN
	local run=$1 row c s r t0 w schemes=()
	local -a st0 st1 fresh_rows
	for s in "${BA_SCHEMES[@]}"; do schemes+=("${s%%|*}"); done
	fresh_rows=(tcp tcpcrypt "${schemes[@]}")
	! ba_tls || fresh_rows+=(stunnel-fresh stunnel-resumed)
	for row in $(ba_rotate "$run" "${fresh_rows[@]}"); do
		ba_measure "$run" "$row" fresh
	done
	# the batch signer with 1, 4, 16, 64 clients at once (fresh sessions)
	local -a signers=("$BA_BATCH")
	for w in $AUTH_BATCH_WINDOWS; do signers+=("$BA_BATCH-w$w"); done
	for row in $(ba_rotate "$run" "${signers[@]}"); do
		w=null
		[[ $row == "$BA_BATCH" ]] || w=${row##*-w}
		for c in 1 4 16 64; do
			read -ra st0 <<<"$(ba_stats "$row")"
			t0=$(date +%s.%N)
			r=$(ba_conns "$row" 1000000 "$c" "$AUTH_BATCH_SECS")
			read -ra st1 <<<"$(ba_stats "$row")"
			[[ -n $r ]] || r='{"ok": null}'
			r=${r#\{} r=${r%\}}
			rec "\"run\": $run, \"peer\": \"auth\", \"measure\": \"auth_batch\", \"clients\": $c, \"window_us\": $w, $r, \"srv_ok\": $((st1[0] - st0[0])), \"srv_failed\": $((st1[1] - st0[1])), \"signatures\": $((st1[2] - st0[2])), \"proofs\": $((st1[3] - st0[3])), \"srv_seconds\": $(python3 -c "import time; print(round(time.time() - $t0, 3))")"
		done
	done
	# resumed: the agents with their session cache, one warm-up connection
	agents_down
	agents_up --cache-size 1024
	ba_conns tcpcrypt 1 1 5 >/dev/null
	tb_wait 5 bench_resume__ready || tb_log "auth: no chain published after the warm-up"
	((run == 1)) && TB_CAPTURE_SNAPLEN=128 tb_capture_start auth-resumed a0 \
		'tcp[tcpflags] & tcp-syn != 0'
	for row in $(ba_rotate "$run" tcpcrypt "${schemes[@]}"); do
		ba_measure "$run" "$row" resumed
	done
	((run == 1)) && ba_wire_resumed "$(tb_capture_stop auth-resumed)"
	agents_down
	agents_up
}

# Run 1's resumed rows on the wire: the SYN-ACKs of B whose ENO TEP byte
# has v = 1 (a resumed session) per port, into $TB_DIR/auth-wire-resumed.json
ba_wire_resumed() { # PCAP
	python3 - "$1" "$TB_ROOT/tests/lib" "$TB_B4" <<'PY' >"$TB_DIR/auth-wire-resumed.json"
import json, os, sys
sys.path.insert(0, sys.argv[2])
import pcap
out = {}
for p in pcap.tcp_packets(sys.argv[1]):
    if p["src"] != sys.argv[3] or p["flags"] != "SA":
        continue
    d = out.setdefault(str(p["sport"]), {"synacks": 0, "resumed": 0})
    d["synacks"] += 1
    for o in p["options"]:
        if o["kind"] != 69:
            continue
        # suboptions after kind and length: 0x00-0x1f global; 0x80-0x9f a
        # length byte, then a TEP byte (bit 7: v) and data; else a TEP byte
        # whose bit 7 is v (docs/rfc-notes.md#eno-suboptions-and-length-bytes)
        b, i = bytes.fromhex(o["data"]), 0
        while i < len(b):
            c = b[i]
            if 0x80 <= c < 0xa0:
                if i + 1 < len(b) and b[i + 1] & 0x80:
                    d["resumed"] += 1
                    break
                i += 2 + (c & 0x1f) + 1
            elif c >= 0xa0:
                d["resumed"] += 1
                break
            else:
                i += 1
print(json.dumps(out))
PY
	tb_log "auth, resumed rows on the wire (B's SYN-ACKs per port): $(cat "$TB_DIR/auth-wire-resumed.json")"
}

# stunnel's two services on the wire: 20 connections each (the resumed one
# after a warm-up), a capture in M on B's TLS ports, the ClientHellos and
# ServerHellos read by tests/lib/tlsresume.py
ba_wire_check() {
	local pcap f=$((BA_TLS_FRESH + BP_TLS_OFF)) r=$((BA_TLS_RES + BP_TLS_OFF))
	if ! ba_tls; then
		echo '{}' >"$TB_DIR/auth-wire.json"
		return 0
	fi
	ba_conns stunnel-resumed 1 1 5 >/dev/null
	tb_capture_start auth-tls a0 tcp port "$f" or tcp port "$r"
	ba_conns stunnel-fresh 20 1 10 >/dev/null
	ba_conns stunnel-resumed 20 1 10 >/dev/null
	pcap=$(tb_capture_stop auth-tls)
	printf '{"stunnel-fresh": %s, "stunnel-resumed": %s}\n' \
		"$(python3 "$TB_ROOT/tests/lib/tlsresume.py" "$pcap" "$f")" \
		"$(python3 "$TB_ROOT/tests/lib/tlsresume.py" "$pcap" "$r")" >"$TB_DIR/auth-wire.json"
	tb_log "auth, stunnel on the wire: $(cat "$TB_DIR/auth-wire.json")"
}
