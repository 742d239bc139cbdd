"""The moment that matters: a risk answer puts a call within one thumb's reach on the
first screen and says plainly who was told (or, offline, who will be told); Help now
opens with one tap over any sheet; long words never push it sideways; a finished
questionnaire says it was saved and what it scored."""

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.pwa import sign_in, wait_for, wait_synced

PLAN = {
    "version": 0,
    "warning_signs": [{"text": "I stop answering messages"}],
    "coping_steps": [{"text": "Walk around the block"}],
    "reasons_for_living": [{"text": "The garden"}],
    "support_contacts": [{"name": "Alex", "relation": "sister", "phone": "+1 555 0100"}],
}
SIZES = [
    pytest.param({"width": 320, "height": 640}, id="320x640"),
    pytest.param({"width": 390, "height": 844}, id="390x844"),
]
SCROLL_Y = "() => window.scrollY"
SIDEWAYS = (
    "() => ({ scroll: document.documentElement.scrollWidth,"
    " client: document.documentElement.clientWidth })"
)
# the plan as this device holds it: text typed here is kept whole even before the
# server has judged it, so Help now must show it whole too
PUT_DEVICE_PLAN = """([id, plan]) => new Promise((resolve, reject) => {
  const open = indexedDB.open('between');
  open.onsuccess = () => {
    const t = open.result.transaction('plans', 'readwrite');
    t.objectStore('plans').put({ ...plan, id, version: 1 });
    t.oncomplete = () => { open.result.close(); resolve(true); };
    t.onerror = () => reject(t.error);
  };
})"""


def display_name(actor) -> str:
    return actor.get("/api/v1/auth/me").json["display_name"]


def answer_phq9_with_risk(page: Page) -> None:
    for _ in range(8):
        page.get_by_role("button", name="Not at all").click()
    expect(page.get_by_text("Question 9 of 10")).to_be_visible()
    page.get_by_role("button", name="Several days").click()


def assert_in_first_screen(page: Page, locator, viewport: dict) -> None:
    """Wholly on screen without scrolling, and not under the tab bar."""
    assert page.evaluate(SCROLL_Y) == 0
    box = locator.bounding_box()
    tabbar = page.locator("#tabbar").bounding_box()
    bottom = tabbar["y"] if tabbar else viewport["height"]
    assert box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"], box
    assert box["y"] >= 0 and box["y"] + box["height"] <= bottom, (box, bottom)


@pytest.mark.parametrize("viewport", SIZES)
@pytest.mark.parametrize("online", [True, False], ids=["online", "offline"])
def test_risk_answer_puts_a_call_on_the_first_screen_and_names_who_is_told(
    pwa: Page, context, server_url, make_patient, therapist, link, viewport, online
):
    patient = make_patient()
    link(therapist, patient)
    assert patient.put("/api/v1/plan", json=PLAN).status_code == 200
    name = display_name(therapist)
    pwa.set_viewport_size(viewport)
    sign_in(pwa, server_url, patient.email)
    pwa.goto(server_url + "/#/checkin/phq9")
    expect(pwa.get_by_role("heading", name="PHQ-9")).to_be_visible()
    expect(pwa.get_by_role("note")).to_contain_text("not monitored in real time")
    if not online:
        context.set_offline(True)
    answer_phq9_with_risk(pwa)

    expect(pwa.get_by_role("heading", name="Help now")).to_be_visible()
    first_call = pwa.locator("a[href^='tel:']").first
    expect(first_call).to_have_attribute("href", "tel:+15550100")
    assert_in_first_screen(pwa, first_call, viewport)
    for label, href in [("Call 988", "tel:988"), ("Text 988", "sms:988"), ("Call 911", "tel:911")]:
        link_ = pwa.get_by_role("link", name=label, exact=True)
        expect(link_).to_have_attribute("href", href)
        assert_in_first_screen(pwa, link_, viewport)
    told = pwa.locator("#care-line")
    if online:
        expect(told).to_contain_text(f"We have let {name} know about this answer")
    else:
        expect(told).to_contain_text(f"{name} has not been told yet")
        expect(told).to_contain_text("will be told when your phone is back online")
    expect(told).to_contain_text("Between is not an emergency service")
    assert_in_first_screen(pwa, told, viewport)
    # one disclaimer, not the same words twice
    expect(pwa.get_by_text("not an emergency service")).to_have_count(1)
    expect(pwa.get_by_text("at your next session, not before")).to_have_count(0)
    # the rest of the plan follows
    expect(pwa.get_by_text("Walk around the block")).to_be_attached()

    if not online:
        context.set_offline(False)
    wait_synced(pwa)
    expect(told).to_contain_text(f"We have let {name} know about this answer")
    [checkin] = patient.get("/api/v1/checkins").json["checkins"]
    assert checkin["answers"]["phq9_9"] == 1
    assert [f["reason"] for f in checkin["flags"]] == ["phq9_item9"]


