"""When reminders fire: wall-clock rules in a person's own zone, as pure functions.

Rules are local times ("09:00 every day", "Sunday 10:00", "18:00 on days 1, 3 and 7
after a dosing session"). Each is turned into an instant once per local calendar day,
never by adding 24 hours to the last one, so daylight-saving changes move neither a
reminder nor its day:

- spring forward (02:00 → 03:00): a 02:30 reminder does not exist that day; it fires
  at 03:30 (the wall time read with the offset before the change), once;
- fall back (02:00 → 01:00): 01:30 happens twice; the reminder fires at the first, once.

Quiet hours move a reminder to their end; a pause holds everything until its date.

A check-in reminder (daily, PHQ-9, GAD-7, or a therapist's measurement plan) has a
window in which answering it counts: the plan's own, or its freshness (`FRESH_FOR`) for
the reminders the patient sets. Unanswered halfway through it, the ask is followed by one
nudge (`nudge_for`), which quiet hours move or, past the window, drop; a "Later" from the
notification asks again once, an hour on (`later_at`). Both are named after their ask's
slot (`<slot>:nudge`, `<slot>:later`), so each happens once whatever the worker count.

The daily check-in can come at a random time within a window the patient chooses: one
time per local day, chosen by an HMAC of the day under a per-person key, so the API's
"next" and the worker agree without storing anything.

A reminder is named by its slot (the rule and its local day), never by its instant: a
slot goes once, whatever the zone. After a move west a slot already sent comes round
again later that same local day; it is not sent twice, and it is not "next" either:
the API and the worker both pass the slots already made (`taken`) and both skip them,
so the next reminder shown is the one that will be sent.

No database, no Flask: the worker and the API feed in treatment sessions, plan dates and
the slots already made.
"""

from __future__ import annotations

import hmac
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from server import localtime
from server.localtime import local_instant

DAILY = "daily_checkin"
PHQ9 = "phq9"
GAD7 = "gad7"
POST_DOSING = "post_dosing"
PLAN_REVIEW = "plan_review"
FLAG_ALERT = "flag_alert"
TEST = "test"
MEASURE = "measure"  # a therapist's measurement plan (server/assignments)
SCHEDULED_KINDS = (DAILY, PHQ9, GAD7, POST_DOSING, PLAN_REVIEW)
# reminders that ask for a check-in: nudged when unanswered, and can be put off
CHECKIN_KINDS = (DAILY, PHQ9, GAD7, MEASURE)
INSTRUMENT_OF = {DAILY: "daily", PHQ9: "phq9", GAD7: "gad7"}  # a measure names its own
NUDGE, LATER = "nudge", "later"  # follow-ups of an ask: `<slot>:nudge`, `<slot>:later`
LATER_BY = timedelta(hours=1)
RANDOM_MIN_WINDOW = timedelta(minutes=30)

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")

# How long a reminder is still worth sending after its time. A worker that was down
# sends a missed reminder once within this window and skips it after; it is also the
# push message's TTL, so a phone that is off does not get yesterday's prompt tomorrow.
FRESH_FOR = {
    DAILY: timedelta(hours=2),
    PHQ9: timedelta(hours=12),
    GAD7: timedelta(hours=12),
    POST_DOSING: timedelta(hours=6),
    PLAN_REVIEW: timedelta(hours=24),
    FLAG_ALERT: timedelta(hours=24),
    TEST: timedelta(minutes=10),
    MEASURE: timedelta(hours=48),  # a plan names its own window; this is for none
}
URGENCY = {
    DAILY: "normal",
    PHQ9: "normal",
    GAD7: "normal",
    POST_DOSING: "normal",
    PLAN_REVIEW: "low",
    FLAG_ALERT: "high",
    TEST: "high",
    MEASURE: "normal",
}
# the periodic rules always have an occurrence within a week, plus a day of quiet hours
_SEARCH_DAYS = 9
# How far before an instant to look for slots already made: a local day's instant moves
# by at most 26 hours from one zone to another, and quiet hours by under a day more; and
# for asks whose nudge may still come: half the longest window (a week) after the ask.
MAX_WINDOW = timedelta(hours=168)
TAKEN_LOOKBACK = max(timedelta(days=3), MAX_WINDOW / 2 + timedelta(days=1))


