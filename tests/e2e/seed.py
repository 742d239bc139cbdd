"""A patient some weeks into treatment, made through the API the way people make it:
a therapist schedules sessions, the patient writes, checks in, maps parts and keeps a
plan. Fictional throughout."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

PLAN = {
    "version": 0,
    "warning_signs": [
        {"text": "I stop answering messages"},
        {"text": "I sleep past noon"},
    ],
    "coping_steps": [
        {"text": "Walk around the block, slowly"},
        {"text": "Cold water on my face, then five slow breaths"},
    ],
    "reasons_for_living": [{"text": "My dog, Pepper"}],
    "support_contacts": [
        {"name": "Alex", "relation": "sister", "phone": "+1 555 0100"},
        {"name": "Jordan", "relation": "friend", "phone": "+1 555 0101"},
    ],
    "professional_contacts": [
        {"name": "Dr. Rivera", "relation": "therapist", "phone": "+1 555 0199"}
    ],
    "review_every_days": 90,
}
PARTS = [
    ("Inner critic", "manager", -120, -60),
    ("The numbing one", "firefighter", 110, -70),
    ("Little one", "exile", 0, 90),
    ("Curious self", "self", 0, -170),
]
RELATIONS = [(0, 2, "protects"), (1, 2, "protects"), (0, 1, "polarized_with")]
ENTRIES = [
    (
        0,
        "After the session",
        "The colours stayed with me all evening. I felt held, and a bit raw.",
        7,
        ["tender", "hopeful"],
        True,
        True,
    ),
    (
        1,
        "",
        "Slept badly. The critic was loud at breakfast, but I noticed it instead of believing it.",
        4,
        ["tired", "anxious"],
        False,
        False,
    ),
    (
        3,
        "Walk by the river",
        "Took the long way home. The light on the water made me slow down.",
        6,
        ["calm"],
        False,
        False,
    ),
    (
        6,
        "Intention",
        "I want to meet the part that shuts down when people get close.",
        5,
        ["curious"],
        True,
        False,
    ),
]
# the same weeks, lived in Spanish (tests/e2e/test_spanish.py, the Spanish screenshots)
PLAN_ES = {
    "version": 0,
    "warning_signs": [
        {"text": "Dejo de contestar los mensajes"},
        {"text": "Duermo hasta el mediodía"},
    ],
    "coping_steps": [
        {"text": "Dar una vuelta a la manzana, despacio"},
        {"text": "Agua fría en la cara y cinco respiraciones lentas"},
    ],
    "reasons_for_living": [{"text": "Mi perra, Canela"}],
    "support_contacts": [
        {"name": "Alba", "relation": "hermana", "phone": "+34 600 000 100"},
        {"name": "Jorge", "relation": "amigo", "phone": "+34 600 000 101"},
    ],
    "professional_contacts": [
        {"name": "Dra. Rivera", "relation": "terapeuta", "phone": "+34 600 000 199"}
    ],
    "review_every_days": 90,
}
PARTS_ES = [
    ("La crítica interior", "manager", -120, -60),
    ("La que anestesia", "firefighter", 110, -70),
    ("La pequeña", "exile", 0, 90),
    ("El yo curioso", "self", 0, -170),
]
ENTRIES_ES = [
    (
        0,
        "",
        "Los colores se quedaron conmigo toda la tarde. Me sentí sostenida, y algo en carne viva.",
        7,
        ["tender", "hopeful"],
        True,
        True,
    ),
    (
        1,
        "",
        "Dormí mal. La crítica habló alto en el desayuno, pero me di cuenta en vez de creerla.",
        4,
        ["tired", "anxious"],
        False,
        False,
    ),
    (
        3,
        "Paseo junto al río",
        "Volví a casa por el camino largo. La luz en el agua me hizo ir más despacio.",
        6,
        ["calm"],
        False,
        False,
    ),
    (
        6,
        "Intención",
        "Quiero conocer a la parte que se cierra cuando alguien se acerca.",
        5,
        ["curious"],
        True,
        False,
    ),
]
# what a patient has written, and the word that marks an entry about their first part
ENGLISH = {"plan": PLAN, "parts": PARTS, "entries": ENTRIES, "first_part_word": "critic"}
SPANISH = {
    "plan": PLAN_ES,
    "parts": PARTS_ES,
    "entries": ENTRIES_ES,
    "first_part_word": "crítica",
}
PHQ9 = [(40, 17), (33, 15), (26, 12), (19, 11), (12, 9), (5, 7)]
GAD7 = [(40, 14), (26, 11), (12, 8), (5, 6)]


def _iso(days_ago: float, hour: int = 9) -> str:
    moment = datetime.now(UTC) - timedelta(days=days_ago)
    return moment.replace(hour=hour, minute=0, second=0, microsecond=0).isoformat()


def _answers(prefix: str, items: int, total: int) -> dict:
    """Answers that add up to `total`, item 9 of the PHQ-9 always 0."""
    values = [0] * items
    scored = items - 1 if prefix == "phq9" else items
    for n in range(total):
        values[n % scored] += 1
    return {f"{prefix}_{i + 1}": v for i, v in enumerate(values)}


def seed_patient(app, patient, therapist, link, content: dict = ENGLISH) -> None:
    link(therapist, patient)
    sessions = [("dosing", -38), ("integration", -36), ("dosing", -3), ("integration", 4)]
    for kind, days in sessions:
        response = therapist.post(
            f"/api/v1/patients/{patient.id}/sessions",
            json={
                "kind": kind,
                "starts_at": _iso(-days, 10),
                "duration_minutes": 120 if kind == "dosing" else 60,
            },
        )
        assert response.status_code == 201, response.json
    assert patient.put("/api/v1/plan", json=content["plan"]).status_code == 200
    ids = []
    for name, role, x, y in content["parts"]:
        response = patient.post("/api/v1/parts", json={"name": name, "role": role, "x": x, "y": y})
        assert response.status_code == 201, response.json
        ids.append(response.json["id"])
    for source, target, kind in RELATIONS:
        response = patient.post(
            "/api/v1/parts/relations",
            json={"source_id": ids[source], "target_id": ids[target], "kind": kind},
        )
        assert response.status_code == 201, response.json
    for days, title, body, mood, emotions, shared, for_session in content["entries"]:
        response = patient.post(
            "/api/v1/journal/entries",
            json={
                "title": title,
                "body": body,
                "mood": mood,
                "emotions": emotions,
                "shared": shared,
                "for_session": for_session,
                "part_ids": [ids[0]] if content["first_part_word"] in body else [],
                "written_at": _iso(days, 20),
            },
        )
        assert response.status_code == 201, response.json
    for instrument, series, items in (("phq9", PHQ9, 9), ("gad7", GAD7, 7)):
        for days, total in series:
            response = patient.post(
                "/api/v1/checkins",
                json={
                    "instrument": instrument,
                    "answers": _answers(instrument, items, total),
                    "answered_at": _iso(days),
                },
            )
            assert response.status_code == 201, response.json


# -- the demo caseload (server/demo.py) ---------------------------------------------------

# words of the demo patient's one private entry: never anywhere in a therapist's app
DEMO_PRIVATE_WORDS = "The wish to give up showed up after the phone call"


def seed_demo_caseload(app) -> dict:
    """The published demo: a therapist, the demo patient and three more, one flagged."""
    from server.demo import DEMO_PASSWORD, DEMO_PATIENT, DEMO_THERAPIST, seed_demo
    from server.extensions import db

    with app.app_context():
        therapist, patient = seed_demo()
        db.session.commit()
        ids = {"therapist_id": str(therapist.id), "patient_id": str(patient.id)}
    return {
        **ids,
        "therapist": DEMO_THERAPIST,
        "patient": DEMO_PATIENT,
        "password": DEMO_PASSWORD,
    }
