"""Every patient screen, light and dark, at 390 × 844: axe-core finds no serious or
critical violation. With BETWEEN_SCREENSHOTS=1 the screens are also written to
docs/screenshots/ (the README shows them)."""

import os
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from tests.e2e.pwa import sign_in, wait_synced
from tests.e2e.seed import seed_patient

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
WRITE_SHOTS = os.environ.get("BETWEEN_SCREENSHOTS") == "1"
# (file name, route, a heading that says the screen is ready)
SCREENS = [
    ("today", "#/today", "Hello"),
    ("journal", "#/journal", "Journal"),
    ("editor", None, "Entry"),
    ("checkin", "#/checkin/daily", "Daily check-in"),
    ("trend", "#/trends/phq9", "Trends"),
    ("parts-map", "#/parts", "Parts map"),
    ("plan", "#/plan", "My plan"),
    ("help-now", "#/help", "Help now"),
]
MORE = [
    ("new-entry", "#/journal/new", "New entry"),
    ("phq9", "#/checkin/phq9", "PHQ-9"),
    ("more", "#/more", "More"),
    ("privacy", "#/privacy", "Privacy and my data"),
    ("reminders", "#/reminders", "Reminders"),
    ("security", "#/security", "Security"),
]
# the screens a person meets before signing in
SIGNED_OUT = [
    ("sign-in", "#/signin", "Sign in"),
    ("create-account", "#/signin/create", "Create account"),
    ("forgot", "#/signin/forgot", "Forgot your password?"),
    ("reset", "#/reset/a-link-that-was-never-made", "Choose a new password"),
    ("help-signed-out", "#/help", "Help now"),
]
_axe = Axe()


def serious_violations(page: Page) -> list[str]:
    results = _axe.run(page)
    return [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def open_screen(page: Page, server_url: str, route: str | None, heading: str) -> None:
    if route is None:  # the editor of the newest entry
        page.goto(server_url + "/#/journal")
        page.locator("#entry-list a").first.click()
    else:
        page.goto(server_url + "/" + route)
    expect(page.get_by_role("heading", level=1)).to_contain_text(heading)
    page.wait_for_load_state("networkidle")


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_main_screens_have_no_serious_accessibility_violations(
    browser,
    browser_context_args,
    server_url,
    app,
    make_patient,
    therapist,
    link,
    page_errors,
    scheme,
):
    patient = make_patient()
    seed_patient(app, patient, therapist, link)
    context = browser.new_context(
        **browser_context_args, color_scheme=scheme, reduced_motion="reduce"
    )
    page = page_errors.watch(context.new_page())
    sign_in(page, server_url, patient.email)
    wait_synced(page)
    found = {}
    for name, route, heading in SCREENS + MORE + SIGNED_OUT:
        if name == SIGNED_OUT[0][0]:
            context.clear_cookies()
            page.evaluate("indexedDB.deleteDatabase('between')")
            page.goto(server_url + "/")
            page.reload()
        open_screen(page, server_url, route, heading)
        if WRITE_SHOTS and (name, route, heading) in SCREENS:
            SHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SHOTS / f"{name}-{scheme}.png"))
        problems = serious_violations(page)
        if problems:
            found[name] = problems
    context.close()
    assert not found, found
