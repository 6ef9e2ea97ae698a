"""The attendance projection against a real database: statuses per person, platform and WIB day, the
AttendanceStatusChanged events, and that batching never changes the resulting tables."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from cicero_attendance.journal import JournalEntry
from cicero_attendance.projector import PROJECTION_TABLES, Projector
from cicero_attendance.synthetic import Shape, synthetic_stream
from cicero_contracts import Event
from cicero_contracts.events.common import Platform
from cicero_contracts.events.directory import (
    ClientRegistered,
    ClientType,
    ClientUpdated,
    PersonnelDeactivated,
    PersonnelRegistered,
    PersonnelUpdated,
)
from cicero_contracts.events.ingest import EngagementRefreshed, PostFetched, PostRemoved
from cicero_runtime.consumer import Outcome
from cicero_runtime.service import Service
from cicero_runtime.testing.contracts import appended_events, event_envelope_bytes

DAY = date(2026, 3, 10)
MORNING = datetime(2026, 3, 10, 1, 0, tzinfo=UTC)  # 08:00 WIB


def post(post_id: str, client_id: str = "POLRES_A", platform: Platform = Platform.INSTAGRAM,
         at: datetime = MORNING) -> PostFetched:
    return PostFetched(platform=platform, post_id=post_id, client_id=client_id, account_username="acc",
                       link=f"https://example.invalid/{post_id}", created_at=at, like_count=0, comment_count=0)


def engaged(post_id: str, *usernames: str, client_id: str = "POLRES_A",
            platform: Platform = Platform.INSTAGRAM) -> EngagementRefreshed:
    return EngagementRefreshed(platform=platform, post_id=post_id, client_id=client_id,
                               kind="likes" if platform is Platform.INSTAGRAM else "comments",
                               added_usernames=list(usernames), engaged_total=len(usernames),
                               like_count=len(usernames), comment_count=0, refreshed_at=MORNING + timedelta(hours=1))


def person(user_id: str, **fields: Any) -> PersonnelRegistered:
    values: dict[str, Any] = {"name": f"Orang {user_id}", "client_id": "POLRES_A", "instagram": f"ig{user_id}",
                              "tiktok": f"tt{user_id}"} | fields
    return PersonnelRegistered(user_id=user_id, **values)


CLIENTS: list[Event] = [
    ClientRegistered(client_id="POLRES_A", name="Polres A", client_type=ClientType.ORG),
    ClientRegistered(client_id="DITBINMAS", name="Ditbinmas", client_type=ClientType.DIREKTORAT),
]


async def apply(service: Service, *events: Event, projector: Projector | None = None) -> None:
    entries = [JournalEntry(uuid.uuid4(), MORNING, e) for e in events]
    async with service.pool.acquire() as conn, conn.transaction():
        await (projector or Projector()).apply_live(conn, service.store, entries)


async def rows(service: Service, scope: str = "POLRES_A",
               platform: str = "instagram") -> dict[str, tuple[str, int, int]]:
    result = await service.pool.fetch(
        "SELECT user_id, status, done, total FROM attendance WHERE scope_client_id = $1 AND platform = $2 "
        "AND wib_date = $3", scope, platform, DAY)
    return {r["user_id"]: (r["status"], r["done"], r["total"]) for r in result}


async def status_events(service: Service) -> list[dict[str, Any]]:
    return [e.payload for e in await appended_events(service) if e.event_type == "AttendanceStatusChanged"]


async def test_a_person_goes_from_none_to_partial_to_complete(attendance: Service) -> None:
    await apply(attendance, *CLIENTS, person("1"))
    assert await rows(attendance) == {}  # no posts yet: no rows, nothing to do
    await apply(attendance, post("p1"), post("p2"))
    assert await rows(attendance) == {"1": ("none", 0, 2)}
    await apply(attendance, engaged("p1", "ig1", "someone.else"))
    assert await rows(attendance) == {"1": ("partial", 1, 2)}
    await apply(attendance, engaged("p2", "@IG1 "))  # usernames are normalised
    assert await rows(attendance) == {"1": ("complete", 2, 2)}
    changes = [(e["status"], e["previous_status"], e["done"], e["total"], e["pending_post_ids"])
               for e in await status_events(attendance) if e["platform"] == "instagram"]
    assert changes == [("none", None, 0, 2, ["p1", "p2"]), ("partial", "none", 1, 2, ["p2"]),
                       ("complete", "partial", 2, 2, [])]


async def test_progress_within_a_status_is_published(attendance: Service) -> None:
    """partial 1/3 → 2/3 keeps the status but not the pending posts the notifier's reminders list."""
    await apply(attendance, *CLIENTS, person("1"), post("p1"), post("p2"), post("p3"), engaged("p1", "ig1"))
    before = len(await status_events(attendance))
    await apply(attendance, engaged("p2", "ig1"))
    assert await rows(attendance) == {"1": ("partial", 2, 3)}
    new = (await status_events(attendance))[before:]
    assert [(e["status"], e["previous_status"], e["done"], e["total"], e["pending_post_ids"]) for e in new] == [
        ("partial", "partial", 2, 3, ["p3"])]
    await apply(attendance, post("p4", at=MORNING + timedelta(hours=1)))  # a new task post: 2/3 → 2/4
    assert [(e["done"], e["total"], e["pending_post_ids"]) for e in (await status_events(attendance))[before + 1:]
            ] == [(2, 4, ["p3", "p4"])]
    count = len(await status_events(attendance))
    await apply(attendance, engaged("p2", "someone.else"), post("p2"))  # nothing changes for the person
    assert len(await status_events(attendance)) == count


