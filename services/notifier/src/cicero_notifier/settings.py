"""Notifier settings: recipients of operational alerts, SMTP, OTP, reminders. All from the environment."""

from __future__ import annotations

import json
from typing import Annotated

from cicero_runtime.identifiers import InvalidIdentifier, normalize_phone
from cicero_runtime.settings import RuntimeSettings
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import NoDecode


class NotifierSettings(RuntimeSettings):
    admin_whatsapp_numbers: Annotated[list[str], NoDecode] = Field(default_factory=list)
    """Who hears operational alerts through the ``log`` session: ``ADMIN_WHATSAPP_NUMBERS=0812…,0813…``."""

    @field_validator("admin_whatsapp_numbers", mode="before")
    @classmethod
    def _numbers(cls, value: object) -> list[str]:
        """Comma-separated (as operators write them) or a list; each normalised like the directory's numbers, so
        a typo fails at start naming the entry instead of silently never alerting anyone."""
        if isinstance(value, str):
            items = json.loads(value) if value.lstrip().startswith("[") else value.split(",")
        else:
            items = list(value)  # type: ignore[call-overload]
        numbers = []
        for item in items:
            item = str(item).strip()
            if not item:
                continue
            try:
                numbers.append(normalize_phone(str(item)))
            except InvalidIdentifier as exc:
                raise ValueError(f"ADMIN_WHATSAPP_NUMBERS entry {item!r}: {exc}") from None
        return numbers

    # -- operational alerts and WhatsApp admin commands (DOMAIN §5 "Operational alerts", §6) ------------
    # Admins (``admin_whatsapp_numbers`` above) may also command every client over WhatsApp.
    ops_errors_per_client: int = Field(default=5, ge=1)
    """Error lines a run summary shows per client; the rest are counted, not listed."""
    ops_clients_listed: int = Field(default=20, ge=1)
    """Clients with errors (and unfinished clients) a run summary names before "… dan N lainnya"."""
    ops_retention_days: int = Field(default=7, ge=1)
    """How long summarised runs, their completions and reported alerts are kept (by event time)."""

    # -- e-mail: SMTP, OTP over the bus, complaint replies (DOMAIN §5 "E-mail (SMTP)") -----------------
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 1025
    smtp_security: str = Field(default="none", pattern=r"^(none|starttls|tls)$")
    """``none`` (plain, local relays only), ``starttls`` (upgrade on the submission port), ``tls`` (implicit)."""
    smtp_username: str = ""
    """Log in only when set."""
    smtp_password: SecretStr = SecretStr("")
    smtp_ca_file: str = ""
    """A PEM bundle to trust instead of the system's (a relay with a private CA); empty: system trust."""
    smtp_from: str = "Cicero <no-reply@cicero.invalid>"
    smtp_timeout_s: float = Field(default=15.0, gt=0)
    smtp_max_attempts: int = Field(default=4, ge=1)
    """Tries per e-mail when the server fails transiently (4xx, unreachable); a 5xx refusal is not retried."""
    smtp_retry_base_s: float = Field(default=2.0, gt=0)
    """Wait before the 2nd try; doubled for each next one, up to ``smtp_retry_max_s``."""
    smtp_retry_max_s: float = Field(default=60.0, gt=0)
    email_sending_stale_s: float = Field(default=900.0, gt=0)
    """A complaint e-mail still marked ``sending`` this long after it started (the process died mid-send)
    is recorded as failed with an unknown outcome and reported, never sent again (at most once)."""

    # OTP (DOMAIN §5): a keyed hash in Redis, never the code itself
    otp_secret: SecretStr = SecretStr("")
    """Key of the HMAC under which codes are stored; required for OTP (refused at use when empty)."""
    otp_ttl_s: int = Field(default=300, ge=1)
    otp_max_wrong: int = Field(default=3, ge=1)
    otp_claim_ttl_s: int = Field(default=600, ge=1)
    otp_max_requests: int = Field(default=5, ge=1)
    """Codes one person may ask for within ``otp_request_window_s``; more are refused ``too_many_requests``."""
    otp_request_window_s: int = Field(default=3600, ge=1)
    otp_smtp_max_attempts: int = Field(default=2, ge=1)
    """Tries for the OTP e-mail: the requester is waiting for the reply, so fewer than for other mail."""
    otp_rpc_timeout_s: float = Field(default=45.0, gt=0)
    """How long ``cicero-notifier otp …`` waits for the running notifier's reply (room for the OTP e-mail's
    attempts: ``otp_smtp_max_attempts`` × ``smtp_timeout_s`` plus the backoff)."""
    redis_prefix: str = "cicero:notifier:"
