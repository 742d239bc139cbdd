"""The patient PWA's budget: shell size, first load, offline reload.

  - Shell size: every HTML, JS and CSS file the service worker precaches, uncompressed
    (budget: under 150 KB). The therapist's screens (js/therapist/, css/therapist.css)
    are not in it: the worker never precaches them, a therapist's browser fetches them
    after sign-in. Their size is reported on its own line, outside the budget.
  - Cold load to an interactive journal list (budget: under 1 s on loopback): a signed-in
    device with no service worker, an empty Cache Storage and the HTTP cache disabled
    loads /#/journal; timed from navigation start to the `journal-list-ready` mark the
    list sets once its entries are on screen. Also the very first visit (a fresh
    browser, nothing stored) to the sign-in form.
  - Offline reload (budget: under 300 ms): the same, served by the service worker with
    the network cut.
  - First sync: from the sign-in click until every entry is on this device.

The app is served from a thread on 127.0.0.1 against a fresh SQLite file, with a
patient who has written ENTRIES entries. Debian's Chromium, headless. Each figure is
the median of RUNS. A benchmark, not a test: it prints numbers and asserts nothing.

    .venv/bin/python bench/pwa.py [--entries 200] [--runs 7]
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import shutil
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("SECRET_KEY", "bench-secret-" + "x" * 40)
os.environ.setdefault("BETWEEN_ENV", "test")

from flask_migrate import upgrade  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

from server import create_app  # noqa: E402

PWA = ROOT / "pwa"
PASSWORD = "a-long-bench-passphrase"
EMAIL = "bench@example.test"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run"]
READY = "performance.getEntriesByName('journal-list-ready').length > 0"
READY_AT = "performance.getEntriesByName('journal-list-ready')[0].startTime"


def precached() -> list[str]:
    block = re.search(r"const SHELL = \[(.*?)\];", (PWA / "sw.js").read_text(), re.S).group(1)
    return re.findall(r"'([^']+)'", block)


def sizes(paths: list[str]) -> list[tuple[str, int]]:
    code = [p for p in paths if p.endswith((".html", ".js", ".css"))]
    return [(p, (PWA / p.lstrip("/")).stat().st_size) for p in code]


def shell_size() -> tuple[int, list[tuple[str, int]]]:
    files = sizes(precached()) + [("/sw.js", (PWA / "sw.js").stat().st_size)]
    return sum(size for _, size in files), sorted(files, key=lambda f: -f[1])


def therapist_size() -> tuple[int, list[tuple[str, int]]]:
    """What a therapist's browser loads on top of the shell, never a patient's."""
    paths = ["/" + str(p.relative_to(PWA)) for p in sorted(PWA.rglob("*")) if p.is_file()]
    files = sizes([p for p in paths if "/therapist" in p])
    return sum(size for _, size in files), sorted(files, key=lambda f: -f[1])


def serve(entries: int):
    db_dir = tempfile.mkdtemp(prefix="between-bench-")
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{db_dir}/bench.db",
            "TESTING": True,
            "RATELIMIT_LOGIN": "1000 per minute",
        }
    )
    with app.app_context():
        upgrade()
    client = app.test_client()
    response = client.post(
        "/api/v1/auth/register",
        json={"email": EMAIL, "password": PASSWORD, "display_name": "Bench", "role": "patient"},
    )
    assert response.status_code == 201, response.json
    start = datetime.now(UTC)
    for n in range(entries):
        written = (start - timedelta(hours=7 * n)).isoformat()
        body = f"Entry {n}: a few sentences about the day, the session and what stayed. " * 4
        response = client.post(
            "/api/v1/journal/entries",
            json={"body": body, "title": f"Day {n}", "mood": n % 11, "written_at": written},
        )
        assert response.status_code == 201, response.json
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}", db_dir


def sign_in(page, url: str) -> float:
    page.goto(url + "/#/signin")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    began = time.perf_counter()
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_selector("#sync-status:text-is('All synced')", timeout=60_000)
    return (time.perf_counter() - began) * 1000


def measure(url: str, entries: int, runs: int) -> dict:
    figures = {"first visit": [], "first sync": [], "cold load": [], "offline reload": []}
    executable = os.environ.get("CHROMIUM") or shutil.which("chromium")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=ARGS)
        for _ in range(runs):
            context = browser.new_context(viewport={"width": 390, "height": 844})
            page = context.new_page()
            cdp = context.new_cdp_session(page)
            cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
            page.goto(url + "/#/signin")
            page.wait_for_selector("#email")
            figures["first visit"].append(
                page.evaluate(
                    "performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd"
                )
            )
            figures["first sync"].append(sign_in(page, url))
            page.wait_for_function("() => navigator.serviceWorker.controller !== null")
            # cold: keep the sign-in (IndexedDB, cookie), drop the worker and its cache
            page.evaluate(
                """async () => {
                  const regs = await navigator.serviceWorker.getRegistrations();
                  for (const r of regs) await r.unregister();
                  for (const k of await caches.keys()) await caches.delete(k);
                }"""
            )
            fresh = context.new_page()
            fresh_cdp = context.new_cdp_session(fresh)
            fresh_cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
            page.close()
            fresh.goto(url + "/#/journal")
            fresh.wait_for_function(f"() => {READY}")
            figures["cold load"].append(fresh.evaluate(READY_AT))
            # every entry on the list (a sync finishing meanwhile may redraw it once)
            fresh.wait_for_function(
                f"() => document.querySelectorAll('#entry-list li').length === {entries}",
                timeout=30_000,
            )
            fresh.wait_for_function(
                "() => navigator.serviceWorker.controller !== null", timeout=30_000
            )
            fresh.wait_for_selector("#sync-status:text-is('All synced')")
            context.set_offline(True)
            fresh.reload()
            fresh.wait_for_function(f"() => {READY}")
            figures["offline reload"].append(fresh.evaluate(READY_AT))
            context.close()
        browser.close()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=200)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    logging.disable(logging.INFO)

    total, files = shell_size()
    worker = (PWA / "sw.js").stat().st_size
    print(f"App shell (HTML+JS+CSS, uncompressed, budget 150 KB), {len(files)} files:")
    print(f"  with the service worker   {total / 1024:6.1f} KB")
    print(f"  what pages load           {(total - worker) / 1024:6.1f} KB")
    for path, size in files[:5]:
        print(f"  {path:32} {size / 1024:6.1f} KB")
    # the words of each language: precached too (offline in any language), outside the
    # HTML+JS+CSS budget; a page loads its own language's and English (the fallback)
    catalogues = [p for p in precached() if p.startswith("/i18n/")]
    words = [(p, (PWA / p.lstrip("/")).stat().st_size) for p in catalogues]
    print(
        "Language catalogues (precached, outside the budget): "
        + ", ".join(f"{p} {size / 1024:.1f} KB" for p, size in words)
    )
    staff, staff_files = therapist_size()
    print(
        f"Therapist bundle (loaded only when a therapist signs in, outside the budget), "
        f"{len(staff_files)} files: {staff / 1024:.1f} KB"
    )
    for path, size in staff_files[:3]:
        print(f"  {path:32} {size / 1024:6.1f} KB")
    server, url, db_dir = serve(args.entries)
    try:
        figures = measure(url, args.entries, args.runs)
    finally:
        server.shutdown()
        shutil.rmtree(db_dir, ignore_errors=True)
    budgets = {"cold load": 1000, "offline reload": 300}
    print(f"\n{args.entries} journal entries, median of {args.runs} runs (min–max), ms:")
    for name, values in figures.items():
        budget = f"  (budget {budgets[name]} ms)" if name in budgets else ""
        spread = f"({min(values):.0f}–{max(values):.0f})"
        print(f"  {name:16} {statistics.median(values):7.0f}   {spread}{budget}")


if __name__ == "__main__":
    main()
