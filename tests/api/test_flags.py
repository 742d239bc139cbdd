"""Risk flags as a therapist reads, acknowledges and annotates them."""

from datetime import datetime, timedelta

import pytest

from server.db import utcnow
from tests.unit.test_scoring import answers_totalling

CHECKINS = "/api/v1/checkins"


def phq9(patient, total, at, item9=0):
    answers = answers_totalling("phq9", total - item9, 8)
    answers["phq9_9"] = item9
    response = patient.post(
        CHECKINS, json={"instrument": "phq9", "answers": answers, "answered_at": at}
    )
    assert response.status_code == 201, response.json
    return response.json


def daily(patient, at, safety=True, note="", note_private=False):
    answers = {
        "mood": 3,
        "anxiety": 6,
        "sleep_quality": 4,
        "sleep_hours": 5,
        "rumination": 7,
        "safety": safety,
    }
    if note:
        answers["note"] = note
    response = patient.post(
        CHECKINS,
        json={
            "instrument": "daily",
            "answers": answers,
            "answered_at": at,
            "note_private": note_private,
        },
    )
    assert response.status_code == 201, response.json
    return response.json


@pytest.fixture
def flag(therapist, patient, link):
    link(therapist, patient)
    phq9(patient, 12, (utcnow() - timedelta(hours=3)).isoformat(), item9=2)
    return therapist.get("/api/v1/flags").json[0]


def ack(therapist, flag_id, body):
    return therapist.post(f"/api/v1/flags/{flag_id}/acknowledge", json=body)


@pytest.mark.parametrize(
    "body, field",
    [
        ({}, "note"),
        ({"note": ""}, "note"),
        ({"note": "   \n\t"}, "note"),
        ({"action": "other"}, "note"),
        ({"action": "other", "note": "  "}, "note"),
        ({"action": "waved"}, "action"),
        ({"note": "x" * 2001}, "note"),
    ],
)
def test_an_empty_acknowledgement_is_refused_and_the_flag_stays_open(therapist, flag, body, field):
    """One click with nothing said no longer closes a risk flag."""
    answer = ack(therapist, flag["id"], body)
    assert answer.status_code == 422, answer.json
    assert field in answer.json["errors"]["json"]
    assert therapist.get("/api/v1/flags?status=open").json[0]["id"] == flag["id"]


def test_an_action_alone_closes_a_flag(therapist, flag):
    done = ack(therapist, flag["id"], {"action": "contacted_patient"})
    assert done.status_code == 200, done.json
    assert done.json["status"] == "acknowledged"
    assert [(n["action"], n["note"]) for n in done.json["notes"]] == [("contacted_patient", "")]
    assert done.json["notes"][0]["author"].startswith("Test Therapist")


def test_a_note_alone_closes_a_flag_and_stays_the_acknowledgement_note(therapist, flag):
    done = ack(therapist, flag["id"], {"note": "Called; safe tonight."})
    assert done.status_code == 200
    assert done.json["acknowledgement_note"] == "Called; safe tonight."
    assert [n["note"] for n in done.json["notes"]] == ["Called; safe tonight."]
    assert done.json["notes"][0]["action"] is None


def test_a_second_acknowledgement_is_409_with_the_flag_as_it_is(therapist, flag):
    ack(therapist, flag["id"], {"action": "seen_in_session", "note": "first"})
    again = ack(therapist, flag["id"], {"note": "second"})
    assert again.status_code == 409
    assert again.json["current"]["id"] == flag["id"]
    assert [n["note"] for n in again.json["current"]["notes"]] == ["first"]
    listed = therapist.get("/api/v1/flags").json[0]
    assert [n["note"] for n in listed["notes"]] == ["first"]


