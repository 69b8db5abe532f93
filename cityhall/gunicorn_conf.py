"""gunicorn settings (`gunicorn -c python:cityhall.gunicorn_conf ...`): access logs without
secrets. API keys, report keys and signed tokens travel in query strings and paths; the access
log keeps the request's shape and drops those values."""

from __future__ import annotations

import re

from gunicorn.glogging import Logger

# Method, path, query string (redacted), status, size, time: no referrer (it can carry the same
# secrets of another page) and no user agent (not needed to operate the service).
access_log_format = '%(h)s %(t)s "%(m)s %(U)s%(q)s" %(s)s %(b)s %(M)sms'

_SECRET_PARAMS = re.compile(r"(?i)\b(api_key|key|token|secret|code)=[^&\s\"]*")
# Paths whose last segments are signed tokens.
_SECRET_PATHS = re.compile(
    r"(/(?:alerts/unsubscribe|alerts/confirm|alerts/subscribe/code|accounts/confirm-email|"
    r"accounts/password/reset/key|open311/v2/tokens)/)[^/\s?\"]+"
)


def redact(text: str) -> str:
    text = _SECRET_PARAMS.sub(lambda m: f"{m.group(1)}=[redacted]", text)
    return _SECRET_PATHS.sub(r"\1[redacted]", text)


class RedactingLogger(Logger):
    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        for name in ("r", "U", "q", "f"):
            if isinstance(atoms.get(name), str):
                atoms[name] = redact(atoms[name])
        if atoms.get("q"):
            atoms["q"] = "?" + atoms["q"]
        return atoms


logger_class = RedactingLogger
