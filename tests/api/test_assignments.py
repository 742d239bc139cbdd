"""Care between sessions the therapist shapes (#23): measurement plans and homework.

A linked therapist sets them; the patient sees who set them, answers homework (done with
an entry, skipped with a reason, snoozed) and pauses a plan, over REST or from a device's
sync push; the therapist sees how it went. Every therapist call here is checked for its
one audit event by tests/factories.py.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import Text, select, type_coerce

from server.assignments.models import Assignment, AssignmentKind, HomeworkStatus
from server.assignments.read import status_clause, status_now
from server.db import utcnow
from server.extensions import db
from tests.api.test_sync import pull_all, push
from tests.factories import counting_statements

PLAN = {
    "kind": "measure",
    "instrument": "phq9",
    "schedule": {"type": "sessions", "session_kind": "dosing", "days": [1, 7], "time": "09:00"},
    "window_hours": 48,
}


def _in(days: float) -> str:
    return (utcnow() + timedelta(days=days)).isoformat()


def prompt(days: float = 3, text: str = "Write to the part that felt safe") -> dict:
    return {"kind": "homework", "homework_type": "prompt", "text": text, "due_at": _in(days)}


def url(patient, assignment_id=None) -> str:
    base = f"/api/v1/patients/{patient.id}/assignments"
    return f"{base}/{assignment_id}" if assignment_id else base


@pytest.fixture
def care(make_therapist, patient, link):
    """A therapist linked to the patient."""
    therapist = make_therapist()
    made = link(therapist, patient)
    return SimpleNamespace(therapist=therapist, patient=patient, link_id=made["id"])


def patch(actor, where: str, json: dict):
    """PATCH as the actor, through the same audit check as its other calls."""
    return actor._open("PATCH", where, json=json)


def assign(care, body: dict) -> dict:
    response = care.therapist.post(url(care.patient), json=body)
    assert response.status_code == 201, response.json
    return response.json


def dosing(care, starts_at: str) -> dict:
    response = care.therapist.post(
        f"/api/v1/patients/{care.patient.id}/sessions",
        json={"kind": "dosing", "starts_at": starts_at},
    )
    assert response.status_code == 201, response.json
    return response.json


def mine(patient) -> dict:
    """The patient's assignments, by id."""
    response = patient.get("/api/v1/assignments")
    assert response.status_code == 200, response.json
    return {item["id"]: item for item in response.json["items"]}


def theirs(care) -> dict:
    response = care.therapist.get(url(care.patient))
    assert response.status_code == 200, response.json
    return {item["id"]: item for item in response.json["items"]}


def entry(patient, body: str = "what I wrote") -> str:
    response = patient.post("/api/v1/journal/entries", json={"body": body})
    assert response.status_code == 201, response.json
    return response.json["id"]


# -- a therapist sets them ---------------------------------------------------------------


def test_a_therapist_sets_a_plan_and_homework_and_the_patient_sees_who_set_them(care):
    """PHQ-9 1 and 7 days after each dosing session, 48 h to answer; a prompt due in 3
    days; a plan review two days after the next dosing session at 18:00 there."""
    session = dosing(care, "2031-03-10T10:00:00-04:00")
    plan = assign(care, PLAN)
    homework = assign(care, prompt())
    review = assign(
        care,
        {
            "kind": "homework",
            "homework_type": "plan_review",
            "due_session_id": session["id"],
            "due_days": 2,
            "due_time": "18:00",
        },
    )
    assert plan["schedule"] == PLAN["schedule"] and plan["window_hours"] == 48
    assert plan["paused_at"] is None and plan["status_now"] is None
    assert homework["text"] == "Write to the part that felt safe"
    assert (homework["status"], homework["status_now"]) == ("open", "open")
    # the patient is in UTC: the session's day there is the 10th, so the 12th at 18:00
    assert review["due_at"] == "2031-03-12T18:00:00+00:00"

    seen = mine(care.patient)
    assert set(seen) == {plan["id"], homework["id"], review["id"]}
    therapist_name = care.therapist.get("/api/v1/auth/me").json["display_name"]
    for item in seen.values():
        assert item["set_by"] == {"id": care.therapist.id, "display_name": therapist_name}
    assert theirs(care) == seen


