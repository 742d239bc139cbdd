"""Nothing a person writes is readable in the raw database: a canary hunt.

A patient and their therapist write one unique canary into every place people type
words (and a device's name, and a sync op whose answer echoes what was sent). Then the
database itself is read, beneath the app: on SQLite the bytes of the database file and
its write-ahead log, on PostgreSQL a `pg_dump` of the test database (or every row cast
to text, without pg_dump). The canary must be nowhere; the app must still show it to the
patient, and filtering entries by the canary tag must still find the entry.

Runs on SQLite, and on PostgreSQL when TEST_DATABASE_URL is set.
"""

from __future__ import annotations

import shutil
import subprocess
import uuid
from pathlib import Path

import sqlalchemy as sa
from flask_migrate import upgrade
from sqlalchemy.engine import make_url

from server import create_app, crypto
from server.extensions import db
from server.journal.models import EntryTag, tag_indexes
from server.privacy import keys
from tests.conftest import fresh_database
from tests.migrations.planting import plant

ENTRIES = "/api/v1/journal/entries"
PUSH = "/api/v1/sync/push"
SUBSCRIPTIONS = "/api/v1/push/subscriptions"


def _raw_database(app, database_url: str) -> bytes:
    """Everything the database holds, as stored, read beneath the app."""
    with app.app_context():
        db.session.remove()
        db.engine.dispose()  # nothing of ours is cached or uncommitted
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        path = Path(url.database)
        return b"".join(
            p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists()
        )  # the WAL holds whatever was not checkpointed yet
    if shutil.which("pg_dump"):
        pg_url = url.set(drivername="postgresql").render_as_string(hide_password=False)
        return subprocess.run(
            ["pg_dump", "--data-only", "--no-owner", pg_url],
            check=True,
            capture_output=True,
            timeout=120,
        ).stdout
    with app.app_context(), db.engine.connect() as conn:
        tables = sa.inspect(conn).get_table_names()
        rows = [
            row
            for name in tables
            for row in conn.execute(sa.text(f'SELECT t::text FROM "{name}" t')).scalars()
        ]
    return "\n".join(rows).encode()


def _write_canaries(patient, therapist, link, push, canary: str) -> dict:
    link(therapist, patient)
    prompt = therapist.post(
        f"/api/v1/patients/{patient.id}/journal/prompts",
        json={"context": "parts_work", "text": f"Ask the {canary} part what it needs"},
    )
    assert prompt.status_code == 201, prompt.json
    critic = patient.post("/api/v1/parts", json={"name": f"Critic {canary}"}).json
    little = patient.post("/api/v1/parts", json={"name": "Little one"}).json
    relation = patient.post(
        "/api/v1/parts/relations",
        json={
            "source_id": critic["id"],
            "target_id": little["id"],
            "kind": "protects",
            "note": f"guards {canary}",
        },
    )
    assert relation.status_code == 201, relation.json
    plan = patient.put("/api/v1/plan", json={"version": 0, "coping_steps": [{"text": canary}]})
    assert plan.status_code == 200, plan.json
    entry = patient.post(
        ENTRIES,
        json={
            "title": f"title {canary}",
            "body": f"body {canary}",
            "tags": ["sleep", canary],
            "prompt_id": canary[:64],
            "shared": True,
        },
    )
    assert entry.status_code == 201, entry.json
    device = push.device()
    subscribed = patient.post(SUBSCRIPTIONS, json=device.subscription(f"Phone {canary}"))
    assert subscribed.status_code in (200, 201), subscribed.json
    # an op refused for a field it should not have: its first answer, kept for replays,
    # names that field
    op = {
        "op_id": str(uuid.uuid4()),
        "type": "journal_entry",
        "id": str(uuid.uuid4()),
        "base_version": None,
        "action": "upsert",
        "data": {"body": "words", canary: canary},
    }
    (answer,) = patient.post(PUSH, json={"ops": [op]}).json["results"]
    assert canary in str(answer["errors"])
    return {"entry": entry.json, "op": op, "answer": answer}


def test_no_canary_is_readable_in_the_raw_database(
    app, database_url, patient, therapist, link, push
):
    canary = f"canary-{uuid.uuid4().hex}"
    written = _write_canaries(patient, therapist, link, push, canary)

    raw = _raw_database(app, database_url)

    assert patient.email.encode() in raw, "did not read this test's rows"
    assert canary.encode() not in raw

    # and the app still reads every word back to the patient
    entry = patient.get(f"{ENTRIES}/{written['entry']['id']}").json
    assert entry["title"] == f"title {canary}" and entry["body"] == f"body {canary}"
    assert entry["tags"] == ["sleep", canary]
    assert entry["prompt_id"] == canary[:64]
    prompts = patient.get("/api/v1/journal/prompts?context=parts_work").json
    assert f"Ask the {canary} part what it needs" in [p["text"] for p in prompts]
    (device,) = patient.get(SUBSCRIPTIONS).json
    assert device["user_agent"] == f"Phone {canary}"
    (again,) = patient.post(PUSH, json={"ops": [written["op"]]}).json["results"]
    assert again == written["answer"]  # a replay answers exactly the first answer


