"""The therapist's two minutes before a session (issue 19), at 1280 × 800 and on a
tablet: a flagged row says why and when the patient answered; a flag closes only with
what was done or a note, and takes more notes after; a rise reads as a rise and keeps
the row marked after the flag is closed; ending a care link removes the patient; the
invite's link and QR code carry the code; no page scrolls sideways with an unbroken
5,000-letter word; the printed brief is one page naming the patient."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from tests.e2e.pwa import LAPTOP, sign_in_therapist, unlock_device
from tests.e2e.seed import _answers, seed_demo_caseload

TABLET_PORTRAIT = {"width": 768, "height": 1024}
VIEWPORTS = [
    pytest.param(LAPTOP, id="laptop"),
    pytest.param(TABLET_PORTRAIT, id="tablet"),
]
# the therapist's browser: words and times as this test expects them
BROWSER = {"locale": "en-US", "timezone_id": "UTC", "reduced_motion": "reduce"}


def _at(days_ago: float, hour: int) -> datetime:
    moment = datetime.now(UTC) - timedelta(days=days_ago)
    return moment.replace(hour=hour, minute=0, second=0, microsecond=0)


def phq9(patient, total: int, answered_at: datetime, item9: int = 0) -> dict:
    """A PHQ-9 sent through the patient's API, answered at `answered_at`."""
    answers = _answers("phq9", 9, total - item9)
    answers["phq9_9"] = item9
    response = patient.post(
        "/api/v1/checkins",
        json={"instrument": "phq9", "answers": answers, "answered_at": answered_at.isoformat()},
    )
    assert response.status_code == 201, response.json
    return response.json


def session_at(therapist, patient, kind: str, starts_at: datetime) -> dict:
    response = therapist.post(
        f"/api/v1/patients/{patient.id}/sessions",
        json={"kind": kind, "starts_at": starts_at.isoformat(), "duration_minutes": 60},
    )
    assert response.status_code == 201, response.json
    return response.json


def name_of(actor) -> str:
    return actor.get("/api/v1/auth/me").json["display_name"]


def open_app(browser, server_url, therapist, viewport=LAPTOP):
    context = browser.new_context(viewport=viewport, **BROWSER)
    page = context.new_page()
    sign_in_therapist(page, server_url, therapist.email, therapist.password)
    return context, page


def no_sideways_scroll(page, what: str) -> None:
    width = page.evaluate("window.innerWidth")
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"{what}: {scroll} px wide in a {width} px window"


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_flagged_row_names_the_reason_and_when_the_patient_answered(
    browser, app, server_url, page_errors, therapist, patient, link, viewport
):
    link(therapist, patient)
    # answered on the phone two days ago at 3 PM, reaching the server only now
    answered = _at(2, 15)
    phq9(patient, 9, answered, item9=1)
    context, page = open_app(browser, server_url, therapist, viewport)
    page_errors.watch(page)
    row = page.locator("#caseload tbody tr").first
    weekday = answered.strftime("%a")
    expect(row).to_contain_text(f"PHQ-9 item 9: several days · answered {weekday} 3 PM")
    expect(row).to_have_class(re.compile(r"\bflagged\b"))

    # the flag itself: the answer time (not when it synced), item value and total
    page.get_by_role("link", name="Flags", exact=True).click()
    card = page.locator("#flag-list .flag-open")
    day = f"{answered.strftime('%a')}, {answered.strftime('%b')} {answered.day}"
    expect(card).to_contain_text(f"Answered {day}, 3 PM")
    expect(card).to_contain_text("item value 1 (several days)")
    expect(card).to_contain_text("check-in total 9")
    expect(card.get_by_role("link", name="Open the brief at this check-in")).to_be_visible()
    context.close()


