"""``cicero-ingest``: fetch clients' posts from the platforms on every tick."""

from __future__ import annotations

from typing import cast

from cicero_contracts.events.directory import ClientDeactivated, ClientRegistered, ClientUpdated
from cicero_contracts.events.ingest import ClientFetchRequested
from cicero_contracts.events.scheduler import TickFired
from cicero_contracts.names import INGEST_EVENTS, INGEST_FETCH_JOBS
from cicero_runtime.consumer import EventConsumer, HandlerContext
from cicero_runtime.service import Service, run_cli
from cicero_runtime.settings import RuntimeSettings

from cicero_ingest.directory import on_client_deactivated, on_client_snapshot
from cicero_ingest.fetching import on_fetch_requested, on_tick
from cicero_ingest.rapidapi import RapidApiClient
from cicero_ingest.settings import IngestSettings

SCHEMA = "ingest"


def build(settings: RuntimeSettings) -> Service:
    service = Service("ingest", SCHEMA, settings)
    api = RapidApiClient(cast(IngestSettings, settings))

    def register(consumer: EventConsumer) -> None:
        consumer.on(ClientRegistered)(on_client_snapshot)
        consumer.on(ClientUpdated)(on_client_snapshot)
        consumer.on(ClientDeactivated)(on_client_deactivated)

        consumer.on(TickFired)(on_tick)

    def register_jobs(consumer: EventConsumer) -> None:
        @consumer.on(ClientFetchRequested)
        async def fetch(job: ClientFetchRequested, ctx: HandlerContext) -> None:
            await on_fetch_requested(job, ctx, api)

    service.consumer("ingest", INGEST_EVENTS, register)
    # one job per transaction: each holds its client's lock only while that client is fetched
    service.consumer("ingest-fetch", INGEST_FETCH_JOBS, register_jobs, batch_size=1)
    return service


def main(argv: list[str] | None = None) -> int:
    return run_cli("ingest", SCHEMA, build, settings_factory=IngestSettings, argv=argv)


if __name__ == "__main__":
    raise SystemExit(main())
