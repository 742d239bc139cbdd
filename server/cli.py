"""Command-line tasks: `flask --app server seed-demo`, `flask --app server worker`."""

from __future__ import annotations

import logging
import signal
import threading

import click
from flask import Flask
from flask.cli import with_appcontext

from server.demo import DEMO_PASSWORD, DEMO_PATIENT, DEMO_THERAPIST, seed_demo
from server.extensions import db

log = logging.getLogger("between.worker")


@click.command("seed-demo")
@with_appcontext
def seed_demo_command():
    """Create a demo therapist and patient, linked, and say how to sign in."""
    seed_demo()
    db.session.commit()
    click.echo("Demo accounts are ready (demo data only, no real person):")
    click.echo(f"  therapist: {DEMO_THERAPIST}  password: {DEMO_PASSWORD}")
    click.echo(f"  patient:   {DEMO_PATIENT}  password: {DEMO_PASSWORD}")


@click.command("worker")
@with_appcontext
@click.option("--interval", default=30.0, help="Seconds between polls for due work.")
@click.option("--once", is_flag=True, help="Poll once and exit.")
def worker_command(interval: float, once: bool):
    """Run the background worker until stopped (SIGTERM or Ctrl-C)."""
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    log.info("worker started")
    while True:
        # Reminder dispatch plugs in here; until then the worker idles without crash-looping.
        db.session.remove()
        if once or stop.wait(interval):
            break
    log.info("worker stopped")


def init_app(app: Flask) -> None:
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(worker_command)
