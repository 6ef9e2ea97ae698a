"""Who is writing, and which clients they may command (DOMAIN §6). Pure.

Identified by number only: an admin (settings) may command every client; a client's operator or super
admin that client, and a directorate's super admin also the clients whose parent it is; a registered
active person only their own reminder opt-in. Anyone else is unknown and gets nothing, not even a reply.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from cicero_notifier.recipients import phone_digits

DIRECTORATE = "DIREKTORAT"


@dataclass(frozen=True)
class ClientContacts:
    client_id: str
    client_type: str
    operator_numbers: Sequence[str]
    super_admin_numbers: Sequence[str]
    parent_client_id: str | None = None


@dataclass(frozen=True)
class Sender:
    number: str
    is_admin: bool = False
    client_ids: frozenset[str] = frozenset()
    """Clients this sender operates or supervises (not meaningful for admins, who have all)."""
    user_ids: tuple[str, ...] = ()
    """Registered active personnel with this number."""

    @property
    def known(self) -> bool:
        return self.manages or bool(self.user_ids)

    @property
    def manages(self) -> bool:
        """May use the client commands (fetch, rekap) for at least one client."""
        return self.is_admin or bool(self.client_ids)

    def may_command(self, client_id: str) -> bool:
        return self.is_admin or client_id in self.client_ids


def _holds(entries: Iterable[str], number: str) -> bool:
    return any(phone_digits(entry) == number for entry in entries)


def identify_sender(number: str, admin_numbers: Iterable[str], clients: Iterable[ClientContacts],
                    user_ids: Sequence[str] = ()) -> Sender:
    """``number`` is normalised (``628…``); the lists are compared after normalising each entry."""
    clients = list(clients)
    own: set[str] = set()
    supervised: set[str] = set()
    for client in clients:
        super_admin = _holds(client.super_admin_numbers, number)
        if super_admin or _holds(client.operator_numbers, number):
            own.add(client.client_id)
        if super_admin and client.client_type == DIRECTORATE:
            supervised.add(client.client_id)
    children = {c.client_id for c in clients if c.parent_client_id is not None and c.parent_client_id in supervised}
    return Sender(number=number, is_admin=_holds(admin_numbers, number), client_ids=frozenset(own | children),
                  user_ids=tuple(user_ids))
