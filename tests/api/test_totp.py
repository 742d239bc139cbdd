"""Two-factor sign-in: required of therapists in production, optional for patients."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pyotp
import pytest
import requests
from sqlalchemy import select

from server.audit.models import AuditEvent
from server.extensions import db
from tests.conftest import served
from tests.factories import PASSWORD


def enrol(therapist):
    setup = therapist.post("/api/v1/auth/totp/setup").json
    assert setup["otpauth_uri"].startswith("otpauth://totp/Between:")
    assert setup["qr_svg_data_uri"].startswith("data:image/svg+xml")
    totp = pyotp.TOTP(setup["secret"])
    enabled = therapist.post("/api/v1/auth/totp/enable", json={"code": totp.now()})
    assert enabled.status_code == 200
    return totp, enabled.json["recovery_codes"]


def login(app, therapist, **extra):
    return app.test_client().post(
        "/api/v1/auth/login", json={"email": therapist.email, "password": PASSWORD, **extra}
    )


def test_sign_in_needs_a_fresh_code_once_enrolled(app, therapist):
    totp, recovery = enrol(therapist)
    assert len(recovery) == 10
    assert therapist.get("/api/v1/auth/me").json["totp_enabled"] is True

    missing = login(app, therapist)
    assert missing.status_code == 401 and missing.json["totp_required"] is True
    assert login(app, therapist, totp_code="000000").status_code == 401
    next_code = totp.at(time.time() + 30)  # the code used to enrol is spent
    assert login(app, therapist, totp_code=next_code).status_code == 200
    assert login(app, therapist, totp_code=next_code).status_code == 401  # no replay


def test_a_recovery_code_works_once(app, therapist):
    _totp, recovery = enrol(therapist)
    assert login(app, therapist, recovery_code=recovery[0]).status_code == 200
    assert login(app, therapist, recovery_code=recovery[0]).status_code == 401
    assert login(app, therapist, recovery_code=recovery[1]).status_code == 200


def test_wrong_enrolment_code_and_disable(therapist):
    therapist.post("/api/v1/auth/totp/setup")
    assert therapist.post("/api/v1/auth/totp/enable", json={"code": "123456"}).status_code == 422
    assert therapist.post("/api/v1/auth/totp/enable", json={"code": "12345"}).status_code == 422
    totp, _ = enrol(therapist)
    later = totp.at(time.time() + 30)
    wrong = therapist.post(
        "/api/v1/auth/totp/disable", json={"password": "nope-nope-nope", "code": later}
    )
    assert wrong.status_code == 422
    done = therapist.post("/api/v1/auth/totp/disable", json={"password": PASSWORD, "code": later})
    assert done.status_code == 204
    assert therapist.get("/api/v1/auth/me").json["totp_enabled"] is False


def test_patients_may_turn_it_on_too(app, patient):
    totp, recovery = enrol(patient)
    assert login(app, patient).json["totp_required"] is True
    assert login(app, patient, recovery_code=recovery[0]).status_code == 200


def test_turning_it_on_signs_out_the_other_devices(app, therapist):
    other = app.test_client()
    assert login_client(other, therapist).status_code == 200
    assert other.get("/api/v1/auth/me").status_code == 200
    enrol(therapist)
    assert other.get("/api/v1/auth/me").status_code == 401
    assert therapist.get("/api/v1/auth/me").status_code == 200  # the one that turned it on


def login_client(client, actor, **extra):
    return client.post(
        "/api/v1/auth/login", json={"email": actor.email, "password": PASSWORD, **extra}
    )


def test_new_recovery_codes_void_the_old_ones(app, therapist):
    _totp, old = enrol(therapist)
    wrong = therapist.post("/api/v1/auth/totp/recovery-codes", json={"password": "not-it-at-all"})
    assert wrong.status_code == 422
    new = therapist.post("/api/v1/auth/totp/recovery-codes", json={"password": PASSWORD})
    assert new.status_code == 200 and len(new.json["recovery_codes"]) == 10
    assert login(app, therapist, recovery_code=old[0]).status_code == 401
    assert login(app, therapist, recovery_code=new.json["recovery_codes"][0]).status_code == 200


def test_it_turns_off_with_the_password_alone(therapist):
    enrol(therapist)
    done = therapist.post("/api/v1/auth/totp/disable", json={"password": PASSWORD})
    assert done.status_code == 204
    assert therapist.get("/api/v1/auth/me").json["totp_enabled"] is False


@pytest.fixture
def live_url(app):
    """The app over real HTTP, one thread per request, as gunicorn's threads serve it."""
    with served(app) as url:
        yield url


