"""Check-ins as a patient answers them and their therapists see them."""

import uuid
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from server.checkins.models import CheckIn, RiskFlag
from server.extensions import db
from tests.api.test_sync import push
from tests.unit.test_scoring import answers_totalling

CHECKINS = "/api/v1/checkins"


def phq9(patient, total, at="2026-11-01T09:00:00-05:00", **extra):
    answers = answers_totalling("phq9", total, 9)
    answers.update(extra)
    response = patient.post(
        CHECKINS, json={"instrument": "phq9", "answers": answers, "answered_at": at}
    )
    assert response.status_code == 201, response.json
    return response.json


def rows(app, model):
    with app.app_context():
        return db.session.scalars(select(model)).all()


def test_instruments_are_served(patient):
    instruments = {i["id"]: i for i in patient.get(f"{CHECKINS}/instruments").json}
    assert set(instruments) == {"daily", "phq9", "gad7"}
    safety = next(i for i in instruments["daily"]["items"] if i["id"] == "safety")
    assert safety["type"] == "yes_no" and safety["risk"] is True


def test_answer_is_scored_and_keeps_the_patients_time(patient):
    result = phq9(patient, 12, at="2026-11-01T22:30:00-05:00")
    assert (result["score"], result["severity"], result["complete"]) == (12, "moderate", True)
    assert result["answered_at"] == "2026-11-01T22:30:00-05:00"
    assert result["flags"] == [] and result["crisis_card"] is None


def test_incomplete_phq9_is_stored_unscored(app, patient):
    answers = answers_totalling("phq9", 6, 9)
    del answers["phq9_5"]
    result = patient.post(
        CHECKINS,
        json={"instrument": "phq9", "answers": answers, "answered_at": "2026-11-01T09:00:00+00:00"},
    ).json
    assert (result["score"], result["severity"], result["complete"]) == (None, None, False)
    assert len(rows(app, CheckIn)) == 1


@pytest.mark.parametrize(
    "body, where",
    [
        ({"instrument": "phq9", "answers": {"phq9_1": 4}}, "answers"),
        ({"instrument": "phq9", "answers": {"phq9_1": 2.0}}, "answers"),
        ({"instrument": "phq9", "answers": {"q99": 1}}, "answers"),
        ({"instrument": "bdi", "answers": {}}, "instrument"),
        ({"instrument": "daily", "answers": {"mood": 12}}, "answers"),
        ({"instrument": "daily", "answers": {"safety": "yes"}}, "answers"),
        ({"instrument": "gad7", "answers": [1, 2]}, "answers"),
        ({"instrument": "gad7", "answers": {}, "answered_at": "yesterday"}, "answered_at"),
        ({"instrument": "gad7", "answers": {}, "score": 3}, "score"),
    ],
)
def test_out_of_range_answers_are_422_and_nothing_is_stored(app, patient, body, where):
    body.setdefault("answered_at", "2026-11-01T09:00:00+00:00")
    response = patient.post(CHECKINS, json=body)
    assert response.status_code == 422
    assert where in response.json["errors"]["json"]
    assert rows(app, CheckIn) == [] and rows(app, RiskFlag) == []


def test_item_9_opens_one_flag_for_every_linked_therapist_with_the_crisis_card(
    app, make_therapist, patient, link
):
    first, second = make_therapist(), make_therapist()
    link(first, patient)
    link(second, patient)
    checkin_id = str(uuid.uuid4())
    body = {
        "id": checkin_id,
        "instrument": "phq9",
        "answers": {**answers_totalling("phq9", 8, 8), "phq9_9": 1},
        "answered_at": "2026-11-02T23:10:00-05:00",
    }
    result = patient.post(CHECKINS, json=body).json
    assert len(result["flags"]) == 1 and result["flags"][0]["status"] == "open"
    card = result["crisis_card"]
    assert card["crisis_lines"][0]["tel"] == "988"
    assert "not an emergency service" in card["emergency_words"]
    assert result["alerted_therapists"] == 2

    replay = patient.post(CHECKINS, json=body)
    assert replay.status_code == 201
    assert replay.json["flags"][0]["id"] == result["flags"][0]["id"]
    push(
        patient,
        [
            {
                "op_id": str(uuid.uuid4()),
                "type": "checkin",
                "id": checkin_id,
                "base_version": None,
                "action": "upsert",
                "data": {k: v for k, v in body.items() if k != "id"},
            }
        ],
    )
    assert len(rows(app, RiskFlag)) == 1 and len(rows(app, CheckIn)) == 1

    for therapist in (first, second):
        flags = therapist.get("/api/v1/flags").json
        assert [(f["patient_id"], f["reason"], f["status"]) for f in flags] == [
            (patient.id, "phq9_item9", "open")
        ]


def test_a_patient_with_no_therapist_is_told_nobody_was_alerted(patient):
    result = patient.post(
        CHECKINS,
        json={
            "instrument": "daily",
            "answered_at": "2026-11-02T08:00:00+00:00",
            "answers": {
                "mood": 2,
                "anxiety": 8,
                "sleep_quality": 2,
                "sleep_hours": 4,
                "rumination": 9,
                "safety": True,
            },
        },
    ).json
    assert result["alerted_therapists"] == 0
    assert "nobody was alerted" in result["message"]
    assert result["crisis_card"]["emergency_number"] == "911"


def test_acknowledging_a_flag(app, therapist, make_therapist, patient, link):
    link(therapist, patient)
    phq9(patient, 5, phq9_9=1)
    flag = therapist.get("/api/v1/flags").json[0]
    outsider = make_therapist()
    assert (
        outsider.post(f"/api/v1/flags/{flag['id']}/acknowledge", json={"note": "x"}).status_code
        == 404
    )
    done = therapist.post(
        f"/api/v1/flags/{flag['id']}/acknowledge", json={"note": "Called, safe, plan reviewed."}
    )
    assert done.status_code == 200
    assert done.json["status"] == "acknowledged"
    assert done.json["acknowledged_by"].startswith("Test Therapist")
    assert therapist.get("/api/v1/flags?status=open").json == []
    assert len(therapist.get("/api/v1/flags?status=acknowledged").json) == 1


