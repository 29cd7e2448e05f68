#!/usr/bin/env python3
"""Drive `kstore serve` in headless Chromium (Selenium, Debian's chromium and chromedriver).

Usage:
  tools/web-browser-test.py [--kstore PATH] [--out DIR] [--keep-store]

Builds a fresh store from the fixtures in a temporary directory (the guide's cases, fixture
actors, compliance officer cm.ruiz "Dana Ruiz", passwords for rn.kim, dr.hale, cm.ruiz and the
admin, whose actor id is this OS user's name), starts `kstore serve` on a free loopback port and
walks the pages as their users would:

  1. nurse rn.kim: today's list, a patient from it, "Chart a visit"; charts a MADRS score and
     vital signs with the forms' buttons; the patient page's chart gains the score point
     (`data-kind="score"`, today's `data-date`, the value) and the due table changes (an item
     overdue/due before is ok after); a score out of range is refused with the sentence beside the
     value field (and one beyond the form's bounds is stopped by the browser); no clinician form is
     offered, and one posted anyway (injected, with the page's csrf) is a 403 page with a sentence
     and records nothing; signing out leads to /login, and the back button or any page asks to
     sign in again;
  2. compliance cm.ruiz: /audit, a review signed with a wrong password (refused, nothing
     recorded), then with the right one: the trail shows the signature (printed name, meaning,
     instant);
  3. the admin: uploads rules/examples/weekly-x2.json, sees the replay diff patient by patient,
     adopts it signed with the password, sees the new version on /admin.

On every page: the browser's console errors (none allowed), any element wider than the viewport
at 768 px (as tools/report-screenshots.py checks), and screenshots at 1280 and 768 px
(DIR/NN-name-1280.png, DIR/NN-name-768.png, the whole page). Prints each check as `ok` or
`FAIL`, then "N failure(s)"; exit 0 when none failed, 1 otherwise, 69 when selenium or
chromedriver is missing (tools/setup.sh installs both). Run as root it passes --no-sandbox.
"""

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PASSWORD = "correct horse battery"
RULE_FILE = os.path.join(ROOT, "rules/examples/weekly-x2.json")

try:
    from selenium import webdriver
    from selenium.common.exceptions import TimeoutException, WebDriverException
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import Select, WebDriverWait
except ImportError:
    print("selenium is not installed: run tools/setup.sh (it runs pip install selenium)", file=sys.stderr)
    sys.exit(69)

# Every element wider than the viewport or sticking out of it (SVG internals aside), and the
# document's scroll width: as tools/report-screenshots.py's probe.
PROBE = """
const vw = document.documentElement.clientWidth;
const bad = [];
for (const el of document.body.querySelectorAll('*')) {
  const r = el.getBoundingClientRect();
  if (r.width === 0 && r.height === 0) continue;
  if (el.closest('svg') && el.tagName.toLowerCase() !== 'svg') continue;
  // Inside a wrapper that scrolls on its own (div.scroll) a wide table is fine.
  const s = el.closest('.scroll');
  if (s && s !== el) continue;
  if (r.right > vw + 0.5 || r.left < -0.5) {
    bad.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
      (el.className && typeof el.className === 'string' ? '.' + el.className.split(' ').join('.') : '') +
      ' ' + Math.round(r.left) + '..' + Math.round(r.right) + ' of ' + vw);
  }
}
return {viewport: vw, scrollWidth: document.documentElement.scrollWidth, overflowing: bad.slice(0, 10), count: bad.length};
"""


class Run:
    """The checks' results, printed as they come."""

    def __init__(self):
        self.failures = 0
        self.checks = 0

    def check(self, ok, what, detail=""):
        self.checks += 1
        if not ok:
            self.failures += 1
        print(f"{'ok  ' if ok else 'FAIL'} {what}" + (f": {detail}" if detail and not ok else ""), flush=True)
        return ok