async def test_a_post_replaced_by_another_in_one_batch_publishes_the_new_pending_posts(attendance: Service) -> None:
    await apply(attendance, *CLIENTS, person("1"), person("2"), post("p1"), post("p2"), engaged("p1", "ig1"),
                engaged("p1", "ig2"), engaged("p2", "ig2"))
    assert await rows(attendance) == {"1": ("partial", 1, 2), "2": ("complete", 2, 2)}
    before = len(await status_events(attendance))
    await apply(attendance, PostRemoved(platform=Platform.INSTAGRAM, post_id="p2", client_id="POLRES_A",
                                        removed_at=MORNING + timedelta(hours=2)),
                post("p3", at=MORNING + timedelta(hours=2)))
    assert await rows(attendance) == {"1": ("partial", 1, 2), "2": ("partial", 1, 2)}
    new = (await status_events(attendance))[before:]
    assert sorted((e["user_id"], e["status"], e["done"], e["total"], e["pending_post_ids"]) for e in new) == [
        ("1", "partial", 1, 2, ["p3"]), ("2", "partial", 1, 2, ["p3"])]


async def test_exempt_and_missing_handles(attendance: Service) -> None:
    await apply(attendance, *CLIENTS, person("1", exempt=True), person("2", tiktok=None),
                post("p1"), post("v1", platform=Platform.TIKTOK))
    assert await rows(attendance) == {"1": ("exempt", 0, 1), "2": ("none", 0, 1)}
    assert await rows(attendance, platform="tiktok") == {"1": ("exempt", 0, 1), "2": ("no_username", 0, 1)}


async def test_tiktok_counts_comments_and_instagram_counts_likes(attendance: Service) -> None:
    await apply(attendance, *CLIENTS, person("1"), post("p1"), post("v1", platform=Platform.TIKTOK))
    ig_comment = EngagementRefreshed(platform=Platform.INSTAGRAM, post_id="p1", client_id="POLRES_A",
                                     kind="comments", added_usernames=["ig1"], engaged_total=1, like_count=0,
                                     comment_count=1, refreshed_at=MORNING)
    await apply(attendance, ig_comment, engaged("v1", "tt1", platform=Platform.TIKTOK))
    assert await rows(attendance) == {"1": ("none", 0, 1)}
    assert await rows(attendance, platform="tiktok") == {"1": ("complete", 1, 1)}


async def test_directorate_scope_uses_the_role_and_half_the_posts(attendance: Service) -> None:
    await apply(attendance, *CLIENTS, person("1", roles=["ditbinmas"]), person("2"),
                person("3", client_id="DITBINMAS"),
                *(post(f"d{n}", client_id="DITBINMAS") for n in range(4)))
    assert await rows(attendance, "DITBINMAS") == {"1": ("none", 0, 4), "3": ("none", 0, 4)}
    await apply(attendance, engaged("d0", "ig1", client_id="DITBINMAS"), engaged("d1", "ig1", client_id="DITBINMAS"),
                engaged("d0", "ig3", client_id="DITBINMAS"))
    assert await rows(attendance, "DITBINMAS") == {"1": ("complete", 2, 4), "3": ("partial", 1, 4)}
    assert await rows(attendance) == {}  # POLRES_A has no posts that day


async def test_a_handle_fixed_later_counts_what_it_already_liked(attendance: Service) -> None:
    await apply(attendance, *CLIENTS, person("1", instagram="typo"), post("p1"), engaged("p1", "real.handle"))
    assert await rows(attendance) == {"1": ("none", 0, 1)}
    await apply(attendance, PersonnelUpdated(**person("1", instagram="real.handle").model_dump()))
    assert await rows(attendance) == {"1": ("complete", 1, 1)}


