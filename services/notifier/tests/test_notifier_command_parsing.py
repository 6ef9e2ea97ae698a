"""WhatsApp admin commands (DOMAIN §6): parsing as people type, who may do what, and the reply texts. Pure."""

from __future__ import annotations

from datetime import date

import pytest
from cicero_notifier import command_text as texts
from cicero_notifier.command_access import ClientContacts, identify_sender
from cicero_notifier.command_text import (
    BadCommand,
    FetchCommand,
    MenuCommand,
    OptInCommand,
    RecapCommand,
    UnknownCommand,
    command_name,
    parse_command,
    split_command,
)


@pytest.mark.parametrize(("text", "expected"), [
    ("fetch#POLRES_A", FetchCommand("POLRES_A")),
    ("FETCH#polres_a", FetchCommand("POLRES_A")),
    ("  Fetch # polres_a  ", FetchCommand("POLRES_A")),
    ("fetch#POLRES_A#", FetchCommand("POLRES_A")),
    ("fetch polres_a", FetchCommand("POLRES_A")),
    ("rekap#POLRES_A", RecapCommand("POLRES_A")),
    ("Rekap # polres_a # 2026-03-09", RecapCommand("POLRES_A", date(2026, 3, 9))),
    ("REKAP POLRES_A 2026-03-09", RecapCommand("POLRES_A", date(2026, 3, 9))),
    ("recap#DITBINMAS", RecapCommand("DITBINMAS")),
    ("notifwa#on", OptInCommand(True)),
    ("NotifWA # OFF", OptInCommand(False)),
    ("notifwa on", OptInCommand(True)),
    ("menu", MenuCommand()),
    (" MENU ", MenuCommand()),
    ("help", MenuCommand()),
    ("bantuan", MenuCommand()),
    ("", UnknownCommand()),
    ("   ", UnknownCommand()),
    ("selamat pagi komandan", UnknownCommand()),
    ("Giat patroli #polri #presisi", UnknownCommand()),
    ("menu#lain", UnknownCommand()),
    ("#fetch", UnknownCommand()),
])
def test_parse(text: str, expected: object) -> None:
    assert parse_command(text) == expected


@pytest.mark.parametrize(("text", "command", "fragment"), [
    ("fetch", "fetch", "memerlukan satu kode client"),
    ("fetch#", "fetch", "memerlukan satu kode client"),
    ("fetch#A#B", "fetch", "memerlukan satu kode client"),
    ("fetch#polres-a", "fetch", "Kode client 'polres-a' tidak valid"),
    ("fetch#POLRES A", "fetch", "Kode client 'POLRES A' tidak valid"),
    ("fetch#X", "fetch", "tidak valid"),
    ("rekap", "rekap", "memerlukan kode client"),
    ("rekap#POLRES_A#2026-03-10#x", "rekap", "memerlukan kode client"),
    ("rekap#POLRES_A#10-03-2026", "rekap", "Tanggal '10-03-2026' tidak valid: gunakan format YYYY-MM-DD"),
    ("rekap#POLRES_A#2026-02-30", "rekap", "Tanggal '2026-02-30' tidak valid"),
    ("rekap#POLRES_A#kemarin", "rekap", "rekap#POLRES_A#2026-03-10"),
    ("rekap#polres.a", "rekap", "Kode client 'polres.a' tidak valid"),
    ("notifwa", "notifwa", "notifwa#on"),
    ("notifwa#ya", "notifwa", "notifwa#off"),
    ("notifwa#on#off", "notifwa", "notifwa#on"),
])
def test_bad_arguments_say_what_was_wrong(text: str, command: str, fragment: str) -> None:
    parsed = parse_command(text)
    assert isinstance(parsed, BadCommand)
    assert parsed.command == command
    assert fragment in parsed.reason


def test_split_command() -> None:
    assert split_command(" a # b #c ") == ["a", "b", "c"]
    assert split_command("a  b\tc") == ["a", "b", "c"]
    assert split_command("a##") == ["a"]
    assert split_command("") == []


def test_command_names() -> None:
    assert [command_name(parse_command(t)) for t in ("fetch#AB", "rekap#AB", "notifwa#on", "menu", "hai",
                                                     "rekap#AB#x")] == [
        "fetch", "rekap", "notifwa", "menu", "unknown", "rekap"]


# -- who may do what -----------------------------------------------------------------------------------------

OPERATOR_A = "6281200000001"
SUPER_DIT = "6281200000002"
ADMIN = "6281200000009"
CLIENTS = [
    ClientContacts("POLRES_A", "ORG", ["081200000001"], ["6281200000003"], "DITBINMAS"),
    ClientContacts("POLRES_B", "ORG", ["6281200000004", "bad"], [], "DITBINMAS"),
    ClientContacts("POLRES_C", "ORG", [], [], "DITLANTAS"),
    ClientContacts("DITBINMAS", "DIREKTORAT", ["6281200000005"], [SUPER_DIT], None),
    ClientContacts("DITLANTAS", "DIREKTORAT", [], ["6281200000003"], None),
]


