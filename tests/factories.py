"""People who use Between, signed in over HTTP the way the PWA does it."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from flask.testing import FlaskClient

PASSWORD = "a-long-test-passphrase"
_counter = itertools.count(1)


@dataclass
class Actor:
    client: FlaskClient
    id: str
    email: str
    role: str
    password: str = PASSWORD

    def get(self, url, **kw):
        return self.client.get(url, **kw)

    def post(self, url, json=None, **kw):
        return self.client.post(url, json=json, **kw)

    def put(self, url, json=None, **kw):
        return self.client.put(url, json=json, **kw)

    def delete(self, url, json=None, **kw):
        return self.client.delete(url, json=json, **kw)


def make_actor(app, role: str, *, email: str | None = None, timezone: str = "UTC") -> Actor:
    n = next(_counter)
    email = email or f"{role}{n}@example.test"
    client = app.test_client()
    response = client.post(
        "/api/v1/auth/register",
        json={
            "email": email,
            "password": PASSWORD,
            "display_name": f"Test {role.title()} {n}",
            "role": role,
            "timezone": timezone,
        },
    )
    assert response.status_code == 201, response.json
    return Actor(client=client, id=response.json["id"], email=email, role=role)
