# shellcheck shell=bash
# The peers make bench compares tcpcrypt with, set up in a test bed made by
# testbed.sh (source that first): stunnel4 at both ends (TLS 1.3) in front of
# B's own servers, and a wireguard-go tunnel between A and B over the same
# A - M - B path.  docs/machine-facts.md#performance-where-the-time-goes
#
#   bp_stunnel_up FRONT:BACK[:fresh]...
#                                 stunnel on A listening on 127.0.0.1:FRONT,
#                                 connecting to B's stunnel on FRONT+BP_TLS_OFF,
#                                 which forwards to B's 127.0.0.1:BACK.
#                                 A's client resumes TLS sessions (stunnel's
#                                 default), except with :fresh (sessionResume = no).
#                                 A certificate is made at run time (openssl).
#   bp_wg_up                      wireguard-go on A (BP_WG_A) and B (BP_WG_B),
#                                 keys made at run time with wg genkey, UDP
#                                 port BP_WG_PORT; interface $BP_WG_IF_A/_B.
# Both return 1 with the reason in BP_WHY if the peer cannot run here.
# Everything they start is tracked by the test bed and removed with it.

BP_TLS_OFF=${BP_TLS_OFF:-400}
BP_WG_PORT=${BP_WG_PORT:-51820}
BP_WG_A=198.19.0.1
BP_WG_B=198.19.0.2
BP_WHY=""

bp__why() { # MSG [LOG]
	BP_WHY=$1
	if [[ -n ${2:-} && -s $2 ]]; then
		BP_WHY="$BP_WHY: $(grep -v '^$' "$2" | tail -n 2 | tr '\n' ' ')"
	fi
	return 1
}

bp_stunnel_up() { # FRONT:BACK[:fresh]...
	local d=$TB_DIR/stunnel fb front back opt
	command -v stunnel >/dev/null || bp__why "stunnel not installed (tools/install-deps.sh bench)" ||
		return 1
	mkdir -p "$d"
	# a P-256 key, as a TLS 1.3 server would commonly have
	if ! openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
		-subj /CN=tcpcrypt-bench -keyout "$d/key.pem" -out "$d/cert.pem" >"$d/openssl.log" 2>&1; then
		bp__why "openssl could not make a certificate" "$d/openssl.log"
		return 1
	fi
	# stunnel's defaults otherwise; debug = 3 keeps per-connection notices
	# out of its log (logging each connection would be measured too)
	printf 'foreground = yes\npid =\ndebug = 3\nsslVersionMin = TLSv1.3\n' >"$d/a.conf"
	printf 'foreground = yes\npid =\ndebug = 3\nsslVersionMin = TLSv1.3\ncert = %s\nkey = %s\n' \
		"$d/cert.pem" "$d/key.pem" >"$d/b.conf"
	for fb in "$@"; do
		front=${fb%%:*} back=${fb#*:} opt=
		[[ $back != *:fresh ]] || back=${back%:fresh} opt=$'sessionResume = no\n'
		printf '[p%s]\nclient = yes\naccept = 127.0.0.1:%s\nconnect = %s:%s\n%s' "$front" "$front" \
			"$TB_B4" $((front + BP_TLS_OFF)) "$opt" >>"$d/a.conf"
		printf '[p%s]\naccept = 0.0.0.0:%s\nconnect = 127.0.0.1:%s\n' "$front" \
			$((front + BP_TLS_OFF)) "$back" >>"$d/b.conf"
	done
	tb_bg B "$d/b.log" stunnel "$d/b.conf" >/dev/null
	tb_bg A "$d/a.log" stunnel "$d/a.conf" >/dev/null
	for fb in "$@"; do
		front=${fb%%:*}
		tb_wait 10 tb__listening B $((front + BP_TLS_OFF)) || bp__why "stunnel on B" "$d/b.log" ||
			return 1
		tb_wait 10 tb__listening A "$front" || bp__why "stunnel on A" "$d/a.log" || return 1
	done
}

bp_wg_up() {
	local h d=$TB_DIR/wg n
	command -v wireguard-go >/dev/null && command -v wg >/dev/null ||
		bp__why "wireguard-go or wg not installed (tools/install-deps.sh bench)" || return 1
	[[ -c /dev/net/tun ]] || bp__why "no /dev/net/tun" || return 1
	mkdir -p "$d"
	# names unique to this test bed: wireguard-go's control sockets are in
	# /var/run/wireguard, shared by every network namespace
	BP_WG_IF_A=${TB_PREFIX}wa BP_WG_IF_B=${TB_PREFIX}wb
	for h in A B; do
		n=BP_WG_IF_$h
		(umask 077 && wg genkey >"$d/$h.key" && wg pubkey <"$d/$h.key" >"$d/$h.pub") ||
			bp__why "wg genkey failed" || return 1
		tb_defer "rm -f /var/run/wireguard/${!n}.sock"
		tb_bg "$h" "$d/$h.log" env WG_PROCESS_FOREGROUND=1 wireguard-go -f "${!n}" >/dev/null
		tb_wait 5 tb_exec "$h" ip link show dev "${!n}" >/dev/null 2>&1 ||
			bp__why "wireguard-go made no interface on $h" "$d/$h.log" || return 1
	done
	tb_exec A wg set "$BP_WG_IF_A" private-key "$d/A.key" listen-port "$BP_WG_PORT" \
		peer "$(cat "$d/B.pub")" allowed-ips "$BP_WG_B/32" endpoint "$TB_B4:$BP_WG_PORT" ||
		bp__why "wg set on A" || return 1
	tb_exec B wg set "$BP_WG_IF_B" private-key "$d/B.key" listen-port "$BP_WG_PORT" \
		peer "$(cat "$d/A.pub")" allowed-ips "$BP_WG_A/32" endpoint "$TB_A4:$BP_WG_PORT" ||
		bp__why "wg set on B" || return 1
	tb_exec A ip addr add "$BP_WG_A/30" dev "$BP_WG_IF_A"
	tb_exec B ip addr add "$BP_WG_B/30" dev "$BP_WG_IF_B"
	tb_exec A ip link set "$BP_WG_IF_A" up
	tb_exec B ip link set "$BP_WG_IF_B" up
	tb_wait 10 tb_exec A ping -c 1 -W 1 "$BP_WG_B" >/dev/null 2>&1 ||
		bp__why "no answer through the tunnel" "$d/A.log" || return 1
}
