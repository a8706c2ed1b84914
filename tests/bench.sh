#!/bin/bash
# make bench: tcpcrypt beside plain TCP and the peers a user would pick
# instead (stunnel4, TLS 1.3 at both ends; wireguard-go, a host-to-host
# tunnel), in one test bed, one run, side by side; medians of RUNS runs, the
# order of the peers rotating from run to run so that the machine's drift
# does not fall on one side.  Not a test: it prints a table, the targets of
# issue 16 as a checklist, and writes build/bench.json (BENCH_JSON) with
# every run's raw values.  docs/machine-facts.md#performance-where-the-time-goes
#
# Environment:
#   BENCH=bulk,short,attach,idle,burst,auth  what to measure (default: all)
#     bulk    iperf3 A->B, one flow and 4 flows (-P 4), SECS s each; whole
#             machine CPU seconds per GB from /proc/stat
#     short   connect, SIZE B request, SIZE B reply, close: 1 and 16 clients,
#             SHORT_SECS s each; connect + first byte p50/p99 (1 client)
#     attach  plain TCP with the agents attached (port off) vs no agents
#     idle    agent RSS per 1000 idle flows (IDLE held), plain and encrypted
#     burst   BURST concurrent opens (each sends a line, waits), plain and
#             tcpcrypt: time to open all, agents' resent bytes, kernel RTOs
#     auth    connect + authenticated first byte p50/p99: TCP, tcpcrypt,
#             each tcpcrypt-auth scheme, fresh and resumed, stunnel4 fresh
#             and resumed; the batch signer at 1, 4, 16, 64 clients: signatures
#             per connection (tests/lib/benchauth.sh; AUTH_CONNS=300
#             AUTH_SECS=2 AUTH_BATCH_SECS=3)
#   PEERS=plain,tcpcrypt,stunnel,wireguard  (plain is always measured)
#   RUNS=5 SECS=5 SHORT_SECS=3 SIZE=64 IDLE=1000 BURST=5000
#   AGENT_ARGS="..."  extra tcpcryptd options for both agents (e.g. a worker count)
# Each measurement also records the kernel's TcpRetransSegs and TCPTimeouts
# deltas in A's and B's network namespaces, and the agents' negotiation
# counters: a peer other than tcpcrypt must negotiate nothing, tcpcrypt must.
# The tcpcrypt column is fresh key exchanges (agents with --cache-size 0);
# once per run of `short` the agents restart with their default session
# cache and resumed connections are measured on the same port (one warm-up
# connection first): connect + first byte p50 and the 16-client rate, and the
# share of connections that resumed (RFC 8548 3.5).
set -euo pipefail
if [[ ${1:-} == -h || ${1:-} == --help ]]; then
	sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"
	exit 0
