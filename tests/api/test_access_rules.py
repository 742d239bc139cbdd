"""Who sees what: every rule of server/access.py, walked from its registry.

A therapist reads a patient only through an active care link, and then each model by the
one rule `access.RULES` holds for it. These tests walk that registry (a readable model
without a test fails), walk every therapist route (a model a therapist route reads
without a rule fails), and hold the claims a person would notice: a private map's parts,
a private check-in note, a link that ended.
"""

from __future__ import annotations

import base64
import os
import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from server import access
from server.auth.models import User
from server.care.models import CareLink
from server.db import Base, utcnow
from server.errors import ApiError
from server.extensions import db
from server.parts.models import Part, PartChange
from server.plans.models import PlanRevision
from server.reminders.models import PushDelivery, PushSubscription, ReminderOccurrence
from server.sync.models import SyncClock, SyncOp
from tests.unit.test_scoring import answers_totalling

# tables with a patient's id that are not the patient's data: the link that decides
# access, and the counter that orders a patient's changes for sync
NOT_PATIENT_DATA = {CareLink, SyncClock}


def _in_days(days: int) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat()


def _checkin(patient, instrument, answers, **extra) -> dict:
    response = patient.post(
        "/api/v1/checkins",
        json={
            "instrument": instrument,
            "answers": answers,
            "answered_at": (utcnow() - timedelta(hours=1)).isoformat(),
            **extra,
        },
    )
    assert response.status_code == 201, response.json
    return response.json


def _reminder_rows(app, user_id: str) -> dict:
    """A device and one prompt sent to it, as the reminder worker leaves them."""
    now = utcnow()
    with app.app_context():
        subscription = PushSubscription(
            user_id=uuid.UUID(user_id),
            endpoint=f"http://127.0.0.1:9/push/{uuid.uuid4().hex}",
            p256dh=base64.urlsafe_b64encode(
                ec.generate_private_key(ec.SECP256R1())
                .public_key()
                .public_bytes(
                    serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
                )
            ).decode(),
            auth=base64.urlsafe_b64encode(os.urandom(16)).decode(),
        )
        occurrence = ReminderOccurrence(
            user_id=uuid.UUID(user_id),
            kind="daily_checkin",
            slot=f"daily:{uuid.uuid4()}",
            fire_at=now - timedelta(hours=2),
            expires_at=now,
        )
        db.session.add_all([subscription, occurrence])
        db.session.flush()
        delivery = PushDelivery(
            occurrence_id=occurrence.id,
            subscription_id=subscription.id,
            user_id=uuid.UUID(user_id),
            kind="daily_checkin",
            next_attempt_at=now,
            expires_at=now,
        )
        db.session.add(delivery)
        db.session.commit()
        return {
            PushSubscription: str(subscription.id),
            ReminderOccurrence: str(occurrence.id),
            PushDelivery: str(delivery.id),
        }


def _ids(app, model, patient) -> list[str]:
    with app.app_context():
        owner = model.user_id if hasattr(model, "user_id") else model.patient_id
        rows = db.session.scalars(sa.select(model.id).where(owner == uuid.UUID(patient.id)))
        return [str(i) for i in rows]


