"""The sync protocol: pull changes after a cursor, push a batch of operations.

Rules that keep every word (../shared/DESIGN.md, "Offline and sync"):
- each op's first result is kept by (patient, op_id); a replay returns it, changes nothing;
- a batch runs under the patient's change lock, each op in its own savepoint, so one
  refused op never undoes the others, and an op that fails in any way is that op's
  `rejected`, never the batch's 500 (a phone's outbox must never wedge);
- the cursor is the patient's change counter, advanced under that lock;
- one rule for every type: whenever the server keeps something other than exactly what
  the device sent on top of what it had seen (a conflict, an edit merged into a newer
  version, a no-op at a newer version, a replay of an op whose object has moved on), the
  protocol re-stamps the object so its server copy travels back on the device's next
  pull, and an `applied` answer that the device must not build on says `behind`.
"""

from __future__ import annotations

import logging
import uuid

from flask_babel import gettext as _
from marshmallow import ValidationError
from sqlalchemy import BigInteger, Integer, Uuid, bindparam, literal, select, true, union_all
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from server.auth.models import User
from server.extensions import db
from server.sync import clock
from server.sync.models import SyncClock, SyncOp
from server.sync.registry import (
    ABSENT,
    APPLIED,
    BATCHED,
    CONFLICT,
    REGISTRY,
    REJECTED,
    UNUSABLE_ID,
    Deferred,
    Push,
    SyncedType,
    flush,
    lookup,
    result,
    tombstone,
)

log = logging.getLogger(__name__)


def _database_away(exc: Exception) -> bool:
    """Is this the database gone (the whole request is a 503), not one op's failure?"""
    return isinstance(exc, DBAPIError) and (
        exc.connection_invalidated or isinstance(exc, OperationalError | InterfaceError)
    )


def _run(actor: User, op: dict, last_chance: bool) -> dict:
    """One op, as every type shares it: its object found, an id that is not the patient's
    to use refused (their object untouched), then the delete or the type's upsert."""
    synced = REGISTRY[op["type"]]
    obj = lookup(synced.model, op["id"])  # loaded once: by the batch, or by _push_locked
    if (obj is not None and obj.patient_id != actor.id) or (
        synced.only_id is not None and op["id"] != synced.only_id(actor)
    ):
        return result(REJECTED, synced.name, op["id"], errors={"id": [UNUSABLE_ID]})
    if synced.read_only is not None:
        return result(REJECTED, synced.name, op["id"], errors={"type": [synced.read_only]})
    if op["action"] == "delete":
        return _delete(actor, synced, op, obj)
    try:
        fields = synced.load(op["data"])
    except ValidationError as exc:
        return result(REJECTED, synced.name, op["id"], errors={"data": exc.messages})
    push = Push(synced.name, actor, op["id"], op["base_version"], fields, op["op_id"], last_chance)
    if obj is not None:
        return synced.merge(push, obj)
    missing = [key for key in synced.required if key not in fields]
    if missing:
        return push.rejected(
            {"data": {key: [_("Missing data for required field.")] for key in missing}}
        )
    return synced.create(push)


def _delete(actor: User, synced: SyncedType, op: dict, obj) -> dict:
    """A pushed delete. One from a stale version keeps the newer copy, which the protocol
    sends back to the device; an unknown or deleted id is already as the device wants."""
    if synced.undeletable is not None:
        return result(REJECTED, synced.name, op["id"], errors={"action": [synced.undeletable]})
    if obj is None:
        return result(APPLIED, synced.name, op["id"], None)
    if not obj.deleted:
        if synced.stale_delete_conflicts and op["base_version"] != obj.version:
            return result(CONFLICT, synced.name, obj.id, obj.version)
        tombstone(synced, actor, obj)
        flush()
    return result(APPLIED, synced.name, obj.id, obj.version)


def _apply(actor: User, op: dict, last_chance: bool, batched: bool) -> dict:
    if batched:  # any failure is the batch's: it is replayed op by op (push, below)
        return _run(actor, op, last_chance)
    try:
        with db.session.begin_nested():  # a refused or deferred op leaves no trace
            return _run(actor, op, last_chance)
    except Deferred:
        raise
    except DBAPIError as exc:
        if _database_away(exc):
            raise  # the database is away: the whole request is a 503, and nothing is kept
        log.warning("sync op refused by the database: %s", type(exc.orig).__name__)
    except Exception as exc:  # one op's failure is that op's answer, not the batch's 500
        log.exception("sync op failed: %s", type(exc).__name__)
    return result(
        REJECTED, op["type"], op["id"], errors={"data": [_("This change could not be stored.")]}
    )


