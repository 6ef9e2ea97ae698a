"""A deterministic synthetic event stream for the rebuild tests and the benchmarks.

It looks like real days of a region: clients and a directorate registered, personnel (some exempt, some
without handles, some holding the directorate's role), posts fetched in the morning, likes and comments
arriving in rounds, a post taken down, people changing handles or leaving mid-stream.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from cicero_contracts import Event
from cicero_contracts.events.common import Platform
from cicero_contracts.events.directory import (
    ClientRegistered,
    ClientType,
    PersonnelDeactivated,
    PersonnelRegistered,
    PersonnelUpdated,
)
from cicero_contracts.events.ingest import EngagementRefreshed, PostFetched, PostRemoved

from cicero_attendance.journal import JournalEntry
from cicero_attendance.rules import COUNTED_KIND

DIRECTORATE = "DITBINMAS"
DIVISIONS = ("BAG OPS", "SAT LANTAS", "SAT RESKRIM", "SI HUMAS", "SPKT", "POLSEK KOTA", "POLSEK UTARA")
RANKS = ("AKP", "IPTU", "IPDA", "AIPTU", "BRIPKA", "BRIGADIR", "BRIPTU", "BRIPDA")


@dataclass(frozen=True)
class Shape:
    clients: int = 5
    personnel_per_client: int = 40
    days: int = 3
    posts_per_day: int = 3
    """Per client, platform and day (the directorate posts as many)."""
    refreshes_per_post: int = 6
    usernames_per_refresh: int = 8
    start: date = date(2026, 3, 2)
    seed: int = 7


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def synthetic_stream(shape: Shape) -> Iterator[JournalEntry]:
    """Entries in event-time order; the same shape always gives the same stream."""
    rng = random.Random(shape.seed)
    clock = datetime.combine(shape.start, datetime.min.time(), UTC) - timedelta(days=1)

    def entry(event: Event, at: datetime) -> JournalEntry:
        return JournalEntry(_uuid(rng), at, event)

    client_ids = [f"POLRES_{n:03d}" for n in range(shape.clients)]
    yield entry(ClientRegistered(client_id=DIRECTORATE, name="Direktorat Binmas", client_type=ClientType.DIREKTORAT,
                                 instagram_username="ditbinmas", tiktok_username="ditbinmas"), clock)
    people: dict[str, PersonnelRegistered] = {}
    for n, client_id in enumerate(client_ids):
        yield entry(ClientRegistered(client_id=client_id, name=f"Polres {n:03d}", client_type=ClientType.ORG,
                                     instagram_username=f"polres{n:03d}", tiktok_username=f"polres{n:03d}"), clock)
        for i in range(shape.personnel_per_client):
            user_id = f"{n + 1:03d}{i:05d}"
            person = PersonnelRegistered(
                user_id=user_id, name=f"Personel {n}-{i}", title=rng.choice(RANKS), divisi=rng.choice(DIVISIONS),
                jabatan=rng.choice(("KANIT", "KASAT", "", "")) or None, client_id=client_id,
                roles=["ditbinmas"] if i % 4 == 0 else [],
                instagram=None if i % 13 == 5 else f"ig.{user_id}", tiktok=None if i % 11 == 3 else f"tt.{user_id}",
                exempt=i % 17 == 9,
            )
            people[user_id] = person
            yield entry(person, clock)
    def members(client_id: str, platform: str) -> list[str]:
        """Who is expected to engage with a client's posts: its personnel, or a directorate's role holders."""
        return sorted(h for person in people.values()
                      if (person.client_id == client_id or (client_id == DIRECTORATE and "ditbinmas" in person.roles))
                      and (h := getattr(person, platform)))

    handles = {(c, p.value): members(c, p.value) for c in [DIRECTORATE, *client_ids] for p in Platform}
    for day_number in range(shape.days):
        day = shape.start + timedelta(days=day_number)
        morning = datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=1)  # 08:00 WIB
        posts: list[tuple[Platform, str, str]] = []
        for client_id in [DIRECTORATE, *client_ids]:
            for platform in Platform:
                for k in range(shape.posts_per_day):
                    post_id = f"{client_id}-{day.isoformat()}-{platform.value[:2]}{k}"
                    posts.append((platform, post_id, client_id))
                    yield entry(PostFetched(
                        platform=platform, post_id=post_id, client_id=client_id, account_username=client_id.lower(),
                        link=f"https://example.invalid/{post_id}", caption=f"Kegiatan {k}",
                        created_at=morning + timedelta(minutes=k), like_count=0, comment_count=0,
                    ), morning + timedelta(minutes=k))
        seen: dict[str, set[str]] = {post_id: set() for _, post_id, _ in posts}
        for round_number in range(shape.refreshes_per_post):
            at = morning + timedelta(hours=1 + round_number)
            for platform, post_id, client_id in posts:
                pool = handles[(client_id, platform.value)]
                added = [h for h in rng.sample(pool, min(len(pool), shape.usernames_per_refresh))
                         if h not in seen[post_id]]
                added += [f"warga{rng.randrange(10**6)}" for _ in range(2)]  # the public likes too
                seen[post_id].update(added)
                yield entry(EngagementRefreshed(
                    platform=platform, post_id=post_id, client_id=client_id,
                    kind=COUNTED_KIND[platform], added_usernames=added,
                    engaged_total=len(seen[post_id]), like_count=len(seen[post_id]), comment_count=round_number,
                    refreshed_at=at,
                ), at)
            if round_number == 1:  # a post taken down, someone fixes a handle, someone leaves
                platform, post_id, client_id = posts[rng.randrange(len(posts))]
                yield entry(PostRemoved(platform=platform, post_id=post_id, client_id=client_id, removed_at=at), at)
                user_id = rng.choice(sorted(people))
                fixed = people[user_id].model_copy(update={"instagram": f"fixed.{user_id}"})
                yield entry(PersonnelUpdated(**fixed.model_dump()), at)
                leaving = rng.choice(sorted(people))
                yield entry(PersonnelDeactivated(user_id=leaving, client_id=people[leaving].client_id), at)
