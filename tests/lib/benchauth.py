"""make bench's auth section in the report (tests/lib/benchreport.py): the
connect + authenticated first byte table, the batch signer's amortisation,
their targets (issue 10) and warnings.  Records written by
tests/lib/benchauth.sh:

  {"run", "peer": "auth", "measure": "auth", "row", "phase": "fresh" |
   "resumed", "ok", "failed", "rate", "p50_ms", "p99_ms", "a_negotiated",
   "a_resumed"}
  {"run", "peer": "auth", "measure": "auth_batch", "clients", "ok",
   "failed", "p50_ms", "p99_ms", "signatures", "proofs", "srv_seconds", ...}

docs/machine-facts.md#session-id-authentication-in-the-test-bed
"""
import statistics

# rows without authentication, in the order printed; the schemes follow
# in the order first seen, then stunnel
BASE_ROWS = ["tcp", "tcpcrypt"]
TLS_ROWS = {"stunnel-fresh": ("stunnel4 TLS 1.3", "fresh"),
            "stunnel-resumed": ("stunnel4 TLS 1.3", "resumed")}
LABEL = {"tcp": "TCP", "tcpcrypt": "tcpcrypt (no authentication)"}
BATCH_TARGET = 1 / 8


def _median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def summarise(recs):
    """{"rows": {name: {"fresh": {...}, "resumed": {...}}}, "order", "batch": {clients: {...}}}"""
    rows, order, batch = {}, [], {}
    by = {}
    for r in recs:
        if r.get("peer") != "auth" or "run" not in r:
            continue
        if r.get("measure") == "auth":
            name, phase = r["row"], r["phase"]
            if name in TLS_ROWS:
                name, phase = TLS_ROWS[name]
            by.setdefault((name, phase), []).append(r)
            if name not in order:
                order.append(name)
        elif r.get("measure") == "auth_batch":
            w = r.get("window_us")
            batch.setdefault("default" if w is None else str(w), {}).setdefault(
                r["clients"], []).append(r)
    for (name, phase), rs in by.items():
        d = {k: _median([r.get(k) for r in rs]) for k in ("p50_ms", "p99_ms", "rate")}
        d["ok"] = sum(r.get("ok") or 0 for r in rs)
        d["failed"] = sum(r.get("failed") or 0 for r in rs)
        d["runs"] = len(rs)
        d["negotiated"] = sum(r.get("a_negotiated") or 0 for r in rs)
        res = sum(r.get("a_resumed") or 0 for r in rs)
        d["resumed_share"] = round(res / d["ok"], 3) if d["ok"] else None
        rows.setdefault(name, {})[phase] = d
    order.sort(key=lambda n: (n not in BASE_ROWS, n == "stunnel4 TLS 1.3",
                              BASE_ROWS.index(n) if n in BASE_ROWS else 0))
    bsum = {}
    for w, cs in batch.items():
        bsum[w] = {c: _batch(rs) for c, rs in cs.items()}
    return {"rows": rows, "order": order, "batch": bsum}


def _batch(rs):
    """One batch signer at one client count: medians over the runs."""
    per_conn = [r["signatures"] / r["proofs"] for r in rs if r.get("proofs")]
    return {
        "signatures_per_s": _median([r["signatures"] / r["srv_seconds"] for r in rs
                                     if r.get("srv_seconds")]),
        "connections_per_s": _median([r["proofs"] / r["srv_seconds"] for r in rs
                                      if r.get("srv_seconds")]),
        "signatures_per_connection": _median(per_conn),
        "p50_ms": _median([r.get("p50_ms") for r in rs]),
        "p99_ms": _median([r.get("p99_ms") for r in rs]),
        "failed": sum(max(r.get("failed") or 0, r.get("srv_failed") or 0) for r in rs),
        "runs": len(rs),
    }


def targets(s):
    """Issue 10's targets: (target, value, status) dicts, as benchreport's."""
    out = []
    rows = s["rows"]
    tls = rows.get("stunnel4 TLS 1.3", {}).get("fresh", {}).get("p50_ms")
    for name in s["order"]:
        if name in ("tcp", "stunnel4 TLS 1.3"):
            continue
        text = f"{name}: connect + authenticated first byte p50 ahead of stunnel's fresh handshake"
        ps = {ph: rows[name].get(ph, {}).get("p50_ms") for ph in ("fresh", "resumed")}
        ps = {ph: v for ph, v in ps.items() if v is not None}
        if tls is None or not ps:
            out.append({"target": text, "value": None,
                        "status": "n/a (" + ("stunnel not measured" if tls is None
                                             else "not measured") + ")"})
            continue
        val = ", ".join(f"{ph} {v:.3f} ms" for ph, v in ps.items()) + f" vs {tls:.3f} ms"
        out.append({"target": text, "value": val,
                    "status": "met" if all(v < tls for v in ps.values()) else "NOT met"})
    text = "batch-signed Ed25519, 16 clients: <= 1/8 signature per connection"
    b = s["batch"].get("default", {}).get(16, {}).get("signatures_per_connection")
    if b is None:
        out.append({"target": text, "value": None, "status": "n/a (not measured)"})
    else:
        out.append({"target": text, "value": f"{b:.3f}",
                    "status": "met" if b <= BATCH_TARGET else "NOT met"})
    return out


