"""Scoring exactly as published. Pure functions: no database, no request (an answer's
problems are worded in the language in force, English outside a request).

PHQ-9 total 0-27: minimal 0-4, mild 5-9, moderate 10-14, moderately severe 15-19,
severe 20-27. GAD-7 total 0-21: minimal 0-4, mild 5-9, moderate 10-14, severe 15-21.
An incomplete questionnaire (a scored item unanswered) gets no total and no severity.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _

from server.checkins.instruments import INSTRUMENTS

PHQ9_BANDS = [
    (4, "minimal"),
    (9, "mild"),
    (14, "moderate"),
    (19, "moderately severe"),
    (27, "severe"),
]
GAD7_BANDS = [(4, "minimal"), (9, "mild"), (14, "moderate"), (21, "severe")]
BANDS = {"phq9": PHQ9_BANDS, "gad7": GAD7_BANDS}


@dataclass(frozen=True)
class Scored:
    score: int | None
    severity: str | None
    complete: bool
    risk_reasons: tuple[str, ...]


class AnswerError(ValueError):
    """Answers that do not fit the instrument: {item_id: [message]}."""

    def __init__(self, errors: dict):
        super().__init__(errors)
        self.errors = errors


def severity(instrument: str, total: int) -> str:
    for upper, band in BANDS[instrument]:
        if total <= upper:
            return band
    raise ValueError(f"{total} is beyond the {instrument} range")


def _check(item: dict, value) -> str | None:
    kind = item["type"]
    if kind == "choice":
        allowed = {o["value"] for o in item["options"]}
        if type(value) is not int or value not in allowed:
            return _("Must be one of %(choices)s.", choices=sorted(allowed))
    elif kind == "scale":
        if type(value) is not int or not item["min"] <= value <= item["max"]:
            return _(
                "Must be a whole number from %(min)s to %(max)s.", min=item["min"], max=item["max"]
            )
    elif kind == "number":
        if type(value) not in (int, float) or not item["min"] <= value <= item["max"]:
            return _("Must be a number from %(min)s to %(max)s.", min=item["min"], max=item["max"])
    elif kind == "yes_no":
        if type(value) is not bool:
            return _("Must be true or false.")
    elif kind == "text":
        if not isinstance(value, str) or len(value) > item["max_length"]:
            return _("Must be text of at most %(count)s characters.", count=item["max_length"])
    return None


def validate_answers(instrument: str, answers: dict) -> None:
    """Raise AnswerError naming every unknown item and out-of-range answer."""
    items = {i["id"]: i for i in INSTRUMENTS[instrument]["items"]}
    errors = {}
    for item_id, value in answers.items():
        if item_id not in items:
            errors[item_id] = [_("Not an item of this questionnaire.")]
        elif value is not None and (problem := _check(items[item_id], value)):
            errors[item_id] = [problem]
    if errors:
        raise AnswerError(errors)


def score(instrument: str, answers: dict) -> Scored:
    """Total, severity band, completeness and risk reasons of valid answers."""
    items = INSTRUMENTS[instrument]["items"]
    given = {k: v for k, v in answers.items() if v is not None}
    complete = all(i["id"] in given for i in items if i["required"])
    risks = []
    if instrument == "phq9" and given.get("phq9_9", 0) > 0:
        risks.append("phq9_item9")
    if instrument == "daily" and given.get("safety") is True:
        risks.append("daily_safety")
    if instrument not in BANDS or not complete:
        return Scored(None, None, complete, tuple(risks))
    total = sum(given[i["id"]] for i in items if i["scored"])
    return Scored(total, severity(instrument, total), True, tuple(risks))


def response_and_remission(baseline: int | None, latest: int | None) -> tuple[bool, bool]:
    """PHQ-9 response: down at least 50 % from baseline. Remission: below 5."""
    if baseline is None or latest is None:
        return False, False
    responded = baseline > 0 and latest <= baseline * 0.5
    return responded, latest < 5
