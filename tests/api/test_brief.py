"""The therapist's caseload, pre-session brief and the patient's access log."""

import re
import uuid
from datetime import datetime, timedelta

from sqlalchemy import insert, select

from server.audit.models import AuditEvent
from server.auth.models import Role, User
from server.care.models import CareLink
from server.checkins.models import CheckIn
from server.db import utcnow
from server.extensions import db
from server.journal.models import JournalEntry
from server.reminders.models import ReminderOccurrence
from tests.factories import counting_statements
from tests.unit.test_scoring import answers_totalling

ENTRIES = "/api/v1/journal/entries"


def write(patient, body, days_ago, shared=True, **extra):
    written = (utcnow() - timedelta(days=days_ago)).isoformat()
    response = patient.post(
        ENTRIES, json={"body": body, "shared": shared, "written_at": written, **extra}
    )
    assert response.status_code == 201
    return response.json


def phq9(patient, total, days_ago, **extra):
    answers = {**answers_totalling("phq9", total, 9), **extra}
    response = patient.post(
        "/api/v1/checkins",
        json={
            "instrument": "phq9",
            "answers": answers,
            "answered_at": (utcnow() - timedelta(days=days_ago)).isoformat(),
        },
    )
    assert response.status_code == 201
    return response.json


def test_brief_holds_exactly_the_shared_items_of_the_window(therapist, make_patient, patient, link):
    link(therapist, patient)
    other = make_patient()
    link(therapist, other)
    therapist.post(
        f"/api/v1/patients/{patient.id}/sessions",
        json={
            "kind": "integration",
            "duration_minutes": 60,
            "starts_at": (utcnow() - timedelta(days=10)).isoformat(),
        },
    )
    write(patient, "before the window", 12)
    inside = write(patient, "shared, inside", 5, for_session=True, title="the lake")
    write(patient, "private, inside", 4, shared=False)
    write(other, "another patient's shared words", 3)
    phq9(patient, 16, 20)
    phq9(patient, 12, 11)
    phq9(patient, 9, 2)
    patient.put(
        "/api/v1/plan",
        json={"version": 0, "shared": True, "warning_signs": [{"text": "sleeping late"}]},
    )
    patient.post("/api/v1/parts", json={"name": "Watcher"})
    patient.put("/api/v1/parts/map", json={"shared": True})

    brief = therapist.get(f"/api/v1/patients/{patient.id}/brief").json
    assert [e["body"] for e in brief["entries"]] == ["shared, inside"]
    assert brief["unread_entries"] == 1
    assert brief["bring_to_session"] == [
        {"id": inside["id"], "title": "the lake", "written_at": inside["written_at"]}
    ]
    phq = next(s for s in brief["scores"] if s["instrument"] == "phq9")
    assert [p["value"] for p in phq["points"]] == [9]
    assert phq["baseline"] == 16 and phq["change_from_baseline"] == -7
    assert phq["previous_window_latest"] == 12 and phq["change_from_previous_window"] == -3
    assert [r["summary"] for r in brief["plan"]["revisions"]] == [
        "warning signs: 1 added; shared changed"
    ]
    assert [c["text"] for c in brief["parts"]["changes"]] == ["added the part 'Watcher'"]
    text = str(brief)
    assert "private, inside" not in text and "before the window" not in text
    assert "another patient" not in text


def test_unshared_plan_and_map_stay_out_of_the_brief(therapist, patient, link):
    link(therapist, patient)
    patient.put("/api/v1/plan", json={"version": 0, "warning_signs": [{"text": "x"}]})
    patient.post("/api/v1/parts", json={"name": "Hidden"})
    brief = therapist.get(f"/api/v1/patients/{patient.id}/brief").json
    assert brief["plan"]["revisions"] == [] and brief["plan"]["shared"] is False
    assert brief["parts"] == {"shared": False, "changes": []}
    assert "Hidden" not in str(brief)


def test_brief_is_for_linked_therapists_only(make_therapist, patient):
    stranger = make_therapist()
    assert stranger.get(f"/api/v1/patients/{patient.id}/brief").status_code == 404
    assert patient.get(f"/api/v1/patients/{patient.id}/brief").status_code == 404


