"""Which provider each session sends through, from settings (``WA_PROVIDER`` plus per-session overrides)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from cicero_contracts.events.whatsapp import WhatsAppSession

from cicero_wa_gateway.providers.base import Provider
from cicero_wa_gateway.providers.cloud_api import CloudApiProvider
from cicero_wa_gateway.providers.dev import FileProvider, LogProvider
from cicero_wa_gateway.providers.waha import WahaProvider
from cicero_wa_gateway.settings import GatewaySettings

log = logging.getLogger(__name__)


@dataclass
class SessionProviders:
    """One provider per session; sessions configured alike share one instance (and its HTTP client)."""

    by_session: dict[WhatsAppSession, Provider]
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    @classmethod
    def same_for_all(cls, provider: Provider) -> SessionProviders:
        return cls({session: provider for session in WhatsAppSession})

    async def close(self) -> None:
        for close in self.closers:
            await close()


def build_providers(settings: GatewaySettings) -> SessionProviders:
    """Build the providers; a missing credential is refused here, naming the setting, not at the first send."""
    made: dict[tuple[str, str], Provider] = {}
    providers = SessionProviders({})
    for session in WhatsAppSession:
        kind = settings.provider_for(session)
        key = (kind, settings.waha_session_for(session) if kind == "waha" else "")
        if key not in made:
            made[key] = _make(kind, session, settings, providers)
        providers.by_session[session] = made[key]
        if kind == "cloud" and session is WhatsAppSession.BROADCAST:
            log.warning("the broadcast session uses the cloud provider, which cannot send to groups: group "
                        "messages will be dead-lettered; set WA_PROVIDER_BROADCAST=waha")
    return providers


def _make(kind: str, session: WhatsAppSession, settings: GatewaySettings, providers: SessionProviders) -> Provider:
    if kind == "file":
        return FileProvider(Path(settings.wa_file_path))
    if kind == "log":
        return LogProvider()
    if kind == "cloud":
        cloud = CloudApiProvider(settings.wa_cloud_base_url, settings.wa_cloud_api_version,
                                 settings.wa_cloud_phone_number_id, settings.wa_cloud_token,
                                 settings.wa_http_timeout_s)
        providers.closers.append(cloud.close)
        return cloud
    if kind == "waha":
        waha = WahaProvider(settings.wa_waha_base_url, settings.wa_waha_api_key, settings.waha_session_for(session),
                            settings.wa_http_timeout_s)
        providers.closers.append(waha.close)
        return waha
    raise ValueError(f"unknown WhatsApp provider {kind!r} for session {session.value}; "
                     "available: file, log, cloud, waha")
