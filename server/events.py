"""How features react to each other: named signals, never each other's services.

The feature where something happened sends a signal; each feature that reacts to it has
a receiver, connected by its own `reactions.connect()` when the app is created
(server/__init__.py), so every process that makes the app (web, `flask reminders run`,
the CLI, the tests) has the same reactions. Senders do not know who listens.

Receivers run synchronously, inside the sender's transaction, in no defined order: each
flushes, none commits, and none depends on another having run (`worker_pass` alone is
sent between transactions, and its receivers commit their own). A receiver that fails
fails the sender's request, as the direct call it replaced did.

A signal names what it concerns by id (the sender is the patient, by id, or as the User
where the receiver writes as them) and carries no health text, with one exception said
where it is declared: `words_to_keep` carries the patient's own words, in this process
only, to the patient's own journal.

Send with `send(signal, sender, **ids)`, not `signal.send(...)`: a signal nobody receives
means a reaction was never wired (a risk answer that alerts no one), and that is an
error here rather than a silent no-op.
"""

from __future__ import annotations

from typing import Any

from blinker import Namespace, Signal

_signals = Namespace()

schedule_inputs_changed = _signals.signal(
    "schedule-inputs-changed",
    doc="""Something a patient's reminder schedule is computed from changed: a treatment
    session was added, moved or cancelled (post-dosing prompts follow it), or the plan was
    saved (its review cadence times the review prompt), or the person chose another time
    zone in their settings.

    sender: the patient's id; `timezone` (optional): the person's new IANA zone. Reminders
    wakes that schedule for the worker, moved to the new zone at the same wall times.""",
)

risk_flagged = _signals.signal(
    "risk-flagged",
    doc="""A check-in answer raised a risk flag (just flushed).

    sender: the patient's id; `flag_id`: the flag's id. Reminders queues "a check-in
    needs your review" for every linked therapist's devices; alerts queues one mail per
    linked therapist. Both say the same generic words: no name, no score.""",
)

words_to_keep = _signals.signal(
    "words-to-keep",
    doc="""A synced change carried words that no object of their own type can hold any
    more (a note on a relation another device ended meanwhile): they must be kept in
    full where the patient sees them.

    sender: the patient (User); `op_id`: the sync op's id (a replay keeps them once);
    `title`, `body`: the words. The one signal that carries text, because the text is
    what must survive: it goes nowhere but the patient's own journal, as a private entry,
    and is never logged. Journal receives it and returns the entry.""",
)

part_removed = _signals.signal(
    "part-removed",
    doc="""A part was removed from a patient's parts map (its words already gone).

    sender: the patient's id; `part_id`: the part's id. The journal drops the link from
    every entry that named it; the entries' words stay.""",
)

worker_pass = _signals.signal(
    "worker-pass",
    doc="""The background worker (`flask reminders run`) is making a pass, between
    transactions of its own: work that is due outside any request is done now.

    sender: None. Alerts sends the flag mails that are due. A receiver commits its own
    short transactions and returns a dict of counts for the pass's totals.""",
)


def send(signal: Signal, sender: Any = None, **kwargs) -> list[Any]:
    """Send `signal` to every receiver; their return values, in no defined order.

    Refuses a signal nobody receives: the reactions are connected by create_app, and a
    process that skipped that would otherwise drop them without a word."""
    if not signal.receivers:
        raise RuntimeError(f"nothing receives {signal.name!r}: create_app connects the receivers")
    return [value for _receiver, value in signal.send(sender, **kwargs)]
