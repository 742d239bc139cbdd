"""The reminder worker: materialise due reminders, claim deliveries, send, complete.

Any number of workers may run against one database; each step is a short transaction.

1. Reap: a lease that ran out (its worker died or hung) goes back to pending; a
   delivery whose reminder went stale is marked expired instead of being sent late.
2. Materialise: schedules whose wake time has come (PostgreSQL: `FOR UPDATE SKIP
   LOCKED`) become occurrences, one row per (person, slot), unique; then a pending
   delivery per (occurrence, device), unique. Missed ones after downtime go once if
   still fresh, else are recorded as skipped: no bursts. A small batch per short
   transaction (`REMINDER_BATCH_SIZE`), all or nothing: a batch whose transaction dies
   changes nothing and is taken by the next pass of any worker. A check-in ask that
   went is followed by its one nudge (same slot plus `:nudge`), made when it comes due
   halfway through the ask's window (the schedule wakes for it); a measurement plan's
   ask is then written onto the plan (`last_asked_at`, `window_ends_at`) in a
   transaction of its own, for the patient's devices to pull.
3. Claim: a batch of due deliveries gets this claim's token and a lease (PostgreSQL:
   `SKIP LOCKED`; SQLite: one UPDATE statement under its single write lock). A nudge or
   a "Later" re-send whose check-in was answered meanwhile is expired, not sent.
4. Send, outside any transaction.
5. Complete, fenced: only rows still carrying this claim's token, with the lease not
   yet run out, change. A worker that stalled past its lease changes nothing; its
   batch is sent again by another (the push `Topic` collapses the repeat).

A frozen worker (SIGSTOP, a VM paused, a network cut) holds nothing for long. On
PostgreSQL its connections carry `idle_in_transaction_session_timeout`
(`REMINDER_IDLE_TIMEOUT_SECONDS`): the server ends a transaction that waits on its
client, rolls it back and frees its row locks; and the transactions that lock rows
wait for another's lock at most `REMINDER_LOCK_TIMEOUT_SECONDS` (`SET LOCAL
lock_timeout`). Rows another worker holds are skipped (`SKIP LOCKED`) and taken later.
"""

from __future__ import annotations

import hmac
import json
import logging
import os
import random
import threading
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, bindparam, case, event, func, or_, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import OperationalError

from server import events
from server.assignments.models import Assignment
from server.auth.models import User
from server.checkins.models import CheckIn
from server.db import utcnow
from server.extensions import db
from server.reminders import keys, service
from server.reminders import schedule as sched
from server.reminders.models import (
    EXPIRED,
    FAILED,
    GONE,
    LEASED,
    PENDING,
    SENT,
    PushDelivery,
    PushSubscription,
    ReminderOccurrence,
    ReminderSchedule,
)
from server.reminders.sender import FAILED as OUT_FAILED
from server.reminders.sender import GONE as OUT_GONE
from server.reminders.sender import SENT as OUT_SENT
from server.reminders.sender import Message, Outcome, Sender
from server.sync import clock

log = logging.getLogger("between.worker")

# one encoder for every payload: json.dumps with separators builds a new one per call
_compact_json = json.JSONEncoder(separators=(",", ":")).encode

# reminders older than this are not even recorded as skipped (all are stale by then)
LOOKBACK = timedelta(days=2)


def _postgres() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def _ms(seconds: float) -> str:
    return f"{max(1, round(seconds * 1000))}ms"


def bound_connections(engine, config) -> None:
    """A worker's PostgreSQL sessions: a transaction left waiting on this process (frozen,
    cut off) is ended by the server after REMINDER_IDLE_TIMEOUT_SECONDS, its locks freed;
    each names its process in pg_stat_activity. Once per engine; web processes keep
    theirs as they are."""
    if engine.dialect.name != "postgresql" or getattr(engine, "_between_worker", False):
        return
    idle = _ms(config["REMINDER_IDLE_TIMEOUT_SECONDS"])
    name = f"between-worker-{os.getpid()}"

    @event.listens_for(engine, "do_connect")
    def _options(_dialect, _record, _cargs, cparams):
        mine = f"-c idle_in_transaction_session_timeout={idle} -c application_name={name}"
        cparams["options"] = " ".join(filter(None, (cparams.get("options"), mine)))

    engine._between_worker = True
    engine.dispose()  # connections made before carry no timeout: make new ones


