"""E-mail addresses as people type them: one comparable form, a syntax check, and a form fit for logs.

The check is deliberately plain (one ``@``, a dotted domain, no spaces or quoting): the directory and
the claim flow only ever see ordinary mailbox addresses, and the SMTP server has the final word.
"""

from __future__ import annotations

import re

_LOCAL = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_ADDRESS = re.compile(rf"^{_LOCAL}@{_LABEL}(?:\.{_LABEL})*\.[A-Za-z]{{2,63}}$")
MAX_LENGTH = 254
MAX_LOCAL_LENGTH = 64


def normalize_email(raw: str) -> str:
    """Trimmed and lower-cased: two spellings of one mailbox compare equal (claims are case-insensitive)."""
    return raw.strip().lower()


def is_valid_email(address: str) -> bool:
    """Whether ``address`` (already normalised) is a plain mailbox address we are willing to send to."""
    if len(address) > MAX_LENGTH or not _ADDRESS.fullmatch(address):
        return False
    return len(address.split("@", 1)[0]) <= MAX_LOCAL_LENGTH


def mask_email(address: str) -> str:
    """``b***@example.com``: enough to tell requests apart in logs without recording the mailbox."""
    local, at, domain = address.partition("@")
    if not at:
        return "***"
    return f"{local[:1]}***@{domain}"
