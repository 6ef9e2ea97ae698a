"""The personal reminder and thank-you texts (docs/domain.md §5 "Reminders"). Pure rendering, Bahasa Indonesia.

The clock time and greeting come from the tick (event time), so a replayed tick renders the same text. A
number shared by several people of one unit gets one text naming each of them (``render_shared``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from cicero_contracts.events.common import Platform
from cicero_runtime.clock import WIB
from cicero_runtime.indonesian import PLATFORM_LABEL, date_id, number_id, short_caption, time_wib

from cicero_notifier.reminder_decision import PLATFORMS, ChatMessage, PlatformProgress, Stage

PENDING_PHRASE = {Platform.INSTAGRAM: "belum di-like", Platform.TIKTOK: "belum dikomentari"}
STAGE_TITLE = {
    Stage.INITIAL: "Pengingat Tugas",
    Stage.FOLLOWUP1: "Pengingat Tugas (ke-2)",
    Stage.FOLLOWUP2: "Pengingat Tugas (terakhir)",
}
ASK = {Platform.INSTAGRAM: "like konten Instagram", Platform.TIKTOK: "beri komentar pada konten TikTok"}
OPT_OUT_HINT = "Balas *notifwa#off* bila tidak ingin menerima pengingat lagi."
THANKS_TITLE = "✅ *Tugas Hari Ini Selesai"
NO_MORE_TODAY = "Pengingat untuk hari ini tidak akan dikirim lagi. Salam Presisi!"


def greeting(instant: datetime) -> str:
    """By the WIB hour: 04:00–10:59 pagi, 11:00–14:59 siang, 15:00–17:59 sore, otherwise malam."""
    hour = instant.astimezone(WIB).hour
    if 4 <= hour <= 10:
        return "Selamat Pagi"
    if 11 <= hour <= 14:
        return "Selamat Siang"
    if 15 <= hour <= 17:
        return "Selamat Sore"
    return "Selamat Malam"


def address(title: str | None, name: str) -> str:
    """``Bapak/Ibu AKP Budi Santoso``; a person without a rank is addressed by name."""
    rank = (title or "").strip()
    return f"Bapak/Ibu {rank} {name.strip()}" if rank else f"Bapak/Ibu {name.strip()}"


def _opening(instant: datetime, title: str | None, name: str) -> str:
    return f"{greeting(instant)} {address(title, name)},"


def _when(instant: datetime) -> str:
    return f"{date_id(instant)}, {time_wib(instant)}"


def render_reminder(stage: Stage, *, title: str | None, name: str, client_name: str, at: datetime,
                    progress: Sequence[PlatformProgress]) -> str:
    """The list of what the person still has to like (Instagram) or comment (TikTok), with links."""
    if stage == Stage.COMPLETED:
        raise ValueError("the completed stage is a thank-you: use render_thanks")
    lines = [_opening(at, title, name), "", f"🔔 *{STAGE_TITLE[stage]} {client_name}*", _when(at)]
    lines += _progress_lines(progress)
    lines += ["", _closing(progress), "", OPT_OUT_HINT]
    return "\n".join(lines)


def _progress_lines(progress: Sequence[PlatformProgress]) -> list[str]:
    lines: list[str] = []
    for item in progress:
        label = PLATFORM_LABEL[item.platform]
        lines.append("")
        if item.state == "complete":
            lines.append(f"{label}: sudah selesai ✅")
        elif item.state == "no_username":
            lines.append(f"{label}: akun belum terdaftar. Mohon kirim username {label} Anda kepada operator "
                         "agar tugas dapat tercatat.")
        else:
            count = len(item.pending) + item.unlisted
            lines.append(f"{label}: {number_id(count)} konten {PENDING_PHRASE[item.platform]}")
            for number, post in enumerate(item.pending, start=1):
                lines.append(f"{number}. {post.link}")
                caption = short_caption(post.caption)
                if caption:
                    lines.append(f"   {caption}")
            if item.unlisted:
                lines.append(f"+ {number_id(item.unlisted)} konten lainnya (lihat daftar tugas di grup)")
    return lines


def _closing(progress: Sequence[PlatformProgress]) -> str:
    """Ask only for what is still to do: likes, comments, or both (each once, Instagram first)."""
    pending = {p.platform for p in progress if p.state == "pending"}
    asks = [ASK[platform] for platform in PLATFORMS if platform in pending]
    if not asks:
        return "Mohon segera daftarkan akun Anda agar tugas dapat tercatat. Terima kasih."
    return f"Mohon segera {' dan '.join(asks)} di atas. Terima kasih."


def render_thanks(*, title: str | None, name: str, client_name: str, at: datetime,
                  progress: Sequence[PlatformProgress]) -> str:
    """The one-time thank-you once every platform with task posts is done."""
    lines = [_opening(at, title, name), "",
             f"{THANKS_TITLE} — {client_name}*", _when(at), "",
             "Terima kasih, seluruh tugas like dan komentar hari ini telah Anda laksanakan:"]
    lines += _done_lines(progress)
    lines += ["", NO_MORE_TODAY]
    return "\n".join(lines)


def _done_lines(progress: Sequence[PlatformProgress]) -> list[str]:
    return [f"• {PLATFORM_LABEL[p.platform]}: {number_id(p.total)} konten" for p in progress]


def render_shared(message: ChatMessage, *, client_name: str, at: datetime) -> str:
    """One text for several people of one unit sharing a number: each named with their reminder (pending links)
    or their thank-you, under one greeting; the closing asks for what anyone still has to do."""
    reminding = [d for d in message.dues if d.stage != Stage.COMPLETED]
    header = f"🔔 *Pengingat Tugas {client_name}*" if reminding else f"{THANKS_TITLE} — {client_name}*"
    lines = [f"{greeting(at)} Bapak/Ibu,", "", header, _when(at),
             f"Nomor ini terdaftar untuk {number_id(len(message.dues))} personel:"]
    for number, due in enumerate(message.dues, start=1):
        who = f"*{number}. {address(due.person.title, due.person.name).removeprefix('Bapak/Ibu ')}*"
        lines.append("")
        if due.stage == Stage.COMPLETED:
            lines += [f"{who} — tugas hari ini selesai ✅",
                      "Terima kasih, seluruh tugas like dan komentar hari ini telah dilaksanakan:",
                      *_done_lines(due.progress)]
        else:
            lines.append(f"{who} — {STAGE_TITLE[due.stage]}")
            lines += _progress_lines(due.progress)
    if reminding:
        pending = [p for d in reminding for p in d.progress]
        lines += ["", _closing(pending), "", OPT_OUT_HINT]
    else:
        lines += ["", NO_MORE_TODAY]
    return "\n".join(lines)