def parse_hhmm(value: str) -> time:
    if not HHMM.match(value):
        raise ValueError(f"not a HH:MM time: {value!r}")
    return time(int(value[:2]), int(value[3:]))


@dataclass(frozen=True)
class Weekly:
    weekday: int  # Monday is 0
    at: time


@dataclass(frozen=True)
class Rules:
    """One person's reminder rules, in their zone."""

    timezone: str = "UTC"
    daily: tuple[time, ...] = ()
    # the daily check-in at one random time a day within (start, end), instead of `daily`
    daily_random: tuple[time, time] | None = None
    random_key: bytes = field(default=b"", repr=False, compare=False)
    phq9: Weekly | None = None
    gad7: Weekly | None = None
    post_dosing_days: tuple[int, ...] = ()
    post_dosing_at: time | None = None
    plan_review_at: time | None = None
    flag_alerts: bool = False
    quiet: tuple[time, time] | None = None
    paused_until: date | None = None
    zone: ZoneInfo = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "zone", localtime.zone(self.timezone))

    @classmethod
    def from_settings(cls, settings: dict, timezone: str, random_key: bytes = b"") -> Rules:
        """Rules from the stored (API-shaped) settings; disabled parts are left out.
        `random_key` chooses the daily random times (the same key, the same times)."""

        def on(name):
            part = settings.get(name) or {}
            return part if part.get("enabled") else None

        def weekly(name):
            part = on(name)
            if not part:
                return None
            return Weekly(WEEKDAYS.index(part["day"]), parse_hhmm(part["time"]))

        daily = on(DAILY)
        window = (daily or {}).get("random")
        dosing = on(POST_DOSING)
        review = on(PLAN_REVIEW)
        quiet = settings.get("quiet_hours")
        paused = settings.get("paused_until")
        return cls(
            timezone=timezone,
            daily=tuple(sorted({parse_hhmm(t) for t in daily["times"]}))
            if daily and not window
            else (),
            daily_random=(parse_hhmm(window["start"]), parse_hhmm(window["end"]))
            if window
            else None,
            random_key=random_key,
            phq9=weekly(PHQ9),
            gad7=weekly(GAD7),
            post_dosing_days=tuple(sorted(set(dosing["days"]))) if dosing else (),
            post_dosing_at=parse_hhmm(dosing["time"]) if dosing else None,
            plan_review_at=parse_hhmm(review["time"]) if review else None,
            flag_alerts=bool((settings.get("flag_alerts") or {}).get("enabled")),
            quiet=(parse_hhmm(quiet["start"]), parse_hhmm(quiet["end"])) if quiet else None,
            paused_until=date.fromisoformat(paused) if isinstance(paused, str) else paused,
        )

    @property
    def periodic(self) -> bool:
        return bool(self.daily or self.daily_random or self.phq9 or self.gad7)


@dataclass(frozen=True, order=True)
class Occurrence:
    fire_at: datetime  # UTC, after quiet hours
    kind: str
    slot: str  # unique per person: the rule's local day (and its session), never the instant
    ref: uuid.UUID | None = None  # the dosing session, or the measurement plan
    # how long it stays worth answering (and sending): a plan's window; else FRESH_FOR
    window: timedelta | None = field(default=None, compare=False)

    @property
    def expires_at(self) -> datetime:
        return self.fire_at + (self.window or FRESH_FOR[self.kind])

    @property
    def stream(self) -> tuple:
        """What "the same reminder" means for dedupe and downtime: its kind, and for a
        measurement plan the plan (two plans at one time are two asks)."""
        return (self.kind, self.ref if self.kind == MEASURE else None)


@dataclass(frozen=True)
class Dosing:
    """A treatment session on the timeline (dosing ones drive the post-dosing prompts)."""

    id: uuid.UUID
    starts_at: datetime  # UTC
    kind: str = "dosing"


