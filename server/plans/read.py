"""The plan as other features read it: read-only (no writes, no audit, no events).

The brief, check-ins (the crisis card, the maintenance rules) and the export use
these; so does the plans service. A patient's rows are reached through an `access`
scope.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from config.crisis_lines import REGIONS, choose_region
from server import access
from server.auth.models import User
from server.db import utcnow
from server.extensions import db
from server.plans.models import Plan
from server.plans.schemas import CONTACT_SECTIONS, SECTIONS

# the same words as the app's care-words.js: one story of what the care team sees
NOT_MONITORED = _l(
    "Between is not monitored in real time. A safety answer alerts your care team at "
    "once, but nobody watches in real time."
)
SETTINGS = ("region", "review_every_days", "last_reviewed_at", "shared")


def plan_of(scope) -> Plan | None:
    """The scope's plan: a patient's own, or a linked patient's while shared."""
    return db.session.scalar(scope.select(Plan))


# what a plan's crisis_lines item holds (plans/schemas.py CrisisLineSchema); the data
# file's hours, languages and chat travel on the crisis card
PLAN_LINE_FIELDS = ("name", "phone", "sms", "note")


def _region(plan: Plan | None, patient: User) -> str | None:
    # the plan's own region is the patient's choice for their crisis card; else their
    # account's (Settings), else where their time zone and language put them; None when
    # nothing names a country (the card then says: your local emergency number)
    return (
        (plan.region if plan else None)
        or getattr(patient, "region", None)
        or choose_region(patient.locale, patient.timezone)
    )


def region_lines(region: str | None) -> list[dict]:
    """The data file's lines for a region, as written there; none for an unknown one."""
    return [dict(line) for line in REGIONS.get(region or "", {}).get("lines", [])]


def default_crisis_lines(region: str | None) -> list[dict]:
    """The region's lines as a new plan offers them (the fields a plan item holds)."""
    return [{k: line.get(k) for k in PLAN_LINE_FIELDS} for line in region_lines(region)]


def tel(phone: str | None) -> str | None:
    """A number as a person typed it, made fit for a tel: or sms: link."""
    if not phone:
        return None
    digits = "".join(ch for ch in phone if ch.isdigit())
    return ("+" if phone.strip().startswith("+") else "") + digits


def view(plan: Plan | None, patient: User) -> dict:
    """The plan as the API shows it; before the first save, an empty plan with the
    region's crisis lines filled in."""
    region = _region(plan, patient)
    if plan is None:
        content = {s: [] for s in SECTIONS}
        content["crisis_lines"] = default_crisis_lines(region)
        return {
            "id": patient.id,
            **content,
            "region": region,
            "review_every_days": None,
            "last_reviewed_at": None,
            "review_due": False,
            "review_due_at": None,
            "shared": False,
            "updated_at": None,
            "updated_by_role": None,
            "version": 0,
        }
    due_at = None
    if plan.review_every_days and plan.last_reviewed_at:
        due_at = plan.last_reviewed_at + timedelta(days=plan.review_every_days)
    return {
        "id": plan.id,
        **{s: list(plan.content.get(s, [])) for s in SECTIONS},
        "region": region,
        "review_every_days": plan.review_every_days,
        "last_reviewed_at": plan.last_reviewed_at,
        "review_due": bool(due_at and utcnow() >= due_at),
        "review_due_at": due_at,
        "shared": plan.shared,
        "updated_at": plan.updated_at,
        "updated_by_role": plan.updated_by_role,
        "version": plan.version,
    }


def _item_key(section: str, item: dict) -> str:
    return json.dumps(item, sort_keys=True)


def diff_contents(old: dict, new: dict, old_settings: dict, new_settings: dict) -> dict:
    """What changed between two plans: items added and removed per section, reorders,
    and settings; with a one-line summary."""
    sections, phrases = {}, []
    for section in SECTIONS:
        before = [_item_key(section, i) for i in old.get(section, [])]
        after = [_item_key(section, i) for i in new.get(section, [])]
        added = list((Counter(after) - Counter(before)).elements())
        removed = list((Counter(before) - Counter(after)).elements())
        reordered = not added and not removed and before != after
        if added or removed or reordered:
            sections[section] = {
                "added": [json.loads(k) for k in added],
                "removed": [json.loads(k) for k in removed],
                "reordered": reordered,
            }
            bits = (
                [f"{len(added)} added"] * bool(added)
                + [f"{len(removed)} removed"] * bool(removed)
                + ["reordered"] * reordered
            )
            phrases.append(f"{section.replace('_', ' ')}: {', '.join(bits)}")
    settings = {
        k: {"from": old_settings.get(k), "to": new_settings.get(k)}
        for k in SETTINGS
        if old_settings.get(k) != new_settings.get(k)
    }
    phrases += [f"{k.replace('_', ' ')} changed" for k in settings]
    return {
        "sections": sections,
        "settings": settings,
        "summary": "; ".join(phrases) or "no changes",
    }


def emergency_words(emergency: str | None) -> str:
    """What to do in an emergency, with the region's number when Between knows it."""
    if emergency:
        return _(
            "Between is not an emergency service and nobody watches entries in real time. "
            "If you are in danger or might act on thoughts of ending your life, call "
            "%(emergency)s now or go to the nearest emergency department.",
            emergency=emergency,
        )
    return _(
        "Between is not an emergency service and nobody watches entries in real time. "
        "If you are in danger or might act on thoughts of ending your life, call your local "
        "emergency number now or go to the nearest emergency department."
    )


def crisis_card(patient: User, plan: Plan | None = None) -> dict:
    """What a patient needs in a bad moment: their own signs, steps and people first,
    then their crisis lines and the region's, and what to do in an emergency."""
    plan = plan or plan_of(access.own_scope(patient))
    content = plan.content if plan else {}
    region = _region(plan, patient)
    emergency = REGIONS.get(region or "", {}).get("emergency")
    contacts = [
        {**c, "tel": tel(c.get("phone")), "kind": section.split("_")[0]}
        for section in CONTACT_SECTIONS
        for c in content.get(section, [])
        if c.get("phone")
    ]
    lines, seen = [], {}
    for line in list(content.get("crisis_lines", [])) + region_lines(region):
        key = (tel(line.get("phone")), tel(line.get("sms")))
        if key in seen:
            # the plan's copy of a region line: keep its place and words, add the data
            # file's hours, languages and chat
            known = seen[key]
            known.update({k: v for k, v in line.items() if known.get(k) in (None, "")})
            continue
        seen[key] = {**line, "tel": tel(line.get("phone")), "sms_to": tel(line.get("sms"))}
        lines.append(seen[key])
    return {
        "region": region,
        "emergency_number": emergency,
        "emergency_words": emergency_words(emergency),
        "not_monitored": str(NOT_MONITORED),
        "warning_signs": [i["text"] for i in content.get("warning_signs", [])],
        "coping_steps": [i["text"] for i in content.get("coping_steps", [])][:5],
        "contacts": contacts,
        "crisis_lines": lines,
        "maintenance_suggested": False,
    }
