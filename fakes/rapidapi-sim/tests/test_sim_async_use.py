"""Other packages' async tests use the in-process helper; it must not need or block their event loop."""

from __future__ import annotations

import asyncio
import threading

import httpx
from cicero_rapidapi_sim.server import running_simulator


async def test_running_simulator_inside_an_async_test() -> None:
    with running_simulator("e2e") as sim:
        async with httpx.AsyncClient(base_url=sim.base_url, headers=sim.headers) as client:
            replies = await asyncio.gather(
                client.get("/v1/posts", params={"username_or_id_or_url": "polres_demo"}),
                client.get("/api/user/info", params={"uniqueId": "polres_demo_tt"}),
                client.get("/api/user/posts", params={"secUid": "MS4wLjABAAAAdemo", "count": 35, "cursor": 0}),
            )
        assert [r.status_code for r in replies] == [200, 200, 200]
        assert replies[0].json()["data"]["count"] == 4
        assert sim.request_counts() == {"/v1/posts": 1, "/api/user/info": 1, "/api/user/posts": 1}
    assert not any(t.name == "rapidapi-sim" for t in threading.enumerate())


def test_stopping_frees_the_port() -> None:
    with running_simulator() as sim:
        url = sim.base_url
        assert httpx.get(f"{url}/_sim/health").json() == {"status": "ok"}
    try:
        httpx.get(f"{url}/_sim/health", timeout=1.0)
    except httpx.ConnectError:
        return
    raise AssertionError("simulator still answering after exit")
