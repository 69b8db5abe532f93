"""`make bench-scale`: City Hall at city size, measured end to end.

Run by `scripts/devstack.py bench-scale` (which provides DATABASE_URL and REDIS_URL: the
embedded servers of the "bench" stack under .data/, or the ones in the environment). Steps:

1. migrate, then the dataset: `bench_scale_data --scale S` (S=0: the demo data only), cached in
   the database between runs; collectstatic for the production settings.
2. gunicorn exactly as the Dockerfile starts it (its entrypoint picks the worker count), with
   `cityhall.settings.production` behind an imagined TLS proxy (BEHIND_TLS_PROXY=1, and every
   request says X-Forwarded-Proto: https); sessions from `bench_scale_sessions`.
3. Each page in turn under locust (headless, `--users` in a closed loop for `--duration`),
   /healthz first and last as the ceiling; the SQL queries of one request per page in-process
   (`bench_scale_queries`); the open-data CSVs downloaded once each.
4. Alert fan-out: the SMTP sink's own acceptance rate, then a real Celery worker and one
   citywide emergency alert (`bench_scale_alert`).
5. The nightly and hourly beat jobs, timed once each (`bench_scale_jobs`); they change data,
   so they come last.

Prints the tables and writes them to .data/bench-scale/results.md (raw numbers in
results.json, logs under .data/bench-scale/logs/). Every process started here is stopped at the
end and on Ctrl-C.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import json
import os
import platform
import re
import secrets
import signal
import smtplib
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from email.message import EmailMessage
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / ".data" / "bench-scale"
LOGS = OUT / "logs"
VENV_BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT / "scripts"))

from smtp_sink import summarize  # noqa: E402

# Budgets (issue 14).
PUBLIC_P95_MS = 300
PUBLIC_SHARE = 0.5
CONSOLE_P95_MS = 500
KPI_P95_MS = 300
ALERT_SECONDS = 120
ALERT_SHARE = 0.5


def log(message: str) -> None:
    print(f"[bench-scale] {message}", flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Processes:
    """What this run started (devstack's Stack pattern): own sessions, stopped by group."""

    def __init__(self) -> None:
        self.children: list[tuple[str, subprocess.Popen]] = []

    def spawn(self, label: str, argv: list[str], env: dict, logfile: Path) -> subprocess.Popen:
        logfile.parent.mkdir(parents=True, exist_ok=True)
        with logfile.open("ab") as out:
            proc = subprocess.Popen(
                argv,
                cwd=ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.children.append((label, proc))
        return proc

    def stop(self, proc: subprocess.Popen, timeout: float = 30) -> None:
        """SIGTERM to the leader first (gunicorn and Celery then shut down warmly, finishing
        what their children are doing), then to its whole group; SIGKILL what is left."""
        label = next((name for name, child in self.children if child is proc), "process")
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                log(f"{label} did not stop in time; stopping its process group")
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait(timeout=10)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)  # anything of its group still around
        self.children = [(name, child) for name, child in self.children if child is not proc]

    def stop_all(self) -> None:
        for _label, proc in reversed(list(self.children)):
            self.stop(proc)


class Run:
    def __init__(self, options: argparse.Namespace) -> None:
        self.options = options
        self.procs = Processes()
        self.port = free_port()
        self.sink_port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        site = f"https://127.0.0.1:{self.port}"
        # Uploaded files and texts of this run stay under .data/bench-scale/, for the data
        # steps (dev settings: demo and dataset commands refuse production) and the rest alike.
        files = {
            "MEDIA_ROOT": str(OUT / "media"),
            "SMS_FILE_PATH": str(OUT / "sms" / "outbox.jsonl"),
            "MAIL_FILE_PATH": str(OUT / "mail"),
        }
        self.dev_env = {**os.environ, **files, "DJANGO_SETTINGS_MODULE": "cityhall.settings.dev"}
        self.prod_env = {
            **os.environ,
            **files,
            "DJANGO_SETTINGS_MODULE": "cityhall.settings.production",
            "SECRET_KEY": secrets.token_urlsafe(48),
            "ALLOWED_HOSTS": "127.0.0.1",
            "SITE_URL": site,
            "CSRF_TRUSTED_ORIGINS": site,
            "SMTP_URL": f"smtp://127.0.0.1:{self.sink_port}?tls=0",
            "PAYMENT_PROVIDER": "stripe",
            "STRIPE_SECRET_KEY": "sk_test_bench",
            "STRIPE_WEBHOOK_SECRET": "whsec_bench",
            "BEHIND_TLS_PROXY": "1",
            "STATIC_ROOT": str(OUT / "static"),
            "PYTHONUNBUFFERED": "1",
        }
        if options.web_workers:
            self.prod_env["WEB_CONCURRENCY"] = str(options.web_workers)
        self.results: dict = {"options": vars(options).copy(), "notes": []}
        self.gunicorn: subprocess.Popen | None = None

    # -- helpers -------------------------------------------------------------------------------
    def note(self, message: str) -> None:
        log(f"NOTE: {message}")
        self.results["notes"].append(message)

    def manage(self, *args: str, env: dict, capture: bool = False, timeout=None) -> str:
        completed = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE if capture else None,
            text=True,
            timeout=timeout,
        )
        if completed.returncode != 0:
            raise SystemExit(f"manage.py {' '.join(args)} failed ({completed.returncode})")
        return completed.stdout or ""

    def manage_json(self, *args: str, env: dict):
        out = self.manage(*args, env=env, capture=True)
        last = [line for line in out.splitlines() if line.strip()][-1]
        return json.loads(last)

    def celery(self, *args: str) -> None:
        subprocess.run(
            [str(VENV_BIN / "celery"), "-A", "cityhall", *args],
            cwd=ROOT,
            env=self.prod_env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=120,
        )

    def get(self, path: str, cookie: str = "", timeout: float = 60):
        request = urllib.request.Request(
            self.base + path,
            headers={
                "X-Forwarded-Proto": "https",
                "Accept-Language": "en",
                **({"Cookie": cookie} if cookie else {}),
            },
        )

        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args, **kwargs):
                return None

        opener = urllib.request.build_opener(NoRedirect)
        try:
            return opener.open(request, timeout=timeout)
        except urllib.error.HTTPError as error:
            return error

    # -- 1. data -------------------------------------------------------------------------------
    def build_data(self) -> None:
        timings = {}
        start = time.perf_counter()
        self.manage("migrate", "--noinput", "-v", "0", env=self.dev_env)
        timings["migrate"] = time.perf_counter() - start
        start = time.perf_counter()
        self.manage("load_demo", env=self.dev_env)
        timings["load_demo"] = time.perf_counter() - start
        scale = self.options.scale
        if scale > 0:
            probe = subprocess.run(
                [sys.executable, "manage.py", "help", "bench_scale_data"],
                cwd=ROOT,
                env=self.dev_env,
                capture_output=True,
            )
            if probe.returncode != 0:
                raise SystemExit(
                    "manage.py bench_scale_data is not available in this checkout; "
                    "run with --scale 0 to measure the demo data only."
                )
            args = ["bench_scale_data", "--scale", str(scale)]
            if self.options.force:
                args.append("--force")
            log(f"building the dataset: manage.py {' '.join(args)} (cached between runs)")
            start = time.perf_counter()
            self.manage(*args, env=self.dev_env)
            timings["bench_scale_data"] = time.perf_counter() - start
        if static_outdated():
            start = time.perf_counter()
            self.manage("collectstatic", "--noinput", "-v", "0", env=self.prod_env)
            timings["collectstatic"] = time.perf_counter() - start
        self.results["data_seconds"] = {k: round(v, 1) for k, v in timings.items()}

    # -- 2. the server -------------------------------------------------------------------------
    def start_gunicorn(self) -> None:
        # The Dockerfile's ENTRYPOINT (worker count: 3 per core unless WEB_CONCURRENCY) and CMD,
        # bound to 127.0.0.1 on a free port.
        argv = [
            "sh",
            "scripts/docker-entrypoint.sh",
            str(VENV_BIN / "gunicorn"),
            "cityhall.wsgi",
            "--config",
            "python:cityhall.gunicorn_conf",
            "--bind",
            f"127.0.0.1:{self.port}",
            "--access-logfile",
            "-",
            "--worker-tmp-dir",
            "/dev/shm",
        ]
        logfile = LOGS / "gunicorn.log"
        logfile.unlink(missing_ok=True)
        self.gunicorn = self.procs.spawn("gunicorn", argv, self.prod_env, logfile)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.gunicorn.poll() is not None:
                raise SystemExit(f"gunicorn exited with {self.gunicorn.returncode}; see {logfile}")
            try:
                with self.get("/healthz", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            time.sleep(0.3)
        else:
            raise SystemExit(f"gunicorn did not answer /healthz; see {logfile}")
        time.sleep(2)  # let every worker finish booting
        workers = logfile.read_text(errors="replace").count("Booting worker")
        self.results["gunicorn_workers"] = workers
        log(f"gunicorn (production settings) on {self.base} with {workers} workers")

    # -- 3. pages ------------------------------------------------------------------------------
    def pages(self, ids: dict) -> list[dict]:
        app = ids["application_id"]
        request = ids["request_id"]
        public_id = ids["request_public_id"]

        def page(name, path, kind, session=None):
            return {"name": name, "path": path, "kind": kind, "session": session}

        return [
            page("/healthz (first)", "/healthz", "ceiling"),
            page("/", "/", "public"),
            page("/alerts/", "/alerts/", "public"),
            page("/permits/", "/permits/", "public"),
            page("/permits/search/?q=Oak Street", "/permits/search/?q=Oak+Street", "public"),
            page("/requests/map/", "/requests/map/", "public"),
            page("/requests/map.json", "/requests/map.json", "public"),
            page("/open311/v2/requests.json", "/open311/v2/requests.json", "public"),
            page(f"/requests/{public_id}/ (tracking)", f"/requests/{public_id}/", "public"),
            page("/me/ (resident)", "/me/", "resident", "resident"),
            page("/performance/", "/performance/", "kpis"),
            page("/kpis/", "/kpis/", "kpis", "admin"),
            page("/kpis/?period=year", "/kpis/?period=year", "kpis", "admin"),
            page("console: My work", "/console/", "console", "admin"),
            page("console: permits", "/console/permits/application/", "console", "admin"),
            page(
                "console: permits ?state=in_review",
                "/console/permits/application/?state=in_review",
                "console",
                "admin",
            ),
            page(
                "console: permits ?overdue=yes",
                "/console/permits/application/?overdue=yes",
                "console",
                "admin",
            ),
            page(
                "console: triage ?state=new",
                "/console/code_enforcement/servicerequest/?state=new",
                "console",
                "admin",
            ),
            page(
                f"console: permit {ids.get('application_number') or app}",
                f"/console/permits/application/{app}/change/",
                "console",
                "admin",
            ),
            page(
                f"console: request {public_id}",
                f"/console/code_enforcement/servicerequest/{request}/change/",
                "console",
                "admin",
            ),
            page("/healthz (last)", "/healthz", "ceiling"),
        ]

    def csv_pages(self) -> list[dict]:
        return [
            {"name": "/open-data/permits.csv", "path": "/open-data/permits.csv", "session": None},
            {"name": "/open-data/licenses.csv", "path": "/open-data/licenses.csv", "session": None},
        ]

    def run_locust(self, page: dict, cookie: str) -> dict:
        slug = re.sub(r"[^A-Za-z0-9]+", "-", page["name"]).strip("-").lower() or "page"
        prefix = OUT / "locust" / slug
        prefix.parent.mkdir(parents=True, exist_ok=True)
        for old in prefix.parent.glob(f"{slug}_*.csv"):
            old.unlink()
        env = {
            **os.environ,
            "BENCH_PATH": page["path"],
            "BENCH_NAME": page["name"],
            "BENCH_COOKIE": cookie,
        }
        argv = [
            str(VENV_BIN / "locust"),
            "-f",
            str(ROOT / "scripts" / "bench_scale_locustfile.py"),
            "--headless",
            "-u",
            str(self.options.users),
            "-r",
            str(self.options.spawn_rate or self.options.users),
            "-t",
            self.options.duration,
            "--host",
            self.base,
            "--csv",
            str(prefix),
            "--only-summary",
            "--loglevel",
            "WARNING",
            "--exit-code-on-error",
            "0",
            "--stop-timeout",
            "10",
        ]
        proc = self.procs.spawn(f"locust {slug}", argv, env, LOGS / f"locust-{slug}.log")
        try:
            proc.wait(timeout=_seconds(self.options.duration) + 180)
        except subprocess.TimeoutExpired:
            self.note(f"locust for {page['name']} did not finish in time")
        self.procs.stop(proc)
        return _locust_stats(Path(f"{prefix}_stats.csv"), page["name"])

    def head_status(self, path: str):
        request = urllib.request.Request(
            self.base + path, method="HEAD", headers={"X-Forwarded-Proto": "https"}
        )
        try:
            with urllib.request.urlopen(request, timeout=120) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code
        except OSError as error:
            return type(error).__name__

    def download_csv(self, page: dict) -> dict:
        result = {"name": page["name"], "status": None, "complete": False}
        status = self.head_status(page["path"])
        if status == 503 or not getattr(self, "open_data_refreshed", False):
            # Large datasets are served from a file beat's periodic job builds when the data
            # changed: on a fresh dataset there is none yet (503), and a file left by an earlier
            # run is stale. Run the job as beat would (in-process) and time it, so the download
            # below is the current data.
            self.open_data_refreshed = True
            log(f"  {page['name']}: HEAD {status}; running beat's open-data job first")
            jobs = self.manage_json(
                "bench_scale_jobs", "--json", "--match", "open_data", env=self.prod_env
            )
            result["prepared"] = ", ".join(
                f"{job['job']} {job['seconds']} s" + (f" {job['error']}" if job["error"] else "")
                for job in jobs
            )
            self.note(
                f"{page['name']} (HEAD {status}): open-data files brought up to date "
                f"in-process by beat's job first: {result['prepared']}"
            )
        start = time.perf_counter()
        try:
            with self.get(page["path"], timeout=600) as response:
                result["status"] = response.status
                first = response.read(1)
                result["first_byte_s"] = round(time.perf_counter() - start, 3)
                body = first + response.read()
                etag = response.headers.get("ETag", "")
                built = response.headers.get("X-Data-Built-At")
                result["served"] = f"file built {built[:19]}" if built else "streamed"
        except Exception as error:  # an incomplete body is a result, not a crash
            result["error"] = f"{type(error).__name__}: {error}"[:200]
            result["seconds"] = round(time.perf_counter() - start, 2)
            return result
        result["seconds"] = round(time.perf_counter() - start, 2)
        result["bytes"] = len(body)
        rows = list(csv.reader(io.StringIO(body.decode("utf-8", "replace"), newline="")))
        result["rows"] = max(0, len(rows) - 1)  # without the header
        match = re.search(r"-(\d+)-", etag)
        result["expected_rows"] = int(match.group(1)) if match else None
        result["complete"] = (
            result["status"] == 200
            and body.endswith(b"\n")
            and (result["expected_rows"] is None or result["rows"] == result["expected_rows"])
        )
        return result

    def count_queries(self, cookie_name: str, sessions: dict, pages: list[dict]) -> dict:
        spec = OUT / "queries-spec.json"
        spec.write_text(
            json.dumps({"cookie_name": cookie_name, "sessions": sessions, "pages": pages})
        )
        return self.manage_json("bench_scale_queries", str(spec), env=self.prod_env)

    def measure_pages(self, fixtures: dict) -> None:
        cookie_name = fixtures["cookie_name"]
        sessions = fixtures["sessions"]
        pages = self.pages(fixtures["ids"])
        csvs = self.csv_pages()
        log("counting SQL queries per request (in-process, test client)")
        queries = self.count_queries(
            cookie_name, sessions, [p for p in pages if p["kind"] != "ceiling"]
        )
        self.start_gunicorn()
        rows = []
        for page in pages:
            cookie = f"{cookie_name}={sessions[page['session']]}" if page["session"] else ""
            statuses = []
            for _ in range(3):  # warm up this page in several workers, and check it works
                try:
                    with self.get(page["path"], cookie, timeout=120) as response:
                        response.read()
                        statuses.append(response.status)
                except OSError as error:
                    statuses.append(type(error).__name__)
            if any(status != 200 for status in statuses):
                self.note(f"{page['name']} answered {statuses} before the load (expected 200)")
            log(f"locust: {page['name']} ({self.options.users} users, {self.options.duration})")
            stats = self.run_locust(page, cookie)
            query = queries.get(page["name"], {})
            if query.get("error") or (query and query.get("status") != 200):
                self.note(
                    f"{page['name']}: in-process request gave {query.get('status')} "
                    f"{query.get('error', '') or query.get('location', '')}".rstrip()
                )
            rows.append({**page, **stats, "queries": query.get("queries")})
            log(
                f"  {stats.get('rps') or 0:.1f} req/s, p50 {stats.get('p50')} ms, "
                f"p95 {stats.get('p95')} ms, failures {stats.get('failures')}"
            )
        ceilings = [r["rps"] for r in rows if r["kind"] == "ceiling" and r.get("rps")]
        ceiling = sum(ceilings) / len(ceilings) if ceilings else None
        for row in rows:
            row["share"] = row["rps"] / ceiling if ceiling and row.get("rps") is not None else None
            row["budget"], row["ok"] = _page_budget(row)
        downloads = []
        for page in csvs:
            log(f"downloading {page['name']}")
            downloads.append(self.download_csv(page))
        csv_queries = self.count_queries(cookie_name, sessions, csvs)
        for result in downloads:
            result["queries"] = csv_queries.get(result["name"], {}).get("queries")
            if not result["complete"]:
                self.note(f"{page['name']} was not complete: {result}")
        self.results.update({"pages": rows, "ceiling_rps": ceiling, "csv": downloads})
        self.procs.stop(self.gunicorn)
        self.gunicorn = None

    # -- 4. alert fan-out ----------------------------------------------------------------------
    def start_sink(self, logfile: Path) -> subprocess.Popen:
        logfile.unlink(missing_ok=True)
        proc = self.procs.spawn(
            "smtp sink",
            [
                sys.executable,
                str(ROOT / "scripts" / "smtp_sink.py"),
                "--port",
                str(self.sink_port),
                "--log",
                str(logfile),
            ],
            self.prod_env,
            LOGS / "smtp-sink.log",
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.sink_port), timeout=0.5):
                    return proc
            except OSError:
                if proc.poll() is not None:
                    raise SystemExit(
                        "the SMTP sink did not start; see logs/smtp-sink.log"
                    ) from None
                time.sleep(0.1)
        raise SystemExit("the SMTP sink did not start")

    def sink_rate(self) -> dict:
        """What the sink accepts from a plain smtplib client: one connection for many messages,
        and one connection per message (as Django's SMTP backend sends each delivery)."""
        sink = self.start_sink(OUT / "sink-rate.log")
        message = EmailMessage()
        message["From"] = "City of Riverbend <noreply@riverbend.example>"
        message["To"] = "someone@subscribers.example"
        message["Subject"] = "Bench test: shelter in place (citywide)"
        message.set_content("This is a load test of the alert system.\n" * 40)
        message.add_alternative("<p>This is a load test of the alert system.</p>\n" * 40, "html")
        result = {}
        try:
            many = self.options.sink_messages
            start = time.perf_counter()
            with smtplib.SMTP("127.0.0.1", self.sink_port, timeout=30) as client:
                for n in range(many):
                    del message["X-CityHall-Delivery"]
                    message["X-CityHall-Delivery"] = f"rate-one-{n}"
                    client.send_message(message)
            seconds = time.perf_counter() - start
            result["one_connection"] = {
                "messages": many,
                "seconds": round(seconds, 2),
                "per_second": round(many / seconds, 1),
            }
            each = self.options.sink_connections
            start = time.perf_counter()
            for n in range(each):
                with smtplib.SMTP("127.0.0.1", self.sink_port, timeout=30) as client:
                    del message["X-CityHall-Delivery"]
                    message["X-CityHall-Delivery"] = f"rate-each-{n}"
                    client.send_message(message)
            seconds = time.perf_counter() - start
            result["connection_per_message"] = {
                "messages": each,
                "seconds": round(seconds, 2),
                "per_second": round(each / seconds, 1),
            }
        finally:
            self.procs.stop(sink)
        received = summarize(OUT / "sink-rate.log")
        result["sink_received"] = received["messages"]
        result["sink_duplicates"] = received["duplicates"]
        return result

    def fan_out(self) -> None:
        log("SMTP sink: measuring its own acceptance rate")
        rate = self.sink_rate()
        self.results["sink"] = rate
        log(
            f"  one connection: {rate['one_connection']['per_second']}/s, "
            f"connection per message: {rate['connection_per_message']['per_second']}/s"
        )
        sink_log = OUT / "sink.log"
        sink = self.start_sink(sink_log)
        self.celery("purge", "-f", "-Q", "celery,urgent")  # nothing left over from other runs
        worker_log = LOGS / "worker.log"
        worker_log.unlink(missing_ok=True)
        worker = self.procs.spawn(
            "celery worker",
            [
                str(VENV_BIN / "celery"),
                "-A",
                "cityhall",
                "worker",
                "--loglevel",
                "info",
                "--concurrency",
                str(self.options.worker_concurrency),
            ],
            self.prod_env,
            worker_log,
        )
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if worker.poll() is not None:
                raise SystemExit(f"the Celery worker exited; see {worker_log}")
            if worker_log.exists() and " ready." in worker_log.read_text(errors="replace"):
                break
            time.sleep(0.3)
        else:
            raise SystemExit(f"the Celery worker did not become ready; see {worker_log}")
        log(
            f"Celery worker ready (production settings, concurrency "
            f"{self.options.worker_concurrency}); publishing the alert"
        )
        try:
            result = self.manage_json(
                "bench_scale_alert",
                "--sink-log",
                str(sink_log),
                "--timeout",
                str(self.options.fanout_timeout),
                env=self.prod_env,
            )
        finally:
            self.procs.stop(worker)
            self.procs.stop(sink)
            self.celery("purge", "-f", "-Q", "celery,urgent")
        result["worker_concurrency"] = self.options.worker_concurrency
        self.results["fan_out"] = result
        if not result["finished"]:
            self.note(
                f"the alert's email did not finish within {self.options.fanout_timeout:.0f} s: "
                f"{result['email_by_status']}"
            )

    # -- 5. jobs -------------------------------------------------------------------------------
    def jobs(self) -> None:
        log("timing the nightly and hourly beat jobs (in-process, once each)")
        args = ["bench_scale_jobs", "--json"]
        if self.options.jobs_rollback:
            args.append("--rollback")
        try:
            self.results["jobs"] = self.manage_json(*args, env=self.prod_env)
        finally:
            self.celery("purge", "-f", "-Q", "celery,urgent")  # what the jobs enqueued

    # -- the whole run -------------------------------------------------------------------------
    def run(self) -> int:
        OUT.mkdir(parents=True, exist_ok=True)
        LOGS.mkdir(parents=True, exist_ok=True)
        started = time.time()
        self.results["machine"] = machine()
        self.results["started"] = time.strftime("%Y-%m-%d %H:%M:%S %Z")
        if not self.options.skip_data:
            self.build_data()
        fixtures = self.manage_json("bench_scale_sessions", env=self.prod_env)
        self.results["machine"]["postgresql"] = fixtures["postgresql"]
        self.results["fixtures"] = fixtures["ids"]
        self.results["dataset"] = dataset_counts(self)
        if not self.options.skip_pages:
            self.measure_pages(fixtures)
        if not self.options.skip_fanout:
            self.fan_out()
        if not self.options.skip_jobs:
            self.jobs()
        self.results["machine"]["load_after"] = [round(x, 2) for x in os.getloadavg()]
        self.results["minutes"] = round((time.time() - started) / 60, 1)
        report = render(self.results)
        print("\n" + report, flush=True)
        (OUT / "results.md").write_text(report)
        (OUT / "results.json").write_text(json.dumps(self.results, indent=2, default=str))
        log(f"written to {(OUT / 'results.md').relative_to(ROOT)} (raw: results.json)")
        return 0


