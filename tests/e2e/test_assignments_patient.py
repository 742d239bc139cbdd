"""What the therapist set, as the patient meets it on the phone (#23): homework on Today
with its due date, its state and who set it, also offline after one sync; written as a
journal entry offline, handed in once when the network returns; skipped with a reason,
snoozed; a measurement plan's open ask ("Due until …") and a missed one, shown once;
the plans in Reminders, paused and resumed offline; a small dark screen where an
unbroken 5,000-letter homework text wraps; and a phone whose database predates the
assignments store keeps what it held and gets them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from tests.api.test_assignments import mine
from tests.e2e.pwa import OUTBOX_SIZE, sign_in, wait_for, wait_for_worker, wait_synced
from tests.e2e.seed import _answers

ZONE = "Europe/Madrid"
THERAPIST = "Dr. Rivera"
PROMPT = "Write a letter to the part of you that felt safe during the session."
NO_SIDEWAYS = "() => document.documentElement.scrollWidth <= window.innerWidth"


@pytest.fixture
def browser_context_args(browser_context_args):
    # a phone in Madrid, in British English: "Thu 12 Dec, 18:00"
    return {**browser_context_args, "locale": "en-GB", "timezone_id": ZONE}


@pytest.fixture(autouse=True)
def british(account):
    """The account's language, which the app's dates follow: British English."""
    response = account._open("PATCH", "/api/v1/auth/me", json={"locale": "en-GB"})
    assert response.status_code == 200, response.json


@pytest.fixture
def therapist(app, account, make_therapist, link):
    """The patient's therapist, linked, with a name the patient knows."""
    therapist = make_therapist()
    link(therapist, account)
    named = therapist._open("PATCH", "/api/v1/auth/me", json={"display_name": THERAPIST})
    assert named.status_code == 200, named.json
    return therapist


def assign(therapist, patient, body: dict) -> dict:
    response = therapist.post(f"/api/v1/patients/{patient.id}/assignments", json=body)
    assert response.status_code == 201, response.json
    return response.json


def homework(therapist, patient, due: datetime, text: str = PROMPT, kind: str = "prompt"):
    body = {"kind": "homework", "homework_type": kind, "due_at": due.isoformat()}
    if text:
        body["text"] = text
    return assign(therapist, patient, body)


def measure(therapist, patient, instrument: str, schedule: dict, window_hours: int = 48):
    body = {
        "kind": "measure",
        "instrument": instrument,
        "schedule": schedule,
        "window_hours": window_hours,
    }
    return assign(therapist, patient, body)


def asked(app, patient, plan: dict, fire_at: datetime, window_hours: int = 48) -> None:
    """The worker sent this plan's ask at `fire_at`: what it writes onto the plan for the
    patient's devices (server/reminders/worker.py mark_asked), with times of our choosing."""
    from server.extensions import db
    from server.reminders.worker import mark_asked

    ask = {
        "user_id": uuid.UUID(patient.id),
        "ref_id": uuid.UUID(plan["id"]),
        "fire_at": fire_at,
        "expires_at": fire_at + timedelta(hours=window_hours),
    }
    with app.app_context():
        mark_asked([ask])
        db.session.remove()


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


def local_day(moment: datetime, hour: int, days: int = 0) -> datetime:
    """`days` from `moment`'s day in Madrid, at `hour` there."""
    here = moment.astimezone(ZoneInfo(ZONE)) + timedelta(days=days)
    return here.replace(hour=hour, minute=0, second=0, microsecond=0)


def shown_date(moment: datetime) -> str:
    """A moment as the app writes it in en-GB, in Madrid: "Thu 12 Dec, 18:00", "9:00"."""
    here = moment.astimezone(ZoneInfo(ZONE))
    year = "" if here.year == datetime.now(ZoneInfo(ZONE)).year else f" {here.year}"
    return f"{here:%a} {here.day} {here:%b}{year}, {here.hour}:{here:%M}"


def card(page: Page):
    return page.locator("#assignments")


def item(page: Page, assignment: dict):
    return page.locator(f"[data-assignment-id='{assignment['id']}']")


def outbox_size(page: Page) -> int:
    return page.evaluate(OUTBOX_SIZE)


