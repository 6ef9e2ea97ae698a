"""The directory commands as an operator runs them: exit codes, messages, and what reaches the store."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from cicero_contracts.events.directory import ClientSnapshot, ClientType, PersonnelSnapshot
from cicero_runtime.service import Service

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
CLIENTS_CSV = str(EXAMPLES / "clients.csv")
PERSONNEL_CSV = str(EXAMPLES / "personnel.csv")
PERSONNEL_TEXT = (EXAMPLES / "personnel.csv").read_text(encoding="utf-8")
Cli = Callable[..., Awaitable[int]]
Capture = pytest.CaptureFixture[str]


async def event_types(service: Service) -> list[str]:
    return [r["event_type"] for r in await service.pool.fetch("SELECT event_type FROM events ORDER BY global_position")]


async def published(service: Service) -> int:
    position: int = await service.pool.fetchval("SELECT coalesce(max(position), 0) FROM relay_checkpoints")
    return position


async def person(service: Service, user_id: str) -> PersonnelSnapshot:
    row = await service.pool.fetchrow("SELECT * FROM personnel WHERE user_id = $1", user_id)
    assert row is not None
    return PersonnelSnapshot.model_validate(dict(row))


async def client(service: Service, client_id: str) -> ClientSnapshot:
    row = await service.pool.fetchrow("SELECT * FROM clients WHERE client_id = $1", client_id)
    assert row is not None
    return ClientSnapshot.model_validate(dict(row))


async def imported(attendance_cli: Cli, capsys: Capture) -> None:
    assert await attendance_cli("client", "import", CLIENTS_CSV) == 0
    assert await attendance_cli("personnel", "import", PERSONNEL_CSV) == 0
    capsys.readouterr()


# -- imports --------------------------------------------------------------------------------------------


async def test_personnel_import_publishes_and_a_second_run_changes_nothing(
    attendance_cli: Cli, attendance: Service, capsys: Capture,
) -> None:
    assert await attendance_cli("client", "import", CLIENTS_CSV) == 0
    assert capsys.readouterr().out.strip() == "2 registered, 0 updated, 0 unchanged"
    assert await attendance_cli("personnel", "import", PERSONNEL_CSV) == 0
    assert capsys.readouterr().out.strip() == "11 registered, 0 updated, 0 unchanged"
    types = await event_types(attendance)
    assert types == ["ClientRegistered"] * 2 + ["PersonnelRegistered"] * 11
    assert await published(attendance) == len(types)  # on the bus before the command returned
    assert await attendance.pool.fetchval("SELECT count(*) FROM personnel") == 11

    assert await attendance_cli("import-personnel", PERSONNEL_CSV) == 0  # the alias, same file
    assert capsys.readouterr().out.strip() == "0 registered, 0 updated, 11 unchanged"
    assert await attendance_cli("import-clients", CLIENTS_CSV) == 0
    assert capsys.readouterr().out.strip() == "0 registered, 0 updated, 2 unchanged"
    assert await event_types(attendance) == types


async def test_a_changed_row_is_reported_as_updated(
    attendance_cli: Cli, attendance: Service, capsys: Capture, tmp_path: Path,
) -> None:
    await imported(attendance_cli, capsys)
    path = tmp_path / "personnel.csv"
    path.write_text(PERSONNEL_TEXT.replace(
        "Rudi Hartono,BRIPKA,BAG OPS", "Rudi Hartono,AIPDA,BAG OPS"), encoding="utf-8")
    assert await attendance_cli("personnel", "import", str(path)) == 0
    assert capsys.readouterr().out.strip() == "0 registered, 1 updated, 10 unchanged"
    assert (await person(attendance, "91060006")).title == "AIPDA"
    assert (await event_types(attendance))[-1] == "PersonnelUpdated"


async def test_a_file_with_one_bad_row_exits_1_names_the_line_and_applies_nothing(
    attendance_cli: Cli, attendance: Service, capsys: Capture, tmp_path: Path,
) -> None:
    assert await attendance_cli("client", "import", CLIENTS_CSV) == 0
    before = await event_types(attendance)
    lines = PERSONNEL_TEXT.splitlines()
    path = tmp_path / "personnel.csv"
    path.write_text("\n".join([*lines, "99990001,Eko,,,,POLRES_DEMO,,eko prasetyo,,,,,,"]) + "\n",
                    encoding="utf-8")
    capsys.readouterr()
    assert await attendance_cli("personnel", "import", str(path)) == 1
    err = capsys.readouterr().err
    assert f"{path}: line 13: instagram: 'eko prasetyo' is not a valid instagram handle" in err
    assert "1 bad row(s); nothing imported" in err
    assert await event_types(attendance) == before
    assert await attendance.pool.fetchval("SELECT count(*) FROM personnel") == 0


async def test_an_unknown_client_is_an_error_on_its_line_and_nothing_applies(
    attendance_cli: Cli, attendance: Service, capsys: Capture, tmp_path: Path,
) -> None:
    assert await attendance_cli("client", "import", CLIENTS_CSV) == 0
    before = await event_types(attendance)
    path = tmp_path / "personnel.csv"
    path.write_text("user_id,name,client_id\n85010001,Budi,POLRES_DEMO\n\n85010002,Andi,polres_x\n",
                    encoding="utf-8")
    capsys.readouterr()
    assert await attendance_cli("personnel", "import", str(path)) == 1
    err = capsys.readouterr().err
    assert f"{path}: line 4: client_id POLRES_X is not a known client" in err
    assert "1 bad row(s); nothing imported" in err
    assert await event_types(attendance) == before
    assert await attendance.pool.fetchval("SELECT count(*) FROM personnel") == 0


async def test_personnel_before_their_clients_are_refused(
    attendance_cli: Cli, attendance: Service, capsys: Capture,
) -> None:
    assert await attendance_cli("personnel", "import", PERSONNEL_CSV) == 1
    assert "11 bad row(s); nothing imported" in capsys.readouterr().err
    assert await event_types(attendance) == []


@pytest.mark.parametrize("command", [("personnel", "import"), ("import-personnel",), ("client", "import")])
async def test_a_missing_file_exits_2(command: tuple[str, ...], attendance_cli: Cli, tmp_path: Path,
                                      capsys: Capture) -> None:
    missing = tmp_path / "nope.csv"
    assert await attendance_cli(*command, str(missing)) == 2
    assert f"cannot read {missing}: No such file or directory" in capsys.readouterr().err


# -- personnel upsert and deactivate --------------------------------------------------------------------


async def test_personnel_upsert_changes_only_the_options_given(
    attendance_cli: Cli, attendance: Service, capsys: Capture,
) -> None:
    await imported(attendance_cli, capsys)
    before = await person(attendance, "87020002")
    assert await attendance_cli("personnel", "upsert", "8702 0002", "--divisi", "SAT   BINMAS", "--no-reminders",
                                "--roles", "Operator;BIDHUMAS", "--whatsapp", "+62 813-1111-2222") == 0
    assert capsys.readouterr().out.strip() == "personnel 87020002 updated"
    assert await person(attendance, "87020002") == before.model_copy(update={
        "divisi": "SAT BINMAS", "wa_reminder_opt_in": False, "roles": ["operator", "bidhumas"],
        "whatsapp": "6281311112222"})
    count = len(await event_types(attendance))
    assert await attendance_cli("personnel", "upsert", "87020002", "--divisi", "SAT BINMAS") == 0
    assert capsys.readouterr().out.strip() == "personnel 87020002 unchanged: it already is as given"
    assert len(await event_types(attendance)) == count
    assert await attendance_cli("personnel", "upsert", "87020002", "--email", "") == 0  # empty clears
    assert (await person(attendance, "87020002")).email is None


async def test_personnel_upsert_registers_a_new_person_with_name_and_client(
    attendance_cli: Cli, attendance: Service, capsys: Capture,
) -> None:
    await imported(attendance_cli, capsys)
    assert await attendance_cli("personnel", "upsert", "99110012", "--title", "BRIPDA") == 2
    assert ("personnel upsert: 99110012: a new person needs name and client_id (give --name and --client-id); "
            "nothing applied") in capsys.readouterr().err
    assert await attendance_cli("personnel", "upsert", "99110012", "--name", "Eko Prasetyo", "--client-id",
                                "polres_demo", "--instagram", "https://www.instagram.com/Eko.P/", "--exempt") == 0
    assert capsys.readouterr().out.strip() == "personnel 99110012 registered"
    assert await person(attendance, "99110012") == PersonnelSnapshot(
        user_id="99110012", name="Eko Prasetyo", client_id="POLRES_DEMO", instagram="eko.p", exempt=True)
    assert (await event_types(attendance))[-1] == "PersonnelRegistered"


@pytest.mark.parametrize(("argv", "message"), [
    (("12a45",), "USER_ID: '12a45' is not an NRP/NIP"),
    (("87020002", "--instagram", "agus pratama"), "--instagram: 'agus pratama' is not a valid instagram handle"),
    (("87020002", "--tiktok", "https://www.tiktok.com/agus"), "--tiktok: 'https://www.tiktok.com/agus' is not a"),
    (("87020002", "--whatsapp", "0812"), "--whatsapp: '0812' is not a valid Indonesian phone number (too short)"),
    (("87020002", "--whatsapp", "+81 90 1234 5678"), "--whatsapp: '+81 90 1234 5678' is a +81 number"),
    (("87020002", "--email", "agus@"), "--email: 'agus@' is not an e-mail address"),
    (("87020002", "--roles", "op-erator"), "--roles: 'op-erator' is not a role"),
    (("87020002", "--client-id", "POLRES-X"), "--client-id: 'POLRES-X' is not a client id"),
    (("87020002", "--name", "  "), "--name: must not be empty"),
])
async def test_personnel_upsert_with_a_bad_value_exits_2_naming_the_option(
    argv: tuple[str, ...], message: str, attendance_cli: Cli, attendance: Service, capsys: Capture,
) -> None:
    await imported(attendance_cli, capsys)
    before = await event_types(attendance)
    assert await attendance_cli("personnel", "upsert", *argv, "--divisi", "BAG OPS") == 2
    err = capsys.readouterr().err
    assert message in err and "nothing applied" in err
    assert await event_types(attendance) == before


async def test_personnel_upsert_refused_by_the_directory_exits_1(
    attendance_cli: Cli, attendance: Service, capsys: Capture,
) -> None:
    await imported(attendance_cli, capsys)
    before = await event_types(attendance)
    assert await attendance_cli("personnel", "upsert", "87020002", "--client-id", "POLRES_X") == 1
    assert "personnel upsert: 87020002: client_id POLRES_X is not a known client; nothing applied" in (
        capsys.readouterr().err)
    assert await attendance_cli("personnel", "upsert", "87020002", "--instagram", "@Siti.Rahma") == 1
    assert "instagram 'siti.rahma' already belongs to user_id 92040004 (Siti Rahma, S.H.)" in capsys.readouterr().err
    assert await event_types(attendance) == before


async def test_personnel_deactivate_then_again_then_unknown(
    attendance_cli: Cli, attendance: Service, capsys: Capture,
) -> None:
    await imported(attendance_cli, capsys)
    assert await attendance_cli("personnel", "deactivate", "91060006") == 0
    assert capsys.readouterr().out.strip() == "personnel 91060006 deactivated"
    assert (await person(attendance, "91060006")).active is False
    types = await event_types(attendance)
    assert types[-1] == "PersonnelDeactivated"
    assert await published(attendance) == len(types)
    assert await attendance_cli("personnel", "deactivate", "91060006") == 0
    assert capsys.readouterr().out.strip() == "personnel 91060006 is already inactive; nothing changed"
    assert await attendance_cli("personnel", "deactivate", "97100011") == 0  # inactive in the file
    assert "already inactive" in capsys.readouterr().out
    assert await attendance_cli("personnel", "deactivate", "12345678") == 1
    assert "personnel deactivate: 12345678: no such person" in capsys.readouterr().err
    assert await attendance_cli("personnel", "deactivate", "NRP-1") == 2
    assert await event_types(attendance) == types


# -- client upsert and deactivate -----------------------------------------------------------------------


async def test_client_upsert_registers_normalises_and_then_merges(
    attendance_cli: Cli, attendance: Service, capsys: Capture,
) -> None:
    assert await attendance_cli(
        "client", "upsert", "polres_baru", "--name", "Polres Baru", "--type", "org", "--instagram",
        "https://instagram.com/polres_baru", "--groups", "120363025550003333; HTTPS://CHAT.WHATSAPP.COM/120363025550003333",
        "--operators", "0812-1111-2222; 0813 3333 4444", "--parent", "ditbinmas") == 0
    out = capsys.readouterr()
    assert out.out.strip() == "client POLRES_BARU registered"
    assert "warning" not in out.err
    expected = ClientSnapshot(
        client_id="POLRES_BARU", name="Polres Baru", client_type=ClientType.ORG,
        instagram_username="polres_baru", instagram_enabled=True, whatsapp_groups=["120363025550003333@g.us"],
        operator_numbers=["6281211112222", "6281333334444"], parent_client_id="DITBINMAS")
    assert await client(attendance, "POLRES_BARU") == expected

    assert await attendance_cli("client", "upsert", "POLRES_BARU", "--region", "Jawa Tengah",
                                "--instagram-disabled", "--inactive") == 0
    assert capsys.readouterr().out.strip() == "client POLRES_BARU updated"
    assert await client(attendance, "POLRES_BARU") == expected.model_copy(
        update={"region": "Jawa Tengah", "instagram_enabled": False, "active": False})
    assert await event_types(attendance) == ["ClientRegistered", "ClientUpdated"]


@pytest.mark.parametrize(("argv", "code", "message"), [
    (("POLRES_BARU", "--name", "Polres Baru"), 2,
     "client upsert: POLRES_BARU: a new client needs client_type (give --type); nothing applied"),
    (("POLRES_BARU", "--name", "Polres Baru", "--type", "POLDA"), 2, "--type 'POLDA' must be ORG or DIREKTORAT"),
    (("POLRES BARU", "--name", "Polres Baru", "--type", "ORG"), 2, "CLIENT_ID: 'POLRES BARU' is not a client id"),
    (("POLRES_BARU", "--name", "x", "--type", "ORG", "--groups", "grup"), 2,
     "--groups: 'grup' is not a WhatsApp group id"),
    (("POLRES_BARU", "--name", "x", "--type", "ORG", "--groups", "6281234567890@c.us"), 2,
     "--groups: '6281234567890@c.us' is a personal chat, not a group; nothing applied"),
    (("POLRES_BARU", "--name", "x", "--type", "ORG", "--groups", "120363025550003333, 6281234567890@s.whatsapp.net"),
     2, "--groups: '6281234567890@s.whatsapp.net' is a personal chat, not a group; nothing applied"),
    (("POLRES_BARU", "--name", "x", "--type", "ORG", "--super-admins", "123"), 2,
     "--super-admins: '123' is not a valid Indonesian phone number"),
    (("POLRES_BARU", "--name", "x", "--type", "ORG", "--tiktok", "@" + "t" * 25), 2,
     "--tiktok: '@" + "t" * 25 + "' is not a valid tiktok handle"),
])
async def test_client_upsert_with_a_bad_or_missing_value_exits_2(
    argv: tuple[str, ...], code: int, message: str, attendance_cli: Cli, attendance: Service, capsys: Capture,
) -> None:
    assert await attendance_cli("client", "upsert", *argv) == code
    assert message in capsys.readouterr().err
    assert await event_types(attendance) == []


async def test_client_deactivate_with_a_reason_then_again_then_unknown(
    attendance_cli: Cli, attendance: Service, capsys: Capture,
) -> None:
    await imported(attendance_cli, capsys)
    assert await attendance_cli("client", "deactivate", "polres_contoh", "--reason", "digabung") == 0
    assert capsys.readouterr().out.strip() == "client POLRES_CONTOH deactivated"
    payload = await attendance.pool.fetchval(
        "SELECT payload FROM events WHERE event_type = 'ClientDeactivated'")
    assert payload == {"client_id": "POLRES_CONTOH", "reason": "digabung"}
    assert (await client(attendance, "POLRES_CONTOH")).active is False
    count = len(await event_types(attendance))
    assert await attendance_cli("client", "deactivate", "POLRES_CONTOH") == 0
    assert capsys.readouterr().out.strip() == "client POLRES_CONTOH is already inactive; nothing changed"
    assert await attendance_cli("client", "deactivate", "POLRES_X") == 1
    assert "client deactivate: POLRES_X: no such client" in capsys.readouterr().err
    assert len(await event_types(attendance)) == count
