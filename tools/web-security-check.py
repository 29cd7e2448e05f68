#!/usr/bin/env python3
"""Security and contract checks of `kstore serve` (issue 13), against the real server on loopback.

Builds a store from the fixtures, starts the server, and checks: every route without a session
(401 or a redirect to /login), with the wrong role (403), state changes without the CSRF token
(403, nothing written), lockout after five failed sign-ins (429), idle expiry, a retired actor's
live session, bodies over 16 MiB (413 before the body is sent), a slow client, a non-loopback
--listen without TLS, web.md's headers on every response, no server path or stack trace in any
answer, the same 401 for an unknown actor and a wrong password, bearer tokens, the API's
documents equal to the CLI's --json, imports' 422/403/409, signatures, TLS (HTTP/1.1 and HTTP/2,
Secure cookie) and SIGTERM. Prints each failure and "N failure(s)"; exits 1 on any.

    tools/web-security-check.py --kstore .build/debug/kstore [--quick]
"""
import argparse
import http.client
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time

PASSWORD = "correct horse battery"
failures = []
checks = 0


def check(ok, what):
    global checks
    checks += 1
    if not ok:
        failures.append(what)
        print("FAIL:", what, flush=True)
    return ok


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Server:
    def __init__(self, kstore, store, env=None, tls=None):
        self.port = free_port()
        args = [kstore, "serve", "--store", store, "--listen", f"127.0.0.1:{self.port}"]
        if tls:
            args += ["--tls-cert", tls[0], "--tls-key", tls[1]]
        self.tls = tls is not None
        e = dict(os.environ)
        e.update(env or {})
        self.proc = subprocess.Popen(args, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, env=e, text=True)
        line = self.proc.stderr.readline()
        if "listening" not in line:
            raise SystemExit(f"the server did not start: {line}{self.proc.stderr.read()}")

    def conn(self):
        if self.tls:
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            return http.client.HTTPSConnection("127.0.0.1", self.port, context=ctx, timeout=30)
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)

    def request(self, method, path, body=None, headers=None, cookie=None):
        c = self.conn()
        h = dict(headers or {})
        if cookie:
            h["Cookie"] = f"kstore_session={cookie}"
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
            h.setdefault("Content-Type", "application/json")
        c.request(method, path, body=body, headers=h)
        r = c.getresponse()
        data = r.read()
        c.close()
        return r.status, dict((k.lower(), v) for k, v in r.getheaders()), data, r.getheader("Set-Cookie")

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return None


def sign_in(srv, actor, password=PASSWORD):
    status, _, data, cookie = srv.request("POST", "/api/v1/session", {"actor": actor, "password": password})
    if status != 200:
        return status, None, None
    m = re.search(r"kstore_session=([^;]+)", cookie or "")
    return status, m.group(1) if m else None, json.loads(data)["csrf"]


