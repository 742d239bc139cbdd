"""The processes an operator runs: the Procfile's web and worker, as commands."""

from __future__ import annotations

import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from server.auth.models import User
from server.db import utcnow
from server.extensions import db
from server.reminders.models import ReminderSchedule

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
WAIT = 60  # seconds: a generous bound for a process start that takes one or two


def procfile() -> dict[str, str]:
    lines = (ROOT / "Procfile").read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if line.strip())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def env(tmp_path):
    return {
        **os.environ,
        "PATH": f"{BIN}:{os.environ['PATH']}",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'between.db'}",
        "BETWEEN_ENV": "development",
        "WEB_CONCURRENCY": "1",
    }


class Output:
    """A process's output, read as it comes, so a test can wait for a line."""

    def __init__(self, proc: subprocess.Popen):
        self.lines: list[str] = []
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._read, args=(proc.stdout,), daemon=True)
        self._thread.start()

    def _read(self, stream) -> None:
        for line in stream:
            with self._changed:
                self.lines.append(line)
                self._changed.notify_all()
        stream.close()
        with self._changed:
            self.lines.append(None)  # end of output: the process closed it
            self._changed.notify_all()

    def wait_for(self, text: str, timeout: float = WAIT) -> None:
        def seen():
            return any(text in line for line in self.lines if line) or None in self.lines

        with self._changed:
            self._changed.wait_for(seen, timeout)
        assert any(text in line for line in self.lines if line), (text, self.text())

    def text(self, timeout: float = WAIT) -> str:
        """All of it, once the process has closed its output (or `timeout` passed)."""
        with self._changed:
            self._changed.wait_for(lambda: None in self.lines, timeout)
        return "".join(line for line in self.lines if line)


def wait_healthy(url: str, timeout: float = WAIT) -> str:
    """The body of `url` once it answers 200; fails after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                assert r.status == 200
                return r.read().decode()
        except OSError:
            assert time.monotonic() < deadline, f"{url} did not answer in {timeout} s"
            time.sleep(0.1)  # a poll interval: the server is still booting


def run(command: str, env, **kw):
    return subprocess.run(
        shlex.split(command), cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, **kw
    )


def test_release_seed_and_web_serve_the_app(env):
    assert run(procfile()["release"], env).returncode == 0
    seeded = run(f"{BIN}/flask --app server seed-demo", env)
    assert seeded.returncode == 0, seeded.stderr
    assert "patient@demo.between.example" in seeded.stdout
    # seeding twice is harmless (make run may be run again)
    assert run(f"{BIN}/flask --app server seed-demo", env).returncode == 0

    port = free_port()
    web = subprocess.Popen(
        shlex.split(procfile()["web"]),
        cwd=ROOT,
        env={**env, "PORT": str(port)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        body = wait_healthy(f"http://127.0.0.1:{port}/healthz")
        assert '"ok"' in body
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as r:
            assert "Between" in r.read().decode()
        # a query string may carry anything (a reset link's token, words typed in a search)
        asked = f"http://127.0.0.1:{port}/api/v1/auth/me?marker=query-{uuid.uuid4().hex}"
        marker = asked.rsplit("=", 1)[1]
        try:
            urllib.request.urlopen(asked, timeout=2)  # noqa: S310 (loopback)
        except urllib.error.HTTPError as refused:
            assert refused.code == 401  # not signed in: answered, and logged
    finally:
        web.send_signal(signal.SIGTERM)
        out, _ = web.communicate(timeout=30)
    # the request was logged, by its route alone: the query string is nowhere in the log
    logged = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert any(
        entry.get("route") == "/api/v1/auth/me" and entry.get("status") == 401 for entry in logged
    ), out
    assert marker not in out


def due_schedule(app) -> uuid.UUID:
    """A patient whose reminders the worker has not looked at for an hour."""
    now = utcnow()
    with app.app_context():
        user = User(
            email=f"poll-{uuid.uuid4().hex[:8]}@example.test",
            password_hash="not-a-hash",
            display_name="Poll",
            role="patient",
            timezone="UTC",
        )
        db.session.add(user)
        db.session.flush()
        schedule = ReminderSchedule(
            user_id=user.id,
            timezone="UTC",
            settings={"daily_checkin": {"enabled": True, "times": ["09:00"]}, "quiet_hours": None},
            wake_at=now - timedelta(minutes=1),
            materialised_until=now - timedelta(hours=1),
        )
        db.session.add(schedule)
        db.session.commit()
        schedule_id = schedule.id
        db.session.remove()
    return schedule_id


def looked_at(app, schedule_id, since) -> bool:
    with app.app_context():
        until = db.session.scalar(
            select(ReminderSchedule.materialised_until).where(ReminderSchedule.id == schedule_id)
        )
        db.session.remove()
    return until >= since  # the worker sets it to the time of its pass


def test_reminder_worker_polls_and_stops_cleanly_on_sigterm(env, make_app):
    # the Procfile's worker is the reminder dispatcher; --interval is its own option
    assert procfile()["worker"] == "flask --app server reminders run"
    assert run(procfile()["release"], env).returncode == 0
    worker = subprocess.Popen(
        shlex.split(procfile()["worker"]) + ["--interval", "0.2"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output = Output(worker)
    try:
        # logged once its SIGTERM handler is in place: a signal before then would kill it
        output.wait_for("worker started")
        # polling: a schedule that comes due after it started is looked at by a pass
        app = make_app({"SQLALCHEMY_DATABASE_URI": env["DATABASE_URL"]})
        since = utcnow()
        schedule_id = due_schedule(app)
        deadline = time.monotonic() + WAIT
        while not looked_at(app, schedule_id, since):
            assert worker.poll() is None, "the worker exited on its own"
            assert time.monotonic() < deadline, "the worker never looked at a due schedule"
            time.sleep(0.1)  # a poll interval
        assert worker.poll() is None, "the worker exited on its own"
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=30)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait(5)
    out = output.text()
    assert worker.returncode == 0, out
    assert "worker started" in out and "worker stopped" in out
    assert "Traceback" not in out

    once = run(procfile()["worker"] + " --once", env)
    assert once.returncode == 0, once.stderr
    assert "sent 0" in once.stdout


def test_production_refuses_a_development_secret(env):
    env = {**env, "BETWEEN_ENV": "production", "SECRET_KEY": "dev-short"}
    result = run(f"{BIN}/flask --app server db upgrade", env)
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr
