"""OTP over the bus: the notifier's responders, and the caller's side used by ``cicero-notifier otp``.

Requests arrive on ``OTP_ISSUE_QUEUE`` / ``OTP_VERIFY_QUEUE`` (RabbitMQ direct reply-to, so any process
can ask). Every request gets an answer: a malformed one an ``RpcError`` naming the fields (never their
values: a verify request carries the code), an unexpected failure ``unavailable``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from aio_pika.exceptions import DeliveryError
from cicero_contracts.rpc import (
    OTP_ISSUE_QUEUE,
    OTP_VERIFY_QUEUE,
    OtpIssueReply,
    OtpIssueRequest,
    OtpIssueStatus,
    OtpVerifyReply,
    OtpVerifyRequest,
    OtpVerifyStatus,
    RpcError,
)
from cicero_runtime.service import Responder, Service
from cicero_runtime.topology import BusNames
from faststream.rabbit import Channel, RabbitBroker
from pydantic import BaseModel, ValidationError

from cicero_notifier.mailer import Mailer
from cicero_notifier.otp_service import OtpService
from cicero_notifier.otp_store import OtpStore
from cicero_notifier.settings import NotifierSettings

log = logging.getLogger(__name__)

M = TypeVar("M", bound=BaseModel)
R = TypeVar("R", bound=BaseModel)


class NoAnswer(Exception):
    """Nobody answered the request: no notifier is running on this bus namespace, or it timed out."""


def describe(exc: ValidationError) -> str:
    """``code: String should match pattern …``: which fields and why, without the input values."""
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in exc.errors())


def read_request(model: type[M], body: bytes) -> M | RpcError:
    try:
        return model.model_validate_json(body)
    except ValidationError as exc:
        if any(e["type"] == "json_invalid" for e in exc.errors()):
            return RpcError(detail=f"the request is not a JSON {model.__name__}")
        return RpcError(detail=describe(exc))


def responder(model: type[M], handle: Callable[[M], Awaitable[BaseModel]], on_failure: BaseModel) -> Responder:
    async def respond(body: bytes) -> BaseModel:
        request = read_request(model, body)
        if isinstance(request, RpcError):
            log.warning("malformed request refused", extra={"request": model.__name__, "detail": request.detail})
            return request
        try:
            return await handle(request)
        except Exception:
            log.exception("request failed; answered unavailable", extra={"request": model.__name__})
            return on_failure

    return respond


def register_otp(service: Service, settings: NotifierSettings) -> OtpService:
    """Answer OTP requests while the service runs; Redis is connected on first use and closed at stop."""
    store = OtpStore.from_url(settings.redis_url, settings.redis_prefix)
    service.on_stop(store.close)
    otp = OtpService(settings, lambda: service.pool, store, Mailer(settings), service.store)
    service.responder(OTP_ISSUE_QUEUE, responder(
        OtpIssueRequest, otp.issue, OtpIssueReply(status=OtpIssueStatus.UNAVAILABLE)))
    service.responder(OTP_VERIFY_QUEUE, responder(
        OtpVerifyRequest, otp.verify, OtpVerifyReply(status=OtpVerifyStatus.UNAVAILABLE)))
    return otp


def read_reply(reply_model: type[R], body: bytes) -> R | RpcError:
    data = json.loads(body)
    if isinstance(data, dict) and "error" in data:
        return RpcError.model_validate(data)
    return reply_model.model_validate(data)


async def call(amqp_url: str, names: BusNames, queue: str, request: BaseModel, reply_model: type[R],
               timeout_s: float) -> R | RpcError:
    """Send one request and wait for its reply; ``NoAnswer`` when no responder takes it in time."""
    # on_return_raises: with no responder the queue does not exist and the broker returns the request
    broker = RabbitBroker(amqp_url, default_channel=Channel(on_return_raises=True), logger=None)
    await broker.connect()
    try:
        message = await broker.request(
            request.model_dump_json().encode(), queue=names.name(queue), timeout=timeout_s,
            expiration=timeout_s, content_type="application/json",
        )
    except TimeoutError as exc:
        raise NoAnswer(f"no reply on {queue} within {timeout_s:g}s") from exc
    except DeliveryError as exc:
        raise NoAnswer(f"nobody answers {queue} (is cicero-notifier running?)") from exc
    finally:
        await broker.stop()
    return read_reply(reply_model, message.body)


__all__ = ["NoAnswer", "call", "read_reply", "register_otp", "responder"]
