from __future__ import annotations

from typing import Any

import httpx
import pytest
from cicero_rapidapi_sim.server import RunningSimulator

# Mirrors the dataset built in conftest.py (importlib mode cannot import conftest as a module).
DAY_START = 1773075600  # 2026-03-10 00:00 WIB
BIG_IG_POSTS = 30
BIG_LIKERS = 120
BIG_IG_COMMENTS = 23


def walk_posts(client: httpx.Client, username: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    items: list[dict[str, Any]] = []
    pages: list[dict[str, Any]] = []
    token = ""
    for _ in range(20):
        params = {"username_or_id_or_url": username}
        if token:
            params["pagination_token"] = token
        reply = client.get("/v1/posts", params=params)
        assert reply.status_code == 200
        body = reply.json()
        pages.append(body)
        items.extend(body["data"]["items"])
        token = body["pagination_token"]
        if not token:
            return items, pages
    raise AssertionError("pagination never ended")


def test_posts_page_shape_matches_rapidapi_doc(client: httpx.Client) -> None:
    body = client.get("/v1/posts", params={"username_or_id_or_url": "big_account"}).json()
    assert set(body) == {"data", "pagination_token"}
    assert "pagination_token" not in body["data"]  # the token is top level, not nested
    assert isinstance(body["pagination_token"], str) and body["pagination_token"]
    assert body["data"]["count"] == len(body["data"]["items"]) == 12
    item = body["data"]["items"][1]
    for field in (
        "id",
        "code",
        "taken_at",
        "media_type",
        "is_video",
        "is_pinned",
        "like_count",
        "comment_count",
    ):
        assert field in item
    assert item["user"] == {"id": "7770001", "username": "big_account"}
    assert item["caption"] == {"text": "Kegiatan ke-29 #polri", "created_at": item["taken_at"]}
    assert isinstance(item["taken_at"], int)
    assert item["image_versions"]["items"][0]["url"].startswith("https://")


def test_posts_pagination_walks_every_post_once_pinned_first_then_newest(client: httpx.Client) -> None:
    items, pages = walk_posts(client, "big_account")
    assert [len(p["data"]["items"]) for p in pages] == [12, 12, 6]
    assert pages[-1]["pagination_token"] == ""
    codes = [item["code"] for item in items]
    assert len(codes) == len(set(codes)) == BIG_IG_POSTS
    assert codes[0] == "BIGpost0000" and items[0]["is_pinned"] is True
    assert items[0]["taken_at"] < DAY_START  # pinned and three days old
    rest = [item["taken_at"] for item in items[1:]]
    assert rest == sorted(rest, reverse=True)
    assert not any(item["is_pinned"] for item in items[1:])


def test_posts_relative_time_resolves_against_the_simulated_day(client: httpx.Client) -> None:
    items, _ = walk_posts(client, "big_account")
    by_code = {item["code"]: item for item in items}
    assert by_code["BIGpost0029"]["taken_at"] == DAY_START + 6 * 3600 + 29 * 60  # 06:29 WIB
    small = client.get("/v1/posts", params={"username_or_id_or_url": "small_account"}).json()
    assert small["data"]["items"][0]["taken_at"] == 1773105300  # absolute 08:15 WIB on 2026-03-10


@pytest.mark.parametrize(
    "key", ["big_account", "BIG_ACCOUNT", "@big_account", "7770001", "https://www.instagram.com/big_account/"]
)
def test_posts_accepts_username_id_or_profile_url(client: httpx.Client, key: str) -> None:
    body = client.get("/v1/posts", params={"username_or_id_or_url": key}).json()
    assert body["data"]["items"][0]["code"] == "BIGpost0000"


def test_posts_unknown_account_is_empty_without_token(client: httpx.Client) -> None:
    reply = client.get("/v1/posts", params={"username_or_id_or_url": "nobody_here"})
    assert reply.status_code == 200
    assert reply.json() == {"data": {"count": 0, "items": []}, "pagination_token": ""}


def test_posts_rejects_a_token_from_another_list(client: httpx.Client) -> None:
    first = client.get("/v1/posts", params={"username_or_id_or_url": "big_account"}).json()
    reply = client.get(
        "/v1/posts",
        params={"username_or_id_or_url": "small_account", "pagination_token": first["pagination_token"]},
    )
    assert reply.status_code == 400
    garbage = client.get("/v1/posts", params={"username_or_id_or_url": "big_account", "pagination_token": "%%%"})
    assert garbage.status_code == 400


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/v1/posts", {}),
        ("/v1/posts", {"username_or_id_or_url": ""}),
        ("/v1/likes", {"cursor": "x"}),
        ("/v1/comments", {}),
        ("/v1/post_info", {"code": "BIGpost0001"}),
    ],
)
def test_missing_required_param_is_400(client: httpx.Client, path: str, params: dict[str, str]) -> None:
    reply = client.get(path, params=params)
    assert reply.status_code == 400
    assert reply.json() == {"error": "Missing required params"}


