"""Account screens in the PWA: two-factor sign-in for patients and therapists (and a
clinic that requires it), a forgotten password, and a therapist's invitation."""

from __future__ import annotations

import re
import time

import pyotp
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.pwa import LAPTOP, set_device_pin, sign_in
from tests.factories import PASSWORD

ME = "() => fetch('/api/v1/auth/me').then((r) => r.json())"
WIDER_THAN_SCREEN = "() => document.documentElement.scrollWidth > window.innerWidth"


def sign_out_patient(page: Page, server_url: str) -> None:
    page.goto(server_url + "/#/privacy")
    page.get_by_role("region", name="Sign out").get_by_role("button", name="Sign out").click()
    page.get_by_role("dialog").get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", level=1, name="Sign in")).to_be_visible()


def submit_password(page: Page, email: str, password: str = PASSWORD) -> None:
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()


def set_up_two_factor(page: Page) -> tuple[pyotp.TOTP, list[str]]:
    """From the off state: the key as text, a code from it, the recovery codes."""
    page.get_by_role("button", name="Set up two-factor sign-in").click()
    expect(page.get_by_role("img", name="QR code")).to_be_visible()
    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    totp = pyotp.TOTP(secret)
    code = page.get_by_label("6-digit code")
    expect(code).to_have_attribute("inputmode", "numeric")
    expect(code).to_have_attribute("autocomplete", "one-time-code")
    code.fill(totp.now())
    page.get_by_role("button", name="Turn on").click()
    expect(page.get_by_role("heading", name="Two-factor sign-in is on")).to_be_visible()
    expect(page.get_by_text("they will not be shown again")).to_be_visible()
    codes = page.locator("#recovery-codes li")
    expect(codes).to_have_count(10)
    return totp, codes.all_inner_texts()


def test_patient_turns_two_factor_on_signs_in_with_it_and_turns_it_off(
    pwa: Page, server_url, patient
):
    sign_in(pwa, server_url, patient.email)
    pwa.get_by_role("link", name="More").click()
    pwa.get_by_role("link", name="Security").click()
    expect(pwa.get_by_role("heading", level=1, name="Security")).to_be_visible()
    expect(pwa.get_by_role("heading", name="Two-factor sign-in is off")).to_be_visible()

    pwa.set_viewport_size({"width": 320, "height": 640})  # the narrowest phone
    totp, recovery = set_up_two_factor(pwa)
    assert not pwa.evaluate(WIDER_THAN_SCREEN)
    assert all(re.fullmatch(r"[0-9a-f]{6}-[0-9a-f]{6}", c) for c in recovery), recovery
    assert pwa.evaluate(ME)["totp_enabled"]
    pwa.get_by_role("button", name="Done").click()
    expect(pwa.get_by_role("button", name="Make new recovery codes")).to_be_visible()

    # signing in again, the code is a question, not an error
    sign_out_patient(pwa, server_url)
    submit_password(pwa, patient.email)
    code = pwa.get_by_label("Enter the 6-digit code from your authenticator app")
    expect(code).to_be_focused()
    expect(code).to_have_attribute("inputmode", "numeric")
    expect(code).to_have_attribute("autocomplete", "one-time-code")
    expect(pwa.get_by_role("alert")).to_have_count(0)
    pwa.get_by_role("button", name="Use a recovery code instead").click()
    pwa.get_by_label("Enter one of your recovery codes").fill(recovery[0])
    pwa.get_by_role("button", name="Sign in").click()
    expect(pwa.get_by_role("heading", level=1)).to_contain_text("Hello")

    # a recovery code works once
    sign_out_patient(pwa, server_url)
    submit_password(pwa, patient.email)
    code = pwa.get_by_label("Enter the 6-digit code from your authenticator app")
    code.fill(recovery[0])
    pwa.get_by_role("button", name="Sign in").click()
    expect(pwa.get_by_role("alert")).to_have_text("That code is not right.")
    code.fill(totp.at(time.time() + 30))  # the enrolment code is spent
    pwa.get_by_role("button", name="Sign in").click()
    expect(pwa.get_by_role("heading", level=1)).to_contain_text("Hello")

    # new recovery codes, with the password; the old ones stop working
    pwa.goto(server_url + "/#/security")
    pwa.get_by_role("button", name="Make new recovery codes").click()
    pwa.get_by_label("Your password, to make new recovery codes").fill(PASSWORD)
    pwa.get_by_role("button", name="Make new codes").click()
    expect(pwa.get_by_role("heading", name="New recovery codes")).to_be_visible()
    fresh = pwa.locator("#recovery-codes li")
    expect(fresh).to_have_count(10)
    assert not set(fresh.all_inner_texts()) & set(recovery)
    pwa.get_by_role("button", name="Done").click()

    # turning it off asks the password, then for a confirmation
    pwa.get_by_role("button", name="Turn off two-factor").click()
    password = pwa.get_by_label("Your password, to turn two-factor sign-in off")
    password.fill("not-my-password-at-all")
    pwa.locator("form").get_by_role("button", name="Turn off").click()
    pwa.get_by_role("dialog").get_by_role("button", name="Turn off").click()
    expect(pwa.get_by_role("alert")).to_be_visible()
    assert pwa.evaluate(ME)["totp_enabled"]
    password.fill(PASSWORD)
    pwa.locator("form").get_by_role("button", name="Turn off").click()
    pwa.get_by_role("dialog").get_by_role("button", name="Turn off").click()
    expect(pwa.get_by_role("heading", name="Two-factor sign-in is off")).to_be_visible()
    assert not pwa.evaluate(ME)["totp_enabled"]


