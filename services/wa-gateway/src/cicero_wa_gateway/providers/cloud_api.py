"""WhatsApp Cloud API (Meta Graph API): ``POST /{version}/{phone_number_id}/messages`` with a bearer token."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx
from pydantic import SecretStr

from cicero_wa_gateway.providers.base import OutgoingMessage, ProviderError
from cicero_wa_gateway.providers.classify import Verdict, classify_status
from cicero_wa_gateway.providers.http import answer_error, body_snippet, call, json_body, new_client

THROTTLING_CODES = frozenset({4, 80007, 130429, 131056})
"""Graph error codes that mean "too many, slow down" even when the HTTP status is 400: app/account rate
limits, the number's throughput limit and the per-recipient pair rate limit. Retried, never dead-lettered."""


def recipient(chat_id: str) -> str:
    """The Cloud API's ``to`` (digits only) for a personal chat id; groups cannot be reached this way."""
    number, _, server = chat_id.partition("@")
    if server == "g.us":
        raise ProviderError(f"the WhatsApp Cloud API cannot send to groups ({chat_id}); send the broadcast "
                            "session through the waha provider (WA_PROVIDER_BROADCAST=waha)", permanent=True)
    if server != "c.us" or not number.isdigit():
        raise ProviderError(f"not a personal chat id: {chat_id!r}", permanent=True)
    return number


def message_body(to: str, text: str) -> dict[str, Any]:
    return {"messaging_product": "whatsapp", "recipient_type": "individual", "to": to, "type": "text",
            "text": {"preview_url": False, "body": text}}


def message_id(answer: Any) -> str:
    """``{"messages": [{"id": "wamid…"}]}`` → the id; "" when the answer has none."""
    if isinstance(answer, dict):
        messages = answer.get("messages")
        if isinstance(messages, list) and messages and isinstance(messages[0], dict):
            found = messages[0].get("id")
            if isinstance(found, str):
                return found
    return ""


def graph_error(answer: Any) -> tuple[int | None, str]:
    """The Graph error's ``code`` and ``message`` (``{"error": {"code": 131026, "message": "…"}}``)."""
    if isinstance(answer, dict) and isinstance(answer.get("error"), dict):
        error = answer["error"]
        code = error.get("code")
        try:
            number = int(code) if code is not None else None
        except (TypeError, ValueError):
            number = None
        return number, str(error.get("message", ""))
    return None, ""


def cloud_verdict(status: int, retry_after: str | None, code: int | None) -> Verdict:
    """The HTTP verdict, except that a throttling code is transient whatever the status."""
    verdict = classify_status(status, retry_after)
    if not verdict.accepted and code in THROTTLING_CODES:
        return Verdict(accepted=False, retry_after_s=verdict.retry_after_s)
    return verdict


class CloudApiProvider:
    name = "cloud"

    def __init__(self, base_url: str, api_version: str, phone_number_id: str, token: SecretStr,
                 timeout_s: float) -> None:
        if not phone_number_id or not token.get_secret_value():
            raise ValueError("the cloud provider needs WA_CLOUD_PHONE_NUMBER_ID and WA_CLOUD_TOKEN")
        self._node = f"{base_url.rstrip('/')}/{api_version}/{phone_number_id}"
        self._timeout_s = timeout_s
        self._client = new_client(timeout_s, {"Authorization": f"Bearer {token.get_secret_value()}"})

    async def ready(self) -> bool:
        """The phone number's node answers: the token is valid and the number is registered."""
        response = await call(self._client, "GET", self._node, timeout_s=self._timeout_s,
                              what="cloud api readiness")
        if response.status_code != 200:
            raise answer_error(response, "cloud api readiness", _detail(json_body(response), response))
        return True

    async def send(self, message: OutgoingMessage, now: datetime) -> str:
        to = recipient(message.chat_id)
        response = await call(
            self._client, "POST", f"{self._node}/messages", timeout_s=self._timeout_s, what="cloud api send",
            json=message_body(to, message.text), headers={"X-Idempotency-Key": message.idempotency_key},
        )
        answer = json_body(response)
        if 200 <= response.status_code < 300:
            return message_id(answer)
        code, _ = graph_error(answer)
        verdict = cloud_verdict(response.status_code, response.headers.get("retry-after"), code)
        raise answer_error(response, "cloud api send", _detail(answer, response), verdict)

    async def close(self) -> None:
        await self._client.aclose()


def _detail(answer: Any, response: httpx.Response) -> str:
    """The Graph error of an answer (already parsed), else the start of its body."""
    code, text = graph_error(answer)
    if code is not None or text:
        return f"({code}) {text}"
    return body_snippet(response)
