"""Lighthouse on the patient's first page, as a phone sees it.

The app runs under gunicorn as the Procfile starts it (BETWEEN_ENV=development, so plain
HTTP on 127.0.0.1, which browsers treat as a secure origin), on a fresh SQLite file with
the demo data. Lighthouse (the npm package, installed on first use into bench/.lighthouse/,
which git ignores) drives Debian's Chromium in its mobile preset (a mid-range phone,
simulated slow 4G) over `/`, the sign-in page every patient starts from.

It prints each category's score (0-100) and every audit Lighthouse counts as not passed
(a score under 0.9), informative and manual audits aside. `--json PATH` also writes them
as JSON, for bench/run_all.py. Needs `node` and `npm`; without them it says so and exits 2.

A benchmark, not a test: it prints numbers and asserts nothing.

    .venv/bin/python bench/lighthouse.py [--runs 3] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NODE_DIR = ROOT / "bench" / ".lighthouse"
LIGHTHOUSE_VERSION = "12"
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
PASSED = 0.9  # Lighthouse's own line between "passed" and not, for a scored audit


def lighthouse_bin() -> Path | None:
    if not (shutil.which("node") and shutil.which("npm")):
        return None
    binary = NODE_DIR / "node_modules" / ".bin" / "lighthouse"
    if not binary.exists():
        NODE_DIR.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                "npm",
                "install",
                "--prefix",
                str(NODE_DIR),
                "--no-audit",
                "--no-fund",
                "--silent",
                f"lighthouse@{LIGHTHOUSE_VERSION}",
            ],
            check=True,
        )
    return binary


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def flask(env: dict, *args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "server", *args],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )


def serve(tmp: Path):
    port = free_port()
    env = {
        **os.environ,
        "BETWEEN_ENV": "development",
        "SECRET_KEY": "bench-secret-" + "x" * 40,
        "DATABASE_URL": f"sqlite:///{tmp / 'lighthouse.db'}",
    }
    flask(env, "db", "upgrade")
    flask(env, "seed-demo")
    gunicorn = Path(sys.executable).with_name("gunicorn")
    server = subprocess.Popen(
        [
            str(gunicorn),
            "-c",
            "config/gunicorn.conf.py",
            "--bind",
            f"127.0.0.1:{port}",
            "server:create_app()",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5):  # noqa: S310 (loopback)
                return server, url
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                raise RuntimeError("gunicorn did not start") from None
            time.sleep(0.2)


def run_once(binary: Path, url: str, out: Path) -> dict:
    chromium = os.environ.get("CHROMIUM") or shutil.which("chromium") or "chromium"
    subprocess.run(
        [
            str(binary),
            url,
            "--quiet",
            "--output=json",
            f"--output-path={out}",
            "--form-factor=mobile",
            "--chrome-flags=--headless=new --no-sandbox",
            f"--only-categories={','.join(CATEGORIES)}",
        ],
        env={**os.environ, "CHROME_PATH": chromium},
        check=True,
        timeout=600,
    )
    report = json.loads(out.read_text())
    scores = {k: round(report["categories"][k]["score"] * 100) for k in CATEGORIES}
    failing = sorted(
        (audit["id"], audit["score"], audit.get("displayValue", ""))
        for audit in report["audits"].values()
        if audit.get("score") is not None
        and audit.get("scoreDisplayMode") in ("binary", "numeric", "metricSavings")
        and audit["score"] < PASSED
    )
    return {"scores": scores, "failing": failing, "version": report["lighthouseVersion"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", metavar="PATH", help="also write the figures here as JSON")
    args = parser.parse_args()
    binary = lighthouse_bin()
    if binary is None:
        print("Lighthouse not run: it needs node and npm on PATH.", file=sys.stderr)
        sys.exit(2)
    with tempfile.TemporaryDirectory(prefix="between-lighthouse-") as tmp:
        server, url = serve(Path(tmp))
        try:
            runs = [run_once(binary, url, Path(tmp) / f"run{i}.json") for i in range(args.runs)]
        finally:
            server.terminate()
            server.wait(timeout=30)
    scores = {k: statistics.median(r["scores"][k] for r in runs) for k in CATEGORIES}
    spread = {
        k: (min(r["scores"][k] for r in runs), max(r["scores"][k] for r in runs))
        for k in CATEGORIES
    }
    failing = sorted({(a, d) for r in runs for a, _s, d in r["failing"]})
    if args.json:
        figures = {
            "version": runs[0]["version"],
            "runs": len(runs),
            "scores": scores,
            "spread": spread,
            "failing": [{"audit": a, "value": d} for a, d in failing],
        }
        Path(args.json).write_text(json.dumps(figures))
    print(f"Lighthouse {runs[0]['version']}, mobile, {url}, median of {len(runs)} runs:")
    for k in CATEGORIES:
        print(f"  {k:16} {scores[k]:5.0f}   ({spread[k][0]}–{spread[k][1]})")
    if failing:
        print("Audits not passed (score under 0.9) in any run:")
        for audit, value in failing:
            print(f"  {audit:36} {value}")
    else:
        print("No audit failed in any run.")


if __name__ == "__main__":
    main()
