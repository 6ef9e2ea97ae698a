"""``cicero-attendance report``: the reports printed for an operator, and what a bad request prints."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

import asyncpg
import pytest
import pytest_asyncio
from cicero_attendance.report_seed import demo_seed
from cicero_runtime.topology import BusNames

Cli = Callable[..., Awaitable[int]]


@pytest_asyncio.fixture
async def seeded(database_url: str, attendance_schema: str, bus_names: BusNames) -> None:
    conn = await asyncpg.connect(database_url, server_settings={"search_path": attendance_schema})
    try:
        await demo_seed().write(conn)
    finally:
        await conn.close()


async def test_client_report_as_whatsapp_text(seeded: None, attendance_cli: Cli,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    code = await attendance_cli("report", "client", "polres_a", "--date", "2026-11-22", "--at", "2026-11-22T14:05")
    out = capsys.readouterr().out
    assert code == 0
    assert out.splitlines()[:6] == ["Mohon ijin Komandan,", "", "*Rekap Absensi Likes Instagram & Komentar TikTok*",
                                    "*Polres Alpha*", "Minggu, 22 November 2026", "Pukul 14:05 WIB"]
    assert "✅ AKP Budi Santoso (KABAG OPS) 2/2" in out.splitlines()


async def test_directorate_report_as_json(seeded: None, attendance_cli: Cli,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    code = await attendance_cli("report", "directorate", "DITBINMAS", "--date", "2026-11-22", "--format", "json",
                                "--at", "2026-11-22T07:05:00Z")
    data = json.loads(capsys.readouterr().out)
    assert code == 0
    assert (data["kind"], data["wib_date"], data["generated_at"]) == ("directorate", "2026-11-22",
                                                                      "2026-11-22T07:05:00Z")
    assert [c["client_id"] for c in data["platforms"][0]["clients"]] == ["DITBINMAS", "POLRES_B", "POLRES_A"]


async def test_person_report_needs_and_uses_the_user(seeded: None, attendance_cli: Cli,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    assert await attendance_cli("report", "person", "POLRES_A", "--date", "2026-11-22", "--format", "json",
                                "--user", "1003") == 0
    data = json.loads(capsys.readouterr().out)
    assert [(s["scope"]["client_id"], s["platform"], s["status"], s["done"], s["total"]) for s in data["scopes"]] == [
        ("POLRES_A", "instagram", "partial", 1, 2), ("POLRES_A", "tiktok", "complete", 1, 1),
        ("DITBINMAS", "instagram", "none", 0, 2), ("DITBINMAS", "tiktok", None, 0, 0)]

    assert await attendance_cli("report", "person", "POLRES_A", "--date", "2026-11-22") == 2
    assert "report person: --user USER_ID is required" in capsys.readouterr().err


@pytest.mark.parametrize(("argv", "message"), [
    (("client", "POLRES_X"), "report client: unknown client 'POLRES_X'"),
    (("directorate", "POLRES_A"), "report directorate: a directorate report needs a DIREKTORAT client, "
                                  "but POLRES_A is an ORG client"),
    (("person", "POLRES_B", "--user", "1001"), "report person: user 1001 is neither personnel of POLRES_B"),
    (("person", "POLRES_A", "--user", "4242"), "report person: unknown user '4242'"),
])
async def test_a_report_error_is_a_message_and_exit_1(seeded: None, attendance_cli: Cli,
                                                      capsys: pytest.CaptureFixture[str], argv: tuple[str, ...],
                                                      message: str) -> None:
    assert await attendance_cli("report", *argv, "--date", "2026-11-22") == 1
    captured = capsys.readouterr()
    assert message in captured.err
    assert captured.out == ""


@pytest.mark.parametrize(("argv", "message"), [
    (("client", "POLRES_A", "--date", "22-11-2026"), "'22-11-2026' is not a date; use YYYY-MM-DD"),
    (("client", "POLRES_A"), "the following arguments are required: --date"),
    (("weekly", "POLRES_A", "--date", "2026-11-22"), "invalid choice: 'weekly'"),
    (("person", "POLRES_A", "--date", "2026-11-22", "--user", "12ab"), "'12ab' is not a user id"),
    (("client", "POLRES_A", "--date", "2026-11-22", "--at", "tomorrow"), "'tomorrow' is not an ISO time"),
    (("client", "POLRES_A", "--date", "2026-11-22", "--format", "pdf"), "invalid choice: 'pdf'"),
])
async def test_a_bad_argument_is_a_message_and_exit_2(attendance_cli: Cli, capsys: pytest.CaptureFixture[str],
                                                      argv: tuple[str, ...], message: str) -> None:
    with pytest.raises(SystemExit) as exited:
        await attendance_cli("report", *argv)
    assert exited.value.code == 2
    assert message in capsys.readouterr().err
