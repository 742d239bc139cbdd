"""Reminders that adapt, as pure schedule math: a therapist's measurement plans, one
nudge per unanswered check-in, "Later", and the daily check-in at a random time.

2027 changes in America/New_York: spring forward on 14 March (02:00 → 03:00), fall back
on 7 November (02:00 → 01:00).
"""

import uuid
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from server.reminders import schedule as s

NY, BERLIN = "America/New_York", "Europe/Berlin"
PLAN = uuid.UUID("00000000-0000-4000-8000-000000000001")


def local(zone: str, *args) -> datetime:
    return datetime(*args, tzinfo=ZoneInfo(zone)).astimezone(UTC)


def walls(found, zone=NY) -> list[str]:
    return [o.fire_at.astimezone(ZoneInfo(zone)).strftime("%m-%d %H:%M") for o in found]


def after_sessions(days, at="09:00", window=48, kind="dosing") -> s.Measure:
    schedule = {"type": "sessions", "session_kind": kind, "days": days, "time": at}
    return s.Measure.from_plan(PLAN, schedule, window)


# -- measurement plans -------------------------------------------------------------------


@pytest.mark.parametrize(
    "session_day, expected",
    [
        # day 1 is the spring-forward Sunday, day 7 the week after: 09:00 local both times
        ((2027, 3, 13), ["03-14 09:00", "03-20 09:00"]),
        # day 1 is the fall-back Sunday
        ((2027, 11, 6), ["11-07 09:00", "11-13 09:00"]),
    ],
)
def test_a_plan_after_each_dosing_session_asks_at_local_time_across_dst(session_day, expected):
    session = s.Dosing(uuid.uuid4(), local(NY, *session_day, 10, 0))
    rules = s.Rules(timezone=NY)
    plan = after_sessions([1, 7])
    found = s.occurrences(
        rules,
        session.starts_at,
        session.starts_at + timedelta(days=10),
        measures=[plan],
        sessions=[session],
    )
    assert walls(found) == expected
    assert [o.slot for o in found] == [
        f"measure:{PLAN}:{session.id}:1",
        f"measure:{PLAN}:{session.id}:7",
    ]
    assert all(o.kind == s.MEASURE and o.ref == PLAN for o in found)
    # answerable for the plan's window, whatever the instant's offset
    assert [o.expires_at - o.fire_at for o in found] == [timedelta(hours=48)] * 2
    # the next one, as the API shows it, is the one the worker makes
    assert (
        s.next_occurrence(rules, session.starts_at, measures=[plan], sessions=[session])
        == (found[0])
    )


def test_a_plan_counts_only_sessions_of_its_kind_and_days_before_them():
    dosing = s.Dosing(uuid.uuid4(), local(BERLIN, 2027, 6, 10, 10, 0))
    integration = s.Dosing(uuid.uuid4(), local(BERLIN, 2027, 6, 12, 10, 0), kind="integration")
    rules = s.Rules(timezone=BERLIN, quiet=(time(22, 0), time(8, 0)))
    plan = after_sessions([-1], at="07:00", window=24, kind="integration")
    found = s.occurrences(
        rules,
        local(BERLIN, 2027, 6, 1),
        local(BERLIN, 2027, 6, 20),
        measures=[plan],
        sessions=[dosing, integration],
    )
    # the day before the integration session, 07:00 moved to the end of quiet hours
    assert walls(found, BERLIN) == ["06-11 08:00"]
    # the post-dosing journal prompt follows dosing sessions only
    prompts = s.Rules(timezone=BERLIN, post_dosing_days=(1,), post_dosing_at=time(18, 0))
    span = (local(BERLIN, 2027, 6, 1), local(BERLIN, 2027, 6, 20))
    assert len(s.occurrences(prompts, *span, [dosing, integration])) == 1


def test_a_weekly_plan_asks_on_its_day_and_two_plans_at_one_time_are_two_asks():
    other = uuid.uuid4()
    weekly = {"type": "weekly", "day": "monday", "time": "09:00"}
    plans = [s.Measure.from_plan(PLAN, weekly, 72), s.Measure.from_plan(other, weekly, 72)]
    rules = s.Rules(timezone=NY)
    found = s.occurrences(rules, local(NY, 2027, 6, 1), local(NY, 2027, 6, 15), measures=plans)
    assert walls(found) == ["06-07 09:00"] * 2 + ["06-14 09:00"] * 2
    assert {o.ref for o in found} == {PLAN, other}
    assert f"measure:{PLAN}:2027-06-07" in {o.slot for o in found}
    # a worker back from downtime sends each plan's latest ask, not one of the two
    now = local(NY, 2027, 6, 14, 10, 0)
    send, skip = s.after_downtime(found, now)
    assert sorted(o.ref for o in send) == sorted([PLAN, other])
    assert walls(send) == ["06-14 09:00", "06-14 09:00"] and len(skip) == 2
    # with nothing else on, the next reminder is the plan's
    upcoming = s.next_occurrence(rules, local(NY, 2027, 6, 8), measures=plans[:1])
    assert upcoming.fire_at == local(NY, 2027, 6, 14, 9, 0)


