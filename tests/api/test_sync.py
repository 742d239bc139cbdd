"""The offline sync protocol, as two devices of one patient (and a stranger) use it."""

import random
import uuid

import pytest
from sqlalchemy import select, text

from server.db import utcnow
from server.extensions import db
from server.sync.models import SyncOp
from tests.factories import counting_statements

PUSH = "/api/v1/sync/push"
CHANGES = "/api/v1/sync/changes"


def op(entry_id, data=None, base_version=None, action="upsert", op_id=None):
    return {
        "op_id": op_id or str(uuid.uuid4()),
        "type": "journal_entry",
        "id": str(entry_id),
        "base_version": base_version,
        "action": action,
        "data": data or {},
    }


def push(actor, ops):
    response = actor.post(PUSH, json={"ops": ops})
    assert response.status_code == 200, response.json
    return response.json["results"]


def pull_all(actor, since="0", limit=200):
    changes, cursor = [], since
    while True:
        page = actor.get(f"{CHANGES}?since={cursor}&limit={limit}").json
        changes += page["changes"]
        cursor = page["cursor"]
        if not page["has_more"]:
            return changes, cursor


def snapshot(app, patient_id):
    """Every column of every entry row of a patient, as stored, but where it sits in the
    feed: a replay of an op whose object moved on sends the object's copy back again."""
    with app.app_context():
        rows = (
            db.session.execute(
                text("SELECT * FROM journal_entries WHERE patient_id = :p ORDER BY id"),
                {
                    "p": uuid.UUID(patient_id).hex
                    if "sqlite" in str(db.engine.url)
                    else uuid.UUID(patient_id)
                },
            )
            .mappings()
            .all()
        )
        return [{k: v for k, v in r.items() if k != "change_seq"} for r in rows]


class Device:
    """A patient's phone: a local copy by id, a pull cursor."""

    def __init__(self, actor):
        self.actor, self.cursor, self.local = actor, "0", {}

    def pull(self):
        changes, self.cursor = pull_all(self.actor, self.cursor)
        for change in changes:
            self.local[change["id"]] = change
        return changes


def test_the_same_batch_pushed_three_times_shuffled_is_one_push(app, patient):
    ids = [uuid.uuid4() for _ in range(6)]
    batch = [op(i, {"body": f"entry {n}", "tags": ["t"], "mood": n}) for n, i in enumerate(ids)]
    batch.append(op(ids[0], {"body": "edited"}, base_version=1))
    batch.append(op(ids[1], base_version=1, action="delete"))

    first = push(patient, batch)
    after_one_push = snapshot(app, patient.id)
    for _ in range(2):
        shuffled = batch[:]
        random.shuffle(shuffled)
        replay = push(patient, shuffled)
        # each replayed op answers with its first result
        assert {r["op_id"]: r for r in replay} == {r["op_id"]: r for r in first}
    assert snapshot(app, patient.id) == after_one_push

    changes, _ = pull_all(patient)
    assert sorted(c["id"] for c in changes) == sorted(str(i) for i in ids)  # no duplicates
    bodies = sorted(c["data"]["body"] for c in changes if not c["deleted"])
    assert bodies == ["edited", "entry 2", "entry 3", "entry 4", "entry 5"]
    with app.app_context():
        ops = db.session.scalar(
            select(db.func.count())
            .select_from(SyncOp)
            .where(SyncOp.patient_id == uuid.UUID(patient.id))
        )
    assert ops == len(batch)


def test_two_devices_editing_one_entry_keep_both_texts_and_converge(patient):
    phone, laptop = Device(patient), Device(patient)
    entry_id = uuid.uuid4()
    push(patient, [op(entry_id, {"body": "first words", "title": "t"})])
    phone.pull()
    laptop.pull()

    phone_result = push(patient, [op(entry_id, {"body": "phone text"}, base_version=1)])[0]
    laptop_result = push(patient, [op(entry_id, {"body": "laptop text"}, base_version=1)])[0]
    assert phone_result["status"] == "applied"
    assert laptop_result["status"] == "conflict"
    copy_id = laptop_result["conflict_copy_id"]

    phone.pull()
    laptop.pull()
    assert phone.local == laptop.local
    assert phone.local[str(entry_id)]["data"]["body"] == "phone text"
    copy = phone.local[copy_id]["data"]
    assert copy["body"] == "laptop text"
    assert copy["conflict_of"] == str(entry_id)
    assert copy["title"] == "t"  # fields the stale edit did not touch come from the server copy


