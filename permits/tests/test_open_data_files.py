"""Large open datasets come from a file the worker keeps up to date: served whole, never cut off
by a timeout; a missing file is a clear 503, a stale one is served while a rebuild is queued,
and a build that crashes leaves the previous file in place."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.utils import timezone

from permits import opendata
from permits.models import Application
from permits.selectors import BLDS_HEADER

from .factories import make_application, make_permit_type

pytestmark = pytest.mark.django_db


@pytest.fixture
def files(settings, monkeypatch):
    """Every dataset is "large"; refresh requests are recorded instead of queued."""
    settings.OPEN_DATA_LIVE_ROWS = 0
    requested = []
    monkeypatch.setattr(opendata, "request_refresh", lambda: requested.append(1))
    return requested


@pytest.fixture
def permits(alice):
    building = make_permit_type("BLD")
    return [
        make_application(alice, building, status="submitted", address=f"{n} Quince Lane")
        for n in (12, 14)
    ]


def _body(response) -> str:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return content.decode("utf-8")


def _numbers(response) -> list[str]:
    rows = list(csv.reader(io.StringIO(_body(response))))
    assert rows[0] == BLDS_HEADER
    return [row[0] for row in rows[1:]]


def test_before_the_first_build_the_download_is_a_clear_503(client, files, permits):
    response = client.get("/open-data/permits.csv")
    assert response.status_code == 503
    assert response["Retry-After"] == "60"
    body = response.content.decode()
    assert "This dataset is being prepared" in body
    assert "Please try again in about 1 minute." in body
    assert files  # the worker was asked to build it


def test_the_built_file_is_served_whole_with_its_own_validators(client, files, permits, settings):
    assert opendata.refresh() == {
        "permits.csv": 2,
        "permits.json": 2,
        "licenses.csv": 0,
        "licenses.json": 0,
    }
    response = client.get("/open-data/permits.csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert sorted(_numbers(response)) == sorted(app.number for app in permits)
    assert response["X-Data-Built-At"]
    items = json.loads(_body(client.get("/open-data/permits.json")))
    assert sorted(item["PermitNum"] for item in items) == sorted(app.number for app in permits)
    # The same bytes and validators as the live stream of the same data.
    settings.OPEN_DATA_LIVE_ROWS = 10_000
    live = client.get("/open-data/permits.csv")
    settings.OPEN_DATA_LIVE_ROWS = 0
    assert _body(client.get("/open-data/permits.csv")) == _body(live)
    assert response["ETag"] == live["ETag"]
    assert client.get("/open-data/permits.csv", HTTP_IF_NONE_MATCH=live["ETag"]).status_code == 304
    assert not files  # nothing to rebuild
    assert opendata.refresh() == {}  # and the next beat rebuilds nothing


def test_a_stale_file_is_served_while_the_worker_rebuilds_it(client, files, permits, alice):
    opendata.refresh()
    before = client.get("/open-data/permits.csv")
    newer = make_application(
        alice, permits[0].permit_type, status="submitted", address="16 Quince Lane"
    )

    stale = client.get("/open-data/permits.csv")
    assert stale["ETag"] == before["ETag"]  # the validators of what is served
    assert newer.number not in _numbers(stale)
    assert files  # a rebuild was asked for

    assert set(opendata.refresh()) == {"permits.csv", "permits.json"}
    fresh = client.get("/open-data/permits.csv", HTTP_IF_NONE_MATCH=before["ETag"])
    assert fresh.status_code == 200 and fresh["ETag"] != before["ETag"]
    assert newer.number in _numbers(fresh)


def test_a_build_that_crashes_leaves_the_previous_file(client, files, permits, monkeypatch):
    opendata.refresh()
    Application.objects.filter(pk=permits[0].pk).update(updated_at=timezone.now())
    real_chunks = opendata.chunks

    def crash_halfway(*args, **kwargs):
        chunks = real_chunks(*args, **kwargs)
        yield next(chunks)
        raise MemoryError("the worker died")

    monkeypatch.setattr(opendata, "chunks", crash_halfway)
    with pytest.raises(MemoryError):
        opendata.refresh()

    response = client.get("/open-data/permits.csv")
    assert sorted(_numbers(response)) == sorted(app.number for app in permits)
    assert files
    monkeypatch.setattr(opendata, "chunks", real_chunks)
    assert set(opendata.refresh()) == {"permits.csv", "permits.json"}
    built = opendata.current("permits", "csv")
    assert len(list(built.path.parent.glob("permits-*.csv"))) == 2  # this one and the last


def test_a_refresh_asked_for_while_none_runs_is_queued_again(settings, permits, monkeypatch):
    """The mark that keeps a crowd from queueing many rebuilds is cleared by the rebuild, so a
    file missing later (a new volume, a failed build) is asked for again at once."""
    from django.core.cache import cache

    settings.OPEN_DATA_LIVE_ROWS = 0
    queued = []
    monkeypatch.setattr(
        "cityhall.celery.app.signature",
        lambda name: type("S", (), {"delay": lambda self: queued.append(name)})(),
    )
    cache.delete(opendata.REFRESH_QUEUED)
    opendata.request_refresh()
    opendata.request_refresh()
    assert queued == [opendata.REFRESH_TASK]  # one rebuild for two visitors
    opendata.refresh()
    opendata.request_refresh()
    assert len(queued) == 2
