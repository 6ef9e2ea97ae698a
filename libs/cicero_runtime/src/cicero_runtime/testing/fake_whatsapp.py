"""A fake WhatsApp provider: a real HTTP server on loopback speaking the Cloud API and WAHA shapes.

Cloud API (Graph):  ``POST /{version}/{phone_number_id}/messages`` (``Authorization: Bearer <token>``),
                    ``GET /{version}/{phone_number_id}`` (readiness).
WAHA-style gateway: ``POST /api/sendText`` (``X-Api-Key``), ``GET /api/sessions/{name}`` (readiness).

Scriptable per test: the next send requests (or those of one idempotency key) get the replies queued with
:meth:`FakeWhatsApp.script` — fail (500), time out (answer only after the client gave up, and then the
message is *not* delivered), rate-limit (429 with ``Retry-After``), reject (400) — and sessions can be made
not ready. Every send request is recorded with its arrival time and ``X-Idempotency-Key``; the accepted ones
are the deliveries, so a test can assert "delivered at most once per key".

In-process (tests): ``with FakeWhatsApp() as fake: …``. As a process (benchmarks, so its CPU is not on the
measured event loop): ``python -m cicero_runtime.testing.fake_whatsapp --port 0`` prints one JSON line
(url, credentials) and serves until SIGTERM; ``GET /_fake/stats`` answers the counts.
"""

from __future__ import annotations

import argparse
import json
import re
import signal
import sys
import threading
import time
import uuid
from collections import Counter, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType
from typing import Any
from urllib.parse import unquote

CLOUD_TOKEN = "fake-cloud-token"
WAHA_API_KEY = "fake-waha-key"
PHONE_NUMBER_ID = "106540352242922"
API_VERSION = "v21.0"


@dataclass(frozen=True)
class Reply:
    """How the fake answers one send request."""

    kind: str
    status: int = 200
    delay_s: float = 0.0
    retry_after: str | None = None
    message: str = ""
    code: int | None = None

    @classmethod
    def accept(cls, delay_s: float = 0.0) -> Reply:
        return cls("accept", 200, delay_s)

    @classmethod
    def fail(cls, status: int = 500) -> Reply:
        return cls("fail", status, message="internal error (scripted)")

    @classmethod
    def timeout(cls, delay_s: float) -> Reply:
        """Answer 200 only after ``delay_s`` (longer than the client's timeout): not counted as delivered."""
        return cls("timeout", 200, delay_s)

    @classmethod
    def rate_limit(cls, retry_after_s: float = 1.0) -> Reply:
        return cls("rate_limit", 429, retry_after=f"{retry_after_s:g}", message="too many requests (scripted)",
                   code=130429)

    @classmethod
    def reject(cls, status: int = 400, message: str = "recipient not on WhatsApp (scripted)",
               code: int = 131026) -> Reply:
        return cls("reject", status, message=message, code=code)


@dataclass(frozen=True)
class SendRequest:
    api: str
    """``cloud`` or ``waha``."""
    session: str
    """The WAHA session name, or the Cloud API phone number id."""
    chat_id: str
    """As WAHA got it; for the Cloud API the ``to`` digits plus ``@c.us``."""
    text: str
    idempotency_key: str | None
    arrived_at: float
    """``time.monotonic()`` when the request arrived."""
    reply: str
    body: dict[str, Any] = field(repr=False)


@dataclass(frozen=True)
class Delivery:
    message_id: str
    request: SendRequest


