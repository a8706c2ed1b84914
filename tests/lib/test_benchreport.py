#!/usr/bin/env python3
"""Checks of tests/lib/benchreport.py on hand-made records (the expected
figures are worked out by hand in the comments), run by `make bench` first:
python3 tests/lib/test_benchreport.py"""
import json
import os
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchreport as br  # noqa: E402


def rec(run, peer, measure, **kw):
    r = {"run": run, "peer": peer, "measure": measure, "cpu_s": 0.0, "a_retrans": 0,
         "a_timeouts": 0, "b_retrans": 0, "b_timeouts": 0, "a_negotiated": 0,
         "b_negotiated": 0}
    r.update(kw)
    return r


RECS = [
    # plain bulk 10, 12, 11 -> median 11; tcpcrypt 2, 4, 3 -> 3; stunnel 2 -> 3 / 2 = 1.5x
    rec(1, "plain", "bulk1", gbps=10, bytes=4e9, cpu_s=2.0, a_retrans=5, bed_cpu_s=1.0),
    rec(2, "plain", "bulk1", gbps=12, bytes=4e9, cpu_s=4.0),
    rec(3, "plain", "bulk1", gbps=11, bytes=4e9, cpu_s=3.0),
    rec(1, "tcpcrypt", "bulk1", gbps=2, bytes=1e9, cpu_s=9.0, a_negotiated=2, b_negotiated=2),
    rec(2, "tcpcrypt", "bulk1", gbps=4, bytes=1e9, cpu_s=7.0, a_negotiated=2, b_negotiated=2),
    rec(3, "tcpcrypt", "bulk1", gbps=3, bytes=1e9, cpu_s=8.0, a_negotiated=2, b_negotiated=2),
    rec(1, "stunnel", "bulk1", gbps=2, bytes=1e9, cpu_s=5.0),
    # short, 16 clients: plain 1000, tcpcrypt 500 (0.5x), stunnel 50 (10x)
    rec(1, "plain", "short16", rate=1000, p50_ms=1, p99_ms=2, failed=0, a_retrans=3),
    rec(1, "tcpcrypt", "short16", rate=500, p50_ms=2, p99_ms=4, failed=0, a_negotiated=9),
    rec(1, "stunnel", "short16", rate=50, p50_ms=9, p99_ms=9, failed=0),
    # 1 client p50: plain 0.2 ms, tcpcrypt 0.45 ms: plain + 0.25 ms
    rec(1, "plain", "short1", rate=100, p50_ms=0.2, p99_ms=1, failed=0),
    rec(1, "tcpcrypt", "short1", rate=50, p50_ms=0.45, p99_ms=1, failed=0, a_negotiated=1),
    {"peer": "tcpcrypt", "measure": "idle", "flows": 1000, "a_kb_per_1000": 12000,
     "b_kb_per_1000": 17000},
    {"peer": "plain", "measure": "burst", "n": 5000, "held": 5000, "failed": 0, "open_s": 5.0,
     "a_sent": 1000, "b_sent": 1000, "a_wire_retrans": 0, "b_wire_retrans": 0,
     "a_timeouts": 0, "b_timeouts": 0, "a_retrans": 0, "b_retrans": 0, "a_rss_kb": 1,
     "b_rss_kb": 1},
    {"peer": "tcpcrypt", "measure": "burst", "n": 5000, "held": 5000, "failed": 0, "open_s": 7.0,
     "a_sent": 1500, "b_sent": 500, "a_wire_retrans": 4, "b_wire_retrans": 6,
     "a_timeouts": 1, "b_timeouts": 2, "a_retrans": 0, "b_retrans": 0, "a_rss_kb": 1,
     "b_rss_kb": 1},
]


