"""The provider webhooks (DOMAIN §6 "Inbound messages"): an HTTP server inside the gateway that turns each
authenticated delivery into ``WhatsAppMessageReceived`` events.

- ``GET /webhooks/cloud``: the WhatsApp Cloud API subscription handshake (``hub.verify_token``).
- ``POST /webhooks/cloud``: signed with ``X-Hub-Signature-256`` (HMAC-SHA256 of the raw body, app secret).
- ``POST /webhooks/waha``: a WAHA-style gateway sending our key as ``X-Api-Key``.

Authenticity is checked before the body is even parsed; a webhook whose secret is not configured answers
503 instead of accepting unsigned input. Providers deliver at least once, so each message is recorded
once per provider message id: its own stream ``wa-in:<id>`` appended at expected version 0 — a repeated
delivery finds the stream taken, records nothing and is still answered 200 (a non-2xx would make the
provider retry forever). One delivery is one transaction under one server span, whose context the event
metadata carries so the trace continues into the notifier's reply.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterator
from typing import Any

import asyncpg
import uvicorn
from cicero_runtime.event_store import ConcurrencyError, EventStore, Metadata
from cicero_runtime.service import Service
from cicero_runtime.tracing import extract_context, inject_headers, tracer
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from opentelemetry import trace
from pydantic import SecretStr

from cicero_wa_gateway.inbound import (
    Inbound,
    MalformedWebhook,
    Provider,
    key_valid,
    masked,
    parse_cloud,
    parse_waha,
    signature_valid,
    subscription_challenge,
)
from cicero_wa_gateway.settings import GatewaySettings

log = logging.getLogger(__name__)

STREAM_PREFIX = "wa-in:"
CLOUD_SIGNATURE_HEADER = "X-Hub-Signature-256"
WAHA_KEY_HEADER = "X-Api-Key"
DATABASE_UNAVAILABLE = (OSError, asyncpg.PostgresConnectionError, asyncpg.InterfaceError)


def stream_id(message_id: str) -> str:
    return STREAM_PREFIX + message_id


def _secret(value: SecretStr | None) -> str | None:
    """An empty secret is an unset one: it must never make every signature over "" valid."""
    return (value.get_secret_value() or None) if value is not None else None


def _error(status: int, detail: str) -> JSONResponse:
    return JSONResponse(status_code=status, content={"detail": detail})


class BodyTooLarge(Exception):
    pass


async def _read_body(request: Request, limit: int) -> bytes:
    """The raw body (the signature covers these exact bytes), refused past ``limit`` without reading it all."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


async def record(service: Service, inbound: Inbound, provider: Provider) -> tuple[int, int]:
    """Append each message once, all in one transaction; returns (recorded, duplicates).

    Each append runs in a savepoint so a message already recorded (``ConcurrencyError``) leaves the rest of
    the delivery intact; the store's table lock makes the version check race-free between replicas.
    """
    store: EventStore = service.store
    headers = inject_headers()
    recorded = duplicates = 0
    async with service.pool.acquire() as conn, conn.transaction():
        for message in inbound.messages:
            stream = stream_id(message.message_id)
            metadata = Metadata(correlation_id=stream, traceparent=headers.get("traceparent"),
                                tracestate=headers.get("tracestate"), extra={"provider": provider})
            try:
                async with conn.transaction():
                    await store.append(conn, stream, [message], expected_version=0, metadata=metadata,
                                       occurred_at=message.received_at)
            except ConcurrencyError:
                duplicates += 1
                continue
            recorded += 1
    return recorded, duplicates


def _log_outcome(provider: Provider, inbound: Inbound, recorded: int, duplicates: int) -> None:
    for skipped in inbound.skipped:
        log.warning("inbound whatsapp message skipped: %s", skipped.reason,
                    extra={"provider": provider, "message_id": masked(skipped.message_id)})
    if recorded or duplicates:
        log.info("inbound whatsapp messages recorded", extra={
            "provider": provider, "recorded": recorded, "duplicates": duplicates, "ignored": inbound.ignored,
            "chats": sorted({masked(m.chat_id) for m in inbound.messages}),
        })


@contextlib.contextmanager
def _server_span(request: Request, provider: Provider) -> Iterator[trace.Span]:
    """A SERVER span per delivery, child of the caller's ``traceparent`` when it sends one."""
    parent = extract_context({k: v for k, v in request.headers.items() if k in ("traceparent", "tracestate")})
    with tracer("cicero.wa_gateway").start_as_current_span(
        f"{request.method} /webhooks/{provider}", context=parent, kind=trace.SpanKind.SERVER,
        attributes={"http.request.method": request.method, "url.path": request.url.path,
                    "cicero.provider": provider},
    ) as span:
        yield span


