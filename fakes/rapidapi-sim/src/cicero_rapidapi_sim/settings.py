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
