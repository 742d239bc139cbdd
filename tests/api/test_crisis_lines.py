"""Crisis lines for many regions: the data file, and the crisis card a patient's phone
caches for Help now (GET /api/v1/plan/crisis), chosen from the patient's region."""

import json
import re
from datetime import date, timedelta
from pathlib import Path

import pytest

from tests.factories import PASSWORD, Actor

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "config" / "crisis_lines.json"
CARD = "/api/v1/plan/crisis"
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# the regions; more may follow
REQUIRED = {"US", "CA", "GB", "IE", "AU", "NZ", "DE", "FR", "ES", "MX"}
# the languages the app speaks, one catalogue each (pwa/i18n/<code>.json): a line's words
# are written in every one of them, so Help now shows its reader no other language's
APP_LANGUAGES = sorted(p.stem for p in (ROOT / "pwa" / "i18n").glob("*.json"))
# a line's languages: ISO 639-1 codes (639-3 where a language has none), which the app
# names in its reader's language (Intl.DisplayNames)
LANGUAGE_CODE = re.compile(r"[a-z]{2,3}")
LINE_FIELDS = {"name", "phone", "sms", "sms_note", "chat", "hours", "languages", "note"}


def regions() -> dict:
    return json.loads(DATA.read_text(encoding="utf-8"))["regions"]


def line_problems(line: dict) -> list[str]:
    """What is wrong with one line of the data file; nothing for a good one."""
    problems = []
    if not line.get("name"):
        problems.append("no name")
    if not (line.get("phone") or line.get("sms") or line.get("chat")):
        problems.append("no number to call or text and no chat")
    if line.get("chat") is not None and not line["chat"].startswith("https://"):
        problems.append("a chat that is not an https address")
    languages = line.get("languages") or []
    if not languages or not all(
        isinstance(code, str) and LANGUAGE_CODE.fullmatch(code) for code in languages
    ):
        problems.append(f"languages {languages!r} are not language codes")
    for field in ("hours", "note", "sms_note"):
        if field == "sms_note" and field not in line:
            continue  # only a line with a keyword to text has one
        words = line.get(field)
        if not isinstance(words, dict) or sorted(words) != APP_LANGUAGES:
            problems.append(f"{field} is not written in each of {APP_LANGUAGES}: {words!r}")
        elif not all(isinstance(text, str) and text.strip() for text in words.values()):
            problems.append(f"{field} has an empty language")
    if set(line) - LINE_FIELDS:
        problems.append(f"unknown fields {sorted(set(line) - LINE_FIELDS)}")
    return problems


def test_the_data_file_is_well_formed():
    """Every region: an emergency number, at least one line reachable by phone, text or
    chat, with its hours and languages, its words in every language the app speaks,
    where the information came from and when."""
    data = regions()
    assert set(data) >= REQUIRED
    for code, region in data.items():
        assert re.fullmatch(r"[A-Z]{2}", code), code
        assert re.fullmatch(r"\d{2,4}", region["emergency"]), code
        assert region["name"], code
        assert region["sources"] and all(s.startswith("https://") for s in region["sources"])
        assert ISO_DATE.match(region["last_verified"]), code
        date.fromisoformat(region["last_verified"])
        assert "verified" in region and "note" in region, code
        assert region["lines"], code
        for line in region["lines"]:
            assert not line_problems(line), f"{code}: {line.get('name')}: {line_problems(line)}"


def test_the_check_refuses_a_line_in_english_only():
    """The check above is not vacuous: the words of a line written as before (English
    only, its languages by English name) are each refused."""
    english_only = {
        "name": "A line",
        "phone": "116 123",
        "hours": "24/7",
        "languages": ["English", "Spanish"],
        "note": {"en": "Free, 24/7"},
    }
    problems = " | ".join(line_problems(english_only))
    assert "languages ['English', 'Spanish']" in problems
    assert "hours is not written" in problems and "note is not written" in problems
    each = {language: "words" for language in APP_LANGUAGES}
    good = {**english_only, "languages": ["en", "es"], "hours": each, "note": each}
    assert line_problems(good) == []


def test_a_region_never_checked_or_checked_over_a_year_ago_is_due_and_the_operator_check_fails(
    app, monkeypatch
):
    """The lines were written down here without a way to call or open their sources, so
    none is marked checked: the operator's check lists every region as due and fails,
    until someone checks each and moves `last_verified` and `verified`. A region checked
    a month ago is not due; one checked 13 months ago is again."""
    from config import crisis_lines

    today = date(2026, 12, 6)
    due = crisis_lines.due_for_checking(today)
    assert set(due) == set(regions())
    assert all("never checked" in why for why in due.values())

    spain = crisis_lines._DATA["regions"]["ES"]
    monkeypatch.setitem(spain, "verified", True)
    monkeypatch.setitem(spain, "last_verified", str(today - timedelta(days=30)))
    assert "ES" not in crisis_lines.due_for_checking(today)
    assert "ES" in crisis_lines.due_for_checking(today + timedelta(days=400))

    monkeypatch.setitem(spain, "last_verified", str(date.today() - timedelta(days=30)))
    result = app.test_cli_runner().invoke(args=["crisis-lines", "check"])
    assert result.exit_code == 1
    assert "MX: never checked against its sources" in result.output
    assert "ES:" not in result.output  # checked a month before the day the check runs


def card_of(make_patient, timezone="UTC") -> dict:
    patient = make_patient(timezone=timezone)
    response = patient.get(CARD)
    assert response.status_code == 200, response.json
    return response.json


def numbers(card) -> list:
    return [line.get("phone") for line in card["crisis_lines"]]


