"""``notifwa#on`` / ``notifwa#off`` (DOMAIN §5): the person's reminder opt-in.

The notifier's copy changes at once, so the next reminder tick already respects it; the directory is
attendance's, so the change also goes out as ReminderOptInChanged and comes back later as a
PersonnelUpdated carrying the same value.
"""

from __future__ import annotations

import logging
from datetime import datetime

from cicero_contracts.events.notifier import ReminderOptInChanged
from cicero_runtime.consumer import HandlerContext

log = logging.getLogger(__name__)


async def apply_opt_in(ctx: HandlerContext, user_id: str, opt_in: bool, at: datetime) -> bool:
    """Set the person's opt-in; returns whether it changed (nothing is appended when it did not).

    Raises LookupError for a person the notifier does not know: callers identify the sender first.
    """
    row = await ctx.conn.fetchrow("SELECT wa_reminder_opt_in FROM personnel WHERE user_id = $1 FOR UPDATE",
                                  user_id)
    if row is None:
        raise LookupError(f"person {user_id!r} is not known to the notifier")
    changed = bool(row["wa_reminder_opt_in"]) != opt_in
    if changed:
        await ctx.conn.execute(
            "UPDATE personnel SET wa_reminder_opt_in = $2, updated_at = now() WHERE user_id = $1", user_id, opt_in)
        await ctx.append(f"reminder-opt-in:{user_id}",
                         [ReminderOptInChanged(user_id=user_id, opt_in=opt_in, changed_at=at)])
    log.info("reminder opt-in applied", extra={"user_id": user_id, "opt_in": opt_in, "changed": changed})
    return changed
