"""What the journal does when something happens elsewhere (the signals of server/events.py)."""

from __future__ import annotations

import uuid

from sqlalchemy import Text, cast, select

from server import events
from server.extensions import db
from server.journal import service
from server.journal.models import JournalEntry
from server.sync import clock


def unlink_part(patient_id: uuid.UUID, part_id: uuid.UUID) -> None:
    """A part was removed from the patient's map: entries that named it drop the link.
    The words stay; not an edit, so the version stays too (the pull still carries it)."""
    marker = str(part_id)
    for entry in db.session.scalars(
        select(JournalEntry).where(
            JournalEntry.patient_id == patient_id,
            cast(JournalEntry.part_ids, Text).contains(marker),
        )
    ):
        if marker in (entry.part_ids or []):
            entry.part_ids = [p for p in entry.part_ids if p != marker]
            clock.stamp(entry)


def connect() -> None:
    """Connect the journal's receivers; create_app calls this (again is harmless: blinker
    keeps one connection per receiver)."""
    # words a synced change carried that their own object can no longer hold: a private
    # entry of the patient's (`keep_words(patient, op_id=…, title=…, body=…)`)
    events.words_to_keep.connect(service.keep_words)
    events.part_removed.connect(unlink_part)
