"""A tiny HTTP health endpoint for container health checks, and the probe the ``health`` command runs."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import urllib.request
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)

Check = Callable[[], Awaitable[None]]


class HealthServer:
    """Answers ``GET /health`` with 200 when every check passes, 503 with the failing checks otherwise."""

    def __init__(self, checks: dict[str, Check], host: str = "0.0.0.0", port: int = 8080) -> None:
        self._checks = checks
        self._host = host
        self._port = port
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        if self._port <= 0:
            return
        self._server = await asyncio.start_server(self._handle, self._host, self._port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await self._server.wait_closed()

    async def status(self) -> dict[str, str]:
        results: dict[str, str] = {}
        for name, check in self._checks.items():
            try:
                await asyncio.wait_for(check(), 3)
                results[name] = "ok"
            except Exception as exc:
                results[name] = f"failing: {exc!r}"[:200]
        return results

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
            results = await self.status()
            ok = all(v == "ok" for v in results.values())
            body = json.dumps({"status": "ok" if ok else "failing", "checks": results}).encode()
            head = f"HTTP/1.1 {'200 OK' if ok else '503 Service Unavailable'}\r\n"
            writer.write(
                (head + f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
                 "Connection: close\r\n\r\n").encode() + body
            )
            await writer.drain()
        except Exception:
            log.debug("health request failed", exc_info=True)
        finally:
            writer.close()


def probe(port: int, host: str = "127.0.0.1", timeout: float = 5.0) -> tuple[bool, str]:
    """Used by ``cicero-<service> health`` (and so by the container HEALTHCHECK)."""
    try:
        with urllib.request.urlopen(f"http://{host}:{port}/health", timeout=timeout) as response:
            return response.status == 200, response.read().decode()
    except Exception as exc:
        return False, repr(exc)
