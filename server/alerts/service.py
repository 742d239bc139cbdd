"""Mail therapists when a patient's answer raises a risk flag. Flushes, never commits,
except `send_due`, which runs on the worker's pass between its own transactions (both
are reached through the signals of server/events.py: alerts/reactions.py)."""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

from flask_babel import gettext
from sqlalchemy import select, update

from server import i18n, mail
from server.alerts.models import FlagMail
from server.auth.models import User
from server.care.models import CareLink
from server.db import utcnow
from server.extensions import db
from server.i18n import N_

log = logging.getLogger("between.alerts")

# The whole mail. No patient name, no instrument, no score, no words of the patient:
# a mailbox is read on shared screens, forwarded and kept for years.
# In the therapist's own language.
SUBJECT = N_("A patient on your caseload needs attention")
BODY = N_(
    "A patient on your caseload needs attention. Open Between:\n\n%(link)s\n\n"
    "You get this mail because a patient linked to you in Between gave an answer that "
    "raised a flag. The details are in Between, after you sign in.\n"
)
MAX_ATTEMPTS = 8
RETRY_BASE = timedelta(seconds=30)


def queue_flag_mails(patient_id: uuid.UUID, flag_id: uuid.UUID) -> int:
    """One mail per linked therapist for this flag, sent by the worker; how many."""
    therapists = db.session.scalars(
        select(CareLink.therapist_id).where(
            CareLink.patient_id == patient_id, CareLink.ended_at.is_(None)
        )
    ).all()
    for therapist_id in therapists:
        db.session.add(FlagMail(flag_id=flag_id, therapist_id=therapist_id))
    db.session.flush()
    return len(therapists)


def _take(row_id: uuid.UUID) -> bool:
    """Mark one mail as taken; False when another worker took it first."""
    now = utcnow()
    taken = db.session.execute(
        update(FlagMail)
        .where(FlagMail.id == row_id, FlagMail.sent_at.is_(None), FlagMail.next_attempt_at <= now)
        .values(sent_at=now, attempts=FlagMail.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return taken.rowcount == 1


def _give_back(row_id: uuid.UUID, attempts: int) -> None:
    if attempts >= MAX_ATTEMPTS:
        log.warning("flag mail given up after %d attempts", attempts)
        return
    wait = RETRY_BASE * (2 ** (attempts - 1))
    db.session.execute(
        update(FlagMail)
        .where(FlagMail.id == row_id)
        .values(sent_at=None, next_attempt_at=utcnow() + wait)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def send_due(limit: int = 50) -> int:
    """Send the flag mails that are due; each at most once, whatever runs beside us.

    A mail is marked taken (committed) before it is sent, so a worker that dies mid-send
    loses that mail rather than sending it twice; a mail server that refuses it gives
    it back for a later try.
    """
    rows = db.session.execute(
        select(FlagMail.id, FlagMail.attempts, User.email, User.locale)
        .join(User, User.id == FlagMail.therapist_id)
        .where(FlagMail.sent_at.is_(None), FlagMail.next_attempt_at <= utcnow())
        .order_by(FlagMail.created_at)
        .limit(limit)
    ).all()
    db.session.commit()
    sent = 0
    for row_id, attempts, email, locale in rows:
        if not _take(row_id):
            continue
        with i18n.speaking(locale):
            subject, body = gettext(SUBJECT), gettext(BODY, link=mail.link("#/flags"))
        try:
            mail.send(email, subject, body, kind="flag")
        except mail.MailError:
            _give_back(row_id, attempts + 1)
            continue
        sent += 1
    return sent
