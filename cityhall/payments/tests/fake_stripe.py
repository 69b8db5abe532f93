"""A local fake of the parts of Stripe's HTTP API City Hall uses, for stripe-python to talk to.

It listens on 127.0.0.1 (a free port) in a thread of the test process, so a Celery worker started
by a test reaches it too. What it answers follows Stripe's API reference: form-encoded requests
(nested keys such as ``line_items[0][price_data][unit_amount]``), JSON answers, an ``error``
object on failures, list objects, and idempotent POSTs (the same ``Idempotency-Key`` with the
same parameters replays the first answer; with other parameters, an ``idempotency_error``).

Tests drive the payer's side in Python: ``complete`` (paid), ``decline`` (Stripe keeps the payer
on its page: the session stays open), ``expire``, ``event`` (a webhook event as Stripe would
send it) and ``signed_headers``; and the provider's health: ``down``/``up`` (connection
refused) and ``fail_next`` (HTTP 500s).
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import re
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

API_VERSION = "2025-09-30.clover"


def signature_header(payload: bytes | str, secret: str, timestamp: int | None = None) -> str:
    """The ``Stripe-Signature`` value Stripe sends: ``t=<ts>,v1=<hex HMAC-SHA256>`` of
    ``"<ts>.<payload>"`` with the endpoint's signing secret (stripe/_webhook.py verifies it)."""
    if isinstance(payload, bytes):
        payload = payload.decode("utf-8")
    timestamp = int(time.time()) if timestamp is None else int(timestamp)
    mac = hmac.new(secret.encode(), f"{timestamp}.{payload}".encode(), hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def signed_headers(payload: bytes | str, secret: str, timestamp: int | None = None) -> dict:
    """Headers for posting ``payload`` to a webhook endpoint, e.g. ``client.post(...,
    headers=signed_headers(body, secret))``."""
    return {"Stripe-Signature": signature_header(payload, secret, timestamp)}


def parse_form(pairs) -> dict:
    """Stripe's form encoding to nested data: ``a[b][0][c]=1`` -> ``{"a": {"b": [{"c": "1"}]}}``.
    Values stay strings, as Stripe receives them."""
    root: dict = {}
    for key, value in pairs:
        parts = re.findall(r"[^\[\]]+|\[\]", key)
        node = root
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            if part == "[]":  # expand[]=x: append
                part = str(len(node))
            if last:
                node[part] = value
            else:
                node = node.setdefault(part, {})
    return _listify(root)


def _listify(node):
    if not isinstance(node, dict):
        return node
    node = {key: _listify(value) for key, value in node.items()}
    if node and all(key.isdigit() for key in node):
        return [node[key] for key in sorted(node, key=int)]
    return node


class StripeError(Exception):
    def __init__(self, status: int, message: str, *, type_="invalid_request_error", **more):
        super().__init__(message)
        self.status = status
        self.body = {"error": {"type": type_, "message": message, **more}}


class FakeStripe:
    """The fake's state (sessions, payment intents, charges, refunds, balance transactions,
    payouts) and its server. Use as a context manager, or ``start()`` / ``stop()``."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.sessions: dict[str, dict] = {}
        self.line_items: dict[str, list] = {}  # session id -> the line items it was created with
        self.charges: dict[str, dict] = {}  # ch_ id -> charge
        self.refunds: dict[str, dict] = {}  # re_ id -> refund
        self.balance_transactions: list[dict] = []
        self.payouts: list[dict] = []
        self.requests: list[dict] = []  # every request: method, path, params, headers
        self.sessions_created = 0
        self.refunds_created = 0
        self.replayed = 0  # POSTs answered from the idempotency cache
        self._idempotent: dict[str, tuple] = {}  # key -> (fingerprint, status, body)
        self._fail_next = 0
        self._fail_status = 500
        self._reject_next: list[tuple] = []  # (path prefix, status, message, more)
        self._ids = itertools.count(1)
        self.server: ThreadingHTTPServer | None = None
        self.thread: threading.Thread | None = None
        self.port = 0

    # --- The server ---------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """Where stripe-python is pointed (``stripe.api_base``)."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FakeStripe:
        fake = self

        class Handler(_Handler):
            stripe = fake

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None
            self.thread = None

    def __enter__(self) -> FakeStripe:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def down(self) -> None:
        """Stripe is unreachable: the port refuses connections until ``up()``."""
        self.stop()

    def up(self) -> None:
        if self.server is None:
            self.start()  # the same port again

    def fail_next(self, n: int = 1, status: int = 500) -> None:
        """The next ``n`` requests answer ``status`` with an ``api_error`` (stripe-python retries
        a 5xx up to ``max_network_retries`` times, with the same idempotency key)."""
        with self.lock:
            self._fail_next = n
            self._fail_status = status

    def reject_next(self, path_prefix: str, message: str, status: int = 400, **more) -> None:
        """The next request to ``path_prefix`` (e.g. "/v1/refunds") is refused the way Stripe
        refuses an invalid request."""
        with self.lock:
            self._reject_next.append((path_prefix, status, message, more))

    # --- What tests read ------------------------------------------------------------------------

    def calls(self, method: str, path: str) -> list[dict]:
        return [r for r in self.requests if r["method"] == method and r["path"] == path]

    def session(self, session_id: str) -> dict:
        with self.lock:
            return json.loads(json.dumps(self.sessions[session_id]))

    def only_session(self) -> dict:
        assert len(self.sessions) == 1, f"{len(self.sessions)} sessions at the fake"
        return self.session(next(iter(self.sessions)))

    # --- The payer's side and Stripe's own doings ----------------------------------------------

    def _id(self, prefix: str) -> str:
        return f"{prefix}_{next(self._ids):04d}{secrets.token_hex(8)}"

    def complete(self, session_id: str, *, async_payment: bool = False) -> dict:
        """The payer paid on Stripe's page: the session is complete and paid, with a payment
        intent, a charge and its balance transaction. ``async_payment=True``: a bank debit the
        bank has not confirmed yet (complete but "unpaid" until ``async_succeeded``)."""
        with self.lock:
            session = self.sessions[session_id]
            assert session["status"] == "open", f"session is {session['status']}"
            session["status"] = "complete"
            session["payment_intent"] = self._id("pi")
            if async_payment:
                session["payment_status"] = "unpaid"
            else:
                self._pay(session)
            return self.session(session_id)

    def async_succeeded(self, session_id: str) -> dict:
        with self.lock:
            session = self.sessions[session_id]
            assert session["status"] == "complete" and session["payment_status"] == "unpaid"
            self._pay(session)
            return self.session(session_id)

    def async_failed(self, session_id: str) -> dict:
        with self.lock:
            session = self.sessions[session_id]
            assert session["status"] == "complete" and session["payment_status"] == "unpaid"
            return self.session(session_id)

    def _pay(self, session: dict) -> None:
        session["payment_status"] = "paid"
        self.add_charge(session["amount_total"], payment_intent=session["payment_intent"])

    def add_charge(self, amount: int, *, payment_intent: str | None = None) -> dict:
        """A card charge (in cents) and its balance transaction; without ``payment_intent`` one
        City Hall never heard of (a payment link, a dashboard charge...)."""
        with self.lock:
            now = int(time.time())
            charge = {
                "id": self._id("ch"),
                "object": "charge",
                "amount": amount,
                "amount_refunded": 0,
                "currency": "usd",
                "paid": True,
                "status": "succeeded",
                "refunded": False,
                "payment_intent": payment_intent or self._id("pi"),
                "created": now,
            }
            txn = {
                "id": self._id("txn"),
                "object": "balance_transaction",
                "type": "charge",
                "reporting_category": "charge",
                "amount": amount,
                "fee": round(amount * 0.029) + 30,
                "currency": "usd",
                "status": "pending",
                "created": now,
                "source": charge["id"],
            }
            txn["net"] = txn["amount"] - txn["fee"]
            charge["balance_transaction"] = txn["id"]
            self.charges[charge["id"]] = charge
            self.balance_transactions.append(txn)
            return dict(charge)

    def decline(self, session_id: str) -> dict:
        """The card was declined. Stripe shows the error on its page and keeps the payer there:
        the session stays open and unpaid (nothing is sent to us)."""
        with self.lock:
            session = self.sessions[session_id]
            assert session["status"] == "open"
            session.setdefault("_declines", 0)
            session["_declines"] += 1
            return self.session(session_id)

    def expire(self, session_id: str) -> dict:
        """The payer left and the session expired (24 h at Stripe, or ``expire`` from the API)."""
        with self.lock:
            session = self.sessions[session_id]
            assert session["status"] == "open", f"session is {session['status']}"
            session["status"] = "expired"
            session["url"] = None
            return self.session(session_id)

    def add_payout(self, amount: int, arrival_date: int | None = None) -> dict:
        with self.lock:
            payout = {
                "id": self._id("po"),
                "object": "payout",
                "amount": amount,
                "currency": "usd",
                "arrival_date": arrival_date or int(time.time()),
                "status": "paid",
            }
            self.payouts.append(payout)
            return dict(payout)

    def event(
        self,
        session_id: str,
        type_: str = "checkout.session.completed",
        *,
        event_id: str | None = None,
        created: int | None = None,
    ) -> dict:
        """The event Stripe would send now: a snapshot of the session in ``data.object``."""
        snapshot = {k: v for k, v in self.session(session_id).items() if not k.startswith("_")}
        return {
            "id": event_id or self._id("evt"),
            "object": "event",
            "api_version": API_VERSION,
            "created": created or int(time.time()),
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "type": type_,
            "data": {"object": snapshot},
        }

    signed_headers = staticmethod(signed_headers)

    # --- The API ---------------------------------------------------------------------------------

    def handle(self, method: str, path: str, params: dict, headers: dict) -> tuple[int, dict]:
        with self.lock:
            self.requests.append(
                {"method": method, "path": path, "params": params, "headers": headers}
            )
            if self._fail_next:
                self._fail_next -= 1
                return self._fail_status, {
                    "error": {"type": "api_error", "message": "Something went wrong on our end."}
                }
            if not headers.get("authorization", "").startswith("Bearer sk_"):
                return 401, {
                    "error": {"type": "invalid_request_error", "message": "Invalid API Key."}
                }
            for i, (prefix, status, message, more) in enumerate(self._reject_next):
                if path.startswith(prefix):
                    del self._reject_next[i]
                    return status, StripeError(status, message, **more).body
            key = headers.get("idempotency-key") if method == "POST" else None
            fingerprint = json.dumps([method, path, params], sort_keys=True)
            if key and key in self._idempotent:
                first, status, body = self._idempotent[key]
                if first != fingerprint:
                    return 400, {
                        "error": {
                            "type": "idempotency_error",
                            "message": "Keys for idempotent requests can only be used with the "
                            "same parameters they were first used with.",
                        }
                    }
                self.replayed += 1
                return status, body
            try:
                status, body = 200, self.route(method, path, params)
            except StripeError as error:
                status, body = error.status, error.body
            if key:
                self._idempotent[key] = (fingerprint, status, body)
            return status, body

    def route(self, method: str, path: str, params: dict) -> dict:
        if method == "POST" and path == "/v1/checkout/sessions":
            return self.create_session(params)
        match = re.fullmatch(r"/v1/checkout/sessions/([^/]+)(/expire)?", path)
        if match:
            session_id, expire = match.groups()
            if session_id not in self.sessions:
                raise StripeError(
                    404,
                    f"No such checkout.session: '{session_id}'",
                    code="resource_missing",
                    param="session",
                )
            if method == "POST" and expire:
                if self.sessions[session_id]["status"] != "open":
                    raise StripeError(
                        400,
                        'Only Checkout Sessions with a status in ["open"] can be expired.',
                        code="checkout_session_not_open",
                    )
                return self._public(self.expire(session_id))
            if method == "GET" and not expire:
                return self._public(self.session(session_id))
        if method == "POST" and path == "/v1/refunds":
            return self.create_refund(params)
        if method == "GET" and path == "/v1/balance_transactions":
            return self.list_balance_transactions(params)
        if method == "GET" and path == "/v1/payouts":
            return self._list(
                "/v1/payouts",
                [
                    p
                    for p in self.payouts
                    if _in_range(p["arrival_date"], params.get("arrival_date"))
                ],
                params,
            )
        raise StripeError(404, f"Unrecognized request URL ({method}: {path}).")

    @staticmethod
    def _public(session: dict) -> dict:
        return {k: v for k, v in session.items() if not k.startswith("_")}

    def create_session(self, params: dict) -> dict:
        items = params.get("line_items") or []
        if params.get("mode") != "payment" or not items:
            raise StripeError(400, "Missing required param: line_items.", param="line_items")
        for name in ("success_url", "cancel_url"):
            if not params.get(name):
                raise StripeError(400, f"Missing required param: {name}.", param=name)
        total = 0
        currencies = set()
        for item in items:
            price = item.get("price_data") or {}
            try:
                unit_amount = int(price["unit_amount"])
                quantity = int(item.get("quantity", "1"))
            except (KeyError, ValueError):
                raise StripeError(
                    400, "Invalid integer: unit_amount", param="line_items[0][price_data]"
                ) from None
            if unit_amount < 50:
                raise StripeError(
                    400, "The Checkout Session's total amount due must add up to at least $0.50"
                )
            currencies.add(price.get("currency"))
            total += unit_amount * quantity
        session_id = f"cs_test_{secrets.token_hex(16)}"
        now = int(time.time())
        session = {
            "id": session_id,
            "object": "checkout.session",
            "url": f"{self.url}/pay/{session_id}",
            "status": "open",
            "payment_status": "unpaid",
            "mode": "payment",
            "amount_subtotal": total,
            "amount_total": total,
            "currency": currencies.pop() if len(currencies) == 1 else None,
            "client_reference_id": params.get("client_reference_id"),
            "customer_email": params.get("customer_email"),
            "locale": params.get("locale"),
            "metadata": params.get("metadata") or {},
            "payment_intent": None,
            "success_url": params["success_url"],
            "cancel_url": params["cancel_url"],
            "created": now,
            "expires_at": now + 24 * 3600,
            "livemode": False,
        }
        self.sessions[session_id] = session
        self.line_items[session_id] = items
        self.sessions_created += 1
        return self._public(session)

    def create_refund(self, params: dict) -> dict:
        intent = params.get("payment_intent")
        charge = next(
            (c for c in self.charges.values() if intent and c["payment_intent"] == intent),
            None,
        )
        if charge is None:
            raise StripeError(
                400 if not intent else 404,
                f"No such payment_intent: '{intent}'",
                code="resource_missing",
                param="payment_intent",
            )
        left = charge["amount"] - charge["amount_refunded"]
        amount = int(params.get("amount") or left)
        if not left:
            raise StripeError(
                400,
                f"Charge {charge['id']} has already been refunded.",
                code="charge_already_refunded",
            )
        if amount <= 0 or amount > left:
            raise StripeError(
                400,
                f"Refund amount (${amount / 100:.2f}) is greater than unrefunded amount on "
                f"charge (${left / 100:.2f})",
                code="amount_too_large",
                param="amount",
            )
        now = int(time.time())
        refund = {
            "id": self._id("re"),
            "object": "refund",
            "amount": amount,
            "currency": charge["currency"],
            "charge": charge["id"],
            "payment_intent": intent,
            "reason": params.get("reason"),
            "metadata": params.get("metadata") or {},
            "status": "succeeded",
            "created": now,
        }
        txn = {
            "id": self._id("txn"),
            "object": "balance_transaction",
            "type": "refund",
            "reporting_category": "refund",
            "amount": -amount,
            "fee": 0,
            "net": -amount,
            "currency": charge["currency"],
            "status": "pending",
            "created": now,
            "source": refund["id"],
        }
        refund["balance_transaction"] = txn["id"]
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] == charge["amount"]
        self.refunds[refund["id"]] = refund
        self.balance_transactions.append(txn)
        self.refunds_created += 1
        return dict(refund)

    def list_balance_transactions(self, params: dict) -> dict:
        expand = params.get("expand") or []
        if isinstance(expand, str):
            expand = [expand]
        rows = []
        for txn in self.balance_transactions:
            if not _in_range(txn["created"], params.get("created")):
                continue
            txn = dict(txn)
            if "data.source" in expand:
                source = self.charges.get(txn["source"]) or self.refunds.get(txn["source"])
                txn["source"] = dict(source)
            rows.append(txn)
        return self._list("/v1/balance_transactions", rows, params)

    @staticmethod
    def _list(url: str, rows: list[dict], params: dict) -> dict:
        """Newest first, ``limit`` per page, ``starting_after`` for the next page."""
        rows = sorted(rows, key=lambda row: row["created"], reverse=True)
        after = params.get("starting_after")
        if after:
            ids = [row["id"] for row in rows]
            rows = rows[ids.index(after) + 1 :] if after in ids else []
        limit = int(params.get("limit") or 10)
        return {"object": "list", "data": rows[:limit], "has_more": len(rows) > limit, "url": url}


