"""The patient app in Spanish: a patient whose account speaks es-ES, on a phone in Madrid
whose browser speaks Spanish too, meets no English on sign-in, Today, the journal and its
editor, check-ins (the PHQ-9 in its published Spanish wording, the risk answer screen),
Help now and Settings. "No English" is checked, not eyeballed: every screen's visible
words (text, accessible names, placeholders, titles) are searched for each English word
of the app's catalogue and each English sentence the server could send there.

A language chosen in Settings shows at once, offline too, survives a reload, and brings
the questionnaires in that language at the next sync. With BETWEEN_SCREENSHOTS=1 the
Spanish screens are written to docs/screenshots/es-*.png (the README shows them)."""

from __future__ import annotations

import json
import os
import re
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from babel.messages.pofile import read_po
from playwright.sync_api import Page, expect

from tests.e2e.pwa import DEVICE_PIN, OUTBOX_SIZE, sign_in, wait_for, wait_for_worker
from tests.e2e.seed import SPANISH, seed_patient

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "docs" / "screenshots"
WRITE_SHOTS = os.environ.get("BETWEEN_SCREENSHOTS") == "1"
ZONE = "Europe/Madrid"
ME = "/api/v1/auth/me"
SAVED = re.compile("Guardado en este dispositivo|Sincronizado")
# a placeholder in the app's catalogue ({name}) or the server's (%(name)s, %s)
PLACEHOLDER = re.compile(r"\{\w+\}|%\(\w+\)[sd]|%[sd]")

# what a person sees of a screen: its text, and the words a screen reader says or a
# field shows (accessible names, placeholders, titles, option groups), and the tab's title
VISIBLE_WORDS = """() => {
  const out = [document.title, document.body.innerText];
  for (const el of document.body.querySelectorAll('*')) {
    for (const name of ['aria-label', 'placeholder', 'title', 'alt', 'label']) {
      const value = el.getAttribute(name);
      if (value) out.push(value);
    }
  }
  return out.join('\\n');
}"""


# the Help now the lock screen shows, kept unsealed on the device (lock.js)
HAS_LOCKED_HELP = """() => new Promise((resolve) => {
  const open = indexedDB.open('between');
  open.onsuccess = () => {
    const request = open.result.transaction('meta').objectStore('meta').get('locked_help');
    request.onsuccess = () => {
      resolve(Boolean(request.result?.value?.crisis_lines?.length));
      open.result.close();
    };
  };
})"""


def _fragments(text: str) -> list[str]:
    """The words of a sentence between its placeholders, trimmed of punctuation."""
    return [part.strip(" \t\n.,:;·()…?!") for part in PLACEHOLDER.split(text)]


def _forms(entry) -> list[str]:
    return list(entry.values()) if isinstance(entry, dict) else [entry]


def _catalogue(lang: str) -> dict:
    return json.loads((ROOT / "pwa" / "i18n" / f"{lang}.json").read_text(encoding="utf-8"))


@cache
def english_phrases() -> tuple[str, ...]:
    """Every English phrase a Spanish screen must not show: the app's catalogue values
    that differ from Spanish, the server's catalogue sentences (msgids) that it
    translates, the PHQ-9/GAD-7 and check-in in English, and the crisis lines' English
    words. Phrases of more than 3 characters; a sentence with placeholders counts by its
    pieces between them."""
    from server.checkins.instruments import for_language

    phrases: set[str] = set()

    def add(english: str, spanish: str) -> None:
        for piece in _fragments(english):
            if len(piece) > 3 and re.search(r"[A-Za-z]{2}", piece) and piece not in spanish:
                phrases.add(piece)

    english, spanish = _catalogue("en"), _catalogue("es")
    for key, entry in english.items():
        said = " ".join(_forms(spanish[key]))
        for form in _forms(entry):
            if form not in _forms(spanish[key]):
                add(form, said)
    with (ROOT / "server" / "translations" / "es" / "LC_MESSAGES" / "messages.po").open("rb") as f:
        for message in read_po(f):
            ids = message.id if isinstance(message.id, tuple) else (message.id,)
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            for msgid in filter(None, ids):
                add(msgid, " ".join(strings))
    # each questionnaire's English words against its Spanish ones ("PHQ-9" is both)
    for en, es in zip(for_language("en"), for_language("es"), strict=True):
        add(en["title"], es["title"])
        add(en.get("time_frame") or "", es.get("time_frame") or "")
        for item, item_es in zip(en["items"], es["items"], strict=True):
            add(item["text"], item_es["text"])
            options = zip(item.get("options", []), item_es.get("options", []), strict=True)
            for option, option_es in options:
                add(option["label"], option_es["label"])
            for value, label in item.get("labels", {}).items():
                add(label, item_es["labels"][value])
    lines = json.loads((ROOT / "config" / "crisis_lines.json").read_text(encoding="utf-8"))
    for region in lines["regions"].values():
        for line in region["lines"]:
            for field in ("hours", "note", "sms_note"):
                if field in line:
                    add(line[field]["en"], line[field]["es"])
    phrases.update({"English", "Spanish"})  # a line's languages, named in English
    return tuple(sorted(phrases))


