"""The append-only Postgres event store (ARCHITECTURE rule 1).

Appends take an exclusive lock on the table for the rest of their transaction, so global positions are
allocated and committed in the same order: a reader tailing ``global_position > checkpoint`` can never
skip a lower position that commits later. The lock also makes the expected-version check race-free.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
from cicero_contracts import Envelope, Event

from cicero_runtime.clock import utc_now
from cicero_runtime.settings import validate_schema_name


class ConcurrencyError(RuntimeError):
    """Someone else appended to the stream first; reload the aggregate and decide again."""


@dataclass(frozen=True)
class Metadata:
    """What ties an event to its cause: correlation, causation and the W3C trace context."""

    correlation_id: str | None = None
    causation_id: str | None = None
    traceparent: str | None = None
    tracestate: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def as_json(self, producer: str) -> dict[str, Any]:
        data: dict[str, Any] = {"producer": producer, **self.extra}
        for key in ("correlation_id", "causation_id", "traceparent", "tracestate"):
            value = getattr(self, key)
            if value is not None:
                data[key] = value
        return data


@dataclass(frozen=True)
class RecordedEvent:
    global_position: int
    stream_id: str
    stream_version: int
    event_id: UUID
    event_type: str
    schema_version: int
    occurred_at: datetime
    payload: dict[str, Any]
    metadata: dict[str, Any]
    recorded_at: datetime

    def envelope(self) -> Envelope:
        return Envelope(
            event_id=self.event_id,
            event_type=self.event_type,
            schema_version=self.schema_version,
            occurred_at=self.occurred_at,
            producer=str(self.metadata.get("producer", "unknown")),
            stream_id=self.stream_id,
            stream_version=self.stream_version,
            correlation_id=self.metadata.get("correlation_id"),
            causation_id=self.metadata.get("causation_id"),
            payload=self.payload,
        )


_COLUMNS = (
    "global_position, stream_id, stream_version, event_id, event_type, schema_version, occurred_at, "
    "payload, metadata, recorded_at"
)


@dataclass(frozen=True)
class StreamAppend:
    """Events for one stream in a multi-stream append, with what caused them."""

    stream_id: str
    events: Sequence[Event]
    metadata: Metadata | None = None
    occurred_at: datetime | None = None


def _record(row: asyncpg.Record) -> RecordedEvent:
    return RecordedEvent(**dict(row))


class EventStore:
    """One service's event store; ``producer`` is written into every event's metadata."""

    def __init__(self, producer: str, schema: str) -> None:
        self.producer = producer
        self.schema = validate_schema_name(schema)
        self.notify_channel = f"cicero_events_{schema}"

    async def append(
        self,
        conn: asyncpg.Connection,
        stream_id: str,
        events: Sequence[Event],
        *,
        expected_version: int | None = None,
        metadata: Metadata | None = None,
        occurred_at: datetime | None = None,
    ) -> list[RecordedEvent]:
        """Append events to one stream inside the caller's transaction (one is opened if there is none).

        ``expected_version`` is the version the caller last saw (0 for a new stream); ``None`` appends
        after whatever is there. A mismatch raises ConcurrencyError and nothing is written.
        """
        if not events:
            return []
        if not conn.is_in_transaction():
            async with conn.transaction():
                return await self.append(
                    conn, stream_id, events, expected_version=expected_version, metadata=metadata,
                    occurred_at=occurred_at,
                )
        meta = (metadata or Metadata()).as_json(self.producer)
        when = occurred_at or utc_now()
        await conn.execute("LOCK TABLE events IN EXCLUSIVE MODE")
        current = await conn.fetchval(
            "SELECT coalesce(max(stream_version), 0) FROM events WHERE stream_id = $1", stream_id
        )
        if expected_version is not None and current != expected_version:
            raise ConcurrencyError(
                f"stream {stream_id!r} is at version {current}, expected {expected_version}"
            )
        versions = list(range(current + 1, current + 1 + len(events)))
        try:
            rows = await conn.fetch(
                f"""INSERT INTO events (stream_id, stream_version, event_id, event_type, schema_version,
                                        occurred_at, payload, metadata)
                    SELECT $1, v, id, t, s, $2, p, $3
                    FROM unnest($4::int[], $5::uuid[], $6::text[], $7::int[], $8::jsonb[])
                         AS x(v, id, t, s, p)
                    ORDER BY v
                    RETURNING {_COLUMNS}""",
                stream_id,
                when,
                meta,
                versions,
                [uuid.uuid4() for _ in events],
                [e.event_type for e in events],
                [e.schema_version for e in events],
                [e.model_dump(mode="json") for e in events],
            )
        except asyncpg.UniqueViolationError as exc:
            raise ConcurrencyError(f"stream {stream_id!r} version conflict: {exc}") from exc
        await conn.execute("SELECT pg_notify($1, '')", self.notify_channel)
        return sorted((_record(r) for r in rows), key=lambda r: r.global_position)

    async def append_streams(self, conn: asyncpg.Connection, appends: Sequence[StreamAppend]) -> list[RecordedEvent]:
        """Append to many streams at once, each after whatever it holds: one lock, one insert, one notify.

        For projections that emit an event per changed row: one ``append`` per stream would cost a
        round trip per stream.
        """
        appends = [a for a in appends if a.events]
        if not appends:
            return []
        if not conn.is_in_transaction():
            async with conn.transaction():
                return await self.append_streams(conn, appends)
        if len({a.stream_id for a in appends}) != len(appends):
            raise ValueError("append_streams takes each stream once")
        await conn.execute("LOCK TABLE events IN EXCLUSIVE MODE")
        current = {r["stream_id"]: r["version"] or 0 for r in await conn.fetch(
            """SELECT s.stream_id, (SELECT max(e.stream_version) FROM events e WHERE e.stream_id = s.stream_id)
                      AS version
               FROM unnest($1::text[]) AS s(stream_id)""",
            [a.stream_id for a in appends])}
        streams, versions, ids, types, schema_versions, times, payloads, metas = ([] for _ in range(8))
        for a in appends:
            meta = (a.metadata or Metadata()).as_json(self.producer)
            when = a.occurred_at or utc_now()
            for offset, event in enumerate(a.events, start=1):
                streams.append(a.stream_id)
                versions.append(current.get(a.stream_id, 0) + offset)
                ids.append(uuid.uuid4())
                types.append(event.event_type)
                schema_versions.append(event.schema_version)
                times.append(when)
                payloads.append(event.model_dump(mode="json"))
                metas.append(meta)
        rows = await conn.fetch(
            f"""INSERT INTO events (stream_id, stream_version, event_id, event_type, schema_version, occurred_at,
                                    payload, metadata)
                SELECT * FROM unnest($1::text[], $2::int[], $3::uuid[], $4::text[], $5::int[], $6::timestamptz[],
                                     $7::jsonb[], $8::jsonb[])
                RETURNING {_COLUMNS}""",
            streams, versions, ids, types, schema_versions, times, payloads, metas,
        )
        await conn.execute("SELECT pg_notify($1, '')", self.notify_channel)
        return sorted((_record(r) for r in rows), key=lambda r: r.global_position)

    async def read_after(self, conn: asyncpg.Connection, position: int, limit: int) -> list[RecordedEvent]:
        rows = await conn.fetch(
            f"SELECT {_COLUMNS} FROM events WHERE global_position > $1 ORDER BY global_position LIMIT $2",
            position,
            limit,
        )
        return [_record(r) for r in rows]

    async def read_stream(self, conn: asyncpg.Connection, stream_id: str) -> list[RecordedEvent]:
        rows = await conn.fetch(
            f"SELECT {_COLUMNS} FROM events WHERE stream_id = $1 ORDER BY stream_version", stream_id
        )
        return [_record(r) for r in rows]

    async def last_position(self, conn: asyncpg.Connection) -> int:
        value: int = await conn.fetchval("SELECT coalesce(max(global_position), 0) FROM events")
        return value
