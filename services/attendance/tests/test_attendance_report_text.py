"""The WhatsApp text of the reports: header, Indonesian numbers and dates, empty days, separate lists."""

from __future__ import annotations

from datetime import UTC, date, datetime

from cicero_attendance.report_text import render_report
from cicero_attendance.reports import (
    AttendanceRow,
    ClientInfo,
    CountRow,
    PersonInfo,
    PersonScopeRow,
    TaskPostRow,
    build_client_report,
    build_directorate_report,
    build_person_report,
    build_post_report,
)
from cicero_contracts.events.directory import ClientType
from cicero_runtime.clock import WIB

DAY = date(2026, 11, 22)
AT = datetime(2026, 11, 22, 14, 5, tzinfo=WIB)
POLRES = ClientInfo("POLRES_A", "Polres Alpha", ClientType.ORG)
DIREKTORAT = ClientInfo("DITBINMAS", "Direktorat Binmas", ClientType.DIREKTORAT)
BUDI = PersonInfo("1001", "Budi Santoso", "AKP", "BAG OPS", "KABAG OPS", "POLRES_A", ("ditbinmas",), True, False,
                  "budi", None)


def row(user_id: str, status: str, done: int, total: int, name: str, title: str | None, divisi: str | None,
        jabatan: str | None = None, platform: str = "instagram") -> AttendanceRow:
    return AttendanceRow(platform, user_id, status, done, total, name, title, divisi, jabatan, "POLRES_A")


def task(post_id: str, platform: str = "instagram", client_id: str = "POLRES_A", likes: int = 1200,
         caption: str = "Giat patroli dialogis\n#polri") -> TaskPostRow:
    return TaskPostRow(client_id, platform, post_id, f"https://www.instagram.com/p/{post_id}/", caption,
                       datetime(2026, 11, 22, 1, 15, tzinfo=UTC), likes, 1500)


CLIENT_ROWS = [
    row("1", "complete", 2, 2, "Budi Santoso", "AKP", "BAG OPS", "KABAG OPS"),
    row("2", "partial", 1, 2, "Andi", "BRIPDA", "Bag  Ops"),
    row("3", "none", 0, 2, "Cici", "BRIPTU", "SAT BINMAS"),
    row("4", "exempt", 0, 2, "Dedi", "IPDA", "SAT BINMAS", "KANIT BINMAS"),
    row("5", "no_username", 0, 2, "Eka", "BRIPKA", None),
]


def test_header_opens_with_the_greeting_then_title_client_day_and_time() -> None:
    text = render_report(build_client_report(POLRES, DAY, AT, {"instagram": 2}, CLIENT_ROWS))
    assert text.splitlines()[:6] == [
        "Mohon ijin Komandan,",
        "",
        "*Rekap Absensi Likes Instagram & Komentar TikTok*",
        "*Polres Alpha*",
        "Minggu, 22 November 2026",
        "Pukul 14:05 WIB",
    ]


def test_a_backfilled_report_says_when_its_data_was_taken() -> None:
    later = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # 08:00 WIB the next day
    text = render_report(build_client_report(POLRES, DAY, later, {"instagram": 2}, CLIENT_ROWS))
    assert text.splitlines()[4:6] == ["Minggu, 22 November 2026",
                                      "Data per Senin, 23 November 2026 pukul 08:00 WIB"]


def test_client_recap_lists_divisions_in_order_and_exempt_and_no_username_apart() -> None:
    text = render_report(build_client_report(POLRES, DAY, AT, {"instagram": 2}, CLIENT_ROWS))
    body = text.split("*Instagram — likes* (2 konten)\n", 1)[1]
    assert body.split("\n\n*TikTok")[0].splitlines() == [
        "5 personel: sudah 1 · kurang 1 · belum 1 · tanpa username 1 · dikecualikan 1",
        "Capaian: 40,0%",
        "",
        "*BAG OPS* (1/2 sudah)",
        "✅ AKP Budi Santoso (KABAG OPS) 2/2",
        "⚠️ BRIPDA Andi 1/2",
        "",
        "*SAT BINMAS* (1/2 sudah)",
        "❌ BRIPTU Cici 0/2",
        "",
        "*Belum mengisi username* (1)",
        "❔ BRIPKA Eka — TANPA DIVISI",
        "",
        "*Dikecualikan* (1)",
        "➖ IPDA Dedi (KANIT BINMAS) — SAT BINMAS",
    ]


def test_a_platform_without_posts_is_one_sentence_instead_of_everyone() -> None:
    text = render_report(build_client_report(POLRES, DAY, AT, {"instagram": 2}, CLIENT_ROWS))
    tiktok = text.split("*TikTok — komentar*\n", 1)[1]
    assert tiktok == "Tidak ada konten TikTok yang perlu dikomentari pada Minggu, 22 November 2026."
    empty = render_report(build_client_report(POLRES, DAY, AT, {}, CLIENT_ROWS))
    assert "Budi" not in empty and "Cici" not in empty
    assert "Tidak ada konten Instagram yang perlu di-like pada Minggu, 22 November 2026." in empty.splitlines()


