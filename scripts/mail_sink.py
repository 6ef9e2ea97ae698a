"""A local SMTP sink for ``make run``: every mail the notifier sends is kept as a file and shown.

Real deployments point SMTP_HOST at their mail server; on a developer machine nothing should leave it, yet an
operator trying the OTP flow must be able to read the code that was sent. The server is the tests' SMTP sink
(``cicero_runtime.testing.smtp_sink``), plain and without login, as the notifier's ``SMTP_SECURITY=none`` expects.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import signal
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from cicero_runtime.testing.smtp_sink import ReceivedMail, smtp_sink


def keep_and_show(directory: Path) -> Callable[[ReceivedMail], None]:
    numbers = itertools.count(1)

    def keep(mail: ReceivedMail) -> None:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        path = directory / f"{stamp}-{next(numbers):04d}.eml"
        path.write_bytes(mail.raw)
        print(f"\n=== e-mail → {', '.join(mail.rcpt_tos)}: {mail.message['Subject']} ({path.name}) ===\n{mail.text}",
              flush=True)

    return keep


async def serve(port: int, directory: Path) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with smtp_sink(host="127.0.0.1", port=port, on_mail=keep_and_show(directory)) as sink:
        print(f"mail sink listening on {sink.host}:{sink.port}, keeping mail in {directory}/", flush=True)
        await stop.wait()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=1025)
    parser.add_argument("--dir", type=Path, default=Path("var/mail"))
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    asyncio.run(serve(args.port, args.dir))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
