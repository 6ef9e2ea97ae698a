"""DOMAIN §4 rules on hand-built cases: thresholds, exempt, no_username, partial, ordering, no posts."""

from __future__ import annotations

import pytest
from cicero_attendance.rules import (
    DIRECTORATE_RATIO,
    ORG_RATIO,
    counts_as_complete,
    division_sort_key,
    person_sort_key,
    required_done,
    status_for,
)
from cicero_contracts.events.attendance import AttendanceStatus as S


@pytest.mark.parametrize(("total", "ratio", "needed"), [
    (0, ORG_RATIO, 0), (1, ORG_RATIO, 1), (5, ORG_RATIO, 5),
    (1, DIRECTORATE_RATIO, 1), (2, DIRECTORATE_RATIO, 1), (3, DIRECTORATE_RATIO, 2), (5, DIRECTORATE_RATIO, 3),
    (10, 0.3, 3), (7, 0.3, 3),
])
def test_required_done_is_the_ceiling_of_ratio_times_total(total: int, ratio: float, needed: int) -> None:
    assert required_done(total, ratio) == needed


@pytest.mark.parametrize(("done", "total", "ratio", "expected"), [
    (3, 3, ORG_RATIO, S.COMPLETE), (2, 3, ORG_RATIO, S.PARTIAL), (0, 3, ORG_RATIO, S.NONE),
    (2, 3, DIRECTORATE_RATIO, S.COMPLETE), (1, 3, DIRECTORATE_RATIO, S.PARTIAL), (0, 3, DIRECTORATE_RATIO, S.NONE),
    (1, 2, DIRECTORATE_RATIO, S.COMPLETE), (2, 4, DIRECTORATE_RATIO, S.COMPLETE), (1, 4, DIRECTORATE_RATIO, S.PARTIAL),
    (0, 0, ORG_RATIO, S.COMPLETE),  # a day with no posts asks nothing of anyone
])
def test_status_follows_the_threshold(done: int, total: int, ratio: float, expected: S) -> None:
    assert status_for(has_username=True, exempt=False, done=done, total=total, ratio=ratio) == expected


def test_exempt_wins_over_everything_and_counts_complete() -> None:
    status = status_for(has_username=False, exempt=True, done=0, total=5, ratio=ORG_RATIO)
    assert status == S.EXEMPT and counts_as_complete(status)


def test_a_missing_handle_is_no_username_not_none() -> None:
    status = status_for(has_username=False, exempt=False, done=0, total=5, ratio=ORG_RATIO)
    assert status == S.NO_USERNAME and not counts_as_complete(status)


@pytest.mark.parametrize(("done", "total", "ratio"), [(4, 3, ORG_RATIO), (-1, 3, ORG_RATIO), (0, 3, 0.0), (0, 3, 1.5)])
def test_impossible_inputs_are_refused(done: int, total: int, ratio: float) -> None:
    with pytest.raises(ValueError):
        status_for(has_username=True, exempt=False, done=done, total=total, ratio=ratio)


def test_divisions_sort_by_prefix_then_alphabetically() -> None:
    divisions = ["POLSEK KOTA", "UNIT LAKA", "SAT LANTAS", "BAG OPS", "SI HUMAS", "SPKT", "SAT BINMAS",
                 "BAG SUMDA", "POLSEK ARJOWINANGUN", "AKADEMI", None]
    ordered = sorted(divisions, key=division_sort_key)
    assert ordered == ["BAG OPS", "BAG SUMDA", "SAT BINMAS", "SAT LANTAS", "SI HUMAS", "SPKT",
                       "POLSEK ARJOWINANGUN", "POLSEK KOTA", None, "AKADEMI", "UNIT LAKA"]


def test_people_sort_by_position_then_rank_then_name() -> None:
    people = [
        ("BAMIN", "BRIPDA", "Zaki", "9"), ("KANIT BINMAS", "IPDA", "Rudi", "8"), ("KASAT BINMAS", "AKP", "Budi", "7"),
        ("BAMIN", "AKBP", "Yusuf", "6"), ("DIRBINMAS", "KBP", "Agus", "5"), ("WADIR", "AKBP", "Heru", "4"),
        ("BAMIN", "PENATA MUDA", "Sari", "3"), ("BAMIN", "BRIPDA", "Andi", "2"), ("BAMIN", "Brig.", "Cici", "1"),
        ("KASUBBAG RENMIN", "KOMPOL", "Eko", "10"), ("KABAG OPS", "AKBP", "Fajar", "11"),
    ]
    ordered = [p[2] for p in sorted(people, key=lambda p: person_sort_key(*p))]
    assert ordered == ["Agus", "Heru", "Fajar", "Eko", "Budi", "Rudi", "Yusuf", "Cici", "Andi", "Zaki", "Sari"]


def test_ties_are_broken_by_name_then_id() -> None:
    a = person_sort_key("BAMIN", "BRIPDA", "Andi Saputra", "2")
    b = person_sort_key("BAMIN", "BRIPDA", "andi  saputra", "1")
    assert sorted([a, b]) == [b, a]
