"""One row per (risk flag, therapist): the mail that says "a patient needs attention"."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base, UTCDateTime, new_uuid, utcnow


class FlagMail(Base):
    """Queued with the flag, in its transaction; sent by the worker at most once.

    The unique pair is what makes "at most one mail per therapist per flag" hold, however
    often the check-in is replayed or however many workers run.
    """

    __tablename__ = "flag_mails"
    __table_args__ = (UniqueConstraint("flag_id", "therapist_id"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    flag_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("risk_flags.id", ondelete="CASCADE"))
    therapist_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # set when a worker takes the mail (before it is sent: at most once, never twice)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # a failed attempt waits until then before the next
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
