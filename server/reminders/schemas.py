from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError, fields, validate, validates_schema

from server.reminders.schedule import HHMM, RANDOM_MIN_WINDOW, WEEKDAYS, parse_hhmm
from server.schemas import StrictSchema

SHORTEST_WINDOW = int(RANDOM_MIN_WINDOW.total_seconds() // 60)  # in minutes, as people read it
_time = validate.Regexp(HHMM, error=_l("Use a 24-hour HH:MM time."))


def _unique(values):
    if len(set(values)) != len(values):
        raise ValidationError(_("Each value once."))


class RandomWindowSchema(StrictSchema):
    """A window within one day for the daily check-in's random time."""

    start = fields.String(required=True, validate=_time)
    end = fields.String(required=True, validate=_time)

    @validates_schema
    def _one_day_and_long_enough(self, data, **_kw):
        start, end = parse_hhmm(data["start"]), parse_hhmm(data["end"])
        minutes = (end.hour - start.hour) * 60 + end.minute - start.minute
        if minutes <= 0:
            raise ValidationError(_("The window ends after it starts, within one day."), "end")
        if minutes < SHORTEST_WINDOW:
            raise ValidationError(
                _("Make the window at least %(minutes)d minutes long.", minutes=SHORTEST_WINDOW),
                "end",
            )


class DailySchema(StrictSchema):
    enabled = fields.Boolean()
    times = fields.List(
        fields.String(validate=_time),
        validate=[validate.Length(1, 6), _unique],
    )
    # one check-in a day at a random time in this window instead of `times`; null: off
    random = fields.Nested(RandomWindowSchema, allow_none=True)


class WeeklySchema(StrictSchema):
    enabled = fields.Boolean()
    day = fields.String(validate=validate.OneOf(WEEKDAYS))
    time = fields.String(validate=_time)


class PostDosingSchema(StrictSchema):
    enabled = fields.Boolean()
    days = fields.List(
        fields.Integer(strict=True, validate=validate.Range(1, 60)),
        validate=[validate.Length(1, 10), _unique],
    )
    time = fields.String(validate=_time)


class PlanReviewSchema(StrictSchema):
    enabled = fields.Boolean()
    time = fields.String(validate=_time)


class FlagAlertsSchema(StrictSchema):
    enabled = fields.Boolean()


class QuietHoursSchema(StrictSchema):
    start = fields.String(required=True, validate=_time)
    end = fields.String(required=True, validate=_time)

    @validates_schema
    def _not_empty(self, data, **_kw):
        if data.get("start") == data.get("end"):
            raise ValidationError(_("Quiet hours need a start and a different end."), "end")


class ScheduleFieldsSchema(StrictSchema):
    timezone = fields.String(validate=validate.Length(1, 64))
    daily_checkin = fields.Nested(DailySchema)
    phq9 = fields.Nested(WeeklySchema)
    gad7 = fields.Nested(WeeklySchema)
    post_dosing = fields.Nested(PostDosingSchema)
    plan_review = fields.Nested(PlanReviewSchema)
    flag_alerts = fields.Nested(FlagAlertsSchema)  # therapists only
    quiet_hours = fields.Nested(QuietHoursSchema, allow_none=True)
    paused_until = fields.Date(allow_none=True)
    # move reminders to the device's time zone when the app opens (off once the person
    # chooses a zone in Settings)
    follow_device = fields.Boolean()


class ScheduleUpdateSchema(ScheduleFieldsSchema):
    version = fields.Integer(strict=True, validate=validate.Range(min=0))


class ScheduleSchema(ScheduleFieldsSchema):
    version = fields.Integer()
    next_due_at = fields.DateTime(allow_none=True)
    next_due_kind = fields.String(allow_none=True)
    updated_at = fields.DateTime(allow_none=True)


class VapidKeySchema(StrictSchema):
    public_key = fields.String()


class SubscriptionKeysSchema(StrictSchema):
    p256dh = fields.String(required=True, validate=validate.Length(1, 100))
    auth = fields.String(required=True, validate=validate.Length(1, 40))


class SubscriptionCreateSchema(StrictSchema):
    endpoint = fields.String(required=True, validate=validate.Length(1, 1024))
    keys = fields.Nested(SubscriptionKeysSchema, required=True)
    user_agent = fields.String(load_default="", validate=validate.Length(max=200))
    # what the browser's PushSubscription.toJSON() also carries; accepted, not kept
    expirationTime = fields.Raw(load_default=None, data_key="expirationTime")


class SubscriptionDeleteSchema(StrictSchema):
    endpoint = fields.String(required=True, validate=validate.Length(1, 1024))


class SubscriptionSchema(StrictSchema):
    id = fields.UUID()
    endpoint = fields.String()
    user_agent = fields.String()
    created_at = fields.DateTime()
    last_seen_at = fields.DateTime()


class ReceiptSchema(StrictSchema):
    delivery_id = fields.UUID(required=True)
    # "later": the person put a check-in off from the notification; it comes again in an hour
    event = fields.String(
        required=True, validate=validate.OneOf(("shown", "opened", "dismissed", "later"))
    )


class PushTestResultSchema(StrictSchema):
    devices = fields.Integer()
    sent = fields.Integer()
    failed = fields.Integer()
    gone = fields.Integer()