def test_homework_and_asks_show_on_today_offline_and_an_entry_hands_homework_in_once(
    pwa: Page, context, server_url, app, account, therapist
):
    now = datetime.now(UTC)
    due = local_day(now, 18, days=2)
    letter = homework(therapist, account, due)
    review = homework(therapist, account, now - timedelta(days=1), text="", kind="plan_review")
    weekly = {"type": "weekly", "day": "monday", "time": "09:00"}
    phq9 = measure(therapist, account, "phq9", weekly)
    gad7 = measure(therapist, account, "gad7", weekly)
    gad7_again = measure(therapist, account, "gad7", {**weekly, "day": "friday"})
    asked(app, account, phq9, now - timedelta(hours=2))  # its window runs 46 h more
    asked(app, account, gad7, now - timedelta(days=3))  # its window ended a day ago
    asked(app, account, gad7_again, now - timedelta(days=4))  # an older ask, missed too

    sign_in(pwa, server_url, account.email)
    wait_for_worker(pwa)
    context.set_offline(True)
    assert pwa.reload().from_service_worker

    expect(card(pwa)).to_contain_text("From your therapist")
    expect(item(pwa, letter)).to_contain_text(PROMPT)
    expect(item(pwa, letter)).to_contain_text(f"Due {shown_date(due)}")
    expect(item(pwa, letter)).to_contain_text(f"Set by {THERAPIST}")
    expect(item(pwa, letter).locator(".assign-status")).to_have_text("Open")
    expect(item(pwa, review).locator(".assign-status")).to_have_text("Late")
    expect(item(pwa, review).get_by_role("link", name="Open my plan")).to_have_attribute(
        "href", "#/plan"
    )
    ask = item(pwa, phq9)
    window_end = now - timedelta(hours=2) + timedelta(hours=48)
    expect(ask).to_contain_text(f"Due until {shown_date(window_end)}")
    expect(ask.get_by_role("link", name="Answer now")).to_have_attribute("href", "#/checkin/phq9")
    # two GAD-7 plans, both missed: one line, the latest ask, never a pile
    expect(card(pwa).locator(".measure-ask.missed")).to_have_count(1)
    expect(item(pwa, gad7)).to_contain_text("Missed")
    expect(item(pwa, gad7)).to_contain_text(shown_date(now - timedelta(days=3)))

    # written offline: the therapist's words above the editor
    item(pwa, letter).get_by_role("link", name="Write").click()
    expect(pwa.locator("#prompt-text")).to_contain_text(PROMPT)
    expect(pwa.locator("#prompt-text")).to_contain_text(THERAPIST)
    pwa.get_by_label("Your words").fill("Dear safe one, I found you again in the music.")
    expect(pwa.locator(".state-line")).to_contain_text("Saved on this device")
    pwa.get_by_role("button", name="Done").click()
    expect(pwa.get_by_role("heading", level=1)).to_contain_text("Hello")
    expect(item(pwa, letter).locator(".assign-status")).to_have_text("Done")
    expect(item(pwa, letter).get_by_role("link", name="Write")).to_have_count(0)
    assert outbox_size(pwa) == 2  # the entry, and the homework's answer

    # still done after a reload offline
    assert pwa.reload().from_service_worker
    expect(item(pwa, letter).locator(".assign-status")).to_have_text("Done")

    context.set_offline(False)
    wait_synced(pwa)
    entries = account.get("/api/v1/journal/entries").json["entries"]
    assert len(entries) == 1
    assert entries[0]["prompt_id"] == f"assignment:{letter['id']}"
    server_copy = mine(account)[letter["id"]]
    assert server_copy["status"] == "done" and server_copy["status_now"] == "done"
    assert server_copy["entry_id"] == entries[0]["id"]

    # a PHQ-9 answered (on another device): its ask leaves Today once the phone syncs
    answered = account.post(
        "/api/v1/checkins",
        json={"instrument": "phq9", "answers": _answers("phq9", 9, 4), "answered_at": now_iso()},
    )
    assert answered.status_code == 201, answered.json
    pwa.reload()
    wait_synced(pwa)
    expect(item(pwa, phq9)).to_have_count(0)
    expect(item(pwa, gad7)).to_contain_text("Missed")
    expect(item(pwa, letter).locator(".assign-status")).to_have_text("Done")
    assert len(account.get("/api/v1/journal/entries").json["entries"]) == 1  # once