def sh(cmd, stdin=None, env=None):
    r = subprocess.run(cmd, input=stdin, capture_output=True, text=True, env=env)
    if r.returncode != 0:
        sys.exit(f"{' '.join(cmd)}: exit {r.returncode}: {r.stderr.strip()}")
    return r.stdout


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def build_store(k, store):
    sh([k, "init", "--store", store])
    sh(["bash", os.path.join(ROOT, "tools/register-actors.sh"), store, k])
    cases = sorted(f for f in os.listdir(os.path.join(ROOT, "fixtures")) if re.match(r"case.*\.ndjson$", f))
    sh([k, "import", "--store", store] + [os.path.join(ROOT, "fixtures", f) for f in cases])
    sh([k, "actor", "add", "--store", store, "--id", "cm.ruiz", "--role", "compliance", "--os-user", "ruiz", "--name", "Dana Ruiz"])
    admin = sh(["id", "-un"]).strip()
    for actor in ("rn.kim", "dr.hale", "cm.ruiz", admin):
        sh([k, "actor", "passwd", "--store", store, "--id", actor], stdin=PASSWORD + "\n")
    return admin


def serve(k, store, port):
    """`kstore serve` on the port, once it says it listens; its stderr is kept for the report."""
    p = subprocess.Popen([k, "serve", "--store", store, "--listen", f"127.0.0.1:{port}"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    lines = []
    ready = threading.Event()

    def read():
        for line in p.stderr:
            lines.append(line.rstrip())
            if "listening on" in line:
                ready.set()
    threading.Thread(target=read, daemon=True).start()
    if not ready.wait(30):
        p.kill()
        sys.exit("kstore serve did not start: " + " | ".join(lines))
    return p, lines


def browser():
    driver_path = shutil.which("chromedriver")
    chrome = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)), None)
    if not driver_path or not chrome:
        print("chromedriver or chromium is not installed: run tools/setup.sh (apt-get install chromium chromium-driver)",
              file=sys.stderr)
        sys.exit(69)
    o = Options()
    o.binary_location = chrome
    for a in ("--headless=new", "--disable-gpu", "--hide-scrollbars", "--force-device-scale-factor=1", "--no-first-run",
              "--disable-extensions", "--window-size=1280,1000", "--lang=en-US"):
        o.add_argument(a)
    if os.geteuid() == 0:
        o.add_argument("--no-sandbox")
    o.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(driver_path), options=o)


