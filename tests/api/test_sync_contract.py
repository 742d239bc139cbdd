"""The sync contract, one for every synced type (DESIGN.md: "Ownership and tombstones are
the protocol's"), as a patient's devices meet it through the push and pull endpoints:

- another patient's id (or an id the type does not allow) gets one answer, "This id
  cannot be used.", and nothing of the other patient's changes;
- a stale edit never overwrites: the server's copy stays and travels back on the next
  pull, and the stale words are kept where the patient sees them;
- a delete leaves a tombstone that another device pulls;
- an op sent again answers what it answered the first time, and changes nothing.

A type added to the registry without a case here fails the first test.
"""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest

from server.db import utcnow
from server.sync.registry import REGISTRY
from tests.api.test_sync import op as entry_op
from tests.api.test_sync import pull_all, push

TYPES = [
    "journal_entry",
    "part",
    "part_relation",
    "plan",
    "checkin",
    "treatment_session",
    "assignment",
]
# set by the therapist: a patient's device only answers them
THERAPISTS = ["treatment_session", "assignment"]
EDITABLE = ["journal_entry", "part", "part_relation", "plan"]
DELETABLE = ["journal_entry", "part", "part_relation", "checkin"]
UNUSABLE = {"id": ["This id cannot be used."]}


def op(kind, obj_id, data=None, base_version=None, action="upsert"):
    return {**entry_op(obj_id, data, base_version, action), "type": kind}


def held(actor) -> dict:
    """What a device that pulls everything holds: each object's last copy, by id."""
    return {c["id"]: {k: c[k] for k in ("version", "deleted", "data")} for c in pull_all(actor)[0]}


def edit(kind, words: str) -> dict:
    """An edit a device may push of an object of this kind, carrying `words`."""
    return {
        "journal_entry": {"body": words},
        "part": {"description": words},
        "part_relation": {"note": words},
        "plan": {"warning_signs": [{"text": words}]},
        "checkin": {
            "instrument": "daily",
            "answers": {"mood": 7, "safety": False},
            "answered_at": utcnow().isoformat(),
        },
        "treatment_session": {"title": words},
        "assignment": {"status": "skipped", "skip_reason": words},
    }[kind]


def words_of(kind, data: dict):
    key = {"journal_entry": "body", "part": "description", "part_relation": "note"}
    if kind == "plan":
        return [item["text"] for item in data["warning_signs"]]
    return data[key[kind]]


def new_op(kind, patient) -> dict:
    """The op a patient's device sends to make an object of this kind (a relation's
    parts are pushed first)."""
    if kind == "journal_entry":
        return op(kind, uuid.uuid4(), {"body": "first words"})
    if kind == "part":
        return op(kind, uuid.uuid4(), {"name": "a part", "description": "first words"})
    if kind == "part_relation":
        ends = [uuid.uuid4(), uuid.uuid4()]
        push(patient, [op("part", end, {"name": f"part {n}"}) for n, end in enumerate(ends)])
        data = {"source_id": str(ends[0]), "target_id": str(ends[1]), "kind": "protects"}
        return op(kind, uuid.uuid4(), {**data, "note": "first words"})
    if kind == "plan":
        return op(kind, patient.id, {"warning_signs": [{"text": "first words"}]})
    if kind == "checkin":
        answers = {"mood": 4, "safety": False}
        return op(kind, uuid.uuid4(), {**edit(kind, ""), "answers": answers})
    raise AssertionError(f"patients do not make a {kind}")


