"""Features react to each other through server/events.py, and the reactions still happen.

Each test drives one feature through the public API and shows the other feature's
reaction as a person meets it: a push on a phone, a mail in a mailbox.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from blinker import Namespace

from server import events
from tests.api.test_reminders import REMINDERS, run_worker, set_reminders, subscribe
from tests.api.test_sync import push as sync_push
from tests.unit.test_scoring import answers_totalling


def early_afternoon(now: datetime) -> tuple[str, datetime]:
    """A fixed-offset zone where it is 13:xx now, and the local time there: a reminder
    a few minutes ahead falls on the same local day whenever the test runs."""
    hours_east = (13 - now.hour + 12) % 24 - 12
    zone = f"Etc/GMT{-hours_east:+d}"  # the tz database's signs are the other way round
    return zone, now.astimezone(timezone(timedelta(hours=hours_east)))


def hourly_worker_and_a_device(app, patient, push):
    """A worker that looks again only hourly, the patient's subscribed phone, now, an
    early-afternoon zone with its local time, and the local time five minutes ahead."""
    app.config["REMINDER_RECHECK_SECONDS"] = 3600
    device = push.device()
    subscribe(patient, device)
    now = datetime.now(UTC)
    zone, local_now = early_afternoon(now)
    return device, now, zone, local_now, (local_now + timedelta(minutes=5)).strftime("%H:%M")


def next_push_in_minutes(app, patient, push, device, kind: str, now: datetime) -> dict:
    """The reminder the patient sees as next is of this kind and due within minutes (not
    at the worker's hourly look), and one worker pass just after it sends exactly it."""
    shown = patient.get(REMINDERS).json
    assert shown["next_due_kind"] == kind
    due = datetime.fromisoformat(shown["next_due_at"])
    assert now < due < now + timedelta(minutes=6)
    assert run_worker(app, now=due + timedelta(minutes=1)).get("sent", 0) == 1
    [got] = push.to(device)
    return device.decrypt(got.body)


def test_a_new_review_cadence_brings_the_plan_review_reminder_on_time(app, patient, push):
    """The patient asks to be reminded to review their plan; until the plan has a review
    cadence there is nothing to remind, so the worker would next look in an hour
    (REMINDER_RECHECK_SECONDS). Saving the plan with a cadence wakes the schedule: the
    review reminder due in a few minutes arrives then, not an hour late."""
    device, now, zone, local_now, soon = hourly_worker_and_a_device(app, patient, push)
    set_reminders(
        patient, timezone=zone, plan_review={"enabled": True, "time": soon}, quiet_hours=None
    )
    assert patient.get(REMINDERS).json["next_due_at"] is None  # no cadence, nothing due

    plan = patient.get("/api/v1/plan").json
    saved = patient.put(
        "/api/v1/plan",
        json={
            "version": plan["version"],
            "review_every_days": 7,
            # reviewed a week and an hour ago: due an hour ago, reminded at `soon` today
            "last_reviewed_at": (now - timedelta(days=7, hours=1)).isoformat(),
        },
    )
    assert saved.status_code == 200, saved.json
    payload = next_push_in_minutes(app, patient, push, device, "plan_review", now)
    assert payload["type"] == "plan" and payload["body"] == "Time to look over your plan"


def test_a_dosing_session_set_by_the_therapist_brings_the_next_days_prompt_on_time(
    app, patient, therapist, link, push
):
    """The patient wants a journal prompt the day after a dosing session. The therapist
    puts yesterday's dosing on the timeline (it was not entered at the time): the
    schedule wakes, and today's prompt, due in a few minutes, arrives then, not at the
    worker's hourly look."""
    link(therapist, patient)
    device, now, zone, local_now, soon = hourly_worker_and_a_device(app, patient, push)
    set_reminders(
        patient,
        timezone=zone,
        post_dosing={"enabled": True, "days": [1], "time": soon},
        quiet_hours=None,
    )
    assert patient.get(REMINDERS).json["next_due_at"] is None  # no dosing, nothing due

    yesterday_morning = (local_now - timedelta(days=1)).replace(hour=9, minute=0)
    made = therapist.post(
        f"/api/v1/patients/{patient.id}/sessions",
        json={"kind": "dosing", "starts_at": yesterday_morning.isoformat()},
    )
    assert made.status_code == 201, made.json
    payload = next_push_in_minutes(app, patient, push, device, "post_dosing", now)
    assert payload["type"] == "journal" and payload["body"] == "A moment for your journal"


def test_one_risk_answer_reaches_the_therapist_by_push_and_by_mail(
    app, mailbox, patient, therapist, link, push
):
    """One dangerous answer, one worker pass: the linked therapist's phone shows "a
    check-in needs your review" and their mailbox holds the one generic mail."""
    app.config.update(SMTP_URL=mailbox.url, PUBLIC_URL="https://between.clinic.test")
    link(therapist, patient)
    phone = push.device()
    subscribe(therapist, phone)
    set_reminders(therapist, quiet_hours=None)

    answers = {**answers_totalling("phq9", 14, 9), "phq9_9": 2}
    response = patient.post(
        "/api/v1/checkins",
        json={
            "instrument": "phq9",
            "answers": answers,
            "answered_at": datetime.now(UTC).isoformat(),
        },
    )
    assert response.status_code == 201 and response.json["flags"], response.json

    totals = run_worker(app)
    assert (totals["sent"], totals["flag_mails"]) == (1, 1)
    [got] = push.to(phone)
    assert phone.decrypt(got.body)["body"] == "A check-in needs your review"
    (message,) = mailbox.wait_for(therapist.email)
    assert message["Subject"] == "A patient on your caseload needs attention"


def test_a_note_on_a_relation_ended_meanwhile_is_kept_in_my_journal_once(patient):
    """My phone edits a relation's note while my laptop ended that relation: the map
    keeps the relation ended (the phone gets the conflict), and my words are in my
    journal, whole and private. The same op sent again keeps them once."""
    parts = [
        patient.post("/api/v1/parts", json={"name": name}).json for name in ("Critic", "Little")
    ]
    made = patient.post(
        "/api/v1/parts/relations",
        json={"source_id": parts[0]["id"], "target_id": parts[1]["id"], "kind": "protects"},
    )
    assert made.status_code == 201, made.json
    relation = made.json
    ended = patient.delete(f"/api/v1/parts/relations/{relation['id']}?version=1")
    assert ended.status_code == 204

    words = "written on the phone, offline, " + "and long " * 100
    op = {
        "op_id": str(uuid.uuid4()),
        "type": "part_relation",
        "id": relation["id"],
        "base_version": 1,
        "action": "upsert",
        "data": {
            "source_id": parts[0]["id"],
            "target_id": parts[1]["id"],
            "kind": "protects",
            "note": words,
        },
    }
    assert [r["status"] for r in sync_push(patient, [op])] == ["conflict"]
    assert [r["status"] for r in sync_push(patient, [op])] == ["conflict"]  # a replay

    entries = patient.get("/api/v1/journal/entries").json["entries"]
    kept = [e for e in entries if e["title"].startswith("Kept from another device")]
    assert len(kept) == 1
    assert kept[0]["body"].endswith(words) and "'Critic protects Little'" in kept[0]["body"]
    assert kept[0]["shared"] is False


@pytest.mark.parametrize("name", ["America", "localtime", "Factory", "Europe/"])
def test_a_zone_that_is_not_a_place_is_an_unknown_time_zone_for_reminders(patient, name):
    """A directory of the tz database ("America"), the server's own zone ("localtime")
    or a placeholder is refused as sign-up refuses it, with the same words: not a 500,
    and not a schedule that fires by the server's clock."""
    version = patient.get(REMINDERS).json["version"]
    response = patient.put(REMINDERS, json={"version": version, "timezone": name})
    assert response.status_code == 422, response.json
    assert response.json["errors"]["json"]["timezone"] == ["Unknown time zone."]
    assert patient.get(REMINDERS).json["version"] == version


def test_a_reaction_nobody_receives_is_an_error_not_a_silence():
    """A signal sent with no receiver connected means a process skipped create_app's
    wiring: a risk answer would alert no one. That fails loudly."""
    unwired = Namespace().signal("unwired")
    with pytest.raises(RuntimeError, match="nothing receives 'unwired'"):
        events.send(unwired, "someone")

    def receiver(sender, **ids):
        return sender, ids

    unwired.connect(receiver)  # blinker holds it weakly: this test keeps it alive
    assert events.send(unwired, "someone", flag_id=1) == [("someone", {"flag_id": 1})]
