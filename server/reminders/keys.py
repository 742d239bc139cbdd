"""VAPID keys (RFC 8292): the one key pair that signs every push we send."""

from __future__ import annotations

import base64

from cryptography.hazmat.primitives import serialization
from py_vapid import Vapid

from config.settings import new_vapid_private_key

__all__ = ["load", "new_vapid_private_key", "public_key_b64"]


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def load(private_key: str) -> Vapid:
    """A key from config: the raw scalar (base64url), DER (base64url) or PEM."""
    text = private_key.strip()
    if text.startswith("-----BEGIN"):
        return Vapid.from_pem(text.encode())
    return Vapid.from_string(text)


def public_key_b64(vapid: Vapid) -> str:
    """The uncompressed P-256 point, base64url: what PushManager.subscribe() expects
    as its applicationServerKey."""
    raw = vapid.public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return b64url(raw)
