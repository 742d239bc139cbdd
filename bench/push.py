"""How fast reminder workers deliver Web Push messages.

N patients, each with one device and a daily reminder that just came due, are made
into N pending deliveries; then 1 or 2 worker processes (`flask --app server reminders
run`, the Procfile's worker) send them to a fake push service on loopback that answers
after 0 ms or 50 ms. It prints messages per second (first request to last, as the push
service saw them) next to the encryption-only ceiling measured in the same run: what
one core can do if all it did was aes128gcm-encrypt the payloads.

The goal under test: at least 400 messages/s per worker at 50 ms latency on 2 cores.

Then CPU per message, all against the same fake push service in the same run (issue 20):
Node's `web-push` (bench/push_node.mjs, when `node` and `npm` are on PATH; installed into
bench/.node/ on first use); our sender alone (encrypt and send, in a child process that
counts its own CPU after a warm-up); and the worker's whole CPU per delivered reminder
(`flask reminders run --once` as a child process: claim, encrypt, send, record; its CPU
minus that of the same command with nothing due, i.e. its start-up). Each figure with
its ratio to web-push's and as messages per second per core. Targets: the worker at most
0.5x web-push, at least 2,000 messages/s per core. The database server's own CPU is not
counted in the worker's figure (it is another process).

A benchmark, not a test: it prints numbers and asserts nothing about time.

    .venv/bin/python bench/push.py                                   # SQLite file
    .venv/bin/python bench/push.py --database-url postgresql://postgres@127.0.0.1:5432/postgres
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import shutil
import subprocess
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

from sqlalchemy import func, select  # noqa: E402

from server import create_app  # noqa: E402
from server.db import utcnow  # noqa: E402
from server.extensions import db  # noqa: E402
from server.reminders import keys, sender, worker  # noqa: E402
from server.reminders.models import PushDelivery  # noqa: E402
from tests.conftest import fresh_database, upgrade_to_head  # noqa: E402
from tests.fake_push import FakePushService  # noqa: E402
from tests.postgres.test_push_workers import (  # noqa: E402
    FLASK,
    seed,
    start_worker,
    stop_all,
    worker_env,
)

NODE_DIR = ROOT / "bench" / ".node"
SUBJECT = "mailto:operator@example.test"
TTL, URGENCY, TOPIC = 3600, "normal", "bench-topic-0123456789ab"
WARMUP = 300

THREADS = int(os.environ.get("PUSH_THREADS", 64))
BATCH = int(os.environ.get("PUSH_BATCH_SIZE", 256))
PAYLOAD = json.dumps(
    {"type": "checkin", "id": "0" * 36, "url": "/#/checkin", "body": "Time for your check-in"}
).encode()


def encryption_ceiling(device, seconds: float = 2.0) -> float:
    """Messages per second one core can encrypt (the sender's own aes128gcm: a new key
    pair and salt each), and nothing else."""
    to = sender.recipient(device.keys["p256dh"], device.keys["auth"])
    n, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        sender.encrypt(PAYLOAD, to)
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


# -- CPU per message ---------------------------------------------------------------------


def _cpu(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def _vapid_key() -> str:
    return os.environ.get("VAPID_PRIVATE_KEY") or keys.new_vapid_private_key()


def node_web_push(url: str, device_keys: dict, n: int, vapid_key: str) -> dict | None:
    """Node's web-push sending n messages; None (and why) when node or npm is missing."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        return {"missing": "node or npm not on PATH"}
    if not (NODE_DIR / "node_modules" / "web-push").exists():
        subprocess.run(
            [npm, "install", "--prefix", str(NODE_DIR), "--no-audit", "--no-fund", "web-push@3"],
            check=True,
            capture_output=True,
            timeout=300,
        )
    vapid = keys.load(vapid_key)
    private = vapid.private_key.private_numbers().private_value.to_bytes(32, "big")
    config = {
        "url": url,
        "n": n,
        "warmup": WARMUP,
        "concurrency": THREADS,
        "p256dh": device_keys["p256dh"],
        "auth": device_keys["auth"],
        "payload": PAYLOAD.decode(),
        "ttl": TTL,
        "urgency": URGENCY,
        "topic": TOPIC,
        "subject": SUBJECT,
        "vapid_public": keys.public_key_b64(vapid),
        "vapid_private": keys.b64url(private),
    }
    done = subprocess.run(
        [node, str(ROOT / "bench" / "push_node.mjs"), json.dumps(config)],
        check=True,
        capture_output=True,
        text=True,
        timeout=600,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def sender_alone(url: str, device_keys: dict, n: int, vapid_key: str) -> dict:
    """Our sender in a child process, counting its own CPU for n messages after a warm-up."""
    config = {"url": url, "n": n, "keys": device_keys, "vapid": vapid_key}
    done = subprocess.run(
        [sys.executable, __file__, "--sender-child", json.dumps(config)],
        check=True,
        capture_output=True,
        text=True,
        timeout=600,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def _sender_child(config: dict) -> None:
    from server.reminders.sender import Message, Sender

    def batch(prefix: str, n: int) -> list[Message]:
        return [
            Message(
                key=i,
                endpoint=f"{config['url']}/push/{prefix}-{i}",
                p256dh=config["keys"]["p256dh"],
                auth=config["keys"]["auth"],
                payload=PAYLOAD,
                ttl=TTL,
                urgency=URGENCY,
                topic=TOPIC,
            )
            for i in range(n)
        ]

    with Sender(keys.load(config["vapid"]), SUBJECT, timeout=10, threads=THREADS) as ours:
        ours.send(batch("py-warm", WARMUP))
        messages = batch("py", config["n"])  # made by the worker's claim, not the sender
        started, before = time.perf_counter(), _cpu(resource.RUSAGE_SELF)
        results = []
        for i in range(0, len(messages), BATCH):
            results += ours.send(messages[i : i + BATCH])
        cpu = _cpu(resource.RUSAGE_SELF) - before
        wall = time.perf_counter() - started
    sent = sum(o.result == "sent" for o in results)
    print(json.dumps({"n": len(messages), "sent": sent, "cpu_ms": cpu * 1000, "wall_s": wall}))


def _run_once(env: dict) -> tuple[float, str]:
    """CPU seconds of one `flask reminders run --once` child process, and what it said."""
    before = _cpu(resource.RUSAGE_CHILDREN)
    done = subprocess.run(
        [FLASK, "--app", "server", "reminders", "run", "--once"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if done.returncode:
        raise RuntimeError(done.stdout + done.stderr)
    return _cpu(resource.RUSAGE_CHILDREN) - before, done.stdout


def worker_cpu(n: int, tmp: Path, vapid_key: str, latency: float = 0.0) -> dict:
    """The worker's CPU per delivered reminder: one `--once` pass over n due deliveries,
    minus the same command's CPU with nothing due (its start-up and an empty pass)."""
    with (
        fresh_database(tmp) as url,
        FakePushService(latency=latency, keep_bodies=False) as push,
    ):
        upgrade_to_head(url)
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "VAPID_PRIVATE_KEY": vapid_key})
        env = worker_env(
            app, url, PUSH_THREADS=THREADS, PUSH_BATCH_SIZE=BATCH, PUSH_LEASE_SECONDS=120
        )
        _run_once(env)  # warms the OS's file cache for the imports
        idle = min(_run_once(env)[0] for _ in range(3))
        seed(app, push, n)
        with app.app_context():
            while worker.materialise(utcnow()):
                pass
            db.session.remove()
        busy, said = _run_once(env)
        with app.app_context():
            sent = db.session.scalar(
                select(func.count()).select_from(PushDelivery).where(PushDelivery.status == "sent")
            )
            db.session.remove()
            db.engine.dispose()
        return {
            "idle_ms": idle * 1000,
            "busy_ms": busy * 1000,
            "sent": sent,
            "received": push.count,
            "said": said.strip(),
        }


def cpu_per_message(n: int, tmp: Path, latency: float = 0.0) -> None:
    vapid_key = _vapid_key()
    with FakePushService(latency=latency, keep_bodies=False) as push:
        device_keys = push.device().keys
        node = node_web_push(push.url, device_keys, n, vapid_key)
        alone = sender_alone(push.url, device_keys, n, vapid_key)
    whole = worker_cpu(n, tmp, vapid_key, latency)

    print(
        f"\nCPU per message, {n} messages each, same fake push service, same run "
        f"({latency * 1000:.0f} ms):"
    )
    figures = []
    if node and "missing" not in node:
        ok = node["statuses"].get("201", 0)
        figures.append(
            (
                f"web-push {node['web_push']} (Node {node['node']})",
                node["cpu_ms_per_message"],
                f"{ok}/{node['n']} answered 201",
            )
        )
    else:
        print(f"  web-push: not measured ({(node or {}).get('missing')})")
    figures.append(
        ("our sender alone (encrypt + send)", alone["cpu_ms"] / alone["n"], f"{alone['sent']} sent")
    )
    delivered = whole["sent"] or 1
    figures.append(
        (
            "worker per delivered reminder",
            (whole["busy_ms"] - whole["idle_ms"]) / delivered,
            f"{whole['sent']} sent, {whole['received']} received; --once "
            f"{whole['busy_ms']:.0f} ms - start-up {whole['idle_ms']:.0f} ms",
        )
    )
    base = figures[0][1] if node and "missing" not in node else None
    for name, ms_per, note in figures:
        ratio = f"{ms_per / base:5.2f}x web-push" if base else "      -         "
        print(
            f"  cpu {name:<38} {ms_per:7.3f} ms/msg {1000 / ms_per:8.0f} msg/s/core {ratio}  {note}"
        )
    print("  targets: worker <= 0.50x web-push, >= 2000 msg/s/core")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=2000, help="due reminders per run")
    parser.add_argument("--database-url", default=None, help="PostgreSQL server URL")
    parser.add_argument("--latency", type=float, nargs="*", default=[0.0, 0.05])
    parser.add_argument("--workers", type=int, nargs="*", default=[1, 2])
    parser.add_argument(
        "--cpu-n",
        type=int,
        default=5000,
        help="messages for the CPU figures (many, so the start-up subtracted weighs little)",
    )
    parser.add_argument("--no-cpu", action="store_true", help="skip the CPU per message figures")
    parser.add_argument(
        "--cpu-latency",
        type=float,
        nargs="*",
        default=[0.0],
        help="push-service latencies (s) for the CPU figures",
    )
    parser.add_argument("--sender-child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    if args.sender_child:
        _sender_child(json.loads(args.sender_child))
        return

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
        if not args.no_cpu:
            for latency in args.cpu_latency:
                cpu_per_message(args.cpu_n, Path(tmp), latency)


if __name__ == "__main__":
    main()
