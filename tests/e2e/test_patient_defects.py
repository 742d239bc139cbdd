"""Issue 18: the patient's Privacy, More, Reminders, Plan and join screens, as a person
meets them on a small phone: export, deleting with unsent changes, coming back online,
plain words for push failures, device names, the access log, plan versions."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.e2e.pwa import sign_in, wait_for_worker, wait_synced, write_entry
from tests.factories import PASSWORD, make_actor

SMALL = {"width": 320, "height": 640}
# a page that scrolls sideways is wider than the window it is shown in
SIDEWAYS = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
LONG_STEP = "x" * 5000


def no_sideways_scroll(page: Page) -> None:
    assert page.evaluate(SIDEWAYS) <= 0, f"{page.url} scrolls sideways at 320 px"


# -- Privacy -------------------------------------------------------------------------------


def test_export_downloads_my_entries_as_json(pwa: Page, server_url, account):
    sign_in(pwa, server_url, account.email)
    write_entry(pwa, "The river was high today.")
    wait_synced(pwa)
    pwa.goto(server_url + "/#/privacy")
    with pwa.expect_download() as download:
        pwa.get_by_role("button", name="Export my data").click()
    assert download.value.suggested_filename.endswith(".json")
    document = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))
    assert [e["body"] for e in document["journal_entries"]] == ["The river was high today."]
    expect(pwa.locator("#toast")).to_have_text("Your data was downloaded")


def test_delete_warns_of_unsent_changes_and_a_wrong_password_can_be_retried(
    pwa: Page, context, server_url, account
):
    sign_in(pwa, server_url, account.email)
    wait_for_worker(pwa)
    context.set_offline(True)
    write_entry(pwa, "Written on the train.")
    pwa.goto(server_url + "/#/privacy")
    pwa.get_by_role("button", name="Delete my account").click()
    warning = pwa.get_by_role("dialog")
    expect(warning).to_contain_text("Some changes are not sent yet")
    expect(warning).to_contain_text("1 change has not reached the server")
    warning.get_by_role("button", name="Cancel").click()
    expect(pwa.get_by_role("dialog")).to_have_count(0)

    context.set_offline(False)
    wait_synced(pwa)
    pwa.get_by_role("button", name="Delete my account").click()
    sheet = pwa.get_by_role("dialog")
    expect(sheet).to_contain_text("This deletes your account")
    sheet.get_by_label("Your password").fill("not-my-password")
    sheet.get_by_role("button", name="Delete everything").click()
    expect(sheet.get_by_role("alert")).to_have_text("This is not your password.")
    expect(sheet).to_be_visible()
    expect(sheet.get_by_label("Your password")).to_be_focused()

    sheet.get_by_label("Your password").fill(PASSWORD)
    sheet.get_by_role("button", name="Delete everything").click()
    expect(pwa.locator("#toast")).to_have_text("Your account was deleted")
    assert account.get("/api/v1/auth/me").status_code == 401


DEVICES = {
    "Samsung Internet on Android": "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 "
    "(KHTML, like Gecko) SamsungBrowser/24.0 Chrome/117.0.0.0 Mobile Safari/537.36",
    "Safari on iPhone": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) "
    "AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
    "Chrome on iPad": "Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) CriOS/123.0.6312.52 Mobile/15E148 Safari/604.1",
    "Edge on Windows": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, "
    "like Gecko) Chrome/123.0.0.0 Safari/537.36 Edg/123.0.2420.65",
    "Firefox on macOS": "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.4; rv:124.0) Gecko/20100101 "
    "Firefox/124.0",
}


def test_devices_are_named_by_browser_and_system_with_this_device_marked(
    pwa: Page, server_url, app, account
):
    for agent in DEVICES.values():
        client = app.test_client()
        response = client.post(
            "/api/v1/auth/login",
            json={"email": account.email, "password": PASSWORD},
            headers={"User-Agent": agent},
        )
        assert response.status_code == 200, response.json
    sign_in(pwa, server_url, account.email)
    pwa.goto(server_url + "/#/privacy")
    devices = pwa.locator("#devices")
    for name in DEVICES:
        expect(devices.locator("li").filter(has_text=name)).to_have_count(1)
    this = devices.locator("li").filter(has_text="This device")
    expect(this).to_have_count(1)
    expect(this).to_contain_text("Chrome on Linux")
    expect(this).to_contain_text("Last used")
    expect(devices).not_to_contain_text(re.compile(r"\d:\d\d:\d\d"))  # no seconds


def test_access_log_says_in_words_what_was_seen(pwa: Page, server_url, account, therapist, link):
    link(therapist, account)
    starts = (datetime.now(UTC) + timedelta(days=3)).isoformat()
    assert (
        therapist.post(
            f"/api/v1/patients/{account.id}/sessions",
            json={"kind": "dosing", "starts_at": starts},
        ).status_code
        == 201
    )
    assert therapist.get(f"/api/v1/patients/{account.id}/sessions").status_code == 200
    sign_in(pwa, server_url, account.email)
    pwa.goto(server_url + "/#/privacy")
    log = pwa.locator("#access-log")
    expect(log).to_contain_text("a session on your timeline")
    expect(log).to_contain_text("looked at a session on your timeline")
    expect(log).not_to_contain_text("treatment_session")
    expect(log).not_to_contain_text("_")


# -- coming back online --------------------------------------------------------------------


def test_privacy_more_and_reminders_load_when_the_network_returns(
    pwa: Page, context, server_url, account
):
    sign_in(pwa, server_url, account.email)
    wait_for_worker(pwa)
    context.set_offline(True)
    pwa.goto(server_url + "/#/privacy")
    expect(pwa.locator("#devices-title + p")).to_have_text("Connect to see this.")
    context.set_offline(False)
    expect(pwa.locator("#devices li").filter(has_text="This device")).to_have_count(1)
    expect(pwa.locator("#access-log, #access-title + p")).to_contain_text("Nobody else")

    context.set_offline(True)
    pwa.goto(server_url + "/#/more")
    expect(pwa.get_by_text("Connect to see your care team.")).to_be_visible()
    context.set_offline(False)
    expect(pwa.get_by_text("You are not linked to a therapist in Between.")).to_be_visible()
    expect(pwa.get_by_text("Connect to see your care team.")).to_have_count(0)

    context.set_offline(True)
    pwa.goto(server_url + "/#/reminders")
    expect(pwa.get_by_text("connect to change them")).to_be_visible()
    context.set_offline(False)
    expect(pwa.get_by_role("button", name="Save reminders")).to_be_visible()
    expect(pwa.get_by_text("connect to change them")).to_have_count(0)

    # a view that was left does not reload on top of the next one
    context.set_offline(True)
    pwa.goto(server_url + "/#/privacy")
    pwa.goto(server_url + "/#/journal")
    asked = []
    pwa.on("request", lambda r: "/api/v1/auth/sessions" in r.url and asked.append(r.url))
    context.set_offline(False)
    expect(pwa.get_by_role("heading", level=1)).to_have_text("Journal")
    # a left view's listener would ask for the devices in the same `online` event that
    # starts this sync: once the sync has run, its request would have been seen
    wait_synced(pwa)
    assert asked == []
    expect(pwa.locator("#devices")).to_have_count(0)


# -- Reminders -----------------------------------------------------------------------------


def daily_reminder(account) -> None:
    version = account.get("/api/v1/reminders").json["version"]
    daily = {"enabled": True, "times": ["20:00"]}
    response = account.put("/api/v1/reminders", json={"version": version, "daily_checkin": daily})
    assert response.status_code == 200, response.json
    assert response.json["next_due_at"]


def test_reminders_fit_a_small_phone_with_dates_in_my_words(
    browser, server_url, account, page_errors
):
    daily_reminder(account)
    context = browser.new_context(viewport=SMALL, has_touch=True, locale="en-GB")
    page = page_errors.watch(context.new_page())
    sign_in(page, server_url, account.email)
    page.goto(server_url + "/#/reminders")
    quiet = page.get_by_label("No notifications during quiet hours")
    quiet.check()
    expect(page.get_by_label("From")).to_be_visible()
    no_sideways_scroll(page)
    next_line = page.get_by_text("Next reminder:")
    expect(next_line).to_be_visible()
    text = next_line.inner_text()
    assert not re.search(r"\d:\d\d:\d\d", text), text  # no seconds
    assert not re.search(r"\d+/\d+/\d{4}", text), text  # not US numbers
    context.close()


def test_dates_survive_a_locale_the_browser_cannot_use(browser, server_url, account, page_errors):
    daily_reminder(account)
    context = browser.new_context(viewport=SMALL)
    # a system without a language (LANG=C) hands the browser a tag Intl refuses
    context.add_init_script(
        "Object.defineProperty(Navigator.prototype, 'language', { get: () => 'C' });"
        "Object.defineProperty(Navigator.prototype, 'languages', { get: () => ['C'] });"
    )
    page = page_errors.watch(context.new_page())
    sign_in(page, server_url, account.email)
    page.goto(server_url + "/#/reminders")
    expect(page.get_by_text(re.compile(r"Next reminder: \w+"))).to_be_visible()
    context.close()


SUBSCRIBE_REFUSED = """
PushManager.prototype.subscribe = () =>
  Promise.reject(new DOMException('Registration failed - permission denied', 'NotAllowedError'));
