"""Journal entries as a patient writes them and a linked therapist reads the shared ones."""

import uuid

import pytest
from sqlalchemy import select

from server.audit.models import AuditEvent
from server.extensions import db
from server.journal.models import JournalEntry

ENTRIES = "/api/v1/journal/entries"


def write(patient, **fields):
    body = {"body": "A quiet morning; the session still echoes.", **fields}
    response = patient.post(ENTRIES, json=body)
    assert response.status_code == 201, response.json
    return response.json


def count_rows(app, model=JournalEntry):
    with app.app_context():
        return db.session.scalar(select(db.func.count()).select_from(model))


def test_write_read_and_list_newest_first(patient):
    first = write(patient, title="one", written_at="2026-11-01T09:00:00+01:00", mood=4)
    second = write(patient, title="two", written_at="2026-11-02T21:30:00-05:00", tags=["sleep"])
    assert first["shared"] is False and first["version"] == 1
    assert first["written_at"] == "2026-11-01T09:00:00+01:00"  # the patient's own offset
    assert patient.get(f"{ENTRIES}/{first['id']}").json["title"] == "one"
    listed = patient.get(ENTRIES).json
    assert [e["id"] for e in listed["entries"]] == [second["id"], first["id"]]
    assert listed["next_cursor"] is None


def test_client_made_id_is_kept_and_a_retried_create_is_harmless(app, patient):
    entry_id = str(uuid.uuid4())
    once = write(patient, id=entry_id, title="offline")
    again = write(patient, id=entry_id, title="offline")
    assert once["id"] == again["id"] == entry_id
    assert count_rows(app) == 1
    different = patient.post(ENTRIES, json={"id": entry_id, "body": "other words"})
    assert different.status_code == 409
    assert different.json["current"]["body"] == once["body"]


def test_pagination_filters_and_cursor(patient):
    for day in range(1, 8):
        write(
            patient,
            written_at=f"2026-10-0{day}T12:00:00+00:00",
            kind="integration" if day % 2 else "free",
            tags=["dose"] if day == 3 else [],
        )
    page1 = patient.get(f"{ENTRIES}?limit=3").json
    page2 = patient.get(f"{ENTRIES}?limit=3&cursor={page1['next_cursor']}").json
    page3 = patient.get(f"{ENTRIES}?limit=3&cursor={page2['next_cursor']}").json
    days = [e["written_at"][8:10] for p in (page1, page2, page3) for e in p["entries"]]
    assert days == ["07", "06", "05", "04", "03", "02", "01"]
    assert page3["next_cursor"] is None
    integration = patient.get(f"{ENTRIES}?kind=integration").json["entries"]
    assert len(integration) == 4
    assert [e["tags"] for e in patient.get(f"{ENTRIES}?tag=dose").json["entries"]] == [["dose"]]
    window = patient.get(
        f"{ENTRIES}?from=2026-10-02T00:00:00%2B00:00&to=2026-10-04T00:00:00%2B00:00"
    ).json["entries"]
    assert [e["written_at"][8:10] for e in window] == ["03", "02"]
    assert patient.get(f"{ENTRIES}?cursor=garbage!").status_code == 422


def test_edit_needs_the_current_version_and_stale_gets_the_server_copy(patient):
    entry = write(patient, title="draft")
    url = f"{ENTRIES}/{entry['id']}"
    edited = patient.put(url, json={"body": "second thoughts", "version": 1})
    assert edited.status_code == 200 and edited.json["version"] == 2
    stale = patient.put(url, json={"body": "from an old tab", "version": 1})
    assert stale.status_code == 409
    assert stale.json["current"]["body"] == "second thoughts"
    assert stale.json["current"]["version"] == 2
    by_header = patient.put(url, json={"title": "final"}, headers={"If-Match": '"2"'})
    assert by_header.status_code == 200 and by_header.json["title"] == "final"
    assert by_header.json["body"] == "second thoughts"
    assert patient.put(url, json={"title": "no version"}).status_code == 428


def test_delete_leaves_a_tombstone_and_needs_the_version(app, patient):
    entry = write(patient, title="to go", body="words to delete")
    url = f"{ENTRIES}/{entry['id']}"
    assert patient.delete(f"{url}?version=7").status_code == 409
    assert patient.delete(f"{url}?version=1").status_code == 204
    assert patient.get(url).status_code == 404
    assert patient.get(ENTRIES).json["entries"] == []
    with app.app_context():
        row = db.session.get(JournalEntry, uuid.UUID(entry["id"]))
        assert row.deleted and row.body == "" and row.title == ""  # delete means delete


@pytest.mark.parametrize(
    "body, field",
    [
        ({}, "body"),
        ({"body": ""}, "body"),
        ({"body": "x" * 100_001}, "body"),
        ({"body": "ok", "mood": 11}, "mood"),
        ({"body": "ok", "mood": 5.0}, "mood"),
        ({"body": "ok", "mood": "5"}, "mood"),
        ({"body": "ok", "colour": "blue"}, "colour"),
        ({"body": "ok", "id": "not-a-uuid"}, "id"),
        ({"body": "ok", "kind": "diary"}, "kind"),
        ({"body": "ok", "tags": "sleep"}, "tags"),
        ({"body": "ok", "written_at": "2026-11-01T09:00:00"}, "written_at"),
        ({"body": "ok", "version": 3}, "version"),
        ({"body": 42}, "body"),
    ],
)
def test_bad_input_is_422_and_writes_nothing(app, patient, body, field):
    response = patient.post(ENTRIES, json=body)
    assert response.status_code == 422
    assert field in response.json["errors"]["json"]
    assert response.json["status"] == "Unprocessable Entity"
    assert count_rows(app) == 0


