"""The therapist's screens, light and dark at 1280 × 800 and light on a tablet: axe-core
finds no serious or critical violation, also with the acknowledgement form, the invite
with its QR code and the end-link confirmation open. With BETWEEN_SCREENSHOTS=1 the laptop screens
are also written to docs/screenshots/ (the README shows them)."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.pwa import LAPTOP, TABLET, sign_in_therapist
from tests.e2e.seed import seed_demo_caseload
from tests.e2e.test_screens import SHOTS, WRITE_SHOTS, serious_violations


def invite_with_qr(page: Page):
    page.get_by_role("button", name="Invite a patient").click()
    expect(page.get_by_role("img", name=re.compile("QR code"))).to_be_visible()


def acknowledgement_form(page: Page):
    page.locator("#flag-list .flag-open").first.get_by_role(
        "button", name="Acknowledge", exact=True
    ).click()
    expect(page.get_by_role("form", name="Acknowledge the flag")).to_be_visible()


def flagged_brief_with_form(page: Page):
    page.get_by_role("link", name="Demo Patient Three", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Brief: Demo Patient Three")
    acknowledgement = page.locator("section[aria-labelledby='flags-title']")
    acknowledgement.get_by_role("button", name="Acknowledge", exact=True).click()
    expect(page.get_by_role("form", name="Acknowledge the flag")).to_be_visible()


def end_link_confirmation(page: Page):
    page.get_by_role("button", name="End care link").click()
    expect(page.get_by_role("dialog")).to_contain_text("leaves your caseload")
    # the sheet is closed by the next screen's check (below), after axe has looked


# (file name, route, the h1 that says the screen is ready, a selector it fills in, and
# what to do there first: a form or a dialog opened)
ROWS = "#caseload tbody tr"
CHART = "figure[data-instrument='phq9'] svg"
BRIEF = "Brief: Demo Patient"
SCREENS = [
    ("caseload", "#/caseload", "Caseload", ROWS, None),
    ("brief", "#/patient/{pid}", BRIEF, CHART, None),
    ("flags", "#/flags", "Flags", "#flag-list .flag", None),
    (
        "sessions",
        "#/patient/{pid}/sessions",
        "Sessions: Demo Patient",
        "#session-list tbody tr",
        None,
    ),
    ("plan", "#/patient/{pid}/plan", "Plan: Demo Patient", ".plan-grid", None),
    ("invite", "#/caseload", "Caseload", ROWS, invite_with_qr),
    ("acknowledge", "#/flags", "Flags", "#flag-list .flag", acknowledgement_form),
    ("brief-flagged", "#/caseload", "Caseload", ROWS, flagged_brief_with_form),
    ("end-link", "#/patient/{pid}", BRIEF, CHART, end_link_confirmation),
]


def open_screen(page: Page, url: str, heading: str, ready: str) -> None:
    # a sheet left open by the screen before goes first
    for _ in range(3):
        if not page.locator("dialog[open]").count():
            break
        page.keyboard.press("Escape")
    page.goto(url)
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    expect(page.locator(ready).first).to_be_visible()
    page.wait_for_load_state("networkidle")


@pytest.mark.parametrize(
    ("scheme", "viewport"),
    [
        pytest.param("light", LAPTOP, id="light-laptop"),
        pytest.param("dark", LAPTOP, id="dark-laptop"),
        pytest.param("light", TABLET, id="light-tablet"),
    ],
)
def test_therapist_screens_have_no_serious_accessibility_violations(
    browser, app, server_url, page_errors, scheme, viewport
):
    demo = seed_demo_caseload(app)
    context = browser.new_context(viewport=viewport, color_scheme=scheme, reduced_motion="reduce")
    page = page_errors.watch(context.new_page())
    sign_in_therapist(page, server_url, demo["therapist"], demo["password"])
    found = {}
    for name, route, heading, ready, state in SCREENS:
        open_screen(page, server_url + "/" + route.format(pid=demo["patient_id"]), heading, ready)
        if state:
            state(page)
        if WRITE_SHOTS and viewport == LAPTOP and name in ("caseload", "brief"):
            SHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SHOTS / f"therapist-{name}-{scheme}.png"))
        # nothing wider than the screen: the laptop layout holds down to a tablet
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"], name
        problems = serious_violations(page)
        if problems:
            found[name] = problems
    context.close()
    assert not found, found


def test_printed_brief_has_no_app_chrome_and_one_patient_per_page(
    browser, app, server_url, page_errors
):
    demo = seed_demo_caseload(app)
    context = browser.new_context(viewport=LAPTOP)
    page = page_errors.watch(context.new_page())
    sign_in_therapist(page, server_url, demo["therapist"], demo["password"])
    page.get_by_role("link", name="Print all briefs").click()
    expect(page.locator("#print-status")).to_have_text(
        "4 briefs ready to print, one patient per page."
    )
    page.emulate_media(media="print")
    for chrome in (".topbar", ".tnav", "#print-status", "form.ack", "#end-link"):
        expect(page.locator(chrome).first).to_be_hidden()
    pages = page.locator(".brief-page")
    expect(pages).to_have_count(4)
    breaks = pages.evaluate_all("ps => ps.map((p) => getComputedStyle(p).breakAfter)")
    assert breaks == ["page", "page", "page", "auto"]
    # shared entries print in full (no read receipt is sent: nothing was opened)
    expect(pages.first.get_by_text("The image of the lake is still with me")).to_be_visible()
    expect(pages.locator(".print-name")).to_have_text(
        [
            "Brief: Demo Patient",
            "Brief: Demo Patient Four",
            "Brief: Demo Patient Three",
            "Brief: Demo Patient Two",
        ]
    )
    context.close()
