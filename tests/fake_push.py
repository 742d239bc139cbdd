"""A faithful fake Web Push service on loopback, for tests and the benchmark.

It keeps every request (method, headers and encrypted body) and answers from a script:
201 by default, or any status with headers, after an optional delay, or not at all (a
hang, released when the service closes). `redirect()` scripts a 301/302/307/308 whose
`Location` points at another fake service, which should then receive nothing;
`unavailable()` scripts a 503 with `Retry-After`. Subscriptions are made the way a browser makes
them: a real P-256 key pair and a 16-byte auth secret, so a test can decrypt exactly
what a phone would.
"""

from __future__ import annotations

import base64
import email.utils
import json
import os
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import http_ece
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid
from py_vapid.jwt import decode as jwt_decode

HANG = "hang"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass
class Device:
    """A browser's push subscription, private half included."""

    endpoint: str
    private_key: ec.EllipticCurvePrivateKey
    auth_secret: bytes

    @property
    def keys(self) -> dict:
        public = self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return {"p256dh": b64url(public), "auth": b64url(self.auth_secret)}

    def subscription(self, user_agent: str = "Test browser") -> dict:
        return {"endpoint": self.endpoint, "keys": self.keys, "user_agent": user_agent}

    def decrypt(self, body: bytes) -> dict:
        plain = http_ece.decrypt(
            body, private_key=self.private_key, auth_secret=self.auth_secret, version="aes128gcm"
        )
        return json.loads(plain)


@dataclass
class Received:
    path: str
    headers: dict  # lower-cased names
    body: bytes
    at: float = field(default_factory=time.monotonic)
    method: str = "POST"
    peer: int = 0  # the client's port: one port for many requests is one kept-alive connection

    def vapid_claims(self) -> dict:
        """Verify `Authorization: vapid t=<jwt>, k=<key>` (RFC 8292) and return its claims."""
        scheme, _, params = self.headers["authorization"].partition(" ")
        assert scheme.lower() == "vapid", scheme
        parts = dict(p.strip().split("=", 1) for p in params.split(","))
        assert Vapid.verify(self.headers["authorization"])  # py_vapid's own check
        return jwt_decode(parts["t"], parts["k"])  # raises unless the signature holds


def http_date(when: float) -> str:
    """`Retry-After`'s other form: an IMF-fixdate, e.g. `Wed, 21 Oct 2026 07:28:00 GMT`."""
    return email.utils.formatdate(when, usegmt=True)


class _Server(ThreadingHTTPServer):
    # many sender threads connect at once; the default backlog of 5 drops SYNs, and a
    # dropped SYN costs the client a 1 s retransmit
    request_queue_size = 512


class FakePushService:
    def __init__(self, latency: float = 0.0, keep_bodies: bool = True):
        self.latency = latency
        self.keep_bodies = keep_bodies
        self.received: list[Received] = []
        self.count = 0
        self.first_at: float | None = None  # monotonic times of the first and last request
        self.last_at: float | None = None
        self.in_flight = 0  # requests being answered now, and the most there ever were
        self.peak_in_flight = 0
        self._script: dict[str, deque] = {}
        self._default: deque = deque()
        self._lock = threading.Lock()
        self._released = threading.Event()
        service = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as real push services

            def log_message(self, *_args):
                pass

            def do_POST(self):  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                answer = service._answer_for(
                    self.command, self.path, self.headers, body, self.client_address[1]
                )
                if answer == HANG:
                    service._released.wait(30)
                    self.close_connection = True
                    return
                status, headers, *until = answer
                if until:  # (status, headers, condition): answered once the condition holds
                    deadline = time.monotonic() + 30
                    while not until[0]() and time.monotonic() < deadline:
                        service._released.wait(0.01)  # a poll interval, not a wait for time
                if service.latency:
                    with service._lock:
                        service.in_flight += 1
                        service.peak_in_flight = max(service.peak_in_flight, service.in_flight)
                    time.sleep(service.latency)
                    with service._lock:
                        service.in_flight -= 1
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "0")
                if status == 201:
                    self.send_header("Location", f"{service.url}/m/{service.count}")
                self.end_headers()

            # a client that followed a 301/302 would come back with a GET: keep that too
            do_GET = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_POST  # noqa: N815

        self.server = _Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        # shutdown() waits for the loop to look up, every poll_interval: the default half
        # a second was most of the time of each test that uses a push service
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()

    def _answer_for(self, method, path, headers, body, peer=0):
        now = time.monotonic()
        with self._lock:
            self.count += 1
            self.first_at = self.first_at or now
            self.last_at = now
            if self.keep_bodies:
                self.received.append(
                    Received(
                        path,
                        {k.lower(): v for k, v in headers.items()},
                        body,
                        method=method,
                        peer=peer,
                    )
                )
            queue = self._script.get(path) or self._default
            answer = queue.popleft() if queue else (201, {})
        return answer

    def device(self, name: str | None = None) -> Device:
        path = f"/push/{name or os.urandom(8).hex()}"
        return Device(self.url + path, ec.generate_private_key(ec.SECP256R1()), os.urandom(16))

    def answer(self, *answers, endpoint: str | None = None) -> None:
        """Script the next answers (for one endpoint, or any): (status, headers), or
        (status, headers, condition) for one that waits until `condition()` is true, or HANG."""
        with self._lock:
            queue = self._default
            if endpoint is not None:
                queue = self._script.setdefault(urlsplit(endpoint).path, deque())
            queue.extend(
                a if a == HANG else (a if isinstance(a, tuple) else (a, {})) for a in answers
            )

    def redirect(
        self, status: int, to: FakePushService, endpoint: str | None = None, path: str = ""
    ) -> str:
        """Script a redirect (301, 302, 307, 308) to `to`, another fake service; returns
        the `Location` it points at."""
        assert status in (301, 302, 303, 307, 308), status
        location = to.url + (path or f"/push/moved-{os.urandom(4).hex()}")
        self.answer((status, {"Location": location}), endpoint=endpoint)
        return location

    def unavailable(self, retry_after: float | str, endpoint: str | None = None) -> str:
        """Script a 503 with `Retry-After`: seconds (a number) or an HTTP date (a string,
        or use `http_date()`); returns the header as sent."""
        value = retry_after if isinstance(retry_after, str) else str(int(retry_after))
        self.answer((503, {"Retry-After": value}), endpoint=endpoint)
        return value

    def to(self, device: Device) -> list[Received]:
        path = urlsplit(device.endpoint).path
        with self._lock:
            return [r for r in self.received if r.path == path]

    def close(self) -> None:
        self._released.set()
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(5)

    def __enter__(self) -> FakePushService:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
