"""On PostgreSQL, several reminder worker processes send each reminder exactly once.

Real processes (`flask --app server reminders run`, the Procfile's worker) against one
database and a fake push service on loopback. Each of N patients has one device and a
daily reminder that just came due, so every push-service path is one delivery:
counting requests per path counts sends per delivery.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select, text

from server.auth.models import User
from server.db import utcnow
from server.extensions import db
from server.reminders import worker
from server.reminders.models import PushDelivery, PushSubscription, ReminderSchedule
from tests.fake_push import FakePushService

ROOT = Path(__file__).resolve().parents[2]
FLASK = str(Path(sys.executable).parent / "flask")
N = 2000
WAIT = 120  # seconds: an upper bound for work that takes a few


def seed(app, push, n=N) -> list[str]:
    """n patients, each with one device and a daily reminder due a few minutes ago."""
    now = utcnow()
    due = now - timedelta(minutes=3)
    keys = push.device().keys  # one key pair for all: the endpoints tell them apart
    users, schedules, devices, paths = [], [], [], []
    for i in range(n):
        user_id = uuid.uuid4()
        users.append(
            {
                "id": user_id,
                "email": f"load{i}-{user_id.hex[:6]}@example.test",
                "password_hash": "not-a-hash",
                "display_name": f"Load {i}",
                "role": "patient",
                "timezone": "UTC",
            }
        )
        schedules.append(
            {
                "user_id": user_id,
                "timezone": "UTC",
                "settings": {
                    "daily_checkin": {"enabled": True, "times": [due.strftime("%H:%M")]},
                    "quiet_hours": None,
                },
                "wake_at": now - timedelta(minutes=1),
                "materialised_until": now - timedelta(minutes=10),
                "version": 1,
            }
        )
        path = f"/push/{i}"
        paths.append(path)
        devices.append(
            {
                "user_id": user_id,
                "endpoint": push.url + path,
                "p256dh": keys["p256dh"],
                "auth": keys["auth"],
            }
        )
    with app.app_context():
        db.session.execute(insert(User), users)
        db.session.execute(insert(ReminderSchedule), schedules)
        db.session.execute(insert(PushSubscription), devices)
        db.session.commit()
        db.session.remove()
    return paths


def worker_env(app, database_url, **extra) -> dict:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "BETWEEN_ENV": "test",
        "SECRET_KEY": app.config["SECRET_KEY"],
        "VAPID_PRIVATE_KEY": app.config["VAPID_PRIVATE_KEY"],
        "VAPID_SUBJECT": "mailto:operator@example.test",
        "PUSH_LEASE_SECONDS": "5",
        "PUSH_BATCH_SIZE": "50",
        "PUSH_THREADS": "8",
        "PUSH_TIMEOUT": "10",
    }
    env.update({k: str(v) for k, v in extra.items()})
    return env


def start_worker(env, log_path: Path) -> subprocess.Popen:
    log = open(log_path, "w")  # noqa: SIM115  (closed by stop_all)
    proc = subprocess.Popen(
        [FLASK, "--app", "server", "reminders", "run", "--interval", "0.2"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    proc.log = log
    proc.log_path = log_path
    return proc


def stop_all(procs) -> list[str]:
    outputs = []
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGCONT)
            proc.send_signal(signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        proc.log.close()
        outputs.append(proc.log_path.read_text())
    return outputs


def status_counts(app) -> Counter:
    with app.app_context():
        rows = db.session.execute(
            select(PushDelivery.status, func.count()).group_by(PushDelivery.status)
        ).all()
        db.session.remove()
    return Counter(dict(rows))


def wait_until(predicate, what: str, timeout: float = WAIT):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def sends_per_path(push) -> Counter:
    with push._lock:
        return Counter(r.path for r in push.received)


def snapshot(app) -> dict:
    with app.app_context():
        rows = db.session.execute(
            select(
                PushDelivery.id,
                PushDelivery.status,
                PushDelivery.sent_at,
                PushDelivery.lease_token,
                PushDelivery.attempts,
            )
        ).all()
        db.session.remove()
    return {r.id: tuple(r[1:]) for r in rows}


def test_four_workers_send_two_thousand_reminders_exactly_once(app, database_url, tmp_path):
    with FakePushService() as push:
        paths = seed(app, push)
        env = worker_env(app, database_url)
        procs = [start_worker(env, tmp_path / f"w{i}.log") for i in range(4)]
        try:
            wait_until(lambda: status_counts(app)["sent"] == N, "every delivery sent")
        finally:
            # a late duplicate would come from a batch still in flight: each worker
            # finishes its batch before it exits, so once all have exited, all is here
            outputs = stop_all(procs)
        sent = sends_per_path(push)
    assert set(sent) == set(paths)
    assert max(sent.values()) == 1, "a reminder went twice"
    assert push.count == N
    assert status_counts(app) == Counter({"sent": N})
    for output in outputs:
        assert "Traceback" not in output, output
        assert "worker stopped" in output
    # the work was shared, not done by one process while three idled
    assert sum("sent " in o for o in outputs) >= 2


def test_a_worker_killed_mid_batch_loses_nothing_and_repeats_at_most_one_batch(
    app, database_url, tmp_path
):
    with FakePushService(latency=0.05) as push:
        paths = seed(app, push)
        env = worker_env(app, database_url)
        procs = [start_worker(env, tmp_path / f"w{i}.log") for i in range(4)]
        try:
            wait_until(lambda: push.count >= 200, "sending under way")
            procs[0].send_signal(signal.SIGKILL)
            procs[0].wait(10)
            killed_at = time.monotonic()
            wait_until(lambda: status_counts(app)["sent"] == N, "every delivery sent")
            recovered_after = time.monotonic() - killed_at
        finally:
            outputs = stop_all(procs)  # the survivors finish their batches, then exit
        sent = sends_per_path(push)
    assert set(sent) == set(paths), "a reminder was lost"
    repeated = [p for p, n in sent.items() if n > 1]
    assert max(sent.values()) <= 2
    assert len(repeated) <= int(env["PUSH_BATCH_SIZE"]), "more than one batch repeated"
    assert status_counts(app) == Counter({"sent": N})
    # the dead worker's batch came back when its lease ran out, not before
    assert recovered_after < WAIT
    for output in outputs[1:]:
        assert "worker stopped" in output, output  # exited on its own: nothing cut short


def _idle_in_transaction(app) -> int:
    with app.app_context():
        n = db.session.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND state = 'idle in transaction' AND pid <> pg_backend_pid()"
            )
        )
        db.session.remove()
    return n


def test_a_zombie_worker_completing_after_its_lease_changes_nothing(app, database_url, tmp_path):
    n = 300
    with FakePushService(latency=0.3) as push:
        seed(app, push, n)
        with app.app_context():  # made beforehand, so the workers only claim and send
            while worker.materialise(utcnow()):
                pass
            db.session.remove()
        env = worker_env(
            app, database_url, PUSH_LEASE_SECONDS=3, PUSH_BATCH_SIZE=20, PUSH_THREADS=4
        )
        zombie = start_worker(env, tmp_path / "zombie.log")
        procs = [zombie]
        try:
            wait_until(lambda: push.count >= 1, "the first worker sending")
            # stop it mid-send (outside any transaction), as a long GC pause or a
            # frozen VM would
            for _ in range(50):
                zombie.send_signal(signal.SIGSTOP)
                wait_until(lambda: _stopped(zombie), "the zombie stopped")
                if _idle_in_transaction(app) == 0 and status_counts(app)["leased"]:
                    break
                # caught mid-transaction: let it get on to its next send, then again
                zombie.send_signal(signal.SIGCONT)
                wait_until(lambda n=push.count: push.count > n, "the zombie sending on")
            held = snapshot(app)
            zombie_rows = {i for i, row in held.items() if row[0] == "leased"}
            assert zombie_rows, "the zombie held no lease when stopped"

            procs += [start_worker(env, tmp_path / f"w{i}.log") for i in range(2)]
            wait_until(lambda: status_counts(app)["sent"] == n, "every delivery sent")
            before = snapshot(app)

            zombie.send_signal(signal.SIGCONT)  # it wakes, finishes its sends, completes
            wait_until(lambda: "fenced out" in _log(zombie), "the zombie's late completion")
        finally:
            outputs = stop_all(procs)
        after = snapshot(app)  # every worker has finished and exited: nothing can change now
    assert after == before, "the zombie changed rows after its lease ran out"
    assert all(before[i][0] == "sent" for i in zombie_rows)
    assert "Traceback" not in outputs[0], outputs[0]
    assert all("worker stopped" in output for output in outputs), outputs


def _stopped(proc) -> bool:
    """SIGSTOP has taken effect: the kernel shows the process as stopped (T)."""
    stat = Path(f"/proc/{proc.pid}/stat").read_text()
    return stat.rsplit(")", 1)[1].split()[0] in ("T", "t")


def _log(proc) -> str:
    proc.log.flush()
    return proc.log_path.read_text()


@pytest.fixture(autouse=True)
def _bounded():
    started = time.monotonic()
    yield
    assert time.monotonic() - started < 3 * WAIT