def test_filtering_by_tag_finds_exactly_the_tagged_entries(app, patient, therapist, link):
    link(therapist, patient)
    canary = f"canary-{uuid.uuid4().hex}"
    tagged = patient.post(
        ENTRIES, json={"body": "a", "tags": [canary, "sleep"], "shared": True}
    ).json
    patient.post(ENTRIES, json={"body": "b", "tags": ["sleep"], "shared": True})
    patient.post(ENTRIES, json={"body": "c", "tags": [canary.upper()], "shared": True})
    other = therapist  # another person's tag of the same words is never theirs to find

    def ids(actor, url):
        response = actor.get(url)
        assert response.status_code == 200, response.json
        return [e["id"] for e in response.json["entries"]]

    assert ids(patient, f"{ENTRIES}?tag={canary}") == [tagged["id"]]
    assert len(ids(patient, f"{ENTRIES}?tag=sleep")) == 2
    assert ids(patient, f"{ENTRIES}?tag=nothing-{canary}") == []
    shared = f"/api/v1/patients/{patient.id}/journal/entries"
    assert ids(other, f"{shared}?tag={canary}") == [tagged["id"]]

    # the tag set is rewritten on an edit: the old tag no longer finds it, the new one does
    edited = patient.put(
        f"{ENTRIES}/{tagged['id']}", json={"version": tagged["version"], "tags": ["walk"]}
    )
    assert edited.status_code == 200, edited.json
    assert ids(patient, f"{ENTRIES}?tag={canary}") == []
    assert ids(patient, f"{ENTRIES}?tag=walk") == [tagged["id"]]


def test_the_same_tag_of_two_patients_has_different_blind_indexes(app, make_patient):
    canary = f"canary-{uuid.uuid4().hex}"
    first, second = make_patient(), make_patient()
    for patient in (first, second):
        assert patient.post(ENTRIES, json={"body": "x", "tags": [canary]}).status_code == 201
    with app.app_context():
        indexes = db.session.scalars(sa.select(EntryTag.tag_hmac)).all()
    assert len(indexes) == 2 and len(set(indexes)) == 2
    for patient in (first, second):
        assert len(patient.get(f"{ENTRIES}?tag={canary}").json["entries"]) == 1


def test_tag_filtering_survives_key_rotation_and_the_old_key_going(app, patient):
    canary = f"canary-{uuid.uuid4().hex}"
    entry = patient.post(ENTRIES, json={"body": "x", "tags": [canary, "sleep"]}).json
    old_spec = app.config["FIELD_ENCRYPTION_KEYS"] or crypto.development_keys(
        Path(app.instance_path)
    )
    new_spec = crypto.new_key_spec()
    with app.app_context():
        before = set(db.session.scalars(sa.select(EntryTag.tag_hmac)))
    try:
        crypto.configure(f"{new_spec},{old_spec}")
        # mid-rotation, rows under either key are found
        assert [e["id"] for e in patient.get(f"{ENTRIES}?tag={canary}").json["entries"]] == [
            entry["id"]
        ]
        with app.app_context():
            done = keys.rotate(batch_size=1)
        assert done["journal_entry_tags.tag"] == 2
        crypto.configure(new_spec)  # the old key is gone
        with app.app_context():
            after = set(db.session.scalars(sa.select(EntryTag.tag_hmac)))
        assert after and not after & before  # every blind index was recomputed
        found = patient.get(f"{ENTRIES}?tag={canary}").json["entries"]
        assert [(e["id"], e["tags"]) for e in found] == [(entry["id"], [canary, "sleep"])]
    finally:
        crypto.configure(old_spec)


def test_tags_written_before_encryption_are_found_after_the_migration(tmp_path):
    with fresh_database(tmp_path) as url:
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True})
        with app.app_context():
            upgrade(revision="d4b8f1e7c3a2")  # tags still in clear
            with db.engine.begin() as conn:
                planted = plant(conn)
            upgrade()
            patients = {
                str(e["id"]).replace("-", ""): e["patient_id"]
                for e in planted.rows["journal_entries"]
            }
            for row in planted.rows["journal_entry_tags"]:
                patient_id = patients[str(row["entry_id"]).replace("-", "")]
                found = db.session.scalars(
                    sa.select(EntryTag).where(
                        EntryTag.tag_hmac.in_(tag_indexes(patient_id, row["tag"]))
                    )
                ).all()
                assert [(str(t.entry_id).replace("-", ""), t.tag) for t in found] == [
                    (str(row["entry_id"]).replace("-", ""), row["tag"])
                ]
            raw = db.session.scalars(sa.select(sa.type_coerce(EntryTag.tag, sa.Text))).all()
            assert raw and all(v.startswith("v1:") for v in raw)
            db.session.remove()
            db.engine.dispose()
