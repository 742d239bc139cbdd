"""Reminder schedules, push subscriptions, receipts, flag alerts and follow-through.

Flushes, never commits; knows no HTTP. Everything here is the acting user's own: a
schedule, a device or a delivery of someone else is simply not found.
"""

from __future__ import annotations

import base64
import binascii
import copy
import hmac
import ipaddress
import logging
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric import ec
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from server import access, i18n, localtime
from server.assignments.models import Assignment, AssignmentKind
from server.auth.models import Role, User
from server.care.models import CareLink
from server.db import utcnow
from server.errors import ApiError, check_version, not_found, validation_error
from server.extensions import db
from server.i18n import N_
from server.plans.models import Plan
from server.reminders import schedule as sched
from server.reminders.models import (
    EXPIRED,
    PENDING,
    PushDelivery,
    PushSubscription,
    ReminderOccurrence,
    ReminderSchedule,
)
from server.sessions.models import SessionKind, SessionStatus, TreatmentSession

log = logging.getLogger("between.reminders")

PATIENT_ONLY = ("daily_checkin", "phq9", "gad7", "post_dosing", "plan_review")
THERAPIST_ONLY = ("flag_alerts",)
PARTS = PATIENT_ONLY + THERAPIST_ONLY + ("quiet_hours", "paused_until", "follow_device")

PATIENT_DEFAULTS = {
    "daily_checkin": {"enabled": False, "times": ["20:00"]},
    "phq9": {"enabled": False, "day": "sunday", "time": "10:00"},
    "gad7": {"enabled": False, "day": "sunday", "time": "10:00"},
    "post_dosing": {"enabled": False, "days": [1, 3, 7], "time": "18:00"},
    "plan_review": {"enabled": False, "time": "10:00"},
    "quiet_hours": {"start": "22:00", "end": "08:00"},
    "paused_until": None,
    # the app moves the schedule to the device's zone when it opens, until the person
    # chooses a zone themselves (Settings: `wake(…, timezone=…)` turns this off)
    "follow_device": True,
}
THERAPIST_DEFAULTS = {
    "flag_alerts": {"enabled": True},
    "quiet_hours": {"start": "22:00", "end": "07:00"},
    "paused_until": None,
    "follow_device": True,
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
    # the plan's instrument goes in the link only (the notification shows the words)
    sched.MEASURE: ("checkin", "/#/checkin/{instrument}", N_("A check-in is waiting")),
}
# what a check-in notification offers besides opening it, titled in the recipient's
# language; the service worker answers "later" with a receipt (record_receipt)
LATER_ACTION = ("later", N_("Later (1 h)"))
LOOPBACK_NAMES = {"localhost"}


# -- schedules ---------------------------------------------------------------------------


def defaults_for(user: User) -> dict:
    return copy.deepcopy(THERAPIST_DEFAULTS if user.role is Role.THERAPIST else PATIENT_DEFAULTS)


def _schedule(user_id: uuid.UUID) -> ReminderSchedule | None:
    return db.session.scalar(select(ReminderSchedule).where(ReminderSchedule.user_id == user_id))


def _settings_of(user: User, schedule: ReminderSchedule | None) -> tuple[dict, str]:
    """A person's settings (what they saved over the suggested ones, a copy) and zone."""
    settings = defaults_for(user)
    if schedule is None:
        return settings, user.timezone
    settings.update(copy.deepcopy(schedule.settings))
    return settings, schedule.timezone


def _insert(model):
    """INSERT … ON CONFLICT DO NOTHING, in the dialect at hand."""
    dialect = db.session.get_bind().dialect.name
    return (pg_insert if dialect == "postgresql" else sqlite_insert)(model)


def _sessions(patient_ids) -> dict[uuid.UUID, list[sched.Dosing]]:
    """Each patient's live sessions of every kind (dosing ones drive the post-dosing
    prompts, any kind a measurement plan), in one query."""
    found = defaultdict(list)
    if not patient_ids:
        return found
    rows = db.session.execute(
        select(
            TreatmentSession.patient_id,
            TreatmentSession.id,
            TreatmentSession.starts_at,
            TreatmentSession.kind,
        ).where(
            TreatmentSession.patient_id.in_(patient_ids),
            TreatmentSession.deleted.is_(False),
            # a session that did not take place has no days around it to prompt about
            TreatmentSession.status != SessionStatus.DID_NOT_HAPPEN,
        )
    )
    for patient_id, session_id, starts_at, kind in rows:
        found[patient_id].append(sched.Dosing(session_id, starts_at, str(kind)))
    return found