def test_a_relative_due_date_counts_days_in_the_patients_zone(make_therapist, make_patient, link):
    """Days are the patient's calendar days, and a daylight-saving change between the
    session and the due day moves neither the day nor the wall time."""
    patient = make_patient(timezone="Europe/Madrid")
    therapist = make_therapist()
    link(therapist, patient)
    care = SimpleNamespace(therapist=therapist, patient=patient)
    # 23:30 UTC on 28 March is already the 29th in Madrid (clocks go forward on the 30th)
    session = dosing(care, "2031-03-28T23:30:00+00:00")
    item = assign(
        care,
        {
            "kind": "homework",
            "homework_type": "plan_review",
            "due_session_id": session["id"],
            "due_days": 1,
            "due_time": "09:00",
        },
    )
    assert item["due_at"] == "2031-03-30T09:00:00+02:00"


def test_moving_the_session_moves_the_homework_due_date(care):
    session = dosing(care, "2031-05-01T10:00:00+00:00")
    item = assign(
        care,
        {
            "kind": "homework",
            "homework_type": "plan_review",
            "due_session_id": session["id"],
            "due_days": 2,
            "due_time": "18:00",
        },
    )
    _, cursor = pull_all(care.patient)
    moved = care.therapist.put(
        f"/api/v1/patients/{care.patient.id}/sessions/{session['id']}",
        json={"version": 1, "starts_at": "2031-05-08T10:00:00+00:00"},
    )
    assert moved.status_code == 200, moved.json
    assert mine(care.patient)[item["id"]]["due_at"] == "2031-05-10T18:00:00+00:00"
    # the devices learn of it
    changes, _ = pull_all(care.patient, cursor)
    (pulled,) = [c for c in changes if c["id"] == item["id"]]
    assert pulled["data"]["due_at"] == "2031-05-10T18:00:00+00:00"


def test_moving_a_session_costs_the_same_however_much_homework_follows_sessions(app, care):
    """The homework that follows sessions is found with its sessions in one statement,
    not a lookup per session; a cancelled session leaves its homework's due time."""

    def follows(session) -> dict:
        return assign(
            care,
            {
                "kind": "homework",
                "homework_type": "plan_review",
                "due_session_id": session["id"],
                "due_days": 2,
                "due_time": "18:00",
            },
        )

    session = dosing(care, "2031-05-01T10:00:00+00:00")
    where = f"/api/v1/patients/{care.patient.id}/sessions/{session['id']}"

    def move(version: int, starts_at: str) -> int:
        with counting_statements(app) as sql:
            moved = care.therapist.put(where, json={"version": version, "starts_at": starts_at})
        assert moved.status_code == 200, moved.json
        return sql["n"]

    item = follows(session)
    one = move(1, "2031-05-08T10:00:00+00:00")
    for day in range(20, 24):  # homework following four other sessions
        follows(dosing(care, f"2031-06-{day}T10:00:00+00:00"))
    assert move(2, "2031-05-15T10:00:00+00:00") == one
    assert mine(care.patient)[item["id"]]["due_at"] == "2031-05-17T18:00:00+00:00"
    assert care.therapist.delete(where).status_code == 204
    assert mine(care.patient)[item["id"]]["due_at"] == "2031-05-17T18:00:00+00:00"


def test_a_new_time_zone_moves_a_relative_due_date_to_the_same_wall_time(care):
    session = dosing(care, "2031-05-01T10:00:00+00:00")
    item = assign(
        care,
        {
            "kind": "homework",
            "homework_type": "plan_review",
            "due_session_id": session["id"],
            "due_days": 2,
            "due_time": "18:00",
        },
    )
    changed = patch(care.patient, "/api/v1/auth/me", json={"timezone": "America/New_York"})
    assert changed.status_code == 200, changed.json
    assert mine(care.patient)[item["id"]]["due_at"] == "2031-05-03T18:00:00-04:00"


def test_an_unlinked_therapist_gets_404_and_changes_nothing(care, make_therapist):
    item = assign(care, prompt())
    stranger = make_therapist()
    assert stranger.get(url(care.patient)).status_code == 404
    assert stranger.post(url(care.patient), json=prompt()).status_code == 404
    patched = patch(stranger, url(care.patient, item["id"]), json={"version": 1, "text": "x"})
    assert patched.status_code == 404
    assert stranger.delete(url(care.patient, item["id"])).status_code == 404
    assert mine(care.patient) == {item["id"]: item}


def _session_of_another_patient(make_therapist, make_patient, link) -> str:
    other, therapist = make_patient(), make_therapist()
    link(therapist, other)
    response = therapist.post(
        f"/api/v1/patients/{other.id}/sessions",
        json={"kind": "dosing", "starts_at": _in(5)},
    )
    return response.json["id"]