class Pages:
    """The browser on the server: page checks and screenshots."""

    def __init__(self, run, d, base, out):
        self.run, self.d, self.base, self.out = run, d, base, out
        self.n = 0

    def url(self, path):
        return self.base + path

    def path(self):
        u = urllib.parse.urlsplit(self.d.current_url)
        return u.path + (("?" + u.query) if u.query else "")

    def settle(self):
        WebDriverWait(self.d, 10).until(lambda d: d.execute_script("return document.readyState") == "complete")

    def get(self, path):
        self.d.get(self.url(path))
        self.settle()

    def retry(self, f):
        """f() again when the document changed under it (a navigation just committed)."""
        for attempt in range(5):
            try:
                return f()
            except WebDriverException:
                if attempt == 4:
                    raise
                time.sleep(0.2)

    def css(self, sel):
        return self.retry(lambda: self.d.find_elements(By.CSS_SELECTOR, sel))

    def one(self, sel):
        found = self.css(sel)
        return found[0] if found else None

    def text(self, sel):
        def read():
            found = self.d.find_elements(By.CSS_SELECTOR, sel)
            return found[0].text if found else ""
        return self.retry(read)

    def size(self, width):
        self.d.set_window_size(width, 1000)
        # The window's inner width is the viewport; correct for any frame the window has.
        inner = self.d.execute_script("return window.innerWidth")
        if inner != width:
            self.d.set_window_size(width + (width - inner), 1000)

    def shot(self, png):
        h = self.d.execute_script("return Math.max(document.documentElement.scrollHeight, document.body.scrollHeight)")
        w = self.d.get_window_size()["width"]
        self.d.set_window_size(w, min(max(h, 600), 12000))
        self.d.save_screenshot(png)
        self.d.set_window_size(w, 1000)

    def console_errors(self, allowed=()):
        errors = []
        for e in self.d.get_log("browser"):
            if e.get("level") != "SEVERE":
                continue
            msg = e.get("message", "")
            if any(a in msg for a in allowed):
                continue
            errors.append(msg)
        return errors

    def page(self, name, allowed_errors=()):
        """The page now shown: console errors, overflow at 768, screenshots at 1280 and 768."""
        self.n += 1
        stem = f"{self.n:02d}-{name}"
        errors = self.console_errors(allowed_errors)
        self.run.check(not errors, f"{stem} ({self.path()}): no console errors", "; ".join(errors[:3]))
        self.size(1280)
        self.shot(os.path.join(self.out, f"{stem}-1280.png"))
        self.size(768)
        res = self.retry(lambda: self.d.execute_script(PROBE))
        self.run.check(res["count"] == 0 and res["scrollWidth"] <= res["viewport"],
                       f"{stem} @768: nothing wider than the viewport",
                       f"scrollWidth {res['scrollWidth']} / {res['viewport']}, {res['count']} overflowing {res['overflowing'][:4]}")
        self.shot(os.path.join(self.out, f"{stem}-768.png"))
        self.size(1280)
        errors = self.console_errors(allowed_errors)
        self.run.check(not errors, f"{stem}: no console errors after resizing", "; ".join(errors[:3]))

    def submit(self, button, timeout=10):
        """Clicks a form's button and waits for the page it leads to (or for nothing, when the
        browser's own validation stops the form)."""
        old = self.d.find_element(By.TAG_NAME, "html")
        button.click()
        try:
            WebDriverWait(self.d, timeout).until(EC.staleness_of(old))
        except TimeoutException:
            return False
        WebDriverWait(self.d, 10).until(lambda d: d.execute_script("return document.readyState") == "complete")
        time.sleep(0.05)
        return True

    def sign_in(self, actor, password=PASSWORD):
        self.get("/login")
        self.page("login-" + actor)

        def fill():
            a = self.d.find_element(By.ID, "actor")
            a.clear()
            a.send_keys(actor)
            pw = self.d.find_element(By.ID, "password")
            pw.clear()
            pw.send_keys(password)
            return self.d.find_element(By.CSS_SELECTOR, "form[action='/login'] button[type=submit]")
        # Chromium sometimes reports "Node with given id does not belong to the document" when a
        # navigation commits between finding the form and clicking it: load the page again.
        for attempt in range(3):
            try:
                self.submit(self.retry(fill))
                return
            except WebDriverException:
                if attempt == 2:
                    raise
                time.sleep(0.3)
                self.get("/login")

    def sign_out(self):
        self.submit(self.one("form[action='/logout'] button"))

    def open_form(self, event_type):
        d = self.one(f"details[data-type='{event_type}']")
        if d is None:
            return None
        if d.get_attribute("open") is None:
            d.find_element(By.CSS_SELECTOR, "summary").click()
        return d

    def due_table(self):
        """{item: status} of the patient page's due table."""
        rows = {}
        for tr in self.css("table.due tbody tr"):
            cells = tr.find_elements(By.CSS_SELECTOR, "td")
            if len(cells) >= 2:
                rows[cells[1].text.strip()] = tr.get_attribute("data-status")
        return rows

    def score_points(self):
        return [(c.get_attribute("data-instrument"), c.get_attribute("data-date"), c.get_attribute("data-value"))
                for c in self.css("svg [data-kind='score']")]


def count_events(k, store, patient, type_):
    out = subprocess.run([k, "log", "--store", store, "--patient", patient, "--json"], capture_output=True, text=True).stdout
    n = 0
    for line in out.splitlines():
        try:
            if json.loads(line).get("type") == type_:
                n += 1
        except ValueError:
            pass
    return n


def log_lines(k, store):
    return subprocess.run([k, "log", "--store", store, "--json"], capture_output=True, text=True).stdout


