"""What an operator types: invite a therapist, reset a lost authenticator, make keys."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pyotp

from server.privacy.cli import keys
from tests.factories import PASSWORD
from tests.mailbox import text_of

BIN = Path(sys.executable).parent


def test_invite_prints_and_mails_a_single_use_link(app, mailbox):
    app.config.update(SMTP_URL=mailbox.url, PUBLIC_URL="https://between.clinic.test")
    result = app.test_cli_runner().invoke(
        args=["therapists", "invite", "Dr.Lee@Clinic.test", "--name", "Dr Lee"]
    )
    assert result.exit_code == 0, result.output
    link = re.search(r"https://between\.clinic\.test/#/signin/therapist/(\S+)", result.output)
    (message,) = mailbox.wait_for("dr.lee@clinic.test")
    assert link.group(0) in text_of(message)
    shown = app.test_client().get(f"/api/v1/auth/therapist-invites/{link.group(1)}")
    assert shown.json == {"email": "dr.lee@clinic.test", "display_name": "Dr Lee"}


def test_without_smtp_in_development_the_mail_is_a_file_and_the_log_names_only_it(
    app, tmp_path, caplog
):
    app.config.update(SMTP_URL=None)
    app.instance_path = str(tmp_path)
    result = app.test_cli_runner().invoke(args=["therapists", "invite", "dr.kim@clinic.test"])
    assert result.exit_code == 0, result.output
    (written,) = (tmp_path / "mail").glob("*.eml")
    assert "#/signin/therapist/" in written.read_text()
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name == "between.mail")
    assert written.name in logged
    assert "dr.kim" not in logged and "signin/therapist" not in logged


def test_an_existing_account_is_not_invited_again(app, therapist):
    result = app.test_cli_runner().invoke(args=["therapists", "invite", therapist.email])
    assert result.exit_code != 0 and "already exists" in result.output


def test_reset_two_factor_for_a_lost_authenticator(app, therapist):
    secret = therapist.post("/api/v1/auth/totp/setup").json["secret"]
    therapist.post("/api/v1/auth/totp/enable", json={"code": pyotp.TOTP(secret).now()})
    result = app.test_cli_runner().invoke(
        args=["therapists", "reset-two-factor", therapist.email, "--yes"]
    )
    assert result.exit_code == 0, result.output
    assert therapist.get("/api/v1/auth/me").status_code == 401  # every session ended
    again = app.test_client().post(
        "/api/v1/auth/login", json={"email": therapist.email, "password": PASSWORD}
    )
    assert again.status_code == 200 and again.json["totp_enabled"] is False


def test_keys_generate_works_in_production_before_any_key_exists(tmp_path):
    """Production refuses to start without keys and says to run this very command."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"FIELD_ENCRYPTION_KEYS", "SECRET_KEY", "DATABASE_URL"}
    }
    env.update(BETWEEN_ENV="production", SECRET_KEY="s" * 8 + os.urandom(24).hex())

    def flask(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(BIN / "flask"), "--app", "server", *args],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    refused = flask("db", "current")
    assert refused.returncode != 0
    assert "flask --app server keys generate" in refused.stderr
    made = flask("keys", "generate")
    assert made.returncode == 0, made.stderr
    assert re.fullmatch(r"[\w-]+:[\w-]{43}=?\n", made.stdout), made.stdout
    assert keys.commands["generate"]  # the same group the app registers
