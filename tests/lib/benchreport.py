#!/usr/bin/env python3
"""make bench's report: medians of the runs, ratios, the targets of issue 16.

  benchreport.py --results FILE.jsonl --json OUT.json --runs N --bench LIST
                 [--meta JSON] [--na JSON] [--wire JSON]

FILE.jsonl has one record per measurement, written by tests/bench.sh:
{"run", "peer", "measure", ...values..., "cpu_s", "a_retrans", ...}.  Prints
the table and the checklist of targets (docs/machine-facts.md#performance-
where-the-time-goes says how to read them) and writes OUT.json: the machine,
the medians, the targets and every raw record.  Reports, never judges the run:
a target not met is printed as "NOT met" and the exit status stays 0; it is
1 only if a measurement gave no figure (an iperf3 run that failed, a short
connection run that made none), which the report names.
"""
import argparse
import json
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchauth  # noqa: E402

PEERS = ["plain", "tcpcrypt", "stunnel", "wireguard"]
MEASURES = ["bulk1", "bulk4", "short1", "short16"]


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def cpu_per_gb(r, k="cpu_s"):
    if r.get("bytes") and r.get(k) is not None:
        return r[k] / (r["bytes"] / 1e9)
    return None


def medians(recs):
    """{peer: {measure: {field: median over runs}}} and the per-run kernel sums."""
    by = {}
    for r in recs:
        if "run" not in r:
            continue
        by.setdefault(r["peer"], {}).setdefault(r["measure"], []).append(r)
    med = {}
    for p, ms in by.items():
        for m, rs in ms.items():
            fields = {}
            for k in ("gbps", "rate", "p50_ms", "p99_ms", "failed", "cpu_s", "bytes",
                      "a_retrans", "a_timeouts", "b_retrans", "b_timeouts"):
                fields[k] = median([r.get(k) for r in rs])
            fields["cpu_s_per_gb"] = median([cpu_per_gb(r) for r in rs])
            fields["bed_cpu_s_per_gb"] = median([cpu_per_gb(r, "bed_cpu_s") for r in rs])
            # how far the runs spread: largest / smallest
            for k in ("gbps", "rate"):
                xs = [r[k] for r in rs if r.get(k)]
                fields[k + "_spread"] = max(xs) / min(xs) if xs else None
            fields["runs"] = len(rs)
            med.setdefault(p, {})[m] = fields
    # the kernel's counters per peer: summed over a run's measurements of that
    # peer (bulk and short), median over the runs
    kern = {}
    for p, ms in by.items():
        runs = {}
        for m, rs in ms.items():
            if m not in MEASURES:
                continue
            for r in rs:
                s = runs.setdefault(r["run"], [0, 0, 0, 0])
                for i, k in enumerate(("a_retrans", "a_timeouts", "b_retrans", "b_timeouts")):
                    s[i] += r.get(k) or 0
        if runs:
            kern[p] = dict(zip(("a_retrans", "a_timeouts", "b_retrans", "b_timeouts"),
                               (median([s[i] for s in runs.values()]) for i in range(4))))
    return med, kern


def paired_ratios(recs):
    """{peer: {measure: median over runs of (peer / plain in the same run)}}: a
    machine whose speed drifts between runs moves both sides of each ratio."""
    by = {}
    for r in recs:
        if r.get("measure") in MEASURES and "run" in r:
            k = "rate" if r["measure"].startswith("short") else "gbps"
            by.setdefault((r["run"], r["measure"]), {})[r["peer"]] = r.get(k)
    out = {}
    for (run, m), vs in by.items():
        base = vs.get("plain")
        for p, v in vs.items():
            if p != "plain" and v is not None and base:
                out.setdefault(p, {}).setdefault(m, []).append(v / base)
    return {p: {m: median(xs) for m, xs in ms.items()} for p, ms in out.items()}


def negotiation_check(recs):
    """Peers other than tcpcrypt must negotiate nothing; tcpcrypt must."""
    bad, neg = [], {}
    for r in recs:
        if r.get("measure") in MEASURES:
            n = (r.get("a_negotiated") or 0) + (r.get("b_negotiated") or 0)
            neg[r["peer"]] = neg.get(r["peer"], 0) + n
    for p, n in neg.items():
        if p != "tcpcrypt" and n:
            bad.append(f"{p}: {n} connections negotiated TCP-ENO: its figures are not plain {p}")
        if p == "tcpcrypt" and not n:
            bad.append("tcpcrypt: no connection negotiated: its figures are plain TCP")
    return bad, neg


