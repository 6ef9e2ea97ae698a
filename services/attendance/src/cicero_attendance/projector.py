"""The attendance projection: journal → directory, posts, engagements and attendance tables.

One code path serves the live consumer (micro-batches from the bus), the directory commands (events this
service appended itself) and the rebuild (large chunks of the journal into fresh tables). Each run is
folded into set-based writes, then the attendance rows of every scope the run touched are recomputed
from the tables, so the rows never depend on how the events were batched.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime

import asyncpg
from cicero_contracts import REGISTRY
from cicero_contracts.events.attendance import AttendanceStatus, AttendanceStatusChanged
from cicero_contracts.events.common import Platform
from cicero_runtime.consumer import BatchContext, BatchItem
from cicero_runtime.event_store import EventStore, Metadata, RecordedEvent, StreamAppend
from cicero_runtime.settings import RuntimeSettings

from cicero_attendance import journal
from cicero_attendance.folding import (
    CLIENT_FIELDS,
    PERSONNEL_FIELDS,
    DirectoryWrite,
    EngagementKey,
    Writes,
    fold,
)
from cicero_attendance.journal import JournalEntry
from cicero_attendance.rules import COUNTED_KIND
from cicero_attendance.settings import AttendanceSettings
from cicero_attendance.status_calc import Change, Ratios
from cicero_attendance.status_store import Dirty, recompute

PROJECTION_TABLES = ("clients", "personnel", "posts", "engagements", "attendance")
"""The tables a rebuild recreates; everything in them comes from the journal."""

PERSON_INPUTS = ("client_id", "roles", "instagram", "tiktok", "active", "exempt")
"""The personnel fields attendance rows depend on; a change to any other field recomputes nothing."""


ANALYZE_EVERY = 20_000
"""Events a process projects live between two ANALYZE runs of the projection tables."""


class Projector:
    def __init__(self, ratios: Ratios | None = None) -> None:
        self.ratios = ratios or Ratios()
        self._since_analyze = 0

    @classmethod
    def from_settings(cls, settings: RuntimeSettings) -> Projector:
        """The ratios come from AttendanceSettings; plain runtime settings (other tools) get the defaults."""
        if isinstance(settings, AttendanceSettings):
            return cls(Ratios(org=settings.org_ratio, directorate=settings.directorate_ratio))
        return cls()

    lock = staticmethod(journal.lock)

    async def project(self, conn: asyncpg.Connection, entries: list[JournalEntry], *,
                      attendance: bool = True) -> list[tuple[Change, int]]:
        """Apply ``entries`` to the tables on ``conn``'s search path; the row changes with their causes.

        With ``attendance=False`` only the directory, posts and engagements are written: a rebuild fills
        the attendance rows once at the end (``recompute_all``) instead of after every chunk.
        """
        writes = fold(entries)
        dirty = Dirty() if attendance else None  # None: nobody to mark, so no before/after reads either
        await self._write_directory(conn, writes, dirty)
        await self._write_posts(conn, writes, dirty)
        await self._write_engagements(conn, writes, dirty)
        if dirty is None:
            return []
        changes = await recompute(conn, dirty, self.ratios)
        return [(change, dirty.causes[group]) for change, group in changes]

    async def recompute_all(self, conns: Sequence[asyncpg.Connection], groups_per_transaction: int = 500) -> int:
        """Recompute the attendance rows of every scope that has task posts; returns how many scopes.

        Slices of scopes go to the connections in turn, so one slice's query runs in the database while
        Python works on another's rows.
        """
        rows = await conns[0].fetch("""SELECT DISTINCT client_id, wib_date, platform FROM posts
                                       WHERE removed_at IS NULL ORDER BY 1, 2, 3""")
        slices: asyncio.Queue[list[asyncpg.Record]] = asyncio.Queue()
        for start in range(0, len(rows), groups_per_transaction):
            slices.put_nowait(rows[start:start + groups_per_transaction])

        async def work(conn: asyncpg.Connection) -> None:
            while not slices.empty():
                dirty = Dirty()
                for r in slices.get_nowait():
                    dirty.mark_all((r["client_id"], r["wib_date"], r["platform"]), 0)
                async with conn.transaction():
                    await recompute(conn, dirty, self.ratios)

        await asyncio.gather(*(work(conn) for conn in conns))
        return len(rows)

    # -- live application ---------------------------------------------------------------------------
    async def apply_recorded(self, conn: asyncpg.Connection, store: EventStore,
                             recorded: list[RecordedEvent]) -> None:
        """Journal and project events this service appended itself (directory commands), in their transaction."""
        entries = [JournalEntry(r.event_id, r.occurred_at, REGISTRY.parse(r.event_type, r.schema_version, r.payload))
                   for r in recorded]
        metadata = [Metadata(correlation_id=r.metadata.get("correlation_id"), causation_id=str(r.event_id),
                             traceparent=r.metadata.get("traceparent")) for r in recorded]
        await self.apply_live(conn, store, entries, metadata)

    async def apply_consumed(self, items: list[BatchItem], ctx: BatchContext) -> None:
        """The consumer's batch handler: events from the bus, already deduplicated by the inbox."""
        entries = [JournalEntry(i.envelope.event_id, i.envelope.occurred_at, i.event) for i in items]
        await self.apply_live(ctx.conn, ctx.store, entries, [i.metadata for i in items])

    async def apply_live(self, conn: asyncpg.Connection, store: EventStore, entries: list[JournalEntry],
                         metadata: list[Metadata] | None = None) -> None:
        """Journal, project and publish the row changes, in the caller's transaction."""
        metadata = metadata or [Metadata() for _ in entries]
        await self.lock(conn)
        await journal.append(conn, entries)
        changes = await self.project(conn, entries)
        await publish_changes(conn, store, changes, entries, metadata)
        self._since_analyze += len(entries)
        if self._since_analyze >= ANALYZE_EVERY:
            # A table that grows tenfold between two autovacuum visits (a fresh deployment, a backfill)
            # keeps plans made for its empty self: the member query then scans posts once per person.
            self._since_analyze = 0
            for table in PROJECTION_TABLES:
                await conn.execute(f"ANALYZE {table}")

    # -- writes -------------------------------------------------------------------------------------
    async def _write_directory(self, conn: asyncpg.Connection, writes: Writes, dirty: Dirty | None) -> None:
        if dirty is None:  # a rebuild's bulk phase
            await _upsert_directory(conn, "clients", "client_id", CLIENT_FIELDS, writes.clients)
            await _upsert_directory(conn, "personnel", "user_id", PERSONNEL_FIELDS, writes.personnel)
            return
        if writes.clients:
            ids = list(writes.clients)
            old = {r["client_id"]: r["client_type"] for r in await conn.fetch(
                "SELECT client_id, client_type FROM clients WHERE client_id = ANY($1::text[])", ids)}
            await _upsert_directory(conn, "clients", "client_id", CLIENT_FIELDS, writes.clients)
            retyped = [cid for cid, w in writes.clients.items()
                       if w.snapshot is not None and old.get(cid) != w.snapshot["client_type"]]
            if retyped:  # a new client, or one whose type changed: its members and ratio may differ
                for r in await conn.fetch(
                    """SELECT DISTINCT client_id, wib_date, platform FROM posts
                       WHERE client_id = ANY($1::text[]) AND removed_at IS NULL""", retyped):
                    dirty.mark_all((r["client_id"], r["wib_date"], r["platform"]), writes.client_events[r["client_id"]])
        if writes.personnel:
            ids = list(writes.personnel)
            before = {r["user_id"]: tuple(r[f] for f in PERSON_INPUTS) for r in await conn.fetch(
                f"SELECT user_id, {', '.join(PERSON_INPUTS)} FROM personnel "
                "JOIN unnest($1::text[]) AS u(user_id) USING (user_id)", ids)}
            await _upsert_directory(conn, "personnel", "user_id", PERSONNEL_FIELDS, writes.personnel)
            after = {r["user_id"]: tuple(r[f] for f in PERSON_INPUTS) for r in await conn.fetch(
                f"SELECT user_id, {', '.join(PERSON_INPUTS)} FROM personnel "
                "JOIN unnest($1::text[]) AS u(user_id) USING (user_id)", ids)}
            changed = [u for u in ids if before.get(u) != after.get(u)]
            if changed:
                await _mark_people(conn, changed, writes.personnel_events, dirty)

    async def _write_posts(self, conn: asyncpg.Connection, writes: Writes, dirty: Dirty | None) -> None:
        keys = list(writes.post_events)
        active_before: set[tuple[str, str]] = set()
        if keys and dirty is not None:  # which were task posts before this run: which scopes' task sets change
            active_before = {(r["platform"], r["post_id"]) for r in await conn.fetch(
                """SELECT p.platform, p.post_id FROM unnest($1::text[], $2::text[]) AS k(platform, post_id)
                   JOIN posts p ON p.platform = k.platform AND p.post_id = k.post_id WHERE p.removed_at IS NULL""",
                [k[0] for k in keys], [k[1] for k in keys])}
        rows = list(writes.posts.values())
        if rows:
            await conn.execute(
                """INSERT INTO posts (platform, post_id, client_id, wib_date, link, caption, published_at,
                                      source_type, like_count, comment_count, removed_at)
                   SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::date[], $5::text[], $6::text[],
                                        $7::timestamptz[], $8::text[], $9::int[], $10::int[], $11::timestamptz[])
                   ON CONFLICT (platform, post_id) DO UPDATE SET
                     caption = EXCLUDED.caption, like_count = EXCLUDED.like_count,
                     comment_count = EXCLUDED.comment_count, removed_at = EXCLUDED.removed_at""",
                [r.platform for r in rows], [r.post_id for r in rows], [r.client_id for r in rows],
                [r.wib_date for r in rows], [r.link for r in rows], [r.caption for r in rows],
                [r.published_at for r in rows], [r.source_type for r in rows], [r.like_count for r in rows],
                [r.comment_count for r in rows], [r.removed_at for r in rows],
            )
        patches = list(writes.post_patches.items())
        if patches:
            await conn.execute(
                """UPDATE posts p SET
                     like_count = coalesce(x.like_count, p.like_count),
                     comment_count = coalesce(x.comment_count, p.comment_count),
                     removed_at = coalesce(x.removed_at, p.removed_at)
                   FROM unnest($1::text[], $2::text[], $3::int[], $4::int[], $5::timestamptz[])
                        AS x(platform, post_id, like_count, comment_count, removed_at)
                   WHERE p.platform = x.platform AND p.post_id = x.post_id""",
                [k[0] for k, _ in patches], [k[1] for k, _ in patches],
                [p.counts[0] if p.counts else None for _, p in patches],
                [p.counts[1] if p.counts else None for _, p in patches],
                [p.removed_at for _, p in patches],
            )
        if keys and dirty is not None:
            for r in await conn.fetch(
                """SELECT p.platform, p.post_id, p.client_id, p.wib_date, p.removed_at IS NULL AS active
                   FROM unnest($1::text[], $2::text[]) AS k(platform, post_id)
                   JOIN posts p ON p.platform = k.platform AND p.post_id = k.post_id""",
                [k[0] for k in keys], [k[1] for k in keys],
            ):
                group = (r["client_id"], r["wib_date"], r["platform"])
                dirty.mark_all(group, writes.post_events[(r["platform"], r["post_id"])])
                if r["active"] != ((r["platform"], r["post_id"]) in active_before):
                    dirty.retasked.add(group)

    async def _write_engagements(self, conn: asyncpg.Connection, writes: Writes, dirty: Dirty | None) -> None:
        if not writes.engagements:
            return
        keys: list[EngagementKey] = list(writes.engagements)
        insert = """INSERT INTO engagements (platform, post_id, kind, username, first_seen_at)
                    SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[])
                    ON CONFLICT DO NOTHING"""
        columns = ([k[0] for k in keys], [k[1] for k in keys], [k[2] for k in keys], [k[3] for k in keys],
                   [writes.engagements[k] for k in keys])
        if dirty is None:  # a rebuild's bulk phase: nobody to mark
            await conn.execute(insert, *columns)
            return
        new_rows = await conn.fetch(insert + " RETURNING platform, post_id, kind, username", *columns)
        counted = [r for r in new_rows if COUNTED_KIND[r["platform"]] == r["kind"]]
        if not counted:
            return
        # the people behind the new usernames, in the scope of each post's client and day
        for platform in ("instagram", "tiktok"):
            subset = [r for r in counted if r["platform"] == platform]
            if not subset:
                continue
            for r in await conn.fetch(
                f"""SELECT p.platform, p.post_id, p.client_id, p.wib_date, pe.user_id
                    FROM unnest($1::text[], $2::text[]) AS n(post_id, username)
                    JOIN posts p ON p.platform = $3 AND p.post_id = n.post_id
                    JOIN personnel pe ON pe.{platform} = n.username""",
                [r["post_id"] for r in subset], [r["username"] for r in subset], platform,
            ):
                dirty.mark((r["client_id"], r["wib_date"], platform), r["user_id"],
                           writes.engagement_events[(platform, r["post_id"])])


