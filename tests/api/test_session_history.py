"""A session that has started is part of the record: it can be annotated and marked as
not having happened, never cancelled or moved."""

from datetime import datetime, timedelta

import pytest

from server.db import utcnow


def schedule(therapist, patient, days_from_now, kind="dosing"):
    response = therapist.post(
        f"/api/v1/patients/{patient.id}/sessions",
        json={
            "kind": kind,
            "starts_at": (utcnow() + timedelta(days=days_from_now)).isoformat(),
            **({"route": "IM"} if kind == "dosing" else {}),
        },
    )
    assert response.status_code == 201, response.json
    return response.json


@pytest.fixture
def past(therapist, patient, link):
    link(therapist, patient)
    return schedule(therapist, patient, -3)


def url(patient, session):
    return f"/api/v1/patients/{patient.id}/sessions/{session['id']}"


def test_a_past_session_cannot_be_cancelled(therapist, patient, past):
    answer = therapist.delete(url(patient, past))
    assert answer.status_code == 409
    assert answer.json["message"] == (
        "A past session is part of the record; mark it as not happened instead."
    )
    assert [s["id"] for s in therapist.get(f"/api/v1/patients/{patient.id}/sessions").json] == [
        past["id"]
    ]


@pytest.mark.parametrize(
    "change",
    [
        {"starts_at": (datetime.now().astimezone() + timedelta(days=2)).isoformat()},
        {"kind": "integration"},
    ],
)
def test_a_past_session_cannot_be_moved_or_retyped(therapist, patient, past, change):
    answer = therapist.put(url(patient, past), json={"version": 1, **change})
    assert answer.status_code == 409, answer.json
    assert answer.json["current"]["id"] == past["id"]
    again = therapist.get(f"/api/v1/patients/{patient.id}/sessions").json[0]
    assert (again["starts_at"], again["kind"], again["version"]) == (
        past["starts_at"],
        "dosing",
        1,
    )


def test_a_past_session_keeps_its_time_when_sent_unchanged(therapist, patient, past):
    """The PWA sends the whole form: the same start and kind are not a move."""
    answer = therapist.put(
        url(patient, past),
        json={
            "version": 1,
            "starts_at": past["starts_at"],
            "kind": "dosing",
            "note": "Went well.",
        },
    )
    assert answer.status_code == 200, answer.json


def test_a_past_sessions_notes_can_be_amended(therapist, patient, past):
    answer = therapist.put(url(patient, past), json={"version": 1, "note": "Amended after."})
    assert answer.status_code == 200
    assert answer.json["note"] == "Amended after." and answer.json["status"] == "held"


def test_a_past_session_can_be_marked_as_not_happened(therapist, patient, past):
    answer = therapist.put(url(patient, past), json={"version": 1, "status": "did_not_happen"})
    assert answer.status_code == 200, answer.json
    assert answer.json["status"] == "did_not_happen"
    # still on the record, for the therapist, the patient and the charts
    listed = therapist.get(f"/api/v1/patients/{patient.id}/sessions").json
    assert [(s["id"], s["status"]) for s in listed] == [(past["id"], "did_not_happen")]
    mine = patient.get("/api/v1/sessions").json
    assert [s["status"] for s in mine["past"]] == ["did_not_happen"]
    trend = therapist.get(f"/api/v1/patients/{patient.id}/checkins/trends?instrument=phq9").json
    assert [(m["id"], m["status"]) for m in trend["markers"]] == [(past["id"], "did_not_happen")]
    back = therapist.put(url(patient, past), json={"version": 2, "status": "held"})
    assert back.status_code == 200 and back.json["status"] == "held"


def test_an_upcoming_session_is_scheduled_and_can_still_be_moved_or_cancelled(
    therapist, patient, link
):
    link(therapist, patient)
    upcoming = schedule(therapist, patient, 3, kind="integration")
    assert upcoming["status"] == "scheduled"
    refused = therapist.put(url(patient, upcoming), json={"version": 1, "status": "did_not_happen"})
    assert refused.status_code == 422
    assert "status" in refused.json["errors"]["json"]
    moved = therapist.put(
        url(patient, upcoming),
        json={"version": 1, "starts_at": (utcnow() + timedelta(days=4)).isoformat()},
    )
    assert moved.status_code == 200
    assert therapist.delete(url(patient, upcoming)).status_code == 204


def test_an_unknown_status_is_422(therapist, patient, past):
    answer = therapist.put(url(patient, past), json={"version": 1, "status": "cancelled"})
    assert answer.status_code == 422


def test_a_dosing_that_did_not_happen_prompts_nothing_after_it(app, therapist, patient, past):
    """Post-dosing prompts count days from a dosing that took place, never from one
    marked as not having happened."""
    import uuid

    from server.reminders.service import dosing_sessions

    with app.app_context():
        assert [d.id for d in dosing_sessions([uuid.UUID(patient.id)])[uuid.UUID(patient.id)]] == [
            uuid.UUID(past["id"])
        ]
    marked = therapist.put(url(patient, past), json={"version": 1, "status": "did_not_happen"})
    assert marked.status_code == 200, marked.json
    with app.app_context():
        assert dosing_sessions([uuid.UUID(patient.id)]) == {}
