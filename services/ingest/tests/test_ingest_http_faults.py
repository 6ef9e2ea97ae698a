"""The HTTP policy against the simulated platform on loopback: one test per fault the platform injects.

Retries back off 10-50 ms here (``FAST``), so only the Retry-After test really waits (its 1 s is the point).
Request counts come from the simulator, which counts every call on arrival.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import date
from typing import Any

import httpx
import pytest
import pytest_asyncio
from cicero_ingest.posts import MalformedItem
from cicero_ingest.rapidapi import Engagement, PlatformError, RapidApiClient
from cicero_ingest.settings import IngestSettings
from cicero_rapidapi_sim.paging import encode_token
from cicero_rapidapi_sim.server import RunningSimulator, running_simulator
from cicero_rapidapi_sim.settings import SimSettings

SIM_TODAY = "2026-03-10"
Settings = Callable[..., IngestSettings]
FAST: dict[str, Any] = {"http_backoff_base_s": 0.01, "http_backoff_max_s": 0.05}
# e2e dataset: the likers of C9demo0815a and the commenters of video 7350000000000000002
LIKERS = ("budi.santoso", "bripka_andi", "siti.rahma", "agus_pratama")
VIDEO, COMMENTERS = "7350000000000000002", ("agus_pratama", "siti.rahma", "bripka_andi")  # newest first
FALLBACK_KEY, FALLBACK_HOST = "fallback-key", "fallback.rapidapi.example"


@pytest.fixture(scope="module")
def fallback_server() -> Iterator[RunningSimulator]:
    """A second platform that only knows the fallback key."""
    with running_simulator("e2e", today=SIM_TODAY, api_keys=[FALLBACK_KEY]) as simulator:
        yield simulator


@pytest.fixture
def fallback(fallback_server: RunningSimulator) -> RunningSimulator:
    fallback_server.reset()
    return fallback_server


@pytest_asyncio.fixture
async def make_client(sim: RunningSimulator, settings_for: Settings) -> AsyncIterator[Callable[..., RapidApiClient]]:
    clients: list[RapidApiClient] = []

    def make(**overrides: Any) -> RapidApiClient:
        clients.append(RapidApiClient(settings_for(sim, **(FAST | overrides))))
        return clients[-1]

    yield make
    for client in clients:
        await client.close()


def statuses(sim: RunningSimulator, path: str) -> list[int]:
    return [r.status for r in sim.state.faults.log() if r.path == path]


async def test_429_waits_retry_after_then_succeeds(sim: RunningSimulator, make_client: Callable[..., RapidApiClient]
                                                   ) -> None:
    sim.add_fault("/v1/likes", 429, retry_after=1)
    api = make_client()
    started = time.monotonic()
    likers = await api.instagram_likers("C9demo0815a")
    waited = time.monotonic() - started
    assert likers == Engagement(LIKERS, complete=True, pages=1, total=4)
    assert statuses(sim, "/v1/likes") == [429, 200]
    assert waited >= 1.0


async def test_retry_after_is_capped_by_the_setting(sim: RunningSimulator, make_client: Callable[..., RapidApiClient]
                                                    ) -> None:
    sim.add_fault("/api/post/comments", 429, retry_after=30)
    api = make_client(http_retry_after_max_s=0.05)
    started = time.monotonic()
    commenters = await api.tiktok_commenters(VIDEO)
    assert commenters.usernames == COMMENTERS
    assert statuses(sim, "/api/post/comments") == [429, 200]
    assert time.monotonic() - started < 30  # not the 30 s asked for


async def test_persistent_429_is_bounded(sim: RunningSimulator, make_client: Callable[..., RapidApiClient]) -> None:
    sim.add_fault("/v1/likes", 429, times=50, retry_after=0)
    with pytest.raises(PlatformError, match="answered 429 after 3 attempts") as caught:
        await make_client(http_max_attempts=3).instagram_likers("C9demo0815a")
    assert caught.value.status == 429
    assert sim.requests_to("/v1/likes") == 3


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_5xx_twice_then_success(sim: RunningSimulator, make_client: Callable[..., RapidApiClient],
                                      status: int) -> None:
    sim.add_fault("/v1/likes", status, times=2)
    likers = await make_client().instagram_likers("C9demo0815a")
    assert likers.usernames == LIKERS and likers.complete
    assert statuses(sim, "/v1/likes") == [status, status, 200]


@pytest.mark.parametrize("attempts", [1, 2, 4])
async def test_persistent_500_stops_after_max_attempts(
    sim: RunningSimulator, make_client: Callable[..., RapidApiClient], attempts: int
) -> None:
    sim.add_fault("/api/post/comments", 500, times=50)
    with pytest.raises(PlatformError, match="answered 500") as caught:
        await make_client(http_max_attempts=attempts).tiktok_commenters(VIDEO)
    assert caught.value.status == 500
    assert sim.requests_to("/api/post/comments") == attempts


async def test_500_on_a_later_page_fails_the_whole_list(sim: RunningSimulator, settings_for: Settings,
                                                        make_client: Callable[..., RapidApiClient]) -> None:
    # one page of 2 per request: the third request (offset 4 → the 3rd liker page) keeps failing
    with running_simulator("e2e", today=SIM_TODAY, settings=SimSettings(ig_likes_page_size=2)) as small:
        small.add_fault("/v1/likes", 500, times=50, query={"cursor": encode_token("likes:C9demo1320c", 4)})
        api = RapidApiClient(settings_for(small, **FAST, http_max_attempts=2))
        try:
            with pytest.raises(PlatformError, match="answered 500"):
                await api.instagram_likers("C9demo1320c")
        finally:
            await api.close()
        assert [r.status for r in small.state.faults.log()] == [200, 200, 500, 500]


async def test_a_slow_answer_past_the_timeout_is_retried(sim: RunningSimulator,
                                                         make_client: Callable[..., RapidApiClient]) -> None:
    sim.add_fault("/v1/likes", 200, delay=0.6)
    likers = await make_client(http_timeout_s=0.2).instagram_likers("C9demo0815a")
    assert likers.usernames == LIKERS
    assert sim.requests_to("/v1/likes") == 2


async def test_slow_answers_past_the_timeout_are_bounded(sim: RunningSimulator,
                                                         make_client: Callable[..., RapidApiClient]) -> None:
    sim.add_fault("/api/user/info", 200, delay=0.5, times=50)
    with pytest.raises(httpx.TimeoutException):
        await make_client(http_timeout_s=0.15, http_max_attempts=3).tiktok_sec_uid("polres_demo_tt")
    assert sim.requests_to("/api/user/info") == 3


async def test_network_errors_are_retried_then_bounded(settings_for: Settings, sim: RunningSimulator) -> None:
    calls: list[httpx.Request] = []

    def refuse(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        raise httpx.ConnectError("connection refused", request=request)

    http = httpx.AsyncClient(transport=httpx.MockTransport(refuse))
    api = RapidApiClient(settings_for(sim, **FAST, http_max_attempts=3), client=http)
    try:
        with pytest.raises(httpx.ConnectError):
            await api.instagram_likers("C9demo0815a")
    finally:
        await api.close()
    assert len(calls) == 3
    assert all(c.headers["x-cache-control"] == "no-cache" for c in calls)


async def test_a_network_error_then_success(settings_for: Settings, sim: RunningSimulator) -> None:
    calls = 0
    real = httpx.AsyncHTTPTransport()

    async def flaky(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise httpx.RemoteProtocolError("server disconnected", request=request)
        response = await real.handle_async_request(request)
        await response.aread()
        return response

    api = RapidApiClient(settings_for(sim, **FAST), client=httpx.AsyncClient(transport=httpx.MockTransport(flaky)))
    try:
        likers = await api.instagram_likers("C9demo0815a")
    finally:
        await api.close()
        await real.aclose()
    assert likers.usernames == LIKERS
    assert (calls, sim.requests_to("/v1/likes")) == (2, 1)


@pytest.mark.parametrize("call", ["likers", "commenters", "post_info", "tiktok_commenters", "detail"])
async def test_malformed_json_is_a_platform_error(sim: RunningSimulator, make_client: Callable[..., RapidApiClient],
                                                  call: str) -> None:
    sim.add_fault("*", 200, malformed=True)
    api = make_client()
    calls: dict[str, Callable[[], Awaitable[object]]] = {
        "likers": lambda: api.instagram_likers("C9demo0815a"),
        "commenters": lambda: api.instagram_commenters("C9demo0815a"),
        "post_info": lambda: api.instagram_post_info("C9demo0815a"),
        "tiktok_commenters": lambda: api.tiktok_commenters(VIDEO),
        "detail": lambda: api.tiktok_post_detail(VIDEO, "polres_demo_tt"),
    }
    with pytest.raises(PlatformError, match="not JSON"):
        await calls[call]()
    assert sim.state.faults.total() == 1  # not retried: a garbage body is not transient


async def test_malformed_json_on_a_later_page_leaves_no_partial_list(settings_for: Settings) -> None:
    with running_simulator("e2e", today=SIM_TODAY, settings=SimSettings(ig_likes_page_size=2)) as small:
        small.add_fault("/v1/likes", 200, malformed=True, query={"cursor": encode_token("likes:C9demo1320c", 2)})
        api = RapidApiClient(settings_for(small, **FAST))
        result: Engagement | None = None
        try:
            with pytest.raises(PlatformError, match="not JSON"):
                result = await api.instagram_likers("C9demo1320c")
        finally:
            await api.close()
        assert result is None
        assert small.requests_to("/v1/likes") == 2


@pytest.mark.parametrize(("body", "match"), [
    (["a", "list"], "body is not an object"),
    ({"data": ["not", "an", "object"]}, "data is not an object"),
    ({"data": {"items": {"not": "a list"}}}, "data.items is not a list"),
    ({"data": {"items": [{"full_name": "no username"}]}}, "item without username"),
    ({"data": {"items": [7]}}, "item without username"),
    ({"data": {"items": [], "next_cursor": {"a": 1}, "has_more": True}}, "not a page token"),
])
async def test_a_body_of_the_wrong_shape_is_a_platform_error(
    sim: RunningSimulator, make_client: Callable[..., RapidApiClient], body: Any, match: str
) -> None:
    sim.add_fault("/v1/likes", 200, body=body)
    with pytest.raises(PlatformError, match=match):
        await make_client().instagram_likers("C9demo0815a")
    assert sim.requests_to("/v1/likes") == 1


@pytest.mark.parametrize("status", [401, 403])
async def test_auth_failure_on_the_primary_only_fails_over(
    sim: RunningSimulator, fallback: RunningSimulator, make_client: Callable[..., RapidApiClient], status: int
) -> None:
    sim.add_fault("*", status, times=100)
    api = make_client(instagram_fallback_base_url=fallback.base_url, instagram_fallback_key=FALLBACK_KEY,
                      instagram_fallback_host=FALLBACK_HOST, tiktok_fallback_base_url=fallback.base_url,
                      tiktok_fallback_key=FALLBACK_KEY, tiktok_fallback_host=FALLBACK_HOST)
    likers = await api.instagram_likers("C9demo0815a")
    commenters = await api.tiktok_commenters(VIDEO)
    assert likers.usernames == LIKERS and commenters.usernames == COMMENTERS
    assert [r.status for r in sim.state.faults.log()] == [status, status]
    # the fallback only accepts its own key, so these 200s prove the key switched along with URL and host
    assert [(r.path, r.status, r.rapidapi_host) for r in fallback.state.faults.log()] == [
        ("/v1/likes", 200, FALLBACK_HOST), ("/api/post/comments", 200, FALLBACK_HOST)]


async def test_a_revoked_primary_key_fails_over_to_the_fallback_key(
    sim: RunningSimulator, make_client: Callable[..., RapidApiClient]
) -> None:
    """A fallback that is only another key for the same API: URL and host default to the primary's."""
    api = make_client(rapidapi_key="revoked-key", tiktok_fallback_key=sim.api_key)
    post = await api.tiktok_post_detail(VIDEO, "polres_demo_tt")
    assert post.post_id == VIDEO
    assert [r.status for r in sim.state.faults.log()] == [401, 200]
    with pytest.raises(PlatformError, match="answered 401"):  # the Instagram side has no fallback
        await api.instagram_post_info("C9demo0815a")


