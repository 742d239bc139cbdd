"""Passkeys (WebAuthn) to sign in with, on py_webauthn. Flushes, never commits.

A passkey counts as two factors: something the person has (the authenticator) and
something they are or know (user verification, required here). So a therapist signed in
with one is not asked for a TOTP code, and a clinic that requires two-factor sign-in
takes a registered passkey as the second factor.

Every challenge is kept server-side, found by the hash of what the browser signed, and
spent by one conditional DELETE: an answer replayed, late, or meant for another purpose
or account finds nothing.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import timedelta

import webauthn
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select
from webauthn.helpers import bytes_to_base64url
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from server.audit import service as audit
from server.auth.models import Passkey, PasskeyChallenge, User
from server.auth.service import clean_display_name
from server.db import utcnow
from server.errors import ApiError, not_found, validation_error
from server.extensions import db

RP_NAME = "Between"
CHALLENGE_TTL = timedelta(minutes=5)
TIMEOUT_MS = 120_000
REGISTER, SIGN_IN = "register", "sign_in"
MAX_PER_USER = 20
EXPIRED = _l("This request has expired. Try again.")
# what a malformed or forged answer raises inside the library (cbor2's errors are
# ValueErrors): a 422 or a 401, never a 500
_BAD_ANSWER = (WebAuthnException, ValueError, TypeError, KeyError, IndexError)
_TRANSPORTS = {t.value for t in AuthenticatorTransport}


def _hash(challenge: bytes) -> str:
    return hashlib.sha256(challenge).hexdigest()


def _new_challenge(purpose: str, user: User | None) -> bytes:
    """Remember a fresh challenge for `purpose`; the expired ones go now."""
    db.session.execute(delete(PasskeyChallenge).where(PasskeyChallenge.expires_at <= utcnow()))
    challenge = webauthn.helpers.generate_challenge()
    db.session.add(
        PasskeyChallenge(
            challenge_hash=_hash(challenge),
            purpose=purpose,
            user_id=user.id if user else None,
            expires_at=utcnow() + CHALLENGE_TTL,
        )
    )
    db.session.flush()
    return challenge


def _signed_challenge(client_data_json: str) -> bytes | None:
    """The challenge the browser signed, read from its clientDataJSON."""
    try:
        data = json.loads(webauthn.base64url_to_bytes(client_data_json))
        return webauthn.base64url_to_bytes(data["challenge"])
    except (*_BAD_ANSWER, AttributeError):
        return None


def _spend_challenge(signed: bytes | None, purpose: str, user: User | None) -> bool:
    """Use up the challenge, once, if it is live and was handed out for this."""
    if not signed:
        return False
    query = delete(PasskeyChallenge).where(
        PasskeyChallenge.challenge_hash == _hash(signed),
        PasskeyChallenge.purpose == purpose,
        PasskeyChallenge.expires_at > utcnow(),
    )
    query = query.where(
        PasskeyChallenge.user_id == user.id if user else PasskeyChallenge.user_id.is_(None)
    )
    spent = db.session.execute(query.execution_options(synchronize_session=False))
    return spent.rowcount == 1


def _options(options) -> dict:
    return json.loads(webauthn.options_to_json(options))


def clean_name(name: str) -> str:
    name = clean_display_name(name)
    if not name:
        raise validation_error({"name": [_("Give the passkey a name.")]})
    return name


def has_passkey(user: User) -> bool:
    return bool(
        db.session.scalar(
            select(func.count()).select_from(Passkey).where(Passkey.user_id == user.id)
        )
    )


def list_passkeys(user: User) -> list[Passkey]:
    return list(
        db.session.scalars(
            select(Passkey).where(Passkey.user_id == user.id).order_by(Passkey.created_at)
        )
    )


def _mine(user: User, passkey_id: uuid.UUID) -> Passkey:
    passkey = db.session.get(Passkey, passkey_id)
    if passkey is None or passkey.user_id != user.id:
        raise not_found(_("No such passkey."))  # another person's looks the same as none
    return passkey


def registration_options(user: User, rp_id: str) -> dict:
    """What the browser needs to make a passkey for this account (one it has is left out)."""
    mine = list_passkeys(user)
    if len(mine) >= MAX_PER_USER:
        raise ApiError(
            409, _("You have %(count)s passkeys. Remove one to add another.", count=MAX_PER_USER)
        )
    options = webauthn.generate_registration_options(
        rp_id=rp_id,
        rp_name=RP_NAME,
        # the user handle is the account's random id: no email or name in it
        user_id=user.id.bytes,
        user_name=user.email,
        user_display_name=user.display_name,
        challenge=_new_challenge(REGISTER, user),
        timeout=TIMEOUT_MS,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED,
            user_verification=UserVerificationRequirement.REQUIRED,
        ),
        exclude_credentials=[
            PublicKeyCredentialDescriptor(id=webauthn.base64url_to_bytes(p.credential_id))
            for p in mine
        ],
    )
    return _options(options)


def add_passkey(user: User, name: str, credential: dict, rp_id: str, origin: str) -> Passkey:
    """Keep the passkey the browser made, after checking its answer to our challenge."""
    name = clean_name(name)
    signed = _signed_challenge(credential["response"]["clientDataJSON"])
    if not _spend_challenge(signed, REGISTER, user):
        raise validation_error({"credential": [EXPIRED]})
    try:
        verified = webauthn.verify_registration_response(
            credential=credential,
            expected_challenge=signed,
            expected_rp_id=rp_id,
            expected_origin=origin,
            require_user_verification=True,
        )
    except _BAD_ANSWER:
        raise validation_error({"credential": [_("This passkey could not be checked.")]}) from None
    credential_id = bytes_to_base64url(verified.credential_id)
    taken = db.session.scalar(select(Passkey).where(Passkey.credential_id == credential_id))
    if taken is not None:
        raise ApiError(409, _("This passkey is already registered."))
    transports = [t for t in credential["response"].get("transports") or [] if t in _TRANSPORTS]
    passkey = Passkey(
        user_id=user.id,
        credential_id=credential_id,
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        transports=transports,
        name=name,
    )
    db.session.add(passkey)
    db.session.flush()
    return passkey


def rename_passkey(user: User, passkey_id: uuid.UUID, name: str) -> Passkey:
    passkey = _mine(user, passkey_id)
    passkey.name = clean_name(name)
    db.session.flush()
    return passkey


def remove_passkey(user: User, passkey_id: uuid.UUID, *, second_factor_required: bool) -> None:
    """Remove one of my passkeys; never the last second factor the clinic requires."""
    passkey = _mine(user, passkey_id)
    if second_factor_required and not user.totp_enabled and len(list_passkeys(user)) == 1:
        raise ApiError(
            409,
            _(
                "Your clinic requires two-factor sign-in, and this is your only second factor. "
                "Add another passkey or turn on an authenticator app first."
            ),
        )
    db.session.delete(passkey)
    db.session.flush()


def sign_in_options(rp_id: str) -> dict:
    """Options for signing in with any passkey of this site (the passkey says who)."""
    options = webauthn.generate_authentication_options(
        rp_id=rp_id,
        challenge=_new_challenge(SIGN_IN, None),
        timeout=TIMEOUT_MS,
        user_verification=UserVerificationRequirement.REQUIRED,
    )
    return _options(options)


def authenticate(credential: dict, rp_id: str, origin: str) -> tuple[User | None, str]:
    """The user this passkey answer proves, or None, and why not (for the log)."""
    response = credential["response"]
    signed = _signed_challenge(response["clientDataJSON"])
    if not _spend_challenge(signed, SIGN_IN, None):
        return None, "challenge"
    passkey = db.session.scalar(select(Passkey).where(Passkey.credential_id == credential["rawId"]))
    if passkey is None:
        return None, "unknown_passkey"
    handle = response.get("userHandle")
    if handle and handle != bytes_to_base64url(passkey.user_id.bytes):
        return None, "user_handle"
    try:
        verified = webauthn.verify_authentication_response(
            credential=credential,
            expected_challenge=signed,
            expected_rp_id=rp_id,
            expected_origin=origin,
            credential_public_key=passkey.public_key,
            # a counter that went backwards means a cloned authenticator: refused
            credential_current_sign_count=passkey.sign_count,
            require_user_verification=True,
        )
    except _BAD_ANSWER:
        # a known passkey whose answer failed (a counter gone back: a cloned key?) is
        # recorded for its owner, as a wrong second factor is
        owner = db.session.get(User, passkey.user_id)
        patient_id = owner.id if owner.is_patient else None
        audit.record(
            owner, "sign_in_passkey", patient_id, "passkey", [passkey.id], outcome="denied"
        )
        return None, "passkey"
    passkey.sign_count = verified.new_sign_count
    passkey.last_used_at = utcnow()
    db.session.flush()
    return db.session.get(User, passkey.user_id), "ok"
