"""Reminder schedules, push subscriptions, reminder occurrences and push deliveries."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    JSON,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from server.crypto import EncryptedText
from server.db import Base, UTCDateTime, new_uuid, utcnow

# delivery states: the pipeline only. What the device did (shown, opened, dismissed)
# is kept in timestamps, so a receipt never races the worker's completion.
PENDING, LEASED, SENT, GONE, FAILED, EXPIRED = (
    "pending",
    "leased",
    "sent",
    "gone",
    "failed",
    "expired",
)


class ReminderSchedule(Base):
    """One person's reminder rules (local wall-clock times in their zone) and when the
    next one is due."""

    __tablename__ = "reminder_schedules"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), unique=True
    )
    timezone: Mapped[str] = mapped_column(String(64))
    settings: Mapped[dict] = mapped_column(JSON, default=dict)
    # the next reminder, as the rules and today's sessions make it (shown to the person)
    next_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # when the worker looks again: the next reminder, or sooner to see a new session
    wake_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    # reminders up to here have been made into occurrences
    materialised_until: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PushSubscription(Base):
    """A device's Web Push endpoint and keys."""

    __tablename__ = "push_subscriptions"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    endpoint: Mapped[str] = mapped_column(String(1024), unique=True)
    p256dh: Mapped[str] = mapped_column(String(100))
    auth: Mapped[str] = mapped_column(String(40))
    user_agent: Mapped[str] = mapped_column(
        EncryptedText("push_subscriptions.user_agent"), default=""
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ReminderOccurrence(Base):
    """One reminder at one time for one person: made once, whatever the worker count."""

    __tablename__ = "reminder_occurrences"
    __table_args__ = (
        UniqueConstraint("user_id", "slot", name="uq_reminder_occurrences_user_slot"),
        Index("ix_reminder_occurrences_user_fire", "user_id", "fire_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    slot: Mapped[str] = mapped_column(String(120))
    ref_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)  # the dosing session or flag
    fire_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    skipped: Mapped[bool] = mapped_column(default=False)  # stale after downtime, not sent
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PushDelivery(Base):
    """One occurrence to one device, with its outcome."""

    __tablename__ = "push_deliveries"
    __table_args__ = (
        UniqueConstraint(
            "occurrence_id", "subscription_id", name="uq_push_deliveries_occurrence_device"
        ),
        Index("ix_push_deliveries_claim", "status", "next_attempt_at"),
        Index("ix_push_deliveries_user_created", "user_id", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    occurrence_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("reminder_occurrences.id", ondelete="CASCADE"), index=True
    )
    subscription_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("push_subscriptions.id", ondelete="SET NULL"), index=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(12), default=PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # fencing: a claim writes its token and lease; only that claim may complete the row
    lease_token: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    shown_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    dismissed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
