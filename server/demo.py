"""Demo data for `flask --app server seed-demo`: synthetic people, never a real person.

Safe to run twice: each part is made only when it is missing.
"""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import select

from server.assignments import service as assignments_service
from server.assignments.models import AssignmentKind, HomeworkType, Instrument
from server.auth import service as auth_service
from server.care import service as care_service
from server.care.models import CareLink
from server.checkins import service as checkins_service
from server.db import utcnow
from server.extensions import db
from server.journal import service as journal_service
from server.journal.models import EntryKind
from server.parts import service as parts_service
from server.parts.models import RelationKind
from server.plans import service as plans_service
from server.reminders import service as reminders_service
from server.sessions import service as sessions_service
from server.sessions.models import SessionKind

DEMO_PASSWORD = "between-demo-2026"  # the published demo sign-in  # nosec B105
DEMO_THERAPIST = "therapist@demo.between.example"
DEMO_PATIENT = "patient@demo.between.example"


def _demo_user(email: str, name: str, role: str, timezone: str):
    user = auth_service.get_user_by_email(email)
    if user is None:
        user = auth_service.register_user(
            email=email, password=DEMO_PASSWORD, display_name=name, role=role, timezone=timezone
        )
    return user


def seed_demo() -> tuple:
    """A demo therapist and a demo patient linked to each other; safe to run twice."""
    therapist = _demo_user(DEMO_THERAPIST, "Dr. Demo Therapist", "therapist", "America/New_York")
    patient = _demo_user(DEMO_PATIENT, "Demo Patient", "patient", "America/New_York")
    linked = db.session.scalar(
        select(CareLink).where(
            CareLink.therapist_id == therapist.id,
            CareLink.patient_id == patient.id,
            CareLink.ended_at.is_(None),
        )
    )
    if linked is None:
        _invite, code = care_service.create_invite(therapist, ttl_days=7)
        care_service.join_care_team(patient, code)
    if not parts_service.list_parts(patient):
        _seed_story(patient)
    if plans_service.get_plan(patient)["version"] == 0:
        _seed_plan(patient, therapist)
    if not sessions_service.my_sessions(patient)["past"]:
        _seed_timeline(therapist, patient)
    if reminders_service.get_schedule(patient)["version"] == 0:
        _seed_reminders(patient)
    if not assignments_service.my_assignments(patient):
        _seed_assignments(therapist, patient)
    for n, (name, scores, risky) in enumerate(CASELOAD, start=2):
        other = _demo_user(f"patient{n}@demo.between.example", name, "patient", "America/Chicago")
        if _link(therapist, other) and not checkins_service.list_checkins(other, {})["checkins"]:
            for weeks_ago, total in enumerate(reversed(scores)):
                _phq9(other, total, days_ago=7 * weeks_ago + 1, item9=risky and weeks_ago == 0)
    return therapist, patient


# name, weekly PHQ-9 scores oldest first, whether the latest answer is a risk
CASELOAD = [
    ("Demo Patient Two", [17, 14, 12], False),
    ("Demo Patient Three", [12, 15, 16], True),
    ("Demo Patient Four", [9, 6, 4], False),
]


def _link(therapist, patient) -> bool:
    linked = db.session.scalar(
        select(CareLink).where(
            CareLink.therapist_id == therapist.id,
            CareLink.patient_id == patient.id,
            CareLink.ended_at.is_(None),
        )
    )
    if linked is None:
        _invite, code = care_service.create_invite(therapist, ttl_days=7)
        care_service.join_care_team(patient, code)
    return True


def _phq9(patient, total: int, days_ago: float, item9: bool = False) -> None:
    values, left = [], total
    for _ in range(9):
        values.append(min(3, left))
        left -= values[-1]
    answers = {f"phq9_{i + 1}": v for i, v in enumerate(values)}
    if item9:
        answers["phq9_9"] = max(1, answers["phq9_9"])
    checkins_service.record_checkin(
        patient,
        {
            "instrument": "phq9",
            "answers": answers,
            "answered_at": utcnow() - timedelta(days=days_ago),
        },
    )


