"""The client's ``reminders_enabled`` flag: CSV column, upsert switches, the events that carry it, and a
rebuild that keeps it (the journal is the only source of the clients table)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from cicero_attendance.client_import import parse_clients_csv
from cicero_attendance.directory_store import apply_clients
from cicero_attendance.projector import PROJECTION_TABLES, Projector
from cicero_attendance.rebuild import rebuild
from cicero_contracts.events.directory import ClientSnapshot, ClientType
from cicero_runtime.service import Service
from cicero_runtime.testing.contracts import appended_events

Cli = Callable[..., Awaitable[int]]
HEADER = "client_id,name,client_type,reminders_enabled"


def parse(*rows: str) -> list[ClientSnapshot]:
    result = parse_clients_csv("\n".join((HEADER, *rows)) + "\n")
    assert result.errors == []
    return result.clients


@pytest.mark.parametrize(("cell", "expected"), [("ya", True), ("TIDAK", False), ("off", False), ("", True)])
def test_the_column_reads_yes_no_and_defaults_to_on(cell: str, expected: bool) -> None:
    (client,) = parse(f"POLRES_A,Polres A,ORG,{cell}")
    assert client.reminders_enabled is expected


def test_a_file_without_the_column_keeps_reminders_on() -> None:
    (client,) = parse_clients_csv("client_id,name,client_type\nPOLRES_A,Polres A,ORG\n").clients
    assert client.reminders_enabled is True


def test_a_bad_value_is_an_error_on_its_line() -> None:
    result = parse_clients_csv(f"{HEADER}\nPOLRES_A,Polres A,ORG,ya\nPOLRES_B,Polres B,ORG,kadang\n")
    assert [str(e) for e in result.errors] == ["line 3: reminders_enabled: 'kadang' is not yes/no"]


async def stored(service: Service) -> dict[str, bool]:
    rows = await service.pool.fetch("SELECT client_id, reminders_enabled FROM clients ORDER BY client_id")
    return {r["client_id"]: r["reminders_enabled"] for r in rows}


async def directory_events(service: Service) -> list[tuple[str, str, bool]]:
    return [(e.event_type, e.payload["client_id"], e.payload["reminders_enabled"])
            for e in await appended_events(service)]


async def test_the_column_round_trips_through_events_and_table(attendance: Service) -> None:
    projector = Projector()
    first = parse("POLRES_A,Polres A,ORG,tidak", "DITBINMAS,Ditbinmas,DIREKTORAT,")
    async with attendance.pool.acquire() as conn:
        await apply_clients(conn, attendance.store, projector, first, "import:1")
        again = await apply_clients(conn, attendance.store, projector, first, "import:2")
        assert again.unchanged == ["POLRES_A", "DITBINMAS"]  # a re-import of the same file changes nothing
        changed = await apply_clients(conn, attendance.store, projector,
                                      parse("POLRES_A,Polres A,ORG,ya"), "import:3")
    assert changed.updated == ["POLRES_A"]
    assert await directory_events(attendance) == [("ClientRegistered", "POLRES_A", False),
                                                  ("ClientRegistered", "DITBINMAS", True),
                                                  ("ClientUpdated", "POLRES_A", True)]
    assert await stored(attendance) == {"DITBINMAS": True, "POLRES_A": True}


async def test_upsert_switches_and_a_rebuild_keep_the_flag(attendance_cli: Cli, attendance: Service,
                                                           database_url: str,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    assert await attendance_cli("client", "upsert", "POLRES_A", "--name", "Polres A", "--type", "ORG",
                                "--reminders-disabled") == 0
    assert await attendance_cli("client", "upsert", "POLRES_B", "--name", "Polres B", "--type", "ORG") == 0
    assert await stored(attendance) == {"POLRES_A": False, "POLRES_B": True}
    assert await attendance_cli("client", "upsert", "POLRES_B", "--reminders-disabled") == 0
    assert await attendance_cli("client", "upsert", "POLRES_A", "--reminders-enabled") == 0
    assert await attendance_cli("client", "upsert", "POLRES_A", "--reminders-enabled") == 0
    assert capsys.readouterr().out.strip().split("\n")[-1] == "client POLRES_A unchanged: it already is as given"
    assert await stored(attendance) == {"POLRES_A": True, "POLRES_B": False}
    assert [e[0] for e in await directory_events(attendance)] == ["ClientRegistered"] * 2 + ["ClientUpdated"] * 2

    check = await rebuild(database_url, attendance.schema, Projector(), swap=False)
    assert check.differences == dict.fromkeys(PROJECTION_TABLES, 0)
    report = await rebuild(database_url, attendance.schema, Projector())
    assert report.swapped
    assert await stored(attendance) == {"POLRES_A": True, "POLRES_B": False}
    expected = ClientSnapshot(client_id="POLRES_B", name="Polres B", client_type=ClientType.ORG,
                              reminders_enabled=False)
    row = await attendance.pool.fetchrow("SELECT * FROM clients WHERE client_id = 'POLRES_B'")
    assert row is not None and ClientSnapshot.model_validate(dict(row)) == expected
