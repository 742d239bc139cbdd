"""The reminders' time zone follows the device: a phone that is now in New York moves a
schedule saved in Berlin there when the app starts, on sign-in, and when it is opened
again, with no visit to the Reminders screen."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.pwa import sign_in, wait_for

REMINDERS = "/api/v1/reminders"
DEVICE_ZONE = "America/New_York"


@pytest.fixture
def browser_context_args(browser_context_args):
    return {**browser_context_args, "timezone_id": DEVICE_ZONE}


def save_in(account, zone: str) -> dict:
    version = account.get(REMINDERS).json["version"]
    body = {"version": version, "timezone": zone}
    if not version:
        body["daily_checkin"] = {"enabled": True, "times": ["20:00"]}
    response = account.put(REMINDERS, json=body)
    assert response.status_code == 200, response.json
    return response.json


def schedule_in(page: Page, account, zone: str, timeout: float = 15.0) -> dict:
    """The server's schedule, once it is in `zone`."""

    def moved():
        schedule = account.get(REMINDERS).json
        return schedule if schedule["timezone"] == zone else None

    return wait_for(page, moved, f"the schedule to move to {zone}", timeout)


def test_the_schedule_follows_the_device_time_zone(pwa: Page, server_url, account):
    assert save_in(account, "Europe/Berlin")["timezone"] == "Europe/Berlin"

    sign_in(pwa, server_url, account.email)
    assert pwa.evaluate("Intl.DateTimeFormat().resolvedOptions().timeZone") == DEVICE_ZONE
    moved = schedule_in(pwa, account, DEVICE_ZONE)
    # the next reminder is 20:00 where the device is now
    due = datetime.fromisoformat(moved["next_due_at"]).astimezone(ZoneInfo(DEVICE_ZONE))
    assert due.strftime("%H:%M") == "20:00"

    # saved from a device still set to Berlin: this one puts it back when it starts...
    save_in(account, "Europe/Berlin")
    pwa.reload()
    schedule_in(pwa, account, DEVICE_ZONE)

    # ...and when it is opened again
    save_in(account, "Europe/Berlin")
    pwa.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
    schedule_in(pwa, account, DEVICE_ZONE)
    assert account.get(REMINDERS).json["daily_checkin"]["times"] == ["20:00"]

    # the Reminders screen saves on top of it, in the device's zone
    pwa.goto(server_url + "/#/reminders")
    expect(pwa.get_by_role("group", name="Mood questionnaire")).to_be_visible()
    pwa.get_by_label("PHQ-9 every week").check()
    pwa.get_by_role("button", name="Save reminders").click()
    expect(pwa.get_by_text("Reminders saved")).to_be_visible()
    saved = account.get(REMINDERS).json
    assert saved["phq9"]["enabled"] and saved["timezone"] == DEVICE_ZONE