def test_caseload_shows_flags_first_and_what_matters(therapist, make_patient, link):
    calm, worried = make_patient(), make_patient()
    link(therapist, calm)
    link(therapist, worried)
    phq9(calm, 14, 9)
    phq9(calm, 8, 1)
    write(calm, "shared", 1)
    phq9(worried, 10, 1, phq9_9=1)
    rows = therapist.get("/api/v1/caseload").json
    assert [r["patient_id"] for r in rows] == [worried.id, calm.id]
    first, second = rows
    assert first["open_flags"] == 1 and second["open_flags"] == 0
    assert second["latest_phq9"] == 8 and second["phq9_change"] == -6
    assert second["unread_shared_entries"] == 1
    by_name = therapist.get("/api/v1/caseload?sort=name").json
    assert [r["display_name"] for r in by_name] == sorted(r["display_name"] for r in rows)
    assert therapist.get("/api/v1/caseload?sort=shoe-size").status_code == 422


def _seed_caseload(app, therapist_id, n):
    """n more linked patients, written straight to the database (no argon2 per patient)."""
    with app.app_context():
        ids = [uuid.uuid4() for _ in range(n)]
        now = utcnow()
        db.session.execute(
            insert(User),
            [
                {
                    "id": i,
                    "email": f"{i.hex}@example.test",
                    "password_hash": "x",
                    "display_name": f"Patient {i.hex[:6]}",
                    "role": Role.PATIENT,
                    "timezone": "UTC",
                    "locale": "en-US",
                    "created_at": now,
                    "password_changed_at": now,
                }
                for i in ids
            ],
        )
        db.session.execute(
            insert(CareLink),
            [
                {
                    "id": uuid.uuid4(),
                    "therapist_id": uuid.UUID(therapist_id),
                    "patient_id": i,
                    "created_at": now,
                }
                for i in ids
            ],
        )
        db.session.execute(
            insert(CheckIn),
            [
                {
                    "id": uuid.uuid4(),
                    "patient_id": i,
                    "instrument": "phq9",
                    "answers": answers_totalling("phq9", 9, 9),
                    "answered_at": now - timedelta(days=d),
                    "answered_offset_minutes": 0,
                    "score": 9,
                    "severity": "mild",
                    "complete": True,
                    "note_private": False,
                    "created_at": now,
                    "version": 1,
                    "deleted": False,
                    "change_seq": 0,
                }
                for i in ids
                for d in (1, 8)
            ],
        )
        db.session.commit()


def _seed_history(app, patient_id, days):
    """A daily entry and check-in for `days` days back."""
    with app.app_context():
        now = utcnow()
        pid = uuid.UUID(patient_id)
        db.session.execute(
            insert(JournalEntry),
            [
                {
                    "id": uuid.uuid4(),
                    "patient_id": pid,
                    "title": "",
                    "body": "old day",
                    "emotions": [],
                    "part_ids": [],
                    "kind": "free",
                    "shared": True,
                    "for_session": False,
                    "written_at": now - timedelta(days=d),
                    "written_offset_minutes": 0,
                    "created_at": now,
                    "updated_at": now,
                    "version": 1,
                    "deleted": False,
                    "change_seq": 0,
                }
                for d in range(30, days)
            ],
        )
        db.session.execute(
            insert(CheckIn),
            [
                {
                    "id": uuid.uuid4(),
                    "patient_id": pid,
                    "instrument": "daily",
                    "answers": {"mood": 5},
                    "answered_at": now - timedelta(days=d),
                    "answered_offset_minutes": 0,
                    "score": None,
                    "severity": None,
                    "complete": True,
                    "note_private": False,
                    "created_at": now,
                    "version": 1,
                    "deleted": False,
                    "change_seq": 0,
                }
                for d in range(30, days)
            ],
        )
        db.session.commit()


def test_statement_counts_do_not_grow_with_caseload_or_history(app, therapist, patient, link):
    link(therapist, patient)
    write(patient, "recent", 2)
    phq9(patient, 11, 3)
    _seed_caseload(app, therapist.id, 4)
    with counting_statements(app) as small:
        assert len(therapist.get("/api/v1/caseload").json) == 5
    _seed_caseload(app, therapist.id, 45)
    with counting_statements(app) as large:
        assert len(therapist.get("/api/v1/caseload").json) == 50
    assert small["n"] == large["n"]

    url = f"/api/v1/patients/{patient.id}/brief"
    with counting_statements(app) as short:
        assert therapist.get(url).status_code == 200
    _seed_history(app, patient.id, 5 * 365)
    with counting_statements(app) as long:
        brief = therapist.get(url).json
    assert short["n"] == long["n"]
    assert [e["body"] for e in brief["entries"]] == ["recent"]


