"""Push reminders: schedules, devices, and what reaches a push service.

Every push goes to a faithful fake push service on loopback (tests/fake_push.py): the
test decrypts the body with the device's own keys and verifies the VAPID signature,
as a real push service and phone would.
"""

import base64
import logging
import time
import uuid
from datetime import datetime, timedelta
from datetime import time as dtime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from server.db import utcnow
from server.extensions import db
from server.reminders import service, worker
from server.reminders.models import (
    PushDelivery,
    PushSubscription,
    ReminderOccurrence,
    ReminderSchedule,
)
from server.reminders.sender import Outcome
from tests.fake_push import HANG
from tests.unit.test_scoring import answers_totalling

REMINDERS = "/api/v1/reminders"
SUBSCRIPTIONS = "/api/v1/push/subscriptions"


def run_worker(app, now=None):
    with app.app_context():
        sender = worker.build_sender(app.config)
        try:
            return worker.run_pass(sender, now=now)
        finally:
            sender.close()
            db.session.remove()


def sends(app, now) -> int:
    """How many pushes one worker pass at `now` sent."""
    return run_worker(app, now=now).get("sent", 0)


def subscribe(actor, device):
    response = actor.post(SUBSCRIPTIONS, json=device.subscription())
    assert response.status_code in (200, 201), response.json
    return response.json


def deliveries(app):
    with app.app_context():
        rows = db.session.scalars(select(PushDelivery).order_by(PushDelivery.created_at)).all()
        db.session.expunge_all()
        return rows


def set_reminders(actor, **settings):
    version = actor.get(REMINDERS).json["version"]
    response = actor.put(REMINDERS, json={"version": version, **settings})
    assert response.status_code == 200, response.json
    return response.json


def when(text: str) -> datetime:
    return datetime.fromisoformat(text)


# -- keys and devices --------------------------------------------------------------------


def test_vapid_public_key_is_the_point_subscribe_expects(client, app):
    response = client.get("/api/v1/push/vapid-public-key")
    assert response.status_code == 200
    key = response.json["public_key"]
    raw = base64.urlsafe_b64decode(key + "=" * (-len(key) % 4))
    assert len(raw) == 65 and raw[0] == 4  # uncompressed P-256 point
    assert "=" not in key


def test_a_device_is_kept_once_per_endpoint_and_is_mine_alone(patient, make_patient, push):
    device = push.device()
    first = patient.post(SUBSCRIPTIONS, json=device.subscription())
    assert first.status_code == 201
    # the PWA sends it again on every launch: the same row, updated
    again = patient.post(
        SUBSCRIPTIONS, json={**device.subscription("Phone 2"), "expirationTime": None}
    )
    assert again.status_code == 200 and again.json["id"] == first.json["id"]
    listed = patient.get(SUBSCRIPTIONS).json
    assert [(d["id"], d["user_agent"]) for d in listed] == [(first.json["id"], "Phone 2")]

    other = make_patient()
    assert other.get(SUBSCRIPTIONS).json == []
    assert other.delete(SUBSCRIPTIONS, json={"endpoint": device.endpoint}).status_code == 404
    assert patient.delete(SUBSCRIPTIONS, json={"endpoint": device.endpoint}).status_code == 204
    assert patient.get(SUBSCRIPTIONS).json == []


def test_a_device_signed_in_to_another_account_moves_to_it_afresh(patient, make_patient, push):
    device = push.device()
    mine = subscribe(patient, device)
    other = make_patient()
    theirs = other.post(SUBSCRIPTIONS, json=device.subscription())
    assert theirs.status_code == 201 and theirs.json["id"] != mine["id"]
    assert patient.get(SUBSCRIPTIONS).json == []
    assert [d["id"] for d in other.get(SUBSCRIPTIONS).json] == [theirs.json["id"]]