@pytest.fixture
def make_object(make_therapist, link):
    """Makes one object of a kind for a patient, as it comes to exist: pushed by one of
    their devices, or (a treatment session) set by their therapist. Its id."""

    def make(kind, patient) -> str:
        if kind in THERAPISTS:
            therapist = make_therapist()
            link(therapist, patient)
            starts = (utcnow() + timedelta(days=3)).isoformat()
            path, body = {
                "treatment_session": (
                    "sessions",
                    {"kind": "preparation", "starts_at": starts, "title": "first words"},
                ),
                "assignment": (
                    "assignments",
                    {
                        "kind": "homework",
                        "homework_type": "prompt",
                        "text": "first words",
                        "due_at": starts,
                    },
                ),
            }[kind]
            response = therapist.post(f"/api/v1/patients/{patient.id}/{path}", json=body)
            assert response.status_code == 201, response.json
            return response.json["id"]
        made = new_op(kind, patient)
        (outcome,) = push(patient, [made])
        assert (outcome["status"], outcome["version"]) == ("applied", 1), outcome
        return made["id"]

    return make


def test_the_contract_covers_every_synced_type(app):
    assert set(REGISTRY) == set(TYPES)  # the registry fills as the app loads its features


@pytest.mark.parametrize("kind", TYPES)
def test_another_patients_id_gets_one_answer_and_nothing_of_theirs_changes(
    kind, make_patient, make_object
):
    """Whatever the type, a stranger pushing an edit or a delete of my object hears only
    "This id cannot be used.", and what my devices pull stays exactly as it was."""
    owner, stranger = make_patient(), make_patient()
    obj_id = make_object(kind, owner)
    theirs = held(owner)

    results = push(
        stranger,
        [
            op(kind, obj_id, edit(kind, "not yours")),
            op(kind, obj_id, edit(kind, "not yours"), base_version=1),
            op(kind, obj_id, base_version=1, action="delete"),
        ],
    )
    assert [(r["status"], r["errors"]) for r in results] == [("rejected", UNUSABLE)] * 3
    assert held(owner) == theirs
    assert pull_all(stranger)[0] == []


def test_a_plan_can_only_have_its_patients_id(patient):
    """A plan is the patient's own: an id that is not theirs is refused with the same one
    answer, and no plan is made."""
    results = push(patient, [op("plan", uuid.uuid4(), edit("plan", "my words"))])
    assert [(r["status"], r["errors"]) for r in results] == [("rejected", UNUSABLE)]
    assert patient.get("/api/v1/plan").json["version"] == 0


@pytest.mark.parametrize("kind", EDITABLE)
def test_a_stale_edit_keeps_the_server_copy_sends_it_back_and_keeps_its_words(
    kind, patient, make_object
):
    """The phone edits first; the laptop's edit of the same version arrives later. The
    server keeps the phone's words, the laptop's next pull brings them back to it, and
    the laptop's words are kept where the patient sees them (a copy, the journal for a
    relation's note, a plan revision)."""
    obj_id = make_object(kind, patient)
    (phone,) = push(patient, [op(kind, obj_id, edit(kind, "w-phone"), base_version=1)])
    assert (phone["status"], phone["version"]) == ("applied", 2)
    _, cursor = pull_all(patient)

    (laptop,) = push(patient, [op(kind, obj_id, edit(kind, "w-laptop"), base_version=1)])
    assert (laptop["status"], laptop["version"]) == ("conflict", 2)

    back = {c["id"]: c for c in pull_all(patient, cursor)[0]}
    assert back[obj_id]["version"] == 2
    expected = ["w-phone"] if kind == "plan" else "w-phone"
    assert words_of(kind, back[obj_id]["data"]) == expected
    if kind == "plan":
        number = laptop["conflict_revision"]
        revision = patient.get(f"/api/v1/plan/revisions/{number}").json
        assert revision["conflict"] is True
        assert [item["text"] for item in revision["warning_signs"]] == ["w-laptop"]
    else:
        kept = [c for c in back.values() if "w-laptop" in json.dumps(c["data"])]
        assert len(kept) == 1 and kept[0]["id"] != obj_id