def _audit_rows(app):
    with app.app_context():
        rows = db.session.scalars(select(AuditEvent).where(AuditEvent.actor_role == "therapist"))
        return [(r.at, r.object_type) for r in rows]


def test_each_therapist_read_is_one_audit_row_in_the_patients_access_log(
    app, therapist, patient, link
):
    link(therapist, patient)
    entry = write(patient, "for you", 1)
    patient.put("/api/v1/plan", json={"version": 0, "shared": True})
    base = f"/api/v1/patients/{patient.id}"
    reads = [
        ("GET", f"{base}/journal/entries", "journal_entry"),
        ("POST", f"{base}/journal/entries/{entry['id']}/read", "journal_entry"),
        ("GET", f"{base}/plan", "plan"),
        ("GET", f"{base}/checkins", "checkin"),
        ("GET", f"{base}/checkins/trends?instrument=phq9", "checkin_trend"),
        ("GET", f"{base}/sessions", "treatment_session"),
        ("GET", f"{base}/brief", "brief"),
        ("GET", "/api/v1/caseload", "caseload"),
    ]
    for n, (method, url, object_type) in enumerate(reads, start=1):
        response = therapist.client.open(url, method=method)
        assert response.status_code == 200, url
        rows = _audit_rows(app)
        assert len(rows) == n, url  # exactly one more
        assert max(rows)[1] == object_type

    log = patient.get("/api/v1/me/access-log").json["events"]
    assert len(log) == len(reads)
    assert [e["object_type"] for e in log] == [t for _, _, t in reversed(reads)]
    assert all(e["actor_name"].startswith("Test Therapist") for e in log)
    assert log[-1]["object_ids"] == [entry["id"]]
    page = patient.get("/api/v1/me/access-log?limit=3").json
    rest = patient.get(f"/api/v1/me/access-log?limit=10&cursor={page['next_cursor']}").json
    assert [e["object_type"] for e in page["events"] + rest["events"]] == [
        e["object_type"] for e in log
    ]


def test_access_log_is_mine_alone(make_patient, therapist, link):
    a, b = make_patient(), make_patient()
    link(therapist, a)
    therapist.get(f"/api/v1/patients/{a.id}/journal/entries")
    assert len(a.get("/api/v1/me/access-log").json["events"]) == 1
    assert b.get("/api/v1/me/access-log").json["events"] == []
    assert therapist.get("/api/v1/me/access-log").status_code == 404


def test_caseload_activity_does_not_reveal_private_writing(therapist, patient, link):
    link(therapist, patient)
    write(patient, "shared long ago", 20)
    write(patient, "private, today", 0, shared=False)
    row = therapist.get("/api/v1/caseload").json[0]
    last = datetime.fromisoformat(row["last_activity_at"])
    assert utcnow() - last > timedelta(days=19)


def test_brief_plan_revisions_say_item_by_item_what_changed(therapist, patient, link):
    link(therapist, patient)
    patient.put(
        "/api/v1/plan", json={"version": 0, "shared": True, "coping_steps": [{"text": "walk"}]}
    )
    patient.put(
        "/api/v1/plan",
        json={"version": 1, "coping_steps": [{"text": "walk"}, {"text": "call Ana"}]},
    )
    revisions = therapist.get(f"/api/v1/patients/{patient.id}/brief").json["plan"]["revisions"]
    assert [r["diff"]["sections"]["coping_steps"]["added"] for r in revisions] == [
        [{"text": "walk"}],
        [{"text": "call Ana"}],
    ]


# -- issue 19: the therapist's two minutes before a session ----------------------------


def session(therapist, patient, days_ago, kind="integration", minutes=60):
    response = therapist.post(
        f"/api/v1/patients/{patient.id}/sessions",
        json={
            "kind": kind,
            "duration_minutes": minutes,
            "starts_at": (utcnow() - timedelta(days=days_ago)).isoformat(),
        },
    )
    assert response.status_code == 201, response.json
    return response.json


def gad7(patient, total, days_ago):
    response = patient.post(
        "/api/v1/checkins",
        json={
            "instrument": "gad7",
            "answers": answers_totalling("gad7", total, 7),
            "answered_at": (utcnow() - timedelta(days=days_ago)).isoformat(),
        },
    )
    assert response.status_code == 201
    return response.json