class FakeWhatsApp:
    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, cloud_token: str = CLOUD_TOKEN,
                 waha_api_key: str = WAHA_API_KEY, phone_number_id: str = PHONE_NUMBER_ID,
                 api_version: str = API_VERSION) -> None:
        self.cloud_token = cloud_token
        self.waha_api_key = waha_api_key
        self.phone_number_id = phone_number_id
        self.api_version = api_version
        self._lock = threading.Lock()
        self._general: deque[Reply] = deque()
        self._by_key: dict[str, deque[Reply]] = {}
        self._ready_default = True
        self._ready: dict[str, bool] = {}
        self._readiness_checks: Counter[str] = Counter()
        self._requests: list[SendRequest] = []
        self._deliveries: list[Delivery] = []
        self._server = _Server((host, port), _handler(self))
        self._server.daemon_threads = True
        self._server.block_on_close = False  # idle keep-alive connections must not hold up stop()
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), name="fake-whatsapp",
                                        daemon=True)

    # -- lifecycle --------------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> FakeWhatsApp:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeWhatsApp:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- scripting ----------------------------------------------------------------------------------------
    def script(self, *replies: Reply, key: str | None = None) -> None:
        """Queue replies: for the next requests of ``key``, or (no key) for the next requests of any key
        that has none of its own queued. Requests beyond the queue are accepted."""
        with self._lock:
            queue = self._general if key is None else self._by_key.setdefault(key, deque())
            queue.extend(replies)

    def set_ready(self, ready: bool, session: str | None = None) -> None:
        """Readiness of one WAHA session / Cloud phone number id, or (None) of all of them."""
        with self._lock:
            if session is None:
                self._ready_default = ready
                self._ready.clear()
            else:
                self._ready[session] = ready

    # -- what happened --------------------------------------------------------------------------------
    def requests(self) -> list[SendRequest]:
        with self._lock:
            return list(self._requests)

    def deliveries(self) -> list[Delivery]:
        with self._lock:
            return list(self._deliveries)

    def delivery_counts(self) -> Counter[str | None]:
        """Deliveries per idempotency key: every value must be 1 for "delivered at most once"."""
        return Counter(d.request.idempotency_key for d in self.deliveries())

    def readiness_checks(self, session: str | None = None) -> int:
        with self._lock:
            return sum(self._readiness_checks.values()) if session is None else self._readiness_checks[session]

    def stats(self) -> dict[str, int]:
        counts = self.delivery_counts()
        return {"requests": len(self.requests()), "deliveries": sum(counts.values()),
                "keys_delivered_twice": sum(1 for n in counts.values() if n > 1)}

    # -- used by the handler thread ---------------------------------------------------------------------
    def _is_ready(self, session: str) -> bool:
        with self._lock:
            self._readiness_checks[session] += 1
            return self._ready.get(session, self._ready_default)

    def _session_ready(self, session: str) -> bool:
        with self._lock:
            return self._ready.get(session, self._ready_default)

    def _next_reply(self, key: str | None) -> Reply:
        with self._lock:
            own = self._by_key.get(key) if key is not None else None
            if own:
                return own.popleft()
            return self._general.popleft() if self._general else Reply.accept()

    def _record(self, request: SendRequest, message_id: str | None) -> None:
        with self._lock:
            self._requests.append(request)
            if message_id is not None:
                self._deliveries.append(Delivery(message_id, request))


class _Server(ThreadingHTTPServer):
    request_queue_size = 256
    """socketserver's default backlog of 5 resets connections when a sender opens dozens at once."""


_CLOUD_NODE = re.compile(r"^/(v[0-9]+\.[0-9]+)/([^/]+)(/messages)?/?$")
_WAHA_SESSION = re.compile(r"^/api/sessions/([^/]+)/?$")