@pytest.mark.app_config(REQUIRE_THERAPIST_TOTP=True)
def test_required_two_factor_lands_a_therapist_on_set_up_then_the_caseload(
    pwa: Page, server_url, therapist
):
    """Where the clinic requires two-factor sign-in, a therapist without it sees the
    set-up screen (not a dead end) and only Sign out, then the caseload."""
    pwa.set_viewport_size(LAPTOP)
    pwa.goto(server_url + "/#/signin")
    submit_password(pwa, therapist.email)
    set_device_pin(pwa)
    expect(pwa.get_by_role("heading", level=1, name="Set up two-factor sign-in")).to_be_visible()
    expect(pwa.get_by_text("Your clinic requires two-factor sign-in")).to_be_visible()
    expect(pwa.get_by_role("link", name="Caseload")).to_be_hidden()
    expect(pwa.get_by_role("link", name="Account")).to_be_hidden()
    expect(pwa.get_by_role("button", name="Sign out")).to_be_visible()
    pwa.goto(server_url + "/#/flags")  # any route: the same set-up screen
    expect(pwa.get_by_role("heading", level=1, name="Set up two-factor sign-in")).to_be_visible()

    set_up_two_factor(pwa)
    pwa.get_by_role("button", name="Done").click()
    expect(pwa.get_by_role("heading", level=1, name="Caseload")).to_be_visible()
    expect(pwa.get_by_role("link", name="Caseload")).to_be_visible()

    # Account: it is on, and it stays on while the clinic requires it
    pwa.get_by_role("link", name="Account").click()
    expect(pwa.get_by_role("heading", name="Two-factor sign-in is on")).to_be_visible()
    expect(pwa.get_by_text("Your clinic requires it, so it stays on.")).to_be_visible()
    expect(pwa.get_by_role("button", name="Turn off two-factor")).to_have_count(0)


def test_therapist_turns_two_factor_on_from_account(pwa: Page, server_url, therapist):
    pwa.set_viewport_size(LAPTOP)
    pwa.goto(server_url + "/#/signin")
    submit_password(pwa, therapist.email)
    set_device_pin(pwa)
    expect(pwa.get_by_role("heading", level=1, name="Caseload")).to_be_visible()
    pwa.get_by_role("link", name="Account").click()
    expect(pwa.get_by_role("link", name="Account")).to_have_attribute("aria-current", "page")
    set_up_two_factor(pwa)
    pwa.get_by_role("button", name="Done").click()
    expect(pwa.get_by_role("button", name="Turn off two-factor")).to_be_visible()


