"""WhatsApp providers behind one interface: Cloud API, WAHA-style gateway, and ``file``/``log`` for development."""

from cicero_wa_gateway.providers.base import OutgoingMessage, Provider, ProviderError
from cicero_wa_gateway.providers.cloud_api import CloudApiProvider
from cicero_wa_gateway.providers.dev import FileProvider, LogProvider
from cicero_wa_gateway.providers.factory import SessionProviders, build_providers
from cicero_wa_gateway.providers.waha import WahaProvider

__all__ = [
    "CloudApiProvider", "FileProvider", "LogProvider", "OutgoingMessage", "Provider", "ProviderError",
    "SessionProviders", "WahaProvider", "build_providers",
]