def nurse(p, r, k, store, today):
    r_ = p.run
    p.sign_in("rn.kim")
    r_.check(p.path().split("?")[0] == "/", "rn.kim signed in lands on today's list", p.path())
    p.page("today")
    # A patient of today's list with overdue items: C4 (infusion overdue; MoCA, the
    # cognitive screening, overdue since 2026-11-22 on the fixtures' dates).
    link = p.one("main a[href^='/patients/C4']")
    if not r_.check(link is not None, "today's list links patient C4"):
        link = p.one("main a[href^='/patients/']")
    p.submit(link)
    patient = p.path().split("?")[0].split("/")[2]
    r_.check(p.one("svg[data-patient]") is not None, f"patient page {patient} shows the course chart")
    p.page("patient-before")
    due_before = p.due_table()
    scores_before = p.score_points()
    p.submit(p.one("a.action-link[href$='/record']"))
    r_.check(p.path().startswith(f"/patients/{patient}/record"), "\"Chart a visit\" opens the record page", p.path())
    p.page("record")

    # No clinician decision is offered to a nurse.
    r_.check(p.one("details[data-type='ScheduleAdjusted']") is None and "Clinician decisions" not in p.d.page_source,
             "a nurse is not offered the ScheduleAdjusted form")

    # MADRS 12.
    f = p.open_form("ScoreRecorded")
    Select(f.find_element(By.NAME, "instrument")).select_by_value("MADRS")
    f.find_element(By.NAME, "value").send_keys("12")
    p.page("record-score-filled")
    p.submit(f.find_element(By.CSS_SELECTOR, "button[type=submit]"))
    banner = p.text("p.ok-line[role=status]")
    r_.check("Score" in banner and "recorded" in banner and "sequence" in banner, "the MADRS score is recorded (banner)", banner or p.text("main"))
    p.page("record-score-recorded")

    # MoCA 27: the cognitive screening overdue on the due table.
    f = p.open_form("ScoreRecorded")
    Select(f.find_element(By.NAME, "instrument")).select_by_value("MOCA")
    f.find_element(By.NAME, "value").send_keys("27")
    p.submit(f.find_element(By.CSS_SELECTOR, "button[type=submit]"))
    banner = p.text("p.ok-line[role=status]")
    r_.check("Score" in banner and "recorded" in banner, "the MoCA score is recorded (banner)", banner or p.text("main"))

    # Vital signs 124/78, 72 bpm.
    f = p.open_form("VitalsRecorded")
    f.find_element(By.NAME, "systolic").send_keys("124")
    f.find_element(By.NAME, "diastolic").send_keys("78")
    f.find_element(By.NAME, "heartRate").send_keys("72")
    p.submit(f.find_element(By.CSS_SELECTOR, "button[type=submit]"))
    banner = p.text("p.ok-line[role=status]")
    r_.check("Vital signs recorded" in banner, "the vital signs are recorded (banner)", banner or p.text("main"))

    # Out of the form's bounds: the browser stops it (MADRS 75 > max 60), nothing is sent.
    f = p.open_form("ScoreRecorded")
    Select(f.find_element(By.NAME, "instrument")).select_by_value("MADRS")
    v = f.find_element(By.NAME, "value")
    v.send_keys("75")
    before = p.d.current_url
    p.submit(f.find_element(By.CSS_SELECTOR, "button[type=submit]"), timeout=2)
    message = p.d.execute_script("return arguments[0].validationMessage", v)
    r_.check(p.d.current_url == before and bool(message), "MADRS 75 is stopped by the browser (the field's max)", message)
    # Within the form's bounds but out of the instrument's range: the server's sentence.
    v.clear()
    Select(f.find_element(By.NAME, "instrument")).select_by_value("PHQ2")
    v.send_keys("9")
    p.submit(f.find_element(By.CSS_SELECTOR, "button[type=submit]"))
    err = p.text("#f-ScoreRecorded-value-error")
    r_.check("out of range" in err, "PHQ-2 of 9 is refused with a sentence beside the value field",
             err or p.text("main")[:300])
    invalid = p.one("#f-ScoreRecorded-value")
    r_.check(invalid is not None and invalid.get_attribute("aria-invalid") == "true"
             and invalid.get_attribute("value") == "9", "the refused field keeps the value typed and is marked invalid")
    p.page("record-refused", allowed_errors=("status of 422",))

    # A clinician form posted anyway, with the page's csrf: 403, nothing recorded.
    adjusted = count_events(k, store, patient, "ScheduleAdjusted")
    old = p.d.find_element(By.TAG_NAME, "html")
    p.d.execute_script("""
        const csrf = document.querySelector("input[name=csrf]").value;
        const f = document.createElement('form');
        f.method = 'post'; f.action = arguments[0];
        for (const [n, v] of [['csrf', csrf], ['type', 'ScheduleAdjusted'], ['intervalDays', '21'], ['reason', 'injected'],
                              ['eventId', crypto.randomUUID()]]) {
          const i = document.createElement('input'); i.type = 'hidden'; i.name = n; i.value = v; f.appendChild(i);
        }
        document.body.appendChild(f); f.submit();
    """, f"/patients/{patient}/record")
    WebDriverWait(p.d, 10).until(EC.staleness_of(old))
    sentence = p.text("p[data-status='403']")
    r_.check("403" in p.d.title and bool(sentence), "the injected ScheduleAdjusted is a 403 page with a sentence",
             f"title {p.d.title!r}, {p.text('main')[:200]!r}")
    r_.check(count_events(k, store, patient, "ScheduleAdjusted") == adjusted, "and nothing was recorded")
    r_.check(p.one("nav.top form[action='/logout']") is not None, "the 403 page keeps the signed-in navigation")
    p.page("forbidden", allowed_errors=("status of 403",))

    # The patient page again: the new point, the due table changed.
    p.get(f"/patients/{patient}")
    scores_after = p.score_points()
    new = ("MADRS", today, "12")
    r_.check(new in scores_after and new not in scores_before, f"the chart gains the score point MADRS 12 on {today}",
             f"{len(scores_before)} points before, {len(scores_after)} after, last {scores_after[-1:]}")
    due_after = p.due_table()
    changed = {i: (due_before.get(i), due_after.get(i)) for i in set(due_before) | set(due_after)
               if due_before.get(i) != due_after.get(i)}
    moca = changed.get("cognitive-screening")
    r_.check(moca is not None and moca[0] in ("overdue", "due", "missing") and moca[1] in ("ok", None),
             "the due table changes: cognitive-screening overdue before the MoCA is ok after", f"changes {changed}")
    print(f"     due changes: {changed}")
    p.page("patient-after")

    # Signing out.
    p.sign_out()
    r_.check(p.path().startswith("/login"), "signing out leads to /login", p.path())
    p.page("signed-out")
    p.d.back()
    p.settle()
    r_.check(p.path().startswith("/login"), "the back button after signing out asks to sign in again", p.path())
    p.get(f"/patients/{patient}")
    r_.check(p.path().startswith("/login") and p.one("#password") is not None,
             "the patient page after signing out asks to sign in again", p.path())
    return patient


