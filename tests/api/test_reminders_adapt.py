"""Reminders that adapt: one nudge never two, "Later" from the notification, a random
daily time, and reminders that follow the device's time zone.

Through the real worker and a faithful push service (tests/fake_push.py). Time is moved,
never waited for: the worker runs at chosen instants ahead of now, and where the API's
clock matters (a "Later" tapped, a zone changed) `service.utcnow` is set to an instant.
"""

from __future__ import annotations

import threading
import uuid
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from server import access
from server.auth.models import User
from server.db import utcnow
from server.extensions import db
from server.reminders import read, service
from server.reminders.models import ReminderOccurrence
from tests.api.test_reminders import (
    REMINDERS,
    deliveries,
    run_worker,
    sends,
    set_reminders,
    subscribe,
    when,
)
from tests.api.test_settings_me import patch_me

RECEIPTS = "/api/v1/push/receipts"
DAILY_ANSWERS = {
    "mood": 6,
    "anxiety": 3,
    "sleep_quality": 6,
    "sleep_hours": 7,
    "rumination": 2,
    "safety": False,
}


def occurrences(app) -> dict[str, datetime]:
    """Every occurrence made: slot → fire_at."""
    with app.app_context():
        rows = db.session.execute(select(ReminderOccurrence.slot, ReminderOccurrence.fire_at))
        found = dict(rows.all())
        db.session.remove()
    return found


def payloads(push, device) -> list[dict]:
    return [device.decrypt(got.body) for got in push.to(device)]


def answer_daily(patient, at: datetime) -> None:
    response = patient.post(
        "/api/v1/checkins",
        json={"instrument": "daily", "answers": DAILY_ANSWERS, "answered_at": at.isoformat()},
    )
    assert response.status_code == 201, response.json


@pytest.fixture
def evening(app, patient, push):
    """A patient in New York with a phone and a daily check-in at 20:00, quiet from 23:00;
    the instant of the next one."""
    device = push.device()
    subscribe(patient, device)
    saved = set_reminders(
        patient,
        timezone="America/New_York",
        daily_checkin={"enabled": True, "times": ["20:00"]},
        quiet_hours={"start": "23:00", "end": "07:00"},
    )
    return device, when(saved["next_due_at"])


# -- one nudge, never two ----------------------------------------------------------------


def test_an_unanswered_check_in_gets_one_nudge_halfway_through_its_window(app, evening, push):
    """The daily check-in is worth answering for two hours (FRESH_FOR): unanswered after
    one, it is nudged once, whatever the number of worker passes."""
    device, due = evening
    assert sends(app, due + timedelta(minutes=1)) == 1
    assert sends(app, due + timedelta(minutes=59)) == 0
    assert sends(app, due + timedelta(minutes=61)) == 1
    for minutes in (62, 90, 119, 180):
        assert sends(app, due + timedelta(minutes=minutes)) == 0
    ask, nudge = payloads(push, device)
    assert nudge["url"] == ask["url"] == "/#/checkin/daily"
    assert nudge["body"] == ask["body"] and nudge["id"] != ask["id"]
    assert nudge["actions"] == [{"action": "later", "title": "Later (1 h)"}]
    slots = sorted(occurrences(app))
    assert [s.rpartition(":")[2] for s in slots] == ["00", "nudge"]


def test_a_check_in_answered_in_time_is_not_nudged(app, patient, evening, push):
    device, due = evening
    assert sends(app, due + timedelta(minutes=1)) == 1
    answer_daily(patient, due + timedelta(minutes=20))
    assert sends(app, due + timedelta(minutes=61)) == 0
    assert len(push.to(device)) == 1
    nudge = next(d for d in deliveries(app) if d.next_attempt_at > due + timedelta(minutes=5))
    assert (nudge.status, nudge.error) == ("expired", "answered before it was due")


def test_an_answer_from_before_the_ask_does_not_count(app, patient, evening, push):
    device, due = evening
    answer_daily(patient, due - timedelta(hours=3))  # this morning's, not this evening's
    assert sends(app, due + timedelta(minutes=1)) == 1
    assert sends(app, due + timedelta(minutes=61)) == 1


