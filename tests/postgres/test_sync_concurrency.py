"""On PostgreSQL, concurrent writers for one patient never make a pulling device skip a change.

The pull cursor is the patient's change counter (server/sync/clock.py). Every writer takes
the counter row's lock first and keeps it until commit, so one patient's changes commit in
counter order. A reader that pages with `change_seq > cursor` can therefore never see a
higher number while a lower one is still uncommitted, and never moves its cursor past it.

Why a wall-clock or global-sequence cursor is not enough: writer A takes number 7 and is
still inside its transaction; writer B takes 8 and commits; a device pulls, sees 8, and
moves its cursor to 8; then A commits 7. Every later pull asks for "> 8", so 7 is never
delivered. `test_a_global_sequence_cursor_would_skip_the_late_commit` runs exactly that
interleaving against the real endpoints with the clock swapped for such a sequence, and
shows the skip: it is the control that proves these tests can see the failure they guard.
"""

from __future__ import annotations

import itertools
import random
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert

from server.db import utcnow
from server.extensions import db
from server.journal.models import EntryKind, JournalEntry
from server.sync import clock
from server.sync import service as sync_service
from server.sync.models import SyncClock
from server.sync.registry import REGISTRY
from tests.factories import PASSWORD

PUSH = "/api/v1/sync/push"
CHANGES = "/api/v1/sync/changes"
ENTRIES = "/api/v1/journal/entries"

WRITERS = 8
ROUNDS = 6  # per writer; each round writes a batch of 1-3 entries
PAGE = 3  # small pages, so the reader takes many steps while the writers work
WAIT = 10  # seconds; an upper bound for anything that should take far less

# 9 sign-ins of one account in a few milliseconds; the default limit is 10 a minute.
many_logins = pytest.mark.app_config(RATELIMIT_LOGIN="1000 per minute")


def sign_in(app, email):
    client = app.test_client()
    response = client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.json
    return client


def op(entry_id, body):
    return {
        "op_id": str(uuid.uuid4()),
        "type": "journal_entry",
        "id": str(entry_id),
        "base_version": None,
        "action": "upsert",
        "data": {"body": body},
    }


def pull_page(client, cursor, limit=PAGE):
    response = client.get(f"{CHANGES}?since={cursor}&limit={limit}")
    assert response.status_code == 200, response.json
    return response.json


def drain(client, cursor, seen):
    """Page to the end; every (id, version) goes into `seen`, in the order received."""
    while True:
        page = pull_page(client, cursor)
        seen += [(c["id"], c["version"]) for c in page["changes"]]
        assert int(page["cursor"]) >= int(cursor)
        cursor = page["cursor"]
        if not page["has_more"]:
            return cursor


def patient_rows(app, patient_id):
    with app.app_context():
        rows = db.session.execute(
            sa.select(JournalEntry.id, JournalEntry.change_seq).where(
                JournalEntry.patient_id == uuid.UUID(patient_id)
            )
        ).all()
        counter = clock.current(uuid.UUID(patient_id))
        db.session.remove()
    return {str(i): seq for i, seq in rows}, counter