def dosing_sessions(patient_ids) -> dict[uuid.UUID, list[sched.Dosing]]:
    """Each patient's dosing sessions, in one query."""
    found = defaultdict(list)
    for patient_id, sessions in _sessions(patient_ids).items():
        dosing = [s for s in sessions if s.kind == SessionKind.DOSING]
        if dosing:
            found[patient_id] = dosing
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


def measures_of(patient_ids) -> dict[uuid.UUID, list[sched.Measure]]:
    """Each patient's live measurement plans that ask (not paused), in one query."""
    found = defaultdict(list)
    if not patient_ids:
        return found
    rows = db.session.execute(
        select(
            Assignment.patient_id, Assignment.id, Assignment.schedule, Assignment.window_hours
        ).where(
            Assignment.patient_id.in_(patient_ids),
            Assignment.kind == AssignmentKind.MEASURE,
            Assignment.deleted.is_(False),
            Assignment.paused_at.is_(None),
        )
    )
    for patient_id, plan_id, schedule, window_hours in rows:
        try:
            found[patient_id].append(sched.Measure.from_plan(plan_id, schedule, window_hours))
        except (KeyError, TypeError, ValueError):
            # checked where it was set; one bad row must not stop the patient's others
            log.warning("measurement plan %s has a schedule reminders cannot read", plan_id)
    return found


def inputs_for(patient_ids) -> dict[uuid.UUID, dict]:
    """What each person's reminders are computed from besides their rules (sessions,
    the plan's review, measurement plans), as keyword arguments of
    `sched.occurrences` / `sched.next_occurrence`: three queries for any number."""
    sessions = _sessions(patient_ids)
    reviews = plan_reviews_due(patient_ids)
    measures = measures_of(patient_ids)
    return {
        pid: {
            "sessions": sessions.get(pid, []),
            "plan_review_due": reviews.get(pid),
            "measures": measures.get(pid, []),
        }
        for pid in patient_ids
    }


def random_key(user_id: uuid.UUID) -> bytes:
    """The person's key for their daily random times: an HMAC of their id under the
    app's secret, so every process (web, worker) chooses the same times."""
    secret = current_app.config["SECRET_KEY"].encode()
    return hmac.digest(secret, b"daily-random:" + user_id.bytes, "sha256")


def rules_for(user_id: uuid.UUID, settings: dict, timezone: str) -> sched.Rules:
    return sched.Rules.from_settings(settings, timezone, random_key(user_id))


@dataclass
class Made:
    """A person's reminders made already (since some instant): every slot taken, and the
    check-in asks that went, whose nudges may still come."""

    slots: set[str] = field(default_factory=set)
    asks: list[sched.Occurrence] = field(default_factory=list)

    def adding(self, made, went) -> Made:
        """As it will be once these occurrences are made (and these of them sent)."""
        asks = [o for o in went if o.kind in sched.CHECKIN_KINDS and not sched.is_follow_up(o.slot)]
        return Made(self.slots | {o.slot for o in made}, self.asks + asks)


def made_since(user_ids, since: datetime) -> dict[uuid.UUID, Made]:
    """What each person's reminders made from `since` on, in one query: a slot made once
    is never made again (so it is never the next reminder either), and an ask that went
    is followed by its nudge."""
    found = defaultdict(Made)
    if user_ids:
        rows = db.session.execute(
            select(
                ReminderOccurrence.user_id,
                ReminderOccurrence.slot,
                ReminderOccurrence.kind,
                ReminderOccurrence.ref_id,
                ReminderOccurrence.fire_at,
                ReminderOccurrence.expires_at,
                ReminderOccurrence.skipped,
            ).where(
                ReminderOccurrence.user_id.in_(user_ids),
                ReminderOccurrence.fire_at >= since,
            )
        )
        for user_id, slot, kind, ref, fire_at, expires, skipped in rows:
            made = found[user_id]
            made.slots.add(slot)
            if kind in sched.CHECKIN_KINDS and not skipped and not sched.is_follow_up(slot):
                made.asks.append(sched.Occurrence(fire_at, kind, slot, ref, expires - fire_at))
    return found


