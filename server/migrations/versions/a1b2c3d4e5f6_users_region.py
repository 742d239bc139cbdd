"""an account's region

Revision ID: a1b2c3d4e5f6
Revises: f7a8b9c0d1e2
Create Date: 2026-12-06 17:55:00

A person can now choose their region (ISO 3166-1 alpha-2) in their settings: the crisis
lines they are shown unless their plan names its own. One nullable column; each existing
account starts with the country its language tag names ("en-GB" → "GB"), as a new
account does, and none where it names none (what the crisis card did until now).
"""

import re

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "a1b2c3d4e5f6"
down_revision = "f7a8b9c0d1e2"
branch_labels = None
depends_on = None

# language, optional script, then a two-letter region (a number, "es-419", is no country)
_REGION = re.compile(r"[A-Za-z]{2,3}(?:[-_][A-Za-z]{4})?[-_]([A-Za-z]{2})(?:[-_.@].*)?")


def upgrade():
    op.add_column("users", sa.Column("region", sa.String(length=2), nullable=True))
    users = sa.table("users", sa.column("id", sa.Uuid()), sa.column("locale"), sa.column("region"))
    conn = op.get_bind()
    for user_id, locale in conn.execute(sa.select(users.c.id, users.c.locale)).all():
        match = _REGION.fullmatch(locale or "")
        if match:
            conn.execute(
                users.update()
                .where(users.c.id == user_id)
                .values(region=match[1].upper())
            )


def downgrade():
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_column("region")
