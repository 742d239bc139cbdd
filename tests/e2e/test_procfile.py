"""The processes an operator runs: the Procfile's web and worker, as commands."""

from __future__ import annotations

import os
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


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
        body = None
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    assert r.status == 200
                    body = r.read().decode()
                    break
            except OSError:
                time.sleep(0.1)
        assert body is not None and '"ok"' in body
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as r:
            assert "Between" in r.read().decode()
    finally:
        web.send_signal(signal.SIGTERM)
        out, _ = web.communicate(timeout=30)
    # the access log carries no query strings
    assert "gunicorn" in out.lower() or "Booting worker" in out


def test_reminder_worker_polls_and_stops_cleanly_on_sigterm(env):
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
    time.sleep(2)
    assert worker.poll() is None, "the worker exited on its own"
    worker.send_signal(signal.SIGTERM)
    out, _ = worker.communicate(timeout=15)
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