def compliance(p, k, store):
    r_ = p.run
    p.sign_in("cm.ruiz")
    r_.check(p.path().startswith("/audit"), "cm.ruiz signed in lands on /audit", p.path())
    r_.check(p.one("[data-verify='ok']") is not None, "/audit shows the verify result")
    p.page("audit")
    reviews = log_lines(k, store).count("ReviewSigned") + log_lines(k, store).count("Review")

    def sign(password, meaning):
        # Filling the form is retried if the page was still settling; the click is not (it signs).
        p.submit(p.retry(lambda: fill(password, meaning)))

    def fill(password, meaning):
        form = p.d.find_element(By.CSS_SELECTOR, "form[action='/audit/review']")
        Select(form.find_element(By.NAME, "meaning")).select_by_value(meaning)
        note = form.find_element(By.NAME, "note")
        note.clear()
        note.send_keys("Monthly review of the log")
        pw = form.find_element(By.NAME, "password")
        pw.clear()
        pw.send_keys(password)
        return form.find_element(By.CSS_SELECTOR, "button[type=submit]")

    sign("not my password", "reviewed")
    err = p.text("form[action='/audit/review'] .form-error")
    r_.check(bool(err), "a review with a wrong password is refused with a sentence", p.text("main")[:200])
    after = log_lines(k, store).count("ReviewSigned") + log_lines(k, store).count("Review")
    r_.check(after == reviews, "and nothing was recorded")
    p.page("audit-wrong-password", allowed_errors=("status of 401", "status of 403"))

    sign(PASSWORD, "reviewed")
    notice = p.text("p.notice")
    r_.check("Dana Ruiz" in notice, "the signed review is acknowledged", notice or p.text("main")[:200])
    trail = p.one("section[aria-labelledby='h-trail']")
    rows = trail.find_elements(By.CSS_SELECTOR, "tbody tr") if trail else []
    first = rows[0].text if rows else ""
    r_.check("AuditReviewed" in first, "the trail shows the review just signed first (newest first)", first[:120])
    sig = p.text("section[aria-labelledby='h-trail'] tbody tr .sig")
    r_.check("Dana Ruiz" in sig and "reviewed" in sig and re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d", sig) is not None,
             "the trail's row shows the signature: printed name Dana Ruiz, the meaning and the instant", sig)
    row = sig
    print(f"     trail row: {row!r}")
    p.page("audit-signed")
    p.sign_out()


