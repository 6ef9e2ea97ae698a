"""A local SMTP sink for ``make run``: every mail the notifier sends is kept as a file and shown.

Real deployments point SMTP_HOST at their mail server; on a developer machine nothing should leave it, yet an
operator trying the OTP flow must be able to read the code that was sent.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
from datetime import UTC, datetime
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller


class KeepAndShow:
    def __init__(self, directory: Path) -> None:
        self._directory = directory
        self._count = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self._count += 1
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        path = self._directory / f"{stamp}-{self._count:04d}.eml"
        path.write_bytes(envelope.content)
        message = message_from_bytes(envelope.content, policy=policy.default)
        body = message.get_body(preferencelist=("plain",))
        text = body.get_content() if body is not None else ""
        print(f"\n=== e-mail → {', '.join(envelope.rcpt_tos)}: {message['Subject']} ({path.name}) ===\n{text}",
              flush=True)
        return "250 OK"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=1025)
    parser.add_argument("--dir", type=Path, default=Path("var/mail"))
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    controller = Controller(KeepAndShow(args.dir), hostname="127.0.0.1", port=args.port)
    controller.start()
    print(f"mail sink listening on 127.0.0.1:{args.port}, keeping mail in {args.dir}/", flush=True)
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        loop.run_until_complete(stop.wait())
    finally:
        controller.stop()
        loop.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
