"""Gateway settings: which provider, where the file provider writes, retry policy."""

from __future__ import annotations

from cicero_runtime.settings import RuntimeSettings


class GatewaySettings(RuntimeSettings):
    wa_provider: str = "file"
    wa_file_path: str = "var/whatsapp.jsonl"
    wa_max_attempts: int = 5
    wa_retry_base_s: float = 30.0
    wa_retry_max_s: float = 3600.0
    wa_processing_timeout_s: float = 300.0
