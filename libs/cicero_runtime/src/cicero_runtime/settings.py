"""Settings read from the environment; every URL comes from there so one image runs anywhere."""

from __future__ import annotations

import re

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def validate_schema_name(value: str) -> str:
    """Schema names are spliced into SQL and NOTIFY channels, so only plain identifiers are allowed."""
    if not _SCHEMA_NAME.fullmatch(value):
        raise ValueError(f"invalid schema name {value!r}: use lower-case letters, digits and _")
    return value


class RuntimeSettings(BaseSettings):
    """What every service needs; services subclass this and add their own fields."""

    model_config = SettingsConfigDict(env_file=None, extra="forbid", env_ignore_empty=True)

    database_url: str = "postgresql://postgres@127.0.0.1:5432/cicero"
    amqp_url: str = "amqp://guest:guest@127.0.0.1:5672/"
    redis_url: str = "redis://127.0.0.1:6379/0"
    namespace: str = Field(default="", validation_alias="CICERO_NAMESPACE")
    """Prefix for every exchange and queue name; tests set it to isolate runs on one broker."""
    db_schema: str = Field(default="", validation_alias="CICERO_DB_SCHEMA")
    """Overrides the service's own schema name (tests); empty means the service's default."""
    sql_dir: str = Field(default="sql", validation_alias="CICERO_SQL_DIR")
    otel_exporter_otlp_endpoint: str = ""
    otel_service_namespace: str = "cicero"
    log_format: str = "json"
    log_level: str = "INFO"
    health_port: int = 8080
    retry_delay_ms: int = Field(default=5000, ge=1)
    max_attempts: int = Field(default=5, ge=1)
    relay_batch_size: int = Field(default=500, ge=1)
    relay_poll_interval_s: float = Field(default=1.0, gt=0)
    startup_timeout_s: float = Field(default=60.0, gt=0)
    """How long a starting process waits for PostgreSQL and RabbitMQ before giving up."""
    prefetch_count: int = Field(default=256, ge=1)
    consumer_batch_size: int = Field(default=100, ge=1)
    """Most messages a consumer handles in one transaction (micro-batching under load)."""

    @field_validator("db_schema")
    @classmethod
    def _check_schema(cls, value: str) -> str:
        return validate_schema_name(value) if value else value
