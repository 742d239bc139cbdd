"""Journal entries: what a patient writes between sessions."""

from __future__ import annotations

import enum
import json
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
    Text,
    TypeDecorator,
    Uuid,
    select,
    type_coerce,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.sql.functions import FunctionElement

from server import crypto
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
    # a built-in prompt's id names its theme ("relapse.early-signs"): encrypted too
    prompt_id: Mapped[str | None] = mapped_column(EncryptedText("journal_entries.prompt_id"))
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
        if tags and self.patient_id is None:
            raise ValueError("an entry's tags are indexed per patient: set patient_id first")
        self.tag_rows = [
            EntryTag(tag=t, tag_hmac=tag_index(self.patient_id, t), position=i)
            for i, t in enumerate(tags)
        ]


TAG_COLUMN = "journal_entry_tags.tag"


def _scope(patient_id) -> bytes:
    return (patient_id if isinstance(patient_id, uuid.UUID) else uuid.UUID(str(patient_id))).bytes


def tag_index(patient_id, tag: str, kid: str | None = None) -> str:
    """A tag's blind index: HMAC-SHA256, keyed from the ring (server/crypto.py), of the
    tag exactly as written, scoped to its patient.

    Not normalised (case, Unicode form, spaces): filtering was an exact match when tags
    were stored in clear, and stays one; folding would merge tags the patient keeps apart.
    Scoped to the patient, so someone reading the database cannot tell that two people
    used the same tag, nor find everyone's rows for a tag they chose on their own account.
    """
    return crypto.ring().blind_index(tag, TAG_COLUMN, _scope(patient_id), kid)


def tag_indexes(patient_id, tag: str) -> list[str]:
    """What a tag filter matches: the tag's blind index under every key in the ring."""
    return crypto.ring().blind_indexes(tag, TAG_COLUMN, _scope(patient_id))


class EntryTag(Base):
    """Tags in their own rows, so filtering by tag is an index lookup on both backends.

    The tag is encrypted; `tag_hmac` is its blind index (`tag_index`), and the lookup
    goes by that. It is made under the same ring key as the tag's ciphertext. On key
    rotation, a lookup matches the blind index under every key still in the ring, so a
    row not yet re-encrypted is found; `keys rotate` (server/privacy/keys.py) recomputes
    `tag_hmac` under the newest key as it re-encrypts the tag, and only once it has
    finished may the old key leave the ring (after that, an old blind index would not
    be found: it is never left behind).
    """

    __tablename__ = "journal_entry_tags"
    __table_args__ = (Index("ix_journal_entry_tags_tag_hmac", "tag_hmac", "entry_id"),)

    entry_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("journal_entries.id", ondelete="CASCADE"), primary_key=True
    )
    # the n-th tag of the entry (each tag once: the service drops repeats)
    position: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False, default=0)
    tag_hmac: Mapped[str] = mapped_column(String(64))
    tag: Mapped[str] = mapped_column(EncryptedText(TAG_COLUMN))


class _tag_pairs(FunctionElement):
    """A JSON array of one entry's [position, tag] pairs, aggregated in the database."""

    inherit_cache = True


@compiles(_tag_pairs, "sqlite")
def _tag_pairs_sqlite(element, compiler, **kw):
    return f"json_group_array(json_array({compiler.process(element.clauses, **kw)}))"


@compiles(_tag_pairs)
def _tag_pairs_default(element, compiler, **kw):
    return f"json_agg(json_build_array({compiler.process(element.clauses, **kw)}))"


class _DecryptedTags(TypeDecorator):
    """The aggregated pairs as the entry's tags: in order, each decrypted as its own
    column would decrypt it (the ciphertexts travel inside the JSON untouched)."""

    impl = Text
    cache_ok = True

    def process_result_value(self, value, dialect):
        if value is None:  # PostgreSQL aggregates no rows to NULL
            return []
        pairs = json.loads(value) if isinstance(value, str) else value
        ring = crypto.ring()
        return [ring.decrypt(tag, TAG_COLUMN) for _, tag in sorted(pairs)]


def entry_tags_column():
    """An entry's tags as a column of its own row, labelled `tags`: a sync page reads its
    entries and their tags in one statement, not one for each."""
    # table columns, not the mapped attributes: the statement stays Core, its rows plain
    tags, entries = EntryTag.__table__.c, JournalEntry.__table__.c
    pairs = select(_tag_pairs(tags.position, tags.tag)).where(tags.entry_id == entries.id)
    return type_coerce(pairs.scalar_subquery(), _DecryptedTags()).label("tags")


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