# --- measurements and budgets -------------------------------------------------------------------


def static_outdated() -> bool:
    """collectstatic (the manifest storage post-processes every file: half a minute) only when
    a source file is newer than the last manifest written under .data/bench-scale/static."""
    manifest = OUT / "static" / "staticfiles.json"
    if not manifest.exists():
        return True
    built = manifest.stat().st_mtime
    sources = [ROOT / "static", *ROOT.glob("*/static")]
    for directory in sources:
        for path in directory.rglob("*"):
            if path.is_file() and path.stat().st_mtime > built:
                return True
    return False


def _seconds(duration: str) -> float:
    total = 0.0
    for amount, unit in re.findall(r"(\d+(?:\.\d+)?)([hms]?)", duration):
        total += float(amount) * {"h": 3600, "m": 60}.get(unit, 1)
    return total


def _number(value: str):
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _locust_stats(path: Path, name: str) -> dict:
    if not path.exists():
        return {"rps": None, "p50": None, "p95": None, "p99": None, "requests": 0, "failures": None}
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    row = next((r for r in rows if r.get("Name") == name), None) or next(
        (r for r in rows if r.get("Name") == "Aggregated"), {}
    )
    return {
        "requests": int(_number(row.get("Request Count")) or 0),
        "failures": int(_number(row.get("Failure Count")) or 0),
        "rps": _number(row.get("Requests/s")),
        "mean": _number(row.get("Average Response Time")),
        "p50": _number(row.get("50%")),
        "p95": _number(row.get("95%")),
        "p99": _number(row.get("99%")),
    }


