"""The personal reminder and thank-you texts (DOMAIN §5 "Reminders"). Pure rendering, Bahasa Indonesia.

The clock time and greeting come from the tick (event time), so a replayed tick renders the same text.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from cicero_contracts.events.common import Platform
from cicero_runtime.clock import WIB
from cicero_runtime.indonesian import PLATFORM_LABEL, date_id, number_id, short_caption, time_wib

from cicero_notifier.reminder_decision import PlatformProgress, Stage

PENDING_PHRASE = {Platform.INSTAGRAM: "belum di-like", Platform.TIKTOK: "belum dikomentari"}
STAGE_TITLE = {
    Stage.INITIAL: "Pengingat Tugas",
    Stage.FOLLOWUP1: "Pengingat Tugas (ke-2)",
    Stage.FOLLOWUP2: "Pengingat Tugas (terakhir)",
}
ASK = {Platform.INSTAGRAM: "like konten Instagram", Platform.TIKTOK: "beri komentar pada konten TikTok"}
OPT_OUT_HINT = "Balas *notifwa#off* bila tidak ingin menerima pengingat lagi."


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
    lines += ["", _closing(progress), "", OPT_OUT_HINT]
    return "\n".join(lines)


def _closing(progress: Sequence[PlatformProgress]) -> str:
    """Ask only for what is still to do: likes, comments, or both."""
    asks = [ASK[p.platform] for p in progress if p.state == "pending"]
    if not asks:
        return "Mohon segera daftarkan akun Anda agar tugas dapat tercatat. Terima kasih."
    return f"Mohon segera {' dan '.join(asks)} di atas. Terima kasih."


def render_thanks(*, title: str | None, name: str, client_name: str, at: datetime,
                  progress: Sequence[PlatformProgress]) -> str:
    """The one-time thank-you once every platform with task posts is done."""
    lines = [_opening(at, title, name), "",
             f"✅ *Tugas Hari Ini Selesai — {client_name}*", _when(at), "",
             "Terima kasih, seluruh tugas like dan komentar hari ini telah Anda laksanakan:"]
    lines += [f"• {PLATFORM_LABEL[p.platform]}: {number_id(p.total)} konten" for p in progress]
    lines += ["", "Pengingat untuk hari ini tidak akan dikirim lagi. Salam Presisi!"]
    return "\n".join(lines)