def admin(p, admin_id, k, store):
    r_ = p.run
    p.sign_in(admin_id)
    r_.check(p.path().startswith("/admin"), f"the admin {admin_id} lands on /admin", p.path())
    before = p.text("section[aria-labelledby='h-rules'] dl")
    p.page("admin")
    upload = p.one("#rules-file")
    upload.send_keys(RULE_FILE)
    p.submit(p.one("form[action='/admin/rules'] button[type=submit]"))
    h1 = p.text("h1")
    r_.check(h1.startswith("Adopt rule set"), "uploading shows the diff page", h1)
    diffs = p.css(".patient-diff")
    patients = [d.get_attribute("data-patient") for d in diffs]
    r_.check(len(diffs) >= 1, "the diff lists the changes patient by patient", f"{patients}")
    print(f"     patients changed: {patients}")
    p.page("rule-diff")
    version = h1.removeprefix("Adopt rule set ").rstrip("?")

    form = p.one("form[action='/admin/rules/adopt']")
    form.find_element(By.NAME, "password").send_keys("not my password")
    p.submit(form.find_element(By.CSS_SELECTOR, "button[type=submit]"))
    r_.check(bool(p.text("form[action='/admin/rules/adopt'] .form-error")),
             "adopting with a wrong password is refused on the diff page, with a sentence", p.text("main")[:200])
    p.page("adopt-wrong-password", allowed_errors=("status of 401", "status of 403"))
    facts = log_lines(k, store)
    r_.check(f'"{version}"' not in facts or version in before, "and the rule set in force is unchanged")

    # Adopt with the right password, from the same diff page.
    form = p.one("form[action='/admin/rules/adopt']")
    form.find_element(By.NAME, "password").send_keys(PASSWORD)
    p.submit(form.find_element(By.CSS_SELECTOR, "button[type=submit]"))
    r_.check(p.path().startswith("/admin"), "adopting returns to /admin", p.path())
    notice = p.text("p.notice")
    r_.check("Adopted" in notice, "the adoption is acknowledged with its signature", notice or p.text("main")[:200])
    facts = p.text("section[aria-labelledby='h-rules'] dl")
    r_.check(version in facts, f"/admin shows rule set {version} in force", facts)
    p.page("admin-adopted")
    p.sign_out()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kstore", default=os.path.join(ROOT, ".build/debug/kstore"))
    ap.add_argument("--out", default=os.path.join(ROOT, ".build/web-browser"))
    ap.add_argument("--keep-store", action="store_true")
    a = ap.parse_args()
    k = os.path.abspath(a.kstore)
    os.makedirs(a.out, exist_ok=True)
    for f in os.listdir(a.out):
        if f.endswith(".png"):
            os.remove(os.path.join(a.out, f))
    started = time.time()
    work = tempfile.mkdtemp(prefix="kstore-web-")
    store = os.path.join(work, "store")
    admin_id = build_store(k, store)
    port = free_port()
    server, server_log = serve(k, store, port)
    run = Run()
    d = None
    try:
        d = browser()
        today = time.strftime("%Y-%m-%d")
        p = Pages(run, d, f"http://127.0.0.1:{port}", a.out)
        for step in (lambda: nurse(p, run, k, store, today), lambda: compliance(p, k, store),
                     lambda: admin(p, admin_id, k, store)):
            try:
                step()
            except (WebDriverException, AttributeError, IndexError) as e:
                run.check(False, f"the walk stopped at {p.path()}", f"{type(e).__name__}: {str(e).splitlines()[0]}")
                d.save_screenshot(os.path.join(a.out, f"{p.n + 1:02d}-stopped.png"))
                d.get(p.url("/login"))
                d.delete_all_cookies()
    finally:
        if d is not None:
            d.quit()
        server.terminate()
        try:
            code = server.wait(15)
        except subprocess.TimeoutExpired:
            server.kill()
            code = "killed"
        if not a.keep_store:
            shutil.rmtree(work, ignore_errors=True)
    run.check(code == 0, "kstore serve exits 0 on SIGTERM", f"exit {code}")
    errors = [l for l in server_log if "listening on" not in l and not l.startswith("kstore serve: stopped;")]
    run.check(not errors, "kstore serve wrote nothing on stderr beyond its address and its closing count", " | ".join(errors[:3]))
    print(f"{run.checks} checks, {p.n} pages, {time.time() - started:.0f} s; screenshots in {a.out}")
    print(f"{run.failures} failure(s)")
    sys.exit(1 if run.failures else 0)


if __name__ == "__main__":
    main()
