"""The therapist's app on a laptop, against the published demo caseload: the flagged
patient comes first; reading shared entries records receipts the patient sees; a flag
is acknowledged with what was done and a note; a session is scheduled; the plan is revised; and the
patient's private entry appears nowhere, on screen or on the wire."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from playwright.sync_api import expect

from tests.e2e.pwa import (
    CACHED_PATHS,
    DEVICE_ROWS,
    LAPTOP,
    sign_in,
    sign_in_therapist,
    wait_for_worker,
)
from tests.e2e.seed import DEMO_PRIVATE_WORDS, seed_demo_caseload


def test_demo_therapist_reads_acknowledges_and_schedules(browser, app, server_url, page_errors):
    demo = seed_demo_caseload(app)
    context = browser.new_context(viewport=LAPTOP)
    page = page_errors.watch(context.new_page())
    # every answer this page receives, body included, to search for the private words
    answers: list[tuple[str, bytes | None]] = []

    def record(response):
        if response.status == 204:  # no content (a cancelled session)
            answers.append((response.url, b""))
            return
        try:
            answers.append((response.url, response.body()))
        except Exception:  # noqa: BLE001 - a body the browser no longer holds
            answers.append((response.url, None))

    page.on("response", record)
    screens: list[str] = []

    sign_in_therapist(page, server_url, demo["therapist"], demo["password"])
    rows = page.locator("#caseload tbody tr")
    expect(rows).to_have_count(4)
    expect(rows.first.locator("th")).to_have_text("Demo Patient Three")
    expect(rows.first).to_contain_text("1 open")
    demo_row = rows.filter(has=page.get_by_role("link", name="Demo Patient", exact=True))
    expect(demo_row.locator("td").nth(3)).to_have_text("3")  # unread shared entries
    screens.append(page.content())

    # the flagged patient's brief: acknowledge the flag with a note
    page.get_by_role("link", name="Demo Patient Three", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Brief: Demo Patient Three")
    flags = page.locator("section[aria-labelledby='flags-title']")
    expect(flags.get_by_role("heading", level=2)).to_have_text("Open flags (1)")
    flags.get_by_role("button", name="Acknowledge", exact=True).click()
    flags.get_by_label("Contacted the patient").check()
    flags.get_by_label("Note").fill("Called; safe, plan in place. Seeing her Friday.")
    flags.get_by_role("button", name="Acknowledge flag").click()
    expect(flags.locator(".flag-note")).to_contain_text("Contacted the patient")
    expect(flags.get_by_text("Called; safe, plan in place.")).to_be_visible()
    expect(flags.get_by_text("Acknowledged", exact=True)).to_be_visible()
    screens.append(page.content())

    # the demo patient's brief: read two shared entries
    page.get_by_role("link", name="Caseload").click()
    page.get_by_role("link", name="Demo Patient", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Brief: Demo Patient")
    entries = page.locator("section[aria-labelledby='entries-title']")
    expect(entries.get_by_role("heading", level=2)).to_contain_text("3 unread")
    expect(entries.get_by_text("The image of the lake is still with me")).to_be_hidden()
    entries.get_by_role("button", name="Read “What stayed”").click()
    expect(entries.get_by_text("The image of the lake is still with me")).to_be_visible()
    entries.get_by_role("button", name="Read “The day after”").focus()  # by keyboard
    page.keyboard.press("Enter")
    expect(entries.get_by_text("I noticed the critic stepping back")).to_be_visible()
    expect(entries.get_by_role("heading", level=2)).to_contain_text("1 unread")
    expect(entries.locator(".read-state", has_text=re.compile("^Read "))).to_have_count(2)
    # the rest of the brief: scores with labels, plan changes, the shared map
    expect(page.locator("figure[data-instrument='phq9']")).to_contain_text("Response")
    expect(page.get_by_text("Added the session playlist after our integration")).to_be_visible()
    expect(page.get_by_role("img", name=re.compile("^Parts map: 4 parts"))).to_be_visible()
    screens.append(page.content())

    # schedule a dosing session
    pages = page.get_by_role("navigation", name="Demo Patient: pages")
    pages.get_by_role("link", name="Sessions").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sessions: Demo Patient")
    form = page.get_by_role("form", name="Schedule a session")
    form.get_by_label("Kind").select_option("dosing")
    form.get_by_label("Date").fill("2031-03-04")
    form.get_by_label("Start time").fill("10:30")
    form.get_by_label("Minutes").fill("120")
    form.get_by_label("Route").select_option("IM")
    form.get_by_role("button", name="Schedule session").click()
    upcoming = page.locator("section[aria-labelledby='upcoming-title'] tr[data-session-id]")
    expect(upcoming.filter(has_text="Dosing").filter(has_text="IM")).to_have_count(1)
    # change it, and cancel the integration session the demo had coming up
    upcoming.get_by_role("button", name=re.compile("^Change Dosing session")).click()
    page.get_by_role("form", name="Change session").get_by_label("Minutes").fill("90")
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator("tr.editing")).to_have_count(0)
    expect(upcoming.filter(has_text="Dosing")).to_contain_text("90 min")
    upcoming.get_by_role("button", name=re.compile("^Cancel Integration session")).click()
    page.get_by_role("dialog").get_by_role("button", name="Cancel session").click()
    expect(upcoming).to_have_count(1)
    screens.append(page.content())

    # the flags inbox has nothing open now
    page.get_by_role("link", name="Flags", exact=True).click()
    expect(page.locator("#flag-summary")).to_have_text("No open flags.")
    expect(page.get_by_text("Called; safe, plan in place.")).to_be_visible()
    screens.append(page.content())

    # nothing about patients on the device: no rows but the signed-in therapist (sealed)
    # and the app lock's own, no API answer in Cache Storage
    rows_on_device = page.evaluate(DEVICE_ROWS)
    meta = rows_on_device.pop("meta")
    assert sorted(meta) == ["lock", "lock_tries", "locked_help", "user"], rows_on_device
    assert not any(rows_on_device.values()), rows_on_device
    assert not [p for p in page.evaluate(CACHED_PATHS) if p.startswith("/api/")]

    # the private entry: in no screen, in no answer the page received
    api_answers = [(url, body) for url, body in answers if "/api/" in url]
    assert len(api_answers) > 10
    # but perhaps the sign-in answer (the therapist's own account): signing in reloads the
    # page into the app lock's PIN step, which may take that body with it
    unread = {urlsplit(url).path for url, body in api_answers if body is None}
    assert unread <= {"/api/v1/auth/login"}, "answers went unread"
    assert not [url for url, body in api_answers if DEMO_PRIVATE_WORDS.encode() in (body or b"")]
    assert not [s for s in screens if DEMO_PRIVATE_WORDS in s or "A heavy afternoon" in s]
    context.close()

    # the patient sees the two receipts on their phone
    phone = browser.new_context(viewport={"width": 390, "height": 844})
    fetched: list[str] = []
    phone.on("request", lambda request: fetched.append(request.url))
    patient = page_errors.watch(phone.new_page())
    sign_in(patient, server_url, demo["patient"], demo["password"])
    patient.goto(server_url + "/#/journal")
    expect(patient.locator("#entry-list li", has_text="Read by your therapist")).to_have_count(2)
    expect(patient.locator("#entry-list li", has_text="What stayed")).to_contain_text(
        "Read by your therapist"
    )
    # a patient's phone never downloads the therapist's screens
    assert fetched and not [url for url in fetched if "/therapist" in url]
    phone.close()
    # and the session on their timeline
    client = app.test_client()
    client.post("/api/v1/auth/login", json={"email": demo["patient"], "password": demo["password"]})
    upcoming = client.get("/api/v1/sessions").json["upcoming"]
    assert [
        (s["starts_at"][:16], s["kind"], s["route"], s["duration_minutes"]) for s in upcoming
    ] == [("2031-03-04T10:30", "dosing", "IM", 90)]


def test_plan_revised_by_therapist_shows_as_theirs_and_push_opens_flags(
    browser, app, server_url, page_errors
):
    from tests.e2e.test_push_risk import CLICK_FIRST, deliver_push, wait_for_notifications

    demo = seed_demo_caseload(app)
    context = browser.new_context(viewport=LAPTOP)
    context.grant_permissions(["notifications"], origin=server_url)
    page = page_errors.watch(context.new_page())
    sign_in_therapist(page, server_url, demo["therapist"], demo["password"])

    page.goto(f"{server_url}/#/patient/{demo['patient_id']}/plan")
    expect(page.get_by_role("heading", level=1)).to_have_text("Plan: Demo Patient")
    page.get_by_role("button", name="Revise the plan").click()
    steps = page.get_by_label("Coping steps on their own")
    steps.fill(steps.input_value() + "\nText Sam before the evening gets long")
    diff = page.locator("#plan-diff")
    expect(diff.locator("ins")).to_have_text("Text Sam before the evening gets long")
    page.get_by_label("What changed and why").fill("Added an evening step together")
    page.get_by_role("button", name="Save revision").click()
    expect(page.get_by_text("Text Sam before the evening gets long")).to_be_visible()
    expect(page.get_by_text("Last changed")).to_contain_text("by a therapist")

    patient = app.test_client()
    assert (
        patient.post(
            "/api/v1/auth/login", json={"email": demo["patient"], "password": demo["password"]}
        ).status_code
        == 200
    )
    newest = patient.get("/api/v1/plan/revisions").json[0]
    assert (newest["author_role"], newest["author_name"]) == ("therapist", "Dr. Demo Therapist")
    assert newest["summary"] == "Added an evening step together"

    # a push about a new flag (what server/reminders sends) opens the flags inbox
    wait_for_worker(page)
    page.goto(server_url + "/#/caseload")
    expect(page.get_by_role("heading", level=1, name="Caseload")).to_be_visible()
    payload = {
        "type": "flag",
        "id": "8f0e4a3e-0d6c-4b8e-9a55-2d9f3c1b7a10",
        "url": "/#/flags",
        "body": "A check-in needs your review",
    }
    deliver_push(context, page, server_url, payload)
    wait_for_notifications(page)
    context.service_workers[0].evaluate(CLICK_FIRST)
    expect(page.get_by_role("heading", level=1, name="Flags")).to_be_visible()
    expect(page.locator(".flag-open")).to_contain_text("Demo Patient Three")
    context.close()