def test_homework_is_skipped_with_a_reason_and_snoozed_offline(
    pwa: Page, context, server_url, account, therapist
):
    now = datetime.now(UTC)
    first = homework(therapist, account, local_day(now, 20, days=1), text="Notice one kind thing")
    second = homework(therapist, account, local_day(now, 20, days=4), text="Draw the critic")

    sign_in(pwa, server_url, account.email)
    wait_for_worker(pwa)
    context.set_offline(True)

    item(pwa, first).get_by_role("button", name="Skip").click()
    sheet = pwa.get_by_role("dialog", name="Skip this homework?")
    sheet.get_by_label("Reason").fill("A hard week at work")
    sheet.get_by_role("button", name="Skip it").click()
    expect(item(pwa, first).locator(".assign-status")).to_have_text("Skipped")
    expect(item(pwa, first)).to_contain_text("Skipped: A hard week at work")
    expect(item(pwa, first).get_by_role("button", name="Skip")).to_have_count(0)

    item(pwa, second).get_by_role("button", name="Snooze").click()
    pwa.get_by_role("dialog", name="Remind me later").get_by_role(
        "button", name="Tomorrow morning"
    ).click()
    morning = local_day(now, 9, days=1)
    expect(item(pwa, second)).to_contain_text(f"Snoozed until {shown_date(morning)}")
    # snoozed: below what is still to do, the skipped one last
    order = pwa.locator("#assignments li.homework").evaluate_all(
        "(items) => items.map((li) => li.dataset.assignmentId)"
    )
    assert order == [second["id"], first["id"]]
    assert outbox_size(pwa) == 2

    context.set_offline(False)
    wait_synced(pwa)
    server = mine(account)
    assert server[first["id"]]["status"] == "skipped"
    assert server[first["id"]]["skip_reason"] == "A hard week at work"
    assert server[second["id"]]["status"] == "open"
    snoozed = datetime.fromisoformat(server[second["id"]]["snoozed_until"])
    assert snoozed == morning
    # the therapist sees the reason too
    listed = therapist.get(f"/api/v1/patients/{account.id}/assignments").json["items"]
    assert {a["id"]: a["skip_reason"] for a in listed}[first["id"]] == "A hard week at work"


def test_a_measurement_plan_is_listed_in_reminders_and_paused_offline(
    pwa: Page, context, server_url, account, therapist
):
    plan = measure(
        therapist,
        account,
        "phq9",
        {"type": "sessions", "session_kind": "dosing", "days": [7, 1], "time": "09:00"},
    )
    sign_in(pwa, server_url, account.email)
    wait_for_worker(pwa)
    context.set_offline(True)
    pwa.goto(server_url + "/#/reminders")

    listed = pwa.locator("#measure-plans")
    expect(listed).to_contain_text("Check-ins your therapist set")
    expect(item(pwa, plan)).to_contain_text("PHQ-9 (mood)")
    expect(item(pwa, plan)).to_contain_text(f"Set by {THERAPIST}")
    expect(item(pwa, plan)).to_contain_text(
        "1 day after and 7 days after each dosing session, at 09:00"
    )
    expect(item(pwa, plan)).to_contain_text("Answer within 48 hours")
    expect(item(pwa, plan)).to_contain_text("Active")
    # the rest of the screen needs the server: it says so
    expect(pwa.get_by_text("connect to change them")).to_be_visible()

    item(pwa, plan).get_by_role("button", name="Pause").click()
    expect(item(pwa, plan)).to_contain_text("Paused since")
    expect(item(pwa, plan).get_by_role("button", name="Resume")).to_be_visible()
    assert outbox_size(pwa) == 1

    context.set_offline(False)
    wait_synced(pwa)
    seen = therapist.get(f"/api/v1/patients/{account.id}/assignments").json["items"]
    assert {a["id"]: a["paused_at"] for a in seen}[plan["id"]] is not None

    item(pwa, plan).get_by_role("button", name="Resume").click()
    expect(item(pwa, plan)).to_contain_text("Active")
    wait_synced(pwa)
    assert mine(account)[plan["id"]]["paused_at"] is None


