"""What the RapidAPI gateway does in front of every API: key check, quota headers, and (here) faults.

Keeping this out of the endpoint handlers means every API path, including unknown ones, gets the same
gateway behaviour, which is what a consumer actually talks to.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar, cast

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .faults import MALFORMED_BODY, FaultSpec, RequestRecord
from .paging import Page, endless_page, page_of
from .state import SimState

T = TypeVar("T")

ADMIN_PREFIX = "/_sim"

INVALID_KEY = {"message": "Invalid API key. Go to https://docs.rapidapi.com/docs/keys for more info."}
NOT_SUBSCRIBED = {"message": "You are not subscribed to this API."}

CallNext = Callable[[Request], Awaitable[Response]]


def sim_state(request: Request) -> SimState:
    return cast(SimState, request.app.state.sim)


def serve_page(request: Request, items: Sequence[T], offset: int, size: int) -> Page[T]:
    """The page at ``offset``, unless an ``endless`` fault fired for this request (see ``FaultSpec``)."""
    mode = getattr(request.state, "endless", None)
    if mode is None:
        return page_of(items, offset, size)
    return endless_page(items, offset, size, mode)


def _fault_response(fault: FaultSpec, rate_limit: int) -> Response:
    headers = fault.response_headers(rate_limit)
    if fault.malformed:
        return Response(MALFORMED_BODY, status_code=200, media_type="application/json", headers=headers)
    content = json.dumps(fault.response_body()).encode()
    return Response(content, status_code=fault.status, media_type="application/json", headers=headers)


async def gateway(request: Request, call_next: CallNext) -> Response:
    path = request.url.path
    if path.startswith(ADMIN_PREFIX):
        return await call_next(request)
    state = sim_state(request)
    settings = state.settings
    total = state.faults.count(path)
    query = dict(request.query_params)
    key = request.headers.get("x-rapidapi-key")
    fault: FaultSpec | None = None
    response: Response
    if key is not None and key in settings.unsubscribed_keys:
        response = JSONResponse(NOT_SUBSCRIBED, status_code=403)
    elif key is None or key not in settings.api_keys:
        response = JSONResponse(INVALID_KEY, status_code=401)
    else:
        fault = state.faults.take(path, query, key)
        if fault is not None and fault.delay > 0:
            await asyncio.sleep(fault.delay)
        if fault is not None and fault.endless is None:
            response = _fault_response(fault, settings.rate_limit)
        else:
            if fault is not None:
                # The handler serves the real page and only lies about there being another one.
                request.state.endless = fault.endless
            response = await call_next(request)
            response.headers["x-ratelimit-requests-limit"] = str(settings.rate_limit)
            response.headers["x-ratelimit-requests-remaining"] = str(max(0, settings.rate_limit - total))
            if fault is not None:
                response.headers.update(fault.headers)
    state.faults.record(
        RequestRecord(
            method=request.method,
            path=path,
            query=query,
            status=response.status_code,
            rapidapi_host=request.headers.get("x-rapidapi-host"),
            cache_control=request.headers.get("x-cache-control"),
            fault=fault is not None,
            api_key=key,
        )
    )
    return response
