"""Headers everywhere, limits, logs without content, mass assignment refused."""

import json
import logging
import uuid

import pytest

from tests.unit.test_scoring import answers_totalling


@pytest.mark.parametrize(
    "path",
    ["/", "/css/app.css", "/api/v1/auth/me", "/api/v1/nope", "/healthz", "/api/v1/openapi.json"],
)
def test_security_headers_on_every_kind_of_response(client, path):
    response = client.get(path)
    headers = response.headers
    csp = headers["Content-Security-Policy"]
    for directive in (
        "default-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ):
        assert directive in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert "camera=()" in headers["Permissions-Policy"]
    assert headers["X-Request-ID"]
    if path.startswith("/api/"):
        assert headers["Cache-Control"] == "no-store"
    response.close()


@pytest.mark.app_config(PRODUCTION=True)
def test_hsts_in_production(client):
    assert "max-age=" in client.get("/healthz").headers["Strict-Transport-Security"]


def test_deeply_nested_json_is_refused(patient):
    nested = {"a": 1}
    for _ in range(40):
        nested = {"x": nested}
    response = patient.post("/api/v1/journal/entries", json={"body": "x", "deep": nested})
    assert response.status_code == 400
    assert "nested" in response.json["message"]


def test_page_size_is_capped(patient):
    assert patient.get("/api/v1/journal/entries?limit=201").status_code == 422
    assert patient.get("/api/v1/sync/changes?limit=1001").status_code == 422


@pytest.mark.parametrize(
    "field, value",
    [
        ("owner_id", str(uuid.uuid4())),
        ("patient_id", str(uuid.uuid4())),
        ("version", 5),
        ("role", "therapist"),
        ("read_by_therapist_at", "2026-01-01T00:00:00+00:00"),
        ("created_at", "2026-01-01T00:00:00+00:00"),
    ],
)
def test_mass_assignment_is_refused(app, patient, field, value):
    entries = patient.post("/api/v1/journal/entries", json={"body": "x", field: value})
    assert entries.status_code == 422 and field in entries.json["errors"]["json"]
    parts = patient.post("/api/v1/parts", json={"name": "x", field: value})
    assert parts.status_code == 422 and field in parts.json["errors"]["json"]
    checkin = patient.post(
        "/api/v1/checkins",
        json={
            "instrument": "gad7",
            "answers": {},
            "answered_at": "2026-11-01T09:00:00+00:00",
            field: value,
        },
    )
    assert checkin.status_code == 422 and field in checkin.json["errors"]["json"]
    if field != "version":
        plan = patient.put("/api/v1/plan", json={"version": 0, field: value})
        assert plan.status_code == 422 and field in plan.json["errors"]["json"]
    if field != "role":  # choosing a role is what registering is for
        register = app.test_client().post(
            "/api/v1/auth/register",
            json={
                "email": "m@example.test",
                "password": "a-long-test-passphrase",
                "display_name": "M",
                "role": "patient",
                field: value,
            },
        )
        assert register.status_code == 422
    assert patient.get("/api/v1/journal/entries").json["entries"] == []


def test_a_canary_never_reaches_logs_or_others(app, patient, make_patient, therapist, link, caplog):
    canary = "CANARY-" + uuid.uuid4().hex
    link(therapist, patient)
    caplog.set_level(logging.DEBUG)
    entry = patient.post(
        "/api/v1/journal/entries", json={"title": canary, "body": canary, "tags": ["t"]}
    ).json
    patient.put("/api/v1/plan", json={"version": 0, "coping_steps": [{"text": canary}]})
    patient.post(
        "/api/v1/checkins",
        json={
            "instrument": "daily",
            "answered_at": "2026-11-01T09:00:00+00:00",
            "answers": {"mood": 4, "note": canary, "safety": True},
        },
    )
    patient.post(
        "/api/v1/checkins",
        json={
            "instrument": "phq9",
            "answered_at": "2026-11-01T09:00:00+00:00",
            "answers": {**answers_totalling("phq9", 3, 8), "phq9_9": 2},
        },
    )
    # bad input echoing the canary back must not log it either
    patient.post("/api/v1/journal/entries", json={"body": canary, "mood": canary})
    patient.put(f"/api/v1/journal/entries/{entry['id']}", json={"body": canary, "version": 9})
    other = make_patient()
    seen_by_others = [
        other.get(f"/api/v1/journal/entries/{entry['id']}"),
        other.put(f"/api/v1/journal/entries/{entry['id']}", json={"body": "x", "version": 1}),
        other.get("/api/v1/plan"),
        other.get("/api/v1/sync/changes"),
        therapist.get(f"/api/v1/patients/{patient.id}/journal/entries"),  # private: none
        therapist.get("/api/v1/flags"),
        therapist.get("/api/v1/caseload"),
    ]
    for response in seen_by_others:
        assert canary not in response.get_data(as_text=True)
    logged = "\n".join(r.getMessage() + json.dumps(r.__dict__, default=str) for r in caplog.records)
    assert "request" in logged  # the logs did run
    assert canary not in logged


def test_a_failing_statement_never_carries_its_values_into_a_log(app, caplog):
    """An unexpected database error is logged with its traceback, which names the
    statement; the values bound to it (what a patient wrote) stay out."""
    import sqlalchemy as sa

    from server.extensions import db

    canary = "canary-" + uuid.uuid4().hex
    with app.app_context():
        with pytest.raises(sa.exc.DBAPIError) as failed:
            db.session.execute(sa.text("INSERT INTO no_such_table VALUES (:v)"), {"v": canary})
        db.session.rollback()
    logging.getLogger("test").exception("logged", exc_info=failed.value)
    assert "no_such_table" in caplog.text
    assert canary not in caplog.text and canary not in str(failed.value)