def _lock_timeout() -> None:
    """This transaction waits for another's row or table lock a short while, not forever
    (PostgreSQL; SQLite waits for its write lock under busy_timeout)."""
    if _postgres():
        db.session.execute(
            select(
                func.set_config(
                    "lock_timeout", _ms(current_app.config["REMINDER_LOCK_TIMEOUT_SECONDS"]), True
                )
            )
        )


def _insert(model):
    return (pg_insert if _postgres() else sqlite_insert)(model)


def _take_sqlite_write_lock() -> None:
    # SQLite has one writer: take its lock before reading what we will change, so a
    # second worker process waits here (busy_timeout) instead of failing at commit.
    db.session.execute(
        update(ReminderSchedule).where(ReminderSchedule.id.is_(None)).values(version=0)
    )


def build_sender(config) -> Sender:
    if not config.get("VAPID_PRIVATE_KEY"):
        raise RuntimeError("VAPID_PRIVATE_KEY is not set: push is off")
    return Sender(
        keys.load(config["VAPID_PRIVATE_KEY"]),
        config["VAPID_SUBJECT"],
        timeout=config["PUSH_TIMEOUT"],
        threads=config["PUSH_THREADS"],
    )


def topic_for(subscription_id: uuid.UUID, kind: str, secret: bytes | None = None) -> str:
    """An opaque Topic per device and kind: a newer reminder replaces an undelivered one
    of its kind, and the push service learns nothing from the name."""
    secret = secret or current_app.config["SECRET_KEY"].encode()
    digest = hmac.digest(secret, f"{subscription_id}:{kind}".encode(), "sha256")
    return keys.b64url(digest[:18])  # 24 characters of the URL-safe alphabet


# -- reap --------------------------------------------------------------------------------


def reap(now: datetime) -> tuple[int, int]:
    """Return run-out leases to pending; mark stale pending deliveries expired."""
    returned = db.session.execute(
        update(PushDelivery)
        .where(PushDelivery.status == LEASED, PushDelivery.lease_until < now)
        .values(status=PENDING, lease_token=None, lease_until=None)
    ).rowcount
    expired = db.session.execute(
        update(PushDelivery)
        .where(PushDelivery.status == PENDING, PushDelivery.expires_at < now)
        .values(status=EXPIRED, error="stale before it could be sent")
    ).rowcount
    db.session.commit()
    if returned:
        log.warning("returned %d deliveries whose lease ran out", returned)
    return returned, expired


# -- materialise -------------------------------------------------------------------------


def _row(schedule: ReminderSchedule, occ: sched.Occurrence, skipped: bool, now) -> dict:
    return {
        "id": uuid.uuid4(),
        "user_id": schedule.user_id,
        "kind": occ.kind,
        "slot": occ.slot,
        "ref_id": occ.ref,
        "fire_at": occ.fire_at,
        "expires_at": occ.expires_at,
        "skipped": skipped,
        "created_at": now,
    }


