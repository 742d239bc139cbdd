from marshmallow import fields

from server.schemas import PageArgsSchema, StrictSchema


class AccessEventSchema(StrictSchema):
    at = fields.DateTime()
    actor_name = fields.String(allow_none=True)
    actor_role = fields.String()
    action = fields.String()
    object_type = fields.String()
    object_ids = fields.List(fields.String())
    outcome = fields.String()


class AccessLogSchema(StrictSchema):
    events = fields.List(fields.Nested(AccessEventSchema))
    next_cursor = fields.String(allow_none=True)


class AccessLogArgsSchema(PageArgsSchema):
    pass
