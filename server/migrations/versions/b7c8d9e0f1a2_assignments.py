"""assignments: measurement plans and homework a therapist sets

Revision ID: b7c8d9e0f1a2
Revises: a1b2c3d4e5f6
Create Date: 2026-12-07 09:00:00

A therapist can now shape the care between sessions (#23): a measurement plan (an
instrument asked on a weekly day, or days before/after each session of a kind, with a
completion window the patient can pause) and homework (a prompt, a plan review or a parts
exercise, due at an instant or relative to a session, done with a journal entry, skipped
with a reason, snoozed). One new table; no existing row changes.
"""

from alembic import op
import sqlalchemy as sa

import server.db


# revision identifiers, used by Alembic.
revision = "b7c8d9e0f1a2"
down_revision = "a1b2c3d4e5f6"
branch_labels = None
depends_on = None


def _enum(name, *values):
    return sa.Enum(*values, name=name, native_enum=False, length=20)


def upgrade():
    op.create_table(
        "assignments",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("therapist_id", sa.Uuid(), nullable=True),
        sa.Column("kind", _enum("assignment_kind", "measure", "homework"), nullable=False),
        sa.Column(
            "instrument", _enum("assignment_instrument", "phq9", "gad7", "daily"), nullable=True
        ),
        sa.Column("schedule", sa.JSON(), nullable=True),
        sa.Column("window_hours", sa.Integer(), nullable=True),
        sa.Column("paused_at", server.db.UTCDateTime(), nullable=True),
        sa.Column("last_asked_at", server.db.UTCDateTime(), nullable=True),
        sa.Column("window_ends_at", server.db.UTCDateTime(), nullable=True),
        sa.Column(
            "homework_type",
            _enum("homework_type", "prompt", "plan_review", "parts_exercise"),
            nullable=True,
        ),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("due_at", server.db.UTCDateTime(), nullable=True),
        sa.Column("due_offset_minutes", sa.Integer(), nullable=False),
        sa.Column("due_session_id", sa.Uuid(), nullable=True),
        sa.Column("due_days", sa.Integer(), nullable=True),
        sa.Column("due_time", sa.String(length=5), nullable=True),
        sa.Column("status", _enum("homework_status", "open", "done", "skipped"), nullable=True),
        sa.Column("done_at", server.db.UTCDateTime(), nullable=True),
        sa.Column("entry_id", sa.Uuid(), nullable=True),
        sa.Column("skip_reason", sa.Text(), nullable=False),
        sa.Column("snoozed_until", server.db.UTCDateTime(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("change_seq", sa.BigInteger(), nullable=False),
        sa.Column("created_at", server.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", server.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["users.id"],
            name=op.f("fk_assignments_patient_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["therapist_id"],
            ["users.id"],
            name=op.f("fk_assignments_therapist_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["due_session_id"],
            ["treatment_sessions.id"],
            name=op.f("fk_assignments_due_session_id_treatment_sessions"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assignments")),
    )
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.create_index("ix_assignments_patient_seq", ["patient_id", "change_seq"])
        batch_op.create_index("ix_assignments_patient_due", ["patient_id", "due_at"])
        batch_op.create_index("ix_assignments_due_session", ["due_session_id"])


def downgrade():
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.drop_index("ix_assignments_due_session")
        batch_op.drop_index("ix_assignments_patient_due")
        batch_op.drop_index("ix_assignments_patient_seq")
    op.drop_table("assignments")
