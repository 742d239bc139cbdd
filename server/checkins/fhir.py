"""The PHQ-9s and GAD-7s of one patient as a FHIR Bundle, for a clinic's record system.

FHIR version: R4B (4.3.0). fhir.resources 7+ defaults to R5; its `R4B` models are the
ones used here, and R4B's Questionnaire, QuestionnaireResponse, Observation, Patient and
Bundle are R4's (4.0.1) in structure, so an R4 system reads them as they are. The Bundle
says so in `meta.profile` and the response in its media type (`fhirVersion=4.3`). Every
Bundle is validated by the library's models before it is sent: they refuse an unknown
or mistyped field and a missing required one (value sets are not checked by them).

What goes in: one QuestionnaireResponse per PHQ-9 and GAD-7 the patient has not removed
(`completed`, or `in-progress` for an unfinished one, with what was answered so far); one
Observation per total score, with its severity band, only for a complete one (scored by
server/checkins/scoring.py, the published rules); the two Questionnaires; a Patient that
is an id and nothing more. Never the daily check-in (its note is the patient's words),
never a journal entry, a name, an address or an e-mail.

LOINC codes, as published by Regenstrief (loinc.org: panels 44249-1 and 69737-5, the
PHQ-SADS panel 69729-2 listing every item, answer lists LL358-3 and LL359-1; the same
codes in HL7's US Core PHQ-9 example and the PHR format IG's GAD-7 example), each
checked against its LOINC check digit in tests/api/test_fhir.py. LOINC has no
difficulty question of its own in the GAD-7 panel; the question's words and answers are
the PHQ's, coded 69722-7 (answer list LL359-1) in both Questionnaires.
"""

from __future__ import annotations

import uuid

from fhir.resources.R4B.bundle import Bundle

from server import access
from server.audit import service as audit
from server.auth.models import User
from server.checkins.instruments import INSTRUMENTS
from server.checkins.models import CheckIn
from server.checkins.read import answered_local
from server.db import utcnow
from server.extensions import db

FHIR_VERSION = "4.3.0"
MEDIA_TYPE = "application/fhir+json; fhirVersion=4.3"
BUNDLE_PROFILE = f"http://hl7.org/fhir/StructureDefinition/Bundle|{FHIR_VERSION}"
LOINC = "http://loinc.org"
# canonical URLs are names, not addresses: the same in every deployment, so a clinic
# that receives Bundles from two of them sees one questionnaire
CANONICAL = "https://between.example/fhir"
SEVERITY_SYSTEM = f"{CANONICAL}/CodeSystem/severity-band"
SURVEY = {
    "system": "http://terminology.hl7.org/CodeSystem/observation-category",
    "code": "survey",
    "display": "Survey",
}
# stable ids for the resources made from a check-in (the same Bundle twice is the same)
_NAMESPACE = uuid.UUID("5b0e6f3c-2a7d-4c1e-9f57-0c6f0d6e2b41")

# answer codes: LL358-3 (0-3 frequency), LL359-1 (perceived difficulty)
FREQUENCY_CODES = ("LA6568-5", "LA6569-3", "LA6570-1", "LA6571-9")
DIFFICULTY_CODES = ("LA6572-7", "LA6573-5", "LA6575-0", "LA6574-3")
DIFFICULTY_ITEM = "69722-7"

