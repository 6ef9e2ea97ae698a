"""Scheduler settings."""

from __future__ import annotations

from cicero_runtime.settings import RuntimeSettings


class SchedulerSettings(RuntimeSettings):
    scheduler_clock_enabled: bool = True
    """Off in tests and demos that drive the system only with ``fire``."""