FORGOT_ANSWER = "If an account exists for that address, we have sent a link to reset its password."


def test_forgotten_password_is_reset_from_the_mailed_link(
    pwa: Page, app, server_url, patient, mailbox
):
    app.config["SMTP_URL"] = mailbox.url
    pwa.goto(server_url + "/#/signin")
    pwa.get_by_role("link", name="Forgot your password?").click()
    expect(pwa.get_by_role("heading", level=1, name="Forgot your password?")).to_be_visible()

    # the same answer for an address nobody uses
    pwa.get_by_label("Email").fill("nobody-here@example.test")
    pwa.get_by_role("button", name="Send me a link").click()
    expect(pwa.get_by_role("status").filter(has_text=FORGOT_ANSWER)).to_be_visible()
    pwa.reload()
    pwa.get_by_label("Email").fill(patient.email)
    pwa.get_by_role("button", name="Send me a link").click()
    expect(pwa.get_by_role("status").filter(has_text=FORGOT_ANSWER)).to_be_visible()

    (mail,) = mailbox.wait_for(patient.email)
    body = mail.get_body(preferencelist=("plain",)).get_content()
    link = re.search(r"\S+/#/reset/\S+", body).group(0)
    token = link.rsplit("/", 1)[1]

    reset = server_url + "/#/reset/" + token
    pwa.goto(reset)
    new_password = pwa.get_by_label("New password")
    expect(new_password).to_have_attribute("autocomplete", "new-password")
    expect(pwa.get_by_text("At least 10 characters")).to_be_visible()
    new_password.fill("aaaaaaaaaaaa")  # long enough for the browser, refused by the server
    pwa.get_by_role("button", name="Change password").click()
    expect(pwa.get_by_role("alert")).to_contain_text("too common")
    new_password.fill("a-brand-new-passphrase")
    pwa.get_by_role("button", name="Change password").click()
    expect(pwa.get_by_role("heading", level=1, name="Sign in")).to_be_visible()
    expect(pwa.get_by_role("status").filter(has_text="Your password is changed.")).to_have_text(
        "Your password is changed. Sign in with the new one."
    )

    # the link works once
    pwa.goto(reset)
    pwa.get_by_label("New password").fill("another-new-passphrase")
    pwa.get_by_role("button", name="Change password").click()
    expect(pwa.get_by_role("alert")).to_contain_text("This link has expired or was already used.")
    expect(pwa.get_by_role("link", name="Ask for a new link")).to_have_attribute(
        "href", "#/signin/forgot"
    )

    pwa.goto(server_url + "/#/signin")
    submit_password(pwa, patient.email, "a-brand-new-passphrase")
    expect(pwa.get_by_role("heading", level=1)).to_contain_text("Hello")


def test_therapist_signs_up_from_the_clinic_invitation(pwa: Page, app, server_url):
    from server.auth import service
    from server.extensions import db

    with app.app_context():
        _invite, token = service.create_therapist_invite("invited@example.test", "Dr Invited")
        db.session.commit()

    pwa.set_viewport_size(LAPTOP)
    pwa.goto(server_url + "/#/signin/therapist/not-a-real-token")
    expect(
        pwa.get_by_text("This invitation has expired or was already used. Ask your clinic")
    ).to_be_visible()

    pwa.goto(server_url + "/#/signin/therapist/" + token)
    email = pwa.get_by_label("Email")
    expect(email).to_have_value("invited@example.test")
    expect(email).not_to_be_editable()
    expect(pwa.get_by_label("Your name")).to_have_value("Dr Invited")
    pwa.get_by_label("Password").fill("a-long-therapist-passphrase")
    pwa.get_by_role("button", name="Create my account").click()
    set_device_pin(pwa)
    expect(pwa.get_by_role("heading", level=1, name="Caseload")).to_be_visible()
    me = pwa.evaluate(ME)
    assert (me["role"], me["email"], me["display_name"]) == (
        "therapist",
        "invited@example.test",
        "Dr Invited",
    )
