"""``cicero-wa-gateway``: the only process that talks to WhatsApp."""

from __future__ import annotations

from typing import cast

from cicero_contracts.events.whatsapp import WhatsAppMessageRequested
from cicero_contracts.names import WA_GATEWAY_REQUESTS
from cicero_runtime.consumer import EventConsumer
from cicero_runtime.service import Service, run_cli
from cicero_runtime.settings import RuntimeSettings

from cicero_wa_gateway.delivery import DeliveryWorker
from cicero_wa_gateway.outbox import on_requests
from cicero_wa_gateway.providers import build_providers
from cicero_wa_gateway.settings import GatewaySettings
from cicero_wa_gateway.webhooks import serve_webhooks

SCHEMA = "wa_gateway"


def build(settings: RuntimeSettings) -> Service:
    gateway_settings = cast(GatewaySettings, settings)
    service = Service("wa-gateway", SCHEMA, settings)
    providers = build_providers(gateway_settings)  # one per session, per WA_PROVIDER[_<SESSION>]
    service.on_stop(providers.close)

    def register(consumer: EventConsumer) -> None:
        consumer.on_batch(on_requests, WhatsAppMessageRequested)  # one INSERT per micro-batch

    service.consumer("wa-gateway", WA_GATEWAY_REQUESTS, register)
    service.background(DeliveryWorker(service, providers, gateway_settings).run)
    service.background(serve_webhooks)
    return service


def main(argv: list[str] | None = None) -> int:
    return run_cli("wa-gateway", SCHEMA, build, settings_factory=GatewaySettings, argv=argv)


if __name__ == "__main__":
    raise SystemExit(main())