def test_a_5000_letter_homework_text_wraps_on_a_small_dark_phone_in_spanish(
    browser, server_url, app, account, therapist
):
    """320 × 640, dark, in Spanish: the new words are Spanish, no screen scrolls
    sideways, and the text is all there."""
    from server.assignments.models import Assignment
    from server.extensions import db

    spanish = account._open("PATCH", "/api/v1/auth/me", json={"locale": "es-ES"})
    assert spanish.status_code == 200, spanish.json
    word = "a" * 5000
    letter = homework(therapist, account, datetime.now(UTC) + timedelta(days=2), text="short")
    plan = measure(
        therapist,
        account,
        "phq9",
        {"type": "sessions", "session_kind": "dosing", "days": [1, 7], "time": "09:00"},
    )
    # longer than a therapist may type (2,000): what the phone must still survive
    with app.app_context():
        row = db.session.scalar(select(Assignment).where(Assignment.id == uuid.UUID(letter["id"])))
        row.text = word
        db.session.commit()
        db.session.remove()
    context = browser.new_context(
        viewport={"width": 320, "height": 640},
        color_scheme="dark",
        locale="es-ES",
        timezone_id=ZONE,
        has_touch=True,
    )
    page = context.new_page()
    try:
        page.goto(server_url + "/#/signin")
        # the browser speaks Spanish, so the sign-in screen does too
        page.get_by_label("Correo electrónico").fill(account.email)
        page.get_by_label("Contraseña").fill(account.password)
        page.get_by_role("button", name="Iniciar sesión", exact=True).click()
        expect(page.locator("#sync-status")).to_have_text("Todo sincronizado")
        assert page.evaluate("matchMedia('(prefers-color-scheme: dark)').matches")
        expect(card(page).get_by_role("heading")).to_have_text("De tu terapeuta")
        expect(item(page, letter).locator(".homework-text")).to_have_text(word)
        expect(item(page, letter).locator(".assign-status")).to_have_text("Pendiente")
        expect(item(page, letter)).to_contain_text(f"Por indicación de {THERAPIST}")
        assert page.evaluate(NO_SIDEWAYS)
        item(page, letter).get_by_role("link", name="Escribir").click()
        expect(page.locator("#prompt-text")).to_contain_text(word)
        assert page.evaluate(NO_SIDEWAYS)
        page.goto(server_url + "/#/reminders")
        expect(item(page, plan)).to_contain_text(
            "1 día después y 7 días después de cada sesión de dosificación, a las 09:00"
        )
        expect(item(page, plan).get_by_role("button", name="Pausar")).to_be_visible()
        expect(page.get_by_label("Hora al azar dentro de mi franja")).to_be_visible()
        assert page.evaluate(NO_SIDEWAYS)
    finally:
        context.close()


# A device from before the assignments store: version 1 of the database, with an entry
# written offline and not yet sent, and a sync cursor past everything it pulled.
OLD_DEVICE = """async ({ user, id, entry }) => {
  const db = await new Promise((resolve, reject) => {
    const open = indexedDB.open('between', 1);
    open.onupgradeneeded = () => {
      const d = open.result;
      for (const name of ['journal_entries', 'parts', 'part_relations', 'plans', 'checkins',
                          'treatment_sessions']) d.createObjectStore(name, { keyPath: 'id' });
      const outbox = d.createObjectStore('outbox', { keyPath: 'seq', autoIncrement: true });
      outbox.createIndex('key', 'key');
      d.createObjectStore('meta', { keyPath: 'key' });
    };
    open.onsuccess = () => resolve(open.result);
    open.onerror = () => reject(open.error);
  });
  const t = db.transaction(['journal_entries', 'outbox', 'meta'], 'readwrite');
  t.objectStore('meta').put({ key: 'user', value: user });
  t.objectStore('meta').put({ key: 'cursor', value: '999999' });
  t.objectStore('journal_entries').put({ ...entry, id, version: null, _state: 'local' });
  t.objectStore('outbox').add({
    key: `journal_entry:${id}`, op_id: crypto.randomUUID(), type: 'journal_entry',
    id, action: 'upsert', data: entry, base_version: null, attempted: false,
    status: 'pending', created_at: new Date().toISOString(),
  });
  await new Promise((resolve) => (t.oncomplete = resolve));
  db.close();
}"""


def test_a_device_from_before_assignments_keeps_its_unsent_entry_and_gets_them(
    pwa: Page, context, server_url, account, therapist
):
    letter = homework(therapist, account, datetime.now(UTC) + timedelta(days=2))
    login = context.request.post(
        server_url + "/api/v1/auth/login",
        data={"email": account.email, "password": account.password},
    )
    assert login.ok, login.text()
    # any page of the origin that is not the app: the old database is made before the
    # new code opens it
    pwa.goto(server_url + "/manifest.webmanifest")
    entry_id = str(uuid.uuid4())
    entry = {
        "title": "",
        "body": "Written on the old version, offline.",
        "kind": "free",
        "shared": False,
        "written_at": datetime.now(UTC).isoformat(),
    }
    pwa.evaluate(OLD_DEVICE, {"user": login.json(), "id": entry_id, "entry": entry})

    pwa.goto(server_url + "/#/today")
    expect(item(pwa, letter)).to_contain_text(PROMPT)
    wait_synced(pwa)
    [sent] = account.get("/api/v1/journal/entries").json["entries"]
    assert sent["id"] == entry_id and sent["body"] == entry["body"]
    stores = wait_for(
        pwa,
        lambda: pwa.evaluate(
            "() => new Promise((r) => { const o = indexedDB.open('between');"
            " o.onsuccess = () => { r({ version: o.result.version,"
            " names: [...o.result.objectStoreNames] }); o.result.close(); }; })"
        ),
        "the database",
    )
    assert stores["version"] == 2 and "assignments" in stores["names"]
