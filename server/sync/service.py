"""The sync protocol: pull changes after a cursor, push a batch of operations.

Rules that keep every word (../shared/DESIGN.md, "Offline and sync"):
- each op's first result is kept by (patient, op_id); a replay returns it, changes nothing;
- a batch runs under the patient's change lock, each op in its own savepoint, so one
  refused op never undoes the others;
- the cursor is the patient's change counter, advanced under that lock.
"""

from __future__ import annotations

from sqlalchemy import select

from server.auth.models import User
from server.extensions import db
from server.sync import clock
from server.sync.models import SyncOp
from server.sync.registry import REGISTRY, REJECTED, Deferred, result


def _apply(actor: User, op: dict, last_chance: bool) -> dict:
    synced = REGISTRY[op["type"]]
    with db.session.begin_nested():  # a refused or deferred op leaves no trace
        if op["action"] == "upsert":
            return synced.upsert(
                actor, op["id"], op["base_version"], op["data"], op["op_id"], last_chance
            )
        return synced.delete(actor, op["id"], op["base_version"])


def push(actor: User, ops: list[dict]) -> list[dict]:
    """Apply a batch of pushed operations in order; one result per op, in op order."""
    clock.lock(actor.id)  # first: a concurrent replay of this batch waits, then sees our log
    results: list[dict] = [{} for _ in ops]
    pending = list(range(len(ops)))
    last_chance = False
    # Ops waiting for objects later in the batch go round again, in order, while any
    # progress is made; then they get one last chance to decide for good.
    while pending:
        deferred = []
        for index in pending:
            op = ops[index]
            done = db.session.get(SyncOp, (actor.id, op["op_id"]))  # a replay
            if done is not None:
                results[index] = {"op_id": str(op["op_id"]), **done.result}
                continue
            try:
                outcome = _apply(actor, op, last_chance)
            except Deferred:
                if not last_chance:
                    deferred.append(index)
                    continue
                outcome = result(
                    REJECTED,
                    op["type"],
                    op["id"],
                    errors={"data": ["Refers to something that does not exist."]},
                )
            db.session.add(SyncOp(patient_id=actor.id, op_id=op["op_id"], result=outcome))
            db.session.flush()
            results[index] = {"op_id": str(op["op_id"]), **outcome}
        if last_chance:
            break
        last_chance = bool(deferred) and len(deferred) == len(pending)
        pending = deferred
    return results


def changes(actor: User, since: int, limit: int) -> dict:
    """Every change to my synced objects after `since`, oldest first.

    The counter is read first: every change numbered up to it has committed (they commit
    in counter order), so bounding each type's query by it gives one consistent cut even
    when a batch touching several types commits between those queries.
    """
    head = clock.current(actor.id)
    if head <= since:  # nothing new: the common case for a phone checking in
        return {"changes": [], "cursor": str(since), "has_more": False}
    found = []
    for synced in REGISTRY.values():
        model = synced.model
        rows = db.session.scalars(
            select(model)
            .where(
                model.patient_id == actor.id,
                model.change_seq > since,
                model.change_seq <= head,
            )
            .options(*synced.load_options)
            .order_by(model.change_seq)
            .limit(limit + 1)
        )
        found.extend((row.change_seq, synced, row) for row in rows)
    found.sort(key=lambda item: item[0])
    page = found[:limit]
    return {
        "changes": [
            {
                "type": synced.name,
                "id": str(row.id),
                "version": row.version,
                "deleted": row.deleted,
                "data": None if row.deleted else synced.serialize(row),
            }
            for _, synced, row in page
        ],
        "cursor": str(page[-1][0] if page else max(since, 0)),
        "has_more": len(found) > limit,
    }
