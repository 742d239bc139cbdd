"""Schema pieces every feature shares."""

from __future__ import annotations

from collections.abc import Mapping

from flask_babel import lazy_gettext as _l
from marshmallow import RAISE, Schema, ValidationError, fields, pre_load, validate

LONE_SURROGATE = _l("Cut text: half of an emoji or character is missing. Nothing was saved.")
NUL_CHARACTER = _l("Text cannot hold a NUL character (code 0). Nothing was saved.")


def unstorable(text: str) -> str | None:
    """Why this text cannot be kept, or None when it can.

    - A lone UTF-16 surrogate (a JavaScript string cut through an emoji arrives as
      "\\ud83d"): it has no UTF-8 form, so neither encryption nor any database can take
      it. (json joins a proper pair into one character: any surrogate left is alone.)
    - NUL: PostgreSQL text and jsonb cannot hold it. SQLite could, but refusing it on
      every database keeps the embedded mode and production answering alike.
    """
    if "\x00" in text:
        return NUL_CHARACTER
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return LONE_SURROGATE
    return None


def _first_unstorable(value) -> tuple[tuple, str] | None:
    """Where in a JSON value (keys included) text first cannot be kept, and why.
    Iterative: a deep value exhausts no stack."""
    stack: list[tuple[tuple, object]] = [((), value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, str):
            if problem := unstorable(item):
                return path, problem
        elif isinstance(item, Mapping):
            for key, sub in item.items():
                if isinstance(key, str) and (problem := unstorable(key)):
                    return (*path, _safe_key(key)), problem
                stack.append(((*path, key), sub))
        elif isinstance(item, (list, tuple)):
            stack.extend(((*path, i), sub) for i, sub in enumerate(item))
    return None


def _nest(path: tuple, messages: list[str]):
    """{"tags": {1: [...]}}: where marshmallow itself would put an item's error."""
    out = messages
    for step in reversed(path):
        out = {step: out}
    return out


def _checked_elsewhere(field: fields.Field) -> bool:
    """Fields whose content another schema checks, so this one leaves it alone:
    - nested schemas (each StrictSchema checks its own input, naming the exact place);
    - free-form mappings (`fields.Dict` without a value type) belong to whoever gives
      them a shape: a sync op's `data` is loaded by that type's own field schema, so one
      bad op is rejected alone rather than the whole batch; check-in answers are
      checked item by item against the instrument."""
    while isinstance(field, (fields.List, fields.Tuple)):
        inner = field.inner if isinstance(field, fields.List) else None
        if inner is None:
            return False
        field = inner
    if isinstance(field, (fields.Nested, fields.Pluck)):
        return True
    return isinstance(field, fields.Dict) and field.value_field is None


def _safe_key(key: str) -> str:
    """A refused key, as the error can name it without echoing what cannot be kept."""
    return "".join("\ufffd" if ch == "\x00" or "\ud800" <= ch <= "\udfff" else ch for ch in key)


class StrictSchema(Schema):
    """Writable fields are an allowlist: an unknown key is an error, not ignored.

    Text that cannot be stored (see `unstorable`) is refused before anything else, with
    a 422 naming the field: every route, every sync type's field schema, query strings
    too. Otherwise it would fail deep in encryption or the database as a 500.
    """

    class Meta:
        unknown = RAISE
        ordered = True

    @pre_load
    def _refuse_unstorable_text(self, data, **_kwargs):
        if not isinstance(data, Mapping):
            return data  # marshmallow answers "Invalid input type" itself
        by_key = {field.data_key or name: field for name, field in self.load_fields.items()}
        errors: dict[str, list[str]] = {}
        for key, value in data.items():
            if isinstance(key, str) and (problem := unstorable(key)):
                errors[_safe_key(key)] = [problem]
                continue
            field = by_key.get(key)
            if field is not None and _checked_elsewhere(field):
                continue
            if found := _first_unstorable(value):
                path, problem = found
                errors[key] = _nest(path, [problem])
        if errors:
            raise ValidationError(errors)
        return data


class PageArgsSchema(StrictSchema):
    # query strings are text: no `strict` here (bodies use it)
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 200))
    cursor = fields.String(load_default=None, validate=validate.Length(max=200))


class VersionArgsSchema(StrictSchema):
    """`?version=` on a delete: the version the client removes (query strings are text)."""

    version = fields.Integer(validate=validate.Range(min=1))


class ErrorSchema(Schema):
    """The one error shape (server/errors.py), as the OpenAPI spec documents it."""

    code = fields.Integer(metadata={"description": "HTTP status code"})
    status = fields.String(metadata={"description": "HTTP status phrase"})
    message = fields.String(metadata={"description": "What went wrong, in words"})
    errors = fields.Dict(metadata={"description": "Field errors by location and field"})
    current = fields.Dict(metadata={"description": "409: the server's current copy"})
    totp_required = fields.Boolean(metadata={"description": "401: a second factor is needed"})
