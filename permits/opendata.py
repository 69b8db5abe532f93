"""The open datasets as files: small datasets are streamed live; large ones are written to a
file by the worker and served whole, so a download is never cut off halfway by the web server's
timeout (a 200,000-row CSV takes about a minute to produce).

A built file is named after the dataset's version (its ETag) and published by replacing a small
pointer file atomically: a reader sees the old file or the new one, never half of one. A build
interrupted by a crash leaves only a temporary file, removed by the next build.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.db import connections, router, transaction

from cityhall.csvsafe import SafeWriter
from cityhall.dbrouter import from_replica
from cityhall.links import site_url

from . import selectors
from .models import Application

DATASETS = {
    # name: (building permits?, rows)
    "permits": (True, selectors.blds_rows),
    "licenses": (False, selectors.license_rows),
}
FORMATS = ("csv", "json")
REFRESH_TASK = "permits.tasks.refresh_open_data"

# Typed values in the JSON variant (CSV carries text only).
_INTEGERS = {"TotalSqFt", "HousingUnits", "Fee"}
_DECIMALS = {"Latitude", "Longitude", "EstProjectCost"}


class _Echo:
    def write(self, value):
        return value


def _json_value(name: str, value: str):
    if value == "":
        return None
    if name in _INTEGERS:
        return int(value)
    if name in _DECIMALS:
        return float(value)
    return value


def json_chunks(rows: Iterator[list[str]]) -> Iterator[str]:
    header = next(rows)
    yield "["
    for index, row in enumerate(rows):
        item = {name: _json_value(name, value) for name, value in zip(header, row, strict=True)}
        yield ("," if index else "") + "\n" + json.dumps(item, ensure_ascii=False)
    yield "\n]\n"


def csv_chunks(rows: Iterator[list[str]]) -> Iterator[str]:
    writer = SafeWriter(_Echo())
    return (writer.writerow(row) for row in rows)


def chunks(dataset: str, fmt: str, *, base_url: str) -> Iterator[str]:
    """The dataset's text, piece by piece, produced from the database now."""
    rows = DATASETS[dataset][1](site_url=base_url)
    return json_chunks(rows) if fmt == "json" else csv_chunks(rows)


def version(dataset: str) -> tuple[str, datetime | None, int]:
    """(ETag, Last-Modified, rows) of the dataset as the database has it now."""
    return selectors.open_data_version(building=DATASETS[dataset][0])


# --- Built files -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Built:
    path: Path
    version: str
    last_modified: datetime | None
    rows: int
    built_at: datetime


def _directory() -> Path:
    return Path(settings.MEDIA_ROOT) / "open-data"


def _pointer(dataset: str, fmt: str) -> Path:
    return _directory() / f"{dataset}.{fmt}.current.json"


def current(dataset: str, fmt: str) -> Built | None:
    """The last file built for this dataset and format, if any."""
    try:
        data = json.loads(_pointer(dataset, fmt).read_text())
    except (OSError, ValueError):
        return None
    path = _directory() / data["file"]
    if not path.exists():
        return None
    last = data["last_modified"]
    return Built(
        path=path,
        version=data["version"],
        last_modified=datetime.fromisoformat(last) if last else None,
        rows=data["rows"],
        built_at=datetime.fromisoformat(data["built_at"]),
    )


def build(dataset: str, fmt: str) -> Built:
    """Write the dataset to a new file, then publish it; older files are removed, except the
    one just replaced (a download of it may still be running)."""
    directory = _directory()
    directory.mkdir(parents=True, exist_ok=True)
    with from_replica():
        alias = router.db_for_read(Application)
        outermost = not connections[alias].in_atomic_block
        with transaction.atomic(using=alias):
            if outermost:  # one snapshot for the version and the rows written under its name
                connections[alias].cursor().execute(
                    "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY"
                )
            return _write(dataset, fmt, directory)


def _write(dataset: str, fmt: str, directory: Path) -> Built:
    from django.utils import timezone

    tag, last_modified, rows = version(dataset)
    name = f"{dataset}-{tag}.{fmt}"
    temporary = directory / f".{name}.{os.getpid()}.tmp"
    with temporary.open("w", encoding="utf-8", newline="") as out:
        for chunk in chunks(dataset, fmt, base_url=site_url()):
            out.write(chunk)
        out.flush()
        os.fsync(out.fileno())
    os.replace(temporary, directory / name)
    previous = current(dataset, fmt)
    pointer = {
        "file": name,
        "version": tag,
        "last_modified": last_modified.isoformat() if last_modified else None,
        "rows": rows,
        "built_at": timezone.now().isoformat(),
    }
    pointer_temporary = directory / f".{dataset}.{fmt}.{os.getpid()}.json.tmp"
    pointer_temporary.write_text(json.dumps(pointer))
    os.replace(pointer_temporary, _pointer(dataset, fmt))
    keep = {name, previous.path.name if previous else ""}
    for old in directory.glob(f"{dataset}-*.{fmt}"):
        if old.name not in keep:
            old.unlink(missing_ok=True)
    an_hour_ago = time.time() - 3600
    for stale in directory.glob(f".{dataset}*.tmp"):  # left by a build that crashed
        with contextlib.suppress(OSError):
            if stale.stat().st_mtime < an_hour_ago:
                stale.unlink()
    return current(dataset, fmt)


def refresh(*, force: bool = False) -> dict[str, int]:
    """Rebuild every dataset file whose data changed since it was built (beat, every few
    minutes). Returns the rows written per file rebuilt."""
    rebuilt = {}
    cache.delete(REFRESH_QUEUED)
    for dataset in DATASETS:
        tag, _last, _rows = version(dataset)
        for fmt in FORMATS:
            built = current(dataset, fmt)
            if force or built is None or built.version != tag:
                rebuilt[f"{dataset}.{fmt}"] = build(dataset, fmt).rows
    return rebuilt


REFRESH_QUEUED = "open-data:refresh-queued"
# How long a visitor is asked to wait for a file not built yet; a build of 200,000 permits takes
# about 20 seconds. A rebuild is asked for at most this often, however many visitors ask.
RETRY_SECONDS = 60


def request_refresh() -> None:
    """Ask the worker for a rebuild, at most once a minute however many ask (the rebuild clears
    the mark when it is done, so a later change is picked up at once)."""
    if cache.add(REFRESH_QUEUED, 1, timeout=RETRY_SECONDS):
        from cityhall.celery import app

        app.signature(REFRESH_TASK).delay()
