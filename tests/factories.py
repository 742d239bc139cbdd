"""People who use Between, signed in over HTTP the way the PWA does it."""

from __future__ import annotations

import itertools
import threading
import uuid
from contextlib import contextmanager
from dataclasses import dataclass

from flask.testing import FlaskClient

PASSWORD = "a-long-test-passphrase"
_inspecting = threading.local()  # set while a helper here reads the database itself
_counter = itertools.count(1)


def _audit_events(app) -> list:
    """Every audit event, oldest first, as plain rows."""
    from sqlalchemy import select

    from server.audit.models import AuditEvent as E
    from server.extensions import db

    query = select(E.id, E.actor_id, E.actor_role, E.patient_id, E.action, E.object_type)
    query = query.add_columns(E.object_ids).order_by(E.at)
    _inspecting.on = True  # not the app's statements: counting_statements skips these
    try:
        with app.app_context():
            rows = db.session.execute(query).all()
            db.session.remove()
    finally:
        _inspecting.on = False
    return rows


def _new_events(app, before: list) -> list:
    seen = {row.id for row in before}
    return [row for row in _audit_events(app) if row.id not in seen]


def _check_ids(method: str, url: str, event) -> None:
    for object_id in event.object_ids:
        try:
            uuid.UUID(object_id)
        except (TypeError, ValueError):
            raise AssertionError(f"{method} {url}: audited object id {object_id!r}") from None


def check_therapist_audit(method: str, url: str, actor_id: str, new: list) -> None:
    """A therapist's act on one patient's data is exactly one event: by this therapist,
    about the patient the URL names, a read for a GET, naming real objects."""
    assert len(new) == 1, f"{method} {url}: audited {len(new)} times, not once"
    (event,) = new
    patient_id = url.split("/")[4]  # /api/v1/patients/<id>/...
    assert str(event.actor_id) == actor_id and event.actor_role == "therapist", (method, url)
    assert str(event.patient_id) == patient_id, f"{method} {url}: audited for another patient"
    if method == "GET":  # (a POST may be a read too: opening an entry sends its receipt)
        assert event.action == "read", f"{method} {url}: {event.action}"
    _check_ids(method, url, event)


def check_patient_audit(method: str, url: str, actor_id: str, before: list, new: list) -> None:
    """What a patient's own act records: about themselves, naming real objects, and an
    "unshare" only of something once shared (a new private entry is no unsharing)."""
    shared_before = {
        object_id
        for row in before
        if row.action == "share" and str(row.patient_id) == actor_id
        for object_id in row.object_ids
    }
    for event in new:
        _check_ids(method, url, event)
        if event.action in ("share", "unshare"):
            assert str(event.actor_id) == actor_id, (method, url, event.action)
            assert str(event.patient_id) == actor_id, (method, url, event.action)
        if event.action == "unshare":
            never_shared = set(event.object_ids) - shared_before
            assert not never_shared, f"{method} {url}: 'unshare' of what was never shared"
        if event.action == "share":
            shared_before.update(event.object_ids)


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
        # audit event that says who did what to whose data; a patient's own writes record
        # nothing false. Checked here, on every request of every test, rather than trusted.
        therapist = self.role == "therapist" and url.startswith("/api/v1/patients/")
        patient_write = self.role == "patient" and method != "GET"
        before = _audit_events(self.app) if therapist or patient_write else []
        response = self.client.open(url, method=method, **kw)
        if (therapist or patient_write) and 200 <= response.status_code < 300:
            new = _new_events(self.app, before)
            if therapist:
                check_therapist_audit(method, url, self.id, new)
            else:
                check_patient_audit(method, url, self.id, before, new)
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
        if not getattr(_inspecting, "on", False):
            counts["n"] += 1

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield counts
    finally:
        event.remove(engine, "before_cursor_execute", count)