def _handler(fake: FakeWhatsApp) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as real providers
        timeout = 60
        disable_nagle_algorithm = True  # headers and body are written apart: no delayed-ACK stalls

        def log_message(self, *args: object) -> None:
            pass

        # -- plumbing ---------------------------------------------------------------------------------
        def _body(self) -> dict[str, Any] | None:
            raw = self.rfile.read(int(self.headers.get("Content-Length", "0") or 0))
            try:
                data = json.loads(raw or b"{}")
            except ValueError:
                return None
            return data if isinstance(data, dict) else None

        def _answer(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
            payload = json.dumps(body).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)
            except OSError:  # the client gave up (a scripted timeout): nothing to tell it
                self.close_connection = True

        def _graph_error(self, status: int, message: str, code: int, headers: dict[str, str] | None = None
                         ) -> None:
            self._answer(status, {"error": {"message": message, "type": "OAuthException", "code": code,
                                            "fbtrace_id": uuid.uuid4().hex[:12]}}, headers)

        # -- routes -----------------------------------------------------------------------------------
        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path == "/_fake/stats":
                self._answer(200, fake.stats())
                return
            if match := _WAHA_SESSION.match(path):
                if not self._waha_authorised():
                    return
                name = unquote(match.group(1))
                status = "WORKING" if fake._is_ready(name) else "SCAN_QR_CODE"
                self._answer(200, {"name": name, "status": status, "config": {}, "me": None})
                return
            if (match := _CLOUD_NODE.match(path)) and not match.group(3):
                if not self._cloud_authorised(match.group(1), match.group(2)):
                    return
                if not fake._is_ready(match.group(2)):
                    self._graph_error(503, "service temporarily unavailable (scripted not ready)", 2)
                    return
                self._answer(200, {"id": match.group(2), "display_phone_number": "+62 811-0000-0000",
                                   "verified_name": "Cicero (fake)", "quality_rating": "GREEN"})
                return
            self._answer(404, {"message": f"no route GET {path}"})

        def do_POST(self) -> None:
            path = self.path.split("?", 1)[0]
            if path == "/_fake/ready":
                body = self._body() or {}
                fake.set_ready(bool(body.get("ready", True)), body.get("session"))
                self._answer(200, {"ok": True})
                return
            if path == "/api/sendText":
                self._waha_send()
                return
            if (match := _CLOUD_NODE.match(path)) and match.group(3):
                self._cloud_send(match.group(1), match.group(2))
                return
            self._body()
            self._answer(404, {"message": f"no route POST {path}"})

        def _waha_authorised(self) -> bool:
            if self.headers.get("X-Api-Key") != fake.waha_api_key:
                self._answer(401, {"message": "Unauthorized", "statusCode": 401})
                return False
            return True

        def _cloud_authorised(self, version: str, phone_number_id: str) -> bool:
            if self.headers.get("Authorization") != f"Bearer {fake.cloud_token}":
                self._graph_error(401, "Invalid OAuth access token.", 190)
                return False
            if version != fake.api_version or phone_number_id != fake.phone_number_id:
                self._graph_error(400, f"Unsupported request: object {phone_number_id!r} does not exist", 100)
                return False
            return True

        def _cloud_send(self, version: str, phone_number_id: str) -> None:
            arrived = time.monotonic()
            body = self._body()
            if not self._cloud_authorised(version, phone_number_id):
                return
            text = (body or {}).get("text")
            if (body is None or body.get("messaging_product") != "whatsapp" or body.get("type") != "text"
                    or body.get("recipient_type", "individual") != "individual"
                    or not str(body.get("to", "")).isdigit() or not isinstance(text, dict)
                    or not isinstance(text.get("body"), str) or not text["body"]):
                self._graph_error(400, "(#100) Invalid parameter", 100)
                return
            key = self.headers.get("X-Idempotency-Key")
            reply = (fake._next_reply(key) if fake._session_ready(phone_number_id)
                     else Reply("not_ready", 503, message="service temporarily unavailable", code=2))
            request = SendRequest("cloud", phone_number_id, f"{body['to']}@c.us", text["body"], key, arrived,
                                  reply.kind, body)
            message_id = f"wamid.FAKE{uuid.uuid4().hex.upper()}"
            self._reply(request, reply, message_id,
                        {"messaging_product": "whatsapp", "contacts": [{"input": body["to"], "wa_id": body["to"]}],
                         "messages": [{"id": message_id}]})

        def _waha_send(self) -> None:
            arrived = time.monotonic()
            body = self._body()
            if not self._waha_authorised():
                return
            if (body is None or not isinstance(body.get("session"), str) or not isinstance(body.get("text"), str)
                    or not re.fullmatch(r"[0-9]{8,20}@(c|g)\.us", str(body.get("chatId", "")))):
                self._answer(400, {"statusCode": 400, "message": "session, chatId and text are required"})
                return
            session = body["session"]
            key = self.headers.get("X-Idempotency-Key")
            reply = fake._next_reply(key) if fake._session_ready(session) else Reply("not_ready", 422)
            request = SendRequest("waha", session, body["chatId"], body["text"], key, arrived, reply.kind, body)
            message_id = f"true_{body['chatId']}_{uuid.uuid4().hex[:20].upper()}"
            self._reply(request, reply, message_id,
                        {"id": {"fromMe": True, "remote": body["chatId"], "_serialized": message_id},
                         "body": body["text"], "timestamp": int(time.time())})

        def _reply(self, request: SendRequest, reply: Reply, message_id: str, accepted: dict[str, Any]) -> None:
            delivered = reply.kind == "accept"
            fake._record(request, message_id if delivered else None)
            if reply.delay_s:
                time.sleep(reply.delay_s)  # this connection's own thread: other requests go on
            headers = {"Retry-After": reply.retry_after} if reply.retry_after else None
            if reply.kind in ("accept", "timeout"):
                self._answer(200, accepted)
            elif reply.kind == "not_ready" and request.api == "waha":
                self._answer(422, {"error": "Session status is not as expected. Try again later or restart the "
                                            "session", "session": request.session, "status": "SCAN_QR_CODE",
                                   "expected": ["WORKING"]})
            elif request.api == "cloud":
                self._graph_error(reply.status, reply.message, reply.code or 1, headers)
            else:
                self._answer(reply.status, {"statusCode": reply.status, "message": reply.message}, headers)

    return Handler


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="A fake WhatsApp provider (Cloud API and WAHA shapes).")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    fake = FakeWhatsApp(host=args.host, port=args.port)
    stop = threading.Event()

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    with fake:
        print(json.dumps({"url": fake.url, "cloud_token": fake.cloud_token, "waha_api_key": fake.waha_api_key,
                          "phone_number_id": fake.phone_number_id, "api_version": fake.api_version}), flush=True)
        stop.wait()
    print(json.dumps({"stopped": True} | fake.stats()), file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
