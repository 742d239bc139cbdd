"""The care team: invite codes, joining, and ending a link."""

from datetime import timedelta

import pytest
from sqlalchemy import update

from server import access
from server.auth.models import User
from server.care.models import Invite
from server.db import utcnow
from server.errors import ApiError
from server.extensions import db


def test_invite_join_and_both_sides_see_the_link(therapist, patient):
    invite = therapist.post("/api/v1/invites")
    assert invite.status_code == 201
    code = invite.json["code"]
    assert len(code.replace("-", "")) == 8

    joined = patient.post("/api/v1/care-team/join", json={"code": code})
    assert joined.status_code == 201

    seen_by_patient = patient.get("/api/v1/care-team").json
    seen_by_therapist = therapist.get("/api/v1/care-team").json
    assert [link["therapist"]["id"] for link in seen_by_patient] == [therapist.id]
    assert [link["patient"]["id"] for link in seen_by_therapist] == [patient.id]
    assert seen_by_patient[0]["id"] == seen_by_therapist[0]["id"]


def test_code_can_be_typed_loosely(therapist, patient):
    code = therapist.post("/api/v1/invites").json["code"]
    typed = " " + code.lower().replace("-", " ") + " "
    assert patient.post("/api/v1/care-team/join", json={"code": typed}).status_code == 201


def test_a_used_code_is_refused(therapist, patient, make_patient):
    code = therapist.post("/api/v1/invites").json["code"]
    assert patient.post("/api/v1/care-team/join", json={"code": code}).status_code == 201
    other = make_patient()
    again = other.post("/api/v1/care-team/join", json={"code": code})
    assert again.status_code == 422
    assert "code" in again.json["errors"]["json"]
    assert other.get("/api/v1/care-team").json == []


def test_an_expired_code_is_refused(app, therapist, patient):
    code = therapist.post("/api/v1/invites").json["code"]
    with app.app_context():
        db.session.execute(update(Invite).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    response = patient.post("/api/v1/care-team/join", json={"code": code})
    assert response.status_code == 422
    assert patient.get("/api/v1/care-team").json == []


def test_invites_expire_in_seven_days(therapist):
    from datetime import datetime

    expires = datetime.fromisoformat(therapist.post("/api/v1/invites").json["expires_at"])
    remaining = expires - utcnow()
    assert timedelta(days=6, hours=23) < remaining <= timedelta(days=7)


def test_joining_twice_is_409(therapist, patient, link):
    link(therapist, patient)
    code = therapist.post("/api/v1/invites").json["code"]
    assert patient.post("/api/v1/care-team/join", json={"code": code}).status_code == 409
    assert len(patient.get("/api/v1/care-team").json) == 1


def test_roles_are_kept_apart(client, therapist, patient):
    assert patient.post("/api/v1/invites").status_code == 404
    code = therapist.post("/api/v1/invites").json["code"]
    assert therapist.post("/api/v1/care-team/join", json={"code": code}).status_code == 404
    assert client.post("/api/v1/invites").status_code == 401
    assert client.get("/api/v1/care-team").status_code == 401


def _therapist_can_reach(app, therapist_id, patient_id) -> bool:
    with app.app_context():
        actor = db.session.get(User, therapist_id)
        try:
            access.linked_patient(actor, patient_id)
        except ApiError as exc:
            assert exc.code == 404
            return False
        return True


def test_patient_ending_the_link_ends_therapist_access(app, therapist, patient, link):
    import uuid

    tid, pid = uuid.UUID(therapist.id), uuid.UUID(patient.id)
    link_id = link(therapist, patient)["id"]
    assert _therapist_can_reach(app, tid, pid)
    assert patient.delete(f"/api/v1/care-team/{link_id}").status_code == 204
    assert therapist.get("/api/v1/care-team").json == []
    assert not _therapist_can_reach(app, tid, pid)


def test_therapist_ending_the_link_ends_access(app, therapist, patient, link):
    import uuid

    tid, pid = uuid.UUID(therapist.id), uuid.UUID(patient.id)
    link_id = link(therapist, patient)["id"]
    assert therapist.delete(f"/api/v1/care-team/{link_id}").status_code == 204
    assert patient.get("/api/v1/care-team").json == []
    assert not _therapist_can_reach(app, tid, pid)
    # a patient can rejoin with a new code
    link(therapist, patient)
    assert _therapist_can_reach(app, tid, pid)


def test_outsiders_cannot_end_a_link(therapist, patient, make_patient, link):
    link_id = link(therapist, patient)["id"]
    stranger = make_patient()
    assert stranger.delete(f"/api/v1/care-team/{link_id}").status_code == 404
    assert len(therapist.get("/api/v1/care-team").json) == 1


def test_unlinked_therapist_cannot_reach_a_patient(app, make_therapist, patient):
    import uuid

    other = make_therapist()
    assert not _therapist_can_reach(app, uuid.UUID(other.id), uuid.UUID(patient.id))


def test_join_with_invalid_input(patient):
    assert patient.post("/api/v1/care-team/join", json={}).status_code == 422
    assert patient.post("/api/v1/care-team/join", json={"code": ""}).status_code == 422
    assert patient.post("/api/v1/care-team/join", json={"code": "ZZZZ-ZZZZ"}).status_code == 422


@__import__("pytest").mark.app_config(RATELIMIT_JOIN="3 per minute")
def test_join_is_rate_limited(patient):
    codes = [
        patient.post("/api/v1/care-team/join", json={"code": "WRONG-CODE"}).status_code
        for _ in range(4)
    ]
    assert codes == [422, 422, 422, 429]


@pytest.mark.app_config(PUBLIC_URL="https://between.clinic.example")
def test_an_invite_carries_a_link_and_a_qr_code_with_its_code(therapist, patient):
    """The shared link opens account creation with the code filled in."""
    invite = therapist.post("/api/v1/invites").json
    code = invite["code"]
    assert invite["url"] == f"https://between.clinic.example/#/signin/create?code={code}"
    assert invite["qr_svg_data_uri"].startswith("data:image/svg+xml")
    assert patient.post("/api/v1/care-team/join", json={"code": code}).status_code == 201