def test_likes_walk_multiple_pages_with_nested_cursor(client: httpx.Client) -> None:
    likers: list[str] = []
    cursor = ""
    pages: list[dict[str, Any]] = []
    for _ in range(10):
        params = {"code_or_id_or_url": "BIGpost0001"}
        if cursor:
            params["cursor"] = cursor
        body = client.get("/v1/likes", params=params).json()
        assert set(body) == {"data"}
        data = body["data"]
        pages.append(data)
        likers.extend(item["username"] for item in data["items"])
        if not data["has_more"]:
            break
        cursor = data["next_cursor"]
        assert cursor
    assert [p["count"] for p in pages] == [50, 50, 20]
    assert [p["has_more"] for p in pages] == [True, True, False]
    assert all(p["total"] == BIG_LIKERS for p in pages)
    assert likers == [f"Liker.{i:03d}" for i in range(BIG_LIKERS)]  # case kept: consumers normalise
    item = pages[0]["items"][0]
    assert set(item) == {"id", "username", "full_name"}


def test_post_reports_more_likes_than_it_lists(client: httpx.Client) -> None:
    info = client.get("/v1/post_info", params={"code_or_id_or_url": "BIGpost0001"}).json()
    assert info["data"]["like_count"] == 5000
    likes = client.get("/v1/likes", params={"code_or_id_or_url": "BIGpost0001"}).json()
    assert likes["data"]["total"] == BIG_LIKERS


def test_likes_can_be_plain_strings(client: httpx.Client) -> None:
    body = client.get("/v1/likes", params={"code_or_id_or_url": "BIGpost0002"}).json()
    assert body["data"]["items"] == ["liker_2_0", "liker_2_1", "liker_2_2"]
    assert body["data"]["has_more"] is False


def test_likes_of_unknown_post_is_empty(client: httpx.Client) -> None:
    body = client.get("/v1/likes", params={"code_or_id_or_url": "NOPE"}).json()
    assert body["data"]["items"] == [] and body["data"]["has_more"] is False


def test_comments_paginate_with_top_level_token(client: httpx.Client) -> None:
    first = client.get("/v1/comments", params={"code_or_id_or_url": "BIGpost0001"}).json()
    assert set(first) == {"data", "pagination_token"} and first["pagination_token"]
    second = client.get(
        "/v1/comments",
        params={"code_or_id_or_url": "BIGpost0001", "pagination_token": first["pagination_token"]},
    ).json()
    assert second["pagination_token"] == ""
    items = first["data"]["items"] + second["data"]["items"]
    assert (first["data"]["count"], second["data"]["count"]) == (20, BIG_IG_COMMENTS - 20)
    assert len({c["id"] for c in items}) == BIG_IG_COMMENTS
    times = [c["created_at"] for c in items]
    assert times == sorted(times, reverse=True)
    newest = items[0]
    assert newest["text"] == f"komentar {BIG_IG_COMMENTS - 1}"
    assert newest["user"]["username"] == f"komentator_{BIG_IG_COMMENTS - 1}"
    assert newest["created_at"] == DAY_START + 12 * 3600 + (BIG_IG_COMMENTS - 1) * 60


@pytest.mark.parametrize(
    "key",
    [
        "BIGpost0003",
        "1234567890123456789_7770001",
        "1234567890123456789",
        "https://www.instagram.com/p/BIGpost0003/",
        "https://www.instagram.com/reel/BIGpost0003/?igsh=abc",
    ],
)
def test_post_info_by_code_id_or_link(client: httpx.Client, key: str) -> None:
    body = client.get("/v1/post_info", params={"code_or_id_or_url": key}).json()
    item = body["data"]
    assert item["code"] == "BIGpost0003"
    assert item["caption"] == "Kegiatan ke-3 #polri"  # caption_as_string
    assert item["is_video"] is True and item["media_type"] == 2
    assert item["video_versions"][0]["url"].endswith(".mp4")


def test_post_info_matches_the_feed_item_and_null_caption(client: httpx.Client) -> None:
    items, _ = walk_posts(client, "big_account")
    feed_item = next(i for i in items if i["code"] == "BIGpost0002")
    info = client.get("/v1/post_info", params={"code_or_id_or_url": "BIGpost0002"}).json()
    assert info == {"data": feed_item}
    assert feed_item["caption"] is None


def test_post_info_unknown_is_404(client: httpx.Client) -> None:
    reply = client.get("/v1/post_info", params={"code_or_id_or_url": "NOPE"})
    assert reply.status_code == 404


def test_requests_are_counted_per_path(client: httpx.Client, sim: RunningSimulator) -> None:
    walk_posts(client, "big_account")
    client.get("/v1/likes", params={"code_or_id_or_url": "BIGpost0001"})
    assert sim.request_counts() == {"/v1/posts": 3, "/v1/likes": 1}
