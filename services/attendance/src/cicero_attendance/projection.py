"""Project ingest's post events into the posts read table."""

from __future__ import annotations

from cicero_contracts.events.ingest import PostFetched, PostRemoved
from cicero_runtime.clock import wib_date
from cicero_runtime.consumer import HandlerContext


async def on_post_fetched(event: PostFetched, ctx: HandlerContext) -> None:
    await ctx.conn.execute(
        """INSERT INTO posts (platform, post_id, client_id, wib_date, link, caption, published_at, source_type,
                              like_count, comment_count, removed_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, NULL)
           ON CONFLICT (platform, post_id) DO UPDATE SET
             caption = $6, like_count = $9, comment_count = $10, removed_at = NULL""",
        event.platform.value, event.post_id, event.client_id, wib_date(event.created_at), event.link,
        event.caption, event.created_at, event.source_type.value, event.like_count, event.comment_count,
    )


async def on_post_removed(event: PostRemoved, ctx: HandlerContext) -> None:
    await ctx.conn.execute(
        "UPDATE posts SET removed_at = $3 WHERE platform = $1 AND post_id = $2",
        event.platform.value, event.post_id, event.removed_at,
    )
