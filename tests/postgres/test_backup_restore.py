"""A backup is only a backup once it has been restored: pg_dump, pg_restore, compare."""

import subprocess
from pathlib import Path

import sqlalchemy as sa

from server.demo import seed_demo
from server.extensions import db
from server.journal.models import JournalEntry
from tests.conftest import fresh_database

ROOT = Path(__file__).resolve().parents[2]


def test_backup_restores_to_an_identical_readable_database(app, database_url, tmp_path):
    with app.app_context():
        seed_demo()
        db.session.commit()
        bodies = sorted(e.body for e in db.session.scalars(sa.select(JournalEntry)))
        db.session.remove()  # give the connection back before pg_dump reads
    with fresh_database(tmp_path) as restored:
        done = subprocess.run(
            [
                str(ROOT / "scripts/backup-restore"),
                database_url,
                str(tmp_path / "between.dump"),
                restored,
            ],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr
        assert "restore verified" in done.stdout
        engine = sa.create_engine(restored.replace("postgresql://", "postgresql+psycopg://", 1))
        try:
            # the same keys read the restored ciphertext
            with app.app_context():
                with sa.orm.Session(engine) as session:
                    again = sorted(e.body for e in session.scalars(sa.select(JournalEntry)))
        finally:
            engine.dispose()
    assert again == bodies and len(bodies) >= 4
