"""The scheduled task list a client's WhatsApp groups receive (DOMAIN §5). Pure rendering."""

from __future__ import annotations

from typing import Literal

from cicero_contracts.events.common import Platform
from cicero_contracts.events.ingest import ClientFetchCompleted
from cicero_runtime.indonesian import date_id, number_id, short_caption, time_wib

PLATFORM_LABEL = {Platform.INSTAGRAM: "Instagram", Platform.TIKTOK: "TikTok"}


def render_task_list(client_name: str, fetch: ClientFetchCompleted) -> str:
    lines = [
        "Mohon ijin Komandan,",
        f"📋 *Daftar Tugas {client_name}*",
        f"{date_id(fetch.fetched_at)}, pengambilan data {time_wib(fetch.fetched_at)}",
        "",
    ]
    for platform in (Platform.INSTAGRAM, Platform.TIKTOK):
        count = sum(1 for p in fetch.posts if p.platform == platform)
        lines.append(f"{PLATFORM_LABEL[platform]}: {count} konten hari ini")
    added = len(fetch.changes.added)
    removed = len(fetch.changes.removed)
    if added or removed:
        lines.append(f"Perubahan: {added} konten baru, {removed} konten dihapus")
    if not fetch.posts:
        lines += ["", "Belum ada konten hari ini."]
    for number, post in enumerate(fetch.posts, start=1):
        metric = (f"{number_id(post.like_count)} suka" if post.platform == Platform.INSTAGRAM
                  else f"{number_id(post.comment_count)} komentar")
        lines += [
            "",
            f"{number}. [{PLATFORM_LABEL[post.platform]}] {post.link}",
            f"   {short_caption(post.caption) or '(tanpa keterangan)'}",
            f"   Diunggah {time_wib(post.published_at)} · {metric}",
        ]
    lines += ["", "Mohon segera like dan komentar pada seluruh konten di atas. Terima kasih."]
    return "\n".join(lines)


ChangeKind = Literal["added", "removed"]
CHANGE_TITLE: dict[ChangeKind, str] = {"added": "Konten Baru", "removed": "Konten Dihapus"}


def render_change(client_name: str, fetch: ClientFetchCompleted, kind: ChangeKind) -> str:
    """One kind of change (posts added or posts removed) outside a due slot: a short message of its own."""
    refs = fetch.changes.added if kind == "added" else fetch.changes.removed
    today = {(p.platform, p.post_id): p for p in fetch.posts}
    lines = [
        "Mohon ijin Komandan,",
        f"🔔 *{CHANGE_TITLE[kind]} {client_name}*",
        f"{date_id(fetch.fetched_at)}, pengambilan data {time_wib(fetch.fetched_at)}",
    ]
    for number, ref in enumerate(refs, start=1):
        lines += ["", f"{number}. [{PLATFORM_LABEL[ref.platform]}] {ref.link}"]
        post = today.get((ref.platform, ref.post_id))
        if kind == "added" and post is not None:
            lines += [f"   {short_caption(post.caption) or '(tanpa keterangan)'}",
                      f"   Diunggah {time_wib(post.published_at)}"]
    lines.append("")
    lines.append("Mohon segera like dan komentar pada konten baru di atas. Terima kasih." if kind == "added"
                 else "Konten di atas tidak lagi menjadi tugas hari ini.")
    return "\n".join(lines)
