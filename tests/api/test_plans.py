"""The relapse-prevention plan and the crisis card."""

import uuid
from datetime import timedelta

import pytest

from server.db import utcnow
from tests.api.test_sync import pull_all, push

PLAN = "/api/v1/plan"


def save(actor, version, url=PLAN, **sections):
    response = actor.put(url, json={"version": version, **sections})
    assert response.status_code == 200, response.json
    return response.json


def test_a_new_plan_is_empty_with_my_regions_crisis_lines(patient):
    plan = patient.get(PLAN).json
    assert plan["version"] == 0 and plan["warning_signs"] == []
    assert plan["region"] == "US"
    assert "988" in [line.get("phone") for line in plan["crisis_lines"]]


def test_revisions_accumulate_with_their_author_and_the_diff_names_changes(
    therapist, patient, link
):
    link(therapist, patient)
    save(patient, 0, warning_signs=[{"text": "sleeping past noon"}], shared=True)
    save(
        patient,
        1,
        warning_signs=[{"text": "sleeping past noon"}, {"text": "skipping meals"}],
        coping_steps=[{"text": "walk to the river"}],
    )
    saved = save(
        therapist,
        2,
        url=f"/api/v1/patients/{patient.id}/plan",
        support_contacts=[{"name": "Ana", "relation": "sister", "phone": "555 0100"}],
        summary="Added Ana after our session",
    )
    assert saved["updated_by_role"] == "therapist"

    revisions = patient.get(f"{PLAN}/revisions").json
    assert [(r["number"], r["author_role"]) for r in revisions] == [
        (3, "therapist"),
        (2, "patient"),
        (1, "patient"),
    ]
    assert revisions[0]["summary"] == "Added Ana after our session"
    assert revisions[0]["author_name"].startswith("Test Therapist")
    assert "warning signs: 1 added" in revisions[1]["summary"]

    diff = patient.get(f"{PLAN}/diff?from=1&to=3").json
    assert diff["sections"]["warning_signs"]["added"] == [{"text": "skipping meals"}]
    assert diff["sections"]["support_contacts"]["added"][0]["name"] == "Ana"
    assert diff["sections"]["coping_steps"]["added"] == [{"text": "walk to the river"}]
    assert "support contacts: 1 added" in diff["summary"]
    first = patient.get(f"{PLAN}/revisions/1").json
    assert first["warning_signs"] == [{"text": "sleeping past noon"}]
    assert patient.get(f"{PLAN}/revisions/99").status_code == 404


def test_stale_save_is_409_with_the_current_plan(patient):
    save(patient, 0, triggers=[{"text": "anniversaries"}])
    stale = patient.put(PLAN, json={"version": 0, "triggers": [{"text": "crowds"}]})
    assert stale.status_code == 409
    assert stale.json["current"]["triggers"] == [{"text": "anniversaries"}]
    assert patient.put(PLAN, json={"triggers": []}).status_code == 428


def test_therapist_put_on_an_unshared_plan_is_404(therapist, patient, link):
    url = f"/api/v1/patients/{patient.id}/plan"
    save(patient, 0, warning_signs=[{"text": "withdrawing"}])
    assert therapist.get(url).status_code == 404  # not linked
    link(therapist, patient)
    assert therapist.get(url).status_code == 404
    put = therapist.put(url, json={"version": 1, "warning_signs": []})
    assert put.status_code == 404
    assert patient.get(PLAN).json["warning_signs"] == [{"text": "withdrawing"}]
    save(patient, 1, shared=True)
    assert therapist.get(url).json["warning_signs"] == [{"text": "withdrawing"}]
    refused = therapist.put(url, json={"version": 2, "shared": False})
    assert refused.status_code == 422


def test_crisis_card_for_a_us_patient_with_an_empty_plan(patient):
    card = patient.get(f"{PLAN}/crisis").json
    assert card["crisis_lines"][0]["tel"] == "988"
    assert card["emergency_number"] == "911"
    assert "not an emergency service" in card["emergency_words"]
    assert "call 911" in card["emergency_words"]
    assert card["contacts"] == []