"""


def test_a_push_failure_is_told_in_plain_words(pwa: Page, context, server_url, account):
    context.grant_permissions(["notifications"], origin=server_url)
    context.add_init_script(SUBSCRIBE_REFUSED)
    sign_in(pwa, server_url, account.email)
    wait_for_worker(pwa)
    pwa.goto(server_url + "/#/reminders")
    pwa.get_by_role("button", name="Turn on notifications").click()
    card = pwa.locator("#notifications")
    expect(card).to_contain_text(
        "Notifications are blocked for Between in this browser’s settings."
    )
    expect(pwa.locator("#toast")).not_to_contain_text("Registration failed")
    expect(card).not_to_contain_text("Registration failed")


# -- Plan ----------------------------------------------------------------------------------


def section(page: Page, title: str):
    return page.locator("details").filter(has_text=title)


def test_plan_counts_follow_adding_and_an_unchanged_plan_is_not_saved(
    pwa: Page, server_url, account
):
    sign_in(pwa, server_url, account.email)
    pwa.goto(server_url + "/#/plan")
    pwa.get_by_role("button", name="Save plan").click()
    expect(pwa.get_by_role("status").filter(has_text="Nothing to save")).to_be_visible()

    signs = section(pwa, "My early warning signs")
    expect(signs.locator("summary")).to_contain_text("(0)")
    signs.get_by_role("button", name="Add").click()
    signs.get_by_role("textbox").last.fill("I skip meals")
    signs.get_by_role("button", name="Add").click()
    signs.get_by_role("textbox").last.fill("I stay in bed")
    expect(signs.locator("summary")).to_contain_text("(2)")
    signs.get_by_role("button", name="Remove item 2 from My early warning signs").click()
    expect(signs.locator("summary")).to_contain_text("(1)")
    pwa.get_by_role("button", name="Save plan").click()
    wait_synced(pwa)

    pwa.get_by_role("button", name="Save plan").click()
    expect(pwa.get_by_role("status").filter(has_text="Nothing to save")).to_be_visible()
    # leaving the plan runs a pending autosave at once: no waiting out its pause
    pwa.goto(server_url + "/#/today")
    expect(pwa.get_by_role("heading", level=1)).to_contain_text("Hello")
    wait_synced(pwa)
    revisions = account.get("/api/v1/plan/revisions").json
    assert [r["number"] for r in revisions] == [1]
    assert account.get("/api/v1/plan").json["warning_signs"] == [{"text": "I skip meals"}]


def test_an_old_plan_version_shows_what_changed_and_can_be_restored(pwa: Page, server_url, account):
    first = {"version": 0, "warning_signs": [{"text": "I skip meals"}]}
    assert account.put("/api/v1/plan", json=first).status_code == 200
    second = {
        "version": 1,
        "warning_signs": [{"text": "I stay in bed"}],
        "coping_steps": [{"text": "Walk around the block"}],
    }
    assert account.put("/api/v1/plan", json=second).status_code == 200
    sign_in(pwa, server_url, account.email)
    pwa.goto(server_url + "/#/plan")
    expect(section(pwa, "My early warning signs").locator("input")).to_have_value("I stay in bed")

    pwa.get_by_role("button", name="Version 2").click()
    sheet = pwa.get_by_role("dialog")
    changes = sheet.locator(".plan-diff")
    expect(changes).to_contain_text("What changed in this version")
    expect(changes.locator("li").filter(has_text="I stay in bed")).to_contain_text("Added")
    expect(changes.locator("li").filter(has_text="I skip meals")).to_contain_text("Removed")
    expect(changes.locator("li").filter(has_text="Walk around the block")).to_contain_text("Added")
    sheet.get_by_role("button", name="Close").click()

    pwa.get_by_role("button", name="Version 1").click()
    sheet = pwa.get_by_role("dialog")
    expect(sheet.locator(".plan-diff")).to_contain_text("I skip meals")
    sheet.get_by_role("button", name="Restore this version").click()
    expect(section(pwa, "My early warning signs").locator("input")).to_have_value("I skip meals")
    wait_synced(pwa)
    plan = account.get("/api/v1/plan").json
    assert plan["warning_signs"] == [{"text": "I skip meals"}]
    assert plan["coping_steps"] == []
    assert [r["number"] for r in account.get("/api/v1/plan/revisions").json] == [3, 2, 1]
    expect(pwa.get_by_role("button", name="Version 3")).to_be_visible()


def test_plan_and_a_version_fit_a_small_phone_with_a_very_long_step(
    browser, server_url, app, account, page_errors
):
    # the server's own save, without the API's length check: text this long can still
    # reach the screen (typed on the device, or kept from before the limit)
    from server.auth.models import User
    from server.extensions import db
    from server.plans import service

    with app.app_context():
        user = db.session.get(User, __import__("uuid").UUID(account.id))
        service._save(user, user, None, {"coping_steps": [{"text": LONG_STEP}]}, None)
        db.session.commit()
    context = browser.new_context(viewport=SMALL, has_touch=True)
    page = page_errors.watch(context.new_page())
    sign_in(page, server_url, account.email)
    page.goto(server_url + "/#/plan")
    steps = section(page, "Things I can do on my own")
    steps.locator("summary").click()
    expect(steps.get_by_role("textbox")).to_have_value(LONG_STEP)
    steps.get_by_role("button", name="Add").click()
    steps.get_by_role("textbox").last.fill("y" * 5000)
    no_sideways_scroll(page)

    page.get_by_role("button", name="Version 1").click()
    sheet = page.get_by_role("dialog")
    expect(sheet).to_contain_text("xxxx")
    overflow = sheet.evaluate("(d) => d.scrollWidth - d.clientWidth")
    assert overflow <= 0, "the version sheet scrolls sideways"
    no_sideways_scroll(page)
    context.close()


# -- joining a care team -------------------------------------------------------------------


def test_after_joining_a_care_team_continue_leads_to_today(pwa: Page, server_url, account, app):
    therapist = make_actor(app, "therapist")
    code = therapist.post("/api/v1/invites").json["code"]
    sign_in(pwa, server_url, account.email)
    pwa.goto(server_url + "/#/signin/join")
    pwa.get_by_label("Code from your therapist").fill(code)
    pwa.get_by_role("button", name="Join").click()
    expect(pwa.get_by_role("status").filter(has_text="care team")).to_be_visible()
    cont = pwa.get_by_role("link", name="Continue")
    expect(cont).to_be_visible()
    expect(cont).to_have_class(re.compile(r"\bprimary\b"))
    cont.click()
    expect(pwa.get_by_role("heading", level=1)).to_contain_text("Hello")
