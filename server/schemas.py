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
