"""``notifwa#on`` / ``notifwa#off`` (DOMAIN §5 "Reminders"): ReminderOptInChanged → the person's
``wa_reminder_opt_in`` in the directory.

The change goes through the directory's own upsert, so it is one ``PersonnelUpdated`` when the value
changes and nothing when it already is as asked, exactly like an operator's ``personnel upsert``. An
unknown person is logged and dropped (retrying cannot make them known). A command older than the last one
applied for the person (a retried delivery overtaken by a newer command) is ignored, so the newest wins.
"""

from __future__ import annotations

import logging
from datetime import datetime

from cicero_contracts.events.notifier import ReminderOptInChanged
from cicero_runtime.consumer import HandlerContext, PermanentError

from cicero_attendance.directory_store import DirectoryError, upsert_personnel
from cicero_attendance.projector import Projector

log = logging.getLogger(__name__)


def is_current(last_applied: datetime | None, changed_at: datetime) -> bool:
    """Whether a command still counts: not older than the last one applied. Two at the same instant (the
    platform gives seconds) are taken in arrival order, the later one winning."""
    return last_applied is None or changed_at >= last_applied


class OptInRecorder:
    """Applies opt-in commands through the same projector the service projects with."""

    def __init__(self, projector: Projector) -> None:
        self.projector = projector

    async def on_changed(self, event: ReminderOptInChanged, ctx: HandlerContext) -> None:
        conn = ctx.conn
        await self.projector.lock(conn)  # as the directory commands do: no projection write in between
        known = await conn.fetchrow(
            """SELECT r.changed_at FROM personnel pe LEFT JOIN reminder_opt_ins r USING (user_id)
               WHERE pe.user_id = $1""", event.user_id)
        if known is None:
            log.warning("reminder opt-in for an unknown person ignored",
                        extra={"user_id": event.user_id, "opt_in": event.opt_in})
            return
        if not is_current(known["changed_at"], event.changed_at):
            log.info("reminder opt-in older than the last one applied ignored",
                     extra={"user_id": event.user_id, "opt_in": event.opt_in})
            return
        await conn.execute(
            """INSERT INTO reminder_opt_ins (user_id, changed_at) VALUES ($1, $2)
               ON CONFLICT (user_id) DO UPDATE SET changed_at = EXCLUDED.changed_at""",
            event.user_id, event.changed_at)
        correlation_id = ctx.envelope.correlation_id or str(ctx.envelope.event_id)
        try:
            report = await upsert_personnel(conn, ctx.store, self.projector, event.user_id,
                                            {"wa_reminder_opt_in": event.opt_in}, correlation_id)
        except DirectoryError as exc:  # the stored record itself is refused: an operator must look
            raise PermanentError(f"reminder opt-in of user_id {event.user_id} refused: {exc}") from exc
        log.info("reminder opt-in recorded" if report.updated else "reminder opt-in already as asked",
                 extra={"user_id": event.user_id, "opt_in": event.opt_in})
