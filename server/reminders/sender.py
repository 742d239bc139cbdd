"""Web Push over HTTP: encrypt, sign, POST, and say what the push service answered.

What every push service expects, as the reference senders send it (RFC 8030, 8188,
8291, 8292): `Content-Type: application/octet-stream`, `Content-Encoding: aes128gcm`,
a `TTL` that is never 0 (0 means "drop it unless the phone is online right now"),
`Urgency`, a `Topic` (a newer message with the same topic replaces one still queued),
and `Authorization: vapid t=<JWT>,k=<public key>`.

pywebpush's `webpush()` is not used: it defaults to TTL 0 and no timeout, and writes
`aud`/`exp` into the claims dict it is given. Instead one `WebPusher` per message, a
`requests.Session` per thread (keep-alive per push-service origin), a VAPID header
signed once per origin and renewed an hour before it expires, and a bounded pool.
No database and no Flask here.

Redirects are never followed. A push service answers a message with 201; a 3xx is no
valid answer, and following it would send the encrypted reminder (a 307/308 re-POSTs
the body) to whatever origin `Location` names, past `PUSH_ALLOWED_HOSTS`, and count
that origin's 201 as delivered. A redirect is a failed attempt, retried with backoff as
a 5xx is (a misconfigured load balancer passes; a push service that moved tells the
browser, whose service worker resubscribes), and given up after the usual attempts.
`Retry-After` is honoured on 503 as on 429, and holds that push service meanwhile.
"""

from __future__ import annotations

import email.utils
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
from py_vapid import Vapid
from pywebpush import WebPusher

log = logging.getLogger("between.push")

SENT, GONE, RETRY, FAILED = "sent", "gone", "retry", "failed"
VAPID_LIFETIME = 12 * 3600  # seconds; push services refuse more than 24 h
VAPID_RENEW_BEFORE = 3600
DEFAULT_RETRY_AFTER = 60.0
MAX_RETRY_AFTER = 3600.0


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


class _NoRedirects(requests.Session):
    """A session that hands back a 3xx as it came instead of following it."""

    def request(self, method, url, **kwargs):
        kwargs["allow_redirects"] = False  # pywebpush's send() cannot pass it
        return super().request(method, url, **kwargs)

    def get_redirect_target(self, resp):
        return None  # and should anything still ask to follow, there is nowhere to go


class Sender:
    """Sends messages on a bounded pool of threads, each with its own session."""

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
        self._local = threading.local()
        self._sessions: list[requests.Session] = []
        self._lock = threading.Lock()
        # origin -> monotonic time before which that push service asked us to wait
        self._hold_until: dict[str, float] = {}

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = _NoRedirects()
            adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=4)
            session.mount("https://", adapter)
            session.mount("http://", adapter)
            self._local.session = session
            with self._lock:
                self._sessions.append(session)
        return session

    def _held(self, origin: str) -> float | None:
        with self._lock:
            until = self._hold_until.get(origin)
        if until is None:
            return None
        left = until - time.monotonic()
        return left if left > 0 else None

    def send_one(self, message: Message) -> Outcome:
        origin = origin_of(message.endpoint)
        held = self._held(origin)
        if held is not None:  # that service said 429 or 503 a moment ago: do not hammer it
            return Outcome(message.key, RETRY, None, held, "held: the push service asked to wait")
        headers = {
            "Authorization": self.vapid_headers.for_origin(origin),
            "Content-Type": "application/octet-stream",
            "Urgency": message.urgency,
            "Topic": message.topic,
        }
        subscription = {
            "endpoint": message.endpoint,
            "keys": {"p256dh": message.p256dh, "auth": message.auth},
        }
        try:
            response = WebPusher(subscription, requests_session=self._session()).send(
                data=message.payload,
                headers=headers,
                ttl=max(1, int(message.ttl)),
                content_encoding="aes128gcm",
                timeout=self.timeout,
            )
        except requests.Timeout:
            return Outcome(message.key, RETRY, None, error="timed out")
        except requests.RequestException as exc:
            return Outcome(message.key, RETRY, None, error=type(exc).__name__)
        except Exception as exc:  # bad keys: nothing a retry would fix
            return Outcome(message.key, FAILED, None, error=type(exc).__name__)
        with response:
            outcome = classify(
                message.key, response.status_code, response.headers.get("Retry-After")
            )
        if outcome.result == RETRY and outcome.retry_after is not None:  # 429, 503 + Retry-After
            with self._lock:
                self._hold_until[origin] = time.monotonic() + outcome.retry_after
        elif 300 <= response.status_code < 400:
            # the origin only: the endpoint's path names the device, `Location` may be
            # anyone's; a redirect persisting is for an operator to look at
            log.warning(
                "push service %s answered a redirect %s: not followed, will retry",
                origin,
                response.status_code,
            )
        elif outcome.result == FAILED:
            # our own bug (a bad header, key or payload), not the person's: say it loudly
            log.error("push service %s refused our request with %s", origin, outcome.status_code)
        return outcome

    def send(self, messages: list[Message]) -> list[Outcome]:
        """Send all, concurrently; outcomes in the same order."""
        if not messages:
            return []
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self._threads, thread_name_prefix="push")
        return list(self._pool.map(self.send_one, messages))

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        with self._lock:
            sessions, self._sessions = self._sessions, []
            self._local = threading.local()
        for session in sessions:
            session.close()

    def __enter__(self) -> Sender:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
