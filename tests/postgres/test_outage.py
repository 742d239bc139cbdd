"""PostgreSQL out of reach: every route answers 503 with Retry-After in the one error
shape ("nothing was saved, try again"), logs no bodies, and works again by itself once
the database is back.

The shared PostgreSQL server keeps running (other tests use it): the app reaches it
through a small TCP proxy of this test, which is cut (listener closed, every open
connection dropped) and then restored on the same port.
"""

from __future__ import annotations

import logging
import socket
import threading
import uuid

import pytest
from sqlalchemy.engine import make_url

from server.extensions import db
from tests.factories import make_actor

pytestmark = pytest.mark.postgres

SECRET = "words only the patient should ever see"


class Proxy:
    """127.0.0.1:<port> forwarded to the database server, until cut."""

    def __init__(self, target: tuple[str, int]):
        self.target = target
        self.port = 0
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._listener: socket.socket | None = None
        self._accepting: threading.Thread | None = None

    def start(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.port = listener.getsockname()[1]
        self._listener = listener
        self._accepting = threading.Thread(target=self._accept, args=(listener,), daemon=True)
        self._accepting.start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # cut
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._open.update((client, upstream))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while chunk := source.recv(65536):
                sink.sendall(chunk)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                self._drop(s)

    def _drop(self, s: socket.socket) -> None:
        with self._lock:
            self._open.discard(s)
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        s.close()

    def cut(self) -> None:
        """Refuse new connections and break every open one, as a dead server does."""
        listener, self._listener = self._listener, None
        listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
        listener.close()
        self._accepting.join(timeout=5)
        assert not self._accepting.is_alive()
        with self._lock:
            open_now = list(self._open)
        for s in open_now:
            self._drop(s)
        # nothing gets through any more
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", self.port), timeout=2).close()

    def restore(self) -> None:
        self.start()

    def close(self) -> None:
        if self._listener is not None:
            self.cut()


@pytest.fixture
def proxy(database_url):
    url = make_url(database_url)
    proxy = Proxy((url.host or "127.0.0.1", url.port or 5432))
    proxy.start()
    yield proxy
    proxy.close()


@pytest.fixture
def proxied_app(app, make_app, database_url, proxy):
    """The app, reaching the test database only through the proxy. (`app` wipes the
    rows after the test.)"""
    url = make_url(database_url).set(host="127.0.0.1", port=proxy.port)
    return make_app(
        {
            "SQLALCHEMY_DATABASE_URI": url.render_as_string(hide_password=False),
            "SQLALCHEMY_ENGINE_OPTIONS": {
                "pool_pre_ping": True,
                "connect_args": {"connect_timeout": 5},
            },
            "TESTING": False,  # answer as production does: no exception reaches the test
            "RATELIMIT_REGISTER": "1000 per minute",
        }
    )


def _writes(patient_id: str, entry_id: str, part_id: str) -> list[tuple[str, str, dict]]:
    return [
        ("POST", "/api/v1/journal/entries", {"id": entry_id, "body": SECRET}),
        ("POST", "/api/v1/parts", {"id": part_id, "name": "Protector", "burdens": SECRET}),
        ("PUT", "/api/v1/plan", {"version": 0, "warning_signs": [{"text": SECRET}]}),
        (
            "POST",
            "/api/v1/sync/push",
            {
                "ops": [
                    {
                        "op_id": str(uuid.uuid4()),
                        "type": "journal_entry",
                        "id": str(uuid.uuid4()),
                        "action": "upsert",
                        "data": {"body": SECRET},
                    }
                ]
            },
        ),
    ]


def assert_unavailable(response) -> None:
    assert response.status_code == 503, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = response.json
    assert {"code", "status", "message"} <= set(body)
    assert body["code"] == 503
    assert "Nothing from this request was saved" in body["message"]
    assert int(response.headers["Retry-After"]) >= 1
    assert "Traceback" not in response.get_data(as_text=True)


def test_writes_answer_503_while_the_database_is_unreachable_then_work_by_themselves(
    proxied_app, proxy, caplog
):
    patient = make_actor(proxied_app, "patient")
    entry_id, part_id = str(uuid.uuid4()), str(uuid.uuid4())
    writes = _writes(patient.id, entry_id, part_id)
    assert patient.get("/api/v1/journal/entries").status_code == 200  # a pooled connection

    proxy.cut()
    caplog.set_level(logging.INFO)
    for method, url, body in writes:
        assert_unavailable(patient.client.open(url, method=method, json=body))
    assert_unavailable(patient.get("/api/v1/journal/entries"))
    anonymous = proxied_app.test_client()
    assert_unavailable(
        anonymous.post(
            "/api/v1/auth/login", json={"email": patient.email, "password": patient.password}
        )
    )
    health = anonymous.get("/healthz")
    assert health.status_code == 503
    logged = "\n".join(
        f"{r.getMessage()} {r.exc_text or ''} {getattr(r, 'trace', '')}" for r in caplog.records
    )
    assert SECRET not in logged
    assert "database unreachable: answered 503" in logged
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], logged

    proxy.restore()
    # the very same requests, unchanged: the PWA's outbox replays them
    answers = [patient.client.open(url, method=m, json=b) for m, url, b in writes]
    assert [a.status_code for a in answers] == [201, 201, 200, 200], [a.json for a in answers]
    assert answers[3].json["results"][0]["status"] == "applied"
    entries = patient.get("/api/v1/journal/entries").json["entries"]
    assert sorted(e["body"] for e in entries) == [SECRET, SECRET]
    assert patient.get("/api/v1/plan").json["warning_signs"][0]["text"] == SECRET
    assert anonymous.get("/healthz").status_code == 200


def test_an_empty_pool_is_503_too(app, make_app, database_url, patient):
    """Every connection taken and none freed in time: busy, try again."""
    crowded = make_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 1, "max_overflow": 0, "pool_timeout": 0.2},
            "TESTING": False,
        }
    )
    with crowded.app_context():
        held = db.engine.connect()  # the pool's only connection
        try:
            client = crowded.test_client()
            response = client.post(
                "/api/v1/auth/login", json={"email": patient.email, "password": patient.password}
            )
        finally:
            held.close()
    assert_unavailable(response)
    assert (
        crowded.test_client()
        .post("/api/v1/auth/login", json={"email": patient.email, "password": patient.password})
        .status_code
        == 200
    )
