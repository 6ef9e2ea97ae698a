"""Parsing and validating a clients CSV (DOMAIN §1): every bad row reported with its line and reason."""

from __future__ import annotations

from pathlib import Path

import pytest
from cicero_attendance.client_import import RowError, parse_clients_csv
from cicero_contracts.events.directory import ClientType

DEMO_CSV = Path(__file__).resolve().parents[3] / "examples" / "clients.csv"
HEADER = ("client_id,name,client_type,active,instagram,instagram_enabled,tiktok,tiktok_enabled,"
          "whatsapp_groups,operator_numbers,super_admin_numbers,parent_client_id,region")
GOOD_ROW = "POLRES_A,Polres A,ORG,ya,polres_a,ya,polres_a_tt,ya,120363025550001111@g.us,081234567890,,DITBINMAS,Jatim"


def csv_text(*rows: str, header: str = HEADER) -> str:
    return "\n".join((header, *rows)) + "\n"


def test_the_demo_file_parses_into_normalised_clients() -> None:
    result = parse_clients_csv(DEMO_CSV.read_text(encoding="utf-8"))
    assert result.errors == [] and result.warnings == []
    demo, contoh = result.clients
    assert demo.client_id == "POLRES_DEMO" and demo.name == "Polres Demo"
    assert demo.client_type is ClientType.ORG and demo.active
    assert demo.instagram_username == "polres_demo" and demo.instagram_enabled
    assert demo.tiktok_username == "polres_demo_tt" and demo.tiktok_enabled
    assert demo.whatsapp_groups == ["120363025550001111@g.us"]
    assert demo.operator_numbers == ["6281234567890"]
    assert demo.super_admin_numbers == []
    assert demo.parent_client_id == "DITBINMAS" and demo.region == "Jawa Timur"
    assert contoh.tiktok_username == "polres_contoh_tt"  # from a profile link with a query string
    assert contoh.whatsapp_groups == ["120363025550002222@g.us"]  # bare digits
    assert contoh.operator_numbers == ["6281298765432"]  # 0812-9876-5432


def test_a_minimal_file_takes_the_defaults() -> None:
    result = parse_clients_csv("client_id,name,client_type\npolres_b, Polres B ,direktorat\n")
    assert result.errors == []
    (client,) = result.clients
    assert client.client_id == "POLRES_B" and client.name == "Polres B"
    assert client.client_type is ClientType.DIREKTORAT
    assert client.active is True
    assert client.instagram_username is None and client.instagram_enabled is False
    assert client.tiktok_username is None and client.tiktok_enabled is False
    assert client.whatsapp_groups == [] and client.operator_numbers == [] and client.parent_client_id is None


def test_several_groups_and_numbers_in_one_cell_are_split_normalised_and_deduplicated() -> None:
    row = ('POLRES_A,Polres A,ORG,,,,,,"120363025550001111; https://chat.whatsapp.com/120363025550002222, '
           '120363025550001111@g.us","0812 3456 7890;+62 812-3456-7890, 081298765432",6281200000000,,')
    result = parse_clients_csv(csv_text(row))
    assert result.errors == []
    (client,) = result.clients
    assert client.whatsapp_groups == ["120363025550001111@g.us", "120363025550002222@g.us"]
    assert client.operator_numbers == ["6281234567890", "6281298765432"]
    assert client.super_admin_numbers == ["6281200000000"]


@pytest.mark.parametrize(("cell", "expected"), [
    ("ya", True), ("Yes", True), ("1", True), ("aktif", True), ("TRUE", True),
    ("tidak", False), ("no", False), ("0", False), ("nonaktif", False), ("FALSE", False),
    ("", True),  # blank → active by default
])
def test_active_flag_spellings(cell: str, expected: bool) -> None:
    result = parse_clients_csv(f"client_id,name,client_type,active\nPOLRES_A,Polres A,ORG,{cell}\n")
    assert result.errors == []
    assert result.clients[0].active is expected


def test_enabled_flags_default_to_having_a_handle() -> None:
    result = parse_clients_csv(csv_text("POLRES_A,Polres A,ORG,,polres_a,,polres_a_tt,tidak,,,,,"))
    (client,) = result.clients
    assert client.instagram_enabled is True  # blank, handle present
    assert client.tiktok_enabled is False  # explicitly off


