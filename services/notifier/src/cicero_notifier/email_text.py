"""What the notifier writes by e-mail (and the WhatsApp twin of a complaint reply), in Bahasa Indonesia."""

from __future__ import annotations

from datetime import datetime

from cicero_runtime.indonesian import date_id, time_wib

from cicero_notifier.reminder_text import address

OTP_SUBJECT = "Kode Verifikasi Cicero"
SIGNATURE = "Salam,\nTim Cicero"


def salutation(title: str | None, name: str) -> str:
    """``Yth. Bapak/Ibu AKP Budi Santoso,``: the reminders' form of address, as a letter opens."""
    return f"Yth. {address(title, name)},"


def otp_body(*, title: str | None, name: str, code: str, expires_at: datetime, ttl_minutes: int) -> str:
    return "\n".join([
        salutation(title, name),
        "",
        "Kode verifikasi untuk pembaruan data Anda di Cicero adalah:",
        "",
        f"    {code}",
        "",
        f"Kode ini berlaku {ttl_minutes} menit, sampai {time_wib(expires_at)} ({date_id(expires_at)}), dan hanya "
        "dapat dipakai sekali.",
        "Jangan berikan kode ini kepada siapa pun, termasuk yang mengaku petugas Cicero.",
        "Bila Anda tidak meminta kode ini, abaikan e-mail ini.",
        "",
        SIGNATURE,
    ]) + "\n"


def _complaint_reply(complaint_id: str, text: str) -> list[str]:
    """The reply itself, the same by e-mail and on WhatsApp."""
    return [f"Berikut tindak lanjut atas laporan Anda (nomor {complaint_id}):", "", text.strip(), "",
            "Terima kasih atas laporan Anda."]


def complaint_body(*, title: str | None, name: str, complaint_id: str, text: str) -> str:
    return "\n".join([salutation(title, name), "", *_complaint_reply(complaint_id, text), "", SIGNATURE]) + "\n"


def complaint_whatsapp(*, title: str | None, name: str, complaint_id: str, subject: str, text: str) -> str:
    return "\n".join([f"*{subject.strip()}*", "", salutation(title, name), *_complaint_reply(complaint_id, text)])
