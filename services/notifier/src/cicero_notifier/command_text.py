"""WhatsApp admin commands as people type them, and the replies they get (DOMAIN §6). Pure.

People type on phones: ``Fetch # polres_a``, ``REKAP#POLRES_A#2026-03-10 `` and ``rekap polres_a`` mean
what they look like. A known command word with wrong arguments is a ``BadCommand`` whose reason is the
reply (what was wrong, and the right form); anything else is ``UnknownCommand`` (answered with the menu).
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date

from cicero_contracts.events.directory import CLIENT_ID_PATTERN
from cicero_runtime.indonesian import date_id

CLIENT_ID = re.compile(CLIENT_ID_PATTERN)
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
CLIENTS_NAMED = 10
"""Clients a menu names before "… dan N lainnya"."""


@dataclass(frozen=True)
class FetchCommand:
    client_id: str


@dataclass(frozen=True)
class RecapCommand:
    client_id: str
    day: date | None = None
    """None: the WIB day the message was received."""


@dataclass(frozen=True)
class OptInCommand:
    opt_in: bool


@dataclass(frozen=True)
class MenuCommand:
    pass


@dataclass(frozen=True)
class UnknownCommand:
    pass


@dataclass(frozen=True)
class BadCommand:
    command: str
    reason: str


Command = FetchCommand | RecapCommand | OptInCommand | MenuCommand | UnknownCommand | BadCommand

FETCH_WORDS = {"fetch"}
RECAP_WORDS = {"rekap", "recap"}
OPT_IN_WORDS = {"notifwa"}
MENU_WORDS = {"menu", "help", "bantuan"}


def command_name(command: Command) -> str:
    """The word recorded for a handled message (``inbound_commands.command``)."""
    if isinstance(command, BadCommand):
        return command.command
    return {FetchCommand: "fetch", RecapCommand: "rekap", OptInCommand: "notifwa", MenuCommand: "menu",
            UnknownCommand: "unknown"}[type(command)]


def split_command(text: str) -> list[str]:
    """Words of a command: ``#``-separated with spaces around them ignored, or space-separated without ``#``."""
    stripped = text.strip()
    parts = re.split(r"\s*#\s*", stripped) if "#" in stripped else stripped.split()
    while parts and parts[-1] == "":
        parts.pop()  # "fetch#POLRES_A#"
    return parts


def parse_command(text: str) -> Command:
    parts = split_command(text)
    if not parts:
        return UnknownCommand()
    word, args = parts[0].lower(), parts[1:]
    if word in MENU_WORDS and not args:
        return MenuCommand()
    if word in FETCH_WORDS:
        return _parse_fetch(args)
    if word in RECAP_WORDS:
        return _parse_recap(args)
    if word in OPT_IN_WORDS:
        return _parse_opt_in(args)
    return UnknownCommand()


def _client_id(raw: str, command: str, form: str) -> str | BadCommand:
    client_id = raw.upper()
    if not CLIENT_ID.fullmatch(client_id):
        return BadCommand(command, f"Kode client {raw!r} tidak valid: gunakan huruf, angka dan _ saja. "
                                   f"Format: {form}")
    return client_id


def _parse_fetch(args: list[str]) -> Command:
    form = "fetch#KODE_CLIENT, mis. fetch#POLRES_A"
    if len(args) != 1:
        return BadCommand("fetch", f"Perintah fetch memerlukan satu kode client. Format: {form}")
    client_id = _client_id(args[0], "fetch", form)
    return client_id if isinstance(client_id, BadCommand) else FetchCommand(client_id)


def _parse_recap(args: list[str]) -> Command:
    form = "rekap#KODE_CLIENT atau rekap#KODE_CLIENT#YYYY-MM-DD, mis. rekap#POLRES_A#2026-03-10"
    if len(args) not in (1, 2):
        return BadCommand("rekap", f"Perintah rekap memerlukan kode client dan, bila perlu, tanggal. Format: {form}")
    client_id = _client_id(args[0], "rekap", form)
    if isinstance(client_id, BadCommand):
        return client_id
    if len(args) == 1:
        return RecapCommand(client_id)
    day = parse_day(args[1])
    if day is None:
        return BadCommand("rekap", f"Tanggal {args[1]!r} tidak valid: gunakan format YYYY-MM-DD, "
                                   f"mis. rekap#{client_id}#2026-03-10")
    return RecapCommand(client_id, day)


