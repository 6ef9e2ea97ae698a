"""The scheduled task list a client's WhatsApp groups receive (DOMAIN §5). Pure rendering."""

from __future__ import annotations

from cicero_contracts.events.common import Platform
from cicero_contracts.events.ingest import ClientFetchCompleted

from cicero_notifier.formatting import date_id, number_id, short_caption, time_wib

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