async def test_the_fallback_is_used_once_per_request(
    sim: RunningSimulator, fallback: RunningSimulator, make_client: Callable[..., RapidApiClient]
) -> None:
    sim.add_fault("*", 401, times=100)
    fallback.add_fault("*", 403, times=100)
    api = make_client(instagram_fallback_base_url=fallback.base_url, instagram_fallback_key=FALLBACK_KEY)
    with pytest.raises(PlatformError, match="answered 403 on the fallback host") as caught:
        await api.instagram_likers("C9demo0815a")
    assert caught.value.status == 403
    assert (sim.requests_to("/v1/likes"), fallback.requests_to("/v1/likes")) == (1, 1)


async def test_the_fallback_gets_its_own_retries(
    sim: RunningSimulator, fallback: RunningSimulator, make_client: Callable[..., RapidApiClient]
) -> None:
    sim.add_fault("*", 401)
    fallback.add_fault("*", 503, times=2)
    api = make_client(instagram_fallback_base_url=fallback.base_url, instagram_fallback_key=FALLBACK_KEY)
    likers = await api.instagram_likers("C9demo0815a")
    assert likers.usernames == LIKERS
    assert statuses(fallback, "/v1/likes") == [503, 503, 200]


@pytest.mark.parametrize("status", [401, 403])
async def test_auth_failure_without_fallback_fails_after_one_request(
    sim: RunningSimulator, make_client: Callable[..., RapidApiClient], status: int
) -> None:
    sim.add_fault("*", status, times=10)
    with pytest.raises(PlatformError, match=f"answered {status}") as caught:
        await make_client().tiktok_commenters(VIDEO)
    assert caught.value.status == status
    assert sim.state.faults.total() == 1


