"""The relapse-prevention plan: one per patient, every revision kept with its author."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from server.crypto import EncryptedJSON, EncryptedText
from server.db import Base, UTCDateTime, new_uuid, utcnow


class Plan(Base):
    """The current plan. Its id is the patient's id: every device names it the same."""

    __tablename__ = "plans"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    patient_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), unique=True
    )
    content: Mapped[dict] = mapped_column(EncryptedJSON("plans.content"), default=dict)
    region: Mapped[str | None] = mapped_column(String(2))
    review_every_days: Mapped[int | None] = mapped_column(Integer)
    last_reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    shared: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by_role: Mapped[str] = mapped_column(String(16), default="patient")
    version: Mapped[int] = mapped_column(Integer, default=0)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)  # plans are never deleted
    change_seq: Mapped[int] = mapped_column(BigInteger, default=0)


class PlanRevision(Base):
    """A saved state of the plan, or an incoming one kept as a conflict to merge."""

    __tablename__ = "plan_revisions"
    __table_args__ = (UniqueConstraint("patient_id", "number"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    content: Mapped[dict] = mapped_column(EncryptedJSON("plan_revisions.content"), default=dict)
    settings: Mapped[dict] = mapped_column(JSON, default=dict)  # region, review cadence
    author_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    author_role: Mapped[str] = mapped_column(String(16))
    author_name: Mapped[str] = mapped_column(String(100), default="")
    summary: Mapped[str] = mapped_column(EncryptedText("plan_revisions.summary"), default="")
    # a stale edit: not applied, kept whole for the patient to merge
    conflict: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
