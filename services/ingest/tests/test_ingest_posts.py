"""Pure mapping of platform items to posts (the RAPIDAPI.md examples) and the WIB-day rules. No I/O."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime
from typing import Any

import pytest
from cicero_contracts.events.common import Platform
from cicero_ingest.posts import FetchedPost, MalformedItem, instagram_post, is_older_than_day, tiktok_post, todays_posts
from cicero_runtime.clock import WIB

IG_ITEM: dict[str, Any] = {
    "id": "3320123456789012345_1234567890", "code": "C4abcDEFghi", "taken_at": 1710043200,
    "media_type": 8, "is_video": False, "is_pinned": False, "like_count": 87, "comment_count": 4,
    "caption": {"text": "Giat patroli dialogis #polri #presisi"},
    "thumbnail_url": "https://scontent.cdninstagram.com/a_640.jpg",
    "image_versions": {"items": [{"url": "https://scontent.cdninstagram.com/a_1080.jpg"}]},
    "user": {"id": "1234567890", "username": "divhumaspolri"},
}
IG_REEL: dict[str, Any] = {
    "id": "3320099999999999999_1234567890", "code": "C4reelXYZ12", "taken_at": 1710032400,
    "media_type": 2, "is_video": True, "like_count": 1520, "comment_count": 33,
    "caption": None, "video_versions": [{"url": "https://scontent.cdninstagram.com/reel.mp4"}],
    "user": {"id": "1234567890", "username": "divhumaspolri"},
}
TT_ITEM: dict[str, Any] = {
    "id": "7345012345678901234", "desc": "Patroli dialogis pagi ini #polri", "createTime": 1710043200,
    "isPinnedItem": False, "author": {"uniqueId": "divhumas_polri", "secUid": "MS4wLjABAAAA…"},
    "stats": {"diggCount": 120, "commentCount": 8, "playCount": 4500, "shareCount": 3},
}


def test_instagram_example_item() -> None:
    post = instagram_post(IG_ITEM)
    assert post == FetchedPost(
        platform=Platform.INSTAGRAM, post_id="3320123456789012345_1234567890", account_username="divhumaspolri",
        shortcode="C4abcDEFghi", link="https://www.instagram.com/p/C4abcDEFghi/",
        caption="Giat patroli dialogis #polri #presisi",
        published_at=datetime(2024, 3, 10, 4, 0, tzinfo=UTC),  # 1710043200 = 11:00 WIB
        is_pinned=False, is_video=False, like_count=87, comment_count=4,
    )
    assert post.published_at.tzinfo is UTC


def test_instagram_example_reel_with_null_caption_and_no_pinned_flag() -> None:
    post = instagram_post(IG_REEL)
    assert (post.caption, post.is_video, post.is_pinned) == ("", True, False)
    assert (post.like_count, post.comment_count) == (1520, 33)
    assert post.link == "https://www.instagram.com/p/C4reelXYZ12/"
    assert post.published_at == datetime(2024, 3, 10, 1, 0, tzinfo=UTC)


@pytest.mark.parametrize(("caption", "expected"), [
    ({"text": "Giat patroli"}, "Giat patroli"),
    ("Giat patroli sebagai string", "Giat patroli sebagai string"),
    (None, ""),
    ({"text": None}, ""),
    ({}, ""),
    ("", ""),
])
def test_instagram_caption_shapes(caption: Any, expected: str) -> None:
    assert instagram_post(IG_ITEM | {"caption": caption}).caption == expected


@pytest.mark.parametrize(("changes", "field", "expected"), [
    ({"user": {"username": "DivHumasPolri"}}, "account_username", "divhumaspolri"),
    ({"user": None}, "account_username", ""),
    ({"like_count": None}, "like_count", 0),
    ({"comment_count": None}, "comment_count", 0),
    ({"is_pinned": True}, "is_pinned", True),
    ({"id": 3320123456789012345}, "post_id", "3320123456789012345"),
    ({"taken_at": "1710043200"}, "published_at", datetime(2024, 3, 10, 4, 0, tzinfo=UTC)),
])
def test_instagram_field_variants(changes: dict[str, Any], field: str, expected: Any) -> None:
    assert getattr(instagram_post(IG_ITEM | changes), field) == expected


def test_tiktok_example_item() -> None:
    post = tiktok_post(TT_ITEM, "divhumas_polri")
    assert post == FetchedPost(
        platform=Platform.TIKTOK, post_id="7345012345678901234", account_username="divhumas_polri",
        shortcode=None, link="https://www.tiktok.com/@divhumas_polri/video/7345012345678901234",
        caption="Patroli dialogis pagi ini #polri", published_at=datetime(2024, 3, 10, 4, 0, tzinfo=UTC),
        is_pinned=False, is_video=True, like_count=120, comment_count=8,
    )


@pytest.mark.parametrize(("changes", "field", "expected"), [
    ({"stats": None}, "like_count", 0),
    ({"stats": {}}, "comment_count", 0),
    ({"stats": {"diggCount": 5}}, "comment_count", 0),
    ({"desc": None}, "caption", ""),
    ({"isPinnedItem": True}, "is_pinned", True),
])
def test_tiktok_field_variants(changes: dict[str, Any], field: str, expected: Any) -> None:
    assert getattr(tiktok_post(TT_ITEM | changes, "divhumas_polri"), field) == expected


def without(item: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in item.items() if k != key}


@pytest.mark.parametrize("item", [
    without(IG_ITEM, "code"),
    without(IG_ITEM, "id"),
    without(IG_ITEM, "taken_at"),
    IG_ITEM | {"taken_at": None},
    IG_ITEM | {"taken_at": "yesterday"},
    IG_ITEM | {"taken_at": 10**20},
    IG_ITEM | {"like_count": "many"},
    IG_ITEM | {"user": "divhumaspolri"},
    "3320123456789012345_1234567890",
    None,
    ["not", "an", "object"],
], ids=["no-code", "no-id", "no-taken_at", "null-taken_at", "text-taken_at", "huge-taken_at", "text-likes",
        "user-string", "string-item", "null-item", "list-item"])
def test_malformed_instagram_items_raise_malformed_item(item: Any) -> None:
    with pytest.raises(MalformedItem, match="instagram item"):
        instagram_post(item)


@pytest.mark.parametrize("item", [
    without(TT_ITEM, "id"),
    without(TT_ITEM, "createTime"),
    TT_ITEM | {"createTime": "soon"},
    TT_ITEM | {"stats": ["x"]},
    TT_ITEM | {"stats": {"diggCount": "lots"}},
    "7345012345678901234",
    None,
], ids=["no-id", "no-createTime", "text-createTime", "list-stats", "text-digg", "string-item", "null-item"])
def test_malformed_tiktok_items_raise_malformed_item(item: Any) -> None:
    with pytest.raises(MalformedItem, match="tiktok item"):
        tiktok_post(item, "divhumas_polri")


def test_malformed_item_is_a_value_error_naming_the_item() -> None:
    with pytest.raises(ValueError, match="3320123456789012345_1234567890"):
        instagram_post(without(IG_ITEM, "code"))


DAY = date(2026, 3, 10)


def post_at(wib_time: datetime, *, pinned: bool = False, post_id: str = "p") -> FetchedPost:
    return instagram_post(IG_ITEM | {"id": post_id, "taken_at": int(wib_time.timestamp()), "is_pinned": pinned})


def wib(day: int, hh: int, mm: int, ss: int = 0) -> datetime:
    return datetime(2026, 3, day, hh, mm, ss, tzinfo=WIB)


@pytest.mark.parametrize(("published", "pinned", "today"), [
    (wib(9, 23, 30), False, False),      # 23:30 WIB the day before (16:30Z on the 9th)
    (wib(10, 0, 10), False, True),       # 00:10 WIB is today even though it is still the 9th in UTC
    (wib(10, 0, 0), False, True),
    (wib(9, 23, 59, 59), False, False),
    (wib(10, 23, 59, 59), False, True),
    (wib(11, 0, 0), False, False),
    (wib(10, 14, 0), False, True),
    (wib(8, 16, 0), True, False),        # pinned old post
    (wib(10, 7, 0), True, True),         # pinned, but published today
])
def test_todays_posts_use_the_wib_day(published: datetime, pinned: bool, today: bool) -> None:
    post = post_at(published, pinned=pinned)
    assert (todays_posts([post], DAY) == [post]) is today


def test_a_post_just_after_wib_midnight_is_today_although_its_utc_date_is_yesterday() -> None:
    post = post_at(wib(10, 0, 10))
    assert post.published_at == datetime(2026, 3, 9, 17, 10, tzinfo=UTC)
    assert todays_posts([post], DAY) == [post]
    assert todays_posts([post], date(2026, 3, 9)) == []


def test_todays_posts_keep_feed_order_and_drop_the_rest() -> None:
    feed = [post_at(wib(1, 8, 0), pinned=True, post_id="pinned-old"), post_at(wib(10, 13, 0), post_id="b"),
            post_at(wib(10, 0, 10), post_id="a"), post_at(wib(9, 23, 30), post_id="yesterday")]
    assert [p.post_id for p in todays_posts(feed, DAY)] == ["b", "a"]
    assert todays_posts([], DAY) == []


@pytest.mark.parametrize(("published", "pinned", "older"), [
    (wib(9, 23, 30), False, True),
    (wib(9, 23, 30), True, False),     # a pinned old post does not stop paging
    (wib(10, 0, 10), False, False),
    (wib(11, 8, 0), False, False),     # newer than the day is not older
])
def test_is_older_than_day(published: datetime, pinned: bool, older: bool) -> None:
    assert is_older_than_day(post_at(published, pinned=pinned), DAY) is older


def test_mapping_does_not_mutate_the_item() -> None:
    item = copy.deepcopy(IG_ITEM)
    instagram_post(item)
    tiktok_post(copy.deepcopy(TT_ITEM), "x")
    assert item == IG_ITEM
