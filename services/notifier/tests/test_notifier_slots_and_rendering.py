"""Slot logic (DOMAIN §5) and the Indonesian rendering of task messages: pure functions of event time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from cicero_contracts.events.ingest import ClientFetchCompleted
from cicero_contracts.schema_files import load_example
from cicero_notifier.slots import in_hourly_window, is_list_due, slot_key
from cicero_notifier.task_decision import change_key, list_key
from cicero_notifier.task_list import render_change, render_task_list
from cicero_runtime.clock import WIB


def wib(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, micro: int = 0
        ) -> datetime:
    return datetime(year, month, day, hour, minute, second, micro, tzinfo=WIB)


# -- slots ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("instant", "expected"), [
    (wib(2026, 3, 10, 14, 5), "2026-03-10-14@05"),
    (wib(2026, 3, 10, 14, 5, 0, 1), "2026-03-10-14@05"),
    (wib(2026, 3, 10, 14, 30), "2026-03-10-14@05"),
    (wib(2026, 3, 10, 14, 59, 59), "2026-03-10-14@05"),
    (wib(2026, 3, 10, 15, 4, 59), "2026-03-10-14@05"),
    (wib(2026, 3, 10, 14, 4), "2026-03-10-13@05"),
    (wib(2026, 3, 10, 14, 0), "2026-03-10-13@05"),
    (wib(2026, 3, 10, 6, 5), "2026-03-10-06@05"),
    (wib(2026, 3, 10, 0, 5), "2026-03-10-00@05"),
    (wib(2026, 3, 10, 0, 3), "2026-03-09-23@05"),  # 00:00–00:04 belongs to the previous day's 23@05
    (wib(2026, 3, 10, 0, 0), "2026-03-09-23@05"),
    (wib(2026, 3, 1, 0, 4), "2026-02-28-23@05"),
    (wib(2027, 1, 1, 0, 2), "2026-12-31-23@05"),
    (datetime(2026, 3, 10, 7, 5, tzinfo=UTC), "2026-03-10-14@05"),  # UTC converted to WIB
    (datetime(2026, 3, 10, 7, 4, tzinfo=UTC), "2026-03-10-13@05"),
    (datetime(2026, 3, 9, 17, 3, tzinfo=UTC), "2026-03-09-23@05"),  # 00:03 WIB on the 10th
    (datetime(2026, 3, 9, 17, 5, tzinfo=UTC), "2026-03-10-00@05"),
    (datetime(2026, 3, 10, 23, 5, tzinfo=timezone(timedelta(hours=9))), "2026-03-10-21@05"),  # WIT
])
def test_slot_key(instant: datetime, expected: str) -> None:
    assert slot_key(instant) == expected


@pytest.mark.parametrize(("instant", "inside"), [
    (wib(2026, 3, 10, 5, 59, 59), False),
    (wib(2026, 3, 10, 6, 0), True),
    (wib(2026, 3, 10, 6, 5), True),
    (wib(2026, 3, 10, 12, 0), True),
    (wib(2026, 3, 10, 17, 5), True),
    (wib(2026, 3, 10, 17, 59, 59), True),
    (wib(2026, 3, 10, 18, 0), False),
    (wib(2026, 3, 10, 19, 5), False),
    (wib(2026, 3, 10, 0, 3), False),
    (datetime(2026, 3, 9, 22, 59, tzinfo=UTC), False),  # 05:59 WIB
    (datetime(2026, 3, 9, 23, 0, tzinfo=UTC), True),  # 06:00 WIB
    (datetime(2026, 3, 10, 10, 59, tzinfo=UTC), True),  # 17:59 WIB
    (datetime(2026, 3, 10, 11, 0, tzinfo=UTC), False),  # 18:00 WIB
])
def test_hourly_window_is_0600_to_1759_wib(instant: datetime, inside: bool) -> None:
    assert in_hourly_window(instant) is inside


@pytest.mark.parametrize(("instant", "last_slot", "due"), [
    (wib(2026, 3, 10, 14, 5), None, True),
    (wib(2026, 3, 10, 14, 5), "2026-03-10-13@05", True),
    (wib(2026, 3, 10, 14, 5), "2026-03-10-14@05", False),
    (wib(2026, 3, 10, 14, 30), "2026-03-10-14@05", False),
    (wib(2026, 3, 10, 15, 4), "2026-03-10-14@05", False),  # still the 14@05 slot
    (wib(2026, 3, 10, 15, 5), "2026-03-10-14@05", True),
    (wib(2026, 3, 11, 14, 5), "2026-03-10-14@05", True),  # same hour, the next day
    (wib(2026, 3, 10, 6, 5), "2026-03-09-17@05", True),
    (wib(2026, 3, 10, 6, 3), None, True),  # the window is about the time (its slot is 05@05)
    (wib(2026, 3, 10, 18, 3), "2026-03-10-16@05", False),  # slot 17@05, but 18:03 is outside the window
    (wib(2026, 3, 10, 19, 5), None, False),
    (wib(2026, 3, 10, 19, 5), "2026-03-10-17@05", False),
    (wib(2026, 3, 10, 17, 5), "2026-03-10-16@05", True),
])
def test_is_slot_due(instant: datetime, last_slot: str | None, due: bool) -> None:
    """Outside the mandatory run, due means: in the window and this slot not yet notified."""
    assert is_list_due(instant, mandatory=False, slot_taken=last_slot == slot_key(instant)) is due


@pytest.mark.parametrize(("instant", "mandatory", "taken", "due"), [
    (wib(2026, 3, 10, 14, 5), False, False, True),
    (wib(2026, 3, 10, 14, 5), False, True, False),
    (wib(2026, 3, 10, 19, 5), False, False, False),
    (wib(2026, 3, 10, 17, 5), True, False, True),
    (wib(2026, 3, 10, 18, 20), True, False, True),  # a late mandatory run, outside the window
    (wib(2026, 3, 10, 17, 5), True, True, False),  # the slot's list already went out: never twice
])
def test_is_list_due(instant: datetime, mandatory: bool, taken: bool, due: bool) -> None:
    assert is_list_due(instant, mandatory=mandatory, slot_taken=taken) is due


def test_a_naive_time_has_no_slot() -> None:
    with pytest.raises(ValueError, match="naive"):
        slot_key(datetime(2026, 3, 10, 14, 5))


def test_slot_keys_sort_in_time_order() -> None:
    instants = [wib(2026, 3, 9, 23, 30), wib(2026, 3, 10, 0, 3), wib(2026, 3, 10, 6, 5), wib(2026, 3, 10, 9, 5),
                wib(2026, 3, 10, 10, 5), wib(2026, 3, 10, 17, 5), wib(2026, 3, 11, 6, 5)]
    keys = [slot_key(i) for i in instants]
    assert keys == sorted(keys)


def test_list_and_change_keys() -> None:
    group = "120363025550001111@g.us"
    assert list_key("POLRES_A", group, "2026-03-10-14@05") == f"task:POLRES_A:{group}:2026-03-10-14@05"
    assert list_key("POLRES_A", group, "2026-03-10-14@05", 2) == f"task:POLRES_A:{group}:2026-03-10-14@05:r2"
    first = change_key("POLRES_A", group, "konten baru 1")
    assert first.startswith(f"change:POLRES_A:{group}:") and len(first.rsplit(":", 1)[1]) == 24
    assert change_key("POLRES_A", group, "konten baru 1") == first
    assert change_key("POLRES_A", group, "konten baru 2") != first
    assert change_key("POLRES_A", "120363025550002222@g.us", "konten baru 1") != first


# -- the task list ---------------------------------------------------------------------------------------


def fetch(**changes: Any) -> ClientFetchCompleted:
    return ClientFetchCompleted.model_validate(load_example("ClientFetchCompleted", 1) | changes)


def task_list(event: ClientFetchCompleted, name: str = "Polres Demo") -> str:
    return render_task_list(name, event.fetched_at, event.posts, event.changes.added, event.changes.removed)


def test_task_list_content() -> None:
    text = task_list(fetch())
    lines = text.splitlines()
    assert lines[0] == "Mohon ijin Komandan,"
    assert lines[1] == "📋 *Daftar Tugas Polres Demo*"
    assert lines[2] == "Selasa, 10 Maret 2026, pengambilan data 14:05 WIB"
    assert "Instagram: 1 konten hari ini" in lines
    assert "TikTok: 1 konten hari ini" in lines
    assert "Perubahan: 1 konten baru, 0 konten dihapus" in lines
    assert "• Baru: [Instagram] https://www.instagram.com/p/C4abcDEFghi/" in lines
    assert "1. [Instagram] https://www.instagram.com/p/C4abcDEFghi/" in lines
    assert "   Giat patroli dialogis #polri #presisi" in lines
    assert "   Diunggah 08:15 WIB · 1.200 suka · 4 komentar" in lines  # published 01:15Z
    assert "2. [TikTok] https://www.tiktok.com/@polres_demo_tt/video/7345012345678901234" in lines
    assert "   Diunggah 09:00 WIB · 120 suka · 8 komentar" in lines
    assert "Belum ada konten hari ini." not in text
    assert text.index("1. [Instagram]") < text.index("2. [TikTok]")
    assert lines[-1] == "Mohon segera like dan komentar pada seluruh konten di atas. Terima kasih."


def test_task_list_lists_instagram_before_tiktok() -> None:
    example = load_example("ClientFetchCompleted", 1)
    text = task_list(fetch(posts=[example["posts"][1], example["posts"][0]]))
    assert text.index("1. [Instagram]") < text.index("2. [TikTok]")


def test_task_list_without_posts_says_so_in_one_sentence() -> None:
    text = task_list(fetch(posts=[], changes={"added": [], "removed": []}))
    assert text.startswith("Mohon ijin Komandan,\n")
    assert "Instagram: 0 konten hari ini" in text and "TikTok: 0 konten hari ini" in text
    assert "Belum ada konten hari ini." in text
    assert "Perubahan" not in text and "Diunggah" not in text


def test_task_list_shows_removed_posts_among_the_changes() -> None:
    removed = {"platform": "tiktok", "post_id": "7345000000000000001",
               "link": "https://www.tiktok.com/@polres_demo_tt/video/7345000000000000001"}
    lines = task_list(fetch(changes={"added": [], "removed": [removed]})).splitlines()
    assert "Perubahan: 0 konten baru, 1 konten dihapus" in lines
    assert "• Dihapus: [TikTok] https://www.tiktok.com/@polres_demo_tt/video/7345000000000000001" in lines


def test_task_list_shortens_long_captions_and_formats_big_counts() -> None:
    example = load_example("ClientFetchCompleted", 1)
    post = example["posts"][0] | {"caption": "Giat " + "patroli " * 40, "like_count": 1234567}
    tiktok = example["posts"][1] | {"caption": "", "comment_count": 25000}
    text = task_list(fetch(posts=[post, tiktok]))
    caption_line = next(line for line in text.splitlines() if line.startswith("   Giat"))
    assert caption_line.endswith("…") and len(caption_line.strip()) <= 80
    assert "1.234.567 suka" in text
    assert "25.000 komentar" in text
    assert "(tanpa keterangan)" in text


def test_change_messages_list_one_kind_of_change_each() -> None:
    removed = {"platform": "tiktok", "post_id": "7345000000000000001",
               "link": "https://www.tiktok.com/@polres_demo_tt/video/7345000000000000001"}
    event = fetch(changes={"added": load_example("ClientFetchCompleted", 1)["changes"]["added"],
                           "removed": [removed]})
    added_text = render_change("Polres Demo", event.fetched_at, "added", event.changes.added, event.posts)
    removed_text = render_change("Polres Demo", event.fetched_at, "removed", event.changes.removed, event.posts)
    assert added_text.startswith("Mohon ijin Komandan,\n") and removed_text.startswith("Mohon ijin Komandan,\n")
    assert "Konten Baru Polres Demo" in added_text and "Konten Dihapus Polres Demo" in removed_text
    assert "1. [Instagram] https://www.instagram.com/p/C4abcDEFghi/" in added_text
    assert "Giat patroli dialogis" in added_text and "Diunggah 08:15 WIB" in added_text
    assert "tiktok.com" not in added_text
    assert "1. [TikTok] https://www.tiktok.com/@polres_demo_tt/video/7345000000000000001" in removed_text
    assert "instagram.com" not in removed_text
    assert "14:05 WIB" in added_text and "14:05 WIB" in removed_text
    assert removed_text.endswith("Konten di atas tidak lagi menjadi tugas hari ini.")
