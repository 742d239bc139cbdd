"""The simulated people of bench/load.py: a locustfile, not a script to run by itself.

bench/load.py seeds the accounts, mints one signed-in session per account, writes them
to the JSON file named by BENCH_LOAD_USERS and runs locust headless on this file.

  - Patients (most users): pull their changes from their cursor (GET /sync/changes,
    following has_more), write journal entries (POST /journal/entries), push small
    batches from their device (POST /sync/push: new entries and an edit of the last
    one), answer the daily check-in (POST /checkins), now and then a PHQ-9.
  - Therapists (BENCH_LOAD_THERAPISTS of them, a fixed count): open a linked patient's
    pre-session brief (GET /patients/{id}/brief), and their caseload (GET /caseload).

Each user paces itself to at most BENCH_LOAD_RATE requests per second (locust
constant_throughput), so N users offer N x rate requests/s; when the server cannot keep
up, users wait for their answers and fewer are made. Every answer other than the one
the route promises is a failure named by its status and the API's message, so the
failures table classifies them; transport errors are named by their exception.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import uuid
from datetime import UTC, datetime
from http.cookiejar import DefaultCookiePolicy

from locust import constant_throughput, task
from locust.contrib.fasthttp import FastHttpUser

ACCOUNTS = json.loads(open(os.environ["BENCH_LOAD_USERS"]).read())  # noqa: SIM115
RATE = float(os.environ.get("BENCH_LOAD_RATE", "10"))
THERAPISTS = int(os.environ.get("BENCH_LOAD_THERAPISTS", "3"))
COOKIE = ACCOUNTS["cookie_name"]
_patients = itertools.cycle(ACCOUNTS["patients"])
_therapists = itertools.cycle(ACCOUNTS["therapists"])

BODY = (
    "Walked to the river after the session and sat with the part that wanted to leave. "
    "It was quieter than last week. Wrote down what it said so I can bring it on Tuesday."
)


def now() -> str:
    return datetime.now(UTC).isoformat()


class Person(FastHttpUser):
    abstract = True
    wait_time = constant_throughput(RATE)
    network_timeout = 60.0
    connection_timeout = 10.0

    def on_start(self) -> None:
        self.client.cookiejar.set_policy(DefaultCookiePolicy(allowed_domains=[]))  # ours only
        self.headers = {"Cookie": f"{COOKIE}={self.account['cookie']}"}

    def call(self, method: str, path: str, expect: int, name: str | None = None, **kw):
        """One request; anything but `expect` is a failure named by status and message."""
        with self.client.request(
            method, path, name=name or path, headers=self.headers, catch_response=True, **kw
        ) as response:
            if not response.status_code:  # no answer at all
                return None  # a transport error: locust names it by its exception
            if response.status_code != expect:
                try:
                    message = (response.json() or {}).get("message", "")
                except Exception:  # not JSON: gunicorn's own error page, a proxy
                    message = (response.text or "")[:60].replace("\n", " ")
                response.failure(f"HTTP {response.status_code}: {message}")
                return None
            response.success()
            try:
                return response.json()
            except Exception:
                return {}


class Patient(Person):
    weight = 1

    def on_start(self) -> None:
        self.account = next(_patients)
        super().on_start()
        self.cursor = self.account["cursor"]
        self.last = None  # (id, version) of the last entry pushed from this device

    @task(8)
    def pull(self) -> None:
        for _ in range(5):  # a phone pages until has_more is false; bounded
            page = self.call(
                "GET",
                f"/api/v1/sync/changes?since={self.cursor}&limit=200",
                200,
                name="/api/v1/sync/changes",
            )
            if not page:
                return
            self.cursor = page["cursor"]
            if not page["has_more"]:
                return

    @task(3)
    def write_entry(self) -> None:
        self.call(
            "POST",
            "/api/v1/journal/entries",
            201,
            json={
                "id": str(uuid.uuid4()),
                "title": "After the session",
                "body": BODY,
                "mood": random.randint(0, 10),
                "emotions": ["calm", "tired"],
                "tags": ["bench"],
                "shared": random.random() < 0.6,
                "written_at": now(),
            },
        )

    @task(2)
    def push(self) -> None:
        ops = [
            {
                "op_id": str(uuid.uuid4()),
                "type": "journal_entry",
                "id": str(uuid.uuid4()),
                "base_version": None,
                "action": "upsert",
                "data": {"body": BODY, "title": "Written offline", "tags": ["offline"]},
            }
            for _ in range(random.randint(1, 3))
        ]
        if self.last is not None:  # and an edit of the entry this device pushed last
            entry_id, version = self.last
            ops.append(
                {
                    "op_id": str(uuid.uuid4()),
                    "type": "journal_entry",
                    "id": entry_id,
                    "base_version": version,
                    "action": "upsert",
                    "data": {"body": BODY + " Edited later.", "title": "Written offline"},
                }
            )
        answer = self.call("POST", "/api/v1/sync/push", 200, json={"ops": ops})
        if answer:
            result = answer["results"][0]
            if result.get("status") == "applied":
                self.last = (result["id"], result["version"])

    @task(1)
    def check_in(self) -> None:
        if random.random() < 0.1:  # a PHQ-9 now and then; never item 9 (no risk flag)
            instrument = "phq9"
            answers = {f"phq9_{i}": random.randint(0, 2) for i in range(1, 9)} | {"phq9_9": 0}
        else:
            instrument = "daily"
            answers = {
                "mood": random.randint(0, 10),
                "anxiety": random.randint(0, 10),
                "sleep_quality": random.randint(0, 10),
                "sleep_hours": random.randint(4, 9),
                "rumination": random.randint(0, 10),
                "note": "",
                "safety": False,
            }
        self.call(
            "POST",
            "/api/v1/checkins",
            201,
            json={
                "id": str(uuid.uuid4()),
                "instrument": instrument,
                "answers": answers,
                "answered_at": now(),
            },
        )


class Therapist(Person):
    fixed_count = THERAPISTS

    def on_start(self) -> None:
        self.account = next(_therapists)
        super().on_start()

    @task(3)
    def brief(self) -> None:
        patient = random.choice(self.account["patients"])
        self.call(
            "GET",
            f"/api/v1/patients/{patient}/brief",
            200,
            name="/api/v1/patients/{pid}/brief",
        )

    @task(1)
    def caseload(self) -> None:
        self.call("GET", "/api/v1/caseload", 200)