def materialise(now: datetime, limit: int | None = None) -> int:
    """Turn due schedules into occurrences and deliveries, one small batch in one short
    transaction; returns schedules handled."""
    limit = limit or current_app.config["REMINDER_BATCH_SIZE"]
    if _postgres():
        _lock_timeout()
    else:
        _take_sqlite_write_lock()
    query = (
        select(ReminderSchedule)
        .where(ReminderSchedule.wake_at <= now)
        .order_by(ReminderSchedule.wake_at)
        .limit(limit)
    )
    if _postgres():
        query = query.with_for_update(skip_locked=True)
    schedules = list(db.session.scalars(query))
    if not schedules:
        db.session.commit()
        return 0
    user_ids = [s.user_id for s in schedules]
    inputs = service.inputs_for(user_ids)
    devices = service._subscriptions_of(user_ids)
    # each schedule's window starts where its last pass ended (two days back at most)
    starts = {s.id: max(s.materialised_until, now - LOOKBACK) for s in schedules}
    made = service.made_since(user_ids, min(starts.values()) - sched.TAKEN_LOOKBACK)
    recheck = current_app.config["REMINDER_RECHECK_SECONDS"]
    occurrence_rows, sendable = [], {}
    for schedule in schedules:
        rules = service.rules_for(schedule.user_id, schedule.settings, schedule.timezone)
        context = inputs[schedule.user_id]
        before, start = made[schedule.user_id], starts[schedule.id]
        missed = sched.occurrences(rules, start, now, taken=before.slots, **context)
        send, skip = sched.after_downtime(missed, now)
        # the nudges that came due, of asks made before this pass; one whose ask's
        # window ended meanwhile (downtime) is not worth sending, nor recording
        nudges = [
            n
            for n in sched.nudges(before.asks, rules, before.slots, context["measures"])
            if start < n.fire_at <= now <= n.expires_at
        ]
        for occ in skip:
            occurrence_rows.append(_row(schedule, occ, True, now))
        for occ in send + nudges:
            occurrence_rows.append(_row(schedule, occ, False, now))
            sendable[occurrence_rows[-1]["id"]] = occurrence_rows[-1]
        schedule.materialised_until = now
        service.refresh(
            schedule, rules, now, recheck, before.adding(send + skip + nudges, send), context
        )
    asked = []
    if occurrence_rows:
        inserted = set(
            db.session.execute(
                _insert(ReminderOccurrence)
                .values(occurrence_rows)
                .on_conflict_do_nothing(index_elements=["user_id", "slot"])
                .returning(ReminderOccurrence.id)
            ).scalars()
        )
        # a slot made before (another worker, a rerun) is done
        made = [row for row_id, row in sendable.items() if row_id in inserted]
        deliveries = [
            {
                "id": uuid.uuid4(),
                "occurrence_id": row["id"],
                "subscription_id": sub_id,
                "user_id": row["user_id"],
                "kind": row["kind"],
                "status": PENDING,
                "attempts": 0,
                "next_attempt_at": now,
                "expires_at": row["expires_at"],
                "created_at": now,
            }
            for row in made
            for sub_id in devices.get(row["user_id"], [])
        ]
        if deliveries:
            db.session.execute(
                _insert(PushDelivery)
                .values(deliveries)
                .on_conflict_do_nothing(index_elements=["occurrence_id", "subscription_id"])
            )
        asked = [
            row
            for row in made
            if row["kind"] == sched.MEASURE and not sched.is_follow_up(row["slot"])
        ]
    db.session.commit()
    if asked:
        mark_asked(asked)
    return len(schedules)


def mark_asked(asks: list[dict]) -> None:
    """Write each measurement plan's latest ask onto the plan, so the patient's devices
    pull "due until …" (or, after it, "missed") without the schedule.

    A transaction of its own, after the occurrences' commit: it takes each patient's
    change counter (server/sync/clock.py), which a sync push or a session change takes
    before it wakes that patient's schedule; holding the schedule's lock meanwhile could
    deadlock with them. Counters in patient order, so two workers queue rather than
    deadlock. A crash between the two leaves the plan showing the ask before until its
    next one; the ask itself went. The plan's version is not touched: a therapist's
    edit from the version they read still applies."""
    _lock_timeout()
    for ask in sorted(asks, key=lambda row: (str(row["user_id"]), row["fire_at"])):
        db.session.execute(
            update(Assignment)
            .where(
                Assignment.id == ask["ref_id"],
                Assignment.patient_id == ask["user_id"],
                or_(Assignment.last_asked_at.is_(None), Assignment.last_asked_at < ask["fire_at"]),
            )
            .values(
                last_asked_at=ask["fire_at"],
                window_ends_at=ask["expires_at"],
                change_seq=clock.next_seq(ask["user_id"]),
            )
        )
    db.session.commit()


# -- claim -------------------------------------------------------------------------------


@dataclass
class Claim:
    token: uuid.UUID
    lease_until: datetime
    messages: list[Message] = field(default_factory=list)
    attempts: dict = field(default_factory=dict)  # delivery id -> attempts so far
    orphans: list[uuid.UUID] = field(default_factory=list)  # device gone meanwhile
    subscriptions: dict = field(default_factory=dict)  # delivery id -> subscription id

    def __len__(self) -> int:
        return len(self.messages) + len(self.orphans)


