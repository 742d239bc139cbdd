from marshmallow import fields, validate

from server.schemas import StrictSchema


class InviteSchema(StrictSchema):
    code = fields.String(dump_only=True)
    expires_at = fields.DateTime(dump_only=True)
    # the link to share: account creation with the code filled in, and the same as a QR code
    url = fields.String(dump_only=True)
    qr_svg_data_uri = fields.String(dump_only=True)


class JoinSchema(StrictSchema):
    code = fields.String(required=True, validate=validate.Length(1, 32))


class PersonSchema(StrictSchema):
    id = fields.UUID(dump_only=True)
    display_name = fields.String(dump_only=True)
    role = fields.String(dump_only=True)


class CareLinkSchema(StrictSchema):
    id = fields.UUID(dump_only=True)
    created_at = fields.DateTime(dump_only=True)
    therapist = fields.Nested(PersonSchema, dump_only=True)
    patient = fields.Nested(PersonSchema, dump_only=True)