def parse_day(raw: str) -> date | None:
    if not ISO_DATE.fullmatch(raw):
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:  # 2026-02-30
        return None


def _parse_opt_in(args: list[str]) -> Command:
    if len(args) == 1 and args[0].lower() in ("on", "off"):
        return OptInCommand(args[0].lower() == "on")
    return BadCommand("notifwa", "Gunakan notifwa#on untuk mengaktifkan atau notifwa#off untuk menonaktifkan "
                                 "pengingat tugas melalui WhatsApp.")


# -- replies ---------------------------------------------------------------------------------------------

MENU_HINT = "Kirim *menu* untuk melihat daftar perintah."


def menu_text(*, manages: bool, all_clients: bool, client_ids: Collection[str], is_person: bool,
              unknown_command: bool = False) -> str:
    """What this sender may do, and nothing they may not."""
    lines = ["Perintah tidak dikenal.", ""] if unknown_command else []
    lines.append("📋 *Menu Cicero*")
    if manages:
        lines += [
            "• fetch#KODE_CLIENT — ambil data konten client sekarang",
            "• rekap#KODE_CLIENT — rekap absensi hari ini",
            "• rekap#KODE_CLIENT#YYYY-MM-DD — rekap absensi tanggal tertentu",
        ]
    if is_person:
        lines.append("• notifwa#on / notifwa#off — aktifkan / nonaktifkan pengingat tugas pribadi")
    lines.append("• menu — tampilkan menu ini")
    if all_clients:
        lines += ["", "Anda dapat memberi perintah untuk semua client."]
    elif manages:
        named = sorted(client_ids)
        more = f" … dan {len(named) - CLIENTS_NAMED} lainnya" if len(named) > CLIENTS_NAMED else ""
        lines += ["", f"Client Anda: {', '.join(named[:CLIENTS_NAMED])}{more}"]
    return "\n".join(lines)


def bad_command_text(reason: str) -> str:
    return f"⚠️ {reason}\n{MENU_HINT}"


def fetch_started_text(client_id: str, client_name: str) -> str:
    return (f"✅ Pengambilan data {client_name} ({client_id}) dimulai.\n"
            f"Kirim rekap#{client_id} beberapa saat lagi untuk melihat rekap terbaru.")


def not_allowed_text(client_id: str) -> str:
    return f"⛔ Maaf, nomor ini tidak berwenang memberi perintah untuk client {client_id}."


def managers_only_text() -> str:
    return f"⛔ Maaf, perintah ini hanya untuk operator dan admin.\n{MENU_HINT}"


def unknown_client_text(client_id: str) -> str:
    return f"⚠️ Client {client_id} tidak terdaftar. Periksa kembali kode client.\n{MENU_HINT}"


def inactive_client_text(client_id: str) -> str:
    return f"⚠️ Client {client_id} sedang tidak aktif; perintah tidak dijalankan."


def future_day_text(day: date, today: date) -> str:
    return (f"⚠️ Tanggal {day.isoformat()} ({date_id(day)}) belum tiba: rekap tersedia sampai hari ini, "
            f"{today.isoformat()}.")


def opt_in_text(opt_in: bool, changed: bool) -> str:
    if opt_in:
        return ("✅ Pengingat tugas melalui WhatsApp *diaktifkan*. Anda akan menerima pengingat konten yang belum "
                "di-like atau dikomentari." if changed else "Pengingat tugas melalui WhatsApp sudah aktif.")
    return ("✅ Pengingat tugas melalui WhatsApp *dinonaktifkan*. Kirim notifwa#on untuk mengaktifkan kembali."
            if changed else "Pengingat tugas melalui WhatsApp sudah nonaktif.")


def not_a_person_text() -> str:
    return "⚠️ Nomor ini tidak terdaftar sebagai personel aktif, sehingga pengingat tugas tidak dapat diatur."