def _page_budget(row: dict) -> tuple[str, bool | None]:
    kind, p95, share = row["kind"], row.get("p95"), row.get("share")
    failed = bool(row.get("failures")) or not row.get("requests")
    if kind == "ceiling":
        return "ceiling", None
    if kind in ("public", "resident"):
        text = f"≥{PUBLIC_SHARE:.0%} ceiling, p95≤{PUBLIC_P95_MS}"
        ok = p95 is not None and p95 <= PUBLIC_P95_MS and share is not None
        ok = ok and share >= PUBLIC_SHARE
    elif kind == "console":
        text = f"p95≤{CONSOLE_P95_MS}"
        ok = p95 is not None and p95 <= CONSOLE_P95_MS
    else:
        text = f"p95≤{KPI_P95_MS}"
        ok = p95 is not None and p95 <= KPI_P95_MS
    return text, ok and not failed


def machine() -> dict:
    meminfo = Path("/proc/meminfo")
    ram = None
    if meminfo.exists():
        match = re.search(r"MemTotal:\s+(\d+) kB", meminfo.read_text())
        ram = round(int(match.group(1)) / 1024 / 1024, 1) if match else None
    try:
        commit = subprocess.run(
            ["git", "describe", "--always", "--dirty"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except OSError:
        commit = ""
    return {
        "cores": os.cpu_count(),
        "cores_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "ram_gb": ram,
        "uname": " ".join(part for part in platform.uname() if part),
        "python": platform.python_version(),
        "load_before": [round(x, 2) for x in os.getloadavg()],
        "commit": commit,
    }


def dataset_counts(run: Run) -> dict:
    """ANALYZE (autovacuum would have, on a real installation), then the main tables' sizes."""
    tables = [
        "code_enforcement_servicerequest",
        "permits_application",
        "cityhall_user",
        "alerts_subscription",
        "kpis_dailyrollup",
        "alerts_notification",
        "alerts_delivery",
    ]
    code = (
        "import json; from django.db import connection\n"
        "c = connection.cursor()\n"
        "c.execute('ANALYZE')\n"
        "counts = {}\n"
        f"for table in {tables!r}:\n"
        "    c.execute(f'SELECT count(*) FROM {table}')\n"
        "    counts[table] = c.fetchone()[0]\n"
        "print(json.dumps(counts))"
    )
    try:
        out = run.manage("shell", "-c", code, env=run.prod_env, capture=True)
        return json.loads(out.strip().splitlines()[-1])
    except (SystemExit, ValueError, IndexError):
        return {}


# --- the report -----------------------------------------------------------------------------------


def _fmt(value, digits: int = 0, suffix: str = "") -> str:
    if value is None:
        return "-"
    return f"{value:,.{digits}f}{suffix}"


def _table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(x)) for x in column) for column in zip(headers, *rows, strict=True)]

    def line(cells):
        return "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    return "\n".join(
        [line(headers), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *map(line, rows)]
    )


