"""therapist invites, password resets and flag mails

Revision ID: d4b8f1e7c3a2
Revises: 833280816514
Create Date: 2026-12-06 10:55:00

"""
from alembic import op
import sqlalchemy as sa

import server.db


# revision identifiers, used by Alembic.
revision = 'd4b8f1e7c3a2'
down_revision = '833280816514'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('therapist_invites',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('display_name', sa.String(length=100), nullable=False),
    sa.Column('created_at', server.db.UTCDateTime(), nullable=False),
    sa.Column('expires_at', server.db.UTCDateTime(), nullable=False),
    sa.Column('used_at', server.db.UTCDateTime(), nullable=True),
    sa.Column('used_by_id', sa.Uuid(), nullable=True),
    sa.ForeignKeyConstraint(['used_by_id'], ['users.id'], name=op.f('fk_therapist_invites_used_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_therapist_invites')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_therapist_invites_token_hash'))
    )
    op.create_table('password_resets',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', server.db.UTCDateTime(), nullable=False),
    sa.Column('expires_at', server.db.UTCDateTime(), nullable=False),
    sa.Column('used_at', server.db.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_password_resets_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_password_resets')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_password_resets_token_hash'))
    )
    with op.batch_alter_table('password_resets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_password_resets_user_id'), ['user_id'], unique=False)

    op.create_table('flag_mails',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('flag_id', sa.Uuid(), nullable=False),
    sa.Column('therapist_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', server.db.UTCDateTime(), nullable=False),
    sa.Column('sent_at', server.db.UTCDateTime(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', server.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['flag_id'], ['risk_flags.id'], name=op.f('fk_flag_mails_flag_id_risk_flags'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['therapist_id'], ['users.id'], name=op.f('fk_flag_mails_therapist_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_flag_mails')),
    sa.UniqueConstraint('flag_id', 'therapist_id', name=op.f('uq_flag_mails_flag_id'))
    )
    with op.batch_alter_table('flag_mails', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_flag_mails_therapist_id'), ['therapist_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_flag_mails_sent_at'), ['sent_at'], unique=False)


def downgrade():
    with op.batch_alter_table('flag_mails', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_flag_mails_sent_at'))
        batch_op.drop_index(batch_op.f('ix_flag_mails_therapist_id'))
    op.drop_table('flag_mails')
    with op.batch_alter_table('password_resets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_password_resets_user_id'))
    op.drop_table('password_resets')
    op.drop_table('therapist_invites')
