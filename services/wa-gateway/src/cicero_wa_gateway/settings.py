"""Gateway settings: providers per session, outbox retries and pacing, inbound webhooks."""

from __future__ import annotations

from typing import Literal

from cicero_contracts.events.whatsapp import WhatsAppSession
from cicero_runtime.settings import RuntimeSettings
from pydantic import Field, SecretStr

ProviderKind = Literal["file", "log", "cloud", "waha"]


class GatewaySettings(RuntimeSettings):
    # -- outbound delivery (DOMAIN §6; providers/, delivery.py, outbox.py, pacing.py) -----------------------
    wa_provider: ProviderKind = "file"
    """Provider of every session without its own override: file, log (development), cloud, waha."""
    wa_provider_broadcast: ProviderKind | None = None
    """Override for the ``broadcast`` session (groups): the Cloud API cannot send to groups, use waha."""
    wa_provider_operator: ProviderKind | None = None
    wa_provider_log: ProviderKind | None = None
    wa_file_path: str = "var/whatsapp.jsonl"
    wa_http_timeout_s: float = Field(default=15.0, gt=0)
    """Whole-request timeout of every provider HTTP call (send and readiness)."""
    wa_cloud_base_url: str = "https://graph.facebook.com"
    wa_cloud_api_version: str = Field(default="v21.0", pattern=r"^v[0-9]+\.[0-9]+$")
    wa_cloud_phone_number_id: str = ""
    wa_cloud_token: SecretStr = SecretStr("")
    wa_waha_base_url: str = "http://localhost:3000"
    wa_waha_api_key: SecretStr = SecretStr("")
    """Sent as X-Api-Key; empty sends none (a WAHA without authentication)."""
    wa_waha_session: str = Field(default="default", min_length=1)
    """WAHA session every one of our sessions sends through unless ``wa_waha_sessions`` maps it."""
    wa_waha_sessions: dict[WhatsAppSession, str] = Field(default_factory=dict)
    """Our session → WAHA session name, JSON (e.g. {"broadcast": "blast"})."""
    wa_max_attempts: int = Field(default=5, ge=1)
    wa_retry_base_s: float = Field(default=30.0, gt=0)
    """Wait after the first failed attempt; doubled after each next one, up to ``wa_retry_max_s``."""
    wa_retry_max_s: float = Field(default=3600.0, gt=0)
    wa_processing_timeout_s: float = Field(default=300.0, gt=0)
    """A row still ``processing`` this long after its claim (its worker died) is reclaimed."""
    wa_pacing_gap_s: float = Field(default=0.0, ge=0)
    """Least time between the end of one send and the start of the next on one session; 0 = no pacing."""
    wa_pacing_gap_broadcast_s: float | None = Field(default=None, ge=0)
    wa_pacing_gap_operator_s: float | None = Field(default=None, ge=0)
    wa_pacing_gap_log_s: float | None = Field(default=None, ge=0)
    wa_batch_size: int = Field(default=16, ge=1)
    """Most rows one unpaced pass claims (one per chat), sent concurrently."""
    wa_poll_interval_s: float = Field(default=1.0, gt=0)
    """Longest idle wait between passes (a NOTIFY on a new request wakes the worker sooner)."""
    wa_ready_check_interval_s: float = Field(default=10.0, ge=0)
    """How long a provider's readiness answer is trusted before it is asked again."""

    def provider_for(self, session: WhatsAppSession) -> ProviderKind:
        override = {WhatsAppSession.BROADCAST: self.wa_provider_broadcast,
                    WhatsAppSession.OPERATOR: self.wa_provider_operator,
                    WhatsAppSession.LOG: self.wa_provider_log}[session]
        return override or self.wa_provider

    def pacing_gap_for(self, session: WhatsAppSession) -> float:
        override = {WhatsAppSession.BROADCAST: self.wa_pacing_gap_broadcast_s,
                    WhatsAppSession.OPERATOR: self.wa_pacing_gap_operator_s,
                    WhatsAppSession.LOG: self.wa_pacing_gap_log_s}[session]
        return self.wa_pacing_gap_s if override is None else override

    def waha_session_for(self, session: WhatsAppSession) -> str:
        return self.wa_waha_sessions.get(session, self.wa_waha_session)

    # -- inbound webhooks (DOMAIN §6 "Inbound messages"; webhooks.py) ---------------------------------------
    # Each webhook stays closed (503) until its secret is set: unsigned input is never accepted.
    wa_webhook_host: str = "0.0.0.0"
    wa_webhook_port: int = Field(default=0, ge=0, le=65535)
    """Port of the provider webhooks (/webhooks/cloud, /webhooks/waha); 0 (the default) turns them off."""
    wa_webhook_max_body_bytes: int = Field(default=1_000_000, ge=1024)
    """Larger webhook bodies are refused (413) before they are parsed."""
    wa_cloud_app_secret: SecretStr | None = None
    """Meta app secret: POST /webhooks/cloud must carry X-Hub-Signature-256 = HMAC-SHA256(secret, body)."""
    wa_cloud_verify_token: SecretStr | None = None
    """Token Meta echoes in the GET /webhooks/cloud subscription handshake (hub.verify_token)."""
    wa_waha_webhook_key: SecretStr | None = None
    """Key the WAHA-style gateway sends as X-Api-Key on POST /webhooks/waha (a WAHA custom header)."""
    wa_waha_inbound_sessions: dict[str, WhatsAppSession] = Field(default_factory=dict)
    """WAHA session name → our session, JSON (e.g. {"blast": "broadcast"}); names not listed are operator."""
