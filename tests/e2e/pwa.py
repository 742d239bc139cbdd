"""Steps a person takes in the PWA, shared by the e2e tests."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, expect

from tests.factories import PASSWORD

SAVED = re.compile("Saved on this device|Synced")
# a function, not an expression string: the CSP forbids eval, which strings would need
SW_READY = "() => navigator.serviceWorker.controller !== null"


def sign_in(page: Page, server_url: str, email: str, password: str = PASSWORD) -> None:
    """Open the app, sign in, and wait until the first sync has finished."""
    page.goto(server_url + "/#/signin")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Hello")
    wait_synced(page)


OUTBOX_SIZE = """() => new Promise((resolve) => {
  const open = indexedDB.open('between');
  open.onsuccess = () => {
    const request = open.result.transaction('outbox').objectStore('outbox').count();
    request.onsuccess = () => { resolve(request.result); open.result.close(); };
  };
})"""


def wait_for(page: Page, probe: Callable, what: str, timeout: float = 15.0):
    """Until `probe()` is truthy, or fail after `timeout` seconds; returns its value.

    For what `expect` cannot see: a promise's answer (`wait_for_function` does not await
    one), or a DevTools event, which arrives only while Playwright runs its loop (the
    short waits between probes). A page that navigates meanwhile is probed again.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = probe()
        except PlaywrightError as exc:
            if "context was destroyed" not in str(exc):
                raise
            value = None
        if value:
            return value
        assert time.monotonic() < deadline, f"waited {timeout:g} s for {what}"
        page.wait_for_timeout(50)  # a poll interval, not a wait for time to pass


def wait_synced(page: Page) -> None:
    """Nothing left in the outbox, and the app says so."""
    wait_for(page, lambda: page.evaluate(OUTBOX_SIZE) == 0, "an empty outbox")
    expect(page.locator("#sync-status")).to_have_text("All synced", timeout=15_000)


def wait_for_worker(page: Page) -> None:
    page.wait_for_function(SW_READY, timeout=15_000)


def write_entry(page: Page, body: str, title: str = "") -> None:
    page.goto(page.url.split("#")[0] + "#/journal/new")
    if title:
        page.get_by_label("Title").fill(title)
    page.get_by_label("Your words").fill(body)
    expect(page.locator(".state-line")).to_contain_text(SAVED)
    page.get_by_role("button", name="Done").click()
    expect(page.get_by_role("heading", name="Journal")).to_be_visible()


def entry_item(page: Page, text: str):
    return page.locator("#entry-list li").filter(has_text=text)


def answer_daily(page: Page, safety: str = "No") -> None:
    """Answer the daily check-in, one question at a time."""
    page.goto(page.url.split("#")[0] + "#/checkin/daily")
    for value in ["6", "3", "7"]:  # mood, anxiety, sleep quality
        page.get_by_role("button", name=value, exact=True).click()
    page.get_by_role("spinbutton", name="Hours").fill("7.5")
    page.get_by_role("button", name="Next").click()
    page.get_by_role("button", name="4", exact=True).click()  # rumination
    page.get_by_role("textbox", name="Your note").fill("Quiet day.")
    page.get_by_role("button", name="Next").click()
    page.get_by_role("button", name=safety, exact=True).click()


# -- the therapist's app ------------------------------------------------------------------

LAPTOP = {"width": 1280, "height": 800}
TABLET = {"width": 820, "height": 1180}

# every IndexedDB store of the app, with how many rows it holds
DEVICE_ROWS = """() => new Promise((resolve) => {
  const open = indexedDB.open('between');
  open.onsuccess = () => {
    const db = open.result;
    const names = [...db.objectStoreNames];
    const t = db.transaction(names);
    const out = {};
    names.forEach((n) => {
      t.objectStore(n).getAllKeys().onsuccess = (e) => { out[n] = e.target.result; };
    });
    t.oncomplete = () => { db.close(); resolve(out); };
  };
})"""

