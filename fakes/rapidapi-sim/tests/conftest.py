"""Shared fixtures: one simulator per test module serving a dataset big enough to force several pages.

Clients are module-scoped too: they hold no state between requests, and building one costs tens of ms.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from cicero_rapidapi_sim.server import RunningSimulator, running_simulator

TODAY = "2026-03-10"
# 2026-03-10 00:00 WIB
DAY_START = 1773075600

BIG_IG_POSTS = 30  # > 2 pages of 12
BIG_LIKERS = 120  # 3 pages of 50
BIG_IG_COMMENTS = 23  # 2 pages of 20
BIG_TT_VIDEOS = 40  # 2 pages of 35
BIG_TT_COMMENTS = 120  # offsets 0, 50, 100


def big_dataset() -> dict[str, Any]:
    """Times are spread one minute apart from 06:00 WIB so the expected order is easy to compute."""
    ig_posts: list[dict[str, Any]] = [
        {
            "code": f"BIGpost{n:04d}",
            "taken_at": f"{6 + n // 60:02d}:{n % 60:02d}",
            "caption": f"Kegiatan ke-{n} #polri",
            "likers": [f"liker_{n}_{i}" for i in range(3)],
        }
        for n in range(BIG_IG_POSTS)
    ]
    ig_posts[0] = {
        **ig_posts[0],
        "taken_at": "-3d 10:00",
        "is_pinned": True,
    }
    ig_posts[1] = {
        **ig_posts[1],
        "likers": [f"Liker.{i:03d}" for i in range(BIG_LIKERS)],
        "like_count": 5000,
        "comments": [
            {"username": f"komentator_{i}", "text": f"komentar {i}", "created_at": f"12:{i:02d}"}
            for i in range(BIG_IG_COMMENTS)
        ],
    }
    ig_posts[2] = {**ig_posts[2], "caption": None, "likers_as_strings": True}
    ig_posts[3] = {
        **ig_posts[3],
        "caption_as_string": True,
        "is_video": True,
        "media_type": 2,
        "id": "1234567890123456789_7770001",
    }
    videos: list[dict[str, Any]] = [
        {"id": f"79{n:017d}", "desc": f"Video {n} #polri", "createTime": f"{6 + n // 60:02d}:{n % 60:02d}"}
        for n in range(BIG_TT_VIDEOS)
    ]
    videos[0] = {**videos[0], "createTime": "-2d 08:00", "isPinnedItem": True}
    videos[1] = {
        **videos[1],
        "stats": {"diggCount": 900, "playCount": 12000, "shareCount": 4},
        "comments": [
            {"unique_id": f"Penonton.{i:03d}", "text": f"komentar {i}", "create_time": DAY_START + 36000 + i}
            for i in range(BIG_TT_COMMENTS)
        ],
    }
    return {
        "instagram": [
            {"username": "big_account", "user_id": "7770001", "posts": ig_posts},
            {
                "username": "small_account",
                "user_id": "7770002",
                "posts": [{"code": "SMALLpost01", "taken_at": "2026-03-10T08:15:00+07:00", "caption": "x"}],
            },
        ],
        "tiktok": [
            {
                "uniqueId": "big_tt",
                "secUid": "MS4wLjABAAAAbig",
                "id": "6900000000000000001",
                "videos": videos,
            },
        ],
    }


@pytest.fixture(scope="module")
def sim() -> Iterator[RunningSimulator]:
    with running_simulator(big_dataset(), today=TODAY, unsubscribed_keys=["unsubscribed-key"]) as running:
        yield running


@pytest.fixture(autouse=True)
def _clean_sim(request: pytest.FixtureRequest) -> Iterator[None]:
    """Tests sharing a module's simulator must not see each other's faults or request counts."""
    yield
    if "sim" in request.fixturenames:
        running: RunningSimulator = request.getfixturevalue("sim")
        running.reset()


@pytest.fixture(scope="module")
def client(sim: RunningSimulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sim.base_url, headers=sim.headers, timeout=5.0) as http:
        yield http


@pytest.fixture(scope="module")
def admin(sim: RunningSimulator) -> Iterator[httpx.Client]:
    """No API key on purpose: the control endpoints must work without one."""
    with httpx.Client(base_url=sim.base_url, timeout=5.0) as http:
        yield http