def claim(now: datetime, limit: int, lease_seconds: float, ids=None) -> Claim | None:
    """Lease up to `limit` due deliveries to this worker, in one short transaction."""
    token = uuid.uuid4()
    lease_until = now + timedelta(seconds=lease_seconds)
    _lock_timeout()
    due = and_(PushDelivery.status == PENDING, PushDelivery.next_attempt_at <= now)
    if ids is not None:
        due = and_(due, PushDelivery.id.in_(ids))
    pick = select(PushDelivery.id).where(due).order_by(PushDelivery.next_attempt_at).limit(limit)
    lease = dict(
        status=LEASED,
        lease_token=token,
        lease_until=lease_until,
        attempts=PushDelivery.attempts + 1,
    )
    if _postgres():
        picked = list(db.session.scalars(pick.with_for_update(skip_locked=True)))
        if picked:
            db.session.execute(
                update(PushDelivery).where(PushDelivery.id.in_(picked)).values(**lease)
            )
    else:
        # one statement: SQLite runs it under its single write lock, so no two workers
        # can pick the same row
        picked = list(
            db.session.scalars(
                update(PushDelivery)
                .where(PushDelivery.id.in_(pick.scalar_subquery()), due)
                .values(**lease)
                .returning(PushDelivery.id)
            )
        )
    if not picked:
        db.session.commit()
        return None
    rows = db.session.execute(
        select(
            PushDelivery.id,
            PushDelivery.kind,
            PushDelivery.attempts,
            PushDelivery.expires_at,
            PushDelivery.subscription_id,
            PushSubscription.endpoint,
            PushSubscription.p256dh,
            PushSubscription.auth,
            ReminderOccurrence.ref_id,
            ReminderOccurrence.slot,
            PushDelivery.user_id,
            Assignment.instrument,
            User.locale,  # the words are in the recipient's language
        )
        .join(ReminderOccurrence, ReminderOccurrence.id == PushDelivery.occurrence_id)
        .join(User, User.id == PushDelivery.user_id)
        .outerjoin(PushSubscription, PushSubscription.id == PushDelivery.subscription_id)
        # a measurement plan's ask links to its instrument's check-in
        .outerjoin(
            Assignment,
            and_(
                ReminderOccurrence.kind == sched.MEASURE,
                Assignment.id == ReminderOccurrence.ref_id,
            ),
        )
        # by primary key: lease_token has no index, and a scan for it per batch grows
        # with every delivery ever kept
        .where(PushDelivery.id.in_(picked))
    ).all()
    answered = _answered_follow_ups(rows)
    if answered:
        db.session.execute(
            update(PushDelivery)
            .where(PushDelivery.id.in_(answered), PushDelivery.lease_token == token)
            .values(status=EXPIRED, error="answered before it was due", **_RELEASED)
        )
    db.session.commit()
    batch = Claim(token, lease_until)
    secret = current_app.config["SECRET_KEY"].encode()  # once per batch, not per message
    urgency = sched.URGENCY
    for row in rows:
        delivery_id, kind, attempts, expires_at, sub_id, endpoint, p256dh, auth, ref = row[:9]
        if delivery_id in answered:
            continue
        batch.attempts[delivery_id] = attempts
        if endpoint is None:
            batch.orphans.append(delivery_id)
            continue
        batch.subscriptions[delivery_id] = sub_id
        batch.messages.append(
            Message(
                key=delivery_id,
                endpoint=endpoint,
                p256dh=p256dh,
                auth=auth,
                payload=_compact_json(
                    service.message_for(kind, delivery_id, ref, row.instrument, row.locale)
                ).encode(),
                ttl=sched.ttl_seconds(expires_at, now),
                urgency=urgency[kind],
                topic=topic_for(sub_id, kind, secret),
            )
        )
    return batch