async def test_a_wrong_key_without_fallback_fails_after_one_request(
    sim: RunningSimulator, make_client: Callable[..., RapidApiClient]
) -> None:
    with pytest.raises(PlatformError, match=r"answered 401: .*Invalid API key"):
        await make_client(rapidapi_key="not-the-key").instagram_likers("C9demo0815a")
    assert sim.state.faults.total() == 1


@pytest.mark.parametrize("status", [400, 404, 405, 410, 422])
async def test_other_4xx_fail_at_once(sim: RunningSimulator, make_client: Callable[..., RapidApiClient],
                                      status: int) -> None:
    sim.add_fault("/v1/post_info", status, times=10)
    with pytest.raises(PlatformError, match=f"answered {status}"):
        await make_client().instagram_post_info("C9demo0815a")
    assert sim.requests_to("/v1/post_info") == 1


async def test_an_unknown_post_is_a_404_platform_error(sim: RunningSimulator,
                                                       make_client: Callable[..., RapidApiClient]) -> None:
    with pytest.raises(PlatformError, match=r"answered 404: .*Media not found") as caught:
        await make_client().instagram_post_info("C9nosuchpost")
    assert caught.value.status == 404
    assert sim.requests_to("/v1/post_info") == 1


async def test_likers_pagination_that_never_ends_stops_on_the_repeated_cursor(
    sim: RunningSimulator, make_client: Callable[..., RapidApiClient]
) -> None:
    page = {"data": {"items": [{"username": "Forever.User"}, "@Again"], "next_cursor": "SAME", "has_more": True}}
    sim.add_fault("/v1/likes", 200, body=page, times=1000)
    likers = await make_client().instagram_likers("C9demo0815a")
    assert likers == Engagement(("forever.user", "again"), complete=False, pages=2)
    assert [r.query.get("cursor") for r in sim.state.faults.log()] == [None, "SAME"]