def daily(patient, days_ago, note, private=False):
    response = patient.post(
        "/api/v1/checkins",
        json={
            "instrument": "daily",
            "note_private": private,
            "answered_at": (utcnow() - timedelta(days=days_ago)).isoformat(),
            "answers": {
                "mood": 5,
                "anxiety": 4,
                "sleep_quality": 6,
                "sleep_hours": 7,
                "rumination": 3,
                "safety": False,
                "note": note,
            },
        },
    )
    assert response.status_code == 201
    return response.json


def card(brief, instrument):
    return next(s for s in brief["scores"] if s["instrument"] == instrument)


def test_a_rise_since_the_last_session_reads_as_worse(therapist, patient, link):
    """PHQ-9 6 before the last session and 14 after it: +8, worse, in the summary, and
    the caseload row is not on track, even after the flag the rise came with is
    acknowledged."""
    link(therapist, patient)
    phq9(patient, 14, 40)  # the first score ever: the baseline equals the latest
    phq9(patient, 6, 30)
    session(therapist, patient, 20)
    phq9(patient, 14, 2, phq9_9=0)
    gad7(patient, 5, 25)
    gad7(patient, 7, 1)

    brief = therapist.get(f"/api/v1/patients/{patient.id}/brief").json
    phq = card(brief, "phq9")
    assert (phq["previous"], phq["latest"], phq["change"]) == (6, 14, 8)
    assert phq["direction"] == "worse"
    assert phq["baseline"] == 14 and phq["change_from_baseline"] == 0
    gad = card(brief, "gad7")
    assert (gad["previous"], gad["latest"], gad["change"], gad["direction"]) == (5, 7, 2, "worse")
    assert [s["instrument"] for s in brief["scores"]][:2] == ["phq9", "gad7"]
    assert "PHQ-9 6 → 14 (+8)" in brief["summary"]
    assert "GAD-7 5 → 7 (+2)" in brief["summary"]
    assert brief["not_on_track"] == {"reasons": ["PHQ-9 up 8 since last session (6 → 14)"]}

    row = therapist.get("/api/v1/caseload").json[0]
    assert row["not_on_track"] == {"reasons": ["PHQ-9 up 8 since last session (6 → 14)"]}

    phq9(patient, 14, 1, phq9_9=1)  # 15, with item 9 answered
    flag = therapist.get("/api/v1/flags?status=open").json[0]
    therapist.post(f"/api/v1/flags/{flag['id']}/acknowledge", json={"action": "seen_in_session"})
    row = therapist.get("/api/v1/caseload").json[0]
    assert row["open_flag"] is None
    assert row["not_on_track"]["reasons"] == ["PHQ-9 up 9 since last session (6 → 15)"]


def test_a_fall_reads_as_better_and_no_score_has_no_direction(therapist, patient, link):
    link(therapist, patient)
    phq9(patient, 15, 30)
    session(therapist, patient, 20)
    phq9(patient, 7, 2)
    brief = therapist.get(f"/api/v1/patients/{patient.id}/brief").json
    phq = card(brief, "phq9")
    assert (phq["previous"], phq["latest"], phq["change"], phq["direction"]) == (
        15,
        7,
        -8,
        "better",
    )
    gad = card(brief, "gad7")
    assert (gad["previous"], gad["latest"], gad["change"], gad["direction"]) == (
        None,
        None,
        None,
        None,
    )
    assert brief["not_on_track"] is None
    assert therapist.get("/api/v1/caseload").json[0]["not_on_track"] is None


def test_lapsed_check_ins_are_not_on_track(therapist, patient, link):
    link(therapist, patient)
    phq9(patient, 8, 9)
    row = therapist.get("/api/v1/caseload").json[0]
    assert row["not_on_track"] == {"reasons": ["No check-in for 9 days"]}
    phq9(patient, 8, 0)
    assert therapist.get("/api/v1/caseload").json[0]["not_on_track"] is None


def test_a_patient_who_never_answered_is_not_lapsed(therapist, patient, link):
    link(therapist, patient)
    assert therapist.get("/api/v1/caseload").json[0]["not_on_track"] is None


