from flask_babel import gettext as _
from marshmallow import ValidationError, fields, validate

from server.schemas import StrictSchema
from server.sync.registry import REGISTRY

MAX_OPS = 500


def _known_type(name: str) -> None:
    # the registry fills up as features load; check at load time, not import time
    if name not in REGISTRY:
        raise ValidationError(
            _("Must be one of: %(choices)s.", choices=", ".join(sorted(REGISTRY)))
        )


class OpSchema(StrictSchema):
    op_id = fields.UUID(required=True)
    type = fields.String(required=True, validate=_known_type)
    id = fields.UUID(required=True)
    base_version = fields.Integer(
        strict=True, allow_none=True, load_default=None, validate=validate.Range(min=0)
    )
    action = fields.String(required=True, validate=validate.OneOf(["upsert", "delete"]))
    data = fields.Dict(keys=fields.String(), load_default=dict)


class _OneOp(fields.Nested):
    """An op that does not load becomes that op's `rejected` (server/sync/service.py),
    not the whole batch's 422: one bad op must never wedge a phone's outbox."""

    def _deserialize(self, value, attr, data, partial=None, **kwargs):
        try:
            return super()._deserialize(value, attr, data, partial=partial, **kwargs)
        except ValidationError as exc:
            return {"invalid": exc.messages, "raw": value}


class PushSchema(StrictSchema):
    ops = fields.List(_OneOp(OpSchema), required=True, validate=validate.Length(max=MAX_OPS))


class OpResultSchema(StrictSchema):
    # null on the answer to a malformed op, where what it carried was not an id or type
    op_id = fields.String(allow_none=True)
    status = fields.String()
    type = fields.String(allow_none=True)
    id = fields.String(allow_none=True)
    version = fields.Integer(allow_none=True)
    conflict_copy_id = fields.String()
    conflict_revision = fields.Integer()
    flag_id = fields.String()
    # applied on top of changes this device has not pulled yet: keep the old version
    behind = fields.Boolean()
    errors = fields.Dict()


class PushResultSchema(StrictSchema):
    results = fields.List(fields.Nested(OpResultSchema))


class ChangesArgsSchema(StrictSchema):
    since = fields.String(load_default="0", validate=validate.Regexp(r"^\d{1,18}$"))
    limit = fields.Integer(load_default=200, validate=validate.Range(1, 1000))


class ChangeSchema(StrictSchema):
    type = fields.String()
    id = fields.String()
    version = fields.Integer()
    deleted = fields.Boolean()
    data = fields.Dict(allow_none=True)


class ChangesSchema(StrictSchema):
    changes = fields.List(fields.Nested(ChangeSchema))
    cursor = fields.String()
    has_more = fields.Boolean()
