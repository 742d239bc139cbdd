"""Reminder schedules, push subscriptions, receipts, flag alerts and follow-through.

Flushes, never commits; knows no HTTP. Everything here is the acting user's own: a
schedule, a device or a delivery of someone else is simply not found.
"""

from __future__ import annotations

import base64
import binascii
import copy
import ipaddress
import uuid
from collections import defaultdict
from datetime import date, datetime, timedelta
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric import ec
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select, update

from server import access, i18n, localtime
from server.auth.models import Role, User
from server.care.models import CareLink
from server.db import utcnow
from server.errors import ApiError, check_version, not_found, validation_error
from server.extensions import db
from server.i18n import N_
from server.plans.models import Plan
from server.reminders import schedule as sched
from server.reminders.models import (
    PENDING,
    PushDelivery,
    PushSubscription,
    ReminderOccurrence,
    ReminderSchedule,
)
from server.sessions.models import SessionKind, SessionStatus, TreatmentSession

PATIENT_ONLY = ("daily_checkin", "phq9", "gad7", "post_dosing", "plan_review")
THERAPIST_ONLY = ("flag_alerts",)
PARTS = PATIENT_ONLY + THERAPIST_ONLY + ("quiet_hours", "paused_until")

PATIENT_DEFAULTS = {
    "daily_checkin": {"enabled": False, "times": ["20:00"]},
    "phq9": {"enabled": False, "day": "sunday", "time": "10:00"},
    "gad7": {"enabled": False, "day": "sunday", "time": "10:00"},
    "post_dosing": {"enabled": False, "days": [1, 3, 7], "time": "18:00"},
    "plan_review": {"enabled": False, "time": "10:00"},
    "quiet_hours": {"start": "22:00", "end": "08:00"},
    "paused_until": None,
}
THERAPIST_DEFAULTS = {
    "flag_alerts": {"enabled": True},
    "quiet_hours": {"start": "22:00", "end": "07:00"},
    "paused_until": None,
}

# What a push says: a type, an id, a link and generic words; nothing a lock screen
# should not show and nothing the push service could read health into.
# The words are in the recipient's language (message_for), never the sender's.
MESSAGES = {
    sched.DAILY: ("checkin", "/#/checkin/daily", N_("Time for your check-in")),
    sched.PHQ9: ("checkin", "/#/checkin/phq9", N_("Time for your check-in")),
    sched.GAD7: ("checkin", "/#/checkin/gad7", N_("Time for your check-in")),
    sched.POST_DOSING: ("journal", "/#/journal", N_("A moment for your journal")),
    sched.PLAN_REVIEW: ("plan", "/#/plan", N_("Time to look over your plan")),
    sched.FLAG_ALERT: ("flag", "/#/flags", N_("A check-in needs your review")),
    sched.TEST: ("test", "/#/more", N_("Notifications are working")),
}
LOOPBACK_NAMES = {"localhost"}


# -- schedules ---------------------------------------------------------------------------


def defaults_for(user: User) -> dict:
    return copy.deepcopy(THERAPIST_DEFAULTS if user.role is Role.THERAPIST else PATIENT_DEFAULTS)


def _schedule(user_id: uuid.UUID) -> ReminderSchedule | None:
    return db.session.scalar(select(ReminderSchedule).where(ReminderSchedule.user_id == user_id))


def dosing_sessions(patient_ids) -> dict[uuid.UUID, list[sched.Dosing]]:
    """Each patient's dosing sessions, in one query."""
    found = defaultdict(list)
    if not patient_ids:
        return found
    rows = db.session.execute(
        select(TreatmentSession.patient_id, TreatmentSession.id, TreatmentSession.starts_at).where(
            TreatmentSession.patient_id.in_(patient_ids),
            TreatmentSession.kind == SessionKind.DOSING,
            TreatmentSession.deleted.is_(False),
            # a dosing that did not take place has no days after it to prompt about
            TreatmentSession.status != SessionStatus.DID_NOT_HAPPEN,
        )
    )
    for patient_id, session_id, starts_at in rows:
        found[patient_id].append(sched.Dosing(session_id, starts_at))
    return found


def plan_reviews_due(patient_ids) -> dict[uuid.UUID, datetime]:
    """When each patient's plan is next due for review, in one query."""
    if not patient_ids:
        return {}
    rows = db.session.execute(
        select(Plan.patient_id, Plan.last_reviewed_at, Plan.review_every_days).where(
            Plan.patient_id.in_(patient_ids),
            Plan.last_reviewed_at.is_not(None),
            Plan.review_every_days.is_not(None),
        )
    )
    return {pid: last + timedelta(days=every) for pid, last, every in rows if every}


