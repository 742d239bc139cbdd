from flask_babel import lazy_gettext as _l
from marshmallow import fields, validate

from config import crisis_lines
from server.auth.models import Role
from server.auth.passwords import MAX_LENGTH
from server.schemas import StrictSchema

_password = {"required": True, "load_only": True, "validate": validate.Length(1, MAX_LENGTH)}


class RegisterSchema(StrictSchema):
    email = fields.Email(required=True, validate=validate.Length(max=254))
    # the policy (length, common passwords) is applied by the service with a clear message
    password = fields.String(required=True, load_only=True, validate=validate.Length(max=1024))
    display_name = fields.String(required=True, validate=validate.Length(1, 100))
    role = fields.String(required=True, validate=validate.OneOf([r.value for r in Role]))
    # hints from the device: the service replaces one it cannot use with the default,
    # so a browser with no system locale ("C") can still make an account
    timezone = fields.String(load_default="UTC", allow_none=True)
    locale = fields.String(load_default="en-US", allow_none=True)
    # the operator's invitation, required for role "therapist"
    therapist_invite = fields.String(load_only=True, validate=validate.Length(1, 128))


class LoginSchema(StrictSchema):
    email = fields.String(required=True, validate=validate.Length(1, 254))
    password = fields.String(**_password)
    # the second factor, for accounts that turned it on
    totp_code = fields.String(load_only=True, validate=validate.Regexp(r"^\d{6}$"))
    recovery_code = fields.String(load_only=True, validate=validate.Length(6, 32))


class TotpSetupSchema(StrictSchema):
    secret = fields.String(dump_only=True)
    otpauth_uri = fields.String(dump_only=True)
    qr_svg_data_uri = fields.String(dump_only=True)


class TotpCodeSchema(StrictSchema):
    code = fields.String(required=True, load_only=True, validate=validate.Regexp(r"^\d{6}$"))


class TotpDisableSchema(StrictSchema):
    password = fields.String(**_password)
    code = fields.String(load_only=True, validate=validate.Regexp(r"^\d{6}$"))


class PasswordConfirmSchema(StrictSchema):
    password = fields.String(**_password)


class ForgotPasswordSchema(StrictSchema):
    email = fields.String(required=True, load_only=True, validate=validate.Length(1, 254))


class ResetPasswordSchema(StrictSchema):
    token = fields.String(required=True, load_only=True, validate=validate.Length(1, 128))
    password = fields.String(required=True, load_only=True, validate=validate.Length(max=1024))


class MessageSchema(StrictSchema):
    message = fields.String(dump_only=True)


class TherapistInviteSchema(StrictSchema):
    email = fields.String(dump_only=True)
    display_name = fields.String(dump_only=True)


class RecoveryCodesSchema(StrictSchema):
    recovery_codes = fields.List(fields.String(), dump_only=True)


class PasswordChangeSchema(StrictSchema):
    current_password = fields.String(**_password)
    new_password = fields.String(required=True, load_only=True, validate=validate.Length(max=1024))


class UserSchema(StrictSchema):
    id = fields.UUID(dump_only=True)
    email = fields.String(dump_only=True)
    display_name = fields.String(dump_only=True)
    role = fields.Enum(Role, by_value=True, dump_only=True)
    timezone = fields.String(dump_only=True)
    locale = fields.String(dump_only=True)
    # the one I chose (or sign-up guessed), else where my time zone and language put me:
    # what the crisis card uses; None when nothing names a country
    region = fields.Function(
        lambda user: user.region or crisis_lines.choose_region(user.locale, user.timezone),
        dump_only=True,
        allow_none=True,
    )
    created_at = fields.DateTime(dump_only=True)
    totp_enabled = fields.Boolean(dump_only=True)
    # this account must turn two-factor on before it reaches patient data
    totp_required = fields.Boolean(dump_only=True)
    # so the app can warn before the server signs it out
    idle_timeout_seconds = fields.Integer(dump_only=True)


class MeUpdateSchema(StrictSchema):
    """My settings; each is optional, and the service checks what it means."""

    display_name = fields.String(validate=validate.Length(1, 100))
    timezone = fields.String(validate=validate.Length(1, 64))
    locale = fields.String(validate=validate.Length(1, 16))
    region = fields.String(validate=validate.Length(2, 2))


class RegionSchema(StrictSchema):
    code = fields.String(dump_only=True)
    name = fields.String(dump_only=True)


class SessionSchema(StrictSchema):
    id = fields.UUID(dump_only=True)
    created_at = fields.DateTime(dump_only=True)
    last_seen_at = fields.DateTime(dump_only=True)
    user_agent = fields.String(dump_only=True)
    current = fields.Boolean(dump_only=True)


# -- passkeys (WebAuthn) -------------------------------------------------------------------

# base64url without padding, as WebAuthn's JSON forms carry bytes
_B64URL = validate.Regexp(r"^[A-Za-z0-9_-]*$", error=_l("Not base64url."))


def _b64(max_length: int, **kw) -> fields.String:
    return fields.String(validate=[validate.Length(1, max_length), _B64URL], **kw)


def _name_field(**kw) -> fields.String:
    return fields.String(validate=validate.Length(1, 60), **kw)


class PasskeyConfirmSchema(StrictSchema):
    """A fresh check before a passkey is added: the password, or a code when two-factor
    sign-in is on."""

    password = fields.String(load_only=True, validate=validate.Length(1, MAX_LENGTH))
    totp_code = fields.String(load_only=True, validate=validate.Regexp(r"^\d{6}$"))


class PasskeyOptionsSchema(StrictSchema):
    # what navigator.credentials.create() / get() takes as `publicKey`, bytes as base64url
    options = fields.Dict(dump_only=True)


class _AttestationResponseSchema(StrictSchema):
    clientDataJSON = _b64(4096, required=True)
    attestationObject = _b64(65536, required=True)
    transports = fields.List(
        fields.String(validate=validate.Length(1, 32)), validate=validate.Length(max=8)
    )


class _AssertionResponseSchema(StrictSchema):
    clientDataJSON = _b64(4096, required=True)
    authenticatorData = _b64(4096, required=True)
    signature = _b64(1024, required=True)
    userHandle = fields.String(allow_none=True, validate=[validate.Length(max=128), _B64URL])


class _CredentialSchema(StrictSchema):
    id = _b64(1400, required=True)
    rawId = _b64(1400, required=True)
    type = fields.String(required=True, validate=validate.Equal("public-key"))
    authenticatorAttachment = fields.String(allow_none=True, validate=validate.Length(max=32))
    clientExtensionResults = fields.Dict(load_default=dict)


class RegistrationCredentialSchema(_CredentialSchema):
    response = fields.Nested(_AttestationResponseSchema, required=True)


class AuthenticationCredentialSchema(_CredentialSchema):
    response = fields.Nested(_AssertionResponseSchema, required=True)


class PasskeyAddSchema(StrictSchema):
    name = _name_field(required=True, load_only=True)
    credential = fields.Nested(RegistrationCredentialSchema, required=True, load_only=True)


class PasskeyRenameSchema(StrictSchema):
    name = _name_field(required=True, load_only=True)


class PasskeySchema(StrictSchema):
    id = fields.UUID(dump_only=True)
    name = fields.String(dump_only=True)
    created_at = fields.DateTime(dump_only=True)
    last_used_at = fields.DateTime(dump_only=True, allow_none=True)