@pytest.mark.parametrize(("row", "reason"), [
    ("POLRES_A,Polres A,POLDA,,,,,,,,,,", "client_type 'POLDA' must be ORG or DIREKTORAT"),
    ("POLRES_A,,ORG,,,,,,,,,,", "name is required"),
    ("POLRES_A,   ,ORG,,,,,,,,,,", "name is required"),
    (",Polres A,ORG,,,,,,,,,,", "client_id is required"),
    ("POLRES_A,Polres A,,,,,,,,,,,", "client_type is required"),
    ("POLRES-A,Polres A,ORG,,,,,,,,,,", "client_id"),
    ("POLRES_A,Polres A,ORG,mungkin,,,,,,,,,", "active: 'mungkin' is not yes/no"),
    ("POLRES_A,Polres A,ORG,,polres a,,,,,,,,", "instagram: 'polres a' is not a valid instagram handle"),
    ("POLRES_A,Polres A,ORG,,https://www.instagram.com/p/C4abc/,,,,,,,,", "instagram:"),
    ("POLRES_A,Polres A,ORG,,,,@" + "a" * 25 + ",,,,,,", "tiktok: '@" + "a" * 25 + "' is not a valid tiktok"),
    ("POLRES_A,Polres A,ORG,,,,,,,0812,,,", "operator_numbers: '0812' is not a valid Indonesian phone number"),
    ("POLRES_A,Polres A,ORG,,,,,,,,12345,,", "super_admin_numbers: '12345' is not a valid Indonesian phone number"),
    ("POLRES_A,Polres A,ORG,,,,,,,081234567890 081298765432,,,",
     "operator_numbers: '081234567890 081298765432' is not one phone number "
     "(more than 15 digits; separate several numbers with ';')"),
    ("POLRES_A,Polres A,ORG,,,,,,grup-polres,,,,", "whatsapp_groups: 'grup-polres' is not a WhatsApp group id"),
    ("POLRES_A,Polres A,ORG,,,,,,,,,,,extra", "14 cells but the header has 13 columns"),
])
def test_each_kind_of_bad_row_is_reported_with_its_line_and_reason(row: str, reason: str) -> None:
    result = parse_clients_csv(csv_text(GOOD_ROW, row, "POLRES_C,Polres C,ORG,,,,,,,,,,"))
    assert len(result.errors) == 1, result.errors
    error = result.errors[0]
    assert error.line == 3
    assert reason in error.reason
    assert str(error).startswith("line 3: ")
    assert [c.client_id for c in result.clients] == ["POLRES_A", "POLRES_C"]  # the good rows still parse


def test_every_bad_row_is_reported_not_only_the_first() -> None:
    text = csv_text(
        GOOD_ROW,                                   # line 2
        "POLRES_B,,ORG,,,,,,,,,,",                  # line 3: no name
        "POLRES_C,Polres C,SATKER,,,,,,,,,,",       # line 4: bad type
        "POLRES_D,Polres D,ORG,,bad handle!,,,,,,,,",  # line 5: bad handle
        "POLRES_E,Polres E,ORG,,,,,,,123,,,",       # line 6: bad phone
        "polres_a,Polres A lagi,ORG,,,,,,,,,,",     # line 7: duplicate (after upper-casing)
    )
    result = parse_clients_csv(text)
    assert [e.line for e in result.errors] == [3, 4, 5, 6, 7]
    assert "name is required" in result.errors[0].reason
    assert "client_type 'SATKER'" in result.errors[1].reason
    assert "instagram" in result.errors[2].reason
    assert "operator_numbers" in result.errors[3].reason
    assert result.errors[4] == RowError(7, "client_id POLRES_A repeats line 2")


def test_missing_required_columns_are_one_error_on_the_header_line() -> None:
    result = parse_clients_csv("client_id,nama,tipe\nPOLRES_A,Polres A,ORG\n")
    assert result.clients == []
    assert result.errors == [RowError(1, "missing column(s): name, client_type")]


@pytest.mark.parametrize("text", ["", "\n", "\ufeff"])
def test_an_empty_file_misses_every_column(text: str) -> None:
    result = parse_clients_csv(text)
    assert result.errors == [RowError(1, "missing column(s): client_id, name, client_type")]


def test_headers_are_trimmed_and_case_insensitive() -> None:
    result = parse_clients_csv(" Client_ID , NAME ,Client_Type\nPOLRES_A,Polres A,ORG\n")
    assert result.errors == []
    assert result.clients[0].client_id == "POLRES_A"


