"""The notifier's copy of the directory: names and WhatsApp groups of clients."""

from __future__ import annotations

from cicero_contracts.events.directory import ClientDeactivated, ClientRegistered, ClientUpdated
from cicero_runtime.consumer import HandlerContext


async def on_client_snapshot(event: ClientRegistered | ClientUpdated, ctx: HandlerContext) -> None:
    await ctx.conn.execute(
        """INSERT INTO clients (client_id, name, client_type, active, whatsapp_groups)
           VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (client_id) DO UPDATE SET name = $2, client_type = $3, active = $4, whatsapp_groups = $5,
             updated_at = now()""",
        event.client_id, event.name, event.client_type.value, event.active, event.whatsapp_groups,
    )


async def on_client_deactivated(event: ClientDeactivated, ctx: HandlerContext) -> None:
    await ctx.conn.execute("UPDATE clients SET active = false, updated_at = now() WHERE client_id = $1",
                           event.client_id)