def _in_range(value: int, bounds) -> bool:
    if not isinstance(bounds, dict):
        return True
    checks = {
        "gt": lambda b: value > b,
        "gte": lambda b: value >= b,
        "lt": lambda b: value < b,
        "lte": lambda b: value <= b,
    }
    return all(checks[op](int(bound)) for op, bound in bounds.items() if op in checks)


class _Handler(BaseHTTPRequestHandler):
    stripe: FakeStripe

    def log_message(self, format, *args) -> None:
        pass

    def _answer(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Request-Id", f"req_{secrets.token_hex(7)}")
        self.end_headers()
        self.wfile.write(data)

    def _dispatch(self, method: str) -> None:
        parts = urlsplit(self.path)
        if method == "GET" and parts.path.startswith("/pay/"):
            return self._hosted_page(parts.path.removeprefix("/pay/"))
        pairs = parse_qsl(parts.query, keep_blank_values=True)
        if method == "POST":
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode()
            pairs += parse_qsl(body, keep_blank_values=True)
        headers = {k.lower(): v for k, v in self.headers.items()}
        status, answer = self.stripe.handle(method, parts.path, parse_form(pairs), headers)
        self._answer(status, answer)

    def _hosted_page(self, session_id: str) -> None:
        session = self.stripe.sessions.get(session_id)
        text = f"<h1>Pay ${session['amount_total'] / 100:.2f}</h1>" if session else "<h1>Gone</h1>"
        data = text.encode()
        self.send_response(200 if session else 404)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")
