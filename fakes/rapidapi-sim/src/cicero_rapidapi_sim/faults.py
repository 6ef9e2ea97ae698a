"""Fault injection and request accounting.

Robustness tests need the platform to misbehave on cue (rate limits, outages, garbage bodies, slowness) and
need to check how many calls a consumer spent. Both live here, behind one lock, because the server runs on
its own thread while tests drive it from theirs.
"""

from __future__ import annotations

import threading
from collections import Counter, deque
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

RATE_LIMIT_MESSAGE = "You have exceeded the rate limit per second for your plan, BASIC, by the API provider"

_DEFAULT_BODIES: dict[int, dict[str, Any]] = {
    401: {"message": "Invalid API key. Go to https://docs.rapidapi.com/docs/keys for more info."},
    403: {"message": "You are not subscribed to this API."},
    429: {"message": RATE_LIMIT_MESSAGE},
    500: {"message": "Internal Server Error"},
    502: {
        "messages": "The API is unreachable, please contact the API provider",
        "info": "Your Client (working) ---> Gateway (working) ---> API (not working)",
    },
    503: {"message": "Service Unavailable"},
    504: {
        "messages": "The request to the API has timed out. Please try again later, or if the issue "
        "persists, please contact the API provider",
        "info": "Your Client (working) ---> Gateway (working) ---> API (took too long to respond)",
    },
}

MALFORMED_BODY = b'{"data": {"count": 3, "items": [{"id": "3320'

# The list endpoints an ``endless`` fault can break: each hands out a next-page token or cursor.
PAGED_PATHS = frozenset({"/v1/posts", "/v1/likes", "/v1/comments", "/api/user/posts", "/api/post/comments"})

EndlessMode = Literal["repeat", "fresh"]


class FaultSpec(BaseModel):
    """One queued misbehaviour; also the JSON accepted by ``POST /_sim/faults``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    path: str = Field(description="API path to break, e.g. /v1/posts; '*' breaks every API path")
    status: int = Field(default=500, ge=100, le=599)
    times: int = Field(default=1, ge=1, description="how many matching requests get this response")
    retry_after: int | None = Field(default=None, ge=0, description="Retry-After seconds (429 default 1)")
    body: dict[str, Any] | list[Any] | None = None
    malformed: bool = Field(default=False, description="answer 200 with a truncated JSON body instead")
    delay: float = Field(default=0.0, ge=0.0, le=60.0, description="seconds to wait before answering")
    query: dict[str, str] = Field(
        default_factory=dict, description="only requests whose query has these exact values match"
    )
    headers: dict[str, str] = Field(default_factory=dict)
    keys: list[str] = Field(
        default_factory=list,
        description="only requests whose X-RapidAPI-Key is one of these match (e.g. 401 on the primary only)",
    )
    endless: EndlessMode | None = Field(
        default=None,
        description="pagination that never ends: the real page, but always with a next token/cursor; "
        "'repeat' hands back the same cursor, 'fresh' a new one every time (items wrap around)",
    )

    @model_validator(mode="after")
    def _endless_is_a_real_page(self) -> FaultSpec:
        if self.endless is not None:
            if self.malformed or self.body is not None:
                raise ValueError("endless pagination serves the real page: it cannot have a body or be malformed")
            if self.path != "*" and self.path not in PAGED_PATHS:
                raise ValueError(f"endless pagination needs a paged path ({', '.join(sorted(PAGED_PATHS))}) or '*'")
        return self

    def response_body(self) -> dict[str, Any] | list[Any]:
        if self.body is not None:
            return self.body
        return _DEFAULT_BODIES.get(self.status, {"message": f"Simulated error {self.status}"})

    def response_headers(self, rate_limit: int) -> dict[str, str]:
        headers: dict[str, str] = {}
        if self.status == 429:
            headers["Retry-After"] = str(self.retry_after if self.retry_after is not None else 1)
            headers["x-ratelimit-requests-limit"] = str(rate_limit)
            headers["x-ratelimit-requests-remaining"] = "0"
        elif self.retry_after is not None:
            headers["Retry-After"] = str(self.retry_after)
        headers.update(self.headers)
        return headers

    def matches(self, path: str, query: dict[str, str], key: str | None = None) -> bool:
        if self.path not in ("*", path):
            return False
        if self.endless is not None and path not in PAGED_PATHS:
            return False  # a wildcard endless fault is not used up by calls that have no pages
        if self.keys and key not in self.keys:
            return False
        return all(query.get(key) == value for key, value in self.query.items())


@dataclass
class _Queued:
    spec: FaultSpec
    remaining: int


@dataclass(frozen=True)
class RequestRecord:
    method: str
    path: str
    query: dict[str, str]
    status: int
    rapidapi_host: str | None
    cache_control: str | None
    fault: bool
    api_key: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "status": self.status,
            "rapidapi_host": self.rapidapi_host,
            "cache_control": self.cache_control,
            "fault": self.fault,
            "api_key": self.api_key,
        }


class FaultState:
    """Faults fire in the order they were queued; a spent fault disappears."""

    def __init__(self, log_limit: int = 1000) -> None:
        self._lock = threading.Lock()
        self._queue: list[_Queued] = []
        self._counts: Counter[str] = Counter()
        self._log: deque[RequestRecord] = deque(maxlen=log_limit)

    def add(self, spec: FaultSpec) -> None:
        with self._lock:
            self._queue.append(_Queued(spec, spec.times))

    def clear(self) -> None:
        with self._lock:
            self._queue.clear()

    def pending(self) -> list[dict[str, Any]]:
        with self._lock:
            return [{**q.spec.model_dump(), "remaining": q.remaining} for q in self._queue]

    def take(self, path: str, query: dict[str, str], key: str | None = None) -> FaultSpec | None:
        with self._lock:
            for queued in self._queue:
                if queued.spec.matches(path, query, key):
                    queued.remaining -= 1
                    if queued.remaining <= 0:
                        self._queue.remove(queued)
                    return queued.spec
            return None

    def count(self, path: str) -> int:
        """Counted on arrival, before auth or faults, because every call costs quota on the real plan."""
        with self._lock:
            self._counts[path] += 1
            return sum(self._counts.values())

    def record(self, record: RequestRecord) -> None:
        with self._lock:
            self._log.append(record)

    def counts(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)

    def total(self) -> int:
        with self._lock:
            return sum(self._counts.values())

    def log(self) -> list[RequestRecord]:
        with self._lock:
            return list(self._log)

    def reset_requests(self) -> None:
        with self._lock:
            self._counts.clear()
            self._log.clear()
