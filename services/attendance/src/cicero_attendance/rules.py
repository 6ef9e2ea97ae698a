"""Attendance rules of DOMAIN §4 as pure functions: statuses, thresholds and report ordering. No I/O."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from cicero_contracts.events.attendance import AttendanceStatus

ORG_RATIO = 1.0
"""An ORG report counts a person complete only when every task post was engaged with."""
DIRECTORATE_RATIO = 0.5
"""A directorate summary counts half of the day's posts as complete."""

Activity = Literal["likes", "comments"]
COUNTED_KIND: Mapping[str, Activity] = {"instagram": "likes", "tiktok": "comments"}
"""What attendance counts per platform: Instagram likes, TikTok comments (keys are ``Platform`` values)."""

DIVISION_PREFIXES = ("BAG", "SAT", "SI", "SPKT", "POLSEK")
POSITION_PREFIXES = ("DIR", "WADIR", "KASUBDIT", "KABAG", "KASUBBAG", "KASAT", "KANIT")
POLICE_RANKS = ("KBP", "AKBP", "KOMPOL", "AKP", "IPTU", "IPDA", "AIPTU", "AIPDA", "BRIPKA", "BRIGADIR",
                "BRIPTU", "BRIPDA")
RANK_ALIASES = {"BRIG": "BRIGADIR", "BRIGPOL": "BRIGADIR", "KOMBES": "KBP", "KOMBESPOL": "KBP"}
"""Abbreviations operators type in the rank column."""
CIVIL_SERVICE_RANKS = ("PEMBINA UTAMA", "PEMBINA", "PENATA", "PENGATUR", "JURU", "PPPK", "PHL")


def required_done(total: int, ratio: float) -> int:
    """How many of ``total`` task posts make a person complete at ``ratio``."""
    if total < 0 or not 0 < ratio <= 1:
        raise ValueError(f"total must be >= 0 and ratio in (0, 1], got total={total}, ratio={ratio}")
    return math.ceil(ratio * total - 1e-9)


def status_for(*, has_username: bool, exempt: bool, done: int, total: int, ratio: float) -> AttendanceStatus:
    """Exempt first (listed separately, counted complete), then a missing handle, then the threshold."""
    if exempt:
        return AttendanceStatus.EXEMPT
    if not has_username:
        return AttendanceStatus.NO_USERNAME
    if not 0 <= done <= total:
        raise ValueError(f"done must be between 0 and total, got done={done}, total={total}")
    if done >= required_done(total, ratio):
        return AttendanceStatus.COMPLETE
    return AttendanceStatus.PARTIAL if done > 0 else AttendanceStatus.NONE


def counts_as_complete(status: AttendanceStatus) -> bool:
    return status in (AttendanceStatus.COMPLETE, AttendanceStatus.EXEMPT)


def _prefix_rank(word: str, prefixes: tuple[str, ...]) -> int:
    """Index of the longest prefix ``word`` starts with, or len(prefixes) when none."""
    best, best_len = len(prefixes), -1
    for index, prefix in enumerate(prefixes):
        if word.startswith(prefix) and len(prefix) > best_len:
            best, best_len = index, len(prefix)
    return best


def division_sort_key(division: str | None) -> tuple[int, str]:
    """BAG, SAT, SI, SPKT, POLSEK prefixes first (in that order), then alphabetically."""
    name = " ".join((division or "").upper().split())
    first = name.split(" ", 1)[0] if name else ""
    rank = len(DIVISION_PREFIXES)
    for index, prefix in enumerate(DIVISION_PREFIXES):
        if first == prefix or (first.startswith(prefix) and prefix in ("POLSEK", "SPKT")):
            rank = index
            break
    return (rank, name)


def _rank_of(title: str | None) -> int:
    text = " ".join((title or "").upper().replace(".", "").split())
    text = RANK_ALIASES.get(text, text)
    if text in POLICE_RANKS:
        return POLICE_RANKS.index(text)
    for index, civil in enumerate(CIVIL_SERVICE_RANKS):
        if text.startswith(civil):
            return len(POLICE_RANKS) + index
    return len(POLICE_RANKS) + len(CIVIL_SERVICE_RANKS)


@dataclass(frozen=True, order=True)
class PersonKey:
    position: int
    rank: int
    name: str
    user_id: str


def person_sort_key(jabatan: str | None, title: str | None, name: str, user_id: str = "") -> PersonKey:
    """Position (DIR … KANIT), then rank (KBP … BRIPDA, then civil-service ranks), then name; id breaks ties."""
    first_word = (jabatan or "").upper().split(" ", 1)[0]
    return PersonKey(_prefix_rank(first_word, POSITION_PREFIXES) if first_word else len(POSITION_PREFIXES),
                     _rank_of(title), " ".join(name.upper().split()), user_id)
