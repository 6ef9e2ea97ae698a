"""Run-time changes through the control API (``/_sim/instagram/...``, ``/_sim/tiktok/...``) and the matching
``RunningSimulator`` methods, checked through the simulated RapidAPI endpoints over real HTTP."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from cicero_rapidapi_sim.changes import Conflict, InvalidChange, NotFound
from cicero_rapidapi_sim.server import RunningSimulator, running_simulator

TODAY = "2026-03-10"
DAY_START = 1773075600  # 2026-03-10 00:00 WIB
HOUR = 3600

BASE: dict[str, Any] = {
    "instagram": [
        {
            "username": "polres_x",
            "user_id": "42",
            "posts": [
                {"code": "KEEP", "taken_at": "08:15", "likers": ["a", "b"]},
                {
                    "code": "GONE",
                    "id": "3300000000000000009_42",
                    "taken_at": "10:40",
                    "likers": ["c"],
                    "like_count": 100,
                    "comment_count": 9,
                    "comments": [{"username": "c", "text": "mantap", "created_at": "10:50"}],
                },
            ],
        }
    ],
    "tiktok": [
        {
            "uniqueId": "polres_x_tt",
            "secUid": "MS4wLjABAAAAx",
            "id": "6800000000000000042",
            "videos": [
                {
                    "id": "7300000000000000001",
                    "createTime": "09:00",
                    "stats": {"diggCount": 10, "playCount": 100, "shareCount": 1},
                    "comments": [{"unique_id": "u1", "text": "siap", "create_time": "09:10"}],
                },
                {"id": "7300000000000000002", "createTime": "11:00", "stats": {"commentCount": 40}},
            ],
        }
    ],
}


@pytest.fixture(scope="module")
def sim() -> Iterator[RunningSimulator]:
    """Overrides conftest's simulator (so its ``client``/``admin`` fixtures talk to this one)."""
    with running_simulator(BASE, today=TODAY) as running:
        yield running


@pytest.fixture(autouse=True)
def _fresh_world(sim: RunningSimulator) -> None:
    sim.replace_dataset(BASE, today=TODAY)


def feed(client: httpx.Client, account: str = "polres_x") -> list[str]:
    body = client.get("/v1/posts", params={"username_or_id_or_url": account}).json()
    return [item["code"] for item in body["data"]["items"]]


def post_info(client: httpx.Client, ref: str) -> dict[str, Any]:
    reply = client.get("/v1/post_info", params={"code_or_id_or_url": ref})
    assert reply.status_code == 200, reply.text
    data: dict[str, Any] = reply.json()["data"]
    return data


def likers(client: httpx.Client, ref: str) -> list[str]:
    body = client.get("/v1/likes", params={"code_or_id_or_url": ref}).json()
    return [item["username"] for item in body["data"]["items"]]


def ig_comments(client: httpx.Client, ref: str) -> list[tuple[str, str, int]]:
    body = client.get("/v1/comments", params={"code_or_id_or_url": ref}).json()
    return [(c["user"]["username"], c["text"], c["created_at"]) for c in body["data"]["items"]]


def tt_videos(client: httpx.Client) -> list[str]:
    body = client.get("/api/user/posts", params={"secUid": "MS4wLjABAAAAx"}).json()
    return [item["id"] for item in body["data"]["itemList"]]


def tt_detail(client: httpx.Client, video_id: str) -> dict[str, Any]:
    return dict(client.get("/api/post/detail", params={"videoId": video_id}).json())


def world_unchanged(client: httpx.Client, admin: httpx.Client) -> tuple[Any, ...]:
    """Everything a failed change could have touched, as the API serves it."""
    return (
        admin.get("/_sim/dataset").json(),
        feed(client),
        likers(client, "KEEP"),
        likers(client, "GONE"),
        ig_comments(client, "GONE"),
        post_info(client, "GONE"),
        tt_videos(client),
        tt_detail(client, "7300000000000000001"),
        client.get("/api/post/comments", params={"videoId": "7300000000000000001"}).json(),
    )


# --- Instagram over HTTP ---------------------------------------------------------------------------------