BAD = {
    "unknown instrument": ({**PLAN, "instrument": "bdi"}, "instrument"),
    "day out of range": (
        {**PLAN, "schedule": {**PLAN["schedule"], "days": [1, 29]}},
        "schedule",
    ),
    "a day twice": ({**PLAN, "schedule": {**PLAN["schedule"], "days": [1, 1]}}, "schedule"),
    "six days": (
        {**PLAN, "schedule": {**PLAN["schedule"], "days": [1, 2, 3, 4, 5, 6]}},
        "schedule",
    ),
    "no schedule type": ({**PLAN, "schedule": {"day": "monday", "time": "09:00"}}, "schedule"),
    "bad weekday": (
        {**PLAN, "schedule": {"type": "weekly", "day": "someday", "time": "09:00"}},
        "schedule",
    ),
    "bad time": (
        {**PLAN, "schedule": {"type": "weekly", "day": "monday", "time": "25:00"}},
        "schedule",
    ),
    "window 0": ({**PLAN, "window_hours": 0}, "window_hours"),
    "window over a week": ({**PLAN, "window_hours": 169}, "window_hours"),
    "plan without a window": (
        {k: v for k, v in PLAN.items() if k != "window_hours"},
        "window_hours",
    ),
    "plan with homework's words": ({**PLAN, "text": "hello"}, "text"),
    "prompt without text": ({**prompt(), "text": "   "}, "text"),
    "parts exercise without text": (
        {**prompt(), "homework_type": "parts_exercise", "text": ""},
        "text",
    ),
    "text too long": (prompt(text="x" * 2001), "text"),
    "homework with no due date": (
        {"kind": "homework", "homework_type": "plan_review"},
        "due_at",
    ),
    "days without a session": (
        {"kind": "homework", "homework_type": "plan_review", "due_days": 2, "due_time": "18:00"},
        "due_session_id",
    ),
    "homework with a plan's schedule": ({**prompt(), "schedule": PLAN["schedule"]}, "schedule"),
    "unknown field": ({**prompt(), "status": "done"}, "status"),
}


@pytest.mark.parametrize("case", BAD)
def test_bad_input_is_422_in_the_one_error_shape(care, case):
    body, field = BAD[case]
    response = care.therapist.post(url(care.patient), json=body)
    assert response.status_code == 422, response.json
    assert response.json["status"] == "Unprocessable Entity"
    assert field in response.json["errors"]["json"], response.json
    assert mine(care.patient) == {}


def test_a_due_time_and_a_session_at_once_is_422(care):
    session = dosing(care, _in(5))
    body = {**prompt(), "due_session_id": session["id"], "due_days": 1, "due_time": "09:00"}
    response = care.therapist.post(url(care.patient), json=body)
    assert response.status_code == 422
    assert "due_at" in response.json["errors"]["json"]


def test_a_session_of_another_patient_is_not_found_for_a_due_date(
    care, make_therapist, make_patient, link
):
    other_session = _session_of_another_patient(make_therapist, make_patient, link)
    body = {
        "kind": "homework",
        "homework_type": "plan_review",
        "due_session_id": other_session,
        "due_days": 1,
        "due_time": "09:00",
    }
    response = care.therapist.post(url(care.patient), json=body)
    assert response.status_code == 422
    assert response.json["errors"]["json"] == {"due_session_id": ["No such session."]}


def test_an_edit_needs_the_version_it_started_from(care):
    item = assign(care, prompt())
    edit = patch(
        care.therapist, url(care.patient, item["id"]), json={"version": 1, "text": "New words"}
    )
    assert edit.status_code == 200 and edit.json["version"] == 2
    stale = patch(
        care.therapist, url(care.patient, item["id"]), json={"version": 1, "text": "Older words"}
    )
    assert stale.status_code == 409
    assert stale.json["current"]["text"] == "New words"
    assert (
        patch(
            care.therapist, url(care.patient, item["id"]), json={"text": "no version"}
        ).status_code
        == 428
    )
    assert (
        patch(
            care.therapist, url(care.patient, item["id"]), json={"version": 2, "instrument": "gad7"}
        ).status_code
        == 422
    )


# -- the patient answers -----------------------------------------------------------------


