"""IFS parts maps, as a patient builds one and a linked therapist follows it."""

import itertools
import uuid

import pytest
from sqlalchemy import select

from server.audit.models import AuditEvent
from server.extensions import db
from server.parts.models import PartChange, PartRelation
from tests.api.test_sync import Device, push

PARTS, RELATIONS, MAP = "/api/v1/parts", "/api/v1/parts/relations", "/api/v1/parts/map"


def add_part(patient, name, **fields):
    response = patient.post(PARTS, json={"name": name, **fields})
    assert response.status_code == 201, response.json
    return response.json


def relate(patient, source, target, kind="protects", **fields):
    return patient.post(
        RELATIONS,
        json={"source_id": source["id"], "target_id": target["id"], "kind": kind, **fields},
    )


def relation_rows(app):
    with app.app_context():
        return db.session.scalar(select(db.func.count()).select_from(PartRelation))


def test_build_a_map(patient):
    critic = add_part(patient, "Critic", role="manager", feelings=["watchful"], x=10.5, y=-3)
    little = add_part(patient, "Little one", role="exile", age_sense="about six")
    assert critic["version"] == 1 and critic["role"] == "manager"
    made = relate(patient, critic, little, note="keeps her out of sight")
    assert made.status_code == 201
    whole = patient.get(MAP).json
    assert whole["shared"] is False
    assert {p["name"] for p in whole["parts"]} == {"Critic", "Little one"}
    assert [(r["source_id"], r["kind"], r["target_id"]) for r in whole["relations"]] == [
        (critic["id"], "protects", little["id"])
    ]


def test_relation_across_patients_to_a_deleted_part_or_to_itself_is_422(app, make_patient):
    a, b = make_patient(), make_patient()
    critic, little = add_part(a, "Critic"), add_part(a, "Little one")
    theirs = add_part(b, "Someone else's part")
    gone = add_part(a, "Gone")
    assert a.delete(f"{PARTS}/{gone['id']}?version=1").status_code == 204

    for source, target, field in [
        (critic, theirs, "target_id"),
        (theirs, critic, "source_id"),
        (critic, gone, "target_id"),
        (critic, critic, "target_id"),
    ]:
        response = relate(a, source, target)
        assert response.status_code == 422
        assert field in response.json["errors"]["json"]
    assert relation_rows(app) == 0
    # and over sync, the same refusal
    results = push(
        a,
        [
            {
                "op_id": str(uuid.uuid4()),
                "type": "part_relation",
                "id": str(uuid.uuid4()),
                "base_version": None,
                "action": "upsert",
                "data": {"source_id": critic["id"], "target_id": theirs["id"], "kind": "protects"},
            }
        ],
    )
    assert results[0]["status"] == "rejected"
    assert relation_rows(app) == 0
    assert relate(a, critic, little).status_code == 201


def test_no_duplicate_relation_of_the_same_kind(patient):
    a, b = add_part(patient, "A"), add_part(patient, "B")
    assert relate(patient, a, b, "polarized_with").status_code == 201
    assert relate(patient, a, b, "polarized_with").status_code == 422
    assert relate(patient, b, a, "polarized_with").status_code == 422  # symmetric
    assert relate(patient, a, b, "protects").status_code == 201
    assert relate(patient, b, a, "protects").status_code == 201  # direction matters here


def test_deleting_a_part_ends_its_relations_and_unlinks_entries_on_every_device(app, patient):
    phone, laptop = Device(patient), Device(patient)
    critic, little = add_part(patient, "Critic"), add_part(patient, "Little one")
    relation = relate(patient, critic, little).json
    entry = patient.post(
        "/api/v1/journal/entries",
        json={
            "body": "The critic was loud today.",
            "part_ids": [critic["id"], little["id"]],
        },
    ).json
    phone.pull()
    laptop.pull()
    assert phone.local[entry["id"]]["data"]["part_ids"] == [critic["id"], little["id"]]

    assert patient.delete(f"{PARTS}/{critic['id']}?version=1").status_code == 204

    whole = patient.get(MAP).json
    assert [p["name"] for p in whole["parts"]] == ["Little one"]
    assert whole["relations"] == []
    for device in (phone, laptop):
        device.pull()
        assert device.local[critic["id"]]["deleted"] is True
        assert device.local[relation["id"]]["deleted"] is True
        kept = device.local[entry["id"]]["data"]
        assert kept["part_ids"] == [little["id"]]
        assert kept["body"] == "The critic was loud today."  # the words stay
        assert kept["version"] == 1
    assert phone.local == laptop.local


