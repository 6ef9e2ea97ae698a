"""Directory events produced by attendance: clients (police units) and personnel.

Registered/Updated carry the full snapshot so a consumer can keep its copy with a plain upsert.
"""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar

from pydantic import Field

from cicero_contracts.base import Event, WireModel

CLIENT_ID_PATTERN = r"^[A-Z0-9_]{2,64}$"
USER_ID_PATTERN = r"^[0-9]{1,32}$"


class ClientType(StrEnum):
    ORG = "ORG"
    DIREKTORAT = "DIREKTORAT"


class ClientSnapshot(WireModel):
    """Everything known about a client; shared by ClientRegistered and ClientUpdated."""

    client_id: str = Field(pattern=CLIENT_ID_PATTERN)
    name: str = Field(min_length=1)
    client_type: ClientType
    active: bool = True
    instagram_username: str | None = None
    instagram_enabled: bool = False
    tiktok_username: str | None = None
    tiktok_sec_uid: str | None = None
    tiktok_enabled: bool = False
    whatsapp_groups: list[str] = Field(default_factory=list)
    operator_numbers: list[str] = Field(default_factory=list)
    super_admin_numbers: list[str] = Field(default_factory=list)
    parent_client_id: str | None = None
    region: str | None = None
    reminders_enabled: bool = True
    """Whether the client's opted-in personnel get personal WhatsApp reminders."""


class ClientRegistered(ClientSnapshot, Event):
    event_type: ClassVar[str] = "ClientRegistered"
    routing_key: ClassVar[str] = "directory.ClientRegistered"


class ClientUpdated(ClientSnapshot, Event):
    event_type: ClassVar[str] = "ClientUpdated"
    routing_key: ClassVar[str] = "directory.ClientUpdated"


class ClientDeactivated(Event):
    event_type: ClassVar[str] = "ClientDeactivated"
    routing_key: ClassVar[str] = "directory.ClientDeactivated"

    client_id: str = Field(pattern=CLIENT_ID_PATTERN)
    reason: str | None = None


class PersonnelSnapshot(WireModel):
    """Everything known about one person; shared by PersonnelRegistered and PersonnelUpdated."""

    user_id: str = Field(pattern=USER_ID_PATTERN)
    name: str = Field(min_length=1)
    title: str | None = None
    divisi: str | None = None
    jabatan: str | None = None
    client_id: str = Field(pattern=CLIENT_ID_PATTERN)
    roles: list[str] = Field(default_factory=list)
    instagram: str | None = None
    tiktok: str | None = None
    whatsapp: str | None = None
    email: str | None = None
    active: bool = True
    exempt: bool = False
    wa_reminder_opt_in: bool = False


class PersonnelRegistered(PersonnelSnapshot, Event):
    event_type: ClassVar[str] = "PersonnelRegistered"
    routing_key: ClassVar[str] = "directory.PersonnelRegistered"


class PersonnelUpdated(PersonnelSnapshot, Event):
    event_type: ClassVar[str] = "PersonnelUpdated"
    routing_key: ClassVar[str] = "directory.PersonnelUpdated"


class PersonnelDeactivated(Event):
    event_type: ClassVar[str] = "PersonnelDeactivated"
    routing_key: ClassVar[str] = "directory.PersonnelDeactivated"

    user_id: str = Field(pattern=USER_ID_PATTERN)
    client_id: str = Field(pattern=CLIENT_ID_PATTERN)