def _seed_timeline(therapist, patient) -> None:
    """Two dosing sessions with integration after each, and weeks of check-ins around them."""
    now = utcnow().replace(minute=0, second=0, microsecond=0)
    for days_ago, kind, route, minutes in [
        (36, SessionKind.PREPARATION, None, 60),
        (29, SessionKind.DOSING, "IM", 120),
        (28, SessionKind.INTEGRATION, None, 60),
        (15, SessionKind.DOSING, "IM", 120),
        (14, SessionKind.INTEGRATION, None, 60),
        (-2, SessionKind.INTEGRATION, None, 60),
    ]:
        data = {
            "kind": kind,
            "starts_at": now - timedelta(days=days_ago),
            "duration_minutes": minutes,
        }
        if route:
            data.update(route=route, note="Bring a blanket and your playlist if you like.")
        sessions_service.create_session(therapist, patient.id, data)
    rng = random.Random(7)  # the same synthetic demo each time  # nosec B311
    for days_ago in range(40, 0, -1):
        lift = 0 if days_ago > 29 else 2 if days_ago > 15 else 3
        mood = max(0, min(10, 3 + lift + rng.choice([-1, 0, 0, 1])))
        checkins_service.record_checkin(
            patient,
            {
                "instrument": "daily",
                "answered_at": now - timedelta(days=days_ago, hours=-20),
                "answers": {
                    "mood": mood,
                    "anxiety": max(0, 7 - lift + rng.choice([-1, 0, 1])),
                    "sleep_quality": min(10, 4 + lift),
                    "sleep_hours": 6.5 + lift / 2,
                    "rumination": max(0, 7 - lift),
                    "safety": False,
                },
            },
        )
    for weeks_ago, total in zip(range(5, -1, -1), [18, 17, 13, 11, 9, 7], strict=True):
        _phq9(patient, total, days_ago=7 * weeks_ago + 0.5)


def _seed_reminders(patient) -> None:
    """An evening check-in, the weekly questionnaires on Sunday morning, prompts after
    each dosing session, and quiet nights."""
    reminders_service.update_schedule(
        patient,
        {
            "daily_checkin": {"enabled": True, "times": ["20:00"]},
            "phq9": {"enabled": True, "day": "sunday", "time": "10:00"},
            "gad7": {"enabled": True, "day": "sunday", "time": "10:15"},
            "post_dosing": {"enabled": True, "days": [1, 3, 7], "time": "18:00"},
            "plan_review": {"enabled": True, "time": "10:00"},
            "quiet_hours": {"start": "22:00", "end": "08:00"},
        },
        base_version=0,
    )


def _seed_assignments(therapist, patient) -> None:
    """A measurement plan (PHQ-9 1 and 7 days after each dosing session, 48 hours to
    answer) and two homework items: a prompt due in two days, and a review of the plan
    the evening before the next session (relative: it follows that session)."""
    assignments_service.create_assignment(
        therapist,
        patient.id,
        {
            "kind": AssignmentKind.MEASURE,
            "instrument": Instrument.PHQ9,
            "schedule": {
                "type": "sessions",
                "session_kind": "dosing",
                "days": [1, 7],
                "time": "09:00",
            },
            "window_hours": 48,
        },
    )
    assignments_service.create_assignment(
        therapist,
        patient.id,
        {
            "kind": AssignmentKind.HOMEWORK,
            "homework_type": HomeworkType.PROMPT,
            "text": "Write a few lines to the part that stepped forward most in the last "
            "dosing session: what did it want you to know?",
            "due_at": utcnow().replace(minute=0, second=0, microsecond=0) + timedelta(days=2),
        },
    )
    upcoming = sessions_service.next_session(patient.id)
    if upcoming is None:  # a demo seeded long ago has no session to come
        return
    assignments_service.create_assignment(
        therapist,
        patient.id,
        {
            "kind": AssignmentKind.HOMEWORK,
            "homework_type": HomeworkType.PLAN_REVIEW,
            "due_session_id": upcoming.id,
            "due_days": -1,
            "due_time": "18:00",
        },
    )


