"""What the notifier writes by e-mail (and the WhatsApp twin of a complaint reply), in Bahasa Indonesia."""

from __future__ import annotations

from datetime import datetime

from cicero_runtime.indonesian import date_id, time_wib

OTP_SUBJECT = "Kode Verifikasi Cicero"
COMPLAINT_SUBJECT = "Tindak Lanjut Laporan Cicero"
SIGNATURE = "Salam,\nTim Cicero"


def salutation(title: str | None, name: str) -> str:
    """``Yth. Bapak/Ibu AKP Budi Santoso,``; without a rank, by name."""
    rank = (title or "").strip()
    who = f"{rank} {name.strip()}" if rank else name.strip()
    return f"Yth. Bapak/Ibu {who},"


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


def complaint_body(*, title: str | None, name: str, complaint_id: str, text: str) -> str:
    return "\n".join([
        salutation(title, name),
        "",
        f"Berikut tindak lanjut atas laporan Anda (nomor {complaint_id}):",
        "",
        text.strip(),
        "",
        "Terima kasih atas laporan Anda.",
        "",
        SIGNATURE,
    ]) + "\n"


def complaint_whatsapp(*, title: str | None, name: str, complaint_id: str, subject: str, text: str) -> str:
    return "\n".join([
        f"*{subject.strip()}*",
        "",
        salutation(title, name),
        f"Berikut tindak lanjut atas laporan Anda (nomor {complaint_id}):",
        "",
        text.strip(),
        "",
        "Terima kasih atas laporan Anda.",
    ])
