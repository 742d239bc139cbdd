"""encrypt free text at rest; TOTP for therapists

Revision ID: 60dd636a2f74
Revises: 506cfc43f761
Create Date: 2026-11-26 20:04:56.457321

"""
from alembic import op
import sqlalchemy as sa

from server import crypto

import server.db

# revision identifiers, used by Alembic.
revision = '60dd636a2f74'
down_revision = '506cfc43f761'
branch_labels = None
depends_on = None


# (table, column, was) for every column that now holds ciphertext
RETYPED = [
    ("checkins", "answers", sa.JSON()),
    ("journal_entries", "title", sa.String(500)),
    ("journal_entries", "emotions", sa.JSON()),
    ("journal_prompts", "text", sa.String(1000)),
    ("part_changes", "label", sa.String(400)),
    ("parts", "name", sa.String(100)),
    ("parts", "feelings", sa.JSON()),
    ("parts", "body_location", sa.String(200)),
    ("parts", "age_sense", sa.String(100)),
    ("plan_revisions", "content", sa.JSON()),
    ("plan_revisions", "summary", sa.String(500)),
    ("plans", "content", sa.JSON()),
    ("treatment_sessions", "title", sa.String(200)),
]
ALREADY_TEXT = [
    ("journal_entries", "body"),
    ("parts", "description"),
    ("parts", "positive_intent"),
    ("parts", "burdens"),
    ("parts", "fears"),
    ("parts", "needs"),
    ("part_relations", "note"),
    ("risk_flags", "acknowledgement_note"),
    ("treatment_sessions", "note"),
]
BATCH = 500


def _encrypt_existing(table: str, column: str, key: str) -> None:
    """Encrypt the plaintext rows already there, in batches (a fresh database has none)."""
    conn = op.get_bind()
    ring = crypto.ring()
    rows = sa.table(table, sa.column(key), sa.column(column, sa.Text()))
    last = None
    while True:
        query = sa.select(rows.c[key], rows.c[column]).order_by(rows.c[key]).limit(BATCH)
        if last is not None:
            query = query.where(rows.c[key] > last)
        batch = conn.execute(query).all()
        if not batch:
            return
        for row_key, value in batch:
            if value is not None and not value.startswith(crypto.PREFIX + ":"):
                sealed = ring.encrypt(value, f"{table}.{column}")
                conn.execute(rows.update().where(rows.c[key] == row_key).values({column: sealed}))
        last = batch[-1][0]


def upgrade():
    op.create_table('recovery_codes',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('used_at', server.db.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_recovery_codes_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recovery_codes'))
    )
    with op.batch_alter_table('recovery_codes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recovery_codes_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('totp_secret', sa.Text(), nullable=True))
        batch_op.add_column(
            sa.Column('totp_enabled', sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column('totp_last_step', sa.Integer(), nullable=True))

    # Ciphertext is longer than the text it holds and is not JSON: every such column is TEXT.
    for table, column, was in RETYPED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(column, existing_type=was, type_=sa.Text(),
                                  existing_nullable=False,
                                  postgresql_using=f"{column}::text")
    for table, column, _was in RETYPED:
        _encrypt_existing(table, column, "patient_id" if table == "plans" else "id")
    for table, column in ALREADY_TEXT:
        _encrypt_existing(table, column, "id")


def downgrade():
    # Decrypting back to plaintext is deliberately not offered: restore a backup instead.
    for table, column, was in RETYPED:
        if isinstance(was, sa.JSON):
            continue  # ciphertext cannot become JSON
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(column, existing_type=sa.Text(), type_=sa.Text(),
                                  existing_nullable=False)
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('totp_last_step')
        batch_op.drop_column('totp_enabled')
        batch_op.drop_column('totp_secret')
    with op.batch_alter_table('recovery_codes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recovery_codes_user_id'))
    op.drop_table('recovery_codes')