def test_risk_answer_with_nobody_linked_says_nobody_was_told(pwa: Page, server_url, account):
    sign_in(pwa, server_url, account.email)
    pwa.goto(server_url + "/#/checkin/phq9")
    answer_phq9_with_risk(pwa)
    expect(pwa.get_by_role("heading", name="Help now")).to_be_visible()
    expect(pwa.locator("#care-line")).to_contain_text("nobody in Between was told")


def tap_help_now_over(page: Page, sheet_title: str) -> None:
    dialog = page.get_by_role("dialog", name=sheet_title)
    expect(dialog).to_be_visible()
    # one tap: a covered or inert button makes this click time out
    page.locator("#help-now-button").click(timeout=3_000)
    expect(page.get_by_role("heading", level=1, name="Help now")).to_be_visible()
    expect(page.locator("dialog")).to_have_count(0)


def test_help_now_opens_with_one_tap_over_every_kind_of_sheet(pwa: Page, server_url, account):
    part = account.post("/api/v1/parts", json={"name": "Inner critic", "role": "manager"})
    assert part.status_code == 201, part.json
    sign_in(pwa, server_url, account.email)

    pwa.goto(server_url + "/#/parts")
    pwa.get_by_role("button", name="Add part").click()
    tap_help_now_over(pwa, "New part")

    pwa.goto(server_url + "/#/parts")
    pwa.get_by_role("button", name="List").click()
    pwa.get_by_role("button", name="Open Inner critic").click()
    tap_help_now_over(pwa, "Inner critic")

    pwa.goto(server_url + "/#/parts")
    pwa.get_by_role("button", name="List").click()
    pwa.get_by_role("button", name="Open Inner critic").click()
    pwa.get_by_role("button", name="Delete part").click()
    tap_help_now_over(pwa, "Delete Inner critic?")

    pwa.goto(server_url + "/#/privacy")
    pwa.get_by_role("region", name="Sign out").get_by_role("button", name="Sign out").click()
    tap_help_now_over(pwa, "Sign out?")

    # every sheet was left as if cancelled: nothing deleted, still signed in
    expect(pwa.locator("#tabbar")).to_be_visible()
    wait_synced(pwa)
    assert [p["name"] for p in account.get("/api/v1/parts").json] == ["Inner critic"]


@pytest.mark.parametrize("reason", ["", "/risk"], ids=["help", "risk"])
def test_help_now_never_scrolls_sideways_with_a_long_word(pwa: Page, server_url, account, reason):
    word = "a" * 5000
    plan = {
        "warning_signs": [{"text": word}],
        "coping_steps": [{"text": "b" * 5000}],
        "reasons_for_living": [{"text": "c" * 5000}],
        "support_contacts": [{"name": "D" * 5000, "relation": "e" * 500, "phone": "+1 555 0100"}],
        "professional_contacts": [{"name": "F" * 5000, "phone": "+1 555 0199"}],
    }
    pwa.set_viewport_size({"width": 320, "height": 640})
    sign_in(pwa, server_url, account.email)
    pwa.evaluate(PUT_DEVICE_PLAN, [account.id, plan])
    pwa.goto(server_url + "/#/help" + reason)
    expect(pwa.get_by_role("heading", name="Help now")).to_be_visible()
    expect(pwa.get_by_text(word)).to_be_visible()
    expect(pwa.locator("bdi").filter(has_text="D" * 5000).first).to_be_attached()
    sizes = wait_for(pwa, lambda: pwa.evaluate(SIDEWAYS), "the page's widths")
    assert sizes["scroll"] <= sizes["client"], sizes


def test_phq9_completed_online_says_saved_and_shows_its_score(pwa: Page, server_url, account):
    sign_in(pwa, server_url, account.email)
    pwa.goto(server_url + "/#/checkin/phq9")
    for _ in range(8):
        pwa.get_by_role("button", name="Several days").click()
    pwa.get_by_role("button", name="Not at all").click()  # item 9
    expect(pwa.get_by_text("Question 10 of 10")).to_be_visible()
    pwa.get_by_role("button", name="Somewhat difficult").click()

    expect(pwa.get_by_role("heading", level=1)).to_contain_text("PHQ-9")
    expect(pwa.locator("#saved")).to_have_text("Saved")
    expect(pwa.locator("#score")).to_contain_text("8 of 27")
    expect(pwa.locator("#severity")).to_have_text("Mild depression symptoms.")
    wait_synced(pwa)
    [checkin] = account.get("/api/v1/checkins").json["checkins"]
    assert (checkin["score"], checkin["severity"]) == (8, "mild")