def run(kstore, args, stdin=None, store=None):
    r = subprocess.run([kstore] + args + (["--store", store] if store else []), input=stdin, capture_output=True, text=True)
    return r


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kstore", required=True)
    ap.add_argument("--quick", action="store_true", help="skip the slow checks (idle expiry, slow client, schemathesis)")
    a = ap.parse_args()
    kstore = os.path.abspath(a.kstore)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    tmp = tempfile.mkdtemp(prefix="kstore-websec-")
    store = os.path.join(tmp, "store")
    me = subprocess.run(["id", "-un"], capture_output=True, text=True).stdout.strip()
    try:
        run(kstore, ["init"], store=store)
        subprocess.run([os.path.join(root, "tools/register-actors.sh"), store, kstore], check=True, capture_output=True)
        fixtures = sorted(os.path.join(root, "fixtures", f) for f in os.listdir(os.path.join(root, "fixtures")) if f.startswith("case"))
        r = run(kstore, ["import"] + fixtures, store=store)
        assert r.returncode == 0, r.stderr
        run(kstore, ["actor", "add", "--id", "cm.ruiz", "--role", "compliance", "--os-user", "ruiz", "--name", "Dana Ruiz"], store=store)
        for actor in ["rn.kim", "rn.silva", "dr.hale", "cm.ruiz", me]:
            r = run(kstore, ["actor", "passwd", "--id", actor], stdin=PASSWORD + "\n", store=store)
            assert r.returncode == 0, r.stderr
        r = run(kstore, ["actor", "passwd", "--id", "rn.kim"], stdin="short\n", store=store)
        check(r.returncode == 65 and "12 characters" in r.stderr, f"a short password is refused with a sentence (exit {r.returncode}: {r.stderr})")
        r = run(kstore, ["log", "--type", "ActorCredentialChanged", "--json"], store=store)
        check(r.returncode == 0 and PASSWORD not in r.stdout and "$2" not in r.stdout, "credential changes are in the log without the secret or its hash")
        check(r.stdout.count("password-set") >= 5, "each password change is an event in $actors")
        with open(os.path.join(store, "data.mdb"), "rb") as f:
            raw = f.read()
        check(PASSWORD.encode() not in raw, "no password appears in the store's file")

        # 1. Refused before it starts.
        r = run(kstore, ["serve", "--listen", "0.0.0.0:8499"], store=store)
        check(r.returncode == 64 and "TLS" in r.stderr, f"a non-loopback --listen without TLS is refused (exit {r.returncode}: {r.stderr.strip()})")

        srv = Server(kstore, store, env={"KSTORE_WEB_HEADER_SECONDS": "2"})
        try:
            checks_on(srv, kstore, store, me, a.quick, schemathesis=not a.quick)
        finally:
            code = srv.stop()
            check(code == 0, f"SIGTERM stops the server with exit 0 (got {code})")

        if not a.quick:
            idle = Server(kstore, store, env={"KSTORE_WEB_IDLE_SECONDS": "2"})
            try:
                _, cookie, _ = sign_in(idle, "rn.kim")
                s1, _, _, _ = idle.request("GET", "/api/v1/due?patient=C1", cookie=cookie)
                time.sleep(3)
                s2, _, body, _ = idle.request("GET", "/api/v1/due?patient=C1", cookie=cookie)
                check(s1 == 200 and s2 == 401 and b"15 minutes" in body, f"a session ends after the idle limit ({s1}, {s2} {body[:80]})")
                s3, h, _, _ = idle.request("GET", "/patients", cookie=cookie)
                check(s3 == 303 and h.get("location", "").startswith("/login"), "an expired session's page asks to sign in again")
                # A form sent after the session ended: the sign-in page keeps what was typed, and
                # after signing in the form is shown again, filled in, to be saved.
                _, cookie, csrf = sign_in(idle, "rn.kim")
                time.sleep(3)
                form = f"csrf={csrf}&type=VitalsRecorded&systolic=131&diastolic=84&heartRate=77"
                s4, _, body, _ = idle.request("POST", "/patients/C1/record", body=form,
                                              headers={"Content-Type": "application/x-www-form-urlencoded"}, cookie=cookie)
                text = body.decode(errors="replace")
                check(s4 == 401 and 'name="carry.systolic"' in text and 'value="131"' in text and "carry.csrf" not in text,
                      f"a form sent after the session ended comes back as the sign-in page keeping what was typed ({s4})")
                carried = "&".join(f"carry.{k}={v}" for k, v in [("type", "VitalsRecorded"), ("systolic", "131"), ("diastolic", "84"), ("heartRate", "77")])
                s5, _, body, setc = idle.request("POST", "/login", body=f"actor=rn.kim&password={PASSWORD.replace(' ', '+')}&next=/patients/C1/record&{carried}",
                                                 headers={"Content-Type": "application/x-www-form-urlencoded"})
                text = body.decode(errors="replace")
                check(s5 == 200 and setc and "kstore_session=" in setc and 'value="131"' in text and 'value="84"' in text,
                      f"after signing in, the form is shown again with the values typed ({s5})")
            finally:
                idle.stop()

        tls_checks(kstore, store, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{checks} checks, {len(failures)} failure(s)")
    sys.exit(1 if failures else 0)


def log_count(kstore, store):
    r = run(kstore, ["log", "--json"], store=store)
    return len(json.loads(r.stdout))


def checks_on(srv, kstore, store, me, quick, schemathesis=True):
    api_get = ["/api/v1/phase", "/api/v1/due", "/api/v1/audit", "/api/v1/alerts", "/api/v1/log", "/api/v1/trail", "/api/v1/verify",
               "/api/v1/unreviewed", "/api/v1/access"]
    api_post = ["/api/v1/events", "/api/v1/reviews"]
    pages = ["/", "/patients", "/patients/C1", "/patients/C1/record", "/audit", "/admin", "/audit/export?from=2026-01-01&to=2026-12-31"]
    seen_bodies = []

    # Without a session.
    for p in api_get:
        s, h, body, _ = srv.request("GET", p)
        seen_bodies.append(body)
        check(s == 401, f"GET {p} without a session is 401 (got {s})")
        check(h.get("content-type", "").startswith("application/json") and "error" in json.loads(body), f"GET {p}: the error is JSON with one sentence")
    for p in api_post:
        s, _, body, _ = srv.request("POST", p, body="{}", headers={"Content-Type": "application/json"})
        check(s == 401, f"POST {p} without a session is 401 (got {s})")
    for p in pages:
        s, h, _, _ = srv.request("GET", p)
        check(s == 303 and h.get("location", "").startswith("/login?next="), f"GET {p} without a session redirects to /login (got {s} {h.get('location')})")
    s, _, _, _ = srv.request("GET", "/api/v1/openapi.json")
    check(s == 200, "the OpenAPI document is served to anyone")

    # Headers on every response.
    for p in ["/login", "/api/v1/due", "/nonexistent", "/api/v1/nonexistent"]:
        s, h, body, _ = srv.request("GET", p)
        seen_bodies.append(body)
        check(h.get("cache-control") == "no-store", f"{p}: Cache-Control no-store")
        csp = h.get("content-security-policy", "")
        check("script-src" not in csp or "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0], f"{p}: the CSP allows no inline script")
        check("frame-ancestors 'none'" in csp and h.get("x-frame-options") == "DENY", f"{p}: no framing")
    s, _, body, _ = srv.request("GET", "/api/v1/nonexistent")
    check(s == 404 and "error" in json.loads(body), f"an unknown API route is a 404 with a sentence (got {s})")

    # Signing in: the same 401 for an unknown actor and a wrong password, in about the same time.
    unknown, wrong = [], []
    for i in range(3):  # alternated, medians: the machine may be busy
        t0 = time.time()
        s1, _, b1, _ = srv.request("POST", "/api/v1/session", {"actor": f"no.such.actor{i}", "password": PASSWORD})
        t1 = time.time()
        s2, _, b2, _ = srv.request("POST", "/api/v1/session", {"actor": "rn.silva", "password": "wrong password here"})
        t2 = time.time()
        unknown.append(t1 - t0)
        wrong.append(t2 - t1)
    check(s1 == 401 and s2 == 401 and b1 == b2, f"unknown actor and wrong password give the same 401 ({s1} {b1} / {s2} {b2})")
    d1, d2 = sorted(unknown)[1], sorted(wrong)[1]
    check(abs(d1 - d2) < max(0.35 * max(d1, d2), 0.08), f"and take about the same time (medians {d1:.3f} s, {d2:.3f} s)")

    status, nurse, nurse_csrf = sign_in(srv, "rn.kim")
    check(status == 200 and nurse and nurse_csrf, "a nurse signs in")
    _, _, setcookie_body, setcookie = srv.request("POST", "/api/v1/session", {"actor": "rn.kim", "password": PASSWORD})
    check(setcookie and "HttpOnly" in setcookie and "SameSite=Strict" in setcookie and "Max-Age" not in setcookie,
          f"the session cookie is HttpOnly, SameSite=Strict, without Max-Age ({setcookie})")
    doc = json.loads(setcookie_body)
    check(doc.get("actor") == "rn.kim" and doc.get("role") == "nurse" and doc.get("csrf"), f"the sign-in document ({doc})")
    _, compliance, compliance_csrf = sign_in(srv, "cm.ruiz")
    _, admin, admin_csrf = sign_in(srv, me)
    _, clinician, clinician_csrf = sign_in(srv, "dr.hale")

    # Wrong role.
    for p in ["/api/v1/trail", "/api/v1/verify", "/api/v1/unreviewed", "/api/v1/access"]:
        s, _, _, _ = srv.request("GET", p, cookie=nurse)
        check(s == 403, f"a nurse is refused {p} (got {s})")
    for p in ["/api/v1/phase", "/api/v1/due", "/api/v1/alerts"]:
        s, _, _, _ = srv.request("GET", p, cookie=compliance)
        check(s == 403, f"a compliance officer is refused {p} (got {s})")
    s, _, _, _ = srv.request("POST", "/api/v1/reviews", {"throughSequence": 1, "meaning": "reviewed", "password": PASSWORD},
                             headers={"X-CSRF-Token": nurse_csrf}, cookie=nurse)
    check(s == 403, f"a nurse may not sign a review (got {s})")
    for p, who, cookie in [("/audit", "nurse", nurse), ("/admin", "nurse", nurse), ("/", "compliance", compliance),
                           ("/admin", "compliance", compliance), ("/patients", "admin", admin)]:
        s, h, body, _ = srv.request("GET", p, cookie=cookie)
        check(s == 403 and b"may not open this page" in body, f"a {who} is refused the page {p} (got {s})")
    for p in ["/audit", "/api/v1/trail"]:
        s, _, _, _ = srv.request("GET", p, cookie=admin)
        check(s == 200, f"an admin opens {p} (got {s})")

    # The API's documents are the CLI's.
    for path, cli in [
        ("/api/v1/phase?patient=C1&on=2026-06-01", ["query", "phase", "--patient", "C1", "--on", "2026-06-01", "--json"]),
        ("/api/v1/phase?on=2026-06-01&explain=1", ["query", "phase", "--on", "2026-06-01", "--explain", "--json"]),
        ("/api/v1/due?on=2026-06-01&status=due,overdue", ["query", "due", "--on", "2026-06-01", "--status", "due,overdue", "--json"]),
        ("/api/v1/audit?patient=C4&on=2026-06-01", ["query", "audit", "--patient", "C4", "--on", "2026-06-01", "--json"]),
        ("/api/v1/alerts?on=2026-06-01&all=1", ["query", "alerts", "--on", "2026-06-01", "--all", "--json"]),
        ("/api/v1/log?patient=C2&limit=20&from=3", ["log", "--patient", "C2", "--limit", "20", "--from", "3", "--json"]),
    ]:
        s, _, body, _ = srv.request("GET", path, cookie=nurse)
        r = run(kstore, cli, store=store)
        check(s == 200 and json.loads(body) == json.loads(r.stdout), f"GET {path} equals `kstore {' '.join(cli)}` ({s})")
    for path, cli in [("/api/v1/trail?patient=C3", ["audit", "trail", "--patient", "C3", "--json"]),
                      ("/api/v1/unreviewed", ["audit", "unreviewed", "--json"])]:
        s, _, body, _ = srv.request("GET", path, cookie=compliance)
        r = run(kstore, cli, store=store)
        check(s == 200 and json.loads(body) == json.loads(r.stdout), f"GET {path} equals `kstore {' '.join(cli)}` ({s})")
    s, _, body, _ = srv.request("GET", "/api/v1/verify", cookie=compliance)
    check(s == 200 and json.loads(body).get("ok") is True, f"verify through the API ({s} {body[:100]})")
    s, _, body, _ = srv.request("GET", "/api/v1/phase?patient=NOPE", cookie=nurse)
    check(s == 404 and "NOPE" in json.loads(body)["error"], f"an unknown patient is a 404 with a sentence ({s})")
    s, _, body, _ = srv.request("GET", "/api/v1/due?on=2026-13-45", cookie=nurse)
    check(s == 400 and "on" in json.loads(body)["error"], f"a bad date is a 400 naming the parameter ({s})")

    # Reads are in the access log, with actor and route.
    s, _, body, _ = srv.request("GET", "/api/v1/access?patient=C1", cookie=compliance)
    entries = json.loads(body)["entries"]
    check(any("rn.kim (nurse) GET /api/v1/phase?patient=C1" in e["command"] for e in entries),
          "the nurse's read of C1 is in the access log with actor and route")

    # Imports: CSRF, the signed-in actor, 422, 409, 200, atomicity.
    before = log_count(kstore, store)
    line = json.dumps({"type": "ScoreRecorded", "patient": "C1", "occurredAt": "2026-11-30T09:00:00-05:00",
                       "actor": {"id": "rn.kim", "role": "nurse"}, "data": {"instrument": "MADRS", "value": 12}})
    s, _, _, _ = srv.request("POST", "/api/v1/events", body=line, headers={"Content-Type": "application/x-ndjson"}, cookie=nurse)
    check(s == 403 and log_count(kstore, store) == before, f"an import without the CSRF token is 403 and writes nothing ({s})")
    s, _, _, _ = srv.request("POST", "/api/v1/events", body=line, headers={"Content-Type": "application/x-ndjson", "X-CSRF-Token": "x" * 43},
                             cookie=nurse)
    check(s == 403 and log_count(kstore, store) == before, f"an import with a wrong CSRF token is 403 and writes nothing ({s})")
    other = line.replace("rn.kim", "rn.silva")
    s, _, body, _ = srv.request("POST", "/api/v1/events", body=other, headers={"X-CSRF-Token": nurse_csrf}, cookie=nurse)
    check(s == 403 and "signed in" in json.loads(body)["error"], f"a line as another actor is refused (403, {body[:120]})")
    bad = line.replace('"value": 12', '"value": 99')
    s, _, body, _ = srv.request("POST", "/api/v1/events", body=line + "\n" + bad, headers={"X-CSRF-Token": nurse_csrf}, cookie=nurse)
    errs = json.loads(body).get("errors", [])
    check(s == 422 and errs and errs[0]["line"] == 2 and errs[0]["field"] == "data.value" and log_count(kstore, store) == before,
          f"a bad line is a 422 naming line and field, and nothing of the body is written ({s} {body[:160]})")
    s, _, body, _ = srv.request("POST", "/api/v1/events", body=line, headers={"X-CSRF-Token": nurse_csrf}, cookie=nurse)
    doc = json.loads(body)
    check(s == 200 and doc.get("imported") == 1 and log_count(kstore, store) == before + 1, f"a good line is imported ({s} {body})")
    r = run(kstore, ["log", "--json", "--from", str(doc.get("lastSequence", 0))], store=store)
    env = json.loads(r.stdout)[0]
    check(env["actor"]["id"] == "rn.kim" and env["osUser"] == subprocess.run(["id", "-un"], capture_output=True, text=True).stdout.strip(),
          "the envelope keeps the signed-in actor and the server's OS user")
    version = json.loads(run(kstore, ["log", "--patient", "C1", "--json"], store=store).stdout)[-1]["streamVersion"]
    stale = json.loads(line)
    stale["expectedVersion"] = version - 1
    stale["data"]["value"] = 13
    s, _, body, _ = srv.request("POST", "/api/v1/events", body=json.dumps(stale), headers={"X-CSRF-Token": nurse_csrf}, cookie=nurse)
    check(s == 409, f"a stale expectedVersion is 409 ({s} {body[:120]})")
    s, _, body, _ = srv.request("POST", "/api/v1/events", body=json.dumps({**json.loads(line), "type": "ScheduleAdjusted",
                                                                           "data": {"intervalDays": 14, "reason": "x"}}),
                                headers={"X-CSRF-Token": nurse_csrf}, cookie=nurse)
    check(s == 403 and "may not record ScheduleAdjusted" in json.loads(body)["error"], f"a nurse may not record a clinician's event ({s})")

    # A form without its CSRF token writes nothing.
    before = log_count(kstore, store)
    form = "type=ScoreRecorded&instrument=MADRS&value=11"
    s, _, _, _ = srv.request("POST", "/patients/C1/record", body=form, headers={"Content-Type": "application/x-www-form-urlencoded"},
                             cookie=nurse)
    check(s == 403 and log_count(kstore, store) == before, f"a charting form without the CSRF token is 403 and writes nothing ({s})")
    s, _, _, _ = srv.request("POST", "/admin/actors", body="id=x.y&role=nurse&osUser=xy",
                             headers={"Content-Type": "application/x-www-form-urlencoded"}, cookie=admin)
    check(s == 403 and log_count(kstore, store) == before, f"an admin form without the CSRF token is 403 and writes nothing ({s})")
    s, h, _, _ = srv.request("POST", "/patients/C1/record", body=form + "&csrf=" + nurse_csrf,
                             headers={"Content-Type": "application/x-www-form-urlencoded"}, cookie=nurse)
    check(s == 303 and log_count(kstore, store) == before + 1, f"with it, the form records one event ({s})")

    # The stock page (session.md R15): compliance may not open it; a waste needs its witness's
    # password, a witness other than the recorder, the CSRF token; then one event is recorded.
    s, _, body, _ = srv.request("GET", "/stock", cookie=compliance)
    check(s == 403, f"a compliance officer is refused the stock page (got {s})")
    s, _, body, _ = srv.request("GET", "/stock", cookie=nurse)
    check(s == 200 and b"StockWasted" in body, f"a nurse opens the stock page with the waste form (got {s})")
    form_h = {"Content-Type": "application/x-www-form-urlencoded"}
    receipt = "type=StockReceived&drug=ketamine&lot=SEC-1&quantityMg=500&supplier=Acme&invoice="
    before = log_count(kstore, store)
    s, _, _, _ = srv.request("POST", "/stock", body=receipt, headers=form_h, cookie=clinician)
    check(s == 403 and log_count(kstore, store) == before, f"a stock form without the CSRF token is 403 and writes nothing ({s})")
    s, _, _, _ = srv.request("POST", "/stock", body=receipt + "&csrf=" + nurse_csrf, headers=form_h, cookie=nurse)
    check(s == 403 and log_count(kstore, store) == before, f"a nurse may not record a receipt ({s})")
    s, _, _, _ = srv.request("POST", "/stock", body=receipt + "&csrf=" + clinician_csrf, headers=form_h, cookie=clinician)
    check(s == 303 and log_count(kstore, store) == before + 1, f"a clinician records a receipt ({s})")
    waste = "type=StockWasted&lot=SEC-1&quantityMg=12.5&reason=rest+of+vial"
    pw = PASSWORD.replace(" ", "+")
    for what, extra in [("a wrong witness password", f"&witness=rn.silva&witnessPassword=wrong"),
                        ("the recorder as witness", f"&witness=rn.kim&witnessPassword={pw}"),
                        ("a compliance officer as witness", f"&witness=cm.ruiz&witnessPassword={pw}")]:
        before = log_count(kstore, store)
        s, _, body, _ = srv.request("POST", "/stock", body=waste + extra + "&csrf=" + nurse_csrf, headers=form_h, cookie=nurse)
        check(s in (401, 403, 422) and log_count(kstore, store) == before and PASSWORD.encode() not in body,
              f"a waste with {what} is refused, writes nothing, echoes no password ({s})")
    before = log_count(kstore, store)
    s, _, _, _ = srv.request("POST", "/stock", body=waste + f"&witness=rn.silva&witnessPassword={pw}&csrf=" + nurse_csrf,
                             headers=form_h, cookie=nurse)
    check(s == 303 and log_count(kstore, store) == before + 1, f"a waste witnessed by another nurse with her password is recorded ({s})")
    s, _, body, _ = srv.request("GET", "/api/v1/inventory?lot=SEC-1", cookie=nurse)
    check(s == 200 and json.loads(body)["lots"][0]["balanceMg"] == 487.5, f"the inventory API shows the balance ({s} {body[:160]})")
    s, _, _, _ = srv.request("GET", "/api/v1/inventory", cookie=compliance)
    check(s == 403, f"a compliance officer is refused the inventory API (got {s})")

    # Signatures: a wrong password records nothing; the event carries name, instant and meaning.
    head = log_count(kstore, store)
    s, _, body, _ = srv.request("POST", "/api/v1/reviews", {"throughSequence": head, "meaning": "reviewed", "password": "not the password"},
                                headers={"X-CSRF-Token": compliance_csrf}, cookie=compliance)
    check(s == 401 and log_count(kstore, store) == head, f"a review with a wrong password is 401 and records nothing ({s})")
    s, _, body, _ = srv.request("POST", "/api/v1/reviews", {"throughSequence": head, "meaning": "reviewed", "note": "weekly", "password": PASSWORD},
                                headers={"X-CSRF-Token": compliance_csrf}, cookie=compliance)
    doc = json.loads(body)
    check(s == 200 and doc.get("signer", {}).get("name") == "Dana Ruiz" and doc["signer"]["meaning"] == "reviewed",
          f"a signed review ({s} {body[:200]})")
    r = run(kstore, ["audit", "trail"], store=store)
    check("Dana Ruiz" in r.stdout and '"meaning":"reviewed"' in r.stdout, "the trail shows the signature's name and meaning")

    # The signature in the FHIR export (Provenance.signature), which validates as R4.
    today = time.strftime("%Y-%m-%d", time.gmtime())
    s, h, body, _ = srv.request("GET", f"/audit/export?from={today}&to={today}&format=fhir", cookie=compliance)
    sig = [json.loads(l) for l in body.decode().splitlines() if '"signature"' in l and '"Provenance"' in l]
    check(s == 200 and "attachment" in h.get("content-disposition", "") and sig and sig[0]["signature"][0]["who"]["display"] == "Dana Ruiz",
          f"the FHIR export download carries the signed review as a Provenance with its signature ({s}, {len(sig)})")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    with tempfile.NamedTemporaryFile("wb", suffix=".ndjson", delete=False) as f:
        f.write(body)
    r = subprocess.run([sys.executable, os.path.join(root, "tools/validate-fhir.py"), f.name], capture_output=True, text=True)
    os.unlink(f.name)
    check(r.returncode == 0, f"the web's FHIR export validates (tools/validate-fhir.py): {r.stdout[-300:]}{r.stderr[-300:]}")

    # The CLI and the server share the store: API writes from 8 threads while `kstore import` runs.
    import threading
    before = log_count(kstore, store)
    lines = []
    for i in range(400):
        lines.append(json.dumps({"type": "VitalsRecorded", "patient": "C2", "occurredAt": f"2026-11-29T10:{i // 60:02d}:{i % 60:02d}-05:00",
                                 "actor": {"id": "rn.kim", "role": "nurse"}, "data": {"systolic": 100 + i % 50, "diastolic": 70}}))
    batch = os.path.join(os.path.dirname(store), "batch.ndjson")
    with open(batch, "w") as f:
        f.write("\n".join(lines) + "\n")
    statuses = []

    def writer(t):
        for i in range(25):
            l = json.dumps({"type": "ScoreRecorded", "patient": "C3", "occurredAt": f"2026-11-28T{t:02d}:{i:02d}:00-05:00",
                            "actor": {"id": "rn.kim", "role": "nurse"}, "data": {"instrument": "PHQ2", "value": (t + i) % 7}})
            st, _, _, _ = srv.request("POST", "/api/v1/events", body=l, headers={"X-CSRF-Token": nurse_csrf}, cookie=nurse)
            statuses.append(st)

    threads = [threading.Thread(target=writer, args=(t,)) for t in range(8)]
    for t in threads:
        t.start()
    r = run(kstore, ["import", batch], store=store)
    for t in threads:
        t.join()
    after = log_count(kstore, store)
    v = run(kstore, ["audit", "verify"], store=store)
    check(r.returncode == 0 and statuses.count(200) == 200 and after == before + 600 and v.returncode == 0,
          f"200 API writes and a 400-line CLI import side by side: all acknowledged, all present, verify ok "
          f"(import {r.returncode}, {statuses.count(200)} × 200, {after - before} new, verify {v.returncode})")

    # Bearer tokens.
    r = run(kstore, ["actor", "token", "--id", "dr.hale"], store=store)
    token = r.stdout.strip()
    check(r.returncode == 0 and token.startswith("kst_"), "a token is issued and printed once")
    s, _, _, _ = srv.request("GET", "/api/v1/phase?patient=C1", headers={"Authorization": f"Bearer {token}"})
    check(s == 200, f"a bearer token reads ({s})")
    s, _, _, _ = srv.request("POST", "/api/v1/events", body=line.replace("rn.kim", "dr.hale").replace("nurse", "clinician").replace(
        '"value": 12', '"value": 14'), headers={"Authorization": f"Bearer {token}"})
    check(s == 200, f"a bearer token writes without a CSRF token ({s})")
    run(kstore, ["actor", "token", "--id", "dr.hale", "--revoke"], store=store)
    s, _, _, _ = srv.request("GET", "/api/v1/phase?patient=C1", headers={"Authorization": f"Bearer {token}"})
    check(s == 401, f"a revoked token is refused ({s})")

    # A retired actor's live session.
    _, silva, _ = sign_in(srv, "rn.silva")
    s1, _, _, _ = srv.request("GET", "/api/v1/due?patient=C1", cookie=silva)
    run(kstore, ["actor", "retire", "--id", "rn.silva"], store=store)
    s2, _, _, _ = srv.request("GET", "/api/v1/due?patient=C1", cookie=silva)
    s3, _, _, _ = srv.request("POST", "/api/v1/session", {"actor": "rn.silva", "password": PASSWORD})
    check(s1 == 200 and s2 == 401 and s3 == 401, f"retiring ends the actor's session and sign-in at once ({s1}, {s2}, {s3})")

    # Lockout.
    for _ in range(5):
        srv.request("POST", "/api/v1/session", {"actor": "dr.hale", "password": "wrong password again"})
    s, _, body, _ = srv.request("POST", "/api/v1/session", {"actor": "dr.hale", "password": PASSWORD})
    check(s == 429, f"five failures lock the actor out (429 even with the right password; got {s})")
    s, _, _, _ = srv.request("POST", "/api/v1/session", {"actor": "rn.kim", "password": PASSWORD})
    check(s == 200, "and only that actor")

    # Bodies over 16 MiB: refused before the body is sent.
    sock = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
    sock.sendall((f"POST /api/v1/events HTTP/1.1\r\nHost: x\r\nCookie: kstore_session={nurse}\r\nX-CSRF-Token: {nurse_csrf}\r\n"
                  f"Content-Type: application/x-ndjson\r\nContent-Length: {17 << 20}\r\n\r\n").encode())
    sock.sendall(b"x" * 65536)
    try:
        head = sock.recv(4096).decode(errors="replace")
    except socket.timeout:
        head = "(no answer)"
    sock.close()
    check(head.startswith("HTTP/1.1 413"), f"a body over 16 MiB is refused with 413 before it is read ({head[:40]!r})")
    big = (line + "\n") * ((17 << 20) // (len(line) + 1))
    try:
        s, _, body, _ = srv.request("POST", "/api/v1/events", body=big, headers={"X-CSRF-Token": nurse_csrf, "Content-Type": "application/x-ndjson"},
                                    cookie=nurse)
    except (BrokenPipeError, ConnectionResetError):
        s = 413
    check(s == 413, f"and so is a 17 MiB body sent whole ({s})")

    # A slow client: the header deadline (2 s here) closes a connection that never finishes.
    if not quick:
        sock = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
        sock.sendall(b"GET /api/v1/due HTTP/1.1\r\nHost: x\r\n")
        t0 = time.time()
        closed = False
        try:
            while time.time() - t0 < 8:
                sock.sendall(b"X-Slow: 1\r\n")
                time.sleep(0.5)
                sock.settimeout(0.1)
                try:
                    if sock.recv(1) == b"":
                        closed = True
                        break
                except socket.timeout:
                    pass
        except (BrokenPipeError, ConnectionResetError):
            closed = True
        sock.close()
        check(closed and time.time() - t0 < 6, f"a slow client is cut off at the deadline (closed: {closed} after {time.time() - t0:.1f} s)")

    # No path of the server's machine, no stack trace, anywhere.
    for p, cookie in [("/api/v1/phase?patient=NOPE", nurse), ("/patients/NOPE", nurse), ("/api/v1/due?on=x", nurse),
                      ("/patients/C1", nurse), ("/audit", compliance), ("/admin", admin)]:
        _, _, body, _ = srv.request("GET", p, cookie=cookie)
        seen_bodies.append(body)
    for body in seen_bodies:
        text = body.decode(errors="replace")
        check(store not in text and ".swift" not in text and "Fatal error" not in text, f"no server path or stack trace in an answer: {text[:200]}")

    # The API against its own OpenAPI document (schemathesis), as a clinician and as an admin:
    # no 500, no response outside the document.
    if schemathesis:
        for actor in ["dr.lindqvist", me]:
            token = run(kstore, ["actor", "token", "--id", actor], store=store).stdout.strip()
            root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
            r = subprocess.run([os.path.join(root, "tools/api-check.sh"), f"http://127.0.0.1:{srv.port}", token], capture_output=True, text=True)
            tail = "\n".join((r.stdout + r.stderr).strip().splitlines()[-25:])
            if r.returncode == 69:
                check(False, "schemathesis is not installed: run tools/setup.sh")
            else:
                check(r.returncode == 0, f"schemathesis finds the API as its document says, as {actor} (exit {r.returncode}):\n{tail}")
            print(f"schemathesis as {actor}: exit {r.returncode}", flush=True)

    # Sign-out ends the session.
    s, _, _, _ = srv.request("DELETE", "/api/v1/session", headers={"X-CSRF-Token": nurse_csrf}, cookie=nurse)
    s2, _, _, _ = srv.request("GET", "/api/v1/due", cookie=nurse)
    check(s == 204 and s2 == 401, f"signing out ends the session ({s}, {s2})")


def tls_checks(kstore, store, tmp):
    cert, key = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
    r = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "2",
                        "-subj", "/CN=127.0.0.1"], capture_output=True)
    if r.returncode != 0:
        check(False, "openssl could not make a test certificate")
        return
    srv = Server(kstore, store, tls=(cert, key))
    try:
        _, _, _, cookie = srv.request("POST", "/api/v1/session", {"actor": "cm.ruiz", "password": PASSWORD})
        check(cookie is not None and "Secure" in cookie, f"under TLS the cookie is Secure ({cookie})")
        _, h, _, _ = srv.request("GET", "/login")
        check("max-age" in h.get("strict-transport-security", ""), "under TLS: Strict-Transport-Security")
        if shutil.which("curl"):
            r = subprocess.run(["curl", "-sk", "--http2", "-o", "/dev/null", "-w", "%{http_version}", f"https://127.0.0.1:{srv.port}/login"],
                               capture_output=True, text=True)
            check(r.stdout.strip() == "2", f"under TLS the server speaks HTTP/2 (curl saw HTTP/{r.stdout.strip()})")
    finally:
        code = srv.stop()
        check(code == 0, f"SIGTERM stops the TLS server with exit 0 (got {code})")


if __name__ == "__main__":
    main()