def _owned(actor: User, op: dict):
    obj = lookup(REGISTRY[op["type"]].model, op["id"])
    return obj if obj is not None and obj.patient_id == actor.id else None


def _held_exactly(op: dict, outcome: dict, version_before: int | None) -> bool:
    """Does the device now hold exactly the server's copy: its op applied as sent, on top
    of the very version it had seen (or it deleted what the server also deleted)?
    Otherwise the server keeps something the device has not seen. A refusal is neither:
    the device keeps its words and shows "Needs your attention"."""
    status = outcome.get("status")
    if status == REJECTED:
        return True
    if status != APPLIED or outcome.get("behind"):
        return False
    if op["action"] == "delete":
        return True
    # new to the server, or applied on the version it started from; a stale op that
    # applied (a move, or a change another device had made too) is behind, whatever
    # version number it happens to answer
    return version_before is None or op["base_version"] == version_before


def _send_back(actor: User, op: dict) -> None:
    """The protocol's half of the one conflict rule: re-stamp the object, so its server
    copy reaches the device's next pull."""
    obj = _owned(actor, op)
    if obj is not None:
        clock.stamp(obj)


def _settled(actor: User, op: dict, outcome: dict, version_before: int | None) -> dict:
    if _held_exactly(op, outcome, version_before):
        return outcome
    _send_back(actor, op)
    if outcome["status"] == APPLIED:
        # applied, but on top of changes this device has not pulled: it must not take
        # this version as the one it holds, or its next edit would overwrite them
        return {**outcome, "behind": True}
    return outcome


def _replayed(actor: User, op: dict, done: SyncOp) -> dict:
    """A replay answers its first result. The device that lost the first answer may have
    skipped the object's later changes while the op was unanswered, so its copy is sent
    back again whenever that answer was not a clean apply or the object has moved on."""
    first = done.result
    obj = _owned(actor, op)
    if (
        obj is not None
        and first.get("status") != REJECTED
        and (
            first.get("status") != APPLIED
            or first.get("behind")
            or obj.version != first.get("version")
        )
    ):
        clock.stamp(obj)
    return first


def _malformed(op: dict) -> dict:
    """The answer to an op the schema could not load: its own ids echoed back where they
    are well formed, so the device can tell which of its ops it was."""
    raw = op["raw"] if isinstance(op["raw"], dict) else {}

    def echo(key: str) -> str | None:
        value = raw.get(key)
        if key == "type":
            return value if isinstance(value, str) and value in REGISTRY else None
        try:
            return str(uuid.UUID(value)) if isinstance(value, str) else None
        except ValueError:
            return None

    return {
        "op_id": echo("op_id"),
        "status": REJECTED,
        "type": echo("type"),
        "id": echo("id"),
        "version": None,
        "errors": op["invalid"],
    }


class _Replay(Exception):
    """A batched push met something only the op-by-op path handles."""


def push(actor: User, ops: list[dict]) -> list[dict]:
    """Apply a batch of pushed operations in order; one result per op, in op order.

    First batched: the objects of every op looked up in one query per type, the writes
    of all ops sent together at the end, no savepoint per op. If anything fails there (an
    op raises, waits for a later one, or the database refuses a write), the transaction
    rolls back, which also releases the change lock, and the batch runs again op by op,
    each op in its own savepoint, exactly as if the batched try had not happened: the
    lock is taken again and the log read again, so a replay that slipped in meanwhile
    is answered as a replay.
    """
    try:
        return _push(actor, ops, batched=True)
    except _Replay:
        db.session.rollback()
        return _push(actor, ops, batched=False)


def _push(actor: User, ops: list[dict], batched: bool) -> list[dict]:
    # first: a concurrent replay of this batch waits, then sees our log; a number for
    # each op, so that their stamps cost no statement of their own
    clock.lock(actor.id, reserve=max(len(ops), 1))
    info = db.session.info
    info[BATCHED] = batched
    try:
        results = _push_locked(actor, ops, batched)
        if batched:
            db.session.flush()  # every op's writes, each table in one statement
        return results
    except Exception as exc:
        if not batched or _database_away(exc):
            raise
        if not isinstance(exc, Deferred):
            log.info("batched push replayed op by op: %s", type(exc).__name__)
        raise _Replay from exc
    finally:
        info.pop(BATCHED, None)
        info.pop(ABSENT, None)


