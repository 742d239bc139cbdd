"""Schema pieces every feature shares."""

from marshmallow import RAISE, Schema, fields, validate


class StrictSchema(Schema):
    """Writable fields are an allowlist: an unknown key is an error, not ignored."""

    class Meta:
        unknown = RAISE
        ordered = True


class PageArgsSchema(StrictSchema):
    # query strings are text: no `strict` here (bodies use it)
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 200))
    cursor = fields.String(load_default=None, validate=validate.Length(max=200))


class ErrorSchema(Schema):
    """The one error shape (server/errors.py), as the OpenAPI spec documents it."""

    code = fields.Integer(metadata={"description": "HTTP status code"})
    status = fields.String(metadata={"description": "HTTP status phrase"})
    message = fields.String(metadata={"description": "What went wrong, in words"})
    errors = fields.Dict(metadata={"description": "Field errors by location and field"})
    current = fields.Dict(metadata={"description": "409: the server's current copy"})
    totp_required = fields.Boolean(metadata={"description": "401: a second factor is needed"})