def test_the_patient_pauses_a_plan_and_the_therapist_sees_the_pause(care):
    plan = assign(care, PLAN)
    paused = care.patient.post(f"/api/v1/assignments/{plan['id']}/pause", json={"paused": True})
    assert paused.status_code == 200, paused.json
    assert paused.json["paused_at"] is not None
    assert theirs(care)[plan["id"]]["paused_at"] == paused.json["paused_at"]
    resumed = care.patient.post(f"/api/v1/assignments/{plan['id']}/pause", json={"paused": False})
    assert resumed.json["paused_at"] is None
    assert theirs(care)[plan["id"]]["paused_at"] is None


def test_homework_is_done_with_my_own_entry_only(care, make_patient):
    item = assign(care, prompt())
    strangers_entry = entry(make_patient())
    refused = care.patient.post(
        f"/api/v1/assignments/{item['id']}/done", json={"entry_id": strangers_entry}
    )
    assert refused.status_code == 422
    assert refused.json["errors"]["json"] == {"entry_id": ["No such entry of yours."]}
    my_entry = entry(care.patient)
    done = care.patient.post(f"/api/v1/assignments/{item['id']}/done", json={"entry_id": my_entry})
    assert done.status_code == 200, done.json
    assert (done.json["status"], done.json["status_now"]) == ("done", "done")
    assert done.json["entry_id"] == my_entry
    assert theirs(care)[item["id"]]["status_now"] == "done"


def test_homework_done_after_its_due_time_is_late(care):
    item = assign(care, prompt(days=-1))
    assert mine(care.patient)[item["id"]]["status_now"] == "late"
    done = care.patient.post(f"/api/v1/assignments/{item['id']}/done", json={})
    assert (done.json["status"], done.json["status_now"]) == ("done", "late")


def test_the_patient_skips_with_a_reason_the_therapist_reads(care):
    item = assign(care, prompt())
    skipped = care.patient.post(
        f"/api/v1/assignments/{item['id']}/skip", json={"reason": "Too raw this week"}
    )
    assert skipped.status_code == 200, skipped.json
    seen = theirs(care)[item["id"]]
    assert (seen["status_now"], seen["skip_reason"]) == ("skipped", "Too raw this week")


def test_the_patient_snoozes_homework_to_a_time_still_to_come(care):
    item = assign(care, prompt())
    until = _in(0.5)
    snoozed = care.patient.post(f"/api/v1/assignments/{item['id']}/snooze", json={"until": until})
    assert snoozed.status_code == 200, snoozed.json
    assert datetime.fromisoformat(snoozed.json["snoozed_until"]) == datetime.fromisoformat(until)
    past = care.patient.post(f"/api/v1/assignments/{item['id']}/snooze", json={"until": _in(-1)})
    assert past.status_code == 422


def test_answers_fit_the_kind_and_only_my_own_assignments(care, make_patient):
    plan, homework = assign(care, PLAN), assign(care, prompt())
    patient = care.patient
    assert patient.post(f"/api/v1/assignments/{plan['id']}/done", json={}).status_code == 422
    wrong = patient.post(f"/api/v1/assignments/{homework['id']}/pause", json={"paused": True})
    assert wrong.status_code == 422
    stranger = make_patient()
    assert stranger.post(f"/api/v1/assignments/{homework['id']}/done", json={}).status_code == 404
    assert stranger.get("/api/v1/assignments").json == {"items": []}
    assert mine(patient)[homework["id"]]["status"] == "open"


# -- the care link and the account -------------------------------------------------------


def test_ending_the_care_link_hides_the_assignments_from_that_therapist(care):
    item = assign(care, prompt())
    assert care.patient.delete(f"/api/v1/care-team/{care.link_id}").status_code == 204
    assert care.therapist.get(url(care.patient)).status_code == 404
    patched = patch(care.therapist, url(care.patient, item["id"]), json={"version": 1, "text": "x"})
    assert patched.status_code == 404
    assert item["id"] in mine(care.patient)  # the patient keeps what was set


def test_a_deleted_account_takes_its_assignments_with_it(app, care):
    assign(care, PLAN)
    assign(care, prompt())
    response = care.patient.delete("/api/v1/me", json={"password": care.patient.password})
    assert response.status_code == 204, response.json
    with app.app_context():
        left = db.session.scalars(
            select(Assignment).where(Assignment.patient_id == uuid.UUID(care.patient.id))
        ).all()
    assert left == []


# -- through the sync protocol -----------------------------------------------------------


def op(obj_id, data=None, base_version=None, action="upsert") -> dict:
    return {
        "op_id": str(uuid.uuid4()),
        "type": "assignment",
        "id": str(obj_id),
        "base_version": base_version,
        "action": action,
        "data": data or {},
    }