MEASURES = {
    "phq9": {
        "slug": "phq-9",
        "name": "PHQ9",
        "panel": ("44249-1", "PHQ-9 quick depression assessment panel"),
        "total": ("44261-6", "Patient Health Questionnaire 9 item (PHQ-9) total score [Reported]"),
        "items": (
            "44250-9",  # little interest or pleasure
            "44255-8",  # feeling down, depressed, or hopeless
            "44259-0",  # sleep
            "44254-1",  # tired, little energy
            "44251-7",  # appetite
            "44258-2",  # feeling bad about yourself
            "44252-5",  # concentrating
            "44253-3",  # moving or speaking slowly, or restless
            "44260-8",  # item 9: better off dead, or hurting yourself
        ),
    },
    "gad7": {
        "slug": "gad-7",
        "name": "GAD7",
        "panel": ("69737-5", "Generalized anxiety disorder 7 item (GAD-7)"),
        "total": (
            "70274-6",
            "Generalized anxiety disorder 7 item (GAD-7) total score [Reported.PHQ]",
        ),
        "items": (
            "69725-0",  # nervous, anxious or on edge
            "68509-9",  # not able to stop or control worrying
            "69733-4",  # worrying too much
            "69734-2",  # trouble relaxing
            "69735-9",  # so restless it is hard to sit still
            "69689-8",  # easily annoyed or irritable
            "69736-7",  # afraid something awful might happen
        ),
    },
}
COPYRIGHT = (
    "Developed by Drs. Robert L. Spitzer, Janet B.W. Williams, Kurt Kroenke and "
    "colleagues, with an educational grant from Pfizer Inc. No permission required to "
    "reproduce, translate, display or distribute. LOINC codes: LOINC is copyright "
    "Regenstrief Institute, Inc. and the LOINC Committee, available at no cost under "
    "the license at https://loinc.org/license/"
)


def _loinc(code: str, display: str | None = None) -> dict:
    coding = {"system": LOINC, "code": code}
    if display:
        coding["display"] = display
    return coding


def _item_codes(instrument: str) -> dict[str, tuple[str, tuple[str, ...]]]:
    """Our item id -> (its LOINC code, the LOINC answer codes of 0, 1, 2, 3)."""
    measure = MEASURES[instrument]
    codes = {
        f"{instrument}_{n}": (code, FREQUENCY_CODES)
        for n, code in enumerate(measure["items"], start=1)
    }
    codes[f"{instrument}_difficulty"] = (DIFFICULTY_ITEM, DIFFICULTY_CODES)
    return codes


def canonical(instrument: str) -> str:
    return f"{CANONICAL}/Questionnaire/{MEASURES[instrument]['slug']}"


def questionnaire(instrument: str) -> dict:
    """The instrument as a FHIR Questionnaire: its published wording, LOINC-coded."""
    definition, measure = INSTRUMENTS[instrument], MEASURES[instrument]
    codes = _item_codes(instrument)
    items = []
    for n, item in enumerate(definition["items"], start=1):
        code, answers = codes[item["id"]]
        items.append(
            {
                "linkId": code,
                "code": [_loinc(code)],
                "prefix": str(n) if item["scored"] else None,
                "text": item["text"],
                "type": "choice",
                "required": item["required"],
                "answerOption": [
                    {"valueCoding": _loinc(answers[o["value"]], o["label"])}
                    for o in item["options"]
                ],
            }
        )
    return {
        "resourceType": "Questionnaire",
        "id": measure["slug"],
        "url": canonical(instrument),
        "version": "1",
        "name": measure["name"],
        "title": definition["title"],
        "status": "active",
        "subjectType": ["Patient"],
        "code": [_loinc(*measure["panel"])],
        "description": f"{definition['time_frame']} ({definition['source']})",
        "copyright": COPYRIGHT,
        "item": [_drop_none(i) for i in items],
    }


def _drop_none(d: dict) -> dict:
    return {k: v for k, v in d.items() if v is not None}


def _reference(resource_url: str) -> dict:
    return {"reference": resource_url}


