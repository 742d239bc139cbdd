"""flag notes, and a session's status and end

Revision ID: e5f6a7b8c9d0
Revises: c1a9e5f0d2b4
Create Date: 2026-12-06 12:00:00

A risk flag gets notes: what a therapist did about it, with author and time, oldest
first. Every acknowledgement note already written becomes its flag's first note (by
whoever acknowledged it, when they did), so nothing said about a flag is lost; the old
column stays and keeps the first note's text.

A treatment session gets a status (scheduled, held, did_not_happen: a past session is
history, marked rather than cancelled) and its end (starts_at + duration), so "since the
last session" is one indexed comparison. Existing sessions are `scheduled`, which reads
as held once their start has passed.
"""
import uuid
from datetime import timedelta

import sqlalchemy as sa
from alembic import op

import server.db
from server import crypto

# revision identifiers, used by Alembic.
revision = 'e5f6a7b8c9d0'
down_revision = 'c1a9e5f0d2b4'
branch_labels = None
depends_on = None

BATCH = 500
OLD_NOTE = "risk_flags.acknowledgement_note"
NEW_NOTE = "flag_notes.note"


def _plain(value: str | None, column: str) -> str:
    """A stored note as text: ciphertext opened under the app's key ring (raises on a
    wrong key: never garbage), anything else kept as it is."""
    if not value:
        return ""
    if value.startswith(crypto.PREFIX + ":"):
        return crypto.ring().decrypt(value, column)
    return value


def _copy_acknowledgement_notes() -> None:
    conn = op.get_bind()
    flags = sa.table('risk_flags', sa.column('id', sa.Uuid()),
                     sa.column('acknowledgement_note', sa.Text()),
                     sa.column('acknowledged_at', server.db.UTCDateTime()),
                     sa.column('acknowledged_by_id', sa.Uuid()),
                     sa.column('created_at', server.db.UTCDateTime()))
    notes = sa.table('flag_notes', sa.column('id', sa.Uuid()), sa.column('flag_id', sa.Uuid()),
                     sa.column('author_id', sa.Uuid()), sa.column('action', sa.String(32)),
                     sa.column('note', sa.Text()),
                     sa.column('created_at', server.db.UTCDateTime()))
    last = None
    while True:
        query = sa.select(flags).order_by(flags.c.id).limit(BATCH)
        if last is not None:
            query = query.where(flags.c.id > last)
        batch = conn.execute(query).all()
        if not batch:
            return
        rows = []
        for flag in batch:
            text = _plain(flag.acknowledgement_note, OLD_NOTE)
            if text.strip():
                rows.append({
                    'id': uuid.uuid4(),
                    'flag_id': flag.id,
                    'author_id': flag.acknowledged_by_id,
                    'action': None,
                    'note': crypto.ring().encrypt(text, NEW_NOTE),
                    'created_at': flag.acknowledged_at or flag.created_at,
                })
        if rows:
            conn.execute(notes.insert(), rows)
        last = batch[-1].id


def _fill_session_ends() -> None:
    conn = op.get_bind()
    sessions = sa.table('treatment_sessions', sa.column('id', sa.Uuid()),
                        sa.column('starts_at', server.db.UTCDateTime()),
                        sa.column('duration_minutes', sa.Integer()),
                        sa.column('ends_at', server.db.UTCDateTime()))
    while True:
        batch = conn.execute(
            sa.select(sessions.c.id, sessions.c.starts_at, sessions.c.duration_minutes)
            .where(sessions.c.ends_at.is_(None))
            .order_by(sessions.c.id)
            .limit(BATCH)
        ).all()
        if not batch:
            return
        for row in batch:
            conn.execute(
                sessions.update()
                .where(sessions.c.id == row.id)
                .values(ends_at=row.starts_at + timedelta(minutes=row.duration_minutes or 0))
            )


def upgrade():
    op.create_table('flag_notes',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('flag_id', sa.Uuid(), nullable=False),
    sa.Column('author_id', sa.Uuid(), nullable=True),
    sa.Column('action', sa.String(length=32), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('created_at', server.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_flag_notes_author_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['flag_id'], ['risk_flags.id'], name=op.f('fk_flag_notes_flag_id_risk_flags'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_flag_notes'))
    )
    with op.batch_alter_table('flag_notes', schema=None) as batch_op:
        batch_op.create_index('ix_flag_notes_flag_created', ['flag_id', 'created_at'], unique=False)
    _copy_acknowledgement_notes()

    with op.batch_alter_table('treatment_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status', sa.Enum('scheduled', 'held', 'did_not_happen', name='session_status', native_enum=False, length=20), server_default='scheduled', nullable=False))
        batch_op.add_column(sa.Column('ends_at', server.db.UTCDateTime(), nullable=True))
    _fill_session_ends()
    with op.batch_alter_table('treatment_sessions', schema=None) as batch_op:
        batch_op.alter_column('ends_at', existing_type=server.db.UTCDateTime(), nullable=False)
        batch_op.create_index('ix_treatment_sessions_patient_ends', ['patient_id', 'ends_at'], unique=False)


def downgrade():
    # A session's status and end go (the end is its start plus duration; a session marked
    # as not happened reads as held again). Flag notes go too; each flag's first note is
    # still in acknowledgement_note, where the service kept it.
    with op.batch_alter_table('treatment_sessions', schema=None) as batch_op:
        batch_op.drop_index('ix_treatment_sessions_patient_ends')
        batch_op.drop_column('ends_at')
        batch_op.drop_column('status')
    with op.batch_alter_table('flag_notes', schema=None) as batch_op:
        batch_op.drop_index('ix_flag_notes_flag_created')
    op.drop_table('flag_notes')
