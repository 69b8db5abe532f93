"""A local SMTP sink for `make bench-scale`: accepts every message, keeps none of it.

    python scripts/smtp_sink.py --port 2525 --log .data/bench-scale/sink.log

Listens on 127.0.0.1 without TLS or authentication (SMTP_URL=smtp://127.0.0.1:2525?tls=0) and
appends one line per message to the log: "<unix time>\\t<X-CityHall-Delivery header or ->".
Duplicates (the same delivery received twice) are counted in memory too; on SIGTERM/SIGINT a
summary (messages, unique deliveries, duplicates, first and last arrival) is printed as JSON
and written to --summary if given. `summarize(log)` reads a log the same way.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import signal
import sys
import time
from pathlib import Path

DELIVERY_HEADER = re.compile(rb"(?im)^X-CityHall-Delivery:[ \t]*(\S+)")


class SinkHandler:
    def __init__(self, log) -> None:
        self.log = log
        self.messages = 0
        self.recipients = 0
        self.bytes = 0
        self.seen: set[str] = set()
        self.duplicates = 0
        self.first: float | None = None
        self.last: float | None = None

    async def handle_DATA(self, server, session, envelope) -> str:
        now = time.time()
        content = envelope.original_content or envelope.content or b""
        if isinstance(content, str):
            content = content.encode("utf-8", "replace")
        head = content.split(b"\r\n\r\n", 1)[0]
        match = DELIVERY_HEADER.search(head)
        delivery = match.group(1).decode("ascii", "replace") if match else "-"
        self.messages += 1
        self.recipients += len(envelope.rcpt_tos)
        self.bytes += len(content)
        if delivery != "-":
            if delivery in self.seen:
                self.duplicates += 1
            self.seen.add(delivery)
        self.first = self.first or now
        self.last = now
        self.log.write(f"{now:.6f}\t{delivery}\n")
        self.log.flush()
        return "250 Message accepted"

    def summary(self) -> dict:
        return {
            "messages": self.messages,
            "recipients": self.recipients,
            "bytes": self.bytes,
            "unique_deliveries": len(self.seen),
            "duplicates": self.duplicates,
            "first": self.first,
            "last": self.last,
        }


def summarize(log: Path, *, since: float = 0.0) -> dict:
    """Messages, unique deliveries and duplicates in a sink log (lines at or after `since`)."""
    times, seen, duplicates, without = [], set(), 0, 0
    if log.exists():
        for line in log.read_text().splitlines():
            stamp, _tab, delivery = line.partition("\t")
            if not stamp or float(stamp) < since:
                continue
            times.append(float(stamp))
            if delivery == "-":
                without += 1
            elif delivery in seen:
                duplicates += 1
            else:
                seen.add(delivery)
    return {
        "messages": len(times),
        "unique_deliveries": len(seen),
        "duplicates": duplicates,
        "without_header": without,
        "first": min(times) if times else None,
        "last": max(times) if times else None,
    }


async def serve(host: str, port: int, handler: SinkHandler) -> None:
    from aiosmtpd.smtp import SMTP

    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(handler, hostname="bench-sink", data_size_limit=None, loop=loop),
        host=host,
        port=port,
    )
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        loop.add_signal_handler(signum, stop.set)
    print(f"smtp sink listening on {host}:{port}", flush=True)
    async with server:
        await stop.wait()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--log", type=Path, required=True)
    parser.add_argument("--summary", type=Path)
    options = parser.parse_args()
    options.log.parent.mkdir(parents=True, exist_ok=True)
    with options.log.open("a", buffering=1) as log:
        handler = SinkHandler(log)
        asyncio.run(serve(options.host, options.port, handler))
    summary = handler.summary()
    if options.summary:
        options.summary.write_text(json.dumps(summary))
    print(json.dumps(summary), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
