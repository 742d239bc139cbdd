"""How the therapist's caseload and a patient's pre-session brief scale.

In-process, through the Flask test client, it times:
  - GET /api/v1/caseload for therapists with 10, 100 and 500 linked patients (each with
    a couple of PHQ-9 check-ins, a few journal entries, some shared and unread, a next
    session for half of them and an open risk flag for one in twenty);
  - GET /api/v1/patients/{id}/brief (the default window: since the end of the latest
    integration session) for three patients of one therapist, with 1, 3 and 10 years of
    daily history: a daily check-in and a journal entry every day, a weekly PHQ-9, a
    dosing and an integration session every quarter, the latest integration 10 days ago.
Each size is its own therapist (caseload) or its own patient (brief), all seeded before
timing, and requests go round-robin over the sizes so machine noise falls on each alike.
The brief's therapist's own caseload (those three patients) is timed too, beside the
others, to show what years of history cost the caseload's per-patient aggregates.
It counts the SQL statements of every request, and shows the query plans of the brief's
journal-entry window and check-in window queries, captured as the app sent them, to
check they use (patient_id, written_at, id) and (patient_id, instrument, answered_at),
and the plans of the caseload's aggregates over those three patients' history.
The claim under test: the brief stays flat, in time and in statements, as history
grows; the caseload's statement count stays flat as it grows (its time can only grow
with the rows it returns).

A benchmark, not a test: it prints numbers and asserts nothing about time.

    .venv/bin/python bench/brief.py                                  # SQLite file
    .venv/bin/python bench/brief.py --database-url postgresql://postgres@127.0.0.1:5432/postgres
    .venv/bin/python bench/brief.py --caseloads 10,100 --caseload-years 3   # slow to seed

`--caseload-years` gives every caseload patient years of daily history as well, to show
the caseload's cost following its patients' history rather than their number.

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
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("SECRET_KEY", "bench-secret-" + "x" * 40)
os.environ.setdefault("BETWEEN_ENV", "test")

import common  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from common import (  # noqa: E402
    PASSWORD,
    checkin_row,
    entry_row,
    fresh_database,
    insert_rows,
    session_row,
    tag_row,
)

from server.auth.models import Role, User  # noqa: E402
from server.care.models import CareLink  # noqa: E402
from server.checkins.models import CheckIn, RiskFlag  # noqa: E402
from server.extensions import db  # noqa: E402
from server.journal.models import EntryTag, JournalEntry  # noqa: E402
from server.sessions.models import SessionKind, TreatmentSession  # noqa: E402

CASELOAD = "/api/v1/caseload"
FLAG_EVERY = 20  # one caseload patient in twenty has an open risk flag
INTEGRATION_DAYS_AGO = 10  # the latest integration session: the brief's default window
ENTRIES_INDEX = "ix_journal_entries_patient_written"
CHECKINS_INDEX = "ix_checkins_patient_instrument_at"


# -- database ----------------------------------------------------------------------------


def make_app(url: str):
    # a handful of therapists and patients sign up through the API
    return common.make_app(url, TESTING=True, RATELIMIT_REGISTER="100 per minute")


class StatementRecorder:
    """Counts the SQL statements the app sends, and keeps them while asked to, so a
    window query's plan can be explained exactly as the app ran it."""

    def __init__(self, engine):
        self.n = 0
        self.kept: list[tuple[str, object]] | None = None
        sa.event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, _conn, _cursor, statement, parameters, _context, _executemany):
        self.n += 1
        if self.kept is not None:
            self.kept.append((statement, parameters))

    @contextmanager
    def keeping(self):
        self.kept = []
        try:
            yield self.kept
        finally:
            self.kept = None


def analyze(app) -> None:
    """On PostgreSQL, what autovacuum would do soon after a load; plans need the stats."""
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            return
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("ANALYZE"))


# -- seeding -----------------------------------------------------------------------------


def register(app, role: str, label: str):
    client = app.test_client()
    email = f"bench-{role}-{label}-{uuid.uuid4().hex[:6]}@example.test"
    body = {
        "email": email,
        "password": PASSWORD,
        "display_name": f"Bench {role.title()} {label}",
        "role": role,
    }
    if role == "therapist":  # therapists sign up with an operator's invitation
        from server.auth.service import create_therapist_invite

        with app.app_context():
            body["therapist_invite"] = create_therapist_invite(email, body["display_name"])[1]
            db.session.commit()
    response = client.post("/api/v1/auth/register", json=body)
    assert response.status_code == 201, response.json
    return client, uuid.UUID(response.json["id"])


