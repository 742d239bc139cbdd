"""A WSGI app that does nothing but burn BENCH_STUB_CPU_MS of CPU per request: the stand-in
server for bench/locust_check.py."""

import os
import time

CPU_S = float(os.environ.get("BENCH_STUB_CPU_MS", "3")) / 1000


def app(environ, start_response):
    started = time.process_time()
    while time.process_time() - started < CPU_S:
        sum(range(100))
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", "2")])
    return [b"{}"]