def test_added_post_with_relative_time_is_served_everywhere(client: httpx.Client, admin: httpx.Client) -> None:
    post = {
        "code": "NEW1",
        "taken_at": "09:30",
        "caption": "Giat baru #polri",
        "likers": ["x1", "x2", "x3"],
        "comments": [{"username": "x1", "text": "siap", "created_at": "09:45"}],
    }
    reply = admin.post("/_sim/instagram/accounts/polres_x/posts", json=post)
    assert reply.status_code == 201, reply.text
    item = reply.json()["item"]
    assert item["code"] == "NEW1" and item["taken_at"] == DAY_START + 9 * HOUR + 30 * 60
    assert item["like_count"] == 3 and item["comment_count"] == 1
    assert item["id"].endswith("_42") and item["user"] == {"id": "42", "username": "polres_x"}
    assert feed(client) == ["GONE", "NEW1", "KEEP"]  # newest first
    assert post_info(client, "NEW1") == item
    assert post_info(client, item["id"]) == item
    assert likers(client, "NEW1") == ["x1", "x2", "x3"]
    assert ig_comments(client, "NEW1") == [("x1", "siap", DAY_START + 9 * HOUR + 45 * 60)]
    assert admin.get("/_sim/dataset").json()["instagram_posts"] == {"polres_x": 3}


@pytest.mark.parametrize(
    ("taken_at", "expected"),
    [
        ("2026-03-10T23:30:00+07:00", DAY_START + 23 * HOUR + 30 * 60),
        (DAY_START + 24 * HOUR + 30 * 60, DAY_START + 24 * HOUR + 30 * 60),
        ("-1d 23:30", DAY_START - 30 * 60),
    ],
)
def test_added_post_takes_absolute_and_relative_times(admin: httpx.Client, taken_at: Any, expected: int) -> None:
    reply = admin.post("/_sim/instagram/accounts/@Polres_X/posts", json={"code": "T1", "taken_at": taken_at})
    assert reply.status_code == 201, reply.text
    assert reply.json()["item"]["taken_at"] == expected


def test_post_can_be_added_by_user_id_and_a_pinned_one_goes_first(client: httpx.Client, admin: httpx.Client) -> None:
    reply = admin.post(
        "/_sim/instagram/accounts/42/posts", json={"code": "PIN", "taken_at": "-5d 08:00", "is_pinned": True}
    )
    assert reply.status_code == 201
    assert feed(client) == ["PIN", "GONE", "KEEP"]


def test_removing_a_post_by_code_or_media_id(client: httpx.Client, admin: httpx.Client) -> None:
    reply = admin.delete("/_sim/instagram/posts/GONE")
    assert reply.status_code == 200
    assert reply.json() == {"removed": "GONE", "id": "3300000000000000009_42"}
    assert feed(client) == ["KEEP"]
    for ref in ("GONE", "3300000000000000009_42", "3300000000000000009"):  # every key it was found by
        assert client.get("/v1/post_info", params={"code_or_id_or_url": ref}).status_code == 404
    assert likers(client, "GONE") == []
    keep_id = post_info(client, "KEEP")["id"]
    assert admin.delete(f"/_sim/instagram/posts/{keep_id}").json()["removed"] == "KEEP"
    assert feed(client) == []
    again = admin.delete("/_sim/instagram/posts/GONE")
    assert again.status_code == 404 and "GONE" in again.json()["error"]


def test_adding_likers_skips_people_who_already_like_it(client: httpx.Client, admin: httpx.Client) -> None:
    reply = admin.post("/_sim/instagram/posts/KEEP/likers", json={"likers": ["new.one", "A", "new.one", "@two"]})
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert (body["added"], body["likers"], body["item"]["like_count"]) == (2, 4, 4)
    assert likers(client, "KEEP") == ["a", "b", "new.one", "two"]
    assert post_info(client, "KEEP")["like_count"] == 4  # default count follows the list


def test_adding_likers_raises_a_stated_like_count_by_the_number_added(
    client: httpx.Client, admin: httpx.Client
) -> None:
    reply = admin.post("/_sim/instagram/posts/3300000000000000009_42/likers", json={"likers": ["d", "e"]})
    assert reply.json()["added"] == 2
    assert post_info(client, "GONE")["like_count"] == 102
    assert likers(client, "GONE") == ["c", "d", "e"]


