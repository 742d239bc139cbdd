"""The API under a realistic mixed load, served as in production, plus what a sync pull
costs the app beyond its database query.

On a fresh database (a SQLite file, or a uniquely named PostgreSQL database made and
dropped on the server of --database-url) it bulk-inserts patients with 60 days of history
(a journal entry and a daily check-in each day, a weekly PHQ-9, a dosing and an
integration session), therapists linked to them (each with TOTP on, as production asks),
one signed-in session per person minted straight into user_sessions with its signed
cookie (no argon2 per person; one POST /api/v1/auth/login checks the real sign-in too),
then starts gunicorn exactly as the Procfile's `web` line does, on 127.0.0.1 with
BETWEEN_ENV=production, and:

  1. times GET /api/v1/sync/changes?limit=200 for a patient with 1,000 journal entries
     against the bare SELECT of the same 200 rows on the same database, and the steps
     between (decrypting, ORM objects, serialising, the whole app in-process, HTTP);
  2. runs locust headless (bench/load_users.py) at each --users level for --seconds:
     patients pulling, writing entries, pushing batches, answering check-ins; a few
     therapists opening briefs and their caseload. Each user makes at most --rate
     requests/s, so 50 users offer 500 requests/s. Prints requests/s, p50/p95/p99 and
     failures by route, failures classified by status and message, the 5xx answers and
     exceptions in the server's own log, and where the machine's CPU went.

Targets under test: at least 500 mixed requests/s at 50 users with p95 under 100 ms on
PostgreSQL; no errors at 200 users. A benchmark, not a test: it asserts nothing about time.

    .venv/bin/python bench/load.py                                   # SQLite file
    .venv/bin/python bench/load.py --database-url postgresql://postgres@127.0.0.1:5432/postgres
    .venv/bin/python bench/load.py --users 50 --seconds 20 --json out.json
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import logging
import os
import random
import re
import resource
import secrets
import shlex
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
sys.path.insert(0, str(ROOT))
# One secret and one key ring for this process (seeding, minting cookies) and gunicorn.
os.environ["BETWEEN_ENV"] = "production"
os.environ["SECRET_KEY"] = "bench-load-" + secrets.token_urlsafe(40)
from server.crypto import new_key_spec  # noqa: E402

os.environ["FIELD_ENCRYPTION_KEYS"] = new_key_spec()
os.environ.pop("DATABASE_URL", None)
os.environ.pop("REDIS_URL", None)  # rate limits in memory: the load signs nobody in
# production requires both; the load's answers raise no flag, so no mail is ever sent
os.environ["PUBLIC_URL"] = "https://between.bench.example"
os.environ["SMTP_URL"] = "smtp://127.0.0.1:9"

import common  # noqa: E402
import requests  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from common import (  # noqa: E402
    BODY,
    PASSWORD,
    checkin_row,
    entry_row,
    free_port,
    fresh_database,
    insert_rows,
    session_row,
    tag_row,
)

from server.auth import passwords  # noqa: E402
from server.auth.models import Role, User, UserSession  # noqa: E402
from server.care.models import CareLink  # noqa: E402
from server.checkins.models import CheckIn  # noqa: E402
from server.extensions import db  # noqa: E402
from server.journal.models import EntryTag, JournalEntry  # noqa: E402
from server.sessions.models import SessionKind, TreatmentSession  # noqa: E402
from server.sync import service as sync_service  # noqa: E402
from server.sync.models import SyncClock  # noqa: E402
from server.sync.registry import REGISTRY  # noqa: E402

CHANGES = "/api/v1/sync/changes"
HISTORY_DAYS = 60
RATIO_ENTRIES = 1000
RATIO_LIMIT = 200


# -- database ----------------------------------------------------------------------------


def make_app(url: str):
    """The app on this database, migrated; its request log goes nowhere (but is written,
    so in-process timings pay for it as gunicorn's do)."""
    app = common.make_app(url)
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(open(os.devnull, "w"))  # noqa: SIM115
    return app


# -- seeding -----------------------------------------------------------------------------


def user_row(role: Role, label: str, password_hash: str, now: datetime) -> dict:
    uid = uuid.uuid4()
    return {
        "id": uid,
        "email": f"{role.value}-{label}-{uid.hex[:6]}@example.test",
        "password_hash": password_hash,
        "display_name": f"Bench {role.value.title()} {label}",
        "role": role,
        "timezone": "UTC",
        "locale": "en-US",
        "created_at": now - timedelta(days=HISTORY_DAYS + 30),
        "password_changed_at": now - timedelta(days=HISTORY_DAYS + 30),
        # production requires therapists to have two-factor sign-in on
        "totp_secret": "JBSWY3DPEHPK3PXP" if role is Role.THERAPIST else None,
        "totp_enabled": role is Role.THERAPIST,
        "totp_last_step": None,
    }


def patient_history(patient_id, therapist_id, now: datetime) -> dict[type, list[dict]]:
    """HISTORY_DAYS of daily history, numbered on the patient's sync clock in time order."""
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    day = timedelta(days=1)
    entries, tags, checkins, sessions = [], [], [], []
    for d in range(HISTORY_DAYS, 0, -1):
        date = midnight - d * day
        checkins.append(
            checkin_row(
                patient_id,
                "daily",
                {
                    "mood": 3 + d % 6,
                    "anxiety": 2 + d % 5,
                    "sleep_quality": 4 + d % 4,
                    "sleep_hours": 6 + d % 3,
                    "rumination": d % 7,
                    "note": "",
                    "safety": False,
                },
                date + timedelta(hours=8),
            )
        )
        if d % 7 == 1:
            answers = {f"phq9_{i}": (d // 7 + i) % 3 for i in range(1, 9)} | {"phq9_9": 0}
            checkins.append(checkin_row(patient_id, "phq9", answers, date + timedelta(hours=9)))
        at, shared = date + timedelta(hours=20), d % 3 != 0
        read_at = at + timedelta(days=1) if shared and d > 10 else None
        entry = entry_row(
            patient_id, at, n=d, shared=shared, read_at=read_at, for_session=d % 7 == 3
        )
        entries.append(entry)
        if d % 4 == 0:
            tags.append(tag_row(patient_id, entry["id"], "sleep", 0))
    for kind, days_ago in ((SessionKind.DOSING, 12), (SessionKind.INTEGRATION, 10)):
        at = midnight - days_ago * day + timedelta(hours=14)
        sessions.append(session_row(patient_id, therapist_id, kind, at, booked_at=at - 7 * day))
    ahead = midnight + 4 * day
    sessions.append(
        session_row(patient_id, therapist_id, SessionKind.PREPARATION, ahead, ahead - 7 * day)
    )
    stamped = sorted(
        [(e["written_at"], e) for e in entries]
        + [(c["answered_at"], c) for c in checkins]
        + [(s["created_at"], s) for s in sessions],
        key=lambda item: item[0],
    )
    for seq, (_at, row) in enumerate(stamped, start=1):
        row["change_seq"] = seq
    return {
        JournalEntry: entries,
        EntryTag: tags,
        CheckIn: checkins,
        TreatmentSession: sessions,
        SyncClock: [{"patient_id": patient_id, "counter": len(stamped)}],
    }


def mint_session(app, user_id: uuid.UUID, now: datetime) -> tuple[dict, str]:
    """A user_sessions row and the signed cookie the app itself would set for it."""
    token = secrets.token_urlsafe(32)
    row = {
        "id": uuid.uuid4(),
        "token_hash": hashlib.sha256(token.encode()).hexdigest(),
        "user_id": user_id,
        "created_at": now,
        "last_seen_at": now,
        "user_agent": "bench/load.py",
    }
    serializer = app.session_interface.get_signing_serializer(app)
    cookie = serializer.dumps({"sid": token, "_user_id": str(user_id), "_permanent": True})
    return row, cookie


def seed(app, n_patients: int, n_therapists: int) -> dict:
    """Everyone, in bulk. Returns the accounts for locust and the ratio patient."""
    now = datetime.now(UTC)
    password_hash = passwords.hash_password(PASSWORD)  # one argon2 hash for everyone
    therapists = [
        user_row(Role.THERAPIST, f"t{t}", password_hash, now) for t in range(n_therapists)
    ]
    patients = [user_row(Role.PATIENT, f"p{p}", password_hash, now) for p in range(n_patients)]
    ratio_patient = user_row(Role.PATIENT, "ratio", password_hash, now)
    rows: dict[type, list[dict]] = {
        User: therapists + patients + [ratio_patient],
        CareLink: [],
        JournalEntry: [],
        EntryTag: [],
        CheckIn: [],
        TreatmentSession: [],
        SyncClock: [],
        UserSession: [],
    }
    accounts = {"cookie_name": app.config["SESSION_COOKIE_NAME"], "patients": [], "therapists": []}
    caseloads: dict[int, list[str]] = {t: [] for t in range(n_therapists)}
    for p, patient in enumerate(patients):
        therapist = therapists[p % n_therapists]
        rows[CareLink].append(
            {
                "id": uuid.uuid4(),
                "therapist_id": therapist["id"],
                "patient_id": patient["id"],
                "created_at": now - timedelta(days=HISTORY_DAYS + 20),
                "ended_at": None,
                "ended_by_id": None,
            }
        )
        history = patient_history(patient["id"], therapist["id"], now)
        for model, more in history.items():
            rows[model].extend(more)
        session, cookie = mint_session(app, patient["id"], now)
        rows[UserSession].append(session)
        accounts["patients"].append(
            {
                "id": str(patient["id"]),
                "email": patient["email"],
                "cookie": cookie,
                "cursor": str(history[SyncClock][0]["counter"]),
            }
        )
        caseloads[p % n_therapists].append(str(patient["id"]))
    for t, therapist in enumerate(therapists):
        session, cookie = mint_session(app, therapist["id"], now)
        rows[UserSession].append(session)
        accounts["therapists"].append(
            {"id": str(therapist["id"]), "cookie": cookie, "patients": caseloads[t]}
        )

    # the ratio patient: journal entries only, numbered 1..RATIO_ENTRIES
    start = now - timedelta(minutes=RATIO_ENTRIES)
    for i in range(RATIO_ENTRIES):
        row = entry_row(
            ratio_patient["id"], start + timedelta(minutes=i), n=i, for_session=i % 7 == 3
        )
        row["change_seq"] = i + 1
        rows[JournalEntry].append(row)
    rows[SyncClock].append({"patient_id": ratio_patient["id"], "counter": RATIO_ENTRIES})
    session, ratio_cookie = mint_session(app, ratio_patient["id"], now)
    rows[UserSession].append(session)

    with app.app_context():
        for model, more in rows.items():
            insert_rows(model, more)
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(sa.text("ANALYZE"))
    counts = {model.__tablename__: len(more) for model, more in rows.items()}
    return {
        "accounts": accounts,
        "ratio": {"id": ratio_patient["id"], "cookie": ratio_cookie},
        "counts": counts,
    }


def refresh_cursors(app, accounts: dict) -> None:
    """Each device synced to the patient's head: the next run starts from there."""
    with app.app_context():
        heads = dict(db.session.execute(sa.select(SyncClock.patient_id, SyncClock.counter)).all())
        db.session.remove()
    for patient in accounts["patients"]:
        patient["cursor"] = str(heads.get(uuid.UUID(patient["id"]), 0))


# -- the web process ---------------------------------------------------------------------


def procfile_web() -> list[str]:
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.startswith("web:"):
            return shlex.split(line.split(":", 1)[1])
    raise SystemExit("no web: line in the Procfile")


def start_web(url: str, workers: int, threads: int, log_path: Path):
    """gunicorn as the Procfile starts it, bound to loopback only."""
    port = free_port()
    env = dict(os.environ)
    env.update(
        DATABASE_URL=url,
        WEB_CONCURRENCY=str(workers),
        WEB_THREADS=str(threads),
        GUNICORN_BIND=f"127.0.0.1:{port}",
        RATELIMIT_LOGIN="100000 per minute",
        RATELIMIT_REGISTER="100000 per minute",
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
    )
    log = open(log_path, "ab")  # noqa: SIM115
    proc = subprocess.Popen(procfile_web(), cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"gunicorn exited ({proc.returncode}); see {log_path}")
        try:
            if requests.get(base + "/healthz", timeout=2).status_code == 200:
                return proc, base, log
        except requests.RequestException:
            pass
        time.sleep(0.2)
    stop_web(proc, log)
    raise SystemExit(f"gunicorn did not answer /healthz within 60 s; see {log_path}")


def stop_web(proc, log) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    log.close()


# -- CPU accounting ----------------------------------------------------------------------

TICK = os.sysconf("SC_CLK_TCK")


def _proc_stat(pid: int) -> tuple[str, int, float] | None:
    """(command, parent pid, CPU seconds) of a process, or None once gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    comm = raw[raw.index("(") + 1 : raw.rindex(")")]
    fields = raw[raw.rindex(")") + 2 :].split()
    return comm, int(fields[1]), (int(fields[11]) + int(fields[12])) / TICK


def cpu_snapshot(gunicorn_pid: int) -> dict:
    """CPU seconds so far: gunicorn (master and workers), every postgres process on the
    machine, locust (children this process waited for) and the whole machine."""
    web = pg = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        stat = _proc_stat(int(entry.name))
        if stat is None:
            continue
        comm, ppid, seconds = stat
        if int(entry.name) == gunicorn_pid or ppid == gunicorn_pid:
            web += seconds
        elif comm == "postgres" or comm.startswith("postgres"):
            pg += seconds
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    ticks = [int(f) for f in fields]
    idle = ticks[3] + ticks[4]  # idle + iowait
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "web": web,
        "postgres": pg,
        "locust": children.ru_utime + children.ru_stime,
        "busy": (sum(ticks[:8]) - idle) / TICK,
        "total": sum(ticks[:8]) / TICK,
        "at": time.monotonic(),
    }


def cpu_used(before: dict, after: dict) -> dict:
    wall = after["at"] - before["at"]
    used = {k: after[k] - before[k] for k in ("web", "postgres", "locust", "busy")}
    used["other"] = used["busy"] - used["web"] - used["locust"] - used["postgres"]
    used["wall"] = wall
    used["cores"] = (after["total"] - before["total"]) / wall if wall else 0
    return used


# -- the server's own log ----------------------------------------------------------------


CAUSE = re.compile(r"^\s*([A-Za-z_][\w.]*(?:Error|Exception|Timeout)\w*): (.+)$")
SERVER_FRAME = re.compile(r'File "[^"]*/(server/[^"]+)", line (\d+), in (\w+)')


def describe_exception(record: dict) -> str:
    """An exception the app logged, named by its first cause's type and message (the
    driver's, when SQLAlchemy wraps one) and the app's innermost frame."""
    trace = record.get("trace") or []
    causes = [m for m in (CAUSE.match(line) for line in trace) if m]
    frames = [m for m in (SERVER_FRAME.search(line) for line in trace) if m]
    cause = f"{causes[0][1]}: {causes[0][2][:100]}" if causes else record.get("error", "?")
    where = f" in {frames[-1][1]}:{frames[-1][2]} ({frames[-1][3]})" if frames else ""
    return f"{cause}{where}"


def read_server_log(path: Path, offset: int) -> dict:
    """What the app and gunicorn logged since `offset`: answers by status, the server-side
    time of each answer, 5xx by route (with their server-side ms), exceptions by cause and
    where, gunicorn's own warnings and errors."""
    statuses, server_ms, gunicorn, exceptions = Counter(), [], Counter(), Counter()
    fivexx: dict[str, list[float]] = {}
    with open(path, "rb") as fh:
        fh.seek(offset)
        text = fh.read().decode(errors="replace")
    for line in text.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            if any(level in line for level in ("[ERROR]", "[CRITICAL]", "[WARNING]")):
                message = line.split("] ", 3)[-1]
                words = [w for w in message.split() if not w.strip("(pid:)!").isdigit()]
                gunicorn[" ".join(words)] += 1
            elif line.strip() and not line.startswith("["):
                gunicorn[line.strip()[:120]] += 1
            continue
        if record.get("msg") == "request" and "status" in record:
            statuses[record["status"]] += 1
            if isinstance(record.get("ms"), int | float):
                server_ms.append(record["ms"])
            if record["status"] >= 500:
                key = f"{record.get('method')} {record.get('route')} -> {record['status']}"
                fivexx.setdefault(key, []).append(record.get("ms") or 0)
        elif record.get("level") in ("ERROR", "CRITICAL") or "error" in record:
            exceptions[describe_exception(record)] += 1
    server_ms.sort()

    def pct(p: float):
        return server_ms[min(len(server_ms) - 1, int(p * len(server_ms)))] if server_ms else None

    return {
        "statuses": dict(statuses),
        "server_p50_ms": pct(0.50),
        "server_p95_ms": pct(0.95),
        "server_p99_ms": pct(0.99),
        "fivexx": {key: len(ms) for key, ms in fivexx.items()},
        "fivexx_ms": {key: statistics.median(ms) for key, ms in fivexx.items()},
        "exceptions": dict(exceptions),
        "gunicorn": dict(gunicorn),
    }


# -- the pull, against its bare query ----------------------------------------------------


def measure_ratio(app, base: str, ratio: dict, repeats: int) -> dict:
    """GET /sync/changes?limit=200 (the first page of 1,000 entries) through gunicorn and
    in-process, against the bare SELECT of the same rows and the steps in between."""
    model = JournalEntry
    synced = REGISTRY["journal_entry"]
    pid, cookie = ratio["id"], ratio["cookie"]
    url = f"{CHANGES}?since=0&limit={RATIO_LIMIT}"
    stmt = (
        sa.select(model.__table__)
        .where(model.patient_id == pid, model.change_seq > 0, model.change_seq <= RATIO_ENTRIES)
        .order_by(model.change_seq)
        .limit(RATIO_LIMIT + 1)
    )
    orm_stmt = (
        sa.select(model)
        .where(model.patient_id == pid, model.change_seq > 0, model.change_seq <= RATIO_ENTRIES)
        .options(*synced.load_options)
        .order_by(model.change_seq)
        .limit(RATIO_LIMIT + 1)
    )
    http = requests.Session()
    http.headers["Cookie"] = f"{app.config['SESSION_COOKIE_NAME']}={cookie}"
    client = app.test_client(use_cookies=False)
    headers = {"Cookie": f"{app.config['SESSION_COOKIE_NAME']}={cookie}"}

    with app.app_context():
        dialect = db.engine.dialect
        raw_sql = str(stmt.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
        engine = db.engine

        def bare_sql():
            with engine.connect() as conn:
                return len(conn.exec_driver_sql(raw_sql).fetchall())

        def core_decrypted():
            with engine.connect() as conn:
                return len(conn.execute(stmt).all())

        def orm_objects():
            rows = db.session.scalars(orm_stmt).all()
            db.session.rollback()
            return len(rows)

        def orm_serialised():
            rows = db.session.scalars(orm_stmt).all()
            out = [synced.serialize(r) for r in rows[:RATIO_LIMIT]]
            db.session.rollback()
            return len(out)

        def service_changes():
            actor = db.session.get(User, pid)
            page = sync_service.changes(actor, 0, RATIO_LIMIT)
            db.session.rollback()
            return len(page["changes"])

        def app_in_process():
            response = client.get(url, headers=headers)
            assert response.status_code == 200, response.status_code
            return len(response.json["changes"])

        def app_over_http():
            response = http.get(base + url, timeout=30)
            assert response.status_code == 200, response.status_code
            return len(response.json()["changes"])

        steps = {
            "bare SQL (driver rows)": bare_sql,
            "+ decrypt (Core select)": core_decrypted,
            "+ ORM objects, tags": orm_objects,
            "+ serialise rows": orm_serialised,
            "sync service (all types)": service_changes,
            "app in-process": app_in_process,
            "app via gunicorn HTTP": app_over_http,
        }
        times: dict[str, list[float]] = {name: [] for name in steps}
        for name, fn in steps.items():  # warm: connections, statement caches, imports
            for _ in range(3):
                got = fn()
            assert got in (RATIO_LIMIT, RATIO_LIMIT + 1), (name, got)
        for _ in range(repeats):  # round-robin: machine noise falls on every step alike
            for name, fn in steps.items():
                started = time.perf_counter()
                fn()
                times[name].append((time.perf_counter() - started) * 1000)
        db.session.remove()
    http.close()
    bare = statistics.median(times["bare SQL (driver rows)"])
    return {
        "rows": RATIO_LIMIT,
        "repeats": repeats,
        "steps": {
            name: {
                "median_ms": statistics.median(ms),
                "min_ms": min(ms),
                "max_ms": max(ms),
                "x_bare": statistics.median(ms) / bare,
            }
            for name, ms in times.items()
        },
        "ratio_http": statistics.median(times["app via gunicorn HTTP"]) / bare,
        "ratio_in_process": statistics.median(times["app in-process"]) / bare,
        # against SQLAlchemy's own select of the table: its column types decrypt and convert
        "ratio_http_core": statistics.median(times["app via gunicorn HTTP"])
        / statistics.median(times["+ decrypt (Core select)"]),
    }


# -- what each kind of request costs ------------------------------------------------------

# the share of each request kind in the load: bench/load_users.py's task weights
PATIENT_TASKS = {"pull": 8, "write entry": 3, "push": 2, "check-in": 1}
THERAPIST_TASKS = {"brief": 3, "caseload": 1}


def measure_costs(app, accounts: dict, rounds: int) -> dict:
    """Each kind of request the load makes, in-process, one at a time: wall time, the CPU
    time of this process (the app, and SQLite itself; PostgreSQL's own work is in its
    server process) and the SQL statements sent. The app's CPU per request bounds what
    2 cores can serve, whatever the database does."""
    patient, therapist = accounts["patients"][-1], accounts["therapists"][-1]
    cookie = app.config["SESSION_COOKIE_NAME"]
    as_patient = {"Cookie": f"{cookie}={patient['cookie']}"}
    as_therapist = {"Cookie": f"{cookie}={therapist['cookie']}"}
    client = app.test_client(use_cookies=False)
    cursor = [patient["cursor"]]
    counted = [0]

    def count(*_args, **_kw):
        counted[0] += 1

    def call(method, url, headers, expect, **kw):
        response = client.open(url, method=method, headers=headers, **kw)
        assert response.status_code == expect, (url, response.status_code, response.json)
        return response.json

    def pull():
        cursor[0] = call("GET", f"{CHANGES}?since={cursor[0]}&limit=200", as_patient, 200)["cursor"]

    def write_entry():
        call(
            "POST",
            "/api/v1/journal/entries",
            as_patient,
            201,
            json={
                "id": str(uuid.uuid4()),
                "title": "After the session",
                "body": BODY,
                "mood": 5,
                "emotions": ["calm", "tired"],
                "tags": ["bench"],
                "shared": True,
                "written_at": datetime.now(UTC).isoformat(),
            },
        )

    def push():
        ops = [
            {
                "op_id": str(uuid.uuid4()),
                "type": "journal_entry",
                "id": str(uuid.uuid4()),
                "base_version": None,
                "action": "upsert",
                "data": {"body": BODY, "title": "Written offline", "tags": ["offline"]},
            }
            for _ in range(2)
        ]
        call("POST", "/api/v1/sync/push", as_patient, 200, json={"ops": ops})

    def check_in():
        answers = {"mood": 5, "anxiety": 3, "sleep_quality": 6, "sleep_hours": 7}
        answers |= {"rumination": 2, "note": "", "safety": False}
        call(
            "POST",
            "/api/v1/checkins",
            as_patient,
            201,
            json={
                "id": str(uuid.uuid4()),
                "instrument": "daily",
                "answers": answers,
                "answered_at": datetime.now(UTC).isoformat(),
            },
        )

    def brief():
        call("GET", f"/api/v1/patients/{therapist['patients'][0]}/brief", as_therapist, 200)

    def caseload():
        call("GET", "/api/v1/caseload", as_therapist, 200)

    def signed_in_nothing():  # the floor: sign-in check, hooks, a JSON answer, no work
        call("GET", "/api/v1/no-such-route", as_patient, 404)

    def anonymous_nothing():
        call("GET", "/api/v1/no-such-route", {}, 404)

    kinds = {
        "pull": pull,
        "write entry": write_entry,
        "push": push,
        "check-in": check_in,
        "brief": brief,
        "caseload": caseload,
        "floor: signed-in 404": signed_in_nothing,
        "floor: anonymous 404": anonymous_nothing,
    }
    samples = {name: {"wall": [], "cpu": [], "stmts": []} for name in kinds}
    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        for fn in kinds.values():  # warm
            fn()
            fn()
        for _ in range(rounds):
            for name, fn in kinds.items():
                counted[0] = 0
                cpu, wall = time.process_time(), time.perf_counter()
                fn()
                samples[name]["wall"].append((time.perf_counter() - wall) * 1000)
                samples[name]["cpu"].append((time.process_time() - cpu) * 1000)
                samples[name]["stmts"].append(counted[0])
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    return {
        name: {
            "wall_ms": statistics.median(s["wall"]),
            "cpu_ms": statistics.mean(s["cpu"]),  # process_time ticks coarsely: a mean
            "stmts": statistics.median(s["stmts"]),
        }
        for name, s in samples.items()
    }


def mix_cpu_ms(costs: dict, users: int, therapists: int) -> float:
    """The app's mean CPU per request of the load's mix at this many users."""
    patients = users - therapists
    share = {}
    for tasks, people in ((PATIENT_TASKS, patients), (THERAPIST_TASKS, therapists)):
        weight = sum(tasks.values())
        for name, w in tasks.items():
            share[name] = people / users * w / weight
    return sum(share[name] * costs[name]["cpu_ms"] for name in share)


def print_costs(costs: dict, rounds: int, levels: list[int]) -> None:
    print(
        f"\n  each kind of request in-process, one at a time: median wall ms, mean CPU ms "
        f"of this process, SQL statements ({rounds} of each, round-robin):"
    )
    for name, c in costs.items():
        print(
            f"    {name:21} {c['wall_ms']:7.1f} ms wall {c['cpu_ms']:7.1f} ms CPU "
            f"{c['stmts']:5.0f} statements"
        )
    for users in levels:
        therapists = max(2, round(users / 25))
        cpu = mix_cpu_ms(costs, users, therapists)
        print(
            f"  the mix at {users} users: {cpu:.1f} ms of app CPU per request in-process, so "
            f"{os.cpu_count()} cores doing nothing else could serve at most "
            f"{os.cpu_count() * 1000 / cpu:.0f} requests/s (before HTTP and gunicorn)"
        )


def sign_in_once(base: str, email: str) -> int:
    """The real sign-in path, once: the bulk-inserted hash and the raised limit work."""
    response = requests.post(
        base + "/api/v1/auth/login", json={"email": email, "password": PASSWORD}, timeout=30
    )
    return response.status_code


# -- locust ------------------------------------------------------------------------------


def run_locust(
    base: str,
    users: int,
    seconds: int,
    rate: float,
    accounts_path: Path,
    out: Path,
    therapists: int,
) -> dict:
    prefix = out / f"locust_{users}"
    env = dict(os.environ)
    env.update(
        BENCH_LOAD_USERS=str(accounts_path),
        BENCH_LOAD_RATE=str(rate),
        BENCH_LOAD_THERAPISTS=str(therapists),
    )
    command = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(BENCH / "load_users.py"),
        "--headless",
        "--users",
        str(users),
        "--spawn-rate",
        str(users),
        "--run-time",
        f"{seconds}s",
        "--stop-timeout",
        "10",
        "--host",
        base,
        "--csv",
        str(prefix),
        "--reset-stats",
        "--only-summary",
        "--loglevel",
        "WARNING",
        "--exit-code-on-error",
        "0",
    ]
    done = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=seconds + 120
    )
    stats_csv = Path(f"{prefix}_stats.csv")
    if not stats_csv.exists():
        raise SystemExit(f"locust wrote no stats (rc {done.returncode}):\n{done.stderr[-3000:]}")
    routes = {}
    with open(stats_csv) as fh:
        for row in csv.DictReader(fh):
            name = row["Name"] if row["Name"] != "Aggregated" else "all"
            label = name if name == "all" else f"{row['Type']} {name}"
            routes[label] = {
                "requests": int(row["Request Count"]),
                "failures": int(row["Failure Count"]),
                "rps": float(row["Requests/s"]),
                "p50": _num(row["50%"]),
                "p95": _num(row["95%"]),
                "p99": _num(row["99%"]),
                "max": _num(row["Max Response Time"]),
            }
    failures = []
    failures_csv = Path(f"{prefix}_failures.csv")
    if failures_csv.exists():
        with open(failures_csv) as fh:
            for row in csv.DictReader(fh):
                failures.append(
                    {
                        "route": f"{row['Method']} {row['Name']}",
                        "error": row["Error"],
                        "count": int(row["Occurrences"]),
                    }
                )
    warnings = [
        line.strip()
        for line in (done.stderr or "").splitlines()
        if "CPU usage" in line or "Traceback" in line
    ]
    return {"routes": routes, "failures": failures, "locust_warnings": warnings[:20]}


def _num(value: str):
    try:
        return float(value)
    except ValueError:
        return None


# -- main --------------------------------------------------------------------------------


def run(
    database_url: str | None,
    levels: list[int],
    seconds: int,
    rate: float,
    workers: int,
    threads: int,
    repeats: int,
    out: Path,
    cost_rounds: int = 30,
) -> dict:
    n_patients = max(levels)
    n_therapists = max(2, round(max(levels) / 25))
    with fresh_database(database_url) as url:
        app = make_app(url)
        with app.app_context():
            backend = db.engine.dialect.name
            server_version = ".".join(str(v) for v in db.engine.dialect.server_version_info)
        started = time.perf_counter()
        seeded = seed(app, n_patients, n_therapists)
        seed_s = time.perf_counter() - started
        accounts = seeded["accounts"]
        print(
            f"\n[{backend} {server_version}] seeded in {seed_s:.1f} s: "
            + ", ".join(f"{n:,} {table}" for table, n in seeded["counts"].items())
        )
        log_path = out / f"gunicorn_{backend}.log"
        proc, base, log = start_web(url, workers, threads, log_path)
        result = {
            "backend": backend,
            "server_version": server_version,
            "workers": workers,
            "threads": threads,
            "rate_per_user": rate,
            "seconds": seconds,
            "seed_s": seed_s,
            "counts": seeded["counts"],
            "runs": [],
        }
        try:
            result["login_status"] = sign_in_once(base, accounts["patients"][0]["email"])
            print(f"  one real POST /api/v1/auth/login: {result['login_status']}")
            result["ratio"] = measure_ratio(app, base, seeded["ratio"], repeats)
            print_ratio(result["ratio"])
            result["costs"] = measure_costs(app, accounts, cost_rounds)
            print_costs(result["costs"], cost_rounds, levels)
            result["mix_cpu_ms"] = {
                str(u): mix_cpu_ms(result["costs"], u, max(2, round(u / 25))) for u in levels
            }
            for users in levels:
                refresh_cursors(app, accounts)
                accounts_path = out / "accounts.json"
                accounts_path.write_text(json.dumps(accounts))
                therapists = max(2, round(users / 25))
                offset = log_path.stat().st_size
                before = cpu_snapshot(proc.pid)
                stats = run_locust(base, users, seconds, rate, accounts_path, out, therapists)
                cpu = cpu_used(before, cpu_snapshot(proc.pid))
                server = read_server_log(log_path, offset)
                run_result = {
                    "users": users,
                    "therapists": therapists,
                    **stats,
                    "server": server,
                    "cpu": cpu,
                }
                result["runs"].append(run_result)
                print_run(backend, run_result, rate)
        finally:
            stop_web(proc, log)
            with app.app_context():
                db.session.remove()
                db.engine.dispose()
    return result


def print_ratio(ratio: dict) -> None:
    print(
        f"\n  GET {CHANGES}?limit={ratio['rows']} (the first {ratio['rows']} of "
        f"{RATIO_ENTRIES:,} entries) against the bare SELECT of the same rows, median of "
        f"{ratio['repeats']}:"
    )
    for name, s in ratio["steps"].items():
        print(
            f"    {name:26} {s['median_ms']:8.2f} ms  ({s['min_ms']:.2f}–{s['max_ms']:.2f})"
            f"  x{s['x_bare']:.1f}"
        )
    print(
        f"  ratio, API (gunicorn HTTP) / bare SQL: {ratio['ratio_http']:.1f}; "
        f"in-process: {ratio['ratio_in_process']:.1f}; API / SQLAlchemy Core select of the "
        f"table (decrypting): {ratio['ratio_http_core']:.1f}"
    )


def print_run(backend: str, run_result: dict, rate: float) -> None:
    users, routes = run_result["users"], run_result["routes"]
    therapists = run_result["therapists"]
    print(
        f"\n  {users} users ({users - therapists} patients, {therapists} therapists), "
        f"offering up to {users * rate:.0f} requests/s:"
    )
    header = (
        f"    {'route':44} {'reqs':>7} {'fail':>5} {'req/s':>7} {'p50':>6} {'p95':>6} {'p99':>6}"
    )
    print(header)
    for name, r in sorted(routes.items(), key=lambda kv: (kv[0] == "all", kv[0])):
        print(
            f"    {name:44} {r['requests']:>7} {r['failures']:>5} {r['rps']:>7.1f} "
            f"{_ms(r['p50']):>6} {_ms(r['p95']):>6} {_ms(r['p99']):>6}"
        )
    server = run_result["server"]
    print(
        f"    server-side time (the app's own log), all answers: p50 {server['server_p50_ms']} "
        f"ms, p95 {server['server_p95_ms']} ms, p99 {server['server_p99_ms']} ms; "
        f"statuses {dict(sorted(server['statuses'].items()))}"
    )
    for f in run_result["failures"]:
        print(f"    FAILED {f['count']:>6} x {f['route']}: {f['error']}")
    for what, n in server["fivexx"].items():
        print(f"    server 5xx {n:>6} x {what} (median {server['fivexx_ms'][what]:.0f} ms)")
    for what, n in server["exceptions"].items():
        print(f"    server exception {n:>6} x {what}")
    for what, n in server["gunicorn"].items():
        print(f"    gunicorn {n:>6} x {what}")
    for line in run_result["locust_warnings"]:
        print(f"    locust: {line}")
    cpu = run_result["cpu"]
    wall = cpu["wall"]
    print(
        f"    CPU over {wall:.0f} s on {cpu['cores']:.0f} cores, in cores busy: gunicorn "
        f"{cpu['web'] / wall:.2f}, postgres (all databases) {cpu['postgres'] / wall:.2f}, locust "
        f"{cpu['locust'] / wall:.2f}, everything else {cpu['other'] / wall:.2f}; machine "
        f"{cpu['busy'] / wall:.2f} of {cpu['cores']:.0f}"
    )
    total = routes.get("all", {}).get("requests") or 0
    if total:
        print(f"    gunicorn CPU per request: {cpu['web'] / total * 1000:.1f} ms")


def _ms(value) -> str:
    return "-" if value is None else f"{value:.0f}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url",
        help="a PostgreSQL server URL; the benchmark makes and drops its own database there "
        "(default: a SQLite file in a temporary folder)",
    )
    parser.add_argument("--users", default="50,200", help="concurrent users, one run each")
    parser.add_argument("--seconds", type=int, default=40, help="length of each run")
    parser.add_argument("--rate", type=float, default=10.0, help="requests/s per user, at most")
    parser.add_argument(
        "--workers",
        type=int,
        default=int(os.environ.get("WEB_CONCURRENCY") or 2),
        help="gunicorn processes (WEB_CONCURRENCY); 2 for 2 cores",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=int(os.environ.get("WEB_THREADS") or 4),
        help="threads per gunicorn process (WEB_THREADS)",
    )
    parser.add_argument("--repeats", type=int, default=40, help="timed pulls per ratio step")
    parser.add_argument(
        "--cost-rounds", type=int, default=30, help="in-process requests of each kind, timed"
    )
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON here")
    parser.add_argument("--keep", metavar="DIR", help="keep locust CSVs and the gunicorn log here")
    args = parser.parse_args(argv)
    levels = [int(u) for u in args.users.split(",")]
    random.seed(1)
    print(
        f"{os.cpu_count()} cores; gunicorn {args.workers} workers x {args.threads} threads "
        f"(gthread), BETWEEN_ENV=production; locust runs of {args.seconds} s at "
        f"{', '.join(map(str, levels))} users, each at most {args.rate:g} requests/s"
    )
    with tempfile.TemporaryDirectory(prefix="between-load-") as tmp:
        out = Path(args.keep) if args.keep else Path(tmp)
        out.mkdir(parents=True, exist_ok=True)
        result = run(
            args.database_url,
            levels,
            args.seconds,
            args.rate,
            args.workers,
            args.threads,
            args.repeats,
            out,
            args.cost_rounds,
        )
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1, default=str))


if __name__ == "__main__":
    main()
