"""Between: the Flask application factory."""

from __future__ import annotations

import os
import sqlite3
from datetime import date
from pathlib import Path

from flask import Flask
from flask.json.provider import DefaultJSONProvider
from flask_babel.speaklater import LazyString
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.middleware.proxy_fix import ProxyFix

from config.settings import load_settings
from server import crypto, logs


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record):
    # WAL lets readers and a writer work at once; SQLite leaves foreign keys off unless asked.
    # A writer waits for the write lock for sqlite3's `timeout` (5 s unless connect_args
    # say otherwise), then the request answers 503 (server/errors.py).
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()


class IsoJSONProvider(DefaultJSONProvider):
    """Dates and instants as ISO 8601 wherever they appear, also inside a free-form dict
    (Flask's own default writes RFC 1123, "Tue, 01 Dec 2026 09:00:00 GMT", which the
    API's contract and every client would read differently); words marked for
    translation where they are defined (`lazy_gettext`) in the language of the answer."""

    @staticmethod
    def default(o):
        if isinstance(o, date):  # datetime is a date too
            return o.isoformat()
        if isinstance(o, LazyString):
            return str(o)
        return DefaultJSONProvider.default(o)


def create_app(test_config: dict | None = None) -> Flask:
    """Config → extensions → errors → blueprints."""
    # BETWEEN_INSTANCE_PATH: where keys made on first run, the SQLite file and development
    # mail go (default: instance/ beside the code); the test suite points it at a
    # temporary folder, so a test run writes nothing into the checkout
    instance_path = os.environ.get("BETWEEN_INSTANCE_PATH") or None
    app = Flask(__name__, static_folder=None, instance_path=instance_path)
    app.json = IsoJSONProvider(app)
    app.config.from_mapping(load_settings(os.environ, app.instance_path))
    if test_config:
        app.config.update(test_config)
    os.makedirs(app.instance_path, exist_ok=True)
    crypto.configure(
        app.config["FIELD_ENCRYPTION_KEYS"] or crypto.development_keys(Path(app.instance_path))
    )
    logs.configure()
    if app.config["TRUSTED_PROXIES"]:
        n = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)

    from server import errors, i18n, web
    from server.extensions import api, db, limiter, login_manager, migrate

    db.init_app(app)
    migrate.init_app(
        app,
        db,
        directory=os.path.join(os.path.dirname(__file__), "migrations"),
        render_as_batch=True,  # SQLite alters tables by copying them
        compare_type=True,
    )
    login_manager.init_app(app)
    login_manager.session_protection = None  # sessions are server-side; phones change IPs
    limiter.init_app(app)
    i18n.init_app(app)
    api.init_app(app)
    # after api.init_app, so our handler (the one shape, 5xx included) replaces its own
    errors.init_app(app)
    web.init_app(app)
    logs.init_app(app)

    from server import cli, docs, health, pwa_static
    from server.assignments import routes as assignments_routes
    from server.audit import routes as audit_routes
    from server.auth import routes as auth_routes
    from server.auth import session as _session  # noqa: F401  (registers the user loader)
    from server.brief import routes as brief_routes
    from server.care import routes as care_routes
    from server.checkins import routes as checkins_routes
    from server.journal import routes as journal_routes
    from server.parts import routes as parts_routes
    from server.plans import routes as plans_routes
    from server.privacy import routes as privacy_routes
    from server.privacy.cli import keys as keys_cli
    from server.reminders import routes as reminders_routes
    from server.sessions import routes as sessions_routes
    from server.sync import routes as sync_routes

    for blueprint in (
        auth_routes.bp,
        care_routes.bp,
        journal_routes.bp,
        parts_routes.bp,
        plans_routes.bp,
        checkins_routes.bp,
        sessions_routes.bp,
        brief_routes.bp,
        audit_routes.bp,
        privacy_routes.bp,
        sync_routes.bp,
        reminders_routes.bp,
        assignments_routes.bp,
    ):
        api.register_blueprint(blueprint)
    # features react to each other through signals (server/events.py), never by calling
    # each other's services: each reacting feature connects its receivers here, so every
    # process that makes the app (web, worker, CLI, tests) reacts alike
    from server.alerts import reactions as alerts_reactions
    from server.assignments import reactions as assignments_reactions
    from server.journal import reactions as journal_reactions
    from server.reminders import reactions as reminders_reactions

    for reactions in (
        alerts_reactions,
        assignments_reactions,
        journal_reactions,
        reminders_reactions,
    ):
        reactions.connect()
    health.init_app(app)
    docs.init_app(app)
    pwa_static.init_app(app)
    cli.init_app(app)
    app.cli.add_command(keys_cli)
    return app