class T(unittest.TestCase):
    def test_medians_and_cpu(self):
        med, kern = br.medians(RECS)
        self.assertEqual(med["plain"]["bulk1"]["gbps"], 11)
        self.assertEqual(med["tcpcrypt"]["bulk1"]["gbps"], 3)
        # cpu s per GB: plain 2/4, 4/4, 3/4 -> 0.75; tcpcrypt 9, 7, 8 -> 8
        self.assertAlmostEqual(med["plain"]["bulk1"]["cpu_s_per_gb"], 0.75)
        self.assertAlmostEqual(med["tcpcrypt"]["bulk1"]["cpu_s_per_gb"], 8)
        # the bed's own CPU: only run 1 has it, 1.0 / 4 GB
        self.assertAlmostEqual(med["plain"]["bulk1"]["bed_cpu_s_per_gb"], 0.25)
        # spread: plain 12 / 10
        self.assertAlmostEqual(med["plain"]["bulk1"]["gbps_spread"], 1.2)
        # kernel: run 1 of plain 5 + 3 = 8, runs 2 and 3 0 -> median 0
        self.assertEqual(kern["plain"]["a_retrans"], 0)

    def test_paired_ratios(self):
        pr = br.paired_ratios(RECS)
        # tcpcrypt / plain per run: 2/10, 4/12, 3/11 -> median 3/11; stunnel run 1 only: 2/10
        self.assertAlmostEqual(pr["tcpcrypt"]["bulk1"], 3 / 11)
        self.assertAlmostEqual(pr["stunnel"]["bulk1"], 0.2)
        self.assertAlmostEqual(pr["stunnel"]["short16"], 0.05)
        self.assertNotIn("plain", pr)

    def test_negotiation_check(self):
        bad, neg = br.negotiation_check(RECS)
        self.assertEqual(bad, [])
        self.assertEqual(neg["tcpcrypt"], 22)
        bad, _ = br.negotiation_check(RECS + [rec(2, "stunnel", "short1", a_negotiated=1)])
        self.assertEqual(len(bad), 1)
        self.assertIn("stunnel", bad[0])
        plain = [dict(r, a_negotiated=0, b_negotiated=0) for r in RECS]
        bad, _ = br.negotiation_check(plain)
        self.assertEqual(len(bad), 1)
        self.assertIn("tcpcrypt", bad[0])

    def test_targets(self):
        med, _ = br.medians(RECS)
        idle = {"tcpcrypt": RECS[12]}
        burst = {"plain": RECS[13], "tcpcrypt": RECS[14]}
        t = {x["target"]: x["status"] for x in br.targets(med, idle, burst, {}, "none yet")}
        want = {
            "bulk, one flow: >= 0.25x plain": "met",  # 3 / 11 = 0.27
            "bulk, one flow: >= 1.0x stunnel": "met",  # 1.5
            "short connections, 16 clients: >= 0.4x plain": "met",  # 0.5
            "short connections, 16 clients: >= 20x stunnel": "NOT met",  # 10
            "connect + first byte p50, fresh session: <= plain + 0.3 ms": "met",  # + 0.25
            "burst: bytes the agents resend <= 1% of what they send": "met",  # 10 of 3000
            "burst: no kernel RTO timeouts caused by the agents (tcpcrypt's <= plain's)":
                "NOT met",  # 3 > 0
            "burst: total time <= 1.2x plain": "NOT met",  # 1.4
            "<= 16 KB of agent memory per idle encrypted flow": "NOT met",  # 17 KB on B
            "10,000 concurrent encrypted flows, default settings":
                "n/a (burst had 5000; run with BURST=10000)",
            "resumed connect + first byte p50: <= plain + 0.1 ms": "n/a (none yet)",
            "resumed short connections, 16 clients: >= 0.7x plain": "n/a (none yet)",
        }
        self.assertEqual(t, want)

    def test_resumed(self):
        med, _ = br.medians(RECS)
        # plain p50 0.2, 16-client rate 1000: 0.25 ms is within 0.1 ms, 650/s is 0.65x
        t = {x["target"]: x["status"] for x in
             br.targets(med, {}, {}, {"p50_ms": 0.25, "rate16": 650}, "-")}
        self.assertEqual(t["resumed connect + first byte p50: <= plain + 0.1 ms"], "met")
        self.assertEqual(t["resumed short connections, 16 clients: >= 0.7x plain"], "NOT met")

    def test_cli_writes_json(self):
        with tempfile.TemporaryDirectory() as d:
            res, out = os.path.join(d, "r.jsonl"), os.path.join(d, "b.json")
            with open(res, "w") as f:
                f.write("".join(json.dumps(r) + "\n" for r in RECS))
            p = subprocess.run([sys.executable, br.__file__, "--results", res, "--json", out,
                                "--runs", "3", "--na", '{"wireguard": "no tun"}'],
                               capture_output=True, text=True, check=True)
            self.assertIn("n/a (see below)", p.stdout)
            self.assertIn("wireguard: n/a: no tun", p.stdout)
            with open(out) as f:
                j = json.load(f)
            self.assertEqual(len(j["raw"]), len(RECS))
            self.assertIsNone(j["resumed"]["p50_ms"])
            self.assertTrue(j["resumed"]["status"].startswith("n/a"))
            self.assertEqual(j["na"], {"wireguard": "no tun"})
            # resumed sessions seen on the wire in the tcpcrypt column: warned
            p = subprocess.run([sys.executable, br.__file__, "--results", res, "--json", out,
                                "--runs", "3", "--wire",
                                '{"tcpcrypt": {"connections": 20, "resumed": 3}}'],
                               capture_output=True, text=True, check=True)
            self.assertIn("saw 3 of 20 sessions resumed", p.stdout)
            # a run without a figure: named, and the exit status says so
            with open(res, "a") as f:
                f.write(json.dumps(rec(2, "stunnel", "bulk1", gbps=None)) + "\n")
            p = subprocess.run([sys.executable, br.__file__, "--results", res, "--json", out,
                                "--runs", "3"], capture_output=True, text=True)
            self.assertEqual(p.returncode, 1)
            self.assertIn("no figure from: run 2 stunnel bulk1", p.stdout)


