"""Attendance reports as WhatsApp text (Bahasa Indonesia, ``*bold*``, ``_italic_``). Pure rendering of the models.

Every report opens with ``Mohon ijin Komandan,`` then the title, the client and the WIB day and time, the way
operators address their commanders in the groups these recaps go to.
"""

from __future__ import annotations

from cicero_contracts.events.attendance import AttendanceStatus
from cicero_contracts.events.common import Platform
from cicero_runtime.clock import wib_date
from cicero_runtime.indonesian import PLATFORM_LABEL, date_id, number_id, percent_id, short_caption, time_wib

from cicero_attendance.reports import (
    ClientReport,
    DirectorateReport,
    PersonReport,
    PersonScopeStatus,
    PersonStatus,
    PostReport,
    Report,
    ReportHeader,
    StatusCounts,
    division_name,
)

GREETING = "Mohon ijin Komandan,"
ACTIVITY_LABEL = {Platform.INSTAGRAM: "likes", Platform.TIKTOK: "komentar"}
VERB = {Platform.INSTAGRAM: "di-like", Platform.TIKTOK: "dikomentari"}
COUNT_NOUN = {Platform.INSTAGRAM: "suka", Platform.TIKTOK: "komentar"}
STATUS_LABEL = {
    AttendanceStatus.COMPLETE: "sudah",
    AttendanceStatus.PARTIAL: "kurang",
    AttendanceStatus.NONE: "belum",
    AttendanceStatus.NO_USERNAME: "tanpa username",
    AttendanceStatus.EXEMPT: "dikecualikan",
}
STATUS_MARK = {
    AttendanceStatus.COMPLETE: "✅",
    AttendanceStatus.PARTIAL: "⚠️",
    AttendanceStatus.NONE: "❌",
    AttendanceStatus.NO_USERNAME: "❔",
    AttendanceStatus.EXEMPT: "➖",
}
NO_DIVISION = "TANPA DIVISI"


def header(title: str, report: ReportHeader) -> list[str]:
    """Greeting, title, client, the report's WIB day and the time it was made.

    A report made on another day than the one it covers (a backfill) says when its data was taken.
    """
    lines = [GREETING, "", f"*{title}*", f"*{report.client.name}*", date_id(report.wib_date)]
    if wib_date(report.generated_at) == report.wib_date:
        lines.append(f"Pukul {time_wib(report.generated_at)}")
    else:
        lines.append(f"Data per {date_id(report.generated_at)} pukul {time_wib(report.generated_at)}")
    return lines


def section_title(platform: Platform, post_count: int) -> str:
    title = f"*{PLATFORM_LABEL[platform]} — {ACTIVITY_LABEL[platform]}*"
    return f"{title} ({number_id(post_count)} konten)" if post_count else title


def no_posts(platform: Platform, report: ReportHeader) -> str:
    """The one sentence a recap says instead of listing everyone when there is nothing to do."""
    return (f"Tidak ada konten {PLATFORM_LABEL[platform]} yang perlu {VERB[platform]} "
            f"pada {date_id(report.wib_date)}.")


def counts_line(counts: StatusCounts) -> str:
    parts = [f"{STATUS_LABEL[s]} {number_id(getattr(counts, s.value))}" for s in AttendanceStatus]
    return f"{number_id(counts.people)} personel: " + " · ".join(parts)


def person_label(person: PersonStatus) -> str:
    name = " ".join(part for part in (person.title, person.name) if part)
    return f"{name} ({person.jabatan})" if person.jabatan else name


def person_line(person: PersonStatus) -> str:
    return f"{STATUS_MARK[person.status]} {person_label(person)} {person.done}/{person.total}"


CLIENT_TITLE = "Rekap Absensi Likes Instagram & Komentar TikTok"


def render_client(report: ClientReport) -> str:
    lines = header(CLIENT_TITLE, report)
    for recap in report.platforms:
        lines += ["", section_title(recap.platform, recap.post_count)]
        if not recap.post_count:
            lines.append(no_posts(recap.platform, report))
            continue
        if not recap.counts.people:
            lines.append("Belum ada personel yang tercatat.")
            continue
        lines += [counts_line(recap.counts), f"Capaian: {percent_id(recap.counts.completion_percent)}"]
        for division in recap.divisions:
            if not division.people:
                continue
            lines += ["", f"*{division.division or NO_DIVISION}* "
                          f"({number_id(division.counts.completed)}/{number_id(division.counts.people)} sudah)"]
            lines += [person_line(p) for p in division.people]
        lines += _separate_list("Belum mengisi username", recap.no_username)
        lines += _separate_list("Dikecualikan", recap.exempt)
    return "\n".join(lines)