def questionnaire_response(checkin: CheckIn, patient_url: str) -> dict:
    """The patient's answers, each a LOINC answer code under its question's code; an
    unfinished questionnaire is `in-progress`, with the answers given so far."""
    definition = INSTRUMENTS[checkin.instrument]
    codes = _item_codes(checkin.instrument)
    items = []
    for item in definition["items"]:
        value = checkin.answers.get(item["id"])
        if value is None:
            continue
        code, answers = codes[item["id"]]
        label = next(o["label"] for o in item["options"] if o["value"] == value)
        items.append(
            {
                "linkId": code,
                "text": item["text"],
                "answer": [{"valueCoding": _loinc(answers[value], label)}],
            }
        )
    response = {
        "resourceType": "QuestionnaireResponse",
        "id": str(checkin.id),
        "questionnaire": canonical(checkin.instrument),
        "status": "completed" if checkin.complete else "in-progress",
        "subject": _reference(patient_url),
        "authored": answered_local(checkin),
    }
    if items:
        response["item"] = items
    return response


def total_observation(checkin: CheckIn, patient_url: str, response_url: str) -> dict | None:
    """The total score and its band, or None: an unfinished questionnaire has no score."""
    if not checkin.complete or checkin.score is None:
        return None
    code, display = MEASURES[checkin.instrument]["total"]
    band = checkin.severity
    return {
        "resourceType": "Observation",
        "id": str(uuid.uuid5(_NAMESPACE, f"total:{checkin.id}")),
        "status": "final",
        "category": [{"coding": [SURVEY]}],
        "code": {
            "coding": [_loinc(code, display)],
            "text": f"{INSTRUMENTS[checkin.instrument]['title']} total score",
        },
        "subject": _reference(patient_url),
        "effectiveDateTime": answered_local(checkin),
        "valueInteger": checkin.score,
        "interpretation": [
            {
                "coding": [
                    {"system": SEVERITY_SYSTEM, "code": band.replace(" ", "-"), "display": band}
                ],
                "text": band,
            }
        ],
        "derivedFrom": [_reference(response_url)],
    }


def bundle(patient_id: uuid.UUID, checkins: list[CheckIn]) -> str:
    """A `collection` Bundle of these check-ins, validated by the library, as JSON."""
    patient_url = f"urn:uuid:{patient_id}"
    entries = [
        {"fullUrl": patient_url, "resource": {"resourceType": "Patient", "id": str(patient_id)}}
    ]
    instruments = [i for i in MEASURES if any(c.instrument == i for c in checkins)]
    entries += [{"fullUrl": canonical(i), "resource": questionnaire(i)} for i in instruments]
    for checkin in checkins:
        response = questionnaire_response(checkin, patient_url)
        response_url = f"urn:uuid:{response['id']}"
        entries.append({"fullUrl": response_url, "resource": response})
        total = total_observation(checkin, patient_url, response_url)
        if total is not None:
            entries.append({"fullUrl": f"urn:uuid:{total['id']}", "resource": total})
    document = {
        "resourceType": "Bundle",
        "id": str(uuid.uuid4()),
        "meta": {"profile": [BUNDLE_PROFILE]},
        "type": "collection",
        "timestamp": utcnow().isoformat(),
        "entry": entries,
    }
    return Bundle.model_validate(document).model_dump_json(exclude_none=True)


def _measures(scope) -> list[CheckIn]:
    query = scope.select(CheckIn).where(
        CheckIn.instrument.in_(tuple(MEASURES)), CheckIn.deleted.is_(False)
    )
    return list(db.session.scalars(query.order_by(CheckIn.answered_at, CheckIn.id)))


def export_mine(patient: User) -> str:
    """My measures as FHIR (audited as an export, like the whole account's)."""
    checkins = _measures(access.own_scope(patient))
    audit.record(patient, "export", patient.id, "checkin_fhir", [c.id for c in checkins])
    return bundle(patient.id, checkins)


def export_for_therapist(scope: access.SharedScope) -> str:
    """A linked patient's measures as FHIR (check-ins are the care team's by rule; the
    daily note is never in it). One read event in the patient's access log."""
    checkins = _measures(scope)
    scope.read("checkin_fhir", [c.id for c in checkins])
    return bundle(scope.patient_id, checkins)
