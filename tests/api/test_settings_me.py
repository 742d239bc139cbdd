"""My settings: a person changes their name, time zone, language and region after sign-up
(PATCH /api/v1/auth/me), and sees the change everywhere it shows."""

from __future__ import annotations

import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

ME = "/api/v1/auth/me"
REMINDERS = "/api/v1/reminders"


def patch_me(actor, body: dict):
    return actor._open("PATCH", ME, json=body)


def test_my_changes_show_in_who_i_am(patient):
    response = patch_me(
        patient,
        {
            "display_name": "  Robin  ",
            "timezone": "America/Mexico_City",
            "locale": "es-MX",
            "region": "mx",
        },
    )
    assert response.status_code == 200, response.json
    me = patient.get(ME).json
    assert (me["display_name"], me["timezone"], me["locale"], me["region"]) == (
        "Robin",
        "America/Mexico_City",
        "es-MX",
        "MX",
    )


def test_a_change_of_one_setting_leaves_the_others(patient):
    before = patient.get(ME).json
    assert patch_me(patient, {"locale": "en-GB"}).status_code == 200
    after = patient.get(ME).json
    assert after["locale"] == "en-GB"
    assert {k: after[k] for k in ("display_name", "timezone", "region")} == {
        k: before[k] for k in ("display_name", "timezone", "region")
    }


def test_the_region_defaults_from_the_language_at_sign_up(client):
    body = {
        "email": "region@example.test",
        "password": "a-long-new-passphrase",
        "display_name": "Sam",
        "role": "patient",
        "locale": "en-GB",
    }
    assert client.post("/api/v1/auth/register", json=body).json["region"] == "GB"


@pytest.mark.parametrize("locale", ["en", "es", "en-GB", "es-MX"])
def test_a_language_tag_is_accepted(patient, locale):
    response = patch_me(patient, {"locale": locale})
    assert response.status_code == 200, response.json
    assert response.json["locale"] == locale


@pytest.mark.parametrize(
    "field, value",
    [
        ("locale", "xx-!!"),
        ("locale", "qq"),  # well formed, but no language
        ("locale", ""),
        ("timezone", "Mars/Olympus"),
        ("timezone", "localtime"),
        ("timezone", "America"),
        ("region", "ZZ"),
        ("region", "USA"),
        ("display_name", "   "),
        ("display_name", "\u202e\u202e"),  # nothing left once cleaned
        ("display_name", "x" * 101),
    ],
)
def test_a_setting_the_server_cannot_use_is_refused_in_the_one_error_shape(patient, field, value):
    before = patient.get(ME).json
    response = patch_me(patient, {field: value})
    assert response.status_code == 422
    assert response.json["code"] == 422
    assert response.json["message"]
    assert field in response.json["errors"]["json"]
    assert patient.get(ME).json == before


def test_who_i_am_is_not_changed_through_settings(patient):
    for field, value in (("email", "new@example.test"), ("role", "therapist")):
        response = patch_me(patient, {field: value})
        assert response.status_code == 422
        assert field in response.json["errors"]["json"]


def test_signed_out_nobody_changes_settings(client):
    assert client.patch(ME, json={"display_name": "X"}).status_code == 401


def test_my_new_name_is_on_my_therapists_caseload(patient, therapist, link):
    link(therapist, patient)
    assert patch_me(patient, {"display_name": "Robin R."}).status_code == 200
    names = [row["display_name"] for row in therapist.get("/api/v1/caseload").json]
    assert names == ["Robin R."]


def test_a_time_zone_change_moves_my_next_reminder_to_the_new_local_time(patient):
    saved = patient.put(
        REMINDERS,
        json={
            "version": 0,
            "timezone": "Europe/Berlin",
            "daily_checkin": {"enabled": True, "times": ["20:00"]},
        },
    )
    assert saved.status_code == 200, saved.json
    assert patch_me(patient, {"timezone": "America/New_York"}).status_code == 200
    schedule = patient.get(REMINDERS).json
    assert schedule["timezone"] == "America/New_York"
    due = datetime.fromisoformat(schedule["next_due_at"]).astimezone(ZoneInfo("America/New_York"))
    assert due.strftime("%H:%M") == "20:00"
    # the worker looks again at once, and devices holding the old schedule see it moved
    assert schedule["version"] == saved.json["version"] + 1


def test_a_time_zone_change_without_reminders_makes_none(patient):
    assert patch_me(patient, {"timezone": "Asia/Tokyo"}).status_code == 200
    assert patient.get(REMINDERS).json["version"] == 0


def test_my_region_chooses_my_crisis_lines_unless_my_plan_names_its_own(patient):
    assert patient.get("/api/v1/plan/crisis").json["emergency_number"] == "911"
    assert patch_me(patient, {"region": "GB"}).status_code == 200
    card = patient.get("/api/v1/plan/crisis").json
    assert (card["emergency_number"], card["crisis_lines"][0]["name"]) == ("999", "Samaritans")
    # a region chosen on the plan is the patient's choice for their crisis card
    saved = patient.put("/api/v1/plan", json={"version": 0, "region": "CA"})
    assert saved.status_code == 200, saved.json
    assert patient.get("/api/v1/plan/crisis").json["crisis_lines"][0]["phone"] == "988"


def test_the_regions_to_choose_from_are_those_with_known_crisis_lines(patient):
    regions = patient.get("/api/v1/auth/regions").json
    codes = [r["code"] for r in regions]
    assert {"US", "GB", "CA"} <= set(codes)
    assert "UK" not in codes and len(codes) == len(set(codes))  # an alias is not a region
    assert all(r["name"] for r in regions)


def test_an_account_from_before_settings_shows_where_it_is_until_it_chooses(patient, app):
    from server.auth.models import User
    from server.extensions import db

    with app.app_context():  # as the migration leaves it: no region chosen
        user = db.session.get(User, uuid.UUID(patient.id))
        user.region, user.timezone, user.locale = None, "Europe/Madrid", "en-US"
        db.session.commit()
    assert patient.get(ME).json["region"] == "ES"
    assert patch_me(patient, {"region": "IE"}).status_code == 200
    assert patient.get(ME).json["region"] == "IE"
