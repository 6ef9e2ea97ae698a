"""The HTTP retry/fail-over decisions, as pure functions: every status class, the bounds, the delays."""

from __future__ import annotations

import pytest
from cicero_ingest.http_policy import (
    Action,
    Kind,
    RetryPolicy,
    backoff_delay,
    classify,
    decide,
)

POLICY = RetryPolicy(max_attempts=4, backoff_base_s=1.0, backoff_max_s=8.0, retry_after_max_s=10.0)


@pytest.mark.parametrize(("status", "kind"), [
    (200, Kind.SUCCESS), (204, Kind.SUCCESS), (299, Kind.SUCCESS),
    (429, Kind.RATE_LIMITED),
    (500, Kind.TRANSIENT), (502, Kind.TRANSIENT), (503, Kind.TRANSIENT), (504, Kind.TRANSIENT),
    (599, Kind.TRANSIENT), (None, Kind.TRANSIENT),
    (401, Kind.AUTH), (403, Kind.AUTH),
    (400, Kind.PERMANENT), (404, Kind.PERMANENT), (405, Kind.PERMANENT), (408, Kind.PERMANENT),
    (410, Kind.PERMANENT), (422, Kind.PERMANENT), (499, Kind.PERMANENT),
    (301, Kind.PERMANENT), (304, Kind.PERMANENT), (100, Kind.PERMANENT),
])
def test_statuses_are_classified(status: int | None, kind: Kind) -> None:
    assert classify(status) is kind


def test_success_is_used_whatever_the_failures_so_far() -> None:
    assert decide(200, failures=3, policy=POLICY).action is Action.SUCCEED
    assert decide(200, failures=99, policy=POLICY).action is Action.SUCCEED


@pytest.mark.parametrize("status", [500, 502, 503, 504, None])
@pytest.mark.parametrize("failures", [1, 2, 3])
def test_transient_failures_are_retried_below_the_bound(status: int | None, failures: int) -> None:
    decision = decide(status, failures=failures, policy=POLICY, jitter=0.0)
    assert decision.action is Action.RETRY
    assert decision.delay_s == backoff_delay(failures, POLICY, 0.0)


@pytest.mark.parametrize("status", [500, 503, 429, None])
@pytest.mark.parametrize("failures", [4, 5])
def test_transient_failures_stop_at_the_bound(status: int | None, failures: int) -> None:
    decision = decide(status, failures=failures, policy=POLICY, retry_after_s=1.0)
    assert decision.action is Action.FAIL
    assert f"after {failures} attempts" in decision.reason


def test_one_attempt_policy_never_retries() -> None:
    once = RetryPolicy(max_attempts=1)
    assert decide(500, failures=1, policy=once).action is Action.FAIL
    assert decide(None, failures=1, policy=once).action is Action.FAIL
    assert decide(429, failures=1, policy=once, retry_after_s=1).action is Action.FAIL


@pytest.mark.parametrize(("retry_after", "expected"), [(0.0, 0.0), (1.0, 1.0), (2.5, 2.5), (10.0, 10.0),
                                                       (11.0, 10.0), (3600.0, 10.0), (-5.0, 0.0)])
def test_429_waits_retry_after_capped(retry_after: float, expected: float) -> None:
    decision = decide(429, failures=1, policy=POLICY, retry_after_s=retry_after, jitter=1.0)
    assert decision.action is Action.RETRY
    assert decision.delay_s == expected


def test_429_without_retry_after_backs_off() -> None:
    for failures in (1, 2, 3):
        decision = decide(429, failures=failures, policy=POLICY, jitter=0.25)
        assert decision.action is Action.RETRY
        assert decision.delay_s == backoff_delay(failures, POLICY, 0.25) > 0


@pytest.mark.parametrize("status", [401, 403])
def test_auth_failure_switches_to_the_fallback_once(status: int) -> None:
    first = decide(status, failures=0, policy=POLICY, can_fail_over=True)
    assert (first.action, first.delay_s) == (Action.FAIL_OVER, 0.0)
    again = decide(status, failures=0, policy=POLICY, can_fail_over=False)
    assert again.action is Action.FAIL and "no fallback" in again.reason


@pytest.mark.parametrize("status", [401, 403])
def test_auth_failure_fails_over_even_after_transient_failures(status: int) -> None:
    # a 5xx on the primary, then a 401: the fallback still gets its chance
    assert decide(status, failures=3, policy=POLICY, can_fail_over=True).action is Action.FAIL_OVER
    assert decide(status, failures=4, policy=POLICY, can_fail_over=True).action is Action.FAIL_OVER


@pytest.mark.parametrize("status", [400, 404, 405, 410, 422, 301])
def test_permanent_failures_fail_at_once(status: int) -> None:
    for failures in (0, 1):
        for can_fail_over in (False, True):
            decision = decide(status, failures=failures, policy=POLICY, can_fail_over=can_fail_over,
                              retry_after_s=1.0)
            assert decision.action is Action.FAIL
            assert "permanent" in decision.reason


def test_backoff_ceiling_doubles_and_is_capped() -> None:
    ceilings = [backoff_delay(n, POLICY, 1.0) for n in range(1, 8)]
    assert ceilings == [1.0, 2.0, 4.0, 8.0, 8.0, 8.0, 8.0]
    floors = [backoff_delay(n, POLICY, 0.0) for n in range(1, 8)]
    assert floors == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0, 4.0]


@pytest.mark.parametrize("jitter", [0.0, 0.1, 0.5, 0.9, 1.0])
@pytest.mark.parametrize("failures", [1, 2, 3, 6])
def test_jitter_stays_in_the_upper_half_of_the_ceiling(jitter: float, failures: int) -> None:
    ceiling = min(POLICY.backoff_max_s, POLICY.backoff_base_s * 2 ** (failures - 1))
    delay = backoff_delay(failures, POLICY, jitter)
    assert ceiling / 2 <= delay <= ceiling
    assert delay == pytest.approx(ceiling / 2 * (1 + jitter))


def test_jitter_out_of_range_is_clamped_and_huge_failure_counts_do_not_overflow() -> None:
    assert backoff_delay(1, POLICY, -3.0) == 0.5
    assert backoff_delay(1, POLICY, 7.0) == 1.0
    assert backoff_delay(10_000, POLICY, 1.0) == 8.0


def test_backoff_counts_failures_from_one() -> None:
    with pytest.raises(ValueError, match="from 1"):
        backoff_delay(0, POLICY, 0.5)


def test_small_base_delays_keep_tests_fast() -> None:
    fast = RetryPolicy(max_attempts=4, backoff_base_s=0.01, backoff_max_s=0.05)
    assert [backoff_delay(n, fast, 1.0) for n in (1, 2, 3, 4)] == pytest.approx([0.01, 0.02, 0.04, 0.05])
    zero = RetryPolicy(backoff_base_s=0.0)
    assert backoff_delay(3, zero, 1.0) == 0.0


@pytest.mark.parametrize("kwargs", [{"max_attempts": 0}, {"backoff_base_s": -1}, {"backoff_max_s": -0.1},
                                    {"retry_after_max_s": -1}])
def test_invalid_policies_are_rejected(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        RetryPolicy(**kwargs)  # type: ignore[arg-type]
