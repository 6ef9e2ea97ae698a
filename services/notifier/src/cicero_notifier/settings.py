"""Notifier settings: recipients of operational alerts, SMTP, OTP, reminders. All from the environment."""

from __future__ import annotations

from cicero_runtime.settings import RuntimeSettings
from pydantic import Field, SecretStr


class NotifierSettings(RuntimeSettings):
    admin_whatsapp_numbers: list[str] = Field(default_factory=list)
    """Who hears operational alerts through the ``log`` session (comma-separated or JSON list)."""

    # e-mail
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 1025
    smtp_security: str = Field(default="none", pattern=r"^(none|starttls|tls)$")
    smtp_username: str = ""
    smtp_password: SecretStr = SecretStr("")
    smtp_from: str = "Cicero <no-reply@cicero.invalid>"
    smtp_timeout_s: float = Field(default=15.0, gt=0)
    smtp_max_attempts: int = Field(default=4, ge=1)
    smtp_retry_base_s: float = Field(default=2.0, gt=0)

    # OTP (DOMAIN §5): a keyed hash in Redis, never the code itself
    otp_secret: SecretStr = SecretStr("")
    """Key of the HMAC under which codes are stored; required for OTP (refused at use when empty)."""
    otp_ttl_s: int = Field(default=300, ge=1)
    otp_max_wrong: int = Field(default=3, ge=1)
    otp_claim_ttl_s: int = Field(default=600, ge=1)
    redis_prefix: str = "cicero:notifier:"