fi
source "$(dirname "$0")/lib/testbed.sh"
source "$(dirname "$0")/lib/enotest.sh"
source "$(dirname "$0")/lib/benchpeers.sh"
tb_require_root
tb_require_agent
RUNS=${RUNS:-5}
SECS=${SECS:-5}
SHORT_SECS=${SHORT_SECS:-3}
SIZE=${SIZE:-64}
IDLE=${IDLE:-1000}
BURST=${BURST:-5000}
BENCH=${BENCH:-bulk,short,attach,idle,burst,auth}
PEERS=${PEERS:-plain,tcpcrypt,stunnel,wireguard}
BENCH_JSON=${BENCH_JSON:-$TB_ROOT/build/bench.json}
for m in ${BENCH//,/ }; do
	[[ $m =~ ^(bulk|short|attach|idle|burst|auth)$ ]] || tb_fail "BENCH: unknown measure '$m'"
done
for p in ${PEERS//,/ }; do
	[[ $p =~ ^(plain|tcpcrypt|stunnel|wireguard)$ ]] || tb_fail "PEERS: unknown peer '$p'"
done
want() { [[ ,$BENCH, == *,$1,* ]]; }
command -v iperf3 >/dev/null || tb_fail "iperf3 missing (make deps)"
tb_init
tb_create
RES=$TB_DIR/results.jsonl
: >"$RES"
declare -A NA=()   # peer -> why it has no figures
declare -A HOST=() # peer -> address A connects to
declare -A BULK=() # peer -> iperf3 port
declare -A CONN=() # peer -> connbench port
HOST=([plain]=$TB_B4 [tcpcrypt]=$TB_B4 [stunnel]=127.0.0.1 [wireguard]=$BP_WG_B)
BULK=([plain]=5201 [tcpcrypt]=5202 [stunnel]=7201 [wireguard]=5201)
CONN=([plain]=6001 [tcpcrypt]=6002 [stunnel]=7001 [wireguard]=6001)
# Ports that stay plain TCP for the agents: plain's servers (which stunnel and
# the tunnel reach too), stunnel's own ports (A's local ones, B's TLS ones),
# the plain idle and burst servers.
OFF_PORTS="5201 6001 7201 7001 $((7201 + BP_TLS_OFF)) $((7001 + BP_TLS_OFF)) 6004 6005"
source "$TB_ROOT/tests/lib/benchauth.sh"
OFF_PORTS+=" $BA_OFF_PORTS"

# ---------------------------------------------------------------- helpers

# The tcpcrypt column is fresh key exchanges: resumption off (--cache-size
# 0) unless CACHE_ARGS says otherwise; resumed connections are measured apart
# (resumed_measure), with the agents' default cache.
agents_up() { # [CACHE ARGS...]
	local h p
	local -a cache=("$@")
	((${#cache[@]})) || cache=(--cache-size 0)
	# shellcheck disable=SC2086 # AGENT_ARGS is a word list
	tb_agent_start A "${cache[@]}" ${AGENT_ARGS:-}
	# shellcheck disable=SC2086
	tb_agent_start B "${cache[@]}" ${AGENT_ARGS:-}
	for h in A B; do
		for p in $OFF_PORTS; do
			tb_ctl "$h" port "$p" off >/dev/null
		done
	done
}

agents_down() {
	tb_agent_stop A
	tb_agent_stop B
}

# One snapshot, as words: machine CPU jiffies (user+nice+system+irq+softirq),
# A's and B's cgroup CPU microseconds (the bed's own processes: agents,
# servers, clients, stunnel, wireguard-go, and the softirq work charged to
# them), then per host A, B: TcpRetransSegs TCPTimeouts negotiated
# dp_sessions dp_wire_retrans (the agent's counters 0 while it is not running).
snap() {
	local h
	awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 }' /proc/stat
	awk '$1 == "usage_usec" { print $2 }' "$TB_CG_A/cpu.stat" "$TB_CG_B/cpu.stat"
	for h in A B; do
		tb_exec "$h" nstat -asz TcpRetransSegs TcpExtTCPTimeouts |
			awk '$1 == "TcpRetransSegs" { r = $2 } $1 == "TcpExtTCPTimeouts" { t = $2 }
			     END { print r + 0, t + 0 }'
		if [[ -n $(tb_agent_pid "$h") ]]; then
			tb_ctl "$h" -j stats | tt_py '"%d %d %d" % (d["negotiated"], d["dp_sessions"], d["dp_wire_retrans"])'
		else
			echo 0 0 0
		fi
	done | tr '\n' ' '
}

# The deltas between two snapshots as JSON members.
snapdelta() { # "BEFORE" "AFTER"
	python3 - "$1" "$2" "$(getconf CLK_TCK)" <<'PY'
import sys
a, b = ([int(x) for x in s.split()] for s in sys.argv[1:3])
d = [y - x for x, y in zip(a, b)]
names = ["a_retrans", "a_timeouts", "a_negotiated", "a_sessions", "a_wire_retrans",
         "b_retrans", "b_timeouts", "b_negotiated", "b_sessions", "b_wire_retrans"]
out = ['"cpu_s": %.3f' % (d[0] / int(sys.argv[3])), '"bed_cpu_s": %.3f' % ((d[1] + d[2]) / 1e6)]
out += ['"%s": %d' % (n, v) for n, v in zip(names, d[3:])]
print(", ".join(out))
PY
}

rec() { # JSON-MEMBERS: one record of the results
	echo "{$1}" >>"$RES"
}

# iperf3 from A: one JSON record member list "gbps": .., "bytes": ..
iperf() { # PEER FLOWS
	local out
	out=$(tb_exec A iperf3 -c "${HOST[$1]}" -p "${BULK[$1]}" -t "$SECS" -P "$2" -J 2>&1) || {
		sleep 1 # a server still busy with the last test: once more
		out=$(tb_exec A iperf3 -c "${HOST[$1]}" -p "${BULK[$1]}" -t "$SECS" -P "$2" -J 2>&1)
	} || {
		tb_log "iperf3 to $1 failed: $(tail -c 300 <<<"$out")"
		echo '"gbps": null, "bytes": null'
		return 0
	}
	tt_py '"\"gbps\": %.4f, \"bytes\": %d" % (d["end"]["sum_received"]["bits_per_second"] / 1e9, d["end"]["sum_received"]["bytes"])' <<<"$out"
}

conns() { # PEER CLIENTS -> connbench's JSON (failures counted in it)
	tb_exec A python3 "$TB_ROOT/tests/lib/connbench.py" client "${HOST[$1]}" "${CONN[$1]}" \
		10000000 "$2" --size "$SIZE" --seconds "$SHORT_SECS" 2>>"$TB_DIR/connbench.err" || true
}

# One measurement of PEER, recorded with the counters' deltas around it.
measure() { # RUN PEER WHAT
	local run=$1 p=$2 what=$3 s0 s1 r
	s0=$(snap)
	case $what in
	bulk1 | attached) r=$(iperf "$p" 1) ;;
	bulk4) r=$(iperf "$p" 4) ;;
	short1 | short16)
		r=$(conns "$p" "${what#short}")
		[[ -n $r ]] || r='{"rate": null}'
		r=${r#\{} r=${r%\}}
		;;
	esac
	s1=$(snap)
	rec "\"run\": $run, \"peer\": \"$p\", \"measure\": \"$what\", $r, $(snapdelta "$s0" "$s1")"
}

rss() { awk '/VmRSS/ {print $2}' "/proc/$(tb_agent_pid "$1")/status"; }

# ---------------------------------------------------------------- servers, peers

for p in 5201 5202; do
	tb_bg B "$TB_DIR/iperf-$p.log" iperf3 -s -p "$p" >/dev/null
done
tb_bg B "$TB_DIR/cb.log" python3 "$TB_ROOT/tests/lib/connbench.py" server 0.0.0.0 6001,6002 \
	--size "$SIZE" >/dev/null
tb_wait_port B 5202
tb_wait_port B 6002
peers=()
for p in ${PEERS//,/ }; do
	case $p in
	stunnel)
		# shellcheck disable=SC2046 # the auth section's services, a word list
		bp_stunnel_up 7201:5201 7001:6001 $(want auth && echo "$BA_STUNNEL") ||
			NA[stunnel]=$BP_WHY
		;;
	wireguard) bp_wg_up || NA[wireguard]=$BP_WHY ;;
	esac
	if [[ -n ${NA[$p]:-} ]]; then
		tb_log "$p: n/a ($BP_WHY)"
	elif [[ $p != plain ]]; then
		peers+=("$p")
	fi
done
peers=(plain "${peers[@]+"${peers[@]}"}")
resume=0
if [[ -f $TB_ROOT/tests/lib/bench_resume.sh ]]; then
	source "$TB_ROOT/tests/lib/bench_resume.sh"
	[[ $(type -t bench_resume__ready) == function ]] && resume=1
fi

# Resumed connections, one run: the agents restarted with their default
# session cache, one warm-up connection (its chain published at both ends),
# then connect + first byte p50 (1 client) and the 16-client rate on the
# tcpcrypt port, as short1/short16 measure fresh ones; the share resumed
# from A's rs_resumed.  Prints {"p50_ms", "rate16", "resumed_share"}.
resumed_measure() { # RUN
	local r1 r16 s0 n
	agents_down
	agents_up --cache-size 1024
	conns tcpcrypt 1 >/dev/null # warm-up: a full exchange whose chain both publish
	tb_wait 5 bench_resume__ready || tb_log "resumed: no chain published after the warm-up"
	s0=$(tt_stat A rs_resumed)
	r1=$(conns tcpcrypt 1)
	r16=$(conns tcpcrypt 16)
	n=$(($(tt_stat A rs_resumed) - s0))
	agents_down
	agents_up
	python3 -c 'import json,sys
a, b, n = json.loads(sys.argv[1]), json.loads(sys.argv[2]), int(sys.argv[3])
tot = (a.get("ok") or 0) + (b.get("ok") or 0)
print(json.dumps({"p50_ms": a["p50_ms"], "rate16": b["rate"], "resumed_share": round(n / tot, 3) if tot else None}))' \
		"$r1" "$r16" "$n"
}
agents_up

# ---------------------------------------------------------------- the wire, once

# A few connections of each peer with a capture in M: stunnel's TCP and the
# tunnel's must carry no TCP-ENO option (the agents leave them plain), the
# tunnel must carry its TCP inside UDP only, and tcpcrypt must negotiate.
wire_check() {
	local pcap p s0 s1 out
	tb_capture_start wire a0 tcp or udp
	for p in "${peers[@]}"; do
		s0=$(snap)
		out=$(tb_exec A python3 "$TB_ROOT/tests/lib/connbench.py" client "${HOST[$p]}" \
			"${CONN[$p]}" 20 1 --size "$SIZE") || tb_fail "wire check, $p: $out"
		s1=$(snap)
		echo "$p $(snapdelta "$s0" "$s1")" >>"$TB_DIR/wire-check.log"
	done
	pcap=$(tb_capture_stop wire)
	python3 - "$pcap" "$TB_DIR/wire-check.log" "$TB_ROOT/tests/lib" "$BP_TLS_OFF" \
		"$BP_WG_PORT" <<'PY' >"$TB_DIR/wire-check.json"
import json, subprocess, sys
pcap, log, lib, off, wgport = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
res = {}
def resumed(opt):
    # after kind and length, suboptions: 0x00-0x1f global, 0x80-0x9f a
    # length byte (then a TEP byte and (b & 0x1f) + 1 bytes of data), else a
    # TEP byte whose bit 7 is v: B's SYN-ACK TEP with v = 1 is a resumed
    # session (docs/rfc-notes.md#eno-suboptions-and-length-bytes,
    # docs/rfc-notes.md#tcpcrypt-negotiation-through-eno)
    b, i = bytes.fromhex(opt)[2:], 0
    while i < len(b):
        c = b[i]
        if 0x80 <= c < 0xa0:
            if i + 1 < len(b) and b[i + 1] & 0x80:
                return True
            i += 2 + (c & 0x1f) + 1
        elif c >= 0xa0:
            return True
        else:
            i += 1
    return False
def eno(port):
    out = subprocess.run([sys.executable, lib + "/enowire.py", pcap, "--port", str(port)],
                         check=True, capture_output=True, text=True).stdout
    c = [json.loads(l) for l in out.splitlines() if l.strip()]
    return {"connections": len(c), "with_eno": sum(1 for x in c if any(x["syn"]) or any(x["synack"])),
            "resumed": sum(1 for x in c if any(o and resumed(o) for o in x["synack"]))}
for line in open(log):
    peer, rest = line.split(" ", 1)
    d = json.loads("{" + rest + "}")
    r = {"negotiated": d["a_negotiated"] + d["b_negotiated"]}
    if peer == "tcpcrypt":
        r.update(eno(6002))
    if peer == "stunnel":
        r.update(eno(7001 + off))
    if peer == "wireguard":
        pk = subprocess.run([sys.executable, lib + "/pcap.py", "summary", pcap],
                            check=True, capture_output=True, text=True).stdout
        r["tunnel_tcp_outside"] = sum(1 for l in pk.splitlines() if "198.19." in l)
        n = subprocess.run(["tcpdump", "-nr", pcap, "udp port %d" % wgport],
                           capture_output=True, text=True).stdout
        r["udp_packets"] = len(n.splitlines())
    res[peer] = r
print(json.dumps(res))
PY
	tb_log "wire check: $(cat "$TB_DIR/wire-check.json")"
	python3 - "$TB_DIR/wire-check.json" <<'PY' || tb_fail "wire check failed (above)"
import json, sys
r = json.load(open(sys.argv[1]))
bad = []
for p, d in r.items():
    if p == "tcpcrypt":
        if d["negotiated"] < 2 or d["with_eno"] < 20:
            bad.append("tcpcrypt did not negotiate: %s" % d)
    elif d["negotiated"]:
        bad.append("%s negotiated TCP-ENO: %s" % (p, d))
    if p == "stunnel" and (d["connections"] < 20 or d["with_eno"]):
        bad.append("stunnel's TCP: %s" % d)
    if p == "wireguard" and (d["tunnel_tcp_outside"] or d["udp_packets"] < 20):
        bad.append("wireguard: %s" % d)
for b in bad:
    print("wire check:", b, file=sys.stderr)
sys.exit(1 if bad else 0)
PY
}
wire_check
if want auth; then
	ba_setup
	ba_wire_check
fi
# the tunnel's interface is not one the agents steer (tcpcryptctl status)
if [[ " ${peers[*]} " == *" wireguard "* ]]; then
	for h in A B; do
		n=BP_WG_IF_$h
		steered=$(tb_ctl "$h" -j status | tt_py '" ".join(sorted(set(x for i in d["interfaces"] for x in (i["name"], i["capture"]) if x)))')
		[[ " $steered " != *" ${!n} "* ]] || tb_fail "host $h: the agent steers the tunnel ${!n}"
		tb_log "host $h: steered interfaces: $steered (tunnel ${!n} not among them)"
	done
fi

# ---------------------------------------------------------------- runs

t_start=$SECONDS
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
sessions=0
for run in $(seq "$RUNS"); do
	# the peers' order rotates: each is first once every len(peers) runs
	k=$(((run - 1) % ${#peers[@]}))
	order=("${peers[@]:k}" "${peers[@]:0:k}")
	if want attach; then
		# detached and attached alternate which goes first
		if ((run % 2)); then
			agents_down
			rec "\"run\": $run, \"peer\": \"plain\", \"measure\": \"detached\", $(iperf plain 1)"
			agents_up
			measure "$run" plain attached
		else
			measure "$run" plain attached
			agents_down
			rec "\"run\": $run, \"peer\": \"plain\", \"measure\": \"detached\", $(iperf plain 1)"
			agents_up
		fi
	fi
	for what in bulk1 bulk4 short1 short16; do
		case $what in bulk*) want bulk || continue ;; short*) want short || continue ;; esac
		for p in "${order[@]}"; do
			measure "$run" "$p" "$what"
		done
	done
	sessions=$((sessions + $(tt_stat A dp_sessions))) # before the resumed measure restarts the agents
	if want short && ((resume)); then
		r=$(resumed_measure "$run" 2>>"$TB_DIR/resume.err" || true)
		python3 -c 'import json,sys; d=json.loads(sys.argv[1]); float(d["p50_ms"]); float(d["rate16"])' \
			"$r" 2>/dev/null || r='{"p50_ms": null, "rate16": null}'
		r=${r#\{} r=${r%\}}
		rec "\"run\": $run, \"peer\": \"tcpcrypt\", \"measure\": \"resumed\", $r"
	fi
	tb_log "run $run of $RUNS done ($((SECONDS - t_start)) s)"
done
if [[ " ${peers[*]} " == *" tcpcrypt "* ]] && { want bulk || want short; }; then
	[[ $sessions -gt 0 ]] || tb_fail "no encrypted session was made: the tcpcrypt numbers would be plain"
fi

# ---------------------------------------------------------------- auth

# tests/lib/benchauth.sh: the rows in an order rotating from run to run
if want auth; then
	t_start=$SECONDS
	for run in $(seq "$RUNS"); do
		ba_run "$run"
		tb_log "auth: run $run of $RUNS done ($((SECONDS - t_start)) s)"
	done
	[[ ! -s $TB_DIR/authbench-client.err ]] ||
		tb_log "auth: failures: $(sort "$TB_DIR/authbench-client.err" | uniq -c | sort -rn | head -n 5)"
fi

# ---------------------------------------------------------------- idle flows

# agent memory per idle flow: IDLE connections that each sent a line, held
if want idle; then
	tb_bg B "$TB_DIR/idle.log" python3 "$TB_ROOT/tests/lib/idleconns.py" serve 6003 >/dev/null
	tb_bg B "$TB_DIR/idle-off.log" python3 "$TB_ROOT/tests/lib/idleconns.py" serve 6004 >/dev/null
	tb_wait_port B 6003
	tb_wait_port B 6004
	# fresh agents: no memory left over from the runs, which they would
	# return during the measurement
	agents_down
	agents_up
	for port in 6004 6003; do
		a0=$(rss A) b0=$(rss B)
		tb_bg A "$TB_DIR/hold-$port.log" python3 "$TB_ROOT/tests/lib/idleconns.py" hold "$TB_B4" \
			"$port" "$IDLE" 5 >/dev/null
		tb_wait 60 grep -q "^held $IDLE " "$TB_DIR/hold-$port.log" ||
			tb_fail "idle connections on $port: $(cat "$TB_DIR/hold-$port.log")"
		sleep 3.5 # past the agents' idle trim (1 s) and their return of memory (once a second)
		[[ $port == 6004 ]] && p=plain || p=tcpcrypt
		rec "\"peer\": \"$p\", \"measure\": \"idle\", \"flows\": $IDLE, \"a_kb_per_1000\": $((($(rss A) - a0) * 1000 / IDLE)), \"b_kb_per_1000\": $((($(rss B) - b0) * 1000 / IDLE))"
		sleep 4
	done
fi

# ---------------------------------------------------------------- the burst

# BURST connections opened at once, each sends a line, reads the answer and
# waits; plain TCP (port off) first, then tcpcrypt.  A capture in M counts
# the TCP payload bytes each host sends (what the agents send, on a
# negotiated flow); the agents' dp_wire_retrans the bytes they resent.
if want burst; then
	tb_exec A sysctl -qw net.ipv4.ip_local_port_range="1024 65000"
	tb_bg B "$TB_DIR/burst-off.log" python3 "$TB_ROOT/tests/lib/idleconns.py" serve 6005 >/dev/null
	tb_bg B "$TB_DIR/burst-on.log" python3 "$TB_ROOT/tests/lib/idleconns.py" serve 6006 >/dev/null
	tb_wait_port B 6005
	tb_wait_port B 6006
	for port in 6005 6006; do
		[[ $port == 6005 ]] && p=plain || p=tcpcrypt
		# fresh agents: the RSS is that of this burst only
		agents_down
		agents_up
		a0=$(rss A) b0=$(rss B)
		# headers only (the payload length comes from the IP header), and a
		# large buffer: the burst is ~50,000 packets in a few seconds
		TB_CAPTURE_SNAPLEN=128 TB_CAPTURE_BUF_KIB=131072 \
			tb_capture_start "burst-$port" a0 tcp port "$port"
		s0=$(snap)
		tb_bg A "$TB_DIR/hold-$port.log" python3 "$TB_ROOT/tests/lib/idleconns.py" hold "$TB_B4" \
			"$port" "$BURST" 8 >/dev/null
		tb_wait 90 grep -q "^held " "$TB_DIR/hold-$port.log" ||
			tb_fail "burst on $port: $(cat "$TB_DIR/hold-$port.log")"
		sleep 3.5
		a1=$(rss A) b1=$(rss B)
		tb_wait 30 eval "[[ -z \$(tb_exec A ss -Htn state established dport = :$port) ]]" ||
			tb_log "burst on $port: connections still open after 30 s"
		sleep 1
		s1=$(snap)
		pcap=$(tb_capture_stop "burst-$port")
		# TCP payload bytes sent by A and by B, from the IP and TCP headers
		sent=$(tcpdump -qnn -r "$pcap" 2>/dev/null | awk -v a="$TB_A4." -v b="$TB_B4." '
			$NF ~ /^[0-9]+$/ && $(NF - 1) == "tcp" {
				if (index($3, a) == 1) sa += $NF; else if (index($3, b) == 1) sb += $NF }
			END { printf "%d %d", sa, sb }')
		dropped=$(awk '/packets dropped by kernel/ { print $1 }' "$TB_DIR/burst-$port.tcpdump.log")
		read -r _ held _ secs _ failed <"$TB_DIR/hold-$port.log"
		rec "\"peer\": \"$p\", \"measure\": \"burst\", \"n\": $BURST, \"held\": $held, \"open_s\": $secs, \"failed\": $failed, \"a_sent\": ${sent% *}, \"b_sent\": ${sent#* }, \"capture_dropped\": ${dropped:-0}, \"a_rss_kb\": $a1, \"b_rss_kb\": $b1, \"a_rss0_kb\": $a0, \"b_rss0_kb\": $b0, $(snapdelta "$s0" "$s1")"
	done
fi
agents_down

# ---------------------------------------------------------------- report

mkdir -p "$(dirname "$BENCH_JSON")"
na_json=$(for p in "${!NA[@]}"; do printf '%s\t%s\n' "$p" "${NA[$p]}"; done |
	python3 -c 'import json,sys; print(json.dumps(dict(l.rstrip("\n").split("\t", 1) for l in sys.stdin if l.strip())))')
python3 "$TB_ROOT/tests/lib/benchreport.py" --results "$RES" --json "$BENCH_JSON" \
	--na "$na_json" --wire "$(cat "$TB_DIR/wire-check.json")" --runs "$RUNS" --bench "$BENCH" \
	--auth-wire "$(cat "$TB_DIR/auth-wire.json" 2>/dev/null || echo '{}')" \
	--auth-wire-resumed "$(cat "$TB_DIR/auth-wire-resumed.json" 2>/dev/null || echo '{}')" \
	--meta "$(
		printf '{"nproc": %d, "kernel": "%s", "date": "%s", "git": "%s", "secs": %s, "short_secs": %s, "size": %s, "peers": "%s", "agent_args": "%s", "load_start": "%s", "load_end": "%s"}' \
			"$(nproc)" "$(uname -r)" "$(date -u +%FT%TZ)" \
			"$(git -C "$TB_ROOT" describe --always --dirty 2>/dev/null || echo unknown)" \
			"$SECS" "$SHORT_SECS" "$SIZE" "${peers[*]}" "${AGENT_ARGS:-}" "$load_start" \
			"$(cut -d' ' -f1-3 /proc/loadavg)"
	)"
