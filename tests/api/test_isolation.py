"""Each test gets the app as create_app makes it, though conftest hands one app on from
test to test (making one per test was most of the suite's time): what a test changed is
put back, and an app made meanwhile means a new one."""

from __future__ import annotations

from tests.conftest import _app_for, _hand_on
from tests.factories import PASSWORD, make_actor


def _config(database_url: str) -> dict:
    return {"SQLALCHEMY_DATABASE_URI": database_url, "TESTING": True}


def _sign_in(app, email: str, password: str) -> int:
    response = app.test_client().post(
        "/api/v1/auth/login", json={"email": email, "password": password}
    )
    return response.status_code


def test_what_a_test_changed_in_its_app_is_gone_for_the_next(database_url, tmp_path):
    app = _app_for(_config(database_url))
    made_in = app.instance_path
    person = make_actor(app, "patient")
    # wrong passwords from one address until sign-in is rate limited
    answers = [_sign_in(app, person.email, "not-the-password") for _ in range(12)]
    assert answers[-1] == 429, answers
    app.config["MAX_CONTENT_LENGTH"] = 1
    app.config["SET_BY_A_TEST"] = True
    app.instance_path = str(tmp_path)
    app.extra_attribute = "set by a test"
    _hand_on(app)

    again = _app_for(_config(database_url))
    assert again is app  # handed on, not made again
    assert again.config["MAX_CONTENT_LENGTH"] != 1 and "SET_BY_A_TEST" not in again.config
    assert again.instance_path == made_in
    assert not hasattr(again, "extra_attribute")
    # the account is gone with its rows, and the address is no longer held back
    assert _sign_in(again, person.email, PASSWORD) == 401
    assert make_actor(again, "patient", email=person.email).email == person.email
    _hand_on(again)


def test_an_app_made_meanwhile_means_a_new_app(database_url, make_app):
    app = _app_for(_config(database_url))
    make_app(_config(database_url))  # another process-wide setup: key ring, limiter, spec
    again = _app_for(_config(database_url))
    assert again is not app
    assert make_actor(again, "patient").id
    _hand_on(again)
