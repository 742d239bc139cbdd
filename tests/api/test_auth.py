"""Accounts and sessions, as a person signing up and in would see them."""

from datetime import timedelta

import pytest
from sqlalchemy import update

from server.auth.models import UserSession
from server.db import utcnow
from server.extensions import db
from tests.factories import PASSWORD, therapist_invite

COOKIE = "between_session"


def register(client, **overrides):
    body = {
        "email": "sam@example.test",
        "password": "a-long-test-passphrase",
        "display_name": "Sam",
        "role": "patient",
        "timezone": "Europe/Berlin",
    }
    body.update(overrides)
    return client.post("/api/v1/auth/register", json=body)


def test_register_signs_in_and_me_shows_who_i_am(client):
    response = register(client)
    assert response.status_code == 201
    assert response.json["email"] == "sam@example.test"
    assert "password" not in response.json and "password_hash" not in response.json
    me = client.get("/api/v1/auth/me")
    assert me.status_code == 200
    assert me.json["display_name"] == "Sam"
    assert me.json["role"] == "patient"
    assert me.json["timezone"] == "Europe/Berlin"
    assert me.json["idle_timeout_seconds"] == 30 * 86400  # a patient's, so the app can warn


def test_email_is_unique_case_insensitively(client, app):
    assert register(client).status_code == 201
    again = register(app.test_client(), email="SAM@Example.TEST")
    assert again.status_code == 422
    assert "email" in again.json["errors"]["json"]


@pytest.mark.parametrize(
    "password, why",
    [("short1", "at least 10"), ("password123", "too common"), ("x" * 129, "at most 128")],
)
def test_weak_passwords_are_refused_with_a_reason(client, password, why):
    response = register(client, password=password)
    assert response.status_code == 422
    assert why in response.json["errors"]["json"]["password"][0]
    assert client.get("/api/v1/auth/me").status_code == 401


# A locale or a time zone is a hint from the device: one the server cannot use falls back
# to the default, never blocks the account (WebKit with no system locale says "C").
@pytest.mark.parametrize(
    "locale, stored",
    [
        ("C", "en-US"),
        ("C.UTF-8", "en-US"),
        ("POSIX", "en-US"),
        ("", "en-US"),
        (None, "en-US"),
        ("x" * 40, "en-US"),
        ("en-US-" + "y" * 30, "en-US"),
        ("en_US", "en-US"),
        ("en_US.UTF-8", "en-US"),
        ("de-at", "de-AT"),
        ("zh-Hant-TW", "zh-Hant-TW"),
        ("de-DE-u-co-phonebk", "de-DE"),  # a real tag longer than the column keeps its core
        ("es-419", "es-419"),
    ],
)
def test_an_unusable_locale_falls_back_instead_of_refusing(client, locale, stored):
    response = register(client, locale=locale)
    assert response.status_code == 201, response.json
    assert client.get("/api/v1/auth/me").json["locale"] == stored


def test_a_missing_locale_and_time_zone_take_the_defaults(client):
    response = client.post(
        "/api/v1/auth/register",
        json={
            "email": "sam@example.test",
            "password": "a-long-test-passphrase",
            "display_name": "Sam",
            "role": "patient",
        },
    )
    assert response.status_code == 201, response.json
    me = client.get("/api/v1/auth/me").json
    assert (me["locale"], me["timezone"]) == ("en-US", "UTC")


# Was a 422 ("Unknown time zone."): an unknown zone now falls back to UTC instead.
@pytest.mark.parametrize(
    "timezone", ["Mars/Olympus", "", None, "America", "localtime", "../etc/passwd", "x" * 300]
)
def test_an_unknown_time_zone_falls_back_to_utc(client, timezone):
    response = register(client, timezone=timezone)
    assert response.status_code == 201, response.json
    assert client.get("/api/v1/auth/me").json["timezone"] == "UTC"


def test_a_therapist_with_a_c_locale_signs_up_with_the_defaults(app, client):
    """The same fallback holds for a therapist registering with the operator's invite."""
    token = therapist_invite(app, "new.therapist@example.test", "New Therapist")
    response = register(
        client,
        email="new.therapist@example.test",
        role="therapist",
        therapist_invite=token,
        locale="C",
        timezone="Mars/Olympus",
    )
    assert response.status_code == 201, response.json
    assert (response.json["locale"], response.json["timezone"]) == ("en-US", "UTC")


def test_register_rejects_unknown_fields_and_roles(client):
    assert register(client, is_admin=True).status_code == 422
    assert register(client, role="admin").status_code == 422


