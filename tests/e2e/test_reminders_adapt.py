"""Reminders that adapt (#23), on the phone: a check-in's notification carries "Later
(1 h)", which asks the server for one more an hour on and opens nothing, while a tap on
the notification itself still opens the check-in; the daily check-in at a random time
within a window; and the time zone, which follows the device until the person chooses
one in Settings, a choice the next start of the app leaves alone."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from tests.api.test_reminders import REMINDERS, run_worker, set_reminders, subscribe, when
from tests.e2e.pwa import sign_in, wait_for, wait_for_worker, wait_synced
from tests.e2e.test_push_risk import deliver_push

DEVICE_ZONE = "America/New_York"
CHOSEN_ZONE = "Europe/Berlin"
LATER = {"action": "later", "title": "Later (1 h)"}

# the notifications shown, with their buttons
NOTIFICATIONS = """() => navigator.serviceWorker.ready.then((r) => r.getNotifications())
  .then((ns) => ns.map((n) => ({ id: n.data && n.data.id, url: n.data && n.data.url,
    actions: n.actions.map((a) => ({ action: a.action, title: a.title })) })))"""
# Chromium has no DevTools call that clicks a notification's button: dispatch the event
# the browser would, in the worker, and wait for what it waits for. Its requests to the
# server (each goes through, unchanged) come back with their answers' statuses.
CLICK = """async (action) => {
  const [n] = await self.registration.getNotifications();
  const event = new NotificationEvent('notificationclick', { notification: n, action });
  let done;
  Object.defineProperty(event, 'waitUntil', { value: (p) => { done = p; } });
  const sent = [];
  const network = self.fetch;
  self.fetch = async (url, init) => {
    const response = await network(url, init);
    sent.push({ path: new URL(url, self.location.origin).pathname, body: init && init.body,
                status: response.status });
    return response;
  };
  try {
    self.dispatchEvent(event);
    await done;
  } finally {
    self.fetch = network;
  }
  return sent;
}"""
RECEIPTS = "/api/v1/push/receipts"


@pytest.fixture
def browser_context_args(browser_context_args):
    return {**browser_context_args, "timezone_id": DEVICE_ZONE}


def save_reminders(page: Page, account) -> dict:
    """Save the Reminders screen; the server's schedule once it has the save."""
    before = account.get(REMINDERS).json["version"]
    page.get_by_role("button", name="Save reminders").click()

    def saved():
        schedule = account.get(REMINDERS).json
        return schedule if schedule["version"] > before else None

    schedule = wait_for(page, saved, "the reminders saved")
    expect(page.get_by_text("Reminders saved")).to_be_visible()
    return schedule


def later_resends(app, user_id: str) -> list:
    """The re-sends "Later" asked for: (slot, fire_at) of each."""
    from server.extensions import db
    from server.reminders.models import ReminderOccurrence

    with app.app_context():
        rows = db.session.execute(
            select(ReminderOccurrence.slot, ReminderOccurrence.fire_at).where(
                ReminderOccurrence.user_id == uuid.UUID(user_id),
                ReminderOccurrence.slot.like("%:later"),
            )
        ).all()
        db.session.remove()
    return [tuple(row) for row in rows]


def test_later_on_a_check_in_notification_asks_once_more_and_opens_nothing(
    pwa: Page, context, server_url, app, account, push
):
    device = push.device()
    subscribe(account, device)
    saved = set_reminders(
        account, daily_checkin={"enabled": True, "times": ["09:00"]}, quiet_hours=None
    )
    due = when(saved["next_due_at"])
    assert run_worker(app, now=due)["sent"] == 1
    [sent] = push.to(device)
    payload = device.decrypt(sent.body)  # what the phone's push service hands the worker
    assert payload["actions"] == [LATER]

    context.grant_permissions(["notifications"], origin=server_url)
    sign_in(pwa, server_url, account.email)
    wait_for_worker(pwa)
    deliver_push(context, pwa, server_url, payload)
    [shown] = wait_for(pwa, lambda: pwa.evaluate(NOTIFICATIONS), "the notification")
    assert shown == {"id": payload["id"], "url": "/#/checkin/daily", "actions": [LATER]}

    worker = context.service_workers[0]
    tapped = datetime.now(UTC)
    [receipt] = worker.evaluate(CLICK, "later")
    assert receipt["path"] == RECEIPTS and receipt["status"] == 204
    assert json.loads(receipt["body"]) == {"delivery_id": payload["id"], "event": "later"}
    answered = datetime.now(UTC)
    [(slot, fire_at)] = later_resends(app, account.id)
    assert slot.endswith(":later")
    # an hour on from the tap (no quiet hours here), not from when the reminder was due
    assert (
        tapped + timedelta(hours=1) <= fire_at.replace(tzinfo=UTC) <= answered + timedelta(hours=1)
    )
    # nothing opened: the same screen, the same one window
    assert "#/checkin" not in pwa.url
    assert len(context.pages) == 1
    expect(pwa.get_by_role("heading", level=1)).to_contain_text("Hello")

    # "Later" again on the same ask: still one re-send
    deliver_push(context, pwa, server_url, payload)
    wait_for(pwa, lambda: pwa.evaluate(NOTIFICATIONS), "the notification again")
    [again] = worker.evaluate(CLICK, "later")
    assert again["status"] == 204  # answered, and nothing more asked
    assert later_resends(app, account.id) == [(slot, fire_at)]

    # a tap on the notification itself opens the check-in
    deliver_push(context, pwa, server_url, payload)
    wait_for(pwa, lambda: pwa.evaluate(NOTIFICATIONS), "the notification once more")
    worker.evaluate(CLICK, "")
    expect(pwa.get_by_role("heading", name="Daily check-in")).to_be_visible()
    assert pwa.url.endswith("#/checkin/daily")