import benchauth as ba  # noqa: E402


def arec(run, row, phase, p50, **kw):
    r = {"run": run, "peer": "auth", "measure": "auth", "row": row, "phase": phase,
         "ok": 100, "failed": 0, "p50_ms": p50, "p99_ms": 2 * p50, "rate": 1000 / p50,
         "a_negotiated": 0 if row in ("tcp", "stunnel-fresh", "stunnel-resumed") else 100,
         "a_resumed": 100 if phase == "resumed" else 0}
    r.update(kw)
    return r


def brec(run, clients, sigs, proofs, secs=2.0, window=None, **kw):
    r = {"run": run, "peer": "auth", "measure": "auth_batch", "clients": clients,
         "window_us": window, "ok": proofs, "failed": 0, "srv_failed": 0, "p50_ms": 1.0,
         "p99_ms": 2.0, "signatures": sigs, "proofs": proofs, "srv_seconds": secs}
    r.update(kw)
    return r


AUTH = [
    # psk fresh 1.0, 1.2, 1.1 -> 1.1; resumed 0.9 (one run)
    arec(1, "psk", "fresh", 1.0), arec(2, "psk", "fresh", 1.2), arec(3, "psk", "fresh", 1.1),
    arec(1, "psk", "resumed", 0.9),
    arec(1, "tcp", "fresh", 0.1), arec(1, "tcpcrypt", "fresh", 0.6),
    # spake2 fresh 2.5 > stunnel fresh 2.4: NOT met
    arec(1, "spake2", "fresh", 2.5),
    arec(1, "stunnel-fresh", "fresh", 2.4), arec(1, "stunnel-resumed", "fresh", 1.5),
    # 16 clients: 100/1000 and 150/1000 -> median 0.125 (<= 1/8: met); 1 client 1.0
    brec(1, 16, 100, 1000), brec(2, 16, 150, 1000), brec(1, 1, 500, 500),
    brec(1, 16, 900, 1000, window=0),
]


