"""Treatment sessions on a patient's timeline, set by their therapist."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Enum, ForeignKey, Index, Integer, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from server.crypto import EncryptedText
from server.db import Base, UTCDateTime, new_uuid, utcnow


class SessionKind(enum.StrEnum):
    PREPARATION = "preparation"
    DOSING = "dosing"
    INTEGRATION = "integration"
    MAINTENANCE = "maintenance"


class Route(enum.StrEnum):
    IV = "IV"
    IM = "IM"
    SUBLINGUAL = "sublingual"
    INTRANASAL = "intranasal"


class SessionStatus(enum.StrEnum):
    """Stored: `scheduled` (the default, shown as held once the start has passed), `held`
    (set explicitly) or `did_not_happen`. See `server.sessions.service.status_of`."""

    SCHEDULED = "scheduled"
    HELD = "held"
    DID_NOT_HAPPEN = "did_not_happen"


def _enum(cls, name):
    return Enum(
        cls, name=name, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e]
    )


class TreatmentSession(Base):
    __tablename__ = "treatment_sessions"
    __table_args__ = (
        Index("ix_treatment_sessions_patient_seq", "patient_id", "change_seq"),
        Index("ix_treatment_sessions_patient_starts", "patient_id", "starts_at"),
        Index("ix_treatment_sessions_patient_ends", "patient_id", "ends_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    therapist_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    kind: Mapped[SessionKind] = mapped_column(_enum(SessionKind, "session_kind"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    starts_offset_minutes: Mapped[int] = mapped_column(Integer, default=0)
    duration_minutes: Mapped[int] = mapped_column(Integer, default=60)
    # starts_at + duration, kept so "since the last session" is one indexed comparison
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[SessionStatus] = mapped_column(
        _enum(SessionStatus, "session_status"), default=SessionStatus.SCHEDULED
    )
    route: Mapped[Route | None] = mapped_column(_enum(Route, "dosing_route"))
    note: Mapped[str] = mapped_column(EncryptedText("treatment_sessions.note"), default="")
    title: Mapped[str] = mapped_column(EncryptedText("treatment_sessions.title"), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    change_seq: Mapped[int] = mapped_column(BigInteger, default=0)