def test_more_notes_accumulate_oldest_first_with_their_authors(
    therapist, make_therapist, patient, flag, link
):
    colleague = make_therapist()
    link(colleague, patient)
    ack(therapist, flag["id"], {"action": "contacted_patient", "note": "first"})
    second = colleague.post(
        f"/api/v1/flags/{flag['id']}/notes",
        json={"note": "Reviewed the plan together.", "action": "reviewed_safety_plan"},
    )
    assert second.status_code == 201, second.json
    notes = second.json["notes"]
    assert [n["note"] for n in notes] == ["first", "Reviewed the plan together."]
    assert [n["action"] for n in notes] == ["contacted_patient", "reviewed_safety_plan"]
    assert notes[0]["author"] != notes[1]["author"]
    assert notes[0]["created_at"] <= notes[1]["created_at"]
    datetime.fromisoformat(notes[1]["created_at"])
    assert second.json["acknowledgement_note"] == "first"
    assert second.json["status"] == "acknowledged"
    listed = therapist.get("/api/v1/flags").json[0]
    assert [n["note"] for n in listed["notes"]] == ["first", "Reviewed the plan together."]


def test_a_note_on_an_open_flag_leaves_it_open(therapist, flag):
    noted = therapist.post(f"/api/v1/flags/{flag['id']}/notes", json={"note": "Left a message."})
    assert noted.status_code == 201
    assert noted.json["status"] == "open"
    assert [n["note"] for n in noted.json["notes"]] == ["Left a message."]


@pytest.mark.parametrize("body", [{}, {"note": " "}, {"note": "x", "action": "nope"}])
def test_an_empty_note_is_refused(therapist, flag, body):
    answer = therapist.post(f"/api/v1/flags/{flag['id']}/notes", json=body)
    assert answer.status_code == 422


def test_flags_of_another_therapists_patient_are_missing(make_therapist, flag):
    stranger = make_therapist()
    url = f"/api/v1/flags/{flag['id']}"
    assert stranger.post(f"{url}/notes", json={"note": "x"}).status_code == 404
    assert stranger.post(f"{url}/acknowledge", json={"note": "x"}).status_code == 404
    assert stranger.get("/api/v1/flags").json == []


def test_a_flag_says_when_the_patient_answered_what_and_the_total(therapist, patient, link):
    """A check-in answered two days before it synced shows the patient's time, with
    their offset, beside the item's published words and the check-in's total."""
    link(therapist, patient)
    answered = (utcnow() - timedelta(days=2)).astimezone(
        datetime.fromisoformat("2026-01-01T00:00:00-05:00").tzinfo
    )
    phq9(patient, 16, answered.isoformat(), item9=3)
    flag = therapist.get("/api/v1/flags").json[0]
    assert datetime.fromisoformat(flag["answered_at"]) == answered
    assert flag["answered_at"].endswith("-05:00")
    assert datetime.fromisoformat(flag["created_at"]) - answered > timedelta(days=1)
    assert flag["instrument"] == "phq9"
    assert flag["item_value"] == 3 and flag["item_words"] == "nearly every day"
    assert flag["total"] == 16 and flag["severity"] == "moderately severe"
    assert flag["notes"] == []

    row = therapist.get("/api/v1/caseload").json[0]
    assert row["open_flag"] == {
        "id": flag["id"],
        "reason": "phq9_item9",
        "instrument": "phq9",
        "item_words": "nearly every day",
        "answered_at": flag["answered_at"],
    }
    ack(therapist, flag["id"], {"action": "contacted_patient"})
    assert therapist.get("/api/v1/caseload").json[0]["open_flag"] is None


def test_a_daily_safety_flag_reads_yes(therapist, patient, link):
    link(therapist, patient)
    daily(patient, "2026-11-20T21:30:00+01:00")
    flag = therapist.get("/api/v1/flags").json[0]
    assert flag["instrument"] == "daily"
    assert flag["item_value"] is True and flag["item_words"] == "yes"
    assert flag["total"] is None
    assert flag["answered_at"] == "2026-11-20T21:30:00+01:00"


def test_acknowledging_and_noting_are_audited_once_each(app, therapist, flag):
    from sqlalchemy import func, select

    from server.audit.models import AuditEvent
    from server.extensions import db

    def count():
        with app.app_context():
            return db.session.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.object_type == "risk_flag")
            )

    before = count()
    ack(therapist, flag["id"], {"action": "contacted_patient"})
    assert count() == before + 1
    therapist.post(f"/api/v1/flags/{flag['id']}/notes", json={"note": "later"})
    assert count() == before + 2