def test_a_flag_closes_only_with_an_action_or_a_note_and_takes_later_notes(
    browser, app, server_url, page_errors, therapist, patient, link
):
    link(therapist, patient)
    phq9(patient, 12, _at(1, 9), item9=2)
    context, page = open_app(browser, server_url, therapist)
    page_errors.watch(page)
    page.goto(server_url + "/#/flags")
    card = page.locator("#flag-list .flag").first
    card.get_by_role("button", name="Acknowledge", exact=True).click()
    form = card.get_by_role("form", name="Acknowledge the flag")

    # nothing chosen, nothing written: refused, the flag stays open
    form.get_by_role("button", name="Acknowledge flag").click()
    expect(form.get_by_role("alert")).to_have_text(
        "Choose what you did or write a note: a flag is not closed without one."
    )
    # "Other" says nothing by itself
    form.get_by_role("radio", name="Other").check()
    form.get_by_role("button", name="Acknowledge flag").click()
    expect(form.get_by_role("alert")).to_have_text("“Other” needs a note saying what you did.")
    flags = therapist.get("/api/v1/flags").json
    assert [f["status"] for f in flags] == ["open"]
    # and the server refuses an empty acknowledgement too, naming what is missing
    refused = therapist.post(f"/api/v1/flags/{flags[0]['id']}/acknowledge", json={})
    assert refused.status_code == 422, refused.json

    form.get_by_role("radio", name="Contacted the patient").check()
    form.get_by_label("Note").fill("Called; safe tonight, seeing them Friday.")
    form.get_by_role("button", name="Acknowledge flag").click()
    expect(card.locator(".badge").first).to_have_text("Acknowledged")
    expect(page.locator("#flag-summary")).to_have_text("No open flags.")
    notes = card.locator(".flag-note")
    expect(notes).to_have_count(1)
    expect(notes.first).to_contain_text("Contacted the patient")
    expect(notes.first).to_contain_text("Called; safe tonight, seeing them Friday.")
    expect(notes.first).to_contain_text(name_of(therapist))

    # a second note, later: it shows after the first, and both survive a reload
    card.get_by_role("button", name="Add a note").click()
    card.get_by_role("textbox", name="Note").fill("Reviewed the plan together in session.")
    card.get_by_role("button", name="Save note").click()
    expect(notes).to_have_count(2)
    expect(notes.nth(1)).to_contain_text("Reviewed the plan together in session.")
    page.reload()
    unlock_device(page)
    notes = page.locator("#flag-list .flag").first.locator(".flag-note")
    expect(notes).to_have_text(
        [re.compile("Called; safe tonight"), re.compile("Reviewed the plan")]
    )
    context.close()


def test_a_rise_from_6_to_14_reads_as_a_rise_and_the_row_stays_not_on_track(
    browser, app, server_url, page_errors, therapist, patient, link
):
    link(therapist, patient)
    phq9(patient, 6, _at(12, 9))
    session_at(therapist, patient, "integration", _at(7, 10))  # held between the two
    phq9(patient, 14, _at(1, 9), item9=1)
    context, page = open_app(browser, server_url, therapist)
    page_errors.watch(page)
    page.goto(f"{server_url}/#/patient/{patient.id}")
    card = page.locator(".score-card[data-instrument='phq9']")
    expect(card).to_contain_text("PHQ-9 14, up 8 since last session (worse)")
    expect(page.locator(".score-card[data-instrument='gad7']")).to_be_visible()
    expect(page.locator("#brief-summary")).to_be_visible()
    chart = page.locator("figure[data-instrument='phq9'] svg")
    expect(chart).to_have_attribute("aria-label", re.compile("raised a risk flag"))
    expect(chart.locator(".band-label")).to_have_text(
        ["minimal", "mild", "moderate", "moderately severe", "severe"]
    )

    [flag] = therapist.get("/api/v1/flags").json
    answer = therapist.post(
        f"/api/v1/flags/{flag['id']}/acknowledge", json={"action": "seen_in_session"}
    )
    assert answer.status_code == 200, answer.json
    page.goto(server_url + "/#/caseload")
    row = page.locator(f"#caseload tbody tr[data-patient-id='{patient.id}']")
    expect(row).to_contain_text("Not on track")
    expect(row).to_have_class(re.compile(r"\boff-track\b"))
    expect(row).not_to_contain_text("open")
    context.close()