@pytest.mark.parametrize(
    "change, where",
    [
        ({"endpoint": "ftp://127.0.0.1/push/x"}, "endpoint"),
        ({"endpoint": "http://push.example.com/x"}, "endpoint"),  # http off loopback
        ({"endpoint": "https://evil.example.com/x"}, "endpoint"),  # not a push service
        ({"endpoint": "https://user:pw@fcm.googleapis.com/fcm/send/x"}, "endpoint"),
        ({"keys": {"p256dh": "AAAA", "auth": "AAAAAAAAAAAAAAAAAAAAAA"}}, "keys"),
        ({"keys": {"p256dh": "B" * 87, "auth": "short"}}, "keys"),
        ({"keys": {"auth": "AAAAAAAAAAAAAAAAAAAAAA"}}, "keys"),
        ({"owner": "someone"}, "owner"),
    ],
)
def test_bad_subscriptions_are_422(patient, push, change, where):
    body = {**push.device().subscription(), **change}
    response = patient.post(SUBSCRIPTIONS, json=body)
    assert response.status_code == 422, response.json
    assert where in response.json["errors"]["json"]
    assert patient.get(SUBSCRIPTIONS).json == []


def test_a_real_push_service_endpoint_is_accepted(patient, push):
    body = {**push.device().subscription(), "endpoint": "https://fcm.googleapis.com/fcm/send/abc"}
    assert patient.post(SUBSCRIPTIONS, json=body).status_code == 201


@pytest.mark.app_config(PUSH_ALLOW_LOOPBACK=False)
def test_without_the_development_allowance_loopback_is_refused(patient, push):
    response = patient.post(SUBSCRIPTIONS, json=push.device().subscription())
    assert response.status_code == 422


def test_anonymous_gets_401(client):
    assert client.get(REMINDERS).status_code == 401
    assert client.get(SUBSCRIPTIONS).status_code == 401
    assert client.post("/api/v1/push/test").status_code == 401


# -- schedules ---------------------------------------------------------------------------


def test_schedule_starts_suggested_and_off_and_saves_with_its_version(patient):
    start = patient.get(REMINDERS).json
    assert start["version"] == 0 and start["next_due_at"] is None
    assert start["daily_checkin"]["enabled"] is False
    assert "flag_alerts" not in start
    assert patient.put(REMINDERS, json={"daily_checkin": {"enabled": True}}).status_code == 428

    saved = set_reminders(
        patient,
        timezone="Europe/Berlin",
        daily_checkin={"enabled": True, "times": ["08:00", "20:30"]},
        post_dosing={"enabled": True},
        quiet_hours={"start": "22:00", "end": "07:00"},
    )
    assert saved["version"] == 1 and saved["timezone"] == "Europe/Berlin"
    assert saved["post_dosing"] == {"enabled": True, "days": [1, 3, 7], "time": "18:00"}
    assert saved["next_due_kind"] == "daily_checkin"
    local = when(saved["next_due_at"]).astimezone(ZoneInfo("Europe/Berlin"))
    assert local.strftime("%H:%M") in {"08:00", "20:30"}

    stale = patient.put(REMINDERS, json={"version": 0, "paused_until": "2030-01-01"})
    assert stale.status_code == 409 and stale.json["current"]["version"] == 1


@pytest.mark.parametrize(
    "body, where",
    [
        ({"daily_checkin": {"times": ["25:00"]}}, "daily_checkin"),
        ({"daily_checkin": {"times": []}}, "daily_checkin"),
        ({"daily_checkin": {"times": ["09:00", "09:00"]}}, "daily_checkin"),
        ({"phq9": {"day": "funday"}}, "phq9"),
        ({"post_dosing": {"days": [1.5]}}, "post_dosing"),
        ({"post_dosing": {"days": [0]}}, "post_dosing"),
        ({"quiet_hours": {"start": "22:00", "end": "22:00"}}, "quiet_hours"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"flag_alerts": {"enabled": True}}, "flag_alerts"),  # therapists' only
        ({"version": "1"}, "version"),
        ({"next_due_at": "2030-01-01T00:00:00Z"}, "next_due_at"),
    ],
)
def test_bad_schedules_are_422(patient, body, where):
    response = patient.put(REMINDERS, json={"version": 0, **body})
    assert response.status_code == 422, response.json
    assert where in response.json["errors"]["json"]


