"""Who gets which personal reminder at a reminder tick (docs/domain.md §5 "Reminders"). Pure: no I/O, no clock.

Per person and WIB day the messages go ``initial`` → ``followup1`` → ``followup2``, or the one-time
``completed`` thank-you once every platform with task posts is done. The stage written for the day is the
last one the gateway *accepted*; a request the gateway has not reported on yet holds the next stage back
(otherwise a slow gateway would make the next tick send a second reminder before the first one).
A stage that was dead-lettered counts as used: its idempotency key is taken, so the next tick moves on.

People of one unit who share one WhatsApp number (a unit's office phone, a couple) get **one** message per
run at that number, naming each of them with their own reminder or thank-you (``shared_chats``). Stages stay
per person: each keeps their own key and ledger row, and advances only when the shared message is accepted.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from cicero_contracts.events.attendance import AttendanceStatus
from cicero_contracts.events.common import Platform
from cicero_runtime.identifiers import InvalidIdentifier, personal_chat_id


class Stage(StrEnum):
    INITIAL = "initial"
    FOLLOWUP1 = "followup1"
    FOLLOWUP2 = "followup2"
    COMPLETED = "completed"


REMINDER_STAGES = (Stage.INITIAL, Stage.FOLLOWUP1, Stage.FOLLOWUP2)
STAGE_RANK = {Stage.INITIAL: 1, Stage.FOLLOWUP1: 2, Stage.FOLLOWUP2: 3, Stage.COMPLETED: 4}
PLATFORMS = (Platform.INSTAGRAM, Platform.TIKTOK)


def purpose_of(stage: Stage) -> str:
    """The ledger purpose: reminders and the thank-you are told apart in the gateway's logs and dead letters."""
    return "reminder_thanks" if stage == Stage.COMPLETED else "reminder"


def idempotency_key(user_id: str, day: str, stage: Stage) -> str:
    """One message per person, day and stage, whatever ticks or redeliveries ask for it."""
    return f"reminder:{user_id}:{day}:{stage.value}"


# -- eligibility --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    """The directory fields reminders depend on, with the home client's switches."""

    user_id: str
    name: str
    title: str | None
    client_id: str
    whatsapp: str | None
    instagram: str | None
    tiktok: str | None
    active: bool
    exempt: bool
    opt_in: bool
    client_known: bool
    client_active: bool
    client_reminders_enabled: bool

    def handle(self, platform: Platform) -> str | None:
        return self.instagram if platform == Platform.INSTAGRAM else self.tiktok


Ineligible = Literal["inactive", "opted_out", "exempt", "no_whatsapp", "invalid_whatsapp", "client_unknown",
                     "client_inactive", "client_reminders_off"]


def ineligibility(person: Person) -> Ineligible | None:
    """Why a person gets no reminder at all today, or None when they are eligible."""
    if not person.active:
        return "inactive"
    if not person.opt_in:
        return "opted_out"
    if person.exempt:
        return "exempt"
    if not person.whatsapp:
        return "no_whatsapp"
    if chat_id_of(person) is None:
        return "invalid_whatsapp"
    if not person.client_known:
        return "client_unknown"
    if not person.client_active:
        return "client_inactive"
    if not person.client_reminders_enabled:
        return "client_reminders_off"
    return None


def chat_id_of(person: Person) -> str | None:
    """The person's personal chat (``628…@c.us``), or None when the stored number is not a usable one."""
    if not person.whatsapp:
        return None
    try:
        return personal_chat_id(person.whatsapp)
    except InvalidIdentifier:
        return None


# -- progress ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TaskPost:
    """A task post as a reminder cites it."""

    platform: Platform
    post_id: str
    link: str
    caption: str = ""


@dataclass(frozen=True)
class AttendanceRow:
    """The person's last reported attendance on one platform today, in their home client's scope."""

    status: AttendanceStatus
    done: int
    total: int
    pending_post_ids: tuple[str, ...]


ProgressState = Literal["complete", "pending", "no_username"]


@dataclass(frozen=True)
class PlatformProgress:
    platform: Platform
    state: ProgressState
    total: int
    pending: tuple[TaskPost, ...] = ()
    unlisted: int = 0
    """Pending posts attendance named that are not (yet) among the client's known task posts: counted, no link."""


