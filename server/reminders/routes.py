"""Reminder schedules, devices that get notifications, and what became of them."""

from __future__ import annotations

from flask import current_app
from flask_babel import gettext as _
from flask_login import login_required
from flask_smorest import Blueprint

from server.auth.session import current_actor
from server.errors import ApiError
from server.extensions import db, limiter
from server.reminders import keys, schemas, service, worker
from server.web import base_version

bp = Blueprint("reminders", __name__, url_prefix="/api/v1", description="Push reminders")


@bp.get("/reminders")
@login_required
@bp.response(200, schemas.ScheduleSchema)
def get_reminders():
    """My reminder schedule and when the next reminder is due."""
    return service.get_schedule(current_actor())


@bp.put("/reminders")
@login_required
@bp.arguments(schemas.ScheduleUpdateSchema)
@bp.response(200, schemas.ScheduleSchema)
def put_reminders(data):
    """Change my reminders from the version I started with."""
    version = base_version(data.pop("version", None))
    answer = service.update_schedule(current_actor(), data, version)
    db.session.commit()
    return answer


def _vapid_private_key() -> str:
    private_key = current_app.config.get("VAPID_PRIVATE_KEY")
    if not private_key:
        raise ApiError(503, _("Notifications are not set up on this server."))
    return private_key


@bp.get("/push/vapid-public-key")
@bp.response(200, schemas.VapidKeySchema)
def vapid_public_key():
    """The key to pass to PushManager.subscribe() as applicationServerKey."""
    return {"public_key": keys.public_key_b64(keys.load(_vapid_private_key()))}


@bp.get("/push/subscriptions")
@login_required
@bp.response(200, schemas.SubscriptionSchema(many=True))
def list_subscriptions():
    """My devices that get notifications."""
    return service.list_subscriptions(current_actor())


@bp.post("/push/subscriptions")
@login_required
@bp.arguments(schemas.SubscriptionCreateSchema)
@bp.response(200, schemas.SubscriptionSchema)
@bp.alt_response(201, schema=schemas.SubscriptionSchema, description="A new device")
def subscribe(data):
    """Keep this device's push subscription (sent again on every launch)."""
    row, created = service.subscribe(current_actor(), data)
    db.session.commit()
    return row, 201 if created else 200


@bp.delete("/push/subscriptions")
@login_required
@bp.arguments(schemas.SubscriptionDeleteSchema)
@bp.response(204)
def unsubscribe(data):
    """Stop notifications to one of my devices."""
    service.unsubscribe(current_actor(), data["endpoint"])
    db.session.commit()


@bp.post("/push/test")
@limiter.limit("6 per minute")
@login_required
@bp.response(200, schemas.PushTestResultSchema)
def test_push():
    """Send a test notification to each of my devices, now."""
    _vapid_private_key()
    ids = service.create_test_push(current_actor())
    db.session.commit()
    # sent from here, not left to the worker: the person is looking at the screen
    sender = worker.build_sender(current_app.config)
    try:
        counts = worker.deliver(sender, ids=ids)
    finally:
        sender.close()
    return {
        "devices": len(ids),
        "sent": counts["sent"],
        "failed": counts["failed"] + counts["retry"],
        "gone": counts["gone"],
    }


@bp.post("/push/receipts")
@login_required
@bp.arguments(schemas.ReceiptSchema)
@bp.response(204)
def receipt(data):
    """What my device did with a notification: shown, opened, dismissed, or "later"
    (ask again in an hour, once per reminder)."""
    service.record_receipt(current_actor(), data["delivery_id"], data["event"])
    db.session.commit()