def test_a_therapist_sets_flag_alerts_not_check_in_prompts(therapist):
    start = therapist.get(REMINDERS).json
    assert start["flag_alerts"] == {"enabled": True} and "daily_checkin" not in start
    bad = therapist.put(REMINDERS, json={"version": 0, "daily_checkin": {"enabled": True}})
    assert bad.status_code == 422
    assert set_reminders(therapist, flag_alerts={"enabled": False})["flag_alerts"] == {
        "enabled": False
    }


def test_pause_and_quiet_hours_show_in_the_next_due_time(patient):
    zone = ZoneInfo("America/New_York")
    saved = set_reminders(
        patient,
        timezone="America/New_York",
        daily_checkin={"enabled": True, "times": ["06:00"]},
        quiet_hours={"start": "22:00", "end": "07:30"},
    )
    assert when(saved["next_due_at"]).astimezone(zone).strftime("%H:%M") == "07:30"
    pause = (utcnow() + timedelta(days=10)).date().isoformat()
    paused = set_reminders(patient, paused_until=pause)
    assert paused["paused_until"] == pause
    assert when(paused["next_due_at"]).astimezone(zone).date().isoformat() == pause


def test_after_a_move_west_the_next_reminder_shown_is_the_one_sent(app, patient, push, monkeypatch):
    """20:00 went in Berlin; at 20:30 there the patient lands in New York (14:30). That
    local day's 20:00 went already: the app shows tomorrow's 20:00, and that is what the
    worker sends; nothing is shown that never comes."""
    day = (utcnow() + timedelta(days=2)).date()  # ahead: the worker's leases are real
    clock = [datetime.combine(day, dtime(12, 0), ZoneInfo("Europe/Berlin"))]
    monkeypatch.setattr(service, "utcnow", lambda: clock[0])
    device = push.device()
    subscribe(patient, device)
    berlin = set_reminders(
        patient, timezone="Europe/Berlin", daily_checkin={"enabled": True, "times": ["20:00"]}
    )
    first = when(berlin["next_due_at"])
    assert run_worker(app, now=first + timedelta(minutes=1))["sent"] == 1

    clock[0] = first + timedelta(minutes=30)
    moved = set_reminders(patient, timezone="America/New_York")
    shown = when(moved["next_due_at"])
    assert patient.get(REMINDERS).json["next_due_at"] == moved["next_due_at"]
    with app.app_context():  # the worker wakes for that one, not for the spent slot
        schedule = db.session.scalar(select(ReminderSchedule))
        # (first for the nudge of the 20:00 that went, unanswered, an hour after it)
        nudge = first + timedelta(hours=1)
        assert (schedule.next_due_at, schedule.wake_at) == (shown, nudge)
        db.session.remove()

    ny = ZoneInfo("America/New_York")
    # that evening in New York the spent 20:00 comes round: nothing goes, as shown
    evening = datetime.combine(day, dtime(20, 1), ny)
    assert run_worker(app, now=evening).get("sent", 0) == 0
    # what was shown is sent, once: tomorrow's 20:00 there
    assert run_worker(app, now=shown + timedelta(minutes=1)).get("sent", 0) == 1
    assert shown == datetime.combine(day + timedelta(days=1), dtime(20, 0), ny)
    assert len(push.to(device)) == 2
    with app.app_context():
        fired = db.session.scalars(
            select(ReminderOccurrence.fire_at).order_by(ReminderOccurrence.fire_at)
        ).all()
        assert fired == [first, shown]
        db.session.remove()


# -- sending -----------------------------------------------------------------------------


