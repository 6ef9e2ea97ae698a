"""Ingest settings: where the platforms are, with which key, and how hard to try."""

from __future__ import annotations

from cicero_runtime.settings import RuntimeSettings
from pydantic import Field


class IngestSettings(RuntimeSettings):
    instagram_base_url: str = "https://social-api4.p.rapidapi.com"
    instagram_host: str = "social-api4.p.rapidapi.com"
    tiktok_base_url: str = "https://tiktok-api23.p.rapidapi.com"
    tiktok_host: str = "tiktok-api23.p.rapidapi.com"
    rapidapi_key: str = ""

    # Fallback per platform, used once per request when the primary answers 401/403. The fallback is
    # configured when its key or base URL is set; a part left empty is the primary's.
    instagram_fallback_base_url: str = ""
    instagram_fallback_host: str = ""
    instagram_fallback_key: str = ""
    tiktok_fallback_base_url: str = ""
    tiktok_fallback_host: str = ""
    tiktok_fallback_key: str = ""

    http_timeout_s: float = Field(default=15.0, gt=0)
    """Every request: connect, read and the whole exchange."""
    http_max_attempts: int = Field(default=4, ge=1)
    """Requests one call may spend on 429, 5xx and network errors before it fails."""
    http_backoff_base_s: float = Field(default=0.5, ge=0)
    """First backoff ceiling after a 5xx/network error; doubles per failure (with jitter)."""
    http_backoff_max_s: float = Field(default=8.0, ge=0)
    http_retry_after_max_s: float = Field(default=10.0, ge=0)
    """Cap on how long a 429's Retry-After is honoured."""

    max_pages: int = Field(default=5, ge=1)
    """Page limit of the post feeds."""
    max_engagement_pages: int = Field(default=100, ge=1)
    """Page limit of likers and comments lists."""

    rapidapi_rate_per_s: int = Field(default=0, ge=0)
    """Requests per second per platform shared by every ingest worker (Redis at ``redis_url``); 0 = unlimited."""
    budget_key_prefix: str = "cicero:rapidapi:"
    budget_max_wait_s: float = Field(default=30.0, gt=0)
    """Longest a request waits for a budget slot before the call fails."""
