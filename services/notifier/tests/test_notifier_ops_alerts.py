"""Operational alerts (DOMAIN §5): one summary per fetch run to the admins through the ``log`` session, through
the consumer as production wires it (FetchRunStarted, ClientFetchCompleted, OperationalAlertRaised in)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from cicero_contracts.schema_files import load_example
from cicero_notifier.main import build
from cicero_notifier.settings import NotifierSettings
from cicero_runtime.consumer import Outcome
from cicero_runtime.service import Service
from cicero_runtime.testing.contracts import assert_matches_contract, envelope_bytes
from cicero_runtime.testing.fixtures import service_settings, started_service
from cicero_runtime.topology import BusNames

ADMIN_1 = "6281200000001"
ADMIN_2 = "6281200000002"
RUN_1 = "post-fetch:2026-03-10T07:05:00Z"
RUN_2 = "post-fetch:2026-03-10T07:30:00Z"
ENGAGEMENT = "engagement:2026-03-10T07:20:00Z"
IG_500 = "GET /v1/posts answered 500 after 4 attempts"


@pytest_asyncio.fixture
async def ops(database_url: str, amqp_url: str, namespace: str, bus_names: BusNames, notifier_schema: str
              ) -> AsyncIterator[Service]:
    settings = service_settings(NotifierSettings, database_url, notifier_schema, namespace, amqp_url=amqp_url,
                                admin_whatsapp_numbers=["081200000001", "6281200000002"])
    async with started_service(build(settings)) as service:
        await register_clients(service)
        yield service


async def handle(service: Service, event_type: str, payload: dict[str, Any] | None = None,
                 event_id: uuid.UUID | None = None) -> str:
    return await service.make_consumer("notifier").process(envelope_bytes(event_type, payload, event_id=event_id))


async def register_clients(service: Service) -> None:
    example = load_example("ClientRegistered", 1)
    for client_id in ("POLRES_DEMO", "POLRES_B", "DITBINMAS"):
        assert await handle(service, "ClientRegistered", example | {"client_id": client_id}) == Outcome.HANDLED


async def summaries(service: Service) -> list[dict[str, Any]]:
    async with service.pool.acquire() as conn:
        events = await service.store.read_after(conn, 0, 1000)
    for event in events:
        assert_matches_contract(event)
    found = [e for e in events if e.event_type == "WhatsAppMessageRequested" and e.payload["purpose"] == "ops_summary"]
    for event in found:
        assert event.stream_id == f"ops:{event.payload['idempotency_key'].split(':', 1)[1].rsplit(':', 1)[0]}"
    return [e.payload for e in found]


def texts_by_run(sent: list[dict[str, Any]]) -> dict[str, str]:
    """One text per run (every admin gets the same); checks the admins and the keys on the way."""
    by_run: dict[str, set[str]] = {}
    for payload in sent:
        run_id, admin = payload["idempotency_key"].removeprefix("ops:").rsplit(":", 1)
        assert payload["chat_id"] == f"{admin}@c.us" and payload["session"] == "log"
        by_run.setdefault(run_id, set()).add(payload["text"])
    assert all(len(t) == 1 for t in by_run.values())
    assert sorted(p["chat_id"] for p in sent) == sorted(
        f"{a}@c.us" for a in (ADMIN_1, ADMIN_2) for _ in by_run), "every admin once per run"
    return {run_id: t.pop() for run_id, t in by_run.items()}


async def start(service: Service, run_id: str, clients: list[str], *, event_id: uuid.UUID | None = None) -> None:
    scheduled_for = run_id.split(":", 1)[1]
    payload = {"tick_id": run_id, "phase": "engagement_only" if run_id.startswith("engagement") else "post_fetch",
               "mandatory": False, "scheduled_for": scheduled_for, "client_ids": clients}
    assert await handle(service, "FetchRunStarted", payload, event_id=event_id) == Outcome.HANDLED


async def complete(service: Service, run_id: str, client_id: str, errors: list[dict[str, Any]] | None = None,
                   event_id: uuid.UUID | None = None) -> None:
    fetched_at = run_id.split(":", 1)[1]
    payload = load_example("ClientFetchCompleted", 1) | {
        "client_id": client_id, "tick_id": run_id, "fetched_at": fetched_at, "errors": errors or [],
        "phase": "engagement_only" if run_id.startswith("engagement") else "post_fetch"}
    assert await handle(service, "ClientFetchCompleted", payload, event_id=event_id) == Outcome.HANDLED


async def alert(service: Service, **changes: Any) -> None:
    assert await handle(service, "OperationalAlertRaised",
                        load_example("OperationalAlertRaised", 1) | changes) == Outcome.HANDLED


async def test_one_summary_per_admin_after_the_last_client_with_the_errors_aggregated(ops: Service) -> None:
    await start(ops, RUN_1, ["POLRES_DEMO", "POLRES_B", "DITBINMAS"])
    # ingest's alert for POLRES_DEMO repeats the errors its completion carries: counted once
    await alert(ops, details=[f"instagram: {IG_500}"])
    await complete(ops, RUN_1, "POLRES_DEMO", [{"platform": "instagram", "message": IG_500}])
    await complete(ops, RUN_1, "POLRES_B")
    assert await summaries(ops) == [], "nothing before every client of the run completed"
    await alert(ops, source="attendance", client_id=None, summary="proyeksi tertunda 2 menit", details=[])
    last = uuid.uuid4()
    await complete(ops, RUN_1, "DITBINMAS", [{"platform": "tiktok", "post_id": "7345", "message": "comments: timeout"},
                                             {"platform": "instagram", "message": IG_500}], event_id=last)
    sent = await summaries(ops)
    assert len(sent) == 2
    assert {p["idempotency_key"] for p in sent} == {f"ops:{RUN_1}:{ADMIN_1}", f"ops:{RUN_1}:{ADMIN_2}"}
    assert {p["requested_at"] for p in sent} == {"2026-03-10T07:05:00Z"}
    assert {p["client_id"] for p in sent} == {None}
    text = texts_by_run(sent)[RUN_1]
    assert text.splitlines() == [
        "🛠️ *Ringkasan Run post-fetch*",
        "Selasa, 10 Maret 2026 14:05 WIB · konten + likes/komentar",
        "Status: ✅ selesai, 3/3 client",
        "Galat: 4 pada 2 client",
        "• DITBINMAS (2)",
        "  - tiktok 7345: comments: timeout",
        f"  - instagram: {IG_500}",
        "• POLRES_DEMO (1)",
        f"  - instagram: {IG_500}",
        "• Umum (1)",
        "  - proyeksi tertunda 2 menit",
    ]
    rows = await ops.pool.fetch("SELECT purpose, wib_date::text AS d FROM notifications WHERE purpose = 'ops_summary'")
    assert [(r["purpose"], r["d"]) for r in rows] == [("ops_summary", "2026-03-10")] * 2

    # a redelivery, a repeated completion, and a late copy of reported errors add nothing
    assert await handle(ops, "ClientFetchCompleted", event_id=last) == Outcome.DUPLICATE
    await complete(ops, RUN_1, "DITBINMAS")
    await alert(ops, client_id="DITBINMAS", details=["tiktok 7345: comments: timeout"])
    await start(ops, RUN_1, ["POLRES_DEMO", "POLRES_B", "DITBINMAS"])  # the announcement again
    assert len(await summaries(ops)) == 2
    await start(ops, RUN_2, [])  # the next run: the late copy was already reported, it is not listed again
    assert "Peringatan di luar run" not in texts_by_run(await summaries(ops))[RUN_2]


async def test_completions_that_arrive_before_the_runs_announcement_count(ops: Service) -> None:
    await complete(ops, RUN_1, "POLRES_DEMO")
    await complete(ops, RUN_1, "POLRES_B")
    assert await summaries(ops) == []
    await start(ops, RUN_1, ["POLRES_DEMO", "POLRES_B"])
    assert "Status: ✅ selesai, 2/2 client" in texts_by_run(await summaries(ops))[RUN_1]


async def test_a_run_that_never_completes_is_summarised_as_incomplete_when_the_next_run_starts(ops: Service) -> None:
    await start(ops, RUN_1, ["POLRES_DEMO", "POLRES_B", "DITBINMAS"])
    await complete(ops, RUN_1, "POLRES_B", [{"platform": "instagram", "message": IG_500}])
    await start(ops, ENGAGEMENT, ["POLRES_DEMO"])  # another schedule's run does not close it
    assert await summaries(ops) == []
    await start(ops, RUN_2, ["POLRES_DEMO", "POLRES_B", "DITBINMAS"])
    sent = await summaries(ops)
    assert {p["idempotency_key"].rsplit(":", 1)[0] for p in sent} == {f"ops:{RUN_1}"}
    assert {p["requested_at"] for p in sent} == {"2026-03-10T07:30:00Z"}, "decided at the next run's time"
    text = texts_by_run(sent)[RUN_1]
    assert "Status: ⚠️ TIDAK SELESAI, 1/3 client" in text
    assert "Belum selesai: POLRES_DEMO, DITBINMAS" in text
    assert f"• POLRES_B (1)\n  - instagram: {IG_500}" in text
    # the missing client completing late changes nothing; the engagement run completes on its own
    await complete(ops, RUN_1, "POLRES_DEMO")
    await complete(ops, RUN_1, "DITBINMAS")
    assert len(await summaries(ops)) == 2
    await complete(ops, ENGAGEMENT, "POLRES_DEMO")
    assert set(texts_by_run(await summaries(ops))) == {RUN_1, ENGAGEMENT}


async def test_alerts_without_a_known_run_go_into_the_next_summary_once(ops: Service) -> None:
    await alert(ops, source="wa-gateway", run_id=None, client_id=None, summary="sesi log terputus", details=[],
                raised_at="2026-03-10T07:00:00Z")
    await alert(ops, run_id="manual:wamid.1", summary="POLRES_DEMO: 1 fetch error(s) in manual:wamid.1",
                raised_at="2026-03-10T07:01:00Z")
    await alert(ops, source="wa-gateway", run_id=None, client_id=None, summary="raised after the run's time",
                details=[], raised_at="2026-03-10T07:10:00Z")
    await start(ops, RUN_1, ["POLRES_DEMO"])
    await complete(ops, RUN_1, "POLRES_DEMO")
    text = texts_by_run(await summaries(ops))[RUN_1]
    assert text.splitlines()[-3:] == [
        "Peringatan di luar run (2):",
        "• [wa-gateway] sesi log terputus",
        "• [ingest · POLRES_DEMO · manual:wamid.1] POLRES_DEMO: 1 fetch error(s) in manual:wamid.1",
    ]
    assert "Galat: tidak ada" in text, "alerts of no run are not the run's errors"
    await start(ops, RUN_2, ["POLRES_B"])
    await complete(ops, RUN_2, "POLRES_B")
    second = texts_by_run(await summaries(ops))[RUN_2]
    assert second.splitlines()[-2:] == ["Peringatan di luar run (1):", "• [wa-gateway] raised after the run's time"]


async def test_an_empty_run_is_summarised_when_it_starts(ops: Service) -> None:
    await start(ops, RUN_1, [])
    assert "Status: ✅ selesai, 0/0 client" in texts_by_run(await summaries(ops))[RUN_1]


async def test_without_admin_numbers_nothing_is_sent_and_it_is_logged_once(
    notifier: Service, caplog: pytest.LogCaptureFixture
) -> None:
    await register_clients(notifier)
    with caplog.at_level(logging.WARNING, logger="cicero_notifier.ops_alerts"):
        for run_id in (RUN_1, RUN_2):
            await start(notifier, run_id, ["POLRES_DEMO"])
            await complete(notifier, run_id, "POLRES_DEMO")
    assert await summaries(notifier) == []
    outcomes = await notifier.pool.fetch("SELECT run_id, outcome FROM ops_runs ORDER BY run_id")
    assert [(r["run_id"], r["outcome"]) for r in outcomes] == [(RUN_1, "complete"), (RUN_2, "complete")]
    warned = [r for r in caplog.records if "no admin WhatsApp numbers" in r.getMessage()]
    assert len(warned) == 1


def test_a_bad_admin_number_is_refused_at_start_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """A typo in ADMIN_WHATSAPP_NUMBERS would silently leave an admin without alerts: refused, named."""
    monkeypatch.setenv("ADMIN_WHATSAPP_NUMBERS", "0812-0000-0001, 12")
    with pytest.raises(ValueError, match="ADMIN_WHATSAPP_NUMBERS entry '12'"):
        NotifierSettings()
    monkeypatch.setenv("ADMIN_WHATSAPP_NUMBERS", "0812-0000-0001, +62 812 0000 0002,")
    assert NotifierSettings().admin_whatsapp_numbers == ["6281200000001", "6281200000002"]
    monkeypatch.setenv("ADMIN_WHATSAPP_NUMBERS", '["081200000001"]')  # a JSON list, as pydantic-settings reads lists
    assert NotifierSettings().admin_whatsapp_numbers == ["6281200000001"]
