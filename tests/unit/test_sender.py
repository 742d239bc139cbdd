"""The push sender against the fake push service (tests/fake_push.py) on loopback.

What a phone gets must decrypt with an implementation that is not ours (http_ece,
with the subscription's private key), headers must be the ones push services expect,
a redirect is never followed, and nothing in the process environment (a proxy
setting) changes where a message goes.
"""

from __future__ import annotations

import base64
import os
import time
import uuid

import http_ece
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid

from server.reminders import sender as push
from server.reminders.sender import FAILED, GONE, RETRY, SENT, Message, Sender
from tests.fake_push import HANG, FakePushService

SUBJECT = "mailto:operator@example.test"
PAYLOAD = b'{"type":"checkin","id":"0","url":"/#/checkin","body":"Time for your check-in"}'


def b64(text: str) -> bytes:
    text = "".join(text.split())
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@pytest.fixture
def service(push):
    """The push service these messages go to (conftest's faithful fake)."""
    return push


@pytest.fixture
def vapid():
    key = Vapid()
    key.generate_keys()
    return key


@pytest.fixture
def sender(vapid):
    with Sender(vapid, SUBJECT, timeout=5, threads=8) as s:
        yield s


def message(device, payload=PAYLOAD, **extra) -> Message:
    keys = device.keys
    fields = dict(
        key=uuid.uuid4(),
        endpoint=device.endpoint,
        p256dh=keys["p256dh"],
        auth=keys["auth"],
        payload=payload,
        ttl=3600,
        urgency="normal",
        topic="abcdefghijklmnopqrstuvwx",
    )
    return Message(**(fields | extra))


# -- encryption --------------------------------------------------------------------------


def test_encryption_reproduces_rfc_8291_example():
    """With the example's keys and salt, the exact bytes RFC 8291 section 5 shows."""
    as_private = ec.derive_private_key(
        int.from_bytes(b64("yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw"), "big"), ec.SECP256R1()
    )
    to = push.recipient(
        "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4",
        "BTBZMqHH6r4Tts7J_aSIgg",
    )
    body = push.encrypt(
        b"When I grow up, I want to be a watermelon",
        to,
        private_key=as_private,
        salt=b64("DGv6ra1nlYgDCS1FRnbzlw"),
    )
    assert body == b64(
        """DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27ml
        mlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPT
        pK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN"""
    )


def test_a_phone_decrypts_what_was_sent(service, sender):
    device = service.device()
    outcome = sender.send_one(message(device))
    assert outcome.result == SENT and outcome.status_code == 201
    [received] = service.to(device)
    # an independent implementation, with the subscription's private key
    plain = http_ece.decrypt(
        received.body,
        private_key=device.private_key,
        auth_secret=device.auth_secret,
        version="aes128gcm",
    )
    assert plain == PAYLOAD
    # one record, as pywebpush writes it: salt, rs 4096, a 65-octet key id, then the
    # payload, its delimiter and the tag; no padding
    assert int.from_bytes(received.body[16:20], "big") == 4096
    assert received.body[20] == 65 and received.body[21] == 0x04
    assert len(received.body) == 86 + len(PAYLOAD) + 1 + 16


def test_every_message_has_its_own_key_pair_and_salt(service, sender):
    """RFC 8291 section 3.1: a new ECDH key pair for each message; a fresh salt too."""
    device = service.device()
    for _ in range(3):
        assert sender.send_one(message(device)).result == SENT
    bodies = [r.body for r in service.to(device)]
    assert len({b[:16] for b in bodies}) == 3  # salts
    assert len({b[21:86] for b in bodies}) == 3  # the application server's public keys
    assert all(device.decrypt(b)["type"] == "checkin" for b in bodies)


def test_bad_subscription_keys_fail_without_sending(service, sender):
    device = service.device()
    not_on_curve = base64.urlsafe_b64encode(b"\x04" + b"\x01" * 64).rstrip(b"=").decode()
    short_auth = base64.urlsafe_b64encode(b"x" * 4).rstrip(b"=").decode()
    for bad in (
        message(device, p256dh=not_on_curve),
        message(device, p256dh="not-base64!"),
        message(device, auth=short_auth),
    ):
        outcome = sender.send_one(bad)
        assert outcome.result == FAILED and outcome.status_code is None, outcome
    assert service.count == 0