@pytest.mark.parametrize("order", list(itertools.permutations(range(4)))[::5])
def test_offline_parts_and_relations_in_one_batch_in_any_order(patient, order):
    critic, little, watcher = (str(uuid.uuid4()) for _ in range(3))
    entry_id = str(uuid.uuid4())

    def upsert(type_, id_, data):
        return {
            "op_id": str(uuid.uuid4()),
            "type": type_,
            "id": id_,
            "base_version": None,
            "action": "upsert",
            "data": data,
        }

    ops = [
        upsert(
            "part_relation",
            str(uuid.uuid4()),
            {"source_id": critic, "target_id": little, "kind": "protects"},
        ),
        upsert("part", critic, {"name": "Critic", "role": "manager"}),
        upsert("journal_entry", entry_id, {"body": "met the watcher", "part_ids": [watcher]}),
        upsert("part", little, {"name": "Little one", "role": "exile"}),
    ]
    batch = [ops[i] for i in order] + [upsert("part", watcher, {"name": "Watcher"})]
    results = push(patient, batch)
    assert [r["status"] for r in results] == ["applied"] * 5
    whole = patient.get(MAP).json
    assert {p["name"] for p in whole["parts"]} == {"Critic", "Little one", "Watcher"}
    assert [(r["source_id"], r["target_id"]) for r in whole["relations"]] == [(critic, little)]
    linked = patient.get(f"/api/v1/journal/entries/{entry_id}").json
    assert linked["part_ids"] == [watcher]


def test_an_entry_linking_a_part_that_never_comes_keeps_its_words(patient):
    entry_id = str(uuid.uuid4())
    results = push(
        patient,
        [
            {
                "op_id": str(uuid.uuid4()),
                "type": "journal_entry",
                "id": entry_id,
                "base_version": None,
                "action": "upsert",
                "data": {"body": "still here", "part_ids": [str(uuid.uuid4())]},
            }
        ],
    )
    assert results[0]["status"] == "applied"
    entry = patient.get(f"/api/v1/journal/entries/{entry_id}").json
    assert entry["body"] == "still here" and entry["part_ids"] == []


def test_entries_link_only_my_live_parts(make_patient):
    a, b = make_patient(), make_patient()
    theirs = add_part(b, "Theirs")
    response = a.post("/api/v1/journal/entries", json={"body": "x", "part_ids": [theirs["id"]]})
    assert response.status_code == 422
    assert "part_ids" in response.json["errors"]["json"]


def test_stale_part_edit_is_409_and_moving_is_last_writer_wins(patient):
    part = add_part(patient, "Critic", description="stern")
    url = f"{PARTS}/{part['id']}"
    assert patient.put(url, json={"description": "tired", "version": 1}).status_code == 200
    stale = patient.put(url, json={"description": "old tab", "version": 1})
    assert stale.status_code == 409 and stale.json["current"]["description"] == "tired"
    # over sync, a stale move applies; a stale text edit is kept as a copy
    moved = push(
        patient,
        [
            {
                "op_id": str(uuid.uuid4()),
                "type": "part",
                "id": part["id"],
                "base_version": 1,
                "action": "upsert",
                "data": {"x": 50, "y": 60},
            }
        ],
    )
    assert moved[0]["status"] == "applied"
    text = push(
        patient,
        [
            {
                "op_id": str(uuid.uuid4()),
                "type": "part",
                "id": part["id"],
                "base_version": 1,
                "action": "upsert",
                "data": {"description": "written offline"},
            }
        ],
    )
    assert text[0]["status"] == "conflict"
    copy = patient.get(f"{PARTS}/{text[0]['conflict_copy_id']}").json
    assert copy["description"] == "written offline" and copy["conflict_of"] == part["id"]
    assert patient.get(url).json["description"] == "tired"
    assert patient.get(url).json["x"] == 50


@pytest.mark.parametrize(
    "body, field",
    [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"name": "A", "role": "boss"}, "role"),
        ({"name": "A", "color": "red"}, "color"),
        ({"name": "A", "x": "left"}, "x"),
        ({"name": "A", "secret": 1}, "secret"),
        ({"name": "A", "description": "x" * 5001}, "description"),
    ],
)
def test_bad_part_input_is_422(patient, body, field):
    response = patient.post(PARTS, json=body)
    assert response.status_code == 422
    assert field in response.json["errors"]["json"]
    assert patient.get(PARTS).json == []


def test_activity_per_week(patient):
    critic = add_part(patient, "Critic")
    for day, parts in [
        ("2026-11-02", [critic["id"]]),
        ("2026-11-04", [critic["id"]]),
        ("2026-11-10", [critic["id"]]),
        ("2026-11-11", []),
    ]:
        patient.post(
            "/api/v1/journal/entries",
            json={
                "body": "...",
                "title": day,
                "part_ids": parts,
                "written_at": f"{day}T20:00:00+01:00",
            },
        )
    activity = patient.get(f"{PARTS}/{critic['id']}/activity").json
    assert activity["weeks"] == [
        {"week_start": "2026-11-02", "count": 2},
        {"week_start": "2026-11-09", "count": 1},
    ]
    assert [e["title"] for e in activity["entries"]] == ["2026-11-10", "2026-11-04", "2026-11-02"]


