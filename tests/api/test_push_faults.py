"""Push services that misbehave: redirects, 503 with Retry-After, and gone devices.

A push service answers a message with 201. A redirect is never a valid answer: a
307/308 followed would re-POST the encrypted reminder to whatever origin `Location`
names, past the hosts we agreed to send to, and its 201 would count as delivered. So a
redirect is a failed attempt, retried with backoff like a 5xx, never followed.
"""

import time
import uuid
from datetime import timedelta
from email.utils import parsedate_to_datetime

import pytest
from sqlalchemy import select

from server.db import utcnow
from server.extensions import db
from server.reminders import worker
from server.reminders.models import PushDelivery, PushSubscription
from server.reminders.sender import RETRY, Message, parse_retry_after
from tests.fake_push import http_date

SUBSCRIPTIONS = "/api/v1/push/subscriptions"
TEST_PUSH = "/api/v1/push/test"


def subscribe(actor, device):
    response = actor.post(SUBSCRIPTIONS, json=device.subscription())
    assert response.status_code in (200, 201), response.json
    return response.json


def the_delivery(app) -> PushDelivery:
    with app.app_context():
        [row] = db.session.scalars(select(PushDelivery)).all()
        db.session.expunge_all()
        return row


def devices_left(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(PushSubscription.endpoint)))


def run_worker(app, now):
    with app.app_context():
        sender = worker.build_sender(app.config)
        try:
            return worker.run_pass(sender, now=now)
        finally:
            sender.close()
            db.session.remove()


# -- redirects ---------------------------------------------------------------------------


@pytest.mark.app_config(PUSH_MAX_ATTEMPTS=2)
@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_a_redirect_is_not_followed_and_is_not_sent(app, patient, push, elsewhere, logged, status):
    device = push.device()
    subscribe(patient, device)
    location = push.redirect(status, elsewhere, endpoint=device.endpoint)
    push.redirect(status, elsewhere, endpoint=device.endpoint)  # and again on the retry

    before = utcnow()
    result = patient.post(TEST_PUSH).json
    assert result == {"devices": 1, "sent": 0, "failed": 1, "gone": 0}
    assert elsewhere.count == 0 and elsewhere.received == []  # not a byte went there
    assert len(push.to(device)) == 1

    delivery = the_delivery(app)
    assert delivery.status == "pending" and delivery.sent_at is None
    assert delivery.status_code == status
    assert "redirect" in delivery.error and location not in delivery.error
    # backed off like any failure of the push service, not retried at once
    assert delivery.next_attempt_at > before + timedelta(seconds=5)
    assert devices_left(app) == [device.endpoint]  # a redirect is not "gone"

    # said in the log, with the push service's origin only: no path, no Location
    lines = [r.getMessage() for r in logged]
    said = [line for line in lines if "redirect" in line]
    assert said and str(status) in said[0] and push.url in said[0]
    for line in lines:
        assert device.endpoint not in line and location not in line
        assert elsewhere.url not in line and "check-in" not in line

    # the retry is redirected again: given up, still nothing sent anywhere else
    counts = run_worker(app, now=delivery.next_attempt_at + timedelta(seconds=1))
    assert counts["failed"] == 1 and counts.get("sent", 0) == 0
    delivery = the_delivery(app)
    assert delivery.status == "failed" and delivery.sent_at is None
    assert delivery.status_code == status
    assert len(push.to(device)) == 2 and elsewhere.count == 0


def test_after_a_redirect_the_next_attempt_goes_to_the_same_endpoint(app, patient, push, elsewhere):
    device = push.device()
    subscribe(patient, device)
    push.redirect(308, elsewhere, endpoint=device.endpoint)
    assert patient.post(TEST_PUSH).json["sent"] == 0
    delivery = the_delivery(app)

    # the push service is fine again: the same subscription gets the reminder
    assert run_worker(app, now=delivery.next_attempt_at + timedelta(seconds=1))["sent"] == 1
    first, second = push.to(device)
    assert device.decrypt(second.body) == device.decrypt(first.body)
    assert the_delivery(app).status == "sent" and elsewhere.count == 0


# -- 503 with Retry-After ----------------------------------------------------------------


def test_503_with_retry_after_in_seconds_waits_as_told(app, patient, push):
    device = push.device()
    subscribe(patient, device)
    push.unavailable(120, endpoint=device.endpoint)

    before = utcnow()
    assert patient.post(TEST_PUSH).json["sent"] == 0
    after = utcnow()
    delivery = the_delivery(app)
    assert delivery.status == "pending" and delivery.status_code == 503
    # the answer came between `before` and `after`: the next attempt is 120 s after it
    assert before + timedelta(seconds=120) <= delivery.next_attempt_at
    assert delivery.next_attempt_at <= after + timedelta(seconds=120)

    # the worker leaves it alone until then, and sends it after
    assert run_worker(app, now=delivery.next_attempt_at - timedelta(seconds=1)) == {}
    assert len(push.to(device)) == 1
    assert run_worker(app, now=delivery.next_attempt_at + timedelta(seconds=1))["sent"] == 1
    assert the_delivery(app).status == "sent"


