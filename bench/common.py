"""What the benchmark scripts share: a fresh database, the migrated app on it, bulk rows
shaped as the app writes them, a free port. Import it after setting the environment the
app reads (SECRET_KEY, BETWEEN_ENV, ...): it imports the app."""

from __future__ import annotations

import logging
import socket
import tempfile
import uuid
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from config.settings import normalise_database_url
from server import create_app
from server.checkins.scoring import score
from server.extensions import db
from server.journal.models import EntryKind
from server.sessions.models import SessionKind

PASSWORD = "a-long-bench-passphrase"
SEED_CHUNK = 5000
BODY = (
    "Walked to the river after the session and sat with the part that wanted to leave. "
    "It was quieter than last week. Wrote down what it said so I can bring it on Tuesday."
)


@contextmanager
def fresh_database(database_url: str | None):
    """A new, empty database: a SQLite file, or a uniquely named PostgreSQL database made
    on the server of `database_url` and dropped after."""
    if not database_url:
        with tempfile.TemporaryDirectory(prefix="between-bench-") as tmp:
            yield f"sqlite:///{Path(tmp) / 'bench.db'}"
        return
    server_url = make_url(normalise_database_url(database_url))
    name = f"between_bench_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield server_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def make_app(url: str, **config):
    """The app on this database, migrated to head."""
    from flask_migrate import upgrade

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, **config})
    logging.disable(logging.INFO)  # migrations/env.py sets up its own INFO logging
    try:
        with app.app_context():
            upgrade()
    finally:
        logging.disable(logging.NOTSET)
    return app


def insert_rows(model, rows: list[dict]) -> None:
    """Bulk insert into the model's table, in chunks (rows of one table share their keys)."""
    table = model.__table__
    for i in range(0, len(rows), SEED_CHUNK):
        db.session.execute(sa.insert(table), rows[i : i + SEED_CHUNK])


def entry_row(
    patient_id,
    at: datetime,
    *,
    n: int = 0,
    shared: bool = False,
    read_at: datetime | None = None,
    for_session: bool = False,
    change_seq: int = 0,
) -> dict:
    """A journal entry written at `at`, as the app stores one."""
    return {
        "id": uuid.uuid4(),
        "patient_id": patient_id,
        "title": f"Day {n}",
        "body": BODY,
        "mood": n % 11,
        "emotions": ["calm"] if n % 2 else ["tired", "hopeful"],
        "part_ids": [],
        "kind": EntryKind.FREE,
        "prompt_id": None,
        "session_id": None,
        "shared": shared,
        "for_session": for_session,
        "written_at": at,
        "written_offset_minutes": 0,
        "created_at": at,
        "updated_at": at,
        "read_by_therapist_at": read_at,
        "conflict_of": None,
        "version": 1,
        "deleted": False,
        "deleted_at": None,
        "change_seq": change_seq,
    }


def tag_row(patient_id, entry_id, tag: str, position: int) -> dict:
    """A journal tag as the app stores it: encrypted, found by its blind index."""
    from server.journal.models import tag_index

    return {
        "entry_id": entry_id,
        "tag": tag,
        "tag_hmac": tag_index(patient_id, tag),
        "position": position,
    }


def checkin_row(patient_id, instrument: str, answers: dict, at: datetime) -> dict:
    """A check-in answered at `at`, scored as the app scores it."""
    scored = score(instrument, answers)
    return {
        "id": uuid.uuid4(),
        "patient_id": patient_id,
        "instrument": instrument,
        "answers": answers,
        "answered_at": at,
        "answered_offset_minutes": 0,
        "score": scored.score,
        "severity": scored.severity,
        "complete": scored.complete,
        "note_private": bool(answers.get("note")),
        "session_id": None,
        "created_at": at,
        "version": 1,
        "deleted": False,
        "change_seq": 0,
    }


def session_row(
    patient_id, therapist_id, kind: SessionKind, at: datetime, booked_at: datetime | None = None
) -> dict:
    """A treatment session starting at `at`, booked at `booked_at` (default: `at`)."""
    booked_at = booked_at or at
    minutes = 120 if kind is SessionKind.DOSING else 60
    return {
        "id": uuid.uuid4(),
        "patient_id": patient_id,
        "therapist_id": therapist_id,
        "kind": kind,
        "starts_at": at,
        "starts_offset_minutes": 0,
        "duration_minutes": minutes,
        "ends_at": at + timedelta(minutes=minutes),
        "route": None,
        "note": "",
        "title": kind.value.title(),
        "created_at": booked_at,
        "updated_at": booked_at,
        "version": 1,
        "deleted": False,
        "change_seq": 0,
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
