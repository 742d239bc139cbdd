"""Alembic's environment: runs the migrations in server/migrations/versions.

Rule for every migration: on SQLite, all migrations of one `upgrade`/`downgrade` run in
ONE transaction with foreign keys OFF, and `PRAGMA foreign_key_check` must pass before
it commits. So a batch migration (copy, drop, rename) may rebuild any table without
cascading into its children, but it must leave every reference valid, or the whole run
rolls back. Every migration is tested on a database with rows in every table:
tests/migrations/test_migrations_with_data.py.
"""

import logging
from contextlib import contextmanager
from logging.config import fileConfig

from alembic import context
from flask import current_app

# this is the Alembic Config object, which provides
# access to the values within the .ini file in use.
config = context.config

# Interpret the config file for Python logging.
# This line sets up loggers basically.
fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("alembic.env")


def get_engine():
    return current_app.extensions["migrate"].db.engine


def get_engine_url():
    return get_engine().url.render_as_string(hide_password=False).replace("%", "%%")


# add your model's MetaData object here
# for 'autogenerate' support
# from myapp import mymodel
# target_metadata = mymodel.Base.metadata
config.set_main_option("sqlalchemy.url", get_engine_url())
target_db = current_app.extensions["migrate"].db

# other values from the config, defined by the needs of env.py,
# can be acquired:
# my_important_option = config.get_main_option("my_important_option")
# ... etc.


def get_metadata():
    if hasattr(target_db, "metadatas"):
        return target_db.metadatas[None]
    return target_db.metadata


def run_migrations_offline():
    """Run migrations in 'offline' mode.

    This configures the context with just a URL
    and not an Engine, though an Engine is acceptable
    here as well.  By skipping the Engine creation
    we don't even need a DBAPI to be available.

    Calls to context.execute() here emit the given string to the
    script output.

    """
    url = config.get_main_option("sqlalchemy.url")
    context.configure(url=url, target_metadata=get_metadata(), literal_binds=True)

    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    """Run migrations in 'online' mode.

    In this scenario we need to create an Engine
    and associate a connection with the context.

    """

    # this callback is used to prevent an auto-migration from being generated
    # when there are no changes to the schema
    # reference: http://alembic.zzzcomputing.com/en/latest/cookbook.html
    def process_revision_directives(context, revision, directives):
        if getattr(config.cmd_opts, "autogenerate", False):
            script = directives[0]
            if script.upgrade_ops.is_empty():
                directives[:] = []
                logger.info("No changes in schema detected.")

    conf_args = current_app.extensions["migrate"].configure_args
    if conf_args.get("process_revision_directives") is None:
        conf_args["process_revision_directives"] = process_revision_directives

    connectable = get_engine()

    with connectable.connect() as connection:
        if connection.dialect.name == "sqlite":
            with _sqlite_foreign_keys_off(connection), connection.begin():
                # pysqlite emits no BEGIN before DDL (so Alembic assumes non-transactional
                # DDL on SQLite and commits each migration alone): begin ourselves, and
                # hand Alembic the open transaction, so the whole run commits or none.
                connection.exec_driver_sql("BEGIN")
                context.configure(
                    connection=connection, target_metadata=get_metadata(), **conf_args
                )
                with context.begin_transaction():
                    context.run_migrations()
                _check_foreign_keys(connection)
            return
        context.configure(connection=connection, target_metadata=get_metadata(), **conf_args)

        with context.begin_transaction():
            context.run_migrations()


@contextmanager
def _sqlite_foreign_keys_off(connection):
    """Foreign keys off for this connection while migrating; as they were afterwards.

    Batch migrations rebuild a table by copy, drop, rename. The app's connect hook
    (server/__init__.py) turns foreign keys on, and then DROP TABLE users deletes every
    user first, cascading: journals, parts, plans, sync clocks gone, and SET NULL on the
    audit trail, while the users themselves come back from the copy. SQLite's own
    procedure for altering a table is to do it with foreign keys off, then check them.
    """
    raw = connection.connection.driver_connection  # the sqlite3.Connection
    if raw.in_transaction:
        # PRAGMA foreign_keys is silently a no-op inside a transaction
        raise RuntimeError("migrations need a SQLite connection outside any transaction")
    was_on = raw.execute("PRAGMA foreign_keys").fetchone()[0]
    isolation_level = raw.isolation_level
    raw.execute("PRAGMA foreign_keys=OFF")
    try:
        if raw.execute("PRAGMA foreign_keys").fetchone()[0] != 0:
            raise RuntimeError("could not turn SQLite foreign keys off to migrate")
        # no implicit BEGIN/COMMIT from pysqlite: the one transaction is ours (above)
        raw.isolation_level = None
        yield
    finally:
        if raw.in_transaction:  # only if something failed before SQLAlchemy ended it
            raw.rollback()
        raw.isolation_level = isolation_level
        raw.execute(f"PRAGMA foreign_keys={'ON' if was_on else 'OFF'}")


def _check_foreign_keys(connection):
    """Fail the run, rolling all of it back, if any row now breaks a foreign key."""
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        listed = ", ".join(
            f"{table} rowid {rowid} -> {parent}" for table, rowid, parent, _fk in broken[:10]
        )
        raise RuntimeError(
            f"migrations left {len(broken)} row(s) breaking a foreign key, rolled back: "
            f"{listed}{' ...' if len(broken) > 10 else ''}"
        )


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
