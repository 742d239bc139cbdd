"""A clinic's first day, in production: the operator invites a therapist, who signs up
from the mailed link and is led to two-factor set-up; a patient joins, gives a risk
answer, and the therapist gets a mail with no health words and sees the flag first."""

from __future__ import annotations

import re

import pyotp
import pytest
from playwright.sync_api import expect

from tests.api.test_flag_mail import HEALTH_WORDS
from tests.conftest import fresh_database
from tests.e2e.production import start_clinic
from tests.e2e.pwa import set_device_pin, unlock_device
from tests.mailbox import text_of

THERAPIST = "dr.rivera@clinic.test"
PASSPHRASE = "a-long-clinic-passphrase"


@pytest.fixture
def clinic(tmp_path, mailbox):
    with fresh_database(tmp_path) as database_url:
        deployment = start_clinic(tmp_path, database_url, mailbox.url)
        try:
            yield deployment
        finally:
            deployment.stop()


def link_in(message, fragment: str) -> str:
    return re.search(rf"https://\S+#/{fragment}/\S+", text_of(message)).group(0)


def test_a_clinic_runs_in_production(clinic, mailbox, browser):
    # the operator invites the first therapist
    invited = clinic.flask("therapists", "invite", THERAPIST, "--name", "Dr Rivera")
    assert invited.returncode == 0, invited.stderr
    (invite_mail,) = mailbox.wait_for(THERAPIST)
    signup_link = link_in(invite_mail, "signin/therapist")
    assert signup_link.startswith(clinic.url + "/")
    assert signup_link in invited.stdout

    # nobody registers as a therapist without it
    refused = clinic.http.post(
        clinic.url + "/api/v1/auth/register",
        json={
            "email": "mallory@example.test",
            "password": PASSPHRASE,
            "display_name": "Mallory",
            "role": "therapist",
        },
    )
    assert refused.status_code == 403

    desk = browser.new_context(ignore_https_errors=True, viewport={"width": 1280, "height": 800})
    desk.set_default_timeout(60_000)  # gunicorn, the worker and the browser share 2 cores
    t = desk.new_page()
    t.goto(signup_link)
    expect(t.get_by_label("Email")).to_have_value(THERAPIST)
    t.get_by_label("Password").fill(PASSPHRASE)
    t.get_by_role("button", name="Create my account").click()
    set_device_pin(t)

    # production requires two-factor: the therapist lands on its set-up, not a dead end
    expect(t.get_by_text("requires two-factor sign-in")).to_be_visible()
    cookie = next(c for c in desk.cookies() if c["name"] == "between_session")
    assert cookie["secure"] and cookie["httpOnly"]
    t.get_by_role("button", name=re.compile("Set up two-factor")).click()
    secret = t.locator("#totp-secret").inner_text().replace(" ", "")
    expect(t.get_by_role("img", name=re.compile("QR code"))).to_be_visible()
    code = t.get_by_label(re.compile("6-digit code"))
    expect(code).to_have_attribute("inputmode", "numeric")
    code.fill(pyotp.TOTP(secret).now())
    t.get_by_role("button", name="Turn on").click()
    recovery = t.locator("#recovery-codes")
    expect(recovery).to_be_visible()
    assert len(re.findall(r"\b[0-9a-f]{6}-[0-9a-f]{6}\b", recovery.inner_text())) == 10
    t.get_by_role("button", name="Done").click()

    # the caseload: invite two patients; Aaron joins first and gives no risk answer
    expect(t.get_by_role("link", name="Caseload")).to_be_visible()
    codes = []
    for _ in range(2):
        t.get_by_role("button", name="Invite a patient").click()
        expect(t.locator("#invite-code")).not_to_have_text(codes[-1] if codes else "")
        codes.append(t.locator("#invite-code").inner_text())
    aaron_code, patient_code = codes
    aaron = clinic.http
    made = aaron.post(
        clinic.url + "/api/v1/auth/register",
        json={
            "email": "aaron@example.test",
            "password": PASSPHRASE,
            "display_name": "Aaron",
            "role": "patient",
        },
    )
    assert made.status_code == 201
    assert aaron.post(clinic.url + "/api/v1/care-team/join", json={"code": aaron_code}).ok

    phone = browser.new_context(ignore_https_errors=True, viewport={"width": 390, "height": 844})
    phone.set_default_timeout(60_000)
    p = phone.new_page()
    p.goto(clinic.url + "/#/signin/create")
    p.get_by_label("Your name").fill("Sam")
    p.get_by_label("Email").fill("sam@example.test")
    p.get_by_label("Password").fill(PASSPHRASE)
    p.get_by_role("button", name="Create account").click()
    p.get_by_label("Code from your therapist").fill(patient_code)
    p.get_by_role("button", name="Join").click()
    expect(p.get_by_text("You joined Dr Rivera")).to_be_visible()

    # the patient answers a PHQ-9 with item 9 above 0
    p.goto(clinic.url + "/#/checkin/phq9")
    for _ in range(8):
        p.get_by_role("button", name="Not at all").click()
    expect(p.get_by_text("Question 9 of 10")).to_be_visible()
    p.get_by_role("button", name="Several days").click()
    expect(p.get_by_role("heading", name="Help now")).to_be_visible()

    # the worker mails the therapist: generic words and a link, nothing of the patient
    alerts = mailbox.wait_for(THERAPIST, count=2)
    alert = alerts[-1]
    assert "needs attention" in alert["Subject"]
    whole = alert.as_string()
    assert not HEALTH_WORDS.search(whole), HEALTH_WORDS.search(whole)
    assert "Sam" not in whole and "sam@example.test" not in whole
    assert f"{clinic.url}/#/flags" in text_of(alert)

    # and the therapist sees the flag first on the caseload
    t.goto(clinic.url + "/#/caseload")
    t.reload()
    unlock_device(t)
    expect(t.locator("table tbody tr")).to_have_count(2)
    first_row = t.locator("table tbody tr").first
    expect(first_row).to_contain_text("Sam")
    expect(first_row).to_contain_text(re.compile("open", re.IGNORECASE))

    # what the logs said carries none of it
    for name in ("web", "worker"):
        logged = "".join(line for line in clinic.outputs[name].lines if line)
        assert "sam@example.test" not in logged and secret not in logged
        assert "Traceback" not in logged, logged[-3000:]
    desk.close()
    phone.close()
