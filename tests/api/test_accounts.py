"""Therapists are invited by an operator; anyone can recover a forgotten password by
mail, without learning whether an address has an account."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import update

from server.auth import service
from server.auth.models import PasswordReset, TherapistInvite
from server.db import utcnow
from server.extensions import db
from tests.factories import PASSWORD, therapist_invite
from tests.mailbox import text_of

NEW_PASSWORD = "another-long-passphrase"


def _register(client, **extra):
    return client.post(
        "/api/v1/auth/register",
        json={
            "email": "new.therapist@example.test",
            "password": PASSWORD,
            "display_name": "New Therapist",
            "role": "therapist",
            **extra,
        },
    )


def test_therapist_registration_without_an_invite_is_refused(app, client):
    """Anyone could otherwise sign up as a therapist and hand out invite codes."""
    refused = _register(client)
    assert refused.status_code == 403
    assert "invitation" in refused.json["message"]
    assert _register(client, therapist_invite="made-up-token").status_code == 403
    # and nobody was signed in or created
    assert client.get("/api/v1/auth/me").status_code == 401
    assert _register(client, role="patient").status_code == 201  # patients still sign up


def test_a_therapist_invite_works_once_for_its_address(app, client):
    token = therapist_invite(app, "new.therapist@example.test", "New Therapist")
    shown = client.get(f"/api/v1/auth/therapist-invites/{token}")
    assert shown.status_code == 200
    assert shown.json == {"email": "new.therapist@example.test", "display_name": "New Therapist"}
    other = _register(app.test_client(), email="someone.else@example.test", therapist_invite=token)
    assert other.status_code == 403
    made = _register(client, therapist_invite=token)
    assert made.status_code == 201 and made.json["role"] == "therapist"
    again = _register(app.test_client(), email="x2@example.test", therapist_invite=token)
    assert again.status_code == 403
    assert app.test_client().get(f"/api/v1/auth/therapist-invites/{token}").status_code == 404


def test_an_expired_therapist_invite_is_refused(app, client):
    token = therapist_invite(app, "new.therapist@example.test")
    with app.app_context():
        db.session.execute(
            update(TherapistInvite).values(expires_at=utcnow() - timedelta(seconds=1))
        )
        db.session.commit()
    refused = _register(client, therapist_invite=token)
    assert refused.status_code == 403 and "expired" in refused.json["message"]


def _forgot(app, address):
    return app.test_client().post("/api/v1/auth/password/forgot", json={"email": address})


def _reset_link(mailbox, address, count=1) -> str:
    body = text_of(mailbox.wait_for(address, count)[count - 1])
    return re.search(r"https?://\S+#/reset/(\S+)", body).group(1)


@pytest.fixture
def mail_app(app, mailbox):
    app.config.update(SMTP_URL=mailbox.url, PUBLIC_URL="https://between.clinic.test")
    return app


def test_password_reset_through_the_mail(mail_app, mailbox, patient, make_patient):
    app = mail_app
    other_device = make_patient(email=None)  # an unrelated account stays signed in
    assert patient.get("/api/v1/auth/me").status_code == 200

    known = _forgot(app, patient.email.upper())
    unknown = _forgot(app, "nobody@example.test")
    # no enumeration: the same status and the same body
    assert known.status_code == unknown.status_code == 202
    assert known.json == unknown.json
    token = _reset_link(mailbox, patient.email)
    message = mailbox.to(patient.email)[0]
    assert "https://between.clinic.test/#/reset/" in text_of(message)
    assert mailbox.to("nobody@example.test") == []

    weak = app.test_client().post(
        "/api/v1/auth/password/reset", json={"token": token, "password": "short"}
    )
    assert weak.status_code == 422 and "password" in weak.json["errors"]["json"]
    done = app.test_client().post(
        "/api/v1/auth/password/reset", json={"token": token, "password": NEW_PASSWORD}
    )
    assert done.status_code == 204
    # the signed-in device is signed out; the other account is not
    assert patient.get("/api/v1/auth/me").status_code == 401
    assert other_device.get("/api/v1/auth/me").status_code == 200
    # single use
    replay = app.test_client().post(
        "/api/v1/auth/password/reset", json={"token": token, "password": "yet-another-phrase"}
    )
    assert replay.status_code == 422 and "token" in replay.json["errors"]["json"]
    login = app.test_client().post(
        "/api/v1/auth/login", json={"email": patient.email, "password": NEW_PASSWORD}
    )
    assert login.status_code == 200
    old = app.test_client().post(
        "/api/v1/auth/login", json={"email": patient.email, "password": PASSWORD}
    )
    assert old.status_code == 401


def test_a_reset_link_expires_after_an_hour(mail_app, mailbox, patient):
    _forgot(mail_app, patient.email)
    token = _reset_link(mailbox, patient.email)
    with mail_app.app_context():
        db.session.execute(update(PasswordReset).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    expired = mail_app.test_client().post(
        "/api/v1/auth/password/reset", json={"token": token, "password": NEW_PASSWORD}
    )
    assert expired.status_code == 422 and "expired" in expired.json["errors"]["json"]["token"][0]


def test_a_therapist_with_two_factor_still_needs_the_code_after_a_reset(
    mail_app, mailbox, therapist
):
    import pyotp

    secret = therapist.post("/api/v1/auth/totp/setup").json["secret"]
    therapist.post("/api/v1/auth/totp/enable", json={"code": pyotp.TOTP(secret).now()})
    _forgot(mail_app, therapist.email)
    token = _reset_link(mailbox, therapist.email)
    assert (
        mail_app.test_client()
        .post("/api/v1/auth/password/reset", json={"token": token, "password": NEW_PASSWORD})
        .status_code
        == 204
    )
    asked = mail_app.test_client().post(
        "/api/v1/auth/login", json={"email": therapist.email, "password": NEW_PASSWORD}
    )
    assert asked.status_code == 401 and asked.json["totp_required"] is True


@pytest.mark.app_config(RATELIMIT_FORGOT="2 per hour")
def test_reset_requests_are_limited_per_address(mail_app, mailbox, patient):
    assert _forgot(mail_app, patient.email).status_code == 202
    assert _forgot(mail_app, patient.email).status_code == 202
    assert _forgot(mail_app, patient.email).status_code == 429
    assert _forgot(mail_app, "someone.else@example.test").status_code == 202
    mailbox.wait_for(patient.email, 2)


def test_a_reset_mail_carries_no_more_than_the_link(mail_app, mailbox, patient):
    patient.post("/api/v1/journal/entries", json={"title": "private words", "body": "private"})
    _forgot(mail_app, patient.email)
    message = mailbox.wait_for(patient.email)[0]
    assert "private" not in message.as_string()
    with mail_app.app_context():
        assert service.get_user_by_email(patient.email) is not None


def test_bidi_controls_are_stripped_from_display_names(client):
    made = client.post(
        "/api/v1/auth/register",
        json={
            "email": "rtl@example.test",
            "password": PASSWORD,
            "display_name": "Sam\u202eeman\u2066 \u200f",
            "role": "patient",
        },
    )
    assert made.status_code == 201
    assert made.json["display_name"] == "Sameman"