def test_history_says_what_changed(app, patient):
    critic, little = add_part(patient, "Critic"), add_part(patient, "Little one")
    relation = relate(patient, critic, little).json
    watcher = add_part(patient, "Watcher")
    patient.put(f"{PARTS}/{watcher['id']}", json={"needs": "rest", "version": 1})
    patient.put(f"{PARTS}/{watcher['id']}", json={"x": 4, "version": 2})  # a move: not news
    patient.delete(f"{RELATIONS}/{relation['id']}?version=1")
    texts = [c["text"] for c in patient.get("/api/v1/parts/changes").json]
    assert texts == [
        "added the part 'Critic'",
        "added the part 'Little one'",
        "added the relation 'Critic protects Little one'",
        "added the part 'Watcher'",
        "changed the part 'Watcher' (needs)",
        "relation 'Critic protects Little one' ended",
    ]
    with app.app_context():
        cutoff = db.session.scalars(select(PartChange.at).order_by(PartChange.at)).all()[3]
    later = patient.get("/api/v1/parts/changes", query_string={"since": cutoff.isoformat()}).json
    assert [c["text"] for c in later] == texts[4:]


def test_therapist_sees_the_map_only_while_shared(app, therapist, patient, link):
    add_part(patient, "Critic")
    url = f"/api/v1/patients/{patient.id}/parts/map"
    assert therapist.get(url).status_code == 404  # not linked
    link(therapist, patient)
    assert therapist.get(url).status_code == 404  # not shared
    assert patient.put(MAP, json={"shared": True}).json["shared"] is True
    seen = therapist.get(url)
    assert seen.status_code == 200
    assert [p["name"] for p in seen.json["parts"]] == ["Critic"]
    patient.put(MAP, json={"shared": False})
    assert therapist.get(url).status_code == 404
    assert therapist.put(url, json={"shared": True}).status_code == 405
    with app.app_context():
        reads = db.session.scalars(
            select(AuditEvent).where(
                AuditEvent.action == "read", AuditEvent.object_type == "parts_map"
            )
        ).all()
    assert len(reads) == 1 and str(reads[0].actor_id) == therapist.id


def test_another_patients_part_is_not_found(make_patient):
    a, b = make_patient(), make_patient()
    part = add_part(a, "Mine")
    url = f"{PARTS}/{part['id']}"
    assert b.get(url).status_code == 404
    assert b.put(url, json={"name": "Taken", "version": 1}).status_code == 404
    assert b.delete(f"{url}?version=1").status_code == 404
    assert b.get(f"{url}/activity").status_code == 404
    assert a.get(url).json["name"] == "Mine"


def _relation_op(relation_id, base, note, source, target):
    return {
        "op_id": str(uuid.uuid4()),
        "type": "part_relation",
        "id": relation_id,
        "base_version": base,
        "action": "upsert",
        "data": {"source_id": source, "target_id": target, "kind": "protects", "note": note},
    }


def _journal_bodies(patient):
    return [e["body"] for e in patient.get("/api/v1/journal/entries").json["entries"]]


def test_a_stale_relation_note_is_kept_whole_in_the_journal(patient):
    """Two phones wrote the note at once: the map keeps the first, and the second is
    kept in full (never joined and cut at the note's limit) as a private entry."""
    critic, little = add_part(patient, "Critic"), add_part(patient, "Little one")
    relation = relate(patient, critic, little, note="first").json
    mine, theirs = "m" * 1500 + " mine", "t" * 1900 + " theirs"
    args = (critic["id"], little["id"])
    (applied,) = push(patient, [_relation_op(relation["id"], 1, theirs, *args)])
    (stale,) = push(patient, [_relation_op(relation["id"], 1, mine, *args)])
    assert applied["status"] == "applied" and stale["status"] == "conflict"
    assert patient.get(f"{RELATIONS}/{relation['id']}").json["note"] == theirs
    (kept,) = [b for b in _journal_bodies(patient) if mine in b]
    assert "Critic protects Little one" in kept


def test_a_note_written_after_the_part_was_deleted_is_kept(patient):
    critic, little = add_part(patient, "Critic"), add_part(patient, "Little one")
    relation = relate(patient, critic, little).json
    assert patient.delete(f"{PARTS}/{little['id']}?version=1").status_code == 204
    note = "written on the bus, offline"
    (answer,) = push(patient, [_relation_op(relation["id"], 1, note, critic["id"], little["id"])])
    assert answer["status"] == "conflict"
    (kept,) = [b for b in _journal_bodies(patient) if note in b]
    assert "Critic protects a removed part" in kept
