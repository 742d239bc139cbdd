"""Reminder times across daylight-saving changes, zone changes, quiet hours and pauses.

2026 changes: America/New_York springs forward on 8 March (02:00 → 03:00) and falls
back on 1 November (02:00 → 01:00); Europe/Berlin on 29 March (02:00 → 03:00) and
25 October (03:00 → 02:00).
"""

import uuid
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from server.reminders import schedule as s

NY, BERLIN = "America/New_York", "Europe/Berlin"


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def local(zone: str, *args, fold=0) -> datetime:
    return datetime(*args, tzinfo=ZoneInfo(zone), fold=fold).astimezone(UTC)


def daily(zone, *times, **extra) -> s.Rules:
    return s.Rules(timezone=zone, daily=tuple(s.parse_hhmm(t) for t in times), **extra)


def fired(rules, start, end, **context):
    return [o.fire_at for o in s.occurrences(rules, start, end, **context)]


@pytest.mark.parametrize(
    "zone, day, expected_wall",
    [
        # 02:30 does not exist that night: it fires at 03:30 local (the wall time read
        # with the offset before the change), once
        (NY, date(2026, 3, 8), (3, 30)),
        (BERLIN, date(2026, 3, 29), (3, 30)),
    ],
)
def test_spring_forward_a_missing_time_fires_an_hour_later_once(zone, day, expected_wall):
    rules = daily(zone, "02:30")
    start = local(zone, day.year, day.month, day.day) - timedelta(days=1)
    times = fired(rules, start, start + timedelta(days=3))
    on_the_day = [t for t in times if t.astimezone(ZoneInfo(zone)).date() == day]
    assert len(on_the_day) == 1
    wall = on_the_day[0].astimezone(ZoneInfo(zone))
    assert (wall.hour, wall.minute) == expected_wall
    # the days around it keep 02:30 and 24 hours between the others stay a day apart
    assert [t.astimezone(ZoneInfo(zone)).time() for t in times] == [
        time(2, 30),
        time(3, 30),
        time(2, 30),
    ]


@pytest.mark.parametrize(
    "zone, day, wall",
    [(NY, date(2026, 11, 1), "01:30"), (BERLIN, date(2026, 10, 25), "02:30")],
)
def test_fall_back_a_repeated_time_fires_once_at_the_first(zone, day, wall):
    rules = daily(zone, wall)
    start = local(zone, day.year, day.month, day.day)  # midnight that day
    times = fired(rules, start, start + timedelta(hours=24))
    hour, minute = map(int, wall.split(":"))
    first = local(zone, day.year, day.month, day.day, hour, minute, fold=0)
    second = local(zone, day.year, day.month, day.day, hour, minute, fold=1)
    assert second - first == timedelta(hours=1)
    assert times == [first]
    # asked for "the next one" right after the first, it is tomorrow's, not the repeat
    after = s.next_occurrence(rules, first)
    assert after.fire_at.astimezone(ZoneInfo(zone)).date() == day + timedelta(days=1)


@pytest.mark.parametrize("zone", [NY, BERLIN])
def test_a_daily_reminder_keeps_its_wall_time_across_both_changes(zone):
    rules = daily(zone, "09:00")
    start = utc(2026, 1, 1)
    times = fired(rules, start, utc(2027, 1, 1))
    assert len(times) == 365
    assert {t.astimezone(ZoneInfo(zone)).time() for t in times} == {time(9, 0)}
    # the UTC instant moves by an hour twice a year, the local time never
    assert len({t.astimezone(UTC).time() for t in times}) == 2


def test_next_occurrence_across_spring_forward_is_one_reminder_per_day():
    rules = daily(NY, "02:30")
    at = local(NY, 2026, 3, 7, 2, 30)
    seen = []
    for _ in range(3):
        at = s.next_occurrence(rules, at).fire_at
        seen.append(at.astimezone(ZoneInfo(NY)).strftime("%d %H:%M"))
    assert seen == ["08 03:30", "09 02:30", "10 02:30"]


def test_a_time_zone_change_keeps_the_wall_time_in_the_new_zone():
    before = daily(NY, "09:00")
    moved = daily(BERLIN, "09:00")
    now = local(NY, 2026, 6, 10, 12, 0)  # 18:00 in Berlin
    assert s.next_occurrence(before, now).fire_at == local(NY, 2026, 6, 11, 9, 0)
    # after the move: 09:00 in Berlin, the next morning there
    assert s.next_occurrence(moved, now).fire_at == local(BERLIN, 2026, 6, 11, 9, 0)
    # the slot names the local day, so the same local day never fires twice
    occ = s.next_occurrence(moved, now)
    assert occ.slot == "daily_checkin:2026-06-11T09:00"


