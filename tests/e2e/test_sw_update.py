"""A deploy reaches an installed phone: any change to the shell's files changes the
worker, the page takes the new version after one reload, at a calm moment, and nothing
waiting in the outbox is lost."""

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import served
from tests.e2e.pwa import (
    CACHE_NAMES,
    OUTBOX_SIZE,
    SAVED,
    SETTLED,
    WORKER_CACHE,
    Deploy,
    entry_item,
    served_cache_name,
    sign_in,
    wait_for,
    wait_for_worker,
    wait_synced,
    write_entry,
)

MARK = '<meta name="between-test-release" content="2">'


@pytest.fixture
def start(make_app, app, pwa_copy):
    """A server start (a new app) on the same database, serving the PWA from the copy."""

    def make():
        database = app.config["SQLALCHEMY_DATABASE_URI"]
        return make_app({"SQLALCHEMY_DATABASE_URI": database, "PWA_DIR": str(pwa_copy)})

    return make


def publish(shell: Path) -> None:
    """A release that changes the shell's page, and not sw.js."""
    index = shell / "index.html"
    index.write_text(index.read_text().replace("</head>", f"  {MARK}\n</head>"))


def runs(page: Page, cache: str) -> bool:
    return page.evaluate(WORKER_CACHE) == cache


def wait_for_version(page: Page, cache: str) -> None:
    """Until the worker that controls the page serves from `cache`, and it alone is kept."""
    wait_for(
        page,
        lambda: page.evaluate(SETTLED) and page.evaluate(CACHE_NAMES) == [cache],
        "the new version alone",
        timeout=30,
    )
    assert runs(page, cache)


def test_one_reload_brings_the_new_version_and_the_outbox_survives(
    pwa: Page, context, account, pwa_copy, start
):
    deploy = Deploy(start())
    old = served_cache_name(deploy.app)
    with served(deploy) as url:
        sign_in(pwa, url, account.email)
        wait_for_worker(pwa)
        wait_for(pwa, lambda: pwa.evaluate(CACHE_NAMES) == [old], "the first version installed")
        wait_for(pwa, lambda: pwa.evaluate(SETTLED), "the first version in control")
        assert runs(pwa, old)

        deploy.sync_down = True  # the change stays on the phone
        write_entry(pwa, "Kept through the update.")
        expect(pwa.locator("#sync-status")).to_have_text("Will retry · 1 saved on this device")

        publish(pwa_copy)
        deploy.app = start()
        new = served_cache_name(deploy.app)
        assert new != old

        pwa.reload()  # the patient opens the app again: once
        wait_for_version(pwa, new)
        expect(pwa.locator('meta[name="between-test-release"]')).to_have_count(1)
        assert pwa.evaluate(OUTBOX_SIZE) == 1
        expect(entry_item(pwa, "Kept through the update.")).to_contain_text("Saved on this device")

        deploy.sync_down = False  # the network allows again
        context.set_offline(True)
        context.set_offline(False)
        wait_synced(pwa)
    bodies = [e["body"] for e in account.get("/api/v1/journal/entries").json["entries"]]
    assert bodies == ["Kept through the update."]


def test_while_the_patient_writes_the_update_waits_for_a_calm_moment(
    pwa: Page, account, pwa_copy, start
):
    deploy = Deploy(start())
    old = served_cache_name(deploy.app)
    with served(deploy) as url:
        sign_in(pwa, url, account.email)
        wait_for_worker(pwa)
        pwa.goto(url + "/#/journal/new")
        words = pwa.get_by_label("Your words")
        words.fill("Halfway through a thought")

        publish(pwa_copy)
        deploy.app = start()
        new = served_cache_name(deploy.app)
        pwa.evaluate("navigator.serviceWorker.getRegistration().then((r) => r.update())")
        expect(pwa.locator("#update-banner")).to_contain_text("A new version of Between is ready")
        # still writing: the same page, the words in place, the old version in control
        assert runs(pwa, old)
        words.press_sequentially(", and the end of it.")
        expect(words).to_have_value("Halfway through a thought, and the end of it.")
        assert runs(pwa, old)

        pwa.get_by_role("button", name="Done").click()  # back to the list: calm
        wait_for_version(pwa, new)
        expect(pwa.locator('meta[name="between-test-release"]')).to_have_count(1)
        expect(pwa.locator("#update-banner")).to_have_count(0)
        expect(entry_item(pwa, "and the end of it.")).to_be_visible()
        wait_synced(pwa)
    bodies = [e["body"] for e in account.get("/api/v1/journal/entries").json["entries"]]
    assert bodies == ["Halfway through a thought, and the end of it."]


def test_update_now_takes_the_new_version_at_once(pwa: Page, account, pwa_copy, start):
    deploy = Deploy(start())
    with served(deploy) as url:
        sign_in(pwa, url, account.email)
        wait_for_worker(pwa)
        pwa.goto(url + "/#/journal/new")
        pwa.get_by_label("Your words").fill("A line before updating.")
        expect(pwa.locator(".state-line")).to_contain_text(SAVED)

        publish(pwa_copy)
        deploy.app = start()
        new = served_cache_name(deploy.app)
        pwa.evaluate("navigator.serviceWorker.getRegistration().then((r) => r.update())")
        pwa.get_by_role("button", name="Update now").click()
        wait_for_version(pwa, new)
        expect(pwa.locator('meta[name="between-test-release"]')).to_have_count(1)
        wait_synced(pwa)
    bodies = [e["body"] for e in account.get("/api/v1/journal/entries").json["entries"]]
    assert bodies == ["A line before updating."]