def test_a_stale_delete_keeps_the_newer_text(patient):
    entry_id = uuid.uuid4()
    push(patient, [op(entry_id, {"body": "v1"})])
    push(patient, [op(entry_id, {"body": "v2, written later"}, base_version=1)])
    result = push(patient, [op(entry_id, base_version=1, action="delete")])[0]
    assert result["status"] == "conflict"
    assert patient.get(f"/api/v1/journal/entries/{entry_id}").json["body"] == "v2, written later"


def test_an_edit_after_another_device_deleted_survives_as_a_copy(patient):
    entry_id = uuid.uuid4()
    push(patient, [op(entry_id, {"body": "v1"})])
    push(patient, [op(entry_id, base_version=1, action="delete")])
    result = push(patient, [op(entry_id, {"body": "written offline"}, base_version=1)])[0]
    assert result["status"] == "conflict"
    copy = patient.get(f"/api/v1/journal/entries/{result['conflict_copy_id']}").json
    assert copy["body"] == "written offline"


def test_tombstones_sync(patient):
    phone = Device(patient)
    entry_id = uuid.uuid4()
    push(patient, [op(entry_id, {"body": "to be deleted"})])
    phone.pull()
    push(patient, [op(entry_id, base_version=1, action="delete")])
    changes = phone.pull()
    assert changes == [
        {"type": "journal_entry", "id": str(entry_id), "version": 2, "deleted": True, "data": None}
    ]


def test_another_patients_id_is_refused_and_their_row_is_untouched(app, make_patient):
    a, b = make_patient(), make_patient()
    entry_id = uuid.uuid4()
    push(a, [op(entry_id, {"body": "A's words", "shared": True})])
    before = snapshot(app, a.id)

    results = push(
        b,
        [
            op(entry_id, {"body": "B overwrites"}, base_version=1),
            op(entry_id, {"body": "B blind"}),
            op(entry_id, base_version=1, action="delete"),
        ],
    )
    assert [r["status"] for r in results] == ["rejected"] * 3
    put = b.put(f"/api/v1/journal/entries/{entry_id}", json={"body": "B put", "version": 1})
    assert put.status_code == 404
    assert b.delete(f"/api/v1/journal/entries/{entry_id}?version=1").status_code == 404

    assert snapshot(app, a.id) == before
    assert pull_all(b)[0] == []


def test_a_rejected_op_does_not_undo_the_others(app, patient):
    good, bad = uuid.uuid4(), uuid.uuid4()
    results = push(
        patient,
        [
            op(good, {"body": "kept"}),
            op(bad, {"body": "x", "mood": 11}),
            op(uuid.uuid4(), {"title": "no body"}),
        ],
    )
    assert [r["status"] for r in results] == ["applied", "rejected", "rejected"]
    assert "mood" in results[1]["errors"]["data"]
    assert [c["id"] for c in pull_all(patient)[0]] == [str(good)]


def test_a_malformed_op_is_refused_alone_and_the_others_apply(app, patient):
    """One op a phone's outbox cannot get past must not wedge it: a malformed op is that
    op's `rejected`, with the ids it carried echoed where they are well formed."""
    good = op(uuid.uuid4(), {"body": "kept"})
    bad = [
        {**op(uuid.uuid4()), "type": "nope"},
        {**op(uuid.uuid4(), {"body": "x"}), "base_version": 1.5},
        {**op(uuid.uuid4(), {"body": "x"}), "id": "not-a-uuid"},
        {**op(uuid.uuid4(), {"body": "x"}), "extra": 1},
        {**op(uuid.uuid4(), {"body": "x"}), "op_id": "\ud800"},
        "not an op",
    ]
    results = push(patient, [bad[0], good, *bad[1:]])
    assert [r["status"] for r in results] == ["rejected", "applied"] + ["rejected"] * 5
    assert all(r["errors"] for r in results if r["status"] == "rejected")
    assert results[0]["op_id"] == bad[0]["op_id"] and results[0]["type"] is None
    assert results[3]["op_id"] == bad[2]["op_id"] and results[3]["id"] is None
    assert results[5]["op_id"] is None and results[6]["op_id"] is None
    changes, _ = pull_all(patient)
    assert [c["data"]["body"] for c in changes] == ["kept"]


