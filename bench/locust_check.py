"""How much of locust's client-side latency is locust's own, on this machine.

gunicorn (gthread, as config/gunicorn.conf.py sets it up) serves a stub WSGI app that only
burns --cpu-ms of CPU per request (bench/stub_app.py); the same offered load (--users
users at --rate requests/s each, --seconds long) comes once from locust (bench/stub_users.py,
FastHttpUser as bench/load_users.py uses) and once from plain client threads, each
starting at a random moment and keeping its own schedule. The server's work is the same
both times, so the difference between the two is the load generator's.

    .venv/bin/python bench/locust_check.py --json out.json
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
sys.path.insert(0, str(ROOT))

from common import free_port  # noqa: E402


def start_stub(cpu_ms: float):
    port = free_port()
    env = dict(os.environ, BENCH_STUB_CPU_MS=str(cpu_ms), GUNICORN_BIND=f"127.0.0.1:{port}")
    command = [sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.conf.py"]
    command += ["--chdir", str(BENCH), "stub_app:app"]
    proc = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            requests.get(base + "/stub", timeout=2)
            return proc, base
        except requests.RequestException:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("the stub server did not start")


def percentiles(values: list[float]) -> dict:
    values = sorted(values)
    return {
        f"p{p}": values[min(len(values) - 1, int(p / 100 * len(values)))] if values else None
        for p in (50, 95, 99)
    } | {"requests": len(values)}


def with_threads(base: str, users: int, rate: float, seconds: int) -> dict:
    latencies: list[float] = []
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def user() -> None:
        session = requests.Session()
        time.sleep(random.uniform(0, 1 / rate))
        due = time.monotonic()
        while due < stop:
            started = time.perf_counter()
            session.get(base + "/stub", timeout=30)
            with lock:
                latencies.append((time.perf_counter() - started) * 1000)
            due += 1 / rate
            time.sleep(max(0.0, due - time.monotonic()))

    threads = [threading.Thread(target=user) for _ in range(users)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return percentiles(latencies)


def with_locust(base: str, users: int, rate: float, seconds: int, out: Path) -> dict:
    prefix = out / "stub"
    command = [sys.executable, "-m", "locust", "-f", str(BENCH / "stub_users.py"), "--headless"]
    command += ["--users", str(users), "--spawn-rate", str(users), "--run-time", f"{seconds}s"]
    command += ["--host", base, "--csv", str(prefix), "--only-summary", "--loglevel", "WARNING"]
    env = dict(os.environ, BENCH_LOAD_RATE=str(rate))
    subprocess.run(command, cwd=ROOT, env=env, capture_output=True, timeout=seconds + 120)
    with open(f"{prefix}_stats.csv") as fh:
        row = next(r for r in csv.DictReader(fh) if r["Name"] == "stub")
    return {
        "p50": float(row["50%"]),
        "p95": float(row["95%"]),
        "p99": float(row["99%"]),
        "requests": int(row["Request Count"]),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cpu-ms", type=float, default=3.0, help="CPU per stub request")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--rate", type=float, default=2.0, help="requests/s per user")
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--json", metavar="PATH")
    args = parser.parse_args(argv)
    proc, base = start_stub(args.cpu_ms)
    try:
        with tempfile.TemporaryDirectory(prefix="between-locust-check-") as tmp:
            result = {
                "cpu_ms": args.cpu_ms,
                "users": args.users,
                "rate": args.rate,
                "locust": with_locust(base, args.users, args.rate, args.seconds, Path(tmp)),
                "threads": with_threads(base, args.users, args.rate, args.seconds),
            }
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    print(
        f"stub burning {args.cpu_ms:g} ms CPU per request, {args.users} users at "
        f"{args.rate:g}/s each:"
    )
    for name in ("locust", "threads"):
        r = result[name]
        print(
            f"  {name:8} {r['requests']:6,} requests, p50 {r['p50']:.1f} ms, p95 "
            f"{r['p95']:.1f} ms, p99 {r['p99']:.1f} ms"
        )
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
