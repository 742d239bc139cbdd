"""A therapist's measurement plan asks through the real worker and a faithful push service.

"PHQ-9 1 and 7 days after each dosing session, 09:00, window 48 h": a dosing session on
the timeline brings the ask at 09:00 where the patient is, on both days, across a
daylight-saving change; paused or taken back, it asks nothing; each ask lands on the plan
for the patient's devices to pull; the brief counts asks on time, late, missed and open.
The clock is moved, never waited for: the worker runs at chosen instants ahead of now
(its leases are real), and the API's own clock is real.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from server import access
from server.assignments.models import Assignment
from server.auth.models import User
from server.extensions import db
from server.reminders import read
from server.reminders.models import PushDelivery, ReminderOccurrence
from tests.api.test_assignments import PLAN  # PHQ-9 on days 1 and 7, 09:00, 48 h
from tests.api.test_reminders import run_worker, sends, subscribe
from tests.factories import counting_statements
from tests.unit.test_scoring import answers_totalling

NY = ZoneInfo("America/New_York")


def next_change(month: int) -> date:
    """The next Sunday New York changes its clocks in `month` (March: spring forward,
    the second Sunday; November: fall back, the first), at least a month from now."""
    today = datetime.now(UTC).date() + timedelta(days=30)
    for year in (today.year, today.year + 1):
        first = date(year, month, 1)
        sunday = first + timedelta(days=(6 - first.weekday()) % 7)
        day = sunday + timedelta(days=7) if month == 3 else sunday
        if day > today:
            return day
    raise AssertionError("unreachable")


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=NY).astimezone(UTC)


@pytest.fixture
def ny_patient(make_patient, therapist, link, push):
    patient = make_patient(timezone="America/New_York")
    link(therapist, patient)
    device = push.device()
    subscribe(patient, device)
    return patient, device


def set_plan(therapist, patient, **changes) -> dict:
    made = therapist.post(f"/api/v1/patients/{patient.id}/assignments", json={**PLAN, **changes})
    assert made.status_code == 201, made.json
    return made.json


def dosing(therapist, patient, starts_at: datetime) -> dict:
    made = therapist.post(
        f"/api/v1/patients/{patient.id}/sessions",
        json={"kind": "dosing", "starts_at": starts_at.astimezone(NY).isoformat()},
    )
    assert made.status_code == 201, made.json
    return made.json


def answer_phq9(patient, when: datetime, total: int = 6) -> None:
    response = patient.post(
        "/api/v1/checkins",
        json={
            "instrument": "phq9",
            "answers": answers_totalling("phq9", total, 8) | {"phq9_9": 0},
            "answered_at": when.astimezone(NY).isoformat(),
        },
    )
    assert response.status_code == 201, response.json


def asks(app, patient) -> list[datetime]:
    with app.app_context():
        found = db.session.scalars(
            select(ReminderOccurrence.fire_at)
            .where(
                ReminderOccurrence.user_id == uuid.UUID(patient.id),
                ReminderOccurrence.kind == "measure",
                ReminderOccurrence.slot.not_like("%:nudge"),
            )
            .order_by(ReminderOccurrence.fire_at)
        ).all()
        db.session.remove()
    return found


@pytest.mark.parametrize("month", [3, 11], ids=["spring-forward", "fall-back"])
def test_a_dosing_session_brings_the_plan_at_nine_local_on_days_one_and_seven(
    app, ny_patient, therapist, push, month
):
    patient, device = ny_patient
    change = next_change(month)  # day 1 is the Sunday the clocks change
    plan = set_plan(therapist, patient)
    dosing(therapist, patient, at(change - timedelta(days=1), 10))
    day1, day7 = at(change, 9), at(change + timedelta(days=6), 9)
    # 09:00 on the Sunday the clocks change is not 24 hours after 09:00 the day before
    hours = (day1 - at(change - timedelta(days=1), 9)) / timedelta(hours=1)
    assert hours == (23 if month == 3 else 25)

    assert sends(app, day1 - timedelta(minutes=1)) == 0
    assert sends(app, day1 + timedelta(minutes=1)) == 1
    [got] = push.to(device)
    payload = device.decrypt(got.body)
    assert payload["type"] == "checkin" and payload["url"] == "/#/checkin/phq9"
    assert payload["body"] == "A check-in is waiting"
    # the words a lock screen shows name no questionnaire
    shown = (payload["body"] + repr(payload["actions"])).lower()
    assert not any(name in shown for name in ("phq", "gad", "depress", "anxi", "mood"))
    assert payload["actions"] == [{"action": "later", "title": "Later (1 h)"}]
    assert 47 * 3600 < int(got.headers["ttl"]) <= 48 * 3600  # the plan's window

    answer_phq9(patient, day1 + timedelta(hours=2))  # answered: no nudge tomorrow
    assert sends(app, day1 + timedelta(days=1, minutes=1)) == 0
    assert sends(app, day7 - timedelta(minutes=1)) == 0
    assert sends(app, day7 + timedelta(minutes=1)) == 1
    assert asks(app, patient) == [day1, day7]
    assert len(push.to(device)) == 2
    with app.app_context():
        row = db.session.get(Assignment, uuid.UUID(plan["id"]))
        assert (row.last_asked_at, row.window_ends_at) == (day7, day7 + timedelta(hours=48))
        db.session.remove()


def test_each_ask_lands_on_the_plan_for_the_patients_devices(app, ny_patient, therapist):
    patient, _device = ny_patient
    plan = set_plan(therapist, patient)
    day = next_change(3) + timedelta(days=14)
    dosing(therapist, patient, at(day - timedelta(days=1), 10))
    cursor = patient.get("/api/v1/sync/changes").json["cursor"]
    assert sends(app, at(day, 9, 1)) == 1
    pulled = patient.get("/api/v1/sync/changes", query_string={"since": cursor}).json
    [change] = [c for c in pulled["changes"] if c["type"] == "assignment"]
    assert change["id"] == plan["id"] and change["version"] == plan["version"]
    asked = datetime.fromisoformat(change["data"]["last_asked_at"])
    ends = datetime.fromisoformat(change["data"]["window_ends_at"])
    assert (asked, ends) == (at(day, 9), at(day, 9) + timedelta(hours=48))
    # the patient's own list shows it too, and a therapist's edit from the version they
    # read still applies: the worker's write is no new version
    [mine] = patient.get("/api/v1/assignments").json["items"]
    assert mine["window_ends_at"] == change["data"]["window_ends_at"]
    edited = therapist._open(
        "PATCH",
        f"/api/v1/patients/{patient.id}/assignments/{plan['id']}",
        json={"version": plan["version"], "window_hours": 24},
    )
    assert edited.status_code == 200, edited.json


def test_a_paused_plan_asks_nothing_and_resumed_asks_again(app, ny_patient, therapist, push):
    patient, device = ny_patient
    plan = set_plan(therapist, patient)
    day = next_change(3) + timedelta(days=21)
    dosing(therapist, patient, at(day - timedelta(days=1), 10))
    paused = patient.post(f"/api/v1/assignments/{plan['id']}/pause", json={"paused": True})
    assert paused.status_code == 200, paused.json
    assert patient.get("/api/v1/reminders").json["next_due_at"] is None
    assert sends(app, at(day, 9, 1)) == 0
    resumed = patient.post(f"/api/v1/assignments/{plan['id']}/pause", json={"paused": False})
    assert resumed.status_code == 200, resumed.json
    assert patient.get("/api/v1/reminders").json["next_due_kind"] == "measure"
    # what was held while paused is not sent late; the next ask is
    week = at(day + timedelta(days=6), 9)
    assert sends(app, week + timedelta(minutes=1)) == 1
    assert asks(app, patient) == [week]


def test_a_plan_paused_after_its_ask_is_not_nudged(app, ny_patient, therapist, push):
    patient, device = ny_patient
    plan = set_plan(therapist, patient)
    day = next_change(11) + timedelta(days=35)
    dosing(therapist, patient, at(day - timedelta(days=1), 10))
    assert sends(app, at(day, 9, 1)) == 1
    paused = patient.post(f"/api/v1/assignments/{plan['id']}/pause", json={"paused": True})
    assert paused.status_code == 200, paused.json
    assert sends(app, at(day + timedelta(days=1), 9, 1)) == 0
    assert len(push.to(device)) == 1


def test_an_unanswered_ask_is_nudged_once_half_way_through_the_plans_window(
    app, ny_patient, therapist, push
):
    patient, device = ny_patient
    set_plan(therapist, patient)
    day = next_change(11) + timedelta(days=42)
    dosing(therapist, patient, at(day - timedelta(days=1), 10))
    assert sends(app, at(day, 9, 1)) == 1
    assert sends(app, at(day, 8, 59) + timedelta(days=1)) == 0
    assert sends(app, at(day, 9, 1) + timedelta(days=1)) == 1
    assert sends(app, at(day, 10) + timedelta(days=1)) == 0
    ask, nudge = (device.decrypt(got.body) for got in push.to(device))
    assert nudge["url"] == ask["url"] == "/#/checkin/phq9" and nudge["body"] == ask["body"]


def test_a_plan_taken_back_asks_nothing(app, ny_patient, therapist, push):
    patient, device = ny_patient
    plan = set_plan(therapist, patient)
    day = next_change(3) + timedelta(days=28)
    dosing(therapist, patient, at(day - timedelta(days=1), 10))
    gone = therapist.delete(f"/api/v1/patients/{patient.id}/assignments/{plan['id']}")
    assert gone.status_code == 204
    assert sends(app, at(day, 9, 1)) == 0
    assert sends(app, at(day + timedelta(days=6), 9, 1)) == 0
    assert push.to(device) == [] and asks(app, patient) == []


def test_a_plan_asks_a_patient_who_never_set_reminders_and_has_no_device(
    app, make_patient, therapist, link
):
    """The ask is made whether or not a phone can be told: Today shows it from the plan."""
    patient = make_patient(timezone="America/New_York")
    link(therapist, patient)
    set_plan(therapist, patient)
    assert patient.get("/api/v1/reminders").json["version"] == 0  # never saved
    day = next_change(11) + timedelta(days=14)
    dosing(therapist, patient, at(day - timedelta(days=1), 10))
    assert patient.get("/api/v1/reminders").json["next_due_kind"] == "measure"
    run_worker(app, now=at(day, 9, 1))
    assert asks(app, patient) == [at(day, 9)]
    [mine] = patient.get("/api/v1/assignments").json["items"]
    assert datetime.fromisoformat(mine["last_asked_at"]) == at(day, 9)


# -- follow-through ----------------------------------------------------------------------


def follow_through(app, therapist, patient, start, end) -> list[dict]:
    with app.app_context():
        me = db.session.get(User, uuid.UUID(therapist.id))
        scope = access.shared_scope(me, uuid.UUID(patient.id))
        rows = read.measure_follow_through(scope, start, end)
        db.session.remove()
    return rows


def test_follow_through_counts_asks_on_time_late_missed_and_open(app, ny_patient, therapist):
    patient, _device = ny_patient
    schedule = {**PLAN["schedule"], "days": [1, 3, 5, 7]}  # every other day, 24 h each
    plan = set_plan(therapist, patient, schedule=schedule, window_hours=24)
    gad = set_plan(therapist, patient, instrument="gad7", window_hours=24)
    first = next_change(11) + timedelta(days=21)
    dosing(therapist, patient, at(first - timedelta(days=1), 10))
    days = [at(first + timedelta(days=n), 9) for n in (0, 2, 4, 6)]
    answer_phq9(patient, days[0] + timedelta(hours=20))  # in its 24 h: on time
    answer_phq9(patient, days[1] + timedelta(hours=30))  # after it, before the next: late
    # days[2] never answered: missed; days[3] still in its window at the end: open
    for day in days:
        run_worker(app, now=day + timedelta(minutes=1))
    end = days[3] + timedelta(hours=3)
    start = days[0] - timedelta(days=2)
    rows = follow_through(app, therapist, patient, start, end)
    assert rows == [
        {
            "assignment_id": uuid.UUID(plan["id"]),
            "instrument": "phq9",
            "asked": 4,
            "on_time": 1,
            "late": 1,
            "missed": 1,
            "open": 1,
        },
        {
            "assignment_id": uuid.UUID(gad["id"]),
            "instrument": "gad7",
            "asked": 2,  # days 1 and 7 (its own plan's days)
            "on_time": 0,
            "late": 0,
            "missed": 1,
            "open": 1,
        },
    ]
    # the window since the last session: asks before it are not counted
    later = follow_through(app, therapist, patient, days[2], end)
    assert [(r["asked"], r["missed"], r["open"]) for r in later] == [(2, 1, 1), (1, 0, 1)]
    # once the open ask's window ends unanswered, it is missed
    closed = follow_through(app, therapist, patient, start, days[3] + timedelta(hours=25))
    assert (closed[0]["open"], closed[0]["missed"]) == (0, 2)


def test_follow_through_costs_the_same_statements_for_any_number_of_asks(
    app, ny_patient, therapist
):
    patient, _device = ny_patient
    set_plan(therapist, patient, schedule={**PLAN["schedule"], "days": [1, 2, 3, 4, 5]})
    first = next_change(3) + timedelta(days=35)
    dosing(therapist, patient, at(first - timedelta(days=1), 10))
    costs = []
    for n in (1, 5):
        for day in range(n):
            run_worker(app, now=at(first + timedelta(days=day), 9, 1))
        with app.app_context():
            me = db.session.get(User, uuid.UUID(therapist.id))
            scope = access.shared_scope(me, uuid.UUID(patient.id))
            with counting_statements(app) as counted:
                [row] = read.measure_follow_through(
                    scope, at(first - timedelta(days=2), 0), at(first + timedelta(days=5), 9)
                )
            costs.append(counted["n"])
            db.session.remove()
        assert row["asked"] == n
    assert costs[0] == costs[1] <= 3


def test_no_delivery_of_a_plan_goes_to_a_device_of_someone_else(
    app, ny_patient, make_patient, therapist, link, push
):
    patient, device = ny_patient
    other = make_patient(timezone="America/New_York")
    link(therapist, other)
    elsewhere = push.device()
    subscribe(other, elsewhere)
    set_plan(therapist, patient)
    day = next_change(11) + timedelta(days=28)
    dosing(therapist, patient, at(day - timedelta(days=1), 10))
    assert sends(app, at(day, 9, 1)) == 1
    assert len(push.to(device)) == 1 and push.to(elsewhere) == []
    with app.app_context():
        users = set(db.session.scalars(select(PushDelivery.user_id)))
        assert users == {uuid.UUID(patient.id)}
        db.session.remove()
