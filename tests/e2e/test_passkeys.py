"""Passkeys in the app, through Chromium's virtual authenticator (DevTools WebAuthn):
a patient adds one in Security and signs in with it; a therapist in a production
clinic that requires two-factor sign-in adds one instead of an authenticator app and
then signs in with it alone, never asked for a code.

WebAuthn needs a valid RP ID: 127.0.0.1 is none, so the browser opens the app at
localhost (the same server, the same port)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import fresh_database
from tests.e2e import production
from tests.e2e.pwa import LAPTOP, set_device_pin, sign_in
from tests.e2e.test_account_security import sign_out_patient, submit_password
from tests.factories import PASSWORD

# a phone's own authenticator, unlocked by its owner (user verification)
AUTHENTICATOR = {
    "protocol": "ctap2",
    "transport": "internal",
    "hasResidentKey": True,
    "hasUserVerification": True,
    "isUserVerified": True,
}


def localhost(url: str) -> str:
    return url.replace("://127.0.0.1:", "://localhost:")


def with_authenticator(page: Page):
    """Give the page a platform authenticator; returns it as (DevTools session, id)."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    added = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": AUTHENTICATOR})
    return cdp, added["authenticatorId"]


def stored_credentials(cdp, authenticator_id: str) -> list:
    return cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator_id})["credentials"]


def add_passkey(page: Page, name: str) -> None:
    page.get_by_role("button", name="Add a passkey").click()
    page.get_by_label("Name for this passkey").fill(name)
    page.get_by_label("Your password, to add a passkey").fill(PASSWORD)
    page.get_by_role("button", name="Add passkey").click()


def test_patient_adds_a_passkey_and_signs_in_with_it(pwa: Page, server_url, patient):
    url = localhost(server_url)
    cdp, authenticator = with_authenticator(pwa)
    sign_in(pwa, url, patient.email)
    pwa.goto(url + "/#/security")
    passkeys = pwa.locator("#passkey-list")
    expect(passkeys).to_contain_text("No passkeys yet.")

    add_passkey(pwa, "My phone")
    expect(passkeys.get_by_role("listitem")).to_have_count(1)
    expect(passkeys).to_contain_text("My phone")
    expect(passkeys).to_contain_text("Not used yet")
    (credential,) = stored_credentials(cdp, authenticator)
    assert credential["isResidentCredential"] and credential["rpId"] == "localhost"

    pwa.get_by_role("button", name="Rename My phone").click()
    pwa.get_by_label("New name").fill("Phone in the blue case")
    pwa.get_by_role("button", name="Save name").click()
    expect(passkeys).to_contain_text("Phone in the blue case")

    sign_out_patient(pwa, url)
    pwa.get_by_role("button", name="Use a passkey").click()
    expect(pwa.get_by_role("heading", level=1)).to_contain_text("Hello")
    pwa.goto(url + "/#/security")
    expect(passkeys).to_contain_text("Last used")

    # removed, it signs in no more (the authenticator still offers it)
    pwa.get_by_role("button", name="Remove Phone in the blue case").click()
    pwa.get_by_role("dialog").get_by_role("button", name="Remove").click()
    expect(passkeys).to_contain_text("No passkeys yet.")
    sign_out_patient(pwa, url)
    pwa.get_by_role("button", name="Use a passkey").click()
    expect(pwa.get_by_role("alert")).to_contain_text("did not sign you in")
    expect(pwa.get_by_role("heading", level=1, name="Sign in")).to_be_visible()


THERAPIST = "dr.okafor@clinic.test"


@pytest.fixture
def clinic(tmp_path, mailbox, monkeypatch):
    """A production deployment whose public address is https://localhost:PORT (the
    throw-away certificate names localhost too), so it can be a WebAuthn RP ID."""
    made = production.production_env

    def at_localhost(database_url, smtp_url, port):
        env = made(database_url, smtp_url, port)
        return {**env, "PUBLIC_URL": localhost(env["PUBLIC_URL"])}

    monkeypatch.setattr(production, "production_env", at_localhost)
    with fresh_database(tmp_path) as database_url:
        deployment = production.start_clinic(tmp_path, database_url, mailbox.url)
        try:
            yield deployment
        finally:
            deployment.stop()


def test_therapist_signs_in_with_a_passkey_and_no_code_in_production(clinic, browser):
    invited = clinic.flask("therapists", "invite", THERAPIST, "--name", "Dr Okafor")
    assert invited.returncode == 0, invited.stderr
    token = re.search(r"#/signin/therapist/(\S+)", invited.stdout).group(1)
    signed_up = clinic.http.post(
        clinic.url + "/api/v1/auth/register",
        json={
            "email": THERAPIST,
            "password": PASSWORD,
            "display_name": "Dr Okafor",
            "role": "therapist",
            "therapist_invite": token,
        },
    )
    assert signed_up.status_code == 201, signed_up.text

    url = localhost(clinic.url)
    desk = browser.new_context(ignore_https_errors=True, viewport=LAPTOP)
    desk.set_default_timeout(60_000)  # gunicorn, the worker and the browser share 2 cores
    t = desk.new_page()
    with_authenticator(t)

    # the clinic requires two-factor sign-in: a passkey instead of an authenticator app
    t.goto(url + "/#/signin")
    submit_password(t, THERAPIST)
    set_device_pin(t)  # a therapist's device: the app lock first
    expect(t.get_by_role("heading", level=1, name="Set up two-factor sign-in")).to_be_visible()
    add_passkey(t, "Desk laptop")
    expect(t.get_by_role("heading", level=1, name="Caseload")).to_be_visible()

    # the password alone is one factor now: it points to the passkey
    t.get_by_role("button", name="Sign out").click()
    expect(t.get_by_role("heading", level=1, name="Sign in")).to_be_visible()
    submit_password(t, THERAPIST)
    expect(t.get_by_role("alert")).to_contain_text("sign in with your passkey")
    expect(t.get_by_label("Enter the 6-digit code from your authenticator app")).to_be_hidden()

    # the passkey is both factors: no code, no set-up, straight to the caseload
    t.get_by_role("button", name="Use a passkey").click()
    set_device_pin(t)  # signing out took the device copy and its lock with it
    expect(t.get_by_role("heading", level=1, name="Caseload")).to_be_visible()
    expect(t.get_by_role("link", name="Caseload")).to_be_visible()
    expect(t.get_by_text("requires two-factor sign-in")).to_be_hidden()
    cookie = next(c for c in desk.cookies() if c["name"] == "between_session")
    assert cookie["secure"] and cookie["httpOnly"]

    # Account lists it as used, and keeps it: it is the only second factor
    t.get_by_role("link", name="Account").click()
    passkeys = t.locator("#passkey-list")
    expect(passkeys).to_contain_text("Desk laptop")
    expect(passkeys).to_contain_text("Last used")
    t.get_by_role("button", name="Remove Desk laptop").click()
    t.get_by_role("dialog").get_by_role("button", name="Remove").click()
    expect(t.get_by_role("alert")).to_contain_text("only second factor")
    desk.close()
