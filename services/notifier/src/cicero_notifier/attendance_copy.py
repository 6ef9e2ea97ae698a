"""What reminders need from attendance and ingest, projected into the notifier's own tables (rule 6):
each person's attendance per platform and WIB day in their home client's scope, and each client's task posts
of the day with their links.

Both are last-writer-wins by event time, so a redelivered or late older event never overwrites newer data.
"""

from __future__ import annotations

from cicero_contracts.events.attendance import AttendanceStatusChanged
from cicero_contracts.events.ingest import ClientFetchCompleted
from cicero_runtime.consumer import HandlerContext

from cicero_notifier.dispatch import Dispatch


async def on_attendance_status_changed(event: AttendanceStatusChanged, ctx: HandlerContext) -> None:
    """Keep the row when its scope is the person's home client (a directorate's scope is another view of
    the same likes, with another ratio). A person not known yet is kept with the scope: reminders join on
    the home client, so the row counts only if that is where the person turns out to belong."""
    await ctx.conn.execute(
        """INSERT INTO reminder_attendance (wib_date, user_id, platform, scope_client_id, status, done, total,
                                            pending_post_ids, changed_at)
           SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9
           WHERE NOT EXISTS (SELECT 1 FROM personnel WHERE user_id = $2 AND client_id <> $4)
           ON CONFLICT (wib_date, user_id, platform, scope_client_id) DO UPDATE
             SET status = excluded.status, done = excluded.done, total = excluded.total,
                 pending_post_ids = excluded.pending_post_ids, changed_at = excluded.changed_at
             WHERE reminder_attendance.changed_at <= excluded.changed_at""",
        event.wib_date, event.user_id, event.platform.value, event.client_id, event.status.value, event.done,
        event.total, event.pending_post_ids, event.changed_at,
    )


async def on_task_posts(event: ClientFetchCompleted, ctx: HandlerContext) -> None:
    """The fetch lists all of the client's posts of the day, so the latest fetch replaces the set."""
    posts = [{"platform": p.platform.value, "post_id": p.post_id, "link": p.link, "caption": p.caption}
             for p in event.posts]
    await ctx.conn.execute(
        """INSERT INTO reminder_task_posts (client_id, wib_date, fetched_at, posts) VALUES ($1, $2, $3, $4)
           ON CONFLICT (client_id, wib_date) DO UPDATE SET fetched_at = excluded.fetched_at, posts = excluded.posts
             WHERE reminder_task_posts.fetched_at <= excluded.fetched_at""",
        event.client_id, event.wib_date, event.fetched_at, posts,
    )


def register_attendance_copy(dispatch: Dispatch) -> None:
    dispatch.on(AttendanceStatusChanged, on_attendance_status_changed)
    dispatch.on(ClientFetchCompleted, on_task_posts)