async def _upsert_directory(conn: asyncpg.Connection, table: str, key: str, fields: tuple[str, ...],
                            records: dict[str, DirectoryWrite]) -> None:
    """Snapshots replace the stored record; a bare deactivation flips ``active`` on a stored one."""
    snapshots = [w for w in records.values() if w.snapshot is not None]
    if snapshots:
        columns = (*fields, "updated_at")
        await conn.executemany(
            f"""INSERT INTO {table} ({', '.join(columns)})
                VALUES ({', '.join(f'${i + 1}' for i in range(len(columns)))})
                ON CONFLICT ({key}) DO UPDATE SET
                {', '.join(f'{c} = EXCLUDED.{c}' for c in columns if c != key)}""",
            [(*(w.snapshot[f] for f in fields), w.updated_at) for w in snapshots if w.snapshot is not None],
        )
    deactivations = [(k, w.updated_at) for k, w in records.items() if w.snapshot is None]
    if deactivations:
        await conn.executemany(f"UPDATE {table} SET active = false, updated_at = $2 WHERE {key} = $1",
                               deactivations)


async def _mark_people(conn: asyncpg.Connection, user_ids: list[str], causes: dict[str, int], dirty: Dirty) -> None:
    """Every group a changed person was in, and every group they belong to now."""
    rows = await conn.fetch(
        """WITH u AS (SELECT pe.* FROM personnel pe JOIN unnest($1::text[]) AS x(user_id) USING (user_id))
           SELECT a.scope_client_id AS scope, a.wib_date, a.platform, a.user_id
           FROM attendance a JOIN unnest($1::text[]) AS x(user_id) USING (user_id)
           UNION
           SELECT s.scope, p.wib_date, p.platform, s.user_id
           FROM (SELECT user_id, client_id AS scope FROM u WHERE active
                 UNION
                 SELECT u.user_id, c.client_id FROM u
                 JOIN clients c ON c.client_type = 'DIREKTORAT' AND lower(c.client_id) = ANY(u.roles)
                 WHERE u.active) AS s
           JOIN (SELECT DISTINCT client_id, wib_date, platform FROM posts WHERE removed_at IS NULL) AS p
             ON p.client_id = s.scope""",
        user_ids,
    )
    for r in rows:
        dirty.mark((r["scope"], r["wib_date"], r["platform"]), r["user_id"], causes[r["user_id"]])


