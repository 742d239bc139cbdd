"""People who use Between, signed in over HTTP the way the PWA does it."""

from __future__ import annotations

import itertools
from contextlib import contextmanager
from dataclasses import dataclass

from flask.testing import FlaskClient

PASSWORD = "a-long-test-passphrase"
_counter = itertools.count(1)


def _audit_count(app) -> int:
    from sqlalchemy import func, select

    from server.audit.models import AuditEvent
    from server.extensions import db

    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(AuditEvent))


@dataclass
class Actor:
    client: FlaskClient
    id: str
    email: str
    role: str
    app: object = None
    password: str = PASSWORD

    def _open(self, method, url, **kw):
        # Every therapist act on one patient's data, in every test, leaves exactly one
        # audit row: checked here rather than trusted.
        watched = self.role == "therapist" and url.startswith("/api/v1/patients/")
        before = _audit_count(self.app) if watched else 0
        response = self.client.open(url, method=method, **kw)
        if watched and 200 <= response.status_code < 300:
            assert _audit_count(self.app) == before + 1, f"{method} {url}: not audited once"
        return response

    def get(self, url, **kw):
        return self._open("GET", url, **kw)

    def post(self, url, json=None, **kw):
        return self._open("POST", url, json=json, **kw)

    def put(self, url, json=None, **kw):
        return self._open("PUT", url, json=json, **kw)

    def delete(self, url, json=None, **kw):
        return self._open("DELETE", url, json=json, **kw)


def therapist_invite(app, email: str, name: str = "") -> str:
    """An operator's invitation for this address, as `therapists invite` makes it."""
    from server.auth import service
    from server.extensions import db

    with app.app_context():
        _invite, token = service.create_therapist_invite(email, name)
        db.session.commit()
    return token


def make_actor(app, role: str, *, email: str | None = None, timezone: str = "UTC") -> Actor:
    n = next(_counter)
    email = email or f"{role}{n}@example.test"
    client = app.test_client()
    body = {
        "email": email,
        "password": PASSWORD,
        "display_name": f"Test {role.title()} {n}",
        "role": role,
        "timezone": timezone,
    }
    if role == "therapist":
        # therapists sign up with an operator's invitation, as in production
        body["therapist_invite"] = therapist_invite(app, email)
    response = client.post("/api/v1/auth/register", json=body)
    assert response.status_code == 201, response.json
    return Actor(client=client, id=response.json["id"], email=email, role=role, app=app)


@contextmanager
def counting_statements(app):
    """Count the SQL statements sent while the block runs: {"n": count}."""
    from sqlalchemy import event

    from server.extensions import db

    counts = {"n": 0}

    def count(*_args, **_kwargs):
        counts["n"] += 1

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield counts
    finally:
        event.remove(engine, "before_cursor_execute", count)
