"""Regional crisis resources for the crisis card. Views never hard-code these.

The lines themselves, with their sources and when they were last checked, live in one
data file beside this module: config/crisis_lines.json. Here: reading it, and choosing
a region from what the account knows (its locale and time zone).
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from pathlib import Path

EMERGENCY_WORDS = (
    "Between is not an emergency service and nobody watches entries in real time. "
    "If you are in danger or might act on thoughts of ending your life, call {emergency} "
    "now or go to the nearest emergency department."
)
FALLBACK_EMERGENCY_WORDS = (
    "Between is not an emergency service and nobody watches entries in real time. "
    "If you are in danger or might act on thoughts of ending your life, call your local "
    "emergency number now or go to the nearest emergency department."
)

DATA_FILE = Path(__file__).resolve().with_suffix(".json")
_DATA = json.loads(DATA_FILE.read_text(encoding="utf-8"))
REGIONS: dict[str, dict] = dict(_DATA["regions"])
for _alias, _code in _DATA.get("aliases", {}).items():
    REGIONS[_alias] = REGIONS[_code]


def region_from_locale(locale: str | None) -> str | None:
    """'en-US' → 'US'; None when the locale names no country."""
    if not locale:
        return None
    parts = locale.replace("_", "-").split("-")
    return parts[1].upper() if len(parts) > 1 and len(parts[1]) == 2 else None


@cache
def _zone_tables() -> tuple[dict[str, str], dict[str, frozenset[str]]]:
    """The tz database's zone → country tables, from the `tzdata` package: zone.tab
    names one country per zone, zone1970.tab every country that shares the zone."""
    root = resources.files("tzdata").joinpath("zoneinfo")

    def rows(name: str):
        for line in root.joinpath(name).read_text(encoding="utf-8").splitlines():
            if line and not line.startswith("#"):
                yield line.split("\t")

    one = {row[2]: row[0] for row in rows("zone.tab")}
    shared = {row[2]: frozenset(row[0].split(",")) for row in rows("zone1970.tab")}
    return one, shared


def region_from_timezone(zone: str | None) -> str | None:
    """'Europe/Madrid' → 'ES'; None for UTC, an Etc/ zone or a name the tables lack."""
    return _zone_tables()[0].get(zone or "")


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