def taken_slots(user_ids, since: datetime) -> dict[uuid.UUID, set[str]]:
    """The slots each person's reminders already took from `since` on, in one query:
    a slot made once is never made again, so it is never the next reminder either."""
    found = defaultdict(set)
    if user_ids:
        rows = db.session.execute(
            select(ReminderOccurrence.user_id, ReminderOccurrence.slot).where(
                ReminderOccurrence.user_id.in_(user_ids),
                ReminderOccurrence.fire_at >= since,
            )
        )
        for user_id, slot in rows:
            found[user_id].add(slot)
    return found


def refresh(
    schedule: ReminderSchedule, rules, now, dosing, plan_due, recheck: int, taken=frozenset()
) -> None:
    """Set the next due instant (one that will be sent: no taken slot), and when the
    worker should look again."""
    upcoming = sched.next_occurrence(rules, now, dosing, plan_due, taken)
    schedule.next_due_at = upcoming.fire_at if upcoming else None
    watching = rules.post_dosing_at is not None or rules.plan_review_at is not None
    later = now + timedelta(seconds=recheck) if watching else None
    times = [t for t in (schedule.next_due_at, later) if t is not None]
    schedule.wake_at = min(times) if times else None


def wake(patient_id: uuid.UUID, timezone: str | None = None) -> None:
    """Something that moves reminders changed (a dosing session, the plan's review
    cadence, the person's time zone): have the worker look at this patient's schedule on
    its next pass. A new zone keeps the wall times (20:00 stays 20:00, there), as a save
    of the schedule in that zone would: a new version, rules from now on."""
    now = utcnow()
    values = {"wake_at": now}
    if timezone:
        values.update(
            timezone=timezone,
            version=ReminderSchedule.version + 1,
            updated_at=now,
            materialised_until=now,
        )
    db.session.execute(
        update(ReminderSchedule).where(ReminderSchedule.user_id == patient_id).values(**values)
    )


def view_schedule(user: User, schedule: ReminderSchedule | None, now=None) -> dict:
    now = now or utcnow()
    settings = defaults_for(user)
    if schedule is not None:
        settings.update(copy.deepcopy(schedule.settings))
    timezone = schedule.timezone if schedule else user.timezone
    rules = sched.Rules.from_settings(settings, timezone)
    if user.role is Role.PATIENT:
        upcoming = sched.next_occurrence(
            rules,
            now,
            dosing_sessions([user.id]).get(user.id, []),
            plan_reviews_due([user.id]).get(user.id),
            taken_slots([user.id], now - sched.TAKEN_LOOKBACK).get(user.id, frozenset()),
        )
    else:
        upcoming = None
    paused = settings.get("paused_until")
    shown = PATIENT_ONLY if user.role is Role.PATIENT else THERAPIST_ONLY
    return {
        "timezone": timezone,
        **{k: settings.get(k) for k in shown},
        "quiet_hours": settings.get("quiet_hours"),
        "paused_until": date.fromisoformat(paused) if isinstance(paused, str) else paused,
        "version": schedule.version if schedule else 0,
        "next_due_at": upcoming.fire_at if upcoming else None,
        "next_due_kind": upcoming.kind if upcoming else None,
        "updated_at": schedule.updated_at if schedule else None,
    }


def get_schedule(actor: User) -> dict:
    """My reminder schedule (the suggested one, all off, before I first save)."""
    return view_schedule(actor, _schedule(actor.id))


def _check(actor: User, data: dict) -> None:
    not_mine = THERAPIST_ONLY if actor.role is Role.PATIENT else PATIENT_ONLY
    wrong = {k: [_("Not a reminder you can set.")] for k in not_mine if k in data}
    if wrong:
        raise validation_error(wrong)
    if "timezone" in data and not localtime.is_zone(data["timezone"]):
        raise validation_error({"timezone": [_("Unknown time zone.")]})


