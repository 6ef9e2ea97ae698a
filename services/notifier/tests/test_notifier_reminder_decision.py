"""Personal reminders (DOMAIN §5): eligibility, progress per platform, stage transitions and the texts. Pure."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from cicero_contracts.events.attendance import AttendanceStatus
from cicero_contracts.events.common import Platform
from cicero_notifier.reminder_decision import (
    AttendanceRow,
    Due,
    History,
    Person,
    PlatformProgress,
    Stage,
    TaskPost,
    chat_id_of,
    idempotency_key,
    ineligibility,
    is_complete,
    next_stage,
    person_progress,
    platform_progress,
    purpose_of,
    shared_chats,
)
from cicero_notifier.reminder_text import address, greeting, render_reminder, render_shared, render_thanks
from cicero_runtime.clock import WIB

IG, TT = Platform.INSTAGRAM, Platform.TIKTOK
S = AttendanceStatus

PERSON = Person(
    user_id="87020123", name="Budi Santoso", title="AKP", client_id="POLRES_DEMO", whatsapp="6281234567890",
    instagram="budi.santoso", tiktok="budi_santoso", active=True, exempt=False, opt_in=True, client_known=True,
    client_active=True, client_reminders_enabled=True,
)
IG1 = TaskPost(IG, "ig1", "https://www.instagram.com/p/AAA/", "Giat patroli dialogis #polri")
IG2 = TaskPost(IG, "ig2", "https://www.instagram.com/p/BBB/", "")
IG3 = TaskPost(IG, "ig3", "https://www.instagram.com/p/CCC/", "Bakti sosial")
TT1 = TaskPost(TT, "tt1", "https://www.tiktok.com/@polres/video/1", "Patroli pagi")


def row(status: AttendanceStatus, done: int, total: int, *pending: str) -> AttendanceRow:
    return AttendanceRow(status, done, total, pending)


# -- eligibility ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("changes", "reason"), [
    ({}, None),
    ({"whatsapp": "081234567890"}, None),  # normalised to 628…
    ({"whatsapp": "+62 812-3456-7890"}, None),
    ({"title": None}, None),
    ({"instagram": None, "tiktok": None}, None),  # told "akun belum terdaftar", still reminded
    ({"active": False}, "inactive"),
    ({"opt_in": False}, "opted_out"),
    ({"exempt": True}, "exempt"),
    ({"whatsapp": None}, "no_whatsapp"),
    ({"whatsapp": ""}, "no_whatsapp"),
    ({"whatsapp": "12345"}, "invalid_whatsapp"),
    ({"whatsapp": "6281234567890123456"}, "invalid_whatsapp"),
    ({"client_known": False}, "client_unknown"),
    ({"client_active": False}, "client_inactive"),
    ({"client_reminders_enabled": False}, "client_reminders_off"),
    ({"active": False, "opt_in": False, "exempt": True}, "inactive"),  # the first reason wins
    ({"opt_in": False, "client_active": False}, "opted_out"),
])
def test_ineligibility(changes: dict[str, object], reason: str | None) -> None:
    assert ineligibility(replace(PERSON, **changes)) == reason  # type: ignore[arg-type]


@pytest.mark.parametrize(("number", "chat"), [
    ("6281234567890", "6281234567890@c.us"),
    ("081234567890", "6281234567890@c.us"),
    ("81234567890", "6281234567890@c.us"),
    ("6281234567890@c.us", "6281234567890@c.us"),
    ("1234567", None),
    (None, None),
])
def test_chat_id_of(number: str | None, chat: str | None) -> None:
    assert chat_id_of(replace(PERSON, whatsapp=number)) == chat


# -- progress --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("attendance", "has_handle", "expected"), [
    (None, True, PlatformProgress(IG, "pending", 3, (IG1, IG2, IG3))),  # not projected yet: all to do
    (None, False, PlatformProgress(IG, "no_username", 3)),
    (row(S.NONE, 0, 3, "ig1", "ig2", "ig3"), True, PlatformProgress(IG, "pending", 3, (IG1, IG2, IG3))),
    (row(S.PARTIAL, 1, 3, "ig3", "ig1"), True, PlatformProgress(IG, "pending", 3, (IG1, IG3))),  # post order
    (row(S.PARTIAL, 2, 3, "ig2"), True, PlatformProgress(IG, "pending", 3, (IG2,))),
    (row(S.PARTIAL, 1, 3, "ig2", "ig9"), True, PlatformProgress(IG, "pending", 3, (IG2,), unlisted=1)),
    (row(S.NONE, 0, 1, "ig9"), True, PlatformProgress(IG, "pending", 3, (), unlisted=1)),
    (row(S.PARTIAL, 2, 4), True, PlatformProgress(IG, "complete", 3)),  # nothing pending is left
    (row(S.COMPLETE, 3, 3), True, PlatformProgress(IG, "complete", 3)),
    (row(S.COMPLETE, 3, 3), False, PlatformProgress(IG, "complete", 3)),  # attendance's word wins
    (row(S.EXEMPT, 0, 3, "ig1", "ig2", "ig3"), True, PlatformProgress(IG, "complete", 3)),
    (row(S.NO_USERNAME, 0, 3, "ig1", "ig2", "ig3"), True, PlatformProgress(IG, "no_username", 3)),
    (row(S.NO_USERNAME, 0, 3, "ig1"), False, PlatformProgress(IG, "no_username", 3)),
])
def test_platform_progress(attendance: AttendanceRow | None, has_handle: bool, expected: PlatformProgress) -> None:
    assert platform_progress(IG, [IG1, IG2, IG3], attendance, has_handle) == expected


def test_person_progress_covers_only_platforms_with_posts_instagram_first() -> None:
    assert person_progress([], {IG: row(S.NONE, 0, 1, "ig1")}, PERSON) == []
    only_tiktok = person_progress([TT1], {}, PERSON)
    assert [p.platform for p in only_tiktok] == [TT]
    both = person_progress([TT1, IG1], {IG: row(S.COMPLETE, 1, 1), TT: row(S.NONE, 0, 1, "tt1")}, PERSON)
    assert [(p.platform, p.state) for p in both] == [(IG, "complete"), (TT, "pending")]
    no_tiktok = person_progress([IG1, TT1], {IG: row(S.COMPLETE, 1, 1)}, replace(PERSON, tiktok=None))
    assert [(p.platform, p.state) for p in no_tiktok] == [(IG, "complete"), (TT, "no_username")]
    assert not is_complete(no_tiktok)
    assert is_complete(person_progress([IG1, TT1], {IG: row(S.COMPLETE, 1, 1), TT: row(S.EXEMPT, 0, 1)}, PERSON))


# -- stages ----------------------------------------------------------------------------------------------

PENDING = [PlatformProgress(IG, "pending", 1, (IG1,))]
COMPLETE = [PlatformProgress(IG, "complete", 1), PlatformProgress(TT, "complete", 1)]
MIXED = [PlatformProgress(IG, "complete", 1), PlatformProgress(TT, "pending", 1, (TT1,))]
NO_USERNAME = [PlatformProgress(IG, "complete", 1), PlatformProgress(TT, "no_username", 1)]
IN, F1, F2, C = Stage.INITIAL, Stage.FOLLOWUP1, Stage.FOLLOWUP2, Stage.COMPLETED


def h(accepted: Stage | None = None, *, in_flight: bool = False, dead: tuple[Stage, ...] = ()) -> History:
    return History(accepted, in_flight, frozenset(dead))


@pytest.mark.parametrize(("progress", "history", "expected"), [
    # no task posts today: nothing, whatever happened before
    ([], h(), None),
    ([], h(IN), None),
    # the reminder ladder
    (PENDING, h(), IN),
    (MIXED, h(), IN),
    (PENDING, h(IN), F1),
    (PENDING, h(F1), F2),
    (PENDING, h(F2), None),  # after followup2 nothing more that day
    # no_username is not complete: reminded, never thanked
    (NO_USERNAME, h(), IN),
    (NO_USERNAME, h(F1), F2),
    # the thank-you, once
    (COMPLETE, h(), C),
    (COMPLETE, h(IN), C),
    (COMPLETE, h(F1), C),
    (COMPLETE, h(F2), C),  # completing after the last reminder is still thanked (the stage cap is for reminders)
    (COMPLETE, h(IN, dead=(F2,)), C),
    (COMPLETE, h(F2, in_flight=True), None),  # …once the followup2 on its way is reported
    (COMPLETE, h(C), None),
    (PENDING, h(C), None),  # a new post after the thank-you: completed people are not messaged again
    # a message on its way holds the next one back
    (PENDING, h(in_flight=True), None),
    (PENDING, h(IN, in_flight=True), None),
    (COMPLETE, h(IN, in_flight=True), None),
    # a dead-lettered stage is used up: move on
    (PENDING, h(dead=(IN,)), F1),
    (PENDING, h(IN, dead=(F1,)), F2),
    (PENDING, h(dead=(IN, F1)), F2),
    (PENDING, h(IN, dead=(F2,)), None),
    (COMPLETE, h(dead=(IN,)), C),
    (COMPLETE, h(dead=(F2,)), C),
    (COMPLETE, h(F2, dead=(C,)), None),
    (COMPLETE, h(IN, dead=(C,)), None),
    (PENDING, h(IN, dead=(C,)), None),
])
def test_next_stage(progress: list[PlatformProgress], history: History, expected: Stage | None) -> None:
    assert next_stage(progress, history) == expected


def test_keys_and_purposes() -> None:
    assert idempotency_key("87020123", "2026-03-10", IN) == "reminder:87020123:2026-03-10:initial"
    assert idempotency_key("87020123", "2026-03-10", C) == "reminder:87020123:2026-03-10:completed"
    assert [purpose_of(s) for s in (IN, F1, F2, C)] == ["reminder", "reminder", "reminder", "reminder_thanks"]


# -- texts -----------------------------------------------------------------------------------------------


def wib(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, 10, hour, minute, tzinfo=WIB)


@pytest.mark.parametrize(("instant", "expected"), [
    (wib(0, 0), "Selamat Malam"),
    (wib(3, 59), "Selamat Malam"),
    (wib(4, 0), "Selamat Pagi"),
    (wib(10, 59), "Selamat Pagi"),
    (wib(11, 0), "Selamat Siang"),
    (wib(14, 59), "Selamat Siang"),
    (wib(15, 0), "Selamat Sore"),
    (wib(17, 5), "Selamat Sore"),
    (wib(17, 59), "Selamat Sore"),
    (wib(18, 0), "Selamat Malam"),
    (wib(23, 59), "Selamat Malam"),
    (datetime(2026, 3, 10, 10, 35, tzinfo=UTC), "Selamat Sore"),  # 17:35 WIB
    (datetime(2026, 3, 10, 3, 59, tzinfo=UTC), "Selamat Pagi"),  # 10:59 WIB
    (datetime(2026, 3, 10, 4, 0, tzinfo=UTC), "Selamat Siang"),  # 11:00 WIB
    (datetime(2026, 3, 9, 20, 59, tzinfo=UTC), "Selamat Malam"),  # 03:59 WIB on the 10th
])
def test_greeting_by_wib_hour(instant: datetime, expected: str) -> None:
    assert greeting(instant) == expected


@pytest.mark.parametrize(("title", "name", "expected"), [
    ("AKP", "Budi Santoso", "Bapak/Ibu AKP Budi Santoso"),
    (" BRIPDA ", " Siti Aminah ", "Bapak/Ibu BRIPDA Siti Aminah"),
    (None, "Siti Aminah", "Bapak/Ibu Siti Aminah"),
    ("", "Siti Aminah", "Bapak/Ibu Siti Aminah"),
])
def test_address(title: str | None, name: str, expected: str) -> None:
    assert address(title, name) == expected


def test_the_reminder_lists_pending_links_per_platform() -> None:
    progress = [PlatformProgress(IG, "pending", 3, (IG1, IG2), unlisted=1), PlatformProgress(TT, "complete", 1)]
    text = render_reminder(IN, title="AKP", name="Budi Santoso", client_name="Polres Demo", at=wib(17, 5),
                           progress=progress)
    lines = text.split("\n")
    assert lines[0] == "Selamat Sore Bapak/Ibu AKP Budi Santoso,"
    assert lines[2] == "🔔 *Pengingat Tugas Polres Demo*"
    assert lines[3] == "Selasa, 10 Maret 2026, 17:05 WIB"
    assert "Instagram: 3 konten belum di-like" in lines
    assert lines.index("1. https://www.instagram.com/p/AAA/") + 1 == lines.index("   Giat patroli dialogis #polri")
    assert lines[lines.index("2. https://www.instagram.com/p/BBB/") + 1].startswith("+ 1 konten lainnya")
    assert "TikTok: sudah selesai ✅" in lines
    assert "Mohon segera like konten Instagram di atas. Terima kasih." in lines
    assert "komentar" not in text.split("TikTok: sudah selesai")[1]  # TikTok asks nothing more
    assert lines[-1] == "Balas *notifwa#off* bila tidak ingin menerima pengingat lagi."


def test_the_reminder_says_when_an_account_is_not_registered() -> None:
    progress = [PlatformProgress(IG, "no_username", 2), PlatformProgress(TT, "pending", 1, (TT1,))]
    text = render_reminder(F1, title="BRIPDA", name="Siti", client_name="Polres Demo", at=wib(17, 35),
                           progress=progress)
    assert "🔔 *Pengingat Tugas (ke-2) Polres Demo*" in text
    assert "Instagram: akun belum terdaftar." in text
    assert "instagram.com" not in text  # no posts listed for an unregistered account
    assert "TikTok: 1 konten belum dikomentari\n1. https://www.tiktok.com/@polres/video/1\n   Patroli pagi" in text
    assert "Mohon segera beri komentar pada konten TikTok di atas." in text
    only_unregistered = render_reminder(F2, title=None, name="Siti", client_name="Polres Demo", at=wib(19, 0),
                                        progress=[PlatformProgress(IG, "no_username", 2)])
    assert only_unregistered.startswith("Selamat Malam Bapak/Ibu Siti,\n")
    assert "(terakhir)" in only_unregistered
    assert "Mohon segera daftarkan akun Anda" in only_unregistered


def test_both_platforms_pending_asks_for_likes_and_comments() -> None:
    progress = [PlatformProgress(IG, "pending", 1, (IG2,)), PlatformProgress(TT, "pending", 1, (TT1,))]
    text = render_reminder(IN, title="AKP", name="Budi", client_name="Polres Demo", at=wib(8, 0), progress=progress)
    assert text.startswith("Selamat Pagi ")
    assert "Mohon segera like konten Instagram dan beri komentar pada konten TikTok di atas." in text
    assert "1. https://www.instagram.com/p/BBB/\n\nTikTok" in text  # an empty caption adds no line


def test_the_thank_you() -> None:
    text = render_thanks(title="AKP", name="Budi Santoso", client_name="Polres Demo", at=wib(17, 35),
                         progress=[PlatformProgress(IG, "complete", 1200), PlatformProgress(TT, "complete", 1)])
    assert text.startswith("Selamat Sore Bapak/Ibu AKP Budi Santoso,\n")
    assert "✅ *Tugas Hari Ini Selesai — Polres Demo*" in text
    assert "• Instagram: 1.200 konten\n• TikTok: 1 konten" in text
    with pytest.raises(ValueError, match="render_thanks"):
        render_reminder(C, title="AKP", name="Budi", client_name="Polres Demo", at=wib(17, 5), progress=[])


# -- one message per shared number ---------------------------------------------------------------------

SITI = replace(PERSON, user_id="90030003", name="Siti Aminah", title="BRIPDA", whatsapp="081234567890")
ANDI = replace(PERSON, user_id="91060006", name="Andi", title=None, whatsapp="+62 812-3456-7890")
OTHER_NUMBER = replace(PERSON, user_id="92040004", name="Rudi", whatsapp="6281299990004")
OTHER_UNIT = replace(PERSON, user_id="93050005", name="Joko", client_id="POLRES_CONTOH")


def due(person: Person, stage: Stage, progress: list[PlatformProgress] | None = None) -> Due:
    return Due(person, stage, tuple(PENDING if progress is None else progress))


def test_people_of_one_unit_at_one_number_share_one_message_in_first_seen_order() -> None:
    dues = [due(PERSON, IN), due(OTHER_NUMBER, IN), due(SITI, F1), due(OTHER_UNIT, IN), due(ANDI, C, COMPLETE)]
    messages = shared_chats(dues)
    assert [(m.client_id, m.chat_id, [d.person.user_id for d in m.dues]) for m in messages] == [
        ("POLRES_DEMO", "6281234567890@c.us", ["87020123", "90030003", "91060006"]),  # three spellings, one chat
        ("POLRES_DEMO", "6281299990004@c.us", ["92040004"]),
        ("POLRES_CONTOH", "6281234567890@c.us", ["93050005"]),  # same number, another unit: its own message
    ]
    assert shared_chats([]) == []


def test_a_person_without_a_usable_number_cannot_be_put_in_a_message() -> None:
    with pytest.raises(ValueError, match="87020123"):
        shared_chats([due(replace(PERSON, whatsapp="12345"), IN)])


def test_a_lone_person_keeps_their_own_key_and_a_shared_message_is_keyed_by_its_people_and_stages() -> None:
    (alone,) = shared_chats([due(PERSON, F1)])
    assert alone.key("2026-03-10") == idempotency_key("87020123", "2026-03-10", F1)
    (shared,) = shared_chats([due(SITI, C, COMPLETE), due(PERSON, IN)])
    assert shared.key("2026-03-10") == "reminder:2026-03-10:87020123.initial+90030003.completed"
    (reordered,) = shared_chats([due(PERSON, IN), due(SITI, C, COMPLETE)])
    assert reordered.key("2026-03-10") == shared.key("2026-03-10")  # the same people and stages: the same message
    (later,) = shared_chats([due(PERSON, F1), due(SITI, C, COMPLETE)])
    assert later.key("2026-03-10") != shared.key("2026-03-10")  # a stage moved on: a new message
    assert shared.key("2026-03-11") != shared.key("2026-03-10")


@pytest.mark.parametrize(("stages", "purpose"), [
    ((IN,), "reminder"), ((C,), "reminder_thanks"), ((IN, C), "reminder"), ((C, C), "reminder_thanks"),
    ((F2, F1), "reminder"),
])
def test_a_message_is_a_thank_you_only_when_it_thanks_everyone_in_it(stages: tuple[Stage, ...], purpose: str) -> None:
    people = [PERSON, SITI]
    (message,) = shared_chats([due(people[i], s, COMPLETE if s == C else PENDING) for i, s in enumerate(stages)])
    assert message.purpose == purpose


def test_the_shared_text_names_each_person_with_their_own_reminder_or_thanks() -> None:
    (message,) = shared_chats([
        due(PERSON, F1, [PlatformProgress(IG, "pending", 2, (IG1,)), PlatformProgress(TT, "complete", 1)]),
        due(SITI, IN, [PlatformProgress(IG, "complete", 2), PlatformProgress(TT, "pending", 1, (TT1,))]),
        due(ANDI, C, [PlatformProgress(IG, "complete", 2), PlatformProgress(TT, "complete", 1)]),
    ])
    text = render_shared(message, client_name="Polres Demo", at=wib(17, 5))
    lines = text.split("\n")
    assert lines[:5] == ["Selamat Sore Bapak/Ibu,", "", "🔔 *Pengingat Tugas Polres Demo*",
                         "Selasa, 10 Maret 2026, 17:05 WIB", "Nomor ini terdaftar untuk 3 personel:"]
    budi, siti, andi = (lines.index(h) for h in ("*1. AKP Budi Santoso* — Pengingat Tugas (ke-2)",
                                                 "*2. BRIPDA Siti Aminah* — Pengingat Tugas",
                                                 "*3. Andi* — tugas hari ini selesai ✅"))
    assert budi < siti < andi
    assert "1. https://www.instagram.com/p/AAA/" in lines[budi:siti]  # each person's links under their name
    assert "TikTok: sudah selesai ✅" in lines[budi:siti]
    assert "1. https://www.tiktok.com/@polres/video/1" in lines[siti:andi]
    assert "Instagram: sudah selesai ✅" in lines[siti:andi]
    assert lines[andi + 1:andi + 4] == ["Terima kasih, seluruh tugas like dan komentar hari ini telah dilaksanakan:",
                                        "• Instagram: 2 konten", "• TikTok: 1 konten"]
    assert lines.count("Mohon segera like konten Instagram dan beri komentar pada konten TikTok di atas. "
                       "Terima kasih.") == 1  # one closing for everyone, each ask once
    assert lines[-1] == "Balas *notifwa#off* bila tidak ingin menerima pengingat lagi."


def test_a_shared_thank_you_thanks_everyone_and_promises_no_more_reminders() -> None:
    (message,) = shared_chats([due(PERSON, C, COMPLETE), due(SITI, C, COMPLETE)])
    text = render_shared(message, client_name="Polres Demo", at=wib(17, 35))
    assert "✅ *Tugas Hari Ini Selesai — Polres Demo*" in text and "🔔" not in text
    assert "*1. AKP Budi Santoso* — tugas hari ini selesai ✅" in text
    assert "*2. BRIPDA Siti Aminah* — tugas hari ini selesai ✅" in text
    assert text.endswith("Pengingat untuk hari ini tidak akan dikirim lagi. Salam Presisi!")
    assert "notifwa#off" not in text and "Mohon segera" not in text
