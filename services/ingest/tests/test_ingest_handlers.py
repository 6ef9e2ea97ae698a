"""Ingest's handlers exactly as production wires them, fed envelopes, against PostgreSQL and the simulator."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
import pytest_asyncio
from cicero_contracts.events.ingest import ClientFetchCompleted, PostFetched, PostRemoved
from cicero_contracts.schema_files import load_example
from cicero_rapidapi_sim.bundled import bundled_dataset_path
from cicero_rapidapi_sim.server import RunningSimulator
from cicero_runtime.clock import WIB
from cicero_runtime.consumer import EventConsumer
from cicero_runtime.event_store import RecordedEvent
from cicero_runtime.service import Service
from cicero_runtime.testing.contracts import appended_events, envelope_bytes

DEMO: dict[str, Any] = load_example("ClientRegistered", 1)  # POLRES_DEMO: polres_demo + polres_demo_tt
CONTOH: dict[str, Any] = DEMO | {
    "client_id": "POLRES_CONTOH", "name": "Polres Contoh", "instagram_username": "polres_contoh",
    "tiktok_username": "polres_contoh_tt", "whatsapp_groups": ["120363025550002222@g.us"],
}

IG, TT = "instagram", "tiktok"
DEMO_TODAY = {  # (platform, post_id) → published_at (UTC) of POLRES_DEMO's posts of 2026-03-10 in e2e.json
    (IG, "3550000000000000002_5550001"): "2026-03-10T01:15:00Z",  # C9demo0815a
    (TT, "7350000000000000002"): "2026-03-10T02:00:00Z",
    (IG, "3550000000000000003_5550001"): "2026-03-10T03:40:00Z",  # C9demo1040b
    (TT, "7350000000000000003"): "2026-03-10T05:30:00Z",
    (IG, "3550000000000000004_5550001"): "2026-03-10T06:20:00Z",  # C9demo1320c
}
CONTOH_TODAY = {
    (IG, "3550000000000000101_5550002"): "2026-03-10T02:30:00Z",
    (TT, "7350000000000000101"): "2026-03-10T03:15:00Z",
    (IG, "3550000000000000102_5550002"): "2026-03-10T04:45:00Z",
}
PINNED_OLD = {(IG, "3550000000000000001_5550001"), (TT, "7350000000000000001")}


def wib(hh: int, mm: int, day: int = 10) -> datetime:
    return datetime(2026, 3, day, hh, mm, tzinfo=WIB)


def tick_payload(at: datetime, schedule: str = "post-fetch", phase: str = "post_fetch",
                 mandatory: bool = False) -> dict[str, Any]:
    instant = at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"tick_id": f"{schedule}:{instant}", "schedule": schedule, "phase": phase, "scheduled_for": instant,
            "fired_at": instant, "mandatory": mandatory, "manual": False}


@dataclass
class Ingest:
    """The service, its consumer, and a cursor over what it appended."""

    service: Service
    consumer: EventConsumer
    jobs: EventConsumer
    sim: RunningSimulator
    seen: int = 0
    ticks: list[uuid.UUID] = field(default_factory=list)

    async def deliver(self, event_type: str, payload: dict[str, Any] | None = None,
                      event_id: uuid.UUID | None = None) -> str:
        return await self.consumer.process(envelope_bytes(event_type, payload, event_id=event_id))

    async def register(self, *clients: dict[str, Any]) -> None:
        for client in clients:
            assert await self.deliver("ClientRegistered", client) == "handled"

    async def tick(self, at: datetime, *, event_id: uuid.UUID | None = None, **kwargs: Any
                   ) -> tuple[str, list[RecordedEvent]]:
        event_id = event_id or uuid.uuid4()
        self.ticks.append(event_id)
        outcome = await self.deliver("TickFired", tick_payload(at, **kwargs), event_id=event_id)
        return outcome, await self.run_jobs()

    async def run_jobs(self) -> list[RecordedEvent]:
        """Work off the fetch jobs the tick enqueued (as the work-queue consumer would); their results."""
        results: list[RecordedEvent] = []
        for event in await self.new_events():
            if event.event_type == "ClientFetchRequested":
                assert await self.jobs.process(event.envelope().model_dump_json().encode()) == "handled"
            elif event.event_type != "FetchRunStarted":  # the run announced beside the jobs: not a result
                results.append(event)
        return results + await self.new_events()

    async def new_events(self) -> list[RecordedEvent]:
        """Events appended since the last call, each checked once against the committed contract."""
        events = await appended_events(self.service, self.seen)
        if events:
            self.seen = events[-1].global_position
        return events


def of_type(events: list[RecordedEvent], event_type: str) -> list[dict[str, Any]]:
    return [e.payload for e in events if e.event_type == event_type]


def completions(events: list[RecordedEvent]) -> dict[str, ClientFetchCompleted]:
    found = [ClientFetchCompleted.model_validate(p) for p in of_type(events, "ClientFetchCompleted")]
    by_client = {c.client_id: c for c in found}
    assert len(by_client) == len(found), "one ClientFetchCompleted per client and tick"
    return by_client


def refs(items: Any) -> set[tuple[str, str]]:
    return {(str(i.platform), i.post_id) for i in items}


@pytest_asyncio.fixture
async def ingest_app(ingest: Service, sim: RunningSimulator) -> Ingest:
    return Ingest(ingest, ingest.make_consumer("ingest"), ingest.make_consumer("ingest-fetch"), sim)


async def test_client_registered_example_registers_a_client(ingest_app: Ingest) -> None:
    event_id = uuid.uuid4()
    assert await ingest_app.deliver("ClientRegistered", event_id=event_id) == "handled"
    row = await ingest_app.service.pool.fetchrow("SELECT * FROM clients")
    assert dict(row) | {"updated_at": None} == {
        "client_id": "POLRES_DEMO", "name": "Polres Demo", "active": True, "instagram_username": "polres_demo",
        "instagram_enabled": True, "tiktok_username": "polres_demo_tt", "tiktok_sec_uid": None,
        "tiktok_enabled": True, "updated_at": None,
    }
    assert await ingest_app.deliver("ClientRegistered", event_id=event_id) == "duplicate"

    assert await ingest_app.deliver("ClientUpdated") == "handled"
    row = await ingest_app.service.pool.fetchrow("SELECT name, tiktok_sec_uid, active FROM clients")
    assert tuple(row) == ("Polres Demo Kota", "MS4wLjABAAAAdemo", True)

    assert await ingest_app.deliver("ClientDeactivated") == "handled"
    assert await ingest_app.service.pool.fetchval("SELECT active FROM clients") is False
    assert await ingest_app.new_events() == [], "directory events are projected, nothing is appended"


async def test_a_tiktok_username_change_forgets_the_resolved_sec_uid(ingest_app: Ingest) -> None:
    await ingest_app.register(DEMO)
    await ingest_app.tick(wib(14, 5))
    assert await ingest_app.service.pool.fetchval("SELECT tiktok_sec_uid FROM clients") == "MS4wLjABAAAAdemo"

    # a re-sent snapshot without a secUid keeps the one resolved for the same account
    assert await ingest_app.deliver("ClientUpdated", DEMO | {"name": "Polres Demo Kota"}) == "handled"
    assert await ingest_app.service.pool.fetchval("SELECT tiktok_sec_uid FROM clients") == "MS4wLjABAAAAdemo"

    moved = DEMO | {"tiktok_username": "polres_contoh_tt", "tiktok_sec_uid": None}
    assert await ingest_app.deliver("ClientUpdated", moved) == "handled"
    _, events = await ingest_app.tick(wib(14, 30))
    tiktok = [p for p in of_type(events, "PostFetched") if p["platform"] == TT]
    assert [p["post_id"] for p in tiktok] == ["7350000000000000101"], "the new account's videos, not the old"
    assert tiktok[0]["link"] == "https://www.tiktok.com/@polres_contoh_tt/video/7350000000000000101"
    assert await ingest_app.service.pool.fetchval("SELECT tiktok_sec_uid FROM clients") == "MS4wLjABAAAAcontoh"


async def test_a_post_fetch_tick_appends_todays_posts_and_one_completion_per_client(ingest_app: Ingest) -> None:
    await ingest_app.register(DEMO, CONTOH)
    tick_event_id = uuid.uuid4()
    outcome, events = await ingest_app.tick(wib(14, 5), event_id=tick_event_id)
    assert outcome == "handled"

    fetched = [PostFetched.model_validate(p) for p in of_type(events, "PostFetched")]
    assert {(str(p.platform), p.post_id): p.client_id for p in fetched} == {
        **{key: "POLRES_DEMO" for key in DEMO_TODAY}, **{key: "POLRES_CONTOH" for key in CONTOH_TODAY}}
    assert not refs(fetched) & PINNED_OLD, "pinned posts of earlier days are not today's posts"
    assert len(fetched) == 8

    post = next(p for p in fetched if p.post_id == "3550000000000000002_5550001")
    assert post.model_dump(mode="json") == {
        "platform": "instagram", "post_id": "3550000000000000002_5550001", "client_id": "POLRES_DEMO",
        "account_username": "polres_demo", "shortcode": "C9demo0815a",
        "link": "https://www.instagram.com/p/C9demo0815a/",
        "caption": "Giat patroli dialogis bersama warga #polri #presisi", "created_at": "2026-03-10T01:15:00Z",
        "source_type": "cron_fetch", "original_created_at": "2026-03-10T01:15:00Z", "is_pinned": False,
        "is_video": False, "like_count": 4, "comment_count": 2, "tick_id": "post-fetch:2026-03-10T07:05:00Z",
    }
    video = next(p for p in fetched if p.post_id == "7350000000000000003")
    assert (video.link, video.like_count, video.comment_count, video.is_video, video.shortcode) == (
        "https://www.tiktok.com/@polres_demo_tt/video/7350000000000000003", 75, 2, True, None)
    assert next(p for p in fetched if p.post_id == "3550000000000000102_5550002").caption == ""
    async with ingest_app.service.pool.acquire() as conn:
        jobs = {str(e.event_id): e for e in await ingest_app.service.store.read_after(conn, 0, 1000)
                if e.event_type == "ClientFetchRequested"}
    assert sorted(j.payload["client_id"] for j in jobs.values()) == ["POLRES_CONTOH", "POLRES_DEMO"]
    assert {j.metadata["causation_id"] for j in jobs.values()} == {str(tick_event_id)}
    for event in events:
        assert event.stream_id.startswith(("post:instagram:", "post:tiktok:", "client-fetch:"))
        job = jobs[event.metadata["causation_id"]]  # caused by its client's job, in the tick's correlation
        assert job.payload["client_id"] == event.payload["client_id"]
        assert event.metadata["correlation_id"] == job.metadata["correlation_id"]
        assert event.metadata["producer"] == "ingest"

    done = completions(events)
    assert set(done) == {"POLRES_DEMO", "POLRES_CONTOH"}
    demo = done["POLRES_DEMO"]
    assert (demo.tick_id, demo.phase, demo.mandatory, demo.wib_date.isoformat(), demo.errors) == (
        "post-fetch:2026-03-10T07:05:00Z", "post_fetch", False, "2026-03-10", [])
    assert demo.fetched_at == datetime(2026, 3, 10, 7, 5, tzinfo=UTC)
    assert [(str(p.platform), p.post_id) for p in demo.posts] == list(DEMO_TODAY), "ordered by publish time"
    assert [p.published_at.strftime("%Y-%m-%dT%H:%M:%SZ") for p in demo.posts] == list(DEMO_TODAY.values())
    assert refs(demo.changes.added) == set(DEMO_TODAY) and demo.changes.removed == []
    assert {p.link for p in demo.changes.added} >= {"https://www.instagram.com/p/C9demo1320c/"}
    contoh = done["POLRES_CONTOH"]
    assert [(str(p.platform), p.post_id) for p in contoh.posts] == list(CONTOH_TODAY)
    assert refs(contoh.changes.added) == set(CONTOH_TODAY)
    assert [e.stream_id for e in events if e.event_type == "ClientFetchCompleted"] == [
        "client-fetch:POLRES_CONTOH:2026-03-10", "client-fetch:POLRES_DEMO:2026-03-10"]


async def test_a_later_tick_without_changes_appends_only_completions_with_empty_changes(
    ingest_app: Ingest, sim: RunningSimulator
) -> None:
    await ingest_app.register(DEMO, CONTOH)
    _, first = await ingest_app.tick(wib(14, 5))
    before = completions(first)
    sim.reset_requests()

    _, events = await ingest_app.tick(wib(14, 30))
    assert [e.event_type for e in events] == ["ClientFetchCompleted", "ClientFetchCompleted"]
    done = completions(events)
    for client_id, completed in done.items():
        assert completed.changes.added == [] and completed.changes.removed == []
        assert completed.posts == before[client_id].posts
        assert completed.tick_id == "post-fetch:2026-03-10T07:30:00Z"
    # the TikTok secUid was resolved once and kept
    assert sim.requests_to("/api/user/info") == 0
    assert sim.requests_to("/v1/posts") == 2 and sim.requests_to("/api/user/posts") == 2


def e2e_dataset_without(shortcode: str, likes_of: dict[str, int] | None = None) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(bundled_dataset_path("e2e").read_text(encoding="utf-8"))
    for account in data["instagram"]:
        account["posts"] = [p for p in account["posts"] if p["code"] != shortcode]
        for post in account["posts"]:
            if likes_of and post["code"] in likes_of:
                post["like_count"] = likes_of[post["code"]]
    return data


async def test_a_vanished_post_is_removed_and_a_returning_one_is_added_again(
    ingest_app: Ingest, sim: RunningSimulator
) -> None:
    await ingest_app.register(DEMO, CONTOH)
    await ingest_app.tick(wib(14, 5))
    gone = (IG, "3550000000000000003_5550001")  # C9demo1040b

    sim.replace_dataset(e2e_dataset_without("C9demo1040b", likes_of={"C9demo0815a": 1200}))
    _, events = await ingest_app.tick(wib(14, 30))
    assert of_type(events, "PostFetched") == []
    [removed] = [PostRemoved.model_validate(p) for p in of_type(events, "PostRemoved")]
    assert ((str(removed.platform), removed.post_id), removed.client_id, removed.reason, removed.tick_id) == (
        gone, "POLRES_DEMO", "missing_from_feed", "post-fetch:2026-03-10T07:30:00Z")
    assert removed.removed_at == datetime(2026, 3, 10, 7, 30, tzinfo=UTC)
    done = completions(events)
    demo = done["POLRES_DEMO"]
    assert refs(demo.changes.removed) == {gone} and demo.changes.added == []
    assert [r.link for r in demo.changes.removed] == ["https://www.instagram.com/p/C9demo1040b/"]
    assert gone not in refs(demo.posts) and len(demo.posts) == 4
    assert next(p.like_count for p in demo.posts if p.post_id == "3550000000000000002_5550001") == 1200
    assert done["POLRES_CONTOH"].changes.removed == [] and done["POLRES_CONTOH"].changes.added == []

    _, events = await ingest_app.tick(wib(15, 5))  # still gone: removed once only
    assert of_type(events, "PostRemoved") == []
    assert completions(events)["POLRES_DEMO"].changes.removed == []

    sim.replace_dataset("e2e")
    _, events = await ingest_app.tick(wib(15, 30))
    assert [(p["platform"], p["post_id"]) for p in of_type(events, "PostFetched")] == [gone]
    demo = completions(events)["POLRES_DEMO"]
    assert refs(demo.changes.added) == {gone} and len(demo.posts) == 5


async def test_an_engagement_only_tick_fetches_no_posts(ingest_app: Ingest, sim: RunningSimulator) -> None:
    await ingest_app.register(DEMO, CONTOH)
    await ingest_app.tick(wib(14, 5))
    sim.reset_requests()
    sim.replace_dataset(e2e_dataset_without("C9demo1040b"))

    _, events = await ingest_app.tick(wib(18, 0), schedule="engagement-only", phase="engagement_only")
    assert sim.requests_to("/v1/posts") == 0 and sim.requests_to("/api/user/posts") == 0
    assert sim.requests_to("/api/user/info") == 0
    assert [e.event_type for e in events] == ["ClientFetchCompleted", "ClientFetchCompleted"]
    done = completions(events)
    assert done["POLRES_DEMO"].phase == "engagement_only"
    assert refs(done["POLRES_DEMO"].posts) == set(DEMO_TODAY), "nothing is removed without a post fetch"
    assert all(c.changes.added == [] == c.changes.removed for c in done.values())


async def test_ticks_of_other_phases_are_consumed_without_fetching(
    ingest_app: Ingest, sim: RunningSimulator
) -> None:
    await ingest_app.register(DEMO)
    for schedule, phase in (("engagement-recap", "engagement_recap"), ("reminders", "reminder"),
                            ("daily-report", "daily_report")):
        outcome, events = await ingest_app.tick(wib(18, 5), schedule=schedule, phase=phase)
        assert (outcome, events) == ("handled", []), phase
    assert sim.state.faults.total() == 0


async def test_a_mandatory_tick_marks_every_completion_mandatory(ingest_app: Ingest) -> None:
    await ingest_app.register(DEMO, CONTOH)
    _, events = await ingest_app.tick(wib(17, 5), schedule="mandatory-post-fetch", mandatory=True)
    done = completions(events)
    assert set(done) == {"POLRES_DEMO", "POLRES_CONTOH"}
    assert all(c.mandatory and c.phase == "post_fetch" for c in done.values())
    assert len(of_type(events, "PostFetched")) == 8


@dataclass(frozen=True)
class Breakage:
    contoh: dict[str, Any]
    fault: dict[str, Any] | None
    broken_client: str
    platform: str
    message: str


BREAKAGES = {
    "ig-500": Breakage(CONTOH, {"path": "/v1/posts", "status": 500, "times": 10,
                                "query": {"username_or_id_or_url": "polres_demo"}},
                       "POLRES_DEMO", IG, "answered 500"),
    "ig-truncated-body": Breakage(CONTOH, {"path": "/v1/posts", "status": 200, "malformed": True, "times": 10,
                                           "query": {"username_or_id_or_url": "polres_demo"}},
                                  "POLRES_DEMO", IG, "not JSON"),
    "ig-malformed-item": Breakage(CONTOH, {"path": "/v1/posts", "status": 200, "times": 10,
                                           "body": {"data": {"items": [{"id": "x_1"}]}},
                                           "query": {"username_or_id_or_url": "polres_demo"}},
                                  "POLRES_DEMO", IG, "instagram item x_1"),
    "ig-401-no-fallback": Breakage(CONTOH, {"path": "/v1/posts", "status": 401, "times": 10,
                                            "query": {"username_or_id_or_url": "polres_demo"}},
                                   "POLRES_DEMO", IG, "answered 401"),
    "tt-unknown-user": Breakage(CONTOH | {"tiktok_username": "no_such_account"}, None,
                                "POLRES_CONTOH", TT, "'no_such_account' not found"),
}


@pytest.mark.parametrize("breakage", BREAKAGES.values(), ids=BREAKAGES.keys())
async def test_one_client_s_failing_platform_does_not_stop_the_others(
    ingest_app: Ingest, sim: RunningSimulator, breakage: Breakage
) -> None:
    await ingest_app.register(DEMO, breakage.contoh)
    if breakage.fault:
        sim.add_fault(**breakage.fault)
    _, events = await ingest_app.tick(wib(14, 5))

    done = completions(events)
    assert set(done) == {"POLRES_DEMO", "POLRES_CONTOH"}
    broken = done[breakage.broken_client]
    [error] = broken.errors
    assert str(error.platform) == breakage.platform and breakage.message in error.message
    broken_today = DEMO_TODAY if breakage.broken_client == "POLRES_DEMO" else CONTOH_TODAY
    lost = {key for key in broken_today if key[0] == breakage.platform}
    assert lost, "the breakage hides some of today's posts"
    healthy = (set(DEMO_TODAY) | set(CONTOH_TODAY)) - lost
    assert {(p["platform"], p["post_id"]) for p in of_type(events, "PostFetched")} == healthy
    assert refs(broken.posts) == refs(broken.changes.added) == set(broken_today) - lost
    other = done["POLRES_CONTOH" if breakage.broken_client == "POLRES_DEMO" else "POLRES_DEMO"]
    assert other.errors == []
    assert refs(other.posts) == set(CONTOH_TODAY if other.client_id == "POLRES_CONTOH" else DEMO_TODAY)
    [alert] = of_type(events, "OperationalAlertRaised")  # only the broken client raises one
    assert (alert["source"], alert["severity"], alert["client_id"]) == ("ingest", "error", breakage.broken_client)
    assert alert["run_id"] == "post-fetch:2026-03-10T07:05:00Z" and breakage.message in alert["details"][0]


async def test_a_platform_failure_later_in_the_day_removes_nothing(
    ingest_app: Ingest, sim: RunningSimulator
) -> None:
    await ingest_app.register(DEMO, CONTOH)
    await ingest_app.tick(wib(14, 5))
    sim.add_fault("/v1/posts", 503, times=10, query={"username_or_id_or_url": "polres_demo"})

    _, events = await ingest_app.tick(wib(14, 30))
    assert of_type(events, "PostRemoved") == [] and of_type(events, "PostFetched") == []
    demo = completions(events)["POLRES_DEMO"]
    assert refs(demo.posts) == set(DEMO_TODAY)
    assert demo.changes.removed == [] and [str(e.platform) for e in demo.errors] == [IG]


async def test_a_redelivered_tick_is_a_no_op(ingest_app: Ingest, sim: RunningSimulator) -> None:
    await ingest_app.register(DEMO, CONTOH)
    event_id = uuid.uuid4()
    outcome, events = await ingest_app.tick(wib(14, 5), event_id=event_id)
    assert outcome == "handled" and len([e for e in events if e.event_type != "EngagementRefreshed"]) == 10
    calls = sim.state.faults.total()

    sim.replace_dataset(e2e_dataset_without("C9demo1040b"))
    outcome, events = await ingest_app.tick(wib(14, 5), event_id=event_id)
    assert (outcome, events) == ("duplicate", [])
    assert sim.state.faults.total() == calls, "a duplicate never calls the platform"


async def test_inactive_clients_and_disabled_platforms_are_not_fetched(
    ingest_app: Ingest, sim: RunningSimulator
) -> None:
    await ingest_app.register(DEMO | {"tiktok_enabled": False}, CONTOH)
    assert await ingest_app.deliver("ClientDeactivated", {"client_id": "POLRES_CONTOH"}) == "handled"

    _, events = await ingest_app.tick(wib(14, 5))
    assert set(completions(events)) == {"POLRES_DEMO"}
    assert {p["platform"] for p in of_type(events, "PostFetched")} == {IG}
    log = sim.state.faults.log()
    assert [r.query for r in log if r.path == "/v1/posts"] == [{"username_or_id_or_url": "polres_demo"}]
    assert not [r for r in log if r.path.startswith("/api/")], "TikTok disabled: never called"


async def test_the_next_wib_day_starts_from_an_empty_baseline(ingest_app: Ingest) -> None:
    await ingest_app.register(DEMO)
    await ingest_app.tick(wib(16, 30))

    _, events = await ingest_app.tick(wib(6, 5, day=11))  # same feed: everything is from yesterday now
    assert [e.event_type for e in events] == ["ClientFetchCompleted"]
    demo = completions(events)["POLRES_DEMO"]
    assert demo.wib_date.isoformat() == "2026-03-11"
    assert demo.posts == [] and demo.changes.removed == [], "yesterday's posts are not removed today"


async def test_a_manual_input_post_is_never_removed_by_a_fetch(ingest_app: Ingest) -> None:
    await ingest_app.register(DEMO)
    await ingest_app.service.pool.execute(
        """INSERT INTO posts (platform, post_id, client_id, wib_date, link, caption, published_at, source_type)
           VALUES ('instagram', 'manual_1', 'POLRES_DEMO', '2026-03-10', 'https://www.instagram.com/p/MANUAL1/',
                   'diinput operator', '2026-03-10T00:30:00Z', 'manual_input')""")

    _, events = await ingest_app.tick(wib(14, 5))
    assert of_type(events, "PostRemoved") == []
    demo = completions(events)["POLRES_DEMO"]
    assert (IG, "manual_1") in refs(demo.posts) and demo.changes.removed == []
    assert refs(demo.changes.added) == set(DEMO_TODAY)


def late_and_early_dataset() -> dict[str, Any]:
    """Posts at 23:30 WIB on the 10th and 00:30 WIB on the 11th, on both platforms."""
    return {
        "instagram": [{"username": "polres_demo", "user_id": "5550001", "posts": [
            {"code": "LateIG2330", "id": "9100_5550001", "taken_at": "2026-03-10T23:30:00+07:00", "caption": "malam"},
            {"code": "EarlyIG0030", "id": "9200_5550001", "taken_at": "2026-03-11T00:30:00+07:00", "caption": "dini"},
        ]}],
        "tiktok": [{"uniqueId": "polres_demo_tt", "secUid": "MS4wLjABAAAAdemo", "id": "6810001", "videos": [
            {"id": "9300", "createTime": "2026-03-10T23:30:00+07:00", "desc": "malam",
             "stats": {"diggCount": 1, "playCount": 10, "shareCount": 0}},
            {"id": "9400", "createTime": "2026-03-11T00:30:00+07:00", "desc": "dini",
             "stats": {"diggCount": 1, "playCount": 10, "shareCount": 0}},
        ]}],
    }


async def test_a_post_belongs_to_the_wib_day_it_was_published_on(ingest_app: Ingest, sim: RunningSimulator) -> None:
    await ingest_app.register(DEMO)
    sim.replace_dataset(late_and_early_dataset(), today="2026-03-11")
    _, day_d = await ingest_app.tick(wib(23, 45))
    _, day_d1 = await ingest_app.tick(wib(0, 45, day=11))

    fetched_d = {p["post_id"]: p for p in of_type(day_d, "PostFetched")}
    fetched_d1 = {p["post_id"]: p for p in of_type(day_d1, "PostFetched")}
    assert set(fetched_d) == {"9100_5550001", "9300"}
    assert set(fetched_d1) == {"9200_5550001", "9400"}
    assert fetched_d["9100_5550001"]["created_at"] == "2026-03-10T16:30:00Z"
    assert fetched_d1["9400"]["created_at"] == "2026-03-10T17:30:00Z"
    assert completions(day_d)["POLRES_DEMO"].wib_date.isoformat() == "2026-03-10"
    d1 = completions(day_d1)["POLRES_DEMO"]
    assert d1.wib_date.isoformat() == "2026-03-11"
    assert refs(d1.posts) == {("instagram", "9200_5550001"), ("tiktok", "9400")}
    assert d1.changes.removed == [], "yesterday's posts are not removed today"


async def test_engagement_sets_are_cumulative_and_events_carry_only_additions(
    ingest_app: Ingest, sim: RunningSimulator
) -> None:
    await ingest_app.register(DEMO)
    _, first = await ingest_app.tick(wib(14, 5))
    likes = {p["post_id"]: p for p in of_type(first, "EngagementRefreshed") if p["kind"] == "likes"}
    comments = {p["post_id"]: p for p in of_type(first, "EngagementRefreshed") if p["kind"] == "comments"}
    assert set(likes) == {pid for platform, pid in DEMO_TODAY if platform == IG}
    assert set(comments) == {pid for platform, pid in DEMO_TODAY if platform != IG}
    post_id, refreshed = next(iter(likes.items()))
    assert refreshed["added_usernames"] == sorted(refreshed["added_usernames"])
    assert refreshed["engaged_total"] == len(refreshed["added_usernames"]) > 0

    # a later page shows one new liker and drops an old one (a partial page): the set only grows
    dataset = e2e_dataset_without("__none__")
    post = next(p for a in dataset["instagram"] for p in a["posts"] if p.get("id") == post_id)
    dropped = post["likers"].pop(0)
    post["likers"].append("New.Liker")
    sim.replace_dataset(dataset)
    _, second = await ingest_app.tick(wib(15, 5))
    again = [p for p in of_type(second, "EngagementRefreshed") if p["post_id"] == post_id]
    assert len(again) == 1 and again[0]["added_usernames"] == ["new.liker"]
    assert again[0]["engaged_total"] == refreshed["engaged_total"] + 1, f"{dropped} must stay counted"
    unchanged = [p for p in of_type(second, "EngagementRefreshed") if p["post_id"] != post_id]
    assert unchanged == [], "no news, no event"


@pytest.mark.parametrize("fault", [
    {"status": 429, "retry_after": 1, "times": 1},
    {"status": 500, "times": 2},
], ids=["429-retry-after", "500-twice"])
async def test_a_passing_fault_leaves_the_stored_result_right(
    ingest_app: Ingest, sim: RunningSimulator, fault: dict[str, Any]
) -> None:
    await ingest_app.register(DEMO)
    sim.add_fault("/v1/posts", **fault)
    _, events = await ingest_app.tick(wib(14, 5))
    demo = completions(events)["POLRES_DEMO"]
    assert demo.errors == [] and refs(demo.posts) == set(DEMO_TODAY)
    assert of_type(events, "OperationalAlertRaised") == []


async def test_an_endless_feed_stops_at_its_bound_and_removes_nothing(
    ingest_app: Ingest, sim: RunningSimulator
) -> None:
    await ingest_app.register(DEMO)
    await ingest_app.tick(wib(14, 5))
    sim.replace_dataset(e2e_dataset_without("C9demo1040b"))
    sim.reset_requests()
    sim.add_fault("/v1/posts", endless="fresh", times=1000)
    _, events = await ingest_app.tick(wib(15, 5))
    pages = sim.requests_to("/v1/posts")
    assert pages == ingest_app.service.settings.max_pages  # type: ignore[attr-defined]
    assert of_type(events, "PostRemoved") == [], "an unfinished feed is no proof that a post was removed"
    assert refs(completions(events)["POLRES_DEMO"].posts) == set(DEMO_TODAY)