def test_a_session_that_did_not_happen_does_not_end_the_window(therapist, patient, link):
    link(therapist, patient)
    phq9(patient, 6, 30)
    held = session(therapist, patient, 20)
    phq9(patient, 9, 10)
    missed = session(therapist, patient, 5)
    phq9(patient, 12, 2)
    brief = therapist.get(f"/api/v1/patients/{patient.id}/brief").json
    assert (card(brief, "phq9")["previous"], card(brief, "phq9")["latest"]) == (9, 12)

    url = f"/api/v1/patients/{patient.id}/sessions/{missed['id']}"
    marked = therapist.put(url, json={"version": 1, "status": "did_not_happen"})
    assert marked.status_code == 200, marked.json
    brief = therapist.get(f"/api/v1/patients/{patient.id}/brief").json
    assert (card(brief, "phq9")["previous"], card(brief, "phq9")["latest"]) == (6, 12)
    assert datetime.fromisoformat(brief["since"]) == datetime.fromisoformat(held["ends_at"])
    # the session stays on the record, and on the chart
    statuses = {s["id"]: s["status"] for s in brief["sessions"]}
    assert statuses == {held["id"]: "held", missed["id"]: "did_not_happen"}
    row = therapist.get("/api/v1/caseload").json[0]
    assert row["not_on_track"] == {"reasons": ["PHQ-9 up 6 since last session (6 → 12)"]}


def test_shared_daily_notes_appear_and_private_ones_never(therapist, patient, link):
    link(therapist, patient)
    shared = daily(patient, 3, "walked by the river")
    daily(patient, 2, "only mine", private=True)
    daily(patient, 40, "long before the window")
    brief = therapist.get(f"/api/v1/patients/{patient.id}/brief").json
    assert [n["note"] for n in brief["daily_notes"]] == ["walked by the river"]
    assert brief["daily_notes"][0]["answered_at"] == shared["answered_at"]
    assert "only mine" not in str(brief)
    assert "only mine" not in str(therapist.get("/api/v1/caseload").json)


def test_the_summary_counts_flags_entries_and_plan_steps(therapist, patient, link):
    link(therapist, patient)
    phq9(patient, 6, 30)
    session(therapist, patient, 20)
    phq9(patient, 14, 2, phq9_9=1)
    write(patient, "for you", 3, for_session=True)
    write(patient, "and this", 2, for_session=True)
    patient.put(
        "/api/v1/plan",
        json={"version": 0, "shared": True, "coping_steps": [{"text": "cold water"}]},
    )
    brief = therapist.get(f"/api/v1/patients/{patient.id}/brief").json
    assert brief["summary"] == (
        "PHQ-9 6 → 15 (+9) since last session · 1 open flag · 2 entries for the session"
        " · plan: 1 coping step added"
    )


def test_the_summary_of_a_quiet_window(therapist, patient, link):
    link(therapist, patient)
    brief = therapist.get(f"/api/v1/patients/{patient.id}/brief").json
    assert brief["summary"] == "Nothing new since the last session"


RFC_1123 = re.compile(r"^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} ")


