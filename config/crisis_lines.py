"""Regional crisis resources for the crisis card. Views never hard-code these.

The lines themselves, with their sources and when they were last checked, live in one
data file beside this module: config/crisis_lines.json. Here: reading it, and choosing
a region from what the account knows (its locale and time zone).
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import date, timedelta
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path

DATA_FILE = Path(__file__).resolve().with_suffix(".json")
_DATA = json.loads(DATA_FILE.read_text(encoding="utf-8"))

# A line's words are written in the data file in every language the app speaks
# ({"en": "Free, 24/7", "es": "Gratis, 24 horas"}), so Help now shows a Spanish reader no
# English. English is the source language: the words a new plan copies (a plan item holds
# one note) and what an app without the reader's language shows.
WORDED = ("hours", "note", "sms_note")
SOURCE_LANGUAGE = "en"


def _line(raw: dict) -> dict:
    """A line as the server hands it on: each worded field in English, and every
    language's words under `words` ({"es": {"note": …, "hours": …}}) for the crisis card."""
    line = {key: value for key, value in raw.items() if key not in WORDED}
    words: dict[str, dict[str, str]] = {}
    for field in WORDED:
        if field in raw:
            line[field] = raw[field][SOURCE_LANGUAGE]
            for language, text in raw[field].items():
                words.setdefault(language, {})[field] = text
    line["words"] = words
    return line


REGIONS: dict[str, dict] = {
    code: {**region, "lines": [_line(line) for line in region["lines"]]}
    for code, region in _DATA["regions"].items()
}
for _alias, _code in _DATA.get("aliases", {}).items():
    REGIONS[_alias] = REGIONS[_code]


# a region's lines are checked against their sources at least this often
REVERIFY_AFTER = timedelta(days=365)


def due_for_checking(today: date) -> dict[str, str]:
    """Regions whose lines are due a check against their sources, with why: never
    checked (`verified` false), or last checked over a year before `today`. The operator's
    `flask --app server crisis-lines check` lists them and fails while any is due."""
    due = {}
    for code, region in _DATA["regions"].items():
        checked = date.fromisoformat(region["last_verified"])
        if not region["verified"]:
            due[code] = f"never checked against its sources (information as of {checked})"
        elif today - checked > REVERIFY_AFTER:
            due[code] = f"last checked {checked}, over a year ago"
    return due


def region_from_locale(locale: str | None) -> str | None:
    """'en-US' → 'US'; None when the locale names no country."""
    if not locale:
        return None
    parts = locale.replace("_", "-").split("-")
    return parts[1].upper() if len(parts) > 1 and len(parts[1]) == 2 else None


ZONE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_+\-]*(?:/[A-Za-z0-9_+\-]+)*")


def _zoneinfo():
    return resources.files("tzdata").joinpath("zoneinfo")


def _zone_bytes(zone: str) -> bytes | None:
    """The compiled rules of a zone in the tzdata package; None for a name it lacks."""
    if not ZONE_NAME.fullmatch(zone) or len(zone) > 64:
        return None
    path = _zoneinfo().joinpath(*zone.split("/"))
    return path.read_bytes() if path.is_file() else None


def _rows(name: str):
    """The rows of one of the tz database's tables in the `tzdata` package."""
    for line in _zoneinfo().joinpath(name).read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            yield line.split("\t")


@cache
def countries() -> frozenset[str]:
    """Every ISO 3166-1 alpha-2 code, from the tz database's iso3166.tab."""
    return frozenset(row[0] for row in _rows("iso3166.tab"))


@cache
def _zone_tables() -> tuple[dict[str, str], dict[str, frozenset[str]]]:
    """The tz database's zone → country tables, from the `tzdata` package: zone.tab
    names one country per zone, zone1970.tab every country that shares the zone."""
    one = {row[2]: row[0] for row in _rows("zone.tab")}
    shared = {row[2]: frozenset(row[0].split(",")) for row in _rows("zone1970.tab")}
    return one, shared


@cache
def _countries_by_rules() -> dict[bytes, frozenset[str]]:
    """The countries of the zone.tab zones, by a digest of their compiled rules."""
    found: dict[bytes, set[str]] = {}
    for zone, country in _zone_tables()[0].items():
        body = _zone_bytes(zone)
        if body is not None:
            found.setdefault(hashlib.sha256(body).digest(), set()).add(country)
    return {digest: frozenset(countries) for digest, countries in found.items()}


@lru_cache(maxsize=1024)  # names come from accounts: bounded
def region_from_timezone(zone: str | None) -> str | None:
    """'Europe/Madrid' → 'ES'; None for UTC, an Etc/ zone or a name the tz database
    lacks. An older name (Asia/Calcutta, US/Eastern: what some browsers report) is a
    link in the tz database, compiled to the same bytes as its zone: that zone's country
    when only one country's zones share those bytes."""
    direct = _zone_tables()[0].get(zone or "")
    if direct or not zone:
        return direct
    body = _zone_bytes(zone)
    if body is None:
        return None
    countries = _countries_by_rules().get(hashlib.sha256(body).digest(), frozenset())
    return next(iter(countries)) if len(countries) == 1 else None


def choose_region(locale: str | None, zone: str | None) -> str | None:
    """The country a person most likely is in. The time zone says where the device is;
    the locale says which language the browser speaks (often en-US anywhere), so the
    locale's country counts only where the zone names none or is shared with it."""
    from_zone = region_from_timezone(zone)
    from_locale = region_from_locale(locale)
    if from_zone is None:
        return from_locale
    if from_locale and from_locale in _zone_tables()[1].get(zone or "", ()):
        return from_locale
    return from_zone
