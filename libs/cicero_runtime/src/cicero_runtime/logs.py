"""Structured logging: one JSON object per line, carrying the trace id, never secrets or full numbers."""

from __future__ import annotations

import logging
import re
import sys
from typing import Any, TextIO

from opentelemetry import trace
from pythonjsonlogger.json import JsonFormatter

_PHONE = re.compile(r"(?<!\d)(62|0)(\d{3})\d{3,}(\d{3})(?!\d)")


def mask_phone(text: str) -> str:
    """Hide the middle digits of Indonesian phone numbers (``62812****890``) wherever they appear."""
    return _PHONE.sub(lambda m: f"{m.group(1)}{m.group(2)}****{m.group(3)}", text)


class _TraceAndRedact(logging.Filter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def filter(self, record: logging.LogRecord) -> bool:
        span_context = trace.get_current_span().get_span_context()
        if span_context.is_valid:
            record.trace_id = format(span_context.trace_id, "032x")
            record.span_id = format(span_context.span_id, "016x")
        record.service = self.service
        if isinstance(record.msg, str):
            record.msg = mask_phone(record.msg)
        if record.args:
            record.args = tuple(mask_phone(a) if isinstance(a, str) else a for a in record.args)
        return True


def configure_logging(service: str, fmt: str = "json", level: str = "INFO", stream: TextIO | None = None) -> None:
    handler = logging.StreamHandler(stream or sys.stdout)
    handler.addFilter(_TraceAndRedact(service))
    if fmt == "json":
        formatter: logging.Formatter = JsonFormatter(
            "{asctime}{levelname}{name}{message}",
            style="{",
            rename_fields={"asctime": "ts", "levelname": "level", "name": "logger"},
        )
    else:
        formatter = logging.Formatter("%(asctime)s %(levelname)s [%(service)s] %(name)s: %(message)s")
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("aiormq", "aio_pika", "httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def extra(**fields: Any) -> dict[str, Any]:
    """``log.info(msg, extra=extra(...))`` with phone-looking strings masked."""
    return {k: mask_phone(v) if isinstance(v, str) else v for k, v in fields.items()}
