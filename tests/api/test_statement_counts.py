"""SQL statements per hot request, as a signed-in patient's phone makes them.

Each count is the whole HTTP request, the session lookup included. Every statement is a
round trip and most of a request's CPU (issue #20, bench/RESULTS.md "Where the time
goes"), so each test pins the exact count: a change that adds one to the hot path fails
here and has to say why, and the target each count must stay within is in its message.
"""

from __future__ import annotations

import uuid

import pytest

from server.db import utcnow
from tests.factories import counting_statements

CHANGES = "/api/v1/sync/changes"
PUSH = "/api/v1/sync/push"
ENTRIES = "/api/v1/journal/entries"


def _op(body: str, tags=()) -> dict:
    return {
        "op_id": str(uuid.uuid4()),
        "type": "journal_entry",
        "id": str(uuid.uuid4()),
        "base_version": None,
        "action": "upsert",
        "data": {"body": body, "tags": list(tags)},
    }


def _cursor(patient) -> str:
    """The patient's cursor once everything so far has been pulled."""
    cursor = "0"
    while True:
        page = patient.get(f"{CHANGES}?since={cursor}").json
        cursor = page["cursor"]
        if not page["has_more"]:
            return cursor


@pytest.fixture
def warm(patient):
    """A patient whose phone has synced once (its counter row exists) and been used."""
    response = patient.post(PUSH, json={"ops": [_op("first", ["a"])]})
    assert response.status_code == 200, response.json
    return patient


def test_a_pull_with_nothing_new(app, warm):
    cursor = _cursor(warm)
    with counting_statements(app) as sql:
        page = warm.get(f"{CHANGES}?since={cursor}").json
    assert page["changes"] == []
    assert sql["n"] == 2, f"{sql['n']} statements (target: at most 2)"


def test_a_pull_of_a_few_new_entries_with_tags(app, warm):
    cursor = _cursor(warm)
    pushed = warm.post(
        PUSH, json={"ops": [_op("one", ["x", "y"]), _op("two"), _op("three", ["z"])]}
    )
    assert pushed.status_code == 200
    with counting_statements(app) as sql:
        page = warm.get(f"{CHANGES}?since={cursor}").json
    assert [c["data"]["tags"] for c in page["changes"]] == [["x", "y"], [], ["z"]]
    assert sql["n"] == 3, f"{sql['n']} statements (target: at most 3)"


@pytest.mark.parametrize("own_id", [False, True], ids=["server-made id", "client-made id"])
def test_a_new_journal_entry(app, warm, own_id):
    body = {"body": "words", "tags": ["t1", "t2"]}
    if own_id:  # as an offline device makes it
        body["id"] = str(uuid.uuid4())
    with counting_statements(app) as sql:
        response = warm.post(ENTRIES, json=body)
    assert response.status_code == 201, response.json
    assert response.json["tags"] == ["t1", "t2"]
    assert sql["n"] == 4, f"{sql['n']} statements (target: at most 4)"


def test_a_push_of_two_new_entries(app, warm):
    ops = [_op("one", ["x"]), _op("two", ["y", "z"])]
    with counting_statements(app) as sql:
        response = warm.post(PUSH, json={"ops": ops})
    assert [r["status"] for r in response.json["results"]] == ["applied", "applied"]
    assert sql["n"] == 7, f"{sql['n']} statements (target: at most 8)"


def test_a_daily_checkin(app, warm):
    checkin = {
        "instrument": "daily",
        "answers": {"mood": 4, "safety": False},
        "answered_at": utcnow().isoformat(),
    }
    with counting_statements(app) as sql:
        response = warm.post("/api/v1/checkins", json=checkin)
    assert response.status_code == 201, response.json
    assert sql["n"] == 3, f"{sql['n']} statements (target: at most 5)"


def test_a_signed_in_404(app, warm):
    with counting_statements(app) as sql:
        response = warm.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert sql["n"] == 1, f"{sql['n']} statements (target: at most 1)"


def test_a_taken_client_made_id_is_still_answered_as_before(make_patient, warm):
    """A client-made id is written without looking first; when it is taken, the write
    starts again and looks: a retry gets its entry, other words a 409 with the current
    copy, another patient's id a 409 that leaves their entry as it was."""
    entry_id = str(uuid.uuid4())
    first = warm.post(ENTRIES, json={"id": entry_id, "body": "words"})
    assert first.status_code == 201
    again = warm.post(ENTRIES, json={"id": entry_id, "body": "words"})
    assert again.status_code == 201 and again.json == first.json
    other_words = warm.post(ENTRIES, json={"id": entry_id, "body": "other words"})
    assert other_words.status_code == 409
    assert other_words.json["current"]["body"] == "words"

    stranger = make_patient()
    taken = stranger.post(ENTRIES, json={"id": entry_id, "body": "not theirs"})
    assert taken.status_code == 409
    assert "body" not in str(taken.json.get("current"))
    assert warm.get(f"{ENTRIES}/{entry_id}").json == first.json
    assert stranger.get(ENTRIES).json["entries"] == []
