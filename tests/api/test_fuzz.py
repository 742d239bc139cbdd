"""schemathesis over /api/v1/openapi.json, signed in as a patient and as a therapist:
no 5xx, and every documented answer fits its schema; then a stateful run."""

from __future__ import annotations

import uuid

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from server.auth import service as auth_service
from server.auth.models import User
from server.extensions import db
from tests.factories import make_actor

COOKIE = "between_session"
CHECKS = [not_a_server_error, response_schema_conformance]

# Hypothesis' uuids() draws from a true random source, which a stateful run cannot replay
# (FlakyStrategyDefinition as soon as a rule builds a path id from a list it fetched);
# uuids made from drawn integers replay exactly
schemathesis.openapi.format(
    "uuid",
    st.builds(
        lambda n, version: str(uuid.UUID(int=n, version=version)),
        st.integers(0, 2**128 - 1),
        st.sampled_from([1, 4]),
    ),
)


@pytest.fixture
def people(app, link):
    """A linked patient and therapist with a little data. Each call gets a fresh
    session cookie: a fuzzed logout must not sign out the cases after it."""
    patient = make_actor(app, "patient")
    therapist = make_actor(app, "therapist")
    link(therapist, patient)
    patient.post("/api/v1/journal/entries", json={"body": "seed", "shared": True})
    # something set to answer, so the assignment routes meet real ids too
    therapist.post(
        f"/api/v1/patients/{patient.id}/assignments",
        json={
            "kind": "homework",
            "homework_type": "prompt",
            "text": "seed",
            "due_at": "2031-01-01T09:00:00+00:00",
        },
    )
    serializer = app.session_interface.get_signing_serializer(app)
    ids = {"patient": patient.id, "therapist": therapist.id}

    def cookie(role: str) -> dict:
        with app.app_context():
            user = db.session.get(User, uuid.UUID(ids[role]))
            _row, token = auth_service.start_session(user)
            db.session.commit()
        return {COOKIE: serializer.dumps({"sid": token, "_user_id": ids[role]})}

    return cookie


@pytest.fixture
def api_schema(app):
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


FUZZ = settings(
    max_examples=8,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)


LIMITS = {
    "RATELIMIT_LOGIN": "100000 per minute",
    "RATELIMIT_JOIN": "100000 per minute",
    "RATELIMIT_REGISTER": "100000 per minute",
    "RATELIMIT_FORGOT": "100000 per minute",
    "RATELIMIT_FORGOT_IP": "100000 per minute",
    "RATELIMIT_SECOND_FACTOR": "100000 per minute",
}


@pytest.mark.app_config(**LIMITS)
@pytest.mark.parametrize("role", ["patient", "therapist"])
def test_every_operation_fuzzed(api_schema, people, role):
    """Each operation with generated input (valid and not): never a 5xx, and every
    documented answer fits its schema. (Driven by hand: schemathesis' lazy pytest
    loader does not run on this pytest.)"""
    failures = []
    for result in api_schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @FUZZ
        def run(case):
            response = case.call(cookies=people(role))
            # a wrong password, or a passkey answer to no challenge, is a 401 there
            if case.path not in ("/api/v1/auth/login", "/api/v1/auth/login/passkey"):
                assert response.status_code != 401, f"{case.method} {case.path}: signed out"
            case.validate_response(response, checks=CHECKS)

        try:
            run()
        except Exception as exc:  # collect them all, then report
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}")
    assert not failures, "\n\n".join(failures)


@pytest.mark.app_config(**LIMITS)
@pytest.mark.parametrize("role", ["patient", "therapist"])
def test_stateful(api_schema, people, role):
    signed_in = people
    machine = api_schema.as_state_machine()

    class Machine(machine):
        def get_call_kwargs(self, case):
            return {"cookies": signed_in(role)}

        def validate_response(self, response, case, **kwargs):
            case.validate_response(response, checks=CHECKS)

    Machine.run(
        settings=settings(
            max_examples=15,
            stateful_step_count=6,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
    )
