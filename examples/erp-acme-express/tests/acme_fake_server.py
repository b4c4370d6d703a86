"""A fake ACME Express web API on 127.0.0.1, for the tests (no internet).

It behaves like the carrier: checks the account and API key, registers parcels (idempotently per
``Idempotency-Key``), answers their scans, and serves a public tracking page. ``fail_with`` makes
every API call fail the way a real server sometimes does (a 500, a slow answer, HTML instead of
JSON, a malformed tracking number), so the tests can prove the adapter turns each into a clear
``AdapterError``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import threading
import time
from datetime import date, datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ACCOUNT = "ACC-1001"
API_KEY = "test-api-key-1001"


def sign(secret: str, body: bytes) -> str:
    """ACME's webhook signature header value: ``sha256=`` and the hex HMAC-SHA256 of the body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class FakeAcme:
    """The carrier's state, shared by the server's threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.serial = 100000000
            self.shipments: dict[str, dict] = {}      # tracking number -> the registration body
            self.by_key: dict[tuple[str, str], str] = {}
            self.events: dict[str, list[dict]] = {}
            self.requests: list[dict] = []            # every call: method, path, headers, body
            self.fail_with: str | None = None         # "500", "slow", "html", "bad_number"
            self.delay = 0.0

    def add_event(self, number: str, code: str, when: datetime, description: str = "", location: str = "",
                  reason: str | None = None) -> dict:
        with self.lock:
            event = {"id": f"{number}-{len(self.events[number])}", "code": code, "reason": reason,
                     "time": when.isoformat(), "description": description, "location": location}
            self.events[number].append(event)
            return event

    def register(self, account: str, key: str | None, body: dict) -> str:
        with self.lock:
            if key and (account, key) in self.by_key:
                return self.by_key[(account, key)]
            self.serial += 1
            number = f"AE{self.serial:09d}CN"
            self.shipments[number] = body
            if key:
                self.by_key[(account, key)] = number
            when = datetime.now(timezone(timedelta(hours=8))).replace(microsecond=0)
            self.events[number] = [{"id": f"{number}-0", "code": "MANIFESTED", "reason": None,
                                    "time": when.isoformat(), "description": "Shipment information received",
                                    "location": "Shanghai"}]
            return number


class _Handler(BaseHTTPRequestHandler):
    server: FakeAcmeServer

    def log_message(self, *args):  # keep the test output quiet
        pass

    def _send(self, status: int, payload, content_type: str = "application/json") -> None:
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status: int, code: str, message: str) -> None:
        self._send(status, {"error": {"code": code, "message": message}})

    def _handle(self, method: str) -> None:
        acme = self.server.acme
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        acme.requests.append({"method": method, "path": self.path, "headers": dict(self.headers.items()),
                              "body": raw})
        match = re.fullmatch(r"/track/(AE\d{9}CN)", self.path)
        if method == "GET" and match:  # the public page needs no credentials
            return self._send(200, f"<h1>ACME Express {match.group(1)}</h1>".encode(), "text/html")
        if acme.fail_with == "slow":  # answers too late, and then without touching any state
            time.sleep(acme.delay)
            return self._error(504, "gateway_timeout", "Upstream timed out")
        if acme.fail_with == "500":
            return self._send(500, b"<html><body>Internal Server Error</body></html>", "text/html")
        elif acme.fail_with == "html":
            return self._send(200, b"<html><body>Maintenance</body></html>", "text/html")
        account = self.headers.get("X-Acme-Account", "")
        if account != ACCOUNT or self.headers.get("Authorization") != f"Bearer {API_KEY}":
            return self._error(401, "unauthorized", "Unknown account or API key")
        if method == "POST" and self.path == "/v1/shipments":
            try:
                body = json.loads(raw.decode("utf-8"))
                recipient = body["recipient"]
            except (ValueError, KeyError, TypeError):
                return self._error(400, "bad_request", "Body must be a JSON shipment")
            if not (recipient.get("address1") or "").strip():
                return self._error(422, "invalid_address", "recipient.address1 is required")
            number = acme.register(account, self.headers.get("Idempotency-Key"), body)
            if acme.fail_with == "bad_number":
                number = "NOT-A-NUMBER"
            label = b"%PDF-1.4\n% ACME Express label " + number.encode() + b"\n%%EOF\n"
            ship_date = date.fromisoformat(body["ship_date"])
            return self._send(201, {"tracking_number": number, "estimated_delivery": str(ship_date + timedelta(days=2)),
                                    "label": {"format": "pdf", "data": base64.b64encode(label).decode()}})
        match = re.fullmatch(r"/v1/shipments/([^/]+)/events", self.path)
        if method == "GET" and match:
            number = match.group(1)
            if number not in acme.events:
                return self._error(404, "not_found", f"No shipment {number}")
            return self._send(200, {"tracking_number": number, "events": list(acme.events[number])})
        return self._error(404, "not_found", "No such endpoint")

    def do_GET(self):
        self._handle("GET")

    def do_POST(self):
        self._handle("POST")


class FakeAcmeServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.acme = FakeAcme()
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def handle_error(self, request, client_address):
        pass  # a client that gave up (timeout tests) is not an error of the fake carrier

    def credentials(self, **changes) -> dict:
        """What a carrier using this fake ACME is configured with."""
        return {"api_url": self.url, "account": ACCOUNT, "api_key": API_KEY, **changes}

    def start(self) -> FakeAcmeServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
