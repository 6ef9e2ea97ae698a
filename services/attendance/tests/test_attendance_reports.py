"""Report building (DOMAIN §4) from rows: ordering, separate lists, empty days, grouping. Pure, no database."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from cicero_attendance.reports import (
    AttendanceRow,
    ClientInfo,
    CountRow,
    PersonInfo,
    PersonNotInClient,
    PersonScopeRow,
    ReportKind,
    TaskPostRow,
    build_client_report,
    build_directorate_report,
    build_person_report,
    build_post_report,
)
from cicero_contracts.events.attendance import AttendanceStatus
from cicero_contracts.events.common import Platform
from cicero_contracts.events.directory import ClientType
from cicero_runtime.clock import WIB

DAY = date(2026, 11, 22)
AT = datetime(2026, 11, 22, 14, 5, tzinfo=WIB)
POLRES = ClientInfo("POLRES_A", "Polres Alpha", ClientType.ORG)
DIREKTORAT = ClientInfo("DITBINMAS", "Direktorat Binmas", ClientType.DIREKTORAT)


def row(user_id: str, status: str = "complete", *, done: int = 2, total: int = 2, name: str | None = None,
        title: str | None = "BRIPDA", divisi: str | None = "BAG OPS", jabatan: str | None = None,
        platform: str = "instagram", client_id: str = "POLRES_A") -> AttendanceRow:
    return AttendanceRow(platform, user_id, status, done, total, name or f"Orang {user_id}", title, divisi, jabatan,
                         client_id)


def post(post_id: str, platform: str = "instagram", client_id: str = "POLRES_A", hour: int = 8) -> TaskPostRow:
    return TaskPostRow(client_id, platform, post_id, f"https://x/{post_id}", f"caption {post_id}",
                       datetime(2026, 11, 22, hour - 7, 15, tzinfo=UTC), 1200, 30)


# -- client recap -----------------------------------------------------------------------------------------


def test_divisions_sort_by_prefix_then_name_and_people_without_division_come_last() -> None:
    divisions = ["ALPHA", "POLSEK UTARA", "SAT LANTAS", None, "SPKT 2", "SI HUMAS", "Bag  ops", "BAG OPS",
                 "POLSEKTA KOTA", "SATPAM", "BAGIAN X", "SAT BINMAS"]
    rows = [row(str(n), divisi=d) for n, d in enumerate(divisions)]
    report = build_client_report(POLRES, DAY, AT, {"instagram": 2}, rows)
    names = [d.division for d in report.platforms[0].divisions]
    # "Bag  ops" and "BAG OPS" are one division; SATPAM and BAGIAN are not SAT/BAG divisions (whole first word)
    assert names == ["BAG OPS", "SAT BINMAS", "SAT LANTAS", "SI HUMAS", "SPKT 2", "POLSEK UTARA", "POLSEKTA KOTA",
                     "ALPHA", "BAGIAN X", "SATPAM", None]
    assert len(report.platforms[0].divisions[0].people) == 2


def test_people_sort_by_position_then_rank_then_name_then_id() -> None:
    rows = [
        row("9", name="Zaki", title="BRIPDA"),
        row("8", name="Budi", title="BRIPDA"),
        row("7", name="Adi", title="PENATA"),  # civil-service ranks after police ranks
        row("6", name="Yanto", title="AKP"),
        row("5", name="Wawan", title="BRIPDA", jabatan="KANIT 1"),
        row("4", name="Wawan", title="BRIPDA", jabatan="KASAT"),
        row("3", name="budi", title="BRIPDA"),  # same name as 8 once upper-cased: the id decides
        row("2", name="Tono", title="KOMPOL", jabatan="KABAG OPS"),
    ]
    report = build_client_report(POLRES, DAY, AT, {"instagram": 2}, rows)
    assert [p.user_id for p in report.platforms[0].divisions[0].people] == ["2", "4", "5", "6", "3", "8", "9", "7"]


def test_no_username_and_exempt_are_listed_apart_but_counted() -> None:
    rows = [
        row("1", "complete", divisi="SAT BINMAS"),
        row("2", "partial", done=1, divisi="SAT BINMAS"),
        row("3", "none", done=0, divisi="BAG OPS"),
        row("4", "no_username", done=0, divisi="SAT BINMAS", name="Eka"),
        row("5", "exempt", done=0, divisi="BAG OPS", jabatan="KABAG OPS"),
        row("6", "no_username", done=0, divisi="BAG OPS", name="Zul"),
    ]
    recap = build_client_report(POLRES, DAY, AT, {"instagram": 2}, rows).platforms[0]
    listed = [p.user_id for d in recap.divisions for p in d.people]
    assert listed == ["3", "1", "2"]
    assert [p.user_id for p in recap.no_username] == ["6", "4"]  # BAG before SAT
    assert [p.user_id for p in recap.exempt] == ["5"]
    assert recap.counts.model_dump() == {"complete": 1, "partial": 1, "none": 1, "no_username": 2, "exempt": 1,
                                         "people": 6, "completed": 2, "completion_percent": 33.3}
    bag_ops = recap.divisions[0]
    assert (bag_ops.division, bag_ops.counts.people, bag_ops.counts.exempt) == ("BAG OPS", 3, 1)


def test_platforms_are_separate_sections() -> None:
    rows = [row("1", platform="instagram"), row("1", "none", done=0, total=1, platform="tiktok"),
            row("2", "partial", done=1, total=3, platform="tiktok")]
    report = build_client_report(POLRES, DAY, AT, {"instagram": 2, "tiktok": 3}, rows)
    instagram, tiktok = report.platforms
    assert (instagram.platform, instagram.activity, instagram.post_count) == (Platform.INSTAGRAM, "likes", 2)
    assert (tiktok.platform, tiktok.activity, tiktok.post_count) == (Platform.TIKTOK, "comments", 3)
    assert instagram.counts.complete == 1 and instagram.counts.people == 1
    assert (tiktok.counts.none, tiktok.counts.partial) == (1, 1)


def test_a_platform_without_posts_lists_nobody_even_with_leftover_rows() -> None:
    report = build_client_report(POLRES, DAY, AT, {"tiktok": 1}, [row("1"), row("2", platform="tiktok", total=1)])
    instagram, tiktok = report.platforms
    assert instagram.post_count == 0
    assert instagram.divisions == [] and instagram.counts.people == 0 and instagram.counts.completion_percent == 0
    assert tiktok.counts.people == 1


def test_client_json_holds_every_person_with_status_done_and_total() -> None:
    rows = [row("1"), row("2", "partial", done=1), row("3", "no_username", done=0), row("4", "exempt", done=0)]
    data = build_client_report(POLRES, DAY, AT, {"instagram": 2}, rows).model_dump(mode="json")
    people = [p for d in data["platforms"][0]["divisions"] for p in d["people"]]
    people += data["platforms"][0]["no_username"] + data["platforms"][0]["exempt"]
    assert sorted((p["user_id"], p["status"], p["done"], p["total"]) for p in people) == [
        ("1", "complete", 2, 2), ("2", "partial", 1, 2), ("3", "no_username", 0, 2), ("4", "exempt", 0, 2)]
    assert data["kind"] == ReportKind.CLIENT.value
    assert data["generated_at"] == "2026-11-22T07:05:00Z"  # instants are UTC on the wire
    assert data["client"] == {"client_id": "POLRES_A", "name": "Polres Alpha", "client_type": "ORG"}


# -- directorate recap ------------------------------------------------------------------------------------


def counts(platform: str, client_id: str, name: str | None, **statuses: int) -> list[CountRow]:
    return [CountRow(platform, client_id, name, status, n) for status, n in statuses.items()]


def test_directorate_groups_by_home_client_ordered_by_completion_then_name() -> None:
    rows = (counts("instagram", "POLRES_B", "Polres Bravo", complete=3, none=1)          # 75 %
            + counts("instagram", "POLRES_A", "Polres Alpha", complete=1, partial=1)     # 50 %
            + counts("instagram", "POLRES_C", "polres charlie", complete=2, exempt=1, none=1)  # 75 %, name case
            + counts("instagram", "POLRES_Z", None, no_username=2)                       # 0 %, unknown name
            + counts("instagram", "DITBINMAS", "Direktorat Binmas", complete=1)          # 100 %
            + counts("tiktok", "POLRES_A", "Polres Alpha", none=4))
    report = build_directorate_report(DIREKTORAT, DAY, AT, {"instagram": 20, "tiktok": 5}, rows)
    instagram, tiktok = report.platforms
    assert [(c.client_id, c.counts.completion_percent) for c in instagram.clients] == [
        ("DITBINMAS", 100.0), ("POLRES_B", 75.0), ("POLRES_C", 75.0), ("POLRES_A", 50.0), ("POLRES_Z", 0.0)]
    assert instagram.clients[-1].name == "POLRES_Z"
    assert instagram.clients[2].counts.completed == 3  # exempt counts as complete
    assert instagram.counts.people == 4 + 2 + 4 + 2 + 1 and instagram.counts.exempt == 1
    assert [(c.client_id, c.counts.none) for c in tiktok.clients] == [("POLRES_A", 4)]


def test_directorate_ties_on_completion_are_broken_by_name() -> None:
    rows = (counts("instagram", "POLRES_2", "Bravo", complete=1, none=1)
            + counts("instagram", "POLRES_1", "Charlie", complete=2, none=2)
            + counts("instagram", "POLRES_3", "Alpha", complete=3, none=3))
    report = build_directorate_report(DIREKTORAT, DAY, AT, {"instagram": 2}, rows)
    # 3 of 6, 2 of 4 and 1 of 2 are all 50 %: alphabetical, whatever the sizes or the order of the rows
    assert [c.name for c in report.platforms[0].clients] == ["Alpha", "Bravo", "Charlie"]


def test_directorate_platform_without_posts_is_empty() -> None:
    report = build_directorate_report(DIREKTORAT, DAY, AT, {"instagram": 1},
                                      counts("tiktok", "POLRES_A", "Polres Alpha", none=3))
    assert report.platforms[1].post_count == 0 and report.platforms[1].clients == []
    assert report.platforms[0].clients == []


# -- per-post recap ---------------------------------------------------------------------------------------


def test_post_recap_counts_engagement_per_post_and_lists_who_did_not() -> None:
    rows = [
        row("1", divisi="SAT BINMAS"), row("2", "partial", done=1, divisi="BAG OPS"),
        row("3", "none", done=0, divisi="SAT BINMAS", jabatan="KASAT BINMAS"),
        row("4", "exempt", done=0, divisi="BAG OPS"), row("5", "no_username", done=0, divisi=None),
        row("1", total=1, platform="tiktok"),
    ]
    posts = [post("P1"), post("P2", hour=10), post("T1", "tiktok")]
    engaged = [("instagram", "P1", "1"), ("instagram", "P1", "2"), ("instagram", "P2", "1"),
               ("instagram", "P2", "4"), ("tiktok", "T1", "1")]
    report = build_post_report(POLRES, DAY, AT, posts, rows, engaged)
    instagram, tiktok = report.platforms
    assert (instagram.people, instagram.exempt) == (5, 1)
    p1, p2 = instagram.posts
    assert (p1.post_id, p1.expected, p1.engaged) == ("P1", 4, 2)
    assert [(d.division, [p.user_id for p in d.people]) for d in p1.not_engaged] == [
        ("SAT BINMAS", ["3"]), (None, ["5"])]
    assert (p2.engaged, [[p.user_id for p in d.people] for d in p2.not_engaged]) == (1, [["2"], ["3"], ["5"]])
    assert p1.platform_count == 1200
    assert tiktok.posts[0].platform_count == 30 and tiktok.posts[0].engaged == 1


def test_post_recap_without_posts_is_empty_per_platform() -> None:
    report = build_post_report(POLRES, DAY, AT, [post("T1", "tiktok")], [row("1", total=1, platform="tiktok")],
                               [])
    assert report.platforms[0].posts == [] and report.platforms[0].people == 0
    assert report.platforms[1].posts[0].engaged == 0 and report.platforms[1].posts[0].expected == 1


# -- person report ----------------------------------------------------------------------------------------


def person(**changes: object) -> PersonInfo:
    fields: dict[str, object] = dict(user_id="1001", name="Budi", title="AKP", divisi="BAG OPS", jabatan="KABAG OPS",
                                     client_id="POLRES_A", roles=("ditbinmas",), active=True, exempt=False,
                                     instagram="budi", tiktok=None)
    return PersonInfo(**(fields | changes))  # type: ignore[arg-type]


def test_person_report_shows_each_scope_home_first_with_pending_links() -> None:
    posts = [post("A1"), post("A2", hour=9), post("D1", client_id="DITBINMAS"), post("D2", client_id="DITBINMAS"),
             post("T1", "tiktok")]
    rows = [PersonScopeRow("POLRES_A", "instagram", "partial", 1, 2),
            PersonScopeRow("DITBINMAS", "instagram", "complete", 1, 2),
            PersonScopeRow("POLRES_A", "tiktok", "no_username", 0, 1)]
    report = build_person_report(POLRES, DAY, AT, person(), [DIREKTORAT, POLRES], posts, rows,
                                 [("instagram", "A1"), ("instagram", "D2")])
    summary = [(s.scope.client_id, s.platform.value, s.status, s.done, s.total, [p.post_id for p in s.pending])
               for s in report.scopes]
    assert summary == [
        ("POLRES_A", "instagram", AttendanceStatus.PARTIAL, 1, 2, ["A2"]),
        ("POLRES_A", "tiktok", AttendanceStatus.NO_USERNAME, 0, 1, ["T1"]),
        ("DITBINMAS", "instagram", AttendanceStatus.COMPLETE, 1, 2, ["D1"]),
        ("DITBINMAS", "tiktok", None, 0, 0, []),
    ]
    assert report.person.user_id == "1001" and report.client.client_id == "POLRES_A"


def test_person_report_without_a_row_yet_has_no_status_but_pending_links() -> None:
    report = build_person_report(POLRES, DAY, AT, person(roles=()), [POLRES], [post("A1")], [], [])
    assert (report.scopes[0].status, report.scopes[0].total, len(report.scopes[0].pending)) == (None, 1, 1)


@pytest.mark.parametrize("changes", [{"active": False}, {"exempt": True}])
def test_inactive_or_exempt_people_have_nothing_pending(changes: dict[str, object]) -> None:
    report = build_person_report(POLRES, DAY, AT, person(**changes), [POLRES], [post("A1")], [], [])
    assert report.scopes[0].pending == []


def test_a_person_outside_the_client_is_an_error() -> None:
    with pytest.raises(PersonNotInClient, match="1001 is neither personnel of DITBINMAS nor holds its role"):
        build_person_report(DIREKTORAT, DAY, AT, person(roles=()), [POLRES], [], [], [])
