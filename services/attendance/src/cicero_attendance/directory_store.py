"""Apply validated client snapshots: one event per real change, the table updated in the same transaction."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import asyncpg
from cicero_contracts import Event
from cicero_contracts.events.directory import ClientRegistered, ClientSnapshot, ClientUpdated
from cicero_runtime.event_store import EventStore, Metadata, RecordedEvent
from cicero_runtime.tracing import inject_headers

CLIENT_FIELDS = tuple(ClientSnapshot.model_fields)


@dataclass
class ApplyReport:
    registered: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    recorded: list[RecordedEvent] = field(default_factory=list)


def _current(row: asyncpg.Record) -> dict[str, Any]:
    return {name: (list(row[name]) if isinstance(row[name], list) else row[name]) for name in CLIENT_FIELDS}


async def apply_clients(
    conn: asyncpg.Connection, store: EventStore, clients: list[ClientSnapshot], correlation_id: str
) -> ApplyReport:
    """Register new clients, update changed ones, leave identical ones alone (a re-import is a no-op)."""
    report = ApplyReport()
    trace_headers = inject_headers()
    metadata = Metadata(correlation_id=correlation_id, traceparent=trace_headers.get("traceparent"))
    async with conn.transaction():
        for client in clients:
            row = await conn.fetchrow(f"SELECT {', '.join(CLIENT_FIELDS)} FROM clients WHERE client_id = $1",
                                      client.client_id)
            wanted = client.model_dump(mode="json")
            event: Event
            if row is None:
                event = ClientRegistered(**wanted)
                report.registered.append(client.client_id)
            elif _current(row) != wanted:
                event = ClientUpdated(**wanted)
                report.updated.append(client.client_id)
            else:
                report.unchanged.append(client.client_id)
                continue
            report.recorded += await store.append(conn, f"client:{client.client_id}", [event], metadata=metadata)
            await conn.execute(
                f"""INSERT INTO clients ({', '.join(CLIENT_FIELDS)}) VALUES
                    ({', '.join(f'${i + 1}' for i in range(len(CLIENT_FIELDS)))})
                    ON CONFLICT (client_id) DO UPDATE SET
                    {', '.join(f'{n} = EXCLUDED.{n}' for n in CLIENT_FIELDS if n != 'client_id')},
                    updated_at = now()""",
                *(wanted[n] for n in CLIENT_FIELDS),
            )
    return report
