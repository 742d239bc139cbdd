"""The journal editor is for writing quickly: it opens on the body with Done in reach,
folds the rest into Details, shows an unset mood as unset, links what is written after
a dosing session to that session, and no long word pushes a screen sideways. Every
test runs on a small phone (320 × 640) and a common one (390 × 844)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.pwa import SAVED, entry_item, sign_in, wait_for_worker, wait_synced

PHONES = {"320x640": {"width": 320, "height": 640}, "390x844": {"width": 390, "height": 844}}
ENTRIES = "/api/v1/journal/entries"
LONG_WORD = "x" * 5000
LONG_TITLE = "T" + "x" * 499  # the longest title the API takes


@pytest.fixture(params=list(PHONES))
def browser_context_args(browser_context_args, request):
    return {**browser_context_args, "viewport": PHONES[request.param]}


def assert_in_reach(page: Page, name: str) -> None:
    """The button is inside the viewport, above the tab bar, and nothing covers it."""
    button = page.get_by_role("button", name=name, exact=True)
    box = button.bounding_box()
    view = page.viewport_size
    assert box, f"{name} has no box"
    tabbar = page.locator("#tabbar").bounding_box()
    bottom = tabbar["y"] if tabbar else view["height"]
    assert 0 <= box["y"] and box["y"] + box["height"] <= bottom, (name, box, view)
    assert 0 <= box["x"] and box["x"] + box["width"] <= view["width"], (name, box, view)
    hit = page.evaluate(
        "([x, y]) => document.elementFromPoint(x, y)?.closest('button')?.textContent ?? null",
        [box["x"] + box["width"] / 2, box["y"] + box["height"] / 2],
    )
    assert hit == name, f"{name} is covered by {hit!r}"


def no_sideways_scroll(page: Page) -> bool:
    return page.evaluate(
        "() => document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )


def open_details(page: Page) -> None:
    page.locator("details.entry-details > summary").click()
    expect(page.locator("details.entry-details")).to_have_attribute("open", "")


def test_new_entry_opens_on_the_body_with_done_in_reach_and_saves_offline_once(
    pwa: Page, context, server_url, account
):
    sign_in(pwa, server_url, account.email)
    wait_for_worker(pwa)
    context.set_offline(True)
    pwa.goto(server_url + "/#/journal/new")

    body = pwa.get_by_label("Your words")
    expect(body).to_be_focused()
    expect(body).to_have_value("")
    details = pwa.locator("details.entry-details")
    expect(details).not_to_have_attribute("open", "")
    expect(details.locator("summary")).to_contain_text("Private")
    expect(pwa.get_by_role("radiogroup", name="Mood")).to_be_hidden()
    expect(pwa.get_by_text("not monitored in real time")).to_be_visible()
    assert_in_reach(pwa, "Done")

    lines = [f"Line {n}: what stayed with me." for n in range(1, 31)]
    pwa.keyboard.type("\n".join(lines))
    expect(body).to_have_value("\n".join(lines))
    assert_in_reach(pwa, "Done")
    expect(pwa.locator(".state-line")).to_have_text("Saved on this device")

    pwa.get_by_role("button", name="Done").click()
    expect(pwa.get_by_role("heading", name="Journal")).to_be_visible()
    expect(entry_item(pwa, "Line 1: what stayed with me.")).to_contain_text("Saved on this device")

    context.set_offline(False)
    wait_synced(pwa)
    expect(entry_item(pwa, "Line 1: what stayed with me.")).to_contain_text("Synced")
    entries = account.get(ENTRIES).json["entries"]
    assert [e["body"] for e in entries] == ["\n".join(lines)]


def test_existing_entry_opens_with_the_same_layout(pwa: Page, server_url, account):
    account.post(ENTRIES, json={"title": "Kept", "body": "Words from before.", "mood": 4})
    sign_in(pwa, server_url, account.email)
    pwa.goto(server_url + "/#/journal")
    entry_item(pwa, "Kept").get_by_role("link").click()
    expect(pwa.get_by_label("Your words")).to_have_value("Words from before.")
    details = pwa.locator("details.entry-details")
    expect(details).not_to_have_attribute("open", "")
    expect(details.locator("summary")).to_contain_text("Mood 4")
    assert_in_reach(pwa, "Done")


def test_mood_starts_unset_can_be_chosen_and_cleared(pwa: Page, server_url, account):
    sign_in(pwa, server_url, account.email)

    # an entry whose mood was chosen, then cleared, is saved without one
    pwa.goto(server_url + "/#/journal/new")
    pwa.get_by_label("Your words").fill("A mood I could not name.")
    open_details(pwa)
    mood = pwa.get_by_role("radiogroup", name="Mood")
    expect(mood.get_by_role("radio")).to_have_count(11)
    expect(mood.get_by_role("radio", checked=True)).to_have_count(0)
    value = pwa.locator("#mood-value")
    expect(value).to_have_text("Not set")
    expect(pwa.get_by_role("button", name="Clear mood")).to_be_hidden()

    mood.get_by_role("radio", name="6", exact=True).check()
    expect(mood.get_by_role("radio", checked=True)).to_have_count(1)
    expect(value).to_have_text("6 of 10")
    expect(pwa.locator("details.entry-details > summary")).to_contain_text("Mood 6")
    pwa.get_by_role("button", name="Clear mood").click()
    expect(mood.get_by_role("radio", checked=True)).to_have_count(0)
    expect(value).to_have_text("Not set")
    expect(pwa.locator("details.entry-details > summary")).not_to_contain_text("Mood")
    expect(pwa.locator(".state-line")).to_contain_text(SAVED)
    pwa.get_by_role("button", name="Done").click()
    # Done saves, then opens the journal: wait for it, or that navigation lands after ours
    expect(pwa.get_by_role("heading", name="Journal")).to_be_visible()

    # and one with a mood keeps it
    pwa.goto(server_url + "/#/journal/new")
    pwa.get_by_label("Your words").fill("A brighter afternoon.")
    open_details(pwa)
    pwa.get_by_role("radiogroup", name="Mood").get_by_role("radio", name="3", exact=True).check()
    expect(pwa.locator(".state-line")).to_contain_text(SAVED)
    pwa.get_by_role("button", name="Done").click()
    wait_synced(pwa)

    moods = {e["body"]: e["mood"] for e in account.get(ENTRIES).json["entries"]}
    assert moods == {"A mood I could not name.": None, "A brighter afternoon.": 3}


def test_dosing_prompt_writes_an_integration_entry_linked_to_that_session(
    pwa: Page, server_url, make_patient, therapist, link
):
    patient = make_patient()
    link(therapist, patient)
    yesterday = (datetime.now(UTC) - timedelta(days=1, hours=1)).isoformat()
    response = therapist.post(
        f"/api/v1/patients/{patient.id}/sessions",
        json={"kind": "dosing", "starts_at": yesterday, "duration_minutes": 120},
    )
    assert response.status_code == 201, response.json
    session_id = response.json["id"]

    sign_in(pwa, server_url, patient.email)
    dosing = pwa.get_by_role("region", name="1 day since your dosing session")
    expect(dosing).to_be_visible()
    dosing.get_by_role("link", name="Write about it").click()
    body = pwa.get_by_label("Your words")
    expect(body).to_be_focused()
    expect(pwa.locator("#prompt-text")).to_be_visible()
    expect(pwa.locator("details.entry-details > summary")).to_contain_text("Integration")
    pwa.keyboard.type("The colours, and my grandmother's kitchen.")
    expect(pwa.locator(".state-line")).to_contain_text(SAVED)
    pwa.get_by_role("button", name="Done").click()
    wait_synced(pwa)

    [entry] = patient.get(ENTRIES).json["entries"]
    assert entry["body"] == "The colours, and my grandmother's kitchen."
    assert entry["kind"] == "integration"
    assert entry["session_id"] == session_id


def test_a_long_unbroken_word_never_scrolls_a_screen_sideways(pwa: Page, server_url, account):
    titled = account.post(ENTRIES, json={"title": LONG_TITLE, "body": "B" + LONG_WORD})
    untitled = account.post(ENTRIES, json={"body": "U" + LONG_WORD, "tags": ["t" * 60]})
    assert titled.status_code == untitled.status_code == 201
    sign_in(pwa, server_url, account.email)

    expect(pwa.get_by_role("heading", name="Recent entries")).to_be_visible()
    expect(pwa.locator(".entry-link")).to_have_count(2)
    assert no_sideways_scroll(pwa), "Today scrolls sideways"

    pwa.goto(server_url + "/#/journal")
    expect(pwa.locator("#entry-list li")).to_have_count(2)
    assert no_sideways_scroll(pwa), "the journal list scrolls sideways"

    for entry in (titled.json, untitled.json):
        pwa.goto(server_url + f"/#/journal/{entry['id']}")
        expect(pwa.get_by_label("Your words")).to_have_value(entry["body"])
        assert no_sideways_scroll(pwa), "the editor scrolls sideways"
        open_details(pwa)
        assert no_sideways_scroll(pwa), "the editor's details scroll sideways"
        assert_in_reach(pwa, "Done")


def test_untitled_entry_is_cut_at_a_word_boundary_with_an_ellipsis(pwa: Page, server_url, account):
    words = "Today I walked along the river and noticed how the light moved on the water"
    family = "👩‍👩‍👧‍👦"  # one emoji of seven code points
    emoji = family * 100
    for body in (words, emoji, "Short and whole."):
        assert account.post(ENTRIES, json={"body": body}).status_code == 201
    sign_in(pwa, server_url, account.email)
    pwa.goto(server_url + "/#/journal")
    expect(pwa.locator("#entry-list li")).to_have_count(3)

    def title_of(start: str) -> str:
        titles = pwa.locator("#entry-list .title").all_inner_texts()
        return next(t for t in titles if t.startswith(start))

    cut = title_of("Today I walked")
    assert cut.endswith("…") and len(cut) < len(words), cut
    kept = cut[:-1]
    assert words.startswith(kept) and words[len(kept)] == " ", cut
    assert not kept.endswith(" ")

    cut = title_of(family)
    assert cut.endswith("…"), cut
    kept = cut[:-1]
    assert kept and kept == family * (len(kept) // len(family)), "cut inside an emoji"

    assert title_of("Short and whole.") == "Short and whole."
