"""Two-factor sign-in for therapists."""

import time

import pyotp
import pytest

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


def test_patients_do_not_enrol(patient):
    assert patient.post("/api/v1/auth/totp/setup").status_code == 404


@pytest.mark.app_config(REQUIRE_THERAPIST_TOTP=True)
def test_production_can_require_it_for_therapists(therapist, patient):
    blocked = therapist.get("/api/v1/caseload")
    assert blocked.status_code == 403 and "two-factor" in blocked.json["message"]
    assert patient.get("/api/v1/journal/entries").status_code == 200
    enrol(therapist)
    assert therapist.get("/api/v1/caseload").status_code == 200
