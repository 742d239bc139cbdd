"""A therapist with two-factor sign-in signs in through the app with their code."""

import time

import pyotp
from playwright.sync_api import Page, expect

from tests.e2e.pwa import set_device_pin
from tests.factories import PASSWORD


def test_therapist_signs_in_with_an_authenticator_code(page: Page, server_url, therapist):
    secret = therapist.post("/api/v1/auth/totp/setup").json["secret"]
    totp = pyotp.TOTP(secret)
    enabled = therapist.post("/api/v1/auth/totp/enable", json={"code": totp.now()})
    assert enabled.status_code == 200

    page.goto(server_url + "/#/signin")
    page.get_by_label("Email").fill(therapist.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    # the server asks for the code: a question, focused, not an error
    code = page.get_by_label("Enter the 6-digit code from your authenticator app")
    expect(code).to_be_focused()
    expect(page.get_by_role("alert")).to_have_count(0)
    code.fill("000000")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("That code is not right.")).to_be_visible()
    code.fill(totp.at(time.time() + 30))  # the enrolment code is spent
    page.get_by_role("button", name="Sign in").click()
    set_device_pin(page)
    expect(page.get_by_role("link", name="Caseload")).to_be_visible()
