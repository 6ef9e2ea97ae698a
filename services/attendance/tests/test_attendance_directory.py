"""Applying a clients import: one event per real change, a re-import is a no-op; the CLI refuses each bad row on
its own and imports the rest."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from cicero_attendance.client_import import parse_clients_csv
from cicero_attendance.directory_store import apply_clients
from cicero_attendance.projector import Projector
from cicero_contracts.events.directory import ClientSnapshot
from cicero_runtime.event_store import RecordedEvent
from cicero_runtime.service import Service
from cicero_runtime.testing.contracts import assert_matches_contract

DEMO_CSV = Path(__file__).resolve().parents[3] / "examples" / "clients.csv"
PROJECTOR = Projector()
Cli = Callable[..., Awaitable[int]]


def demo_clients() -> list[ClientSnapshot]:
    result = parse_clients_csv(DEMO_CSV.read_text(encoding="utf-8"))
    assert result.errors == []
    return result.clients


async def recorded(service: Service) -> list[RecordedEvent]:
    async with service.pool.acquire() as conn:
        return await service.store.read_after(conn, 0, 1000)


async def client_rows(service: Service) -> dict[str, ClientSnapshot]:
    rows = await service.pool.fetch("SELECT * FROM clients ORDER BY client_id")
    return {r["client_id"]: ClientSnapshot.model_validate(dict(r)) for r in rows}


async def test_first_import_registers_every_client(attendance: Service) -> None:
    clients = demo_clients()
    async with attendance.pool.acquire() as conn:
        report = await apply_clients(conn, attendance.store, PROJECTOR, clients, "import:test")
    assert report.registered == ["POLRES_DEMO", "POLRES_CONTOH"]
    assert report.updated == [] and report.unchanged == []
    events = await recorded(attendance)
    assert [(e.event_type, e.stream_id, e.stream_version) for e in events] == [
        ("ClientRegistered", "client:POLRES_DEMO", 1), ("ClientRegistered", "client:POLRES_CONTOH", 1)]
    assert [e.global_position for e in report.recorded] == [e.global_position for e in events]
    for event in events:
        assert_matches_contract(event)
        assert event.metadata["correlation_id"] == "import:test"
        assert event.metadata["producer"] == "attendance"
    assert events[0].payload == clients[0].model_dump(mode="json")
    assert await client_rows(attendance) == {c.client_id: c for c in clients}
    # the projector wrote the rows: journalled, with the event's time as updated_at
    journal = await attendance.pool.fetch("SELECT event_id, event_type FROM journal ORDER BY position")
    assert [(r["event_id"], r["event_type"]) for r in journal] == [(e.event_id, e.event_type) for e in events]
    updated = await attendance.pool.fetch("SELECT updated_at FROM clients ORDER BY client_id DESC")
    assert [r["updated_at"] for r in updated] == [e.occurred_at for e in events]


async def test_an_identical_reimport_changes_nothing(attendance: Service) -> None:
    async with attendance.pool.acquire() as conn:
        await apply_clients(conn, attendance.store, PROJECTOR, demo_clients(), "import:1")
        before = await conn.fetch("SELECT client_id, updated_at FROM clients ORDER BY client_id")
        report = await apply_clients(conn, attendance.store, PROJECTOR, demo_clients(), "import:2")
        after = await conn.fetch("SELECT client_id, updated_at FROM clients ORDER BY client_id")
    assert report.unchanged == ["POLRES_DEMO", "POLRES_CONTOH"]
    assert report.registered == [] and report.updated == [] and report.recorded == []
    assert len(await recorded(attendance)) == 2
    assert before == after


async def test_a_changed_row_is_one_client_updated(attendance: Service) -> None:
    demo, contoh = demo_clients()
    async with attendance.pool.acquire() as conn:
        await apply_clients(conn, attendance.store, PROJECTOR, [demo, contoh], "import:1")
        changed = demo.model_copy(update={"name": "Polres Demo Kota", "whatsapp_groups": [
            "120363025550001111@g.us", "120363025550009999@g.us"], "active": False})
        report = await apply_clients(conn, attendance.store, PROJECTOR, [changed, contoh], "import:2")
    assert report.updated == ["POLRES_DEMO"] and report.unchanged == ["POLRES_CONTOH"]
    events = await recorded(attendance)
    assert [(e.event_type, e.stream_id, e.stream_version) for e in events[2:]] == [
        ("ClientUpdated", "client:POLRES_DEMO", 2)]
    assert_matches_contract(events[2])
    assert events[2].payload["name"] == "Polres Demo Kota"
    assert events[2].payload["active"] is False
    rows = await client_rows(attendance)
    assert rows["POLRES_DEMO"] == changed and rows["POLRES_CONTOH"] == contoh


# -- the import-clients command ----------------------------------------------------------------------


async def test_cli_refuses_only_the_bad_rows_naming_line_and_cell_and_imports_the_rest(
    attendance_cli: Cli, attendance: Service, tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    path = tmp_path / "clients.csv"
    lines = DEMO_CSV.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join([
        *lines,
        "POLRES_BAD,Polres Bad,ORG,ya,polres bad!,ya,,,,,,,",  # line 4: a bad handle
        'POLRES_CHAT,Polres Chat,ORG,ya,,,,,"120363025550003333, 6281234567890@c.us",,,,',  # line 5: a person
        "POLRES_JP,Polres Jp,ORG,ya,,,,,,+81 90 1234 5678,,,",  # line 6: a foreign number
        'POLRES_LINK,Polres Link,ORG,ya,,,,," HTTPS://CHAT.WHATSAPP.COM/120363025550004444 ",,,,',  # line 7: good
    ]) + "\n", encoding="utf-8")
    assert await attendance_cli("import-clients", str(path)) == 1
    out, err = capsys.readouterr()
    assert f"{path}: line 4: instagram: 'polres bad!' is not a valid instagram handle" in err
    assert f"{path}: line 5: whatsapp_groups: '6281234567890@c.us' is a personal chat, not a group" in err
    assert f"{path}: line 6: operator_numbers: '+81 90 1234 5678' is a +81 number, not an Indonesian one" in err
    assert "3 bad row(s) refused; the other 3 row(s) imported" in err
    assert out.strip() == "3 registered, 0 updated, 0 unchanged"
    rows = await client_rows(attendance)
    assert set(rows) == {"POLRES_DEMO", "POLRES_CONTOH", "POLRES_LINK"}
    assert rows["POLRES_LINK"].whatsapp_groups == ["120363025550004444@g.us"]
    events = await recorded(attendance)
    assert [e.payload["client_id"] for e in events] == ["POLRES_DEMO", "POLRES_CONTOH", "POLRES_LINK"]
    published = await attendance.pool.fetchval("SELECT max(position) FROM relay_checkpoints")
    assert published == events[-1].global_position


async def test_cli_with_only_bad_rows_exits_1_and_applies_nothing(
    attendance_cli: Cli, attendance: Service, tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    path = tmp_path / "clients.csv"
    path.write_text("client_id,name,client_type,whatsapp_groups\nPOLRES_A,Polres A,ORG,6281234567890@s.whatsapp.net\n",
                    encoding="utf-8")
    assert await attendance_cli("import-clients", str(path)) == 1
    out, err = capsys.readouterr()
    assert f"{path}: line 2: whatsapp_groups: '6281234567890@s.whatsapp.net' is a personal chat" in err
    assert "1 bad row(s) refused; nothing imported" in err and out == ""
    assert await recorded(attendance) == []


async def test_cli_with_a_missing_file_exits_2_with_a_clear_message(
    attendance_cli: Cli, tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    missing = tmp_path / "nope.csv"
    assert await attendance_cli("import-clients", str(missing)) == 2
    assert f"cannot read {missing}: No such file or directory" in capsys.readouterr().err


async def test_cli_with_a_file_that_is_not_utf8_exits_2(
    attendance_cli: Cli, attendance: Service, tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    path = tmp_path / "clients.csv"
    path.write_bytes("client_id,name,client_type\nPOLRES_A,Polrés A,ORG\n".encode("cp1252"))
    assert await attendance_cli("import-clients", str(path)) == 2
    assert "is not UTF-8" in capsys.readouterr().err
    assert await attendance.pool.fetchval("SELECT count(*) FROM clients") == 0


async def test_cli_imports_publishes_and_a_second_run_changes_nothing(
    attendance_cli: Cli, attendance: Service, capsys: pytest.CaptureFixture[str],
) -> None:
    assert await attendance_cli("import-clients", str(DEMO_CSV)) == 0
    assert "2 registered, 0 updated, 0 unchanged" in capsys.readouterr().out
    events = await recorded(attendance)
    assert [e.event_type for e in events] == ["ClientRegistered", "ClientRegistered"]
    published = await attendance.pool.fetchval("SELECT max(position) FROM relay_checkpoints")
    assert published == events[-1].global_position  # the command returns once its events are on the bus
    assert set(await client_rows(attendance)) == {"POLRES_DEMO", "POLRES_CONTOH"}

    assert await attendance_cli("import-clients", str(DEMO_CSV)) == 0
    assert "0 registered, 0 updated, 2 unchanged" in capsys.readouterr().out
    assert len(await recorded(attendance)) == 2
