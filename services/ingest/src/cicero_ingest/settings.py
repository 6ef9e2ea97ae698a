"""Ingest settings: where the platforms are and with which key."""

from __future__ import annotations

from cicero_runtime.settings import RuntimeSettings


class IngestSettings(RuntimeSettings):
    instagram_base_url: str = "https://social-api4.p.rapidapi.com"
    instagram_host: str = "social-api4.p.rapidapi.com"
    tiktok_base_url: str = "https://tiktok-api23.p.rapidapi.com"
    tiktok_host: str = "tiktok-api23.p.rapidapi.com"
    rapidapi_key: str = ""
    http_timeout_s: float = 15.0
    max_pages: int = 5