def update_schedule(actor: User, data: dict, base_version: int | None) -> dict:
    """Save my reminders from the version I started with; the next one is recomputed."""
    _check(actor, data)
    schedule = _schedule(actor.id)
    check_version(
        schedule.version if schedule else 0,
        base_version,
        lambda: view_schedule(actor, schedule),
        _("Your reminders changed elsewhere."),
    )
    now = utcnow()
    if schedule is None:
        schedule = ReminderSchedule(
            user_id=actor.id,
            timezone=actor.timezone,
            settings=defaults_for(actor),
            version=0,
            created_at=now,
        )
        db.session.add(schedule)
    settings = copy.deepcopy(schedule.settings)
    for key in PARTS:
        if key not in data:
            continue
        value = data[key]
        if isinstance(value, dict) and isinstance(settings.get(key), dict):
            settings[key] = {**settings[key], **value}  # a part sent in part keeps the rest
        else:
            settings[key] = value.isoformat() if hasattr(value, "isoformat") else value
    if "timezone" in data:
        schedule.timezone = data["timezone"]
    schedule.settings = settings
    schedule.version += 1
    schedule.updated_at = now
    # from now on: a rule changed now never fires for a time already past
    schedule.materialised_until = now
    rules = sched.Rules.from_settings(settings, schedule.timezone)
    refresh(
        schedule,
        rules,
        now,
        dosing_sessions([actor.id]).get(actor.id, []),
        plan_reviews_due([actor.id]).get(actor.id),
        current_app.config["REMINDER_RECHECK_SECONDS"],
        taken_slots([actor.id], now - sched.TAKEN_LOOKBACK).get(actor.id, frozenset()),
    )
    db.session.flush()
    return view_schedule(actor, schedule, now)


# -- subscriptions -----------------------------------------------------------------------