def _mark(ok) -> str:
    return "-" if ok is None else ("ok" if ok else "OVER")


def render(results: dict) -> str:
    options = results["options"]
    out = [f"# make bench-scale: {results['started']}", ""]
    m = results["machine"]
    out.append(
        f"Machine: {m['cores']} cores ({m.get('cores_usable')} usable), {m['ram_gb']} GB RAM, "
        f"`{m['uname']}`, PostgreSQL {m.get('postgresql', '?')}, Python {m['python']}; "
        f"load average {m['load_before']} before, {m.get('load_after')} after; "
        f"commit {m.get('commit') or '?'}."
    )
    dataset = results.get("dataset") or {}
    out.append(
        f"Dataset: scale {options['scale']:g}; rows: "
        + ", ".join(f"{name} {count:,}" for name, count in sorted(dataset.items()))
        + "."
    )
    if results.get("data_seconds"):
        out.append(
            "Data steps (s): "
            + ", ".join(f"{k} {v}" for k, v in results["data_seconds"].items())
            + "."
        )
    out.append("")
    if results.get("pages") is not None:
        fixtures = results.get("fixtures", {})
        out += [
            f"## Pages: gunicorn as in the Dockerfile ({results.get('gunicorn_workers')} workers, "
            f"production settings), locust {options['users']} users, {options['duration']} each",
            "",
            f"Resident: {fixtures.get('resident_email')} ({fixtures.get('resident_permits')} "
            f"permits, {fixtures.get('resident_requests')} reports). Times in ms; share of "
            f"ceiling = req/s ÷ mean /healthz req/s ({_fmt(results.get('ceiling_rps'), 1)}).",
            "",
        ]
        rows = [
            [
                row["name"],
                _fmt(row.get("rps"), 1),
                _fmt(row["share"] * 100, 0, "%") if row.get("share") is not None else "-",
                _fmt(row.get("p50")),
                _fmt(row.get("p95")),
                _fmt(row.get("p99")),
                _fmt(row.get("queries")),
                f"{row.get('failures')}/{row.get('requests')}",
                row["budget"],
                _mark(row["ok"]),
            ]
            for row in results["pages"]
        ]
        out += [
            _table(
                [
                    "page",
                    "req/s",
                    "share of ceiling",
                    "p50",
                    "p95",
                    "p99",
                    "queries/request",
                    "failed/requests",
                    "budget",
                    "",
                ],
                rows,
            ),
            "",
        ]
        csv_rows = [
            [
                row["name"],
                str(row.get("status")),
                _fmt(row.get("first_byte_s"), 2),
                _fmt(row.get("seconds"), 2),
                _fmt(row.get("bytes")),
                _fmt(row.get("rows")),
                _fmt(row.get("expected_rows")),
                "yes" if row["complete"] else "NO",
                row.get("served", ""),
                _fmt(row.get("queries")),
            ]
            for row in results.get("csv", [])
        ]
        out += [
            "Open-data CSV exports, one request each:",
            "",
            _table(
                [
                    "export",
                    "status",
                    "first byte s",
                    "total s",
                    "bytes",
                    "rows",
                    "rows expected (ETag)",
                    "complete",
                    "served",
                    "queries",
                ],
                csv_rows,
            ),
            "",
        ]
    if results.get("fan_out"):
        f, s = results["fan_out"], results["sink"]
        single = s["one_connection"]["per_second"]
        rate_ok = f.get("per_second_overall") is not None and (
            f["per_second_overall"] >= ALERT_SHARE * single
        )
        in_time = bool(f["finished"] and f.get("all_sent_s") is not None)
        in_time = in_time and f["all_sent_s"] <= ALERT_SECONDS
        exactly_once = f["duplicates"] == 0 and f["missing"] == 0
        rows = [
            [
                "SMTP sink, one connection (smtplib)",
                f"{s['one_connection']['messages']} messages in "
                f"{s['one_connection']['seconds']} s = {single}/s",
                "",
            ],
            [
                "SMTP sink, one connection per message",
                f"{s['connection_per_message']['messages']} messages in "
                f"{s['connection_per_message']['seconds']} s = "
                f"{s['connection_per_message']['per_second']}/s",
                "",
            ],
            [
                "email subscribers / email deliveries created",
                f"{f['email_subscribers']:,} / {f['email_deliveries']:,}",
                "",
            ],
            ["publish (the console's click)", f"{f['publish_s']} s", ""],
            ["fan-out done", _fmt(f.get("fan_out_s"), 1, " s"), ""],
            ["first email sent", _fmt(f.get("first_sent_s"), 1, " s"), ""],
            [
                "every email sent",
                _fmt(f.get("all_sent_s"), 1, " s")
                if f["finished"]
                else f"NOT FINISHED after {f['waited_s']} s (limit {f['timeout_s']:.0f} s): "
                f"{f['email_by_status']}",
                f"≤{ALERT_SECONDS} s: {_mark(in_time)}",
            ],
            [
                "deliveries/s overall",
                _fmt(f.get("per_second_overall"), 1),
                f"≥{ALERT_SHARE:.0%} of {single}/s: {_mark(rate_ok)}",
            ],
            ["deliveries/s after the fan-out", _fmt(f.get("per_second_after_fan_out"), 1), ""],
            [
                "received by the sink / duplicates / missing",
                f"{f['sink_received']:,} / {f['duplicates']} / {f['missing']}",
                f"exactly once: {_mark(exactly_once)}",
            ],
            ["SMS deliveries", json.dumps(f.get("sms_by_status", {})), ""],
        ]
        if f.get("errors"):
            rows.append(["delivery errors (sample)", "; ".join(f["errors"])[:200], ""])
        out += [
            f"## Alert fan-out: one citywide emergency alert (Celery worker, concurrency "
            f"{f['worker_concurrency']})",
            "",
            "Settings: "
            + ", ".join(f"{k}={v!r}" for k, v in f.get("settings", {}).items())
            + ". Times from the publish call.",
            "",
            _table(["", "measured", "budget"], rows),
            "",
        ]
    if results.get("jobs"):
        rows = [
            [
                job["job"],
                job["task"],
                job["schedule"],
                _fmt(job["seconds"], 2),
                str(job["result"]) if not job["error"] else f"ERROR {job['error']}",
                f"≤{job['budget_s']:.0f} s",
                "ERROR" if job["error"] else _mark(job["ok"]),
            ]
            for job in results["jobs"]
        ]
        rollback = " (each rolled back)" if options.get("jobs_rollback") else ""
        out += [
            f"## Beat jobs, once each, in-process{rollback}",
            "",
            _table(["job", "task", "schedule", "seconds", "result", "budget", ""], rows),
            "",
        ]
    if results["notes"]:
        out += ["## Problems seen", ""] + [f"- {note}" for note in results["notes"]] + [""]
    out.append(f"Run time: {results.get('minutes')} min.")
    return "\n".join(out) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description="City Hall at city size (make bench-scale).")
    parser.add_argument("--scale", type=float, default=1.0, help="dataset size; 0: demo only")
    parser.add_argument("--force", action="store_true", help="rebuild the dataset")
    parser.add_argument("--duration", default="20s", help="locust run time per page")
    parser.add_argument("--users", type=int, default=30, help="locust users per page")
    parser.add_argument("--spawn-rate", type=int, default=0, help="default: --users")
    parser.add_argument("--web-workers", type=int, default=0, help="default: 3 per core")
    parser.add_argument("--worker-concurrency", type=int, default=2)
    parser.add_argument(
        "--fanout-timeout", type=float, default=900, help="seconds to wait for the alert email"
    )
    parser.add_argument("--sink-messages", type=int, default=2000)
    parser.add_argument("--sink-connections", type=int, default=500)
    parser.add_argument("--jobs-rollback", action="store_true", help="undo each job's changes")
    parser.add_argument("--skip-data", action="store_true", help="use the database as it is")
    parser.add_argument("--skip-pages", action="store_true")
    parser.add_argument("--skip-fanout", action="store_true")
    parser.add_argument("--skip-jobs", action="store_true")
    options = parser.parse_args()
    for name in ("DATABASE_URL", "REDIS_URL"):
        if not os.environ.get(name):
            raise SystemExit(f"{name} is not set: run this through `make bench-scale`.")

    def on_signal(signum, _frame):
        # Once: Ctrl-C reaches us from the terminal and devstack alike, and a second signal
        # must not cut the clean-up short.
        for other in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(other, signal.SIG_IGN)
        raise KeyboardInterrupt

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, on_signal)
    run = Run(options)
    try:
        return run.run()
    except KeyboardInterrupt:
        log("interrupted; stopping everything this run started")
        return 130
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, signal.SIG_IGN)
        run.procs.stop_all()


if __name__ == "__main__":
    sys.exit(main())
