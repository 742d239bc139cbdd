"""Fixtures: a migrated database per test run, an app as create_app makes it for every
test, signed-in actors.

The suite runs on SQLite by default. With TEST_DATABASE_URL pointing at a PostgreSQL
server, it makes its own uniquely named database there, runs on it, and drops it.

Under pytest-xdist (`make test-fast` runs `-n auto`) each worker is a process of its own
with its own instance folder, database and app.
"""

from __future__ import annotations

import atexit
import copy
import gc
import logging
import os
import shutil
import tempfile
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from limits.storage import MemoryStorage
from sqlalchemy.engine import make_url

os.environ.setdefault("SECRET_KEY", "test-secret-" + "x" * 40)
os.environ.setdefault("BETWEEN_ENV", "test")
# Keys made on first run, development mail and the like go to a folder of this run's own,
# never into the checkout's instance/ (the `flask` processes tests start inherit it).
# An xdist worker inherits the folder its controller made here: it makes its own, so two
# workers never race to write the first key or read each other's mail.
_MADE_HERE = "BETWEEN_TEST_INSTANCE_MADE"
_inherited = os.environ.get("BETWEEN_INSTANCE_PATH")
if _inherited is None or _inherited == os.environ.get(_MADE_HERE):
    os.environ["BETWEEN_INSTANCE_PATH"] = os.environ[_MADE_HERE] = tempfile.mkdtemp(
        prefix="between-test-instance-"
    )
    atexit.register(shutil.rmtree, os.environ["BETWEEN_INSTANCE_PATH"], ignore_errors=True)
CHECKOUT_INSTANCE = Path(__file__).resolve().parents[1] / "instance"

from config.settings import normalise_database_url  # noqa: E402
from server import create_app, crypto  # noqa: E402
from server.extensions import db, limiter  # noqa: E402
from tests.factories import Actor, make_actor  # noqa: E402

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")


def on_postgres() -> bool:
    return bool(TEST_DATABASE_URL)


@contextmanager
def fresh_database(tmp_dir: Path):
    """A new, empty database: a SQLite file, or a uniquely named PostgreSQL database."""
    if not TEST_DATABASE_URL:
        yield f"sqlite:///{tmp_dir / f'between-{uuid.uuid4().hex[:8]}.db'}"
        return
    server_url = make_url(normalise_database_url(TEST_DATABASE_URL))
    name = f"between_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield server_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def upgrade_to_head(url: str) -> None:
    from flask_migrate import upgrade

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True})
    with app.app_context():
        upgrade()
        db.engine.dispose()


def _listing(folder: Path) -> set[tuple[str, int]]:
    if not folder.exists():
        return set()
    return {(str(p.relative_to(folder)), p.stat().st_mtime_ns) for p in folder.rglob("*")}


@pytest.fixture(scope="session", autouse=True)
def nothing_written_into_the_checkout():
    """A test run leaves the checkout's instance/ (a developer's keys, database and mail)
    exactly as it found it."""
    before = _listing(CHECKOUT_INSTANCE)
    yield
    assert _listing(CHECKOUT_INSTANCE) == before, "the test run wrote into the checkout's instance/"


@contextmanager
def _database_folder(tmp_path_factory):
    """Where the SQLite file goes: in memory-backed /dev/shm where there is one. The
    database is the same file with the same pragmas; only its commits no longer wait
    for the disk (an fsync each, thousands in a run, slower still while other
    processes write)."""
    shm = Path("/dev/shm")
    if TEST_DATABASE_URL or not (shm.is_dir() and os.access(shm, os.W_OK)):
        yield tmp_path_factory.mktemp("db")
        return
    folder = Path(tempfile.mkdtemp(prefix="between-test-db-", dir=shm))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    with _database_folder(tmp_path_factory) as folder, fresh_database(folder) as url:
        upgrade_to_head(url)
        yield url


def _wipe(app) -> None:
    with app.app_context():
        db.session.remove()
        with db.engine.begin() as conn:
            for table in reversed(db.metadata.sorted_tables):
                conn.execute(table.delete())
        db.engine.dispose()


@pytest.fixture
def make_app():
    """Extra apps for one test (another web process, a broken database); disposed after."""
    made = []

    def make(config: dict):
        made.append(create_app({"TESTING": True, **config}))
        return made[-1]

    yield make
    for extra in made:
        with extra.app_context():
            db.engine.dispose()


# The app the last test used, kept for the next test that asks for the same config.
_kept: dict = {}


def _app_for(config: dict):
    """An app exactly as `create_app(config)` makes it, built once and handed on.

    create_app is most of a small test's time (flask-smorest builds the OpenAPI spec),
    so a test gets the previous test's app when it asks for the same config and nothing
    has called create_app since. That is checked, not assumed: create_app also sets up
    process-wide state (the field encryption key ring, the limiter's storage, the API
    spec), and every call configures a new key ring, so the ring the kept app was made
    with still being the one in force means no other app (a test's own, `make_app`,
    a migration) has replaced that state meanwhile, and no test has swapped the keys.
    Otherwise the test gets a new app, as it always did. What a test can change in its
    app is put back after it (_hand_on): rows, config, attributes (a test may point
    `app.instance_path` elsewhere), rate-limit counters."""
    key = repr(sorted(config.items()))
    if _kept and _kept["key"] == key and crypto.ring() is _kept["ring"]:
        return _kept["app"]
    app = create_app(config)
    _kept.update(
        key=key,
        app=app,
        ring=crypto.ring(),
        config=copy.deepcopy(dict(app.config)),
        attributes=dict(vars(app)),
    )
    return app