class World:
    """Therapist `me` linked to a patient who shares (`sharer`) and one who keeps things
    to themselves (`keeper`); a colleague also linked to the sharer; a stranger linked to
    nobody. Each has one row of every readable kind, made through the API."""

    def __init__(self, app, make_patient, make_therapist, link):
        self.app = app
        self.me, self.colleague, self.stranger = (make_therapist() for _ in range(3))
        self.sharer, self.keeper = make_patient(), make_patient()
        self.link = link(self.me, self.sharer)
        link(self.me, self.keeper)
        link(self.colleague, self.sharer)
        s, k = self.sharer, self.keeper
        # (whose scope, row id, may `me` read it)
        self.expected: dict[type, list[tuple[object, str, bool]]] = {}

        def write(patient, body, shared):
            return patient.post("/api/v1/journal/entries", json={"body": body, "shared": shared})

        self.shared_entry = write(s, "for my therapist", True).json["id"]
        self.private_entry = write(s, "for me", False).json["id"]
        gone = write(s, "shared, then deleted", True).json
        s.delete(f"/api/v1/journal/entries/{gone['id']}?version={gone['version']}")

        s.put("/api/v1/plan", json={"version": 0, "shared": True, "warning_signs": []})
        k.put("/api/v1/plan", json={"version": 0, "warning_signs": [{"text": "mine"}]})

        s.put("/api/v1/parts/map", json={"shared": True})
        k.put("/api/v1/parts/map", json={"shared": False})
        self.part = s.post("/api/v1/parts", json={"name": "Critic"}).json["id"]
        other = s.post("/api/v1/parts", json={"name": "Little one"}).json["id"]
        removed = s.post("/api/v1/parts", json={"name": "Gone"}).json
        s.delete(f"/api/v1/parts/{removed['id']}?version={removed['version']}")
        self.relation = s.post(
            "/api/v1/parts/relations",
            json={"source_id": self.part, "target_id": other, "kind": "protects"},
        ).json["id"]
        self.private_part = k.post("/api/v1/parts", json={"name": "Hidden"}).json["id"]
        private_other = k.post("/api/v1/parts", json={"name": "Hidden too"}).json["id"]
        self.private_relation = k.post(
            "/api/v1/parts/relations",
            json={"source_id": self.private_part, "target_id": private_other, "kind": "protects"},
        ).json["id"]

        self.private_note = _checkin(
            s, "daily", {"mood": 3, "safety": False, "note": "only mine"}, note_private=True
        )
        self.shared_note = _checkin(s, "daily", {"mood": 4, "safety": False, "note": "ours"})
        flagged = _checkin(s, "phq9", {**answers_totalling("phq9", 3, 8), "phq9_9": 1})
        keeper_checkin = _checkin(k, "daily", {"mood": 2, "safety": False})

        base = f"/api/v1/patients/{s.id}/sessions"
        self.session = self.me.post(base, json={"kind": "dosing", "starts_at": _in_days(30)})
        self.session = self.session.json["id"]
        cancelled = self.me.post(base, json={"kind": "dosing", "starts_at": _in_days(31)})
        self.me.delete(f"{base}/{cancelled.json['id']}")

        assignments = f"/api/v1/patients/{s.id}/assignments"
        homework = {"kind": "homework", "homework_type": "plan_review", "due_at": _in_days(3)}
        self.assignment = self.me.post(assignments, json=homework).json["id"]
        taken_back = self.me.post(assignments, json=homework).json["id"]
        self.me.delete(f"{assignments}/{taken_back}")

        prompt = {"context": "after_dosing", "text": "What stayed with you?"}
        mine = self.me.post(f"/api/v1/patients/{s.id}/journal/prompts", json=prompt).json["id"]
        theirs = self.colleague.post(f"/api/v1/patients/{s.id}/journal/prompts", json=prompt)

        sharer_devices, keeper_devices = _reminder_rows(app, s.id), _reminder_rows(app, k.id)

        part_changes = _ids(app, PartChange, s)
        self.expected = {
            **{
                model: [(s, sharer_devices[model], True), (s, keeper_devices[model], False)]
                for model in (PushSubscription, ReminderOccurrence, PushDelivery)
            },
            access.JournalEntry: [
                (s, self.shared_entry, True),
                (s, self.private_entry, False),
                (s, gone["id"], False),
            ],
            access.Plan: [(s, s.id, True), (k, k.id, False)],
            PlanRevision: [(s, i, True) for i in _ids(app, PlanRevision, s)]
            + [(k, i, False) for i in _ids(app, PlanRevision, k)],
            access.PartsMap: [(s, s.id, True), (k, k.id, False)],
            Part: [
                (s, self.part, True),
                (s, removed["id"], False),
                (k, self.private_part, False),
            ],
            access.PartRelation: [(s, self.relation, True), (k, self.private_relation, False)],
            PartChange: [(s, i, True) for i in part_changes]
            + [(k, i, False) for i in _ids(app, PartChange, k)],
            # every check-in is read (a private note is withheld from it: its own test)
            access.CheckIn: [
                (s, self.private_note["id"], True),
                (s, self.shared_note["id"], True),
                (s, keeper_checkin["id"], False),
            ],
            access.RiskFlag: [(s, flagged["flags"][0]["id"], True)],
            access.TreatmentSession: [(s, self.session, True), (s, cancelled.json["id"], False)],
            access.JournalPrompt: [(s, mine, True), (s, theirs.json["id"], False)],
            # what the care team set, whatever the patient shares; not what it took back
            access.Assignment: [(s, self.assignment, True), (s, taken_back, False)],
        }
        assert part_changes, "the map's history has rows to read"

    def user(self, actor) -> User:
        return db.session.get(User, uuid.UUID(actor.id))