def test_directorate_recap_uses_indonesian_numbers_and_percentages() -> None:
    counts = [CountRow("instagram", "POLRES_A", "Polres Alpha", "complete", 1200),
              CountRow("instagram", "POLRES_A", "Polres Alpha", "none", 300),
              CountRow("instagram", "POLRES_B", "Polres Bravo", "complete", 10)]
    text = render_report(build_directorate_report(DIREKTORAT, DAY, AT, {"instagram": 20}, counts))
    lines = text.splitlines()
    assert lines[2:4] == ["*Rekap Absensi Direktorat per Satker*", "*Direktorat Binmas*"]
    assert "*Instagram — likes* (20 konten)" in lines
    assert "Total 1.510 personel: sudah 1.210 · kurang 0 · belum 300 · tanpa username 0 · dikecualikan 0" in lines
    assert "Capaian: 80,1%" in lines
    start = lines.index("1. *Polres Bravo* — capaian 100,0%")
    assert lines[start + 2:start + 4] == [
        "2. *Polres Alpha* — capaian 80,0%",
        "   1.500 personel: sudah 1.200 · kurang 0 · belum 300 · tanpa username 0 · dikecualikan 0"]
    assert text.endswith("Tidak ada konten TikTok yang perlu dikomentari pada Minggu, 22 November 2026.")


def test_post_recap_shows_link_caption_time_count_and_who_did_not() -> None:
    rows = [*CLIENT_ROWS[:3], CLIENT_ROWS[4]]
    report = build_post_report(POLRES, DAY, AT, [task("IGA1")], rows, [("instagram", "IGA1", "1")])
    lines = render_report(report).splitlines()
    start = lines.index("1. https://www.instagram.com/p/IGA1/")
    assert lines[start - 2:start + 11] == [
        "*Instagram — likes* (1 konten)",
        "",
        "1. https://www.instagram.com/p/IGA1/",
        "   Giat patroli dialogis #polri",
        "   Diunggah 08:15 WIB · 1.200 suka",
        "   Sudah di-like: 1 dari 4 personel",
        "   Belum (3):",
        "   _BAG OPS_",
        "   - BRIPDA Andi",
        "   _SAT BINMAS_",
        "   - BRIPTU Cici",
        "   _TANPA DIVISI_",
        "   - BRIPKA Eka (tanpa username)",
    ]


def test_person_report_lists_status_per_scope_and_links_to_do() -> None:
    posts = [task("IGA1"), task("IGD1", client_id="DITBINMAS"), task("IGD2", client_id="DITBINMAS")]
    rows = [PersonScopeRow("POLRES_A", "instagram", "complete", 1, 1),
            PersonScopeRow("DITBINMAS", "instagram", "partial", 1, 2)]
    report = build_person_report(POLRES, DAY, AT, BUDI, [POLRES, DIREKTORAT], posts, rows,
                                 [("instagram", "IGA1"), ("instagram", "IGD1")])
    lines = render_report(report).splitlines()
    assert lines[2] == "*Absensi Personel*"
    assert lines[6:] == [
        "",
        "*AKP Budi Santoso* (NRP/NIP 1001)",
        "KABAG OPS · BAG OPS",
        "",
        "*Polres Alpha — Instagram (likes)*: ✅ sudah (1/1)",
        "",
        "*Polres Alpha — TikTok (komentar)*: tidak ada konten.",
        "",
        "*Direktorat Binmas — Instagram (likes)*: ⚠️ kurang (1/2)",
        "Belum di-like:",
        "1. https://www.instagram.com/p/IGD2/",
        "",
        "*Direktorat Binmas — TikTok (komentar)*: tidak ada konten.",
    ]


def test_person_report_on_a_day_without_posts_is_one_sentence() -> None:
    report = build_person_report(POLRES, DAY, AT, BUDI, [POLRES, DIREKTORAT], [], [], [])
    assert render_report(report).splitlines()[-1] == (
        "Tidak ada konten yang perlu di-like atau dikomentari pada Minggu, 22 November 2026.")


def test_person_report_of_an_inactive_person_says_so() -> None:
    inactive = PersonInfo("1007", "Gita", None, None, None, "POLRES_A", (), False, False, "gita", None)
    report = build_person_report(POLRES, DAY, AT, inactive, [POLRES], [task("IGA1")], [], [])
    assert render_report(report).splitlines()[-2:] == ["*Gita* (NRP/NIP 1007)",
                                                       "Personel tidak aktif; tidak dihitung dalam absensi."]