@dataclass(frozen=True)
class Measure:
    """A therapist's measurement plan: an instrument asked weekly, or on days relative
    to each session of a kind, at a local time, answerable for `window`."""

    id: uuid.UUID
    at: time
    window: timedelta
    weekday: int | None = None  # weekly: Monday is 0
    days: tuple[int, ...] = ()  # or these local days from each session (negative: before)
    session_kind: str | None = None

    @classmethod
    def from_plan(cls, plan_id: uuid.UUID, schedule: dict, window_hours: int) -> Measure:
        """From an assignment's stored schedule (validated where it was set)."""
        at = parse_hhmm(schedule["time"])
        window = timedelta(hours=window_hours)
        if schedule["type"] == "weekly":
            return cls(plan_id, at, window, weekday=WEEKDAYS.index(schedule["day"]))
        if schedule["type"] == "sessions":
            days = tuple(sorted({int(n) for n in schedule["days"]}))
            return cls(plan_id, at, window, days=days, session_kind=schedule["session_kind"])
        raise ValueError(f"unknown measurement schedule type: {schedule['type']!r}")


def base_slot(slot: str) -> str:
    """The ask a follow-up (nudge, later) belongs to; an ask is its own."""
    head, _, tail = slot.rpartition(":")
    return head if tail in (NUDGE, LATER) else slot


def is_follow_up(slot: str) -> bool:
    return base_slot(slot) != slot