def test_adding_comments_objects_and_bare_handles(client: httpx.Client, admin: httpx.Client) -> None:
    comments = [{"username": "warga.1", "text": "Mantap pak", "created_at": "12:00"}, "warga.2"]
    reply = admin.post("/_sim/instagram/posts/GONE/comments", json={"comments": comments})
    assert reply.status_code == 200, reply.text
    assert (reply.json()["added"], reply.json()["comments"]) == (2, 3)
    assert post_info(client, "GONE")["comment_count"] == 11  # a stated count grows by the number added
    taken_at = DAY_START + 10 * HOUR + 40 * 60
    assert ig_comments(client, "GONE") == [
        ("warga.1", "Mantap pak", DAY_START + 12 * HOUR),
        ("c", "mantap", taken_at + 10 * 60),
        ("warga.2", "", taken_at),  # a bare handle comments at the post's own time
    ]
    admin.post("/_sim/instagram/posts/KEEP/comments", json={"comments": ["z"]})
    assert post_info(client, "KEEP")["comment_count"] == 1  # a default count follows the list


def test_changing_counts_leaves_the_lists_alone(client: httpx.Client, admin: httpx.Client) -> None:
    reply = admin.patch("/_sim/instagram/posts/KEEP", json={"like_count": 5000})
    assert reply.status_code == 200
    assert reply.json()["item"]["like_count"] == 5000 and reply.json()["item"]["comment_count"] == 0
    served = client.get("/v1/posts", params={"username_or_id_or_url": "polres_x"}).json()["data"]["items"]
    assert [(i["code"], i["like_count"], i["comment_count"]) for i in served] == [("GONE", 100, 9), ("KEEP", 5000, 0)]
    assert likers(client, "KEEP") == ["a", "b"]
    admin.patch("/_sim/instagram/posts/KEEP", json={"comment_count": 7, "like_count": 4})
    assert (post_info(client, "KEEP")["like_count"], post_info(client, "KEEP")["comment_count"]) == (4, 7)