def _seed_plan(patient, therapist) -> None:
    """A plausible synthetic plan, written together and shared."""

    def items(*texts):
        return [{"text": t} for t in texts]

    plans_service.update_plan(
        patient,
        {
            "warning_signs": items(
                "Sleeping past noon two days running",
                "Cancelling plans with friends",
                "The critic getting louder",
            ),
            "triggers": items("Anniversaries in early spring", "Conflict at work"),
            "coping_steps": items(
                "Walk to the lake and breathe there",
                "Cold water on my face",
                "Write to the part that wants to give up",
            ),
            "distractions": items("The library café", "Calling my cousin"),
            "support_contacts": [
                {"name": "Sam (demo)", "relation": "friend", "phone": "+1 555 010 0101"}
            ],
            "professional_contacts": [
                {
                    "name": "Demo clinic out-of-hours",
                    "relation": "clinic",
                    "phone": "+1 555 010 0199",
                }
            ],
            "safe_environment": items("Keep medication with my partner"),
            "reasons_for_living": items("My dog", "Seeing spring again"),
            "maintenance_criteria": [
                {
                    "text": "PHQ-9 of 10 or more twice in a row",
                    "rule": {"instrument": "phq9", "at_least": 10, "times_in_a_row": 2},
                },
                {"text": "Three of my warning signs in one week", "rule": None},
            ],
            "review_every_days": 30,
            "last_reviewed_at": utcnow(),
            "shared": True,
        },
        base_version=0,
    )
    plans_service.therapist_update_plan(
        therapist,
        patient.id,
        {
            "coping_steps": items(
                "Walk to the lake and breathe there",
                "Cold water on my face",
                "Write to the part that wants to give up",
                "Put on the playlist from the session",
            ),
            "summary": "Added the session playlist after our integration session",
        },
        base_version=1,
    )


def _seed_story(patient) -> None:
    """A small synthetic map and a few entries: demo words, not a real person's."""
    now = utcnow()
    names = {}
    for name, role, x, y, extra in [
        ("Self", "self", 0, 0, {"feelings": ["calm", "curious"]}),
        (
            "Inner critic",
            "manager",
            -120,
            -60,
            {"positive_intent": "Wants to keep me from being rejected."},
        ),
        (
            "The one who wants to give up",
            "firefighter",
            120,
            -60,
            {"feelings": ["heavy", "numb"], "body_location": "chest"},
        ),
        ("Little one", "exile", 0, 120, {"age_sense": "about seven", "burdens": "not enough"}),
    ]:
        names[name] = parts_service.create_part(
            patient, {"name": name, "role": role, "x": x, "y": y, **extra}
        )
    for source, target, kind in [
        ("Inner critic", "Little one", "protects"),
        ("The one who wants to give up", "Little one", "protects"),
        ("Inner critic", "The one who wants to give up", "polarized_with"),
    ]:
        parts_service.create_relation(
            patient,
            {
                "source_id": names[source].id,
                "target_id": names[target].id,
                "kind": RelationKind(kind),
            },
        )
    parts_service.set_map_shared(patient, True)
    for days_ago, kind, title, body, mood, parts, shared in [
        (
            9,
            "intention",
            "Intention for the session",
            "I want to meet the part of me that goes quiet when things get hard.",
            4,
            [],
            True,
        ),
        (
            7,
            "integration",
            "The day after",
            "I noticed the critic stepping back for a moment. Underneath it felt young.",
            6,
            ["Inner critic", "Little one"],
            True,
        ),
        (
            5,
            "free",
            "A heavy afternoon",
            "The wish to give up showed up after the phone call. I went for a walk instead.",
            3,
            ["The one who wants to give up"],
            False,
        ),
        (
            2,
            "integration",
            "What stayed",
            "The image of the lake is still with me. Breathing there helps.",
            7,
            ["Self"],
            True,
        ),
    ]:
        journal_service.create_entry(
            patient,
            {
                "kind": EntryKind(kind),
                "title": title,
                "body": body,
                "mood": mood,
                "part_ids": [names[n].id for n in parts],
                "shared": shared,
                "written_at": now - timedelta(days=days_ago),
            },
        )
