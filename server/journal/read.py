"""Journal entries as other features read them: read-only (no writes, no audit, no events).

The brief and the export use these; the journal's own service does too.
"""

from __future__ import annotations

from server import localtime
from server.journal.models import JournalEntry


def written_at_local(entry: JournalEntry) -> str:
    """The instant in the offset the patient wrote it in."""
    return localtime.local_iso(entry.written_at, entry.written_offset_minutes)


def serialize(entry: JournalEntry) -> dict:
    return {
        "id": entry.id,
        "title": entry.title,
        "body": entry.body,
        "mood": entry.mood,
        "emotions": list(entry.emotions or []),
        "tags": entry.tags,
        "part_ids": [str(p) for p in entry.part_ids or []],
        "kind": entry.kind,
        "prompt_id": entry.prompt_id,
        "session_id": entry.session_id,
        "shared": entry.shared,
        "for_session": entry.for_session,
        "written_at": written_at_local(entry),
        "created_at": entry.created_at,
        "updated_at": entry.updated_at,
        "read_by_therapist_at": entry.read_by_therapist_at,
        "conflict_of": entry.conflict_of,
        "version": entry.version,
        "deleted": entry.deleted,
    }
