"""Attendance reports (DOMAIN §4) built from rows: pure functions and the pydantic models they return.

``read_model`` loads the rows, this module shapes them, ``report_text`` writes the WhatsApp text and the
JSON is the models dumped. Statuses are read from the projected ``attendance`` table, never recomputed here,
so a report always agrees with the reminders the notifier sends from the same rows.

Kinds:

- ``client``: a client's own personnel (home client = the client) per division. For an ORG client that is its
  whole scope; for a DIREKTORAT it is the directorate's own staff, counted against the directorate's posts at
  the directorate ratio. (Its role holders in other clients are the subject of the ``directorate`` recap.)
- ``directorate``: a DIREKTORAT's scope counted per home client. Only counts: a directorate has tens of
  thousands of people, so the recap is aggregated in SQL; each person's row is in the ``client`` recap of
  their home client and in the read API's attendance listing.
- ``post``: per task post, who of the scope engaged and who did not.
- ``person``: one person's status in each of their scopes, with the links still to do.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Literal

from cicero_contracts.base import UtcDatetime
from cicero_contracts.events.attendance import AttendanceStatus
from cicero_contracts.events.common import Platform
from cicero_contracts.events.directory import ClientType
from pydantic import BaseModel, ConfigDict, Field, computed_field

from cicero_attendance.rules import (
    COUNTED_KIND,
    DIVISION_PREFIXES,
    Activity,
    PersonKey,
    counts_as_complete,
    division_sort_key,
    person_sort_key,
)

PLATFORMS = (Platform.INSTAGRAM, Platform.TIKTOK)


class ReportKind(StrEnum):
    CLIENT = "client"
    DIRECTORATE = "directorate"
    POST = "post"
    PERSON = "person"


# -- errors -----------------------------------------------------------------------------------------------


class ReportError(Exception):
    """A report cannot be made for what was asked; the message says what is wrong (shown to operators)."""


class UnknownClient(ReportError):
    def __init__(self, client_id: str) -> None:
        super().__init__(f"unknown client {client_id!r}")


class UnknownUser(ReportError):
    def __init__(self, user_id: str) -> None:
        super().__init__(f"unknown user {user_id!r}")


class WrongClientType(ReportError):
    def __init__(self, kind: ReportKind, client_id: str, client_type: ClientType) -> None:
        super().__init__(f"a {kind.value} report needs a DIREKTORAT client, "
                         f"but {client_id} is an {client_type.value} client")


class PersonNotInClient(ReportError):
    def __init__(self, user_id: str, client_id: str) -> None:
        super().__init__(f"user {user_id} is neither personnel of {client_id} "
                         f"nor holds its role {client_id.lower()!r}")


class UserRequired(ReportError):
    def __init__(self) -> None:
        super().__init__("a person report needs a user id (--user / user_id)")


# -- rows in (what read_model loads) ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ClientInfo:
    client_id: str
    name: str
    client_type: ClientType


@dataclass(frozen=True, slots=True)
class AttendanceRow:
    """One ``attendance`` row joined with the person's directory fields."""

    platform: str
    user_id: str
    status: str
    done: int
    total: int
    name: str
    title: str | None
    divisi: str | None
    jabatan: str | None
    client_id: str
    """The person's home client (the scope is the report's client)."""


@dataclass(frozen=True, slots=True)
class CountRow:
    """People of one home client with one status in a directorate's scope (aggregated in SQL)."""

    platform: str
    client_id: str
    client_name: str | None
    status: str
    people: int


@dataclass(frozen=True, slots=True)
class TaskPostRow:
    client_id: str
    platform: str
    post_id: str
    link: str
    caption: str
    published_at: datetime
    like_count: int
    comment_count: int


@dataclass(frozen=True, slots=True)
class PersonInfo:
    user_id: str
    name: str
    title: str | None
    divisi: str | None
    jabatan: str | None
    client_id: str
    roles: tuple[str, ...]
    active: bool
    exempt: bool
    instagram: str | None
    tiktok: str | None

    def handle(self, platform: Platform) -> str | None:
        return self.instagram if platform == Platform.INSTAGRAM else self.tiktok


@dataclass(frozen=True, slots=True)
class PersonScopeRow:
    """The person's own ``attendance`` row in one scope (no join: the person is known)."""

    scope_client_id: str
    platform: str
    status: str
    done: int
    total: int


# -- models out -------------------------------------------------------------------------------------------


class ReportModel(BaseModel):
    model_config = ConfigDict(frozen=True)