def pulled(patient, since="0") -> dict:
    return {c["id"]: c for c in pull_all(patient, since)[0] if c["type"] == "assignment"}


def test_a_second_device_pulls_what_the_first_answered(care):
    item = assign(care, prompt())
    assert pulled(care.patient)[item["id"]]["data"]["status"] == "open"
    _, laptop = pull_all(care.patient)
    (answer,) = push(
        care.patient,
        [op(item["id"], {"status": "skipped", "skip_reason": "Not now"}, base_version=1)],
    )
    assert (answer["status"], answer["version"]) == ("applied", 2)
    change = pulled(care.patient, laptop)[item["id"]]
    assert change["version"] == 2
    assert (change["data"]["status_now"], change["data"]["skip_reason"]) == ("skipped", "Not now")


@pytest.mark.parametrize("entry_first", [True, False])
def test_homework_answered_by_an_entry_written_in_the_same_batch(care, entry_first):
    """The PWA writes the entry (prompt_id "assignment:<id>"), then pushes the
    assignment's answer naming it, usually in one batch; should the answer come first,
    it waits for the entry."""
    item = assign(care, prompt())
    entry_id = str(uuid.uuid4())
    entry_op = {
        **op(entry_id, {"body": "my answer", "prompt_id": f"assignment:{item['id']}"}),
        "type": "journal_entry",
    }
    answer = op(
        item["id"],
        {"status": "done", "entry_id": entry_id, "done_at": utcnow().isoformat()},
        base_version=1,
    )
    results = push(care.patient, [entry_op, answer] if entry_first else [answer, entry_op])
    assert [r["status"] for r in results] == ["applied", "applied"]
    seen = theirs(care)[item["id"]]
    assert (seen["status_now"], seen["entry_id"]) == ("done", entry_id)


def test_a_device_cannot_make_an_assignment_or_change_the_therapists_words(care):
    item = assign(care, prompt())
    plan = assign(care, PLAN)
    before = pulled(care.patient)
    results = push(
        care.patient,
        [
            op(uuid.uuid4(), {"status": "done"}),
            op(item["id"], {"text": "my own words"}, base_version=1),
            op(item["id"], {"due_at": _in(30)}, base_version=1),
            op(item["id"], {"paused_at": utcnow().isoformat()}, base_version=1),
            op(plan["id"], {"status": "done"}, base_version=1),
            op(item["id"], base_version=1, action="delete"),
            op(item["id"], {"entry_id": str(uuid.uuid4()), "status": "done"}, base_version=1),
        ],
    )
    assert [(r["status"], r["errors"]) for r in results] == [
        ("rejected", {"id": ["Set by your therapist."]}),
        ("rejected", {"data": {"text": ["Set by your therapist."]}}),
        ("rejected", {"data": {"due_at": ["Set by your therapist."]}}),
        ("rejected", {"data": {"paused_at": ["Not part of homework."]}}),
        ("rejected", {"data": {"status": ["Not part of a measurement plan."]}}),
        (
            "rejected",
            {"action": ["Your therapist takes assignments back; you can skip or pause them."]},
        ),
        ("rejected", {"data": {"entry_id": ["No such entry of yours."]}}),
    ]
    assert pulled(care.patient) == before


def test_a_stale_skip_never_undoes_done_and_its_reason_is_kept(care):
    """The phone marks it done; the laptop, not having pulled, skips it with a reason.
    Done stays, the reason is kept, and the laptop's next pull brings both."""
    item = assign(care, prompt())
    _, laptop = pull_all(care.patient)
    (phone,) = push(care.patient, [op(item["id"], {"status": "done"}, base_version=1)])
    assert (phone["status"], phone["version"]) == ("applied", 2)
    (late,) = push(
        care.patient,
        [op(item["id"], {"status": "skipped", "skip_reason": "Too tired"}, base_version=1)],
    )
    assert late["status"] == "conflict"
    back = pulled(care.patient, laptop)[item["id"]]["data"]
    assert (back["status"], back["skip_reason"]) == ("done", "Too tired")


def test_a_stale_done_wins_over_a_skip_and_both_reasons_stay(care):
    item = assign(care, prompt())
    push(
        care.patient,
        [op(item["id"], {"status": "skipped", "skip_reason": "First reason"}, base_version=1)],
    )
    (late,) = push(
        care.patient,
        [op(item["id"], {"status": "done", "skip_reason": "Second reason"}, base_version=1)],
    )
    assert (late["status"], late.get("behind")) == ("applied", True)
    data = pulled(care.patient)[item["id"]]["data"]
    assert data["status"] == "done"
    assert data["skip_reason"] == "First reason\n\nSecond reason"