def create_app(service: Service, settings: GatewaySettings) -> FastAPI:
    """The webhook app over the service's pool and event store (no OpenAPI pages: it faces the internet)."""
    app = FastAPI(title="Cicero WhatsApp webhooks", docs_url=None, redoc_url=None, openapi_url=None)
    sessions = dict(settings.wa_waha_inbound_sessions)

    async def receive(request: Request, provider: Provider, authentic: Callable[[bytes], bool],
                      parse: Callable[[bytes], Inbound]) -> Response:
        with _server_span(request, provider) as span:
            response = await _receive(request, provider, authentic, parse)
            span.set_attribute("http.response.status_code", response.status_code)
            if response.status_code >= 400:
                span.set_status(trace.StatusCode.ERROR, f"HTTP {response.status_code}")
            return response

    async def _receive(request: Request, provider: Provider, authentic: Callable[[bytes], bool],
                       parse: Callable[[bytes], Inbound]) -> Response:
        try:
            body = await _read_body(request, settings.wa_webhook_max_body_bytes)
        except BodyTooLarge:
            return _error(413, f"body larger than {settings.wa_webhook_max_body_bytes} bytes")
        if not authentic(body):
            log.warning("webhook refused: bad or missing credentials", extra={"provider": provider})
            return _error(401, "invalid or missing webhook credentials")
        try:
            inbound = parse(body)
        except MalformedWebhook as exc:
            log.warning("webhook refused: %s", masked(str(exc)), extra={"provider": provider})
            return _error(400, str(exc))
        try:
            recorded, duplicates = await record(service, inbound, provider)
        except DATABASE_UNAVAILABLE as exc:
            log.warning("webhook not recorded, database unavailable: %s", exc, extra={"provider": provider})
            return _error(503, "database unavailable, deliver again later")
        _log_outcome(provider, inbound, recorded, duplicates)
        content: dict[str, Any] = {"recorded": recorded, "duplicates": duplicates,
                                   "skipped": len(inbound.skipped), "ignored": inbound.ignored}
        return JSONResponse(content)

    @app.get("/webhooks/cloud")
    async def cloud_verify(request: Request) -> Response:
        token = _secret(settings.wa_cloud_verify_token)
        if token is None:
            return _error(503, "Cloud API webhook verification is not configured (WA_CLOUD_VERIFY_TOKEN unset)")
        challenge = subscription_challenge(request.query_params, token)
        if challenge is None:
            log.warning("cloud webhook verification refused", extra={"provider": "cloud"})
            return _error(403, "verification failed: hub.mode must be 'subscribe' and hub.verify_token must match")
        return PlainTextResponse(challenge)

    @app.post("/webhooks/cloud")
    async def cloud_webhook(request: Request) -> Response:
        app_secret = _secret(settings.wa_cloud_app_secret)
        if app_secret is None:
            return _error(503, "Cloud API webhook is not configured (WA_CLOUD_APP_SECRET unset)")
        signature = request.headers.get(CLOUD_SIGNATURE_HEADER)
        return await receive(request, "cloud", lambda body: signature_valid(app_secret, body, signature),
                             parse_cloud)

    @app.post("/webhooks/waha")
    async def waha_webhook(request: Request) -> Response:
        key = _secret(settings.wa_waha_webhook_key)
        if key is None:
            return _error(503, "WAHA webhook is not configured (WA_WAHA_WEBHOOK_KEY unset)")
        given = request.headers.get(WAHA_KEY_HEADER)
        return await receive(request, "waha", lambda _body: key_valid(key, given),
                             lambda body: parse_waha(body, sessions))

    return app


class _EmbeddedServer(uvicorn.Server):
    """uvicorn inside the service: the service owns SIGTERM/SIGINT, so uvicorn must not replace its handlers."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def serve_webhooks(service: Service, stop: asyncio.Event) -> None:
    """Serve the webhooks on ``wa_webhook_host:wa_webhook_port`` until ``stop``; port 0 turns them off.

    If the port cannot be bound the service stops (logged): a gateway deaf to its provider would hide the fault.
    """
    settings = service.settings
    if not isinstance(settings, GatewaySettings):
        raise TypeError(f"serve_webhooks needs GatewaySettings, got {type(settings).__name__}")
    if settings.wa_webhook_port == 0:
        log.info("whatsapp webhooks off (wa_webhook_port = 0)")
        return
    # no access log: the Cloud handshake carries hub.verify_token in its query string
    config = uvicorn.Config(create_app(service, settings), host=settings.wa_webhook_host,
                            port=settings.wa_webhook_port, log_config=None, access_log=False, lifespan="off",
                            server_header=False)
    server = _EmbeddedServer(config)

    async def exit_on_stop() -> None:
        await stop.wait()
        server.should_exit = True

    watcher = asyncio.create_task(exit_on_stop(), name="webhooks-stop")
    try:
        log.info("whatsapp webhooks listening", extra={"port": settings.wa_webhook_port})
        await server.serve()
    except SystemExit:  # uvicorn exits the process when it cannot bind; the service decides instead
        log.error("whatsapp webhooks could not listen on %s:%s; stopping the service", settings.wa_webhook_host,
                  settings.wa_webhook_port)
        stop.set()
    finally:
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher
