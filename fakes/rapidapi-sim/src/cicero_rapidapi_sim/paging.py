"""Opaque page tokens and page slicing.

Instagram tokens look like the real ones (base64 noise), so a consumer cannot get away with treating them as
numbers. Each token is bound to the list it pages (an account's feed, a post's likers), so passing a token to
the wrong list is rejected instead of silently returning the wrong page.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


class BadToken(ValueError):
    """A token this simulator did not issue for this list."""


def encode_token(scope: str, offset: int) -> str:
    raw = f"sim|{scope}|{offset}".encode()
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_token(token: str | None, scope: str) -> int:
    """An absent or empty token means the first page, as with the real APIs."""
    if not token:
        return 0
    try:
        padded = token + "=" * (-len(token) % 4)
        magic, token_scope, offset = base64.urlsafe_b64decode(padded).decode().split("|")
        value = int(offset)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise BadToken(token) from None
    if magic != "sim" or token_scope != scope or value < 0:
        raise BadToken(token)
    return value


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_offset: int
    has_more: bool


def page_of(items: Sequence[T], offset: int, size: int) -> Page[T]:
    chunk = list(items[offset : offset + size])
    next_offset = offset + len(chunk)
    return Page(chunk, next_offset, next_offset < len(items))


def parse_offset(raw: str | None) -> int:
    """TikTok cursors are plain non-negative integers; anything else is a client bug worth surfacing."""
    if raw is None or raw == "":
        return 0
    value = int(raw)
    if value < 0:
        raise ValueError(raw)
    return value


def endless_page(items: Sequence[T], offset: int, size: int, mode: str) -> Page[T]:
    """A page of a list that never ends (the ``endless`` fault): there is always a next page.

    ``repeat``: the page at ``offset`` again, pointing back at the same offset, so the client is handed the
    cursor it just sent. ``fresh``: every page points further on; past the end the items wrap around, so pages
    stay full and a client cannot stop on an empty page, only on its own page bound.
    """
    if mode == "repeat":
        return Page(list(items[offset : offset + size]), offset, True)
    chunk = [items[(offset + index) % len(items)] for index in range(size)] if items else []
    return Page(chunk, offset + size, True)