@many_logins
def test_eight_writers_and_a_paging_reader_see_every_create_once(app, make_patient):
    """8 devices of one patient create entries (sync push and POST /journal/entries, in
    small batches) while a 9th pages through changes; its union is the committed set."""
    patient = make_patient()
    writers = [sign_in(app, patient.email) for _ in range(WRITERS)]
    reader = sign_in(app, patient.email)

    start = threading.Barrier(WRITERS + 1)
    writing_done = threading.Event()
    reader_saw_some = threading.Event()

    def write(n):
        client, rng = writers[n], random.Random(n)
        committed = []
        start.wait(WAIT)
        for round_ in range(ROUNDS):
            if round_ == ROUNDS // 2:
                # the reader must be mid-stream while half the writes are still to come
                assert reader_saw_some.wait(WAIT), "the reader never saw a change"
            ids = [uuid.uuid4() for _ in range(rng.randint(1, 3))]
            if (n + round_) % 2 == 0:
                response = client.post(PUSH, json={"ops": [op(i, f"w{n} r{round_}") for i in ids]})
                assert response.status_code == 200, response.json
                results = response.json["results"]
                assert [r["status"] for r in results] == ["applied"] * len(ids), results
                committed += [r["id"] for r in results]
            else:
                for i in ids:
                    response = client.post(ENTRIES, json={"id": str(i), "body": f"w{n}"})
                    assert response.status_code == 201, response.json
                    committed.append(response.json["id"])
        return committed

    def read():
        seen, cursor, pages = [], "0", 0
        start.wait(WAIT)
        while not writing_done.is_set():
            page = pull_page(reader, cursor)
            pages += 1
            seen += [(c["id"], c["version"]) for c in page["changes"]]
            assert int(page["cursor"]) >= int(cursor), "the cursor went backwards"
            cursor = page["cursor"]
            if seen:
                reader_saw_some.set()
        return drain(reader, cursor, seen), seen, pages

    with ThreadPoolExecutor(max_workers=WRITERS + 1) as pool:
        reading = pool.submit(read)
        writing = [pool.submit(write, n) for n in range(WRITERS)]
        try:
            committed = [entry_id for w in writing for entry_id in w.result(timeout=60)]
        finally:
            writing_done.set()
            reader_saw_some.set()  # never leave a writer waiting if the reader failed
        final_cursor, seen, pages = reading.result(timeout=60)

    seen_ids = [entry_id for entry_id, _ in seen]
    assert len(committed) == len(set(committed)) >= WRITERS * ROUNDS
    assert len(seen_ids) == len(set(seen_ids)), "an entry was delivered twice"
    assert set(seen_ids) == set(committed), (
        f"skipped {set(committed) - set(seen_ids)}, extra {set(seen_ids) - set(committed)}"
    )
    assert {version for _, version in seen} == {1}
    assert pages > 1

    stored, counter = patient_rows(app, patient.id)
    assert set(stored) == set(committed)
    # each create took exactly one number, none was handed out twice, and the reader's
    # final cursor is the last of them
    assert sorted(stored.values()) == list(range(1, len(committed) + 1))
    assert int(final_cursor) == counter == len(committed)


# -- a writer still inside its transaction ----------------------------------------------


def _insert_entry(conn, patient_id, seq):
    entry_id = uuid.uuid4()
    now = utcnow()
    conn.execute(
        sa.insert(JournalEntry.__table__).values(
            id=entry_id,
            patient_id=patient_id,
            body="written by the slow writer",
            kind=EntryKind.FREE,
            written_at=now,
            created_at=now,
            updated_at=now,
            version=1,
            change_seq=seq,
        )
    )
    return str(entry_id)


def _waiting_on_a_lock(engine) -> int:
    with engine.connect() as conn:
        return conn.scalar(
            sa.text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
        )


def _held_open_then_a_second_writer(app, patient, take_number):
    """Writer A takes a number and stays in its transaction; writer B pushes; the reader
    pulls; then A commits and the reader pulls again. Returns what the reader saw."""
    patient_id = uuid.UUID(patient.id)
    writer_b = sign_in(app, patient.email)
    reader = sign_in(app, patient.email)

    first = uuid.uuid4()
    assert patient.post(PUSH, json={"ops": [op(first, "before")]}).status_code == 200
    cursor = drain(reader, "0", [])
    with app.app_context():
        engine = db.engine

    late = str(uuid.uuid4())
    with ThreadPoolExecutor(max_workers=1) as pool, engine.connect() as conn:
        held = conn.begin()
        try:
            slow_seq = take_number(conn, patient_id)
            slow_id = _insert_entry(conn, patient_id, slow_seq)
            pushing = pool.submit(writer_b.post, PUSH, json={"ops": [op(late, "the quick one")]})
            # wait until B either finished or sits waiting for a lock
            deadline = time.monotonic() + WAIT
            while not pushing.done() and not _waiting_on_a_lock(engine):
                assert time.monotonic() < deadline, "writer B neither finished nor waited"
                time.sleep(0.01)
            b_blocked = not pushing.done()
            during = []
            cursor_during = drain(reader, cursor, during)
            held.commit()
        finally:
            if held.is_active:
                held.rollback()
        assert pushing.result(timeout=WAIT).status_code == 200
    after = []
    drain(reader, cursor_during, after)
    return {
        "slow": slow_id,
        "slow_seq": slow_seq,
        "quick": late,
        "b_blocked": b_blocked,
        "cursor_before": int(cursor),
        "during": [entry_id for entry_id, _ in during],
        "cursor_during": int(cursor_during),
        "after": [entry_id for entry_id, _ in after],
    }


@many_logins
def test_an_uncommitted_writer_holds_back_later_writers_and_the_reader(app, make_patient):
    def the_clock(conn, patient_id):
        # exactly what clock.lock + clock.stamp do, on a connection we keep open
        return conn.execute(
            sa.update(SyncClock)
            .where(SyncClock.patient_id == patient_id)
            .values(counter=SyncClock.counter + 1)
            .returning(SyncClock.counter)
        ).scalar_one()

    seen = _held_open_then_a_second_writer(app, make_patient(), the_clock)
    assert seen["b_blocked"], "writer B committed while an earlier number was uncommitted"
    assert seen["during"] == [] and seen["cursor_during"] == seen["cursor_before"]
    assert seen["after"] == [seen["slow"], seen["quick"]]  # both, once, in commit order


