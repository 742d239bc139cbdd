"""The measures as FHIR, the way a clinic's record system takes them in.

A patient downloads their own PHQ-9 and GAD-7 answers as a FHIR Bundle; a linked
therapist downloads a patient's. Checked with the FHIR library itself (fhir.resources,
its R4B models), against the published LOINC codes and scoring rules, and for what must
never be in it: a score for an unfinished PHQ-9, or anything the patient wrote.
"""

from __future__ import annotations

import json
import uuid

import pytest
from fhir.resources.R4B.bundle import Bundle
from sqlalchemy import select

from server.audit.models import AuditEvent
from server.checkins import fhir, scoring
from server.extensions import db
from tests.api.test_sync import op, push
from tests.unit.test_scoring import answers_totalling

LOINC = "http://loinc.org"
MINE = "/api/v1/me/fhir"
PHQ9_ITEMS = [
    "44250-9",
    "44255-8",
    "44259-0",
    "44254-1",
    "44251-7",
    "44258-2",
    "44252-5",
    "44253-3",
    "44260-8",
]
GAD7_ITEMS = ["69725-0", "68509-9", "69733-4", "69734-2", "69735-9", "69689-8", "69736-7"]
FREQUENCY = ["LA6568-5", "LA6569-3", "LA6570-1", "LA6571-9"]


def theirs(patient_id) -> str:
    return f"/api/v1/patients/{patient_id}/fhir"


def answer(patient, instrument, answers, at="2026-11-01T09:00:00-05:00"):
    response = patient.post(
        "/api/v1/checkins", json={"instrument": instrument, "answers": answers, "answered_at": at}
    )
    assert response.status_code == 201, response.json
    return response.json


@pytest.fixture
def history(patient):
    """A complete PHQ-9 (12, moderate), an unfinished one (item 5 skipped, item 9
    answered), a GAD-7 (7, mild), a daily check-in with a note and a journal entry."""
    words = "CANARY-" + uuid.uuid4().hex
    complete = answer(patient, "phq9", {**answers_totalling("phq9", 12, 9), "phq9_difficulty": 1})
    partial_answers = {**answers_totalling("phq9", 6, 9), "phq9_9": 2}
    del partial_answers["phq9_5"]
    partial = answer(patient, "phq9", partial_answers, at="2026-11-08T21:15:00-05:00")
    gad7 = answer(patient, "gad7", answers_totalling("gad7", 7, 7), at="2026-11-02T10:00:00+01:00")
    answer(
        patient,
        "daily",
        {
            "mood": 4,
            "anxiety": 5,
            "sleep_quality": 6,
            "sleep_hours": 7,
            "rumination": 2,
            "note": words,
            "safety": False,
        },
    )
    patient.post("/api/v1/journal/entries", json={"title": words, "body": words, "shared": True})
    return {"complete": complete, "partial": partial, "gad7": gad7, "words": words}


def resources(bundle: dict, kind: str) -> list[dict]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def codes(concept: dict) -> set[str]:
    return {c["code"] for c in concept["coding"] if c["system"] == LOINC}


def by_questionnaire(bundle: dict, url_end: str) -> list[dict]:
    return [
        r
        for r in resources(bundle, "QuestionnaireResponse")
        if r["questionnaire"].endswith(url_end)
    ]


