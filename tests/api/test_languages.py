"""Between speaks Spanish to a person who reads Spanish, and English to everyone else.

Whose language: a signed-in person's own setting, else their browser's Accept-Language,
else English. A mail or a push is in its recipient's language, whoever's request sent
it. Only the words change: an error keeps its code, status and keys. The PHQ-9 and GAD-7
are shown in Spanish only in their published, validated wording (Pfizer's Spanish for the
USA), and a Spanish answer scores exactly as the English one.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from types import SimpleNamespace

import pytest

from server.alerts import service as alerts
from server.checkins.instruments import INSTRUMENTS
from server.db import utcnow
from tests.api.test_assignments import BAD, PLAN, assign, entry, op, patch, prompt, url
from tests.api.test_flag_mail import HEALTH_WORDS, risk_answer
from tests.api.test_reminders import REMINDERS, run_worker, set_reminders, subscribe
from tests.api.test_sync import push as sync_push
from tests.mailbox import text_of
from tests.unit.test_scoring import answers_totalling

ES = {"Accept-Language": "es-MX,es;q=0.9,en;q=0.5"}
EN = {"Accept-Language": "en-US,en;q=0.9"}

PHQ9_ES = {
    "time_frame": "Durante las últimas 2 semanas, ¿qué tan seguido ha tenido molestias "
    "debido a los siguientes problemas?",
    "options": ["Ningún día", "Varios días", "Más de la mitad de los días", "Casi todos los días"],
    "items": [
        "Poco interés o placer en hacer cosas",
        "Se ha sentido decaído(a), deprimido(a) o sin esperanzas",
        "Ha tenido dificultad para quedarse o permanecer dormido(a), o ha dormido demasiado",
        "Se ha sentido cansado(a) o con poca energía",
        "Sin apetito o ha comido en exceso",
        "Se ha sentido mal con usted mismo(a) – o que es un fracaso o que ha quedado mal con "
        "usted mismo(a) o con su familia",
        "Ha tenido dificultad para concentrarse en ciertas actividades, tales como leer el "
        "periódico o ver la televisión",
        "¿Se ha movido o hablado tan lento que otras personas podrían haberlo notado? o lo "
        "contrario – muy inquieto(a) o agitado(a) que ha estado moviéndose mucho más de lo "
        "normal",
        "Pensamientos de que estaría mejor muerto(a) o de lastimarse de alguna manera",
    ],
}
GAD7_ES = {
    "time_frame": "Durante las últimas 2 semanas, ¿con qué frecuencia le han molestado los "
    "siguientes problemas?",
    "options": ["Nunca", "Varios días", "Más de la mitad de los días", "Casi todos los días"],
    "items": [
        "Se ha sentido nervioso(a), ansioso(a) o con los nervios de punta",
        "No ha sido capaz de parar o controlar su preocupación",
        "Se ha preocupado demasiado por motivos diferentes",
        "Ha tenido dificultad para relajarse",
        "Se ha sentido tan inquieto(a) que no ha podido quedarse quieto(a)",
        "Se ha molestado o irritado fácilmente",
        "Ha tenido miedo de que algo terrible fuera a pasar",
    ],
}
DIFFICULTY_ES = (
    "Si marcó cualquiera de los problemas, ¿qué tanta dificultad le han dado estos problemas "
    "para hacer su trabajo, encargarse de las tareas del hogar, o llevarse bien con otras "
    "personas?"
)
DIFFICULTY_OPTIONS_ES = [
    "No ha sido difícil",
    "Un poco difícil",
    "Muy difícil",
    "Extremadamente difícil",
]


def speaks(actor, locale: str):
    """The person chooses their language in Settings."""
    response = actor.client.patch("/api/v1/auth/me", json={"locale": locale})
    assert response.status_code == 200, response.json
    return actor


@pytest.fixture
def paciente(make_patient):
    return speaks(make_patient(), "es-MX")


def shape(body) -> object:
    """An answer with its words taken out: codes, keys and nesting only."""
    if isinstance(body, dict):
        return {key: shape(value) for key, value in body.items() if key != "message"}
    if isinstance(body, list):
        return [shape(item) for item in body]
    return body if not isinstance(body, str) else "…"


# -- before sign-in: the browser's language -----------------------------------------------


def test_a_failed_sign_in_answers_in_the_browsers_language(client, patient):
    wrong = {"email": patient.email, "password": "not-the-password-at-all"}
    spanish = client.post("/api/v1/auth/login", json=wrong, headers=ES)
    english = client.post("/api/v1/auth/login", json=wrong, headers=EN)
    plain = client.post("/api/v1/auth/login", json=wrong)  # no Accept-Language at all

    assert spanish.status_code == english.status_code == plain.status_code == 401
    assert spanish.json["message"] == "El correo electrónico o la contraseña no son correctos."
    assert english.json["message"] == plain.json["message"] == "The email or password is not right."
    assert spanish.json["status"] == english.json["status"] == "Unauthorized"
    assert shape(spanish.json) == shape(english.json)
    assert spanish.headers["Content-Language"] == "es"


def test_an_account_in_spanish_does_not_answer_a_failed_sign_in_in_spanish(client, paciente):
    """Whose account an address is must not show: before sign-in the words follow the
    browser, never the account the address belongs to."""
    wrong = {"email": paciente.email, "password": "not-the-password-at-all"}
    unknown = {"email": "nobody@example.test", "password": "not-the-password-at-all"}
    assert (
        client.post("/api/v1/auth/login", json=wrong).json
        == client.post("/api/v1/auth/login", json=unknown).json
    )


def test_marshmallows_own_messages_answer_in_spanish_with_the_same_keys(client):
    body = {"email": "not-an-address", "password": "x", "display_name": "", "role": "patient"}
    body["surplus"] = 1
    spanish = client.post("/api/v1/auth/register", json=body, headers=ES)
    english = client.post("/api/v1/auth/register", json=body, headers=EN)

    assert spanish.status_code == english.status_code == 422
    assert shape(spanish.json) == shape(english.json)
    assert english.json["errors"]["json"] == {
        "display_name": ["Length must be between 1 and 100."],
        "email": ["Not a valid email address."],
        "surplus": ["Unknown field."],
    }
    assert spanish.json["errors"]["json"] == {
        "display_name": ["La longitud debe estar entre 1 y 100."],
        "email": ["No es un correo electrónico válido."],
        "surplus": ["Campo desconocido."],
    }
    assert spanish.json["message"] == "Hay datos que no son válidos. Revisa los campos indicados."
    missing = client.post("/api/v1/auth/login", json={"email": "a@example.test"}, headers=ES)
    assert missing.json["errors"]["json"] == {"password": ["Falta este dato obligatorio."]}


def test_the_first_language_the_browser_prefers_wins(client):
    """en-GB first and Spanish second is English, although only "es" is an exact match."""
    answer = client.get("/api/v1/nowhere", headers={"Accept-Language": "en-GB,es;q=0.5"})
    assert answer.json["message"].startswith("The requested URL was not found")
    answer = client.get("/api/v1/nowhere", headers={"Accept-Language": "fr-FR,es;q=0.5"})
    assert answer.json["message"].startswith("La URL solicitada no se encontró")
    assert answer.status_code == 404 and answer.json["status"] == "Not Found"


# -- signed in: my own setting ------------------------------------------------------------


def test_my_language_setting_wins_over_the_browser(paciente):
    bad = paciente.get(
        "/api/v1/checkins/trends", query_string={"instrument": "nonsense"}, headers=EN
    )
    assert bad.status_code == 422
    assert bad.json["errors"]["query"]["instrument"] == ["Debe ser uno de: daily, phq9, gad7."]
    version = paciente.get("/api/v1/reminders").json["version"]
    refused = paciente.put(
        "/api/v1/reminders",
        json={"version": version, "daily_checkin": {"enabled": True, "times": ["25:00"]}},
        headers=EN,
    )
    assert refused.status_code == 422
    assert refused.json["errors"]["json"]["daily_checkin"]["times"] == {
        "0": ["Usa una hora de 24 horas HH:MM."]
    }


def test_a_service_refusal_is_in_my_language(paciente):
    answer = paciente.post("/api/v1/care-team/join", json={"code": "NOPE-NOPE"})
    assert answer.status_code == 422
    assert answer.json["errors"]["json"]["code"] == [
        "Este código no existe, ya se usó o caducó. Pídele uno nuevo a tu terapeuta."
    ]
    assert answer.json["message"] == "Datos no válidos"


def test_a_refused_sync_op_says_why_in_my_language(paciente):
    answer = paciente.post(
        "/api/v1/sync/push",
        json={
            "ops": [
                {
                    "op_id": "6f1c2b8e-4f1a-4c57-9a59-0c6d8a1e0001",
                    "type": "treatment_session",
                    "id": "6f1c2b8e-4f1a-4c57-9a59-0c6d8a1e0002",
                    "action": "upsert",
                    "data": {},
                }
            ]
        },
    )
    assert answer.status_code == 200, answer.json
    [result] = answer.json["results"]
    assert result["status"] == "rejected"
    assert result["errors"] == {"type": ["Las sesiones las programa tu terapeuta."]}


# -- the questionnaires ---------------------------------------------------------------------


def instruments(actor, **headers):
    answer = actor.get("/api/v1/checkins/instruments", headers=headers)
    assert answer.status_code == 200
    return answer, {i["id"]: i for i in answer.json}


def test_the_phq9_and_gad7_in_spanish_are_the_published_translation_word_for_word(paciente):
    answer, by_id = instruments(paciente)
    assert answer.headers["Content-Language"] == "es"
    assert {"Accept-Language", "Cookie"} <= {v.strip() for v in answer.headers["Vary"].split(",")}
    for instrument, published in (("phq9", PHQ9_ES), ("gad7", GAD7_ES)):
        shown = by_id[instrument]
        assert shown["time_frame"] == published["time_frame"]
        *scored, difficulty = shown["items"]
        assert [item["text"] for item in scored] == published["items"]
        for item in scored:
            assert [o["label"] for o in item["options"]] == published["options"]
        assert difficulty["text"] == DIFFICULTY_ES
        assert [o["label"] for o in difficulty["options"]] == DIFFICULTY_OPTIONS_ES


def without_words(instrument: dict) -> dict:
    """Everything of a questionnaire but its words: ids, types, values, flags."""
    words = {"text", "label", "title", "time_frame", "labels", "source"}
    if isinstance(instrument, dict):
        return {k: without_words(v) for k, v in instrument.items() if k not in words}
    if isinstance(instrument, list):
        return [without_words(v) for v in instrument]
    return instrument


def test_only_the_words_differ_between_the_languages(paciente, patient):
    _, spanish = instruments(paciente)
    english_answer, english = instruments(patient)
    assert english_answer.headers["Content-Language"] == "en"
    assert english == {key: INSTRUMENTS[key] for key in INSTRUMENTS}  # English unchanged
    assert without_words(spanish) == without_words(english)
    assert spanish["phq9"]["items"][8]["risk"] is True
    assert spanish["daily"]["title"] == "Registro diario"
    assert spanish["daily"]["items"][-1]["text"] == (
        "¿Has tenido pensamientos de que estarías mejor muerto(a) o de hacerte daño?"
    )


def test_a_spanish_answer_scores_as_the_english_one(paciente, patient):
    for instrument, n, total in (("phq9", 9, 17), ("gad7", 7, 11)):
        answers = answers_totalling(instrument, total, n)
        body = {"instrument": instrument, "answers": answers, "answered_at": "2026-12-01T09:00:00Z"}
        spanish = paciente.post("/api/v1/checkins", json=body)
        english = patient.post("/api/v1/checkins", json=body)
        assert spanish.status_code == english.status_code == 201
        for key in ("score", "severity", "complete"):
            assert spanish.json[key] == english.json[key]
        assert spanish.json["score"] == total


# -- what Help now and the editor show ------------------------------------------------------


def test_the_crisis_card_and_the_prompts_are_in_my_language(paciente):
    card = paciente.get("/api/v1/plan/crisis").json
    assert card["emergency_words"].startswith("Between no es un servicio de emergencias")
    assert card["not_monitored"].startswith("Between no se supervisa en tiempo real")
    prompts = paciente.get("/api/v1/journal/prompts?context=after_dosing").json
    assert prompts[0]["text"] == (
        "¿Qué de la sesión sigue contigo hoy: una imagen, una sensación, una frase?"
    )


# -- mails and pushes: the recipient's language -------------------------------------------


@pytest.fixture
def mail_app(app, mailbox):
    app.config.update(SMTP_URL=mailbox.url, PUBLIC_URL="https://between.clinic.test")
    return app


def test_a_reset_mail_is_in_the_accounts_language_not_the_askers(mail_app, mailbox, paciente):
    asked = mail_app.test_client().post(
        "/api/v1/auth/password/forgot", json={"email": paciente.email}, headers=EN
    )
    assert asked.status_code == 202
    assert asked.json["message"].startswith("If an account exists")  # the asker's language
    [message] = mailbox.wait_for(paciente.email)
    assert message["Subject"] == "Restablece tu contraseña de Between"
    text = text_of(message)
    assert text.startswith("Alguien pidió restablecer la contraseña de tu cuenta de Between.")
    assert "https://between.clinic.test/#/reset/" in text


def test_a_flag_mail_is_in_the_therapists_language(
    mail_app, mailbox, make_therapist, patient, link
):
    terapeuta = speaks(make_therapist(), "es")
    link(terapeuta, patient)
    risk_answer(patient)
    with mail_app.app_context():
        assert alerts.send_due() == 1
    [message] = mailbox.wait_for(terapeuta.email)
    assert message["Subject"] == "Un paciente de tu lista necesita atención"
    assert "https://between.clinic.test/#/flags" in text_of(message)
    assert not HEALTH_WORDS.search(message.as_string())


def test_a_push_to_a_spanish_patient_says_generic_words_in_spanish(app, paciente, patient, push):
    phones = {}
    for person in (paciente, patient):
        phones[person.id] = push.device()
        subscribe(person, phones[person.id])
        set_reminders(person, daily_checkin={"enabled": True, "times": ["09:00"]})
    due = max(person.get("/api/v1/reminders").json["next_due_at"] for person in (paciente, patient))
    assert run_worker(app, now=datetime.fromisoformat(due) + timedelta(minutes=1))["sent"] == 2
    spanish = phones[paciente.id].decrypt(push.to(phones[paciente.id])[0].body)
    english = phones[patient.id].decrypt(push.to(phones[patient.id])[0].body)
    assert spanish["body"] == "Es hora de tu registro"
    assert english["body"] == "Time for your check-in"
    # the notification's button too: "Later" in their language
    assert spanish["actions"] == [{"action": "later", "title": "Más tarde (1 h)"}]
    assert english["actions"] == [{"action": "later", "title": "Later (1 h)"}]
    words = ("body", "id", "actions")
    assert {k: v for k, v in spanish.items() if k not in words} == {
        k: v for k, v in english.items() if k not in words
    }


# -- plans and homework (#23) -----------------------------------------------------------------


def words(body, path=()) -> list[tuple[tuple, str]]:
    """Every word an answer says (its message and its errors), by where it is."""
    if isinstance(body, dict):
        return [pair for key, value in body.items() for pair in words(value, (*path, key))]
    if isinstance(body, list):
        return [pair for i, item in enumerate(body) for pair in words(item, (*path, i))]
    return [(path, body)] if isinstance(body, str) else []


def untranslated(spanish, english) -> list[str]:
    """What an English answer says that its Spanish twin says the same, word for word."""
    es, en = words(spanish), words(english)
    assert [path for path, _ in es] == [path for path, _ in en]
    return [said for (_, text), (_, said) in zip(es, en, strict=True) if text == said]


def told(answer) -> dict:
    """The words a person reads of an error answer (its status phrase is HTTP's own)."""
    return {"message": answer.json["message"], **answer.json.get("errors", {})}


def said_in_spanish(spanish, english) -> None:
    """The same refusal: code, keys and nesting; every word of it in Spanish."""
    assert spanish.status_code == english.status_code, (spanish.json, english.json)
    assert shape(spanish.json) == shape(english.json)
    assert untranslated(told(spanish), told(english)) == []


@pytest.fixture
def homework(make_therapist, link, paciente, patient):
    """A plan and a homework for each of two patients, one who reads Spanish."""
    therapist = make_therapist()
    set_for = {}
    for person in (paciente, patient):
        link(therapist, person)
        care = SimpleNamespace(therapist=therapist, patient=person)
        set_for[person.id] = SimpleNamespace(
            homework=assign(care, prompt()), plan=assign(care, PLAN)
        )
    return set_for


def test_a_refused_homework_answer_is_in_my_language(homework, paciente, patient):
    def refusals(person, other):
        mine = homework[person.id]
        answer = f"/api/v1/assignments/{mine.homework['id']}"
        return [
            person.post(f"{answer}/done", json={"entry_id": entry(other)}),
            person.post(
                f"{answer}/snooze", json={"until": (utcnow() - timedelta(hours=1)).isoformat()}
            ),
            person.post(f"{answer}/pause", json={"paused": True}),
            person.post(f"/api/v1/assignments/{mine.plan['id']}/done", json={}),
            person.post(f"/api/v1/assignments/{uuid.uuid4()}/skip", json={}),
        ]

    spanish, english = refusals(paciente, patient), refusals(patient, paciente)
    assert [r.status_code for r in english] == [422, 422, 422, 422, 404]
    for es, en in zip(spanish, english, strict=True):
        said_in_spanish(es, en)
    someone_elses, past = spanish[0].json["errors"]["json"], spanish[1].json["errors"]["json"]
    assert someone_elses == {"entry_id": ["Esa entrada no está en tu diario."]}
    assert past == {"until": ["Elige un momento que aún no haya llegado."]}
    assert spanish[4].json["message"] == "No existe ese plan ni esa tarea."


def test_a_refused_sync_op_on_an_assignment_says_why_in_my_language(homework, paciente, patient):
    def refused(person):
        mine = homework[person.id]
        item, plan = mine.homework["id"], mine.plan["id"]
        return sync_push(
            person,
            [
                op(uuid.uuid4(), {"status": "done"}),
                op(item, {"text": "my own words"}, base_version=1),
                op(item, {"paused_at": utcnow().isoformat()}, base_version=1),
                op(plan, {"status": "done"}, base_version=1),
                op(item, base_version=1, action="delete"),
                op(item, {"entry_id": str(uuid.uuid4()), "status": "done"}, base_version=1),
            ],
        )

    spanish, english = refused(paciente), refused(patient)
    assert [r["status"] for r in spanish] == [r["status"] for r in english] == ["rejected"] * 6
    for es, en in zip(spanish, english, strict=True):
        assert es["type"] == en["type"] == "assignment"
        assert shape(es["errors"]) == shape(en["errors"])
        assert untranslated(es["errors"], en["errors"]) == []
    assert [r["errors"] for r in spanish[:2]] == [
        {"id": ["Esto lo decide tu terapeuta."]},
        {"data": {"text": ["Esto lo decide tu terapeuta."]}},
    ]
    assert spanish[4]["errors"] == {
        "action": [
            "Los planes y las tareas los retira tu terapeuta; tú puedes omitirlos o pausarlos."
        ]
    }


@pytest.fixture
def therapists(make_therapist, link, patient):
    """A therapist who reads Spanish and one who reads English, both caring for the patient."""
    terapeuta, therapist = speaks(make_therapist(), "es"), make_therapist()
    for person in (terapeuta, therapist):
        link(person, patient)
    return terapeuta, therapist


def test_a_spanish_therapists_invalid_plan_or_homework_is_refused_in_spanish(therapists, patient):
    terapeuta, therapist = therapists
    for case, (body, _field) in BAD.items():
        spanish = terapeuta.post(url(patient), json=body)
        english = therapist.post(url(patient), json=body)
        assert english.status_code == 422, case
        said_in_spanish(spanish, english)
    window_0 = terapeuta.post(url(patient), json={**PLAN, "window_hours": 0})
    assert window_0.json["errors"]["json"] == {
        "window_hours": ["Debe ser mayor o igual que 1 y menor o igual que 168."]
    }
    a_day_twice = {**PLAN, "schedule": {**PLAN["schedule"], "days": [1, 1]}}
    assert terapeuta.post(url(patient), json=a_day_twice).json["errors"]["json"] == {
        "schedule": {"days": ["Cada día, una sola vez."]}
    }


def test_a_spanish_therapist_is_told_in_spanish_of_a_stale_edit_or_a_taken_id(therapists, patient):
    def refusals(person):
        made = person.post(url(patient), json=prompt())
        assert made.status_code == 201, made.json
        item = made.json
        patch(person, url(patient, item["id"]), json={"version": 1, "text": "New words"})
        return [
            patch(person, url(patient, item["id"]), json={"version": 1, "text": "Older words"}),
            person.post(url(patient), json={**prompt(), "id": item["id"]}),
            patch(person, url(patient, uuid.uuid4()), json={"version": 1, "text": "Words"}),
        ]

    terapeuta, therapist = therapists
    spanish, english = refusals(terapeuta), refusals(therapist)
    assert [r.status_code for r in english] == [409, 409, 404]
    for es, en in zip(spanish, english, strict=True):
        said_in_spanish(es, en)
    assert spanish[0].json["message"] == "Este plan o esta tarea cambió mientras tanto."


@pytest.mark.parametrize(
    "window",
    [{"start": "12:00", "end": "09:00"}, {"start": "09:00", "end": "09:20"}],
)
def test_a_random_window_that_cannot_be_is_refused_in_my_language(paciente, patient, window):
    body = {"version": 0, "daily_checkin": {"random": window}}
    spanish, english = paciente.put(REMINDERS, json=body), patient.put(REMINDERS, json=body)
    assert english.status_code == 422
    said_in_spanish(spanish, english)


def test_putting_off_what_is_not_a_check_in_is_refused_in_my_language(paciente, patient, push):
    def put_off_a_test_push(person):
        device = push.device()
        subscribe(person, device)
        assert person.post("/api/v1/push/test").json["sent"] == 1
        delivery_id = device.decrypt(push.to(device)[0].body)["id"]
        later = {"delivery_id": delivery_id, "event": "later"}
        return person.post("/api/v1/push/receipts", json=later)

    spanish, english = put_off_a_test_push(paciente), put_off_a_test_push(patient)
    assert english.status_code == 422
    said_in_spanish(spanish, english)
    assert spanish.json["errors"]["json"] == {
        "event": ["Solo se puede posponer el recordatorio de un registro."]
    }
