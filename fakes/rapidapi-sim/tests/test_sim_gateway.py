"""Gateway behaviour (keys, quota headers), fault injection, request accounting and dataset replacement."""

from __future__ import annotations

import httpx
import pytest
from cicero_rapidapi_sim.server import RunningSimulator, running_simulator

POSTS = {"username_or_id_or_url": "big_account"}
INVALID_KEY = {"message": "Invalid API key. Go to https://docs.rapidapi.com/docs/keys for more info."}


@pytest.mark.parametrize("headers", [{}, {"X-RapidAPI-Key": "wrong"}, {"X-RapidAPI-Key": ""}])
@pytest.mark.parametrize("path", ["/v1/posts", "/api/user/info"])
def test_missing_or_wrong_key_is_401(admin: httpx.Client, headers: dict[str, str], path: str) -> None:
    reply = admin.get(path, params={"username_or_id_or_url": "big_account", "uniqueId": "big_tt"}, headers=headers)
    assert reply.status_code == 401
    assert reply.json() == INVALID_KEY


def test_unsubscribed_key_is_403(admin: httpx.Client) -> None:
    reply = admin.get("/v1/posts", params=POSTS, headers={"X-RapidAPI-Key": "unsubscribed-key"})
    assert reply.status_code == 403
    assert reply.json() == {"message": "You are not subscribed to this API."}


def test_success_carries_rate_limit_headers(client: httpx.Client) -> None:
    first = client.get("/v1/posts", params=POSTS)
    second = client.get("/v1/posts", params=POSTS)
    limit = int(first.headers["x-ratelimit-requests-limit"])
    assert int(first.headers["x-ratelimit-requests-remaining"]) == limit - 1
    assert int(second.headers["x-ratelimit-requests-remaining"]) == limit - 2


def test_unknown_endpoint_is_gateway_404(client: httpx.Client) -> None:
    reply = client.get("/v2/posts")
    assert reply.status_code == 404
    assert reply.json() == {"message": "Endpoint '/v2/posts' does not exist"}


def test_admin_endpoints_need_no_key(admin: httpx.Client) -> None:
    assert admin.get("/_sim/health").json() == {"status": "ok"}
    summary = admin.get("/_sim/dataset").json()
    assert summary["today"] == "2026-03-10"
    assert summary["instagram_posts"]["big_account"] == 30


def test_429_with_retry_after_then_success(client: httpx.Client, admin: httpx.Client) -> None:
    queued = admin.post("/_sim/faults", json={"path": "/v1/posts", "status": 429, "times": 2, "retry_after": 3})
    assert queued.status_code == 200 and queued.json()["queued"] == 1
    for _ in range(2):
        reply = client.get("/v1/posts", params=POSTS)
        assert reply.status_code == 429
        assert reply.headers["Retry-After"] == "3"
        assert reply.headers["x-ratelimit-requests-remaining"] == "0"
        assert int(reply.headers["x-ratelimit-requests-limit"]) > 0
        assert reply.json()["message"].startswith("You have exceeded the rate limit per second")
    ok = client.get("/v1/posts", params=POSTS)
    assert ok.status_code == 200 and ok.json()["data"]["count"] == 12
    counts = admin.get("/_sim/requests").json()
    assert counts["paths"] == {"/v1/posts": 3} and counts["total"] == 3
    assert [entry["status"] for entry in counts["log"]] == [429, 429, 200]
    assert [entry["fault"] for entry in counts["log"]] == [True, True, False]


def test_429_defaults_retry_after_to_one_second(client: httpx.Client, sim: RunningSimulator) -> None:
    sim.add_fault("/api/user/info", 429)
    reply = client.get("/api/user/info", params={"uniqueId": "big_tt"})
    assert reply.status_code == 429 and reply.headers["Retry-After"] == "1"


def test_faults_only_hit_their_path(client: httpx.Client, sim: RunningSimulator) -> None:
    sim.add_fault("/v1/likes", 500)
    assert client.get("/v1/posts", params=POSTS).status_code == 200
    broken = client.get("/v1/likes", params={"code_or_id_or_url": "BIGpost0001"})
    assert broken.status_code == 500 and broken.json() == {"message": "Internal Server Error"}
    assert client.get("/v1/likes", params={"code_or_id_or_url": "BIGpost0001"}).status_code == 200


def test_fault_can_target_one_query(client: httpx.Client, sim: RunningSimulator) -> None:
    sim.add_fault("/v1/likes", 503, query={"code_or_id_or_url": "BIGpost0002"}, body={"oops": True})
    assert client.get("/v1/likes", params={"code_or_id_or_url": "BIGpost0001"}).status_code == 200
    reply = client.get("/v1/likes", params={"code_or_id_or_url": "BIGpost0002"})
    assert reply.status_code == 503 and reply.json() == {"oops": True}


def test_wildcard_fault_and_queue_order(client: httpx.Client, sim: RunningSimulator) -> None:
    sim.add_fault("*", 502)
    sim.add_fault("/api/user/info", 500)
    assert client.get("/api/user/info", params={"uniqueId": "big_tt"}).status_code == 502
    assert client.get("/api/user/info", params={"uniqueId": "big_tt"}).status_code == 500
    assert client.get("/api/user/info", params={"uniqueId": "big_tt"}).status_code == 200