# -- headers -----------------------------------------------------------------------------


def test_headers_are_those_push_services_expect(service, sender, vapid):
    device = service.device()
    sender.send_one(message(device, ttl=0, urgency="high", topic="t0pic"))
    [received] = service.to(device)
    h = received.headers
    assert h["ttl"] == "1"  # never 0: 0 means "drop it unless the phone is online now"
    assert h["urgency"] == "high"
    assert h["topic"] == "t0pic"
    assert h["content-encoding"] == "aes128gcm"
    assert h["content-type"] == "application/octet-stream"
    assert int(h["content-length"]) == len(received.body)
    scheme, _, params = h["authorization"].partition(" ")
    assert scheme == "vapid"
    assert sorted(p.split("=", 1)[0].strip() for p in params.split(",")) == ["k", "t"]
    claims = received.vapid_claims()  # the signature holds with the key it names
    assert claims["aud"] == service.url and claims["sub"] == SUBJECT
    assert time.time() < claims["exp"] <= time.time() + 24 * 3600


def test_ttl_is_sent_as_given(service, sender):
    device = service.device()
    sender.send_one(message(device, ttl=5400))
    assert service.to(device)[0].headers["ttl"] == "5400"


# -- the HTTP client ---------------------------------------------------------------------


def test_a_redirect_is_not_followed(service, sender, elsewhere, logged):
    for status in (301, 302, 303, 307, 308):
        device = service.device()
        location = service.redirect(status, elsewhere, endpoint=device.endpoint)
        outcome = sender.send_one(message(device))
        assert outcome.result == RETRY and outcome.status_code == status
        assert location not in (outcome.error or "")
        assert len(service.to(device)) == 1
    assert elsewhere.count == 0  # not a byte went where Location pointed
    lines = [r.getMessage() for r in logged]
    assert lines and all("/push/" not in line and elsewhere.url not in line for line in lines)