def _answered_follow_ups(rows) -> set:
    """The nudges and "Later" re-sends among claimed rows whose check-in was answered
    (complete, of the ask's instrument) since their ask went: two statements, and only
    for a batch that holds any."""
    follow_ups = [row for row in rows if sched.is_follow_up(row.slot)]
    if not follow_ups:
        return set()
    asks = {(row.user_id, sched.base_slot(row.slot)) for row in follow_ups}
    fired = {
        (user_id, slot): fire_at
        for user_id, slot, fire_at in db.session.execute(
            select(
                ReminderOccurrence.user_id, ReminderOccurrence.slot, ReminderOccurrence.fire_at
            ).where(tuple_(ReminderOccurrence.user_id, ReminderOccurrence.slot).in_(asks))
        )
    }
    if not fired:
        return set()
    answers: dict[tuple, list[datetime]] = {}
    for patient_id, instrument, answered_at in db.session.execute(
        select(CheckIn.patient_id, CheckIn.instrument, CheckIn.answered_at).where(
            CheckIn.patient_id.in_({user_id for user_id, _ in asks}),
            CheckIn.complete.is_(True),
            CheckIn.deleted.is_(False),
            CheckIn.answered_at >= min(fired.values()),
        )
    ):
        answers.setdefault((patient_id, instrument), []).append(answered_at)
    found = set()
    for row in follow_ups:
        since = fired.get((row.user_id, sched.base_slot(row.slot)))
        instrument = row.instrument or sched.INSTRUMENT_OF.get(row.kind)
        if since is not None and any(
            at >= since for at in answers.get((row.user_id, str(instrument)), ())
        ):
            found.add(row.id)
    return found


# -- complete ----------------------------------------------------------------------------


# what recording an outcome clears: the row is no longer leased by anyone
_RELEASED = {"lease_token": None, "lease_until": None}


def _held_by(batch: Claim, now: datetime) -> tuple:
    """The fence: rows this claim still leases (not taken over by another worker)."""
    c = PushDelivery.__table__.c
    return (c.lease_token == batch.token, c.status == LEASED, c.lease_until > now)


def _fenced(batch: Claim, ids, now: datetime):
    return update(PushDelivery).where(PushDelivery.id.in_(ids), *_held_by(batch, now))


def _each(batch: Claim, now: datetime, rows: list[dict], **values) -> int:
    """One fenced UPDATE run for many rows (executemany), each row with its own id, code
    and error; returns the rows changed."""
    table = PushDelivery.__table__
    statement = (
        update(table)
        .where(table.c.id == bindparam("b_id"), *_held_by(batch, now))
        .values(status_code=bindparam("b_code"), error=bindparam("b_error"), **_RELEASED, **values)
    )
    return db.session.execute(statement, rows).rowcount


def backoff(attempts: int, base: float, cap: float, rng=random) -> float:
    """Exponential backoff with full jitter on the upper half."""
    ceiling = min(cap, base * 2 ** max(0, attempts - 1))
    return ceiling / 2 + rng.random() * ceiling / 2


