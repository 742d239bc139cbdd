"""Command-line tasks: `flask --app server seed-demo`, `flask --app server worker`."""

from __future__ import annotations

import logging
import signal
import threading

import click
from flask import Flask
from sqlalchemy import select

from server.auth import service as auth_service
from server.care import service as care_service
from server.care.models import CareLink
from server.extensions import db

log = logging.getLogger("between.worker")

DEMO_PASSWORD = "between-demo-2026"
DEMO_THERAPIST = "therapist@demo.between.example"
DEMO_PATIENT = "patient@demo.between.example"


def _demo_user(email: str, name: str, role: str, timezone: str):
    user = auth_service.get_user_by_email(email)
    if user is None:
        user = auth_service.register_user(
            email=email, password=DEMO_PASSWORD, display_name=name, role=role, timezone=timezone
        )
    return user


def seed_demo() -> tuple:
    """A demo therapist and a demo patient linked to each other; safe to run twice."""
    therapist = _demo_user(DEMO_THERAPIST, "Dr. Demo Therapist", "therapist", "America/New_York")
    patient = _demo_user(DEMO_PATIENT, "Demo Patient", "patient", "America/New_York")
    linked = db.session.scalar(
        select(CareLink).where(
            CareLink.therapist_id == therapist.id,
            CareLink.patient_id == patient.id,
            CareLink.ended_at.is_(None),
        )
    )
    if linked is None:
        _invite, code = care_service.create_invite(therapist, ttl_days=7)
        care_service.join_care_team(patient, code)
    return therapist, patient


@click.command("seed-demo")
def seed_demo_command():
    """Create a demo therapist and patient, linked, and say how to sign in."""
    seed_demo()
    db.session.commit()
    click.echo("Demo accounts are ready (demo data only, no real person):")
    click.echo(f"  therapist: {DEMO_THERAPIST}  password: {DEMO_PASSWORD}")
    click.echo(f"  patient:   {DEMO_PATIENT}  password: {DEMO_PASSWORD}")


@click.command("worker")
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
