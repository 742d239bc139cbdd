"""My settings in the app: a patient renames themself offline and sees it at once; it
reaches the server on reconnect and their therapist's caseload shows it. A therapist, whose
device is always locked with a PIN, changes theirs offline too: the waiting change is
sealed on the device like everything else."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.e2e.pwa import LAPTOP, sign_in, sign_in_therapist, wait_for, wait_for_worker
from tests.factories import PASSWORD, make_actor

ME = "/api/v1/auth/me"

RAW_META = """(key) => new Promise((resolve) => {
  const open = indexedDB.open('between');
  open.onsuccess = () => {
    const request = open.result.transaction('meta').objectStore('meta').get(key);
    request.onsuccess = () => {
      resolve(JSON.stringify(request.result ?? null));
      open.result.close();
    };
  };
})"""


def open_settings(page: Page) -> None:
    page.get_by_role("link", name="Settings").first.click()
    expect(page.get_by_role("heading", level=1, name="Settings")).to_be_visible()


def server_name(actor, name: str, page: Page) -> None:
    wait_for(page, lambda: actor.get(ME).json["display_name"] == name, f"the server to say {name}")


def test_a_name_changed_offline_shows_at_once_and_reaches_my_therapist(
    pwa: Page, browser, app, server_url, account, page_errors
):
    therapist = make_actor(app, "therapist")
    code = therapist.post("/api/v1/invites").json["code"]
    assert account.post("/api/v1/care-team/join", json={"code": code}).status_code == 201

    sign_in(pwa, server_url, account.email)
    wait_for_worker(pwa)
    pwa.goto(server_url + "/#/more")
    open_settings(pwa)
    expect(pwa.get_by_label("Time zone")).to_have_value("UTC")
    expect(pwa.get_by_label("Region")).to_have_value("US")

    pwa.context.set_offline(True)
    pwa.get_by_label("Name").fill("Robin Settings")
    pwa.get_by_label("Time zone").select_option("Asia/Tokyo")
    # reminders follow the device the app opens on: said, not a surprise
    expect(pwa.locator("#settings-zone-note")).to_contain_text("reminders move back")
    pwa.get_by_role("button", name="Save").click()
    expect(pwa.locator("#settings-status")).to_contain_text("Saved on this device")
    # kept on the device: the screen opened again offline still says so
    pwa.reload()
    expect(pwa.get_by_role("heading", level=1, name="Settings")).to_be_visible()
    expect(pwa.get_by_label("Name")).to_have_value("Robin Settings")
    assert account.get(ME).json["display_name"] != "Robin Settings"

    pwa.context.set_offline(False)
    server_name(account, "Robin Settings", pwa)
    expect(pwa.locator("#settings-status")).to_have_text("")
    assert account.get(ME).json["timezone"] == "Asia/Tokyo"

    context = browser.new_context(viewport=LAPTOP)
    laptop = page_errors.watch(context.new_page())
    sign_in_therapist(laptop, server_url, therapist.email, PASSWORD)
    expect(laptop.locator("#caseload")).to_contain_text("Robin Settings")
    context.close()


def test_a_therapists_change_waits_sealed_on_the_locked_device(
    browser, app, server_url, page_errors
):
    therapist = make_actor(app, "therapist")
    patient = make_actor(app, "patient")
    code = therapist.post("/api/v1/invites").json["code"]
    assert patient.post("/api/v1/care-team/join", json={"code": code}).status_code == 201

    context = browser.new_context(viewport=LAPTOP)
    page = page_errors.watch(context.new_page())
    sign_in_therapist(page, server_url, therapist.email, PASSWORD)
    wait_for_worker(page)
    open_settings(page)

    context.set_offline(True)
    page.get_by_label("Name").fill("Dr Settings")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#settings-status")).to_contain_text("Saved on this device")
    expect(page.locator(".tnav .who")).to_have_text("Dr Settings")
    waiting = page.evaluate(RAW_META, "me_pending")
    assert '"sealed"' in waiting and "Dr Settings" not in waiting

    context.set_offline(False)
    server_name(therapist, "Dr Settings", page)
    expect(page.locator("#settings-status")).to_have_text("")
    context.close()
