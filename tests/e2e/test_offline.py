"""Offline first: what is written without a network is kept, survives a reload, and
reaches the server exactly once when the network comes back."""

from playwright.sync_api import Page, expect

from tests.e2e.pwa import (
    answer_daily,
    entry_item,
    sign_in,
    wait_for_worker,
    wait_synced,
    write_entry,
)

BODIES = ["A walk by the river helped.", "Slept badly, woke at four.", "Noticed the quiet part."]


def test_offline_entries_and_checkin_survive_reload_and_sync_once(
    pwa: Page, context, server_url, account
):
    sign_in(pwa, server_url, account.email)
    wait_for_worker(pwa)
    context.set_offline(True)
    for body in BODIES:
        write_entry(pwa, body)
    for body in BODIES:
        expect(entry_item(pwa, body)).to_contain_text("Saved on this device")
    answer_daily(pwa)
    expect(pwa.get_by_role("heading", name="Daily check-in: done")).to_be_visible()
    expect(pwa.locator(".state")).to_have_text("Saved on this device")
    pwa.goto(server_url + "/#/journal")

    response = pwa.reload()
    assert response.from_service_worker
    expect(pwa.get_by_role("heading", name="Journal")).to_be_visible()
    for body in BODIES:
        expect(entry_item(pwa, body)).to_contain_text("Saved on this device")

    context.set_offline(False)
    wait_synced(pwa)
    for body in BODIES:
        expect(entry_item(pwa, body)).to_contain_text("Synced")

    pwa.goto(server_url + "/#/checkin")
    expect(pwa.locator(".entry-link").filter(has_text="Daily check-in")).to_contain_text("Synced")

    entries = account.get("/api/v1/journal/entries").json["entries"]
    assert sorted(e["body"] for e in entries) == sorted(BODIES)
    checkins = account.get("/api/v1/checkins").json["checkins"]
    assert [(c["instrument"], c["answers"]["mood"], c["complete"]) for c in checkins] == [
        ("daily", 6, True)
    ]
