"""encrypt journal tags (with a blind index), prompt ids, push user agents, sync answers

Revision ID: c1a9e5f0d2b4
Revises: d4b8f1e7c3a2
Create Date: 2026-12-06 11:20:00

Journal tags become ciphertext, found by `tag_hmac`: an HMAC-SHA256 of the tag as
written, keyed from the newest ring key, scoped to the entry's patient (the same as
`server.journal.models.tag_index`). Their primary key moves from (entry_id, tag), which
would now be ciphertext, to (entry_id, position). An entry's prompt id, a push device's
user agent and the first answer kept for every sync op are encrypted too.

None of these columns held ciphertext before, so every value there is plaintext and is
sealed whatever it looks like (a tag may well start with "v1:").
"""
import json
import uuid

import sqlalchemy as sa
from alembic import op

from server import crypto

# revision identifiers, used by Alembic.
revision = 'c1a9e5f0d2b4'
down_revision = 'd4b8f1e7c3a2'
branch_labels = None
depends_on = None


# (table, key columns, column, was, nullable) for every column that now holds ciphertext
RETYPED = [
    ("journal_entries", ["id"], "prompt_id", sa.String(64), True),
    ("push_subscriptions", ["id"], "user_agent", sa.String(200), False),
    ("sync_ops", ["patient_id", "op_id"], "result", sa.JSON(), False),
]
TAGS = "journal_entry_tags"
TAG_COLUMN = "journal_entry_tags.tag"
BATCH = 500


def _tag_index(patient_id, tag: str) -> str:
    # what server.journal.models.tag_index computes, under the newest key
    scope = uuid.UUID(str(patient_id)).bytes
    return crypto.ring().blind_index(tag, TAG_COLUMN, scope)


def _rewrite(table: str, keys: list[str], column: str, change) -> None:
    """Rewrite every non-null value of a column through `change`, in batches by key."""
    conn = op.get_bind()
    rows = sa.table(table, *(sa.column(k) for k in keys), sa.column(column, sa.Text()))
    key = sa.tuple_(*(rows.c[k] for k in keys)) if len(keys) > 1 else rows.c[keys[0]]
    last = None
    while True:
        query = (
            sa.select(*(rows.c[k] for k in keys), rows.c[column])
            .order_by(*(rows.c[k] for k in keys))
            .limit(BATCH)
        )
        if last is not None:
            query = query.where(key > (last if len(keys) > 1 else last[0]))
        batch = conn.execute(query).all()
        if not batch:
            return
        for *row_key, value in batch:
            if value is None:
                continue
            match = [rows.c[k] == v for k, v in zip(keys, row_key, strict=True)]
            conn.execute(rows.update().where(*match).values({column: change(value)}))
        last = tuple(batch[-1][: len(keys)])


def _sealer(table: str, column: str):
    name = f"{table}.{column}"
    return lambda value: crypto.ring().encrypt(value, name)


def _opener(table: str, column: str, was):
    name = f"{table}.{column}"

    def plain(value: str) -> str:
        if value.startswith(crypto.PREFIX + ":"):
            return crypto.ring().decrypt(value, name)  # raises on a wrong key: never garbage
        if isinstance(was, sa.JSON):
            try:
                json.loads(value)
            except ValueError:
                return json.dumps(value)  # text that never was ciphertext: kept, as JSON
        return value

    return plain


def _encrypt_tags() -> None:
    """Seal each tag and set its blind index, in batches (rows without one yet)."""
    conn = op.get_bind()
    tags = sa.table(TAGS, sa.column("entry_id"), sa.column("position"),
                    sa.column("tag", sa.Text()), sa.column("tag_hmac", sa.String(64)))
    entries = sa.table("journal_entries", sa.column("id"), sa.column("patient_id"))
    while True:
        batch = conn.execute(
            sa.select(tags.c.entry_id, tags.c.position, tags.c.tag, entries.c.patient_id)
            .join(entries, entries.c.id == tags.c.entry_id)
            .where(tags.c.tag_hmac.is_(None))
            .order_by(tags.c.entry_id, tags.c.position)
            .limit(BATCH)
        ).all()
        if not batch:
            return
        for entry_id, position, tag, patient_id in batch:
            conn.execute(
                tags.update()
                .where(tags.c.entry_id == entry_id, tags.c.position == position)
                .values(tag=crypto.ring().encrypt(tag, TAG_COLUMN),
                        tag_hmac=_tag_index(patient_id, tag))
            )


def upgrade():
    # Ciphertext is longer than the text it holds and is not JSON: every such column is TEXT.
    for table, _keys, column, was, nullable in RETYPED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(column, existing_type=was, type_=sa.Text(),
                                  existing_nullable=nullable,
                                  postgresql_using=f"{column}::text")
    for table, keys, column, _was, _nullable in RETYPED:
        _rewrite(table, keys, column, _sealer(table, column))

    # tags: the old key and index would hold ciphertext; a row is its entry's n-th tag
    with op.batch_alter_table(TAGS, schema=None) as batch_op:
        batch_op.drop_index('ix_journal_entry_tags_tag')
        batch_op.drop_constraint('pk_journal_entry_tags', type_='primary')
        batch_op.create_primary_key('pk_journal_entry_tags', ['entry_id', 'position'])
        batch_op.alter_column('tag', existing_type=sa.String(64), type_=sa.Text(),
                              existing_nullable=False, postgresql_using="tag::text")
        batch_op.add_column(sa.Column('tag_hmac', sa.String(length=64), nullable=True))
    _encrypt_tags()
    with op.batch_alter_table(TAGS, schema=None) as batch_op:
        batch_op.alter_column('tag_hmac', existing_type=sa.String(64), nullable=False)
        batch_op.create_index('ix_journal_entry_tags_tag_hmac', ['tag_hmac', 'entry_id'],
                              unique=False)


def downgrade():
    # Decrypt back to plaintext, under the key ring the app runs with.
    _rewrite(TAGS, ["entry_id", "position"], "tag", _opener(TAGS, "tag", sa.String(64)))
    with op.batch_alter_table(TAGS, schema=None) as batch_op:
        batch_op.drop_index('ix_journal_entry_tags_tag_hmac')
        batch_op.drop_column('tag_hmac')
        batch_op.alter_column('tag', existing_type=sa.Text(), type_=sa.String(64),
                              existing_nullable=False)
        batch_op.drop_constraint('pk_journal_entry_tags', type_='primary')
        batch_op.create_primary_key('pk_journal_entry_tags', ['entry_id', 'tag'])
        batch_op.create_index('ix_journal_entry_tags_tag', ['tag', 'entry_id'], unique=False)

    for table, keys, column, was, _nullable in RETYPED:
        _rewrite(table, keys, column, _opener(table, column, was))
    for table, _keys, column, was, nullable in RETYPED:
        using = f"{column}::json" if isinstance(was, sa.JSON) else None
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(column, existing_type=sa.Text(), type_=was,
                                  existing_nullable=nullable,
                                  **({"postgresql_using": using} if using else {}))
