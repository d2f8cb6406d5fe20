#!/usr/bin/env python3
"""Sign-in helpers for bench/run.sh's auth scenarios (standard library only).

    auth.py pb-setup BASE EMAIL PASSWORD USER_EMAIL USER_PASSWORD
        as PocketBase superuser: add a `role` field to the `users` auth collection, create the
        `guarded` collection behind the rule of issue #11, and a user with role USER; print
        the user's id.
    auth.py login URL BODY_JSON KEY
        POST BODY_JSON to URL (a sign-in endpoint), print the answer's KEY (`token`,
        `refresh_token`; looked up at the top level and inside `data`).
    auth.py logins URL BODY_JSON KEY N FILE
        N fresh sign-ins, one after the other; write each answer's KEY to FILE, one a line
        (the starting refresh tokens of the refresh scenario: one per wrk connection).
    auth.py login-latency URL BODY_JSON N OUT_JSON
        N sign-ins one after the other over one keep-alive connection; write every latency
        (ms) with their median and p99 to OUT_JSON, print a summary.
"""
import http.client
import json
import statistics
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

# The PocketBase equivalent of bench/app.yaml's `guarded` rules.
PB_RULE = "created_by = @request.auth.id || @request.auth.role = 'MANAGER'"


def call(url, body, headers=None, method="POST"):
    req = urllib.request.Request(url, method=method,
                                 data=None if body is None else json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.loads(r.read())
    except urllib.error.HTTPError as e:
        sys.exit(f"{method} {url}: HTTP {e.code}: {e.read()[:500]!r}")


def pick(doc, key):
    """doc[key], or doc["data"][key] for `data` envelopes."""
    if isinstance(doc, dict):
        if key in doc:
            return doc[key]
        if isinstance(doc.get("data"), dict) and key in doc["data"]:
            return doc["data"][key]
    sys.exit(f"no `{key}` in the answer: {json.dumps(doc)[:300]}")


def pb_setup(argv):
    base, email, password, user_email, user_password = argv
    token = call(base + "/api/collections/_superusers/auth-with-password",
                 {"identity": email, "password": password})["token"]
    su = {"Authorization": token}
    # The default `users` auth collection gets a role (PATCH replaces the field list: keep
    # the existing fields).
    users = call(base + "/api/collections/users", None, su, "GET")
    call(base + "/api/collections/users",
         {"fields": users["fields"] + [{"name": "role", "type": "text"}]}, su, "PATCH")
    fields = [{"name": f, "type": "text"}
              for f in ["title", "description", "vendor", "status", "priority", "created_by"]]
    fields += [{"name": "created", "type": "autodate", "onCreate": True, "onUpdate": False},
               {"name": "updated", "type": "autodate", "onCreate": True, "onUpdate": True}]
    # created_by is indexed, as in Plinth's `guarded` (the rule filters on it).
    call(base + "/api/collections", {
        "name": "guarded", "type": "base",
        "listRule": PB_RULE, "viewRule": PB_RULE, "createRule": "@request.auth.id != ''",
        "fields": fields,
        "indexes": ["CREATE INDEX idx_guarded_created_by ON guarded (created_by)"],
    }, su)
    user = call(base + "/api/collections/users/records", {
        "email": user_email, "password": user_password, "passwordConfirm": user_password,
        "name": "Bench User", "role": "USER", "verified": True,
    }, su)
    print(user["id"])


def login(argv):
    url, body, key = argv
    print(pick(call(url, json.loads(body)), key))


def logins(argv):
    url, body, key, n, out = argv
    body = json.loads(body)
    toks = [pick(call(url, body), key) for _ in range(int(n))]
    with open(out, "w") as f:
        f.write("\n".join(toks) + "\n")


def login_latency(argv):
    url, body, n, out = argv
    u = urllib.parse.urlsplit(url)
    data = body.encode()
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    ms = []
    for i in range(int(n)):
        t0 = time.perf_counter()
        conn.request("POST", u.path, body=data, headers={"Content-Type": "application/json"})
        resp = conn.getresponse()
        answer = resp.read()
        ms.append((time.perf_counter() - t0) * 1000)
        if resp.status != 200:
            sys.exit(f"login {i}: HTTP {resp.status}: {answer[:300]!r}")
    conn.close()
    s = sorted(ms)
    res = {"n": len(s), "median_ms": statistics.median(s),
           "p99_ms": s[min(len(s) - 1, int(round(0.99 * (len(s) - 1))))], "all_ms": ms}
    with open(out, "w") as f:
        json.dump(res, f)
    print(f"{res['n']} sequential logins: median {res['median_ms']:.1f} ms, p99 {res['p99_ms']:.1f} ms")


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    cmd, argv = sys.argv[1], sys.argv[2:]
    {"pb-setup": pb_setup, "login": login, "logins": logins,
     "login-latency": login_latency}.get(cmd, lambda _: sys.exit(__doc__))(argv)


if __name__ == "__main__":
    main()
