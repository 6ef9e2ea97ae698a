"""Normalisers for the identifiers people type: social handles, phone numbers, WhatsApp chat ids.

Every service that accepts such input (directory import, gateway, inbound commands) uses these, so a
number typed ``0812-3456-7890`` and one typed ``+62 812 3456 7890`` name the same person.
"""

from __future__ import annotations

import re
from urllib.parse import urlparse

import phonenumbers
from phonenumbers import ValidationResult

_HANDLE_RULES = {
    "instagram": re.compile(r"^[a-z0-9._]{1,30}$"),
    "tiktok": re.compile(r"^[a-z0-9._]{1,24}$"),
}
_PROFILE_HOSTS = {
    "instagram": {"instagram.com", "www.instagram.com", "m.instagram.com"},
    "tiktok": {"tiktok.com", "www.tiktok.com", "m.tiktok.com"},
}
_RESERVED_PATH = {"p", "reel", "reels", "tv", "stories", "explore", "video"}
PERSONAL_CHAT_SUFFIXES = ("@c.us", "@s.whatsapp.net")
_GROUP_SUFFIX = "@g.us"
_GROUP_LINK_HOST = "chat.whatsapp.com"
_HOME_REGION = "ID"
_HOME_COUNTRY_CODE = 62
_MAX_DIGITS = 15  # E.164's limit: longer input is two numbers typed without a separator
_PHONE_CHARACTERS = re.compile(r"[0-9+()\-.\s]+")
_POSSIBILITY = {
    ValidationResult.TOO_SHORT: "too short",
    ValidationResult.TOO_LONG: "too long",
    ValidationResult.INVALID_LENGTH: "wrong length",
}


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
    """An Indonesian number as people type it → its digits with the country code (``628…``).

    ``08…``, ``8…``, ``+62 …`` and ``62…`` name the same number. Parsing and validation are the
    ``phonenumbers`` library's (Google's libphonenumber metadata), not a digit count: a foreign number
    (``+81 90 1234 5678``) used to become ``62819012345678`` and a too-short one (``812345``) was
    accepted, and a message to either goes nowhere. Both are refused here, naming the reason
    (docs/domain.md §1). Letters are refused rather than read as a keypad word.
    """
    text = raw.strip()
    digits = re.sub(r"\D", "", text)
    if not digits or not _PHONE_CHARACTERS.fullmatch(text):
        raise InvalidIdentifier(f"{text!r} is not a phone number (digits, spaces, +, -, . and brackets only)")
    if len(digits) > _MAX_DIGITS:
        raise InvalidIdentifier(
            f"{text!r} is not one phone number (more than {_MAX_DIGITS} digits; separate several numbers with ';')"
        )
    try:
        number = phonenumbers.parse(text, _HOME_REGION)
    except phonenumbers.NumberParseException:
        raise InvalidIdentifier(f"{text!r} is not a phone number") from None
    if number.country_code != _HOME_COUNTRY_CODE:
        raise InvalidIdentifier(f"{text!r} is a +{number.country_code} number, not an Indonesian one (+62)")
    if not phonenumbers.is_valid_number(number):
        problem = _POSSIBILITY.get(phonenumbers.is_possible_number_with_reason(number), "no such number range")
        raise InvalidIdentifier(f"{text!r} is not a valid Indonesian phone number ({problem})")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164).removeprefix("+")


def personal_chat_id(raw: str) -> str:
    """A number or a personal chat id (``…@c.us``, ``…@s.whatsapp.net``) → ``628…@c.us``."""
    text = raw.strip()
    if text.lower().endswith(PERSONAL_CHAT_SUFFIXES):
        text = text.split("@", 1)[0]
    return f"{normalize_phone(text)}@c.us"


def normalize_group_id(raw: str) -> str:
    """``digits@g.us``, bare digits or a chat.whatsapp.com link ending in digits → ``digits@g.us``.

    Surrounding whitespace and the case of the link or suffix do not matter (a sheet may hold
    ``HTTPS://CHAT.WHATSAPP.COM/…``). Personal ids (``@c.us``, ``@s.whatsapp.net``) are refused: a task list
    must never go to one person (docs/domain.md §1).
    """
    text = raw.strip()
    lowered = text.lower()
    if lowered.endswith(PERSONAL_CHAT_SUFFIXES):
        raise InvalidIdentifier(f"{raw!r} is a personal chat, not a group")
    if _GROUP_LINK_HOST in lowered:
        url = urlparse(text if "://" in text else "https://" + text)
        if url.hostname != _GROUP_LINK_HOST:
            raise InvalidIdentifier(f"{raw!r} is not a chat.whatsapp.com link")
        segments = [s for s in url.path.split("/") if s]
        text = segments[-1] if segments else ""
    elif lowered.endswith(_GROUP_SUFFIX):
        text = text[:-len(_GROUP_SUFFIX)]
    if not re.fullmatch(r"\d{8,20}", text):
        raise InvalidIdentifier(f"{raw!r} is not a WhatsApp group id (digits@g.us, digits or a chat.whatsapp.com "
                                "link ending in the group's digits)")
    return f"{text}{_GROUP_SUFFIX}"
