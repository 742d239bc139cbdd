"""locust users for bench/locust_check.py: each GETs the stub at BENCH_LOAD_RATE per second."""

import os

from locust import constant_throughput, task
from locust.contrib.fasthttp import FastHttpUser


class Caller(FastHttpUser):
    wait_time = constant_throughput(float(os.environ.get("BENCH_LOAD_RATE", "2")))

    @task
    def call(self) -> None:
        self.client.get("/stub", name="stub")
