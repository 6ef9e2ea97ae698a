"""A tick announces its run (FetchRunStarted) beside its jobs; an operator's ManualFetchRequested becomes one job."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from cicero_contracts.schema_files import load_example
from cicero_runtime.service import Service
from cicero_runtime.testing.contracts import appended_events, envelope_bytes

DEMO: dict[str, Any] = load_example("ClientRegistered", 1)
CONTOH: dict[str, Any] = DEMO | {"client_id": "POLRES_CONTOH", "name": "Polres Contoh",
                                 "instagram_username": "polres_contoh", "tiktok_username": "polres_contoh_tt"}
LAMA: dict[str, Any] = DEMO | {"client_id": "POLRES_LAMA", "name": "Polres Lama", "active": False}


def tick(at: str, phase: str = "post_fetch", schedule: str = "post-fetch", mandatory: bool = False
         ) -> dict[str, Any]:
    return {"tick_id": f"{schedule}:{at}", "schedule": schedule, "phase": phase, "scheduled_for": at,
            "fired_at": at, "mandatory": mandatory, "manual": False}


async def deliver(service: Service, event_type: str, payload: dict[str, Any] | None = None,
                  event_id: uuid.UUID | None = None) -> str:
    return await service.make_consumer("ingest").process(envelope_bytes(event_type, payload, event_id=event_id))


async def register(service: Service, *clients: dict[str, Any]) -> None:
    for client in clients:
        assert await deliver(service, "ClientRegistered", client) == "handled"


async def test_a_fetch_tick_announces_its_run_before_its_jobs_in_one_stream(ingest: Service) -> None:
    await register(ingest, DEMO, CONTOH, LAMA)
    tick_event = uuid.uuid4()
    assert await deliver(ingest, "TickFired", tick("2026-03-10T07:05:00Z", mandatory=True),
                         event_id=tick_event) == "handled"
    events = await appended_events(ingest)
    assert [e.event_type for e in events] == ["FetchRunStarted", "ClientFetchRequested", "ClientFetchRequested"]
    run = events[0]
    assert run.payload == {"tick_id": "post-fetch:2026-03-10T07:05:00Z", "phase": "post_fetch", "mandatory": True,
                           "scheduled_for": "2026-03-10T07:05:00Z",
                           "client_ids": ["POLRES_CONTOH", "POLRES_DEMO"]}  # the inactive client is not fetched
    assert [j.payload["client_id"] for j in events[1:]] == run.payload["client_ids"]
    # one stream, one append: the run is version 1, its jobs follow, all caused by the tick
    assert {e.stream_id for e in events} == {"fetch-jobs:post-fetch:2026-03-10T07:05:00Z"}
    assert [e.stream_version for e in events] == [1, 2, 3]
    assert {e.metadata["causation_id"] for e in events} == {str(tick_event)}
    # a redelivered tick announces nothing twice
    assert await deliver(ingest, "TickFired", tick("2026-03-10T07:05:00Z", mandatory=True),
                         event_id=tick_event) == "duplicate"
    assert len(await appended_events(ingest)) == 3


async def test_an_engagement_tick_announces_its_run_and_other_phases_do_not(ingest: Service) -> None:
    await register(ingest, DEMO)
    assert await deliver(ingest, "TickFired", tick("2026-03-10T11:00:00Z", "engagement_only",
                                                   "engagement")) == "handled"
    (run, job) = await appended_events(ingest)
    assert (run.event_type, run.payload["phase"], run.payload["client_ids"]) == (
        "FetchRunStarted", "engagement_only", ["POLRES_DEMO"])
    assert job.payload["tick_id"] == "engagement:2026-03-10T11:00:00Z"
    for phase in ("engagement_recap", "reminder", "daily_report"):
        assert await deliver(ingest, "TickFired", tick("2026-03-10T15:05:00Z", phase, phase)) == "handled"
    assert len(await appended_events(ingest)) == 2


async def test_a_tick_without_active_clients_still_announces_an_empty_run(ingest: Service) -> None:
    await register(ingest, LAMA)
    assert await deliver(ingest, "TickFired", tick("2026-03-10T07:30:00Z")) == "handled"
    (run,) = await appended_events(ingest)
    assert (run.event_type, run.payload["client_ids"]) == ("FetchRunStarted", [])


async def test_a_manual_fetch_request_enqueues_one_job_that_fetches_the_client(ingest: Service) -> None:
    await register(ingest, DEMO, CONTOH)
    request_id = uuid.uuid4()
    assert await deliver(ingest, "ManualFetchRequested", event_id=request_id) == "handled"  # the example
    (job,) = await appended_events(ingest)
    assert job.event_type == "ClientFetchRequested"
    assert job.payload == {"client_id": "POLRES_DEMO", "tick_id": "manual:wamid.HBgLNjI4MTIzNDU2Nzg6",
                           "phase": "post_fetch", "scheduled_for": "2026-03-10T08:12:00Z", "mandatory": False}
    assert job.stream_id == "fetch-jobs:manual:wamid.HBgLNjI4MTIzNDU2Nzg6"
    assert job.metadata["causation_id"] == str(request_id)
    assert await deliver(ingest, "ManualFetchRequested", event_id=request_id) == "duplicate"
    assert len(await appended_events(ingest)) == 1

    # the job runs like any other and completes under the manual tick id, at the time of the request
    jobs = ingest.make_consumer("ingest-fetch")
    assert await jobs.process(job.envelope().model_dump_json().encode()) == "handled"
    completed = [e for e in await appended_events(ingest, job.global_position)
                 if e.event_type == "ClientFetchCompleted"]
    assert [(c.payload["client_id"], c.payload["tick_id"]) for c in completed] == [
        ("POLRES_DEMO", "manual:wamid.HBgLNjI4MTIzNDU2Nzg6")]
    assert datetime.fromisoformat(completed[0].payload["fetched_at"]) == datetime(2026, 3, 10, 8, 12, tzinfo=UTC)
    assert completed[0].payload["posts"], "today's posts of the simulated account"


async def test_a_manual_fetch_for_an_unknown_or_inactive_client_enqueues_nothing(ingest: Service) -> None:
    await register(ingest, LAMA)
    example = load_example("ManualFetchRequested", 1)
    assert await deliver(ingest, "ManualFetchRequested", example) == "handled"  # POLRES_DEMO: unknown here
    assert await deliver(ingest, "ManualFetchRequested", example | {"client_id": "POLRES_LAMA"}) == "handled"
    assert await appended_events(ingest) == []