def test_a_reminder_reaches_the_device_as_a_push_service_expects(app, patient, push):
    device = push.device()
    subscribe(patient, device)
    saved = set_reminders(patient, daily_checkin={"enabled": True, "times": ["09:00"]})
    due = when(saved["next_due_at"])

    assert run_worker(app, now=due - timedelta(minutes=1)).get("sent", 0) == 0
    assert run_worker(app, now=due + timedelta(minutes=1))["sent"] == 1
    assert run_worker(app, now=due + timedelta(minutes=2)).get("sent", 0) == 0  # once

    [got] = push.to(device)
    payload = device.decrypt(got.body)
    [delivery] = deliveries(app)
    assert payload == {
        "type": "checkin",
        "id": str(delivery.id),
        "url": "/#/checkin/daily",
        "body": "Time for your check-in",
        "actions": [{"action": "later", "title": "Later (1 h)"}],
    }
    claims = got.vapid_claims()
    assert claims["aud"] == push.url
    assert claims["sub"].startswith("mailto:")
    assert time.time() < claims["exp"] <= time.time() + 24 * 3600
    headers = got.headers
    assert headers["content-encoding"] == "aes128gcm"
    assert headers["content-type"] == "application/octet-stream"
    assert 0 < int(headers["ttl"]) <= 2 * 3600
    assert headers["urgency"] == "normal"
    assert (
        1 <= len(headers["topic"]) <= 32
        and headers["topic"].replace("-", "").replace("_", "").isalnum()
    )
    assert delivery.status == "sent" and delivery.sent_at is not None


def test_after_downtime_a_stale_reminder_is_skipped_not_sent(app, patient, push):
    subscribe(patient, push.device())
    saved = set_reminders(patient, daily_checkin={"enabled": True, "times": ["09:00", "21:00"]})
    due = when(saved["next_due_at"])
    # the worker was down for three days: of six missed reminders, only the latest
    # fresh one goes
    counts = run_worker(app, now=due + timedelta(days=3, minutes=5))
    assert counts["sent"] == 1
    assert push.count == 1
    with app.app_context():
        occurrences = db.session.scalars(select(ReminderOccurrence)).all()
        assert sum(not o.skipped for o in occurrences) == 1
        # the stale ones of the last two days are kept as skipped; older ones not at all
        assert sum(o.skipped for o in occurrences) >= 3


@pytest.mark.app_config(PUSH_MAX_ATTEMPTS=2)
def test_each_push_service_answer_is_handled_as_it_means(app, patient, push):
    devices = {
        name: push.device(name) for name in ("ok", "gone404", "gone410", "busy", "down", "bad")
    }
    for device in devices.values():
        subscribe(patient, device)
    push.answer(201, endpoint=devices["ok"].endpoint)
    push.answer(404, endpoint=devices["gone404"].endpoint)
    push.answer(410, endpoint=devices["gone410"].endpoint)
    push.answer((429, {"Retry-After": "120"}), endpoint=devices["busy"].endpoint)
    push.answer(503, 502, endpoint=devices["down"].endpoint)
    push.answer(413, endpoint=devices["bad"].endpoint)

    logged = []
    handler = logging.Handler(logging.ERROR)
    handler.emit = lambda record: logged.append(record.getMessage())
    logging.getLogger("between.push").addHandler(handler)  # whatever the app's log config
    try:
        result = patient.post("/api/v1/push/test").json
    finally:
        logging.getLogger("between.push").removeHandler(handler)
    assert result == {"devices": 6, "sent": 1, "failed": 3, "gone": 2}
    assert any("refused our request with 413" in line for line in logged)

    by_endpoint = {}
    with app.app_context():
        endpoints = dict(
            db.session.execute(select(PushSubscription.id, PushSubscription.endpoint)).all()
        )
    for d in deliveries(app):
        by_endpoint[endpoints.get(d.subscription_id, "gone")] = by_endpoint.get(
            endpoints.get(d.subscription_id, "gone"), []
        ) + [d]
    # 404 and 410 remove that device only
    assert set(endpoints.values()) == {devices[n].endpoint for n in ("ok", "busy", "down", "bad")}
    assert [d.status for d in by_endpoint["gone"]] == ["gone", "gone"]
    ok = by_endpoint[devices["ok"].endpoint][0]
    assert ok.status == "sent"
    busy = by_endpoint[devices["busy"].endpoint][0]
    assert busy.status == "pending" and busy.status_code == 429
    wait = (busy.next_attempt_at - utcnow()).total_seconds()
    assert 100 < wait <= 120  # Retry-After honoured
    down = by_endpoint[devices["down"].endpoint][0]
    assert down.status == "pending" and down.status_code == 503 and down.next_attempt_at > utcnow()
    bad = by_endpoint[devices["bad"].endpoint][0]
    assert bad.status == "failed" and bad.status_code == 413  # our fault: not retried

    # later: the 5xx device is retried with backoff, fails again, and is given up on
    assert run_worker(app, now=utcnow() + timedelta(minutes=5))["failed"] == 1
    states = {d.id: d.status for d in deliveries(app)}
    assert states[down.id] == "failed" and states[bad.id] == "failed"
    assert states[busy.id] == "sent"  # the 429 device, after its wait
    assert len(push.to(devices["bad"])) == 1 and len(push.to(devices["down"])) == 2


