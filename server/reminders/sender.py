"""Web Push over HTTP: encrypt, sign, POST, and say what the push service answered.

What every push service expects, as the reference senders send it (RFC 8030, 8188,
8291, 8292): `Content-Type: application/octet-stream`, `Content-Encoding: aes128gcm`,
a `TTL` that is never 0 (0 means "drop it unless the phone is online right now"),
`Urgency`, a `Topic` (a newer message with the same topic replaces one still queued),
and `Authorization: vapid t=<JWT>,k=<public key>`.

The hot path is lean by design (issue 20): one urllib3 connection pool per push-service
origin per process (kept-alive connections shared by the sending threads) that never
reads the environment, so no proxy lookup scans `os.environ` per message as
`requests` did; a VAPID header signed once per origin and renewed an hour before it
expires; each subscription's keys parsed once (`recipient()`, cached); and aes128gcm
encryption (RFC 8291 over RFC 8188) written here on `cryptography`'s primitives instead
of pywebpush's per-message `WebPusher`. No database and no Flask here.

What is not cached, on purpose: RFC 8291 section 3.1 has the application server make
"a new ECDH key pair" for each push message, and the salt is random per message (RFC
8188 section 2.1), so both are made per message, as Node's `web-push` does. A reused
key pair would also give up forward secrecy: one private key, leaked from a worker's
memory, would open every message sent under it instead of one.

Redirects are never followed. A push service answers a message with 201; a 3xx is no
valid answer, and following it would send the encrypted reminder (a 307/308 re-POSTs
the body) to whatever origin `Location` names, past `PUSH_ALLOWED_HOSTS`, and count
that origin's 201 as delivered. A redirect is a failed attempt, retried with backoff as
a 5xx is (a misconfigured load balancer passes; a push service that moved tells the
browser, whose service worker resubscribes), and given up after the usual attempts.
`Retry-After` is honoured on 503 as on 429, and holds that push service meanwhile.
"""

from __future__ import annotations

import base64
import binascii
import email.utils
import functools
import hmac
import logging
import math
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import urlsplit

import urllib3
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from py_vapid import Vapid
from urllib3.connectionpool import HTTPConnectionPool, connection_from_url

try:
    import certifi
except ImportError:  # pragma: no cover - installed with requests
    certifi = None
from urllib3.exceptions import HTTPError as TransportError
from urllib3.exceptions import TimeoutError as TransportTimeout

log = logging.getLogger("between.push")

SENT, GONE, RETRY, FAILED = "sent", "gone", "retry", "failed"
VAPID_LIFETIME = 12 * 3600  # seconds; push services refuse more than 24 h
VAPID_RENEW_BEFORE = 3600
DEFAULT_RETRY_AFTER = 60.0
MAX_RETRY_AFTER = 3600.0
RECORD_SIZE = 4096  # rs, as pywebpush and http_ece write it; one record per message
MAX_PLAINTEXT = RECORD_SIZE - 1 - 16  # the padding delimiter and the GCM tag
SUBSCRIPTIONS_CACHED = 8192  # parsed subscription keys kept per process
MAX_ORIGINS = 64  # connection pools kept, one per push-service origin
# sending threads a batch starts with, at least: more than a person's devices, so a
# test push reaches all of them at once, whatever one push service answers first
MIN_LANES = 8


@dataclass(frozen=True)
class Message:
    key: object  # the caller's handle (a delivery id)
    endpoint: str
    p256dh: str
    auth: str
    payload: bytes
    ttl: int
    urgency: str
    topic: str


@dataclass(frozen=True)
class Outcome:
    key: object
    result: str  # SENT, GONE, RETRY or FAILED
    status_code: int | None = None
    retry_after: float | None = None  # seconds, for RETRY
    error: str | None = None


def origin_of(endpoint: str) -> str:
    parts = urlsplit(endpoint)
    return f"{parts.scheme}://{parts.netloc}"


def parse_retry_after(value: str | None, now: float | None = None) -> float:
    """Seconds to wait: `Retry-After` as seconds or as an HTTP date, bounded."""
    if not value:
        return DEFAULT_RETRY_AFTER
    value = value.strip()
    if value.isdigit():
        seconds = float(value)
    else:
        try:
            when = email.utils.parsedate_to_datetime(value).timestamp()
        except (TypeError, ValueError):
            return DEFAULT_RETRY_AFTER
        seconds = when - (now if now is not None else time.time())
    return min(max(seconds, 1.0), MAX_RETRY_AFTER)


