from flask_babel import gettext as _
from marshmallow import ValidationError, fields, validate

from server.journal.models import EntryKind
from server.journal.prompts import CONTEXTS
from server.schemas import (
    PageArgsSchema,
    StrictSchema,
    VersionArgsSchema,  # noqa: F401  (the journal's routes name it here)
)

MAX_BODY = 100_000
_words = {"validate": validate.Length(max=30)}


def _only_null(value) -> None:
    if value is not None:
        raise ValidationError(_("Only null: it marks a conflict copy as resolved."))


class EntryFieldsSchema(StrictSchema):
    """What a patient may write on an entry: the allowlist."""

    title = fields.String(validate=validate.Length(max=500))
    body = fields.String(validate=validate.Length(1, MAX_BODY))
    mood = fields.Integer(strict=True, allow_none=True, validate=validate.Range(0, 10))
    emotions = fields.List(fields.String(validate=validate.Length(1, 40)), **_words)
    tags = fields.List(fields.String(validate=validate.Length(1, 64)), **_words)
    part_ids = fields.List(fields.UUID(), validate=validate.Length(max=50))
    kind = fields.Enum(EntryKind, by_value=True)
    prompt_id = fields.String(allow_none=True, validate=validate.Length(1, 64))
    session_id = fields.UUID(allow_none=True)
    shared = fields.Boolean()
    for_session = fields.Boolean()
    written_at = fields.AwareDateTime()
    # a kept conflict copy becomes an ordinary one once the patient resolves it
    conflict_of = fields.UUID(allow_none=True, validate=_only_null)


class EntryCreateSchema(EntryFieldsSchema):
    id = fields.UUID()
    body = fields.String(required=True, validate=validate.Length(1, MAX_BODY))


class EntryUpdateSchema(EntryFieldsSchema):
    # the version this edit started from; If-Match carries it too
    version = fields.Integer(strict=True, validate=validate.Range(min=1))


class EntrySchema(StrictSchema):
    id = fields.UUID()
    title = fields.String()
    body = fields.String()
    mood = fields.Integer(allow_none=True)
    emotions = fields.List(fields.String())
    tags = fields.List(fields.String())
    part_ids = fields.List(fields.String())
    kind = fields.Enum(EntryKind, by_value=True)
    prompt_id = fields.String(allow_none=True)
    session_id = fields.UUID(allow_none=True)
    shared = fields.Boolean()
    for_session = fields.Boolean()
    written_at = fields.String()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    read_by_therapist_at = fields.DateTime(allow_none=True)
    conflict_of = fields.UUID(allow_none=True)
    version = fields.Integer()
    deleted = fields.Boolean()


class TherapistEntrySchema(StrictSchema):
    id = fields.UUID()
    title = fields.String()
    body = fields.String()
    mood = fields.Integer(allow_none=True)
    emotions = fields.List(fields.String())
    tags = fields.List(fields.String())
    kind = fields.Enum(EntryKind, by_value=True)
    prompt_id = fields.String(allow_none=True)
    session_id = fields.UUID(allow_none=True)
    for_session = fields.Boolean()
    written_at = fields.String()
    updated_at = fields.DateTime()
    read_by_therapist_at = fields.DateTime(allow_none=True)


class EntryPageSchema(StrictSchema):
    entries = fields.List(fields.Nested(EntrySchema))
    next_cursor = fields.String(allow_none=True)


class TherapistEntryPageSchema(StrictSchema):
    entries = fields.List(fields.Nested(TherapistEntrySchema))
    next_cursor = fields.String(allow_none=True)


class EntryQuerySchema(PageArgsSchema):
    # "from"/"to" are Python keywords: data_key keeps the wire names
    from_ = fields.AwareDateTime(data_key="from", load_default=None)
    to = fields.AwareDateTime(load_default=None)
    kind = fields.Enum(EntryKind, by_value=True, load_default=None)
    tag = fields.String(load_default=None, validate=validate.Length(1, 64))
    shared = fields.Boolean(load_default=None)


class PromptSchema(StrictSchema):
    id = fields.String()
    context = fields.String()
    text = fields.String()
    source = fields.String()


class PromptQuerySchema(StrictSchema):
    context = fields.String(load_default=None, validate=validate.OneOf(list(CONTEXTS)))


class PromptCreateSchema(StrictSchema):
    context = fields.String(required=True, validate=validate.OneOf(list(CONTEXTS)))
    text = fields.String(required=True, validate=validate.Length(1, 1000))
