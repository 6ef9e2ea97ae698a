"""Ingest's post events projected into the posts read table, through the consumer as production wires it."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from cicero_contracts.schema_files import load_example
from cicero_runtime.consumer import Outcome
from cicero_runtime.service import Service
from cicero_runtime.testing.contracts import envelope_bytes

POST_KEY = ("instagram", "3320123456789012345_5550001")


async def post_row(service: Service) -> dict[str, Any]:
    row = await service.pool.fetchrow("SELECT * FROM posts WHERE platform = $1 AND post_id = $2", *POST_KEY)
    assert row is not None
    return dict(row)


async def test_post_fetched_example_becomes_a_posts_row(attendance: Service) -> None:
    consumer = attendance.make_consumer("attendance")
    assert await consumer.process(envelope_bytes("PostFetched")) == Outcome.HANDLED
    row = await post_row(attendance)
    assert row["client_id"] == "POLRES_DEMO"
    assert row["wib_date"] == date(2026, 3, 10)
    assert row["published_at"] == datetime(2026, 3, 10, 1, 15, tzinfo=UTC)
    assert row["link"] == "https://www.instagram.com/p/C4abcDEFghi/"
    assert row["caption"] == "Giat patroli dialogis #polri #presisi"
    assert row["source_type"] == "cron_fetch"
    assert (row["like_count"], row["comment_count"]) == (87, 4)
    assert row["removed_at"] is None


WIB_DAYS = [
    ("2026-03-09T16:59:59Z", date(2026, 3, 9)),   # 23:59:59 WIB
    ("2026-03-09T17:00:00Z", date(2026, 3, 10)),  # 00:00 WIB: already the next WIB day
    ("2026-03-10T16:59:00Z", date(2026, 3, 10)),
    ("2026-03-10T06:00:00+07:00", date(2026, 3, 10)),  # an offset is converted, not dropped
    ("2026-03-10T16:30:00Z", date(2026, 3, 10)),  # 23:30 WIB on D belongs to D
    ("2026-03-10T17:30:00Z", date(2026, 3, 11)),  # 00:30 WIB on D+1 belongs to D+1
]


async def test_the_post_day_is_the_wib_day(attendance: Service) -> None:
    consumer = attendance.make_consumer("attendance")
    for n, (published_at, _) in enumerate(WIB_DAYS):
        payload = load_example("PostFetched", 1) | {"post_id": f"p{n}", "created_at": published_at}
        await consumer.process(envelope_bytes("PostFetched", payload))
    rows = await attendance.pool.fetch("SELECT post_id, wib_date FROM posts ORDER BY post_id")
    assert [r["wib_date"] for r in rows] == [day for _, day in WIB_DAYS]


async def test_post_removed_sets_removed_at_and_a_refetch_restores_the_post(attendance: Service) -> None:
    consumer = attendance.make_consumer("attendance")
    await consumer.process(envelope_bytes("PostFetched"))
    assert await consumer.process(envelope_bytes("PostRemoved")) == Outcome.HANDLED
    row = await post_row(attendance)
    assert row["removed_at"] == datetime(2026, 3, 10, 8, 5, tzinfo=UTC)
    assert row["caption"] == "Giat patroli dialogis #polri #presisi"  # history is kept

    refetched = load_example("PostFetched", 1) | {"like_count": 150, "caption": "Giat patroli (edit)"}
    await consumer.process(envelope_bytes("PostFetched", refetched))
    row = await post_row(attendance)
    assert row["removed_at"] is None
    assert (row["like_count"], row["caption"]) == (150, "Giat patroli (edit)")
    assert await attendance.pool.fetchval("SELECT count(*) FROM posts") == 1


async def test_a_redelivered_event_is_a_no_op(attendance: Service) -> None:
    consumer = attendance.make_consumer("attendance")
    event_id = uuid.uuid4()
    assert await consumer.process(envelope_bytes("PostFetched", event_id=event_id)) == Outcome.HANDLED
    # an operator's edit after the projection: a redelivery must not re-apply the old event over it
    await attendance.pool.execute("UPDATE posts SET like_count = 0")
    assert await consumer.process(envelope_bytes("PostFetched", event_id=event_id)) == Outcome.DUPLICATE
    assert (await post_row(attendance))["like_count"] == 0
    assert await attendance.pool.fetchval("SELECT count(*) FROM inbox WHERE event_id = $1", event_id) == 1

    removed_id = uuid.uuid4()
    await consumer.process(envelope_bytes("PostRemoved", event_id=removed_id))
    await attendance.pool.execute("UPDATE posts SET removed_at = NULL")
    assert await consumer.process(envelope_bytes("PostRemoved", event_id=removed_id)) == Outcome.DUPLICATE
    assert (await post_row(attendance))["removed_at"] is None


async def test_every_other_example_on_the_queue_is_accepted_and_ignored(attendance: Service) -> None:
    """Consumer contract: whatever is bound to the attendance queue decodes; types without a handler are ignored."""
    consumer = attendance.make_consumer("attendance")
    for event_type in ("ClientFetchCompleted", "TickFired"):
        assert await consumer.process(envelope_bytes(event_type)) == Outcome.IGNORED, event_type
    assert await attendance.pool.fetchval("SELECT count(*) FROM posts") == 0