def test_503_with_retry_after_as_an_http_date_waits_until_then(app, patient, push):
    device = push.device()
    subscribe(patient, device)
    header = push.unavailable(http_date(time.time() + 300), endpoint=device.endpoint)
    until = parsedate_to_datetime(header)

    assert patient.post(TEST_PUSH).json["sent"] == 0
    delivery = the_delivery(app)
    assert delivery.status == "pending" and delivery.status_code == 503
    assert until <= delivery.next_attempt_at <= until + timedelta(seconds=5)
    assert run_worker(app, now=until - timedelta(seconds=1)) == {}
    assert run_worker(app, now=delivery.next_attempt_at + timedelta(seconds=1))["sent"] == 1


def test_503_with_retry_after_holds_that_push_service_for_the_other_devices(app, push):
    first, second = push.device(), push.device()
    push.unavailable(90, endpoint=first.endpoint)
    with app.app_context():
        sender = worker.build_sender(app.config)
    try:
        outcomes = [sender.send_one(_message(device)) for device in (first, second)]
    finally:
        sender.close()
    told, held = outcomes
    assert told.result == RETRY and told.status_code == 503 and told.retry_after == 90
    # the second is not even tried: that service asked us to wait
    assert held.result == RETRY and held.status_code is None and 85 < held.retry_after <= 90
    assert push.count == 1 and push.to(second) == []


def test_retry_after_is_read_in_both_forms_and_bounded():
    now = 1_800_000_000.0
    assert parse_retry_after("120", now) == 120
    assert parse_retry_after(http_date(now + 300), now) == 300
    assert parse_retry_after(http_date(now - 300), now) == 1  # a date already past
    assert parse_retry_after("99999999", now) == 3600  # never hold a reminder for days
    assert parse_retry_after("soon", now) == 60


def _message(device) -> Message:
    keys = device.keys
    return Message(
        key=uuid.uuid4(),
        endpoint=device.endpoint,
        p256dh=keys["p256dh"],
        auth=keys["auth"],
        payload=b'{"type":"test"}',
        ttl=60,
        urgency="normal",
        topic="t",
    )


# -- gone --------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [404, 410])
def test_a_gone_delivery_keeps_the_code_the_push_service_gave(app, patient, push, status):
    device, other = push.device(), push.device()
    subscribe(patient, device)
    subscribe(patient, other)
    push.answer(status, endpoint=device.endpoint)

    assert patient.post(TEST_PUSH).json == {"devices": 2, "sent": 1, "failed": 0, "gone": 1}
    with app.app_context():
        rows = {d.status: d for d in db.session.scalars(select(PushDelivery))}
        db.session.expunge_all()
    assert rows["gone"].status_code == status
    assert rows["gone"].subscription_id is None  # that device was removed
    assert rows["sent"].status_code == 201
    assert devices_left(app) == [other.endpoint]


# -- recording outcomes ------------------------------------------------------------------


@pytest.fixture
def complete_statements(app, monkeypatch):
    """The SQL statements worker.complete() runs, counted."""
    from sqlalchemy import event

    counted = []
    original = worker.complete

    def counting(*args, **kwargs):
        with app.app_context():
            engine = db.engine

        def count(*_args, **_kwargs):
            counted.append(1)

        event.listen(engine, "before_cursor_execute", count)
        try:
            return original(*args, **kwargs)
        finally:
            event.remove(engine, "before_cursor_execute", count)

    monkeypatch.setattr(worker, "complete", counting)
    return counted


def test_outcomes_are_recorded_in_a_statement_per_kind_not_per_row(
    app, patient, push, complete_statements
):
    devices = [push.device() for _ in range(5)]
    for device in devices:
        subscribe(patient, device)
    codes = [500, 500, 400, 400, 201]
    for device, code in zip(devices, codes, strict=True):
        push.answer(code, endpoint=device.endpoint)

    before = utcnow()
    assert patient.post(TEST_PUSH).json == {"devices": 5, "sent": 1, "failed": 4, "gone": 0}
    assert len(complete_statements) == 3  # sent, failed, retry: one each

    with app.app_context():
        endpoints = dict(
            db.session.execute(select(PushSubscription.id, PushSubscription.endpoint)).all()
        )
        rows = {endpoints[d.subscription_id]: d for d in db.session.scalars(select(PushDelivery))}
        db.session.expunge_all()
    for device, code in zip(devices, codes, strict=True):
        row = rows[device.endpoint]
        assert row.status_code == code and row.lease_token is None and row.lease_until is None
        if code == 500:
            assert row.status == "pending" and row.error == "push service error 500"
            assert row.next_attempt_at > before + timedelta(seconds=5)
        elif code == 400:
            assert row.status == "failed" and row.error == "refused with 400"
        else:
            assert row.status == "sent" and row.error is None


@pytest.mark.app_config(PUSH_MAX_ATTEMPTS=1)
def test_retries_given_up_are_recorded_with_the_failures(app, patient, push, complete_statements):
    devices = [push.device() for _ in range(3)]
    for device in devices:
        subscribe(patient, device)
    for device, code in zip(devices, [503, 502, 413], strict=True):
        push.answer(code, endpoint=device.endpoint)

    assert patient.post(TEST_PUSH).json == {"devices": 3, "sent": 0, "failed": 3, "gone": 0}
    assert len(complete_statements) == 1
    with app.app_context():
        rows = list(db.session.scalars(select(PushDelivery)))
        db.session.expunge_all()
    assert all(r.status == "failed" and r.lease_token is None for r in rows)
    assert sorted(r.error for r in rows) == [
        "gave up after 1: push service error 502",
        "gave up after 1: push service error 503",
        "refused with 413",
    ]