def test_malformed_body_is_200_with_invalid_json(client: httpx.Client, admin: httpx.Client) -> None:
    admin.post("/_sim/faults", json={"path": "/api/user/posts", "malformed": True})
    reply = client.get("/api/user/posts", params={"secUid": "MS4wLjABAAAAbig"})
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("application/json")
    with pytest.raises(ValueError):
        reply.json()
    assert client.get("/api/user/posts", params={"secUid": "MS4wLjABAAAAbig"}).json()["data"]["itemList"]


def test_delayed_fault_trips_a_client_timeout(client: httpx.Client, sim: RunningSimulator) -> None:
    sim.add_fault("/v1/posts", 200, delay=0.5, body={"late": True})
    with pytest.raises(httpx.ReadTimeout):
        client.get("/v1/posts", params=POSTS, timeout=0.05)


def test_clearing_faults(client: httpx.Client, admin: httpx.Client) -> None:
    admin.post("/_sim/faults", json=[{"path": "/v1/posts", "status": 500, "times": 5}, {"path": "*"}])
    assert len(admin.get("/_sim/faults").json()["pending"]) == 2
    assert admin.delete("/_sim/faults").status_code == 200
    assert admin.get("/_sim/faults").json()["pending"] == []
    assert client.get("/v1/posts", params=POSTS).status_code == 200


def test_bad_fault_spec_is_rejected(admin: httpx.Client) -> None:
    assert admin.post("/_sim/faults", json={"status": 429}).status_code == 422
    assert admin.post("/_sim/faults", json={"path": "/v1/posts", "times": 0}).status_code == 422
    assert admin.post("/_sim/faults", content=b"not json").status_code == 422
    assert admin.get("/_sim/faults").json()["pending"] == []


def test_request_log_records_gateway_headers_and_rejections(admin: httpx.Client, sim: RunningSimulator) -> None:
    admin.get(
        "/api/user/info",
        params={"uniqueId": "big_tt"},
        headers={
            "X-RapidAPI-Key": sim.api_key,
            "X-RapidAPI-Host": "tiktok-api23.p.rapidapi.com",
            "x-cache-control": "no-cache",
        },
    )
    admin.get("/api/user/info", params={"uniqueId": "big_tt"})  # no key: still costs a request
    log = admin.get("/_sim/requests").json()["log"]
    assert [(e["status"], e["rapidapi_host"], e["cache_control"]) for e in log] == [
        (200, "tiktok-api23.p.rapidapi.com", "no-cache"),
        (401, None, None),
    ]
    assert log[0]["query"] == {"uniqueId": "big_tt"}
    assert sim.requests_to("/api/user/info") == 2
    assert admin.delete("/_sim/requests").json()["total"] == 0
    assert sim.request_counts() == {}


DAY_DATASET = {
    "instagram": [
        {
            "username": "polres_x",
            "user_id": "42",
            "posts": [
                {"code": "KEEP", "taken_at": "08:15", "likers": ["a"]},
                {"code": "GONE", "taken_at": "10:40", "likers": ["b"]},
            ],
        }
    ]
}


def codes(client: httpx.Client) -> list[str]:
    body = client.get("/v1/posts", params={"username_or_id_or_url": "polres_x"}).json()
    return [item["code"] for item in body["data"]["items"]]


def test_dataset_replacement_over_http_makes_a_post_disappear() -> None:
    with (
        running_simulator(DAY_DATASET, today="2026-03-10") as sim,
        httpx.Client(base_url=sim.base_url, headers=sim.headers) as client,
    ):
        assert codes(client) == ["GONE", "KEEP"]
        later = {"instagram": [{**DAY_DATASET["instagram"][0], "posts": DAY_DATASET["instagram"][0]["posts"][:1]}]}
        reply = client.post("/_sim/dataset", json=later)
        assert reply.status_code == 200 and reply.json()["instagram_posts"] == {"polres_x": 1}
        assert codes(client) == ["KEEP"]
        assert client.get("/v1/post_info", params={"code_or_id_or_url": "GONE"}).status_code == 404
        # An invalid replacement is refused and the running world stays as it was.
        bad = client.post("/_sim/dataset", json={"instagram": [{"username": "x"}]})
        assert bad.status_code == 422
        assert codes(client) == ["KEEP"]


def test_dataset_replacement_can_move_the_simulated_day() -> None:
    with (
        running_simulator(DAY_DATASET, today="2026-03-10") as sim,
        httpx.Client(base_url=sim.base_url, headers=sim.headers) as client,
    ):

        def keep_time() -> int:
            info = client.get("/v1/post_info", params={"code_or_id_or_url": "KEEP"}).json()
            return int(info["data"]["taken_at"])

        assert keep_time() == 1773105300
        reply = client.post("/_sim/dataset?today=2026-03-11", json=DAY_DATASET)
        assert reply.json()["today"] == "2026-03-11"
        assert keep_time() == 1773105300 + 86400
        sim.replace_dataset(today="2026-03-09")  # in-process control keeps the content
        assert keep_time() == 1773105300 - 86400
        assert codes(client) == ["GONE", "KEEP"]
        assert client.post("/_sim/dataset?today=tomorrow", json=DAY_DATASET).status_code == 422


def test_custom_api_keys() -> None:
    with running_simulator(api_keys=["k1", "k2"]) as sim, httpx.Client(base_url=sim.base_url) as client:
        assert sim.api_key == "k1"
        params = {"uniqueId": "x"}
        assert client.get("/api/user/info", params=params, headers={"X-RapidAPI-Key": "k2"}).status_code == 200
        assert client.get("/api/user/info", params=params, headers={"X-RapidAPI-Key": "sim-key"}).status_code == 401