def test_my_bundle_validates_and_carries_the_published_codes(patient, history):
    """The Bundle of complete and unfinished PHQ-9s and a GAD-7 validates with the FHIR
    library, with LOINC codes on every question, answer and total."""
    response = patient.get(MINE)
    assert response.status_code == 200
    assert response.mimetype == "application/fhir+json"
    bundle = response.json
    Bundle.model_validate(bundle)  # raises on anything the R4B model does not allow
    assert bundle["type"] == "collection"
    assert bundle["meta"]["profile"] == ["http://hl7.org/fhir/StructureDefinition/Bundle|4.3.0"]
    for entry in bundle["entry"]:
        assert entry["fullUrl"]

    questionnaires = {q["url"]: q for q in resources(bundle, "Questionnaire")}
    phq9 = next(q for q in questionnaires.values() if "44249-1" in codes({"coding": q["code"]}))
    gad7 = next(q for q in questionnaires.values() if "69737-5" in codes({"coding": q["code"]}))
    assert [i["code"][0]["code"] for i in phq9["item"]] == [*PHQ9_ITEMS, "69722-7"]
    assert [i["code"][0]["code"] for i in gad7["item"]] == [*GAD7_ITEMS, "69722-7"]
    assert [o["valueCoding"]["code"] for o in phq9["item"][8]["answerOption"]] == FREQUENCY

    (done,) = [r for r in by_questionnaire(bundle, "phq-9") if r["status"] == "completed"]
    assert done["questionnaire"] in questionnaires
    assert [i["linkId"] for i in done["item"]] == [*PHQ9_ITEMS, "69722-7"]
    given = answers_totalling("phq9", 12, 9)
    for n, item in enumerate(done["item"][:9], start=1):
        (value,) = item["answer"]
        assert value["valueCoding"]["system"] == LOINC
        assert value["valueCoding"]["code"] == FREQUENCY[given[f"phq9_{n}"]]
    assert done["item"][9]["answer"][0]["valueCoding"]["code"] == "LA6573-5"  # somewhat
    assert done["authored"] == "2026-11-01T09:00:00-05:00"

    (gad7_response,) = by_questionnaire(bundle, "gad-7")
    assert [i["linkId"] for i in gad7_response["item"]] == GAD7_ITEMS  # difficulty unanswered

    observations = resources(bundle, "Observation")
    totals = {o["code"]["coding"][0]["code"]: o for o in observations}
    assert set(totals) == {"44261-6", "70274-6"}
    assert totals["44261-6"]["valueInteger"] == 12
    assert totals["44261-6"]["interpretation"][0]["text"] == "moderate"
    assert totals["70274-6"]["valueInteger"] == 7
    assert totals["70274-6"]["interpretation"][0]["text"] == "mild"
    assert totals["44261-6"]["derivedFrom"][0]["reference"] == _full_url(bundle, done)
    for observation in observations:
        assert observation["status"] == "final"
        assert observation["category"][0]["coding"][0]["code"] == "survey"


def _full_url(bundle: dict, resource: dict) -> str:
    return next(e["fullUrl"] for e in bundle["entry"] if e["resource"] is resource)


def test_an_unfinished_phq9_has_no_score(patient, history):
    """The unfinished PHQ-9 is there as answered so far, with no total and no band."""
    bundle = patient.get(MINE).json
    (partial,) = [r for r in by_questionnaire(bundle, "phq-9") if r["status"] == "in-progress"]
    linked = {i["linkId"]: i for i in partial["item"]}
    assert "44251-7" not in linked  # item 5, skipped
    assert linked["44260-8"]["answer"][0]["valueCoding"]["code"] == "LA6570-1"
    partial_url = _full_url(bundle, partial)
    observations = resources(bundle, "Observation")
    assert len(observations) == 2
    assert all(o["derivedFrom"][0]["reference"] != partial_url for o in observations)


def test_totals_are_the_ones_the_scoring_rules_give(patient):
    """Each Observation's value and band are scoring.py's, whatever the answers."""
    for total in (0, 4, 5, 14, 15, 19, 20, 27):
        answer(patient, "phq9", answers_totalling("phq9", total, 9))
    for total in (0, 9, 10, 21):
        answer(patient, "gad7", answers_totalling("gad7", total, 7))
    observations = resources(patient.get(MINE).json, "Observation")
    seen = sorted(
        (o["code"]["coding"][0]["code"], o["valueInteger"], o["interpretation"][0]["text"])
        for o in observations
    )
    expected = sorted(
        [("44261-6", t, scoring.severity("phq9", t)) for t in (0, 4, 5, 14, 15, 19, 20, 27)]
        + [("70274-6", t, scoring.severity("gad7", t)) for t in (0, 9, 10, 21)]
    )
    assert seen == expected


def test_none_of_the_patients_words_are_in_it(patient, history):
    """No note, no journal, no name or address: the Patient is an id and nothing more."""
    response = patient.get(MINE)
    text = response.get_data(as_text=True)
    assert history["words"] not in text
    assert patient.email not in text
    (person,) = resources(response.json, "Patient")
    assert set(person) == {"resourceType", "id"}
    assert not [r for r in response.json["entry"] if "daily" in json.dumps(r)]


