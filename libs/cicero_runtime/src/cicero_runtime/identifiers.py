"""Normalisers for the identifiers people type: social handles, phone numbers, WhatsApp chat ids.

Every service that accepts such input (directory import, gateway, inbound commands) uses these, so a
number typed ``0812-3456-7890`` and one typed ``+62 812 3456 7890`` name the same person.
"""

from __future__ import annotations

import re
from urllib.parse import urlparse

_HANDLE_RULES = {
    "instagram": re.compile(r"^[a-z0-9._]{1,30}$"),
    "tiktok": re.compile(r"^[a-z0-9._]{1,24}$"),
}
_PROFILE_HOSTS = {
    "instagram": {"instagram.com", "www.instagram.com", "m.instagram.com"},
    "tiktok": {"tiktok.com", "www.tiktok.com", "m.tiktok.com"},
}
_RESERVED_PATH = {"p", "reel", "reels", "tv", "stories", "explore", "video"}


class InvalidIdentifier(ValueError):
    """The input cannot name a handle, number or chat; the message says what was wrong."""


def normalize_handle(platform: str, raw: str) -> str:
    """A profile URL, ``@handle`` or handle → the lower-case handle, or InvalidIdentifier."""
    text = raw.strip()
    if not text:
        raise InvalidIdentifier(f"empty {platform} handle")
    if "/" in text or "://" in text:
        url = urlparse(text if "://" in text else "https://" + text)
        if (url.hostname or "").lower() not in _PROFILE_HOSTS[platform]:
            raise InvalidIdentifier(f"{raw!r} is not a {platform} profile link")
        segments = [s for s in url.path.split("/") if s]
        if platform == "instagram" and segments and segments[0] == "u":
            segments = segments[1:]
        if (not segments or segments[0].lower() in _RESERVED_PATH
                or (platform == "tiktok" and not segments[0].startswith("@"))):
            raise InvalidIdentifier(f"{raw!r} is not a {platform} profile link")
        text = segments[0]
    handle = text.lstrip("@").lower()
    if not _HANDLE_RULES[platform].fullmatch(handle):
        raise InvalidIdentifier(f"{raw!r} is not a valid {platform} handle")
    return handle


def normalize_username(raw: str) -> str:
    """Engagement usernames from the platforms: trim, strip ``@``, lower-case (no validation)."""
    return raw.strip().lstrip("@").lower()


def normalize_phone(raw: str) -> str:
    """Digits only, Indonesian prefix: ``08…``/``8…`` → ``628…``; fewer than 8 digits is invalid."""
    digits = re.sub(r"\D", "", raw)
    if digits.startswith("0"):
        digits = "62" + digits[1:]
    elif digits.startswith("8"):
        digits = "62" + digits
    if len(digits) < 8:
        raise InvalidIdentifier(f"{raw!r} is not a phone number (fewer than 8 digits)")
    if len(digits) > 15:
        raise InvalidIdentifier(
            f"{raw!r} is not one phone number (more than 15 digits; separate several numbers with ';')"
        )
    return digits


def personal_chat_id(raw: str) -> str:
    if raw.endswith("@c.us") or raw.endswith("@s.whatsapp.net"):
        raw = raw.split("@", 1)[0]
    return f"{normalize_phone(raw)}@c.us"


def normalize_group_id(raw: str) -> str:
    """``digits@g.us``, bare digits or a chat.whatsapp.com link ending in digits → ``digits@g.us``.

    Personal ids (``@c.us``, ``@s.whatsapp.net``) are refused: a task list must never go to one person.
    """
    text = raw.strip()
    if text.endswith(("@c.us", "@s.whatsapp.net")):
        raise InvalidIdentifier(f"{raw!r} is a personal chat, not a group")
    if "chat.whatsapp.com" in text:
        segments = [s for s in urlparse(text if "://" in text else "https://" + text).path.split("/") if s]
        text = segments[-1] if segments else ""
    text = text.removesuffix("@g.us")
    if not re.fullmatch(r"\d{8,20}", text):
        raise InvalidIdentifier(f"{raw!r} is not a WhatsApp group id")
    return f"{text}@g.us"
