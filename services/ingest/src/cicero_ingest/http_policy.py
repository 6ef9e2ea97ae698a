"""What to do after each RapidAPI answer: pure decisions, no I/O, no clock, no randomness of their own.

The adapter (``rapidapi.py``) sends a request, then asks :func:`decide` what the answer means:

* 2xx → use it;
* 429 → wait ``Retry-After`` (capped), then retry — bounded like any transient failure;
* 5xx and network errors (timeouts included) → exponential backoff with jitter, bounded attempts;
* 401/403 → switch once to the platform's fallback host/key when one is configured, else fail;
* any other status (400, 404, other 4xx, 3xx) → fail at once: asking again cannot help.

Randomness (the jitter) and the wait a 429 asked for (read by ``cicero_runtime.retry_after``) are parameters,
so every branch can be tested exactly.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Action(enum.Enum):
    SUCCEED = "succeed"
    RETRY = "retry"
    FAIL_OVER = "fail_over"
    FAIL = "fail"


class Kind(enum.Enum):
    SUCCESS = "success"
    RATE_LIMITED = "rate_limited"
    TRANSIENT = "transient"
    AUTH = "auth"
    PERMANENT = "permanent"


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 4
    """Most requests one call spends on transient failures (429, 5xx, network); 1 = never retry."""
    backoff_base_s: float = 0.5
    backoff_max_s: float = 8.0
    retry_after_max_s: float = 10.0
    """A ``Retry-After`` longer than this is cut to it (a tick cannot wait minutes for one call)."""

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.backoff_base_s < 0 or self.backoff_max_s < 0 or self.retry_after_max_s < 0:
            raise ValueError("delays must not be negative")


@dataclass(frozen=True)
class Decision:
    action: Action
    delay_s: float = 0.0
    reason: str = ""


def classify(status: int | None) -> Kind:
    """``None`` stands for a network error (no answer at all, or none in time)."""
    if status is None:
        return Kind.TRANSIENT
    if 200 <= status < 300:
        return Kind.SUCCESS
    if status == 429:
        return Kind.RATE_LIMITED
    if status >= 500:
        return Kind.TRANSIENT
    if status in (401, 403):
        return Kind.AUTH
    return Kind.PERMANENT


def backoff_delay(failures: int, policy: RetryPolicy, jitter: float) -> float:
    """Delay before the retry that follows the ``failures``-th transient failure (1-based).

    The ceiling doubles with each failure, up to ``backoff_max_s``; ``jitter`` in [0, 1] picks a point in
    its upper half ("equal jitter"), so workers that failed together do not retry together, yet the wait
    still grows.
    """
    if failures < 1:
        raise ValueError("failures counts from 1")
    jitter = min(1.0, max(0.0, jitter))
    exponent = min(failures - 1, 62)  # beyond this the cap has long won; avoids float overflow
    ceiling = min(policy.backoff_max_s, policy.backoff_base_s * (2.0**exponent))
    return ceiling / 2 + jitter * ceiling / 2


def decide(
    status: int | None,
    *,
    failures: int,
    policy: RetryPolicy,
    retry_after_s: float | None = None,
    can_fail_over: bool = False,
    jitter: float = 0.5,
) -> Decision:
    """What to do after an answer with ``status`` (``None`` = network error).

    ``failures`` is the number of transient failures of this call *including* this answer when it is one
    (the caller counts 429, 5xx and network errors); the call gives up once it reaches
    ``policy.max_attempts``. ``can_fail_over`` is true while a fallback is configured and not yet used.
    """
    kind = classify(status)
    what = "network error" if status is None else f"status {status}"
    if kind is Kind.SUCCESS:
        return Decision(Action.SUCCEED)
    if kind is Kind.AUTH:
        if can_fail_over:
            return Decision(Action.FAIL_OVER, 0.0, f"{what}: switching to the fallback host")
        return Decision(Action.FAIL, 0.0, f"{what}: key rejected and no fallback left")
    if kind is Kind.PERMANENT:
        return Decision(Action.FAIL, 0.0, f"{what} is permanent")
    if failures >= policy.max_attempts:
        return Decision(Action.FAIL, 0.0, f"{what} after {failures} attempts")
    if kind is Kind.RATE_LIMITED and retry_after_s is not None:
        return Decision(Action.RETRY, min(max(0.0, retry_after_s), policy.retry_after_max_s),
                        f"{what}: waiting Retry-After")
    return Decision(Action.RETRY, backoff_delay(failures, policy, jitter), f"{what}: backing off")


__all__ = ["Action", "Decision", "Kind", "RetryPolicy", "backoff_delay", "classify", "decide"]
