"""The RapidAPI adapter against the simulated platform on loopback: headers, paging, errors."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from datetime import date
from typing import Any

import httpx
import pytest
import pytest_asyncio
from cicero_ingest.posts import MalformedItem
from cicero_ingest.rapidapi import PlatformError, RapidApiClient
from cicero_ingest.settings import IngestSettings
from cicero_rapidapi_sim.server import RunningSimulator, running_simulator
from cicero_rapidapi_sim.settings import SimSettings

SIM_TODAY = "2026-03-10"
DAY = date(2026, 3, 10)
Settings = Callable[..., IngestSettings]
IG_HOST, TT_HOST = "social-api4.p.rapidapi.com", "tiktok-api23.p.rapidapi.com"


@pytest_asyncio.fixture
async def api(sim: RunningSimulator, settings_for: Settings) -> AsyncIterator[RapidApiClient]:
    client = RapidApiClient(settings_for(sim))
    yield client
    await client.close()


async def test_e2e_feeds_are_read_with_the_rapidapi_headers(sim: RunningSimulator, api: RapidApiClient) -> None:
    ig = await api.instagram_posts("polres_demo", DAY)
    sec_uid = await api.tiktok_sec_uid("polres_demo_tt")
    tt = await api.tiktok_posts("polres_demo_tt", sec_uid, DAY)

    assert [p.shortcode for p in ig] == ["C9demoPin01", "C9demo1320c", "C9demo1040b", "C9demo0815a"]
    assert ig[0].is_pinned and not any(p.is_pinned for p in ig[1:])
    assert sec_uid == "MS4wLjABAAAAdemo"
    assert [p.post_id for p in tt] == ["7350000000000000001", "7350000000000000003", "7350000000000000002"]
    assert tt[1].link == "https://www.tiktok.com/@polres_demo_tt/video/7350000000000000003"
    assert (tt[1].like_count, tt[1].comment_count) == (75, 2)

    log = sim.state.faults.log()
    assert [(r.path, r.status) for r in log] == [("/v1/posts", 200), ("/api/user/info", 200),
                                                 ("/api/user/posts", 200)]
    # the simulator answers 401 without the configured X-RapidAPI-Key, so 200 proves the key was sent
    assert [r.rapidapi_host for r in log] == [IG_HOST, TT_HOST, TT_HOST]
    assert all(r.cache_control == "no-cache" for r in log)
    assert log[0].query == {"username_or_id_or_url": "polres_demo"}
    assert log[2].query == {"secUid": "MS4wLjABAAAAdemo", "count": "35", "cursor": "0"}


async def test_the_key_sent_is_the_configured_one(sim: RunningSimulator, settings_for: Settings) -> None:
    client = RapidApiClient(settings_for(sim, rapidapi_key="not-the-key"))
    try:
        with pytest.raises(PlatformError, match="401") as caught:
            await client.instagram_posts("polres_demo", DAY)
        assert "Invalid API key" in str(caught.value)
    finally:
        await client.close()
    assert sim.state.faults.log()[0].status == 401


def ig_post(n: int, when: str, **extra: Any) -> dict[str, Any]:
    return {"code": f"C9page{n:05d}", "taken_at": when, **extra}


def tt_video(n: int, when: str, **extra: Any) -> dict[str, Any]:
    return {"id": f"73500000000{n:05d}", "createTime": when, **extra}


PAGED = {
    "instagram": [
        {"username": "many_today", "user_id": "1", "posts": [ig_post(i, f"{6 + i // 2:02d}:{(i % 2) * 30:02d}")
                                                              for i in range(10)]},
        {"username": "mostly_old", "user_id": "2", "posts": [
            ig_post(100, "-5d 08:00", is_pinned=True),
            *(ig_post(101 + i, f"{8 + i}:00") for i in range(5)),
            *(ig_post(200 + i, f"-1d {8 + i}:00") for i in range(10)),
        ]},
    ],
    "tiktok": [
        {"uniqueId": "tt_many", "secUid": "SEC_MANY", "id": "9", "videos": [
            tt_video(1, "-3d 08:00", isPinnedItem=True),
            *(tt_video(10 + i, f"{7 + i}:00") for i in range(4)),
            *(tt_video(20 + i, f"-1d {7 + i}:00") for i in range(6)),
        ]},
    ],
}


@pytest.fixture
def paged_sim() -> Iterator[RunningSimulator]:
    settings = SimSettings(ig_posts_page_size=4, tt_posts_max_count=2)
    with running_simulator(PAGED, settings=settings, today=SIM_TODAY) as simulator:
        yield simulator


async def test_instagram_pages_are_walked_with_the_token(paged_sim: RunningSimulator, settings_for: Settings
                                                               ) -> None:
    client = RapidApiClient(settings_for(paged_sim))
    try:
        posts = await client.instagram_posts("many_today", DAY)
    finally:
        await client.close()
    assert len(posts) == 10 and len({p.post_id for p in posts}) == 10
    assert sorted(p.shortcode or "" for p in posts) == [f"C9page{i:05d}" for i in range(10)]
    log = paged_sim.state.faults.log()
    assert len(log) == 3  # 4 + 4 + 2
    assert "pagination_token" not in log[0].query
    assert log[1].query["pagination_token"] and log[2].query["pagination_token"] != log[1].query["pagination_token"]


async def test_instagram_paging_stops_at_the_first_unpinned_post_older_than_the_day(
    paged_sim: RunningSimulator, settings_for: Settings
) -> None:
    client = RapidApiClient(settings_for(paged_sim))
    try:
        posts = await client.instagram_posts("mostly_old", DAY)
    finally:
        await client.close()
    # page 1: pinned old + 3 of today; page 2: 2 of today + 2 of yesterday → stop (16 items, 4 pages exist)
    assert paged_sim.requests_to("/v1/posts") == 2
    assert len(posts) == 8
    assert sum(p.is_pinned for p in posts) == 1


async def test_instagram_paging_is_bounded_by_max_pages(paged_sim: RunningSimulator, settings_for: Settings
                                                         ) -> None:
    client = RapidApiClient(settings_for(paged_sim, max_pages=2))
    try:
        posts = await client.instagram_posts("many_today", DAY)
    finally:
        await client.close()
    assert paged_sim.requests_to("/v1/posts") == 2
    assert len(posts) == 8


async def test_tiktok_pages_are_walked_with_the_offset_cursor(paged_sim: RunningSimulator,
                                                               settings_for: Settings) -> None:
    client = RapidApiClient(settings_for(paged_sim))
    try:
        posts = await client.tiktok_posts("tt_many", "SEC_MANY", DAY)
    finally:
        await client.close()
    cursors = [r.query["cursor"] for r in paged_sim.state.faults.log()]
    # pinned + 1 | 2 of today | 1 of today + 1 of yesterday → stop
    assert cursors == ["0", "2", "4"]
    assert len(posts) == 6
    assert [p.post_id for p in posts if not p.is_pinned][:4] == [f"73500000000{10 + i:05d}" for i in (3, 2, 1, 0)]


@pytest.mark.parametrize(("path", "fault", "error", "match"), [
    ("/v1/posts", {"status": 500, "times": 10}, PlatformError, "answered 500"),
    ("/v1/posts", {"status": 403, "times": 10}, PlatformError, "answered 403"),
    ("/v1/posts", {"status": 200, "malformed": True}, PlatformError, "not JSON"),
    ("/v1/posts", {"status": 200, "body": ["a", "list"]}, PlatformError, "not an object"),
    ("/v1/posts", {"status": 200, "body": {"data": {"items": {"not": "a list"}}}}, PlatformError, "not a list"),
    ("/v1/posts", {"status": 200, "body": {"data": {"items": ["C9demo0815a"]}}}, MalformedItem, "not an object"),
    ("/v1/posts", {"status": 200, "body": {"data": {"items": [{"id": "1_2", "taken_at": 1}]}}}, MalformedItem,
     "instagram item 1_2"),
], ids=["500", "403", "truncated", "list-body", "items-object", "string-item", "missing-code"])
async def test_instagram_failures_are_errors_not_partial_feeds(
    sim: RunningSimulator, api: RapidApiClient, path: str, fault: dict[str, Any], error: type[Exception],
    match: str,
) -> None:
    sim.add_fault(path, **fault)
    with pytest.raises(error, match=match):
        await api.instagram_posts("polres_demo", DAY)


async def test_unknown_tiktok_user_is_a_platform_error(api: RapidApiClient) -> None:
    with pytest.raises(PlatformError, match="'no_such_account' not found"):
        await api.tiktok_sec_uid("no_such_account")


async def test_tiktok_item_list_that_is_not_a_list_is_a_platform_error(
    sim: RunningSimulator, api: RapidApiClient
) -> None:
    sim.add_fault("/api/user/posts", 200, body={"data": {"itemList": {"id": "1"}, "hasMore": False}})
    with pytest.raises(PlatformError, match="itemList is not a list"):
        await api.tiktok_posts("polres_demo_tt", "MS4wLjABAAAAdemo", DAY)


async def test_every_call_has_a_timeout(sim: RunningSimulator, settings_for: Settings) -> None:
    client = RapidApiClient(settings_for(sim, http_timeout_s=0.2))
    sim.add_fault("/v1/posts", 200, delay=0.6, times=10)
    try:
        with pytest.raises(httpx.TimeoutException):
            await client.instagram_posts("polres_demo", DAY)
    finally:
        await client.close()