def refresh(schedule: ReminderSchedule, rules, now, recheck: int, made: Made, inputs) -> None:
    """Set the next due instant (one that will be sent: no taken slot), and when the
    worker should look again: then, or sooner for a nudge."""
    upcoming = sched.next_occurrence(rules, now, taken=made.slots, **inputs)
    schedule.next_due_at = upcoming.fire_at if upcoming else None
    watching = (
        rules.post_dosing_at is not None
        or rules.plan_review_at is not None
        or bool(inputs.get("measures"))
    )
    later = now + timedelta(seconds=recheck) if watching else None
    to_come = sched.nudges(made.asks, rules, made.slots, inputs.get("measures", ()))
    nudge = next((n.fire_at for n in to_come if n.fire_at > now), None)
    times = [t for t in (schedule.next_due_at, later, nudge) if t is not None]
    schedule.wake_at = min(times) if times else None


def _new_schedule(user: User, now: datetime) -> dict:
    """A row for someone who never saved their reminders: the suggested settings (all
    off), version 0 as the API shows before a first save, looked at by the next pass."""
    return {
        "id": uuid.uuid4(),
        "user_id": user.id,
        "timezone": user.timezone,
        "settings": defaults_for(user),
        "version": 0,
        "wake_at": now,
        "materialised_until": now,
        "created_at": now,
        "updated_at": now,
    }


def wake(patient_id: uuid.UUID, timezone: str | None = None) -> None:
    """Something that moves reminders changed (a session, the plan's review cadence, a
    measurement plan, the person's time zone): have the worker look at this person's
    schedule on its next pass. A person who never saved reminders gets the suggested
    schedule (all off) now, so a therapist's measurement plan still asks.

    A new zone is one the person chose (Settings): it keeps the wall times (20:00
    stays 20:00, there), as a save of the schedule in that zone would (a new version,
    rules from now on), and the app stops moving reminders to the device's zone."""
    now = utcnow()
    query = select(ReminderSchedule).where(ReminderSchedule.user_id == patient_id)
    schedule = db.session.scalar(query.with_for_update())
    if schedule is None:
        user = db.session.get(User, patient_id)
        if user is None:
            return
        db.session.execute(
            _insert(ReminderSchedule)
            .values(_new_schedule(user, now))
            .on_conflict_do_nothing(index_elements=["user_id"])
        )
        schedule = db.session.scalar(query.with_for_update())
        if timezone:
            # made just now in the zone chosen: nothing to move, only who decides it
            schedule.settings = {**schedule.settings, "follow_device": False}
            schedule.timezone = timezone
            timezone = None
    schedule.wake_at = now
    if timezone:
        schedule.timezone = timezone
        schedule.settings = {**schedule.settings, "follow_device": False}
        schedule.version += 1
        schedule.updated_at = now
        schedule.materialised_until = now
    db.session.flush()