def test_after_a_move_west_a_slot_already_sent_is_not_the_next_reminder():
    """20:00 went in Berlin; at 20:30 there the person lands in New York (14:30). 20:00
    comes round again that same local day, but its slot is spent: the next reminder is
    tomorrow's, and the one shown is the one the worker will make."""
    berlin, moved = daily(BERLIN, "20:00"), daily(NY, "20:00")
    sent = s.next_occurrence(berlin, local(BERLIN, 2026, 6, 10, 12, 0))
    assert sent.fire_at == local(BERLIN, 2026, 6, 10, 20, 0)
    now = local(BERLIN, 2026, 6, 10, 20, 30)
    taken = {sent.slot}
    # not knowing what went, the same local day's 20:00 would come next: never sent
    assert s.next_occurrence(moved, now).slot == sent.slot
    upcoming = s.next_occurrence(moved, now, taken=taken)
    assert upcoming.fire_at == local(NY, 2026, 6, 11, 20, 0)
    assert upcoming.slot == "daily_checkin:2026-06-11T20:00"
    # and what the worker makes over that evening and the next is exactly that one
    made = s.occurrences(moved, now, local(NY, 2026, 6, 11, 23, 0), taken=taken)
    assert made == [upcoming]


def test_a_move_east_keeps_the_new_local_days_reminder():
    # 20:00 went in New York; the person flies to Berlin, where it is already the next day
    sent = s.next_occurrence(daily(NY, "20:00"), local(NY, 2026, 6, 10, 12, 0))
    now = local(NY, 2026, 6, 10, 21, 0)  # 03:00 on the 11th in Berlin
    upcoming = s.next_occurrence(daily(BERLIN, "20:00"), now, taken={sent.slot})
    assert upcoming.fire_at == local(BERLIN, 2026, 6, 11, 20, 0)


def test_a_spent_slot_frees_the_instant_for_another_reminder_of_its_kind():
    # quiet hours put yesterday's 23:15 and today's 06:30 both at 07:00; with the 23:15
    # already sent elsewhere, the 06:30 still goes at 07:00
    rules = daily(NY, "06:30", "23:15", quiet=(time(22, 0), time(7, 0)))
    found = s.occurrences(
        rules,
        local(NY, 2026, 6, 2, 0, 0),
        local(NY, 2026, 6, 2, 12, 0),
        taken={"daily_checkin:2026-06-01T23:15"},
    )
    assert [(o.slot, o.fire_at) for o in found] == [
        ("daily_checkin:2026-06-02T06:30", local(NY, 2026, 6, 2, 7, 0))
    ]


def test_quiet_hours_move_a_reminder_to_their_end():
    rules = daily(NY, "06:30", "23:15", quiet=(time(22, 0), time(7, 0)))
    times = fired(rules, local(NY, 2026, 6, 1), local(NY, 2026, 6, 3, 12, 0))
    walls = [t.astimezone(ZoneInfo(NY)).strftime("%d %H:%M") for t in times]
    # 06:30 → 07:00 the same morning; 23:15 → 07:00 the next morning, where it meets
    # that morning's 06:30 (also moved to 07:00): one reminder, not two
    assert walls == ["01 07:00", "02 07:00", "03 07:00"]


def test_quiet_hours_within_a_day_and_a_reminder_outside_them():
    rules = daily(BERLIN, "13:30", "15:00", quiet=(time(13, 0), time(14, 0)))
    times = fired(rules, local(BERLIN, 2026, 6, 1), local(BERLIN, 2026, 6, 1, 23, 0))
    assert [t.astimezone(ZoneInfo(BERLIN)).time() for t in times] == [time(14, 0), time(15, 0)]


def test_quiet_hours_end_on_the_spring_forward_morning():
    rules = daily(NY, "01:00", quiet=(time(0, 30), time(2, 30)))
    occ = s.next_occurrence(rules, local(NY, 2026, 3, 7, 12, 0))
    # 01:00 is quiet; quiet ends at 02:30, which does not exist that night: 03:30
    assert occ.fire_at.astimezone(ZoneInfo(NY)).strftime("%d %H:%M") == "08 03:30"


def test_a_pause_holds_every_reminder_until_its_date():
    rules = daily(
        BERLIN,
        "09:00",
        phq9=s.Weekly(0, time(10, 0)),
        paused_until=date(2026, 6, 20),
    )
    now = local(BERLIN, 2026, 6, 10, 12, 0)
    assert fired(rules, now, local(BERLIN, 2026, 6, 19, 23, 59)) == []
    # nothing comes at the pause's end for what was held; the first is the next rule time
    assert s.next_occurrence(rules, now).fire_at == local(BERLIN, 2026, 6, 20, 9, 0)


