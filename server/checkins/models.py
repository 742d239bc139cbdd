"""Answered questionnaires and the risk flags they raise."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from server.crypto import EncryptedJSON, EncryptedText
from server.db import Base, UTCDateTime, new_uuid, utcnow


class CheckIn(Base):
    __tablename__ = "checkins"
    __table_args__ = (
        Index("ix_checkins_patient_seq", "patient_id", "change_seq"),
        Index("ix_checkins_patient_instrument_at", "patient_id", "instrument", "answered_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    instrument: Mapped[str] = mapped_column(String(16))
    answers: Mapped[dict] = mapped_column(EncryptedJSON("checkins.answers"), default=dict)
    # when the patient answered (their time, with their offset), not when it uploaded
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    answered_offset_minutes: Mapped[int] = mapped_column(Integer, default=0)
    score: Mapped[int | None] = mapped_column(Integer)
    severity: Mapped[str | None] = mapped_column(String(24))
    complete: Mapped[bool] = mapped_column(Boolean, default=False)
    # the daily note can be kept from the therapist; scores are shared with the care team
    note_private: Mapped[bool] = mapped_column(Boolean, default=False)
    session_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    change_seq: Mapped[int] = mapped_column(BigInteger, default=0)


class RiskFlag(Base):
    """A dangerous answer: open until a therapist acknowledges it. One per check-in."""

    __tablename__ = "risk_flags"
    __table_args__ = (Index("ix_risk_flags_patient_status", "patient_id", "status"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    checkin_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("checkins.id", ondelete="CASCADE"), unique=True
    )
    reason: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="open")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    acknowledgement_note: Mapped[str] = mapped_column(
        EncryptedText("risk_flags.acknowledgement_note"), default=""
    )


class FlagNote(Base):
    """What a therapist did about a risk flag, in their words: the first one acknowledges
    it, later ones add to it. Kept, oldest first, with who wrote it and when."""

    __tablename__ = "flag_notes"
    __table_args__ = (Index("ix_flag_notes_flag_created", "flag_id", "created_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    flag_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("risk_flags.id", ondelete="CASCADE"))
    author_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # contacted_patient, reviewed_safety_plan, seen_in_session, other (or none)
    action: Mapped[str | None] = mapped_column(String(32))
    note: Mapped[str] = mapped_column(EncryptedText("flag_notes.note"), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