def test_backoff_grows_with_jitter_and_a_cap():
    import random

    rng = random.Random(1)
    waits = [worker.backoff(n, 30, 1800, rng) for n in (1, 2, 3, 10)]
    assert 15 <= waits[0] <= 30 and 30 <= waits[1] <= 60 and 60 <= waits[2] <= 120
    assert 900 <= waits[3] <= 1800


@pytest.mark.app_config(PUSH_TIMEOUT=0.5)
def test_a_hung_push_service_is_cut_off_by_the_timeout(app, patient, push):
    device = push.device()
    subscribe(patient, device)
    push.answer(HANG, endpoint=device.endpoint)
    started = time.monotonic()
    result = patient.post("/api/v1/push/test").json
    assert time.monotonic() - started < 5
    assert result["sent"] == 0 and result["failed"] == 1
    [delivery] = deliveries(app)
    assert delivery.status == "pending" and delivery.error == "timed out"


def test_a_worker_whose_lease_ran_out_changes_nothing(app, patient, push):
    subscribe(patient, push.device())
    patient_id = uuid.UUID(patient.id)
    with app.app_context():
        from server.auth.models import User
        from server.reminders import service

        service.create_test_push(db.session.get(User, patient_id))
        db.session.commit()
        now = utcnow()
        zombie = worker.claim(now, 10, lease_seconds=30)
        assert len(zombie) == 1
        # its lease runs out; the reaper returns the row and another worker takes it
        later = now + timedelta(seconds=31)
        assert worker.reap(later) == (1, 0)
        fresh = worker.claim(later, 10, lease_seconds=30)
        assert len(fresh) == 1 and fresh.token != zombie.token
        key = fresh.messages[0].key
        # the zombie wakes and reports a send: nothing changes
        counts = worker.complete(zombie, [Outcome(key, "sent", 201)], now=later)
        assert counts["sent"] == 0 and counts["fenced_out"] == 1
        assert db.session.get(PushDelivery, key).lease_token == fresh.token
        # nor may a worker complete after its own lease ran out, reaped or not
        late = worker.complete(fresh, [Outcome(key, "sent", 201)], now=later + timedelta(minutes=1))
        assert late["sent"] == 0
        assert worker.complete(fresh, [Outcome(key, "sent", 201)], now=later)["sent"] == 1
        db.session.remove()


# -- receipts, test push, flag alerts, brief ---------------------------------------------


def test_receipts_record_what_my_device_did(app, patient, make_patient, push):
    device = push.device()
    subscribe(patient, device)
    assert patient.post("/api/v1/push/test").json["sent"] == 1
    delivery_id = device.decrypt(push.to(device)[0].body)["id"]

    other = make_patient()
    receipt = {"delivery_id": delivery_id, "event": "opened"}
    assert other.post("/api/v1/push/receipts", json=receipt).status_code == 404
    bad = patient.post("/api/v1/push/receipts", json={**receipt, "event": "read"})
    assert bad.status_code == 422
    assert patient.post("/api/v1/push/receipts", json=receipt).status_code == 204
    assert patient.post("/api/v1/push/receipts", json=receipt).status_code == 204  # once
    [delivery] = deliveries(app)
    assert delivery.opened_at is not None and delivery.shown_at is not None
    assert delivery.status == "sent"


def test_a_test_push_needs_a_device(patient):
    assert patient.post("/api/v1/push/test").status_code == 409