async def test_leaving_removes_rows_silently_and_a_removed_last_post_says_nothing_to_do(attendance: Service) -> None:
    await apply(attendance, *CLIENTS, person("1"), person("2"), post("p1"), post("p2"), engaged("p2", "ig2"))
    await apply(attendance, PersonnelDeactivated(user_id="1", client_id="POLRES_A"))
    assert await rows(attendance) == {"2": ("partial", 1, 2)}
    events = len(await status_events(attendance))
    await apply(attendance, PostRemoved(platform=Platform.INSTAGRAM, post_id="p1", client_id="POLRES_A",
                                        removed_at=MORNING + timedelta(hours=2)))
    assert await rows(attendance) == {"2": ("complete", 1, 1)}
    await apply(attendance, PostRemoved(platform=Platform.INSTAGRAM, post_id="p2", client_id="POLRES_A",
                                        removed_at=MORNING + timedelta(hours=3)))
    assert await rows(attendance) == {}
    new = (await status_events(attendance))[events:]
    assert [(e["user_id"], e["status"], e["total"]) for e in new] == [("2", "complete", 1), ("2", "complete", 0)]


async def test_a_client_becoming_a_directorate_takes_in_its_role_holders(attendance: Service) -> None:
    await apply(attendance, ClientRegistered(client_id="DITSAMAPTA", name="Ditsamapta", client_type=ClientType.ORG),
                *CLIENTS, person("1", roles=["ditsamapta"]), post("s1", client_id="DITSAMAPTA"))
    assert await rows(attendance, "DITSAMAPTA") == {}
    await apply(attendance, ClientUpdated(client_id="DITSAMAPTA", name="Ditsamapta",
                                          client_type=ClientType.DIREKTORAT))
    assert await rows(attendance, "DITSAMAPTA") == {"1": ("none", 0, 1)}


async def test_the_consumer_projects_and_a_redelivery_changes_nothing(attendance: Service) -> None:
    await apply(attendance, *CLIENTS, person("1"))
    consumer = attendance.make_consumer("attendance")
    fetched, liked = uuid.uuid4(), uuid.uuid4()
    assert await consumer.process(event_envelope_bytes(post("p1"), event_id=fetched)) == Outcome.HANDLED
    assert await consumer.process(event_envelope_bytes(engaged("p1", "ig1"), event_id=liked)) == Outcome.HANDLED
    before = await snapshot(attendance)
    journal_size = await attendance.pool.fetchval("SELECT count(*) FROM journal")
    assert await consumer.process(event_envelope_bytes(engaged("p1", "ig1"), event_id=liked)) == Outcome.DUPLICATE
    assert await consumer.process(event_envelope_bytes(post("p1"), event_id=fetched)) == Outcome.DUPLICATE
    assert await snapshot(attendance) == before
    assert await attendance.pool.fetchval("SELECT count(*) FROM journal") == journal_size
    assert before["attendance"] == [("POLRES_A", DAY, "instagram", "1", "complete", 1, 1)]


async def snapshot(service: Service, schema: str | None = None) -> dict[str, list[tuple[Any, ...]]]:
    prefix = f"{schema}." if schema else ""
    return {table: [tuple(r) for r in await service.pool.fetch(f"SELECT * FROM {prefix}{table} ORDER BY 1, 2, 3, 4")]
            for table in PROJECTION_TABLES}


async def test_batching_never_changes_the_tables(attendance: Service, database_url: str) -> None:
    """One event per transaction, random micro-batches, and one big chunk all end in the same rows."""
    entries = list(synthetic_stream(Shape(clients=3, personnel_per_client=15, days=2, posts_per_day=2,
                                          refreshes_per_post=4, usernames_per_refresh=6)))
    projector = Projector()
    results = []
    for split in ("single", "random", "whole"):
        async with attendance.pool.acquire() as conn:
            await conn.execute(f"TRUNCATE {', '.join(PROJECTION_TABLES)}")
            rng, start = random.Random(3), 0
            while start < len(entries):
                size = {"single": 1, "random": rng.randint(1, 60), "whole": len(entries)}[split]
                async with conn.transaction():
                    await projector.project(conn, entries[start:start + size])
                start += size
        results.append(await snapshot(attendance))
    assert results[0]["attendance"], "the stream must produce attendance rows"
    assert {s for *_, s, _, _ in results[0]["attendance"]} >= {"complete", "partial", "none", "no_username",
                                                                 "exempt"}
    assert results[1] == results[0]
    assert results[2] == results[0]
