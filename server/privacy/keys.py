"""Key rotation: re-encrypt every encrypted column under the newest key.

Resumable and in batches: each batch commits, and a rerun picks up the rows still
under an older key (their stored prefix names the key).

A journal tag's blind index is made under the same key as its ciphertext, so it is
recomputed in the same statement that re-encrypts the tag: a row is never left with a
tag under the new key and a blind index under the old one. Until rotation finishes,
tag lookups match the blind index under every key in the ring (server/journal/models.py).
"""

from __future__ import annotations

from sqlalchemy import Text, select, type_coerce

from server import crypto
from server.crypto import EncryptedText
from server.extensions import db
from server.journal.models import EntryTag, JournalEntry, tag_index


def encrypted_columns():
    for table in db.metadata.sorted_tables:
        for column in table.columns:
            if isinstance(column.type, EncryptedText):
                yield table, column


def rotate(batch_size: int = 500, on_batch=None) -> dict[str, int]:
    """Re-encrypt rows not yet under the newest key; returns rows done per column."""
    newest = f"{crypto.PREFIX}:{crypto.ring().newest}:"
    done: dict[str, int] = {}
    for table, column in encrypted_columns():
        if column is EntryTag.__table__.c.tag:
            done[f"{table.name}.{column.name}"] = _rotate_tags(newest, batch_size, on_batch)
            continue
        keys = list(table.primary_key.columns)  # one column, or several (sync_ops)
        stored = type_coerce(column, Text)  # the raw ciphertext, not decrypted
        count = 0
        while True:
            rows = db.session.execute(
                select(*keys, column)
                .where(stored.is_not(None), ~stored.startswith(newest))
                .order_by(*keys)
                .limit(batch_size)
            ).all()
            if not rows:
                break
            for *row_key, plain in rows:  # decrypted on the way out, sealed anew on the way in
                db.session.execute(
                    table.update()
                    .where(*(k == v for k, v in zip(keys, row_key, strict=True)))
                    .values({column.name: plain})
                )
            db.session.commit()
            count += len(rows)
            if on_batch:
                on_batch(f"{table.name}.{column.name}", count)
        done[f"{table.name}.{column.name}"] = count
    return done


def _rotate_tags(newest: str, batch_size: int, on_batch) -> int:
    """Re-encrypt tags not under the newest key, and recompute their blind index."""
    tags = EntryTag.__table__
    stored = type_coerce(tags.c.tag, Text)
    count = 0
    while True:
        rows = db.session.execute(
            select(tags.c.entry_id, tags.c.position, tags.c.tag, JournalEntry.patient_id)
            .join(JournalEntry, JournalEntry.id == tags.c.entry_id)
            .where(~stored.startswith(newest))
            .order_by(tags.c.entry_id, tags.c.position)
            .limit(batch_size)
        ).all()
        if not rows:
            return count
        for entry_id, position, plain, patient_id in rows:
            db.session.execute(
                tags.update()
                .where(tags.c.entry_id == entry_id, tags.c.position == position)
                .values(tag=plain, tag_hmac=tag_index(patient_id, plain))
            )
        db.session.commit()
        count += len(rows)
        if on_batch:
            on_batch("journal_entry_tags.tag", count)