def test_two_workers_at_once_send_the_nudge_once(app, evening, push):
    device, due = evening
    assert sends(app, due + timedelta(minutes=1)) == 1
    counts, start = [], threading.Barrier(2)

    def one_worker():
        start.wait()
        counts.append(sends(app, due + timedelta(minutes=61)))

    workers = [threading.Thread(target=one_worker) for _ in range(2)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(30)
    assert sorted(counts) == [0, 1]
    assert len(push.to(device)) == 2  # the ask and one nudge


@pytest.mark.parametrize(
    "daily, quiet, nudged_at",
    [
        ("20:00", ("23:00", "07:00"), "21:00"),  # before quiet hours: as it is
        ("21:30", ("22:00", "07:00"), None),  # 22:30 is quiet; 07:00 is past 23:30: dropped
        ("12:00", ("12:50", "13:20"), "13:20"),  # 13:00 is quiet: moved to its end
    ],
)
def test_quiet_hours_win_over_a_nudge(app, patient, push, daily, quiet, nudged_at):
    device = push.device()
    subscribe(patient, device)
    saved = set_reminders(
        patient,
        timezone="Europe/Berlin",
        daily_checkin={"enabled": True, "times": [daily]},
        quiet_hours={"start": quiet[0], "end": quiet[1]},
    )
    due = when(saved["next_due_at"])
    assert sends(app, due + timedelta(minutes=1)) == 1
    for minutes in range(30, 181, 30):
        run_worker(app, now=due + timedelta(minutes=minutes))
    nudges = [at for slot, at in occurrences(app).items() if slot.endswith(":nudge")]
    berlin = ZoneInfo("Europe/Berlin")
    assert [at.astimezone(berlin).strftime("%H:%M") for at in nudges] == (
        [nudged_at] if nudged_at else []
    )
    assert len(push.to(device)) == (2 if nudged_at else 1)


def test_a_weekly_questionnaire_is_nudged_after_six_hours(app, patient, push):
    device = push.device()
    subscribe(patient, device)
    saved = set_reminders(
        patient,
        timezone="Europe/Berlin",
        phq9={"enabled": True, "day": "saturday", "time": "10:00"},
        quiet_hours=None,
    )
    due = when(saved["next_due_at"])
    assert sends(app, due + timedelta(minutes=1)) == 1
    assert sends(app, due + timedelta(hours=5, minutes=59)) == 0
    assert sends(app, due + timedelta(hours=6, minutes=1)) == 1
    assert [p["url"] for p in payloads(push, device)] == ["/#/checkin/phq9"] * 2


def test_only_a_check_in_notification_offers_later(app, patient, push):
    device = push.device()
    subscribe(patient, device)
    assert patient.post("/api/v1/push/test").status_code == 200
    assert "actions" not in payloads(push, device)[0]


# -- Later -------------------------------------------------------------------------------


@pytest.fixture
def clock(monkeypatch):
    """The API's clock (reminders' service), set by the test."""
    now = [utcnow()]
    monkeypatch.setattr(service, "utcnow", lambda: now[0])
    return now


def later(actor, delivery_id):
    return actor.post(RECEIPTS, json={"delivery_id": delivery_id, "event": "later"})


def test_later_asks_again_an_hour_on_once_and_replaces_the_nudge(
    app, patient, evening, push, clock
):
    device, due = evening
    assert sends(app, due + timedelta(minutes=1)) == 1
    [ask] = payloads(push, device)
    clock[0] = due + timedelta(minutes=10)  # the patient taps "Later (1 h)"
    assert later(patient, ask["id"]).status_code == 204
    again = due + timedelta(minutes=70)
    ask_slot = f"daily_checkin:{due.astimezone(ZoneInfo('America/New_York')):%Y-%m-%dT%H:%M}"
    assert occurrences(app)[f"{ask_slot}:later"] == again
    # the nudge at 21:00 gives way to the re-send at 21:10
    assert sends(app, due + timedelta(minutes=61)) == 0
    assert sends(app, again - timedelta(minutes=1)) == 0
    assert sends(app, again + timedelta(minutes=1)) == 1
    resend = payloads(push, device)[1]
    assert resend["url"] == "/#/checkin/daily" and resend["actions"]
    # a second "Later", on either notification, asks nothing more
    clock[0] = again + timedelta(minutes=5)
    assert later(patient, resend["id"]).status_code == 204
    assert later(patient, ask["id"]).status_code == 204
    for hours in (1, 2, 3):
        assert sends(app, again + timedelta(hours=hours)) == 0
    assert len(push.to(device)) == 2
    [delivery] = [d for d in deliveries(app) if str(d.id) == ask["id"]]
    assert delivery.shown_at is not None  # it was shown, or it could not be put off


def test_later_after_the_nudge_asks_once_more(app, patient, evening, push, clock):
    device, due = evening
    assert sends(app, due + timedelta(minutes=1)) == 1
    assert sends(app, due + timedelta(minutes=61)) == 1
    nudge = payloads(push, device)[1]
    clock[0] = due + timedelta(minutes=65)
    assert later(patient, nudge["id"]).status_code == 204
    assert sends(app, due + timedelta(minutes=126)) == 1
    assert later(patient, payloads(push, device)[2]["id"]).status_code == 204
    assert sends(app, due + timedelta(minutes=190)) == 0
    assert len(push.to(device)) == 3


def test_a_check_in_answered_meanwhile_is_not_asked_again(app, patient, evening, push, clock):
    device, due = evening
    assert sends(app, due + timedelta(minutes=1)) == 1
    clock[0] = due + timedelta(minutes=5)
    assert later(patient, payloads(push, device)[0]["id"]).status_code == 204
    answer_daily(patient, due + timedelta(minutes=30))
    assert sends(app, due + timedelta(minutes=66)) == 0
    assert len(push.to(device)) == 1


def test_later_waits_for_the_end_of_quiet_hours(app, patient, evening, push, clock):
    device, due = evening
    assert sends(app, due + timedelta(minutes=1)) == 1
    ny = ZoneInfo("America/New_York")
    clock[0] = due + timedelta(hours=2, minutes=30)  # 22:30: an hour on is quiet (23:00)
    assert later(patient, payloads(push, device)[0]["id"]).status_code == 204
    [again] = [at for slot, at in occurrences(app).items() if slot.endswith(":later")]
    morning = datetime.combine(due.astimezone(ny).date() + timedelta(days=1), time(7, 0), ny)
    assert again == morning
    assert sends(app, morning - timedelta(minutes=1)) == 0
    assert sends(app, morning + timedelta(minutes=1)) == 1


def test_only_my_own_check_in_reminder_can_be_put_off(app, patient, make_patient, evening, push):
    device, due = evening
    assert sends(app, due + timedelta(minutes=1)) == 1
    ask = payloads(push, device)[0]
    assert later(make_patient(), ask["id"]).status_code == 404
    assert later(patient, str(uuid.uuid4())).status_code == 404
    assert patient.post("/api/v1/push/test").status_code == 200
    test_push = payloads(push, device)[1]
    refused = later(patient, test_push["id"])
    assert refused.status_code == 422 and "event" in refused.json["errors"]["json"]
    assert [s for s in occurrences(app) if s.endswith(":later")] == []


# -- a random time for the daily check-in ------------------------------------------------


def test_a_random_daily_time_is_sent_when_the_app_said(app, patient, push):
    device = push.device()
    subscribe(patient, device)
    saved = set_reminders(
        patient,
        timezone="Asia/Tokyo",
        daily_checkin={"enabled": True, "random": {"start": "10:00", "end": "12:30"}},
        quiet_hours=None,
    )
    assert saved["daily_checkin"]["random"] == {"start": "10:00", "end": "12:30"}
    due = when(saved["next_due_at"])
    local = due.astimezone(ZoneInfo("Asia/Tokyo")).time()
    assert time(10, 0) <= local < time(12, 30)
    assert patient.get(REMINDERS).json["next_due_at"] == saved["next_due_at"]  # not re-drawn
    assert sends(app, due - timedelta(minutes=1)) == 0
    assert sends(app, due + timedelta(minutes=1)) == 1
    assert due in occurrences(app).values()
    # the next day's time is drawn for that day, and shown as it will be sent
    upcoming = when(patient.get(REMINDERS).json["next_due_at"])
    assert (
        upcoming.astimezone(ZoneInfo("Asia/Tokyo")).date()
        > due.astimezone(ZoneInfo("Asia/Tokyo")).date()
    )
    # switched off again: the fixed times come back
    fixed = set_reminders(patient, daily_checkin={"random": None, "times": ["21:00"]})
    back = when(fixed["next_due_at"]).astimezone(ZoneInfo("Asia/Tokyo"))
    assert back.strftime("%H:%M") == "21:00"


@pytest.mark.parametrize(
    "window",
    [
        {"start": "12:00", "end": "09:00"},  # ends before it starts
        {"start": "23:00", "end": "01:00"},  # crosses midnight
        {"start": "09:00", "end": "09:20"},  # under 30 minutes
        {"start": "09:00", "end": "09:00"},
        {"start": "9:00", "end": "10:00"},
        {"start": "09:00"},
    ],
)
def test_a_random_window_must_be_one_stretch_of_a_day_of_half_an_hour(patient, window):
    response = patient.put(REMINDERS, json={"version": 0, "daily_checkin": {"random": window}})
    assert response.status_code == 422, response.json
    assert "daily_checkin" in response.json["errors"]["json"]


# -- the device's time zone --------------------------------------------------------------


def test_reminders_follow_the_device_until_a_zone_is_chosen_in_settings(patient):
    start = patient.get(REMINDERS).json
    assert start["follow_device"] is True
    # the app moves the schedule to the device's zone: still following it
    moved = set_reminders(patient, timezone="Europe/Madrid")
    assert moved["follow_device"] is True
    # the person chooses a zone in Settings: from now on it is theirs
    assert patch_me(patient, {"timezone": "America/Mexico_City"}).status_code == 200
    chosen = patient.get(REMINDERS).json
    assert (chosen["timezone"], chosen["follow_device"]) == ("America/Mexico_City", False)
    # and they can hand it back to the device
    assert set_reminders(patient, follow_device=True)["follow_device"] is True


def test_a_zone_chosen_before_any_reminder_is_kept(patient):
    assert patch_me(patient, {"timezone": "Asia/Tokyo"}).status_code == 200
    schedule = patient.get(REMINDERS).json
    assert (schedule["timezone"], schedule["follow_device"]) == ("Asia/Tokyo", False)
    assert schedule["version"] == 0  # nothing saved yet: the PWA's first save is version 0
    assert set_reminders(patient, daily_checkin={"enabled": True})["version"] == 1


@pytest.mark.parametrize("how", ["device", "settings"])
def test_a_move_from_madrid_to_mexico_city_sends_at_the_same_wall_time_there(
    app, patient, push, clock, how
):
    madrid, mexico = ZoneInfo("Europe/Madrid"), ZoneInfo("America/Mexico_City")
    day = (utcnow() + timedelta(days=2)).date()  # ahead: the worker's leases are real
    clock[0] = datetime.combine(day, time(9, 0), madrid)
    device = push.device()
    subscribe(patient, device)
    saved = set_reminders(
        patient, timezone="Europe/Madrid", daily_checkin={"enabled": True, "times": ["20:00"]}
    )
    assert when(saved["next_due_at"]) == datetime.combine(day, time(20, 0), madrid)

    clock[0] = datetime.combine(day, time(10, 0), madrid)  # lands in Mexico City: 03:00
    if how == "device":  # the app opens there and moves the schedule (follow_device)
        set_reminders(patient, timezone="America/Mexico_City")
    else:  # the person chooses the zone in Settings
        assert patch_me(patient, {"timezone": "America/Mexico_City"}).status_code == 200
    shown = when(patient.get(REMINDERS).json["next_due_at"])
    assert shown == datetime.combine(day, time(20, 0), mexico)
    # 20:00 in Madrid (13:00 in Mexico City) passes with nothing sent
    assert sends(app, datetime.combine(day, time(20, 1), madrid)) == 0
    assert sends(app, shown + timedelta(minutes=1)) == 1
    assert payloads(push, device)[0]["url"] == "/#/checkin/daily"
    with app.app_context():
        [fired] = db.session.scalars(
            select(ReminderOccurrence.fire_at).where(ReminderOccurrence.slot.not_like("%:nudge"))
        ).all()
        assert fired == shown
        db.session.remove()


def test_the_brief_counts_asks_not_nudges_or_re_sends(
    app, patient, therapist, link, evening, push, clock
):
    """One evening's check-in went three times (the ask, its nudge, a "Later"): the
    therapist's brief says one prompt was sent."""
    link(therapist, patient)
    device, due = evening
    assert sends(app, due + timedelta(minutes=1)) == 1
    assert sends(app, due + timedelta(minutes=61)) == 1
    clock[0] = due + timedelta(minutes=65)
    assert later(patient, payloads(push, device)[1]["id"]).status_code == 204
    assert sends(app, due + timedelta(minutes=126)) == 1
    with app.app_context():
        me = db.session.get(User, uuid.UUID(therapist.id))
        scope = access.shared_scope(me, uuid.UUID(patient.id))
        counted = read.follow_through(scope, due - timedelta(hours=1), due + timedelta(hours=3))
        db.session.remove()
    assert counted["prompts"]["sent"] == 1
    assert [(k["kind"], k["sent"]) for k in counted["by_kind"]] == [("daily_checkin", 1)]
