"""Export everything, delete everything, and what encryption at rest promises."""

import uuid

import pytest
import sqlalchemy as sa

from server import crypto
from server.extensions import db
from server.privacy import keys
from tests.factories import PASSWORD
from tests.unit.test_scoring import answers_totalling

COOKIE = "between_session"


def fill(patient, therapist, link):
    """A little of everything a patient can have."""
    link(therapist, patient)
    for n in range(3):
        patient.post(
            "/api/v1/journal/entries", json={"body": f"entry {n}", "shared": n == 0, "tags": ["t"]}
        )
    critic = patient.post("/api/v1/parts", json={"name": "Critic"}).json
    little = patient.post("/api/v1/parts", json={"name": "Little one"}).json
    patient.post(
        "/api/v1/parts/relations",
        json={"source_id": critic["id"], "target_id": little["id"], "kind": "protects"},
    )
    patient.put("/api/v1/plan", json={"version": 0, "warning_signs": [{"text": "x"}]})
    patient.put("/api/v1/plan", json={"version": 1, "shared": True})
    patient.post(
        "/api/v1/checkins",
        json={
            "instrument": "phq9",
            "answered_at": "2026-11-01T09:00:00+00:00",
            "answers": {**answers_totalling("phq9", 6, 8), "phq9_9": 1},
        },
    )
    therapist.post(
        f"/api/v1/patients/{patient.id}/sessions",
        json={"kind": "dosing", "starts_at": "2026-11-03T10:00:00+00:00"},
    )
    homework = therapist.post(
        f"/api/v1/patients/{patient.id}/assignments",
        json={
            "kind": "homework",
            "homework_type": "prompt",
            "text": "What did the protector want you to know?",
            "due_at": "2026-11-10T18:00:00+00:00",
        },
    )
    assert homework.status_code == 201, homework.json
    patient.post(
        f"/api/v1/assignments/{homework.json['id']}/skip", json={"reason": "too raw this week"}
    )
    therapist.get(f"/api/v1/patients/{patient.id}/journal/entries")


def count(app, table, **where):
    with app.app_context():
        t = db.metadata.tables[table]
        query = sa.select(sa.func.count()).select_from(t)
        for column, value in where.items():
            query = query.where(t.c[column] == uuid.UUID(value))
        return db.session.scalar(query)


def test_export_holds_everything_and_counts_match_the_database(app, patient, therapist, link):
    fill(patient, therapist, link)
    doc = patient.get("/api/v1/me/export").json
    assert doc["format"] == "between-export/1"
    assert doc["profile"]["email"] == patient.email
    pid = patient.id
    for key, table in [
        ("journal_entries", "journal_entries"),
        ("parts", "parts"),
        ("part_relations", "part_relations"),
        ("plan_revisions", "plan_revisions"),
        ("checkins", "checkins"),
        ("risk_flags", "risk_flags"),
        ("treatment_sessions", "treatment_sessions"),
        ("assignments", "assignments"),
    ]:
        assert len(doc[key]) == count(app, table, patient_id=pid), key
        assert len(doc[key]) > 0, key
    assert {e["body"] for e in doc["journal_entries"]} == {"entry 0", "entry 1", "entry 2"}
    assert doc["checkins"][0]["score"] == 7
    assert doc["plan"]["shared"] is True
    [homework] = doc["assignments"]
    assert (homework["status_now"], homework["skip_reason"]) == ("skipped", "too raw this week")
    by_therapist = [a["action"] for a in doc["access_log"] if a["actor_role"] == "therapist"]
    # the session and the homework they set, the entries they read
    assert by_therapist == ["write", "write", "read"]
    html = patient.get("/api/v1/me/export?format=html")
    assert html.status_code == 200 and html.mimetype == "text/html"
    assert "entry 2" in html.get_data(as_text=True)
    assert "too raw this week" in html.get_data(as_text=True)
    last = patient.get("/api/v1/me/export").json["access_log"]
    assert [a["action"] for a in last][-2:] == ["export", "export"]  # exports are audited


def _rows_referencing(app, user_id: str) -> dict:
    """Every row, in every table, that names this user in a user-id column."""
    found = {}
    with app.app_context():
        for table in db.metadata.sorted_tables:
            columns = [
                c
                for c in table.columns
                if any(fk.column.table.name == "users" for fk in c.foreign_keys)
                or (table.name == "users" and c.name == "id")
            ]
            for column in columns:
                n = db.session.scalar(
                    sa.select(sa.func.count())
                    .select_from(table)
                    .where(column == uuid.UUID(user_id))
                )
                if n:
                    found[f"{table.name}.{column.name}"] = n
    return found