def test_adding_an_account(client: httpx.Client, admin: httpx.Client) -> None:
    account = {
        "username": "polres_baru",
        "user_id": "77",
        "posts": [{"code": "B1", "taken_at": "07:00", "likers": ["k"]}, {"code": "B2", "taken_at": "08:00"}],
    }
    reply = admin.post("/_sim/instagram/accounts", json=account)
    assert reply.status_code == 201, reply.text
    assert reply.json() == {"username": "polres_baru", "user_id": "77", "posts": 2}
    assert feed(client, "POLRES_BARU") == ["B2", "B1"] and feed(client, "77") == ["B2", "B1"]
    assert likers(client, "B1") == ["k"]
    assert admin.get("/_sim/dataset").json()["instagram_posts"] == {"polres_x": 2, "polres_baru": 2}
    assert feed(client) == ["GONE", "KEEP"]  # the other account is untouched
    assert (
        admin.post("/_sim/instagram/accounts/polres_baru/posts", json={"code": "B3", "taken_at": "09:00"}).status_code
        == 201
    )
    assert feed(client, "polres_baru") == ["B3", "B2", "B1"]


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "names"),
    [
        ("post", "/_sim/instagram/accounts/nobody/posts", {"code": "N", "taken_at": "08:00"}, 404, "'nobody'"),
        ("post", "/_sim/instagram/posts/NOPE/likers", {"likers": ["a"]}, 404, "'NOPE'"),
        ("post", "/_sim/instagram/posts/NOPE/comments", {"comments": ["a"]}, 404, "'NOPE'"),
        ("patch", "/_sim/instagram/posts/NOPE", {"like_count": 1}, 404, "'NOPE'"),
        ("delete", "/_sim/instagram/posts/NOPE", None, 404, "'NOPE'"),
        ("post", "/_sim/instagram/accounts/polres_x/posts", {"code": "KEEP", "taken_at": "08:00"}, 409, "KEEP"),
        (
            "post",
            "/_sim/instagram/accounts/polres_x/posts",
            {"code": "OTHER", "id": "3300000000000000009_42", "taken_at": "08:00"},
            409,
            "3300000000000000009_42",
        ),
        ("post", "/_sim/instagram/accounts", {"username": "POLRES_X", "user_id": "99"}, 409, "polres_x"),
        ("post", "/_sim/instagram/accounts", {"username": "fresh", "user_id": "42"}, 409, "42"),
        (
            "post",
            "/_sim/instagram/accounts",
            {"username": "fresh", "user_id": "99", "posts": [{"code": "GONE", "taken_at": "08:00"}]},
            409,
            "GONE",
        ),
        (
            "post",
            "/_sim/instagram/accounts",
            {
                "username": "fresh",
                "user_id": "99",
                "posts": [{"code": "D", "taken_at": 1}, {"code": "D", "taken_at": 2}],
            },
            409,
            "D",
        ),
        ("post", "/_sim/instagram/accounts/polres_x/posts", {"code": "N"}, 422, "taken_at: Field required"),
        ("post", "/_sim/instagram/accounts/polres_x/posts", {"code": "N", "taken_at": "25:00"}, 422, "25:00"),
        (
            "post",
            "/_sim/instagram/accounts/polres_x/posts",
            {"code": "N", "taken_at": "08:00", "likes": []},
            422,
            "likes",
        ),
        ("post", "/_sim/instagram/accounts", {"username": "fresh"}, 422, "user_id"),
        ("post", "/_sim/instagram/posts/KEEP/likers", {"likers": []}, 422, "likers"),
        ("post", "/_sim/instagram/posts/KEEP/likers", {"likers": ["ok", 5]}, 422, "likers.1"),
        ("post", "/_sim/instagram/posts/KEEP/likers", {"likers": ["ok", " "]}, 422, "likers.1"),
        ("post", "/_sim/instagram/posts/KEEP/likers", ["a"], 422, "invalid likers"),
        (
            "post",
            "/_sim/instagram/posts/GONE/comments",
            {"comments": [{"username": "a", "text": "ok", "created_at": "10:00"}, {"username": "b"}]},
            422,
            "comments.1.text: Field required",
        ),
        ("patch", "/_sim/instagram/posts/KEEP", {}, 422, "like_count and/or comment_count"),
        ("patch", "/_sim/instagram/posts/KEEP", {"like_count": -1}, 422, "like_count"),
        ("patch", "/_sim/instagram/posts/KEEP", {"like_count": "12"}, 422, "like_count"),
        ("patch", "/_sim/instagram/posts/KEEP", {"likes": 12}, 422, "likes"),
    ],
)
def test_bad_instagram_changes_are_refused_and_change_nothing(
    client: httpx.Client,
    admin: httpx.Client,
    method: str,
    path: str,
    body: Any,
    status: int,
    names: str,
) -> None:
    before = world_unchanged(client, admin)
    reply = admin.request(method.upper(), path, json=body)
    assert reply.status_code == status, reply.text
    assert names in reply.json()["error"]
    assert world_unchanged(client, admin) == before


def test_bodies_that_are_not_json_are_refused(admin: httpx.Client) -> None:
    garbage = admin.post("/_sim/instagram/posts/KEEP/likers", content=b"likers=a")
    assert garbage.status_code == 422 and garbage.json() == {"error": "the request body is not JSON"}
    empty = admin.post("/_sim/instagram/accounts")
    assert empty.status_code == 422 and "empty" in empty.json()["error"]


# --- TikTok over HTTP ------------------------------------------------------------------------------------


def test_added_video_is_served_in_the_feed_and_detail(client: httpx.Client, admin: httpx.Client) -> None:
    video = {
        "id": "7300000000000000003",
        "desc": "Patroli malam #polri",
        "createTime": "2026-03-10T23:30:00+07:00",
        "stats": {"diggCount": 5},
        "comments": [{"unique_id": "w", "text": "siap", "create_time": "23:40"}],
    }
    reply = admin.post("/_sim/tiktok/accounts/@Polres_X_TT/videos", json=video)
    assert reply.status_code == 201, reply.text
    item = reply.json()["item"]
    assert item["createTime"] == DAY_START + 23 * HOUR + 30 * 60
    assert item["stats"] == {"diggCount": 5, "commentCount": 1, "playCount": 0, "shareCount": 0}
    assert item["author"]["secUid"] == "MS4wLjABAAAAx"
    assert tt_videos(client) == ["7300000000000000003", "7300000000000000002", "7300000000000000001"]
    assert tt_detail(client, "7300000000000000003")["itemInfo"]["itemStruct"] == item
    by_sec_uid = admin.post(
        "/_sim/tiktok/accounts/MS4wLjABAAAAx/videos", json={"id": "7300000000000000004", "createTime": "06:00"}
    )
    assert by_sec_uid.status_code == 201
    assert tt_videos(client)[-1] == "7300000000000000004"