def english_left(page: Page) -> list[str]:
    """The English phrases on the screen now."""
    seen = page.evaluate(VISIBLE_WORDS)
    found = []
    for phrase in english_phrases():
        start = r"(?<!\w)" if phrase[0].isalnum() else ""
        end = r"(?!\w)" if phrase[-1].isalnum() else ""
        if re.search(start + re.escape(phrase) + end, seen):
            found.append(phrase)
    return found


def no_english(page: Page, screen: str, shot: str | None = None, allow=()) -> None:
    assert [p for p in english_left(page) if p not in allow] == [], f"English on {screen}"
    if shot and WRITE_SHOTS:
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"es-{shot}.png"))


def heading(page: Page, text: str) -> None:
    expect(page.get_by_role("heading", level=1)).to_contain_text(text)


def synced(page: Page) -> None:
    wait_for(page, lambda: page.evaluate(OUTBOX_SIZE) == 0, "an empty outbox")
    expect(page.locator("#sync-status")).to_have_text("Todo sincronizado")


@pytest.fixture
def browser_context_args(browser_context_args):
    # a phone in Madrid whose browser speaks Spanish: before sign-in the app has only that
    return {**browser_context_args, "locale": "es-ES", "timezone_id": ZONE}


@pytest.fixture
def spanish_patient(app, make_patient, therapist, link):
    """Lucía, some weeks into treatment, her account in es-ES; her therapist, Dra. Rivera."""
    patient = make_patient(timezone=ZONE)
    for actor, name in ((patient, "Lucía"), (therapist, "Dra. Rivera")):
        body = {"display_name": name, "locale": "es-ES"}
        assert actor.client.patch(ME, json=body).status_code == 200
    seed_patient(app, patient, therapist, link, SPANISH)
    return patient


def test_the_check_finds_english(pwa: Page, browser, browser_context_args, server_url):
    """The check is not vacuous: the sign-in screen of an English browser is flagged,
    with its words; the Spanish one is not."""
    context = browser.new_context(**{**browser_context_args, "locale": "en-US"})
    english = context.new_page()
    english.goto(server_url + "/#/signin")
    heading(english, "Sign in")
    flagged = english_left(english)
    assert {"Password", "Forgot your password", "Create an account"} <= set(flagged), flagged
    context.close()

    pwa.goto(server_url + "/#/signin")
    heading(pwa, "Iniciar sesión")
    assert english_left(pwa) == []