def test_answers_cannot_change_and_sessions_cannot_be_written_from_a_device(patient, make_object):
    """A check-in sent again with other answers, and any write of a session, are refused:
    the server's copy stays as it was."""
    checkin_id = make_object("checkin", patient)
    session_id = make_object("treatment_session", patient)
    before = held(patient)
    results = push(
        patient,
        [
            op("checkin", checkin_id, edit("checkin", ""), base_version=1),
            op("treatment_session", session_id, edit("treatment_session", "mine"), base_version=1),
            op("treatment_session", session_id, base_version=1, action="delete"),
        ],
    )
    assert [(r["status"], r["errors"]) for r in results] == [
        ("rejected", {"answers": ["A check-in cannot be changed once answered."]}),
        ("rejected", {"type": ["Sessions are set by your therapist."]}),
        ("rejected", {"type": ["Sessions are set by your therapist."]}),
    ]
    assert held(patient) == before


def test_assignments_are_answered_not_written_from_a_device(patient, make_object):
    """A device answers an assignment its therapist set; making one, changing the
    therapist's words or deleting one is refused, and the server's copy stays."""
    assignment_id = make_object("assignment", patient)
    before = held(patient)
    results = push(
        patient,
        [
            op("assignment", uuid.uuid4(), edit("assignment", "mine")),
            op("assignment", assignment_id, {"text": "mine"}, base_version=1),
            op("assignment", assignment_id, base_version=1, action="delete"),
        ],
    )
    assert [(r["status"], r["errors"]) for r in results] == [
        ("rejected", {"id": ["Set by your therapist."]}),
        ("rejected", {"data": {"text": ["Set by your therapist."]}}),
        (
            "rejected",
            {"action": ["Your therapist takes assignments back; you can skip or pause them."]},
        ),
    ]
    assert held(patient) == before
    (answered,) = push(
        patient, [op("assignment", assignment_id, edit("assignment", "mine"), base_version=1)]
    )
    assert (answered["status"], answered["version"]) == ("applied", 2)
    assert held(patient)[assignment_id]["data"]["skip_reason"] == "mine"


@pytest.mark.parametrize("kind", DELETABLE)
def test_a_delete_leaves_a_tombstone_another_device_pulls(kind, patient, make_object):
    obj_id = make_object(kind, patient)
    _, other_device = pull_all(patient)  # the other device is up to date
    (deleted,) = push(patient, [op(kind, obj_id, base_version=1, action="delete")])
    assert (deleted["status"], deleted["version"]) == ("applied", 2)
    changes, _ = pull_all(patient, other_device)
    tombstone = {"type": kind, "id": obj_id, "version": 2, "deleted": True, "data": None}
    assert tombstone in changes
    # deleting again, or an id never seen, is already done
    again = push(
        patient,
        [
            op(kind, obj_id, base_version=2, action="delete"),
            op(kind, uuid.uuid4(), action="delete"),
        ],
    )
    assert [(r["status"], r["version"]) for r in again] == [("applied", 2), ("applied", None)]


def test_a_plan_cannot_be_deleted_from_a_device(patient, make_object):
    plan_id = make_object("plan", patient)
    before = held(patient)
    (result,) = push(patient, [op("plan", plan_id, base_version=1, action="delete")])
    assert (result["status"], result["errors"]) == (
        "rejected",
        {"action": ["A plan cannot be deleted."]},
    )
    assert held(patient) == before


@pytest.mark.parametrize("kind", TYPES)
def test_an_op_sent_again_answers_the_same_and_changes_nothing(kind, patient, make_object):
    """A phone that lost the answers sends its ops again: the same answers, and what
    every device pulls is as after the first time."""
    if kind in THERAPISTS:
        obj_id = make_object(kind, patient)
        ops = [op(kind, obj_id, edit(kind, "mine"), base_version=1)]
    else:
        made = new_op(kind, patient)
        ops = [made, op(kind, made["id"], base_version=1, action="delete")]
    first = push(patient, ops)
    after_first = held(patient)
    assert push(patient, ops) == first
    assert push(patient, list(reversed(ops))) == list(reversed(first))
    assert held(patient) == after_first
