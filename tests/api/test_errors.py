"""Every error, 4xx and 5xx, answers in the one JSON shape."""

import os

import pytest
from flask import Flask

SHAPE = {"code", "status", "message"}


def assert_shape(response, code):
    assert response.status_code == code
    assert response.mimetype == "application/json"
    assert SHAPE <= set(response.json)
    assert response.json["code"] == code


def test_unknown_api_path_is_404_json(client):
    assert_shape(client.get("/api/v1/nothing-here"), 404)
    assert_shape(client.post("/api/v1/nothing-here", json={}), 404)


def test_wrong_method_is_405_with_allow(client):
    response = client.get("/api/v1/auth/login")
    assert_shape(response, 405)
    assert "POST" in response.headers["Allow"]


def test_oversized_body_is_413(app, patient):
    app.config["MAX_CONTENT_LENGTH"] = 1024
    response = patient.post("/api/v1/care-team/join", json={"code": "x" * 5000})
    assert_shape(response, 413)


def test_non_json_body_is_415(patient):
    response = patient.post("/api/v1/care-team/join", data="code=ABCD", content_type="text/plain")
    assert_shape(response, 415)


def test_malformed_json_is_400(patient):
    response = patient.post(
        "/api/v1/care-team/join", data="{not json", content_type="application/json"
    )
    assert_shape(response, 400)


def test_field_errors_name_the_field(patient):
    response = patient.post("/api/v1/care-team/join", json={"code": 12345678, "extra": 1})
    assert_shape(response, 422)
    fields = response.json["errors"]["json"]
    assert set(fields) == {"code", "extra"}


def test_unhandled_exception_is_500_without_a_trace(make_app, database_url):
    app: Flask = make_app({"SQLALCHEMY_DATABASE_URI": database_url, "TESTING": False})

    def explode():
        raise RuntimeError("secret internals /etc/passwd")

    app.add_url_rule("/api/v1/explode", "explode", explode)
    response = app.test_client().get("/api/v1/explode")
    assert_shape(response, 500)
    assert "secret internals" not in response.get_data(as_text=True)
    assert "Traceback" not in response.get_data(as_text=True)


def test_healthz_is_200_when_the_database_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json["status"] == "ok"


@pytest.mark.parametrize(
    "url",
    ["postgresql+psycopg://postgres@127.0.0.1:1/none", "sqlite:////nonexistent-dir/x/between.db"],
)
def test_healthz_is_503_when_the_database_does_not_answer(make_app, url):
    app = make_app({"SQLALCHEMY_DATABASE_URI": url})
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["status"] == "unavailable"


def test_openapi_spec_and_a_readable_reference(client):
    spec = client.get("/api/v1/openapi.json")
    assert spec.status_code == 200
    assert "/api/v1/auth/login" in spec.json["paths"]
    docs = client.get("/api/v1/docs")
    assert docs.status_code == 200
    page = docs.get_data(as_text=True)
    assert "Sign in with email and password." in page
    assert "/api/v1/care-team/join" in page


def test_security_headers(client):
    api = client.get("/api/v1/auth/me")
    assert api.headers["Cache-Control"] == "no-store"
    assert api.headers["X-Content-Type-Options"] == "nosniff"
    assert api.headers["Referrer-Policy"] == "no-referrer"
    page = client.get("/")
    assert page.status_code == 200
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in page.headers["Content-Security-Policy"]
    page.close()


@pytest.mark.skipif(
    bool(os.environ.get("TEST_DATABASE_URL")),
    reason="SQLite's single write lock; PostgreSQL writers wait on row locks",
)
@pytest.mark.app_config(SQLALCHEMY_ENGINE_OPTIONS={"connect_args": {"timeout": 0.2}})
def test_a_write_that_waits_out_sqlites_lock_is_503_and_the_retry_keeps_it_once(
    app, patient, database_url
):
    """Another writer holds SQLite's write lock past the busy timeout: the answer is 503
    with Retry-After, nothing half-written; the same request again, later, is saved once."""
    import sqlite3

    from sqlalchemy.engine import make_url

    entry = {"id": "6f1c2a34-5b6d-4e7f-8a9b-0c1d2e3f4a5b", "body": "held up", "shared": False}
    holder = sqlite3.connect(make_url(database_url).database)
    holder.execute("BEGIN IMMEDIATE")  # the write lock, held
    try:
        response = patient.post("/api/v1/journal/entries", json=entry)
    finally:
        holder.rollback()
        holder.close()
    assert_shape(response, 503)
    assert response.headers["Retry-After"] == "1"
    assert "Nothing from this request was saved" in response.json["message"]
    assert patient.get("/api/v1/journal/entries").json["entries"] == []

    assert patient.post("/api/v1/journal/entries", json=entry).status_code == 201
    listed = patient.get("/api/v1/journal/entries").json["entries"]
    assert [e["body"] for e in listed] == ["held up"]


def test_dates_in_any_answer_are_iso_8601(app):
    """Also where a free-form dict carries one, never RFC 1123."""
    from datetime import UTC, date, datetime

    with app.app_context():
        text = app.json.dumps(
            {"at": datetime(2026, 12, 1, 9, 0, tzinfo=UTC), "day": date(2026, 12, 1)}
        )
    assert text == '{"at": "2026-12-01T09:00:00+00:00", "day": "2026-12-01"}'