def classify(key, status: int, retry_after: str | None = None) -> Outcome:
    """What a push-service answer means for us."""
    if 200 <= status < 300:
        return Outcome(key, SENT, status)
    if 300 <= status < 400:
        # never followed (see the module's docstring); None: backoff, as for a 5xx
        return Outcome(key, RETRY, status, error=f"redirect {status} not followed")
    if status in (404, 410):
        return Outcome(key, GONE, status, error="subscription gone")
    if status == 429:
        return Outcome(key, RETRY, status, parse_retry_after(retry_after), "rate limited")
    if status == 503 and retry_after:
        return Outcome(key, RETRY, status, parse_retry_after(retry_after), "unavailable")
    if status >= 500:
        return Outcome(key, RETRY, status, error=f"push service error {status}")
    # 400, 403 (VAPID), 413 (payload) and the rest: something we sent is wrong
    return Outcome(key, FAILED, status, error=f"refused with {status}")


class VapidHeaders:
    """`Authorization` per push-service origin, signed once and renewed before expiry."""

    def __init__(self, vapid: Vapid, subject: str, clock: Callable[[], float] = time.time):
        self._vapid = vapid
        self._subject = subject
        self._clock = clock
        self._cache: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()
        self.signed = 0  # how many JWTs were signed (for tests and the benchmark)

    def for_origin(self, origin: str) -> str:
        now = self._clock()
        with self._lock:
            cached = self._cache.get(origin)
            if cached and cached[1] - now > VAPID_RENEW_BEFORE:
                return cached[0]
            exp = int(now) + VAPID_LIFETIME
            # a fresh dict every time: py_vapid must not see another origin's `aud`
            claims = {"sub": self._subject, "aud": origin, "exp": exp}
            header = self._vapid.sign(claims)["Authorization"]
            self._cache[origin] = (header, exp)
            self.signed += 1
            return header


# -- aes128gcm (RFC 8291, RFC 8188) --------------------------------------------------------

_CURVE = ec.SECP256R1()
_CEK_INFO = b"Content-Encoding: aes128gcm\x00\x01"  # HKDF info || the first block's 0x01
_NONCE_INFO = b"Content-Encoding: nonce\x00\x01"
_KEY_INFO = b"WebPush: info\x00"
_RS_IDLEN = RECORD_SIZE.to_bytes(4, "big") + bytes([65])


class BadSubscription(ValueError):
    """Subscription keys that no encryption could use: a retry would not fix them."""


@dataclass(frozen=True, slots=True)
class Recipient:
    """A subscription's keys, parsed: the user agent's P-256 public key and auth secret."""

    public_key: ec.EllipticCurvePublicKey
    key_info: bytes  # "WebPush: info" 0x00 || ua_public; as_public follows per message
    auth: bytes


def _b64url(text: str) -> bytes:
    text = text.strip()
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise BadSubscription("not base64url") from exc


@functools.lru_cache(maxsize=SUBSCRIPTIONS_CACHED)
def recipient(p256dh: str, auth: str) -> Recipient:
    """Parse a subscription's keys once: the point is checked to be on P-256 (RFC 8291
    section 6 requires it), the auth secret to be the 16 octets a browser makes."""
    raw, secret = _b64url(p256dh), _b64url(auth)
    if len(raw) != 65 or raw[0] != 4:
        raise BadSubscription("p256dh is not an uncompressed P-256 point")
    if len(secret) < 16:
        raise BadSubscription("auth secret shorter than 16 octets")
    try:
        public_key = ec.EllipticCurvePublicKey.from_encoded_point(_CURVE, raw)
    except ValueError as exc:
        raise BadSubscription("p256dh is not on P-256") from exc
    return Recipient(public_key, _KEY_INFO + raw, secret)


def _hmac(key: bytes, data: bytes) -> bytes:
    return hmac.digest(key, data, "sha256")