def test_ending_a_care_link_removes_the_patient_and_their_brief(
    browser, app, server_url, page_errors, therapist, patient, link
):
    link(therapist, patient)
    phq9(patient, 8, _at(3, 9))
    name = name_of(patient)
    context, page = open_app(browser, server_url, therapist)
    page_errors.watch(page)
    page.get_by_role("link", name=name, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Brief: {name}")
    page.get_by_role("button", name="End care link").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text(
        f"{name_of(therapist)} will no longer see anything {name} shares, and {name} leaves "
        f"your caseload. {name} can join again with a new code."
    )
    dialog.get_by_role("button", name="End care link").click()
    expect(page.get_by_role("heading", level=1, name="Caseload")).to_be_visible()
    expect(page.locator("#caseload tbody")).not_to_contain_text(name)
    assert therapist.get(f"/api/v1/patients/{patient.id}/brief").status_code == 404
    context.close()


def test_the_invite_link_and_qr_code_carry_the_code_to_a_new_patient(
    browser, app, server_url, page_errors, therapist
):
    context, page = open_app(browser, server_url, therapist)
    page_errors.watch(page)
    page.get_by_role("button", name="Invite a patient").click()
    code = page.locator("#invite-code").inner_text()
    qr = page.get_by_role("img", name=re.compile("QR code"))
    expect(qr).to_be_visible()
    assert qr.get_attribute("src").startswith("data:image/svg+xml")
    href = page.locator("#invite-link").get_attribute("href")
    assert href.endswith(f"/#/signin/create?code={code}"), href

    # the link as the patient opens it (the server names its PUBLIC_URL, which in
    # tests is not this server's port: the hash is what carries the code)
    phone = browser.new_context(viewport={"width": 390, "height": 844}, **BROWSER)
    new = page_errors.watch(phone.new_page())
    new.goto(server_url + "/#" + href.split("#", 1)[1])
    expect(new.get_by_role("heading", level=1, name="Create account")).to_be_visible()
    new.get_by_label("Your name").fill("Robin")
    new.get_by_label("Email").fill("robin@example.test")
    new.get_by_label("Password").fill("a-long-test-passphrase")
    new.get_by_role("button", name="Create account").click()
    field = new.get_by_label("Code from your therapist")
    expect(field).to_have_value(code)
    new.get_by_role("button", name="Join", exact=True).click()
    expect(new.get_by_role("status").filter(has_text="You joined")).to_be_visible()
    phone.close()

    page.reload()
    unlock_device(page)
    expect(page.locator("#caseload tbody")).to_contain_text("Robin")
    context.close()


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_no_therapist_page_scrolls_sideways_with_unbroken_text(
    browser, app, server_url, page_errors, therapist, patient, link, viewport
):
    word = "a" * 5000
    link(therapist, patient)
    entry = patient.post(
        "/api/v1/journal/entries",
        json={
            "title": word[:200],
            "body": word,
            "shared": True,
            "for_session": True,
            "written_at": _at(1, 20).isoformat(),
        },
    )
    assert entry.status_code == 201, entry.json
    plan = patient.put(
        "/api/v1/plan",
        json={"version": 0, "coping_steps": [{"text": word[:2000]}], "shared": True},
    )
    assert plan.status_code == 200, plan.json
    daily = patient.post(
        "/api/v1/checkins",
        json={
            "instrument": "daily",
            "answers": {
                "mood": 5,
                "anxiety": 4,
                "sleep_quality": 5,
                "sleep_hours": 7,
                "rumination": 3,
                "note": word[:2000],
                "safety": False,
            },
            "answered_at": _at(1, 21).isoformat(),
        },
    )
    assert daily.status_code == 201, daily.json
    phq9(patient, 10, _at(1, 9), item9=1)
    [flag] = therapist.get("/api/v1/flags").json
    assert (
        therapist.post(
            f"/api/v1/flags/{flag['id']}/acknowledge", json={"note": word[:2000]}
        ).status_code
        == 200
    )
    upcoming = session_at(therapist, patient, "integration", _at(-3, 10))
    changed = therapist.put(
        f"/api/v1/patients/{patient.id}/sessions/{upcoming['id']}",
        json={"note": word, "version": upcoming["version"]},
    )
    assert changed.status_code == 200, changed.json

    context, page = open_app(browser, server_url, therapist, viewport)
    page_errors.watch(page)
    screens = [
        ("caseload", "#/caseload", "#caseload tbody tr"),
        ("brief", f"#/patient/{patient.id}", "figure[data-instrument='phq9'] svg"),
        ("plan", f"#/patient/{patient.id}/plan", ".plan-grid"),
        ("flags", "#/flags", "#flag-list .flag"),
        ("sessions", f"#/patient/{patient.id}/sessions", "#session-list tbody tr"),
    ]
    for name, route, ready in screens:
        page.goto(f"{server_url}/{route}")
        expect(page.locator(ready).first).to_be_visible()
        page.wait_for_load_state("networkidle")
        no_sideways_scroll(page, name)
    # the shared entry, opened, and the flag's note form, opened
    page.goto(f"{server_url}/#/patient/{patient.id}")
    # the shared daily note is on the brief, wrapped
    expect(page.locator("section[aria-labelledby='daily-notes-title'] h2")).to_have_text(
        "Shared daily check-in notes (1)"
    )
    page.get_by_role("button", name=re.compile("^Read ")).click()
    expect(page.locator(".entry-body").first).to_be_visible()
    no_sideways_scroll(page, "brief with the entry open")
    context.close()


def pdf_pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", pdf))


def test_the_printed_brief_of_the_demo_patient_is_one_page_naming_the_patient(
    browser, app, server_url, page_errors
):
    demo = seed_demo_caseload(app)
    context = browser.new_context(viewport=LAPTOP, **BROWSER)
    page = page_errors.watch(context.new_page())
    sign_in_therapist(page, server_url, demo["therapist"], demo["password"])
    page.goto(f"{server_url}/#/patient/{demo['patient_id']}")
    expect(page.locator("figure[data-instrument='phq9'] svg")).to_be_visible()
    page.wait_for_load_state("networkidle")
    page.emulate_media(media="print")
    head = page.locator(".print-head")
    expect(head).to_be_visible()
    expect(head).to_contain_text("Brief: Demo Patient")
    expect(head).to_contain_text("Confidential")
    expect(head).to_contain_text(f"Printed {datetime.now(UTC).strftime('%a')}")
    # it repeats on every page the brief runs to (a table header group)
    assert head.evaluate("(el) => getComputedStyle(el).display") == "table-header-group"
    # shared entries print in full, read or not
    expect(page.get_by_text("The image of the lake is still with me")).to_be_visible()
    for size in ("A4", "Letter"):
        pages = pdf_pages(page.pdf(format=size, print_background=True))
        assert pages == 1, f"{size}: {pages} pages"

    # a flagged patient's Open badge prints solid black, with a border
    page.emulate_media(media="screen")
    page.goto(server_url + "/#/caseload")
    page.get_by_role("link", name="Demo Patient Three", exact=True).click()
    badge = page.locator(".flag .badge.alert").first
    expect(badge).to_have_text("Open")
    page.emulate_media(media="print")
    style = badge.evaluate(
        "(el) => { const s = getComputedStyle(el);"
        " return [s.backgroundColor, s.color, s.borderTopStyle]; }"
    )
    assert style == ["rgb(0, 0, 0)", "rgb(255, 255, 255)", "solid"], style
    context.close()


def test_print_all_puts_one_patient_on_each_page(browser, app, server_url, page_errors):
    demo = seed_demo_caseload(app)
    context = browser.new_context(viewport=LAPTOP, **BROWSER)
    page = page_errors.watch(context.new_page())
    sign_in_therapist(page, server_url, demo["therapist"], demo["password"])
    page.get_by_role("link", name="Print all briefs").click()
    expect(page.locator("#print-status")).to_have_text(
        "4 briefs ready to print, one patient per page."
    )
    page.wait_for_load_state("networkidle")
    page.emulate_media(media="print")
    heads = page.locator(".brief-page .print-head")
    expect(heads).to_have_count(4)
    for n in range(4):
        expect(heads.nth(n)).to_contain_text("Confidential")
    assert pdf_pages(page.pdf(format="A4", print_background=True)) == 4
    context.close()


def test_a_past_session_is_history_its_note_amendable_and_it_can_not_have_happened(
    browser, app, server_url, page_errors, therapist, patient, link
):
    link(therapist, patient)
    held = session_at(therapist, patient, "integration", _at(3, 10))
    session_at(therapist, patient, "dosing", _at(-4, 10))
    context, page = open_app(browser, server_url, therapist)
    page_errors.watch(page)
    page.goto(f"{server_url}/#/patient/{patient.id}/sessions")
    past = page.locator("section[aria-labelledby='past-title'] tr[data-session-id]")
    upcoming = page.locator("section[aria-labelledby='upcoming-title'] tr[data-session-id]")
    expect(past).to_have_count(1)
    expect(upcoming.get_by_role("button", name=re.compile("^Change "))).to_have_count(1)
    # no moving, no cancelling what already happened
    expect(past.get_by_role("button", name=re.compile("^(Change|Cancel) "))).to_have_count(0)
    status = past.locator("td").nth(4)
    expect(status).to_have_text("Held")

    past.get_by_role("button", name=re.compile("^Amend the note")).click()
    page.get_by_role("form", name="Amend note").get_by_label("Note for the patient").fill(
        "We stayed with the image of the lake."
    )
    page.get_by_role("button", name="Save note").click()
    expect(past).to_contain_text("We stayed with the image of the lake.")

    past.get_by_role("button", name=re.compile("as did not happen$")).click()
    page.get_by_role("dialog").get_by_role("button", name="Did not happen").click()
    expect(status).to_have_text("Did not happen")
    expect(past.get_by_role("button", name=re.compile("as did not happen$"))).to_have_count(0)
    # as the patient's timeline has it
    [row] = [s for s in patient.get("/api/v1/sessions").json["past"] if s["id"] == held["id"]]
    assert (row["status"], row["note"]) == (
        "did_not_happen",
        "We stayed with the image of the lake.",
    )
    context.close()
