"""`make bench-scale`: SQL queries of one request per page, in-process, against the same database.

Reads a JSON file: {"cookie_name": ..., "sessions": {"admin": key, ...}, "pages": [{"name": ...,
"path": ..., "session": "admin" | "resident" | null}, ...]}. Each page is requested once to
warm caches, then once more inside CaptureQueriesContext (streamed bodies are read to the end
inside it). Prints JSON: {name: {"status": ..., "queries": ..., "bytes": ...}}.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext


def _get(client: Client, path: str):
    response = client.get(path, secure=True)
    if response.streaming:
        size = sum(len(chunk) for chunk in response.streaming_content)
    else:
        size = len(response.content)
    return response, size


class Command(BaseCommand):
    help = "Count the SQL queries of one request per page (JSON in, JSON out)."

    def add_arguments(self, parser):
        parser.add_argument("spec", help="JSON file with cookie_name, sessions and pages")
        parser.add_argument("--host", default="127.0.0.1", help="Host header (ALLOWED_HOSTS)")

    def handle(self, *args, spec, host, **options):
        data = json.loads(Path(spec).read_text())
        cookie_name = data.get("cookie_name") or settings.SESSION_COOKIE_NAME
        results = {}
        for page in data["pages"]:
            client = Client(HTTP_HOST=host, HTTP_X_FORWARDED_PROTO="https")
            session = page.get("session")
            if session:
                client.cookies[cookie_name] = data["sessions"][session]
            try:
                _get(client, page["path"])  # warm caches, connections, the session
                with CaptureQueriesContext(connection) as queries:
                    response, size = _get(client, page["path"])
                results[page["name"]] = {
                    "status": response.status_code,
                    "queries": len(queries.captured_queries),
                    "bytes": size,
                    "location": response.get("Location", ""),
                }
            except Exception as error:  # report it with the others; the run goes on
                results[page["name"]] = {
                    "status": None,
                    "queries": None,
                    "bytes": None,
                    "error": f"{type(error).__name__}: {error}"[:300],
                }
        self.stdout.write(json.dumps(results))
