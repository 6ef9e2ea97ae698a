from __future__ import annotations

from typing import Any

import httpx
import pytest

# Mirrors the dataset built in conftest.py (importlib mode cannot import conftest as a module).
DAY_START = 1773075600  # 2026-03-10 00:00 WIB
SEC_UID = "MS4wLjABAAAAbig"
BIG_TT_VIDEOS = 40
BIG_TT_COMMENTS = 120
BUSY_VIDEO = f"79{1:017d}"


def test_user_info_resolves_sec_uid(client: httpx.Client) -> None:
    body = client.get("/api/user/info", params={"uniqueId": "big_tt"}).json()
    assert body["statusCode"] == 0
    user = body["userInfo"]["user"]
    assert (user["id"], user["uniqueId"], user["secUid"]) == ("6900000000000000001", "big_tt", SEC_UID)
    again = client.get("/api/user/info", params={"uniqueId": "@BIG_TT"}).json()
    assert again["userInfo"]["user"]["secUid"] == SEC_UID


def test_user_info_unknown_user_is_tiktok_not_found(client: httpx.Client) -> None:
    reply = client.get("/api/user/info", params={"uniqueId": "ghost"})
    assert reply.status_code == 200
    body = reply.json()
    assert body["statusCode"] == 10202 and body["userInfo"] == {}


def walk_videos(client: httpx.Client, count: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    items: list[dict[str, Any]] = []
    pages: list[dict[str, Any]] = []
    cursor = "0"
    for _ in range(20):
        body = client.get("/api/user/posts", params={"secUid": SEC_UID, "count": count, "cursor": cursor}).json()
        data = body["data"]
        pages.append(data)
        items.extend(data["itemList"])
        if not data["hasMore"]:
            return items, pages
        cursor = data["cursor"]
    raise AssertionError("pagination never ended")


def test_user_posts_shape_and_pagination(client: httpx.Client) -> None:
    items, pages = walk_videos(client, 35)
    assert [len(p["itemList"]) for p in pages] == [35, 5]
    assert isinstance(pages[0]["cursor"], str)
    ids = [item["id"] for item in items]
    assert len(ids) == len(set(ids)) == BIG_TT_VIDEOS
    first = items[0]
    assert first["isPinnedItem"] is True and first["createTime"] < DAY_START - 86400
    rest = [item["createTime"] for item in items[1:]]
    assert rest == sorted(rest, reverse=True)
    assert rest[0] == DAY_START + 6 * 3600 + 39 * 60  # "06:39" WIB
    newest = items[1]
    assert newest["author"]["uniqueId"] == "big_tt" and newest["author"]["secUid"] == SEC_UID
    assert set(newest["stats"]) >= {"diggCount", "commentCount", "playCount", "shareCount"}


def test_user_posts_count_is_capped_and_small_pages_still_cover_all(client: httpx.Client) -> None:
    capped = client.get("/api/user/posts", params={"secUid": SEC_UID, "count": 500}).json()
    assert len(capped["data"]["itemList"]) == 35
    items, pages = walk_videos(client, 7)
    assert len(pages) == 6 and len({i["id"] for i in items}) == BIG_TT_VIDEOS


def test_user_posts_unknown_sec_uid_is_empty(client: httpx.Client) -> None:
    body = client.get("/api/user/posts", params={"secUid": "nope", "count": 35, "cursor": 0}).json()
    assert body["data"]["itemList"] == [] and body["data"]["hasMore"] is False


def test_user_posts_rejects_non_numeric_cursor(client: httpx.Client) -> None:
    reply = client.get("/api/user/posts", params={"secUid": SEC_UID, "cursor": "abc"})
    assert reply.status_code == 400


def test_comments_offsets_0_50_100_then_past_the_end(client: httpx.Client) -> None:
    seen: list[str] = []
    for cursor, expected, has_more in ((0, 50, 1), (50, 50, 1), (100, 20, 0)):
        body = client.get("/api/post/comments", params={"videoId": BUSY_VIDEO, "count": 50, "cursor": cursor}).json()
        assert set(body) >= {"comments", "cursor", "has_more", "total", "status_code"}
        assert len(body["comments"]) == expected
        assert body["has_more"] == has_more
        assert body["cursor"] == cursor + expected
        assert body["total"] == BIG_TT_COMMENTS
        seen.extend(c["user"]["unique_id"] for c in body["comments"])
    assert len(seen) == len(set(seen)) == BIG_TT_COMMENTS
    assert seen[0] == "Penonton.119"  # newest first, handle case preserved
    past = client.get("/api/post/comments", params={"videoId": BUSY_VIDEO, "count": 50, "cursor": 150}).json()
    assert past["comments"] == [] and past["has_more"] == 0 and past["total"] == BIG_TT_COMMENTS


def test_comment_shape(client: httpx.Client) -> None:
    body = client.get("/api/post/comments", params={"videoId": BUSY_VIDEO, "count": 1}).json()
    (comment,) = body["comments"]
    assert set(comment) >= {"cid", "text", "create_time", "aweme_id", "user"}
    assert comment["aweme_id"] == BUSY_VIDEO
    assert comment["create_time"] == DAY_START + 36000 + 119
    assert set(comment["user"]) >= {"uid", "unique_id"}


def test_comments_of_unknown_video_are_empty(client: httpx.Client) -> None:
    body = client.get("/api/post/comments", params={"videoId": "123", "cursor": 0}).json()
    assert body["comments"] == [] and body["total"] == 0 and body["has_more"] == 0


def test_video_comment_count_defaults_to_listed_comments(client: httpx.Client) -> None:
    body = client.get("/api/post/detail", params={"videoId": BUSY_VIDEO}).json()
    item = body["itemInfo"]["itemStruct"]
    assert item["id"] == BUSY_VIDEO
    assert item["stats"] == {
        "diggCount": 900,
        "commentCount": BIG_TT_COMMENTS,
        "playCount": 12000,
        "shareCount": 4,
    }


def test_detail_matches_the_feed_item(client: httpx.Client) -> None:
    items, _ = walk_videos(client, 35)
    feed_item = next(i for i in items if i["id"] == BUSY_VIDEO)
    detail = client.get("/api/post/detail", params={"videoId": BUSY_VIDEO}).json()
    assert detail["itemInfo"]["itemStruct"] == feed_item


def test_detail_of_unknown_video(client: httpx.Client) -> None:
    body = client.get("/api/post/detail", params={"videoId": "404"}).json()
    assert body["statusCode"] == 10204 and body["itemInfo"] == {}


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/api/user/info", {}),
        ("/api/user/posts", {"count": "35", "cursor": "0"}),
        ("/api/post/comments", {"count": "50"}),
        ("/api/post/detail", {"videoId": " "}),
    ],
)
def test_missing_required_param_is_400(client: httpx.Client, path: str, params: dict[str, str]) -> None:
    reply = client.get(path, params=params)
    assert reply.status_code == 400
    assert reply.json() == {"error": "Missing required params"}
