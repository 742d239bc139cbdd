"""How sync pull and push scale with a patient's history.

For a patient with 1,000, 10,000 and 50,000 journal entries it times, in-process through
the Flask test client:
  - a full first pull: GET /api/v1/sync/changes from 0, paged with limit=500;
  - an empty delta pull: since = the cursor the full pull ended on;
  - a push of 100 new-entry ops.
and shows the query plan of the changes query, to check it uses the
(patient_id, change_seq) index. The claim under test: the empty delta pull and the
100-op push stay flat as history grows; only the full pull grows with it.

A benchmark, not a test: it prints numbers and asserts nothing about time.

    .venv/bin/python bench/sync.py                                  # SQLite file
    .venv/bin/python bench/sync.py --database-url postgresql://postgres@127.0.0.1:5432/postgres

On PostgreSQL it makes its own uniquely named database on that server and drops it after.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("SECRET_KEY", "bench-secret-" + "x" * 40)
os.environ.setdefault("BETWEEN_ENV", "test")

import common  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from common import BODY, PASSWORD, entry_row, fresh_database, insert_rows  # noqa: E402

from server.extensions import db  # noqa: E402
from server.journal.models import JournalEntry  # noqa: E402
from server.sync import clock  # noqa: E402
from server.sync.registry import REGISTRY  # noqa: E402

CHANGES = "/api/v1/sync/changes"
PUSH = "/api/v1/sync/push"
PAGE = 500
TYPE = "journal_entry"  # the registered type whose changes query is explained


# -- database ----------------------------------------------------------------------------


def make_app(url: str):
    return common.make_app(url, TESTING=True, RATELIMIT_ENABLED=False)


class StatementCounter:
    """Counts SQL statements the app sends, to tell a flat cost from a hidden N+1."""

    def __init__(self, engine):
        self.n = 0
        sa.event.listen(engine, "before_cursor_execute", self._count)

    def _count(self, *_args, **_kw):
        self.n += 1


# -- seeding -----------------------------------------------------------------------------


def register_patient(app, n: int):
    client = app.test_client()
    response = client.post(
        "/api/v1/auth/register",
        json={
            "email": f"bench-patient-{n}-{uuid.uuid4().hex[:6]}@example.test",
            "password": PASSWORD,
            "display_name": f"Bench Patient {n}",
            "role": "patient",
        },
    )
    assert response.status_code == 201, response.json
    return client, uuid.UUID(response.json["id"])


def seed_entries(app, patient_id: uuid.UUID, count: int) -> None:
    """Insert `count` entries in bulk, numbered from the patient's sync clock as the app
    would number them: the clock advances by `count` under its lock, entries take the
    numbers it handed out, in order, in the same transaction."""
    start = datetime.now(UTC) - timedelta(minutes=count)
    with app.app_context():
        last = clock.next_seq(patient_id, step=count)
        first = last - count + 1
        rows = [
            entry_row(patient_id, start + timedelta(minutes=i), n=i, change_seq=first + i)
            for i in range(count)
        ]
        insert_rows(JournalEntry, rows)
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            # what autovacuum would do soon after a load this size; plans need the stats
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(sa.text("ANALYZE journal_entries"))


# -- measuring ---------------------------------------------------------------------------


def full_pull(client) -> tuple[float, int, int, str]:
    """Seconds, pages, changes and final cursor of a pull from 0 to the end."""
    cursor, pages, changes = "0", 0, 0
    started = time.perf_counter()
    while True:
        response = client.get(f"{CHANGES}?since={cursor}&limit={PAGE}")
        assert response.status_code == 200, response.json
        page = response.json
        pages += 1
        changes += len(page["changes"])
        cursor = page["cursor"]
        if not page["has_more"]:
            return time.perf_counter() - started, pages, changes, cursor


def delta_pull(client, cursor: str) -> float:
    started = time.perf_counter()
    response = client.get(f"{CHANGES}?since={cursor}&limit={PAGE}")
    elapsed = time.perf_counter() - started
    assert response.status_code == 200, response.json
    assert response.json["changes"] == [] and response.json["has_more"] is False
    return elapsed


def push_batch(client, size: int = 100) -> float:
    ops = [
        {
            "op_id": str(uuid.uuid4()),
            "type": "journal_entry",
            "id": str(uuid.uuid4()),
            "base_version": None,
            "action": "upsert",
            "data": {"body": BODY, "title": "pushed", "tags": ["bench"]},
        }
        for _ in range(size)
    ]
    started = time.perf_counter()
    response = client.post(PUSH, json={"ops": ops})
    elapsed = time.perf_counter() - started
    assert response.status_code == 200, response.json
    assert {r["status"] for r in response.json["results"]} == {"applied"}
    return elapsed


def counted(counter: StatementCounter, fn, *args):
    before = counter.n
    value = fn(*args)
    return value, counter.n - before


# -- query plans -------------------------------------------------------------------------


def changes_query(model, patient_id: uuid.UUID, since: int, limit: int = PAGE):
    """The statement server/sync/service.py `changes` runs for one registered type."""
    return (
        sa.select(model)
        .where(model.patient_id == patient_id, model.change_seq > since)
        .order_by(model.change_seq)
        .limit(limit + 1)
    )


def explain(app, stmt) -> list[str]:
    with app.app_context():
        dialect = db.engine.dialect
        sql = str(stmt.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
        prefix = "EXPLAIN QUERY PLAN " if dialect.name == "sqlite" else "EXPLAIN "
        with db.engine.connect() as conn:
            rows = conn.exec_driver_sql(prefix + sql).all()
    if dialect.name == "sqlite":
        return [row[-1] for row in rows]  # (id, parent, notused, detail)
    return [row[0] for row in rows]


def uses_seq_index(plan: list[str]) -> bool:
    return any("ix_journal_entries_patient_seq" in line for line in plan)


# -- main --------------------------------------------------------------------------------


def run(url: str, sizes: list[int], deltas: int, pushes: int) -> list[dict]:
    app = make_app(url)
    with app.app_context():
        counter = StatementCounter(db.engine)
        backend = db.engine.dialect.name
    model = REGISTRY[TYPE].model
    rows, clients, cursors = [], [], []
    for n, size in enumerate(sizes):
        client, patient_id = register_patient(app, n)
        started = time.perf_counter()
        seed_entries(app, patient_id, size)
        seeded = time.perf_counter() - started
        client.get(f"{CHANGES}?since={size}&limit=1")  # warm: session lookup, imports

        (pull_s, pages, got, cursor), pull_q = counted(counter, full_pull, client)
        assert got == size, (got, size)
        clients.append(client)
        cursors.append(cursor)
        rows.append(
            {
                "backend": backend,
                "entries": size,
                "seed_s": seeded,
                "pull_s": pull_s,
                "pages": pages,
                "pull_q": pull_q,
                "delta": [],
                "push": [],
            }
        )
        plans = {
            "delta": explain(app, changes_query(model, patient_id, int(cursor))),
            "first page": explain(app, changes_query(model, patient_id, 0)),
        }
        print(f"\n[{backend}, {size:,} entries] the changes query for {TYPE}:")
        for label, plan in plans.items():
            verdict = "uses" if uses_seq_index(plan) else "does NOT use"
            print(f"  {label:10} {verdict} ix_journal_entries_patient_seq")
            for line in plan:
                print(f"    {line}")

    # Round-robin over the sizes, so noise from anything else on the machine falls on
    # every size alike; the deltas first, while each patient's cursor is still the end.
    for _ in range(deltas):
        for row, client, cursor in zip(rows, clients, cursors, strict=True):
            elapsed, row["delta_q"] = counted(counter, delta_pull, client, cursor)
            row["delta"].append(elapsed * 1000)
    for _ in range(pushes):
        for row, client in zip(rows, clients, strict=True):
            elapsed, row["push_q"] = counted(counter, push_batch, client)
            row["push"].append(elapsed * 1000)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    return rows


def print_table(rows: list[dict], deltas: int, pushes: int) -> None:
    header = (
        f"{'backend':10} {'entries':>8} {'seed s':>7} {'full pull s':>11} {'pages':>5} "
        f"{'stmts':>6} | {'empty delta ms':>14} {'stmts':>5} | {'push 100 ms':>13} {'stmts':>5}"
    )
    print(
        f"\nempty delta: median (min) of {deltas} pulls; push 100: median (min) of "
        f"{pushes} batches; stmts: SQL statements the app sent for one of them\n"
    )
    print(header)
    print("-" * len(header))
    for r in rows:
        delta = f"{statistics.median(r['delta']):.2f} ({min(r['delta']):.2f})"
        push = f"{statistics.median(r['push']):.0f} ({min(r['push']):.0f})"
        print(
            f"{r['backend']:10} {r['entries']:>8,} {r['seed_s']:>7.2f} {r['pull_s']:>11.2f} "
            f"{r['pages']:>5} {r['pull_q']:>6} | {delta:>14} {r['delta_q']:>5} | "
            f"{push:>13} {r['push_q']:>5}"
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url",
        help="a PostgreSQL server URL; the benchmark makes and drops its own database there "
        "(default: a SQLite file in a temporary folder)",
    )
    parser.add_argument("--sizes", default="1000,10000,50000", help="entries per patient")
    parser.add_argument("--deltas", type=int, default=50, help="empty delta pulls per size")
    parser.add_argument("--pushes", type=int, default=10, help="100-op pushes per size")
    parser.add_argument("--json", metavar="PATH", help="also write the rows as JSON here")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    with fresh_database(args.database_url) as url:
        rows = run(url, sizes, args.deltas, args.pushes)
    print_table(rows, args.deltas, args.pushes)
    if args.json:  # every timing in ms (delta, push: one per request); for bench/run_all.py
        Path(args.json).write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
