"""Pacing per session, held across gateway replicas by one ``wa_sessions`` row per session.

``next_send_at`` is the earliest time the session's next send may start. A paced session (gap > 0) is
claimed under ``FOR UPDATE SKIP LOCKED`` on its row and sends one message at a time: the claim takes a
lease (``next_send_at`` pushed past the longest possible send), and recording the result sets
``next_send_at`` to the end of the send plus the gap. So two sends on one session are always at least the
gap apart, whichever replicas make them. A provider's ``Retry-After`` holds the session the same way,
paced or not. Times come from the database clock (``clock_timestamp()``), the one clock all replicas share.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import asyncpg

BUSY_RETRY_S = 0.05
"""Another replica is claiming on this paced session right now: look again this soon."""
LEASE_MARGIN_S = 5.0


@dataclass(frozen=True)
class Gate:
    open: bool
    wait_s: float = 0.0
    """When closed: how long until the session may send again."""


async def try_open(conn: asyncpg.Connection, session: str, *, paced: bool) -> Gate:
    """May this session send now? For a paced session, call inside the claim's transaction: the row stays
    locked until it commits, so no other replica claims on the session meanwhile."""
    lock = "FOR UPDATE SKIP LOCKED" if paced else ""
    row = await conn.fetchrow(
        f"""SELECT greatest(0, extract(epoch FROM next_send_at - clock_timestamp()))::float8 AS wait_s
            FROM wa_sessions WHERE session = $1 {lock}""", session)
    if row is None:
        return Gate(open=False, wait_s=BUSY_RETRY_S) if paced else Gate(open=True)
    wait_s: float = row["wait_s"]
    return Gate(open=wait_s <= 0, wait_s=wait_s)


async def take_lease(conn: asyncpg.Connection, session: str, lease_s: float) -> uuid.UUID:
    """Hold a paced session while its one message is in flight (a worker that dies lets go after ``lease_s``)."""
    lease_id = uuid.uuid4()
    await conn.execute(
        """UPDATE wa_sessions SET next_send_at = clock_timestamp() + make_interval(secs => $2), lease_id = $3,
                                  updated_at = clock_timestamp()
           WHERE session = $1""", session, lease_s + LEASE_MARGIN_S, lease_id)
    return lease_id


async def release(conn: asyncpg.Connection, session: str, lease_id: uuid.UUID, hold_s: float) -> None:
    """The paced send ended: the next may start ``hold_s`` from now (unless the lease was lost meanwhile)."""
    await conn.execute(
        """UPDATE wa_sessions SET next_send_at = clock_timestamp() + make_interval(secs => $3), lease_id = NULL,
                                  updated_at = clock_timestamp()
           WHERE session = $1 AND lease_id = $2""", session, lease_id, hold_s)


async def hold(conn: asyncpg.Connection, session: str, hold_s: float) -> None:
    """Keep the session quiet for ``hold_s`` (a provider's ``Retry-After``); never shortens a longer hold."""
    await conn.execute(
        """UPDATE wa_sessions
           SET next_send_at = greatest(next_send_at, clock_timestamp() + make_interval(secs => $2)),
               updated_at = clock_timestamp()
           WHERE session = $1""", session, hold_s)