@pytest.fixture
def world(app, make_patient, make_therapist, link):
    return World(app, make_patient, make_therapist, link)


def _readable(scope, model) -> set[str]:
    key = sa.inspect(model).primary_key[0]
    return {str(i) for i in db.session.scalars(scope.select(model, key))}


def test_each_rule_lets_a_linked_therapist_read_exactly_what_the_patient_shares(app, world):
    """For every model in the registry: the linked therapist's scope holds the rows the
    rule allows and none it does not; an unlinked therapist gets 404 for the patient."""
    assert set(world.expected) == set(access.RULES), "every rule needs rows here"
    with app.app_context():
        me, stranger = world.user(world.me), world.user(world.stranger)
        for model, rows in world.expected.items():
            assert any(visible for _, _, visible in rows), model.__name__
            for patient, row_id, visible in rows:
                scope = access.shared_scope(me, uuid.UUID(patient.id))
                assert (row_id in _readable(scope, model)) is visible, (model.__name__, row_id)
            for patient in {p.id: p for p, _, _ in rows}.values():
                with pytest.raises(ApiError) as refused:
                    access.shared_scope(stranger, uuid.UUID(patient.id))
                assert refused.value.code == 404


def test_a_model_without_a_rule_is_not_readable_at_all(app, world):
    """Asking a scope for a model the registry has no rule for raises: it never means
    "everything". So does a column the care team does not always see."""
    with app.app_context():
        scope = access.shared_scope(world.user(world.me), uuid.UUID(world.sharer.id))
        with pytest.raises(LookupError):
            scope.select(SyncOp)
        with pytest.raises(LookupError):
            scope.always(access.Plan, access.Plan.content)
        assert not hasattr(access, "shared_rows")


def test_a_private_parts_maps_parts_are_not_readable(app, world):
    """The old trap: a filter on a `shared` column does nothing for parts, whose sharing
    is the map's. A keeper's map is 404 to their therapist, and a scope holds none of
    its parts or relations, while the sharer's map shows them."""
    keeper = world.me.get(f"/api/v1/patients/{world.keeper.id}/parts/map")
    assert keeper.status_code == 404
    shared = world.me.get(f"/api/v1/patients/{world.sharer.id}/parts/map").json
    assert world.part in [p["id"] for p in shared["parts"]]
    assert world.relation in [r["id"] for r in shared["relations"]]
    with app.app_context():
        scope = access.shared_scope(world.user(world.me), uuid.UUID(world.keeper.id))
        assert _readable(scope, Part) == set()
        assert _readable(scope, access.PartRelation) == set()
        brief = world.me.get(f"/api/v1/patients/{world.keeper.id}/brief").json
    assert brief["parts"] == {"shared": False, "changes": []}