class ClientRef(ReportModel):
    client_id: str
    name: str
    client_type: ClientType

    @classmethod
    def of(cls, info: ClientInfo) -> ClientRef:
        return cls(client_id=info.client_id, name=info.name, client_type=info.client_type)


class StatusCounts(ReportModel):
    complete: int = 0
    partial: int = 0
    none: int = 0
    no_username: int = 0
    exempt: int = 0

    @computed_field  # type: ignore[prop-decorator]
    @property
    def people(self) -> int:
        return self.complete + self.partial + self.none + self.no_username + self.exempt

    @computed_field  # type: ignore[prop-decorator]
    @property
    def completed(self) -> int:
        """Complete plus exempt: exempt people count as complete (DOMAIN §4)."""
        return sum(getattr(self, s.value) for s in AttendanceStatus if counts_as_complete(s))

    @computed_field  # type: ignore[prop-decorator]
    @property
    def completion_percent(self) -> float:
        return round(100.0 * self.completed / self.people, 1) if self.people else 0.0

    @classmethod
    def of(cls, statuses: Mapping[AttendanceStatus, int]) -> StatusCounts:
        return cls(**{s.value: n for s, n in statuses.items()})


class PersonStatus(ReportModel):
    user_id: str
    name: str
    title: str | None
    divisi: str | None
    jabatan: str | None
    client_id: str
    """Home client."""
    status: AttendanceStatus
    done: int
    total: int


class DivisionRecap(ReportModel):
    division: str | None
    """Upper-case, single-spaced; None for people without a division."""
    counts: StatusCounts
    """Everyone of the division, including the no-username and exempt people listed separately."""
    people: list[PersonStatus]
    """Complete, partial and none, by position, rank and name."""


class ClientPlatformRecap(ReportModel):
    platform: Platform
    activity: Activity
    post_count: int
    counts: StatusCounts
    divisions: list[DivisionRecap]
    no_username: list[PersonStatus]
    exempt: list[PersonStatus]


class ReportHeader(ReportModel):
    client: ClientRef
    wib_date: date
    generated_at: UtcDatetime


class ClientReport(ReportHeader):
    kind: Literal[ReportKind.CLIENT] = ReportKind.CLIENT
    platforms: list[ClientPlatformRecap]


class ClientSummary(ReportModel):
    client_id: str
    name: str
    counts: StatusCounts


class DirectoratePlatformRecap(ReportModel):
    platform: Platform
    activity: Activity
    post_count: int
    counts: StatusCounts
    clients: list[ClientSummary]
    """By completion, best first, then by name."""


class DirectorateReport(ReportHeader):
    kind: Literal[ReportKind.DIRECTORATE] = ReportKind.DIRECTORATE
    platforms: list[DirectoratePlatformRecap]


class DivisionPeople(ReportModel):
    division: str | None
    people: list[PersonStatus]


class PostRecap(ReportModel):
    platform: Platform
    post_id: str
    link: str
    caption: str
    published_at: UtcDatetime
    like_count: int
    comment_count: int
    expected: int
    """People of the scope who should engage (exempt people are not expected)."""
    engaged: int
    not_engaged: list[DivisionPeople]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def platform_count(self) -> int:
        """The count the platform shows for what attendance counts (likes on Instagram, comments on TikTok)."""
        return self.like_count if self.platform == Platform.INSTAGRAM else self.comment_count


class PostPlatformRecap(ReportModel):
    platform: Platform
    activity: Activity
    people: int
    exempt: int
    posts: list[PostRecap]


class PostReport(ReportHeader):
    kind: Literal[ReportKind.POST] = ReportKind.POST
    platforms: list[PostPlatformRecap]


class PendingPost(ReportModel):
    post_id: str
    link: str
    caption: str


class PersonScopeStatus(ReportModel):
    scope: ClientRef
    platform: Platform
    activity: Activity
    post_count: int
    status: AttendanceStatus | None
    """None when the scope has no task post that day, or its row is not projected yet."""
    done: int
    total: int
    pending: list[PendingPost]


class PersonDetails(ReportModel):
    user_id: str
    name: str
    title: str | None
    divisi: str | None
    jabatan: str | None
    client_id: str
    active: bool
    exempt: bool
    instagram: str | None
    tiktok: str | None


class PersonReport(ReportHeader):
    kind: Literal[ReportKind.PERSON] = ReportKind.PERSON
    person: PersonDetails
    scopes: list[PersonScopeStatus]