def test_a_spanish_patient_meets_no_english(pwa: Page, server_url, spanish_patient):
    page = pwa
    # before sign-in: the browser's language, and the server's refusal in it too
    page.goto(server_url + "/#/signin")
    heading(page, "Iniciar sesión")
    expect(page.locator("html")).to_have_attribute("lang", "es-ES")
    page.get_by_label("Correo electrónico").fill(spanish_patient.email)
    page.get_by_label("Contraseña").fill("not the password")
    page.get_by_role("button", name="Iniciar sesión", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("no son correctos")
    no_english(page, "sign-in with its error")
    page.goto(server_url + "/#/signin")
    heading(page, "Iniciar sesión")
    expect(page.locator("#not-emergency")).to_contain_text("no es un servicio de emergencias")
    no_english(page, "sign-in", "sign-in")

    page.get_by_label("Correo electrónico").fill(spanish_patient.email)
    page.get_by_label("Contraseña").fill(spanish_patient.password)
    page.get_by_role("button", name="Iniciar sesión", exact=True).click()
    heading(page, "Hola, Lucía")
    synced(page)
    # the dosing session three days ago brings its prompt, in Spanish (the server's words)
    expect(page.locator("#dosing-title")).to_have_text("3 días desde tu sesión de dosificación")
    expect(page.locator("[aria-labelledby='dosing-title'] p")).to_contain_text("¿Hubo un momento")
    no_english(page, "Today", "today")

    page.goto(server_url + "/#/journal")
    heading(page, "Diario")
    expect(page.locator("#entry-list li")).to_have_count(4)
    no_english(page, "the journal")
    page.locator("#entry-list a").first.click()
    heading(page, "Entrada")
    expect(page.locator(".state-line")).to_have_text("Sincronizado")
    no_english(page, "an entry", "editor")
    page.locator("details.entry-details > summary").click()
    expect(page.get_by_role("button", name="ternura")).to_have_attribute("aria-pressed", "true")
    no_english(page, "an entry's details")
    page.goto(server_url + "/#/journal/new")
    heading(page, "Nueva entrada")
    page.get_by_label("Tus palabras").fill("Hoy el cuerpo estaba más tranquilo.")
    expect(page.locator(".state-line")).to_contain_text(SAVED)
    no_english(page, "a new entry")
    page.get_by_role("button", name="Listo").click()
    heading(page, "Diario")
    synced(page)

    page.goto(server_url + "/#/checkin")
    heading(page, "Registro")
    expect(page.get_by_role("heading", name="Registro diario")).to_be_visible()
    no_english(page, "the check-in list")
    page.goto(server_url + "/#/checkin/daily")
    expect(page.get_by_text("Pregunta 1 de 7")).to_be_visible()
    no_english(page, "the daily check-in", "checkin")

    # the PHQ-9 in its published Spanish (US) wording, its options in their order
    page.goto(server_url + "/#/checkin/phq9")
    expect(page.locator(".question")).to_have_text("Poco interés o placer en hacer cosas")
    options = page.locator(".options .option")
    expect(options).to_have_text(
        ["Ningún día", "Varios días", "Más de la mitad de los días", "Casi todos los días"]
    )
    expect(page.get_by_role("note")).to_contain_text("llama al 024 o al 112")
    no_english(page, "the PHQ-9", "phq9")
    for _ in range(8):
        page.get_by_role("button", name="Ningún día").click()
    expect(page.get_by_text("Pregunta 9 de 10")).to_be_visible()
    expect(page.locator(".question")).to_contain_text("Pensamientos de que estaría mejor muerto(a)")
    page.get_by_role("button", name="Varios días").click()

    # the risk answer: Help now, the call on the first screen, and who was told, in Spanish
    heading(page, "Ayuda ya")
    expect(page.get_by_role("alert")).to_contain_text("Gracias por responder con sinceridad")
    expect(page.locator("#care-line")).to_contain_text("Hemos avisado a Dra. Rivera")
    no_english(page, "the risk answer's Help now", "risk")

    page.locator("#help-now-button").click()
    expect(page).to_have_url(re.compile(r"#/help$"))
    first = page.locator("#first-help")
    expect(first.get_by_role("link", name="Llamar al 024", exact=True)).to_be_visible()
    expect(first.get_by_role("link", name="Llamar al 112", exact=True)).to_be_visible()
    expect(page.locator("#crisis-lines")).to_contain_text("Gratis, 24 horas · español")
    no_english(page, "Help now", "help-now")

    page.goto(server_url + "/#/more")
    heading(page, "Más")
    no_english(page, "More")
    page.get_by_role("link", name="Ajustes").click()
    heading(page, "Ajustes")
    expect(page.get_by_label("Idioma")).to_have_value("es")
    expect(page.get_by_label("Región").locator("option:checked")).to_have_text("España")
    # the language list names each language in itself: English is "English" to everyone
    no_english(page, "Settings", allow={"English"})


def test_the_lock_screen_and_its_help_now_in_spanish(
    pwa: Page, context, server_url, spanish_patient
):
    """With the app lock on, the lock screen and the Help now it keeps unsealed (offline
    too) speak Spanish before anything is unlocked: the language is this device's."""
    sign_in_es(pwa, server_url, spanish_patient)
    wait_for_worker(pwa)
    pwa.goto(server_url + "/#/more/app-lock")
    pwa.get_by_label("New PIN").fill(DEVICE_PIN)
    pwa.get_by_label("The PIN again").fill(DEVICE_PIN)
    pwa.locator("form button[type=submit]").click()
    expect(pwa.locator("#lock-screen")).to_have_count(0)
    wait_for(pwa, lambda: pwa.evaluate(HAS_LOCKED_HELP), "the lock screen's copy of Help now")

    context.set_offline(True)
    pwa.goto(server_url + "/#/today")
    pwa.reload()
    expect(pwa.locator("#lock-screen")).to_be_visible()
    expect(pwa.get_by_role("button", name="Desbloquear")).to_be_visible()
    no_english(pwa, "the lock screen")
    pwa.locator("#help-now-button").click()
    heading(pwa, "Ayuda ya")
    expect(pwa.locator("#first-help").get_by_role("link", name="Llamar al 024")).to_be_visible()
    expect(pwa.locator("#crisis-lines")).to_contain_text("Gratis, 24 horas · español")
    expect(pwa.get_by_role("link", name="Volver a desbloquear")).to_be_visible()
    no_english(pwa, "the lock screen's Help now")


def sign_in_es(page: Page, server_url: str, patient) -> None:
    page.goto(server_url + "/#/signin")
    page.get_by_label("Correo electrónico").fill(patient.email)
    page.get_by_label("Contraseña").fill(patient.password)
    page.get_by_role("button", name="Iniciar sesión", exact=True).click()
    heading(page, "Hola")
    synced(page)


def test_today_names_days_and_months_in_spanish(pwa: Page, server_url, spanish_patient):
    """Dates go through Intl in the person's language: the week's chips are Spanish
    weekdays, the next session's date a Spanish month."""
    sign_in_es(pwa, server_url, spanish_patient)
    chips = pwa.locator("[aria-labelledby='streak-title'] .chip")
    expect(chips).to_have_count(7)
    days = set(chips.evaluate_all("chips => chips.map((chip) => chip.firstChild.textContent)"))
    assert days == {"lun", "mar", "mié", "jue", "vie", "sáb", "dom"}, days
    # the integration session four days from now at 10:00 UTC (tests/e2e/seed.py), in Madrid
    month = ["ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sept", "oct", "nov", "dic"]
    soon = (datetime.now(UTC) + timedelta(days=4)).replace(hour=10).astimezone(ZoneInfo(ZONE))
    nxt = pwa.locator("[aria-labelledby='next-session-title'] p").first
    expect(nxt).to_contain_text("Sesión de integración")
    expect(nxt).to_contain_text(re.compile(rf"\b{soon.day} {month[soon.month - 1]}\b"))
    assert not re.search(r"\b(Mon|Tue|Wed|Thu|Fri|Sat|Sun)\b", nxt.inner_text())


@pytest.fixture
def english_browser(browser_context_args):
    return {**browser_context_args, "locale": "en-US"}


def test_choosing_espanol_shows_at_once_offline_and_after_a_reload(
    browser, english_browser, server_url, make_patient, page_errors
):
    """An English account on an English phone: Español in Settings, offline, changes the
    screen at once; the choice waits on the device, survives a reload, reaches the account
    on reconnect, and the questionnaires then come in Spanish (never the English ones
    kept on the device)."""
    patient = make_patient(timezone=ZONE)
    context = browser.new_context(**english_browser)
    page = page_errors.watch(context.new_page())
    sign_in(page, server_url, patient.email)
    wait_for_worker(page)
    page.goto(server_url + "/#/checkin")
    expect(page.get_by_role("heading", name="Daily check-in")).to_be_visible()

    page.goto(server_url + "/#/more")
    page.get_by_role("link", name="Settings").click()
    heading(page, "Settings")
    context.set_offline(True)
    page.get_by_label("Language").select_option(label="Español")
    page.get_by_role("button", name="Save").click()
    heading(page, "Ajustes")  # at once, offline
    expect(page.locator("#settings-status")).to_contain_text("Guardado en este dispositivo")
    expect(page.locator("#tabbar")).to_contain_text("Hoy")
    assert patient.get(ME).json["locale"] != "es"

    page.reload()
    heading(page, "Ajustes")
    expect(page.get_by_label("Idioma")).to_have_value("es")
    # the English questionnaires on this device are not shown in their place
    page.goto(server_url + "/#/checkin")
    heading(page, "Registro")
    expect(page.locator("#no-instruments")).to_contain_text("Conéctate a internet una vez")
    assert english_left(page) == []

    context.set_offline(False)
    wait_for(page, lambda: patient.get(ME).json["locale"] == "es", "the account in Spanish")
    expect(page.get_by_role("heading", name="Registro diario")).to_be_visible()
    page.goto(server_url + "/#/checkin/phq9")
    expect(page.locator(".question")).to_have_text("Poco interés o placer en hacer cosas")
    assert english_left(page) == []
    context.close()
