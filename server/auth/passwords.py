"""Argon2id hashing and the password policy."""

from __future__ import annotations

import os
from functools import cache
from importlib.resources import files

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask_babel import gettext as _

MIN_LENGTH = 10
MAX_LENGTH = 128


def _make_hasher() -> PasswordHasher:
    """argon2id at the library's recommended cost; under the test suite only
    (BETWEEN_ENV=test, which no deployment runs: production insists on `production`, and
    `make run` runs `development`), at the lowest cost, so a test's sign-ups cost
    microseconds, not a tenth of a second each. A hash records its own parameters, so
    either kind verifies anywhere, and `needs_rehash` brings a cheap one up to cost at the
    next sign-in outside tests."""
    if os.environ.get("BETWEEN_ENV", "").strip().lower() == "test":
        return PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    return PasswordHasher()


_hasher = _make_hasher()
# Verified when the email is unknown, so both answers take the same time.
_DUMMY_HASH = _hasher.hash("not-a-real-password-for-timing")


@cache
def _common() -> frozenset[str]:
    text = files("server.auth").joinpath("common_passwords.txt").read_text()
    return frozenset(
        line.strip().lower() for line in text.splitlines() if line and not line.startswith("#")
    )


def password_problems(password: str, *, email: str = "", display_name: str = "") -> list[str]:
    """Why this password is refused; empty when it is acceptable."""
    if len(password) < MIN_LENGTH:
        return [_("Use at least %(count)s characters.", count=MIN_LENGTH)]
    if len(password) > MAX_LENGTH:
        return [_("Use at most %(count)s characters.", count=MAX_LENGTH)]
    lowered = password.lower()
    if lowered in _common() or len(set(lowered)) < 3:
        return [_("This password is too common; choose another.")]
    local_part = email.split("@", 1)[0].lower()
    if lowered in {email.lower(), local_part, display_name.strip().lower()}:
        return [_("Do not use your email or name as your password.")]
    return []


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Constant work whether or not the account exists."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)