async def test_tiktok_comments_that_never_end_stop_on_the_repeated_offset(
    sim: RunningSimulator, make_client: Callable[..., RapidApiClient]
) -> None:
    page = {"comments": [{"user": {"unique_id": "Loop.Er"}}], "cursor": 50, "has_more": 1, "total": 99_999}
    sim.add_fault("/api/post/comments", 200, body=page, times=1000)
    commenters = await make_client().tiktok_commenters(VIDEO)
    assert commenters == Engagement(("loop.er",), complete=False, pages=2, total=99_999)
    assert [r.query["cursor"] for r in sim.state.faults.log()] == ["0", "50"]


async def test_feed_pagination_that_never_ends_stops(sim: RunningSimulator,
                                                     make_client: Callable[..., RapidApiClient]) -> None:
    item = {"id": "1_1", "code": "C9loop00001", "taken_at": 1773105300, "user": {"username": "polres_demo"}}
    sim.add_fault("/v1/posts", 200, body={"data": {"items": [item]}, "pagination_token": "AGAIN"}, times=1000)
    feed = await make_client(max_pages=5).instagram_feed("polres_demo", date(2026, 3, 10))
    assert (feed.complete, feed.pages, len(feed.posts)) == (False, 2, 2)
    assert sim.requests_to("/v1/posts") == 2


async def test_malformed_items_are_not_retried(sim: RunningSimulator,
                                               make_client: Callable[..., RapidApiClient]) -> None:
    sim.add_fault("/api/post/detail", 200, body={"itemInfo": {"itemStruct": {"id": "1"}}})
    with pytest.raises(MalformedItem):
        await make_client().tiktok_post_detail("1", "polres_demo_tt")
    assert sim.requests_to("/api/post/detail") == 1
