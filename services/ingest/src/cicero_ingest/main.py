"""``cicero-ingest``: fetch clients' posts from the platforms on every tick."""

from __future__ import annotations

import argparse
import sys
import uuid
from collections.abc import Callable
from typing import Any, cast

from cicero_contracts.events.directory import ClientDeactivated, ClientRegistered, ClientUpdated
from cicero_contracts.events.ingest import ClientFetchRequested
from cicero_contracts.events.notifier import ManualFetchRequested
from cicero_contracts.events.scheduler import TickFired
from cicero_contracts.names import INGEST_EVENTS, INGEST_FETCH_JOBS
from cicero_runtime.clock import utc_now
from cicero_runtime.consumer import EventConsumer, HandlerContext
from cicero_runtime.event_store import Metadata
from cicero_runtime.service import Service, run_cli
from cicero_runtime.settings import RuntimeSettings
from cicero_runtime.tracing import inject_headers

from cicero_ingest.directory import on_client_deactivated, on_client_snapshot
from cicero_ingest.fetching import on_fetch_requested, on_tick
from cicero_ingest.manual_fetch import on_manual_fetch_requested
from cicero_ingest.manual_input import InvalidPostLink, fetch_linked_post, parse_post_link, record_manual_post
from cicero_ingest.posts import MalformedItem
from cicero_ingest.rapidapi import PlatformError, RapidApiClient
from cicero_ingest.settings import IngestSettings

SCHEMA = "ingest"


def build(settings: RuntimeSettings) -> Service:
    service = Service("ingest", SCHEMA, settings)
    api = RapidApiClient(cast(IngestSettings, settings))
    service.on_stop(api.close)

    def register(consumer: EventConsumer) -> None:
        consumer.on(ClientRegistered)(on_client_snapshot)
        consumer.on(ClientUpdated)(on_client_snapshot)
        consumer.on(ClientDeactivated)(on_client_deactivated)

        consumer.on(TickFired)(on_tick)
        consumer.on(ManualFetchRequested)(on_manual_fetch_requested)

    def register_jobs(consumer: EventConsumer) -> None:
        @consumer.on(ClientFetchRequested)
        async def fetch(job: ClientFetchRequested, ctx: HandlerContext) -> None:
            await on_fetch_requested(job, ctx, api)

    service.consumer("ingest", INGEST_EVENTS, register)
    # one job per transaction: each holds its client's lock only while that client is fetched
    service.consumer("ingest-fetch", INGEST_FETCH_JOBS, register_jobs, batch_size=1)
    return service


def add_commands(sub: argparse._SubParsersAction[Any], make_service: Callable[[], Service]) -> None:
    cmd = sub.add_parser("add-post", help="fetch one post by its link and record it as manual input for today")
    cmd.add_argument("client_id")
    cmd.add_argument("link", help="instagram.com/p/<code>/ or tiktok.com/@<user>/video/<id>")
    cmd.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for the publish")

    async def do_add(args: argparse.Namespace) -> int:
        try:
            link = parse_post_link(args.link)
        except InvalidPostLink as exc:
            print(f"cicero-ingest add-post: {exc}", file=sys.stderr)
            return 2
        service = make_service()
        api = RapidApiClient(cast(IngestSettings, service.settings))
        service.on_stop(api.close)
        async with service.one_shot(publishing=True):
            try:
                post = await fetch_linked_post(api, link)
            except (PlatformError, MalformedItem) as exc:
                print(f"cicero-ingest add-post: cannot fetch {args.link}: {exc}", file=sys.stderr)
                return 1
            headers = inject_headers()
            async with service.pool.acquire() as conn:
                try:
                    recorded = await record_manual_post(
                        conn, service.store, args.client_id.upper(), post, utc_now(),
                        Metadata(correlation_id=f"manual:{uuid.uuid4()}", traceparent=headers.get("traceparent")))
                except LookupError as exc:
                    print(f"cicero-ingest add-post: {exc.args[0]}", file=sys.stderr)
                    return 1
            if recorded is None:
                print(f"{post.platform.value} {post.post_id}: already one of {args.client_id.upper()}'s posts")
                return 0
            await service.wait_published(recorded.global_position, args.timeout)
        print(f"{post.platform.value} {post.post_id}: recorded as manual input for {args.client_id.upper()}")
        return 0

    cmd.set_defaults(handler=do_add)


def main(argv: list[str] | None = None) -> int:
    return run_cli("ingest", SCHEMA, build, settings_factory=IngestSettings, extra_commands=add_commands,
                   argv=argv)


if __name__ == "__main__":
    raise SystemExit(main())