def race(url, email, **second_factor) -> list[int]:
    """Six sign-ins released at the same moment, each on its own connection."""
    start = threading.Barrier(6)

    def one(_):
        body = {"email": email, "password": PASSWORD, **second_factor}
        start.wait(timeout=30)
        return requests.post(url + "/api/v1/auth/login", json=body, timeout=60).status_code

    with ThreadPoolExecutor(6) as pool:
        return list(pool.map(one, range(6)))


@pytest.mark.app_config(RATELIMIT_ENABLED=False)
def test_one_code_signs_in_once_when_six_sign_ins_race(live_url, therapist):
    totp, recovery = enrol(therapist)
    statuses = race(live_url, therapist.email, totp_code=totp.at(time.time() + 30))
    assert statuses.count(200) == 1, statuses
    assert all(s in (401, 503) for s in statuses if s != 200), statuses

    statuses = race(live_url, therapist.email, recovery_code=recovery[3])
    assert statuses.count(200) == 1, statuses
    assert all(s in (401, 503) for s in statuses if s != 200), statuses


@pytest.mark.app_config(RATELIMIT_SECOND_FACTOR="3 per 15 minutes")
def test_wrong_codes_slow_the_account_down_and_are_audited(app, therapist):
    totp, _ = enrol(therapist)
    for _ in range(3):
        assert login(app, therapist, totp_code="000000").status_code == 401
    slowed = login(app, therapist, totp_code=totp.at(time.time() + 30))
    assert slowed.status_code == 429  # even the right code waits
    with app.app_context():
        events = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "sign_in_second_factor")
        ).all()
        assert len(events) == 3
        assert {(e.actor_id, e.outcome, tuple(e.object_ids)) for e in events} == {
            (therapist_uuid(therapist), "denied", (therapist.id,))
        }


def therapist_uuid(actor):
    import uuid

    return uuid.UUID(actor.id)


@pytest.mark.app_config(RATELIMIT_LOGIN="3 per minute")
def test_password_checks_are_rate_limited_like_sign_in(therapist, patient):
    for _ in range(3):
        wrong = patient.post(
            "/api/v1/auth/password",
            json={"current_password": "wrong-wrong-wrong", "new_password": "x" * 12},
        )
        assert wrong.status_code == 422
    limited = patient.post(
        "/api/v1/auth/password",
        json={"current_password": "wrong-wrong-wrong", "new_password": "x" * 12},
    )
    assert limited.status_code == 429
    for _ in range(3):
        therapist.delete("/api/v1/me", json={"password": "wrong-wrong-wrong"})
    assert therapist.delete("/api/v1/me", json={"password": "wrong-wrong-wrong"}).status_code == 429


@pytest.mark.app_config(REQUIRE_THERAPIST_TOTP=True)
def test_production_can_require_it_for_therapists(therapist, patient):
    blocked = therapist.get("/api/v1/caseload")
    assert blocked.status_code == 403 and "two-factor" in blocked.json["message"]
    assert patient.get("/api/v1/journal/entries").status_code == 200
    enrol(therapist)
    assert therapist.get("/api/v1/caseload").status_code == 200
    kept = therapist.post("/api/v1/auth/totp/disable", json={"password": PASSWORD})
    assert kept.status_code == 409
    assert therapist.get("/api/v1/auth/me").json["totp_enabled"] is True