def phq9_answers(total: int, item9: int = 0) -> dict:
    """`total` spread over items 1-8 (0-3 each), then item 9 on top."""
    answers, left = {}, total - item9
    for i in range(1, 9):
        answers[f"phq9_{i}"] = min(3, left)
        left -= answers[f"phq9_{i}"]
    answers["phq9_9"] = item9
    return answers


def daily_answers(day: int) -> dict:
    return {
        "mood": 3 + day % 6,
        "anxiety": 2 + day % 5,
        "sleep_quality": 4 + day % 4,
        "sleep_hours": 6 + day % 3,
        "rumination": day % 7,
        "note": "slept badly, better by the afternoon" if day % 5 == 0 else "",
        "safety": False,
    }


def link_row(therapist_id, patient_id, now: datetime) -> dict:
    return {
        "id": uuid.uuid4(),
        "therapist_id": therapist_id,
        "patient_id": patient_id,
        "created_at": now,
        "ended_at": None,
        "ended_by_id": None,
    }


def seed_caseload(app, therapist_id: uuid.UUID, n: int) -> list[uuid.UUID]:
    """n patients linked to this therapist, written straight to the database."""
    now = datetime.now(UTC)
    day = timedelta(days=1)
    users, links, checkins, flags, entries, sessions = [], [], [], [], [], []
    for k in range(n):
        pid = uuid.uuid4()
        users.append(
            {
                "id": pid,
                "email": f"{pid.hex}@example.test",
                "password_hash": "x",  # never signs in
                "display_name": f"Patient {k:03d} {pid.hex[:4]}",
                "role": Role.PATIENT,
                "timezone": "UTC",
                "locale": "en-US",
                "created_at": now - 60 * day,
                "password_changed_at": now - 60 * day,
            }
        )
        links.append(link_row(therapist_id, pid, now - 60 * day))
        flagged = k % FLAG_EVERY == 0
        older = checkin_row(pid, "phq9", phq9_answers(8 + k % 10), now - 8 * day)
        latest = checkin_row(pid, "phq9", phq9_answers(6 + k % 12, 1 if flagged else 0), now - day)
        checkins += [older, latest]
        if flagged:
            flags.append(
                {
                    "id": uuid.uuid4(),
                    "patient_id": pid,
                    "checkin_id": latest["id"],
                    "reason": "phq9_item9",
                    "status": "open",
                    "created_at": latest["created_at"],
                    "acknowledged_at": None,
                    "acknowledged_by_id": None,
                    "acknowledgement_note": "",
                }
            )
        for j, days_ago in enumerate((2, 6, 12, 19)):  # one unread shared, one private
            at = now - days_ago * day + timedelta(minutes=k)
            entries.append(
                entry_row(pid, at, shared=j != 1, read_at=at + day if j > 1 else None, n=j)
            )
        if k % 2 == 0:
            sessions.append(
                session_row(pid, therapist_id, SessionKind.PREPARATION, now + (3 + k % 7) * day)
            )
    with app.app_context():
        for model, rows in (
            (User, users),
            (CareLink, links),
            (CheckIn, checkins),
            (RiskFlag, flags),
            (JournalEntry, entries),
            (TreatmentSession, sessions),
        ):
            insert_rows(model, rows)
        db.session.commit()
    return [u["id"] for u in users]