def test_a_body_of_exactly_100000_characters_is_kept(patient):
    assert len(write(patient, body="y" * 100_000)["body"]) == 100_000


def test_another_patients_entry_is_not_found(app, make_patient):
    a, b = make_patient(), make_patient()
    entry = write(a, body="mine alone")
    url = f"{ENTRIES}/{entry['id']}"
    assert b.get(url).status_code == 404
    assert b.put(url, json={"body": "overwrite", "version": 1}).status_code == 404
    assert b.delete(f"{url}?version=1").status_code == 404
    taken = b.post(ENTRIES, json={"id": entry["id"], "body": "claim it"})
    assert taken.status_code == 409 and "current" not in taken.json
    assert a.get(url).json == entry


def test_therapist_sees_only_shared_entries_of_a_linked_patient(therapist, patient, link):
    private = write(patient, body="private words")
    shared = write(patient, body="for my therapist", shared=True)
    url = f"/api/v1/patients/{patient.id}/journal/entries"
    assert therapist.get(url).status_code == 404  # not linked yet
    link(therapist, patient)
    seen = therapist.get(url).json["entries"]
    assert [e["id"] for e in seen] == [shared["id"]]
    assert "shared" not in seen[0] and "conflict_of" not in seen[0]
    read_private = therapist.post(f"{url}/{private['id']}/read")
    assert read_private.status_code == 404


def test_therapist_cannot_read_unshared_entry(therapist, patient, link):
    """A linked therapist gets 404 until the patient shares the entry, and after unsharing."""
    link(therapist, patient)
    entry = write(patient, body="not yet")
    read = f"/api/v1/patients/{patient.id}/journal/entries/{entry['id']}/read"
    assert therapist.post(read).status_code == 404
    patient.put(f"{ENTRIES}/{entry['id']}", json={"shared": True, "version": 1})
    assert therapist.post(read).status_code == 200
    patient.put(f"{ENTRIES}/{entry['id']}", json={"shared": False, "version": 2})
    assert therapist.post(read).status_code == 404
    assert therapist.get(f"/api/v1/patients/{patient.id}/journal/entries").json["entries"] == []


def test_read_receipt_reaches_the_patient_without_changing_the_version(therapist, patient, link):
    link(therapist, patient)
    entry = write(patient, shared=True)
    url = f"/api/v1/patients/{patient.id}/journal/entries/{entry['id']}/read"
    assert therapist.post(url).json["read_by_therapist_at"] is not None
    mine = patient.get(f"{ENTRIES}/{entry['id']}").json
    assert mine["read_by_therapist_at"] is not None
    assert mine["version"] == 1


def test_ending_the_link_hides_everything(therapist, patient, link):
    link_id = link(therapist, patient)["id"]
    write(patient, shared=True)
    url = f"/api/v1/patients/{patient.id}/journal/entries"
    assert len(therapist.get(url).json["entries"]) == 1
    patient.delete(f"/api/v1/care-team/{link_id}")
    assert therapist.get(url).status_code == 404


def test_every_therapist_read_is_audited(app, therapist, patient, link):
    link(therapist, patient)
    entry = write(patient, shared=True)
    therapist.get(f"/api/v1/patients/{patient.id}/journal/entries")
    therapist.post(f"/api/v1/patients/{patient.id}/journal/entries/{entry['id']}/read")
    with app.app_context():
        events = db.session.scalars(
            select(AuditEvent).where(AuditEvent.actor_role == "therapist").order_by(AuditEvent.at)
        ).all()
        reads = [(e.actor_id, e.action, e.object_ids) for e in events]
    assert reads == [
        (uuid.UUID(therapist.id), "read", [entry["id"]]),
        (uuid.UUID(therapist.id), "read", [entry["id"]]),
    ]


def test_patients_and_therapists_keep_to_their_routes(therapist, patient):
    assert therapist.get(ENTRIES).status_code == 404
    assert patient.get(f"/api/v1/patients/{patient.id}/journal/entries").status_code == 404


def test_prompts_by_context_with_stable_ids(therapist, patient, link):
    all_prompts = patient.get("/api/v1/journal/prompts").json
    contexts = {p["context"] for p in all_prompts}
    assert {
        "after_dosing",
        "before_dosing",
        "parts_work",
        "relapse_prevention",
        "modality_integration",
    } <= contexts
    after = patient.get("/api/v1/journal/prompts?context=after_dosing").json
    assert after and all(p["context"] == "after_dosing" for p in after)
    assert "after-dosing.what-stayed" in {p["id"] for p in after}
    assert patient.get("/api/v1/journal/prompts?context=nope").status_code == 422

    url = f"/api/v1/patients/{patient.id}/journal/prompts"
    body = {"context": "parts_work", "text": "What does the watcher want you to know?"}
    assert therapist.post(url, json=body).status_code == 404  # not linked
    link(therapist, patient)
    made = therapist.post(url, json=body)
    assert made.status_code == 201
    mine = patient.get("/api/v1/journal/prompts?context=parts_work").json
    assert made.json["id"] in {p["id"] for p in mine}