def test_login_me_logout(app, patient):
    client = app.test_client()
    login = client.post(
        "/api/v1/auth/login", json={"email": patient.email.upper(), "password": PASSWORD}
    )
    assert login.status_code == 200
    assert login.json["id"] == patient.id
    assert client.get("/api/v1/auth/me").json["id"] == patient.id
    assert client.post("/api/v1/auth/logout").status_code == 204
    assert client.get("/api/v1/auth/me").status_code == 401


def test_wrong_password_and_unknown_email_get_the_same_answer(client, patient):
    wrong = client.post("/api/v1/auth/login", json={"email": patient.email, "password": "nope" * 3})
    unknown = client.post(
        "/api/v1/auth/login", json={"email": "nobody@example.test", "password": "nope" * 3}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json == unknown.json
    assert wrong.json["message"] == "The email or password is not right."


def test_cookie_replayed_after_logout_is_401(app, patient):
    stolen = patient.client.get_cookie(COOKIE).value
    assert patient.post("/api/v1/auth/logout").status_code == 204

    replay = app.test_client()
    replay.set_cookie(COOKIE, stolen)
    response = replay.get("/api/v1/auth/me")
    assert response.status_code == 401
    assert response.json["code"] == 401


def test_anonymous_gets_401_in_the_one_shape(client):
    response = client.get("/api/v1/auth/me")
    assert response.status_code == 401
    assert response.json == {"code": 401, "status": "Unauthorized", "message": "Please sign in."}


def test_cross_site_unsafe_request_is_403(app, patient):
    by_fetch_metadata = patient.post(
        "/api/v1/auth/logout", headers={"Sec-Fetch-Site": "cross-site"}
    )
    assert by_fetch_metadata.status_code == 403
    by_origin = patient.post("/api/v1/auth/logout", headers={"Origin": "https://evil.example"})
    assert by_origin.status_code == 403
    assert by_origin.json["status"] == "Forbidden"
    # neither request signed the patient out
    assert patient.get("/api/v1/auth/me").status_code == 200
    same_origin = patient.post(
        "/api/v1/auth/logout",
        headers={"Origin": "http://localhost", "Sec-Fetch-Site": "same-origin"},
    )
    assert same_origin.status_code == 204


def test_form_encoded_login_is_415(client, patient):
    response = client.post(
        "/api/v1/auth/login", data={"email": patient.email, "password": PASSWORD}
    )
    assert response.status_code == 415
    assert response.json["code"] == 415
    assert client.get("/api/v1/auth/me").status_code == 401


def test_password_change_signs_out_other_devices_but_not_this_one(app, patient):
    phone = patient.client
    laptop = app.test_client()
    laptop.post("/api/v1/auth/login", json={"email": patient.email, "password": PASSWORD})
    assert laptop.get("/api/v1/auth/me").status_code == 200

    response = phone.post(
        "/api/v1/auth/password",
        json={"current_password": PASSWORD, "new_password": "another-long-passphrase"},
    )
    assert response.status_code == 204
    assert phone.get("/api/v1/auth/me").status_code == 200
    assert laptop.get("/api/v1/auth/me").status_code == 401
    old = app.test_client().post(
        "/api/v1/auth/login", json={"email": patient.email, "password": PASSWORD}
    )
    assert old.status_code == 401
    new = app.test_client().post(
        "/api/v1/auth/login", json={"email": patient.email, "password": "another-long-passphrase"}
    )
    assert new.status_code == 200


def test_password_change_needs_the_current_password(patient):
    response = patient.post(
        "/api/v1/auth/password",
        json={"current_password": "not-my-password", "new_password": "another-long-passphrase"},
    )
    assert response.status_code == 422
    assert "current_password" in response.json["errors"]["json"]


def test_sign_out_another_device(app, patient):
    laptop = app.test_client()
    laptop.post("/api/v1/auth/login", json={"email": patient.email, "password": PASSWORD})
    sessions = patient.get("/api/v1/auth/sessions").json
    assert len(sessions) == 2
    other = next(s for s in sessions if not s["current"])
    assert patient.delete(f"/api/v1/auth/sessions/{other['id']}").status_code == 204
    assert laptop.get("/api/v1/auth/me").status_code == 401
    assert patient.get("/api/v1/auth/me").status_code == 200


def test_cannot_end_someone_elses_session(make_patient):
    a, b = make_patient(), make_patient()
    b_session = b.get("/api/v1/auth/sessions").json[0]["id"]
    assert a.delete(f"/api/v1/auth/sessions/{b_session}").status_code == 404
    assert b.get("/api/v1/auth/me").status_code == 200


def _age_sessions(app, *, idle=timedelta(0), absolute=timedelta(0)):
    with app.app_context():
        db.session.execute(
            update(UserSession).values(last_seen_at=utcnow() - idle, created_at=utcnow() - absolute)
        )
        db.session.commit()


def test_therapist_session_ends_after_30_idle_minutes(app, therapist):
    _age_sessions(app, idle=timedelta(minutes=31), absolute=timedelta(minutes=31))
    assert therapist.get("/api/v1/auth/me").status_code == 401


def test_patient_session_survives_a_quiet_week(app, patient):
    _age_sessions(app, idle=timedelta(days=7), absolute=timedelta(days=7))
    assert patient.get("/api/v1/auth/me").status_code == 200


def test_patient_session_ends_at_the_absolute_limit(app, patient):
    _age_sessions(app, idle=timedelta(0), absolute=timedelta(days=91))
    assert patient.get("/api/v1/auth/me").status_code == 401


@pytest.mark.app_config(RATELIMIT_LOGIN="3 per minute")
def test_login_is_rate_limited_with_retry_after(client, patient):
    body = {"email": patient.email, "password": "wrong-password-here"}
    statuses = [client.post("/api/v1/auth/login", json=body).status_code for _ in range(4)]
    assert statuses == [401, 401, 401, 429]
    limited = client.post("/api/v1/auth/login", json=body)
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) > 0
    assert limited.json["code"] == 429


