"""The SMTP sink as ``scripts/mail_sink.py`` runs it: on a port it is given, handing each mail to a callback."""

from __future__ import annotations

from email.message import EmailMessage

import aiosmtplib
from cicero_runtime.testing.processes import free_port
from cicero_runtime.testing.smtp_sink import ReceivedMail, smtp_sink


async def test_a_given_port_and_each_mail_handed_over_with_its_raw_bytes() -> None:
    port = free_port()
    seen: list[ReceivedMail] = []
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "cicero@example.org", "budi@example.org", "Uji"
    message.set_content("Halo Pak Budi,\nSudah.\n")
    async with smtp_sink(port=port, on_mail=seen.append) as sink:
        assert sink.port == port
        await aiosmtplib.send(message, hostname=sink.host, port=port, timeout=5)
    assert seen == sink.received and len(seen) == 1
    (mail,) = seen
    assert mail.rcpt_tos == ("budi@example.org",)
    assert b"Subject: Uji" in mail.raw and mail.raw.rstrip().endswith(b"Sudah.")
    assert mail.text == "Halo Pak Budi,\nSudah.\n"
