"""Key rotation: re-encrypt every encrypted column under the newest key.

Resumable and in batches: each batch commits, and a rerun picks up the rows still
under an older key (their stored prefix names the key).
"""

from __future__ import annotations

from sqlalchemy import Text, select, type_coerce

from server import crypto
from server.crypto import EncryptedText
from server.extensions import db


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
        (key,) = table.primary_key.columns
        stored = type_coerce(column, Text)  # the raw ciphertext, not decrypted
        count = 0
        while True:
            rows = db.session.execute(
                select(key, column)
                .where(stored.is_not(None), ~stored.startswith(newest))
                .order_by(key)
                .limit(batch_size)
            ).all()
            if not rows:
                break
            for row_key, plain in rows:  # decrypted on the way out, sealed anew on the way in
                db.session.execute(
                    table.update().where(key == row_key).values({column.name: plain})
                )
            db.session.commit()
            count += len(rows)
            if on_batch:
                on_batch(f"{table.name}.{column.name}", count)
        done[f"{table.name}.{column.name}"] = count
    return done
