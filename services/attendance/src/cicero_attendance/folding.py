"""Fold a run of events into the writes they add up to. Pure: no I/O.

Applying the folded writes once gives the same tables as applying the events one by one, in order:
that is what lets the live consumer (micro-batches) and the rebuild (large chunks) share one projection
and still produce identical tables. Where an event's effect depends on what is already stored (a post
fetched again keeps its first publish time), the SQL of the writes keeps the stored value the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from cicero_contracts.events.directory import (
    ClientDeactivated,
    ClientRegistered,
    ClientSnapshot,
    ClientUpdated,
    PersonnelDeactivated,
    PersonnelRegistered,
    PersonnelSnapshot,
    PersonnelUpdated,
)
from cicero_contracts.events.ingest import EngagementRefreshed, PostFetched, PostRemoved
from cicero_runtime.clock import wib_date
from cicero_runtime.identifiers import normalize_username

from cicero_attendance.journal import JournalEntry
from cicero_attendance.rules import COUNTED_KIND

CLIENT_FIELDS = tuple(ClientSnapshot.model_fields)
PERSONNEL_FIELDS = tuple(PersonnelSnapshot.model_fields)

PostKey = tuple[str, str]
"""(platform, post_id)"""
EngagementKey = tuple[str, str, str, str]
"""(platform, post_id, kind, username)"""


@dataclass
class PostRow:
    """A post as first stored; on a stored post only caption, counts and removal change."""

    platform: str
    post_id: str
    client_id: str
    wib_date: date
    link: str
    caption: str
    published_at: datetime
    source_type: str
    like_count: int
    comment_count: int
    removed_at: datetime | None = None


@dataclass
class PostPatch:
    """Changes to a post fetched before this run: its counts and/or its removal."""

    counts: tuple[int, int] | None = None
    removed_at: datetime | None = None


@dataclass
class DirectoryWrite:
    """A full snapshot to upsert (Registered/Updated), or only a deactivation of a stored record."""

    snapshot: dict[str, Any] | None
    updated_at: datetime
    deactivate: bool = False


@dataclass
class Writes:
    posts: dict[PostKey, PostRow] = field(default_factory=dict)
    post_patches: dict[PostKey, PostPatch] = field(default_factory=dict)
    post_events: dict[PostKey, int] = field(default_factory=dict)
    """Posts whose presence among the task posts may have changed → index of the last event about them."""
    engagements: dict[EngagementKey, datetime] = field(default_factory=dict)
    engagement_events: dict[PostKey, int] = field(default_factory=dict)
    clients: dict[str, DirectoryWrite] = field(default_factory=dict)
    client_events: dict[str, int] = field(default_factory=dict)
    personnel: dict[str, DirectoryWrite] = field(default_factory=dict)
    personnel_events: dict[str, int] = field(default_factory=dict)


def _post_row(event: PostFetched) -> PostRow:
    return PostRow(
        platform=event.platform.value, post_id=event.post_id, client_id=event.client_id,
        wib_date=wib_date(event.created_at), link=event.link, caption=event.caption,
        published_at=event.created_at, source_type=event.source_type.value, like_count=event.like_count,
        comment_count=event.comment_count,
    )


def _fold_post(writes: Writes, index: int, event: PostFetched | PostRemoved | EngagementRefreshed) -> None:
    key = (event.platform.value, event.post_id)
    row = writes.posts.get(key)
    if isinstance(event, PostFetched):
        writes.post_events[key] = index
        if row is None:
            writes.posts[key] = _post_row(event)
            writes.post_patches.pop(key, None)
        else:  # fetched again in this run: the stored fields stay, the rest follows the event
            row.caption, row.like_count, row.comment_count = event.caption, event.like_count, event.comment_count
            row.removed_at = None
        return
    if isinstance(event, PostRemoved):
        writes.post_events[key] = index
        if row is not None:
            row.removed_at = event.removed_at
        else:
            writes.post_patches.setdefault(key, PostPatch()).removed_at = event.removed_at
        return
    if row is not None:
        row.like_count, row.comment_count = event.like_count, event.comment_count
    else:
        writes.post_patches.setdefault(key, PostPatch()).counts = (event.like_count, event.comment_count)
    kind = event.kind
    for raw in event.added_usernames:
        username = normalize_username(raw)
        if username:
            writes.engagements.setdefault((key[0], key[1], kind, username), event.refreshed_at)
    if COUNTED_KIND[key[0]] == kind and event.added_usernames:
        writes.engagement_events[key] = index


def _fold_directory(
    records: dict[str, DirectoryWrite], causes: dict[str, int], key: str, index: int,
    snapshot: dict[str, Any] | None, at: datetime,
) -> None:
    causes[key] = index
    if snapshot is not None:
        records[key] = DirectoryWrite(snapshot, at)
        return
    current = records.get(key)
    if current is not None and current.snapshot is not None:
        current.snapshot["active"] = False
        current.updated_at = at
    else:
        records[key] = DirectoryWrite(None, at, deactivate=True)


def fold(entries: list[JournalEntry]) -> Writes:
    """The writes ``entries`` add up to, with the index of the event behind each change."""
    writes = Writes()
    for index, entry in enumerate(entries):
        event = entry.event
        if isinstance(event, PostFetched | PostRemoved | EngagementRefreshed):
            _fold_post(writes, index, event)
        elif isinstance(event, ClientRegistered | ClientUpdated):
            snapshot = {name: getattr(event, name) for name in CLIENT_FIELDS}
            snapshot["client_type"] = event.client_type.value
            _fold_directory(writes.clients, writes.client_events, event.client_id, index, snapshot,
                            entry.occurred_at)
        elif isinstance(event, ClientDeactivated):
            _fold_directory(writes.clients, writes.client_events, event.client_id, index, None, entry.occurred_at)
        elif isinstance(event, PersonnelRegistered | PersonnelUpdated):
            snapshot = {name: getattr(event, name) for name in PERSONNEL_FIELDS}
            _fold_directory(writes.personnel, writes.personnel_events, event.user_id, index, snapshot,
                            entry.occurred_at)
        elif isinstance(event, PersonnelDeactivated):
            _fold_directory(writes.personnel, writes.personnel_events, event.user_id, index, None,
                            entry.occurred_at)
    return writes
