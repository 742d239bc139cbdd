"""How fast reminder workers deliver Web Push messages.

N patients, each with one device and a daily reminder that just came due, are made
into N pending deliveries; then 1 or 2 worker processes (`flask --app server reminders
run`, the Procfile's worker) send them to a fake push service on loopback that answers
after 0 ms or 50 ms. It prints messages per second (first request to last, as the push
service saw them) next to the encryption-only ceiling measured in the same run: what
one core can do if all it did was aes128gcm-encrypt the payloads.

The goal under test: at least 400 messages/s per worker at 50 ms latency on 2 cores.

A benchmark, not a test: it prints numbers and asserts nothing about time.

    .venv/bin/python bench/push.py                                   # SQLite file
    .venv/bin/python bench/push.py --database-url postgresql://postgres@127.0.0.1:5432/postgres
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("SECRET_KEY", "bench-secret-" + "x" * 40)
os.environ.setdefault("BETWEEN_ENV", "test")
if "--database-url" in sys.argv:  # tests.conftest reads it at import
    os.environ["TEST_DATABASE_URL"] = sys.argv[sys.argv.index("--database-url") + 1]
else:
    os.environ.pop("TEST_DATABASE_URL", None)

from pywebpush import WebPusher  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from server import create_app  # noqa: E402
from server.db import utcnow  # noqa: E402
from server.extensions import db  # noqa: E402
from server.reminders import worker  # noqa: E402
from server.reminders.models import PushDelivery  # noqa: E402
from tests.conftest import fresh_database, upgrade_to_head  # noqa: E402
from tests.fake_push import FakePushService  # noqa: E402
from tests.postgres.test_push_workers import seed, start_worker, stop_all, worker_env  # noqa: E402

THREADS = int(os.environ.get("PUSH_THREADS", 64))
BATCH = int(os.environ.get("PUSH_BATCH_SIZE", 256))
PAYLOAD = json.dumps(
    {"type": "checkin", "id": "0" * 36, "url": "/#/checkin", "body": "Time for your check-in"}
).encode()


def encryption_ceiling(device, seconds: float = 2.0) -> float:
    """Messages per second one core can encrypt, and nothing else."""
    pusher = WebPusher({"endpoint": device.endpoint, "keys": device.keys})
    n, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        pusher.encode(PAYLOAD, "aes128gcm")
        n += 1
    return n / (time.perf_counter() - started)


def one_run(n: int, latency: float, workers: int, tmp: Path) -> dict:
    with fresh_database(tmp) as url, FakePushService(latency=latency, keep_bodies=False) as push:
        upgrade_to_head(url)
        app = create_app({"SQLALCHEMY_DATABASE_URI": url})
        seed(app, push, n)
        with app.app_context():
            started = time.perf_counter()
            while worker.materialise(utcnow()):
                pass
            materialised = time.perf_counter() - started
            db.session.remove()
        env = worker_env(
            app, url, PUSH_THREADS=THREADS, PUSH_BATCH_SIZE=BATCH, PUSH_LEASE_SECONDS=120
        )
        procs = [start_worker(env, tmp / f"bench-w{i}.log") for i in range(workers)]
        try:
            deadline = time.monotonic() + 600
            while push.count < n and time.monotonic() < deadline:
                time.sleep(0.05)
        finally:
            stop_all(procs)
        with app.app_context():
            sent = db.session.scalar(
                select(func.count()).select_from(PushDelivery).where(PushDelivery.status == "sent")
            )
            db.session.remove()
            db.engine.dispose()
        elapsed = (push.last_at or 0) - (push.first_at or 0)
        rate = push.count / elapsed if elapsed > 0 else float("nan")
        return {
            "received": push.count,
            "sent": sent,
            "rate": rate,
            "per_worker": rate / workers,
            "materialise_rate": n / materialised,
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=2000, help="due reminders per run")
    parser.add_argument("--database-url", default=None, help="PostgreSQL server URL")
    parser.add_argument("--latency", type=float, nargs="*", default=[0.0, 0.05])
    parser.add_argument("--workers", type=int, nargs="*", default=[1, 2])
    args = parser.parse_args()
    logging.disable(logging.WARNING)

    backend = "PostgreSQL" if args.database_url else "SQLite"
    print(f"{args.n} due reminders per run, {backend}, {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as tmp, FakePushService() as probe:
        ceiling = encryption_ceiling(probe.device())
        print(f"encryption-only ceiling: {ceiling:8.0f} messages/s (one core, same run)\n")
        print(
            f"{'latency':>8} {'workers':>7} {'msg/s':>8} {'per worker':>10} "
            f"{'of ceiling':>10} {'delivered':>10} {'materialise/s':>13}"
        )
        for latency in args.latency:
            for workers in args.workers:
                r = one_run(args.n, latency, workers, Path(tmp))
                print(
                    f"{latency * 1000:6.0f}ms {workers:7d} {r['rate']:8.0f} "
                    f"{r['per_worker']:10.0f} {r['per_worker'] / ceiling:9.0%} "
                    f"{r['sent']:>5}/{r['received']:<4} {r['materialise_rate']:13.0f}"
                )


if __name__ == "__main__":
    main()
