"""Sending mail: SMTP in production, `.eml` files in the instance folder in development.

`SMTP_URL` is `smtp://user:pass@host:587?starttls=1` or `smtps://user:pass@host:465`;
`MAIL_FROM` is the sender. Without `SMTP_URL` outside production, each mail is written
to `instance/mail/` and the log line names the file, never what it says. Mails never
carry health information: callers pass words that name no patient, score or answer.
"""

from __future__ import annotations

import logging
import os
import smtplib
import ssl
import threading
import uuid
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

from flask import Flask, current_app

from config.settings import SmtpTarget, parse_smtp_url
from server.db import utcnow

log = logging.getLogger("between.mail")

SMTP_TIMEOUT = 20.0  # seconds; a hung mail server never hangs a worker


class MailError(RuntimeError):
    """The mail could not be handed to the SMTP server."""


def _message(to: str, subject: str, body: str, sender: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(utcnow())
    msg["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2].strip(">") or "localhost")
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(body)
    return msg


def _send_smtp(target: SmtpTarget, msg: EmailMessage) -> None:
    context = ssl.create_default_context()
    if target.tls == "ssl":
        server = smtplib.SMTP_SSL(target.host, target.port, timeout=SMTP_TIMEOUT, context=context)
    else:
        server = smtplib.SMTP(target.host, target.port, timeout=SMTP_TIMEOUT)
    with server:
        if target.tls == "starttls":
            server.starttls(context=context)
        if target.username:
            server.login(target.username, target.password or "")
        server.send_message(msg)


def _write_file(folder: Path, msg: EmailMessage) -> Path:
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = folder / f"{utcnow():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}.eml"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(bytes(msg))
    return path


def send(to: str, subject: str, body: str, *, kind: str, app: Flask | None = None) -> None:
    """Send one mail now; MailError when the SMTP server cannot take it.

    `kind` (invite, reset, flag) is what the log line says: never the address or words.
    """
    app = app or current_app
    config = app.config
    msg = _message(to, subject, body, config["MAIL_FROM"])
    if config.get("SMTP_URL"):
        try:
            _send_smtp(parse_smtp_url(config["SMTP_URL"]), msg)
        except (OSError, smtplib.SMTPException) as exc:
            log.warning("mail not sent: kind=%s error=%s", kind, type(exc).__name__)
            raise MailError(type(exc).__name__) from exc
        log.info("mail sent: kind=%s", kind)
        return
    path = _write_file(Path(app.instance_path) / "mail", msg)
    log.info("mail written: kind=%s file=%s", kind, path.name)


def send_soon(to: str, subject: str, body: str, *, kind: str) -> threading.Thread:
    """Send from a thread, so a request answers in the same time whether or not a mail
    goes out (no account enumeration by timing) and a slow mail server never holds it."""
    app = current_app._get_current_object()

    def run():
        try:
            send(to, subject, body, kind=kind, app=app)
        except MailError:
            pass  # logged by send(); the person can ask again
        except Exception:
            log.exception("mail failed: kind=%s", kind)

    thread = threading.Thread(target=run, name=f"mail-{kind}", daemon=True)
    thread.start()
    return thread


def link(path: str) -> str:
    """An absolute link into the app (`#/reset/…`), on PUBLIC_URL."""
    return current_app.config["PUBLIC_URL"].rstrip("/") + "/" + path.lstrip("/")
