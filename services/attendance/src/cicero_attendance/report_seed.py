"""Seeded days for the report and API tests: a few clients, people, posts and engagements, projected.

``Seed.write`` turns the seed into the directory and ingest events production would see (``ClientRegistered``,
``PersonnelRegistered``, ``PostFetched``, ``PostRemoved``, ``EngagementRefreshed``) and applies them with the
real ``Projector``, so the tables the reports read, ``attendance`` included, are what the projection writes.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import cast
from uuid import uuid4

import asyncpg
from cicero_contracts import Event
from cicero_contracts.events.common import Platform
from cicero_contracts.events.directory import (
    ClientDeactivated,
    ClientRegistered,
    ClientType,
    PersonnelDeactivated,
    PersonnelRegistered,
)
from cicero_contracts.events.ingest import EngagementRefreshed, PostFetched, PostRemoved
from cicero_runtime.clock import WIB

from cicero_attendance.journal import JournalEntry
from cicero_attendance.projector import PROJECTION_TABLES, Projector
from cicero_attendance.rules import COUNTED_KIND, Activity

DAY = date(2026, 11, 22)
"""The seeded day: a Sunday (``Minggu, 22 November 2026``)."""
AT = datetime(2026, 11, 22, 14, 5, tzinfo=WIB)
"""When the seeded reports are made: 14:05 WIB."""
RECORDED_AT = datetime(2026, 11, 1, tzinfo=UTC)
"""When the seeded events were recorded (``occurred_at``, hence the directory's ``updated_at``)."""
CHUNK = 5_000
"""Entries per projection run when a seed is written in bulk (``Seed.write(bulk=True)``)."""


@dataclass(frozen=True)
class Client:
    client_id: str
    name: str
    client_type: str = "ORG"
    active: bool = True


@dataclass(frozen=True)
class Person:
    user_id: str
    name: str
    title: str | None
    divisi: str | None
    jabatan: str | None
    client_id: str
    roles: tuple[str, ...] = ()
    instagram: str | None = None
    tiktok: str | None = None
    active: bool = True
    exempt: bool = False

    def handle(self, platform: str) -> str | None:
        return self.instagram if platform == "instagram" else self.tiktok


@dataclass(frozen=True)
class Post:
    client_id: str
    platform: str
    post_id: str
    hour: int
    """Upload hour, WIB, on the seeded day."""
    caption: str = ""
    like_count: int = 0
    comment_count: int = 0
    removed: bool = False
    day: date = DAY

    @property
    def link(self) -> str:
        if self.platform == "instagram":
            return f"https://www.instagram.com/p/{self.post_id}/"
        return f"https://www.tiktok.com/@akun/video/{self.post_id}"

    @property
    def published_at(self) -> datetime:
        return datetime.combine(self.day, time(self.hour, 15), WIB).astimezone(UTC)


@dataclass
class Seed:
    clients: list[Client] = field(default_factory=list)
    people: list[Person] = field(default_factory=list)
    posts: list[Post] = field(default_factory=list)
    engagements: list[tuple[str, str, str, str]] = field(default_factory=list)
    """(platform, post_id, kind, username)."""

    def entries(self) -> list[JournalEntry]:
        """The events production would have recorded for this seed, in order: directory, posts, engagements.

        Engagements are refreshed an hour after their post's publication; a removed post vanishes after two.
        """
        events: list[Event] = []
        for c in self.clients:
            events.append(ClientRegistered(client_id=c.client_id, name=c.name, client_type=ClientType(c.client_type)))
            if not c.active:
                events.append(ClientDeactivated(client_id=c.client_id))
        for p in self.people:
            events.append(PersonnelRegistered(
                user_id=p.user_id, name=p.name, title=p.title, divisi=p.divisi, jabatan=p.jabatan,
                client_id=p.client_id, roles=list(p.roles), instagram=p.instagram, tiktok=p.tiktok, exempt=p.exempt))
            if not p.active:
                events.append(PersonnelDeactivated(user_id=p.user_id, client_id=p.client_id))
        posts = {(post.platform, post.post_id): post for post in self.posts}
        for post in self.posts:
            events.append(PostFetched(
                platform=Platform(post.platform), post_id=post.post_id, client_id=post.client_id,
                account_username=post.client_id.lower(), link=post.link, caption=post.caption,
                created_at=post.published_at, like_count=post.like_count, comment_count=post.comment_count))
        for post in self.posts:
            if post.removed:
                events.append(PostRemoved(platform=Platform(post.platform), post_id=post.post_id,
                                          client_id=post.client_id, removed_at=post.published_at + timedelta(hours=2)))
        groups: dict[tuple[str, str, str], list[str]] = {}
        for platform, post_id, kind, username in self.engagements:
            groups.setdefault((platform, post_id, kind), []).append(username)
        for (platform, post_id, kind), usernames in groups.items():
            post = posts[(platform, post_id)]
            events.append(EngagementRefreshed(
                platform=Platform(platform), post_id=post_id, client_id=post.client_id, kind=cast(Activity, kind),
                added_usernames=usernames, engaged_total=len(usernames), like_count=post.like_count,
                comment_count=post.comment_count, refreshed_at=post.published_at + timedelta(hours=1)))
        return [JournalEntry(event_id=uuid4(), occurred_at=RECORDED_AT, event=event) for event in events]

    async def write(self, conn: asyncpg.Connection, *, bulk: bool = False) -> None:
        """Project the seed's events into the tables on ``conn``'s search path.

        By default in one projection run, as the live consumer applies a batch. With ``bulk``, as a rebuild
        fills fresh tables: directory, posts and engagements in chunks of ``CHUNK`` entries, then (with
        planner statistics for the filled tables) the attendance rows of every scope at once.
        """
        entries = self.entries()
        projector = Projector()
        if not bulk:
            async with conn.transaction():
                await projector.project(conn, entries)
            return
        for start in range(0, len(entries), CHUNK):
            async with conn.transaction():
                await projector.project(conn, entries[start:start + CHUNK], attendance=False)
        await analyze(conn)
        await projector.recompute_all([conn])


async def analyze(conn: asyncpg.Connection) -> None:
    """Planner statistics for the projection's tables (only these: the database may hold many schemas)."""
    await conn.execute(f"ANALYZE {', '.join(PROJECTION_TABLES)}")


def demo_seed() -> Seed:
    """Two Polres, a directorate and a client without posts, on one Sunday (see the report tests)."""
    seed = Seed()
    seed.clients = [
        Client("POLRES_A", "Polres Alpha"), Client("POLRES_B", "Polres Bravo"),
        Client("POLRES_C", "Polres Charlie"), Client("DITBINMAS", "Direktorat Binmas", "DIREKTORAT"),
    ]
    seed.people = [
        Person("1001", "Budi Santoso", "AKP", "BAG OPS", "KABAG OPS", "POLRES_A", ("ditbinmas",), "budi", "budi.tt"),
        Person("1002", "Andi", "BRIPDA", "Bag  Ops", None, "POLRES_A", (), "andi", None),
        Person("1003", "Cici", "BRIPTU", "SAT BINMAS", None, "POLRES_A", ("ditbinmas", "operator"), "cici", "cici"),
        Person("1004", "Dedi", "IPDA", "SAT BINMAS", "KANIT BINMAS", "POLRES_A", (), "dedi", "dedi", exempt=True),
        Person("1005", "Eka", "BRIPKA", None, None, "POLRES_A", (), None, "eka"),
        Person("1006", "Fajar", "BRIPDA", "POLSEK KOTA", None, "POLRES_A", (), "fajar", "fajar"),
        Person("1007", "Gita", "BRIPDA", "BAG OPS", None, "POLRES_A", ("ditbinmas",), "gita", "gita", active=False),
        Person("2001", "Hadi", "AKBP", "SAT LANTAS", "KASAT LANTAS", "POLRES_B", ("ditbinmas",), "hadi", "hadi"),
        Person("2002", "Indra", "BRIPDA", "SAT LANTAS", None, "POLRES_B", (), "indra", "indra"),
        Person("3001", "Joko", "KBP", "SUBDIT BINPOLMAS", "DIR BINMAS", "DITBINMAS", (), "joko", "joko"),
    ]
    seed.posts = [
        Post("POLRES_A", "instagram", "IGA1", 8, "Giat patroli dialogis #polri", 1200, 4),
        Post("POLRES_A", "instagram", "IGA2", 10, "Sosialisasi tertib lalu lintas", 87, 2),
        Post("POLRES_A", "instagram", "IGA3", 11, "Salah unggah", 3, 0, removed=True),
        Post("POLRES_A", "tiktok", "TTA1", 9, "Patroli malam", 300, 1500),
        Post("POLRES_B", "instagram", "IGB1", 7, "Apel pagi", 40, 1),
        Post("DITBINMAS", "instagram", "IGD1", 9, "Binmas menyapa warga", 5000, 12),
        Post("DITBINMAS", "instagram", "IGD2", 13, "Sambang desa", 800, 3),
        Post("POLRES_A", "instagram", "IGA0", 20, "Kemarin", 10, 0, day=DAY - timedelta(days=1)),
    ]
    seed.engagements = [
        ("instagram", "IGA1", "likes", u) for u in ("budi", "cici", "orang.lain")
    ] + [
        ("instagram", "IGA2", "likes", u) for u in ("budi", "andi")
    ] + [
        ("instagram", "IGA2", "comments", "cici"),  # a comment is not a like
        ("instagram", "IGA3", "likes", "andi"),  # removed post: not a task
        ("tiktok", "TTA1", "comments", "budi.tt"), ("tiktok", "TTA1", "comments", "cici"),
        ("tiktok", "TTA1", "likes", "fajar"),  # a TikTok like is not a comment
        ("instagram", "IGB1", "likes", "indra"),
        ("instagram", "IGD1", "likes", "budi"), ("instagram", "IGD1", "likes", "hadi"),
        ("instagram", "IGD1", "likes", "joko"), ("instagram", "IGD1", "likes", "gita"),
        ("instagram", "IGD2", "likes", "hadi"),
        ("instagram", "IGA0", "likes", "fajar"),
    ]
    return seed


DIVISIONS = ("BAG OPS", "SAT BINMAS", "SAT LANTAS", "SAT RESKRIM", "SI HUMAS", "SPKT", "POLSEK KOTA", "POLSEK UTARA")
RANKS = ("AKP", "IPTU", "IPDA", "AIPTU", "BRIPKA", "BRIGADIR", "BRIPTU", "BRIPDA")


async def seed_directorate(
    conn: asyncpg.Connection, *, people: int = 30_000, clients: int = 40, posts: int = 20,
    platforms: Sequence[str] = ("instagram", "tiktok"), day: date = DAY, seed: int = 7,
) -> None:
    """A directorate (``DITBINMAS``) whose role ``people`` persons across ``clients`` Polres hold, with
    ``posts`` task posts per platform and random engagement (60% of the handles per post), projected in bulk
    (``Seed.write(bulk=True)``) and analyzed."""
    rng = random.Random(seed)
    data = Seed()
    data.clients = [Client("DITBINMAS", "Direktorat Binmas", "DIREKTORAT")] + [
        Client(f"POLRES_{n:03d}", f"Polres {n:03d}") for n in range(clients)]
    for n in range(people):
        data.people.append(Person(
            str(80_000_000 + n), f"Personel {n}", rng.choice(RANKS), rng.choice(DIVISIONS), None,
            f"POLRES_{n % clients:03d}", ("ditbinmas",), None if n % 50 == 0 else f"ig{n}",
            None if n % 40 == 0 else f"tt{n}", exempt=n % 97 == 0))
    for platform in platforms:
        for k in range(posts):
            data.posts.append(Post("DITBINMAS", platform, f"{platform[:2].upper()}D{k}", 6 + k % 12, f"Konten {k}",
                                   rng.randint(0, 5000), rng.randint(0, 500), day=day))
    for post in data.posts:
        kind = COUNTED_KIND[post.platform]
        for person in data.people:
            handle = person.handle(post.platform)
            if handle and rng.random() < 0.6:
                data.engagements.append((post.platform, post.post_id, kind, handle))
    await data.write(conn, bulk=True)
    await analyze(conn)
