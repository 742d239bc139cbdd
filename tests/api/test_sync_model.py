"""The sync protocol against a model of the store: devices push, lose answers, replay, pull.

A few devices of one patient write journal entries offline and push them. Some answers
are lost on the way back, so the device keeps those ops and pushes them again later;
earlier ops are also replayed on their own, shuffled, repeated. A small in-test model of
the store (per entry: version, body, title, deleted, conflict_of; and the first result
of every op) predicts every push result. After each step the server's whole feed, its
journal list and its log of ops must equal the model, and a device that pulls must get
exactly the entries that changed since its last pull and end up with the server's state.

Entries are named e1, e2... in failure reports; the conflict copy made by op 7 is c7.
"""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass, field

from argon2 import PasswordHasher
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func, select

from server.auth import passwords
from server.extensions import db
from server.journal.service import CONFLICT_NAMESPACE
from server.sync.models import SyncOp
from tests.factories import make_actor

PUSH = "/api/v1/sync/push"
CHANGES = "/api/v1/sync/changes"
ENTRIES = "/api/v1/journal/entries"
TYPE = "journal_entry"

DEVICES = 3
BODIES = ["a", "b", "c"]  # few, so that two devices often write the same thing
TITLES = ["", "T"]
edit_data = st.fixed_dictionaries(
    {},
    optional={
        "body": st.sampled_from(BODIES),
        "title": st.sampled_from(TITLES),
        # null only: the patient keeps a conflict copy as an entry of its own
        "conflict_of": st.none(),
    },
)
# after writing, a device stays offline, pushes, or pushes and never hears the answer
THEN = st.sampled_from(["offline", "push", "lost"])


class Op:
    """One pushed operation; short to read in a failing sequence."""

    def __init__(self, n: int, name: str, entry_id: str, action: str, base, data: dict):
        self.n, self.name = n, name
        self.wire = {
            "op_id": str(uuid.uuid4()),
            "type": TYPE,
            "id": entry_id,
            "base_version": base,
            "action": action,
            "data": data,
        }

    @property
    def op_id(self) -> str:
        return self.wire["op_id"]

    def __repr__(self) -> str:
        w = self.wire
        return f"op{self.n}:{w['action']}({self.name}, base={w['base_version']}, {w['data']})"


# -- the model ---------------------------------------------------------------------------


@dataclass
class Entry:
    version: int
    body: str
    title: str
    conflict_of: str | None = None
    deleted: bool = False
    seq: int = 0  # when it last changed, in the model's own count of changes

    def view(self) -> dict:
        if self.deleted:
            return {"version": self.version, "deleted": True}
        return {
            "version": self.version,
            "deleted": False,
            "body": self.body,
            "title": self.title,
            "conflict_of": self.conflict_of,
        }


