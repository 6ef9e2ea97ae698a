"""Providers for development and demos: ``file`` (one JSON line a message) and ``log`` (send nothing)."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from datetime import datetime
from pathlib import Path

from cicero_runtime.logs import mask_phone

from cicero_wa_gateway.providers.base import OutgoingMessage

log = logging.getLogger(__name__)


class FileProvider:
    """Writes each message as one JSON line: lets a new user see exactly what would be sent."""

    name = "file"

    def __init__(self, path: Path) -> None:
        self._path = path
        self._lock = asyncio.Lock()

    async def ready(self) -> bool:
        return True

    async def send(self, message: OutgoingMessage, now: datetime) -> str:
        message_id = f"file-{uuid.uuid4().hex[:16]}"
        line = json.dumps({
            "sent_at": now.isoformat(), "message_id": message_id, "session": message.session,
            "chat_id": message.chat_id, "idempotency_key": message.idempotency_key, "text": message.text,
        }, ensure_ascii=False)
        async with self._lock:
            await asyncio.to_thread(self._append, line)
        return message_id

    def _append(self, line: str) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        with self._path.open("a", encoding="utf-8") as handle:
            handle.write(line + "\n")
            handle.flush()


class LogProvider:
    """Logs that a message would be sent (masked), for deployments that must not send anything."""

    name = "log"

    async def ready(self) -> bool:
        return True

    async def send(self, message: OutgoingMessage, now: datetime) -> str:
        log.info("whatsapp message (log provider)",
                 extra={"chat": mask_phone(message.chat_id), "session": message.session,
                        "chars": len(message.text)})
        return f"log-{uuid.uuid4().hex[:16]}"