def _strings(value, key=""):
    """Every (key, text) pair in a JSON value, however deep."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(v, k)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v, key)
    elif isinstance(value, str):
        yield key, value


def test_every_datetime_in_the_brief_is_iso_8601(therapist, patient, link):
    link(therapist, patient)
    phq9(patient, 6, 30)
    session(therapist, patient, 20)
    phq9(patient, 14, 2, phq9_9=2)
    gad7(patient, 8, 2)
    daily(patient, 1, "a note")
    write(patient, "shared", 2, for_session=True)
    patient.put("/api/v1/plan", json={"version": 0, "shared": True, "triggers": [{"text": "t"}]})
    patient.post("/api/v1/parts", json={"name": "Watcher"})
    patient.put("/api/v1/parts/map", json={"shared": True})
    flag = therapist.get("/api/v1/flags").json[0]
    therapist.post(f"/api/v1/flags/{flag['id']}/acknowledge", json={"note": "called"})

    brief = therapist.get(f"/api/v1/patients/{patient.id}/brief").json
    seen = 0
    for key, text in _strings(brief):
        assert not RFC_1123.match(text), (key, text)
        if key.endswith("_at") or key in ("since", "until", "at"):
            parsed = datetime.fromisoformat(text)
            assert parsed.tzinfo is not None, (key, text)
            seen += 1
    assert seen >= 8
    points = card(brief, "phq9")["points"]
    assert datetime.fromisoformat(points[0]["answered_at"])
    assert brief["flags"][0]["notes"][0]["note"] == "called"


def test_ending_the_care_link_ends_the_brief(therapist, patient, link):
    made = link(therapist, patient)
    assert therapist.get(f"/api/v1/patients/{patient.id}/brief").status_code == 200
    assert patient.delete(f"/api/v1/care-team/{made['id']}").status_code == 204
    assert therapist.get(f"/api/v1/patients/{patient.id}/brief").status_code == 404
    assert therapist.get("/api/v1/caseload").json == []


# -- issue 23: care between sessions, followed through ---------------------------------


def homework(therapist, patient, due_days_ago, text):
    response = therapist.post(
        f"/api/v1/patients/{patient.id}/assignments",
        json={
            "kind": "homework",
            "homework_type": "prompt",
            "text": text,
            "due_at": (utcnow() - timedelta(days=due_days_ago)).isoformat(),
        },
    )
    assert response.status_code == 201, response.json
    return response.json["id"]


def _homework_since_the_last_session(therapist, patient) -> dict:
    """Since an integration session 10 days ago: homework still to come, late, done on
    time, skipped with a reason; and from before it one still open (late, so it stays)
    and one skipped (settled then, so it does not)."""
    session(therapist, patient, 10)
    ids = {
        "open": homework(therapist, patient, -3, "Write to the protector"),
        "late": homework(therapist, patient, 1, "Notice the body"),
        "done": homework(therapist, patient, -2, "Walk after dosing"),
        "skipped": homework(therapist, patient, 2, "Call a friend"),
        "old_open": homework(therapist, patient, 20, "Old but open"),
        "old_skipped": homework(therapist, patient, 20, "Old and settled"),
    }
    patient.post(f"/api/v1/assignments/{ids['done']}/done", json={})
    patient.post(f"/api/v1/assignments/{ids['skipped']}/skip", json={"reason": "Not ready"})
    patient.post(f"/api/v1/assignments/{ids['old_skipped']}/skip", json={})
    return ids


def test_the_brief_follows_each_homework_item_since_the_last_session(therapist, patient, link):
    link(therapist, patient)
    ids = _homework_since_the_last_session(therapist, patient)
    brief = therapist.get(f"/api/v1/patients/{patient.id}/brief").json
    listed = {item["id"]: item for item in brief["follow_through"]["homework"]}
    assert {k: listed[v]["status_now"] for k, v in ids.items() if v in listed} == {
        "open": "open",
        "late": "late",
        "done": "done",
        "skipped": "skipped",
        "old_open": "late",
    }
    assert listed[ids["skipped"]]["skip_reason"] == "Not ready"
    assert listed[ids["late"]]["text"] == "Notice the body"
    assert listed[ids["done"]]["done_at"] is not None
    assert brief["follow_through"]["measures"] == []  # no plan, nothing asked


def _asks(app, patient_id, plan_id, days_ago):
    """Asks of a plan, as the reminder worker leaves them (48 hours to answer each)."""
    now = utcnow()
    with app.app_context():
        for days in days_ago:
            fire_at = now - timedelta(days=days)
            db.session.add(
                ReminderOccurrence(
                    user_id=uuid.UUID(patient_id),
                    kind="measure",
                    slot=f"measure:{plan_id}:{fire_at.date()}",
                    ref_id=uuid.UUID(plan_id),
                    fire_at=fire_at,
                    expires_at=fire_at + timedelta(hours=48),
                )
            )
        db.session.commit()


def test_the_brief_follows_each_measurement_plan_since_the_last_session(
    app, therapist, patient, link
):
    """Asked four times since the last session: answered in the window, answered after
    it (before the next ask), never answered, and one whose window still runs."""
    link(therapist, patient)
    session(therapist, patient, 10)
    plan = therapist.post(
        f"/api/v1/patients/{patient.id}/assignments",
        json={
            "kind": "measure",
            "instrument": "phq9",
            "schedule": {"type": "weekly", "day": "monday", "time": "09:00"},
            "window_hours": 48,
        },
    ).json
    _asks(app, patient.id, plan["id"], [9, 7, 3.5, 1])
    phq9(patient, 8, 8.5)  # on time
    phq9(patient, 9, 4)  # late: after the window, before the next ask
    (measure,) = therapist.get(f"/api/v1/patients/{patient.id}/brief").json["follow_through"][
        "measures"
    ]
    assert measure == {
        "assignment_id": plan["id"],
        "instrument": "phq9",
        "asked": 4,
        "on_time": 1,
        "late": 1,
        "missed": 1,
        "open": 1,
    }


def test_the_caseload_counts_homework_since_the_last_session(therapist, patient, link):
    link(therapist, patient)
    _homework_since_the_last_session(therapist, patient)
    (row,) = therapist.get("/api/v1/caseload").json
    assert row["homework"] == {"open": 1, "late": 2, "done": 1, "skipped": 1}
