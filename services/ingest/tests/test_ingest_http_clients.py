"""The complete RapidAPI clients against the simulator: likers, commenters, post_info, detail — their pages,
shapes, bounds and normalisation."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
import pytest_asyncio
from cicero_contracts.events.common import Platform
from cicero_ingest.rapidapi import Engagement, PlatformError, RapidApiClient
from cicero_ingest.settings import IngestSettings
from cicero_rapidapi_sim.server import RunningSimulator, running_simulator
from cicero_rapidapi_sim.settings import SimSettings

SIM_TODAY = "2026-03-10"
DAY = date(2026, 3, 10)
Settings = Callable[..., IngestSettings]
IG_HOST, TT_HOST = "social-api4.p.rapidapi.com", "tiktok-api23.p.rapidapi.com"

LIKERS = [f"Liker.{i:02d}" for i in range(12)]
BIG_VIDEO = "7390000000000000001"

DATASET: dict[str, Any] = {
    "instagram": [{"username": "polres_paged", "user_id": "777", "posts": [
        {"code": "C9many00001", "taken_at": "09:00", "likers": [*LIKERS, " @LIKER.00 "], "like_count": 900,
         "comments": [{"username": f"Komentator_{i}", "text": "siap", "created_at": f"10:{i:02d}"}
                      for i in range(7)]},
        {"code": "C9strings01", "taken_at": "08:00", "likers": ["Budi.Santoso", "@bripka_andi"],
         "likers_as_strings": True, "is_video": True, "media_type": 2, "caption_as_string": True,
         "caption": "Reel patroli"},
        {"code": "C9nolikes01", "taken_at": "07:00"},
    ]}],
    "tiktok": [{"uniqueId": "polres_paged_tt", "secUid": "SEC_PAGED", "id": "6", "videos": [
        {"id": BIG_VIDEO, "createTime": "11:00", "desc": "Video besar #polri",
         "stats": {"diggCount": 321, "commentCount": 130, "playCount": 9000, "shareCount": 4},
         "comments": [{"unique_id": f"Warga.{i:03d}", "text": "mantap",
                       "create_time": f"-1d {i // 60:02d}:{i % 60:02d}"} for i in range(120)]},
        {"id": "7390000000000000002", "createTime": "12:00"},
    ]}],
}


@pytest.fixture(scope="module")
def paged_server() -> Iterator[RunningSimulator]:
    settings = SimSettings(ig_likes_page_size=5, ig_comments_page_size=3)
    with running_simulator(DATASET, settings=settings, today=SIM_TODAY) as simulator:
        yield simulator


@pytest.fixture
def paged(paged_server: RunningSimulator) -> RunningSimulator:
    paged_server.reset()
    return paged_server


@pytest_asyncio.fixture
async def make_client(paged: RunningSimulator, settings_for: Settings
                      ) -> AsyncIterator[Callable[..., RapidApiClient]]:
    clients: list[RapidApiClient] = []

    def make(**overrides: Any) -> RapidApiClient:
        clients.append(RapidApiClient(settings_for(paged, **overrides)))
        return clients[-1]

    yield make
    for client in clients:
        await client.close()


def expected_likers() -> tuple[str, ...]:
    return tuple(name.lower() for name in LIKERS)


async def test_likers_are_walked_over_every_page(paged: RunningSimulator,
                                                 make_client: Callable[..., RapidApiClient]) -> None:
    likers = await make_client().instagram_likers("C9many00001")
    # 13 listed (the last one is Liker.00 again, spelled differently): pages of 5, 5, 3
    assert likers == Engagement(expected_likers(), complete=True, pages=3, total=13)
    log = paged.state.faults.log()
    cursors = [r.query.get("cursor") for r in log]
    assert cursors[0] is None and cursors[1] and cursors[2] and cursors[1] != cursors[2]
    assert all(r.query["code_or_id_or_url"] == "C9many00001" for r in log)
    assert [(r.status, r.rapidapi_host, r.cache_control) for r in log] == [(200, IG_HOST, "no-cache")] * 3


async def test_likers_paging_is_bounded_by_max_engagement_pages(
    paged: RunningSimulator, make_client: Callable[..., RapidApiClient]
) -> None:
    likers = await make_client(max_engagement_pages=2).instagram_likers("C9many00001")
    assert likers == Engagement(expected_likers()[:10], complete=False, pages=2, total=13)
    assert paged.requests_to("/v1/likes") == 2


async def test_the_engagement_bound_is_separate_from_the_feed_bound(
    paged: RunningSimulator, make_client: Callable[..., RapidApiClient]
) -> None:
    likers = await make_client(max_pages=1, max_engagement_pages=3).instagram_likers("C9many00001")
    assert likers.complete and likers.pages == 3


async def test_plain_string_likers_are_normalised(make_client: Callable[..., RapidApiClient]) -> None:
    likers = await make_client().instagram_likers("https://www.instagram.com/reel/C9strings01/")
    assert likers == Engagement(("budi.santoso", "bripka_andi"), complete=True, pages=1, total=2)


async def test_a_post_without_likers_is_an_empty_complete_list(make_client: Callable[..., RapidApiClient]) -> None:
    assert await make_client().instagram_likers("C9nolikes01") == Engagement((), True, 1, 0)
    assert await make_client().instagram_likers("C9unknown00") == Engagement((), True, 1, 0)


@pytest.mark.parametrize("cursor_key", ["next_cursor", "end_cursor"])
async def test_likers_follow_either_cursor_field(paged: RunningSimulator, make_client: Callable[..., RapidApiClient],
                                                 cursor_key: str) -> None:
    paged.add_fault("/v1/likes", 200, body={"data": {"items": [{"username": "A.One"}, "b_two"],
                                                     cursor_key: "PAGE2", "has_more": True}})
    paged.add_fault("/v1/likes", 200, query={"cursor": "PAGE2"},
                    body={"data": {"items": [{"username": "C.Three"}], cursor_key: "", "has_more": False}})
    likers = await make_client().instagram_likers("C9many00001")
    assert likers == Engagement(("a.one", "b_two", "c.three"), complete=True, pages=2)
    assert [r.query.get("cursor") for r in paged.state.faults.log()] == [None, "PAGE2"]


async def test_has_more_without_a_cursor_stops_as_incomplete(paged: RunningSimulator,
                                                             make_client: Callable[..., RapidApiClient]) -> None:
    paged.add_fault("/v1/likes", 200, body={"data": {"items": ["x"], "next_cursor": "", "has_more": True}})
    assert await make_client().instagram_likers("C9many00001") == Engagement(("x",), False, 1)
    assert paged.requests_to("/v1/likes") == 1


async def test_instagram_commenters_follow_the_top_level_token(
    paged: RunningSimulator, make_client: Callable[..., RapidApiClient]
) -> None:
    commenters = await make_client().instagram_commenters("C9many00001")
    # newest first, 7 comments in pages of 3
    assert commenters == Engagement(tuple(f"komentator_{i}" for i in reversed(range(7))), True, 3, 7)
    tokens = [r.query.get("pagination_token") for r in paged.state.faults.log()]
    assert tokens[0] is None and len(set(tokens)) == 3


async def test_instagram_commenters_are_bounded(paged: RunningSimulator,
                                                make_client: Callable[..., RapidApiClient]) -> None:
    commenters = await make_client(max_engagement_pages=2).instagram_commenters("C9many00001")
    assert (len(commenters.usernames), commenters.complete, commenters.pages) == (6, False, 2)


async def test_tiktok_comments_are_read_at_offsets_of_50(paged: RunningSimulator,
                                                        make_client: Callable[..., RapidApiClient]) -> None:
    commenters = await make_client().tiktok_commenters(BIG_VIDEO)
    assert commenters.complete and commenters.total == 120 and commenters.pages == 3
    assert set(commenters.usernames) == {f"warga.{i:03d}" for i in range(120)}
    assert len(commenters.usernames) == 120
    log = paged.state.faults.log()
    assert [(r.query["cursor"], r.query["count"], r.query["videoId"]) for r in log] == [
        ("0", "50", BIG_VIDEO), ("50", "50", BIG_VIDEO), ("100", "50", BIG_VIDEO)]
    assert all(r.rapidapi_host == TT_HOST for r in log)


async def test_tiktok_comments_are_bounded(paged: RunningSimulator,
                                           make_client: Callable[..., RapidApiClient]) -> None:
    commenters = await make_client(max_engagement_pages=2).tiktok_commenters(BIG_VIDEO)
    assert (len(commenters.usernames), commenters.complete, commenters.pages) == (100, False, 2)


async def test_tiktok_video_without_comments(paged: RunningSimulator,
                                             make_client: Callable[..., RapidApiClient]) -> None:
    assert await make_client().tiktok_commenters("7390000000000000002") == Engagement((), True, 1, 0)
    assert await make_client().tiktok_commenters("1") == Engagement((), True, 1, 0)


async def test_tiktok_comments_under_data_and_without_a_cursor(
    paged: RunningSimulator, make_client: Callable[..., RapidApiClient]
) -> None:
    paged.add_fault("/api/post/comments", 200, query={"cursor": "0"}, body={"data": {
        "comments": [{"user": {"unique_id": "@Satu"}}, {"user": {"unique_id": "dua"}}], "has_more": True,
        "total": 3}})
    paged.add_fault("/api/post/comments", 200, query={"cursor": "2"}, body={"data": {
        "comments": [{"user": {"unique_id": "TIGA"}}], "has_more": False, "total": 3}})
    commenters = await make_client().tiktok_commenters(BIG_VIDEO)
    assert commenters == Engagement(("satu", "dua", "tiga"), True, 2, 3)


async def test_tiktok_comments_stop_at_the_reported_total(paged: RunningSimulator,
                                                          make_client: Callable[..., RapidApiClient]) -> None:
    paged.add_fault("/api/post/comments", 200, body={
        "comments": [{"user": {"unique_id": "only"}}], "cursor": 50, "has_more": 1, "total": 1})
    assert await make_client().tiktok_commenters(BIG_VIDEO) == Engagement(("only",), True, 1, 1)


async def test_tiktok_comments_null_list_is_empty(paged: RunningSimulator,
                                                  make_client: Callable[..., RapidApiClient]) -> None:
    paged.add_fault("/api/post/comments", 200, body={"comments": None, "cursor": 0, "has_more": 0, "total": 0})
    assert await make_client().tiktok_commenters(BIG_VIDEO) == Engagement((), True, 1, 0)


@pytest.mark.parametrize("ref", ["C9strings01", "https://www.instagram.com/reel/C9strings01/",
                                 "https://www.instagram.com/p/C9strings01/?igsh=abc"])
async def test_instagram_post_info_by_shortcode_or_link(paged: RunningSimulator,
                                                        make_client: Callable[..., RapidApiClient], ref: str) -> None:
    post = await make_client().instagram_post_info(ref)
    assert (post.platform, post.shortcode, post.link) == (
        Platform.INSTAGRAM, "C9strings01", "https://www.instagram.com/p/C9strings01/")
    assert (post.caption, post.is_video, post.is_pinned, post.like_count) == ("Reel patroli", True, False, 2)
    assert post.account_username == "polres_paged"
    assert post.published_at == datetime(2026, 3, 10, 1, 0, tzinfo=UTC)  # 08:00 WIB
    assert paged.state.faults.log()[0].query == {"code_or_id_or_url": ref}


@pytest.mark.parametrize("body", [{"data": {}}, {"data": None}, {"message": "nothing here"}])
async def test_instagram_post_info_without_an_item_is_not_found(
    paged: RunningSimulator, make_client: Callable[..., RapidApiClient], body: dict[str, Any]
) -> None:
    paged.add_fault("/v1/post_info", 200, body=body)
    with pytest.raises(PlatformError, match="'C9many00001' not found"):
        await make_client().instagram_post_info("C9many00001")


async def test_tiktok_post_detail(paged: RunningSimulator, make_client: Callable[..., RapidApiClient]) -> None:
    post = await make_client().tiktok_post_detail(BIG_VIDEO, "polres_paged_tt")
    assert (post.platform, post.post_id, post.shortcode) == (Platform.TIKTOK, BIG_VIDEO, None)
    assert post.link == f"https://www.tiktok.com/@polres_paged_tt/video/{BIG_VIDEO}"
    assert (post.caption, post.like_count, post.comment_count, post.is_video) == ("Video besar #polri", 321, 130,
                                                                                  True)
    assert post.published_at == datetime(2026, 3, 10, 4, 0, tzinfo=UTC)  # 11:00 WIB
    assert [(r.path, r.query) for r in paged.state.faults.log()] == [("/api/post/detail", {"videoId": BIG_VIDEO})]


async def test_tiktok_post_detail_takes_the_author_when_no_username_is_given(
    paged: RunningSimulator, make_client: Callable[..., RapidApiClient]
) -> None:
    paged.add_fault("/api/post/detail", 200, body={"itemInfo": {"itemStruct": {
        "id": "42", "createTime": 1773105300, "author": {"uniqueId": "someone_tt"}}}})
    post = await make_client().tiktok_post_detail("42", "")
    assert post.link == "https://www.tiktok.com/@someone_tt/video/42"


async def test_unknown_tiktok_video_is_not_found(make_client: Callable[..., RapidApiClient]) -> None:
    with pytest.raises(PlatformError, match="tiktok video '999' not found"):
        await make_client().tiktok_post_detail("999", "polres_paged_tt")


async def test_feeds_say_whether_they_are_complete(paged: RunningSimulator,
                                                   make_client: Callable[..., RapidApiClient]) -> None:
    api = make_client()
    ig = await api.instagram_feed("polres_paged", DAY)
    tt = await api.tiktok_feed("polres_paged_tt", "SEC_PAGED", DAY)
    assert (ig.complete, ig.pages, len(ig.posts)) == (True, 1, 3)
    assert (tt.complete, tt.pages, [p.post_id for p in tt.posts]) == (True, 1, ["7390000000000000002", BIG_VIDEO])
    assert [p.post_id for p in await api.tiktok_posts("polres_paged_tt", "SEC_PAGED", DAY)] == [
        p.post_id for p in tt.posts]


async def test_a_feed_cut_by_max_pages_is_incomplete(paged: RunningSimulator,
                                                     make_client: Callable[..., RapidApiClient]) -> None:
    item = {"id": "1_1", "code": "C9today0001", "taken_at": 1773105300, "user": {"username": "polres_paged"}}
    # the more specific fault first: faults match in queue order
    paged.add_fault("/v1/posts", 200, times=10, query={"pagination_token": "P2"},
                    body={"data": {"items": [item]}, "pagination_token": "P3"})
    paged.add_fault("/v1/posts", 200, times=10, query={"username_or_id_or_url": "polres_paged"},
                    body={"data": {"items": [item]}, "pagination_token": "P2"})
    feed = await make_client(max_pages=2).instagram_feed("polres_paged", DAY)
    assert (feed.complete, feed.pages, len(feed.posts)) == (False, 2, 2)
    assert [r.query.get("pagination_token") for r in paged.state.faults.log()] == [None, "P2"]
