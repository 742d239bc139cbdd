"""Help now follows the patient's region: a phone in Madrid, its browser in English,
shows Spain's 024 and 112 with the line's hours and language, offline too; and never a
US number."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.pwa import sign_in, wait_for_worker

ZONE = "Europe/Madrid"


@pytest.fixture
def browser_context_args(browser_context_args):
    return {**browser_context_args, "timezone_id": ZONE, "locale": "en-US"}


def test_help_now_in_spain_shows_024_and_112_offline(pwa: Page, context, server_url, make_patient):
    patient = make_patient(timezone=ZONE)
    sign_in(pwa, server_url, patient.email)
    wait_for_worker(pwa)
    context.set_offline(True)
    pwa.reload()
    pwa.goto(server_url + "/#/help")
    expect(pwa.get_by_role("heading", name="Help now")).to_be_visible()

    first = pwa.locator("#first-help")
    expect(first.get_by_role("link", name="Call 024", exact=True)).to_have_attribute(
        "href", "tel:024"
    )
    expect(first.get_by_role("link", name="Call 112", exact=True)).to_have_attribute(
        "href", "tel:112"
    )
    # when and in which language each line answers, below the first screen's buttons
    lines = pwa.locator("#crisis-lines")
    expect(lines).to_contain_text("024 – Línea de atención a la conducta suicida")
    expect(lines).to_contain_text("24/7 · Spanish")
    expect(lines).to_contain_text("Teléfono de la Esperanza")
    expect(pwa.locator("#local-emergency")).to_contain_text("your local emergency number")
    expect(pwa.locator("a[href='tel:988'], a[href='tel:911']")).to_have_count(0)
