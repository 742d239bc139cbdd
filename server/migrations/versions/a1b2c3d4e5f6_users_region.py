"""an account's region

Revision ID: a1b2c3d4e5f6
Revises: f7a8b9c0d1e2
Create Date: 2026-12-06 17:55:00

A person can now choose their region (ISO 3166-1 alpha-2) in their settings: the crisis
lines they are shown unless their plan names its own. One nullable column, empty for every
existing account: empty means "not chosen", and the region is then worked out where the
device is, from the time zone and the language (config/crisis_lines.py choose_region),
as it was before. No row changes.
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "a1b2c3d4e5f6"
down_revision = "f7a8b9c0d1e2"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("users", sa.Column("region", sa.String(length=2), nullable=True))


def downgrade():
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_column("region")
