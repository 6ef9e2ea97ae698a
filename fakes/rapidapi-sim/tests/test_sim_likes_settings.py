"""The likes page size and the cap on listed likers (``SIM_LIKES_PAGE_SIZE``, ``SIM_LIKES_CAP``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from cicero_rapidapi_sim.main import build_parser, settings_from_args
from cicero_rapidapi_sim.server import RunningSimulator, running_simulator
from cicero_rapidapi_sim.settings import SimSettings

DATASET = {
    "instagram": [
        {
            "username": "polres_big",
            "user_id": "1",
            "posts": [
                {
                    "code": "HUGE",
                    "taken_at": "08:00",
                    "likers": [f"fan.{i:03d}" for i in range(250)],
                    "like_count": 9000,
                },
                {"code": "TINY", "taken_at": "09:00", "likers": ["a", "b", "c"]},
            ],
        }
    ]
}


@pytest.fixture(scope="module")
def capped() -> Iterator[tuple[RunningSimulator, httpx.Client]]:
    settings = SimSettings(ig_likes_page_size=7, ig_likes_cap=100)
    with (
        running_simulator(DATASET, settings=settings, today="2026-03-10") as sim,
        httpx.Client(base_url=sim.base_url, headers=sim.headers, timeout=5.0) as client,
    ):
        yield sim, client


def walk_likes(client: httpx.Client, code: str) -> list[dict[str, Any]]:
    pages: list[dict[str, Any]] = []
    cursor = ""
    for _ in range(100):
        params = {"code_or_id_or_url": code, **({"cursor": cursor} if cursor else {})}
        data = client.get("/v1/likes", params=params).json()["data"]
        pages.append(data)
        cursor = data["next_cursor"]
        if not data["has_more"]:
            return pages
    raise AssertionError("likes paging never ended")


def test_page_size_and_cap_on_a_big_post(capped: tuple[RunningSimulator, httpx.Client]) -> None:
    _, client = capped
    pages = walk_likes(client, "HUGE")
    assert [page["count"] for page in pages] == [7] * 14 + [2]  # 100 listed, 7 a page
    assert all(page["total"] == 100 for page in pages)
    names = [item["username"] for page in pages for item in page["items"]]
    assert names == [f"fan.{i:03d}" for i in range(100)]
    assert pages[-1]["next_cursor"] == ""
    info = client.get("/v1/post_info", params={"code_or_id_or_url": "HUGE"}).json()["data"]
    assert info["like_count"] == 9000  # the count keeps the full figure


def test_cap_leaves_small_posts_whole(capped: tuple[RunningSimulator, httpx.Client]) -> None:
    _, client = capped
    pages = walk_likes(client, "TINY")
    assert [(p["count"], p["total"], p["has_more"]) for p in pages] == [(3, 3, False)]


def test_cap_applies_to_likers_added_at_run_time(capped: tuple[RunningSimulator, httpx.Client]) -> None:
    sim, client = capped
    sim.add_ig_likers("TINY", [f"new.{i}" for i in range(120)])
    try:
        pages = walk_likes(client, "TINY")
        assert sum(p["count"] for p in pages) == 100 and pages[0]["total"] == 100
        info = client.get("/v1/post_info", params={"code_or_id_or_url": "TINY"}).json()["data"]
        assert info["like_count"] == 123
    finally:
        sim.replace_dataset(DATASET)


def test_defaults_and_validation() -> None:
    default = SimSettings()
    assert (default.ig_likes_page_size, default.ig_likes_cap) == (50, None)
    with pytest.raises(ValueError, match="ig_likes_page_size"):
        SimSettings(ig_likes_page_size=0)
    with pytest.raises(ValueError, match="ig_likes_cap"):
        SimSettings(ig_likes_cap=-1)
    assert SimSettings(ig_likes_cap=0).ig_likes_cap == 0


def _settings(argv: list[str], env: dict[str, str]) -> SimSettings:
    env = {"SIM_DATASET": "demo", **env}
    return settings_from_args(build_parser(env).parse_args(argv), env)


def test_cli_flags_and_environment() -> None:
    assert (_settings([], {}).ig_likes_page_size, _settings([], {}).ig_likes_cap) == (50, None)
    from_env = _settings([], {"SIM_LIKES_PAGE_SIZE": "25", "SIM_LIKES_CAP": "1000"})
    assert (from_env.ig_likes_page_size, from_env.ig_likes_cap) == (25, 1000)
    flags_win = _settings(
        ["--likes-page-size", "10", "--likes-cap", "none"], {"SIM_LIKES_PAGE_SIZE": "25", "SIM_LIKES_CAP": "1000"}
    )
    assert (flags_win.ig_likes_page_size, flags_win.ig_likes_cap) == (10, None)
    assert _settings([], {"SIM_LIKES_CAP": ""}).ig_likes_cap is None


@pytest.mark.parametrize(
    ("argv", "env", "message"),
    [
        (["--likes-page-size", "0"], {}, "--likes-page-size"),
        ([], {"SIM_LIKES_PAGE_SIZE": "fifty"}, "--likes-page-size"),
        (["--likes-cap", "-3"], {}, "--likes-cap"),
        ([], {"SIM_LIKES_CAP": "lots"}, "--likes-cap"),
    ],
)
def test_cli_rejects_bad_likes_settings(
    capsys: pytest.CaptureFixture[str], argv: list[str], env: dict[str, str], message: str
) -> None:
    with pytest.raises(SystemExit) as exited:
        _settings(argv, env)
    assert exited.value.code == 2
    assert message in capsys.readouterr().err