def _preload(ops: list[dict]) -> set:
    """Look up the objects of a batch's ops, one query per type: the ones that exist are
    in the session for the ops to find, the ones that do not are returned."""
    ids_by_type: dict[str, set] = {}
    for op in ops:
        ids_by_type.setdefault(op["type"], set()).add(op["id"])
    absent = set()
    for name, ids in ids_by_type.items():
        synced = REGISTRY[name]
        found = db.session.scalars(
            select(synced.model).where(synced.model.id.in_(ids)).options(*synced.load_options)
        ).all()
        absent |= {(synced.model, i) for i in ids - {obj.id for obj in found}}
    return absent


def _push_locked(actor: User, ops: list[dict], batched: bool) -> list[dict]:
    results: list[dict] = [{} for _ in ops]
    # an op that is not even well formed is refused alone (never logged: it may have no
    # usable op_id; a resend is refused the same way)
    for index, op in enumerate(ops):
        if "invalid" in op:
            results[index] = _malformed(op)
    well_formed = [i for i, op in enumerate(ops) if "invalid" not in op]
    # the batch's replays, found in one query (under the lock: no one adds to it meanwhile)
    logged = {
        done.op_id: done
        for done in db.session.scalars(
            select(SyncOp).where(
                SyncOp.patient_id == actor.id,
                SyncOp.op_id.in_({ops[i]["op_id"] for i in well_formed}),
            )
        )
    }
    if batched:
        db.session.info[ABSENT] = _preload([ops[i] for i in well_formed])
    pending = well_formed
    last_chance = False
    # Ops waiting for objects later in the batch go round again, in order, while any
    # progress is made; then they get one last chance to decide for good.
    while pending:
        deferred = []
        for index in pending:
            op = ops[index]
            done = logged.get(op["op_id"])  # a replay, from before or earlier in this batch
            if done is not None:
                results[index] = {"op_id": str(op["op_id"]), **_replayed(actor, op, done)}
                continue
            before = _owned(actor, op)  # loaded once: the type's own lookup reuses it
            version_before = None if before is None else before.version
            try:
                outcome = _apply(actor, op, last_chance, batched)
            except Deferred:
                if batched:
                    raise
                if not last_chance:
                    deferred.append(index)
                    continue
                outcome = result(
                    REJECTED,
                    op["type"],
                    op["id"],
                    errors={"data": [_("Refers to something that does not exist.")]},
                )
            # from here on the op's object may exist: its id is looked up again
            db.session.info.get(ABSENT, set()).discard((REGISTRY[op["type"]].model, op["id"]))
            outcome = _settled(actor, op, outcome, version_before)
            logged[op["op_id"]] = SyncOp(patient_id=actor.id, op_id=op["op_id"], result=outcome)
            db.session.add(logged[op["op_id"]])
            results[index] = {"op_id": str(op["op_id"]), **outcome}
        if last_chance:
            break
        last_chance = bool(deferred) and len(deferred) == len(pending)
        pending = deferred
    return results


# Statements built once, with bound parameters: building a SQLAlchemy statement costs
# more CPU than the database spends answering these (bench/load.py).
_STATEMENTS: dict = {}