def test_an_operator_commands_their_own_client() -> None:
    sender = identify_sender(OPERATOR_A, [ADMIN], CLIENTS)
    assert (sender.known, sender.manages, sender.is_admin) == (True, True, False)
    assert sender.client_ids == {"POLRES_A"}
    assert sender.may_command("POLRES_A") and not sender.may_command("POLRES_B")


def test_a_directorate_super_admin_also_commands_its_child_clients() -> None:
    sender = identify_sender(SUPER_DIT, [], CLIENTS)
    assert sender.client_ids == {"DITBINMAS", "POLRES_A", "POLRES_B"}
    assert not sender.may_command("POLRES_C")


def test_a_directorate_operator_does_not_get_the_child_clients() -> None:
    assert identify_sender("6281200000005", [], CLIENTS).client_ids == {"DITBINMAS"}


def test_a_client_super_admin_who_is_also_a_directorate_super_admin_gets_both() -> None:
    # super admin of POLRES_A (an ORG: no children) and of DITLANTAS (whose child is POLRES_C)
    assert identify_sender("6281200000003", [], CLIENTS).client_ids == {"POLRES_A", "DITLANTAS", "POLRES_C"}


def test_an_admin_commands_every_client_whatever_the_spelling_of_the_setting() -> None:
    sender = identify_sender(ADMIN, ["0812-0000-0009", "garbage"], CLIENTS)
    assert sender.is_admin and sender.manages and sender.known
    assert sender.may_command("POLRES_C") and sender.may_command("ANYTHING")


def test_a_registered_person_is_known_but_manages_nothing() -> None:
    sender = identify_sender("6281277777777", [ADMIN], CLIENTS, ["87020123"])
    assert (sender.known, sender.manages, sender.user_ids) == (True, False, ("87020123",))
    assert not sender.may_command("POLRES_A")


def test_an_unknown_number_is_unknown() -> None:
    sender = identify_sender("6281277777777", [ADMIN], CLIENTS)
    assert not sender.known and not sender.manages


# -- replies ------------------------------------------------------------------------------------------------

def test_the_menu_lists_only_what_the_sender_may_do() -> None:
    person = texts.menu_text(manages=False, all_clients=False, client_ids=(), is_person=True)
    assert "notifwa#on" in person and "fetch#" not in person and "rekap#" not in person
    operator = texts.menu_text(manages=True, all_clients=False, client_ids={"POLRES_B", "POLRES_A"},
                               is_person=False)
    assert "fetch#KODE_CLIENT" in operator and "rekap#KODE_CLIENT#YYYY-MM-DD" in operator
    assert "notifwa" not in operator
    assert operator.endswith("Client Anda: POLRES_A, POLRES_B")
    admin = texts.menu_text(manages=True, all_clients=True, client_ids=(), is_person=True)
    assert "semua client" in admin and "notifwa" in admin
    many = texts.menu_text(manages=True, all_clients=False, client_ids={f"C{n:02d}" for n in range(13)},
                           is_person=False)
    assert many.endswith("C09 … dan 3 lainnya")
    assert texts.menu_text(manages=False, all_clients=False, client_ids=(), is_person=True,
                           unknown_command=True).startswith("Perintah tidak dikenal.")


def test_reply_texts() -> None:
    assert "Polres A (POLRES_A) dimulai" in texts.fetch_started_text("POLRES_A", "Polres A")
    assert "tidak berwenang" in texts.not_allowed_text("POLRES_B") and "POLRES_B" in texts.not_allowed_text("POLRES_B")
    assert "tidak terdaftar" in texts.unknown_client_text("POLRES_Z")
    assert "tidak aktif" in texts.inactive_client_text("POLRES_Z")
    assert texts.future_day_text(date(2026, 3, 11), date(2026, 3, 10)) == (
        "⚠️ Tanggal 2026-03-11 (Rabu, 11 Maret 2026) belum tiba: rekap tersedia sampai hari ini, 2026-03-10.")
    assert "*diaktifkan*" in texts.opt_in_text(True, True)
    assert texts.opt_in_text(True, False) == "Pengingat tugas melalui WhatsApp sudah aktif."
    assert "*dinonaktifkan*" in texts.opt_in_text(False, True)
    assert texts.opt_in_text(False, False) == "Pengingat tugas melalui WhatsApp sudah nonaktif."
    assert texts.bad_command_text("X salah.") == "⚠️ X salah.\nKirim *menu* untuk melihat daftar perintah."
