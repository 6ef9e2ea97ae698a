from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest
from cicero_rapidapi_sim.bundled import bundled_dataset_path, resolve_dataset_arg
from cicero_rapidapi_sim.dataset import load_dataset, parse_dataset, resolve_time
from cicero_rapidapi_sim.world import build_world
from pydantic import ValidationError

WIB = timezone(timedelta(hours=7))
MARCH_10_2026 = date(2026, 3, 10)


def wib_date(ts: int) -> date:
    return datetime.fromtimestamp(ts, WIB).date()


@pytest.mark.parametrize(
    ("spec", "today", "expected"),
    [
        ("08:15", date(2026, 3, 10), 1773105300),  # 2026-03-10T01:15:00Z
        ("08:15", date(2024, 3, 10), 1710033300),  # 2024-03-10T01:15:00Z
        ("13:20", date(2026, 3, 10), 1773123600),
        ("00:00", date(2026, 3, 10), 1773075600),  # WIB midnight is 17:00 UTC the day before
        ("23:59:59", date(2026, 3, 10), 1773161999),
        ("-1d 16:00", date(2026, 3, 10), 1773046800),  # 2026-03-09 16:00 WIB
        ("-3d 08:15", date(2026, 3, 10), 1773105300 - 3 * 86400),
        ("2026-03-10T08:15:00+07:00", date(2000, 1, 1), 1773105300),
        ("2026-03-10T01:15:00Z", date(2000, 1, 1), 1773105300),
        (1773105300, date(2000, 1, 1), 1773105300),
    ],
)
def test_times_resolve_to_unix_seconds(spec: str | int, today: date, expected: int) -> None:
    assert resolve_time(spec, today) == expected


@pytest.mark.parametrize("spec", ["8.15", "25:00", "12:60", "2026-03-10T08:15:00", "yesterday", "-1x 08:00"])
def test_bad_times_are_rejected(spec: str) -> None:
    with pytest.raises(ValueError):
        resolve_time(spec, MARCH_10_2026)


def test_bad_time_in_a_file_fails_at_load_not_at_request() -> None:
    with pytest.raises(ValidationError, match="no UTC offset"):
        parse_dataset(
            {
                "instagram": [
                    {
                        "username": "a",
                        "user_id": "1",
                        "posts": [{"code": "X", "taken_at": "2026-03-10T08:00"}],
                    }
                ]
            }
        )


def test_boolean_is_not_a_time() -> None:
    with pytest.raises(ValidationError):
        parse_dataset({"instagram": [{"username": "a", "user_id": "1", "posts": [{"code": "X", "taken_at": True}]}]})