def test_a_stale_reason_already_kept_leaves_the_kept_reasons_whole(care):
    """Two devices' reasons are kept together; a third, stale device sending one of them
    again (or words found inside them) loses neither."""
    item = assign(care, prompt())
    for reason in ("First reason", "Second reason", "Second reason", "reason"):
        stale = op(item["id"], {"status": "skipped", "skip_reason": reason}, base_version=1)
        push(care.patient, [stale])
    assert theirs(care)[item["id"]]["skip_reason"] == "First reason\n\nSecond reason"


def test_a_stale_pause_is_the_latest_choice(care):
    plan = assign(care, PLAN)
    now = utcnow().isoformat()
    push(care.patient, [op(plan["id"], {"paused_at": now}, base_version=1)])
    (resumed,) = push(care.patient, [op(plan["id"], {"paused_at": None}, base_version=1)])
    assert resumed["status"] == "applied"
    assert theirs(care)[plan["id"]]["paused_at"] is None


def test_an_answer_sent_again_answers_the_same_and_changes_nothing(care):
    item = assign(care, prompt())
    ops = [op(item["id"], {"status": "skipped", "skip_reason": "Busy"}, base_version=1)]
    first = push(care.patient, ops)
    after = pulled(care.patient)
    assert push(care.patient, ops) == first
    assert pulled(care.patient) == after


def test_a_therapists_delete_tombstones_on_the_devices(care):
    item = assign(care, prompt())
    _, device = pull_all(care.patient)
    assert care.therapist.delete(url(care.patient, item["id"])).status_code == 204
    tombstone = pulled(care.patient, device)[item["id"]]
    assert (tombstone["deleted"], tombstone["data"]) == (True, None)
    assert mine(care.patient) == {}
    # an answer from a device that had not heard keeps the tombstone
    (late,) = push(care.patient, [op(item["id"], {"status": "done"}, base_version=1)])
    assert late["status"] == "conflict"
    assert care.patient.post(f"/api/v1/assignments/{item['id']}/done", json={}).status_code == 404


# -- the one status rule -----------------------------------------------------------------

NOW = datetime(2031, 6, 1, 12, tzinfo=UTC)
HOUR = timedelta(hours=1)
STATUS_CASES = [
    # stored status, due, done_at, shown
    (HomeworkStatus.OPEN, NOW + HOUR, None, "open"),
    (HomeworkStatus.OPEN, NOW - HOUR, None, "late"),
    (HomeworkStatus.DONE, NOW + HOUR, NOW, "done"),
    (HomeworkStatus.DONE, NOW - HOUR, NOW, "late"),
    (HomeworkStatus.DONE, NOW, NOW, "done"),
    (HomeworkStatus.SKIPPED, NOW - HOUR, None, "skipped"),
]


@pytest.mark.parametrize("status, due, done_at, shown", STATUS_CASES)
def test_one_status_rule_in_python_and_sql(app, care, status, due, done_at, shown):
    """open, done (by its due time), late (done after it, or open past it), skipped: the
    same answer from the function and from its SQL twin the caseload counts with."""
    item = SimpleNamespace(kind=AssignmentKind.HOMEWORK, status=status, due_at=due, done_at=done_at)
    assert status_now(item, NOW) == shown
    made = assign(care, prompt())
    with app.app_context():
        row = db.session.get(Assignment, uuid.UUID(made["id"]))
        row.status, row.due_at, row.done_at = status, due, done_at
        db.session.commit()
        assert db.session.scalar(select(status_clause(NOW)).where(Assignment.id == row.id)) == (
            shown
        )


def test_the_therapists_words_and_the_skip_reason_are_ciphertext_at_rest(app, care):
    canary = "CANARY-" + uuid.uuid4().hex
    item = assign(care, prompt(text=canary))
    care.patient.post(f"/api/v1/assignments/{item['id']}/skip", json={"reason": canary})
    with app.app_context():
        raw = [type_coerce(c, Text) for c in (Assignment.text, Assignment.skip_reason)]
        stored = db.session.execute(
            select(*raw).where(Assignment.id == uuid.UUID(item["id"]))
        ).one()
    assert all(value.startswith("v1:") and canary not in value for value in stored)
    assert mine(care.patient)[item["id"]]["skip_reason"] == canary
