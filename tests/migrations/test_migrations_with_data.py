"""Upgrading (and downgrading and upgrading again) a database that holds rows loses none.

Found once: on SQLite, a batch migration rebuilds `users` by copy, drop, rename; with
foreign keys on, the DROP cascaded and every patient's journal, parts and sync clock
went with it, while the users themselves survived. The schema tests only ever migrate
empty databases, so they could not see it. These plant rows in every table that exists
at every revision (tables, columns and keys are read from the database, so a new
migration or table is covered without editing this file), migrate, and look for them.

Runs on SQLite, and on PostgreSQL when TEST_DATABASE_URL is set.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic import command
from flask import current_app
from flask_migrate import downgrade, upgrade

from server import create_app
from server.extensions import db
from tests.conftest import fresh_database, on_postgres
from tests.migrations.planting import losses, plant, reflect, revisions

# A migration that drops or renames a table on purpose says so here: {table: revision}.
DROPPED_ON_PURPOSE: dict[str, str] = {}

REVISIONS = revisions()
HEAD = REVISIONS[-1]


def _app(url: str):
    return create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True})


def _tables(engine) -> set[str]:
    with engine.connect() as conn:
        return set(reflect(conn).tables)


def _version(engine) -> str | None:
    with engine.connect() as conn:
        if not sa.inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()


@pytest.mark.parametrize("revision", REVISIONS)
def test_rows_planted_at_a_revision_survive_the_upgrade_to_head(tmp_path, revision):
    with fresh_database(tmp_path) as url:
        app = _app(url)
        with app.app_context():
            upgrade(revision=revision)
            with db.engine.begin() as conn:
                planted = plant(conn)
            assert planted.tables(), f"no tables at {revision}"

            upgrade()

            assert _version(db.engine) == HEAD
            with db.engine.connect() as conn:
                lost = losses(conn, planted)
            for table in DROPPED_ON_PURPOSE:
                if lost.get(table) == "table is gone":
                    del lost[table]
            assert lost == {}, f"upgrading {revision} → head lost rows"
            db.engine.dispose()


@pytest.mark.parametrize("steps", [2, 3])
def test_rows_survive_downgrading_some_revisions_and_upgrading_again(tmp_path, steps):
    with fresh_database(tmp_path) as url:
        app = _app(url)
        with app.app_context():
            upgrade()
            with db.engine.begin() as conn:
                planted = plant(conn)
            assert planted.tables() == set(db.metadata.tables), "a table was not planted"

            downgrade(revision=f"-{steps}")

            assert _version(db.engine) == REVISIONS[-1 - steps]
            throughout = _tables(db.engine) & planted.tables()
            # the newest migrations' own tables go with them; every older one stays
            assert throughout, "no table survived the downgrade at all"
            with db.engine.connect() as conn:
                assert losses(conn, planted, throughout) == {}, "the downgrade lost rows"

            upgrade()

            assert _version(db.engine) == HEAD
            with db.engine.connect() as conn:
                assert losses(conn, planted, throughout) == {}, "the upgrade again lost rows"
            db.engine.dispose()


@pytest.mark.skipif(on_postgres(), reason="PostgreSQL enforces foreign keys always")
def test_sqlite_upgrade_with_a_broken_foreign_key_fails_and_changes_nothing(tmp_path):
    """Migrations run with foreign keys off, so env.py checks them after: loudly."""
    with fresh_database(tmp_path) as url:
        app = _app(url)
        with app.app_context():
            start = REVISIONS[-3]
            upgrade(revision=start)
            with db.engine.begin() as conn:
                planted = plant(conn)
            before = _tables(db.engine)
            with db.engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA foreign_keys=OFF")  # takes only between transactions
                conn.commit()
                conn.exec_driver_sql("DELETE FROM users")  # every child is now an orphan
                conn.commit()
                conn.exec_driver_sql("PRAGMA foreign_keys=ON")
                conn.commit()
            config = current_app.extensions["migrate"].migrate.get_config()

            with pytest.raises(RuntimeError, match="foreign key"):
                command.upgrade(config, "head")

            # rolled back as one: still at the old revision, with the old tables and rows
            assert _version(db.engine) == start
            assert _tables(db.engine) == before
            with db.engine.connect() as conn:
                assert set(losses(conn, planted)) == {"users"}
            db.engine.dispose()


@pytest.mark.skipif(on_postgres(), reason="a SQLite pragma")
def test_sqlite_foreign_keys_are_on_again_after_migrating(tmp_path):
    with fresh_database(tmp_path) as url:
        app = _app(url)
        with app.app_context():
            upgrade()
            with db.engine.connect() as conn:  # the pool hands back the migrating connection
                assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            db.engine.dispose()
