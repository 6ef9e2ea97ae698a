"""The dataset file: what the simulated outside world contains.

A dataset is one JSON object; every key is optional::

    {
      "instagram": [
        {"username": "polres_demo", "user_id": "5550001", "full_name": "Polres Demo",
         "posts": [
           {"code": "DEMOig0001", "id": "3300000000000000001_5550001",     # id optional
            "taken_at": "08:15",                                            # see "Times"
            "caption": "Giat patroli #polri",                               # string or null
            "media_type": 1, "is_video": false, "is_pinned": false,         # defaults shown
            "like_count": 120,                                              # default len(likers)
            "comment_count": 3,                                             # default len(comments)
            "likers": ["budi.santoso", "bripka_andi"],
            "comments": [{"username": "siti.rahma", "text": "Mantap", "created_at": "08:30"}],
            "caption_as_string": false,      # true: caption sent as a bare string, not {"text": ...}
            "likers_as_strings": false}]}    # true: /v1/likes items are bare strings
      ],
      "tiktok": [
        {"uniqueId": "polres_demo_tt", "secUid": "MS4wLjABAAAAdemo", "id": "6800000000000000001",
         "nickname": "Polres Demo",
         "videos": [
           {"id": "7345000000000000001", "desc": "Patroli pagi #polri", "createTime": "09:00",
            "isPinnedItem": false,
            "stats": {"diggCount": 50, "commentCount": 2, "playCount": 900, "shareCount": 1},
            "comments": [{"unique_id": "bripka_andi", "text": "Siap", "create_time": "09:10"}]}]}
      ]
    }

Times
-----
Every time field (``taken_at``, ``created_at``, ``createTime``, ``create_time``) accepts:

* Unix seconds (an integer);
* ISO-8601 with an explicit offset (``"2026-03-10T08:15:00+07:00"``, ``"...Z"``);
* ``"HH:MM"`` (or ``"HH:MM:SS"``) in WIB on the simulated day;
* ``"-Nd HH:MM"``: N days before the simulated day, in WIB (pinned old posts).

Relative times keep demo data fresh every day; absolute times keep e2e runs deterministic. The simulated day
comes from the settings, so the same file can be resolved against any date.

Missing counts default to what the lists show (``like_count`` = number of likers, comment counts = number of
comments), so a dataset only states a count when it wants the API to report more than it lists, which is
how the real APIs behave on big posts.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictInt, model_validator

from .clock import WIB

_RELATIVE = re.compile(r"^\s*(?:-(?P<days>\d+)d\s+)?(?P<h>\d{1,2}):(?P<m>\d{2})(?::(?P<s>\d{2}))?\s*$")

TimeSpec = int | str


def resolve_time(spec: TimeSpec, today: date) -> int:
    """Turn a dataset time into Unix seconds, reading relative forms against ``today`` in WIB."""
    if isinstance(spec, bool):
        raise ValueError("a time must be Unix seconds or a string, not a boolean")
    if isinstance(spec, int):
        return spec
    match = _RELATIVE.match(spec)
    if match is not None:
        hour, minute, second = int(match["h"]), int(match["m"]), int(match["s"] or 0)
        if hour > 23 or minute > 59 or second > 59:
            raise ValueError(f"invalid clock time {spec!r}")
        day = today - timedelta(days=int(match["days"] or 0))
        moment = datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=WIB)
        return int(moment.timestamp())
    try:
        parsed = datetime.fromisoformat(spec.strip())
    except ValueError:
        raise ValueError(
            f"invalid time {spec!r}: use Unix seconds, ISO-8601 with offset, 'HH:MM' or '-1d HH:MM'"
        ) from None
    if parsed.tzinfo is None:
        raise ValueError(f"time {spec!r} has no UTC offset; add one (e.g. +07:00) or use 'HH:MM'")
    return int(parsed.timestamp())


def _check_time(value: TimeSpec) -> TimeSpec:
    resolve_time(value, date(2000, 1, 1))
    return value


# Validated when the file loads (so typos fail at startup) but resolved only against a chosen day.
TimeField = Annotated[StrictInt | str, AfterValidator(_check_time)]


class _Model(BaseModel):
    # Unknown keys are typos in a hand-written file; failing loudly beats silently serving defaults.
    model_config = ConfigDict(extra="forbid", frozen=True)


class IgComment(_Model):
    username: str
    text: str
    created_at: TimeField
    id: str | None = None


class IgPost(_Model):
    code: str = Field(min_length=1)
    taken_at: TimeField
    id: str | None = None
    caption: str | None = None
    media_type: int = 1
    is_video: bool = False
    is_pinned: bool = False
    like_count: int | None = Field(default=None, ge=0)
    comment_count: int | None = Field(default=None, ge=0)
    likers: list[str] = Field(default_factory=list)
    comments: list[IgComment] = Field(default_factory=list)
    caption_as_string: bool = False
    likers_as_strings: bool = False


class IgAccount(_Model):
    username: str = Field(min_length=1)
    user_id: str = Field(min_length=1)
    full_name: str | None = None
    posts: list[IgPost] = Field(default_factory=list)


class TtComment(_Model):
    unique_id: str
    text: str
    create_time: TimeField
    cid: str | None = None


class TtStats(_Model):
    diggCount: int = Field(default=0, ge=0)
    commentCount: int | None = Field(default=None, ge=0)
    playCount: int = Field(default=0, ge=0)
    shareCount: int = Field(default=0, ge=0)


class TtVideo(_Model):
    id: str = Field(min_length=1)
    createTime: TimeField
    desc: str = ""
    isPinnedItem: bool = False
    stats: TtStats = Field(default_factory=TtStats)
    comments: list[TtComment] = Field(default_factory=list)


class TtAccount(_Model):
    uniqueId: str = Field(min_length=1)
    secUid: str = Field(min_length=1)
    id: str = Field(min_length=1)
    nickname: str | None = None
    videos: list[TtVideo] = Field(default_factory=list)


def _duplicates(values: list[str]) -> list[str]:
    seen: set[str] = set()
    dupes: list[str] = []
    for value in values:
        if value in seen:
            dupes.append(value)
        seen.add(value)
    return dupes


class Dataset(_Model):
    instagram: list[IgAccount] = Field(default_factory=list)
    tiktok: list[TtAccount] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_keys(self) -> Dataset:
        """Lookups go by handle, id and shortcode, so a clash would make the served answer ambiguous."""
        checks = {
            "instagram username": [a.username.lower() for a in self.instagram],
            "instagram user_id": [a.user_id for a in self.instagram],
            "instagram post code": [p.code for a in self.instagram for p in a.posts],
            "instagram post id": [p.id for a in self.instagram for p in a.posts if p.id is not None],
            "tiktok uniqueId": [a.uniqueId.lower() for a in self.tiktok],
            "tiktok secUid": [a.secUid for a in self.tiktok],
            "tiktok video id": [v.id for a in self.tiktok for v in a.videos],
        }
        for what, values in checks.items():
            dupes = _duplicates(values)
            if dupes:
                raise ValueError(f"duplicate {what}: {', '.join(sorted(set(dupes)))}")
        return self


def parse_dataset(data: Any) -> Dataset:
    """Accept already-decoded JSON so the runtime replacement endpoint and the file share one path."""
    return Dataset.model_validate(data)


def load_dataset(path: str | Path) -> Dataset:
    with Path(path).open(encoding="utf-8") as handle:
        return parse_dataset(json.load(handle))
