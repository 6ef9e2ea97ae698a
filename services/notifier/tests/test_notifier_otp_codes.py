"""The OTP rules as pure functions: codes, keyed hashes, and the verdict on each attempt."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from unittest import mock

import pytest
from cicero_contracts.rpc import OtpVerifyStatus
from cicero_notifier.email_address import is_valid_email, mask_email, normalize_email
from cicero_notifier.email_text import complaint_body, complaint_whatsapp, otp_body, salutation
from cicero_notifier.otp_codes import (
    PendingCode,
    Verdict,
    claim_digest,
    code_digest,
    generate_code,
    judge_attempt,
)

SECRET = b"test-secret"
RIGHT = code_digest(SECRET, "75020001", "budi@example.com", "123456")
WRONG = code_digest(SECRET, "75020001", "budi@example.com", "654321")


def test_codes_are_six_digits_from_the_csprng() -> None:
    codes = {generate_code() for _ in range(200)}
    assert all(re.fullmatch(r"[0-9]{6}", c) for c in codes)
    assert len(codes) > 190  # not a constant, not a tiny range
    with mock.patch("cicero_notifier.otp_codes.secrets.randbelow", return_value=42) as randbelow:
        assert generate_code() == "000042"  # leading zeros kept
    randbelow.assert_called_once_with(1_000_000)


def test_the_digest_is_keyed_and_bound_to_user_and_address() -> None:
    assert re.fullmatch(r"[0-9a-f]{64}", RIGHT)
    assert "123456" not in RIGHT
    assert code_digest(SECRET, "75020001", "budi@example.com", "123456") == RIGHT  # deterministic
    assert code_digest(b"other-secret", "75020001", "budi@example.com", "123456") != RIGHT
    assert code_digest(SECRET, "75020002", "budi@example.com", "123456") != RIGHT
    assert code_digest(SECRET, "75020001", "andi@example.com", "123456") != RIGHT
    # the parts are separated: shifting a digit between user and address is another digest
    assert code_digest(SECRET, "1", "23@x.id", "000000") != code_digest(SECRET, "12", "3@x.id", "000000")


def test_a_claim_digest_differs_from_any_code_digest() -> None:
    claim = claim_digest(SECRET, "75020001", "budi@example.com")
    assert claim == claim_digest(SECRET, "75020001", "budi@example.com")
    assert claim != claim_digest(SECRET, "75020001", "andi@example.com")
    assert claim not in {RIGHT, WRONG}


@pytest.mark.parametrize(("pending", "issued", "presented", "expected"), [
    (None, False, RIGHT, Verdict(OtpVerifyStatus.UNKNOWN)),
    (None, True, RIGHT, Verdict(OtpVerifyStatus.EXPIRED)),
    (PendingCode(RIGHT, 0), True, RIGHT, Verdict(OtpVerifyStatus.VERIFIED)),
    (PendingCode(RIGHT, 2), True, RIGHT, Verdict(OtpVerifyStatus.VERIFIED)),
    (PendingCode(RIGHT, 0), True, WRONG, Verdict(OtpVerifyStatus.WRONG_CODE, attempts_left=2, wrong_after=1)),
    (PendingCode(RIGHT, 1), True, WRONG, Verdict(OtpVerifyStatus.WRONG_CODE, attempts_left=1, wrong_after=2)),
    (PendingCode(RIGHT, 2), True, WRONG, Verdict(OtpVerifyStatus.WRONG_CODE, attempts_left=0, wrong_after=3)),
    (PendingCode(RIGHT, 3), True, RIGHT, Verdict(OtpVerifyStatus.TOO_MANY_ATTEMPTS, attempts_left=0)),
    (PendingCode(RIGHT, 3), True, WRONG, Verdict(OtpVerifyStatus.TOO_MANY_ATTEMPTS, attempts_left=0)),
    (PendingCode(RIGHT, 7), False, RIGHT, Verdict(OtpVerifyStatus.TOO_MANY_ATTEMPTS, attempts_left=0)),
])
def test_judge_attempt(pending: PendingCode | None, issued: bool, presented: str, expected: Verdict) -> None:
    assert judge_attempt(pending, issued, presented, max_wrong=3) == expected


def test_three_wrong_tries_burn_the_code() -> None:
    pending: PendingCode | None = PendingCode(RIGHT, 0)
    statuses = []
    for _ in range(3):
        assert pending is not None
        verdict = judge_attempt(pending, True, WRONG, max_wrong=3)
        statuses.append((verdict.status, verdict.attempts_left))
        assert verdict.wrong_after is not None
        pending = PendingCode(pending.digest, verdict.wrong_after)
    assert statuses == [(OtpVerifyStatus.WRONG_CODE, 2), (OtpVerifyStatus.WRONG_CODE, 1),
                        (OtpVerifyStatus.WRONG_CODE, 0)]
    final = judge_attempt(pending, True, RIGHT, max_wrong=3)
    assert final.status == OtpVerifyStatus.TOO_MANY_ATTEMPTS and not final.consumes_code


def test_only_a_verified_attempt_consumes_the_code() -> None:
    assert judge_attempt(PendingCode(RIGHT, 0), True, RIGHT, 3).consumes_code
    assert not judge_attempt(PendingCode(RIGHT, 0), True, WRONG, 3).consumes_code
    assert not judge_attempt(None, True, RIGHT, 3).consumes_code


@pytest.mark.parametrize(("raw", "normalised", "valid"), [
    (" Budi.Santoso@Example.COM ", "budi.santoso@example.com", True),
    ("budi+cicero@polri.go.id", "budi+cicero@polri.go.id", True),
    ("b@x.id", "b@x.id", True),
    ("budi@example", "budi@example", False),
    ("budi.example.com", "budi.example.com", False),
    ("budi@@example.com", "budi@@example.com", False),
    ("bu di@example.com", "bu di@example.com", False),
    ("budi@exa_mple.com", "budi@exa_mple.com", False),
    (".budi@example.com", ".budi@example.com", False),
    ("budi..s@example.com", "budi..s@example.com", False),
    ("budi@-example.com", "budi@-example.com", False),
    ("budi@example.com\nbcc: x@y.id", "budi@example.com\nbcc: x@y.id", False),
    ("a" * 65 + "@example.com", "a" * 65 + "@example.com", False),
    ("", "", False),
])
def test_email_addresses(raw: str, normalised: str, valid: bool) -> None:
    assert normalize_email(raw) == normalised
    assert is_valid_email(normalize_email(raw)) is valid


def test_masked_addresses_keep_only_the_first_letter_and_the_domain() -> None:
    assert mask_email("budi.santoso@example.com") == "b***@example.com"
    assert mask_email("not-an-address") == "***"


def test_the_otp_mail_text() -> None:
    body = otp_body(title="AKP", name="Budi Santoso", code="042917",
                    expires_at=datetime(2026, 3, 10, 8, 17, tzinfo=UTC), ttl_minutes=5)
    assert body.splitlines()[0] == "Yth. Bapak/Ibu AKP Budi Santoso,"
    assert "    042917" in body.splitlines()
    assert "Kode ini berlaku 5 menit, sampai 15:17 WIB (Selasa, 10 Maret 2026)" in body
    assert "Jangan berikan kode ini kepada siapa pun" in body


def test_the_complaint_texts() -> None:
    assert salutation(None, " Siti ") == "Yth. Bapak/Ibu Siti,"
    body = complaint_body(title="BRIPDA", name="Siti", complaint_id="LAP-7", text="  Akun sudah diperbarui. ")
    assert body.splitlines()[:5] == ["Yth. Bapak/Ibu BRIPDA Siti,", "",
                                     "Berikut tindak lanjut atas laporan Anda (nomor LAP-7):", "",
                                     "Akun sudah diperbarui."]
    wa = complaint_whatsapp(title="BRIPDA", name="Siti", complaint_id="LAP-7",
                            subject="Tindak Lanjut Laporan Cicero", text="Akun sudah diperbarui.")
    assert wa.splitlines()[0] == "*Tindak Lanjut Laporan Cicero*"
    assert "Akun sudah diperbarui." in wa.splitlines()
