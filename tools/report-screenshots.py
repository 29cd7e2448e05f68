#!/usr/bin/env python3
"""Render kstore's three reports in headless Chromium (Debian's `chromium`) and check them.

Usage:
  tools/report-screenshots.py [--kstore PATH] [--out DIR] [--keep-store]
  tools/report-screenshots.py --check FILE.html... [--out DIR]

Builds a store from the fixtures (the guide's cases and the worked examples), writes
`kstore report patient` for each patient, `report today` and `report trail`, then for each
HTML file:
  - screenshots at 1280 px and 768 px wide (DIR/<name>-1280.png, DIR/<name>-768.png);
  - prints it to PDF (DIR/<name>.pdf), and the first page to PNG when pdftoppm is there;
  - loads a copy with a small probe script added (the report itself has none) and reads back,
    through --dump-dom, every element wider than the viewport or sticking out of it, and the
    console errors Chromium logged.
With --check, only the given HTML files are rendered and checked (no store is built): how the
tests prove that the check fails on a page that overflows or logs an error.
Exit 0 when no page overflows at either width and none logged an error, 1 otherwise; 69 when
Chromium is not installed (tools/setup.sh installs it). Run as root it passes --no-sandbox
(Chromium refuses root otherwise).
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

CASES = [
    ("examples/w1.ndjson", "W1", "2026-11-20"),
    ("examples/w2.ndjson", "W2", "2026-04-25"),
    ("examples/w3.ndjson", "W3", "2026-04-10"),
    ("case1-long-term-maintenance.ndjson", "C1", "2026-11-15"),
    ("case2-successful-transition.ndjson", "C2", "2026-12-01"),
    ("case3-tolerance-management.ndjson", "C3", "2026-11-20"),
    ("case4-poorly-documented.ndjson", "C4", "2026-10-01"),
]

# Before anything else on the page: every error event (a script's, a resource that failed to
# load) and every console.error, kept for the result.
CATCH = """<script>
window.__errors = [];
addEventListener('error', e => window.__errors.push(String(e.message || ('failed to load ' + (e.target && (e.target.src || e.target.href))))), true);
const __ce = console.error;
console.error = (...a) => { window.__errors.push(a.map(String).join(' ')); __ce.apply(console, a); };
</script>"""

PROBE = """
<script>
addEventListener('load', () => {
  const vw = document.documentElement.clientWidth;
  const bad = [];
  for (const el of document.body.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    if (el.closest('svg') && el.tagName.toLowerCase() !== 'svg') continue;
    if (r.right > vw + 0.5 || r.left < -0.5) {
      bad.push(el.tagName.toLowerCase() + (el.className && typeof el.className === 'string' ? '.' + el.className : '')
        + ' ' + Math.round(r.left) + '..' + Math.round(r.right) + ' of ' + vw);
    }
  }
  const sw = document.documentElement.scrollWidth;
  const pre = document.createElement('pre');
  pre.id = 'probe-result';
  pre.textContent = JSON.stringify({viewport: vw, scrollWidth: sw, overflowing: bad.slice(0, 20), count: bad.length,
                                    errors: window.__errors || []});
  document.body.appendChild(pre);
});
</script>
"""


def chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    print("chromium is not installed: run tools/setup.sh (it installs Debian's chromium and poppler-utils)", file=sys.stderr)
    sys.exit(69)


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def browser(args, extra):
    base = [chromium(), "--headless", "--disable-gpu", "--hide-scrollbars", "--force-device-scale-factor=1",
            "--no-first-run", "--disable-extensions", "--enable-logging=stderr", "--v=0"]
    if os.geteuid() == 0:
        base.append("--no-sandbox")
    return run(base + extra + args, timeout=120)


def check(name, html, out, work):
    """Screenshots at 1280 and 768 px, the probe at both widths, Letter and A4 PDFs: failures."""
    failures = 0
    text = open(html, encoding="utf-8").read()
    probe_path = os.path.join(work, name + ".probe.html")
    with open(probe_path, "w", encoding="utf-8") as fh:
        probed = text.replace("<head>", "<head>" + CATCH, 1) if "<head>" in text else CATCH + text
        fh.write(probed.replace("</body>", PROBE + "</body>") if "</body>" in probed else probed + PROBE)
    for width in (1280, 768):
        png = os.path.join(out, f"{name}-{width}.png")
        browser([f"file://{html}"], [f"--window-size={width},2000", f"--screenshot={png}"])
        d = browser([f"file://{probe_path}"], [f"--window-size={width},2000", "--dump-dom", "--virtual-time-budget=2000"])
        m = re.search(r'<pre id="probe-result">(.*?)</pre>', d.stdout, re.S)
        logged = [l for l in d.stderr.splitlines() if "CONSOLE" in l and ("error" in l.lower() or "uncaught" in l.lower())]
        if not m:
            print(f"FAIL {name} @{width}: no probe result")
            failures += 1
            continue
        res = json.loads(m.group(1).replace("&quot;", '"').replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&"))
        errors = res.get("errors", []) + logged
        ok = res["count"] == 0 and res["scrollWidth"] <= res["viewport"] and not errors
        print(f"{'ok  ' if ok else 'FAIL'} {name} @{width}: scrollWidth {res['scrollWidth']} / {res['viewport']}, "
              f"{res['count']} overflowing, {len(errors)} console errors {res['overflowing'][:3]} {errors[:2]}")
        failures += 0 if ok else 1
    # Letter (Chromium's default) and A4 (the same page with its @page size set).
    a4_path = os.path.join(work, name + ".a4.html")
    with open(a4_path, "w", encoding="utf-8") as fh:
        fh.write(text.replace("</head>", "<style>@page{size:A4}</style></head>"))
    for suffix, src in (("", html), ("-a4", a4_path)):
        pdf = os.path.join(out, name + suffix + ".pdf")
        browser([f"file://{src}"], [f"--print-to-pdf={pdf}", "--no-pdf-header-footer"])
        if not os.path.exists(pdf):
            print(f"FAIL {name}: no PDF{suffix}")
            failures += 1
        elif shutil.which("pdftoppm"):
            run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "2", pdf, os.path.join(out, name + suffix + "-print")])
    return failures


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kstore", default=os.path.join(ROOT, ".build/debug/kstore"))
    ap.add_argument("--out", default=os.path.join(ROOT, ".build/report-screenshots"))
    ap.add_argument("--keep-store", action="store_true")
    ap.add_argument("--check", nargs="+", metavar="FILE.html")
    a = ap.parse_args()
    chromium()
    os.makedirs(a.out, exist_ok=True)
    work = tempfile.mkdtemp(prefix="kstore-shots-")
    if a.check:
        failures = 0
        for f in a.check:
            path = os.path.abspath(f)
            failures += check(os.path.splitext(os.path.basename(path))[0], path, a.out, work)
        shutil.rmtree(work, ignore_errors=True)
        print(f"{len(a.check)} pages, {failures} failure(s); files in {a.out}")
        sys.exit(1 if failures else 0)
    store = os.path.join(work, "store")
    env = dict(os.environ, KSTORE_PATH=store)
    for cmd in ([a.kstore, "init", "--store", store], ["bash", os.path.join(ROOT, "tools/register-actors.sh"), store, a.kstore]):
        r = run(cmd, env=env)
        if r.returncode != 0:
            sys.exit(f"{' '.join(cmd)}: {r.stderr.strip()}")
    for f, _, _ in CASES:
        r = run([a.kstore, "import", os.path.join(ROOT, "fixtures", f)], env=env)
        if r.returncode != 0:
            sys.exit(f"import {f}: {r.stderr.strip()}")
    # The session clinic (issue 14) on top of the cases: the REMS form and the drug's record.
    r = run([a.kstore, "import", os.path.join(ROOT, "fixtures", "sessions-clinic.ndjson")], env=env)
    if r.returncode != 0:
        sys.exit(f"import sessions-clinic.ndjson: {r.stderr.strip()}")
    pages = []
    for _, p, on in CASES:
        pages.append((f"patient-{p}", [a.kstore, "report", "patient", "--patient", p, "--on", on]))
    pages.append(("today", [a.kstore, "report", "today", "--on", "2026-04-10"]))
    pages.append(("trail-W2", [a.kstore, "report", "trail", "--patient", "W2"]))
    pages.append(("rems-E1", [a.kstore, "report", "rems", "--infusion", "00000000-0000-0000-5e03-00000000004f", "--on", "2026-11-20"]))
    pages.append(("dispensing", [a.kstore, "report", "dispensing", "--from", "2026-09-01", "--to", "2026-11-20"]))
    failures = 0
    for name, cmd in pages:
        html = os.path.join(a.out, name + ".html")
        r = run(cmd + ["--out", html], env=env)
        if r.returncode != 0:
            print(f"FAIL {name}: {r.stderr.strip()}")
            failures += 1
            continue
        failures += check(name, html, a.out, work)
    if not a.keep_store:
        shutil.rmtree(work, ignore_errors=True)
    print(f"{len(pages)} pages, {failures} failure(s); files in {a.out}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