def test_post_dosing_prompts_on_the_chosen_days_at_the_preferred_time():
    session = s.Dosing(uuid.uuid4(), local(NY, 2026, 3, 6, 10, 0))
    rules = s.Rules(timezone=NY, post_dosing_days=(1, 3, 7), post_dosing_at=time(18, 0))
    found = s.occurrences(
        rules, session.starts_at, session.starts_at + timedelta(days=10), [session]
    )
    walls = [o.fire_at.astimezone(ZoneInfo(NY)).strftime("%m-%d %H:%M") for o in found]
    # day 3 is after the spring-forward night and still 18:00 local
    assert walls == ["03-07 18:00", "03-09 18:00", "03-13 18:00"]
    assert {o.kind for o in found} == {s.POST_DOSING}
    assert len({o.slot for o in found}) == 3 and all(o.ref == session.id for o in found)
    # with nothing else on, the next one after day 1 is day 3
    assert s.next_occurrence(rules, found[0].fire_at, [session]).fire_at == found[1].fire_at


def test_post_dosing_days_count_from_the_local_day_of_the_session():
    # 23:30 in New York is already the next day in UTC: day 1 is still the next local day
    session = s.Dosing(uuid.uuid4(), local(NY, 2026, 6, 1, 23, 30))
    rules = s.Rules(timezone=NY, post_dosing_days=(1,), post_dosing_at=time(18, 0))
    occ = s.next_occurrence(rules, session.starts_at, [session])
    assert occ.fire_at == local(NY, 2026, 6, 2, 18, 0)


def test_weekly_questionnaires_on_their_day_and_the_plan_review_when_due():
    rules = s.Rules(
        timezone=BERLIN,
        phq9=s.Weekly(6, time(10, 0)),
        gad7=s.Weekly(6, time(10, 15)),
        plan_review_at=time(9, 0),
    )
    due = local(BERLIN, 2026, 6, 3, 12, 0)  # after 09:00 that day: the next morning
    found = s.occurrences(rules, local(BERLIN, 2026, 6, 1), local(BERLIN, 2026, 6, 8), [], due)
    walls = [
        (o.kind, o.fire_at.astimezone(ZoneInfo(BERLIN)).strftime("%a %d %H:%M")) for o in found
    ]
    assert walls == [
        ("plan_review", "Thu 04 09:00"),
        ("phq9", "Sun 07 10:00"),
        ("gad7", "Sun 07 10:15"),
    ]


def test_after_downtime_each_missed_reminder_goes_once_if_fresh_and_never_a_burst():
    rules = daily(NY, "09:00", "12:00", phq9=s.Weekly(0, time(10, 0)))
    down_from = local(NY, 2026, 6, 1, 8, 0)  # a Monday
    now = local(NY, 2026, 6, 3, 12, 30)  # back two and a half days later
    missed = s.occurrences(rules, down_from, now)
    send, skip = s.after_downtime(missed, now)
    # the 12:00 daily (30 min ago) goes; Monday's PHQ-9 (2 days ago) is stale
    assert [(o.kind, o.fire_at) for o in send] == [(s.DAILY, local(NY, 2026, 6, 3, 12, 0))]
    assert len(skip) == len(missed) - 1
    # a short outage: the missed PHQ-9 is still fresh and goes, once
    send, _ = s.after_downtime(
        s.occurrences(rules, down_from, local(NY, 2026, 6, 1, 13, 0)), local(NY, 2026, 6, 1, 13, 0)
    )
    assert sorted(o.kind for o in send) == [s.DAILY, s.PHQ9]


def test_flag_alerts_respect_quiet_hours_and_can_be_off():
    rules = s.Rules(timezone=NY, flag_alerts=True, quiet=(time(22, 0), time(7, 0)))
    at_3am = local(NY, 2026, 6, 1, 3, 0)
    assert s.flag_alert_at(rules, at_3am) == local(NY, 2026, 6, 1, 7, 0)
    noon = local(NY, 2026, 6, 1, 12, 0)
    assert s.flag_alert_at(rules, noon) == noon
    assert s.flag_alert_at(s.Rules(timezone=NY), noon) is None


def test_ttl_is_what_is_left_of_freshness_and_never_zero():
    now = utc(2026, 6, 1, 12)
    assert s.ttl_seconds(now + timedelta(hours=1), now) == 3600
    assert s.ttl_seconds(now - timedelta(hours=1), now) == 60


def test_rules_from_stored_settings():
    rules = s.Rules.from_settings(
        {
            "daily_checkin": {"enabled": True, "times": ["20:00", "08:00"]},
            "phq9": {"enabled": False, "day": "sunday", "time": "10:00"},
            "gad7": {"enabled": True, "day": "sunday", "time": "10:00"},
            "post_dosing": {"enabled": True, "days": [7, 1], "time": "18:00"},
            "quiet_hours": {"start": "22:00", "end": "07:00"},
            "paused_until": "2026-06-20",
        },
        BERLIN,
    )
    assert rules.daily == (time(8, 0), time(20, 0))
    assert rules.phq9 is None and rules.gad7 == s.Weekly(6, time(10, 0))
    assert rules.post_dosing_days == (1, 7)
    assert rules.paused_until == date(2026, 6, 20)
    assert s.next_occurrence(s.Rules.from_settings({}, NY), utc(2026, 1, 1)) is None
