"""The app lock, as a patient whose phone is shared or picked up sees it: a PIN keeps the
app closed after a reload, Help now still works there (offline too), nothing readable is
left in the device's store, what was written offline still reaches the server once, and
guessing PINs gets slower until the device copy may be wiped."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.e2e.pwa import (
    DEVICE_PIN,
    DEVICE_ROWS,
    LAPTOP,
    SAVED,
    entry_item,
    lock_screen,
    set_device_pin,
    sign_in,
    unlock_device,
    wait_for,
    wait_for_worker,
    wait_synced,
    write_entry,
)
from tests.factories import PASSWORD

PIN = DEVICE_PIN

# every record of every IndexedDB store, as it is stored
DEVICE_RECORDS = DEVICE_ROWS.replace("getAllKeys()", "getAll()")


def device_text(page: Page) -> dict[str, str]:
    """Each store's records as text: a canary kept in clear, in any field, shows in it
    (sealed bytes come back from the page as an empty object or numbers, never text)."""
    return {store: repr(rows) for store, rows in page.evaluate(DEVICE_RECORDS).items()}


def turn_on_lock(page: Page, server_url: str, pin: str = PIN, after: str = "5 minutes") -> None:
    """More → App lock: choose a PIN and when to lock, and turn the lock on."""
    page.goto(server_url + "/#/more")
    page.get_by_role("link", name=re.compile("App lock")).click()
    expect(page.get_by_role("heading", level=1, name="App lock")).to_be_visible()
    page.get_by_label("New PIN").fill(pin)
    page.get_by_label("The PIN again").fill(pin)
    page.get_by_label("Lock after").select_option(label=after)
    page.get_by_role("button", name="Turn on app lock").click()
    expect(page.get_by_role("status").filter(has_text="App lock is on")).to_be_visible()


def sign_in_with_robin_in_the_plan(page: Page, server_url: str, account) -> None:
    """A patient whose plan names one person to call, signed in, the app installed."""
    account.put(
        "/api/v1/plan",
        json={"version": 0, "support_contacts": [{"name": "Robin", "phone": "+1 555 0100"}]},
    )
    sign_in(page, server_url, account.email)
    wait_for_worker(page)


def test_reload_shows_the_lock_screen_help_now_works_offline_journal_after_the_pin(
    pwa: Page, context, server_url, account
):
    sign_in_with_robin_in_the_plan(pwa, server_url, account)
    write_entry(pwa, "The kettle sang and I listened.")
    wait_synced(pwa)
    turn_on_lock(pwa, server_url)

    pwa.goto(server_url + "/#/journal")
    pwa.reload()
    lock_screen(pwa)
    pin = pwa.get_by_label("PIN")
    expect(pin).to_have_attribute("inputmode", "numeric")
    expect(pin).to_have_attribute("autocomplete", "off")
    expect(pwa.locator("#tabbar")).to_be_hidden()
    expect(pwa.locator("body")).not_to_contain_text("The kettle sang")
    expect(pwa.locator("#sync-status")).to_have_text("")

    context.set_offline(True)
    response = pwa.reload()
    assert response.from_service_worker
    lock_screen(pwa)
    pwa.get_by_role("link", name="Help now").click()
    expect(pwa.get_by_role("heading", level=1, name="Help now")).to_be_visible()
    expect(pwa.locator("#first-help")).to_contain_text("988")
    # the patient did not choose to show their own people on the lock screen
    expect(pwa.locator("body")).not_to_contain_text("Robin")
    expect(pwa.locator("#tabbar")).to_be_hidden()
    pwa.get_by_role("link", name="Back to unlock").click()
    lock_screen(pwa)

    unlock_device(pwa)
    expect(pwa.get_by_role("heading", name="Journal")).to_be_visible()
    expect(entry_item(pwa, "The kettle sang")).to_be_visible()


def test_own_contacts_show_on_the_lock_screen_only_when_chosen(
    pwa: Page, context, server_url, account
):
    sign_in_with_robin_in_the_plan(pwa, server_url, account)
    turn_on_lock(pwa, server_url)
    pwa.get_by_label("Show my own contacts in Help now on the lock screen").check()
    expect(pwa.get_by_role("status").filter(has_text="Lock settings saved")).to_be_visible()

    context.set_offline(True)
    pwa.reload()
    lock_screen(pwa)
    pwa.get_by_role("link", name="Help now").click()
    expect(pwa.locator("#first-help")).to_contain_text("Robin")
    expect(pwa.locator("#first-help")).to_contain_text("988")


def test_the_app_locks_itself_after_the_chosen_time_without_a_touch(pwa: Page, server_url, account):
    pwa.clock.install()  # the app's timers and Date, moved by the test
    sign_in(pwa, server_url, account.email)
    turn_on_lock(pwa, server_url, after="1 minute")
    pwa.locator("#tabbar").get_by_role("link", name="Journal").click()
    expect(pwa.get_by_role("heading", level=1, name="Journal")).to_be_visible()
    pwa.clock.fast_forward("00:40")
    expect(pwa.get_by_role("heading", level=1, name="Journal")).to_be_visible()
    pwa.clock.fast_forward("00:30")
    lock_screen(pwa)
    unlock_device(pwa)
    expect(pwa.get_by_role("heading", level=1, name="Journal")).to_be_visible()


def test_with_the_lock_on_nothing_personal_is_readable_on_the_device(
    pwa: Page, context, server_url, account
):
    words = {
        "entry": "CANARY-ENTRY-larch",
        "plan": "CANARY-PLAN-heron",
        "part": "CANARY-PART-quince",
        "outbox": "CANARY-OUTBOX-tern",
        "contact": "CANARY-CONTACT-moss",
    }
    account.put(
        "/api/v1/plan",
        json={
            "version": 0,
            "warning_signs": [{"text": words["plan"]}],
            "support_contacts": [{"name": words["contact"], "phone": "+1 555 0100"}],
        },
    )
    part = account.post("/api/v1/parts", json={"name": words["part"], "role": "manager"}).json
    account.post("/api/v1/journal/entries", json={"body": words["entry"], "part_ids": [part["id"]]})
    sign_in(pwa, server_url, account.email)
    wait_for_worker(pwa)
    context.set_offline(True)
    write_entry(pwa, words["outbox"])

    # the dump sees them while the lock is off: the probe works
    before = "\n".join(device_text(pwa).values())
    for word in [*words.values(), account.email]:
        assert word in before, word

    turn_on_lock(pwa, server_url)
    dump = device_text(pwa)
    assert {"journal_entries", "parts", "plans", "outbox", "meta"} <= set(dump)
    assert "sealed" in dump["journal_entries"] and "sealed" in dump["outbox"]
    for store, text in dump.items():
        for word in [*words.values(), account.email]:
            assert word not in text, f"{word} readable in {store}"

    # and stays so after a reload, an unlock and a sync that brings the plan back down
    pwa.reload()
    lock_screen(pwa)
    unlock_device(pwa)
    context.set_offline(False)
    wait_synced(pwa)
    for store, text in device_text(pwa).items():
        for word in [*words.values(), account.email]:
            assert word not in text, f"{word} readable in {store}"


def test_an_entry_written_offline_before_locking_reaches_the_server_once_after_unlock(
    pwa: Page, context, server_url, account
):
    sign_in(pwa, server_url, account.email)
    wait_for_worker(pwa)
    turn_on_lock(pwa, server_url)
    context.set_offline(True)
    write_entry(pwa, "Written in the lift, no signal.")
    expect(entry_item(pwa, "Written in the lift")).to_contain_text("Saved on this device")

    pwa.reload()
    lock_screen(pwa)
    context.set_offline(False)
    # locked: nothing can be read to send (the app says nothing while locked)
    expect(pwa.locator("#sync-status")).to_have_text("")
    assert account.get("/api/v1/journal/entries").json["entries"] == []

    unlock_device(pwa)
    wait_synced(pwa)
    pwa.goto(server_url + "/#/journal")
    expect(entry_item(pwa, "Written in the lift")).to_contain_text("Synced")
    bodies = [e["body"] for e in account.get("/api/v1/journal/entries").json["entries"]]
    assert bodies == ["Written in the lift, no signal."]


def test_wrong_pins_back_off_and_the_wipe_after_ten_warns_about_unsent_changes(
    pwa: Page, context, server_url, account
):
    pwa.clock.install()
    sign_in(pwa, server_url, account.email)
    wait_for_worker(pwa)
    turn_on_lock(pwa, server_url)
    context.set_offline(True)
    write_entry(pwa, "Not sent before the phone went missing.")
    pwa.reload()
    lock_screen(pwa)

    pin, unlock_button = pwa.get_by_label("PIN"), pwa.get_by_role("button", name="Unlock")
    message = pwa.locator("#lock-message")
    waits = []
    for attempt in range(1, 11):
        expect(unlock_button).to_be_enabled()
        pin.fill("000000")
        unlock_button.click()
        if attempt == 10:
            break
        expect(message).to_contain_text(f"Wrong PIN ({attempt} of 10)")
        shown = message.text_content() or ""
        wait = re.search(r"Try again in (\d+) seconds", shown)
        if attempt == 4:
            # the count and the wait survive a reload
            pwa.reload()
            lock_screen(pwa)
            expect(message).to_contain_text("Wrong PIN (4 of 10)")
            expect(message).to_contain_text("Try again in")
        if wait:
            waits.append(int(wait[1]))
            expect(unlock_button).to_be_disabled()
            pwa.clock.fast_forward(int(wait[1]) * 1000 + 1000)
    assert len(waits) >= 5 and waits == sorted(waits) and waits[-1] > waits[0], waits

    expect(message).to_contain_text("10 wrong PINs")
    expect(unlock_button).to_be_disabled()
    pwa.get_by_role("button", name="Erase Between from this device").click()
    dialog = pwa.get_by_role("dialog")
    expect(dialog).to_contain_text("1 change has not reached the server")
    dialog.get_by_role("button", name="Erase and lose it").click()
    expect(pwa.get_by_role("button", name="Sign in", exact=True)).to_be_visible()
    wait_for(
        pwa,
        lambda: not any(pwa.evaluate(DEVICE_ROWS).values()),
        "an empty device store",
    )


def test_forgot_pin_signs_in_again_with_the_password_after_warning(
    pwa: Page, context, server_url, account
):
    sign_in(pwa, server_url, account.email)
    wait_for_worker(pwa)
    write_entry(pwa, "Already on the server.")
    wait_synced(pwa)
    turn_on_lock(pwa, server_url)
    context.set_offline(True)
    write_entry(pwa, "Only on this phone.")
    pwa.reload()
    lock_screen(pwa)
    pwa.get_by_role("button", name="Forgot PIN? Sign in again").click()
    dialog = pwa.get_by_role("dialog")
    expect(dialog).to_contain_text("1 change has not reached the server")
    dialog.get_by_role("button", name="Cancel").click()
    lock_screen(pwa)
    pwa.get_by_role("button", name="Forgot PIN? Sign in again").click()
    pwa.get_by_role("dialog").get_by_role("button", name="Erase and lose it").click()

    context.set_offline(False)
    sign_in(pwa, server_url, account.email)
    pwa.goto(server_url + "/#/journal")
    expect(entry_item(pwa, "Already on the server")).to_contain_text("Synced")
    expect(entry_item(pwa, "Only on this phone")).to_have_count(0)


def test_turning_the_lock_off_takes_the_pin_and_opens_the_device_copy_again(
    pwa: Page, context, server_url, account
):
    sign_in(pwa, server_url, account.email)
    wait_for_worker(pwa)
    context.set_offline(True)
    write_entry(pwa, "CANARY-OFF-wren")
    turn_on_lock(pwa, server_url)
    assert "CANARY-OFF-wren" not in "".join(device_text(pwa).values())

    pwa.get_by_label("Your PIN").fill("999999")
    pwa.get_by_role("button", name="Turn off app lock").click()
    expect(pwa.get_by_role("alert").filter(has_text="That is not your PIN")).to_be_visible()
    pwa.get_by_label("Your PIN").fill(PIN)
    pwa.get_by_role("button", name="Turn off app lock").click()
    expect(pwa.get_by_role("status").filter(has_text="App lock is off")).to_be_visible()
    assert "CANARY-OFF-wren" in device_text(pwa)["outbox"]

    pwa.reload()
    expect(pwa.get_by_role("heading", level=1, name="App lock")).to_be_visible()
    expect(pwa.locator("#lock-screen")).to_have_count(0)
    context.set_offline(False)
    wait_synced(pwa)
    assert [e["body"] for e in account.get("/api/v1/journal/entries").json["entries"]] == [
        "CANARY-OFF-wren"
    ]


# Away from the app: the page says it is hidden (document.hidden and visibilityState
# overridden, then a real `visibilitychange` dispatched to the app's own listener), and
# the clock's Date moves without firing a timer, so only the background rule can lock.
HIDE = """() => {
  Object.defineProperty(document, 'hidden', { configurable: true, get: () => true });
  Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' });
  document.dispatchEvent(new Event('visibilitychange'));
}"""
SHOW = """() => {
  delete document.hidden;
  delete document.visibilityState;
  document.dispatchEvent(new Event('visibilitychange'));
  return document.hidden;
}"""


def away_for(page: Page, seconds: int) -> None:
    """Leave Between for `seconds` (another app in front), then come back to it."""
    page.evaluate(HIDE)
    page.clock.set_system_time(page.evaluate("() => Date.now()") / 1000 + seconds)  # seconds
    assert page.evaluate(SHOW) is False


def test_away_longer_than_the_chosen_time_locks_and_shorter_does_not(
    pwa: Page, server_url, account
):
    pwa.clock.install()
    sign_in(pwa, server_url, account.email)
    turn_on_lock(pwa, server_url, after="5 minutes")
    pwa.locator("#tabbar").get_by_role("link", name="Journal").click()
    expect(pwa.get_by_role("heading", level=1, name="Journal")).to_be_visible()
    pwa.evaluate("() => { window.stillThisPage = true; }")  # a reload (a lock) forgets it

    away_for(pwa, 4 * 60)
    expect(pwa.get_by_role("heading", level=1, name="Journal")).to_be_visible()
    assert pwa.evaluate("() => window.stillThisPage") is True

    away_for(pwa, 6 * 60)
    lock_screen(pwa)
    assert pwa.evaluate("() => window.stillThisPage") is None
    unlock_device(pwa)
    expect(pwa.get_by_role("heading", level=1, name="Journal")).to_be_visible()


def test_words_typed_just_before_the_idle_lock_are_in_the_editor_after_unlocking(
    pwa: Page, server_url, account
):
    pwa.clock.install()
    sign_in(pwa, server_url, account.email)
    turn_on_lock(pwa, server_url, after="1 minute")
    words = "The train was late and I did not mind, for once."
    pwa.goto(server_url + "/#/journal/new")
    body = pwa.get_by_label("Your words")
    body.fill(words[:20])
    expect(pwa.locator(".state-line")).to_contain_text(SAVED)
    body.press_sequentially(words[20:])  # the last keystrokes, not yet autosaved
    pwa.clock.fast_forward("01:10")
    lock_screen(pwa)
    unlock_device(pwa)
    expect(pwa.get_by_label("Your words")).to_have_value(words)
    pwa.get_by_role("button", name="Done").click()
    wait_synced(pwa)
    bodies = [e["body"] for e in account.get("/api/v1/journal/entries").json["entries"]]
    assert bodies == [words]


def test_a_therapist_sets_a_pin_before_the_caseload_and_meets_the_lock_after_a_reload(
    pwa: Page, context, server_url, therapist
):
    pwa.set_viewport_size(LAPTOP)
    pwa.goto(server_url + "/#/signin")
    pwa.get_by_label("Email").fill(therapist.email)
    pwa.get_by_label("Password", exact=True).fill(PASSWORD)
    pwa.get_by_role("button", name="Sign in", exact=True).click()
    expect(pwa.get_by_role("heading", level=1, name="Set a PIN for this device")).to_be_visible()
    expect(pwa.get_by_role("link", name="Caseload")).to_have_count(0)
    expect(pwa.get_by_label("Show my own contacts in Help now on the lock screen")).to_have_count(0)
    set_device_pin(pwa)
    expect(pwa.get_by_role("heading", level=1, name="Caseload")).to_be_visible()

    # the lock's settings are in the therapist's navigation; the lock stays on
    pwa.get_by_role("link", name="App lock").click()
    expect(pwa.get_by_role("heading", level=1, name="App lock")).to_be_visible()
    expect(pwa.get_by_role("button", name="Lock now")).to_be_visible()
    expect(pwa.get_by_role("button", name="Turn off app lock")).to_have_count(0)
    pwa.get_by_label("Lock after").select_option(label="15 minutes")
    expect(pwa.get_by_role("status").filter(has_text="Lock settings saved")).to_be_visible()

    pwa.get_by_role("link", name="Caseload").click()
    expect(pwa.get_by_role("heading", level=1, name="Caseload")).to_be_visible()
    pwa.reload()
    lock_screen(pwa)
    expect(pwa.get_by_role("link", name="Caseload")).to_have_count(0)
    pwa.get_by_role("link", name="Help now").click()
    expect(pwa.get_by_role("heading", level=1, name="Help now")).to_be_visible()
    pwa.get_by_role("link", name="Back to unlock").click()
    unlock_device(pwa)
    expect(pwa.get_by_role("heading", level=1, name="Caseload")).to_be_visible()


def test_a_patient_is_never_asked_for_a_pin(pwa: Page, server_url, account):
    sign_in(pwa, server_url, account.email)  # lands on Today
    pwa.reload()
    expect(pwa.get_by_role("heading", level=1)).to_contain_text("Hello")
    expect(pwa.locator("#lock-screen")).to_have_count(0)