def test_a_new_flag_tells_linked_therapists_devices_without_name_or_score(
    app, patient, therapist, make_therapist, link, push
):
    link(therapist, patient)
    unlinked = make_therapist()
    phone, laptop, stranger = push.device(), push.device(), push.device()
    subscribe(therapist, phone)
    subscribe(therapist, laptop)
    subscribe(unlinked, stranger)
    # the therapist's quiet hours are off for this test
    set_reminders(therapist, quiet_hours=None)

    answers = {**answers_totalling("phq9", 14, 9), "phq9_9": 2}
    response = patient.post(
        "/api/v1/checkins",
        json={"instrument": "phq9", "answers": answers, "answered_at": utcnow().isoformat()},
    )
    assert response.status_code == 201 and response.json["flags"]
    assert run_worker(app)["sent"] == 2
    assert push.to(stranger) == []
    for device in (phone, laptop):
        [got] = push.to(device)
        payload = device.decrypt(got.body)
        assert payload["type"] == "flag" and payload["body"] == "A check-in needs your review"
        # a type, an id, a link and generic words: nothing else
        flag_id = response.json["flags"][0]["id"]
        assert set(payload) == {"type", "id", "url", "body"}
        assert payload["url"] == f"/#/flags/{flag_id}"  # an opaque id opens the inbox at it
        assert patient.id not in repr(payload) and "Patient" not in repr(payload)
        assert got.headers["urgency"] == "high"


def test_brief_shows_prompts_sent_opened_and_answered(app, patient, therapist, link, push):
    link(therapist, patient)
    device = push.device()
    subscribe(patient, device)
    half_an_hour_ago = utcnow() - timedelta(minutes=30)
    set_reminders(
        patient,
        timezone="UTC",
        daily_checkin={"enabled": True, "times": [half_an_hour_ago.strftime("%H:%M")]},
        quiet_hours=None,
    )
    with app.app_context():  # as if the schedule had been saved an hour ago
        from server.reminders.models import ReminderSchedule

        row = db.session.scalar(select(ReminderSchedule))
        row.materialised_until = utcnow() - timedelta(hours=1)
        row.wake_at = utcnow()
        db.session.commit()
        db.session.remove()
    assert run_worker(app)["sent"] == 1
    delivery_id = device.decrypt(push.to(device)[0].body)["id"]
    patient.post("/api/v1/push/receipts", json={"delivery_id": delivery_id, "event": "opened"})
    answered = patient.post(
        "/api/v1/checkins",
        json={
            "instrument": "daily",
            "answers": {
                "mood": 6,
                "anxiety": 3,
                "sleep_quality": 6,
                "sleep_hours": 7,
                "rumination": 2,
                "safety": False,
            },
            "answered_at": utcnow().isoformat(),
        },
    )
    assert answered.status_code == 201, answered.json
    since = (utcnow() - timedelta(days=1)).isoformat()
    brief = therapist.get(f"/api/v1/patients/{patient.id}/brief", query_string={"since": since})
    assert brief.status_code == 200, brief.json
    reminders = brief.json["reminders"]
    assert reminders["devices"] == 1
    assert reminders["prompts"] == {
        "sent": 1,
        "shown": 1,
        "opened": 1,
        "skipped": 0,
        "answered": 1,
    }
    assert reminders["by_kind"][0]["kind"] == "daily_checkin"


def test_push_keys_prints_the_public_key_and_rotation_says_what_to_set(app, monkeypatch):
    runner = app.test_cli_runner()
    shown = runner.invoke(args=["push", "keys"])
    assert shown.exit_code == 0, shown.output
    public = app.test_client().get("/api/v1/push/vapid-public-key").json["public_key"]
    assert f"public key: {public}" in shown.output
    # keys from the environment are the operator's: rotation prints, never writes
    monkeypatch.setenv("VAPID_PRIVATE_KEY", app.config["VAPID_PRIVATE_KEY"])
    rotated = runner.invoke(args=["push", "keys", "--rotate"])
    assert rotated.exit_code == 0, rotated.output
    assert "VAPID_PRIVATE_KEY=" in rotated.output and public not in rotated.output


@pytest.mark.app_config(VAPID_PRIVATE_KEY=None)
def test_without_a_vapid_key_push_says_it_is_not_set_up(client, patient):
    assert client.get("/api/v1/push/vapid-public-key").status_code == 503