def test_removing_a_video(client: httpx.Client, admin: httpx.Client) -> None:
    reply = admin.delete("/_sim/tiktok/videos/7300000000000000001")
    assert reply.status_code == 200 and reply.json() == {"removed": "7300000000000000001"}
    assert tt_videos(client) == ["7300000000000000002"]
    assert tt_detail(client, "7300000000000000001")["statusCode"] == 10204
    comments = client.get("/api/post/comments", params={"videoId": "7300000000000000001"}).json()
    assert comments["comments"] == [] and comments["total"] == 0


def test_adding_tiktok_comments(client: httpx.Client, admin: httpx.Client) -> None:
    comments = [{"unique_id": "Warga.A", "text": "Mantap", "create_time": "09:30"}, "warga.b"]
    reply = admin.post("/_sim/tiktok/videos/7300000000000000001/comments", json={"comments": comments})
    assert reply.status_code == 200, reply.text
    assert (reply.json()["added"], reply.json()["comments"]) == (2, 3)
    body = client.get("/api/post/comments", params={"videoId": "7300000000000000001"}).json()
    assert body["total"] == 3
    assert [(c["user"]["unique_id"], c["create_time"]) for c in body["comments"]] == [
        ("Warga.A", DAY_START + 9 * HOUR + 30 * 60),
        ("u1", DAY_START + 9 * HOUR + 10 * 60),
        ("warga.b", DAY_START + 9 * HOUR),
    ]
    assert tt_detail(client, "7300000000000000001")["itemInfo"]["itemStruct"]["stats"]["commentCount"] == 3
    admin.post("/_sim/tiktok/videos/7300000000000000002/comments", json={"comments": ["x"]})
    assert tt_detail(client, "7300000000000000002")["itemInfo"]["itemStruct"]["stats"]["commentCount"] == 41


def test_changing_tiktok_stats_changes_only_the_given_ones(client: httpx.Client, admin: httpx.Client) -> None:
    reply = admin.patch(
        "/_sim/tiktok/videos/7300000000000000001", json={"stats": {"diggCount": 900, "playCount": 12000}}
    )
    assert reply.status_code == 200, reply.text
    expected = {"diggCount": 900, "commentCount": 1, "playCount": 12000, "shareCount": 1}
    assert reply.json()["item"]["stats"] == expected
    listed = client.get("/api/user/posts", params={"secUid": "MS4wLjABAAAAx"}).json()["data"]["itemList"]
    assert next(i for i in listed if i["id"] == "7300000000000000001")["stats"] == expected


