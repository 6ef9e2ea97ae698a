"""Ingest's copy of the directory: which clients to fetch and from which accounts."""

from __future__ import annotations

from cicero_contracts.events.directory import ClientDeactivated, ClientRegistered, ClientUpdated
from cicero_runtime.consumer import HandlerContext


async def on_client_snapshot(event: ClientRegistered | ClientUpdated, ctx: HandlerContext) -> None:
    await ctx.conn.execute(
        """INSERT INTO clients (client_id, name, active, instagram_username, instagram_enabled,
                                tiktok_username, tiktok_sec_uid, tiktok_enabled)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
           ON CONFLICT (client_id) DO UPDATE SET
             name = $2, active = $3, instagram_username = $4, instagram_enabled = $5, tiktok_username = $6,
             tiktok_sec_uid = CASE WHEN $7::text IS NOT NULL THEN $7
                                   WHEN clients.tiktok_username IS DISTINCT FROM $6 THEN NULL
                                   ELSE clients.tiktok_sec_uid END,
             tiktok_enabled = $8, updated_at = now()""",
        event.client_id, event.name, event.active, event.instagram_username, event.instagram_enabled,
        event.tiktok_username, event.tiktok_sec_uid, event.tiktok_enabled,
    )


async def on_client_deactivated(event: ClientDeactivated, ctx: HandlerContext) -> None:
    await ctx.conn.execute("UPDATE clients SET active = false, updated_at = now() WHERE client_id = $1",
                           event.client_id)