def seed_history(app, therapist_id: uuid.UUID, patient_id: uuid.UUID, days: int) -> dict:
    """`days` days of daily history for one patient, ending today. Returns row counts."""
    now = datetime.now(UTC)
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    day = timedelta(days=1)
    checkins, entries, tags, sessions = [], [], [], []
    for d in range(days):
        date = midnight - d * day
        # a journal entry each evening: two days in three shared, every 7th for the session
        written = date + timedelta(hours=20)
        if written > now:
            written = now - timedelta(minutes=30)
        shared = d % 3 != 0
        read_at = written + day if shared and d > INTEGRATION_DAYS_AGO else None
        entry = entry_row(
            patient_id, written, shared=shared, read_at=read_at, for_session=d % 7 == 3, n=d
        )
        entries.append(entry)
        if d % 4 == 0:
            tags += [
                tag_row(patient_id, entry["id"], "sleep", 0),
                tag_row(patient_id, entry["id"], f"week-{d // 7 % 52}", 1),
            ]
        # a daily check-in each morning, a PHQ-9 each week
        morning = min(date + timedelta(hours=8), now - timedelta(minutes=45))
        checkins.append(checkin_row(patient_id, "daily", daily_answers(d), morning))
        if d % 7 == 1:
            total = 4 + (d // 7) % 15  # drifts between 4 and 18
            at = min(morning + timedelta(hours=1), now - timedelta(minutes=30))
            checkins.append(checkin_row(patient_id, "phq9", phq9_answers(total), at))
    # a dosing and its integration session each quarter, the latest integration 10 days
    # ago (it opens the brief's default window), and the next preparation session ahead
    for d in range(INTEGRATION_DAYS_AGO, days, 91):
        at = midnight - d * day + timedelta(hours=14)
        sessions.append(session_row(patient_id, therapist_id, SessionKind.INTEGRATION, at))
        sessions.append(session_row(patient_id, therapist_id, SessionKind.DOSING, at - 2 * day))
    sessions.append(
        session_row(patient_id, therapist_id, SessionKind.PREPARATION, midnight + 4 * day)
    )
    with app.app_context():
        insert_rows(JournalEntry, entries)
        insert_rows(EntryTag, tags)
        insert_rows(CheckIn, checkins)
        insert_rows(TreatmentSession, sessions)
        db.session.commit()
    return {"entries": len(entries), "checkins": len(checkins), "sessions": len(sessions)}


def share_plan_and_map(client) -> None:
    """As the patient: a shared plan with a score rule, and a shared parts map."""
    response = client.put(
        "/api/v1/plan",
        json={
            "version": 0,
            "shared": True,
            "warning_signs": [{"text": "sleeping late"}],
            "maintenance_criteria": [
                {
                    "text": "PHQ-9 of 10 or more twice in a row",
                    "rule": {"instrument": "phq9", "at_least": 10, "times_in_a_row": 2},
                }
            ],
        },
    )
    assert response.status_code == 200, response.json
    assert client.post("/api/v1/parts", json={"name": "Watcher"}).status_code == 201
    assert client.put("/api/v1/parts/map", json={"shared": True}).status_code == 200


# -- measuring ---------------------------------------------------------------------------


def timed_get(recorder: StatementRecorder, client, url: str) -> tuple[float, int, object]:
    before = recorder.n
    started = time.perf_counter()
    response = client.get(url)
    elapsed = time.perf_counter() - started
    assert response.status_code == 200, (url, response.status_code, response.json)
    return elapsed * 1000, recorder.n - before, response.json


def measure(recorder, rows: list[dict], rounds: int) -> None:
    """Round-robin over the rows (one per size): `rounds` timed GETs of each row's url."""
    for row in rows:  # warm: the session lookup, imports, statement caches
        timed_get(recorder, row["client"], row["url"])
    for _ in range(rounds):
        for row in rows:
            ms, statements, body = timed_get(recorder, row["client"], row["url"])
            row["ms"].append(ms)
            row["stmts"].add(statements)
            row["body"] = body


# -- query plans -------------------------------------------------------------------------


def window_statements(kept: list[tuple[str, object]]) -> dict[str, tuple[str, object]]:
    """The brief's journal window query and its daily check-in window query (the
    instrument with the most rows), as sent."""
    found = {}
    for statement, params in kept:
        values = params.values() if isinstance(params, dict) else params
        text = " ".join(statement.split())
        lowered = text.lower()
        if "from journal_entries" in lowered and "written_at >=" in lowered:
            found.setdefault("journal window", (statement, params))
        if (
            "from checkins" in lowered
            and "answered_at >=" in lowered
            and "answered_at <" in lowered.split("answered_at >=", 1)[1]
            and "daily" in values
        ):
            found.setdefault("check-in window", (statement, params))
    return found


def explain(app, statement: str, params) -> list[str]:
    with app.app_context():
        dialect = db.engine.dialect.name
        prefix = "EXPLAIN QUERY PLAN " if dialect == "sqlite" else "EXPLAIN "
        with db.engine.connect() as conn:
            rows = conn.exec_driver_sql(prefix + statement, params).all()
    if dialect == "sqlite":
        return [row[-1] for row in rows]  # (id, parent, notused, detail)
    return [row[0] for row in rows]


def verdict(plan: list[str], table: str, index: str) -> str:
    text = "\n".join(plan)
    full_scan = f"Seq Scan on {table}" in text or any(
        line.strip().startswith(f"SCAN {table}") and "INDEX" not in line for line in plan
    )
    if full_scan:
        return f"FULL SCAN of {table}"
    if index in text:
        return f"uses {index}"
    return f"does NOT use {index}"


# per-patient aggregates of the caseload whose cost follows each patient's history
CASELOAD_QUERIES = {
    "last entry": "max(journal_entries.updated_at)",
    "last check-in": "max(checkins.created_at)",
    "unread shared": "journal_entries.read_by_therapist_at is null",
    "latest PHQ-9s": "row_number()",
}


def print_caseload_plans(app, recorder, client, patient_ids: list) -> None:
    with recorder.keeping() as kept:
        assert client.get(CASELOAD).status_code == 200
    with app.app_context():
        for model in (JournalEntry, CheckIn):
            total = db.session.scalar(sa.select(sa.func.count()).select_from(model))
            theirs = db.session.scalar(
                sa.select(sa.func.count()).where(model.patient_id.in_(patient_ids))
            )
            print(f"  ({theirs:,} of the {total:,} {model.__tablename__} rows are theirs)")
    for name, marker in CASELOAD_QUERIES.items():
        found = [
            (statement, params)
            for statement, params in kept
            if marker in " ".join(statement.split()).lower()
        ]
        if not found:
            print(f"  {name}: no such statement captured")
            continue
        print(f"  {name}:")
        for line in explain(app, *found[0]):
            print(f"      {line}")


def print_plans(app, recorder, client, url: str, label: str) -> None:
    with recorder.keeping() as kept:
        assert client.get(url).status_code == 200
    found = window_statements(kept)
    for name, table, index in (
        ("journal window", "journal_entries", ENTRIES_INDEX),
        ("check-in window", "checkins", CHECKINS_INDEX),  # the daily check-ins
    ):
        if name not in found:
            print(f"  [{label}] {name}: no such statement captured")
            continue
        plan = explain(app, *found[name])
        print(f"  [{label}] {name}: {verdict(plan, table, index)}")
        for line in plan:
            print(f"      {line}")


# -- main --------------------------------------------------------------------------------


def run(
    url: str, caseloads: list[int], years: list[int], rounds: int, caseload_years: int = 0
) -> tuple[list, list]:
    app = make_app(url)
    with app.app_context():
        recorder = StatementRecorder(db.engine)
        backend = db.engine.dialect.name

    # the caseloads: one therapist per size
    caseload_rows = []
    for n in caseloads:
        client, therapist_id = register(app, "therapist", f"c{n}")
        started = time.perf_counter()
        for patient_id in seed_caseload(app, therapist_id, n):
            if caseload_years:
                seed_history(app, therapist_id, patient_id, 365 * caseload_years)
        caseload_rows.append(
            {
                "backend": backend,
                "size": n,
                "history": f"{caseload_years} y daily" if caseload_years else "2 PHQ-9, 4 entries",
                "seed_s": time.perf_counter() - started,
                "client": client,
                "url": CASELOAD,
                "ms": [],
                "stmts": set(),
            }
        )

    # the histories: one therapist, one patient per size
    brief_client, therapist_id = register(app, "therapist", "brief")
    brief_rows = []
    for y in years:
        patient_client, patient_id = register(app, "patient", f"{y}y")
        with app.app_context():
            insert_rows(CareLink, [link_row(therapist_id, patient_id, datetime.now(UTC))])
            db.session.commit()
        share_plan_and_map(patient_client)
        started = time.perf_counter()
        counts = seed_history(app, therapist_id, patient_id, 365 * y)
        brief_rows.append(
            {
                "backend": backend,
                "size": y,
                **counts,
                "seed_s": time.perf_counter() - started,
                "client": brief_client,
                "url": f"/api/v1/patients/{patient_id}/brief",
                "patient_id": patient_id,
                "ms": [],
                "stmts": set(),
            }
        )
    # and that therapist's own caseload: few patients, but years of history
    caseload_rows.append(
        {
            "backend": backend,
            "size": len(years),
            "history": "+".join(str(y) for y in years) + " y daily",
            "seed_s": sum(r["seed_s"] for r in brief_rows),
            "client": brief_client,
            "url": CASELOAD,
            "ms": [],
            "stmts": set(),
        }
    )
    analyze(app)

    print(f"\n[{backend}] the brief's window queries, as the app sent them:")
    for row in brief_rows:
        print_plans(app, recorder, row["client"], row["url"], f"{row['size']} y")
    print(
        f"\n[{backend}] the caseload's per-patient aggregates, for the "
        f"{len(years)} patients with years of history:"
    )
    print_caseload_plans(app, recorder, brief_client, [r["patient_id"] for r in brief_rows])

    measure(recorder, caseload_rows, rounds)
    measure(recorder, brief_rows, rounds)
    for row in caseload_rows:
        assert len(row["body"]) == row["size"], (len(row["body"]), row["size"])
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    return caseload_rows, brief_rows


def spread(ms: list[float]) -> str:
    return f"{statistics.median(ms):.1f} ({min(ms):.1f})"


def stmts(row: dict) -> str:
    return "/".join(str(s) for s in sorted(row["stmts"]))


def print_tables(caseload_rows: list[dict], brief_rows: list[dict], rounds: int) -> None:
    print(
        f"\nms: median (min) of {rounds} requests per size, round-robin; stmts: SQL "
        "statements the app sent for one request (several if they varied)\n"
    )
    header = (
        f"{'backend':10} {'patients':>8} {'history each':>18} {'seed s':>7} | "
        f"{'caseload ms':>14} {'stmts':>5} {'flagged':>7}"
    )
    print(header)
    print("-" * len(header))
    for r in caseload_rows:
        flagged = sum(1 for p in r["body"] if p["open_flags"])
        print(
            f"{r['backend']:10} {r['size']:>8} {r['history']:>18} {r['seed_s']:>7.2f} | "
            f"{spread(r['ms']):>14} {stmts(r):>5} {flagged:>7}"
        )
    header = (
        f"{'backend':10} {'years':>5} {'entries':>7} {'checkins':>8} {'sessions':>8} "
        f"{'seed s':>6} | {'brief ms':>12} {'stmts':>5} {'in window':>9}"
    )
    print()
    print(header)
    print("-" * len(header))
    for r in brief_rows:
        body = r["body"]
        daily = next(s for s in body["scores"] if s["instrument"] == "daily")
        in_window = f"{len(body['entries'])}e/{len(daily['points'])}d"
        print(
            f"{r['backend']:10} {r['size']:>5} {r['entries']:>7,} {r['checkins']:>8,} "
            f"{r['sessions']:>8} {r['seed_s']:>6.2f} | {spread(r['ms']):>12} {stmts(r):>5} "
            f"{in_window:>9}"
        )
    print("\nin window: shared journal entries / daily check-ins the brief returned")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url",
        help="a PostgreSQL server URL; the benchmark makes and drops its own database there "
        "(default: a SQLite file in a temporary folder)",
    )
    parser.add_argument("--caseloads", default="10,100,500", help="patients per therapist")
    parser.add_argument("--years", default="1,3,10", help="years of daily history per patient")
    parser.add_argument("--rounds", type=int, default=40, help="timed requests per size")
    parser.add_argument(
        "--caseload-years",
        type=int,
        default=0,
        help="also give every caseload patient this many years of daily history (slow to "
        "seed: 500 patients x 3 years is over a million rows)",
    )
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON here")
    args = parser.parse_args(argv)
    caseloads = [int(s) for s in args.caseloads.split(",")]
    years = [int(s) for s in args.years.split(",")]
    with fresh_database(args.database_url) as url:
        caseload_rows, brief_rows = run(url, caseloads, years, args.rounds, args.caseload_years)
    print_tables(caseload_rows, brief_rows, args.rounds)
    if args.json:  # ms: one per request; for bench/run_all.py
        keep = ("backend", "size", "history", "entries", "checkins", "sessions", "seed_s", "ms")
        Path(args.json).write_text(
            json.dumps(
                {
                    name: [
                        {k: r[k] for k in keep if k in r} | {"stmts": sorted(r["stmts"])}
                        for r in rows
                    ]
                    for name, rows in (("caseload", caseload_rows), ("brief", brief_rows))
                },
                indent=1,
            )
        )


if __name__ == "__main__":
    main()