def _probe(types: tuple[SyncedType, ...]):
    """The patient's counter (`head`) and the numbers and types of a page, in one
    statement: the first `limit` changes of each type after `since` up to the counter,
    merged, the first `limit` of those. One row with no number when nothing is new; no
    row at all when the patient has no counter yet.

    The counter is read in the same statement as the rows, so from the same snapshot:
    every change numbered up to it has committed (they commit in counter order), and a
    batch that commits meanwhile is either wholly in this cut or wholly after it."""
    key = ("probe", tuple((t.name, t.model) for t in types))
    if key not in _STATEMENTS:
        patient = bindparam("patient", type_=Uuid())
        clock_c = SyncClock.__table__.c
        head = select(clock_c.counter).where(clock_c.patient_id == patient)
        # table columns, not mapped attributes: a Core statement, answered in plain rows
        tables = [t.model.__table__.c for t in types]
        legs = [
            select(literal(i, Integer).label("kind"), c.change_seq.label("seq"))
            .where(
                c.patient_id == patient,
                c.change_seq > bindparam("since", type_=BigInteger()),
                c.change_seq <= head.scalar_subquery(),
            )
            .order_by(c.change_seq)
            .limit(bindparam("limit", type_=Integer()))
            .subquery()
            for i, c in enumerate(tables)
        ]
        merged = union_all(*(select(leg.c.kind, leg.c.seq) for leg in legs)).subquery()
        page = (
            select(merged.c.kind, merged.c.seq)
            .order_by(merged.c.seq)
            .limit(bindparam("limit", type_=Integer()))
            .subquery()
        )
        clock_row = (
            select(clock_c.counter.label("head")).where(clock_c.patient_id == patient).subquery()
        )
        _STATEMENTS[key] = (
            select(clock_row.c.head, page.c.kind, page.c.seq)
            .select_from(clock_row.outerjoin(page, true()))
            .order_by(page.c.seq)
        )
    return _STATEMENTS[key]


def _page_of(synced: SyncedType):
    """One type's rows numbered after `since` up to `end`: Core rows where the type says
    how to select them, ORM objects otherwise."""
    key = ("page", synced.name, synced.model)
    if key not in _STATEMENTS:
        model = synced.model
        if synced.page_select is not None:
            columns = model.__table__.c
            stmt = synced.page_select()
        else:
            columns = model
            stmt = select(model).options(*synced.load_options)
        _STATEMENTS[key] = stmt.where(
            columns.patient_id == bindparam("patient", type_=Uuid()),
            columns.change_seq > bindparam("since", type_=BigInteger()),
            columns.change_seq <= bindparam("end", type_=BigInteger()),
        )
    return _STATEMENTS[key]


def changes(actor: User, since: int, limit: int) -> dict:
    """Every change to my synced objects after `since`, oldest first.

    One probe reads the counter and finds the numbers (and types) of the page; then only
    the types on it are loaded, each by the page's range of numbers, bounded by the
    counter that probe read: one consistent cut even when a batch touching several types
    commits between this pull's statements. A phone with nothing new costs one statement,
    with two new entries two, not one per synced type.
    """
    types = tuple(REGISTRY.values())
    params = {"patient": actor.id, "since": since, "limit": limit + 1}
    probed = db.session.connection().execute(_probe(types), params).all()
    head = probed[0].head if probed else 0
    numbered = [row for row in probed if row.seq is not None]
    if head <= since:  # nothing new: the common case for a phone checking in
        return {"changes": [], "cursor": str(since), "has_more": False}
    page = numbered[:limit]
    if not page:  # the counter moved, but nothing of mine is numbered in between
        return {"changes": [], "cursor": str(head), "has_more": False}
    end = page[-1].seq
    found = []
    for i in sorted({row.kind for row in page}):
        synced = types[i]
        params = {"patient": actor.id, "since": since, "end": end}
        if synced.page_select is not None:  # Core: on the session's connection, no ORM
            rows = db.session.connection().execute(_page_of(synced), params).all()
        else:
            rows = db.session.scalars(_page_of(synced), params).all()
        found.extend((row.change_seq, synced, row) for row in rows)
    found.sort(key=lambda item: item[0])
    return {
        "changes": [
            {
                "type": synced.name,
                "id": str(row.id),
                "version": row.version,
                "deleted": row.deleted,
                "data": None if row.deleted else data,
            }
            for (_, synced, row), data in zip(found, _serialized(found), strict=True)
        ],
        "cursor": str(end),
        "has_more": len(numbered) > limit,
    }


def _serialized(found: list) -> list:
    """Each live row's data, a type's rows serialised together (one query for what they
    need, such as check-ins' flags, rather than one per row)."""
    out: dict[int, dict] = {}
    by_type: dict[str, list] = {}
    for _op, synced, row in found:
        if not row.deleted:
            by_type.setdefault(synced.name, []).append(row)
    for name, rows in by_type.items():
        for row, data in zip(rows, REGISTRY[name].serialize_many(rows), strict=True):
            out[id(row)] = data
    return [out.get(id(row)) for _, _, row in found]
