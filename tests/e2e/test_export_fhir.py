"""Issue 24: a patient takes their PHQ-9 and GAD-7 scores to their clinic's records system
as a FHIR R4 Bundle, from the Privacy screen, without any of their written words."""

from __future__ import annotations

import json
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.e2e.pwa import sign_in, wait_synced, write_entry
from tests.unit.test_scoring import answers_totalling

POST_CHECKIN = """async (body) => {
  const r = await fetch('/api/v1/checkins', {
    method: 'POST', credentials: 'same-origin',
    headers: {'Content-Type': 'application/json', 'X-Requested-With': 'fetch'},
    body: JSON.stringify(body),
  });
  return r.status;
}"""


def test_patient_downloads_scores_as_fhir_without_their_words(pwa: Page, server_url, account):
    sign_in(pwa, server_url, account.email)
    write_entry(pwa, "CANARY words only for me")
    wait_synced(pwa)
    phq9 = {**answers_totalling("phq9", 12, 9), "phq9_difficulty": 1}
    status = pwa.evaluate(
        POST_CHECKIN,
        {"instrument": "phq9", "answers": phq9, "answered_at": "2026-11-01T09:00:00-05:00"},
    )
    assert status == 201

    pwa.goto(server_url + "/#/privacy")
    with pwa.expect_download() as download:
        pwa.get_by_role("button", name="Download my scores (FHIR)").click()
    assert download.value.suggested_filename.endswith(".json")
    text = Path(download.value.path()).read_text(encoding="utf-8")
    bundle = json.loads(text)
    assert bundle["resourceType"] == "Bundle"
    totals = [
        r["resource"]["valueInteger"]
        for r in bundle["entry"]
        if r["resource"]["resourceType"] == "Observation"
    ]
    assert totals == [12]
    assert "CANARY" not in text
    expect(pwa.locator("#toast")).to_have_text("Your scores were downloaded")