async def publish_changes(conn: asyncpg.Connection, store: EventStore, changes: list[tuple[Change, int]],
                          entries: list[JournalEntry], metadata: list[Metadata]) -> None:
    """One AttendanceStatusChanged per changed row (status or progress), in one stream per scope and day,
    caused by the last event that touched the scope."""
    by_stream: dict[tuple[str, date], list[tuple[Change, int]]] = defaultdict(list)
    for change, cause in changes:
        by_stream[(change.key[0], change.key[1])].append((change, cause))
    appends = []
    for (scope, day), items in by_stream.items():
        cause = max(c for _, c in items)
        appends.append(StreamAppend(f"attendance:{scope}:{day.isoformat()}",
                                    [_event(change, entries[c].occurred_at) for change, c in items],
                                    metadata[cause], entries[cause].occurred_at))
    await store.append_streams(conn, appends)


def _event(change: Change, changed_at: datetime) -> AttendanceStatusChanged:
    scope, day, platform, user_id = change.key
    new = change.new
    return AttendanceStatusChanged(
        user_id=user_id, client_id=scope, platform=Platform(platform), wib_date=day,
        status=new.status if new else AttendanceStatus.COMPLETE,
        previous_status=change.old.status if change.old else None,
        done=new.done if new else 0, total=new.total if new else 0,
        pending_post_ids=list(change.pending_post_ids), changed_at=changed_at,
    )

