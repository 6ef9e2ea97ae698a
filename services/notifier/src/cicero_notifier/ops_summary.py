"""The operational summary of one fetch run for the admins (DOMAIN §5 "Operational alerts"). Pure.

One message per run: when and which schedule, how many clients completed (and which did not, for a run
summarised as incomplete), the errors per client — from each client's ClientFetchCompleted and from the
alerts raised for the run, the same error counted once — and any alerts that belonged to no known run.
Lists are capped so a bad day never floods a phone.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from cicero_runtime.indonesian import date_id, number_id, time_wib

IDENTITY_CHARS = 300
"""Ingest cuts an alert's detail lines at 300 characters: two texts equal up to here are the same error."""
GENERAL = ""
"""Errors of the run that name no client."""
PHASE_LABEL = {"post_fetch": "konten + likes/komentar", "engagement_only": "likes/komentar"}


@dataclass(frozen=True)
class Run:
    run_id: str
    schedule: str
    phase: str
    mandatory: bool
    scheduled_for: datetime
    client_ids: tuple[str, ...]


@dataclass(frozen=True)
class Alert:
    source: str
    severity: str
    run_id: str | None
    client_id: str | None
    summary: str
    details: tuple[str, ...] = ()


@dataclass(frozen=True)
class Limits:
    errors_per_client: int = 5
    clients_listed: int = 20
    line_chars: int = 200
    other_alerts: int = 10


def schedule_of(run_id: str) -> str:
    """Tick ids are ``schedule:scheduled_for`` (ARCHITECTURE): the schedule is what precedes the first colon."""
    return run_id.split(":", 1)[0]


def fetch_error_line(platform: str, post_id: str | None, message: str) -> str:
    """An error of a ClientFetchCompleted written as ingest writes it in its alert's details."""
    return f"{platform}{' ' + post_id if post_id else ''}: {message}"[:IDENTITY_CHARS]


def alert_lines(alert: Alert) -> tuple[str, ...]:
    """What an alert says, line by line: its details, or its summary when it has none."""
    return alert.details or (alert.summary,)


def _identity(line: str) -> str:
    return " ".join(line.split())[:IDENTITY_CHARS]


def is_covered(alert: Alert, reported_lines: Sequence[str]) -> bool:
    """Every line of the alert was already reported (a late copy of errors a summary already carried)."""
    known = {_identity(line) for line in reported_lines}
    return all(_identity(line) in known for line in alert_lines(alert))


def run_errors(completion_errors: Mapping[str, Sequence[str]], alerts: Sequence[Alert]
               ) -> dict[str, list[str]]:
    """Errors per client (``GENERAL`` for the run's own), completions first, each distinct line once."""
    merged: dict[str, list[str]] = {}
    seen: dict[str, set[str]] = {}

    def add(client_id: str, line: str, shown: str) -> None:
        identity = _identity(line)
        if identity and identity not in seen.setdefault(client_id, set()):
            seen[client_id].add(identity)
            merged.setdefault(client_id, []).append(shown)

    for client_id, lines in completion_errors.items():
        for line in lines:
            add(client_id, line, line)
    for alert in alerts:
        for line in alert_lines(alert):
            add(alert.client_id or GENERAL, line, f"(peringatan) {line}" if alert.severity == "warning" else line)
    return merged


def missing_clients(run: Run, completed: Collection[str]) -> list[str]:
    done = set(completed)
    return [c for c in dict.fromkeys(run.client_ids) if c not in done]


def _cut(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def _named(items: Sequence[str], limit: int) -> str:
    more = f" … dan {len(items) - limit} lainnya" if len(items) > limit else ""
    return ", ".join(items[:limit]) + more


def render_summary(run: Run, completed: Collection[str], errors: Mapping[str, Sequence[str]],
                   others: Sequence[Alert], *, complete: bool, limits: Limits = Limits()) -> str:
    expected = list(dict.fromkeys(run.client_ids))
    missing = missing_clients(run, completed)
    done = len(expected) - len(missing)
    phase = PHASE_LABEL.get(run.phase, run.phase) + (" · wajib" if run.mandatory else "")
    lines = [
        f"🛠️ *Ringkasan Run {run.schedule}*",
        f"{date_id(run.scheduled_for)} {time_wib(run.scheduled_for)} · {phase}",
        f"Status: ✅ selesai, {number_id(done)}/{number_id(len(expected))} client" if complete
        else f"Status: ⚠️ TIDAK SELESAI, {number_id(done)}/{number_id(len(expected))} client",
    ]
    if missing:
        lines.append(f"Belum selesai: {_named(missing, limits.clients_listed)}")
    total = sum(len(v) for v in errors.values())
    with_errors = sorted((c for c, v in errors.items() if v), key=lambda c: (c == GENERAL, c))
    if total:
        clients = sum(1 for c in with_errors if c != GENERAL)
        lines.append(f"Galat: {number_id(total)} pada {number_id(clients)} client")
    else:
        lines.append("Galat: tidak ada")
    for client_id in with_errors[: limits.clients_listed]:
        client_lines = errors[client_id]
        lines.append(f"• {client_id or 'Umum'} ({number_id(len(client_lines))})")
        lines += [f"  - {_cut(line, limits.line_chars)}" for line in client_lines[: limits.errors_per_client]]
        if len(client_lines) > limits.errors_per_client:
            lines.append(f"  - … dan {number_id(len(client_lines) - limits.errors_per_client)} galat lain")
    if len(with_errors) > limits.clients_listed:
        lines.append(f"• … dan {number_id(len(with_errors) - limits.clients_listed)} client lain dengan galat")
    if others:
        lines.append(f"Peringatan di luar run ({number_id(len(others))}):")
        for alert in others[: limits.other_alerts]:
            where = " · ".join(p for p in (alert.client_id, alert.run_id) if p)
            lines.append(f"• [{alert.source}{' · ' + where if where else ''}] {_cut(alert.summary, limits.line_chars)}")
        if len(others) > limits.other_alerts:
            lines.append(f"• … dan {number_id(len(others) - limits.other_alerts)} peringatan lain")
    return "\n".join(lines)