class Store:
    """One patient's entries as the protocol says they should be."""

    def __init__(self):
        self.entries: dict[str, Entry] = {}
        self.results: dict[str, dict] = {}  # op_id -> first result
        self.changes = 0
        self.names: dict[str, str] = {}  # entry id -> e1, c7...

    def _touch(self, entry: Entry) -> None:
        self.changes += 1
        entry.seq = self.changes

    def push(self, ops: list[Op]) -> list[dict]:
        """The result of each op, in order; a replayed op_id gets its first result again
        and changes nothing."""
        out = []
        for op in ops:
            if op.op_id not in self.results:
                apply = self._upsert if op.wire["action"] == "upsert" else self._delete
                status, version, extra = apply(op)
                self.results[op.op_id] = {
                    "op_id": op.op_id,
                    "status": status,
                    "type": TYPE,
                    "id": op.wire["id"],
                    "version": version,
                    **extra,
                }
            out.append(self.results[op.op_id])
        return out

    def _upsert(self, op: Op):
        entry_id, base, data = op.wire["id"], op.wire["base_version"], op.wire["data"]
        entry = self.entries.get(entry_id)
        if entry is None:  # a new id: created at version 1, if it has a body
            if "body" not in data:
                return "rejected", None, {}
            entry = Entry(version=1, body=data["body"], title=data.get("title", ""))
            self.entries[entry_id] = entry
            self._touch(entry)
            return "applied", 1, {}
        if not entry.deleted and base == entry.version:
            for name, value in data.items():
                setattr(entry, name, value)
            entry.version += 1
            self._touch(entry)
            return "applied", entry.version, {}
        # stale, but it would change nothing (another device wrote the same): no copy
        if not entry.deleted and all(getattr(entry, k) == v for k, v in data.items()):
            return "applied", entry.version, {}
        # stale, or an edit of a deleted entry: the server copy stays, the text is kept
        # in a copy that points at it; the server copy is sent back (same version)
        copy_id = str(uuid.uuid5(CONFLICT_NAMESPACE, op.op_id))
        copy = Entry(
            version=1,
            body=data.get("body", entry.body) or "(empty)",
            title=data.get("title", entry.title),
            conflict_of=entry_id,
        )
        self.entries[copy_id] = copy
        self.names[copy_id] = f"c{op.n}"
        self._touch(copy)
        self._touch(entry)
        return "conflict", entry.version, {"conflict_copy_id": copy_id}

    def _delete(self, op: Op):
        entry = self.entries.get(op.wire["id"])
        if entry is None:  # nothing to delete
            return "applied", None, {}
        if entry.deleted:
            return "applied", entry.version, {}
        if op.wire["base_version"] != entry.version:  # stale: the newer text stays, sent back
            self._touch(entry)
            return "conflict", entry.version, {}
        entry.deleted, entry.body, entry.title = True, "", ""
        entry.version += 1
        self._touch(entry)
        return "applied", entry.version, {}

    def view(self) -> dict[str, dict]:
        return {entry_id: entry.view() for entry_id, entry in self.entries.items()}

    def changed_since(self, seen: int) -> list[str]:
        """Ids changed after the model's count `seen`, oldest change first."""
        changed = [(e.seq, i) for i, e in self.entries.items() if e.seq > seen]
        return [i for _, i in sorted(changed)]

    def named(self, value):
        """Ids replaced by names, for failure messages."""
        if isinstance(value, dict):
            return {self.named(k): self.named(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.named(v) for v in value]
        return self.names.get(value, value) if isinstance(value, str) else value


def change_view(change: dict) -> dict:
    """What the model tracks of one change in the feed."""
    assert change["type"] == TYPE
    if change["deleted"]:
        assert change["data"] is None, change
        return {"version": change["version"], "deleted": True}
    data = change["data"]
    assert (data["id"], data["version"], data["deleted"]) == (
        change["id"],
        change["version"],
        False,
    ), change
    return {
        "version": change["version"],
        "deleted": False,
        "body": data["body"],
        "title": data["title"],
        "conflict_of": data["conflict_of"],
    }


# -- the client side ---------------------------------------------------------------------


@dataclass
class Device:
    """A phone of the patient: what it pulled, what it thinks it may edit, its outbox."""

    cursor: str = "0"
    seen: int = 0  # the model's count of changes when this device last pulled
    local: dict = field(default_factory=dict)  # id -> change_view, from pulls only
    known: dict = field(default_factory=dict)  # id -> (version, deleted): next edit's base
    outbox: list = field(default_factory=list)

    def live(self) -> list[str]:
        # in the order the device learnt of them: ids are random, this order is not
        return [i for i, (_, deleted) in self.known.items() if not deleted]

    def learn(self, op: Op, result: dict) -> None:
        """An answer came back: an applied op tells the device the version it made."""
        if result["status"] != "applied" or result["version"] is None:
            return
        current = self.known.get(op.wire["id"])
        if current is None or result["version"] >= current[0]:
            self.known[op.wire["id"]] = (result["version"], op.wire["action"] == "delete")


# -- the machine -------------------------------------------------------------------------


class SyncMachine(RuleBasedStateMachine):
    app = None  # set by the test below

    def __init__(self):
        super().__init__()
        self.patient = make_actor(self.app, "patient")  # a fresh patient per example
        self.store = Store()
        self.devices = [Device() for _ in range(DEVICES)]
        self.sent: list[Op] = []  # every op the server has seen, first push order
        self.sent_ids: set[str] = set()
        self.op_numbers, self.entry_numbers = itertools.count(1), itertools.count(1)
        self.listed_at = -1  # the model's count of changes when the journal list was read

    # -- helpers

    def new_op(self, entry_id: str, action: str, base, data: dict) -> Op:
        name = self.store.names.get(entry_id, entry_id)
        return Op(next(self.op_numbers), name, entry_id, action, base, data)

    def new_entry_id(self) -> str:
        entry_id = str(uuid.uuid4())
        self.store.names[entry_id] = f"e{next(self.entry_numbers)}"
        return entry_id

    def some_device(self, wanted):
        return st.sampled_from([i for i, d in enumerate(self.devices) if wanted(d)])

    def assert_same(self, got: dict, want: dict, what: str) -> None:
        """Server and model agree on these entries; if not, say where, by name."""
        named = self.store.named
        diff = {
            named(i): {"server": named(got.get(i)), "model": named(want.get(i))}
            for i in sorted(set(got) | set(want), key=named)
            if got.get(i) != want.get(i)
        }
        assert not diff, f"{what} differs from the model: {diff}"

    def send(self, ops: list[Op]) -> list[dict]:
        expected = self.store.push(ops)
        response = self.patient.post(PUSH, json={"ops": [op.wire for op in ops]})
        assert response.status_code == 200, response.json
        results = response.json["results"]
        assert len(results) == len(ops)
        for op, want, got in zip(ops, expected, results, strict=True):
            rest = {k: v for k, v in got.items() if k != "errors"}
            named = self.store.named
            assert rest == want, f"{op}: server said {named(got)}, model {named(want)}"
            assert ("errors" in got) == (want["status"] == "rejected"), got
        for op in ops:
            if op.op_id not in self.sent_ids:
                self.sent_ids.add(op.op_id)
                self.sent.append(op)
        return results

    def read_feed(self, since: str, limit: int) -> tuple[list[dict], str]:
        changes, cursor = [], since
        while True:
            response = self.patient.get(f"{CHANGES}?since={cursor}&limit={limit}")
            assert response.status_code == 200, response.json
            page = response.json
            assert len(page["changes"]) <= limit
            if page["has_more"]:
                assert len(page["changes"]) == limit, page
            if page["changes"]:
                assert int(page["cursor"]) > int(cursor), (cursor, page)
            else:  # nothing of mine after it: the cursor may pass numbers naming nothing
                assert int(page["cursor"]) >= int(cursor), (cursor, page)
                assert not page["has_more"], page
            changes += page["changes"]
            cursor = page["cursor"]
            if not page["has_more"]:
                # the model is of journal entries; other synced types are not written here
                return [c for c in changes if c["type"] == TYPE], cursor

    def journal(self) -> dict[str, dict]:
        """GET /journal/entries, every page, as change views by id."""
        listed, cursor = {}, None
        while True:
            url = f"{ENTRIES}?limit=50" + (f"&cursor={cursor}" if cursor else "")
            response = self.patient.get(url)
            assert response.status_code == 200, response.json
            for entry in response.json["entries"]:
                assert entry["id"] not in listed
                as_change = {"type": TYPE, "id": entry["id"], "version": entry["version"]}
                listed[entry["id"]] = change_view({**as_change, "deleted": False, "data": entry})
            cursor = response.json["next_cursor"]
            if not cursor:
                return listed

    @initialize(bodies=st.lists(st.sampled_from(BODIES), max_size=3))
    def some_entries_everywhere(self, bodies):
        """Start, usually, from a few entries every device has pulled."""
        ops = []
        for body in bodies:
            ops.append(self.new_op(self.new_entry_id(), "upsert", None, {"body": body}))
        self.send(ops)
        for device in range(DEVICES):
            self.pull(device, 50)

    # -- rules: writing on a device, then perhaps pushing at once

    def then(self, device: int, then: str) -> None:
        if then != "offline":
            self.push(self.devices[device], list(self.devices[device].outbox), then == "lost")

    @rule(
        device=st.integers(0, DEVICES - 1),
        body=st.sampled_from([*BODIES, *BODIES, None]),  # now and then no body: refused
        title=st.sampled_from([*TITLES, None]),
        then=THEN,
    )
    def create(self, device, body, title, then):
        """A new entry. The device may edit or delete it at once, from version 1, before
        it is pushed: in a shuffled batch those ops can reach the server first."""
        dev, entry_id = self.devices[device], self.new_entry_id()
        data = {k: v for k, v in (("body", body), ("title", title)) if v is not None}
        dev.outbox.append(self.new_op(entry_id, "upsert", None, data))
        dev.known[entry_id] = (1, False)
        self.then(device, then)

    @precondition(lambda self: any(d.known for d in self.devices))
    @rule(data=st.data(), edits=st.lists(edit_data, min_size=1, max_size=3), then=THEN)
    def edit(self, data, edits, then):
        """Edits, each from the version the device knows: stale when another device (or
        an earlier edit in the same outbox) got there first. Now and then of an entry the
        device knows is deleted (a client that edits what it has just seen deleted)."""
        device = data.draw(self.some_device(lambda d: d.known), label="device")
        dev = self.devices[device]
        for fields in edits:
            entry_id = data.draw(st.sampled_from(dev.live() * 3 + list(dev.known)))
            op = self.new_op(entry_id, "upsert", dev.known[entry_id][0], fields)
            dev.outbox.append(data.draw(st.just(op), label="queued"))
        self.then(device, then)

    @precondition(lambda self: any(d.live() for d in self.devices))
    @rule(data=st.data(), then=THEN)
    def delete(self, data, then):
        device = data.draw(self.some_device(Device.live), label="device")
        dev = self.devices[device]
        entry_id = data.draw(st.sampled_from(dev.live()))
        op = self.new_op(entry_id, "delete", dev.known[entry_id][0], {})
        dev.outbox.append(data.draw(st.just(op), label="queued"))
        self.then(device, then)

    # -- rules: talking to the server

    def push(self, dev: Device, batch: list[Op], lost: bool) -> None:
        """Push a batch from a device. If the answer is lost the server still applied it,
        but the device never heard: its ops stay in the outbox, to be pushed again."""
        results = self.send(batch)
        if lost:
            return
        mine = {op.op_id for op in dev.outbox}
        for op, result in zip(batch, results, strict=True):
            if op.op_id in mine:
                dev.learn(op, result)
        dev.outbox = []

    @precondition(lambda self: any(d.outbox for d in self.devices))
    @rule(data=st.data(), lost=st.booleans(), shuffle=st.booleans())
    def push_outbox(self, data, lost, shuffle):
        """Push a device's outbox, perhaps shuffled, with old ops mixed in."""
        dev = self.devices[data.draw(self.some_device(lambda d: d.outbox), label="device")]
        batch = list(dev.outbox)
        if self.sent:
            batch += data.draw(st.lists(st.sampled_from(self.sent), max_size=2), label="old")
        if shuffle:
            batch = data.draw(st.permutations(batch), label="shuffled")
        self.push(dev, batch, lost)

    @precondition(lambda self: self.sent)
    @rule(data=st.data())
    def replay(self, data):
        """Old ops again, shuffled, repeated: the first answers, and nothing changes."""
        self.send(data.draw(st.lists(st.sampled_from(self.sent), min_size=1, max_size=5)))

    @rule(device=st.integers(0, DEVICES - 1), limit=st.sampled_from([1, 2, 50]))
    def pull(self, device, limit):
        """Pull from the device's cursor: exactly what changed since, oldest first."""
        dev = self.devices[device]
        changes, dev.cursor = self.read_feed(dev.cursor, limit)
        got, want = [c["id"] for c in changes], self.store.changed_since(dev.seen)
        named = self.store.named
        assert got == want, f"device {device} pulled {named(got)}, model says {named(want)}"
        dev.seen = self.store.changes
        for change in changes:
            dev.local[change["id"]] = change_view(change)
            dev.known[change["id"]] = (change["version"], change["deleted"])
        # after a pull the device has seen every entry, and agrees with the server on each
        self.assert_same(dev.local, self.store.view(), f"device {device} after its pull")

    # -- the invariant: the server is the model

    @invariant()
    def server_is_the_model(self):
        # the whole feed, with a fresh cursor: each entry once, oldest change first
        changes, _ = self.read_feed("0", 100)
        got, want = [c["id"] for c in changes], self.store.changed_since(0)
        named = self.store.named
        assert got == want, f"the feed from 0 is {named(got)}, model says {named(want)}"
        self.assert_same({c["id"]: change_view(c) for c in changes}, self.store.view(), "feed")

        # the journal as the app shows it, the live entries, conflict copies among them;
        # read again once the model changed (the feed above sees any other change)
        if self.listed_at != self.store.changes:
            self.listed_at = self.store.changes
            live = {i: v for i, v in self.store.view().items() if not v["deleted"]}
            self.assert_same(self.journal(), live, "journal list")

        # each op's first result is logged once: no op was taken for new, none was lost
        with self.app.app_context():
            logged = db.session.scalar(
                select(func.count())
                .select_from(SyncOp)
                .where(SyncOp.patient_id == uuid.UUID(self.patient.id))
            )
        assert logged == len(self.store.results)


def test_push_and_pull_with_lost_answers_and_replays_agree_with_a_model(app, monkeypatch):
    # A patient per example, and a shrink replays hundreds: hash their password cheaply.
    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(passwords, "hash_password", cheap.hash)
    machine = type("BoundSyncMachine", (SyncMachine,), {"app": app})
    run_state_machine_as_test(
        machine,
        settings=settings(max_examples=25, stateful_step_count=20, deadline=None),
    )
