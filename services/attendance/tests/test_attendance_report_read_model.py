"""The reports read from the real tables (``report_seed.demo_seed``, consistent with the projection's rules).

The seeded Sunday: Polres Alpha has two Instagram task posts (a third was taken down) and one TikTok video;
the directorate posted twice on Instagram; Polres Charlie posted nothing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import asyncpg
import pytest
import pytest_asyncio
from cicero_attendance.read_model import load_report
from cicero_attendance.report_seed import AT, DAY, demo_seed, seed_directorate
from cicero_attendance.reports import (
    ClientReport,
    DirectorateReport,
    PersonNotInClient,
    PersonReport,
    PostReport,
    ReportError,
    ReportKind,
    UnknownClient,
    UnknownUser,
    UserRequired,
    WrongClientType,
)
from cicero_contracts.events.attendance import AttendanceStatus
from cicero_runtime.db import create_pool


@pytest_asyncio.fixture
async def db(database_url: str, attendance_schema: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(database_url, attendance_schema)
    try:
        yield pool
    finally:
        await pool.close()


@pytest_asyncio.fixture
async def seeded(db: asyncpg.Pool) -> asyncpg.Pool:
    async with db.acquire() as conn:
        await demo_seed().write(conn)
    return db


async def report(pool: asyncpg.Pool, kind: ReportKind, client_id: str, user_id: str | None = None,
                 day_offset: int = 0) -> object:
    async with pool.acquire() as conn:
        return await load_report(conn, kind, client_id, DAY + timedelta(days=day_offset), AT, user_id)


async def test_seeded_attendance_matches_the_rules(seeded: asyncpg.Pool) -> None:
    """The seed itself, checked by hand, so the report tests below rest on known rows."""
    rows = await seeded.fetch("""SELECT scope_client_id, platform, user_id, status, done, total FROM attendance
                                 WHERE wib_date = $1 ORDER BY 1, 2, 3""", DAY)
    assert [tuple(r) for r in rows] == [
        ("DITBINMAS", "instagram", "1001", "complete", 1, 2),  # half of two at the directorate ratio
        ("DITBINMAS", "instagram", "1003", "none", 0, 2),
        ("DITBINMAS", "instagram", "2001", "complete", 2, 2),
        ("DITBINMAS", "instagram", "3001", "complete", 1, 2),
        ("POLRES_A", "instagram", "1001", "complete", 2, 2),
        ("POLRES_A", "instagram", "1002", "partial", 1, 2),  # the removed post's like does not count
        ("POLRES_A", "instagram", "1003", "partial", 1, 2),  # a comment is not a like
        ("POLRES_A", "instagram", "1004", "exempt", 0, 2),
        ("POLRES_A", "instagram", "1005", "no_username", 0, 2),
        ("POLRES_A", "instagram", "1006", "none", 0, 2),  # yesterday's like is not today's
        ("POLRES_A", "tiktok", "1001", "complete", 1, 1),
        ("POLRES_A", "tiktok", "1002", "no_username", 0, 1),
        ("POLRES_A", "tiktok", "1003", "complete", 1, 1),
        ("POLRES_A", "tiktok", "1004", "exempt", 0, 1),
        ("POLRES_A", "tiktok", "1005", "none", 0, 1),
        ("POLRES_A", "tiktok", "1006", "none", 0, 1),  # a TikTok like is not a comment
        ("POLRES_B", "instagram", "2001", "none", 0, 1),
        ("POLRES_B", "instagram", "2002", "complete", 1, 1),
    ]


async def test_client_recap_of_an_org_client(seeded: asyncpg.Pool) -> None:
    result = await report(seeded, ReportKind.CLIENT, "POLRES_A")
    assert isinstance(result, ClientReport)
    instagram, tiktok = result.platforms
    assert instagram.post_count == 2 and tiktok.post_count == 1
    assert [(d.division, [p.user_id for p in d.people]) for d in instagram.divisions] == [
        ("BAG OPS", ["1001", "1002"]), ("SAT BINMAS", ["1003"]), ("POLSEK KOTA", ["1006"]), (None, [])]
    assert [p.user_id for p in instagram.no_username] == ["1005"]
    assert [p.user_id for p in instagram.exempt] == ["1004"]
    assert (instagram.counts.people, instagram.counts.completed) == (6, 2)
    assert [p.user_id for p in tiktok.no_username] == ["1002"]
    assert "1007" not in result.model_dump_json()  # inactive: out of scope


async def test_client_recap_of_a_directorate_covers_its_own_staff(seeded: asyncpg.Pool) -> None:
    result = await report(seeded, ReportKind.CLIENT, "DITBINMAS")
    assert isinstance(result, ClientReport)
    people = [p for d in result.platforms[0].divisions for p in d.people]
    assert [(p.user_id, p.status, p.done, p.total) for p in people] == [("3001", AttendanceStatus.COMPLETE, 1, 2)]


async def test_directorate_recap_groups_the_scope_by_home_client(seeded: asyncpg.Pool) -> None:
    result = await report(seeded, ReportKind.DIRECTORATE, "DITBINMAS")
    assert isinstance(result, DirectorateReport)
    instagram, tiktok = result.platforms
    assert [(c.client_id, c.name, c.counts.people, c.counts.completion_percent) for c in instagram.clients] == [
        ("DITBINMAS", "Direktorat Binmas", 1, 100.0), ("POLRES_B", "Polres Bravo", 1, 100.0),
        ("POLRES_A", "Polres Alpha", 2, 50.0)]
    assert (tiktok.post_count, tiktok.clients) == (0, [])


async def test_post_recap_reads_engagements_of_the_scope(seeded: asyncpg.Pool) -> None:
    result = await report(seeded, ReportKind.POST, "POLRES_A")
    assert isinstance(result, PostReport)
    instagram, tiktok = result.platforms
    assert [p.post_id for p in instagram.posts] == ["IGA1", "IGA2"]  # publish order, IGA3 was taken down
    iga1 = instagram.posts[0]
    assert (iga1.expected, iga1.engaged, iga1.platform_count) == (5, 2, 1200)  # a stranger's like is not counted
    assert [[p.user_id for p in d.people] for d in iga1.not_engaged] == [["1002"], ["1006"], ["1005"]]
    assert [(p.post_id, p.engaged) for p in tiktok.posts] == [("TTA1", 2)]


async def test_post_recap_of_a_directorate_counts_its_role_holders(seeded: asyncpg.Pool) -> None:
    result = await report(seeded, ReportKind.POST, "DITBINMAS")
    assert isinstance(result, PostReport)
    assert [(p.post_id, p.expected, p.engaged) for p in result.platforms[0].posts] == [("IGD1", 4, 3),
                                                                                        ("IGD2", 4, 1)]


async def test_person_recap_in_each_scope_with_pending_links(seeded: asyncpg.Pool) -> None:
    result = await report(seeded, ReportKind.PERSON, "DITBINMAS", user_id="1001")
    assert isinstance(result, PersonReport)
    assert [(s.scope.client_id, s.platform.value, s.status, [p.link for p in s.pending]) for s in result.scopes] == [
        ("POLRES_A", "instagram", AttendanceStatus.COMPLETE, []),
        ("POLRES_A", "tiktok", AttendanceStatus.COMPLETE, []),
        ("DITBINMAS", "instagram", AttendanceStatus.COMPLETE, ["https://www.instagram.com/p/IGD2/"]),
        ("DITBINMAS", "tiktok", None, []),
    ]


async def test_a_day_without_posts_reports_none(seeded: asyncpg.Pool) -> None:
    result = await report(seeded, ReportKind.CLIENT, "POLRES_A", day_offset=1)
    assert isinstance(result, ClientReport)
    assert [(p.post_count, p.counts.people) for p in result.platforms] == [(0, 0), (0, 0)]
    charlie = await report(seeded, ReportKind.POST, "POLRES_C")
    assert isinstance(charlie, PostReport) and all(not p.posts for p in charlie.platforms)


@pytest.mark.parametrize(("kind", "client_id", "user_id", "error", "message"), [
    (ReportKind.CLIENT, "POLRES_X", None, UnknownClient, "unknown client 'POLRES_X'"),
    (ReportKind.DIRECTORATE, "POLRES_A", None, WrongClientType,
     "a directorate report needs a DIREKTORAT client, but POLRES_A is an ORG client"),
    (ReportKind.PERSON, "POLRES_A", "9999", UnknownUser, "unknown user '9999'"),
    (ReportKind.PERSON, "POLRES_B", "1001", PersonNotInClient, "user 1001 is neither personnel of POLRES_B"),
    (ReportKind.PERSON, "DITBINMAS", "1002", PersonNotInClient, "nor holds its role 'ditbinmas'"),
    (ReportKind.PERSON, "POLRES_A", None, UserRequired, "needs a user id"),
])
async def test_what_cannot_be_reported_is_a_report_error(
    seeded: asyncpg.Pool, kind: ReportKind, client_id: str, user_id: str | None, error: type[ReportError],
    message: str,
) -> None:
    with pytest.raises(error, match=message):
        await report(seeded, kind, client_id, user_id)


async def test_directorate_recap_counts_agree_with_the_rows(db: asyncpg.Pool) -> None:
    """The SQL aggregation against a plain count of the same rows, on a directorate of 3,000."""
    async with db.acquire() as conn:
        await seed_directorate(conn, people=3_000, clients=12, posts=4)
        result = await load_report(conn, ReportKind.DIRECTORATE, "DITBINMAS", DAY, AT)
        rows = await conn.fetch("""SELECT a.platform, p.client_id, a.status FROM attendance a
                                   JOIN personnel p USING (user_id) WHERE a.scope_client_id = 'DITBINMAS'""")
    assert isinstance(result, DirectorateReport)
    expected: dict[tuple[str, str, str], int] = {}
    for r in rows:
        expected[(r["platform"], r["client_id"], r["status"])] = expected.get(
            (r["platform"], r["client_id"], r["status"]), 0) + 1
    got = {(recap.platform.value, c.client_id, s.value): getattr(c.counts, s.value)
           for recap in result.platforms for c in recap.clients for s in AttendanceStatus
           if getattr(c.counts, s.value)}
    assert got == expected
    assert sum(recap.counts.people for recap in result.platforms) == 6_000
    percents = [c.counts.completion_percent for c in result.platforms[0].clients]
    assert percents == sorted(percents, reverse=True) and len(percents) == 12