def test_open_flags_come_first(make_patient, therapist, link):
    a, b = make_patient(), make_patient()
    link(therapist, a)
    link(therapist, b)
    phq9(a, 5, phq9_9=1)
    old = therapist.get("/api/v1/flags").json[0]
    therapist.post(f"/api/v1/flags/{old['id']}/acknowledge", json={"action": "other", "note": "x"})
    phq9(b, 5, phq9_9=2)
    statuses = [f["status"] for f in therapist.get("/api/v1/flags").json]
    assert statuses == ["open", "acknowledged"]


def test_trends_baseline_change_response_and_remission(patient, therapist, link):
    start = datetime.fromisoformat("2026-09-01T09:00:00+00:00")
    for week, total in enumerate([20, 18, 12, 9, 4]):
        phq9(patient, total, at=(start + timedelta(weeks=week)).isoformat())
    trend = patient.get(f"{CHECKINS}/trends?instrument=phq9").json
    assert [p["score"] for p in trend["series"]] == [20, 18, 12, 9, 4]
    assert trend["baseline"]["score"] == 20 and trend["latest"]["score"] == 4
    assert trend["change"] == -16 and trend["percent_change"] == -80.0
    assert trend["response"] is True and trend["remission"] is True

    window = patient.get(
        f"{CHECKINS}/trends",
        query_string={
            "instrument": "phq9",
            "from": "2026-09-07T00:00:00+00:00",
            "to": "2026-09-20T00:00:00+00:00",
        },
    ).json
    assert [p["score"] for p in window["series"]] == [18, 12]
    assert window["baseline"]["score"] == 20  # the baseline is the first score ever
    assert window["change"] == -8 and window["response"] is False
    assert window["remission"] is False

    url = f"/api/v1/patients/{patient.id}/checkins/trends?instrument=phq9"
    assert therapist.get(url).status_code == 404
    link(therapist, patient)
    assert therapist.get(url).json["latest"]["score"] == 4


def test_trend_markers_show_sessions(patient, therapist, link):
    link(therapist, patient)
    therapist.post(
        f"/api/v1/patients/{patient.id}/sessions",
        json={"kind": "dosing", "starts_at": "2026-09-03T10:00:00-04:00", "route": "IM"},
    )
    phq9(patient, 15, at="2026-09-01T09:00:00+00:00")
    trend = patient.get(f"{CHECKINS}/trends?instrument=phq9").json
    assert [(m["kind"], m["starts_at"]) for m in trend["markers"]] == [
        ("dosing", "2026-09-03T10:00:00-04:00")
    ]


def test_private_daily_notes_stay_private(patient, therapist, link):
    link(therapist, patient)
    patient.post(
        CHECKINS,
        json={
            "instrument": "daily",
            "answered_at": "2026-11-02T08:00:00+00:00",
            "note_private": True,
            "answers": {
                "mood": 6,
                "anxiety": 3,
                "sleep_quality": 7,
                "sleep_hours": 7.5,
                "rumination": 2,
                "safety": False,
                "note": "only for me",
            },
        },
    )
    mine = patient.get(CHECKINS).json["checkins"][0]
    assert mine["answers"]["note"] == "only for me"
    theirs = therapist.get(f"/api/v1/patients/{patient.id}/checkins").json["checkins"][0]
    assert "note" not in theirs["answers"] and theirs["answers"]["mood"] == 6


def test_maintenance_rule_met_is_told_to_the_patient(patient):
    patient.put(
        "/api/v1/plan",
        json={
            "version": 0,
            "maintenance_criteria": [
                {
                    "text": "PHQ-9 of 10 or more twice in a row",
                    "rule": {"instrument": "phq9", "at_least": 10, "times_in_a_row": 2},
                }
            ],
        },
    )
    first = phq9(patient, 11, at="2026-11-01T09:00:00+00:00")
    assert first["maintenance"]["suggested"] is False
    second = phq9(patient, 13, at="2026-11-08T09:00:00+00:00")
    assert second["maintenance"]["suggested"] is True
    assert second["maintenance"]["criteria"] == ["PHQ-9 of 10 or more twice in a row"]
    assert "maintenance session" in second["maintenance"]["message"]
    third = phq9(patient, 6, at="2026-11-15T09:00:00+00:00")
    assert third["maintenance"]["suggested"] is False


def test_checkins_answered_offline_sync_with_their_own_time(patient):
    checkin_id = str(uuid.uuid4())
    results = push(
        patient,
        [
            {
                "op_id": str(uuid.uuid4()),
                "type": "checkin",
                "id": checkin_id,
                "base_version": None,
                "action": "upsert",
                "data": {
                    "instrument": "gad7",
                    "answers": answers_totalling("gad7", 10, 7),
                    "answered_at": "2026-10-30T07:45:00+02:00",
                },
            }
        ],
    )
    assert results[0]["status"] == "applied"
    mine = patient.get(CHECKINS).json["checkins"][0]
    assert mine["answered_at"] == "2026-10-30T07:45:00+02:00"
    assert (mine["score"], mine["severity"]) == (10, "moderate")


def test_therapist_checkin_reads_are_linked_only(make_therapist, patient):
    stranger = make_therapist()
    phq9(patient, 3)
    assert stranger.get(f"/api/v1/patients/{patient.id}/checkins").status_code == 404
    assert stranger.get("/api/v1/flags").json == []