def test_random_daily_time_and_the_zone_that_follows_the_device_until_one_is_chosen(
    pwa: Page, server_url, account
):
    sign_in(pwa, server_url, account.email)
    pwa.goto(server_url + "/#/reminders")
    follow = pwa.get_by_label("Follow this device’s time zone")
    expect(follow).to_be_checked()
    expect(pwa.locator("#zone-words")).to_have_text(
        f"Reminders come at local times where this device is ({DEVICE_ZONE})."
    )

    pwa.get_by_label("Daily check-in").check()
    pwa.get_by_label("Random time within my window").check()
    expect(pwa.locator("#daily-time")).to_be_hidden()  # no fixed time meanwhile
    pwa.get_by_label("Not before").fill("10:00")
    pwa.get_by_label("Not after").fill("12:00")
    saved = save_reminders(pwa, account)
    assert saved["daily_checkin"]["random"] == {"start": "10:00", "end": "12:00"}
    assert saved["timezone"] == DEVICE_ZONE and saved["follow_device"] is True
    next_local = when(saved["next_due_at"]).astimezone(ZoneInfo(DEVICE_ZONE))
    assert "10:00" <= next_local.strftime("%H:%M") < "12:00"

    # a zone chosen in Settings: reminders stay there, the app no longer moves them
    pwa.goto(server_url + "/#/settings")
    expect(pwa.get_by_role("heading", level=1, name="Settings")).to_be_visible()
    pwa.locator("#settings-timezone").select_option(CHOSEN_ZONE)
    pwa.get_by_role("button", name="Save").click()
    expect(pwa.get_by_text("Settings saved")).to_be_visible()
    chosen = account.get(REMINDERS).json
    assert (chosen["timezone"], chosen["follow_device"]) == (CHOSEN_ZONE, False)

    puts = []
    pwa.on(
        "request",
        lambda r: puts.append(r.url) if r.method == "PUT" and "/reminders" in r.url else None,
    )
    # the next start asks the server, which says the person chose: nothing is moved
    with pwa.expect_response(
        lambda r: r.url.endswith("/api/v1/reminders") and r.request.method == "GET"
    ):
        pwa.reload()
    wait_synced(pwa)
    with pwa.expect_response(
        lambda r: r.url.endswith("/api/v1/reminders") and r.request.method == "GET"
    ):
        pwa.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
    wait_synced(pwa)
    assert puts == []
    assert account.get(REMINDERS).json["timezone"] == CHOSEN_ZONE

    pwa.goto(server_url + "/#/reminders")
    expect(follow).not_to_be_checked()
    expect(pwa.locator("#zone-words")).to_have_text(
        f"Reminders come at {CHOSEN_ZONE} times, the zone chosen in Settings."
    )
    # the daily time stays random in the chosen zone when saved again
    kept = save_reminders(pwa, account)
    assert (kept["timezone"], kept["follow_device"]) == (CHOSEN_ZONE, False)
    assert kept["daily_checkin"]["random"] == {"start": "10:00", "end": "12:00"}

    # following again: the device's zone, at once
    follow.check()
    back = save_reminders(pwa, account)
    assert (back["timezone"], back["follow_device"]) == (DEVICE_ZONE, True)