def view_schedule(user: User, schedule: ReminderSchedule | None, now=None) -> dict:
    now = now or utcnow()
    settings, timezone = _settings_of(user, schedule)
    rules = rules_for(user.id, settings, timezone)
    if user.role is Role.PATIENT:
        upcoming = sched.next_occurrence(
            rules,
            now,
            taken=made_since([user.id], now - sched.TAKEN_LOOKBACK)[user.id].slots,
            **inputs_for([user.id])[user.id],
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
        "follow_device": settings.get("follow_device", True),
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
    refresh(
        schedule,
        rules_for(actor.id, settings, schedule.timezone),
        now,
        current_app.config["REMINDER_RECHECK_SECONDS"],
        made_since([actor.id], now - sched.TAKEN_LOOKBACK)[actor.id],
        inputs_for([actor.id])[actor.id],
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


def _deliveries(occurrence_id, user_id, kind, fire_at, expires, subscription_ids) -> list:
    """A pending delivery of one occurrence per device, due at its time."""
    now = utcnow()
    return [
        PushDelivery(
            id=uuid.uuid4(),
            occurrence_id=occurrence_id,
            subscription_id=sub_id,
            user_id=user_id,
            kind=kind,
            status=PENDING,
            attempts=0,
            next_attempt_at=fire_at,
            expires_at=expires,
            created_at=now,
        )
        for sub_id in subscription_ids
    ]


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
    deliveries = _deliveries(occurrence.id, user_id, kind, fire_at, expires, subscription_ids)
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
        rules = sched.Rules.from_settings(*_settings_of(therapist, schedule))
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
    """What my device did with a notification (shown, opened, dismissed; once each), or
    "later": ask again in an hour."""
    delivery = db.session.scalar(
        select(PushDelivery).where(PushDelivery.id == delivery_id, PushDelivery.user_id == actor.id)
    )
    if delivery is None:
        raise not_found(_("No such notification."))
    now = utcnow()
    if event == "later":
        put_off(actor, delivery, now)
    else:
        column = f"{event}_at"
        if getattr(delivery, column) is None:
            setattr(delivery, column, now)
    if event != "shown" and delivery.shown_at is None:
        delivery.shown_at = now  # it was shown, or it could not have been tapped
    db.session.flush()


def put_off(actor: User, delivery: PushDelivery, now: datetime) -> None:
    """ "Later" on a check-in notification: the ask comes again an hour on (after quiet
    hours), once per ask whichever of its notifications was put off, and its nudge no
    longer comes. The worker still drops the re-send if the check-in is answered first."""
    occurrence = db.session.get(ReminderOccurrence, delivery.occurrence_id)
    if occurrence is None or occurrence.kind not in sched.CHECKIN_KINDS:
        raise validation_error({"event": [_("Only a check-in reminder can be put off.")]})
    ask_slot = sched.base_slot(occurrence.slot)
    ask = occurrence
    if ask_slot != occurrence.slot:
        ask = db.session.scalar(
            select(ReminderOccurrence).where(
                ReminderOccurrence.user_id == actor.id, ReminderOccurrence.slot == ask_slot
            )
        )
        ask = ask or occurrence
    rules = rules_for(actor.id, *_settings_of(actor, _schedule(actor.id)))
    fire_at = sched.later_at(rules, now)
    # answerable again for as long as the ask was
    expires = fire_at + (ask.expires_at - ask.fire_at)
    made = db.session.execute(
        _insert(ReminderOccurrence)
        .values(
            id=uuid.uuid4(),
            user_id=actor.id,
            kind=ask.kind,
            slot=f"{ask_slot}:{sched.LATER}",
            ref_id=ask.ref_id,
            fire_at=fire_at,
            expires_at=expires,
            skipped=False,
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=["user_id", "slot"])
        .returning(ReminderOccurrence.id)
    ).scalar()
    if made is None:
        return  # put off already: once per ask
    devices = _subscriptions_of([actor.id]).get(actor.id, [])
    db.session.add_all(_deliveries(made, actor.id, ask.kind, fire_at, expires, devices))
    nudge = select(ReminderOccurrence.id).where(
        ReminderOccurrence.user_id == actor.id,
        ReminderOccurrence.slot == f"{ask_slot}:{sched.NUDGE}",
    )
    db.session.execute(
        update(PushDelivery)
        .where(PushDelivery.occurrence_id.in_(nudge.scalar_subquery()))
        .where(PushDelivery.status == PENDING)
        .values(status=EXPIRED, error="put off: asked again later instead")
    )


def message_for(
    kind: str, delivery_id, ref_id=None, instrument: str | None = None, locale: str | None = None
) -> dict:
    """What a push carries: a type, ids and generic words in the recipient's language
    (their `users.locale`); nothing for a lock screen to give away. A flag alert links
    to the flag (an opaque id) so the inbox opens it; a measurement plan's ask to its
    check-in. A check-in can be put off ("later")."""
    language = i18n.language_of(locale) or i18n.DEFAULT
    kind_type, url, words = MESSAGES[kind]
    if kind == sched.FLAG_ALERT and ref_id is not None:
        url = f"{url}/{ref_id}"
    elif kind == sched.MEASURE:
        url = url.format(instrument=instrument or "daily")
    body = i18n.gettext_in(language, words)
    message = {"type": kind_type, "id": str(delivery_id), "url": url, "body": body}
    if kind in sched.CHECKIN_KINDS:
        action, title = LATER_ACTION
        message["actions"] = [{"action": action, "title": i18n.gettext_in(language, title)}]
    return message
