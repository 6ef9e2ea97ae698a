"""Knobs of the simulated platform.

Page sizes are settings rather than constants so a test can force many pages out of a small dataset and
prove that a consumer walks them all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from .clock import today_wib

DEFAULT_API_KEY = "sim-key"


@dataclass(frozen=True)
class SimSettings:
    api_keys: frozenset[str] = frozenset({DEFAULT_API_KEY})
    unsubscribed_keys: frozenset[str] = frozenset()
    today: date = field(default_factory=today_wib)
    ig_posts_page_size: int = 12
    ig_likes_page_size: int = 50
    ig_comments_page_size: int = 20
    tt_posts_max_count: int = 35
    tt_comments_max_count: int = 50
    rate_limit: int = 100_000
    # At most this many likers of one post are ever listed by /v1/likes (None: all of them). Mimics the real
    # API, which on big posts returns only part of the likers while like_count keeps the full figure.
    ig_likes_cap: int | None = None

    def __post_init__(self) -> None:
        sizes = {
            "ig_posts_page_size": self.ig_posts_page_size,
            "ig_likes_page_size": self.ig_likes_page_size,
            "ig_comments_page_size": self.ig_comments_page_size,
            "tt_posts_max_count": self.tt_posts_max_count,
            "tt_comments_max_count": self.tt_comments_max_count,
        }
        for name, value in sizes.items():
            if value < 1:
                raise ValueError(f"{name} must be at least 1, got {value}")
        if self.ig_likes_cap is not None and self.ig_likes_cap < 0:
            raise ValueError(f"ig_likes_cap must be 0 or more (or None for no cap), got {self.ig_likes_cap}")