Report = Annotated[ClientReport | DirectorateReport | PostReport | PersonReport, Field(discriminator="kind")]


# -- building ---------------------------------------------------------------------------------------------


def division_name(divisi: str | None) -> str | None:
    """Divisions typed as ``Sat  Reskrim`` and ``SAT RESKRIM`` are one division."""
    name = " ".join((divisi or "").upper().split())
    return name or None


def division_order(division: str | None) -> tuple[int, str]:
    """``rules.division_sort_key``, with people without a division last rather than among the others."""
    return division_sort_key(division) if division else (len(DIVISION_PREFIXES) + 1, "")


def _person(row: AttendanceRow) -> PersonStatus:
    return PersonStatus(user_id=row.user_id, name=row.name, title=row.title, divisi=row.divisi,
                        jabatan=row.jabatan, client_id=row.client_id, status=AttendanceStatus(row.status),
                        done=row.done, total=row.total)


def _person_order(person: PersonStatus) -> tuple[tuple[int, str], PersonKey]:
    return division_order(division_name(person.divisi)), person_sort_key(person.jabatan, person.title,
                                                                          person.name, person.user_id)


def _count(people: Iterable[PersonStatus]) -> StatusCounts:
    statuses: dict[AttendanceStatus, int] = defaultdict(int)
    for person in people:
        statuses[person.status] += 1
    return StatusCounts.of(statuses)


def _by_platform(rows: Iterable[AttendanceRow]) -> dict[Platform, list[PersonStatus]]:
    grouped: dict[Platform, list[PersonStatus]] = {p: [] for p in PLATFORMS}
    for row in rows:
        grouped[Platform(row.platform)].append(_person(row))
    return grouped


def _by_division(people: Iterable[PersonStatus]) -> list[tuple[str | None, list[PersonStatus]]]:
    divisions: dict[str | None, list[PersonStatus]] = defaultdict(list)
    for person in people:
        divisions[division_name(person.divisi)].append(person)
    return [(name, sorted(divisions[name], key=lambda p: person_sort_key(p.jabatan, p.title, p.name, p.user_id)))
            for name in sorted(divisions, key=division_order)]


SEPARATE = (AttendanceStatus.NO_USERNAME, AttendanceStatus.EXEMPT)
"""Statuses listed apart from the division lists (DOMAIN §4: exempt people are listed separately)."""


def build_client_report(
    client: ClientInfo, day: date, generated_at: datetime, post_counts: Mapping[str, int],
    rows: Iterable[AttendanceRow],
) -> ClientReport:
    """A client's recap per division; ``rows`` are the scope's rows of people whose home is the client."""
    platforms = []
    for platform, people in _by_platform(rows).items():
        post_count = post_counts.get(platform.value, 0)
        if not post_count:
            people = []  # rows left over from removed posts are not a day's tasks
        divisions = [
            DivisionRecap(division=name, counts=_count(members),
                          people=[p for p in members if p.status not in SEPARATE])
            for name, members in _by_division(people)
        ]
        platforms.append(ClientPlatformRecap(
            platform=platform, activity=COUNTED_KIND[platform], post_count=post_count, counts=_count(people),
            divisions=divisions,
            no_username=sorted((p for p in people if p.status == AttendanceStatus.NO_USERNAME), key=_person_order),
            exempt=sorted((p for p in people if p.status == AttendanceStatus.EXEMPT), key=_person_order),
        ))
    return ClientReport(client=ClientRef.of(client), wib_date=day, generated_at=generated_at, platforms=platforms)


def build_directorate_report(
    client: ClientInfo, day: date, generated_at: datetime, post_counts: Mapping[str, int],
    counts: Iterable[CountRow],
) -> DirectorateReport:
    """The directorate's scope per home client, best completion first, then by name."""
    per_client: dict[Platform, dict[str, dict[AttendanceStatus, int]]] = {p: {} for p in PLATFORMS}
    names: dict[str, str] = {}
    for row in counts:
        statuses = per_client[Platform(row.platform)].setdefault(row.client_id, defaultdict(int))
        statuses[AttendanceStatus(row.status)] += row.people
        names[row.client_id] = row.client_name or row.client_id
    platforms = []
    for platform, clients in per_client.items():
        post_count = post_counts.get(platform.value, 0)
        summaries = [ClientSummary(client_id=cid, name=names[cid], counts=StatusCounts.of(statuses))
                     for cid, statuses in clients.items()] if post_count else []
        summaries.sort(key=lambda s: (-s.counts.completion_percent, s.name.upper(), s.client_id))
        total: dict[AttendanceStatus, int] = defaultdict(int)
        for summary in summaries:
            for status in AttendanceStatus:
                total[status] += getattr(summary.counts, status.value)
        platforms.append(DirectoratePlatformRecap(
            platform=platform, activity=COUNTED_KIND[platform], post_count=post_count, counts=StatusCounts.of(total),
            clients=summaries,
        ))
    return DirectorateReport(client=ClientRef.of(client), wib_date=day, generated_at=generated_at,
                             platforms=platforms)