def encrypt(
    payload: bytes,
    to: Recipient,
    *,
    private_key: ec.EllipticCurvePrivateKey | None = None,
    salt: bytes | None = None,
) -> bytes:
    """One aes128gcm record for one subscription (RFC 8291 section 3.4).

    `private_key` and `salt` are for the RFC's worked example only; otherwise both are
    new for every message. HKDF-SHA256 with an output of at most 32 octets is one HMAC
    to extract and one to expand, so it is written as those HMACs (OpenSSL's, through
    `hmac.digest`), which the RFC's example checks (tests/unit/test_sender.py).
    """
    if len(payload) > MAX_PLAINTEXT:
        raise BadSubscription(f"payload of {len(payload)} octets exceeds one record")
    private_key = private_key or ec.generate_private_key(_CURVE)
    salt = salt or os.urandom(16)
    as_public = private_key.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    shared = private_key.exchange(ec.ECDH(), to.public_key)
    # IKM = HKDF(salt=auth_secret, IKM=ecdh_secret, info=key_info, L=32)
    ikm = _hmac(_hmac(to.auth, shared), to.key_info + as_public + b"\x01")
    prk = _hmac(salt, ikm)  # RFC 8188's HKDF-Extract with the message's salt
    cek = _hmac(prk, _CEK_INFO)[:16]
    nonce = _hmac(prk, _NONCE_INFO)[:12]
    # the padding delimiter 0x02 ends the last (only) record; no further padding
    record = AESGCM(cek).encrypt(nonce, payload + b"\x02", None)
    return salt + _RS_IDLEN + as_public + record


# -- HTTP ----------------------------------------------------------------------------------


