"""Turn the directory's number and group lists (and the admin numbers in settings) into WhatsApp chat ids.

The lists come from CSV imports and settings typed by people: one bad entry must not stop the message to
everyone else, so it is skipped and returned for a (masked) warning. Pure.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from cicero_runtime.identifiers import InvalidIdentifier, normalize_group_id, normalize_phone, personal_chat_id
from cicero_runtime.logs import mask_phone


@dataclass(frozen=True)
class Chats:
    """Valid chat ids in first-seen order, without repeats, and the entries that were not usable."""

    chat_ids: tuple[str, ...]
    invalid: tuple[str, ...] = ()


def personal_chats(*entry_lists: Iterable[str]) -> Chats:
    """``628…@c.us`` for every valid number of the lists; a number in two lists is one chat."""
    return _collect(personal_chat_id, entry_lists)


def group_chats(*entry_lists: Iterable[str]) -> Chats:
    return _collect(normalize_group_id, entry_lists)


def phone_digits(entry: str) -> str | None:
    """The normalised number (``628…``), or None when the entry is not one."""
    try:
        return normalize_phone(entry)
    except InvalidIdentifier:
        return None


def masked(entry: str) -> str:
    """What a log may show of a bad entry: phone-looking digits masked, and never more than 40 characters."""
    return mask_phone(entry.strip())[:40]


def _collect(normalise: Callable[[str], str], entry_lists: tuple[Iterable[str], ...]) -> Chats:
    seen: dict[str, None] = {}
    invalid: list[str] = []
    for entries in entry_lists:
        for entry in entries:
            try:
                seen.setdefault(normalise(entry), None)
            except InvalidIdentifier:
                invalid.append(entry)
    return Chats(tuple(seen), tuple(invalid))
