"""The notifier's copy of the directory: clients (groups, operators, super admins) and personnel
(numbers, e-mail, reminder opt-in). Snapshots replace the row, so replaying them is harmless."""

from __future__ import annotations

from cicero_contracts.events.directory import (
    ClientDeactivated,
    ClientRegistered,
    ClientUpdated,
    PersonnelDeactivated,
    PersonnelRegistered,
    PersonnelUpdated,
)
from cicero_runtime.consumer import HandlerContext

from cicero_notifier.dispatch import Dispatch


async def on_client_snapshot(event: ClientRegistered | ClientUpdated, ctx: HandlerContext) -> None:
    await ctx.conn.execute(
        """INSERT INTO clients (client_id, name, client_type, active, whatsapp_groups, operator_numbers,
                                super_admin_numbers, instagram_enabled, tiktok_enabled, parent_client_id,
                                reminders_enabled)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
           ON CONFLICT (client_id) DO UPDATE SET name = $2, client_type = $3, active = $4, whatsapp_groups = $5,
             operator_numbers = $6, super_admin_numbers = $7, instagram_enabled = $8, tiktok_enabled = $9,
             parent_client_id = $10, reminders_enabled = $11, updated_at = now()""",
        event.client_id, event.name, event.client_type.value, event.active, event.whatsapp_groups,
        event.operator_numbers, event.super_admin_numbers, event.instagram_enabled, event.tiktok_enabled,
        event.parent_client_id, event.reminders_enabled,
    )


async def on_client_deactivated(event: ClientDeactivated, ctx: HandlerContext) -> None:
    await ctx.conn.execute("UPDATE clients SET active = false, updated_at = now() WHERE client_id = $1",
                           event.client_id)


async def on_personnel_snapshot(event: PersonnelRegistered | PersonnelUpdated, ctx: HandlerContext) -> None:
    await ctx.conn.execute(
        """INSERT INTO personnel (user_id, name, title, client_id, roles, instagram, tiktok, whatsapp, email,
                                  active, exempt, wa_reminder_opt_in)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
           ON CONFLICT (user_id) DO UPDATE SET name = $2, title = $3, client_id = $4, roles = $5,
             instagram = $6, tiktok = $7, whatsapp = $8, email = $9, active = $10, exempt = $11,
             wa_reminder_opt_in = $12, updated_at = now()""",
        event.user_id, event.name, event.title, event.client_id, event.roles, event.instagram, event.tiktok,
        event.whatsapp, event.email, event.active, event.exempt, event.wa_reminder_opt_in,
    )


async def on_personnel_deactivated(event: PersonnelDeactivated, ctx: HandlerContext) -> None:
    await ctx.conn.execute("UPDATE personnel SET active = false, updated_at = now() WHERE user_id = $1",
                           event.user_id)


def register_directory(dispatch: Dispatch) -> None:
    dispatch.on(ClientRegistered, on_client_snapshot)
    dispatch.on(ClientUpdated, on_client_snapshot)
    dispatch.on(ClientDeactivated, on_client_deactivated)
    dispatch.on(PersonnelRegistered, on_personnel_snapshot)
    dispatch.on(PersonnelUpdated, on_personnel_snapshot)
    dispatch.on(PersonnelDeactivated, on_personnel_deactivated)
