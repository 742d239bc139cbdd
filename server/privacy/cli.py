"""`flask --app server keys generate|rotate`: field encryption keys."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from server import crypto
from server.privacy import keys as key_rotation

keys = AppGroup("keys", help="Field encryption keys.")


# needs no app: it must work before the app's keys exist (production refuses to start
# without them, and its error message says to run this very command)
@keys.command("generate", with_appcontext=False)
def generate():
    """Print a new key; put it first in FIELD_ENCRYPTION_KEYS, keep the old ones after it."""
    click.echo(crypto.new_key_spec())


@keys.command("rotate")
@click.option("--batch-size", default=500, show_default=True)
def rotate(batch_size: int):
    """Re-encrypt every row under the newest key (resumable: run it again if stopped)."""
    done = key_rotation.rotate(batch_size, on_batch=lambda col, n: click.echo(f"  {col}: {n}"))
    total = sum(done.values())
    click.echo(f"Re-encrypted {total} values under key {crypto.ring().newest}.")
    click.echo("Once this has finished, older keys may be removed from FIELD_ENCRYPTION_KEYS.")
