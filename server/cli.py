"""Command-line tasks: `flask --app server seed-demo`, `reminders run`, `push keys`."""

from __future__ import annotations

import logging
import os
import signal
import threading
from pathlib import Path

import click
from flask import Flask, current_app
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


@click.group("reminders")
def reminders_group():
    """Push reminders."""


@reminders_group.command("run")
@with_appcontext
@click.option("--interval", default=None, type=float, help="Seconds between polls for due work.")
@click.option("--once", is_flag=True, help="Send everything due now, then exit.")
def reminders_run_command(interval: float | None, once: bool):
    """Send due reminders until stopped (SIGTERM or Ctrl-C), or once with --once."""
    from server.reminders import worker

    config = current_app.config
    sender = worker.build_sender(config)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    log.info("worker started")
    try:
        if once:
            totals = worker.run_pass(sender, stop=stop)
            click.echo(f"sent {totals['sent']}, failed {totals['failed']}, gone {totals['gone']}")
        else:
            worker.run(sender, stop, interval or config["REMINDER_POLL_SECONDS"])
    finally:
        sender.close()
        db.session.remove()
    log.info("worker stopped")


@click.group("push")
def push_group():
    """Web Push keys."""


@push_group.command("keys")
@with_appcontext
@click.option("--rotate", is_flag=True, help="Make a new key pair (devices subscribe again).")
def push_keys_command(rotate: bool):
    """Print the VAPID public key, or rotate the key pair."""
    from config.settings import new_vapid_private_key
    from server.reminders import keys

    config = current_app.config
    if not rotate:
        if not config.get("VAPID_PRIVATE_KEY"):
            raise click.ClickException("No VAPID key: set VAPID_PRIVATE_KEY and VAPID_SUBJECT.")
        click.echo(f"public key: {keys.public_key_b64(keys.load(config['VAPID_PRIVATE_KEY']))}")
        click.echo(f"subject:    {config['VAPID_SUBJECT']}")
        return
    new_key = new_vapid_private_key()
    public = keys.public_key_b64(keys.load(new_key))
    if os.environ.get("VAPID_PRIVATE_KEY") or config["PRODUCTION"]:
        # the key lives in the operator's environment: say what to set, keep nothing
        click.echo("Set this in the environment of every web and worker process:")
        click.echo(f"  VAPID_PRIVATE_KEY={new_key}")
    else:
        path = Path(current_app.instance_path) / "vapid_private_key"
        if path.exists():
            os.replace(path, path.with_name("vapid_private_key.old"))
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(new_key)
        click.echo(f"New key written to {path}; restart web and worker.")
    click.echo(f"public key: {public}")
    click.echo("Devices subscribed with the old key will subscribe again when the app opens.")


@click.group("therapists")
def therapists_group():
    """Therapist accounts: an operator invites each one."""


def _invite_mail(days: int, link: str) -> tuple[str, str]:
    """The invitation's subject and words, in the language in force."""
    from flask_babel import gettext as _

    return _("Your invitation to Between"), _(
        "You have been invited to Between, the companion your patients use between "
        "sessions.\n\nCreate your account within %(days)s days with this link (it works "
        "once):\n\n%(link)s\n\nYou will set up two-factor sign-in right after.\n",
        days=days,
        link=link,
    )


@therapists_group.command("invite")
@with_appcontext
@click.argument("email")
@click.option("--name", default="", help="The therapist's name, filled in for them.")
@click.option(
    "--language",
    default="en",
    show_default=True,
    help="The language of the mail, as a tag like es or es-MX (English when not one we speak).",
)
def therapists_invite_command(email: str, name: str, language: str):
    """Make a single-use sign-up link for a therapist, print it and mail it."""
    from datetime import timedelta

    from server import i18n, mail
    from server.auth import service

    if "@" not in email or len(email) > 254:
        raise click.BadParameter("not an email address", param_hint="EMAIL")
    if service.get_user_by_email(email) is not None:
        raise click.ClickException("An account with this email already exists.")
    days = current_app.config["THERAPIST_INVITE_TTL_DAYS"]
    invite, token = service.create_therapist_invite(email, name, timedelta(days=days))
    db.session.commit()
    url = mail.link(f"#/signin/therapist/{token}")
    click.echo(f"Invitation for {invite.email}, valid {days} days, single use:")
    click.echo(f"  {url}")
    with i18n.speaking(language):
        subject, body = _invite_mail(days, url)
    try:
        mail.send(invite.email, subject, body, kind="invite")
    except mail.MailError as exc:
        raise click.ClickException(
            f"The link above works, but the mail could not be sent ({exc}): "
            "give the link to the therapist another way."
        ) from exc
    click.echo(
        "Mailed to the therapist."
        if current_app.config.get("SMTP_URL")
        else "Written to the instance folder's mail/ (no SMTP_URL set)."
    )


@therapists_group.command("reset-two-factor")
@with_appcontext
@click.argument("email")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def therapists_reset_two_factor_command(email: str, yes: bool):
    """Turn off two-factor for someone who lost their authenticator and recovery codes.

    Check who is asking first, by a channel you trust (in person, a known phone number):
    this hands the account to whoever knows its password. Every session ends; where
    production requires two-factor, they set it up again at their next sign-in.
    """
    from server import logs
    from server.auth import service, totp

    user = service.get_user_by_email(email)
    if user is None:
        raise click.ClickException("No account has this email.")
    if not user.totp_enabled:
        raise click.ClickException("Two-factor sign-in is not on for this account.")
    if not yes:
        click.confirm(f"Turn off two-factor sign-in for {user.email}?", abort=True)
    totp.reset(user)
    service.end_other_sessions(user, None)
    db.session.commit()
    logs.auth_event("totp_reset_by_operator", user.id)
    click.echo("Two-factor sign-in is off and every session of the account has ended.")


@click.group("crisis-lines")
def crisis_lines_group():
    """The crisis lines Help now shows (config/crisis_lines.json)."""


@crisis_lines_group.command("check")
def crisis_lines_check_command():
    """List the regions whose lines are due a check against their sources; fail while any is."""
    from datetime import date

    from config.crisis_lines import due_for_checking

    due = due_for_checking(date.today())
    for code, why in sorted(due.items()):
        click.echo(f"{code}: {why}")
    if due:
        raise click.ClickException(
            f"{len(due)} region(s) to check: call or open each source in config/crisis_lines.json, "
            "then set its last_verified to that day and verified to true."
        )
    click.echo("Every region's lines were checked against their sources within a year.")


def init_app(app: Flask) -> None:
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(crisis_lines_group)
    app.cli.add_command(therapists_group)
    app.cli.add_command(reminders_group)
    app.cli.add_command(push_group)
