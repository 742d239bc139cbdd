"""The audit trail says who did what to which object, truly, and the check every test
runs through tests/factories.py reads it: two defects the trail once had are caught
here when brought back."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from server.audit import service as audit
from server.audit.models import AuditEvent
from server.auth.models import User
from server.extensions import db
from server.journal import service as journal


def _events(app, **where) -> list[AuditEvent]:
    with app.app_context():
        query = select(AuditEvent).filter_by(**where).order_by(AuditEvent.at)
        events = db.session.scalars(query).all()
        db.session.expunge_all()
    return events


def _write_prompt(therapist, patient):
    return therapist.post(
        f"/api/v1/patients/{patient.id}/journal/prompts",
        json={"context": "parts_work", "text": "Ask the critic what it fears"},
    )


def test_a_therapists_prompt_is_audited_by_its_id(app, therapist, patient, link):
    link(therapist, patient)
    response = _write_prompt(therapist, patient)
    assert response.status_code == 201
    (event,) = _events(app, object_type="journal_prompt")
    assert (str(event.actor_id), str(event.patient_id)) == (therapist.id, patient.id)
    assert event.action == "write"
    assert event.object_ids == [response.json["id"]]


def test_an_event_cannot_name_an_object_that_has_no_id_yet(app, therapist):
    with app.test_request_context():
        user = db.session.get(User, uuid.UUID(therapist.id))
        with pytest.raises(ValueError, match="None"):
            audit.record(user, "write", None, "journal_prompt", [None])


def test_a_new_private_entry_records_no_unsharing(app, patient):
    private = patient.post("/api/v1/journal/entries", json={"body": "mine alone"})
    assert private.status_code == 201
    shared = patient.post("/api/v1/journal/entries", json={"body": "for Tuesday", "shared": True})
    assert shared.status_code == 201
    events = _events(app, patient_id=uuid.UUID(patient.id))
    assert [(e.action, e.object_ids) for e in events] == [("share", [shared.json["id"]])]
    unshare = patient.put(
        f"/api/v1/journal/entries/{shared.json['id']}",
        json={"shared": False, "version": shared.json["version"]},
    )
    assert unshare.status_code == 200, unshare.json
    assert [e.action for e in _events(app, patient_id=events[0].patient_id)] == [
        "share",
        "unshare",
    ]


def _old_record(actor, action, patient_id, object_type, object_ids=None, outcome="ok"):
    """The recorder as it was: it wrote whatever it was given, None as "None"."""
    db.session.add(
        AuditEvent(
            actor_id=actor.id,
            actor_role=actor.role.value,
            patient_id=patient_id,
            action=action,
            object_type=object_type,
            object_ids=[str(i) for i in object_ids or []],
            outcome=outcome,
        )
    )


def test_the_check_catches_an_event_naming_none(app, therapist, patient, link, monkeypatch):
    """Brought back: the prompt's event recorded before the prompt had its id."""
    link(therapist, patient)
    made = journal.JournalPrompt

    def without_an_id_yet(**fields):
        fields.pop("id", None)
        return made(**fields)

    monkeypatch.setattr(journal, "JournalPrompt", without_an_id_yet)
    monkeypatch.setattr(audit, "record", _old_record)
    with pytest.raises(AssertionError, match="audited object id 'None'"):
        _write_prompt(therapist, patient)


def test_the_check_catches_a_new_private_entry_unshared(app, patient, monkeypatch):
    """Brought back: a new entry compared with "shared" before it had a value, so every
    new private entry wrote an `unshare` event."""

    def every_new_entry_unshared(actor, entry, was_shared):
        if not entry.shared:
            audit.record(actor, "unshare", entry.patient_id, journal.TYPE, [entry.id])

    monkeypatch.setattr(journal, "_audit_share", every_new_entry_unshared)
    with pytest.raises(AssertionError, match="'unshare' of what was never shared"):
        patient.post("/api/v1/journal/entries", json={"body": "mine alone"})
