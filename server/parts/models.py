"""IFS parts maps: a patient's parts, the relations between them, and the map's history."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from server.crypto import EncryptedJSON, EncryptedText
from server.db import Base, UTCDateTime, new_uuid, utcnow


def _enum(cls, name: str):
    return Enum(
        cls, name=name, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e]
    )


class PartRole(enum.StrEnum):
    MANAGER = "manager"
    FIREFIGHTER = "firefighter"
    EXILE = "exile"
    SELF = "self"
    UNKNOWN = "unknown"


class RelationKind(enum.StrEnum):
    PROTECTS = "protects"
    POLARIZED_WITH = "polarized_with"
    ALLIED_WITH = "allied_with"
    BLENDED_WITH = "blended_with"

    @property
    def symmetric(self) -> bool:
        return self is not RelationKind.PROTECTS


class Part(Base):
    __tablename__ = "parts"
    __table_args__ = (Index("ix_parts_patient_seq", "patient_id", "change_seq"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(EncryptedText("parts.name"))
    role: Mapped[PartRole] = mapped_column(_enum(PartRole, "part_role"), default=PartRole.UNKNOWN)
    description: Mapped[str] = mapped_column(EncryptedText("parts.description"), default="")
    feelings: Mapped[list] = mapped_column(EncryptedJSON("parts.feelings"), default=list)
    body_location: Mapped[str] = mapped_column(EncryptedText("parts.body_location"), default="")
    age_sense: Mapped[str] = mapped_column(EncryptedText("parts.age_sense"), default="")
    positive_intent: Mapped[str] = mapped_column(EncryptedText("parts.positive_intent"), default="")
    burdens: Mapped[str] = mapped_column(EncryptedText("parts.burdens"), default="")
    fears: Mapped[str] = mapped_column(EncryptedText("parts.fears"), default="")
    needs: Mapped[str] = mapped_column(EncryptedText("parts.needs"), default="")
    first_noticed_at: Mapped[date | None] = mapped_column(Date)
    x: Mapped[float] = mapped_column(Float, default=0.0)
    y: Mapped[float] = mapped_column(Float, default=0.0)
    color: Mapped[str] = mapped_column(String(7), default="#7a9e9f")
    conflict_of: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    change_seq: Mapped[int] = mapped_column(BigInteger, default=0)


class PartRelation(Base):
    __tablename__ = "part_relations"
    __table_args__ = (Index("ix_part_relations_patient_seq", "patient_id", "change_seq"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    source_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("parts.id", ondelete="CASCADE"))
    target_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("parts.id", ondelete="CASCADE"))
    kind: Mapped[RelationKind] = mapped_column(_enum(RelationKind, "relation_kind"))
    note: Mapped[str] = mapped_column(EncryptedText("part_relations.note"), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    change_seq: Mapped[int] = mapped_column(BigInteger, default=0)


class PartsMap(Base):
    """The map as a whole: for now, whether the patient shares it with their therapists."""

    __tablename__ = "parts_maps"

    patient_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    shared: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PartChange(Base):
    """One change to the map, kept for the history a therapist's brief reads."""

    __tablename__ = "part_changes"
    __table_args__ = (Index("ix_part_changes_patient_at", "patient_id", "at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    actor_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    object_type: Mapped[str] = mapped_column(String(16))  # part, relation
    object_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    action: Mapped[str] = mapped_column(String(16))  # added, changed, removed
    fields: Mapped[list] = mapped_column(JSON, default=list)  # names of changed fields
    # what the sentence needs, as it was then ("Critic protects Little one")
    label: Mapped[str] = mapped_column(EncryptedText("part_changes.label"), default="")