def random_daily_time(key: bytes, day: date, start: time, end: time) -> time:
    """The day's time within [start, end): deterministic per key and local day."""
    first = start.hour * 60 + start.minute
    span = end.hour * 60 + end.minute - first
    digest = hmac.digest(key, day.isoformat().encode(), "sha256")
    minute = first + int.from_bytes(digest[:8], "big") % span
    return time(minute // 60, minute % 60)


def _in_quiet(t: time, quiet: tuple[time, time]) -> bool:
    start, end = quiet
    if start < end:
        return start <= t < end
    return t >= start or t < end  # the window crosses midnight


def out_of_quiet(instant: datetime, rules: Rules) -> datetime:
    """The instant itself, or the end of the quiet hours it falls in."""
    if rules.quiet is None:
        return instant
    local = instant.astimezone(rules.zone)
    wall = local.time().replace(tzinfo=None)
    if not _in_quiet(wall, rules.quiet):
        return instant
    start, end = rules.quiet
    day = local.date()
    if start > end and wall >= start:  # late evening: quiet ends tomorrow morning
        day += timedelta(days=1)
    return max(instant, local_instant(day, end, rules.zone))


def resume_at(rules: Rules) -> datetime | None:
    """When a pause ends: the start of its date, in the person's zone."""
    if rules.paused_until is None:
        return None
    return local_instant(rules.paused_until, time(0, 0), rules.zone)


def _periodic(rules: Rules, first: date, last: date) -> Iterable[Occurrence]:
    day = first
    while day <= last:
        for at in rules.daily:
            yield Occurrence(local_instant(day, at, rules.zone), DAILY, f"{DAILY}:{day}T{at:%H:%M}")
        if rules.daily_random:
            # one a day, named by the day: a window changed later that day adds none
            at = random_daily_time(rules.random_key, day, *rules.daily_random)
            yield Occurrence(local_instant(day, at, rules.zone), DAILY, f"{DAILY}:{day}Trandom")
        for kind, weekly in ((PHQ9, rules.phq9), (GAD7, rules.gad7)):
            if weekly and day.weekday() == weekly.weekday:
                yield Occurrence(local_instant(day, weekly.at, rules.zone), kind, f"{kind}:{day}")
        day += timedelta(days=1)


def _after_dosing(rules: Rules, sessions: Iterable[Dosing]) -> Iterable[Occurrence]:
    if rules.post_dosing_at is None:
        return
    for session in sessions:
        if session.kind != "dosing":
            continue
        dosing_day = session.starts_at.astimezone(rules.zone).date()
        for n in rules.post_dosing_days:
            yield Occurrence(
                local_instant(dosing_day + timedelta(days=n), rules.post_dosing_at, rules.zone),
                POST_DOSING,
                f"{POST_DOSING}:{session.id}:{n}",
                session.id,
            )


def _measures(
    rules: Rules, measures: Iterable[Measure], sessions: Iterable[Dosing], first: date, last: date
) -> Iterable[Occurrence]:
    """A plan's asks: weekly ones on the local days [first, last]; session ones on their
    local days from each session of the plan's kind (that day in the patient's zone)."""
    sessions = list(sessions)
    for plan in measures:
        if plan.weekday is not None:
            day = first
            while day <= last:
                if day.weekday() == plan.weekday:
                    yield Occurrence(
                        local_instant(day, plan.at, rules.zone),
                        MEASURE,
                        f"{MEASURE}:{plan.id}:{day}",
                        plan.id,
                        plan.window,
                    )
                day += timedelta(days=1)
            continue
        for session in sessions:
            if session.kind != plan.session_kind:
                continue
            session_day = session.starts_at.astimezone(rules.zone).date()
            for n in plan.days:
                yield Occurrence(
                    local_instant(session_day + timedelta(days=n), plan.at, rules.zone),
                    MEASURE,
                    f"{MEASURE}:{plan.id}:{session.id}:{n}",
                    plan.id,
                    plan.window,
                )


def _plan_review(rules: Rules, due: datetime | None) -> Iterable[Occurrence]:
    if rules.plan_review_at is None or due is None:
        return
    day = due.astimezone(rules.zone).date()
    fire = local_instant(day, rules.plan_review_at, rules.zone)
    if fire < due:  # due later that day than the preferred time: the next day
        fire = local_instant(day + timedelta(days=1), rules.plan_review_at, rules.zone)
    yield Occurrence(fire, PLAN_REVIEW, f"{PLAN_REVIEW}:{due.date()}")


def _finish(
    candidates: Iterable[Occurrence], rules: Rules, start, end, taken=frozenset()
) -> list[Occurrence]:
    """Quiet hours, pause and the window (start, end]; one per kind and instant; none
    whose slot was made already (in this zone or another)."""
    resume = resume_at(rules)
    seen, kept = set(), []
    for occ in sorted(candidates):
        if occ.slot in taken:
            continue  # that local day's reminder went (or was skipped) already
        fire = out_of_quiet(occ.fire_at, rules)
        if resume is not None and fire < resume:
            continue  # paused: held, not sent late
        if not (start < fire and (end is None or fire <= end)):
            continue
        # two daily times inside the quiet hours both land at its end: once is enough
        if (occ.stream, fire) in seen:
            continue
        seen.add((occ.stream, fire))
        kept.append(Occurrence(fire, occ.kind, occ.slot, occ.ref, occ.window))
    return sorted(kept)


def occurrences(
    rules: Rules,
    start: datetime,
    end: datetime,
    sessions: Iterable[Dosing] = (),
    plan_review_due: datetime | None = None,
    taken: frozenset[str] | set[str] = frozenset(),
    measures: Iterable[Measure] = (),
) -> list[Occurrence]:
    """Every reminder that fires in (start, end], in time order, but the taken slots.
    `sessions` are the patient's sessions of every kind: the post-dosing prompts follow
    the dosing ones, a measurement plan those of its kind."""
    first = start.astimezone(rules.zone).date() - timedelta(days=1)
    last = end.astimezone(rules.zone).date() + timedelta(days=1)
    candidates = [
        *_periodic(rules, first, last),
        *_after_dosing(rules, sessions),
        *_plan_review(rules, plan_review_due),
        *_measures(rules, measures, sessions, first, last),
    ]
    return _finish(candidates, rules, start, end, taken)


def next_occurrence(
    rules: Rules,
    after: datetime,
    sessions: Iterable[Dosing] = (),
    plan_review_due: datetime | None = None,
    taken: frozenset[str] | set[str] = frozenset(),
    measures: Iterable[Measure] = (),
) -> Occurrence | None:
    """The first reminder after `after` whose slot is not taken, or None when nothing
    is switched on."""
    begin = max(after, resume_at(rules) or after)
    first = begin.astimezone(rules.zone).date() - timedelta(days=1)
    last = first + timedelta(days=_SEARCH_DAYS)
    candidates = [
        *_after_dosing(rules, sessions),
        *_plan_review(rules, plan_review_due),
        *_measures(rules, measures, sessions, first, last),
    ]
    if rules.periodic:
        candidates += _periodic(rules, first, last)
    found = _finish(candidates, rules, after, None, taken)
    return found[0] if found else None


def nudge_for(ask: Occurrence, rules: Rules) -> Occurrence | None:
    """The one nudge of a check-in ask: halfway through its window, after quiet hours;
    none if that is past the window (quiet hours win) or the ask asks no check-in."""
    if ask.kind not in CHECKIN_KINDS:
        return None
    window_ends = ask.expires_at
    at = out_of_quiet(ask.fire_at + (window_ends - ask.fire_at) / 2, rules)
    if at >= window_ends:
        return None
    return Occurrence(at, ask.kind, f"{ask.slot}:{NUDGE}", ask.ref, window_ends - at)


def _still_on(ask: Occurrence, rules: Rules, plans: Iterable[Measure]) -> bool:
    """Whether what asked is still switched on (a plan: live and not paused)."""
    if ask.kind == DAILY:
        return bool(rules.daily or rules.daily_random)
    if ask.kind in (PHQ9, GAD7):
        return (rules.phq9 if ask.kind == PHQ9 else rules.gad7) is not None
    return ask.ref in {plan.id for plan in plans}


def nudges(
    asks: Iterable[Occurrence], rules: Rules, taken=frozenset(), plans: Iterable[Measure] = ()
) -> list[Occurrence]:
    """The nudges of asks that went, not made yet (`taken` holds the slots made): one per
    check-in ask, none once it was put off ("Later" stands in for it), none held by a
    pause, none for what was switched off since (`plans`: the measurement plans that
    still ask). Made by the worker when due, so a nudge never waits as a row of its own."""
    resume = resume_at(rules)
    plans = tuple(plans)
    found = []
    for ask in asks:
        if f"{ask.slot}:{LATER}" in taken or not _still_on(ask, rules, plans):
            continue
        nudge = nudge_for(ask, rules)
        if nudge is None or nudge.slot in taken:
            continue
        if resume is not None and nudge.fire_at < resume:
            continue
        found.append(nudge)
    return sorted(found)


def later_at(rules: Rules, now: datetime) -> datetime:
    """When "Later" asks again: an hour on, after quiet hours."""
    return out_of_quiet(now + LATER_BY, rules)


def flag_alert_at(rules: Rules, now: datetime) -> datetime | None:
    """When a therapist hears of a new flag: now, after their quiet hours; never if
    they switched alerts off or paused."""
    if not rules.flag_alerts:
        return None
    resume = resume_at(rules)
    if resume is not None and now < resume:
        return None
    return out_of_quiet(now, rules)


def expires_at(kind: str, fire_at: datetime) -> datetime:
    return fire_at + FRESH_FOR[kind]


def after_downtime(missed: list[Occurrence], now: datetime) -> tuple[list, list]:
    """(send, skip) for reminders that came due while nobody sent them.

    Each goes once while still fresh; a stale one is skipped; of several fresh ones of
    one kind (one plan, for measures) only the latest goes, so a worker back from
    downtime sends no burst.
    """
    latest: dict[tuple, Occurrence] = {}
    for occ in missed:
        if now <= occ.expires_at:
            if occ.stream not in latest or occ.fire_at >= latest[occ.stream].fire_at:
                latest[occ.stream] = occ
    send = sorted(latest.values())
    chosen = set(send)
    return send, [occ for occ in missed if occ not in chosen]


def ttl_seconds(expires: datetime, now: datetime) -> int:
    """The push TTL: what is left of the reminder's freshness; never 0."""
    return max(60, int((expires - now).total_seconds()))
