"""What alerts does when something happens elsewhere (the signals of server/events.py)."""

from __future__ import annotations

from server import events
from server.alerts import service


def _send_due(_sender=None, **_ignored) -> dict:
    """On the worker's pass: the flag mails that are due, and how many went."""
    return {"flag_mails": service.send_due()}


def connect() -> None:
    """Connect alerts' receivers; create_app calls this (again is harmless: blinker keeps
    one connection per receiver)."""
    # a risk answer: one mail per linked therapist (`queue_flag_mails(patient_id, flag_id=…)`)
    events.risk_flagged.connect(service.queue_flag_mails)
    events.worker_pass.connect(_send_due)
