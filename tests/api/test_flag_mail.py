"""A risk answer tells each linked therapist by mail, once, in words that carry no
health information: no patient name, no instrument, no score, nothing the patient wrote."""

from __future__ import annotations

import re
import uuid

import pytest

from server.alerts import service as alerts
from server.reminders import worker
from tests.mailbox import text_of
from tests.unit.test_scoring import answers_totalling

# words that would tell a reader of the mailbox something about a patient's health
HEALTH_WORDS = re.compile(
    r"phq|gad|item|score|suicid|self-harm|harm|depress|anxi|risk|safety|\bdead\b|\d+ ?/ ?27",
    re.IGNORECASE,
)


@pytest.fixture
def mail_app(app, mailbox):
    app.config.update(SMTP_URL=mailbox.url, PUBLIC_URL="https://between.clinic.test")
    return app


def risk_answer(patient, checkin_id=None):
    body = {
        "id": checkin_id or str(uuid.uuid4()),
        "instrument": "phq9",
        "answers": {**answers_totalling("phq9", 8, 8), "phq9_9": 2},
        "answered_at": "2026-12-01T23:10:00-05:00",
        "note_private": False,
    }
    response = patient.post("/api/v1/checkins", json=body)
    assert response.status_code == 201, response.json
    return body


def deliver(app) -> int:
    with app.app_context():
        return alerts.send_due()


def test_each_linked_therapist_gets_one_mail_without_health_words(
    mail_app, mailbox, make_therapist, make_patient, link
):
    first, second, unlinked = make_therapist(), make_therapist(), make_therapist()
    patient = make_patient()
    link(first, patient)
    link(second, patient)
    body = risk_answer(patient)
    patient.post("/api/v1/checkins", json=body)  # a replay of the same answer

    assert deliver(mail_app) == 2
    assert deliver(mail_app) == 0  # a second pass, or a second worker, sends nothing more
    for therapist in (first, second):
        (message,) = mailbox.wait_for(therapist.email)
        text = text_of(message)
        assert message["Subject"] == "A patient on your caseload needs attention"
        assert "A patient on your caseload needs attention. Open Between" in text
        assert "https://between.clinic.test/#/flags" in text
        whole = message.as_string()
        assert not HEALTH_WORDS.search(whole), HEALTH_WORDS.search(whole)
        assert "Test Patient" not in whole and patient.email not in whole
    assert mailbox.to(unlinked.email) == []
    # a second risk answer is a second flag: one more mail each
    risk_answer(patient)
    assert deliver(mail_app) == 2
    mailbox.wait_for(first.email, 2)


def test_a_refused_mail_is_tried_again_later_never_twice(app, mailbox, therapist, patient, link):
    link(therapist, patient)
    app.config.update(SMTP_URL="smtp://127.0.0.1:9", PUBLIC_URL="https://between.clinic.test")
    risk_answer(patient)
    assert deliver(app) == 0  # nobody listens on port 9: given back, not lost
    app.config.update(SMTP_URL=mailbox.url)
    with app.app_context():
        from sqlalchemy import update

        from server.alerts.models import FlagMail
        from server.db import utcnow
        from server.extensions import db

        db.session.execute(update(FlagMail).values(next_attempt_at=utcnow()))
        db.session.commit()
    assert deliver(app) == 1
    assert deliver(app) == 0
    assert len(mailbox.wait_for(therapist.email)) == 1


def test_the_reminder_worker_sends_them(mail_app, mailbox, therapist, patient, link):
    link(therapist, patient)
    risk_answer(patient)
    with mail_app.app_context():
        sender = worker.build_sender(mail_app.config)
        try:
            totals = worker.run_pass(sender)
        finally:
            sender.close()
    assert totals["flag_mails"] == 1
    mailbox.wait_for(therapist.email)