def test_crisis_card_shows_my_own_people_and_lines_first(patient):
    save(
        patient,
        0,
        warning_signs=[{"text": "not answering messages"}],
        coping_steps=[{"text": "cold water on my face"}],
        support_contacts=[{"name": "Ana", "relation": "sister", "phone": "+1 (555) 010-0199"}],
        professional_contacts=[{"name": "Clinic out-of-hours", "phone": "555.010.0200"}],
        crisis_lines=[{"name": "Local warmline", "phone": "555-0300"}],
    )
    card = patient.get(f"{PLAN}/crisis").json
    assert [c["name"] for c in card["contacts"]] == ["Ana", "Clinic out-of-hours"]
    assert card["contacts"][0]["tel"] == "+15550100199"
    assert card["contacts"][1]["tel"] == "5550100200"
    assert [line["name"] for line in card["crisis_lines"]][:2] == [
        "Local warmline",
        "988 Suicide & Crisis Lifeline",
    ]
    assert card["warning_signs"] == ["not answering messages"]
    assert card["coping_steps"] == ["cold water on my face"]


def test_region_setting_chooses_the_lines(patient):
    save(patient, 0, region="GB")
    card = patient.get(f"{PLAN}/crisis").json
    assert card["emergency_number"] == "999"
    assert card["crisis_lines"][0]["name"] == "Samaritans"
    save(patient, 1, region="ZZ")
    card = patient.get(f"{PLAN}/crisis").json
    assert card["emergency_number"] is None
    assert "local emergency number" in card["emergency_words"]


@pytest.mark.parametrize(
    "body, where",
    [
        ({"warning_signs": [{"text": "x"}] * 5000}, "warning_signs"),
        ({"coping_steps": [{"text": "x" * 20_000}]}, "coping_steps"),
        ({"support_contacts": [{"name": "Ana", "phone": "call me maybe"}]}, "support_contacts"),
        ({"support_contacts": [{"name": "Ana", "phone": "+"}]}, "support_contacts"),
        ({"crisis_lines": [{"name": "No number"}]}, "crisis_lines"),
        ({"warning_signs": ["just a string"]}, "warning_signs"),
        (
            {"maintenance_criteria": [{"text": "x", "rule": {"instrument": "bdi", "at_least": 3}}]},
            "maintenance_criteria",
        ),
        ({"review_every_days": 30.5}, "review_every_days"),
        ({"mood": 3}, "mood"),
    ],
)
def test_bad_plans_are_422_and_change_nothing(patient, body, where):
    response = patient.put(PLAN, json={"version": 0, **body})
    assert response.status_code == 422
    assert where in response.json["errors"]["json"]
    assert patient.get(PLAN).json["version"] == 0


def test_review_due(app, patient):
    long_ago = (utcnow() - timedelta(days=40)).isoformat()
    plan = save(patient, 0, review_every_days=30, last_reviewed_at=long_ago)
    assert plan["review_due"] is True
    plan = save(patient, 1, last_reviewed_at=utcnow().isoformat())
    assert plan["review_due"] is False


def test_plan_syncs_and_a_stale_push_is_kept_as_a_conflict_revision(patient):
    plan_id = patient.id

    def plan_op(base, data):
        return {
            "op_id": str(uuid.uuid4()),
            "type": "plan",
            "id": plan_id,
            "base_version": base,
            "action": "upsert",
            "data": data,
        }

    first = push(patient, [plan_op(0, {"reasons_for_living": [{"text": "my dog"}]})])
    assert first[0]["status"] == "applied" and first[0]["version"] == 1
    push(patient, [plan_op(1, {"reasons_for_living": [{"text": "my dog"}, {"text": "spring"}]})])
    stale = push(patient, [plan_op(1, {"reasons_for_living": [{"text": "the lake"}]})])[0]
    assert stale["status"] == "conflict"
    current = patient.get(PLAN).json
    assert [i["text"] for i in current["reasons_for_living"]] == ["my dog", "spring"]
    kept = patient.get(f"{PLAN}/revisions/{stale['conflict_revision']}").json
    assert kept["conflict"] is True
    assert kept["reasons_for_living"] == [{"text": "the lake"}]
    changes, _ = pull_all(patient)
    plan_changes = [c for c in changes if c["type"] == "plan"]
    assert plan_changes[-1]["data"]["version"] == 2
    other = push(patient, [{**plan_op(2, {}), "id": str(uuid.uuid4())}])[0]
    assert other["status"] == "rejected"


def test_plan_is_mine_alone(make_patient):
    a, b = make_patient(), make_patient()
    save(a, 0, warning_signs=[{"text": "a's sign"}])
    assert b.get(PLAN).json["warning_signs"] == []
    assert b.get("/api/v1/plan/revisions").json == []