def _hand_on(app) -> None:
    """Leave the app as create_app made it, for the next test."""
    _wipe(app)
    if _kept.get("app") is app:
        app.config.clear()
        app.config.update(copy.deepcopy(_kept["config"]))
        made = _kept["attributes"]
        for name in set(vars(app)) - set(made):
            delattr(app, name)  # set since, by the test or lazily by Flask: made again
        for name, value in made.items():
            if vars(app).get(name) is not value:
                setattr(app, name, value)
    # A new app starts with empty in-memory rate-limit counters. A shared store (Redis)
    # outlives apps and other processes use it: a new app would find it as it is.
    if isinstance(limiter.storage, MemoryStorage):
        limiter.storage.reset()


@pytest.fixture
def app(request, database_url):
    marker = request.node.get_closest_marker("app_config")
    # Tests register many people from one address; the rate-limit tests set their own.
    config = {
        "SQLALCHEMY_DATABASE_URI": database_url,
        "TESTING": True,
        "RATELIMIT_REGISTER": "1000 per minute",
    }
    if marker:
        config.update(marker.kwargs)
    app = _app_for(config)
    yield app
    _hand_on(app)
    # collect now, so a connection some test forgot to close is reported by that test
    gc.collect()
    # What survives is no garbage of this test's (the modules, the kept app, pytest's
    # reports): frozen, it is left out of every later collection, which then looks only
    # at what the next test made, in milliseconds rather than a tenth of a second.
    gc.freeze()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def make_patient(app):
    def make(**kwargs) -> Actor:
        return make_actor(app, "patient", **kwargs)

    return make


@pytest.fixture
def make_therapist(app):
    def make(**kwargs) -> Actor:
        return make_actor(app, "therapist", **kwargs)

    return make


@pytest.fixture
def patient(make_patient) -> Actor:
    return make_patient()


@pytest.fixture
def therapist(make_therapist) -> Actor:
    return make_therapist()


@pytest.fixture
def link():
    """Link a therapist and a patient the way people do: invite code, then join."""

    def make(therapist: Actor, patient: Actor) -> dict:
        code = therapist.post("/api/v1/invites").json["code"]
        response = patient.post("/api/v1/care-team/join", json={"code": code})
        assert response.status_code == 201, response.json
        return response.json

    return make


def pytest_configure(config):
    config.addinivalue_line("markers", "app_config(**kw): override app config for one test")


def pytest_make_parametrize_id(config, val, argname):
    """A parameter that is an id made at import (`str(uuid.uuid4())`) is named "uuid" in
    the test's name: each xdist worker imports the tests itself, and they must all
    collect the same names."""
    if isinstance(val, str | uuid.UUID):
        try:
            uuid.UUID(str(val))
        except ValueError:
            return None
        return "uuid"
    return None


# The folder says what a test needs, so `-m "not e2e"` (make test-fast) skips the browsers.
_MARKS_BY_FOLDER = {
    "e2e": ("e2e",),
    "webkit": ("e2e", "webkit"),
    "postgres": ("postgres",),
}


def pytest_collection_modifyitems(config, items):
    tests = Path(__file__).resolve().parent
    for item in items:
        path = Path(str(item.fspath)).resolve()
        if tests not in path.parents:
            continue
        folder = path.relative_to(tests).parts[0]
        for mark in _MARKS_BY_FOLDER.get(folder, ()):
            item.add_marker(getattr(pytest.mark, mark))


@pytest.fixture
def push():
    """A faithful fake push service on loopback (tests/fake_push.py)."""
    from tests.fake_push import FakePushService

    with FakePushService() as service:
        yield service


@pytest.fixture
def pwa_copy(tmp_path):
    """A copy of pwa/ to publish new versions from (served with PWA_DIR), the tree untouched."""
    copy = tmp_path / "pwa"
    shutil.copytree(Path(__file__).resolve().parents[1] / "pwa", copy)
    return copy


@pytest.fixture
def elsewhere():
    """Another push service, at an origin a redirect points at: it must never hear from us."""
    from tests.fake_push import FakePushService

    with FakePushService() as service:
        yield service


@pytest.fixture
def logged():
    """Every record the app's loggers emit, whatever the app's log config."""
    records: list[logging.LogRecord] = []
    handler = logging.Handler(logging.DEBUG)
    handler.emit = records.append
    root = logging.getLogger("between")
    root.addHandler(handler)
    yield records
    root.removeHandler(handler)


@pytest.fixture
def mailbox():
    """A real SMTP server on loopback that keeps what it is sent (tests/mailbox.py)."""
    from tests.mailbox import Mailbox

    with Mailbox() as box:
        yield box


def closing_iterators(app):
    """The app, with every response body closed once it is done with, also when the
    browser drops the connection mid-body: werkzeug's test server then skips close(),
    and a static file's handle would be left for the garbage collector to find (a
    ResourceWarning, which this suite treats as an error). gunicorn closes it itself."""

    def wsgi(environ, start_response):
        body = app(environ, start_response)
        try:
            yield from body
        finally:
            if hasattr(body, "close"):
                body.close()

    return wsgi


@contextmanager
def served(app):
    """The app over real HTTP on a free port, one thread per request; yields its URL."""
    import threading

    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, closing_iterators(app), threaded=True)
    # shutdown() waits for the loop to look up, which it does every poll_interval (0.5 s
    # unless told): a test would wait that long for its server to stop
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
    )
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)
