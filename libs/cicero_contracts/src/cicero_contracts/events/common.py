"""Value types used by several events."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import Field

from cicero_contracts.base import UtcDatetime, WireModel


class Platform(StrEnum):
    INSTAGRAM = "instagram"
    TIKTOK = "tiktok"


class PostRef(WireModel):
    """Enough to name a post in a message: which platform, which id, where to open it."""

    platform: Platform
    post_id: str = Field(min_length=1)
    link: str


class TaskPost(PostRef):
    """One of a client's posts of the day, as shown in a task list."""

    caption: str = ""
    published_at: UtcDatetime
    like_count: int = Field(ge=0)
    comment_count: int = Field(ge=0)


WibDate = date
"""A calendar day in WIB (Asia/Jakarta); the unit of attendance and of task lists."""
