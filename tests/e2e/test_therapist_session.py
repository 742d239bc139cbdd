"""Session safety on a therapist's laptop: the idle timeout is visible before it
strikes ("You'll be signed out in 2 minutes"), activity puts it off, and when it runs
out the app signs out and nothing about patients is left on the device; a tab the app
lock closed and nobody came back to signs out all the same."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.e2e.pwa import DEVICE_ROWS, LAPTOP, lock_screen, sign_in_therapist
from tests.e2e.seed import seed_demo_caseload

ME = "() => fetch('/api/v1/auth/me').then((r) => r.status)"


def test_idle_therapist_is_warned_then_signed_out_and_the_device_wiped(
    browser, app, server_url, page_errors
):
    # a clinic whose sessions end sooner than the therapist's app lock locks: the app
    # itself warns, then signs out
    therapist_timeouts = (10 * 60, app.config["SESSION_TIMEOUTS"]["therapist"][1])
    app.config["SESSION_TIMEOUTS"] = {
        **app.config["SESSION_TIMEOUTS"],
        "therapist": therapist_timeouts,
    }
    demo = seed_demo_caseload(app)
    context = browser.new_context(viewport=LAPTOP)
    page = page_errors.watch(context.new_page())
    page.clock.install()  # the app's timers and Date, moved by the test (the server's are real)
    sign_in_therapist(page, server_url, demo["therapist"], demo["password"])
    page.get_by_role("link", name="App lock").click()
    page.get_by_label("Lock after").select_option(label="15 minutes")
    expect(page.get_by_role("status").filter(has_text="Lock settings saved")).to_be_visible()
    page.goto(f"{server_url}/#/patient/{demo['patient_id']}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Brief: Demo Patient")
    warning = page.locator("#idle-warning")
    expect(warning).to_be_hidden()

    page.clock.fast_forward("08:30")
    expect(warning).to_be_visible()
    expect(warning.locator("p")).to_have_text("You'll be signed out in 2 minutes")
    page.clock.fast_forward("01:15")
    expect(warning.locator("p")).to_have_text("You'll be signed out in less than a minute")

    warning.get_by_role("button", name="Stay signed in").click()
    expect(warning).to_be_hidden()
    page.clock.fast_forward("07:00")
    expect(warning).to_be_hidden()  # the click restarted the clock
    expect(page.get_by_role("heading", level=1)).to_have_text("Brief: Demo Patient")

    page.clock.fast_forward("03:01")
    expect(page.get_by_role("heading", level=1, name="Sign in")).to_be_visible()
    expect(page.locator("#signed-out-banner")).to_contain_text(
        "signed out after a while without activity"
    )
    expect(page.get_by_text("Demo Patient")).to_have_count(0)
    assert not any(page.evaluate(DEVICE_ROWS).values())
    assert page.evaluate(ME) == 401  # the server session ended too
    context.close()


def test_a_locked_forgotten_tab_signs_out_when_the_session_would_have(
    browser, app, server_url, page_errors
):
    demo = seed_demo_caseload(app)
    context = browser.new_context(viewport=LAPTOP)
    page = page_errors.watch(context.new_page())
    page.clock.install()
    sign_in_therapist(
        page, server_url, demo["therapist"], demo["password"]
    )  # locks after 5 minutes
    page.goto(f"{server_url}/#/patient/{demo['patient_id']}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Brief: Demo Patient")

    page.clock.fast_forward("05:10")
    lock_screen(page)
    expect(page.get_by_text("Demo Patient")).to_have_count(0)
    page.clock.fast_forward("24:00")
    lock_screen(page)  # 29 minutes without a touch: still only locked
    page.clock.fast_forward("01:00")
    expect(page.get_by_role("heading", level=1, name="Sign in")).to_be_visible()
    expect(page.locator("#signed-out-banner")).to_contain_text(
        "signed out after a while without activity"
    )
    assert not any(page.evaluate(DEVICE_ROWS).values())
    assert page.evaluate(ME) == 401  # the server session ended too
    context.close()


def test_signing_out_wipes_the_device_and_the_patient_app_works_after(
    browser, app, server_url, page_errors, make_patient
):
    demo = seed_demo_caseload(app)
    context = browser.new_context(viewport=LAPTOP)
    page = page_errors.watch(context.new_page())
    sign_in_therapist(page, server_url, demo["therapist"], demo["password"])
    # the caseload's search, sort and invite, on the way
    page.get_by_label("Search patients").fill("four")
    expect(page.locator("#caseload-count")).to_have_text("1 of 4 patients")
    page.get_by_label("Search patients").fill("")
    page.get_by_label("Sort by").select_option("name")
    expect(page.locator("#caseload tbody tr th")).to_have_text(
        ["Demo Patient", "Demo Patient Four", "Demo Patient Three", "Demo Patient Two"]
    )
    page.get_by_role("button", name="Invite a patient").click()
    code = page.locator("#invite-code")
    expect(code).to_have_text(re.compile(r"\S{6,}"))
    # the link carries the code, so the patient need not type it
    expect(page.locator("#invite-link")).to_have_attribute(
        "href", re.compile(r"/#/signin/create\?code=" + re.escape(code.inner_text()) + "$")
    )
    joined = make_patient().post("/api/v1/care-team/join", json={"code": code.inner_text()})
    assert joined.status_code == 201, joined.json

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", level=1, name="Sign in")).to_be_visible()
    expect(page.locator("#signed-out-banner")).to_contain_text("Signed out")
    assert not any(page.evaluate(DEVICE_ROWS).values())
    assert page.evaluate(ME) == 401
    # the same browser, a patient: the patient's app, tab bar and all
    patient = make_patient()
    page.get_by_label("Email").fill(patient.email)
    page.get_by_label("Password").fill(patient.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Hello")
    expect(page.locator("#tabbar")).to_be_visible()
    expect(page.get_by_role("link", name="Help now")).to_be_visible()
    expect(page.locator("#sync-status")).to_have_text("All synced", timeout=15_000)
    context.close()


def test_a_session_ended_on_the_server_signs_out_and_wipes_at_the_next_request(
    browser, app, server_url, page_errors
):
    demo = seed_demo_caseload(app)
    context = browser.new_context(viewport=LAPTOP)
    page = page_errors.watch(context.new_page())
    sign_in_therapist(page, server_url, demo["therapist"], demo["password"])
    # the therapist ends this browser's session from another device
    other = app.test_client()
    login = {"email": demo["therapist"], "password": demo["password"]}
    assert other.post("/api/v1/auth/login", json=login).status_code == 200
    [browser_session] = [s for s in other.get("/api/v1/auth/sessions").json if not s["current"]]
    assert other.delete(f"/api/v1/auth/sessions/{browser_session['id']}").status_code == 204

    page.get_by_role("link", name="Flags", exact=True).click()
    expect(page.get_by_role("heading", level=1, name="Sign in")).to_be_visible()
    expect(page.locator("#signed-out-banner")).to_contain_text("Your sign-in has ended")
    expect(page.locator("#expired-banner")).to_have_count(0)
    assert not any(page.evaluate(DEVICE_ROWS).values())
    context.close()