def test_proxy_settings_in_the_environment_do_not_redirect_messages(service, sender, monkeypatch):
    """A proxy named in the environment (here a closed port) is not used: the message
    goes straight to the push service the endpoint names."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    device = service.device()
    outcome = sender.send_one(message(device))
    assert outcome.result == SENT, outcome
    assert len(service.to(device)) == 1


def test_sending_reads_nothing_from_the_environment(service, sender, monkeypatch):
    """The per-message path never scans os.environ (the old client's proxy lookup did,
    on every message)."""
    device = service.device()
    sender.send_one(message(device))  # warm: connection, VAPID header, parsed keys
    reads = []
    environ = type(os.environ)
    for name in ("__getitem__", "__iter__", "__contains__", "get"):
        original = getattr(environ, name)

        def counting(self, *args, _original=original, _name=name):
            reads.append(_name)
            return _original(self, *args)

        monkeypatch.setattr(environ, name, counting)
    outcomes = [sender.send_one(message(device)) for _ in range(10)]
    monkeypatch.undo()
    assert [o.result for o in outcomes] == [SENT] * 10
    assert reads == []


def test_one_kept_alive_connection_carries_many_messages(service, sender):
    device = service.device()
    for _ in range(10):
        assert sender.send_one(message(device)).result == SENT
    assert len({r.peer for r in service.to(device)}) == 1


def test_a_hung_push_service_times_out_as_a_retry(vapid, service):
    device = service.device()
    service.answer(HANG, endpoint=device.endpoint)
    with Sender(vapid, SUBJECT, timeout=0.5, threads=2) as s:
        started = time.monotonic()
        outcome = s.send_one(message(device))
        took = time.monotonic() - started
        assert outcome.result == RETRY and outcome.status_code is None
        assert "timed out" in outcome.error
        assert took < 5
        # and the next message to that service goes through on a fresh connection
        assert s.send_one(message(service.device())).result == SENT


def test_nothing_listening_is_a_retry(sender):
    device = FakePushService()
    device.close()  # its port is free again: connection refused
    outcome = sender.send_one(message(device.device()))
    assert outcome.result == RETRY and outcome.status_code is None


def test_429_retry_after_holds_that_push_service(service, sender):
    first, second = service.device(), service.device()
    service.answer((429, {"Retry-After": "30"}), endpoint=first.endpoint)
    told = sender.send_one(message(first))
    assert told.result == RETRY and told.status_code == 429 and told.retry_after == 30
    held = sender.send_one(message(second))
    assert held.result == RETRY and held.status_code is None and 25 < held.retry_after <= 30
    assert service.count == 1 and service.to(second) == []


def test_answers_are_classified(service, sender, logged):
    cases = {201: SENT, 404: GONE, 410: GONE, 400: FAILED, 413: FAILED, 500: RETRY}
    devices = {}
    for status in cases:
        devices[status] = service.device()
        service.answer(status, endpoint=devices[status].endpoint)
    for status, result in cases.items():
        outcome = sender.send_one(message(devices[status]))
        assert (outcome.result, outcome.status_code) == (result, status)
    # our own bugs are said loudly, with the push service's origin only
    lines = [r.getMessage() for r in logged]
    assert any("400" in line and service.url in line for line in lines)
    assert all("/push/" not in line and "check-in" not in line for line in lines)


def test_a_batch_comes_back_in_order_across_threads(service, sender):
    devices = [service.device() for _ in range(40)]
    for d in devices[::4]:
        service.answer(410, endpoint=d.endpoint)
    messages = [message(d) for d in devices]
    outcomes = sender.send(messages)
    assert [o.key for o in outcomes] == [m.key for m in messages]
    assert [o.result for o in outcomes] == [GONE if i % 4 == 0 else SENT for i in range(40)]
    for d in devices[1::4]:
        assert d.decrypt(service.to(d)[0].body)["type"] == "checkin"


def test_subscription_keys_are_parsed_once(service, sender):
    device = service.device()
    push.recipient.cache_clear()
    for _ in range(5):
        sender.send_one(message(device))
    info = push.recipient.cache_info()
    assert info.misses == 1 and info.hits == 4


def test_public_key_round_trip_helper_is_consistent():
    """recipient() keeps the subscription's own point, as the browser gave it."""
    priv = ec.generate_private_key(ec.SECP256R1())
    raw = priv.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    auth = os.urandom(16)
    to = push.recipient(
        base64.urlsafe_b64encode(raw).rstrip(b"=").decode(),
        base64.urlsafe_b64encode(auth).rstrip(b"=").decode(),
    )
    body = push.encrypt(PAYLOAD, to)
    assert http_ece.decrypt(body, private_key=priv, auth_secret=auth, version="aes128gcm") == (
        PAYLOAD
    )


def test_a_batch_sends_its_first_wave_whatever_one_of_it_answers(service, sender):
    """A 429 to one of a person's devices does not race the others of the same wave."""
    devices = [service.device() for _ in range(6)]
    service.answer((429, {"Retry-After": "60"}), endpoint=devices[0].endpoint)
    outcomes = sender.send([message(d) for d in devices])
    assert service.count == 6
    assert [o.status_code for o in outcomes] == [429] + [201] * 5


def test_a_429_holds_the_rest_of_a_large_batch(service, sender):
    devices = [service.device() for _ in range(60)]
    service.answer((429, {"Retry-After": "60"}), endpoint=devices[0].endpoint)
    # the rest of the first wave answers only once the sender holds the push service for
    # the 429, so no lane is free to take a ninth message before: what it holds is no race
    origin = push.origin_of(devices[0].endpoint)

    def holding():
        return sender._held(origin) is not None

    for device in devices[1:8]:
        service.answer((201, {}, holding), endpoint=device.endpoint)
    outcomes = sender.send([message(d) for d in devices])
    held = [o for o in outcomes if o.status_code is None]
    assert outcomes[0].status_code == 429
    # the first wave (8) went; nothing after the 429 was in
    assert service.count == 8 and len(held) == 52
    assert all(o.result == RETRY and 55 < o.retry_after <= 60 for o in held)


def test_a_slow_push_service_gets_more_sending_threads(vapid):
    """A batch starts with a few threads and, once answers show the push service is
    slow, takes up to `threads` of them; a fast one is served by a few."""
    with FakePushService(latency=0.1, keep_bodies=False) as slow:
        with Sender(vapid, SUBJECT, timeout=5, threads=48) as s:
            device = slow.device()
            outcomes = s.send([message(device) for _ in range(150)])
        assert [o.result for o in outcomes] == [SENT] * 150
        assert slow.peak_in_flight > 24
