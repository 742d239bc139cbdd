"""The same entry edited on two devices from one version: the second to sync sees both
versions side by side, keeps both, and both texts are on the server."""

from playwright.sync_api import Page, expect

from tests.e2e.pwa import entry_item, sign_in, wait_for_worker, wait_synced, write_entry


def edit_body(page: Page, server_url: str, old: str, new: str, state: str) -> None:
    page.goto(server_url + "/#/journal")
    entry_item(page, old).get_by_role("link").click()
    page.get_by_label("Your words").fill(new)
    page.get_by_role("button", name="Done").click()
    expect(entry_item(page, new)).to_contain_text(state)


def test_conflict_keep_both_puts_both_texts_on_the_server(
    pwa: Page, browser, browser_context_args, server_url, account, page_errors
):
    laptop = pwa
    sign_in(laptop, server_url, account.email)
    write_entry(laptop, "First words.")
    wait_synced(laptop)

    phone_context = browser.new_context(**browser_context_args)
    phone = page_errors.watch(phone_context.new_page())
    sign_in(phone, server_url, account.email)
    wait_for_worker(phone)
    phone.goto(server_url + "/#/journal")
    expect(entry_item(phone, "First words.")).to_contain_text("Synced")

    phone_context.set_offline(True)
    edit_body(phone, server_url, "First words.", "Edited on the phone.", "Saved on this device")
    edit_body(laptop, server_url, "First words.", "Edited on the laptop.", "Synced")

    phone_context.set_offline(False)
    wait_synced(phone)
    phone.goto(server_url + "/#/journal")
    item = entry_item(phone, "Edited on the laptop.")
    expect(item).to_contain_text("Needs your attention")
    item.get_by_role("link").click()

    expect(phone.get_by_role("heading", name="Two versions of this entry")).to_be_visible()
    expect(phone.get_by_role("region", name="Mine")).to_contain_text("Edited on the phone.")
    expect(phone.get_by_role("region", name="Theirs")).to_contain_text("Edited on the laptop.")
    phone.get_by_role("button", name="Keep both").click()
    wait_synced(phone)
    expect(entry_item(phone, "Edited on the phone.")).to_contain_text("Synced")
    expect(entry_item(phone, "Edited on the laptop.")).to_contain_text("Synced")

    entries = account.get("/api/v1/journal/entries").json["entries"]
    assert sorted(e["body"] for e in entries) == ["Edited on the laptop.", "Edited on the phone."]
    assert all(e["conflict_of"] is None for e in entries)
    phone_context.close()
