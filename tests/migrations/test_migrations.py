"""The migrations build exactly the schema the models describe, on either backend."""

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from server import create_app
from server.extensions import db
from tests.conftest import fresh_database


def _diff(engine) -> list:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(context, db.metadata)


def test_upgrade_on_an_empty_database_matches_the_models(tmp_path):
    with fresh_database(tmp_path) as url:
        app = create_app({"SQLALCHEMY_DATABASE_URI": url})
        with app.app_context():
            upgrade()
            assert _diff(db.engine) == []
            tables = set(sa.inspect(db.engine).get_table_names())
            assert {"users", "user_sessions", "invites", "care_links"} <= tables
            db.engine.dispose()


def test_downgrade_to_base_and_up_again(tmp_path):
    with fresh_database(tmp_path) as url:
        app = create_app({"SQLALCHEMY_DATABASE_URI": url})
        with app.app_context():
            upgrade()
            downgrade(revision="base")
            assert set(sa.inspect(db.engine).get_table_names()) <= {"alembic_version"}
            upgrade()
            assert _diff(db.engine) == []
            db.engine.dispose()