def test_adding_a_tiktok_account(client: httpx.Client, admin: httpx.Client) -> None:
    account = {
        "uniqueId": "polres_baru_tt",
        "secUid": "MS4wLjABAAAAbaru",
        "id": "6800000000000000077",
        "videos": [{"id": "7300000000000000077", "createTime": "10:00"}],
    }
    reply = admin.post("/_sim/tiktok/accounts", json=account)
    assert reply.status_code == 201, reply.text
    assert reply.json() == {"uniqueId": "polres_baru_tt", "secUid": "MS4wLjABAAAAbaru", "videos": 1}
    info = client.get("/api/user/info", params={"uniqueId": "polres_baru_tt"}).json()
    assert info["userInfo"]["user"]["secUid"] == "MS4wLjABAAAAbaru"
    listed = client.get("/api/user/posts", params={"secUid": "MS4wLjABAAAAbaru"}).json()["data"]["itemList"]
    assert [i["id"] for i in listed] == ["7300000000000000077"]
    assert admin.get("/_sim/dataset").json()["tiktok_videos"] == {"polres_x_tt": 2, "polres_baru_tt": 1}


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "names"),
    [
        ("post", "/_sim/tiktok/accounts/nobody/videos", {"id": "1", "createTime": 1}, 404, "'nobody'"),
        ("delete", "/_sim/tiktok/videos/999", None, 404, "'999'"),
        ("post", "/_sim/tiktok/videos/999/comments", {"comments": ["a"]}, 404, "'999'"),
        ("patch", "/_sim/tiktok/videos/999", {"stats": {"diggCount": 1}}, 404, "'999'"),
        (
            "post",
            "/_sim/tiktok/accounts/polres_x_tt/videos",
            {"id": "7300000000000000002", "createTime": 1},
            409,
            "7300000000000000002",
        ),
        ("post", "/_sim/tiktok/accounts", {"uniqueId": "POLRES_X_TT", "secUid": "s", "id": "1"}, 409, "POLRES_X_TT"),
        (
            "post",
            "/_sim/tiktok/accounts",
            {"uniqueId": "n", "secUid": "MS4wLjABAAAAx", "id": "1"},
            409,
            "MS4wLjABAAAAx",
        ),
        ("post", "/_sim/tiktok/accounts/polres_x_tt/videos", {"id": "5"}, 422, "createTime: Field required"),
        ("post", "/_sim/tiktok/accounts", {"uniqueId": "n", "id": "1"}, 422, "secUid"),
        ("patch", "/_sim/tiktok/videos/7300000000000000001", {"stats": {"likes": 3}}, 422, "stats.likes"),
        ("patch", "/_sim/tiktok/videos/7300000000000000001", {"stats": {}}, 422, "diggCount"),
        ("patch", "/_sim/tiktok/videos/7300000000000000001", {"diggCount": 3}, 422, "diggCount"),
        (
            "post",
            "/_sim/tiktok/videos/7300000000000000001/comments",
            {"comments": ["ok", {"unique_id": "x", "text": "t"}]},
            422,
            "comments.1.create_time",
        ),
    ],
)
def test_bad_tiktok_changes_are_refused_and_change_nothing(
    client: httpx.Client,
    admin: httpx.Client,
    method: str,
    path: str,
    body: Any,
    status: int,
    names: str,
) -> None:
    before = world_unchanged(client, admin)
    reply = admin.request(method.upper(), path, json=body)
    assert reply.status_code == status, reply.text
    assert names in reply.json()["error"]
    assert world_unchanged(client, admin) == before


# --- The same through the Python API ---------------------------------------------------------------------


def test_python_methods_match_the_endpoints(sim: RunningSimulator, client: httpx.Client) -> None:
    added = sim.add_ig_post("polres_x", {"code": "PY1", "taken_at": "12:00", "likers": ["p"]})
    assert added["item"]["taken_at"] == DAY_START + 12 * HOUR
    assert feed(client) == ["PY1", "GONE", "KEEP"]
    assert sim.add_ig_likers("PY1", ["q", "P"])["added"] == 1
    assert likers(client, "PY1") == ["p", "q"]
    assert sim.add_ig_comments("PY1", [{"username": "q", "text": "ok", "created_at": "12:05"}])["comments"] == 1
    assert ig_comments(client, "PY1") == [("q", "ok", DAY_START + 12 * HOUR + 5 * 60)]
    assert sim.set_ig_counts("PY1", like_count=3000)["item"]["like_count"] == 3000
    assert post_info(client, "PY1")["like_count"] == 3000 and post_info(client, "PY1")["comment_count"] == 1
    assert sim.remove_ig_post("PY1") == {"removed": "PY1", "id": added["item"]["id"]}
    assert feed(client) == ["GONE", "KEEP"]
    assert sim.add_ig_account({"username": "py_acc", "user_id": "5"})["posts"] == 0
    assert feed(client, "py_acc") == []

    assert sim.add_tt_video("polres_x_tt", {"id": "7300000000000000009", "createTime": "13:00"})["item"]["id"]
    assert tt_videos(client)[0] == "7300000000000000009"
    assert sim.add_tt_comments("7300000000000000009", ["a", "b"])["added"] == 2
    stats = sim.set_tt_stats("7300000000000000009", digg_count=7, share_count=2)["item"]["stats"]
    assert stats == {"diggCount": 7, "commentCount": 2, "playCount": 0, "shareCount": 2}
    assert tt_detail(client, "7300000000000000009")["itemInfo"]["itemStruct"]["stats"] == stats
    assert sim.remove_tt_video("7300000000000000009") == {"removed": "7300000000000000009"}
    assert "7300000000000000009" not in tt_videos(client)
    assert sim.add_tt_account({"uniqueId": "py_tt", "secUid": "S-PY", "id": "3"})["videos"] == 0
    assert client.get("/api/user/info", params={"uniqueId": "py_tt"}).json()["statusCode"] == 0