def test_counts_default_to_list_lengths_and_explicit_counts_win() -> None:
    dataset = parse_dataset(
        {
            "instagram": [
                {
                    "username": "acc",
                    "user_id": "1",
                    "posts": [
                        {
                            "code": "A",
                            "taken_at": "08:00",
                            "likers": ["x", "y"],
                            "comments": [{"username": "x", "text": "t", "created_at": "08:05"}],
                        },
                        {
                            "code": "B",
                            "taken_at": "09:00",
                            "likers": ["x"],
                            "like_count": 900,
                            "comment_count": 7,
                        },
                    ],
                }
            ],
            "tiktok": [
                {
                    "uniqueId": "tt",
                    "secUid": "S",
                    "id": "1",
                    "videos": [
                        {
                            "id": "V",
                            "createTime": "08:00",
                            "comments": [{"unique_id": "a", "text": "b", "create_time": 1}],
                        }
                    ],
                }
            ],
        }
    )
    world = build_world(dataset, MARCH_10_2026)
    post_a, post_b = world.ig_posts["A"].item, world.ig_posts["B"].item
    assert (post_a["like_count"], post_a["comment_count"]) == (2, 1)
    assert (post_b["like_count"], post_b["comment_count"]) == (900, 7)
    assert world.tt_videos["V"].item["stats"]["commentCount"] == 1
    assert world.tt_videos["V"].item["stats"]["diggCount"] == 0


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {
                "instagram": [
                    {"username": "a", "user_id": "1", "posts": [{"code": "X", "taken_at": 1}]},
                    {"username": "b", "user_id": "2", "posts": [{"code": "X", "taken_at": 2}]},
                ]
            },
            "duplicate instagram post code",
        ),
        (
            {"instagram": [{"username": "Acc", "user_id": "1"}, {"username": "acc", "user_id": "2"}]},
            "duplicate instagram username",
        ),
        (
            {
                "tiktok": [
                    {"uniqueId": "a", "secUid": "S", "id": "1"},
                    {"uniqueId": "b", "secUid": "S", "id": "2"},
                ]
            },
            "duplicate tiktok secUid",
        ),
        ({"instagram": [{"username": "a", "user_id": "1", "postz": []}]}, "postz"),
        ({"instagrm": []}, "instagrm"),
    ],
)
def test_ambiguous_or_misspelt_datasets_are_rejected(data: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        parse_dataset(data)


def test_feed_order_is_pinned_first_then_newest_first() -> None:
    dataset = parse_dataset(
        {
            "instagram": [
                {
                    "username": "acc",
                    "user_id": "1",
                    "posts": [
                        {"code": "MID", "taken_at": "10:00"},
                        {"code": "OLDPIN", "taken_at": "-1d 09:00", "is_pinned": True},
                        {"code": "NEW", "taken_at": "13:00"},
                        {"code": "OLD", "taken_at": "07:00"},
                    ],
                }
            ]
        }
    )
    posts = build_world(dataset, MARCH_10_2026).ig_accounts["acc"].posts
    assert [p.item["code"] for p in posts] == ["OLDPIN", "NEW", "MID", "OLD"]


def test_demo_dataset_has_todays_posts_on_whatever_day_it_is_resolved() -> None:
    dataset = load_dataset(bundled_dataset_path("demo"))
    for day in (MARCH_10_2026, date(2027, 1, 1)):
        world = build_world(dataset, day)
        demo = world.find_ig_account("polres_demo")
        assert demo is not None and demo.user_id == "5550001"
        today_posts = [p for p in demo.posts if wib_date(p.taken_at) == day]
        pinned = [p for p in demo.posts if p.is_pinned]
        assert len(today_posts) == 3 and not any(p.is_pinned for p in today_posts)
        assert len(pinned) == 1 and wib_date(pinned[0].taken_at) == day - timedelta(days=1)
        assert sorted(datetime.fromtimestamp(p.taken_at, WIB).strftime("%H:%M") for p in today_posts) == [
            "08:15",
            "10:40",
            "13:20",
        ]
        contoh = world.find_ig_account("polres_contoh")
        assert contoh is not None and len([p for p in contoh.posts if wib_date(p.taken_at) == day]) == 2
        tt = world.find_tt_account("polres_demo_tt")
        assert tt is not None and tt.sec_uid == "MS4wLjABAAAAdemo"
        assert len([v for v in tt.videos if wib_date(v.create_time) == day and not v.is_pinned]) == 2
        assert all(v.comments for v in tt.videos)
        tt_contoh = world.find_tt_account("polres_contoh_tt")
        assert tt_contoh is not None and len(tt_contoh.videos) == 1


def test_e2e_dataset_is_demo_pinned_to_2026_03_10() -> None:
    demo_world = build_world(load_dataset(bundled_dataset_path("demo")), MARCH_10_2026)
    # e2e must not depend on the simulated day at all.
    e2e_world = build_world(load_dataset(bundled_dataset_path("e2e")), date(1999, 1, 1))
    demo_items = [p.item for p in demo_world.ig_accounts["polres_demo"].posts]
    e2e_items = [p.item for p in e2e_world.ig_accounts["polres_demo"].posts]
    assert demo_items == e2e_items
    assert [v.item for v in demo_world.tt_by_sec_uid["MS4wLjABAAAAdemo"].videos] == [
        v.item for v in e2e_world.tt_by_sec_uid["MS4wLjABAAAAdemo"].videos
    ]
    tick = int(datetime(2026, 3, 10, 14, 5, tzinfo=WIB).timestamp())
    todays = sorted(p["taken_at"] for p in e2e_items if not p["is_pinned"])
    assert todays == [1773105300, 1773114000, 1773123600]
    assert all(ts <= tick for ts in todays)


def test_bundled_names_resolve_but_real_files_win(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    assert resolve_dataset_arg("demo") == bundled_dataset_path("demo")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "demo").write_text(json.dumps({}))
    assert resolve_dataset_arg("demo").resolve() == (tmp_path / "demo").resolve()
