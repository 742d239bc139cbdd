"""Crash safety: a client writes entries while gunicorn is SIGKILLed, then restarted.

Every write that got a 2xx must be there afterwards, whole; nothing half-written.
Shared by the SQLite (tests/e2e) and PostgreSQL (tests/postgres) runs.
"""

from __future__ import annotations

import http.client
import http.cookiejar
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
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
PASSWORD = "a-long-crash-passphrase"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _web_command() -> list[str]:
    lines = (ROOT / "Procfile").read_text().splitlines()
    procs = dict(line.split(": ", 1) for line in lines if line.strip())
    return shlex.split(procs["web"])


class Client:
    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )

    def send(self, method: str, path: str, body=None, timeout=5.0):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            self.base + path, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        try:
            with self.opener.open(request, timeout=timeout) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            exc.close()
            return exc.code, None


def _start(env: dict, port: int) -> subprocess.Popen:
    return subprocess.Popen(
        [*_web_command()],
        cwd=ROOT,
        env={**env, "PORT": str(port)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def _wait_ready(port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("gunicorn did not become healthy")


def _wait_until(condition, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"waited {timeout} s for {what}"
        time.sleep(0.05)  # a poll interval


def run_crash_test(database_url: str, tmp_path: Path) -> dict:
    env = {
        **os.environ,
        "PATH": f"{BIN}:{os.environ['PATH']}",
        "DATABASE_URL": database_url,
        "BETWEEN_ENV": "development",
        "WEB_CONCURRENCY": "2",
        "WEB_THREADS": "4",
        "RATELIMIT_LOGIN": "1000 per minute",
        "RATELIMIT_REGISTER": "1000 per minute",
    }
    migrated = subprocess.run(
        [str(BIN / "flask"), "--app", "server", "db", "upgrade"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert migrated.returncode == 0, migrated.stderr
    port = _free_port()
    web = _start(env, port)
    acknowledged: dict[str, str] = {}
    stop = threading.Event()
    try:
        _wait_ready(port)
        client = Client(f"http://127.0.0.1:{port}")
        email = f"crash-{uuid.uuid4().hex[:8]}@example.test"
        status, _ = client.send(
            "POST",
            "/api/v1/auth/register",
            {"email": email, "password": PASSWORD, "display_name": "Crash", "role": "patient"},
        )
        assert status == 201
        unanswered = [0]  # writes that got no answer at all

        def writer():
            n = 0
            while not stop.is_set():
                entry_id, body = str(uuid.uuid4()), f"entry {n} " + "words " * (n % 50)
                try:
                    status, answer = client.send(
                        "POST", "/api/v1/journal/entries", {"id": entry_id, "body": body}, timeout=2
                    )
                except (OSError, http.client.HTTPException):  # no answer, or half of one
                    status, answer = None, None
                if status is None:
                    unanswered[0] += 1
                if status == 201 and answer and answer["id"] == entry_id:
                    acknowledged[entry_id] = body
                n += 1

        thread = threading.Thread(target=writer, daemon=True)
        thread.start()
        _wait_until(lambda: len(acknowledged) >= 30, "30 writes acknowledged")
        os.killpg(web.pid, signal.SIGKILL)  # master and workers, mid-stream
        web.wait(timeout=10)
        # the writer keeps going against the dead server: one write cut off in flight
        # perhaps, and at least one more refused, before it stops
        before = unanswered[0]
        _wait_until(lambda: unanswered[0] >= before + 2, "writes refused by the dead server")
        stop.set()
        thread.join(timeout=10)
        written = dict(acknowledged)

        web = _start(env, port)
        _wait_ready(port)
        reader = Client(f"http://127.0.0.1:{port}")
        status, _ = reader.send(
            "POST", "/api/v1/auth/login", {"email": email, "password": PASSWORD}
        )
        assert status == 200
        found, cursor = {}, "0"
        while True:
            status, page = reader.send("GET", f"/api/v1/sync/changes?since={cursor}&limit=500")
            assert status == 200
            for change in page["changes"]:
                found[change["id"]] = change["data"]["body"]
            cursor = page["cursor"]
            if not page["has_more"]:
                break
        return {"acknowledged": written, "found": found}
    finally:
        stop.set()
        try:
            os.killpg(web.pid, signal.SIGTERM)
            web.wait(timeout=20)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(web.pid, signal.SIGKILL)


def assert_nothing_lost(outcome: dict) -> None:
    acknowledged, found = outcome["acknowledged"], outcome["found"]
    assert len(acknowledged) >= 30, "the writer barely wrote before the crash"
    missing = set(acknowledged) - set(found)
    assert not missing, f"{len(missing)} acknowledged writes were lost"
    for entry_id, body in found.items():
        # an entry that exists is whole: either acknowledged with this body, or one the
        # crash interrupted after commit but before the answer (still whole)
        assert body.startswith("entry "), "a half-written entry"
        if entry_id in acknowledged:
            assert body == acknowledged[entry_id]