CACHED_PATHS = """async () => {
  const out = [];
  for (const name of await caches.keys()) {
    for (const r of await (await caches.open(name)).keys()) out.push(new URL(r.url).pathname);
  }
  return out;
}"""


DEVICE_PIN = "135790"


def set_device_pin(page: Page, pin: str = DEVICE_PIN) -> None:
    """A therapist's first step after signing in on a device: the app lock is on by
    default for them, so they choose its PIN before anything else opens."""
    expect(page.get_by_role("heading", level=1, name="Set a PIN for this device")).to_be_visible()
    page.get_by_label("New PIN").fill(pin)
    page.get_by_label("The PIN again").fill(pin)
    page.get_by_role("button", name="Turn on app lock").click()
    expect(page.get_by_role("heading", level=1, name="Set a PIN for this device")).to_have_count(0)


def lock_screen(page: Page):
    """The lock screen, which shows nothing but Between, the PIN and Help now."""
    screen = page.locator("#lock-screen")
    expect(screen.get_by_role("heading", level=1, name="Between")).to_be_visible()
    return screen


def unlock_device(page: Page, pin: str = DEVICE_PIN) -> None:
    """With the app lock on (a therapist's device always), a reload or a new page opens
    on the lock screen: the PIN opens the app where it was."""
    lock_screen(page)
    page.get_by_label("PIN").fill(pin)
    page.get_by_role("button", name="Unlock").click()
    expect(page.locator("#lock-screen")).to_have_count(0)


def sign_in_therapist(page: Page, server_url: str, email: str, password: str) -> None:
    """Sign in on the same form patients use, set the device's PIN; a therapist lands on
    the caseload."""
    page.goto(server_url + "/#/signin")
    # by id: the sign-in screen speaks the browser's language (the therapist's may be Spanish)
    page.locator("#email").fill(email)
    page.locator("#password").fill(password)
    page.locator("form:has(#email) button[type=submit]").click()
    set_device_pin(page)
    expect(page.get_by_role("heading", level=1, name="Caseload")).to_be_visible()
    expect(page.locator("#caseload tbody tr").first).to_be_visible()


# -- versions of the app ------------------------------------------------------------------

# the cache the controlling service worker serves from: which version runs this page
# (null from a worker that does not answer, rather than a probe that never returns)
WORKER_CACHE = """() => new Promise((resolve) => {
  const worker = navigator.serviceWorker.controller;
  if (!worker) return resolve(null);
  setTimeout(() => resolve(null), 5000);
  const channel = new MessageChannel();
  channel.port1.onmessage = (event) => resolve(event.data.cache);
  worker.postMessage({ type: 'version' }, [channel.port2]);
})"""

CACHE_NAMES = "() => caches.keys()"


def served_cache_name(app) -> str:
    """The cache name in the sw.js this app serves (the server fills in the version)."""
    with app.test_client().get("/sw.js") as response:
        source = response.get_data(as_text=True)
    return "between-static-v" + re.search(r"^const VERSION = '?([^';]+)'?;", source, re.M)[1]


class Deploy:
    """One origin whose app a test replaces, as a deploy restarts the server: the phone
    keeps its address, and the next request meets the new files. With `sync_down`, the
    sync endpoints answer 503, so changes stay in the outbox while the rest works."""

    def __init__(self, app):
        self.app = app
        self.sync_down = False

    def __call__(self, environ, start_response):
        if self.sync_down and environ["PATH_INFO"].startswith("/api/v1/sync/"):
            start_response("503 Service Unavailable", [("Content-Type", "application/json")])
            return [b'{"message": "down for the test"}']
        return self.app(environ, start_response)


# the page is controlled by the registration's one active worker, nothing waiting: ask
# this before WORKER_CACHE, since a message to a worker being replaced is work that
# keeps it alive, and a poll of them would hold off the new one
SETTLED = """async () => {
  const reg = await navigator.serviceWorker.getRegistration();
  const worker = navigator.serviceWorker.controller;
  return Boolean(reg && worker && !reg.waiting && !reg.installing && worker === reg.active);
}"""
