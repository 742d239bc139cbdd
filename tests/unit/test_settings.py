"""Production refuses to start without what its links and mails need."""

from __future__ import annotations

import secrets

import pytest

from config.settings import ConfigError, load_settings, parse_smtp_url

PRODUCTION = {
    "BETWEEN_ENV": "production",
    "SECRET_KEY": secrets.token_urlsafe(48),
    "FIELD_ENCRYPTION_KEYS": "k1:" + "A" * 43,
    "PUBLIC_URL": "https://between.clinic.example",
    "SMTP_URL": "smtp://mailer:secret@mail.clinic.example:587?starttls=1",
}


def test_a_complete_production_configuration_starts(tmp_path):
    config = load_settings(PRODUCTION, tmp_path)
    assert config["PUBLIC_URL"] == "https://between.clinic.example"
    assert config["MAIL_FROM"] == "Between <no-reply@between.clinic.example>"


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"PUBLIC_URL": ""}, "PUBLIC_URL is required"),
        ({"PUBLIC_URL": "http://between.clinic.example"}, "https"),
        ({"PUBLIC_URL": "between.clinic.example"}, "origin"),
        ({"SMTP_URL": ""}, "SMTP_URL is required"),
        ({"SMTP_URL": "http://mail.clinic.example"}, "smtp://"),
    ],
)
def test_production_refuses_to_start_without_links_and_mail(tmp_path, change, words):
    with pytest.raises(ConfigError, match=words):
        load_settings({**PRODUCTION, **change}, tmp_path)


def test_development_needs_neither(tmp_path):
    config = load_settings({"BETWEEN_ENV": "development", "PORT": "5050"}, tmp_path)
    assert config["PUBLIC_URL"] == "http://127.0.0.1:5050"
    assert config["SMTP_URL"] is None


def test_smtp_urls():
    plain = parse_smtp_url("smtp://a%40b:p%3Ass@mail.example:2525")
    assert (plain.host, plain.port, plain.username, plain.password, plain.tls) == (
        "mail.example",
        2525,
        "a@b",
        "p:ss",
        "none",
    )
    assert parse_smtp_url("smtp://mail.example?starttls=1").port == 587
    assert parse_smtp_url("smtps://mail.example").tls == "ssl"
    assert parse_smtp_url("smtps://mail.example").port == 465
