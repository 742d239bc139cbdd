from marshmallow import fields, validate

from server.schemas import StrictSchema


class ExportArgsSchema(StrictSchema):
    format = fields.String(load_default="json", validate=validate.OneOf(["json", "html"]))


class DeleteAccountSchema(StrictSchema):
    password = fields.String(required=True, load_only=True, validate=validate.Length(1, 1024))


class ExportSchema(StrictSchema):
    """`between-export/1`: see docs/EXPORT.md for every field."""

    format = fields.String()
    exported_at = fields.String()
    profile = fields.Dict()
    care_team = fields.List(fields.Dict())
    journal_entries = fields.List(fields.Dict())
    journal_prompts = fields.List(fields.Dict())
    parts = fields.List(fields.Dict())
    part_relations = fields.List(fields.Dict())
    parts_map = fields.Dict()
    plan = fields.Dict(allow_none=True)
    plan_revisions = fields.List(fields.Dict())
    checkins = fields.List(fields.Dict())
    risk_flags = fields.List(fields.Dict())
    treatment_sessions = fields.List(fields.Dict())
    assignments = fields.List(fields.Dict())
    access_log = fields.List(fields.Dict())
    my_actions = fields.List(fields.Dict())
