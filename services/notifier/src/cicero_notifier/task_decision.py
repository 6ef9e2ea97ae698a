"""What a client's groups are told after one fetch (DOMAIN §5 "Task notifications"), as one pure function.

Inputs are facts only: the fetch (its event time, mandatory flag, today's posts and its own changes), the
client as the notifier's directory copy has it, and the client's state as read — or the marker that it
could not be read. The output is the messages to request and the state to write. Keeping every rule here,
away from the database and the bus, lets replays decide exactly the same and lets tests cover each rule.

Rules, in the issue's words:

* slot key ``YYYY-MM-DD-HH@05`` in WIB, window 06:00–17:59; a due slot sends the scheduled list (with the
  changes found in it) even without changes, otherwise one message per kind of change;
* the mandatory 17:05 run is due for every active client, also outside the window;
* a slot counts as notified once the gateway accepted one of its lists (``last_notified_slot``) or while one
  is requested and not dead-lettered: the same key would be dropped, so the changes go out on their own;
  a dead-lettered list leaves the slot open and the next list for that group gets a fresh key;
* notable changes are posts added or removed per platform against the day's post set kept in the state,
  which resets each WIB day; without a baseline for today the fetch's own changes are used;
* the counts and the baseline are written on every decision whose state was readable; when the state
  could not be read only change messages go out and nothing is written;
* a fetch older than the last one decided is stale: the newer baseline already covers it, so it sends and
  writes nothing (a retried or redelivered event never rolls the state back).
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

from cicero_contracts.events.common import Platform, PostRef, TaskPost
from cicero_contracts.events.ingest import ClientFetchCompleted

from cicero_notifier.recipients import group_chats
from cicero_notifier.slots import is_list_due, slot_key
from cicero_notifier.task_list import ChangeKind, render_change, render_task_list

Purpose = Literal["task_list", "task_added", "task_removed"]
PostKey = tuple[Platform, str]


# -- inputs ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Fetch:
    """One ``ClientFetchCompleted`` as the decision sees it."""

    at: datetime
    """Event time (``fetched_at``, the tick's ``scheduled_for``): the slot and every clock time come from it."""
    day: date
    """The WIB day the posts belong to (the event's ``wib_date``): the baseline's day."""
    mandatory: bool
    posts: tuple[TaskPost, ...]
    added: tuple[PostRef, ...] = ()
    removed: tuple[PostRef, ...] = ()

    @classmethod
    def of(cls, event: ClientFetchCompleted) -> Fetch:
        return cls(at=event.fetched_at, day=event.wib_date, mandatory=event.mandatory, posts=tuple(event.posts),
                   added=tuple(event.changes.added), removed=tuple(event.changes.removed))


@dataclass(frozen=True)
class Client:
    client_id: str
    name: str
    groups: tuple[str, ...]
    active: bool = True


@dataclass(frozen=True)
class ListRequest:
    """A scheduled list the ledger holds for this client: its slot, group, and whether it was dead-lettered."""

    slot: str
    group: str
    dead: bool = False


@dataclass(frozen=True)
class TaskState:
    """The client's state as read (an empty one for a client never decided before)."""

    last_notified_slot: str | None = None
    baseline_day: date | None = None
    baseline: tuple[PostRef, ...] = ()
    last_fetched_at: datetime | None = None
    list_requests: tuple[ListRequest, ...] = ()
    """Lists requested for (at least) the current slot; other slots are ignored."""


class Unreadable(enum.Enum):
    STATE_UNREADABLE = "state_unreadable"


STATE_UNREADABLE = Unreadable.STATE_UNREADABLE
"""The state reader failed: send on changes only and write nothing (DOMAIN §5)."""

StateAsRead = TaskState | Literal[Unreadable.STATE_UNREADABLE]


# -- outputs --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Message:
    purpose: Purpose
    group: str
    text: str
    idempotency_key: str
    slot: str | None = None
    """Set on scheduled lists: the acceptance of one marks this slot notified."""


@dataclass(frozen=True)
class StateWrite:
    """Counts and baseline to keep; ``last_notified_*`` are never here (written on acceptance only)."""

    counts: Mapping[str, int]
    baseline_day: date
    baseline: tuple[PostRef, ...]
    fetched_at: datetime


class Outcome(enum.StrEnum):
    INACTIVE = "inactive"
    STALE = "stale"
    LIST = "list"
    CHANGES = "changes"
    NOTHING = "nothing"


@dataclass(frozen=True)
class Decision:
    slot: str
    outcome: Outcome
    messages: tuple[Message, ...] = ()
    state: StateWrite | None = None
    added: tuple[PostRef, ...] = ()
    removed: tuple[PostRef, ...] = ()
    skipped_groups: tuple[str, ...] = field(default=())
    """Group ids that are not valid WhatsApp groups; the adapter warns about them."""


# -- keys -----------------------------------------------------------------------------------------------
def list_key(client_id: str, group: str, slot: str, retry: int = 0) -> str:
    """One scheduled list per client, group and slot; ``retry`` counts the lists of that slot that died."""
    base = f"task:{client_id}:{group}:{slot}"
    return base if retry == 0 else f"{base}:r{retry}"


def change_key(client_id: str, group: str, text: str) -> str:
    """One change message per content: the same text to the same group never goes out twice."""
    return f"change:{client_id}:{group}:{hashlib.sha256(text.encode()).hexdigest()[:24]}"


# -- the rules ------------------------------------------------------------------------------------------
def _key(ref: PostRef) -> PostKey:
    return (ref.platform, ref.post_id)


def as_ref(post: PostRef) -> PostRef:
    return post if type(post) is PostRef else PostRef(platform=post.platform, post_id=post.post_id, link=post.link)


def notable_changes(fetch: Fetch, state: TaskState | None) -> tuple[tuple[PostRef, ...], tuple[PostRef, ...]]:
    """Posts added and removed since the day's baseline; the fetch's own changes when there is none for today.

    A baseline of another day is no baseline: yesterday's posts are never "removed" today.
    """
    if state is None or state.baseline_day != fetch.day:
        return tuple(as_ref(r) for r in fetch.added), tuple(as_ref(r) for r in fetch.removed)
    before = {_key(r) for r in state.baseline}
    now = {_key(p) for p in fetch.posts}
    added = tuple(as_ref(p) for p in fetch.posts if _key(p) not in before)
    removed = tuple(r for r in state.baseline if _key(r) not in now)
    return added, removed


def counts(posts: Sequence[TaskPost]) -> dict[str, int]:
    by = {platform.value: sum(1 for p in posts if p.platform == platform) for platform in Platform}
    return {"posts": len(posts), **by}


def slot_taken(state: TaskState, slot: str) -> bool:
    """Notified (a list of the slot was accepted) or a list of it is requested and still alive."""
    return state.last_notified_slot == slot or any(r.slot == slot and not r.dead for r in state.list_requests)


def dead_lists(state: TaskState, slot: str) -> dict[str, int]:
    """Per group, how many lists of this slot were dead-lettered (the next one needs a fresh key)."""
    dead: dict[str, int] = {}
    for request in state.list_requests:
        if request.slot == slot and request.dead:
            dead[request.group] = dead.get(request.group, 0) + 1
    return dead


def decide(fetch: Fetch, client: Client, state: StateAsRead) -> Decision:
    slot = slot_key(fetch.at)
    if not client.active:
        return Decision(slot, Outcome.INACTIVE)
    readable = state if isinstance(state, TaskState) else None
    if readable is not None and readable.last_fetched_at is not None and fetch.at < readable.last_fetched_at:
        return Decision(slot, Outcome.STALE)
    groups = group_chats(client.groups)
    added, removed = notable_changes(fetch, readable)
    write = None if readable is None else StateWrite(
        counts=counts(fetch.posts), baseline_day=fetch.day, baseline=tuple(as_ref(p) for p in fetch.posts),
        fetched_at=fetch.at)
    messages: list[Message] = []
    if readable is not None and is_list_due(fetch.at, mandatory=fetch.mandatory,
                                            slot_taken=slot_taken(readable, slot)):
        outcome = Outcome.LIST
        text = render_task_list(client.name, fetch.at, fetch.posts, added, removed)
        retries = dead_lists(readable, slot)
        messages = [Message("task_list", group, text, list_key(client.client_id, group, slot, retries.get(group, 0)),
                            slot) for group in groups.chat_ids]
    else:
        outcome = Outcome.CHANGES if added or removed else Outcome.NOTHING
        change: tuple[tuple[ChangeKind, Purpose, tuple[PostRef, ...]], ...] = (
            ("added", "task_added", added), ("removed", "task_removed", removed))
        for kind, purpose, refs in change:
            if refs:
                text = render_change(client.name, fetch.at, kind, refs, fetch.posts)
                messages += [Message(purpose, group, text, change_key(client.client_id, group, text))
                             for group in groups.chat_ids]
    return Decision(slot, outcome, tuple(messages), write, added, removed, groups.invalid)