def complete(batch: Claim, outcomes: list[Outcome], now: datetime | None = None) -> Counter:
    """Record what happened, for rows this claim still holds; returns counts."""
    now = now or utcnow()
    config = current_app.config
    counts: Counter = Counter()
    by_result: dict[str, list[Outcome]] = {}
    for outcome in outcomes:
        by_result.setdefault(outcome.result, []).append(outcome)
    sent = [o.key for o in by_result.get(OUT_SENT, [])]
    if sent:
        counts["sent"] += db.session.execute(
            _fenced(batch, sent, now).values(status=SENT, sent_at=now, status_code=201, **_RELEASED)
        ).rowcount
    codes = {o.key: o.status_code for o in by_result.get(OUT_GONE, [])}  # 404 or 410
    gone = list(codes) + batch.orphans
    if gone:
        # each keeps the code its push service gave; a device deleted meanwhile has none
        code = case(*((PushDelivery.id == k, c) for k, c in codes.items())) if codes else None
        changed = list(
            db.session.scalars(
                _fenced(batch, gone, now)
                .values(status=GONE, status_code=code, error="subscription gone", **_RELEASED)
                .returning(PushDelivery.subscription_id)
            )
        )
        counts["gone"] += len(changed)
        dead = {s for s in changed if s is not None}
        if dead:  # that device only; the person's other devices keep theirs
            for sub in db.session.scalars(
                select(PushSubscription).where(PushSubscription.id.in_(dead))
            ):
                db.session.delete(sub)
    # the rest, each with values of its own: one executemany per final status, so a
    # batch that a push service refused whole costs two statements, not one per row
    failed_rows, retry_rows = [], []
    for outcome in by_result.get(OUT_FAILED, []):
        failed_rows.append(
            {"b_id": outcome.key, "b_code": outcome.status_code, "b_error": outcome.error}
        )
    for outcome in by_result.get("retry", []):
        attempts = batch.attempts.get(outcome.key, 1)
        if attempts >= config["PUSH_MAX_ATTEMPTS"]:
            failed_rows.append(
                {
                    "b_id": outcome.key,
                    "b_code": outcome.status_code,
                    "b_error": f"gave up after {attempts}: {outcome.error}",
                }
            )
            continue
        wait = outcome.retry_after or backoff(
            attempts, config["PUSH_RETRY_BASE_SECONDS"], config["PUSH_RETRY_MAX_SECONDS"]
        )
        retry_rows.append(
            {
                "b_id": outcome.key,
                "b_code": outcome.status_code,
                "b_error": outcome.error,
                "b_next": now + timedelta(seconds=wait),
            }
        )
    if failed_rows:
        counts["failed"] += _each(batch, now, failed_rows, status=FAILED)
    if retry_rows:
        counts["retry"] += _each(
            batch, now, retry_rows, status=PENDING, next_attempt_at=bindparam("b_next")
        )
    db.session.commit()
    counts["fenced_out"] = len(batch) - sum(counts.values())
    if counts["fenced_out"]:
        log.warning("%d completions fenced out: their lease had run out", counts["fenced_out"])
    return counts


# -- passes ------------------------------------------------------------------------------


def deliver(sender: Sender, ids=None, now: datetime | None = None) -> Counter:
    """Claim one batch, send it, complete it."""
    config = current_app.config
    now = now or utcnow()
    batch = claim(now, config["PUSH_BATCH_SIZE"], config["PUSH_LEASE_SECONDS"], ids)
    if batch is None:
        return Counter()
    outcomes = sender.send(batch.messages)
    counts = complete(batch, outcomes)
    counts["claimed"] = len(batch)
    return counts


def run_pass(sender: Sender, now: datetime | None = None, stop=None) -> Counter:
    """Everything due now: reap, materialise, then claim and send until none is left."""
    totals: Counter = Counter()
    bound_connections(db.engine, current_app.config)
    reap(now or utcnow())
    while not (stop and stop.is_set()):
        handled = materialise(now or utcnow())
        if not handled:
            break
        totals["schedules"] += handled
    while not (stop and stop.is_set()):
        counts = deliver(sender, now=now)
        if not counts:
            break
        totals.update(counts)
    if not (stop and stop.is_set()):
        # other work due outside a request rides on this pass (alerts: the flag mails)
        for counts in events.send(events.worker_pass):
            totals.update({kind: n for kind, n in counts.items() if n})
    if totals.get("claimed"):
        log.info(
            "sent %d, retry %d, gone %d, failed %d",
            totals["sent"],
            totals["retry"],
            totals["gone"],
            totals["failed"],
        )
    return totals


def run(sender: Sender, stop: threading.Event, interval: float) -> None:
    """Passes until `stop` is set; a pass in flight finishes its batch first."""
    while not stop.is_set():
        try:
            run_pass(sender, stop=stop)
        except OperationalError as exc:
            # a database restart, a lock waited for too long, or this process frozen
            # past the idle timeout (the server ended its transaction): nothing of the
            # batch was kept, and the next pass (of any worker) takes it again
            first_line = (str(exc.orig).strip().splitlines() or [""])[0]
            log.warning("reminder pass stopped: %s: %s", type(exc.orig).__name__, first_line)
            db.session.rollback()
        except Exception:
            log.exception("reminder pass failed")
            db.session.rollback()
        finally:
            db.session.remove()
        stop.wait(interval)