def test_a_pause_of_all_reminders_holds_the_plans_too():
    rules = s.Rules(timezone=NY, paused_until=date(2027, 6, 20))
    weekly = s.Measure.from_plan(PLAN, {"type": "weekly", "day": "monday", "time": "09:00"}, 24)
    found = s.occurrences(rules, local(NY, 2027, 6, 1), local(NY, 2027, 6, 25), measures=[weekly])
    assert walls(found) == ["06-21 09:00"]


# -- nudges ------------------------------------------------------------------------------


def test_a_nudge_comes_halfway_through_the_window_once():
    rules = s.Rules(timezone=NY)
    daily = s.Occurrence(local(NY, 2027, 6, 1, 20, 0), s.DAILY, "daily_checkin:2027-06-01T20:00")
    nudge = s.nudge_for(daily, rules)
    # the daily check-in is answerable for FRESH_FOR (2 h): nudged after 1 h
    assert nudge.fire_at == local(NY, 2027, 6, 1, 21, 0)
    assert nudge.slot == "daily_checkin:2027-06-01T20:00:nudge" and nudge.kind == s.DAILY
    assert nudge.expires_at == daily.expires_at  # it ends with its ask's window
    assert s.base_slot(nudge.slot) == daily.slot and s.is_follow_up(nudge.slot)
    assert not s.is_follow_up(daily.slot)
    # a plan's 48 h window: nudged a day on
    ask = s.Occurrence(local(NY, 2027, 6, 1, 9), s.MEASURE, "m", PLAN, timedelta(hours=48))
    assert s.nudge_for(ask, rules).fire_at == local(NY, 2027, 6, 2, 9)
    # nothing but check-ins is nudged
    prompt = s.Occurrence(local(NY, 2027, 6, 1, 18), s.POST_DOSING, "post_dosing:x:1")
    assert s.nudge_for(prompt, rules) is None


def test_quiet_hours_move_a_nudge_or_drop_it_past_the_window():
    rules = s.Rules(timezone=NY, quiet=(time(21, 30), time(7, 0)))
    early = s.Occurrence(local(NY, 2027, 6, 1, 12), s.PHQ9, "phq9:2027-06-01")
    late = s.Occurrence(local(NY, 2027, 6, 1, 20), s.DAILY, "daily_checkin:2027-06-01T20:00")
    # 12:00 + 6 h (half of 12) = 18:00, outside quiet hours
    assert s.nudge_for(early, rules).fire_at == local(NY, 2027, 6, 1, 18)
    # 21:00 would be fine; with quiet from 20:30 it moves to 07:00, past 22:00: dropped
    quieter = s.Rules(timezone=NY, quiet=(time(20, 30), time(7, 0)))
    assert s.nudge_for(late, rules).fire_at == local(NY, 2027, 6, 1, 21)
    assert s.nudge_for(late, quieter) is None
    # a long window survives the night: moved to the morning, still inside it
    ask = s.Occurrence(local(NY, 2027, 6, 1, 9), s.MEASURE, "m", PLAN, timedelta(hours=26))
    assert s.nudge_for(ask, quieter).fire_at == local(NY, 2027, 6, 2, 7)


