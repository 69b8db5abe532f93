"""Locust load for `make bench-scale`: one page per run, chosen by the environment.

    BENCH_PATH=/permits/ BENCH_NAME=permits BENCH_COOKIE='sessionid=...' \
        locust -f scripts/bench_scale_locustfile.py --headless -u 30 -r 30 -t 20s \
        --host http://127.0.0.1:8000 --csv .data/bench-scale/locust/permits

Every simulated user requests the page in a loop with no think time (a closed loop: the
throughput is what the server sustains with that many requests in flight). The server runs with
production settings behind an imagined TLS proxy, so each request says `X-Forwarded-Proto:
https`. Anything but the expected status (BENCH_STATUS, default 200) counts as a failure,
redirects included (a lost session shows up as a redirect to the sign-in page).
"""

from __future__ import annotations

import os

from locust import FastHttpUser, constant, task

PATH = os.environ.get("BENCH_PATH", "/healthz")
NAME = os.environ.get("BENCH_NAME", PATH)
COOKIE = os.environ.get("BENCH_COOKIE", "")
HOST_HEADER = os.environ.get("BENCH_HOST_HEADER", "")
EXPECTED = int(os.environ.get("BENCH_STATUS", "200"))

HEADERS = {"X-Forwarded-Proto": "https", "Accept-Language": "en"}
if COOKIE:
    HEADERS["Cookie"] = COOKIE
if HOST_HEADER:
    HEADERS["Host"] = HOST_HEADER


class PageUser(FastHttpUser):
    wait_time = constant(0)
    # Pages can take seconds under load at city size; a timeout is a failure, not a hang.
    network_timeout = 60.0
    connection_timeout = 60.0

    @task
    def page(self) -> None:
        with self.client.get(
            PATH, name=NAME, headers=HEADERS, allow_redirects=False, catch_response=True
        ) as response:
            if response.status_code != EXPECTED:
                where = response.headers.get("Location", "") if response.headers else ""
                response.failure(f"status {response.status_code} {where}".strip())