def test_help_now_for_a_patient_in_spain(make_patient):
    """A browser in English on a phone in Madrid: Spain's lines, not the US's."""
    card = card_of(make_patient, "Europe/Madrid")
    assert card["region"] == "ES"
    assert card["emergency_number"] == "112"
    assert "call 112" in card["emergency_words"]
    first = card["crisis_lines"][0]
    assert first["phone"] == "024" and first["tel"] == "024"
    assert first["languages"] == ["es"]
    # the line's words in every language the app speaks, for Help now to show its
    # reader's; the English ones also as the line's own fields (what a new plan copies)
    assert first["words"]["es"] == {"hours": "24 horas", "note": "Gratis, 24 horas"}
    assert first["words"]["en"] == {"hours": "24/7", "note": "Free, 24/7"}
    assert (first["hours"], first["note"]) == ("24/7", "Free, 24/7")
    assert "988" not in numbers(card)


def test_help_now_for_a_patient_in_mexico(make_patient):
    card = card_of(make_patient, "America/Mexico_City")
    assert card["region"] == "MX"
    assert card["emergency_number"] == "911"
    assert card["crisis_lines"][0]["phone"] == "800 911 2000"
    assert card["crisis_lines"][0]["tel"] == "8009112000"
    assert "988" not in numbers(card)


def test_help_now_for_a_patient_in_australia_with_text_and_chat(make_patient):
    card = card_of(make_patient, "Australia/Sydney")
    assert card["region"] == "AU"
    assert card["emergency_number"] == "000"
    lifeline = card["crisis_lines"][0]
    assert lifeline["phone"] == "13 11 14" and lifeline["tel"] == "131114"
    assert lifeline["sms_to"] == "0477131114"
    assert lifeline["chat"].startswith("https://")


def test_an_unknown_region_gets_the_local_emergency_number_never_a_us_line(make_patient):
    """Tokyo: no lines for Japan yet, and an English browser does not make them American."""
    card = card_of(make_patient, "Asia/Tokyo")
    assert card["region"] == "JP"
    assert card["emergency_number"] is None
    assert card["crisis_lines"] == []
    assert "local emergency number" in card["emergency_words"]


def test_the_locale_names_the_country_when_the_time_zone_cannot(app):
    """es-MX on a device set to UTC: Mexico."""
    client = app.test_client()
    body = {
        "email": "locale-mx@example.test",
        "password": PASSWORD,
        "display_name": "Test Patient",
        "role": "patient",
        "timezone": "UTC",
        "locale": "es-MX",
    }
    created = client.post("/api/v1/auth/register", json=body)
    assert created.status_code == 201, created.json
    patient = Actor(
        client=client, id=created.json["id"], email=body["email"], role="patient", app=app
    )
    assert patient.get(CARD).json["region"] == "MX"


@pytest.mark.parametrize(
    ("zone", "region"),
    [("America/Toronto", "CA"), ("Europe/Dublin", "IE"), ("Pacific/Auckland", "NZ")],
)
def test_the_time_zone_names_the_country(make_patient, zone, region):
    assert card_of(make_patient, zone)["region"] == region


def test_the_plans_region_wins_over_the_time_zone(make_patient):
    patient = make_patient(timezone="Europe/Madrid")
    saved = patient.put("/api/v1/plan", json={"version": 0, "region": "FR"})
    assert saved.status_code == 200, saved.json
    card = patient.get(CARD).json
    assert card["region"] == "FR" and card["crisis_lines"][0]["phone"] == "3114"


def test_a_saved_plan_keeps_the_default_lines_in_the_shape_it_accepts(make_patient):
    """The empty plan offers the region's lines; saving them back is accepted, and the
    card still shows their hours and chat."""
    patient = make_patient(timezone="Australia/Sydney")
    plan = patient.get("/api/v1/plan").json
    assert plan["region"] == "AU" and plan["crisis_lines"]
    saved = patient.put("/api/v1/plan", json={"version": 0, "crisis_lines": plan["crisis_lines"]})
    assert saved.status_code == 200, saved.json
    card = patient.get(CARD).json
    names = [line["name"] for line in card["crisis_lines"]]
    assert len(names) == len(set(names))
    assert card["crisis_lines"][0]["chat"].startswith("https://")
    # the plan holds the note as a new plan copied it; the card still has it in Spanish
    assert card["crisis_lines"][0]["note"] == "Call, text or chat, 24/7"
    assert card["crisis_lines"][0]["words"]["es"]["note"].startswith("Llama, envía")


def test_the_region_module_reads_the_data_file():
    from config import crisis_lines

    assert crisis_lines.region_from_timezone("Europe/Madrid") == "ES"
    assert crisis_lines.region_from_timezone("UTC") is None
    assert crisis_lines.region_from_timezone("Not/AZone") is None
    # a zone several countries share: the locale says which
    assert crisis_lines.choose_region("nb-NO", "Europe/Berlin") == "NO"
    assert crisis_lines.choose_region("en-US", "Europe/Berlin") == "DE"
    assert crisis_lines.choose_region("en-US", "UTC") == "US"
    assert crisis_lines.choose_region(None, None) is None


def test_an_old_zone_name_still_names_its_country(make_patient):
    """Browsers may report a zone's older name (ICU: Asia/Calcutta, not Asia/Kolkata):
    a phone in India with an American-English browser gets the local emergency number,
    not the US's lines."""
    from config import crisis_lines

    assert crisis_lines.region_from_timezone("Asia/Calcutta") == "IN"
    assert crisis_lines.region_from_timezone("US/Eastern") == "US"
    assert crisis_lines.region_from_timezone("Etc/UTC") is None
    assert crisis_lines.choose_region("en-US", "Etc/UTC") == "US"
    card = card_of(make_patient, "Asia/Calcutta")
    assert card["region"] == "IN" and card["crisis_lines"] == []
    assert card["emergency_number"] is None