def _b64url(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


def _is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _host_allowed(host: str, patterns) -> bool:
    for pattern in patterns:
        if pattern.startswith("*."):
            if host.endswith(pattern[1:]):
                return True
        elif host == pattern:
            return True
    return False


def check_endpoint(endpoint: str, config) -> None:
    """An https URL at a known push service; http on loopback in development only."""
    try:
        parts = urlsplit(endpoint)
        host = (parts.hostname or "").lower()
        parts.port  # noqa: B018  (a bad port raises here)
    except ValueError as exc:
        raise validation_error({"endpoint": [_("Not a URL.")]}) from exc
    if parts.username or parts.password or not host:
        raise validation_error({"endpoint": [_("Not a push service URL.")]})
    loopback = config["PUSH_ALLOW_LOOPBACK"] and _is_loopback(host)
    if parts.scheme != "https" and not (loopback and parts.scheme == "http"):
        raise validation_error({"endpoint": [_("Push endpoints must be https URLs.")]})
    if not loopback and not _host_allowed(host, config["PUSH_ALLOWED_HOSTS"]):
        raise validation_error({"endpoint": [_("Not a push service we send to.")]})


def check_keys(keys: dict) -> None:
    errors = {}
    try:
        point = _b64url(keys["p256dh"])
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
        if len(point) != 65:
            raise ValueError
    except (ValueError, binascii.Error):
        errors["p256dh"] = [_("Not an uncompressed P-256 public key (base64url).")]
    try:
        if len(_b64url(keys["auth"])) != 16:
            raise ValueError
    except (ValueError, binascii.Error):
        errors["auth"] = [_("Not a 16-byte auth secret (base64url).")]
    if errors:
        raise validation_error({"keys": errors})


def subscribe(actor: User, data: dict) -> tuple[PushSubscription, bool]:
    """Keep this device's push endpoint (the same endpoint again updates it)."""
    check_endpoint(data["endpoint"], current_app.config)
    check_keys(data["keys"])
    now = utcnow()
    row = db.session.scalar(
        select(PushSubscription).where(PushSubscription.endpoint == data["endpoint"])
    )
    if row is not None and row.user_id != actor.id:
        # a device now signed in to another account: a new row, so nothing queued for
        # the previous account (or its receipts) follows the device to this one
        db.session.delete(row)
        db.session.flush()
        row = None
    created = row is None
    if created:
        row = PushSubscription(endpoint=data["endpoint"], created_at=now)
        db.session.add(row)
    row.user_id = actor.id
    row.p256dh = data["keys"]["p256dh"]
    row.auth = data["keys"]["auth"]
    row.user_agent = data.get("user_agent", "")[:200]
    row.last_seen_at = now
    db.session.flush()
    return row, created


def unsubscribe(actor: User, endpoint: str) -> None:
    """Forget one of my devices."""
    row = db.session.scalar(
        select(PushSubscription).where(
            PushSubscription.endpoint == endpoint, PushSubscription.user_id == actor.id
        )
    )
    if row is None:
        raise not_found(_("No such device."))
    db.session.delete(row)
    db.session.flush()


def list_subscriptions(actor: User) -> list[PushSubscription]:
    """My devices that get notifications."""
    return list(
        db.session.scalars(
            select(PushSubscription)
            .where(PushSubscription.user_id == actor.id)
            .order_by(PushSubscription.created_at)
        )
    )


# -- occurrences and deliveries ----------------------------------------------------------


def _subscriptions_of(user_ids) -> dict[uuid.UUID, list[uuid.UUID]]:
    found = defaultdict(list)
    if user_ids:
        rows = db.session.execute(
            select(PushSubscription.user_id, PushSubscription.id).where(
                PushSubscription.user_id.in_(user_ids)
            )
        )
        for user_id, sub_id in rows:
            found[user_id].append(sub_id)
    return found


def enqueue(user_id, kind: str, slot: str, fire_at, subscription_ids, ref=None):
    """One occurrence and a pending delivery per device; the worker sends them."""
    expires = sched.expires_at(kind, fire_at)
    occurrence = ReminderOccurrence(
        id=uuid.uuid4(),
        user_id=user_id,
        kind=kind,
        slot=slot,
        ref_id=ref,
        fire_at=fire_at,
        expires_at=expires,
        skipped=False,
        created_at=utcnow(),
    )
    db.session.add(occurrence)
    db.session.flush()  # no relationship orders the inserts: the occurrence goes first
    deliveries = [
        PushDelivery(
            id=uuid.uuid4(),
            occurrence_id=occurrence.id,
            subscription_id=sub_id,
            user_id=user_id,
            kind=kind,
            status=PENDING,
            attempts=0,
            next_attempt_at=fire_at,
            expires_at=expires,
            created_at=utcnow(),
        )
        for sub_id in subscription_ids
    ]
    db.session.add_all(deliveries)
    return occurrence, deliveries


def alert_therapists(patient_id: uuid.UUID, flag_id: uuid.UUID) -> int:
    """Queue "a check-in needs your review" for every linked therapist's devices.

    No name, no score: the words are the same for every flag. Returns how many
    therapists will be told (after their quiet hours).
    """
    rows = db.session.execute(
        select(User, ReminderSchedule)
        .join(CareLink, CareLink.therapist_id == User.id)
        .outerjoin(ReminderSchedule, ReminderSchedule.user_id == User.id)
        .where(access.active_link(patient_id=patient_id))
    ).all()
    devices = _subscriptions_of([therapist.id for therapist, _ in rows])
    now, told = utcnow(), 0
    for therapist, schedule in rows:
        if not devices.get(therapist.id):
            continue
        settings = defaults_for(therapist)
        if schedule is not None:
            settings.update(schedule.settings)
        rules = sched.Rules.from_settings(
            settings, schedule.timezone if schedule else therapist.timezone
        )
        fire_at = sched.flag_alert_at(rules, now)
        if fire_at is None:
            continue
        enqueue(
            therapist.id,
            sched.FLAG_ALERT,
            f"{sched.FLAG_ALERT}:{flag_id}",
            fire_at,
            devices[therapist.id],
            ref=flag_id,
        )
        told += 1
    db.session.flush()
    return told


def create_test_push(actor: User) -> list[uuid.UUID]:
    """A test notification to each of my devices; the delivery ids to send now."""
    devices = _subscriptions_of([actor.id]).get(actor.id, [])
    if not devices:
        raise ApiError(409, _("This account has no device that gets notifications yet."))
    _occurrence, deliveries = enqueue(
        actor.id, sched.TEST, f"{sched.TEST}:{uuid.uuid4()}", utcnow(), devices
    )
    db.session.flush()
    return [d.id for d in deliveries]


def record_receipt(actor: User, delivery_id: uuid.UUID, event: str) -> None:
    """What my device did with a notification (shown, opened, dismissed); once each."""
    delivery = db.session.scalar(
        select(PushDelivery).where(PushDelivery.id == delivery_id, PushDelivery.user_id == actor.id)
    )
    if delivery is None:
        raise not_found(_("No such notification."))
    column = f"{event}_at"
    now = utcnow()
    if getattr(delivery, column) is None:
        setattr(delivery, column, now)
    if event in ("opened", "dismissed") and delivery.shown_at is None:
        delivery.shown_at = now  # it was shown, or it could not have been tapped
    db.session.flush()


def message_for(kind: str, delivery_id, ref_id=None, locale: str | None = None) -> dict:
    """What a push carries: a type, ids and generic words in the recipient's language
    (their `users.locale`); nothing for a lock screen to give away. A flag alert links
    to the flag (an opaque id) so the inbox opens it."""
    kind_type, url, words = MESSAGES[kind]
    if kind == sched.FLAG_ALERT and ref_id is not None:
        url = f"{url}/{ref_id}"
    body = i18n.gettext_in(i18n.language_of(locale) or i18n.DEFAULT, words)
    return {"type": kind_type, "id": str(delivery_id), "url": url, "body": body}
