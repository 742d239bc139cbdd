"""Local time, in one place.

Two kinds of "local" meet in Between:

- A moment a patient lived (an entry written, a check-in answered, a session's start)
  is stored as a UTC instant plus the UTC offset it was given in, and is shown back in
  that same offset: what the phone said then, whatever the zone's rules say now.
  `split` stores, `at_offset` / `local_iso` / `local_date` show.
- A wall time to come (a reminder at 20:00) belongs to a named IANA zone, whose rules
  (daylight saving) decide the instant: `zone`, `is_zone`, `local_instant`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# the longest zone name a user's or a schedule's row holds (users.timezone, String(64))
ZONE_NAME_MAX = 64
# names the tz database answers to that are not a place: the server's own zone, a
# legacy rules file, a placeholder
NOT_A_ZONE = frozenset({"localtime", "posixrules", "Factory"})

# -- moments, in the offset they were lived in --------------------------------------------


def split(moment: datetime) -> tuple[datetime, int]:
    """An offset-aware moment as it is stored: its UTC instant and its offset in minutes."""
    return moment.astimezone(UTC), int(moment.utcoffset().total_seconds() // 60)


def at_offset(instant: datetime, offset_minutes: int) -> datetime:
    """A stored UTC instant as the wall time of the offset it was given in."""
    return instant.astimezone(timezone(timedelta(minutes=offset_minutes)))


def local_iso(instant: datetime, offset_minutes: int) -> str:
    """ISO 8601 with that offset: `2026-03-29T21:30:00+02:00`."""
    return at_offset(instant, offset_minutes).isoformat()


def local_date(instant: datetime, offset_minutes: int) -> date:
    """The day it was, where it happened."""
    return at_offset(instant, offset_minutes).date()


# -- named zones, for wall times to come -----------------------------------------------------


def is_zone(name: str | None) -> bool:
    """Whether `name` is an IANA zone a person can be in."""
    if not name or len(name) > ZONE_NAME_MAX or name in NOT_A_ZONE:
        return False
    try:
        ZoneInfo(name)
    # a directory ("America") or a name the file system refuses is an OSError, a
    # malformed key ("../x") a ValueError; neither is ZoneInfoNotFoundError
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


def zone(name: str) -> ZoneInfo:
    """The zone of that name (checked with `is_zone` where the name came from a person)."""
    return ZoneInfo(name)


def local_instant(day: date, at: time, tz: ZoneInfo) -> datetime:
    """The UTC instant of a local wall time on a local day.

    fold=0: in a gap the time is read with the offset before the change (02:30 on the
    spring-forward night is 03:30); when the hour repeats, the first one is taken.
    """
    return datetime.combine(day, at, tzinfo=tz).astimezone(UTC)
