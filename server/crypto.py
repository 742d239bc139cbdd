"""Field encryption at rest: AES-256-GCM under a key ring, newest key first.

A stored value reads `v1:<key id>:<base64url(nonce ‖ ciphertext ‖ tag)>`. The column's
name is the associated data, so a value copied into another column does not decrypt.
A value under an unknown key, or one that fails authentication, raises: never garbage.

`FIELD_ENCRYPTION_KEYS` is `kid:base64key,kid:base64key` (newest first); the embedded
mode generates one key into the instance folder on first run. `flask --app server keys
rotate` re-encrypts every row under the newest key.

A value that must be found by equality (a journal tag) also gets a blind index: an
HMAC-SHA256 of it under a key derived (HKDF) from a ring key, for that column alone, and
scoped to one owner, so equal words of two people never look alike. The blind index is
made with the same ring key as the ciphertext beside it; a lookup computes it under every
key in the ring, so rows not yet rotated are still found, and `keys rotate` recomputes it
as it re-encrypts the value. Once rotation has finished an old key may go, as before.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import Text, TypeDecorator

PREFIX = "v1"


class KeyError_(RuntimeError):
    """The key ring cannot decrypt a value: wrong, missing or tampered key or data."""


class KeyRing:
    def __init__(self, keys: list[tuple[str, bytes]]):
        if not keys:
            raise KeyError_("the field encryption key ring is empty")
        for kid, key in keys:
            if len(key) != 32 or ":" in kid:
                raise KeyError_(f"key {kid!r} must be 32 bytes with an id free of ':'")
        self.keys = dict(keys)
        self.newest = keys[0][0]
        self._index_keys: dict[tuple[str, str], bytes] = {}

    @classmethod
    def parse(cls, spec: str) -> KeyRing:
        keys = []
        for item in filter(None, (part.strip() for part in spec.split(","))):
            kid, _, encoded = item.partition(":")
            keys.append((kid, base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))))
        return cls(keys)

    def encrypt(self, plaintext: str, column: str) -> str:
        nonce = os.urandom(12)
        sealed = AESGCM(self.keys[self.newest]).encrypt(nonce, plaintext.encode(), column.encode())
        body = base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")
        return f"{PREFIX}:{self.newest}:{body}"

    def decrypt(self, stored: str, column: str) -> str:
        try:
            version, kid, body = stored.split(":", 2)
        except ValueError as exc:
            raise KeyError_(f"{column}: not an encrypted value") from exc
        if version != PREFIX or kid not in self.keys:
            raise KeyError_(f"{column}: encrypted under unknown key {kid!r}")
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        try:
            plain = AESGCM(self.keys[kid]).decrypt(raw[:12], raw[12:], column.encode())
        except Exception as exc:  # InvalidTag: wrong key or tampered data
            raise KeyError_(f"{column}: cannot decrypt (wrong key or tampered data)") from exc
        return plain.decode()

    def _index_key(self, kid: str, column: str) -> bytes:
        """The HMAC key for one column's blind index: never the encryption key itself."""
        if (kid, column) not in self._index_keys:
            self._index_keys[kid, column] = HKDF(
                algorithm=hashes.SHA256(),
                length=32,
                salt=None,
                info=f"between blind index v1 {column}".encode(),
            ).derive(self.keys[kid])
        return self._index_keys[kid, column]

    def blind_index(self, value: str, column: str, scope: bytes, kid: str | None = None) -> str:
        """HMAC-SHA256 of `value` for `column`, under `kid` (the newest key by default).

        `scope` is fixed-length (an owner's 16-byte uuid), so scope and value cannot run
        into each other; it keeps one person's value from matching another's."""
        if len(scope) != 16:
            raise KeyError_(f"{column}: a blind index scope is 16 bytes")
        key = self._index_key(kid or self.newest, column)
        return hmac.new(key, scope + value.encode(), hashlib.sha256).hexdigest()

    def blind_indexes(self, value: str, column: str, scope: bytes) -> list[str]:
        """The value's blind index under every key in the ring: what a lookup matches, so
        rows written before a rotation (and not yet re-encrypted) are found too."""
        return [self.blind_index(value, column, scope, kid) for kid in self.keys]


def new_key_spec() -> str:
    """A fresh `kid:key` item for FIELD_ENCRYPTION_KEYS."""
    kid = secrets.token_hex(4)
    key = base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")
    return f"{kid}:{key}"


def development_keys(instance_path: Path) -> str:
    """The embedded mode's key ring, made on first run and kept in the instance folder."""
    path = instance_path / "field_keys"
    if not path.exists():
        instance_path.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(new_key_spec())
    return path.read_text().strip()


_ring: KeyRing | None = None


def configure(spec: str) -> None:
    global _ring
    _ring = KeyRing.parse(spec)


def ring() -> KeyRing:
    if _ring is None:
        raise KeyError_("field encryption is not configured (create_app sets it)")
    return _ring


class EncryptedText(TypeDecorator):
    """Text stored encrypted. `column` ("table.column") is bound in as associated data."""

    impl = Text
    cache_ok = True

    def __init__(self, column: str, **kw):
        super().__init__(**kw)
        self.column = column

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        return ring().encrypt(value, self.column)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return ring().decrypt(value, self.column)


class EncryptedJSON(EncryptedText):
    """A JSON document stored encrypted as text."""

    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        return super().process_bind_param(json.dumps(value, separators=(",", ":")), dialect)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return json.loads(super().process_result_value(value, dialect))