def platform_progress(platform: Platform, posts: Sequence[TaskPost], row: AttendanceRow | None,
                      has_handle: bool) -> PlatformProgress:
    """Where the person stands on one platform that has task posts today.

    Without a row from attendance yet (the projection has not reached the person), a person with a handle
    has everything still to do and one without has no registered account.
    """
    total = len(posts)
    if row is None:
        if not has_handle:
            return PlatformProgress(platform, "no_username", total)
        return PlatformProgress(platform, "pending", total, tuple(posts))
    if row.status in (AttendanceStatus.COMPLETE, AttendanceStatus.EXEMPT):
        return PlatformProgress(platform, "complete", total)
    if row.status == AttendanceStatus.NO_USERNAME:
        return PlatformProgress(platform, "no_username", total)
    wanted = set(row.pending_post_ids)
    listed = tuple(p for p in posts if p.post_id in wanted)
    unlisted = len(wanted - {p.post_id for p in posts})
    if not listed and not unlisted:
        # every post attendance still counted has left today's tasks: nothing left to do
        return PlatformProgress(platform, "complete", total)
    return PlatformProgress(platform, "pending", total, listed, unlisted)


def person_progress(posts: Sequence[TaskPost], rows: Mapping[Platform, AttendanceRow],
                    person: Person) -> list[PlatformProgress]:
    """Progress on every platform that has task posts today, Instagram first; empty when there are none."""
    result = []
    for platform in PLATFORMS:
        platform_posts = [p for p in posts if p.platform == platform]
        if platform_posts:
            result.append(platform_progress(platform, platform_posts, rows.get(platform),
                                            person.handle(platform) is not None))
    return result


def is_complete(progress: Iterable[PlatformProgress]) -> bool:
    return all(p.state == "complete" for p in progress)


# -- stages ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class History:
    """What today's reminders of one person already came to."""

    accepted: Stage | None = None
    """The last stage the gateway accepted (the stage written for the day)."""
    in_flight: bool = False
    """A reminder or thank-you was requested and the gateway has not reported it sent or dead yet."""
    dead: frozenset[Stage] = frozenset()
    """Stages whose message went to the gateway's dead letters."""


def next_stage(progress: Sequence[PlatformProgress], history: History) -> Stage | None:
    """The message to request for this person now, or None.

    Nothing without task posts, nothing after the thank-you (sent or dead), nothing while a message is
    still on its way; a complete person gets the thank-you once, also after ``followup2`` (the cap of three
    limits the reminders, it must not hide that the person finished); a pending one gets the next reminder
    up to ``followup2`` (docs/domain.md §5).
    """
    if not progress:
        return None
    if history.accepted == Stage.COMPLETED or Stage.COMPLETED in history.dead:
        return None
    if history.in_flight:
        return None
    if is_complete(progress):
        return Stage.COMPLETED
    used = [s for s in (history.accepted, *history.dead) if s is not None]
    last = max(used, key=STAGE_RANK.__getitem__) if used else None
    if last == Stage.FOLLOWUP2:
        return None
    return REMINDER_STAGES[REMINDER_STAGES.index(last) + 1] if last is not None else Stage.INITIAL


# -- one message per number ------------------------------------------------------------------------


@dataclass(frozen=True)
class Due:
    """A person's message decided for this run: their stage and the progress it reports."""

    person: Person
    stage: Stage
    progress: tuple[PlatformProgress, ...]


@dataclass(frozen=True)
class ChatMessage:
    """What goes to one chat in one run: one person's message, or several people's sharing the number."""

    chat_id: str
    client_id: str
    dues: tuple[Due, ...]

    @property
    def purpose(self) -> str:
        """``reminder`` while anyone in it is reminded; ``reminder_thanks`` when it only thanks."""
        return purpose_of(Stage.COMPLETED) if all(d.stage == Stage.COMPLETED for d in self.dues) else "reminder"

    def key(self, day: str) -> str:
        """The gateway's key: the person's own key when alone; otherwise made of each person's part (user id
        and stage), so the same people at the same stages are the same message whatever decides it again."""
        if len(self.dues) == 1:
            return idempotency_key(self.dues[0].person.user_id, day, self.dues[0].stage)
        parts = sorted(f"{d.person.user_id}.{d.stage.value}" for d in self.dues)
        return f"reminder:{day}:{'+'.join(parts)}"


def shared_chats(dues: Iterable[Due]) -> list[ChatMessage]:
    """One message per unit and chat, people in the order given (the caller orders them by user id).

    Keyed by unit too: the message names the unit, and a person of another unit at the same number belongs to
    that unit's list and its switches.
    """
    groups: dict[tuple[str, str], list[Due]] = {}
    for due in dues:
        chat_id = chat_id_of(due.person)
        if chat_id is None:
            raise ValueError(f"person {due.person.user_id} has no usable WhatsApp number")
        groups.setdefault((due.person.client_id, chat_id), []).append(due)
    return [ChatMessage(chat_id, client_id, tuple(group)) for (client_id, chat_id), group in groups.items()]