def test_python_methods_raise_typed_errors_and_change_nothing(
    sim: RunningSimulator, client: httpx.Client, admin: httpx.Client
) -> None:
    before = world_unchanged(client, admin)
    with pytest.raises(NotFound, match="'nobody'"):
        sim.add_ig_post("nobody", {"code": "X", "taken_at": 1})
    with pytest.raises(Conflict, match="KEEP"):
        sim.add_ig_post("polres_x", {"code": "KEEP", "taken_at": 1})
    with pytest.raises(InvalidChange, match="taken_at"):
        sim.add_ig_post("polres_x", {"code": "X"})
    with pytest.raises(InvalidChange, match=r"comments\.1\.text"):
        sim.add_ig_comments("GONE", ["ok", {"username": "b", "created_at": 1}])
    with pytest.raises(InvalidChange, match="like_count and/or comment_count"):
        sim.set_ig_counts("KEEP")
    with pytest.raises(NotFound):
        sim.set_tt_stats("404", digg_count=1)
    with pytest.raises(Conflict):
        sim.add_tt_account({"uniqueId": "polres_x_tt", "secUid": "n", "id": "1"})
    assert world_unchanged(client, admin) == before


# --- Atomicity, visibility and lifetime of changes -------------------------------------------------------


def test_a_reader_never_sees_half_a_change(sim: RunningSimulator, client: httpx.Client) -> None:
    """A writer keeps flipping four stats at once while the reader polls: every answer is all old or all new."""
    stop = threading.Event()
    flips = 0

    def writer() -> None:
        nonlocal flips
        while not stop.is_set():
            value = 2 if flips % 2 else 1
            sim.set_tt_stats(
                "7300000000000000001", digg_count=value, comment_count=value, play_count=value, share_count=value
            )
            flips += 1

    seen: set[tuple[int, ...]] = set()
    interval = sys.getswitchinterval()
    sys.setswitchinterval(0.0005)  # hand the GIL over often, or the busy writer slows every request down
    thread = threading.Thread(target=writer)
    thread.start()
    try:
        for _ in range(40):
            stats = tt_detail(client, "7300000000000000001")["itemInfo"]["itemStruct"]["stats"]
            seen.add(tuple(stats[k] for k in ("diggCount", "commentCount", "playCount", "shareCount")))
    finally:
        stop.set()
        thread.join()
        sys.setswitchinterval(interval)
    assert flips > 0
    assert seen <= {(1, 1, 1, 1), (2, 2, 2, 2), (10, 1, 100, 1)}, seen
    assert seen & {(1, 1, 1, 1), (2, 2, 2, 2)}, "the reader saw the writer's changes"


def test_a_change_re_renders_only_the_post_it_touches(sim: RunningSimulator) -> None:
    keep_before = sim.state.world.ig_posts["KEEP"]
    world_before = sim.state.world
    sim.add_ig_likers("GONE", ["z"])
    assert sim.state.world is not world_before
    assert sim.state.world.ig_posts["KEEP"] is keep_before
    assert sim.state.world.ig_posts["GONE"] is not world_before.ig_posts["GONE"]
    old_likers = world_before.ig_posts["GONE"].likers  # the old world is never mutated
    assert [x["username"] if isinstance(x, dict) else x for x in old_likers] == ["c"]


def test_changes_survive_moving_the_simulated_day(sim: RunningSimulator, client: httpx.Client) -> None:
    sim.add_ig_post("polres_x", {"code": "LATER", "taken_at": "09:00", "likers": ["a"]})
    sim.add_ig_likers("LATER", ["b"])
    sim.replace_dataset(today="2026-03-11")
    assert post_info(client, "LATER")["taken_at"] == DAY_START + 86400 + 9 * HOUR
    assert likers(client, "LATER") == ["a", "b"]
    sim.replace_dataset(BASE)  # replacing the content drops run-time changes
    assert client.get("/v1/post_info", params={"code_or_id_or_url": "LATER"}).status_code == 404