def test_the_nudges_to_come_are_one_per_ask_until_made_or_put_off():
    rules = s.Rules(timezone=NY, daily=(time(9, 0),), phq9=s.Weekly(1, time(10, 0)))
    plan = s.Measure.from_plan(PLAN, {"type": "weekly", "day": "tuesday", "time": "11:00"}, 4)
    asks = [
        s.Occurrence(local(NY, 2027, 6, 1, 9), s.DAILY, "daily_checkin:2027-06-01T09:00"),
        s.Occurrence(local(NY, 2027, 6, 1, 10), s.PHQ9, "phq9:2027-06-01"),
        s.Occurrence(local(NY, 2027, 6, 1, 11), s.MEASURE, "m:1", PLAN, timedelta(hours=4)),
    ]
    found = s.nudges(asks, rules, plans=[plan])
    assert [(n.slot, n.fire_at) for n in found] == [
        ("daily_checkin:2027-06-01T09:00:nudge", local(NY, 2027, 6, 1, 10)),
        ("m:1:nudge", local(NY, 2027, 6, 1, 13)),
        ("phq9:2027-06-01:nudge", local(NY, 2027, 6, 1, 16)),
    ]
    # made already, or the ask put off ("Later" stands in for it): none
    taken = {"daily_checkin:2027-06-01T09:00:nudge", "phq9:2027-06-01:later"}
    assert [n.slot for n in s.nudges(asks, rules, taken, [plan])] == ["m:1:nudge"]
    # a pause holds nudges as it holds asks
    paused = s.Rules(timezone=NY, daily=rules.daily, paused_until=date(2027, 6, 2))
    assert s.nudges(asks, paused, plans=[plan]) == []
    # switched off since the ask (the daily check-in, the questionnaire, the plan paused
    # or taken back): nothing follows it
    assert s.nudges(asks, s.Rules(timezone=NY)) == []


def test_later_is_an_hour_on_after_quiet_hours():
    rules = s.Rules(timezone=BERLIN, quiet=(time(22, 0), time(7, 30)))
    assert s.later_at(rules, local(BERLIN, 2027, 6, 1, 12)) == local(BERLIN, 2027, 6, 1, 13)
    assert s.later_at(rules, local(BERLIN, 2027, 6, 1, 21, 30)) == local(BERLIN, 2027, 6, 2, 7, 30)


# -- the daily check-in at a random time -------------------------------------------------


def random_rules(zone=NY, start="09:00", end="11:00", key=b"k" * 32, **extra) -> s.Rules:
    window = {"start": start, "end": end}
    settings = {"daily_checkin": {"enabled": True, "times": ["20:00"], "random": window}, **extra}
    return s.Rules.from_settings(settings, zone, random_key=key)


def test_a_random_daily_time_is_one_a_day_within_the_window_and_deterministic():
    rules = random_rules()
    assert rules.daily == ()  # the window replaces the fixed times
    found = s.occurrences(rules, local(NY, 2027, 3, 1), local(NY, 2027, 4, 1))
    assert len(found) == 31  # one a day, across the spring-forward night too
    times = [o.fire_at.astimezone(ZoneInfo(NY)).time() for o in found]
    assert all(time(9, 0) <= t < time(11, 0) for t in times)
    assert len(set(times)) > 10  # not the same time every day
    assert {o.slot.rpartition("T")[2] for o in found} == {"random"}
    # the same key and day give the same time: what the API shows is what the worker sends
    again = s.occurrences(random_rules(), local(NY, 2027, 3, 1), local(NY, 2027, 4, 1))
    assert again == found
    upcoming = s.next_occurrence(rules, local(NY, 2027, 3, 10, 12, 0))
    assert upcoming == next(o for o in found if o.fire_at > local(NY, 2027, 3, 10, 12, 0))
    # another person's key gives other times
    other = s.occurrences(random_rules(key=b"o" * 32), local(NY, 2027, 3, 1), local(NY, 2027, 4, 1))
    assert [o.fire_at for o in other] != [o.fire_at for o in found]


def test_a_random_daily_time_keeps_its_day_when_the_window_changes():
    first = random_rules(start="09:00", end="10:00")
    moved = random_rules(start="15:00", end="16:00")
    day = local(NY, 2027, 6, 1)
    [sent] = s.occurrences(first, day, day + timedelta(hours=12))
    # the window moved to the afternoon after the morning's ask went: none more that day
    assert s.next_occurrence(moved, day + timedelta(hours=12), taken={sent.slot}).fire_at > (
        local(NY, 2027, 6, 2)
    )


def test_quiet_hours_win_over_a_random_time():
    rules = random_rules(start="06:00", end="06:30", quiet_hours={"start": "22:00", "end": "07:00"})
    found = s.occurrences(rules, local(NY, 2027, 6, 1), local(NY, 2027, 6, 8))
    assert {o.fire_at.astimezone(ZoneInfo(NY)).time() for o in found} == {time(7, 0)}


def test_random_daily_time_spreads_over_the_whole_window():
    key = b"spread" * 6
    minutes = {
        s.random_daily_time(key, date(2027, 1, 1) + timedelta(days=n), time(9, 0), time(9, 30))
        for n in range(400)
    }
    assert minutes == {time(9, m) for m in range(30)}
