"""Assignments a therapist sets a patient: measurement plans and homework.

One table for both kinds, because they travel together (one synced type, one list on
Today, one section of the brief); the fields of the other kind stay empty.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import JSON, BigInteger, Boolean, Enum, ForeignKey, Index, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from server.crypto import EncryptedText
from server.db import Base, UTCDateTime, new_uuid, utcnow


class AssignmentKind(enum.StrEnum):
    MEASURE = "measure"
    HOMEWORK = "homework"


class Instrument(enum.StrEnum):
    PHQ9 = "phq9"
    GAD7 = "gad7"
    DAILY = "daily"


class HomeworkType(enum.StrEnum):
    PROMPT = "prompt"
    PLAN_REVIEW = "plan_review"
    PARTS_EXERCISE = "parts_exercise"


class HomeworkStatus(enum.StrEnum):
    """What the patient said about a homework item (stored). The status shown adds
    `late` (server/assignments/read.py status_now)."""

    OPEN = "open"
    DONE = "done"
    SKIPPED = "skipped"


def _enum(cls, name):
    return Enum(
        cls, name=name, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e]
    )


class Assignment(Base):
    __tablename__ = "assignments"
    __table_args__ = (
        Index("ix_assignments_patient_seq", "patient_id", "change_seq"),
        Index("ix_assignments_patient_due", "patient_id", "due_at"),
        Index("ix_assignments_due_session", "due_session_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # who set it; the assignment stays when that therapist's account goes
    therapist_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    kind: Mapped[AssignmentKind] = mapped_column(_enum(AssignmentKind, "assignment_kind"))

    # -- a measurement plan --------------------------------------------------------------
    instrument: Mapped[Instrument | None] = mapped_column(
        _enum(Instrument, "assignment_instrument")
    )
    # {"type": "weekly", "day", "time"} or {"type": "sessions", "session_kind", "days", "time"}
    schedule: Mapped[dict | None] = mapped_column(JSON)
    window_hours: Mapped[int | None] = mapped_column(Integer)
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # the latest ask the worker sent, so an offline Today knows "due until" or "missed"
    last_asked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    window_ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # -- homework ------------------------------------------------------------------------
    homework_type: Mapped[HomeworkType | None] = mapped_column(_enum(HomeworkType, "homework_type"))
    text: Mapped[str] = mapped_column(EncryptedText("assignments.text"), default="")
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    due_offset_minutes: Mapped[int] = mapped_column(Integer, default=0)
    # a due date relative to a session: that session's local day + due_days at due_time,
    # written into due_at whenever the session moves
    due_session_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("treatment_sessions.id", ondelete="SET NULL")
    )
    due_days: Mapped[int | None] = mapped_column(Integer)
    due_time: Mapped[str | None] = mapped_column(String(5))
    status: Mapped[HomeworkStatus | None] = mapped_column(_enum(HomeworkStatus, "homework_status"))
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # the journal entry that answered it (the patient's own; no foreign key: an entry
    # deleted later leaves the homework done)
    entry_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    skip_reason: Mapped[str] = mapped_column(EncryptedText("assignments.skip_reason"), default="")
    snoozed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # -- sync bookkeeping ----------------------------------------------------------------
    version: Mapped[int] = mapped_column(Integer, default=1)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    change_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