def test_deleting_a_patient_leaves_no_row_and_ends_every_session(app, patient, therapist, link):
    fill(patient, therapist, link)
    cookie = patient.client.get_cookie(COOKIE).value
    assert _rows_referencing(app, patient.id)  # there was plenty
    wrong = patient.delete("/api/v1/me", json={"password": "not my password"})
    assert wrong.status_code == 422
    assert patient.delete("/api/v1/me", json={}).status_code == 422
    assert patient.delete("/api/v1/me", json={"password": PASSWORD}).status_code == 204

    assert _rows_referencing(app, patient.id) == {}
    for table in (
        "journal_entries",
        "journal_entry_tags",
        "parts",
        "checkins",
        "plans",
        "risk_flags",
        "part_changes",
        "plan_revisions",
        "assignments",
        "sync_ops",
    ):
        assert count(app, table) == 0, table
    replay = app.test_client()
    replay.set_cookie(COOKIE, cookie)
    assert replay.get("/api/v1/auth/me").status_code == 401
    assert therapist.get("/api/v1/care-team").json == []
    login = app.test_client().post(
        "/api/v1/auth/login", json={"email": patient.email, "password": PASSWORD}
    )
    assert login.status_code == 401


def test_deleting_a_therapist_ends_links_and_leaves_patients_their_data(
    app, patient, therapist, link
):
    fill(patient, therapist, link)
    assert therapist.delete("/api/v1/me", json={"password": PASSWORD}).status_code == 204
    assert _rows_referencing(app, therapist.id) == {}
    assert patient.get("/api/v1/care-team").json == []
    assert len(patient.get("/api/v1/journal/entries").json["entries"]) == 3
    assert len(patient.get("/api/v1/sessions").json["past"]) == 1
    log = patient.get("/api/v1/me/access-log").json["events"]
    assert [e["actor_name"] for e in log] == [None, None, None]  # the acts stay, the name goes
    [homework] = patient.get("/api/v1/assignments").json["items"]  # what they set stays too
    assert (homework["set_by"], homework["skip_reason"]) == (None, "too raw this week")


def test_a_database_dump_shows_no_plaintext(app, patient):
    canary = "CANARY-" + uuid.uuid4().hex
    patient.post("/api/v1/journal/entries", json={"title": canary, "body": canary})
    patient.put("/api/v1/plan", json={"version": 0, "coping_steps": [{"text": canary}]})
    patient.post("/api/v1/parts", json={"name": canary, "description": canary})
    patient.post(
        "/api/v1/checkins",
        json={
            "instrument": "daily",
            "answered_at": "2026-11-01T09:00:00+00:00",
            "answers": {"mood": 5, "note": canary},
        },
    )
    with app.app_context():
        dump = []
        for table in db.metadata.sorted_tables:
            raw = sa.select(
                *[
                    sa.type_coerce(c, sa.Text)
                    if c.type.__class__.__name__.startswith("Encrypted")
                    else c
                    for c in table.columns
                ]
            )
            dump.extend(str(row) for row in db.session.execute(raw))
    assert dump and not any(canary in row for row in dump)
    assert patient.get("/api/v1/plan").json["coping_steps"] == [{"text": canary}]


def test_a_wrong_key_fails_loudly():
    ring = crypto.KeyRing.parse(crypto.new_key_spec())
    other = crypto.KeyRing.parse(crypto.new_key_spec())
    sealed = ring.encrypt("private words", "journal_entries.body")
    assert ring.decrypt(sealed, "journal_entries.body") == "private words"
    with pytest.raises(crypto.KeyError_):
        other.decrypt(sealed, "journal_entries.body")
    with pytest.raises(crypto.KeyError_):  # moved to another column
        ring.decrypt(sealed, "journal_entries.title")
    tampered = sealed[:-2] + ("A" if sealed[-2] != "A" else "B") + sealed[-1]
    with pytest.raises(crypto.KeyError_):
        ring.decrypt(tampered, "journal_entries.body")


def test_rotation_re_encrypts_every_row_under_the_newest_key(app, patient, therapist, link):
    fill(patient, therapist, link)
    old_spec = app.config["FIELD_ENCRYPTION_KEYS"] or crypto.development_keys(
        __import__("pathlib").Path(app.instance_path)
    )
    new_spec = crypto.new_key_spec()
    new_kid = new_spec.split(":")[0]
    try:
        crypto.configure(f"{new_spec},{old_spec}")
        with app.app_context():
            done = keys.rotate(batch_size=2)
            assert sum(done.values()) > 10
            assert sum(keys.rotate().values()) == 0  # resumable: nothing left to do
        crypto.configure(new_spec)  # the old key is gone: every row still reads
        assert {e["body"] for e in patient.get("/api/v1/journal/entries").json["entries"]} == {
            "entry 0",
            "entry 1",
            "entry 2",
        }
        with app.app_context():
            for _table, column in keys.encrypted_columns():
                raw = db.session.scalars(
                    sa.select(sa.type_coerce(column, sa.Text)).where(column.is_not(None))
                ).all()
                assert all(v.startswith(f"v1:{new_kid}:") for v in raw), column
    finally:
        crypto.configure(old_spec)
