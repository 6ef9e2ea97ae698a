"""A real SMTP server on loopback (aiosmtpd) that keeps what it accepts: the outside world's mail relay,
faked (ARCHITECTURE rule 8). Plain, STARTTLS or implicit TLS, with or without login, and scripted
refusals (``451`` for the next DATA, ``550`` for one recipient) to exercise retries and rejections.
"""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
import ssl
import subprocess
import warnings
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session


@dataclass(frozen=True)
class ReceivedMail:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    message: EmailMessage
    secure: bool
    """Whether the session was encrypted (STARTTLS or implicit TLS) when the mail arrived."""
    login: str | None
    raw: bytes
    """The message as it came over the wire (DATA), e.g. to keep as an ``.eml`` file."""

    @property
    def text(self) -> str:
        body = self.message.get_body(preferencelist=("plain",))
        return "" if body is None else str(body.get_content()).replace("\r\n", "\n")


@dataclass
class SinkScript:
    """What the sink answers besides ``250``: consumed in order, so a test says "fail once, then accept"."""

    data_replies: list[str] = field(default_factory=list)
    """Replies to the next DATA commands (e.g. ``451 4.3.0 try again later``); empty: accept."""
    refused_recipients: dict[str, str] = field(default_factory=dict)
    """Recipient (lower-case) → reply to its RCPT (e.g. ``550 5.1.1 no such user``), every time."""


class _Handler:
    def __init__(self, script: SinkScript, implicit_tls: bool,
                 on_mail: Callable[[ReceivedMail], None] | None) -> None:
        self.script = script
        self.implicit_tls = implicit_tls
        self.on_mail = on_mail
        self.received: list[ReceivedMail] = []
        self.data_commands = 0
        self.rcpt_commands = 0

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope, address: str,
                          rcpt_options: list[str]) -> str:
        self.rcpt_commands += 1
        refusal = self.script.refused_recipients.get(address.lower())
        if refusal is not None:
            return refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.data_commands += 1
        if self.script.data_replies:
            return self.script.data_replies.pop(0)
        raw = envelope.original_content or b""
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        login = session.auth_data if isinstance(session.auth_data, str) else None
        mail = ReceivedMail(mail_from=envelope.mail_from or "", rcpt_tos=tuple(envelope.rcpt_tos), message=message,
                            secure=self.implicit_tls or session.ssl is not None, login=login, raw=raw)
        self.received.append(mail)
        if self.on_mail is not None:
            self.on_mail(mail)
        return "250 Message accepted for delivery"


@dataclass
class SmtpSink:
    host: str
    port: int
    handler: _Handler

    @property
    def received(self) -> list[ReceivedMail]:
        return self.handler.received

    @property
    def script(self) -> SinkScript:
        return self.handler.script


def self_signed_certificate(directory: Path, host: str = "127.0.0.1") -> tuple[Path, Path]:
    """A throwaway certificate for ``localhost`` and ``host`` (certificate, key), made with ``openssl``."""
    cert, key = directory / "smtp-cert.pem", directory / "smtp-key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
         "-days", "1", "-subj", "/CN=localhost", "-addext", f"subjectAltName=DNS:localhost,IP:{host}"],
        check=True, capture_output=True, timeout=60,
    )
    return cert, key


def server_tls_context(cert: Path, key: Path) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(cert), str(key))
    return context


@contextlib.asynccontextmanager
async def smtp_sink(
    *,
    script: SinkScript | None = None,
    starttls: ssl.SSLContext | None = None,
    implicit_tls: ssl.SSLContext | None = None,
    credentials: tuple[str, str] | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    on_mail: Callable[[ReceivedMail], None] | None = None,
) -> AsyncIterator[SmtpSink]:
    """Serve on ``host``:``port`` (default: a free loopback port) in the running event loop until the block ends.

    ``starttls`` offers and requires STARTTLS; ``implicit_tls`` speaks TLS from the first byte;
    ``credentials`` requires a login with that user and password (over TLS when STARTTLS is used);
    ``on_mail`` is called with each accepted mail (``scripts/mail_sink.py`` shows and keeps it).
    """
    handler = _Handler(script or SinkScript(), implicit_tls is not None, on_mail)

    def authenticate(server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
                     ) -> AuthResult:
        ok = (credentials is not None and isinstance(data, LoginPassword)
              and (data.login.decode(), data.password.decode()) == credentials)
        # handled=False: aiosmtpd answers 235/535 itself; auth_data is what the session remembers
        return AuthResult(success=ok, handled=False, auth_data=data.login.decode() if ok else None)

    def factory() -> SMTP:
        with warnings.catch_warnings():
            # aiosmtpd only knows about TLS it negotiated itself (STARTTLS), not an implicit-TLS listener,
            # and warns that login is required without TLS when the listener is in fact encrypted
            warnings.simplefilter("ignore", UserWarning)
            return SMTP(
                handler, hostname="localhost", tls_context=starttls, require_starttls=starttls is not None,
                authenticator=authenticate if credentials else None, auth_required=credentials is not None,
                auth_require_tls=starttls is not None,
            )

    server = await asyncio.get_running_loop().create_server(factory, host, port, ssl=implicit_tls)
    try:
        yield SmtpSink(host, server.sockets[0].getsockname()[1], handler)
    finally:
        server.close()
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(server.wait_closed(), 5)