def test_a_malformed_batch_is_422_and_writes_nothing(app, patient):
    for batch in [{"operations": []}, {"ops": "x"}, {"ops": [op(uuid.uuid4())] * 501}]:
        response = patient.post(PUSH, json=batch)
        assert response.status_code == 422, batch
    assert pull_all(patient)[0] == []


def test_changes_page_oldest_first_and_an_empty_delta(patient):
    ids = [uuid.uuid4() for _ in range(5)]
    push(patient, [op(i, {"body": str(n)}) for n, i in enumerate(ids)])
    first = patient.get(f"{CHANGES}?since=0&limit=2").json
    assert [c["id"] for c in first["changes"]] == [str(i) for i in ids[:2]]
    assert first["has_more"] is True
    changes, cursor = pull_all(patient, first["cursor"], limit=2)
    assert [c["id"] for c in changes] == [str(i) for i in ids[2:]]
    empty = patient.get(f"{CHANGES}?since={cursor}").json
    assert empty == {"changes": [], "cursor": cursor, "has_more": False}
    assert patient.get(f"{CHANGES}?since=-1").status_code == 422


def test_a_pulls_statements_do_not_grow_with_the_page(app, patient):
    """A page of 40 check-ins and entries costs what a page of one of each costs: a
    check-in's flag comes with its page, not one query per check-in."""

    def answer_and_write(n):
        for _ in range(n):
            checkin = {
                "instrument": "daily",
                "answers": {"mood": 4, "safety": False},
                "answered_at": utcnow().isoformat(),
            }
            response = patient.post("/api/v1/checkins", json=checkin)
            assert response.status_code == 201, response.json
        push(patient, [op(uuid.uuid4(), {"body": "x"}) for _ in range(n)])

    cursor = pull_all(patient)[1]
    answer_and_write(1)
    with counting_statements(app) as one:
        page = patient.get(f"{CHANGES}?since={cursor}").json
    assert sorted(c["type"] for c in page["changes"]) == ["checkin", "journal_entry"]
    answer_and_write(20)
    with counting_statements(app) as many:
        page = patient.get(f"{CHANGES}?since={page['cursor']}").json
    assert len(page["changes"]) == 40
    assert one["n"] == many["n"]


def test_sync_is_for_patients(therapist, client):
    assert therapist.get(CHANGES).status_code == 404
    assert client.get(CHANGES).status_code == 401


def test_a_conflict_sends_the_server_copy_back_and_the_copy_can_be_resolved(patient):
    entry_id = uuid.uuid4()
    push(patient, [op(entry_id, {"body": "v1"})])
    push(patient, [op(entry_id, {"body": "v2 from the phone"}, base_version=1)])
    _, cursor = pull_all(patient)
    result = push(patient, [op(entry_id, {"body": "from the laptop"}, base_version=1)])[0]
    assert result["status"] == "conflict"
    after = {c["id"]: c for c in pull_all(patient, cursor)[0]}
    # the kept server copy comes back with the copy, so the laptop can show both
    assert after[str(entry_id)]["data"]["body"] == "v2 from the phone"
    copy_id = result["conflict_copy_id"]
    assert after[copy_id]["data"]["conflict_of"] == str(entry_id)

    resolved = patient.put(
        f"/api/v1/journal/entries/{copy_id}", json={"conflict_of": None, "version": 1}
    )
    assert resolved.status_code == 200 and resolved.json["conflict_of"] is None
    pointed = patient.put(
        f"/api/v1/journal/entries/{copy_id}", json={"conflict_of": str(entry_id), "version": 2}
    )
    assert pointed.status_code == 422


