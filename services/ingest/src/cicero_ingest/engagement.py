"""Cumulative engagement sets: pure decisions about what a refresh adds. No I/O.

The platforms return partial pages for big posts, so a refresh can see fewer people than the last one;
the day's set only grows, and a refresh reports who was added since the last one.
"""

from __future__ import annotations

from collections.abc import Iterable

from cicero_runtime.identifiers import normalize_username


def added_usernames(known: set[str], fetched: Iterable[str]) -> list[str]:
    """Normalised usernames seen now and not before, sorted (stable events), without empties."""
    fresh = {normalize_username(u) for u in fetched} - known
    fresh.discard("")
    return sorted(fresh)


def needs_event(added: list[str], counts_before: tuple[int, int], counts_now: tuple[int, int]) -> bool:
    """A refresh is an event only when someone new engaged or the platform's counts moved."""
    return bool(added) or counts_before != counts_now
