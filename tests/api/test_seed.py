"""The demo seed gives a new user something real-looking to explore (all synthetic)."""

from server.demo import DEMO_PASSWORD, DEMO_PATIENT, DEMO_THERAPIST


def sign_in(app, email):
    client = app.test_client()
    response = client.post("/api/v1/auth/login", json={"email": email, "password": DEMO_PASSWORD})
    assert response.status_code == 200
    return client


def test_seed_demo_twice_gives_one_linked_pair_with_a_map_and_entries(app):
    runner = app.test_cli_runner()
    for _ in range(2):
        result = runner.invoke(args=["seed-demo"])
        assert result.exit_code == 0, result.output
    patient = sign_in(app, DEMO_PATIENT)
    therapist = sign_in(app, DEMO_THERAPIST)
    patient_id = patient.get("/api/v1/auth/me").json["id"]

    assert len(therapist.get("/api/v1/care-team").json) == 4
    caseload = therapist.get("/api/v1/caseload").json
    assert caseload[0]["open_flags"] == 1 and all(r["open_flags"] == 0 for r in caseload[1:])
    sessions = patient.get("/api/v1/sessions").json
    assert len(sessions["past"]) == 5 and len(sessions["upcoming"]) == 1
    assert sessions["days_since_last_dosing"] == 15
    trend = patient.get("/api/v1/checkins/trends?instrument=phq9").json
    assert [p["score"] for p in trend["series"]] == [18, 17, 13, 11, 9, 7]
    assert trend["response"] is True and len(trend["markers"]) == 6
    brief = therapist.get(f"/api/v1/patients/{patient_id}/brief").json
    assert brief["entries"] and brief["scores"][0]["latest"] == 7
    whole = patient.get("/api/v1/parts/map").json
    assert len(whole["parts"]) == 4 and len(whole["relations"]) == 3
    assert {p["role"] for p in whole["parts"]} == {"self", "manager", "firefighter", "exile"}
    assert len(patient.get("/api/v1/journal/entries").json["entries"]) == 4
    shared = therapist.get(f"/api/v1/patients/{patient_id}/journal/entries").json["entries"]
    assert len(shared) == 3
    assert therapist.get(f"/api/v1/patients/{patient_id}/parts/map").status_code == 200
    revisions = patient.get("/api/v1/plan/revisions").json
    assert [r["author_role"] for r in revisions] == ["therapist", "patient"]
    card = patient.get("/api/v1/plan/crisis").json
    assert card["contacts"][0]["name"] == "Sam (demo)"


def test_the_demo_patient_has_a_measurement_plan_and_homework_from_their_therapist(app):
    """PHQ-9 1 and 7 days after each dosing session (48 h to answer), a prompt, and a
    plan review the evening before the next session: on Today and on the brief."""
    assert app.test_cli_runner().invoke(args=["seed-demo"]).exit_code == 0
    patient = sign_in(app, DEMO_PATIENT)
    items = patient.get("/api/v1/assignments").json["items"]
    plans = [i for i in items if i["kind"] == "measure"]
    homework = [i for i in items if i["kind"] == "homework"]
    assert [(p["instrument"], p["schedule"]["days"], p["window_hours"]) for p in plans] == [
        ("phq9", [1, 7], 48)
    ]
    assert sorted(h["homework_type"] for h in homework) == ["plan_review", "prompt"]
    assert {i["set_by"]["display_name"] for i in items} == {"Dr. Demo Therapist"}
    review = next(h for h in homework if h["homework_type"] == "plan_review")
    # the evening before the next session, at 18:00 in the patient's New York
    assert review["due_days"] == -1
    assert review["due_at"][10:] in ("T18:00:00-05:00", "T18:00:00-04:00")
    therapist = sign_in(app, DEMO_THERAPIST)
    patient_id = patient.get("/api/v1/auth/me").json["id"]
    brief = therapist.get(f"/api/v1/patients/{patient_id}/brief").json
    assert len(brief["follow_through"]["homework"]) == 2
