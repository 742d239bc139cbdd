"""The outbox outlives a closed tab and an expired session: after signing in again it
drains, and nothing is lost."""

import uuid

from playwright.sync_api import Page, expect
from sqlalchemy import delete

from server.auth.models import UserSession
from server.extensions import db
from tests.e2e.pwa import entry_item, sign_in, wait_for_worker, wait_synced, write_entry
from tests.factories import PASSWORD


def expire_sessions(app, user_id: str) -> None:
    """What an idle timeout does on the server: every session of this person ends."""
    with app.app_context():
        db.session.execute(delete(UserSession).where(UserSession.user_id == uuid.UUID(user_id)))
        db.session.commit()


def test_outbox_survives_closed_tab_and_expired_session(
    pwa: Page, context, server_url, app, account, page_errors
):
    sign_in(pwa, server_url, account.email)
    wait_for_worker(pwa)
    context.set_offline(True)
    write_entry(pwa, "Written on the train, no signal.")
    write_entry(pwa, "A second thought before the tunnel ended.")
    pwa.close()  # the tab is gone with its memory; IndexedDB keeps the outbox

    expire_sessions(app, account.id)
    context.set_offline(False)
    page = page_errors.watch(context.new_page())
    page.goto(server_url + "/#/journal")
    expect(page.locator("#expired-banner")).to_contain_text("Nothing on this device is lost")
    expect(page.locator("#sync-status")).to_have_text("Signed out · 2 saved on this device")
    expect(entry_item(page, "Written on the train")).to_contain_text("Saved on this device")
    # the test's own API client was signed out too
    account.post("/api/v1/auth/login", json={"email": account.email, "password": PASSWORD})
    assert account.get("/api/v1/journal/entries").json["entries"] == []

    page.get_by_role("link", name="Sign in again").click()
    expect(page.get_by_text("2 changes are saved on this device")).to_be_visible()
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    wait_synced(page)
    page.goto(server_url + "/#/journal")
    expect(entry_item(page, "Written on the train")).to_contain_text("Synced")
    expect(entry_item(page, "A second thought")).to_contain_text("Synced")
    bodies = sorted(e["body"] for e in account.get("/api/v1/journal/entries").json["entries"])
    assert bodies == [
        "A second thought before the tunnel ended.",
        "Written on the train, no signal.",
    ]


def test_sign_out_warns_about_unsent_changes_then_wipes_this_device(
    pwa: Page, context, server_url, account
):
    sign_in(pwa, server_url, account.email)
    wait_for_worker(pwa)
    context.set_offline(True)
    write_entry(pwa, "Not sent yet.")
    pwa.goto(server_url + "/#/privacy")
    pwa.get_by_role("button", name="Sign out").click()
    dialog = pwa.get_by_role("dialog")
    expect(dialog).to_contain_text("1 change has not reached the server")
    dialog.get_by_role("button", name="Cancel").click()
    expect(entry_item_count(pwa, server_url)).to_have_count(1)

    pwa.goto(server_url + "/#/privacy")
    pwa.get_by_role("button", name="Sign out").click()
    pwa.get_by_role("dialog").get_by_role("button", name="Sign out and lose them").click()
    expect(pwa.get_by_role("heading", name="Sign in")).to_be_visible()
    left = pwa.evaluate(
        """() => new Promise((resolve) => {
          const open = indexedDB.open('between');
          open.onsuccess = () => {
            const names = [...open.result.objectStoreNames];
            const t = open.result.transaction(names);
            const counts = {};
            names.forEach((n) => {
              t.objectStore(n).count().onsuccess = (e) => { counts[n] = e.target.result; };
            });
            t.oncomplete = () => resolve(counts);
          };
        })"""
    )
    assert set(left.values()) == {0}, left


def entry_item_count(page: Page, server_url: str):
    page.goto(server_url + "/#/journal")
    return page.locator("#entry-list li")