class Sender:
    """Sends messages on a bounded pool of threads sharing the connections.

    One urllib3 connection pool per push-service origin (kept-alive connections, safe
    to share between threads), looked up by origin without re-parsing the URL. It
    reads no proxy settings (unlike `requests`, which looks them up in `os.environ` for
    every request): a push goes to the origin its endpoint names and nowhere else. Its
    own retries and redirects are off: a retry is the worker's decision (with backoff,
    recorded), and a redirect is never followed (see the module's docstring).
    """

    def __init__(
        self,
        vapid: Vapid,
        subject: str,
        *,
        timeout: float = 10.0,
        threads: int = 32,
    ):
        self.vapid_headers = VapidHeaders(vapid, subject)
        self.timeout = timeout
        self._threads = max(1, threads)
        self._pool: ThreadPoolExecutor | None = None
        self._lanes = MIN_LANES  # sending threads the next batch starts with
        self._pool_options = dict(
            maxsize=self._threads,  # a kept-alive connection per sending thread
            block=False,
            retries=False,
            timeout=urllib3.Timeout(connect=timeout, read=timeout),
        )
        self._pools: dict[str, HTTPConnectionPool] = {}  # origin -> its connections
        self._lock = threading.Lock()
        # origin -> monotonic time before which that push service asked us to wait
        self._hold_until: dict[str, float] = {}

    def _pool_for(self, origin: str) -> HTTPConnectionPool:
        with self._lock:
            pool = self._pools.get(origin)
            if pool is None:
                if len(self._pools) >= MAX_ORIGINS:  # never in practice: a few push services
                    for old in self._pools.values():
                        old.close()
                    self._pools.clear()
                options = dict(self._pool_options)
                if origin.startswith("https:") and certifi is not None:
                    options["ca_certs"] = certifi.where()  # requests' CA bundle, as before
                pool = connection_from_url(origin, **options)
                self._pools[origin] = pool
            return pool

    def _held(self, origin: str) -> float | None:
        until = self._hold_until.get(origin)  # a dict read is atomic; writes take the lock
        if until is None:
            return None
        left = until - time.monotonic()
        return left if left > 0 else None

    def send_one(self, message: Message, *, hold_checked: bool = False) -> Outcome:
        parts = urlsplit(message.endpoint)
        origin = f"{parts.scheme}://{parts.netloc}"
        held = None if hold_checked else self._held(origin)
        if held is not None:  # that service said 429 or 503 a moment ago: do not hammer it
            return Outcome(message.key, RETRY, None, held, "held: the push service asked to wait")
        try:
            body = encrypt(message.payload, recipient(message.p256dh, message.auth))
        except Exception as exc:  # bad keys or an oversized payload: no retry would fix it
            return Outcome(message.key, FAILED, None, error=type(exc).__name__)
        headers = {
            "Authorization": self.vapid_headers.for_origin(origin),
            "Content-Type": "application/octet-stream",
            "Content-Encoding": "aes128gcm",
            "TTL": str(max(1, int(message.ttl))),
            "Urgency": message.urgency,
            "Topic": message.topic,
        }
        try:
            pool = self._pools.get(origin) or self._pool_for(origin)
            response = pool.urlopen(
                "POST",
                (parts.path or "/") + (f"?{parts.query}" if parts.query else ""),
                body=body,
                headers=headers,
                redirect=False,
                retries=False,
            )
        except TransportTimeout:
            return Outcome(message.key, RETRY, None, error="timed out")
        except TransportError as exc:
            return Outcome(message.key, RETRY, None, error=type(exc).__name__)
        status = response.status
        outcome = classify(message.key, status, response.headers.get("Retry-After"))
        if outcome.result == RETRY and outcome.retry_after is not None:  # 429, 503 + Retry-After
            with self._lock:
                self._hold_until[origin] = time.monotonic() + outcome.retry_after
        elif 300 <= status < 400:
            # the origin only: the endpoint's path names the device, `Location` may be
            # anyone's; a redirect persisting is for an operator to look at
            log.warning(
                "push service %s answered a redirect %s: not followed, will retry",
                origin,
                status,
            )
        elif outcome.result == FAILED:
            # our own bug (a bad header, key or payload), not the person's: say it loudly
            log.error("push service %s refused our request with %s", origin, status)
        return outcome

    def send(self, messages: list[Message]) -> list[Outcome]:
        """Send all, concurrently; outcomes in the same order.

        As many sending threads as the push service's latency calls for, up to
        `threads` (Little's law: the time a message waits on the network over the CPU
        it costs here). The wait is the least seen in this batch, so time spent waiting
        for the GIL does not count as network time: a fast push service is served by a
        few threads instead of dozens fighting over the GIL, a slow one gets them all
        once its first answers are in. The count carries over to the next batch.
        """
        if not messages:
            return []
        if len(messages) == 1:
            return [self.send_one(messages[0])]
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self._threads, thread_name_prefix="push")
        outcomes: list[Outcome | None] = [None] * len(messages)
        most = min(self._threads, len(messages))
        first = min(self._lanes, most)
        # the first wave goes out as one: its holds are decided now, before any of its
        # answers is in, so which of them a 429 among them holds back is not a race
        # between threads; every later message honours a hold that came meanwhile
        checked = set()
        for i, message in enumerate(messages[:first]):
            held = self._held(origin_of(message.endpoint))
            if held is not None:
                outcomes[i] = Outcome(
                    message.key, RETRY, None, held, "held: the push service asked to wait"
                )
            checked.add(i)
        work = ((i, m) for i, m in enumerate(messages) if outcomes[i] is None)
        take = threading.Lock()  # guards the work, the counts and the figures below
        finished = threading.Event()
        lanes = [0, 0]  # started, still running
        seen = [float("inf"), 0.0, 0]  # least network wait, CPU seconds, messages
        failures: list[BaseException] = []

        def start_lane() -> None:  # with `take` held
            lanes[0] += 1
            lanes[1] += 1
            self._pool.submit(drain)

        def drain() -> None:
            wait_s = cpu_s = None
            try:
                while True:
                    with take:
                        if cpu_s is not None:
                            seen[0] = min(seen[0], wait_s)
                            seen[1] += cpu_s
                            seen[2] += 1
                            # Little's law; the lanes themselves add lanes, so nothing
                            # polls while a batch waits on a slow push service
                            wanted = min(most, 1 + math.ceil(seen[0] * seen[2] / seen[1]))
                            while lanes[0] < wanted:
                                start_lane()
                        item = next(work, None)
                    if item is None:
                        return
                    started, cpu = time.monotonic(), time.thread_time()
                    outcomes[item[0]] = self.send_one(item[1], hold_checked=item[0] in checked)
                    cpu_s = max(time.thread_time() - cpu, 1e-6)
                    wait_s = time.monotonic() - started - cpu_s
            except BaseException as exc:  # a bug: raised in the caller's thread below
                failures.append(exc)
            finally:
                with take:
                    lanes[1] -= 1
                    if not lanes[1]:
                        finished.set()

        with take:
            for _ in range(first):
                start_lane()
        finished.wait()
        if failures:
            raise failures[0]
        if seen[2]:
            self._lanes = max(MIN_LANES, 1 + math.ceil(seen[0] * seen[2] / seen[1]))
        return outcomes  # type: ignore[return-value]

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        with self._lock:
            pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            pool.close()

    def __enter__(self) -> Sender:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
