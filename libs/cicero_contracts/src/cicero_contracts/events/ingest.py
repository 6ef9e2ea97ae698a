"""Events produced by ingest: the life of each post and each client's fetch."""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar, Literal

from pydantic import Field

from cicero_contracts.base import Event, UtcDatetime, WireModel
from cicero_contracts.events.common import Platform, PostRef, TaskPost, WibDate
from cicero_contracts.events.scheduler import TickPhase


class SourceType(StrEnum):
    CRON_FETCH = "cron_fetch"
    MANUAL_INPUT = "manual_input"


class ClientFetchRequested(Event):
    """A job on ingest's work queue: fetch one client for one tick (competing workers take them)."""

    event_type: ClassVar[str] = "ClientFetchRequested"
    routing_key: ClassVar[str] = "ingest.job.ClientFetchRequested"

    client_id: str = Field(min_length=1)
    tick_id: str = Field(min_length=3)
    phase: TickPhase
    scheduled_for: UtcDatetime
    mandatory: bool = False


class PostFetched(Event):
    """A post of a client's official account was seen for the first time (or re-added)."""

    event_type: ClassVar[str] = "PostFetched"
    routing_key: ClassVar[str] = "ingest.PostFetched"

    platform: Platform
    post_id: str = Field(min_length=1)
    client_id: str = Field(min_length=1)
    account_username: str
    shortcode: str | None = None
    link: str
    caption: str = ""
    created_at: UtcDatetime
    """For ``cron_fetch`` the platform's publish time; for ``manual_input`` the time of input (DOMAIN §3).
    The post belongs to the WIB day of this instant."""
    source_type: SourceType = SourceType.CRON_FETCH
    original_created_at: UtcDatetime | None = None
    is_pinned: bool = False
    is_video: bool = False
    like_count: int = Field(ge=0)
    comment_count: int = Field(ge=0)
    tick_id: str | None = None


class PostRemoved(Event):
    """A fetched post vanished from the account's feed; it leaves today's tasks, its history stays."""

    event_type: ClassVar[str] = "PostRemoved"
    routing_key: ClassVar[str] = "ingest.PostRemoved"

    platform: Platform
    post_id: str = Field(min_length=1)
    client_id: str = Field(min_length=1)
    removed_at: UtcDatetime
    reason: str = "missing_from_feed"
    tick_id: str | None = None


class EngagementRefreshed(Event):
    """New likers or commenters of a post since the last refresh, with the platform's absolute counts."""

    event_type: ClassVar[str] = "EngagementRefreshed"
    routing_key: ClassVar[str] = "ingest.EngagementRefreshed"

    platform: Platform
    post_id: str = Field(min_length=1)
    client_id: str = Field(min_length=1)
    kind: Literal["likes", "comments"]
    added_usernames: list[str]
    engaged_total: int = Field(ge=0)
    like_count: int = Field(ge=0)
    comment_count: int = Field(ge=0)
    refreshed_at: UtcDatetime
    tick_id: str | None = None


class FetchChanges(WireModel):
    added: list[PostRef] = Field(default_factory=list)
    removed: list[PostRef] = Field(default_factory=list)


class FetchError(WireModel):
    platform: Platform
    post_id: str | None = None
    message: str


class ClientFetchCompleted(Event):
    """One client's fetch for one tick is done: today's posts and what changed since its last fetch."""

    event_type: ClassVar[str] = "ClientFetchCompleted"
    routing_key: ClassVar[str] = "ingest.ClientFetchCompleted"

    client_id: str = Field(min_length=1)
    tick_id: str = Field(min_length=3)
    phase: TickPhase
    mandatory: bool = False
    wib_date: WibDate
    fetched_at: UtcDatetime
    posts: list[TaskPost]
    changes: FetchChanges = Field(default_factory=FetchChanges)
    errors: list[FetchError] = Field(default_factory=list)


class FetchRunStarted(Event):
    """A fetch tick fanned out: the clients it will fetch, so the run's summary knows when it is complete."""

    event_type: ClassVar[str] = "FetchRunStarted"
    routing_key: ClassVar[str] = "ingest.FetchRunStarted"

    tick_id: str = Field(min_length=3)
    phase: TickPhase
    mandatory: bool = False
    scheduled_for: UtcDatetime
    client_ids: list[str]