def fmt(v, nd=3):
    if v is None:
        return "n/a"
    if abs(v) >= 1000:
        return f"{v:.0f}"
    if abs(v) >= 100:
        return f"{v:.1f}"
    return f"{v:.{nd}f}"


def ratio(a, b):
    return a / b if a is not None and b else None


def cell(v, base, nd=3):
    s = fmt(v, nd)
    r = ratio(v, base)
    return s if r is None else f"{s} ({r:.2f}x)"


def status(ok):
    return "met" if ok else "NOT met"


def targets(med, idle, burst, resumed, runs_resumed_na):
    """The targets of issue 16 part 2 and issue 9 part 6: (text, value, status)."""
    g = lambda p, m, k: med.get(p, {}).get(m, {}).get(k)
    out = []

    def add(text, value, ok, why=None):
        if why:
            out.append({"target": text, "value": value, "status": f"n/a ({why})"})
        else:
            out.append({"target": text, "value": value, "status": status(ok)})

    pl, en, st = g("plain", "bulk1", "gbps"), g("tcpcrypt", "bulk1", "gbps"), g("stunnel", "bulk1", "gbps")
    r = ratio(en, pl)
    add("bulk, one flow: >= 0.25x plain", r and f"{r:.3f}x", r is not None and r >= 0.25,
        None if r is not None else "not measured")
    r = ratio(en, st)
    add("bulk, one flow: >= 1.0x stunnel", r and f"{r:.3f}x", r is not None and r >= 1.0,
        None if r is not None else "stunnel not measured")
    pl, en, st = g("plain", "short16", "rate"), g("tcpcrypt", "short16", "rate"), g("stunnel", "short16", "rate")
    r = ratio(en, pl)
    add("short connections, 16 clients: >= 0.4x plain", r and f"{r:.3f}x",
        r is not None and r >= 0.4, None if r is not None else "not measured")
    r = ratio(en, st)
    add("short connections, 16 clients: >= 20x stunnel", r and f"{r:.2f}x",
        r is not None and r >= 20, None if r is not None else "stunnel not measured")
    pl, en = g("plain", "short1", "p50_ms"), g("tcpcrypt", "short1", "p50_ms")
    if pl is not None and en is not None:
        add("connect + first byte p50, fresh session: <= plain + 0.3 ms",
            f"plain {en - pl:+.3f} ms", en <= pl + 0.3)
    else:
        add("connect + first byte p50, fresh session: <= plain + 0.3 ms", None, False, "not measured")
    bp, be = burst.get("plain"), burst.get("tcpcrypt")
    if bp and be:
        sent = be["a_sent"] + be["b_sent"]
        resent = be["a_wire_retrans"] + be["b_wire_retrans"]
        r = resent / sent if sent else None
        add("burst: bytes the agents resend <= 1% of what they send",
            r is not None and f"{100 * r:.2f}% ({resent} of {sent} B)", r is not None and r <= 0.01,
            None if r is not None else "nothing sent")
        tp = bp["a_timeouts"] + bp["b_timeouts"]
        te = be["a_timeouts"] + be["b_timeouts"]
        add("burst: no kernel RTO timeouts caused by the agents (tcpcrypt's <= plain's)",
            f"TCPTimeouts A+B {te} (plain {tp})", te <= tp)
        r = ratio(be["open_s"], bp["open_s"])
        add("burst: total time <= 1.2x plain", r and f"{r:.2f}x ({be['open_s']:.2f} s vs {bp['open_s']:.2f} s)",
            r is not None and r <= 1.2, None if r is not None else "not measured")
    else:
        for t in ("burst: bytes the agents resend <= 1% of what they send",
                  "burst: no kernel RTO timeouts caused by the agents (tcpcrypt's <= plain's)",
                  "burst: total time <= 1.2x plain"):
            add(t, None, False, "burst not run")
    ie = idle.get("tcpcrypt")
    if ie:
        kb = max(ie["a_kb_per_1000"], ie["b_kb_per_1000"]) / 1000
        add("<= 16 KB of agent memory per idle encrypted flow", f"{kb:.1f} KB (the larger of A, B)",
            kb <= 16)
    else:
        add("<= 16 KB of agent memory per idle encrypted flow", None, False, "idle not run")
    if be and be["n"] >= 10000:
        add("10,000 concurrent encrypted flows, default settings",
            f"{be['held']} of {be['n']} held", be["held"] >= 10000 and be["failed"] == 0)
    else:
        add("10,000 concurrent encrypted flows, default settings", None, False,
            "run with BURST=10000" if not be else f"burst had {be['n']}; run with BURST=10000")
    pl, r16 = g("plain", "short1", "p50_ms"), g("plain", "short16", "rate")
    rp50, rrate = resumed.get("p50_ms"), resumed.get("rate16")
    if rp50 is not None and pl is not None:
        add("resumed connect + first byte p50: <= plain + 0.1 ms", f"plain {rp50 - pl:+.3f} ms",
            rp50 <= pl + 0.1)
    else:
        add("resumed connect + first byte p50: <= plain + 0.1 ms", None, False, runs_resumed_na)
    r = ratio(rrate, r16)
    if r is not None:
        add("resumed short connections, 16 clients: >= 0.7x plain", f"{r:.3f}x", r >= 0.7)
    else:
        add("resumed short connections, 16 clients: >= 0.7x plain", None, False, runs_resumed_na)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--results", required=True)
    ap.add_argument("--json", required=True)
    ap.add_argument("--runs", type=int, required=True)
    ap.add_argument("--bench", default="")
    ap.add_argument("--meta", default="{}")
    ap.add_argument("--na", default="{}")
    ap.add_argument("--wire", default="{}")
    ap.add_argument("--auth-wire", default="{}")
    ap.add_argument("--auth-wire-resumed", default="{}")
    a = ap.parse_args()
    with open(a.results) as f:
        recs = [json.loads(l) for l in f if l.strip()]
    meta, na, wire = json.loads(a.meta), json.loads(a.na), json.loads(a.wire or "{}")
    med, kern = medians(recs)
    bad, neg = negotiation_check(recs)
    idle = {r["peer"]: r for r in recs if r.get("measure") == "idle"}
    burst = {r["peer"]: r for r in recs if r.get("measure") == "burst"}
    res = [r for r in recs if r.get("measure") == "resumed"]
    resumed = {"p50_ms": median([r.get("p50_ms") for r in res]),
               "rate16": median([r.get("rate16") for r in res])}
    resumed_na = "no resumed measurement (BENCH without short)" if not res else \
        "the resumed measurement gave no figures"
    resumed["status"] = "measured" if resumed["p50_ms"] is not None else f"n/a ({resumed_na})"
    peers = [p for p in PEERS if p in med or p in na]
    col = lambda p: "n/a (see below)" if p in na else None

    print(f"\nmake bench: medians of {a.runs} runs, test bed A -- M -- B (veth), one run side by side")
    print(f"machine: {meta.get('nproc')} CPUs, kernel {meta.get('kernel')}, {meta.get('date')}, "
          f"git {meta.get('git')}; ratios are to plain TCP of the same runs")
    if meta.get("load_start"):
        print(f"load average (1, 5, 15 min) at the start: {meta['load_start']}, "
              f"at the end: {meta.get('load_end')} (other work on the machine shows here)")
    if meta.get("agent_args"):
        print(f"agents started with: {meta['agent_args']}")
    print()
    w0, w = 40, 19
    head = f"{'':{w0}}" + "".join(f"{p:>{w}}" for p in peers)
    if "stunnel" in med and "tcpcrypt" in med:
        head += f"{'tcpcrypt/stunnel':>{w}}"
    rows = [("bulk, one flow (Gbit/s)", "bulk1", "gbps"),
            ("bulk, 4 flows (Gbit/s)", "bulk4", "gbps"),
            ("CPU s per GB, one flow (machine)", "bulk1", "cpu_s_per_gb"),
            ("CPU s per GB, 4 flows (machine)", "bulk4", "cpu_s_per_gb"),
            ("CPU s per GB, one flow (bed cgroups)", "bulk1", "bed_cpu_s_per_gb"),
            ("CPU s per GB, 4 flows (bed cgroups)", "bulk4", "bed_cpu_s_per_gb"),
            (f"short conns/s, 1 client ({meta.get('size', 64)} B echo)", "short1", "rate"),
            ("short conns/s, 16 clients", "short16", "rate"),
            ("connect + first byte p50 (ms)", "short1", "p50_ms"),
            ("connect + first byte p99 (ms)", "short1", "p99_ms")]
    have_rows = [r for r in rows if any(r[1] in med.get(p, {}) for p in peers)]
    if have_rows:
        print(head)
        for label, m, k in have_rows:
            base = med.get("plain", {}).get(m, {}).get(k)
            line = f"{label:{w0}}"
            for p in peers:
                v = med.get(p, {}).get(m, {}).get(k)
                line += f"{(col(p) or (fmt(v) if p == 'plain' else cell(v, base)))[:w - 1]:>{w}}"
            if "stunnel" in med and "tcpcrypt" in med:
                line += f"{fmt(ratio(med['tcpcrypt'].get(m, {}).get(k), med['stunnel'].get(m, {}).get(k)), 2):>{w}}"
            print(line)
        for label, ka, kb in (("kernel TcpRetransSegs A/B per run", "a_retrans", "b_retrans"),
                              ("kernel TCPTimeouts A/B per run", "a_timeouts", "b_timeouts")):
            line = f"{label:{w0}}"
            for p in peers:
                k = kern.get(p)
                line += f"{(col(p) or (f'{k[ka]:g}/{k[kb]:g}' if k else 'n/a'))[:w - 1]:>{w}}"
            print(line)
        line = f"{'spread over runs, max/min':{w0}}"
        for p in peers:
            sp = [med.get(p, {}).get(m, {}).get(k + "_spread") for m, k in
                  (("bulk1", "gbps"), ("bulk4", "gbps"), ("short1", "rate"), ("short16", "rate"))]
            sp = [x for x in sp if x]
            line += f"{(col(p) or (f'up to {max(sp):.2f}x' if sp else 'n/a'))[:w - 1]:>{w}}"
        print(line)
        pr = paired_ratios(recs)
        if pr:
            print(f"{'ratio to plain, paired within each run:':{w0}}")
            for label, m in (("  bulk, one flow", "bulk1"), ("  bulk, 4 flows", "bulk4"),
                             ("  short conns/s, 1 client", "short1"),
                             ("  short conns/s, 16 clients", "short16")):
                if any(m in pr.get(p, {}) for p in peers):
                    print(f"{label:{w0}}{'':>{w}}" + "".join(
                        f"{(col(p) or fmt(pr.get(p, {}).get(m), 3) + 'x')[:w - 1]:>{w}}"
                        for p in peers if p != "plain"))
        fails = {p: sum((r.get("failed") or 0) for r in recs if r.get("peer") == p and r.get("measure", "").startswith("short")) for p in peers}
        if any(fails.values()):
            print(f"{'short connections failed (all runs)':{w0}}" + "".join(f"{fails[p]:>{w}}" for p in peers))
        for label, k in (("resumed connect + first byte p50 (ms)", "p50_ms"),
                         ("resumed conns/s, 16 clients", "rate16")):
            if "short" in a.bench.split(","):
                print(f"{label:{w0}}{'':>{w}}{fmt(resumed[k]):>{w}}")
    for p, why in na.items():
        print(f"\n{p}: n/a: {why}")
    if "detached" in med.get("plain", {}):
        d, t = med["plain"]["detached"]["gbps"], med["plain"]["attached"]["gbps"]
        print(f"\n{'plain TCP, one flow (Gbit/s)':{w0}}{'detached':>{w}}{'attached':>{w}}{'ratio':>{w}}")
        print(f"{'':{w0}}{fmt(d):>{w}}{fmt(t):>{w}}{fmt(ratio(t, d), 2):>{w}}")
    if idle:
        print(f"\n{'agent RSS per 1000 idle flows (KB), A/B':{w0}}" + "".join(
            f"{p + ' ' + str(idle[p]['a_kb_per_1000']) + '/' + str(idle[p]['b_kb_per_1000']):>{w + 4}}"
            for p in ("plain", "tcpcrypt") if p in idle) + f"   ({next(iter(idle.values()))['flows']} flows held)")
    if burst:
        print(f"\nburst: {next(iter(burst.values()))['n']} concurrent opens, each sends a line and waits")
        print(f"{'':{w0}}" + "".join(f"{p:>{w}}" for p in ("plain", "tcpcrypt") if p in burst))
        brows = [("time to open all (s)", lambda r: f"{r['open_s']:.2f}"),
                 ("held / failed", lambda r: f"{r['held']}/{r['failed']}"),
                 ("TCP payload sent A/B (bytes, wire)", lambda r: f"{r['a_sent']}/{r['b_sent']}"),
                 ("agents' resent bytes A/B", lambda r: f"{r['a_wire_retrans']}/{r['b_wire_retrans']}"),
                 ("kernel TcpRetransSegs A/B", lambda r: f"{r['a_retrans']}/{r['b_retrans']}"),
                 ("kernel TCPTimeouts A/B", lambda r: f"{r['a_timeouts']}/{r['b_timeouts']}"),
                 ("agent RSS A/B (MB), flows open", lambda r: f"{r['a_rss_kb'] / 1024:.0f}/{r['b_rss_kb'] / 1024:.0f}")]
        for label, f in brows:
            print(f"{label:{w0}}" + "".join(f"{f(burst[p]):>{w}}" for p in ("plain", "tcpcrypt") if p in burst))
    auth = benchauth.summarise(recs)
    auth_wire = {"stunnel": json.loads(a.auth_wire or "{}"),
                 "resumed_rows": json.loads(a.auth_wire_resumed or "{}")}
    if auth["order"] or auth["batch"]:
        print("\n".join(benchauth.report(auth, a.runs)))
    tg = targets(med, idle, burst, resumed, resumed_na)
    if "auth" in a.bench.split(",") or auth["order"]:
        tg += benchauth.targets(auth)
        bad += benchauth.warnings(auth, auth_wire["stunnel"], auth_wire["resumed_rows"])
    print("\ntargets (issue 16 part 2, issue 9 part 6, issue 10): reported, not asserted")
    for t in tg:
        mark = "x" if t["status"] == "met" else " "
        print(f"  [{mark}] {t['target']}: {t['value'] if t['value'] else '-'}: {t['status']}")
    missing = [f"run {r['run']} {r['peer']} {r['measure']}" for r in recs
               if r.get("measure") in MEASURES + ["attached", "detached"]
               and r.get("gbps" if r["measure"] not in ("short1", "short16") else "rate") is None]
    missing += [f"run {r['run']} auth {r.get('row', r.get('clients'))}" for r in recs
                if r.get("measure") in ("auth", "auth_batch") and not r.get("ok")]
    if wire.get("tcpcrypt", {}).get("resumed"):
        bad.append(f"tcpcrypt: the wire check saw {wire['tcpcrypt']['resumed']} of "
                   f"{wire['tcpcrypt']['connections']} sessions resumed: the tcpcrypt column is "
                   "meant to be fresh sessions (resumed ones are measured apart)")
    for p, r in burst.items():
        if r.get("capture_dropped"):
            bad.append(f"burst, {p}: the capture in M lost {r['capture_dropped']} packets: "
                       "the bytes sent are a lower bound")
    if missing:
        bad.append("no figure from: " + ", ".join(missing) + " (medians of the others)")
    for b in bad:
        print(f"\nWARNING: {b}")
    if wire:
        print(f"\nwire check (capture in M, 20 connections each): {json.dumps(wire)}")
    if auth_wire["stunnel"] or auth_wire["resumed_rows"]:
        print(f"auth wire check (capture in M): stunnel's TLS handshakes {json.dumps(auth_wire['stunnel'])}; "
              f"B's SYN-ACKs of run 1's resumed rows per port {json.dumps(auth_wire['resumed_rows'])}")
    out = {"machine": meta, "runs": a.runs, "bench": a.bench, "na": na, "wire_check": wire,
           "negotiated": neg, "medians": med, "paired_ratios": paired_ratios(recs), "kernel_per_run": kern, "idle": idle,
           "burst": burst, "resumed": resumed, "auth": auth, "auth_wire": auth_wire, "targets": tg, "warnings": bad, "raw": recs}
    with open(a.json, "w") as f:
        json.dump(out, f, indent=1)
    print(f"\nJSON: {a.json}")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
