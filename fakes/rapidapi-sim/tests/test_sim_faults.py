"""Faults for the ingest robustness tests: 401 on the primary key only, pagination that never ends, and the
classic ones (429 + Retry-After, 500, slow, malformed) as one table. Uses conftest's big dataset."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from cicero_rapidapi_sim.server import RunningSimulator, running_simulator

INVALID_KEY = {"message": "Invalid API key. Go to https://docs.rapidapi.com/docs/keys for more info."}
PRIMARY = "primary-key"
FALLBACK = "fallback-key"
POSTS = {"username_or_id_or_url": "big_account"}


@pytest.fixture(scope="module")
def two_keys() -> Iterator[RunningSimulator]:
    with running_simulator(
        {"tiktok": [{"uniqueId": "tt", "secUid": "S", "id": "1"}]}, api_keys=[PRIMARY, FALLBACK]
    ) as sim:
        yield sim


@pytest.fixture
def keyed(two_keys: RunningSimulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=two_keys.base_url, timeout=5.0) as http:
        yield http
    two_keys.reset()


def info(client: httpx.Client, key: str) -> httpx.Response:
    return client.get("/api/user/info", params={"uniqueId": "tt"}, headers={"X-RapidAPI-Key": key})


# --- 401 on the primary key only -------------------------------------------------------------------------


def test_401_on_the_primary_key_only_lets_the_fallback_through(two_keys: RunningSimulator, keyed: httpx.Client) -> None:
    two_keys.add_fault("/api/user/info", 401, key=PRIMARY, times=2)
    first = info(keyed, PRIMARY)
    assert first.status_code == 401 and first.json() == INVALID_KEY
    fallback = info(keyed, FALLBACK)
    assert fallback.status_code == 200 and fallback.json()["userInfo"]["user"]["secUid"] == "S"
    assert [f["remaining"] for f in two_keys.state.faults.pending()] == [1]  # the fallback did not use it up
    assert info(keyed, PRIMARY).status_code == 401
    assert info(keyed, PRIMARY).status_code == 200  # spent after `times`
    log = two_keys.state.faults.log()
    assert [(r.api_key, r.status, r.fault) for r in log] == [
        (PRIMARY, 401, True),
        (FALLBACK, 200, False),
        (PRIMARY, 401, True),
        (PRIMARY, 200, False),
    ]


def test_key_filter_over_http_on_every_path(two_keys: RunningSimulator, keyed: httpx.Client) -> None:
    queued = keyed.post("/_sim/faults", json={"path": "*", "status": 401, "times": 100, "keys": [PRIMARY]})
    assert queued.status_code == 200 and queued.json()["pending"][0]["keys"] == [PRIMARY]
    posts = {"secUid": "S"}
    assert keyed.get("/api/user/posts", params=posts, headers={"X-RapidAPI-Key": PRIMARY}).status_code == 401
    assert info(keyed, PRIMARY).status_code == 401
    assert keyed.get("/api/user/posts", params=posts, headers={"X-RapidAPI-Key": FALLBACK}).status_code == 200
    assert info(keyed, FALLBACK).status_code == 200
    entries = keyed.get("/_sim/requests").json()["log"]
    assert [(e["api_key"], e["status"]) for e in entries] == [
        (PRIMARY, 401),
        (PRIMARY, 401),
        (FALLBACK, 200),
        (FALLBACK, 200),
    ]


def test_unkeyed_faults_still_hit_every_key(two_keys: RunningSimulator, keyed: httpx.Client) -> None:
    two_keys.add_fault("/api/user/info", 500, times=2)
    assert (info(keyed, PRIMARY).status_code, info(keyed, FALLBACK).status_code) == (500, 500)


# --- Pagination that never ends --------------------------------------------------------------------------

Next = Callable[[dict[str, Any]], tuple[str, bool, int]]


def _ig_likes(body: dict[str, Any]) -> tuple[str, bool, int]:
    data = body["data"]
    return data["next_cursor"], data["has_more"], len(data["items"])


def _ig_token(body: dict[str, Any]) -> tuple[str, bool, int]:
    return body["pagination_token"], bool(body["pagination_token"]), len(body["data"]["items"])


def _tt_posts(body: dict[str, Any]) -> tuple[str, bool, int]:
    data = body["data"]
    return data["cursor"], data["hasMore"], len(data["itemList"])


def _tt_comments(body: dict[str, Any]) -> tuple[str, bool, int]:
    return str(body["cursor"]), body["has_more"] == 1, len(body["comments"])


# path, fixed params, name of the page parameter, how to read (next token, more?, item count), full page size
PAGED: list[tuple[str, dict[str, str], str, Next, int]] = [
    ("/v1/likes", {"code_or_id_or_url": "BIGpost0001"}, "cursor", _ig_likes, 50),
    ("/v1/posts", POSTS, "pagination_token", _ig_token, 12),
    ("/v1/comments", {"code_or_id_or_url": "BIGpost0001"}, "pagination_token", _ig_token, 20),
    ("/api/user/posts", {"secUid": "MS4wLjABAAAAbig"}, "cursor", _tt_posts, 35),
    ("/api/post/comments", {"videoId": "7900000000000000001"}, "cursor", _tt_comments, 50),
]


def walk(
    client: httpx.Client, path: str, params: dict[str, str], token_param: str, read: Next, pages: int
) -> list[tuple[str, bool, int]]:
    seen: list[tuple[str, bool, int]] = []
    token = ""
    for _ in range(pages):
        query = {**params, **({token_param: token} if token else {})}
        reply = client.get(path, params=query)
        assert reply.status_code == 200, reply.text
        seen.append(read(reply.json()))
        token = seen[-1][0]
    return seen


@pytest.mark.parametrize(("path", "params", "token_param", "read", "size"), PAGED, ids=[p[0] for p in PAGED])
def test_endless_repeat_hands_back_the_same_cursor(
    client: httpx.Client,
    sim: RunningSimulator,
    path: str,
    params: dict[str, str],
    token_param: str,
    read: Next,
    size: int,
) -> None:
    sim.add_fault(path, endless="repeat", times=1000)
    pages = walk(client, path, params, token_param, read, 6)
    assert all(more for _, more, _ in pages)
    assert len({token for token, _, _ in pages}) == 1 and pages[0][0] not in ("", "None")
    assert all(count == size for _, _, count in pages)  # the first page, again and again


@pytest.mark.parametrize(("path", "params", "token_param", "read", "size"), PAGED, ids=[p[0] for p in PAGED])
def test_endless_fresh_hands_out_new_cursors_forever(
    client: httpx.Client,
    sim: RunningSimulator,
    path: str,
    params: dict[str, str],
    token_param: str,
    read: Next,
    size: int,
) -> None:
    sim.add_fault(path, endless="fresh", times=1000)
    pages = walk(client, path, params, token_param, read, 12)  # well past the real end of every list
    assert all(more for _, more, _ in pages)
    assert len({token for token, _, _ in pages}) == 12
    assert all(count == size for _, _, count in pages)  # items wrap around: pages stay full


def test_endless_fresh_wraps_the_likers_around(client: httpx.Client, sim: RunningSimulator) -> None:
    sim.add_fault("/v1/likes", endless="fresh", times=3)
    names: list[str] = []
    cursor = ""
    for _ in range(3):
        params = {"code_or_id_or_url": "BIGpost0001", **({"cursor": cursor} if cursor else {})}
        data = client.get("/v1/likes", params=params).json()["data"]
        names += [item["username"] for item in data["items"]]
        cursor = data["next_cursor"]
    assert names[:120] == [f"Liker.{i:03d}" for i in range(120)] and names[120:] == [
        f"Liker.{i:03d}" for i in range(30)
    ]
    # `times` bounds the fault: the next page is real again (offset 150 is past the 120 likers).
    last = client.get("/v1/likes", params={"code_or_id_or_url": "BIGpost0001", "cursor": cursor}).json()["data"]
    assert (last["items"], last["has_more"], last["next_cursor"]) == ([], False, "")


def test_endless_fault_over_http_and_only_on_paged_paths(client: httpx.Client, admin: httpx.Client) -> None:
    assert admin.post("/_sim/faults", json={"path": "*", "endless": "repeat"}).status_code == 200
    info_reply = client.get("/v1/post_info", params={"code_or_id_or_url": "BIGpost0001"})
    assert info_reply.status_code == 200 and info_reply.json()["data"]["code"] == "BIGpost0001"
    assert len(admin.get("/_sim/faults").json()["pending"]) == 1  # not used up by a call without pages
    data = client.get("/v1/likes", params={"code_or_id_or_url": "BIGpost0001"}).json()["data"]
    assert data["has_more"] is True
    assert admin.get("/_sim/faults").json()["pending"] == []
    log = admin.get("/_sim/requests").json()["log"]
    assert [(e["path"], e["fault"]) for e in log] == [("/v1/post_info", False), ("/v1/likes", True)]


@pytest.mark.parametrize(
    ("spec", "names"),
    [
        ({"path": "/v1/post_info", "endless": "repeat"}, "paged path"),
        ({"path": "/v1/likes", "endless": "repeat", "body": {}}, "body"),
        ({"path": "/v1/likes", "endless": "repeat", "malformed": True}, "malformed"),
        ({"path": "/v1/likes", "endless": "forever"}, "endless"),
        ({"path": "/v1/likes", "keys": "primary-key"}, "keys"),
    ],
)
def test_bad_new_fault_options_are_refused(admin: httpx.Client, spec: dict[str, Any], names: str) -> None:
    reply = admin.post("/_sim/faults", json=spec)
    assert reply.status_code == 422
    assert names in str(reply.json()["detail"])
    assert admin.get("/_sim/faults").json()["pending"] == []


# --- The rest of the README's fault table, one request each -----------------------------------------------------


def test_each_fault_the_ingest_tests_need(client: httpx.Client, sim: RunningSimulator) -> None:
    sim.add_fault("/v1/posts", 429, retry_after=7)
    limited = client.get("/v1/posts", params=POSTS)
    assert (limited.status_code, limited.headers["Retry-After"]) == (429, "7")
    sim.add_fault("/v1/posts", 500)
    assert client.get("/v1/posts", params=POSTS).status_code == 500
    sim.add_fault("/v1/posts", 200, malformed=True)
    with pytest.raises(ValueError):
        client.get("/v1/posts", params=POSTS).json()
    assert client.get("/v1/posts", params=POSTS).json()["data"]["count"] == 12
    assert [(r.status, r.fault) for r in sim.state.faults.log()] == [
        (429, True),
        (500, True),
        (200, True),
        (200, False),
    ]
    # Slow answers (`delay`) are covered by test_sim_gateway.py::test_delayed_fault_trips_a_client_timeout.
