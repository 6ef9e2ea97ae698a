"""A WAHA-style HTTP gateway: ``POST /api/sendText`` with ``X-Api-Key``, one WAHA session per instance."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote

import httpx
from pydantic import SecretStr

from cicero_wa_gateway.providers.base import OutgoingMessage, ProviderError
from cicero_wa_gateway.providers.classify import Verdict, classify_status
from cicero_wa_gateway.providers.http import answer_error, body_snippet, call, json_body, new_client

WORKING = "WORKING"


def message_id(answer: Any) -> str:
    """The sent message's id in the shapes WAHA engines answer with; "" when there is none.

    ``{"id": "true_628…@c.us_3EB0…"}``, ``{"id": {"_serialized": …}}``, ``{"_data": {"id": {…}}}`` (WEBJS)
    or ``{"key": {"id": …}}`` (NOWEB).
    """
    if not isinstance(answer, dict):
        return ""
    for holder in (answer, answer.get("_data"), answer.get("key")):
        if not isinstance(holder, dict):
            continue
        found = holder.get("id")
        if isinstance(found, str) and found:
            return found
        if isinstance(found, dict) and isinstance(found.get("_serialized"), str):
            return str(found["_serialized"])
    return ""


def session_not_working(status: int, answer: Any) -> bool:
    """WAHA's 422 for a session that is not WORKING (``{"error": "Session status is not as expected…",
    "status": "STARTING", "expected": ["WORKING"]}``): the session went down between our readiness check and
    the send. Unlike other 422s it is transient: the message waits until the session works again."""
    return status == 422 and isinstance(answer, dict) and isinstance(answer.get("expected"), list)


def waha_verdict(status: int, retry_after: str | None, answer: Any) -> Verdict:
    if session_not_working(status, answer):
        return Verdict(accepted=False)
    return classify_status(status, retry_after)


def session_status(answer: Any) -> str:
    return str(answer.get("status", "")) if isinstance(answer, dict) else ""


class WahaProvider:
    """Sends through one WAHA session (the one our session is mapped to); readiness is that session's."""

    name = "waha"

    def __init__(self, base_url: str, api_key: SecretStr, waha_session: str, timeout_s: float) -> None:
        self._base = base_url.rstrip("/")
        self._session = waha_session
        self._timeout_s = timeout_s
        key = api_key.get_secret_value()
        self._client = new_client(timeout_s, {"X-Api-Key": key} if key else None)

    async def ready(self) -> bool:
        """The WAHA session answers ``status: WORKING`` (not STARTING, SCAN_QR_CODE, FAILED, STOPPED)."""
        what = f"waha session {self._session!r} readiness"
        response = await call(self._client, "GET", f"{self._base}/api/sessions/{quote(self._session, safe='')}",
                              timeout_s=self._timeout_s, what=what)
        if response.status_code != 200:
            raise answer_error(response, what, body_snippet(response))
        status = session_status(json_body(response))
        if status != WORKING:
            raise ProviderError(f"waha session {self._session!r} is {status or 'in an unknown state'}")
        return True

    async def send(self, message: OutgoingMessage, now: datetime) -> str:
        response = await call(
            self._client, "POST", f"{self._base}/api/sendText", timeout_s=self._timeout_s, what="waha send",
            json={"session": self._session, "chatId": message.chat_id, "text": message.text},
            headers={"X-Idempotency-Key": message.idempotency_key},
        )
        answer = json_body(response)
        if 200 <= response.status_code < 300:
            return message_id(answer)
        error = answer_error(response, "waha send", _detail(answer, response),
                             waha_verdict(response.status_code, response.headers.get("retry-after"), answer))
        error.unreachable = session_not_working(response.status_code, answer)  # ask readiness again first
        raise error

    async def close(self) -> None:
        await self._client.aclose()


def _detail(answer: Any, response: httpx.Response) -> str:
    """The error message of an answer (already parsed), else the start of its body."""
    if isinstance(answer, dict):
        for field in ("message", "error", "exception"):
            if isinstance(answer.get(field), str):
                return str(answer[field])
    return body_snippet(response)
