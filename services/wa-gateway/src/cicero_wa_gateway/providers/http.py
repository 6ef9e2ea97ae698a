"""What the HTTP providers share: one bounded request, and an answer turned into a ``ProviderError``."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from cicero_runtime.logs import mask_phone

from cicero_wa_gateway.providers.base import ProviderError
from cicero_wa_gateway.providers.classify import Verdict, classify_status

REASON_MAX_CHARS = 300


MAX_CONNECTIONS = 48
"""Enough for every session's concurrent sends (3 × the default batch of 16) to keep their connections alive:
past httpx's default of 20 kept alive, each pass would open and close connections again."""


def new_client(timeout_s: float, headers: dict[str, str] | None = None) -> httpx.AsyncClient:
    """One client per provider: pooled keep-alive connections, every phase bounded by the timeout."""
    limits = httpx.Limits(max_connections=MAX_CONNECTIONS, max_keepalive_connections=MAX_CONNECTIONS)
    return httpx.AsyncClient(timeout=httpx.Timeout(timeout_s), headers=headers, follow_redirects=False,
                             limits=limits)


async def call(client: httpx.AsyncClient, method: str, url: str, *, timeout_s: float, what: str,
               **kwargs: Any) -> httpx.Response:
    """One request with a whole-call deadline; no answer (network error, timeout) is a transient error.

    httpx bounds each phase (connect, write, each read); the outer deadline also bounds a server that
    trickles its answer.
    """
    try:
        async with asyncio.timeout(timeout_s):
            return await client.request(method, url, **kwargs)
    except (TimeoutError, httpx.TimeoutException) as exc:
        raise ProviderError(f"{what}: no answer within {timeout_s:g} s", unreachable=True) from exc
    except httpx.TransportError as exc:
        raise ProviderError(f"{what}: {type(exc).__name__}: {exc}", unreachable=True) from exc


def answer_error(response: httpx.Response, what: str, detail: str, verdict: Verdict | None = None
                 ) -> ProviderError:
    """The error for a non-2xx answer, its reason masked (provider messages quote phone numbers)."""
    verdict = verdict or classify_status(response.status_code, response.headers.get("retry-after"))
    reason = f"{what}: HTTP {response.status_code}"
    if detail:
        reason += f": {detail}"
    if verdict.config_error:
        reason += " (configuration error: check the provider's URL, token or key)"
    if verdict.retry_after_s is not None:
        reason += f" (retry after {verdict.retry_after_s:g} s)"
    return ProviderError(mask_phone(reason)[:REASON_MAX_CHARS], permanent=verdict.permanent,
                         retry_after_s=verdict.retry_after_s, config_error=verdict.config_error)


def json_body(response: httpx.Response) -> Any:
    """The answer's JSON, or None when it has none (an HTML error page from a proxy)."""
    try:
        return response.json()
    except ValueError:
        return None


def body_snippet(response: httpx.Response, limit: int = 160) -> str:
    return " ".join(response.text[:limit].split())