@pytest.mark.parametrize(("cell", "reason"), [
    ("6281234567890@c.us;120363025550001111", "whatsapp_groups: '6281234567890@c.us' is a personal chat, not a group"),
    ("120363025550001111 6281234567890@s.whatsapp.net",
     "whatsapp_groups: '6281234567890@s.whatsapp.net' is a personal chat"),
    ("6281234567890@C.US", "whatsapp_groups: '6281234567890@C.US' is a personal chat"),
    ("https://chat.whatsapp.com/AbCdEfGhIjK", "whatsapp_groups: 'https://chat.whatsapp.com/AbCdEfGhIjK' is not a "
                                              "WhatsApp group id"),
    ("https://chat.whatsapp.com.example.org/120363025550001111", "is not a chat.whatsapp.com link"),
])
def test_a_bad_group_cell_refuses_its_row_only_naming_the_cell(cell: str, reason: str) -> None:
    row = f'POLRES_A,Polres A,ORG,,,,,,"{cell}",,,,'
    result = parse_clients_csv(csv_text("POLRES_Z,Polres Z,ORG,,,,,,,,,,", row, "POLRES_Y,Polres Y,ORG,,,,,,,,,,"))
    (error,) = result.errors
    assert error.line == 3 and reason in error.reason
    assert result.warnings == []
    assert [c.client_id for c in result.clients] == ["POLRES_Z", "POLRES_Y"]


@pytest.mark.parametrize("cell", [
    "HTTPS://CHAT.WHATSAPP.COM/120363025550001111",
    "  https://Chat.WhatsApp.Com/120363025550001111/  ",
    "chat.whatsapp.com/120363025550001111?mode=r_c",
    "120363025550001111@G.US",
])
def test_an_invite_link_is_a_group_whatever_its_case_and_spacing(cell: str) -> None:
    result = parse_clients_csv(csv_text(f'POLRES_A,Polres A,ORG,,,,,,"{cell}",,,,'))
    assert result.errors == [] and result.warnings == []
    assert result.clients[0].whatsapp_groups == ["120363025550001111@g.us"]


@pytest.mark.parametrize(("cell", "column", "reason"), [
    ("+81 90 1234 5678", "operator_numbers", "is a +81 number, not an Indonesian one (+62)"),
    ("812345", "operator_numbers", "is not a valid Indonesian phone number"),
    ("0812-3456-7890; +44 7911 123456", "super_admin_numbers", "'+44 7911 123456' is a +44 number"),
])
def test_a_foreign_or_short_number_refuses_its_row_naming_the_cell(cell: str, column: str, reason: str) -> None:
    operators, admins = (cell, "") if column == "operator_numbers" else ("", cell)
    result = parse_clients_csv(csv_text(GOOD_ROW, f'POLRES_B,Polres B,ORG,,,,,,,"{operators}","{admins}",,'))
    (error,) = result.errors
    assert error.line == 3 and error.reason.startswith(f"{column}: ") and reason in error.reason
    assert [c.client_id for c in result.clients] == ["POLRES_A"]


def test_bom_quoted_cells_and_blank_lines() -> None:
    text = ("\ufeffclient_id,name,client_type,region\r\n"
            "\r\n"
            "POLRES_A,\"Polres A, Kota\",ORG,\"Jawa \"\"Timur\"\"\"\r\n"
            ",,,\r\n"
            "\r\n"
            "POLRES_B,Polres B,XXX,\r\n")
    result = parse_clients_csv(text)
    assert [c.client_id for c in result.clients] == ["POLRES_A"]
    assert result.clients[0].name == "Polres A, Kota"
    assert result.clients[0].region == 'Jawa "Timur"'
    assert result.errors == [RowError(6, "client_type 'XXX' must be ORG or DIREKTORAT")]


def test_line_numbers_are_physical_lines_even_with_multi_line_cells() -> None:
    text = ("client_id,name,client_type,region\n"  # 1
            "POLRES_A,Polres A,ORG,\"Jawa\nTimur\"\n"  # 2-3
            "\n"  # 4
            "POLRES_B,\"Polres\nB\",XXX,\"satu\ndua\"\n"  # 5-7: the error is at the line where the row starts
            "POLRES_C,,ORG,x\n")  # 8
    result = parse_clients_csv(text)
    assert result.clients[0].region == "Jawa\nTimur"
    assert [(e.line, e.reason) for e in result.errors] == [
        (5, "client_type 'XXX' must be ORG or DIREKTORAT"), (8, "name is required")]


def test_a_duplicate_names_the_line_of_the_first_occurrence() -> None:
    result = parse_clients_csv(csv_text("POLRES_Z,Polres Z,ORG,,,,,,,,,,", "", GOOD_ROW, GOOD_ROW))
    assert result.errors == [RowError(5, "client_id POLRES_A repeats line 4")]
    assert [c.client_id for c in result.clients] == ["POLRES_Z", "POLRES_A"]
