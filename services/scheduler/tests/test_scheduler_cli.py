"""``cicero-scheduler fire|pause|resume`` in-process, against the real database and broker."""

from __future__ import annotations

import asyncio
import json

import asyncpg
import pytest
from cicero_contracts.names import INGEST_EVENTS
from cicero_runtime.db import connect
from cicero_runtime.event_store import EventStore
from cicero_runtime.testing.bus import drain
from cicero_runtime.testing.contracts import assert_matches_contract
from cicero_runtime.topology import BusNames
from cicero_scheduler.main import main

AT = "2026-03-10T14:05:00+07:00"
TICK = "post-fetch:2026-03-10T07:05:00Z"


@pytest.fixture
def cli_env(
    monkeypatch: pytest.MonkeyPatch, database_url: str, amqp_url: str, scheduler_schema: str, bus_names: BusNames,
    restore_logging: None,
) -> BusNames:
    for name, value in {
        "DATABASE_URL": database_url, "AMQP_URL": amqp_url, "CICERO_DB_SCHEMA": scheduler_schema,
        "CICERO_NAMESPACE": bus_names.namespace, "HEALTH_PORT": "0", "SCHEDULER_CLOCK_ENABLED": "false",
        "LOG_FORMAT": "text", "RELAY_POLL_INTERVAL_S": "0.1", "STARTUP_TIMEOUT_S": "10",
    }.items():
        monkeypatch.setenv(name, value)
    return bus_names


def _main(argv: list[str]) -> tuple[int | str | None, bool]:
    try:
        return main(argv), False
    except SystemExit as exc:  # argparse's usage errors; never let it cross into the test's event loop
        return exc.code, True


async def run(*argv: str) -> int | str | None:
    """``main`` runs its own event loop (``asyncio.run``), so it gets a thread of its own."""
    code, exited = await asyncio.to_thread(_main, list(argv))
    assert not exited, f"main raised SystemExit({code!r})"
    return code


async def run_to_exit(*argv: str) -> int | str | None:
    code, exited = await asyncio.to_thread(_main, list(argv))
    assert exited, f"main returned {code!r} instead of exiting with a usage error"
    return code


async def state(database_url: str, schema: str) -> tuple[list[dict[str, object]], list[str]]:
    conn = await connect(database_url, schema)
    try:
        events = await EventStore("scheduler", schema).read_after(conn, 0, 1000)
        ticks = [r["tick_id"] for r in await conn.fetch("SELECT tick_id FROM ticks ORDER BY tick_id")]
    finally:
        await conn.close()
    for event in events:
        assert_matches_contract(event)
    return [e.payload for e in events], ticks




async def test_fire_publishes_the_tick_once_then_reports_it_already_fired(
    cli_env: BusNames, database_url: str, amqp_url: str, scheduler_schema: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await run("fire", "post-fetch", "--at", AT) == 0
    assert f"{TICK}: fired" in capsys.readouterr().out

    payloads, ticks = await state(database_url, scheduler_schema)
    assert ticks == [TICK]
    assert len(payloads) == 1
    assert payloads[0]["tick_id"] == TICK and payloads[0]["manual"] is True
    assert payloads[0]["scheduled_for"] == "2026-03-10T07:05:00Z"
    # fire returns only once the tick is on the bus: it is already in ingest's queue
    [message] = await drain(amqp_url, cli_env.queue(INGEST_EVENTS))
    body = json.loads(message.body)
    assert (body["event_type"], body["payload"]["tick_id"]) == ("TickFired", TICK)

    assert await run("fire", "post-fetch", "--at", AT) == 3
    assert f"{TICK}: already fired" in capsys.readouterr().out
    assert (await state(database_url, scheduler_schema))[0] == payloads
    assert await drain(amqp_url, cli_env.queue(INGEST_EVENTS)) == []


async def test_fire_reads_a_time_without_offset_as_wib(
    cli_env: BusNames, database_url: str, scheduler_schema: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await run("fire", "mandatory-post-fetch", "--at", "2026-03-10T17:05") == 0
    assert "mandatory-post-fetch:2026-03-10T10:05:00Z: fired" in capsys.readouterr().out
    payloads, _ = await state(database_url, scheduler_schema)
    assert [(p["phase"], p["mandatory"]) for p in payloads] == [("post_fetch", True)]


@pytest.mark.parametrize(("argv", "complaint"), [
    (["fire", "post-fetc", "--at", AT], "invalid choice: 'post-fetc'"),
    (["fire", "post-fetch", "--at", "yesterday"], "invalid ISO-8601 time 'yesterday'"),
    (["fire", "post-fetch", "--at", "2026-13-10T14:05"], "invalid ISO-8601 time '2026-13-10T14:05'"),
    (["pause", "nope"], "invalid choice: 'nope'"),
])
async def test_bad_arguments_fail_clearly_and_append_nothing(
    cli_env: BusNames, database_url: str, scheduler_schema: str, capsys: pytest.CaptureFixture[str],
    argv: list[str], complaint: str,
) -> None:
    assert await run_to_exit(*argv) == 2
    assert complaint in capsys.readouterr().err
    assert await state(database_url, scheduler_schema) == ([], [])


async def test_pause_and_resume_commands_set_the_stored_flag(
    cli_env: BusNames, database_url: str, scheduler_schema: str, capsys: pytest.CaptureFixture[str]
) -> None:
    async def paused() -> bool | None:
        conn: asyncpg.Connection = await connect(database_url, scheduler_schema)
        try:
            value: bool | None = await conn.fetchval(
                "SELECT paused FROM schedule_state WHERE schedule = 'post-fetch'")
            return value
        finally:
            await conn.close()

    assert await run("pause", "post-fetch") == 0
    assert "post-fetch: paused" in capsys.readouterr().out
    assert await paused() is True
    # a manual fire still works while paused
    assert await run("fire", "post-fetch", "--at", AT) == 0
    assert await run("resume", "post-fetch") == 0
    assert "post-fetch: running" in capsys.readouterr().out
    assert await paused() is False


async def test_list_shows_state_and_next_fire_times(cli_env: BusNames, capsys: pytest.CaptureFixture[str]) -> None:
    assert await run("pause", "daily-report") == 0
    capsys.readouterr()
    assert await run("list") == 0
    lines = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()}
    assert set(lines) == {"post-fetch", "mandatory-post-fetch", "engagement-only", "engagement-recap",
                          "reminders", "daily-report"}
    assert " paused " in lines["daily-report"] and " running " in lines["post-fetch"]
    assert "22:05" in lines["daily-report"] and "mandatory" in lines["mandatory-post-fetch"]