def build_post_report(
    client: ClientInfo, day: date, generated_at: datetime, posts: Sequence[TaskPostRow],
    rows: Iterable[AttendanceRow], engaged: Iterable[tuple[str, str, str]],
) -> PostReport:
    """Per task post: how many of the scope engaged, and who did not, per division.

    ``engaged`` holds (platform, post_id, user_id) of the scope's people seen on each post. Exempt people are
    neither expected nor listed; people without a handle are listed among those who did not engage.
    """
    seen: dict[tuple[str, str], set[str]] = defaultdict(set)
    for platform_name, post_id, user_id in engaged:
        seen[(platform_name, post_id)].add(user_id)
    platforms = []
    for platform, people in _by_platform(rows).items():
        platform_posts = [p for p in posts if p.platform == platform.value]
        if not platform_posts:
            people = []
        expected = [p for p in people if p.status != AttendanceStatus.EXEMPT]
        recaps = []
        for post in platform_posts:
            users = seen[(platform.value, post.post_id)]
            missing = [p for p in expected if p.user_id not in users]
            recaps.append(PostRecap(
                platform=platform, post_id=post.post_id, link=post.link, caption=post.caption,
                published_at=post.published_at, like_count=post.like_count, comment_count=post.comment_count,
                expected=len(expected), engaged=len(expected) - len(missing),
                not_engaged=[DivisionPeople(division=name, people=members)
                             for name, members in _by_division(missing)],
            ))
        platforms.append(PostPlatformRecap(platform=platform, activity=COUNTED_KIND[platform], people=len(people),
                                           exempt=len(people) - len(expected), posts=recaps))
    return PostReport(client=ClientRef.of(client), wib_date=day, generated_at=generated_at, platforms=platforms)


def build_person_report(
    client: ClientInfo, day: date, generated_at: datetime, person: PersonInfo, scopes: Sequence[ClientInfo],
    posts: Sequence[TaskPostRow], rows: Iterable[PersonScopeRow], engaged: Iterable[tuple[str, str]],
) -> PersonReport:
    """The person's status in each scope (home client first, then directorates by id) with pending links.

    ``posts`` are the task posts of every scope, ``engaged`` the (platform, post_id) the person's handles were
    seen on. Pending links come from posts minus engagements, so they are current even when the status row
    is a moment behind.
    """
    if client.client_id not in {s.client_id for s in scopes}:
        raise PersonNotInClient(person.user_id, client.client_id)
    done_posts = set(engaged)
    expected = person.active and not person.exempt  # inactive people are out of scope, exempt ones owe nothing
    by_scope = {(r.scope_client_id, r.platform): r for r in rows}
    ordered = sorted(scopes, key=lambda s: (s.client_id != person.client_id, s.client_id))
    statuses = []
    for scope in ordered:
        for platform in PLATFORMS:
            tasks = [p for p in posts if p.platform == platform.value and p.client_id == scope.client_id]
            row = by_scope.get((scope.client_id, platform.value)) if tasks else None
            pending = [PendingPost(post_id=p.post_id, link=p.link, caption=p.caption) for p in tasks
                       if (platform.value, p.post_id) not in done_posts] if expected else []
            statuses.append(PersonScopeStatus(
                scope=ClientRef.of(scope), platform=platform, activity=COUNTED_KIND[platform], post_count=len(tasks),
                status=AttendanceStatus(row.status) if row else None, done=row.done if row else 0,
                total=row.total if row else len(tasks), pending=pending,
            ))
    details = PersonDetails(user_id=person.user_id, name=person.name, title=person.title, divisi=person.divisi,
                            jabatan=person.jabatan, client_id=person.client_id, active=person.active,
                            exempt=person.exempt, instagram=person.instagram, tiktok=person.tiktok)
    return PersonReport(client=ClientRef.of(client), wib_date=day, generated_at=generated_at, person=details,
                        scopes=statuses)