def warnings(s, wire, wire_resumed):
    """What makes a row not what it claims to be, and rows without figures."""
    bad = []
    for name in s["order"]:
        for ph, d in s["rows"][name].items():
            if not d["ok"]:
                bad.append(f"auth: {name} {ph}: no connection succeeded")
            elif d["failed"]:
                bad.append(f"auth: {name} {ph}: {d['failed']} connections failed")
            plain = name in ("tcp", "stunnel4 TLS 1.3")
            if plain and d["negotiated"]:
                bad.append(f"auth: {name}: {d['negotiated']} connections negotiated TCP-ENO")
            if not plain and not d["negotiated"]:
                bad.append(f"auth: {name} {ph}: nothing negotiated: plain TCP")
            if not plain and ph == "resumed" and (d["resumed_share"] or 0) < 0.9:
                bad.append(f"auth: {name} resumed: only {d['resumed_share']} of the sessions "
                           "resumed (A's rs_resumed)")
            if not plain and ph == "fresh" and d["resumed_share"]:
                bad.append(f"auth: {name} fresh: {d['resumed_share']} of the sessions resumed")
    f, r = wire.get("stunnel-fresh"), wire.get("stunnel-resumed")
    if f is not None and (f.get("resumed") or f.get("offered") or not f.get("server_hellos")):
        bad.append(f"auth: stunnel fresh on the wire: {f} (must offer and resume none)")
    if r is not None and (not r.get("connections") or r.get("resumed") != r.get("connections")):
        bad.append(f"auth: stunnel resumed on the wire: {r} (every connection must resume)")
    for port, d in wire_resumed.items():
        if d["resumed"] != d["synacks"]:
            bad.append(f"auth: port {port}, resumed rows on the wire: {d['resumed']} of "
                       f"{d['synacks']} SYN-ACKs resumed")
    for w, cs in s["batch"].items():
        for c, d in cs.items():
            if d["failed"]:
                bad.append(f"auth: batch (window {w}), {c} clients: {d['failed']} connections failed")
    return bad


def _f(v, nd=3):
    return "n/a" if v is None else f"{v:.{nd}f}"


def report(s, runs, conns=None):
    """The two tables, as text lines."""
    out = [f"\nauth: connect + authenticated first byte, 1 client, medians of {runs} runs (ms)"]
    w0, w = 34, 12
    out.append(f"{'':{w0}}{'fresh p50':>{w}}{'p99':>{w}}{'resumed p50':>{w}}{'p99':>{w}}"
               f"{'resumed':>{w}}")
    for name in s["order"]:
        d = s["rows"][name]
        fr, re_ = d.get("fresh", {}), d.get("resumed", {})
        share = re_.get("resumed_share") if name not in ("tcp", "stunnel4 TLS 1.3") else None
        line = f"{LABEL.get(name, name):{w0}}"
        for v in (fr.get("p50_ms"), fr.get("p99_ms"), re_.get("p50_ms"), re_.get("p99_ms")):
            line += f"{_f(v) if v is not None else '':>{w}}"
        line += f"{(f'{100 * share:.0f}%' if share is not None else ''):>{w}}"
        out.append(line)
    if s["batch"]:
        out.append("\nauth: Ed25519 batch signer, N clients at once (fresh sessions), medians")
        out.append(f"{'window (us)':>{w}}{'clients':>{w}}{'signatures/s':>{w + 2}}{'conns/s':>{w}}"
                   f"{'sig/conn':>{w}}{'p50 ms':>{w}}{'p99 ms':>{w}}")
        ws = sorted(s["batch"], key=lambda x: (x != "default", int(x) if x.isdigit() else 0))
        for wl, c in ((wl, c) for wl in ws for c in sorted(s["batch"][wl])):
            d = s["batch"][wl][c]
            out.append(f"{wl:>{w}}{c:>{w}}{_f(d['signatures_per_s'], 0):>{w + 2}}"
                       f"{_f(d['connections_per_s'], 0):>{w}}"
                       f"{_f(d['signatures_per_connection']):>{w}}{_f(d['p50_ms']):>{w}}"
                       f"{_f(d['p99_ms']):>{w}}")
    return out
