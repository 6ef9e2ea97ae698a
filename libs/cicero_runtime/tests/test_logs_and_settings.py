"""Logs are one JSON object per line with the trace id and no full phone numbers; settings fail clearly."""

from __future__ import annotations

import json
import logging

import pytest
from cicero_runtime.logs import configure_logging, extra, mask_phone
from cicero_runtime.settings import RuntimeSettings
from opentelemetry.sdk.trace import TracerProvider
from pydantic import ValidationError


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("6281234567890", "62812****890"),
        ("kirim ke 081234567890 sekarang", "kirim ke 0812****890 sekarang"),
        ("6281234567890@c.us", "62812****890@c.us"),
        ("120363025550001111@g.us", "120363025550001111@g.us"),
        ("order 12345", "order 12345"),
    ],
)
def test_phone_numbers_are_masked(text: str, expected: str) -> None:
    assert mask_phone(text) == expected




def test_log_line_is_json_with_trace_id_and_masked_numbers(
    capsys: pytest.CaptureFixture[str], restore_logging: None
) -> None:
    configure_logging("cicero-test", "json", "INFO")
    tracer = TracerProvider().get_tracer("test")
    with tracer.start_as_current_span("work") as span:
        logging.getLogger("cicero.test").info("sent to %s", "6281234567890", extra=extra(chat="6289876543210"))
        trace_id = format(span.get_span_context().trace_id, "032x")
    line = capsys.readouterr().out.strip().splitlines()[-1]
    record = json.loads(line)
    assert record["message"] == "sent to 62812****890"
    assert record["chat"] == "62898****210"
    assert record["trace_id"] == trace_id
    assert record["service"] == "cicero-test" and record["level"] == "INFO"
    assert "6281234567890" not in line


def test_bad_settings_name_the_field(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CICERO_DB_SCHEMA", "Robert'); DROP TABLE")
    with pytest.raises(ValidationError, match=r"db_schema|CICERO_DB_SCHEMA"):
        RuntimeSettings()
    monkeypatch.setenv("CICERO_DB_SCHEMA", "ok_schema")
    monkeypatch.setenv("MAX_ATTEMPTS", "0")
    with pytest.raises(ValidationError, match=r"max_attempts|MAX_ATTEMPTS"):
        RuntimeSettings()


def test_empty_variables_count_as_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AMQP_URL", "")
    assert RuntimeSettings().amqp_url == "amqp://guest:guest@127.0.0.1:5672/"