def _separate_list(title: str, people: list[PersonStatus]) -> list[str]:
    if not people:
        return []
    return ["", f"*{title}* ({number_id(len(people))})"] + [
        f"{STATUS_MARK[p.status]} {person_label(p)} — {division_name(p.divisi) or NO_DIVISION}" for p in people]


DIRECTORATE_TITLE = "Rekap Absensi Direktorat per Satker"
DAILY_REPORT_TITLE = "Laporan Harian Direktorat per Satker"
"""The end-of-day report: the same figures as the recap, titled so the super admins tell it from the recaps."""


def render_directorate(report: DirectorateReport, title: str = DIRECTORATE_TITLE) -> str:
    lines = header(title, report)
    for recap in report.platforms:
        lines += ["", section_title(recap.platform, recap.post_count)]
        if not recap.post_count:
            lines.append(no_posts(recap.platform, report))
            continue
        if not recap.clients:
            lines.append("Belum ada personel yang tercatat.")
            continue
        lines += [f"Total {counts_line(recap.counts)}",
                  f"Capaian: {percent_id(recap.counts.completion_percent)}", ""]
        for rank, summary in enumerate(recap.clients, start=1):
            lines += [f"{rank}. *{summary.name}* — capaian {percent_id(summary.counts.completion_percent)}",
                      f"   {counts_line(summary.counts)}"]
    return "\n".join(lines)


def render_post(report: PostReport) -> str:
    lines = header("Rekap Absensi per Konten", report)
    for recap in report.platforms:
        lines += ["", section_title(recap.platform, len(recap.posts))]
        if not recap.posts:
            lines.append(no_posts(recap.platform, report))
            continue
        for number, post in enumerate(recap.posts, start=1):
            lines += [
                "",
                f"{number}. {post.link}",
                f"   {short_caption(post.caption) or '(tanpa keterangan)'}",
                f"   Diunggah {time_wib(post.published_at)} · "
                f"{number_id(post.platform_count)} {COUNT_NOUN[post.platform]}",
                f"   Sudah {VERB[post.platform]}: {number_id(post.engaged)} dari {number_id(post.expected)} personel",
            ]
            missing = sum(len(d.people) for d in post.not_engaged)
            if missing:
                lines.append(f"   Belum ({number_id(missing)}):")
                for division in post.not_engaged:
                    lines.append(f"   _{division.division or NO_DIVISION}_")
                    lines += [f"   - {person_label(p)}" + (" (tanpa username)"
                                                           if p.status == AttendanceStatus.NO_USERNAME else "")
                              for p in division.people]
    return "\n".join(lines)


def render_person(report: PersonReport) -> str:
    person = report.person
    lines = header("Absensi Personel", report)
    name = " ".join(part for part in (person.title, person.name) if part)
    lines += ["", f"*{name}* (NRP/NIP {person.user_id})"]
    position = " · ".join(part for part in (person.jabatan, person.divisi) if part)
    if position:
        lines.append(position)
    if not person.active:
        lines.append("Personel tidak aktif; tidak dihitung dalam absensi.")
        return "\n".join(lines)
    if person.exempt:
        lines.append("Personel dikecualikan dari absensi (dihitung sudah).")
    if not any(s.post_count for s in report.scopes):
        lines += ["", f"Tidak ada konten yang perlu di-like atau dikomentari pada {date_id(report.wib_date)}."]
        return "\n".join(lines)
    for scope in report.scopes:
        lines += _scope_lines(scope)
    return "\n".join(lines)


def _scope_lines(scope: PersonScopeStatus) -> list[str]:
    title = f"*{scope.scope.name} — {PLATFORM_LABEL[scope.platform]} ({ACTIVITY_LABEL[scope.platform]})*"
    if not scope.post_count:
        return ["", f"{title}: tidak ada konten."]
    if scope.status is None:
        state = f"belum tercatat (0/{scope.post_count})"
    else:
        state = f"{STATUS_MARK[scope.status]} {STATUS_LABEL[scope.status]} ({scope.done}/{scope.total})"
    lines = ["", f"{title}: {state}"]
    if scope.pending:
        lines.append(f"Belum {VERB[scope.platform]}:")
        lines += [f"{n}. {p.link}" for n, p in enumerate(scope.pending, start=1)]
    return lines


def render_report(report: Report) -> str:
    """The WhatsApp text of any report."""
    if isinstance(report, ClientReport):
        return render_client(report)
    if isinstance(report, DirectorateReport):
        return render_directorate(report)
    if isinstance(report, PostReport):
        return render_post(report)
    return render_person(report)

