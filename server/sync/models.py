"""Per-patient change counter and the log of applied sync operations."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from server.crypto import EncryptedJSON
from server.db import Base, UTCDateTime, utcnow


class SyncClock(Base):
    """One row per patient. Every change to a synced object takes the next value of
    `counter` while holding this row's lock until commit, so a patient's changes commit
    in counter order and a reader paging by counter never skips a late commit."""

    __tablename__ = "sync_clocks"

    patient_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    counter: Mapped[int] = mapped_column(BigInteger, default=0)


class SyncOp(Base):
    """The first result of every pushed operation, so a replay returns it unchanged."""

    __tablename__ = "sync_ops"

    patient_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    op_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    # encrypted: an answer may echo what the device sent (a field name it should not have)
    result: Mapped[dict] = mapped_column(EncryptedJSON("sync_ops.result"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
