"""On PostgreSQL, a reminder worker frozen inside its materialise transaction holds its
batch for seconds, not hours; nothing it held is lost, and nothing goes twice.

A real worker process (the Procfile's) is caught inside materialise: the test holds a
lock the worker's batch needs next (a gate), sees in pg_stat_activity that the worker
waits on it with its batch of schedules locked, stops the process (SIGSTOP, as a frozen
VM or a cut network would) and opens the gate, so the server finishes the statement
into a process that no longer reads: an open transaction, its row locks held, its
client silent. Then a second worker runs.
"""

from __future__ import annotations

import signal
import time
from collections import Counter

import pytest
import sqlalchemy as sa

from server.extensions import db
from server.reminders.models import ReminderOccurrence
from tests.fake_push import FakePushService
from tests.postgres.test_push_workers import (
    seed,
    sends_per_path,
    snapshot,
    start_worker,
    status_counts,
    stop_all,
    worker_env,
)

N = 300
LOCK_TIMEOUT = 3.0  # seconds, what the workers are given here
IDLE_TIMEOUT = 3.0
DEADLINE = IDLE_TIMEOUT + 30  # everything sent by then, or the frozen batch was stuck


def _one(conn, sql: str, **params):
    return conn.execute(sa.text(sql), params).scalar()


def wait_for(predicate, what: str, timeout: float):
    deadline = time.monotonic() + timeout
    while True:
        found = predicate()
        if found:
            return found
        assert time.monotonic() < deadline, f"timed out after {timeout:.0f} s waiting for {what}"
        time.sleep(0.02)


def _waiting_on_the_gate(conn) -> int | None:
    return _one(
        conn,
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
        "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid() LIMIT 1",
    )


def _locks_held(conn, pid: int, table: str | None = None) -> int:
    sql = "SELECT count(*) FROM pg_locks WHERE pid = :pid AND granted"
    if table:
        sql += " AND relation = CAST(:table AS regclass)"
    return _one(conn, sql, pid=pid, **({"table": table} if table else {}))


def _locked_schedules(engine) -> set:
    """Due schedules another transaction holds: the ones SKIP LOCKED passes over."""
    with engine.connect() as conn:
        due = set(conn.execute(sa.text("SELECT id FROM reminder_schedules")).scalars())
        free = set(
            conn.execute(
                sa.text("SELECT id FROM reminder_schedules FOR UPDATE SKIP LOCKED")
            ).scalars()
        )
        conn.rollback()
    return due - free


def _backend_of(conn, proc) -> int | None:
    return _one(
        conn,
        "SELECT pid FROM pg_stat_activity WHERE application_name = :name AND state = 'idle' "
        "LIMIT 1",
        name=f"between-worker-{proc.pid}",
    )


def _occurrences(app) -> Counter:
    with app.app_context():
        rows = db.session.execute(sa.select(ReminderOccurrence.user_id)).scalars().all()
        db.session.remove()
    return Counter(rows)


@pytest.mark.parametrize("then", ["resumed", "killed"])
def test_a_frozen_worker_holds_its_batch_for_seconds_and_loses_nothing(
    app, database_url, tmp_path, then
):
    engine = sa.create_engine(database_url, isolation_level="AUTOCOMMIT")
    gate_engine = sa.create_engine(database_url)
    gate = gate_engine.connect()
    procs = []
    try:
        with FakePushService() as push:
            paths = seed(app, push, N)
            env = worker_env(
                app,
                database_url,
                REMINDER_LOCK_TIMEOUT_SECONDS=LOCK_TIMEOUT,
                REMINDER_IDLE_TIMEOUT_SECONDS=IDLE_TIMEOUT,
            )
            # the gate: materialise reads dosing sessions right after locking its batch
            gate.execute(sa.text("LOCK TABLE treatment_sessions IN ACCESS EXCLUSIVE MODE"))
            frozen = start_worker(env, tmp_path / "frozen.log")
            procs.append(frozen)
            with engine.connect() as watch:
                backend = wait_for(
                    lambda: _waiting_on_the_gate(watch), "the worker inside materialise", 60
                )
                assert _locks_held(watch, backend, "reminder_schedules"), "no batch locked"
                frozen.send_signal(signal.SIGSTOP)
                gate.rollback()  # the statement finishes; its process reads no more
                stopped_at = time.monotonic()
                held = _locked_schedules(engine)
                assert 0 < len(held) < N, "the frozen worker held no batch"
                assert push.count == 0

                procs.append(start_worker(env, tmp_path / "other.log"))
                released_after = None

                def all_sent():
                    nonlocal released_after
                    if released_after is None and not _locks_held(watch, backend):
                        released_after = time.monotonic() - stopped_at
                    return status_counts(app)["sent"] == N

                wait_for(all_sent, "every reminder sent, the frozen batch too", DEADLINE)
                sent_after = time.monotonic() - stopped_at
                assert frozen.poll() is None, "the frozen worker is still there, stopped"
                print(
                    f"\nfrozen worker held {len(held)} schedules; locks released after "
                    f"{released_after:.2f} s; all {N} sent after {sent_after:.2f} s"
                )
                assert released_after is not None and released_after < IDLE_TIMEOUT + 2
                before = snapshot(app)

                if then == "resumed":
                    frozen.send_signal(signal.SIGCONT)
                    # it finds its transaction ended, says so, and takes up its passes
                    # again on a new connection, with nothing left to do
                    wait_for(
                        lambda: "reminder pass stopped" in frozen.log_path.read_text(),
                        "the resumed worker noticing",
                        30,
                    )
                    again = wait_for(lambda: _backend_of(watch, frozen), "its next pass", 30)
                    assert again != backend
                else:
                    frozen.send_signal(signal.SIGKILL)
                    frozen.wait(10)
                after = snapshot(app)
            outputs = stop_all(procs)
            procs = []
            sent = sends_per_path(push)
    finally:
        stop_all(procs)
        gate.close()
        gate_engine.dispose()
        engine.dispose()
    assert set(sent) == set(paths), "a reminder was lost"
    assert max(sent.values()) == 1, "a reminder went twice"
    assert after == before, "the frozen worker changed rows after its transaction ended"
    assert status_counts(app) == Counter({"sent": N})
    assert set(_occurrences(app).values()) == {1}
    for output in outputs:
        assert "Traceback" not in output, output
