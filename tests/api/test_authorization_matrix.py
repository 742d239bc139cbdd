"""Who may call what, generated from the app's URL map (not a hand list of routes).

Every route under /api/v1/ is called as: anonymous, the owning patient, another
patient, a linked therapist and an unlinked therapist. A refused call is 404 (anonymous
401) and changes nothing in the database; an allowed one succeeds. A route with no
expectation below fails the test, so a new route cannot slip by unexamined.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from server.auth import service as auth_service
from server.auth.models import Passkey, Role, User
from server.auth.passwords import hash_password
from server.extensions import db
from tests.factories import PASSWORD
from tests.unit.test_scoring import answers_totalling

ACTORS = ("anon", "owner", "other", "linked", "unlinked")
OK = "ok"
PUBLIC = {a: OK for a in ACTORS}
SIGNED_IN = {"anon": 401, "owner": OK, "other": OK, "linked": OK, "unlinked": OK}
PATIENTS = {"anon": 401, "owner": OK, "other": OK, "linked": 404, "unlinked": 404}
OWNER_ONLY = {"anon": 401, "owner": OK, "other": 404, "linked": 404, "unlinked": 404}
THERAPISTS = {"anon": 401, "owner": 404, "other": 404, "linked": OK, "unlinked": OK}
LINKED = {"anon": 401, "owner": 404, "other": 404, "linked": OK, "unlinked": 404}
_HASH = None


def _hash() -> str:
    global _HASH
    _HASH = _HASH or hash_password(PASSWORD)
    return _HASH


class World:
    """A patient with one of everything, another patient, a linked and an unlinked
    therapist: signed in directly (no argon2 per person), data written over HTTP."""

    def __init__(self, app):
        self.app = app
        self.clients, self.ids = {"anon": app.test_client()}, {}
        with app.app_context():
            for actor, role in [
                ("owner", Role.PATIENT),
                ("other", Role.PATIENT),
                ("linked", Role.THERAPIST),
                ("unlinked", Role.THERAPIST),
            ]:
                user = User(
                    email=f"{actor}-{uuid.uuid4().hex[:8]}@example.test",
                    password_hash=_hash(),
                    display_name=actor.title(),
                    role=role,
                    timezone="UTC",
                    locale="en-US",
                )
                db.session.add(user)
                db.session.flush()
                _row, token = auth_service.start_session(user)
                client = app.test_client()
                with client.session_transaction() as session:
                    session["sid"] = token
                    session["_user_id"] = str(user.id)
                self.clients[actor], self.ids[actor] = client, str(user.id)
            db.session.commit()
        owner, linked = self.clients["owner"], self.clients["linked"]
        code = linked.post("/api/v1/invites").json["code"]
        self.link = owner.post("/api/v1/care-team/join", json={"code": code}).json["id"]
        self.private = owner.post("/api/v1/journal/entries", json={"body": "private"}).json["id"]
        self.shared = owner.post(
            "/api/v1/journal/entries", json={"body": "shared", "shared": True}
        ).json["id"]
        self.part = owner.post("/api/v1/parts", json={"name": "Critic"}).json["id"]
        self.part2 = owner.post("/api/v1/parts", json={"name": "Little one"}).json["id"]
        self.relation = owner.post(
            "/api/v1/parts/relations",
            json={"source_id": self.part, "target_id": self.part2, "kind": "protects"},
        ).json["id"]
        owner.put("/api/v1/plan", json={"version": 0, "warning_signs": [{"text": "x"}]})
        checkin = owner.post(
            "/api/v1/checkins",
            json={
                "instrument": "phq9",
                "answered_at": "2026-11-01T09:00:00+00:00",
                "answers": {**answers_totalling("phq9", 3, 8), "phq9_9": 1},
            },
        ).json
        self.flag = checkin["flags"][0]["id"]
        # upcoming, so it may still be moved and cancelled (a past one is history)
        self.session = linked.post(
            f"/api/v1/patients/{self.ids['owner']}/sessions",
            json={"kind": "dosing", "starts_at": _in_days(30)},
        ).json["id"]
        assignments = f"/api/v1/patients/{self.ids['owner']}/assignments"
        self.homework = linked.post(
            assignments,
            json={
                "kind": "homework",
                "homework_type": "prompt",
                "text": "h",
                "due_at": _in_days(3),
            },
        ).json["id"]
        self.measure = linked.post(
            assignments,
            json={
                "kind": "measure",
                "instrument": "phq9",
                "schedule": {"type": "weekly", "day": "monday", "time": "09:00"},
                "window_hours": 48,
            },
        ).json["id"]
        self.auth_session = owner.get("/api/v1/auth/sessions").json[0]["id"]
        with app.app_context():
            passkey = Passkey(
                user_id=uuid.UUID(self.ids["owner"]),
                credential_id=uuid.uuid4().hex,
                public_key=b"not checked here",
                name="Phone",
            )
            db.session.add(passkey)
            db.session.commit()
            self.passkey = str(passkey.id)

    def share_everything(self):
        owner = self.clients["owner"]
        owner.put("/api/v1/parts/map", json={"shared": True})
        version = owner.get("/api/v1/plan").json["version"]
        owner.put("/api/v1/plan", json={"version": version, "shared": True})

    def digest(self) -> str:
        """Every row of every table: a refused call must not change one byte."""
        h = hashlib.sha256()
        with self.app.app_context():
            for table in db.metadata.sorted_tables:
                if table.name in ("user_sessions",):
                    continue  # last_seen_at moves when a signed-in person calls anything
                rows = db.session.execute(sa.select(table)).all()
                h.update(table.name.encode())
                h.update(repr(sorted(map(repr, rows))).encode())
        return h.hexdigest()


def _subscription() -> dict:
    """A device as a browser would describe it: a real P-256 key and auth secret."""
    key = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    )
    return {
        "endpoint": f"http://127.0.0.1:9/push/{uuid.uuid4().hex}",
        "keys": {
            "p256dh": base64.urlsafe_b64encode(key).decode().rstrip("="),
            "auth": base64.urlsafe_b64encode(os.urandom(16)).decode().rstrip("="),
        },
    }


def _in_days(days: int) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat()


def _passkey_answer(kind: str) -> dict:
    """A well-formed WebAuthn answer that answers no challenge the server handed out."""
    client_data = base64.urlsafe_b64encode(b'{"type":"webauthn.get","challenge":"AAAA"}')
    response = {"clientDataJSON": client_data.decode().rstrip("=")}
    if kind == "attestation":
        response["attestationObject"] = "AAAA"
    else:
        response |= {"authenticatorData": "AAAA", "signature": "AAAA", "userHandle": None}
    return {"id": "AAAA", "rawId": "AAAA", "type": "public-key", "response": response}


def _pid(w):
    return w.ids["owner"]


# rule -> method -> (request builder, expectations, needs sharing for the linked therapist)
EXPECTATIONS = {
    "/api/v1/auth/register": {
        "POST": (
            lambda w: {
                "json": {
                    "email": f"{uuid.uuid4().hex}@example.test",
                    "password": "a-long-new-passphrase",
                    "display_name": "New",
                    "role": "patient",
                }
            },
            PUBLIC,
        )
    },
    "/api/v1/auth/login": {
        "POST": (
            lambda w: {"json": {"email": "nobody@example.test", "password": "whatever-it-is"}},
            {a: 401 for a in ACTORS},
        )
    },
    "/api/v1/auth/logout": {"POST": (lambda w: {}, PUBLIC)},
    "/api/v1/auth/me": {
        "GET": (lambda w: {}, SIGNED_IN),
        "PATCH": (lambda w: {"json": {"locale": "en-GB"}}, SIGNED_IN),
    },
    "/api/v1/auth/regions": {"GET": (lambda w: {}, SIGNED_IN)},
    "/api/v1/auth/password": {
        "POST": (
            lambda w: {
                "json": {"current_password": PASSWORD, "new_password": "a-newer-passphrase"}
            },
            SIGNED_IN,
        )
    },
    "/api/v1/auth/sessions": {"GET": (lambda w: {}, SIGNED_IN)},
    "/api/v1/auth/sessions/<uuid:session_id>": {
        "DELETE": (lambda w: {"url": {"session_id": w.auth_session}}, OWNER_ONLY)
    },
    # two-factor is for every account (required of therapists in production)
    "/api/v1/auth/totp/setup": {"POST": (lambda w: {}, SIGNED_IN)},
    "/api/v1/auth/totp/enable": {
        "POST": (
            lambda w: {"json": {"code": "123456"}},
            {a: 422 for a in ACTORS} | {"anon": 401},
        )
    },
    "/api/v1/auth/totp/disable": {
        "POST": (
            lambda w: {"json": {"code": "123456", "password": PASSWORD}},
            {a: 422 for a in ACTORS} | {"anon": 401},
        )
    },
    "/api/v1/auth/totp/recovery-codes": {
        "POST": (
            lambda w: {"json": {"password": PASSWORD}},
            {a: 409 for a in ACTORS} | {"anon": 401},  # two-factor is off for all of them
        )
    },
    # passkeys: each is its owner's; adding one asks the password again
    "/api/v1/auth/passkeys/options": {
        "POST": (lambda w: {"json": {"password": PASSWORD}}, SIGNED_IN)
    },
    "/api/v1/auth/passkeys": {
        "GET": (lambda w: {}, SIGNED_IN),
        "POST": (
            # an answer to no challenge of ours
            lambda w: {"json": {"name": "Phone", "credential": _passkey_answer("attestation")}},
            {a: 422 for a in ACTORS} | {"anon": 401},
        ),
    },
    "/api/v1/auth/passkeys/<uuid:passkey_id>": {
        "PATCH": (
            lambda w: {"url": {"passkey_id": w.passkey}, "json": {"name": "Laptop"}},
            OWNER_ONLY,
        ),
        "DELETE": (lambda w: {"url": {"passkey_id": w.passkey}}, OWNER_ONLY),
    },
    "/api/v1/auth/login/passkey/options": {"POST": (lambda w: {}, PUBLIC)},
    "/api/v1/auth/login/passkey": {
        "POST": (lambda w: {"json": _passkey_answer("assertion")}, {a: 401 for a in ACTORS})
    },
    "/api/v1/auth/password/forgot": {
        "POST": (lambda w: {"json": {"email": "nobody@example.test"}}, {a: 202 for a in ACTORS})
    },
    "/api/v1/auth/password/reset": {
        "POST": (
            lambda w: {"json": {"token": "not-a-token", "password": "a-long-new-passphrase"}},
            {a: 422 for a in ACTORS},
        )
    },
    "/api/v1/auth/therapist-invites/<string:token>": {
        "GET": (lambda w: {"url": {"token": "not-a-token"}}, {a: 404 for a in ACTORS})
    },
    "/api/v1/care-team": {"GET": (lambda w: {}, SIGNED_IN)},
    "/api/v1/care-team/<uuid:link_id>": {
        "DELETE": (
            lambda w: {"url": {"link_id": w.link}},
            {"anon": 401, "owner": OK, "other": 404, "linked": OK, "unlinked": 404},
        )
    },
    "/api/v1/care-team/join": {
        "POST": (
            lambda w: {"json": {"code": "ZZZZ-ZZZZ"}},
            {**PATIENTS, "owner": 422, "other": 422},
        )
    },
    "/api/v1/invites": {"POST": (lambda w: {}, THERAPISTS)},
    "/api/v1/caseload": {"GET": (lambda w: {}, THERAPISTS)},
    "/api/v1/flags": {"GET": (lambda w: {}, THERAPISTS)},
    "/api/v1/flags/<uuid:flag_id>/acknowledge": {
        "POST": (lambda w: {"url": {"flag_id": w.flag}, "json": {"note": "seen"}}, LINKED)
    },
    "/api/v1/flags/<uuid:flag_id>/notes": {
        "POST": (
            lambda w: {"url": {"flag_id": w.flag}, "json": {"note": "called back"}},
            LINKED,
        )
    },
    "/api/v1/checkins": {
        "GET": (lambda w: {}, PATIENTS),
        "POST": (
            lambda w: {
                "json": {
                    "instrument": "gad7",
                    "answers": {},
                    "answered_at": "2026-11-02T09:00:00+00:00",
                }
            },
            PATIENTS,
        ),
    },
    "/api/v1/checkins/instruments": {"GET": (lambda w: {}, PATIENTS)},
    "/api/v1/checkins/trends": {"GET": (lambda w: {"query": "?instrument=phq9"}, PATIENTS)},
    "/api/v1/journal/entries": {
        "GET": (lambda w: {}, PATIENTS),
        "POST": (lambda w: {"json": {"body": "new"}}, PATIENTS),
    },
    "/api/v1/journal/entries/<uuid:entry_id>": {
        "GET": (lambda w: {"url": {"entry_id": w.shared}}, OWNER_ONLY),
        "PUT": (
            lambda w: {"url": {"entry_id": w.shared}, "json": {"body": "e", "version": 1}},
            OWNER_ONLY,
        ),
        "DELETE": (lambda w: {"url": {"entry_id": w.shared}, "query": "?version=1"}, OWNER_ONLY),
    },
    "/api/v1/journal/prompts": {"GET": (lambda w: {}, PATIENTS)},
    "/api/v1/me": {"DELETE": (lambda w: {"json": {"password": PASSWORD}}, SIGNED_IN)},
    "/api/v1/me/access-log": {"GET": (lambda w: {}, PATIENTS)},
    "/api/v1/me/export": {"GET": (lambda w: {}, SIGNED_IN)},
    "/api/v1/me/fhir": {"GET": (lambda w: {}, PATIENTS)},
    "/api/v1/openapi.json": {"GET": (lambda w: {}, PUBLIC)},
    "/api/v1/docs": {"GET": (lambda w: {}, PUBLIC)},
    "/api/v1/parts": {
        "GET": (lambda w: {}, PATIENTS),
        "POST": (lambda w: {"json": {"name": "New part"}}, PATIENTS),
    },
    "/api/v1/parts/<uuid:part_id>": {
        "GET": (lambda w: {"url": {"part_id": w.part}}, OWNER_ONLY),
        "PUT": (
            lambda w: {"url": {"part_id": w.part}, "json": {"name": "N", "version": 1}},
            OWNER_ONLY,
        ),
        "DELETE": (lambda w: {"url": {"part_id": w.part}, "query": "?version=1"}, OWNER_ONLY),
    },
    "/api/v1/parts/<uuid:part_id>/activity": {
        "GET": (lambda w: {"url": {"part_id": w.part}}, OWNER_ONLY)
    },
    "/api/v1/parts/changes": {"GET": (lambda w: {}, PATIENTS)},
    "/api/v1/parts/map": {
        "GET": (lambda w: {}, PATIENTS),
        "PUT": (lambda w: {"json": {"shared": True}}, PATIENTS),
    },
    "/api/v1/parts/relations": {
        "GET": (lambda w: {}, PATIENTS),
        "POST": (
            lambda w: {"json": {"source_id": w.part2, "target_id": w.part, "kind": "allied_with"}},
            OWNER_ONLY | {"other": 422},
        ),
    },
    "/api/v1/parts/relations/<uuid:relation_id>": {
        "GET": (lambda w: {"url": {"relation_id": w.relation}}, OWNER_ONLY),
        "PUT": (
            lambda w: {"url": {"relation_id": w.relation}, "json": {"note": "n", "version": 1}},
            OWNER_ONLY,
        ),
        "DELETE": (
            lambda w: {"url": {"relation_id": w.relation}, "query": "?version=1"},
            OWNER_ONLY,
        ),
    },
    "/api/v1/patients/<uuid:patient_id>/brief": {
        "GET": (lambda w: {"url": {"patient_id": _pid(w)}}, LINKED)
    },
    "/api/v1/patients/<uuid:patient_id>/checkins": {
        "GET": (lambda w: {"url": {"patient_id": _pid(w)}}, LINKED)
    },
    "/api/v1/patients/<uuid:patient_id>/checkins/trends": {
        "GET": (lambda w: {"url": {"patient_id": _pid(w)}, "query": "?instrument=phq9"}, LINKED)
    },
    "/api/v1/patients/<uuid:patient_id>/fhir": {
        "GET": (lambda w: {"url": {"patient_id": _pid(w)}}, LINKED)
    },
    "/api/v1/patients/<uuid:patient_id>/journal/entries": {
        "GET": (lambda w: {"url": {"patient_id": _pid(w)}}, LINKED)
    },
    "/api/v1/patients/<uuid:patient_id>/journal/entries/<uuid:entry_id>/read": {
        "POST": (lambda w: {"url": {"patient_id": _pid(w), "entry_id": w.private}}, LINKED, "entry")
    },
    "/api/v1/patients/<uuid:patient_id>/journal/prompts": {
        "POST": (
            lambda w: {
                "url": {"patient_id": _pid(w)},
                "json": {"context": "parts_work", "text": "What does it want?"},
            },
            LINKED,
        )
    },
    "/api/v1/patients/<uuid:patient_id>/parts/map": {
        "GET": (lambda w: {"url": {"patient_id": _pid(w)}}, LINKED, "share")
    },
    "/api/v1/patients/<uuid:patient_id>/plan": {
        "GET": (lambda w: {"url": {"patient_id": _pid(w)}}, LINKED, "share"),
        "PUT": (
            lambda w: {
                "url": {"patient_id": _pid(w)},
                "json": {"version": 2, "triggers": [{"text": "t"}]},
            },
            LINKED,
            "share",
        ),
    },
    "/api/v1/patients/<uuid:patient_id>/sessions": {
        "GET": (lambda w: {"url": {"patient_id": _pid(w)}}, LINKED),
        "POST": (
            lambda w: {
                "url": {"patient_id": _pid(w)},
                "json": {"kind": "integration", "starts_at": "2026-11-04T10:00:00+00:00"},
            },
            LINKED,
        ),
    },
    "/api/v1/patients/<uuid:patient_id>/sessions/<uuid:session_id>": {
        "PUT": (
            lambda w: {
                "url": {"patient_id": _pid(w), "session_id": w.session},
                "json": {"duration_minutes": 90, "version": 1},
            },
            LINKED,
        ),
        "DELETE": (lambda w: {"url": {"patient_id": _pid(w), "session_id": w.session}}, LINKED),
    },
    "/api/v1/plan": {
        "GET": (lambda w: {}, PATIENTS),
        "PUT": (
            lambda w: {"json": {"version": 1, "triggers": [{"text": "t"}]}},
            OWNER_ONLY | {"other": 409},
        ),
    },
    "/api/v1/plan/crisis": {"GET": (lambda w: {}, PATIENTS)},
    "/api/v1/plan/diff": {
        "GET": (lambda w: {"query": "?from=1&to=1"}, OWNER_ONLY | {"other": 404})
    },
    "/api/v1/plan/revisions": {"GET": (lambda w: {}, PATIENTS)},
    "/api/v1/plan/revisions/<int(max=1000000):number>": {
        "GET": (lambda w: {"url": {"number": 1}}, OWNER_ONLY)
    },
    "/api/v1/sessions": {"GET": (lambda w: {}, PATIENTS)},
    "/api/v1/patients/<uuid:patient_id>/assignments": {
        "GET": (lambda w: {"url": {"patient_id": _pid(w)}}, LINKED),
        "POST": (
            lambda w: {
                "url": {"patient_id": _pid(w)},
                "json": {
                    "kind": "homework",
                    "homework_type": "plan_review",
                    "due_at": "2031-11-04T10:00:00+00:00",
                },
            },
            LINKED,
        ),
    },
    "/api/v1/patients/<uuid:patient_id>/assignments/<uuid:assignment_id>": {
        "PATCH": (
            lambda w: {
                "url": {"patient_id": _pid(w), "assignment_id": w.homework},
                "json": {"version": 1, "text": "other words"},
            },
            LINKED,
        ),
        "DELETE": (
            lambda w: {"url": {"patient_id": _pid(w), "assignment_id": w.homework}},
            LINKED,
        ),
    },
    "/api/v1/assignments": {"GET": (lambda w: {}, PATIENTS)},
    "/api/v1/assignments/<uuid:assignment_id>/done": {
        "POST": (lambda w: {"url": {"assignment_id": w.homework}, "json": {}}, OWNER_ONLY)
    },
    "/api/v1/assignments/<uuid:assignment_id>/skip": {
        "POST": (
            lambda w: {"url": {"assignment_id": w.homework}, "json": {"reason": "r"}},
            OWNER_ONLY,
        )
    },
    "/api/v1/assignments/<uuid:assignment_id>/snooze": {
        "POST": (
            lambda w: {"url": {"assignment_id": w.homework}, "json": {"until": _in_days(1)}},
            OWNER_ONLY,
        )
    },
    "/api/v1/assignments/<uuid:assignment_id>/pause": {
        "POST": (
            lambda w: {"url": {"assignment_id": w.measure}, "json": {"paused": True}},
            OWNER_ONLY,
        )
    },
    "/api/v1/reminders": {
        "GET": (lambda w: {}, SIGNED_IN),
        "PUT": (lambda w: {"json": {"version": 0, "paused_until": None}}, SIGNED_IN),
    },
    "/api/v1/push/vapid-public-key": {"GET": (lambda w: {}, PUBLIC)},
    "/api/v1/push/subscriptions": {
        "GET": (lambda w: {}, SIGNED_IN),
        "POST": (lambda w: {"json": _subscription()}, SIGNED_IN),
        "DELETE": (
            lambda w: {"json": {"endpoint": "http://127.0.0.1:9/push/unknown"}},
            {**SIGNED_IN, "owner": 404, "other": 404, "linked": 404, "unlinked": 404},
        ),
    },
    "/api/v1/push/test": {
        "POST": (
            lambda w: {},
            {**SIGNED_IN, "owner": 409, "other": 409, "linked": 409, "unlinked": 409},
        )
    },
    # a delivery that is not yours (here: nobody's) is not found, for everyone
    "/api/v1/push/receipts": {
        "POST": (
            lambda w: {"json": {"delivery_id": str(uuid.uuid4()), "event": "shown"}},
            {"anon": 401, "owner": 404, "other": 404, "linked": 404, "unlinked": 404},
        )
    },
    "/api/v1/sync/changes": {"GET": (lambda w: {}, PATIENTS)},
    "/api/v1/sync/push": {
        "POST": (
            lambda w: {
                "json": {
                    "ops": [
                        {
                            "op_id": str(uuid.uuid4()),
                            "type": "journal_entry",
                            "id": w.shared,
                            "base_version": 1,
                            "action": "upsert",
                            "data": {"body": "pushed"},
                        }
                    ]
                }
            },
            PATIENTS,
        )
    },
}


def _routes(app):
    found = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/"):
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                found.add((rule.rule, method))
    return found


def _cases():
    return sorted((rule, method) for rule, methods in EXPECTATIONS.items() for method in methods)


def test_every_route_has_an_expectation(app):
    expected = set(_cases())
    missing = _routes(app) - expected
    assert not missing, f"routes without an authorization expectation: {sorted(missing)}"
    assert not expected - _routes(app), "expectations for routes that do not exist"


def _call(world, actor, rule, method, build):
    spec = build(world)
    url = rule
    for name, value in spec.get("url", {}).items():
        url = re.sub(rf"<[^>]*:{name}>", str(value), url)
    url += spec.get("query", "")
    return world.clients[actor].open(url, method=method, json=spec.get("json"))


def _matches(status: int, expected) -> bool:
    return 200 <= status < 300 if expected == OK else status == expected


@pytest.mark.parametrize("rule, method", _cases())
def test_authorization(app, rule, method):
    build, expected, *variant = EXPECTATIONS[rule][method]
    world = World(app)
    allowed = [a for a in ACTORS if expected[a] == OK or expected[a] not in (401, 404)]
    refused = [a for a in ACTORS if a not in allowed]
    for actor in refused:  # refused first: they must leave everything as it was
        before = world.digest()
        response = _call(world, actor, rule, method, build)
        assert response.status_code == expected[actor], (actor, response.json)
        assert world.digest() == before, f"{actor}'s refused call changed the database"
    if variant and "linked" in allowed:
        # while the item is private even the linked therapist gets 404, changing nothing
        before = world.digest()
        assert _call(world, "linked", rule, method, build).status_code == 404
        assert world.digest() == before
        if variant[0] == "share":
            world.share_everything()
        else:
            world.private = world.shared
    # the owner acts last; a delete gets a world of its own for each allowed actor
    for n, actor in enumerate(sorted(allowed, key=lambda a: a == "owner")):
        if method == "DELETE" and n:
            world = World(app)
        response = _call(world, actor, rule, method, build)
        assert _matches(response.status_code, expected[actor]), (
            actor,
            response.status_code,
            response.get_json(silent=True),
        )
