"""Journal entries: what a patient writes between sessions."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.crypto import EncryptedJSON, EncryptedText
from server.db import Base, UTCDateTime, new_uuid, utcnow


class EntryKind(enum.StrEnum):
    INTEGRATION = "integration"
    INTENTION = "intention"
    FREE = "free"
    PROMPT_RESPONSE = "prompt_response"


class JournalEntry(Base):
    __tablename__ = "journal_entries"
    __table_args__ = (
        Index("ix_journal_entries_patient_seq", "patient_id", "change_seq"),
        Index("ix_journal_entries_patient_written", "patient_id", "written_at", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(EncryptedText("journal_entries.title"), default="")
    body: Mapped[str] = mapped_column(EncryptedText("journal_entries.body"), default="")
    mood: Mapped[int | None] = mapped_column(Integer)
    emotions: Mapped[list] = mapped_column(EncryptedJSON("journal_entries.emotions"), default=list)
    part_ids: Mapped[list] = mapped_column(JSON, default=list)
    kind: Mapped[EntryKind] = mapped_column(
        Enum(
            EntryKind,
            name="entry_kind",
            native_enum=False,
            length=20,
            values_callable=lambda e: [m.value for m in e],
        ),
        default=EntryKind.FREE,
    )
    prompt_id: Mapped[str | None] = mapped_column(String(64))
    session_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    shared: Mapped[bool] = mapped_column(Boolean, default=False)
    # "bring to session": the patient wants to talk about it (the brief lists shared ones)
    for_session: Mapped[bool] = mapped_column(Boolean, default=False)
    # The instant, plus the patient's UTC offset then, so the entry reads in their day.
    written_at: Mapped[datetime] = mapped_column(UTCDateTime)
    written_offset_minutes: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_by_therapist_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set on a copy made when a stale edit arrived: the text the patient must not lose.
    conflict_of: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    version: Mapped[int] = mapped_column(Integer, default=1)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    change_seq: Mapped[int] = mapped_column(BigInteger, default=0)

    tag_rows: Mapped[list[EntryTag]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by="EntryTag.position"
    )

    @property
    def tags(self) -> list[str]:
        return [t.tag for t in self.tag_rows]

    @tags.setter
    def tags(self, tags: list[str]) -> None:
        self.tag_rows = [EntryTag(tag=t, position=i) for i, t in enumerate(tags)]


class EntryTag(Base):
    """Tags in their own rows, so filtering by tag is an index lookup on both backends."""

    __tablename__ = "journal_entry_tags"
    __table_args__ = (Index("ix_journal_entry_tags_tag", "tag", "entry_id"),)

    entry_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("journal_entries.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(64), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)


class JournalPrompt(Base):
    """A prompt a therapist wrote for one patient (built-in prompts live in code)."""

    __tablename__ = "journal_prompts"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    patient_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    context: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(EncryptedText("journal_prompts.text"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