@many_logins
def test_a_global_sequence_cursor_would_skip_the_late_commit(app, make_patient, monkeypatch):
    """The control: with numbers from a global sequence and no per-patient lock (which is
    what a timestamp cursor amounts to), the same interleaving loses writer A's entry."""
    numbers = itertools.count(1000)
    with app.app_context():
        engine = db.engine

    def next_number(*args, **_kwargs):
        number = next(numbers)
        # a global sequence's "head" is the last number handed out, committed or not: the
        # pull reads the head from the counter row, so it is written there at once
        with engine.begin() as conn:
            conn.execute(
                pg_insert(SyncClock)
                .values(patient_id=args[-1], counter=number)
                .on_conflict_do_update(index_elements=["patient_id"], set_={"counter": number})
            )
        return number

    monkeypatch.setattr(clock, "lock", lambda patient_id, **_kwargs: None)
    monkeypatch.setattr(clock, "next_seq", next_number)

    seen = _held_open_then_a_second_writer(app, make_patient(), next_number)
    assert not seen["b_blocked"]
    assert seen["during"] == [seen["quick"]]
    assert seen["cursor_during"] > seen["slow_seq"]  # past A's number, not yet committed
    assert seen["slow"] not in seen["after"]  # A's entry is never delivered: skipped


# -- a commit landing between the per-type queries of one pull --------------------------


@many_logins
def test_a_batch_committed_between_the_per_type_queries_is_not_skipped(
    app, make_patient, monkeypatch
):
    """One pull runs a SELECT per registered type (journal_entry first). Pause the reader
    just after its journal_entries SELECT; meanwhile one push commits a journal entry
    (number k) and a part (k + 1); let the reader go on. Without the counter read first to
    bound every per-type query, its parts SELECT would see k + 1, the page would end there,
    and the journal entry at k would be behind the cursor for good."""
    # the order types are read in follows import order; pin the one this race needs
    first = ["journal_entry", "part"]
    ordered = {name: REGISTRY[name] for name in first + [n for n in REGISTRY if n not in first]}
    monkeypatch.setattr(sync_service, "REGISTRY", ordered)
    patient = make_patient()
    writer, reader = sign_in(app, patient.email), sign_in(app, patient.email)
    assert writer.post(PUSH, json={"ops": [op(uuid.uuid4(), "before")]}).status_code == 200
    cursor = drain(reader, "0", [])
    # something new after the cursor, so the pull goes on to its per-type queries
    # (an empty delta returns before them)
    newer = uuid.uuid4()
    assert writer.post(PUSH, json={"ops": [op(newer, "newer")]}).status_code == 200
    with app.app_context():
        engine = db.engine

    in_reader = threading.local()
    paused, go = threading.Event(), threading.Event()

    def pause_after_the_journal_query(conn, cursor_, statement, *_args):
        if getattr(in_reader, "on", False) and not paused.is_set():
            if "FROM journal_entries" in statement and "change_seq >" in statement:
                paused.set()
                assert go.wait(WAIT)

    def pull_once():
        in_reader.on = True
        return pull_page(reader, cursor, limit=50)

    entry_id, part_id = uuid.uuid4(), uuid.uuid4()
    batch = [
        op(entry_id, "committed while the reader was between two SELECTs"),
        {**op(part_id, ""), "type": "part", "data": {"name": "The critic"}},
    ]
    sa.event.listen(engine, "after_cursor_execute", pause_after_the_journal_query)
    try:
        with ThreadPoolExecutor(max_workers=1) as pool:
            pulling = pool.submit(pull_once)
            try:
                assert paused.wait(WAIT), "the reader never ran the journal_entries query"
                response = writer.post(PUSH, json={"ops": batch})
                assert response.status_code == 200, response.json
                assert [r["status"] for r in response.json["results"]] == ["applied"] * 2
            finally:
                go.set()
            page = pulling.result(timeout=WAIT)
    finally:
        sa.event.remove(engine, "after_cursor_execute", pause_after_the_journal_query)

    seen = [(c["id"], c["version"]) for c in page["changes"]]
    drain(reader, page["cursor"], seen)
    assert sorted(i for i, _ in seen) == sorted([str(newer), str(entry_id), str(part_id)])
