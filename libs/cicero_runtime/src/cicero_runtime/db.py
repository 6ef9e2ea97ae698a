"""asyncpg pools bound to one service schema, with JSON codecs for json/jsonb."""

from __future__ import annotations

import json
from typing import Any

import asyncpg

from cicero_runtime.settings import validate_schema_name


async def _init_connection(conn: asyncpg.Connection) -> None:
    for type_name in ("json", "jsonb"):
        await conn.set_type_codec(type_name, encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


async def create_pool(
    database_url: str, schema: str, *, min_size: int = 1, max_size: int = 10
) -> asyncpg.Pool:
    """A pool whose connections see only ``schema`` first on the search path: each service owns one."""
    validate_schema_name(schema)
    pool = await asyncpg.create_pool(
        database_url,
        min_size=min_size,
        max_size=max_size,
        init=_init_connection,
        server_settings={"search_path": f"{schema},public", "application_name": f"cicero-{schema}"},
    )
    if pool is None:
        raise RuntimeError("asyncpg returned no pool")
    result: asyncpg.Pool = pool
    return result


async def connect(database_url: str, schema: str) -> asyncpg.Connection:
    """A single dedicated connection (LISTEN, session advisory locks) on the service schema."""
    validate_schema_name(schema)
    conn: asyncpg.Connection = await asyncpg.connect(
        database_url, server_settings={"search_path": f"{schema},public"}
    )
    await _init_connection(conn)
    return conn


def advisory_key(*parts: Any) -> int:
    """A stable signed 64-bit advisory-lock key derived from names, so locks mean the same in every process."""
    import hashlib

    digest = hashlib.blake2b("\x1f".join(str(p) for p in parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)