@pytest.mark.app_config(RATELIMIT_REGISTER="2 per minute")
def test_register_is_rate_limited(client):
    codes = [register(client, email=f"r{i}@example.test").status_code for i in range(3)]
    assert codes == [201, 201, 429]


def test_a_signed_in_request_does_not_resend_the_cookie(app, patient):
    """The cookie carries only the session's token and is set when signing in, with an
    expiry; the server's idle and absolute timeouts govern after that, so answers do not
    re-sign and re-send it."""
    client = app.test_client()
    login = client.post("/api/v1/auth/login", json={"email": patient.email, "password": PASSWORD})
    assert login.status_code == 200
    assert "Expires=" in login.headers["Set-Cookie"]
    for url in ("/api/v1/auth/me", "/api/v1/sync/changes", "/api/v1/no-such-thing"):
        response = client.get(url)
        assert response.status_code in (200, 404)
        assert "Set-Cookie" not in response.headers, url
    # ending the session still clears the cookie
    assert COOKIE in client.post("/api/v1/auth/logout").headers["Set-Cookie"]


@pytest.mark.parametrize("ending", ["logout", "password change", "account deletion"])
def test_a_session_ended_in_one_process_is_over_in_every_process_at_once(
    app, make_app, patient, ending
):
    """No process keeps a session it has seen: a logout, a password change or a deleted
    account in one web process is seen by the very next request in another."""
    other = make_app({"SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"]})
    device = other.test_client()
    if ending == "password change":  # it ends every other device's session
        body = {"email": patient.email, "password": PASSWORD}
        assert device.post("/api/v1/auth/login", json=body).status_code == 200
    else:  # the same session's cookie, copied
        device.set_cookie(COOKIE, patient.client.get_cookie(COOKIE).value)
    for _ in range(2):  # seen more than once: anything kept would be kept by now
        assert device.get("/api/v1/sync/changes").status_code == 200

    if ending == "logout":
        assert patient.post("/api/v1/auth/logout").status_code == 204
    elif ending == "password change":
        change = {"current_password": PASSWORD, "new_password": "another-long-passphrase"}
        assert patient.post("/api/v1/auth/password", json=change).status_code == 204
    else:
        assert patient.delete("/api/v1/me", json={"password": PASSWORD}).status_code == 204
    assert device.get("/api/v1/sync/changes").status_code == 401
    assert device.get("/api/v1/auth/me").status_code == 401


def _last_seen(app):
    from sqlalchemy import select

    with app.app_context():
        seen = db.session.scalars(select(UserSession.last_seen_at)).all()
        db.session.remove()
    return seen


def test_reading_alone_keeps_a_session_alive(app, therapist):
    """A therapist reading (and a patient's phone pulling) sends only GETs, which write
    nothing; being there still counts as activity for the idle timeout, or a therapist
    reading a long brief would be signed out mid-read."""
    _age_sessions(app, idle=timedelta(minutes=20), absolute=timedelta(minutes=20))
    assert therapist.get("/api/v1/auth/me").status_code == 200
    assert all(utcnow() - seen < timedelta(minutes=1) for seen in _last_seen(app))
    _age_sessions(app, idle=timedelta(minutes=20), absolute=timedelta(minutes=20))
    assert therapist.get("/api/v1/auth/me").status_code == 200  # 40 minutes in, still here


def test_a_timed_out_session_is_gone_after_the_request_that_found_it(app, patient):
    _age_sessions(app, idle=timedelta(days=31), absolute=timedelta(days=31))
    assert patient.get("/api/v1/auth/me").status_code == 401
    assert _last_seen(app) == []  # deleted, not just refused