def test_a_pulled_entry_reads_exactly_as_the_journal_api_writes_it(patient):
    """A sync page's entries are rows, not the API's objects, written by the journal
    API's own schema: what it says of an entry is what the journal API says of it, field
    for field, tags in their order included."""
    part = patient.post("/api/v1/parts", json={"name": "a part"}).json
    created = patient.post(
        "/api/v1/journal/entries",
        json={
            "title": "a title",
            "body": "words",
            "mood": 6,
            "emotions": ["calm", "tired"],
            "tags": ["zeta", "alpha", "mid"],
            "part_ids": [part["id"]],
            "prompt_id": "relapse.early-signs",
            "written_at": "2026-12-01T21:30:00+05:30",
            "shared": True,
        },
    ).json
    untagged = patient.post("/api/v1/journal/entries", json={"body": "plain"}).json
    pulled = {c["id"]: c["data"] for c in pull_all(patient)[0] if c["type"] == "journal_entry"}
    for entry in (created, untagged):
        assert pulled[entry["id"]] == patient.get(f"/api/v1/journal/entries/{entry['id']}").json
    assert pulled[created["id"]]["tags"] == ["zeta", "alpha", "mid"]
    assert pulled[untagged["id"]]["tags"] == []


def _failing_upsert(monkeypatch, how):
    """The journal's new entry, failing `how` for an op whose body says "fail" after it
    has done its own work: what a type's bug or a database refusal looks like mid-batch."""
    from dataclasses import replace

    from server.journal.models import EntryTag
    from server.sync.registry import REGISTRY

    synced = REGISTRY["journal_entry"]

    def create(push):
        outcome = synced.create(push)
        if push.fields.get("body") == "fail":
            if how == "raise":
                raise RuntimeError("a bug in a type")
            # a tag of no entry: the database refuses it (a foreign key) when it is sent
            db.session.add(EntryTag(entry_id=uuid.uuid4(), position=0, tag_hmac="x", tag="x"))
        return outcome

    monkeypatch.setitem(REGISTRY, "journal_entry", replace(synced, create=create))


@pytest.mark.parametrize("how", ["raise", "refused by the database"])
def test_an_op_failing_mid_batch_is_rejected_alone_and_leaves_no_trace(
    app, patient, monkeypatch, how
):
    """A push's writes are sent together; when one op fails, in the type or only once
    the database sees its rows, the batch runs again op by op: that op is `rejected`
    and nothing of it is kept, the others apply, and a replay answers the same."""
    _failing_upsert(monkeypatch, how)
    ops = [op(uuid.uuid4(), {"body": "before"}), op(uuid.uuid4(), {"body": "fail"})]
    ops.append(op(uuid.uuid4(), {"body": "after", "tags": ["t"]}))
    results = push(patient, ops)
    assert [r["status"] for r in results] == ["applied", "rejected", "applied"]
    assert results[1]["errors"] == {"data": ["This change could not be stored."]}
    changes, _ = pull_all(patient)
    assert [c["data"]["body"] for c in changes] == ["before", "after"]
    assert changes[1]["data"]["tags"] == ["t"]
    assert push(patient, ops) == results
    assert [c["data"]["body"] for c in pull_all(patient)[0]] == ["before", "after"]


def test_long_right_to_left_words_and_tags_reach_another_device_unchanged(patient):
    """A pulled entry's tags are gathered in the database (JSON aggregation on both
    backends): 5,000 unbroken characters, direction marks and non-Latin tags, in order,
    arrive on the other device exactly as written."""
    entry_id = uuid.uuid4()
    body = "\u200f" + "א" * 2500 + "x" * 2499
    tags = ["שינה", "sleep\u200e", "y" * 60, '"quoted" & <marked>']
    (outcome,) = push(patient, [op(entry_id, {"body": body, "tags": tags})])
    assert outcome["status"] == "applied", outcome
    changes, _ = pull_all(patient)
    (pulled,) = [c["data"] for c in changes if c["id"] == str(entry_id)]
    assert (pulled["body"], pulled["tags"]) == (body, tags)