def test_a_removed_checkin_is_not_exported(patient):
    """A check-in the patient removed from their history is not in the Bundle."""
    kept = answer(patient, "gad7", answers_totalling("gad7", 3, 7))
    gone = answer(patient, "gad7", answers_totalling("gad7", 5, 7))
    push(patient, [{**op(gone["id"], base_version=1, action="delete"), "type": "checkin"}])
    ids = {r["id"] for r in resources(patient.get(MINE).json, "QuestionnaireResponse")}
    assert ids == {kept["id"]}


def test_my_export_is_in_my_access_log_as_an_export(app, patient, history):
    """Taking my measures away is recorded as an export, like the full export."""
    assert patient.get(MINE).status_code == 200
    with app.app_context():
        events = db.session.scalars(
            select(AuditEvent).where(AuditEvent.object_type == "checkin_fhir")
        ).all()
        assert [(e.action, str(e.patient_id), str(e.actor_id)) for e in events] == [
            ("export", patient.id, patient.id)
        ]


def test_a_linked_therapist_gets_the_same_bundle_and_it_is_audited(
    app, patient, therapist, link, history
):
    """A linked therapist's download is the patient's measures, read once in the
    patient's access log (the Actor helper checks the one 'read' event)."""
    link(therapist, patient)
    response = therapist.get(theirs(patient.id))
    assert response.status_code == 200
    assert response.mimetype == "application/fhir+json"
    Bundle.model_validate(response.json)
    mine = patient.get(MINE).json
    strip = lambda b: sorted(json.dumps(e, sort_keys=True) for e in b["entry"])  # noqa: E731
    assert strip(response.json) == strip(mine)
    assert history["words"] not in response.get_data(as_text=True)
    with app.app_context():
        (event,) = db.session.scalars(
            select(AuditEvent).where(
                AuditEvent.object_type == "checkin_fhir", AuditEvent.action == "read"
            )
        ).all()
        assert str(event.actor_id) == therapist.id and str(event.patient_id) == patient.id
        assert set(event.object_ids) == {
            history["complete"]["id"],
            history["partial"]["id"],
            history["gad7"]["id"],
        }


def test_nobody_else_gets_a_patients_bundle(patient, make_patient, make_therapist, link, history):
    """An unlinked therapist, a therapist whose link ended and other patients get 404."""
    stranger, other = make_therapist(), make_patient()
    assert stranger.get(theirs(patient.id)).status_code == 404
    assert other.get(theirs(patient.id)).status_code == 404
    assert stranger.get(MINE).status_code == 404  # a patient's route, to a therapist
    former = make_therapist()
    link_id = link(former, patient)["id"]
    assert former.get(theirs(patient.id)).status_code == 200
    assert patient.delete(f"/api/v1/care-team/{link_id}").status_code in (200, 204)
    assert former.get(theirs(patient.id)).status_code == 404


def loinc_check_digit(number: str) -> int:
    """LOINC's mod 10 check digit (LOINC Users' Guide, appendix: calculating the check
    digit): digits in odd places from the right doubled, the rest appended, digits summed."""
    odd, even = number[::-1][0::2], number[::-1][1::2]
    digits = even[::-1] + str(int(odd[::-1]) * 2)
    return (10 - sum(map(int, digits)) % 10) % 10


def test_every_loinc_code_is_well_formed():
    """Each question, panel and total code the export uses passes LOINC's own check
    digit, so a mistyped digit cannot slip in (68509-6 for GAD-7 item 2 would fail; it is
    68509-9). The answer codes (LA...) have no such digit: they are the published lists,
    LL358-3 and LL359-1."""
    assert loinc_check_digit("12345") == 5  # the Users' Guide's worked example
    used = [
        *fhir.MEASURES["phq9"]["items"],
        *fhir.MEASURES["gad7"]["items"],
        fhir.DIFFICULTY_ITEM,
        *(fhir.MEASURES[m][k][0] for m in ("phq9", "gad7") for k in ("panel", "total")),
    ]
    assert fhir.MEASURES["phq9"]["items"] == tuple(PHQ9_ITEMS)
    assert fhir.MEASURES["gad7"]["items"] == tuple(GAD7_ITEMS)
    for code in used:
        number, check = code.split("-")
        assert loinc_check_digit(number) == int(check), code
    assert loinc_check_digit("68509") != 6
    assert fhir.FREQUENCY_CODES == tuple(FREQUENCY)
    assert fhir.DIFFICULTY_CODES == ("LA6572-7", "LA6573-5", "LA6575-0", "LA6574-3")
