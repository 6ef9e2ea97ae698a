"""The pure parts of the projection: folding events into writes, and a scope member's row."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from cicero_attendance.folding import fold
from cicero_attendance.journal import JournalEntry
from cicero_attendance.status_calc import Change, Person, Ratios, Row, desired_row, diff_rows, is_member
from cicero_contracts import Event
from cicero_contracts.events.attendance import AttendanceStatus as S
from cicero_contracts.events.common import Platform
from cicero_contracts.events.directory import (
    ClientDeactivated,
    ClientRegistered,
    ClientType,
    PersonnelDeactivated,
    PersonnelRegistered,
)
from cicero_contracts.events.ingest import EngagementRefreshed, PostFetched, PostRemoved

T0 = datetime(2026, 3, 10, 1, 0, tzinfo=UTC)


def entries(*events: Event) -> list[JournalEntry]:
    return [JournalEntry(uuid.uuid4(), T0 + timedelta(minutes=n), e) for n, e in enumerate(events)]


def fetched(post_id: str = "p1", likes: int = 1, caption: str = "c") -> PostFetched:
    return PostFetched(platform=Platform.INSTAGRAM, post_id=post_id, client_id="A", account_username="a",
                       link="https://x.invalid/p", caption=caption, created_at=T0, like_count=likes, comment_count=0)


def removed(post_id: str = "p1") -> PostRemoved:
    return PostRemoved(platform=Platform.INSTAGRAM, post_id=post_id, client_id="A", removed_at=T0 + timedelta(hours=1))


def refreshed(*names: str, likes: int = 5, kind: str = "likes", post_id: str = "p1") -> EngagementRefreshed:
    return EngagementRefreshed(platform=Platform.INSTAGRAM, post_id=post_id, client_id="A", kind=kind,  # type: ignore[arg-type]
                               added_usernames=list(names), engaged_total=len(names), like_count=likes,
                               comment_count=0, refreshed_at=T0 + timedelta(minutes=30))


def test_a_fetched_post_gets_its_wib_day_and_the_last_counts() -> None:
    writes = fold(entries(fetched(likes=1), refreshed("a", likes=7)))
    row = writes.posts[("instagram", "p1")]
    assert (row.wib_date, row.like_count, row.removed_at) == (date(2026, 3, 10), 7, None)
    assert writes.post_patches == {}


def test_removed_then_fetched_again_is_present_and_fetched_then_removed_is_removed() -> None:
    assert fold(entries(removed(), fetched())).posts[("instagram", "p1")].removed_at is None
    assert fold(entries(fetched(), removed())).posts[("instagram", "p1")].removed_at == T0 + timedelta(hours=1)


def test_a_second_fetch_in_one_run_keeps_the_first_fetch_fields_but_takes_the_new_caption() -> None:
    second = fetched(caption="edited").model_copy(update={"created_at": T0 + timedelta(days=1)})
    row = fold(entries(fetched(), second)).posts[("instagram", "p1")]
    assert (row.published_at, row.caption) == (T0, "edited")


def test_events_about_a_stored_post_become_patches() -> None:
    writes = fold(entries(refreshed("a", likes=9), removed()))
    assert writes.posts == {}
    patch = writes.post_patches[("instagram", "p1")]
    assert (patch.counts, patch.removed_at) == ((9, 0), T0 + timedelta(hours=1))


def test_engagements_are_normalised_first_seen_wins_and_only_counted_kinds_mark_the_post() -> None:
    writes = fold(entries(refreshed(" @Budi ", "budi"), refreshed("budi", "", "ani")))
    assert writes.engagements == {("instagram", "p1", "likes", "budi"): T0 + timedelta(minutes=30),
                                  ("instagram", "p1", "likes", "ani"): T0 + timedelta(minutes=30)}
    assert writes.engagement_events == {("instagram", "p1"): 1}
    comments = fold(entries(refreshed("ani", kind="comments")))
    assert comments.engagements and comments.engagement_events == {}  # Instagram comments are kept, not counted


def test_directory_snapshots_replace_and_a_later_deactivation_folds_into_them() -> None:
    person = PersonnelRegistered(user_id="1", name="Budi", client_id="AA")
    writes = fold(entries(person, PersonnelDeactivated(user_id="1", client_id="AA"),
                          ClientDeactivated(client_id="BB")))
    stored = writes.personnel["1"]
    assert stored.snapshot is not None and stored.snapshot["active"] is False
    assert stored.updated_at == T0 + timedelta(minutes=1)
    assert writes.clients["BB"].deactivate and writes.clients["BB"].snapshot is None
    registered = ClientRegistered(client_id="CC", name="C", client_type=ClientType.DIREKTORAT)
    client = fold(entries(registered)).clients["CC"]
    assert client.snapshot is not None and client.snapshot["client_type"] == "DIREKTORAT"


PERSON = Person("1", "POLRES_A", ("ditbinmas",), "budi", None, True, False)


@pytest.mark.parametrize(("scope", "directorate", "expected"), [
    ("POLRES_A", False, True),      # home client
    ("DITBINMAS", True, True),      # holds the directorate's role
    ("DITBINMAS", False, False),    # the same id but not a directorate: the role means nothing
    ("DITSAMAPTA", True, False),    # another directorate
])
def test_scope_membership(scope: str, directorate: bool, expected: bool) -> None:
    assert is_member(PERSON, scope, directorate) is expected
    assert not is_member(Person("1", "POLRES_A", (), "b", None, False, False), "POLRES_A", False)


@pytest.mark.parametrize(("has_handle", "exempt", "engaged", "ratio", "expected"), [
    (True, False, {"p1", "p2", "p3", "p4"}, 1.0, Row(S.COMPLETE, 4, 4)),
    (True, False, {"p1", "p2", "p3"}, 1.0, Row(S.PARTIAL, 3, 4)),     # ORG: every post
    (True, False, {"p1", "p2"}, 0.5, Row(S.COMPLETE, 2, 4)),          # directorate: half
    (True, False, {"p1"}, 0.5, Row(S.PARTIAL, 1, 4)),
    (True, False, {"other"}, 1.0, Row(S.NONE, 0, 4)),                 # engagement elsewhere does not count
    (False, False, {"p1"}, 1.0, Row(S.NO_USERNAME, 0, 4)),
    (True, True, set(), 1.0, Row(S.EXEMPT, 0, 4)),
])
def test_desired_row(has_handle: bool, exempt: bool, engaged: set[str], ratio: float, expected: Row) -> None:
    assert desired_row(has_handle, exempt, ["p1", "p2", "p3", "p4"], engaged, ratio) == expected


def test_ratios_pick_by_scope_type() -> None:
    assert (Ratios().for_scope(False), Ratios().for_scope(True)) == (1.0, 0.5)
    assert Ratios(org=0.8, directorate=0.3).for_scope(True) == 0.3


def test_diff_reports_every_row_change_including_progress_within_a_status() -> None:
    day = date(2026, 3, 10)
    a, b, c, d, e = (("S", day, "instagram", u) for u in "abcde")
    existing = {a: Row(S.NONE, 0, 2), b: Row(S.PARTIAL, 1, 3), c: Row(S.COMPLETE, 1, 1), e: Row(S.PARTIAL, 1, 2)}
    desired = {a: Row(S.PARTIAL, 1, 2), b: Row(S.PARTIAL, 2, 3), d: Row(S.NONE, 0, 2), e: Row(S.PARTIAL, 1, 2)}
    upserts, deletes, changes = diff_rows(existing, desired, [a, b, c, d, e], {a: ("p2",), b: ("p3",), e: ("p2",)})
    assert upserts == {a: desired[a], b: desired[b], d: desired[d]}
    assert deletes == [c]
    assert changes == [Change(a, existing[a], desired[a], ("p2",)), Change(b, existing[b], desired[b], ("p3",)),
                       Change(c, existing[c], None, ()), Change(d, None, desired[d], ())]


def test_diff_reports_unchanged_counts_with_pending_posts_in_a_retasked_group() -> None:
    """One task post went and another came: the counts can stay while the pending posts differ."""
    day = date(2026, 3, 10)
    a, b, c = (("S", day, "instagram", u) for u in "abc")
    other = ("T", day, "instagram", "a")
    rows = {a: Row(S.PARTIAL, 1, 2), b: Row(S.COMPLETE, 2, 2), c: Row(S.NO_USERNAME, 0, 2), other: Row(S.NONE, 0, 1)}
    pending = {a: ("p3",), b: (), c: ("p1", "p3"), other: ("q1",)}
    upserts, deletes, changes = diff_rows(rows, dict(rows), [a, b, c, other], pending, {("S", day, "instagram")})
    assert upserts == {} and deletes == []
    assert changes == [Change(a, rows[a], rows[a], ("p3",)), Change(c, rows[c], rows[c], ("p1", "p3"))]
    assert diff_rows(rows, dict(rows), [a, b, c, other], pending)[2] == []  # not retasked: nothing moved