class Auth(unittest.TestCase):
    def test_summarise(self):
        s = ba.summarise(AUTH)
        self.assertEqual(s["order"], ["tcp", "tcpcrypt", "psk", "spake2", "stunnel4 TLS 1.3"])
        self.assertAlmostEqual(s["rows"]["psk"]["fresh"]["p50_ms"], 1.1)
        self.assertEqual(s["rows"]["psk"]["fresh"]["runs"], 3)
        self.assertAlmostEqual(s["rows"]["psk"]["resumed"]["p50_ms"], 0.9)
        self.assertEqual(s["rows"]["psk"]["resumed"]["resumed_share"], 1.0)
        # stunnel's two services are one row's two columns
        self.assertAlmostEqual(s["rows"]["stunnel4 TLS 1.3"]["fresh"]["p50_ms"], 2.4)
        self.assertAlmostEqual(s["rows"]["stunnel4 TLS 1.3"]["resumed"]["p50_ms"], 1.5)
        b = s["batch"]["default"][16]
        self.assertAlmostEqual(b["signatures_per_connection"], 0.125)
        # 100 and 150 signatures in 2 s: 50 and 75 per s -> 62.5; 500 connections per s
        self.assertAlmostEqual(b["signatures_per_s"], 62.5)
        self.assertAlmostEqual(b["connections_per_s"], 500)
        self.assertAlmostEqual(s["batch"]["0"][16]["signatures_per_connection"], 0.9)

    def test_targets(self):
        t = {x["target"]: x["status"] for x in ba.targets(ba.summarise(AUTH))}
        ahead = ": connect + authenticated first byte p50 ahead of stunnel's fresh handshake"
        self.assertEqual(t["psk" + ahead], "met")  # 1.1 and 0.9 < 2.4
        self.assertEqual(t["tcpcrypt" + ahead], "met")
        self.assertEqual(t["spake2" + ahead], "NOT met")  # 2.5
        self.assertNotIn("tcp" + ahead, t)
        self.assertEqual(t["batch-signed Ed25519, 16 clients: <= 1/8 signature per connection"],
                         "met")
        worse = AUTH + [brec(3, 16, 200, 1000)]  # 0.1, 0.15, 0.2 -> 0.15
        t = {x["target"]: x["status"] for x in ba.targets(ba.summarise(worse))}
        self.assertEqual(t["batch-signed Ed25519, 16 clients: <= 1/8 signature per connection"],
                         "NOT met")
        no_tls = [r for r in AUTH if not r.get("row", "").startswith("stunnel")]
        t = {x["target"]: x["status"] for x in ba.targets(ba.summarise(no_tls))}
        self.assertEqual(t["psk" + ahead], "n/a (stunnel not measured)")

    def test_warnings(self):
        s = ba.summarise(AUTH)
        ok_wire = {"stunnel-fresh": {"connections": 20, "server_hellos": 20, "offered": 0,
                                     "resumed": 0},
                   "stunnel-resumed": {"connections": 20, "server_hellos": 20, "offered": 20,
                                       "resumed": 20}}
        self.assertEqual(ba.warnings(s, ok_wire, {"6122": {"synacks": 5, "resumed": 5}}), [])
        bad_wire = {"stunnel-fresh": dict(ok_wire["stunnel-fresh"], resumed=1),
                    "stunnel-resumed": dict(ok_wire["stunnel-resumed"], resumed=19)}
        w = ba.warnings(s, bad_wire, {"6122": {"synacks": 5, "resumed": 4}})
        self.assertEqual(len(w), 3)
        self.assertIn("stunnel fresh on the wire", w[0])
        self.assertIn("stunnel resumed on the wire", w[1])
        self.assertIn("4 of 5 SYN-ACKs", w[2])
        # a resumed row that did not resume, a plain row that negotiated, failures
        recs = AUTH + [arec(2, "psk", "resumed", 1.0, a_resumed=0, failed=3),
                       arec(2, "tcp", "fresh", 0.1, a_negotiated=1)]
        w = ba.warnings(ba.summarise(recs), {}, {})
        self.assertTrue(any("psk resumed: 3 connections failed" in x for x in w))
        self.assertTrue(any("psk resumed: only 0.5 of the sessions resumed" in x for x in w))
        self.assertTrue(any("tcp: 1 connections negotiated" in x for x in w))

    def test_cli_prints_the_auth_tables(self):
        with tempfile.TemporaryDirectory() as d:
            res, out = os.path.join(d, "r.jsonl"), os.path.join(d, "b.json")
            with open(res, "w") as f:
                f.write("".join(json.dumps(r) + "\n" for r in AUTH))
            p = subprocess.run([sys.executable, br.__file__, "--results", res, "--json", out,
                                "--runs", "3", "--bench", "auth"],
                               capture_output=True, text=True, check=True)
            self.assertIn("auth: connect + authenticated first byte", p.stdout)
            self.assertIn("stunnel4 TLS 1.3", p.stdout)
            self.assertIn("[x] batch-signed Ed25519, 16 clients", p.stdout)
            self.assertIn("[ ] spake2: connect", p.stdout)
            with open(out) as f:
                j = json.load(f)
            self.assertAlmostEqual(j["auth"]["batch"]["default"]["16"]["signatures_per_connection"],
                                   0.125)
            # a row without a figure: named, exit status 1
            with open(res, "a") as f:
                f.write(json.dumps(arec(2, "spake2", "fresh", 1, ok=0, p50_ms=None, p99_ms=None, rate=0)) + "\n")
            p = subprocess.run([sys.executable, br.__file__, "--results", res, "--json", out,
                                "--runs", "3", "--bench", "auth"], capture_output=True, text=True)
            self.assertEqual(p.returncode, 1)
            self.assertIn("run 2 auth spake2", p.stdout)


if __name__ == "__main__":
    unittest.main()
