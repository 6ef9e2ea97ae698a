"""``cicero-ingest add-post``: one post by its link, recorded as manual input."""

from __future__ import annotations

import asyncio

import pytest
from cicero_contracts.events.common import Platform
from cicero_ingest.main import main
from cicero_ingest.manual_input import InvalidPostLink, PostLink, parse_post_link
from cicero_rapidapi_sim.server import RunningSimulator
from cicero_runtime.service import Service
from cicero_runtime.testing.contracts import assert_matches_contract, envelope_bytes
from cicero_runtime.topology import BusNames


@pytest.mark.parametrize(("raw", "expected"), [
    ("https://www.instagram.com/p/C4abcDEFghi/", PostLink(Platform.INSTAGRAM, "C4abcDEFghi")),
    ("instagram.com/reel/C4reelXYZ12/?igsh=abc", PostLink(Platform.INSTAGRAM, "C4reelXYZ12")),
    ("https://www.instagram.com/divhumaspolri/p/C4abcDEFghi/", PostLink(Platform.INSTAGRAM, "C4abcDEFghi")),
    ("https://www.tiktok.com/@Divhumas_Polri/video/7345012345678901234?lang=id",
     PostLink(Platform.TIKTOK, "7345012345678901234", "divhumas_polri")),
])
def test_post_links_are_understood(raw: str, expected: PostLink) -> None:
    assert parse_post_link(raw) == expected


@pytest.mark.parametrize("raw", [
    "https://www.instagram.com/divhumaspolri/", "https://www.facebook.com/p/C4abcDEFghi/",
    "https://vm.tiktok.com/ZMabc123/", "C4abcDEFghi", "",
])
def test_other_links_are_refused_with_a_clear_reason(raw: str) -> None:
    with pytest.raises(InvalidPostLink, match="not an Instagram post link"):
        parse_post_link(raw)


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, database_url: str, amqp_url: str, ingest: Service,
            bus_names: BusNames, sim: RunningSimulator, restore_logging: None) -> None:
    for name, value in {
        "DATABASE_URL": database_url, "AMQP_URL": amqp_url, "CICERO_DB_SCHEMA": ingest.schema,
        "CICERO_NAMESPACE": bus_names.namespace, "HEALTH_PORT": "0", "LOG_FORMAT": "text",
        "INSTAGRAM_BASE_URL": sim.base_url, "TIKTOK_BASE_URL": sim.base_url, "RAPIDAPI_KEY": sim.api_key,
        "RELAY_POLL_INTERVAL_S": "0.1",
    }.items():
        monkeypatch.setenv(name, value)


async def add_post(*argv: str) -> int:
    return await asyncio.to_thread(main, ["add-post", *argv])


async def test_add_post_records_manual_input_once(
    cli_env: None, ingest: Service, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await ingest.make_consumer("ingest").process(envelope_bytes("ClientRegistered")) == "handled"
    link = "https://www.instagram.com/p/C9demoPin01/"  # yesterday's pinned post, added by hand today
    assert await add_post("polres_demo", link) == 0
    assert "recorded as manual input for POLRES_DEMO" in capsys.readouterr().out
    assert await add_post("POLRES_DEMO", link) == 0
    assert "already one of POLRES_DEMO's posts" in capsys.readouterr().out

    async with ingest.pool.acquire() as conn:
        events = await ingest.store.read_after(conn, 0, 100)
        row = await conn.fetchrow("SELECT * FROM posts WHERE post_id = '3550000000000000001_5550001'")
    fetched = [e for e in events if e.event_type == "PostFetched"]
    assert len(fetched) == 1
    assert_matches_contract(fetched[0])
    payload = fetched[0].payload
    assert payload["source_type"] == "manual_input" and payload["tick_id"] is None
    assert payload["original_created_at"] == "2026-03-09T09:00:00Z"  # 16:00 WIB, the platform's time
    assert payload["created_at"] != payload["original_created_at"]  # counts for the day it was input
    assert row["source_type"] == "manual_input" and not row["removed"]


async def test_add_post_fails_clearly(cli_env: None, ingest: Service, capsys: pytest.CaptureFixture[str]) -> None:
    assert await add_post("POLRES_DEMO", "https://example.org/x") == 2
    assert "not an Instagram post link" in capsys.readouterr().err
    assert await add_post("NO_SUCH_UNIT", "https://www.instagram.com/p/C9demo0815a/") == 1
    assert "unknown client 'NO_SUCH_UNIT'" in capsys.readouterr().err
    assert await ingest.make_consumer("ingest").process(envelope_bytes("ClientRegistered")) == "handled"
    assert await add_post("POLRES_DEMO", "https://www.instagram.com/p/NoSuchPost1/") == 1
    assert "cannot fetch" in capsys.readouterr().err
    async with ingest.pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM posts") == 0
