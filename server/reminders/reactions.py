"""What reminders does when something happens elsewhere (the signals of server/events.py)."""

from __future__ import annotations

from server import events
from server.reminders import service


def connect() -> None:
    """Connect reminders' receivers; create_app calls this (again is harmless: blinker
    keeps one connection per receiver)."""
    # a session added, moved or cancelled, or the plan's review cadence: recompute the
    # patient's next reminder on the worker's next pass (`wake(patient_id)`)
    events.schedule_inputs_changed.connect(service.wake)
    # a risk answer: "a check-in needs your review" to linked therapists' devices
    # (`alert_therapists(patient_id, flag_id=…)`)
    events.risk_flagged.connect(service.alert_therapists)
