"""Words the server cannot store wait on the phone, "Needs your attention", until the
patient mends them: a later edit of other fields (the part moved on the map, which
sends only where it now is) does not sync past them and make them vanish."""

from playwright.sync_api import Page, expect

from tests.e2e.pwa import sign_in, wait_for, wait_synced
from tests.e2e.test_parts_plan import add_part

# a name cut through an emoji, as a paste of a cut string gives it; made in the page,
# since a lone surrogate cannot cross to the browser as text
CUT_NAME = "el => { el.value = 'Critic ' + String.fromCharCode(0xd800); }"
SHOWS_CUT_NAME = "el => el.textContent.trim() === 'Critic ' + String.fromCharCode(0xd800)"
OUTBOX = """() => new Promise((resolve) => {
  const open = indexedDB.open('between');
  open.onsuccess = () => {
    const request = open.result.transaction('outbox').objectStore('outbox').getAll();
    request.onsuccess = () => {
      resolve(request.result.map((op) => op.status));
      open.result.close();
    };
  };
})"""


def outbox(page: Page) -> list[str]:
    """The status of every op in the phone's outbox, oldest first."""
    return page.evaluate(OUTBOX)


def test_a_part_moved_after_its_name_was_refused_keeps_the_name_waiting(
    pwa: Page, server_url, account
):
    sign_in(pwa, server_url, account.email)
    pwa.goto(server_url + "/#/parts")
    add_part(pwa, "Critic", "manager")
    wait_synced(pwa)
    (stored,) = account.get("/api/v1/parts/map").json["parts"]
    node = pwa.locator(f'.part[data-id="{stored["id"]}"]')

    node.press("Enter")
    sheet = pwa.get_by_role("dialog")
    sheet.get_by_label("Name").evaluate(CUT_NAME)
    sheet.get_by_role("button", name="Save").click()
    wait_for(pwa, lambda: outbox(pwa) == ["rejected"], "the name refused")
    node.press("ArrowRight")  # moved on the map: only where it now is goes
    # answered: the move waits with the name (or, as before, went alone and left nothing)
    wait_for(pwa, lambda: outbox(pwa) in (["rejected"] * 2, []), "the move answered")
    # the pull is done too, and the status line does not say "All synced" while words wait
    expect(pwa.locator("#sync-status")).to_have_text("1 change needs your attention")

    pwa.get_by_role("button", name="List").click()
    card = pwa.locator("#parts-list li").first
    expect(card).to_contain_text("Needs your attention")
    assert card.locator("h2").evaluate(SHOWS_CUT_NAME)  # the words are still on the phone
    (server,) = account.get("/api/v1/parts/map").json["parts"]
    assert (server["name"], server["x"]) == ("Critic", stored["x"])  # nothing half-done

    card.get_by_role("button").click()  # the patient mends the name
    sheet.get_by_label("Name").fill("Critic, mended")
    sheet.get_by_role("button", name="Save").click()
    wait_synced(pwa)
    expect(card).to_contain_text("Synced")
    (server,) = account.get("/api/v1/parts/map").json["parts"]
    assert (server["name"], server["x"]) == ("Critic, mended", stored["x"] + 20)
