"""The texts a client's WhatsApp groups receive about today's tasks (DOMAIN §5). Pure rendering.

The renderers take the facts (not the event) because the changes they show are the ones the decision
found against the day's baseline, which may differ from what the fetch itself reported.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Literal

from cicero_contracts.events.common import Platform, PostRef, TaskPost
from cicero_runtime.indonesian import PLATFORM_LABEL, date_id, number_id, short_caption, time_wib

PLATFORM_ORDER = (Platform.INSTAGRAM, Platform.TIKTOK)
NO_CAPTION = "(tanpa keterangan)"

ChangeKind = Literal["added", "removed"]
CHANGE_TITLE: dict[ChangeKind, str] = {"added": "Konten Baru", "removed": "Konten Dihapus"}


def by_platform(refs: Sequence[PostRef]) -> list[PostRef]:
    """Instagram first, then TikTok, each in the given order: messages read per platform."""
    return sorted(refs, key=lambda ref: PLATFORM_ORDER.index(ref.platform))


def _header(icon: str, title: str, client_name: str, fetched_at: datetime) -> list[str]:
    return [
        "Mohon ijin Komandan,",
        f"{icon} *{title} {client_name}*",
        f"{date_id(fetched_at)}, pengambilan data {time_wib(fetched_at)}",
    ]


def render_task_list(client_name: str, fetched_at: datetime, posts: Sequence[TaskPost],
                     added: Sequence[PostRef] = (), removed: Sequence[PostRef] = ()) -> str:
    """The scheduled list: counts per platform, today's changes, then every post with its figures."""
    lines = [*_header("📋", "Daftar Tugas", client_name, fetched_at), ""]
    for platform in PLATFORM_ORDER:
        count = sum(1 for p in posts if p.platform == platform)
        lines.append(f"{PLATFORM_LABEL[platform]}: {count} konten hari ini")
    if added or removed:
        lines.append(f"Perubahan: {len(added)} konten baru, {len(removed)} konten dihapus")
        lines += [f"• Baru: [{PLATFORM_LABEL[r.platform]}] {r.link}" for r in by_platform(added)]
        lines += [f"• Dihapus: [{PLATFORM_LABEL[r.platform]}] {r.link}" for r in by_platform(removed)]
    if not posts:
        lines += ["", "Belum ada konten hari ini."]
    ordered = sorted(posts, key=lambda p: PLATFORM_ORDER.index(p.platform))
    for number, post in enumerate(ordered, start=1):
        lines += [
            "",
            f"{number}. [{PLATFORM_LABEL[post.platform]}] {post.link}",
            f"   {short_caption(post.caption) or NO_CAPTION}",
            f"   Diunggah {time_wib(post.published_at)} · {number_id(post.like_count)} suka · "
            f"{number_id(post.comment_count)} komentar",
        ]
    lines += ["", "Mohon segera like dan komentar pada seluruh konten di atas. Terima kasih."]
    return "\n".join(lines)


def render_change(client_name: str, fetched_at: datetime, kind: ChangeKind, refs: Sequence[PostRef],
                  posts: Sequence[TaskPost] = ()) -> str:
    """One kind of change (posts added or posts removed) outside a due slot: a short message of its own."""
    today = {(p.platform, p.post_id): p for p in posts}
    lines = _header("🔔", CHANGE_TITLE[kind], client_name, fetched_at)
    for number, ref in enumerate(by_platform(refs), start=1):
        lines += ["", f"{number}. [{PLATFORM_LABEL[ref.platform]}] {ref.link}"]
        post = today.get((ref.platform, ref.post_id))
        if kind == "added" and post is not None:
            lines += [f"   {short_caption(post.caption) or NO_CAPTION}",
                      f"   Diunggah {time_wib(post.published_at)}"]
    lines.append("")
    lines.append("Mohon segera like dan komentar pada konten baru di atas. Terima kasih." if kind == "added"
                 else "Konten di atas tidak lagi menjadi tugas hari ini.")
    return "\n".join(lines)
