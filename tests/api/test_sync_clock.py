"""The sync clock's statements are built once, at import: they must work whatever was
imported first (a foreign key column's type is only known once its table is)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import sys, uuid
from server.sync import clock  # first, before any other model module
from flask_migrate import upgrade
from server import create_app
from server.auth.models import Role, User
from server.extensions import db

app = create_app({"SQLALCHEMY_DATABASE_URI": sys.argv[1], "TESTING": True})
with app.app_context():
    upgrade()
    user = User(email="clock@example.test", password_hash="x", display_name="C",
                role=Role.PATIENT, timezone="UTC", locale="en-US")
    db.session.add(user)
    db.session.flush()
    clock.lock(user.id)
    first = clock.next_seq(user.id)
    second = clock.next_seq(user.id)
    db.session.commit()
    print(first, second, clock.current(user.id))
"""


def test_the_clock_counts_when_imported_before_the_models(app, database_url):
    # `app`: its teardown wipes what the script wrote
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, database_url],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    first, second, current = map(int, done.stdout.split()[-3:])
    assert (first, second, current) == (1, 2, 2)