def test_a_private_checkin_note_is_never_shown_to_the_therapist_but_its_score_is(world):
    """A check-in whose note the patient kept private reaches the therapist with its
    answers and score, never its note, in the check-in list and in the brief."""
    page = world.me.get(f"/api/v1/patients/{world.sharer.id}/checkins").json["checkins"]
    by_id = {c["id"]: c for c in page}
    private = by_id[world.private_note["id"]]
    assert private["answers"] == {"mood": 3, "safety": False}
    assert private["score"] == world.private_note["score"]
    assert by_id[world.shared_note["id"]]["answers"]["note"] == "ours"
    brief = world.me.get(f"/api/v1/patients/{world.sharer.id}/brief").json
    assert [n["note"] for n in brief["daily_notes"]] == ["ours"]
    assert "only mine" not in str(brief) and "only mine" not in str(page)
    # the patient still reads their own note
    own = world.sharer.get("/api/v1/checkins").json["checkins"]
    assert {c["id"]: c for c in own}[world.private_note["id"]]["answers"]["note"] == "only mine"


# -- every therapist route ---------------------------------------------------------------


def _therapist_reads(app, patient_id: str, entry_id: str) -> list[tuple[str, str]]:
    """Every route a therapist reads a patient through (each GET under /patients/<id>/,
    the read receipt, the caseload and the flag inbox), from the app's URL map."""
    urls = []
    for rule in app.url_map.iter_rules():
        path = rule.rule
        mine = path.startswith("/api/v1/patients/<uuid:patient_id>/")
        if not (mine or path in ("/api/v1/caseload", "/api/v1/flags")):
            continue
        url = path.replace("<uuid:patient_id>", patient_id).replace("<uuid:entry_id>", entry_id)
        if "<" in url:
            continue  # a write on one object (a session's PUT): not a read
        if "GET" in rule.methods:
            urls.append(("GET", url + ("?instrument=phq9" if url.endswith("/trends") else "")))
        elif url.endswith("/read"):
            urls.append(("POST", url))
    return urls


def _tables_read(app, client, method, url) -> set[str]:
    statements = []

    def keep(_conn, _cursor, statement, *_args):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", keep)
    try:
        response = client.open(url, method=method)
    finally:
        sa.event.remove(engine, "before_cursor_execute", keep)
    assert response.status_code == 200, (url, response.json)
    found = set()
    for statement in statements:
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            found.update(re.findall(r'\b(?:FROM|JOIN)\s+"?(\w+)"?', statement, re.IGNORECASE))
    return found


def test_every_patient_model_a_therapist_route_reads_has_a_rule(app, world):
    """Walk every therapist route and see which tables it reads: each model with a
    patient's id among them is in the registry, so a new readable model without a rule
    fails here."""
    by_table = {m.class_.__table__.name: m.class_ for m in Base.registry.mappers}
    reads = _therapist_reads(app, world.sharer.id, world.shared_entry)
    assert len(reads) >= 8, reads
    touched = set()
    for method, url in reads:
        for table in _tables_read(app, world.me.client, method, url):
            model = by_table.get(table)
            if model is not None and hasattr(model, "patient_id"):
                touched.add(model)
    unruled = touched - set(access.RULES) - NOT_PATIENT_DATA
    assert not unruled, sorted(m.__name__ for m in unruled)
    assert {access.JournalEntry, access.CheckIn, Part, PlanRevision} <= touched


def test_an_ended_link_hides_everything_at_once(app, world):
    """The moment the patient ends the link, every route answers 404 for them, the
    caseload and the flag inbox drop them, and no scope can be made."""
    reads = _therapist_reads(app, world.sharer.id, world.shared_entry)
    patient_reads = [(m, u) for m, u in reads if "/patients/" in u]
    for method, url in patient_reads:
        assert world.me.client.open(url, method=method).status_code == 200, url
    assert world.sharer.delete(f"/api/v1/care-team/{world.link['id']}").status_code == 204
    for method, url in patient_reads:
        assert world.me.client.open(url, method=method).status_code == 404, url
    caseload = world.me.get("/api/v1/caseload").json
    assert [p["patient_id"] for p in caseload] == [world.keeper.id]
    assert world.me.get("/api/v1/flags").json == []
    # the colleague's own link to the same patient is untouched
    assert world.colleague.get(f"/api/v1/patients/{world.sharer.id}/brief").status_code == 200
    with app.app_context():
        with pytest.raises(ApiError):
            access.shared_scope(world.user(world.me), uuid.UUID(world.sharer.id))
