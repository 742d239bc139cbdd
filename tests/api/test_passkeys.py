"""Passkeys (WebAuthn): what the API shows without a browser. A software authenticator
here answers the server's challenges as a phone would (none attestation, P-256)."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import struct
from datetime import timedelta

import cbor2
import pyotp
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import func, select, update

from server.audit.models import AuditEvent
from server.auth.models import Passkey, PasskeyChallenge
from server.db import utcnow
from server.extensions import db
from tests.factories import PASSWORD

ORIGIN = "http://localhost"  # what Flask's test client calls itself
REQUIRE_2FA = {"REQUIRE_THERAPIST_TOTP": True}


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Authenticator:
    """One passkey on one device: a P-256 key, a credential id, a signature counter."""

    def __init__(self):
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.credential_id = os.urandom(16)
        self.count = 0
        self.user_handle: str | None = None

    def _client_data(self, kind: str, options: dict, origin: str) -> bytes:
        return json.dumps(
            {"type": kind, "challenge": options["challenge"], "origin": origin}
        ).encode()

    def _auth_data(self, rp_id: str, flags: int, extra: bytes = b"") -> bytes:
        self.count += 1
        rp_hash = hashlib.sha256(rp_id.encode()).digest()
        return rp_hash + bytes([flags]) + struct.pack(">I", self.count) + extra

    def create(self, options: dict, origin: str = ORIGIN) -> dict:
        numbers = self.key.public_key().public_numbers()
        cose = cbor2.dumps(
            {1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32), -3: numbers.y.to_bytes(32)}
        )
        attested = bytes(16) + struct.pack(">H", len(self.credential_id)) + self.credential_id
        # user present, user verified, attested credential data
        auth_data = self._auth_data(options["rp"]["id"], 0x45, attested + cose)
        self.user_handle = options["user"]["id"]
        return {
            "id": b64(self.credential_id),
            "rawId": b64(self.credential_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64(self._client_data("webauthn.create", options, origin)),
                "attestationObject": b64(
                    cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
                ),
                "transports": ["internal"],
            },
            "clientExtensionResults": {},
        }

    def get(self, options: dict, origin: str = ORIGIN, flags: int = 0x05) -> dict:
        client_data = self._client_data("webauthn.get", options, origin)
        auth_data = self._auth_data(options["rpId"], flags)
        signed = auth_data + hashlib.sha256(client_data).digest()
        return {
            "id": b64(self.credential_id),
            "rawId": b64(self.credential_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64(client_data),
                "authenticatorData": b64(auth_data),
                "signature": b64(self.key.sign(signed, ec.ECDSA(hashes.SHA256()))),
                "userHandle": self.user_handle,
            },
            "clientExtensionResults": {},
        }


def add_passkey(actor, name: str = "My phone", device: Authenticator | None = None, **confirm):
    """Register a passkey for `actor` with a new (or the given) authenticator."""
    device = device or Authenticator()
    options = actor.post("/api/v1/auth/passkeys/options", json=confirm or {"password": PASSWORD})
    assert options.status_code == 200, options.json
    made = actor.post(
        "/api/v1/auth/passkeys",
        json={"name": name, "credential": device.create(options.json["options"])},
    )
    assert made.status_code == 201, made.json
    return device, made.json


def sign_in_with(app, device: Authenticator, **kw):
    """A fresh browser signs in with the passkey: (client, response)."""
    client = app.test_client()
    options = client.post("/api/v1/auth/login/passkey/options")
    assert options.status_code == 200
    return client, client.post(
        "/api/v1/auth/login/passkey", json=device.get(options.json["options"], **kw)
    )


def test_patient_adds_a_passkey_and_signs_in_with_it(app, patient):
    options = patient.post("/api/v1/auth/passkeys/options", json={"password": PASSWORD}).json
    public_key = options["options"]
    assert public_key["rp"]["id"] == "localhost"
    assert public_key["authenticatorSelection"]["residentKey"] == "required"
    assert public_key["authenticatorSelection"]["userVerification"] == "required"
    assert unb64(public_key["user"]["id"]).hex() == patient.id.replace("-", "")

    device, made = add_passkey(patient, "  Pixel in the blue case  ")
    assert made["name"] == "Pixel in the blue case" and made["last_used_at"] is None
    (listed,) = patient.get("/api/v1/auth/passkeys").json
    assert listed["id"] == made["id"]

    client, signed_in = sign_in_with(app, device)
    assert signed_in.status_code == 200, signed_in.json
    assert signed_in.json["id"] == patient.id
    assert client.get("/api/v1/auth/me").json["email"] == patient.email
    assert patient.get("/api/v1/auth/passkeys").json[0]["last_used_at"] is not None

    with app.app_context():
        actions = db.session.scalars(
            select(AuditEvent.action).where(AuditEvent.object_type == "passkey")
        ).all()
    assert actions == ["passkey_add"]


def test_adding_a_passkey_asks_for_the_password_again(patient):
    url = "/api/v1/auth/passkeys/options"
    assert patient.post(url, json={}).status_code == 422
    wrong = patient.post(url, json={"password": "not-my-password"})
    assert wrong.status_code == 422 and "password" in wrong.json["errors"]["json"]
    no_totp = patient.post(url, json={"totp_code": "123456"})
    assert no_totp.status_code == 422 and "totp_code" in no_totp.json["errors"]["json"]


def test_a_current_code_confirms_instead_of_the_password(therapist):
    totp = pyotp.TOTP(therapist.post("/api/v1/auth/totp/setup").json["secret"])
    therapist.post("/api/v1/auth/totp/enable", json={"code": totp.now()})
    add_passkey(therapist, totp_code=totp.at(utcnow().timestamp() + 30))


@pytest.mark.parametrize("name", ["", "   ", "x" * 61, "\u202e"])
def test_a_passkey_needs_a_name_of_at_most_60_characters(patient, name):
    options = patient.post("/api/v1/auth/passkeys/options", json={"password": PASSWORD}).json
    made = patient.post(
        "/api/v1/auth/passkeys",
        json={"name": name, "credential": Authenticator().create(options["options"])},
    )
    assert made.status_code == 422 and "name" in made.json["errors"]["json"]


def test_rename_and_remove_my_passkey(app, patient):
    device, made = add_passkey(patient)
    url = f"/api/v1/auth/passkeys/{made['id']}"
    renamed = patient.client.patch(url, json={"name": "Work laptop"})
    assert renamed.status_code == 200 and renamed.json["name"] == "Work laptop"
    assert patient.client.patch(url, json={"name": "y" * 61}).status_code == 422
    assert patient.delete(url).status_code == 204
    assert patient.get("/api/v1/auth/passkeys").json == []
    assert patient.delete(url).status_code == 404
    _client, refused = sign_in_with(app, device)
    assert refused.status_code == 401


def test_another_persons_passkey_is_not_found(patient, make_patient):
    _device, made = add_passkey(patient)
    other = make_patient()
    url = f"/api/v1/auth/passkeys/{made['id']}"
    assert other.client.patch(url, json={"name": "Mine now"}).status_code == 404
    assert other.delete(url).status_code == 404
    assert patient.get("/api/v1/auth/passkeys").json[0]["name"] == "My phone"


def test_a_registration_answer_counts_once(patient):
    options = patient.post("/api/v1/auth/passkeys/options", json={"password": PASSWORD}).json
    answer = {"name": "Phone", "credential": Authenticator().create(options["options"])}
    assert patient.post("/api/v1/auth/passkeys", json=answer).status_code == 201
    again = patient.post("/api/v1/auth/passkeys", json=answer)
    assert again.status_code == 422 and "credential" in again.json["errors"]["json"]


def test_a_registration_challenge_is_for_the_account_that_asked(patient, make_patient):
    options = patient.post("/api/v1/auth/passkeys/options", json={"password": PASSWORD}).json
    answer = {"name": "Phone", "credential": Authenticator().create(options["options"])}
    assert make_patient().post("/api/v1/auth/passkeys", json=answer).status_code == 422


def test_a_registration_from_another_origin_is_refused(patient):
    options = patient.post("/api/v1/auth/passkeys/options", json={"password": PASSWORD}).json
    forged = Authenticator().create(options["options"], origin="https://elsewhere.example")
    made = patient.post("/api/v1/auth/passkeys", json={"name": "Phone", "credential": forged})
    assert made.status_code == 422


def test_a_replayed_sign_in_is_refused(app, patient):
    device, _ = add_passkey(patient)
    client = app.test_client()
    options = client.post("/api/v1/auth/login/passkey/options").json["options"]
    answer = device.get(options)
    assert client.post("/api/v1/auth/login/passkey", json=answer).status_code == 200
    replayed = app.test_client().post("/api/v1/auth/login/passkey", json=answer)
    assert replayed.status_code == 401


def test_an_expired_challenge_is_refused(app, patient):
    device, _ = add_passkey(patient)
    client = app.test_client()
    options = client.post("/api/v1/auth/login/passkey/options").json["options"]
    with app.app_context():
        db.session.execute(
            update(PasskeyChallenge).values(expires_at=utcnow() - timedelta(seconds=1))
        )
        db.session.commit()
    assert client.post("/api/v1/auth/login/passkey", json=device.get(options)).status_code == 401


def test_a_counter_that_goes_back_is_refused_and_recorded(app, patient):
    device, made = add_passkey(patient)
    assert sign_in_with(app, device)[1].status_code == 200
    device.count = 0  # a cloned authenticator starts over
    assert sign_in_with(app, device)[1].status_code == 401
    with app.app_context():
        denied = db.session.execute(
            select(AuditEvent).where(AuditEvent.action == "sign_in_passkey")
        ).scalar_one()
    assert (denied.outcome, denied.object_ids) == ("denied", [made["id"]])
    assert str(denied.patient_id) == patient.id


def test_deleting_my_account_deletes_my_passkeys(app, patient):
    add_passkey(patient)
    deleted = patient.delete("/api/v1/me", json={"password": PASSWORD})
    assert deleted.status_code in (200, 204), deleted.json
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Passkey)) == 0


def test_sign_in_needs_user_verification(app, patient):
    device, _ = add_passkey(patient)
    assert sign_in_with(app, device, flags=0x01)[1].status_code == 401  # present, not verified


def test_an_unknown_passkey_does_not_sign_in(app):
    _client, refused = sign_in_with(app, Authenticator())
    assert refused.status_code == 401


def test_a_malformed_answer_is_a_422(app):
    client = app.test_client()
    client.post("/api/v1/auth/login/passkey/options")
    bad = {
        "id": "abc",
        "rawId": "abc",
        "type": "public-key",
        "response": {"clientDataJSON": "!!", "authenticatorData": "a", "signature": "a"},
    }
    assert client.post("/api/v1/auth/login/passkey", json=bad).status_code == 422
    garbage = {
        **bad,
        "response": {"clientDataJSON": "e30", "authenticatorData": "AA", "signature": "AA"},
    }
    assert client.post("/api/v1/auth/login/passkey", json=garbage).status_code == 401


@pytest.mark.app_config(**REQUIRE_2FA)
def test_a_therapists_passkey_is_both_factors(app, therapist):
    blocked = therapist.get("/api/v1/caseload")
    assert blocked.status_code == 403 and blocked.json["totp_setup_required"] is True
    device, _ = add_passkey(therapist)

    client, signed_in = sign_in_with(app, device)
    assert signed_in.status_code == 200 and signed_in.json["totp_required"] is False
    assert client.get("/api/v1/caseload").status_code == 200
    # the password alone is one factor: it no longer signs this therapist in
    password_only = app.test_client().post(
        "/api/v1/auth/login", json={"email": therapist.email, "password": PASSWORD}
    )
    assert password_only.status_code == 401 and password_only.json["passkey_required"] is True


@pytest.mark.app_config(**REQUIRE_2FA)
def test_a_therapist_keeps_a_second_factor(therapist):
    _device, first = add_passkey(therapist, "Phone")
    _device, second = add_passkey(therapist, "Laptop")
    assert therapist.delete(f"/api/v1/auth/passkeys/{first['id']}").status_code == 204
    last = therapist.delete(f"/api/v1/auth/passkeys/{second['id']}")
    assert last.status_code == 409
    assert [p["name"] for p in therapist.get("/api/v1/auth/passkeys").json] == ["Laptop"]


@pytest.mark.app_config(**REQUIRE_2FA)
def test_with_an_authenticator_app_too_the_last_passkey_may_go(therapist):
    totp = pyotp.TOTP(therapist.post("/api/v1/auth/totp/setup").json["secret"])
    therapist.post("/api/v1/auth/totp/enable", json={"code": totp.now()})
    _device, made = add_passkey(therapist)
    assert therapist.delete(f"/api/v1/auth/passkeys/{made['id']}").status_code == 204


def test_a_therapist_with_two_factor_signs_in_by_passkey_without_a_code(app, therapist):
    totp = pyotp.TOTP(therapist.post("/api/v1/auth/totp/setup").json["secret"])
    therapist.post("/api/v1/auth/totp/enable", json={"code": totp.now()})
    device, _ = add_passkey(therapist)
    client, signed_in = sign_in_with(app, device)
    assert signed_in.status_code == 200
    assert client.get("/api/v1/caseload").status_code == 200


@pytest.mark.app_config(RATELIMIT_LOGIN="3 per minute")
def test_passkey_sign_in_is_rate_limited_like_password_sign_in(app):
    client = app.test_client()
    statuses = [client.post("/api/v1/auth/login/passkey/options").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    answers = [
        client.post("/api/v1/auth/login/passkey", json=Authenticator().get(options)).status_code
        for options in [{"challenge": "AAAA", "rpId": "localhost"}] * 4
    ]
    assert answers == [401, 401, 401, 429]
