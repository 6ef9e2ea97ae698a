"""The task-notification decision (DOMAIN §5) as a pure function: every rule, no database, no bus."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from cicero_contracts.events.common import Platform, PostRef, TaskPost
from cicero_contracts.events.ingest import ClientFetchCompleted
from cicero_contracts.schema_files import load_example
from cicero_notifier.recipients import Chats, group_chats
from cicero_notifier.task_decision import (
    STATE_UNREADABLE,
    Client,
    Decision,
    Fetch,
    ListRequest,
    Outcome,
    StateAsRead,
    TaskState,
    change_key,
    decide,
    list_key,
)
from cicero_runtime.clock import WIB

G1 = "120363025550001111@g.us"
G2 = "120363025550002222@g.us"
DAY = date(2026, 3, 10)
CLIENT = Client("POLRES_A", "Polres A", (G1,))


def wib(hour: int, minute: int = 0, second: int = 0, day: date = DAY) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=WIB)


def post(platform: str, post_id: str, hour: int = 8, likes: int = 1200, comments: int = 4,
         caption: str = "Giat patroli dialogis") -> TaskPost:
    host = "instagram.com/p" if platform == "instagram" else "tiktok.com/@akun/video"
    return TaskPost(platform=Platform(platform), post_id=post_id, link=f"https://www.{host}/{post_id}/",
                    caption=caption, published_at=wib(hour, 15), like_count=likes, comment_count=comments)


def ref(p: TaskPost) -> PostRef:
    return PostRef(platform=p.platform, post_id=p.post_id, link=p.link)


IG_A = post("instagram", "igA", hour=8)
IG_B = post("instagram", "igB", hour=10)
TT_C = post("tiktok", "ttC", hour=9, likes=120, comments=8)
TODAY = (IG_A, TT_C)


def fetch(at: datetime, posts: tuple[TaskPost, ...] = TODAY, *, added: tuple[TaskPost | PostRef, ...] = (),
          removed: tuple[PostRef, ...] = (), mandatory: bool = False, day: date | None = None) -> Fetch:
    return Fetch(at=at, day=day or at.astimezone(WIB).date(), mandatory=mandatory, posts=posts,
                 added=tuple(ref(p) if isinstance(p, TaskPost) else p for p in added), removed=removed)


def baseline(*posts: TaskPost, day: date = DAY, **fields: object) -> TaskState:
    return TaskState(baseline_day=day, baseline=tuple(ref(p) for p in posts), **fields)  # type: ignore[arg-type]


def purposes(decision: Decision) -> list[tuple[str, str]]:
    return [(m.purpose, m.group) for m in decision.messages]


# -- slots and the window -----------------------------------------------------------------------------
@pytest.mark.parametrize(("at", "slot", "lists"), [
    (wib(5, 59), "2026-03-10-05@05", False),   # before the window
    (wib(6, 0), "2026-03-10-05@05", True),     # the window is about the time; the slot still the 05@05 one
    (wib(6, 4), "2026-03-10-05@05", True),
    (wib(6, 5), "2026-03-10-06@05", True),
    (wib(12, 30), "2026-03-10-12@05", True),
    (wib(17, 5), "2026-03-10-17@05", True),
    (wib(17, 59, 59), "2026-03-10-17@05", True),
    (wib(18, 0), "2026-03-10-17@05", False),   # the 17@05 slot, but outside the window
    (wib(18, 5), "2026-03-10-18@05", False),
    (wib(23, 5), "2026-03-10-23@05", False),
    (wib(0, 0), "2026-03-09-23@05", False),    # 00:00–00:04 belongs to the previous day's 23@05
    (wib(0, 2), "2026-03-09-23@05", False),
    (wib(0, 4, 59), "2026-03-09-23@05", False),
    (wib(0, 5), "2026-03-10-00@05", False),
    (datetime(2026, 3, 10, 7, 5, tzinfo=UTC), "2026-03-10-14@05", True),  # UTC read on the WIB clock
    (datetime(2026, 3, 9, 17, 3, tzinfo=UTC), "2026-03-09-23@05", False),  # 00:03 WIB on the 10th
])
def test_slot_key_and_window_on_a_fresh_client(at: datetime, slot: str, lists: bool) -> None:
    decision = decide(fetch(at), CLIENT, TaskState())
    assert decision.slot == slot
    if lists:
        assert decision.outcome is Outcome.LIST
        assert [(m.purpose, m.idempotency_key, m.slot) for m in decision.messages] == [
            ("task_list", f"task:POLRES_A:{G1}:{slot}", slot)]
    else:
        assert decision.outcome is Outcome.NOTHING and decision.messages == ()


@pytest.mark.parametrize(("at", "last_slot", "due"), [
    (wib(14, 5), None, True),
    (wib(14, 5), "2026-03-10-13@05", True),
    (wib(14, 5), "2026-03-10-14@05", False),
    (wib(14, 30), "2026-03-10-14@05", False),
    (wib(15, 4), "2026-03-10-14@05", False),
    (wib(15, 5), "2026-03-10-14@05", True),
    (wib(14, 5, day=date(2026, 3, 11)), "2026-03-10-14@05", True),  # the same hour the next day
    (wib(6, 5), "2026-03-09-17@05", True),
    (wib(18, 3), "2026-03-10-16@05", False),  # slot 17@05 not notified, but 18:03 is outside the window
    (wib(19, 5), None, False),
])
def test_due_only_in_the_window_and_when_the_slot_was_not_notified(at: datetime, last_slot: str | None,
                                                                    due: bool) -> None:
    decision = decide(fetch(at), CLIENT, TaskState(last_notified_slot=last_slot))
    assert (decision.outcome is Outcome.LIST) is due
    assert [m.purpose for m in decision.messages] == (["task_list"] if due else [])


def test_a_due_slot_sends_the_list_even_without_changes() -> None:
    decision = decide(fetch(wib(9, 5)), CLIENT, baseline(*TODAY))
    assert (decision.added, decision.removed) == ((), ())
    (message,) = decision.messages
    assert message.purpose == "task_list" and message.slot == "2026-03-10-09@05"
    assert "Daftar Tugas Polres A" in message.text and "Perubahan" not in message.text


def test_the_same_slot_twice_sends_the_list_once() -> None:
    first = decide(fetch(wib(14, 5)), CLIENT, TaskState())
    assert first.outcome is Outcome.LIST
    # accepted: the slot is notified
    second = decide(fetch(wib(14, 30)), CLIENT, baseline(*TODAY, last_notified_slot="2026-03-10-14@05"))
    assert (second.outcome, second.messages) == (Outcome.NOTHING, ())
    # requested and not yet accepted: counts as notified too
    pending = baseline(*TODAY, list_requests=(ListRequest("2026-03-10-14@05", G1),))
    assert decide(fetch(wib(14, 30)), CLIENT, pending).messages == ()


def test_a_change_in_a_requested_slot_goes_out_as_a_change_message() -> None:
    """The list's key is the same, so the gateway would drop it: the change must not be lost with it."""
    pending = baseline(IG_A, list_requests=(ListRequest("2026-03-10-14@05", G1),))
    decision = decide(fetch(wib(14, 30), (IG_A, TT_C)), CLIENT, pending)
    assert decision.outcome is Outcome.CHANGES
    assert purposes(decision) == [("task_added", G1)]
    assert decision.added == (ref(TT_C),)
    assert decision.messages[0].slot is None
    assert decision.messages[0].idempotency_key.startswith(f"change:POLRES_A:{G1}:")


def test_requests_of_other_slots_do_not_count() -> None:
    other = baseline(*TODAY, list_requests=(ListRequest("2026-03-10-13@05", G1),))
    assert decide(fetch(wib(14, 5)), CLIENT, other).outcome is Outcome.LIST


def test_a_dead_lettered_list_leaves_the_slot_open_with_a_fresh_key() -> None:
    slot = "2026-03-10-14@05"
    once = baseline(*TODAY, list_requests=(ListRequest(slot, G1, dead=True),))
    (message,) = decide(fetch(wib(14, 30)), CLIENT, once).messages
    assert (message.purpose, message.idempotency_key) == ("task_list", f"task:POLRES_A:{G1}:{slot}:r1")
    twice = baseline(*TODAY, list_requests=(ListRequest(slot, G1, dead=True), ListRequest(slot, G1, dead=True)))
    assert decide(fetch(wib(14, 30)), CLIENT, twice).messages[0].idempotency_key.endswith(":r2")
    # another group never failed: it keeps the plain key
    both = Client("POLRES_A", "Polres A", (G1, G2))
    keys = [m.idempotency_key for m in decide(fetch(wib(14, 30)), both, once).messages]
    assert keys == [f"task:POLRES_A:{G1}:{slot}:r1", f"task:POLRES_A:{G2}:{slot}"]


def test_one_live_list_of_the_slot_keeps_it_taken_even_when_another_group_died() -> None:
    slot = "2026-03-10-14@05"
    state = baseline(*TODAY, list_requests=(ListRequest(slot, G1, dead=True), ListRequest(slot, G2)))
    decision = decide(fetch(wib(14, 30)), Client("POLRES_A", "Polres A", (G1, G2)), state)
    assert decision.outcome is Outcome.NOTHING and decision.messages == ()


# -- the mandatory run --------------------------------------------------------------------------------
def test_the_mandatory_1705_run_is_due_for_every_active_client() -> None:
    for state in (TaskState(), baseline(*TODAY, last_notified_slot="2026-03-10-16@05"), baseline(*TODAY)):
        decision = decide(fetch(wib(17, 5), mandatory=True), CLIENT, state)
        assert [(m.purpose, m.slot) for m in decision.messages] == [("task_list", "2026-03-10-17@05")]


def test_a_late_mandatory_run_outside_the_window_still_sends_the_list() -> None:
    decision = decide(fetch(wib(18, 20), mandatory=True), CLIENT, baseline(*TODAY))
    assert [(m.purpose, m.slot) for m in decision.messages] == [("task_list", "2026-03-10-18@05")]
    assert decide(fetch(wib(18, 20)), CLIENT, baseline(*TODAY)).messages == ()  # not mandatory: nothing


def test_a_mandatory_run_in_a_slot_already_listed_sends_only_the_changes() -> None:
    state = baseline(IG_A, last_notified_slot="2026-03-10-17@05")
    decision = decide(fetch(wib(17, 5), (IG_A, IG_B), mandatory=True), CLIENT, state)
    assert purposes(decision) == [("task_added", G1)]


def test_an_inactive_client_gets_nothing_and_no_state() -> None:
    decision = decide(fetch(wib(17, 5), added=(IG_A,), mandatory=True),
                      Client("POLRES_A", "Polres A", (G1,), active=False), TaskState())
    assert (decision.outcome, decision.messages, decision.state) == (Outcome.INACTIVE, (), None)


# -- notable changes ----------------------------------------------------------------------------------
def test_changes_in_the_window_in_a_notified_slot_send_change_messages() -> None:
    state = baseline(IG_A, TT_C, last_notified_slot="2026-03-10-10@05")
    decision = decide(fetch(wib(10, 30), (IG_A, IG_B)), CLIENT, state)
    assert decision.outcome is Outcome.CHANGES
    assert (decision.added, decision.removed) == ((ref(IG_B),), (ref(TT_C),))
    assert purposes(decision) == [("task_added", G1), ("task_removed", G1)]
    added, removed = (m.text for m in decision.messages)
    assert "Konten Baru Polres A" in added and IG_B.link in added and TT_C.link not in added
    assert "Konten Dihapus Polres A" in removed and TT_C.link in removed and IG_B.link not in removed
    assert "10:30 WIB" in added


def test_changes_outside_the_window_send_one_message_per_kind_of_change() -> None:
    decision = decide(fetch(wib(19, 5), (IG_A, IG_B)), Client("POLRES_A", "Polres A", (G1, G2)),
                      baseline(IG_A, TT_C))
    assert purposes(decision) == [("task_added", G1), ("task_added", G2), ("task_removed", G1),
                                  ("task_removed", G2)]
    assert len({m.idempotency_key for m in decision.messages}) == 4


def test_a_removal_outside_the_window_is_reported() -> None:
    decision = decide(fetch(wib(20, 0), (IG_A,)), CLIENT, baseline(IG_A, TT_C))
    (message,) = decision.messages
    assert message.purpose == "task_removed" and TT_C.link in message.text
    assert "tidak lagi menjadi tugas hari ini" in message.text


def test_the_baseline_wins_over_the_fetchs_own_changes() -> None:
    """Once the day has a baseline, the fetch's own changes are not needed (nor trusted twice)."""
    decision = decide(fetch(wib(19, 5), (IG_A, TT_C), added=(IG_A,)), CLIENT, baseline(IG_A, TT_C))
    assert (decision.outcome, decision.messages) == (Outcome.NOTHING, ())
    decision = decide(fetch(wib(19, 5), (IG_A, IG_B, TT_C)), CLIENT, baseline(IG_A, TT_C))
    assert decision.added == (ref(IG_B),)


def test_without_a_baseline_for_today_the_fetchs_own_changes_are_used() -> None:
    gone = PostRef(platform=Platform.TIKTOK, post_id="ttGone", link="https://www.tiktok.com/@akun/video/ttGone/")
    decision = decide(fetch(wib(19, 5), (IG_A,), added=(IG_A,), removed=(gone,)), CLIENT, TaskState())
    assert (decision.added, decision.removed) == ((ref(IG_A),), (gone,))
    assert purposes(decision) == [("task_added", G1), ("task_removed", G1)]


def test_the_day_rollover_resets_the_baseline() -> None:
    yesterday = date(2026, 3, 9)
    old = (post("instagram", "igOld1"), post("tiktok", "ttOld2"))
    state = baseline(*old, day=yesterday, last_notified_slot="2026-03-09-17@05",
                     last_fetched_at=wib(21, 30, day=yesterday))
    decision = decide(fetch(wib(6, 5), (IG_A,), added=(IG_A,)), CLIENT, state)
    assert (decision.added, decision.removed) == ((ref(IG_A),), ())  # yesterday's posts are not "removed"
    assert "Dihapus" not in decision.messages[0].text
    assert decision.state is not None
    assert (decision.state.baseline_day, decision.state.baseline) == (DAY, (ref(IG_A),))
    # the first fetch of the day without posts: nothing removed either
    empty = decide(fetch(wib(19, 5), ()), CLIENT, state)
    assert (empty.removed, empty.messages) == ((), ())


def test_the_list_carries_the_changes_found() -> None:
    (message,) = decide(fetch(wib(11, 5), (IG_A, IG_B)), CLIENT, baseline(IG_A, TT_C)).messages
    lines = message.text.splitlines()
    assert "Perubahan: 1 konten baru, 1 konten dihapus" in lines
    assert f"• Baru: [Instagram] {IG_B.link}" in lines
    assert f"• Dihapus: [TikTok] {TT_C.link}" in lines
    assert "Instagram: 2 konten hari ini" in lines and "TikTok: 0 konten hari ini" in lines


# -- state ----------------------------------------------------------------------------------------------
def test_counts_and_baseline_are_written_on_every_readable_decision() -> None:
    for at, state in ((wib(14, 5), TaskState()), (wib(19, 5), baseline(IG_A)),
                      (wib(14, 30), baseline(*TODAY, last_notified_slot="2026-03-10-14@05"))):
        decision = decide(fetch(at), CLIENT, state)
        assert decision.state is not None
        assert dict(decision.state.counts) == {"posts": 2, "instagram": 1, "tiktok": 1}
        assert decision.state.baseline == (ref(IG_A), ref(TT_C))
        assert all(type(r) is PostRef for r in decision.state.baseline)  # links only, no captions kept
        assert (decision.state.baseline_day, decision.state.fetched_at) == (DAY, at)


def test_a_state_read_failure_sends_only_changes_and_writes_nothing() -> None:
    gone = PostRef(platform=Platform.TIKTOK, post_id="ttGone", link="https://www.tiktok.com/@akun/video/ttGone/")
    decision = decide(fetch(wib(14, 5), added=(IG_A,), removed=(gone,), mandatory=True), CLIENT, STATE_UNREADABLE)
    assert decision.state is None
    assert purposes(decision) == [("task_added", G1), ("task_removed", G1)]  # due and mandatory: still no list
    quiet = decide(fetch(wib(14, 5)), CLIENT, STATE_UNREADABLE)
    assert (quiet.outcome, quiet.messages, quiet.state) == (Outcome.NOTHING, (), None)


def test_a_fetch_older_than_the_last_one_decided_changes_nothing() -> None:
    state = baseline(IG_A, IG_B, last_fetched_at=wib(15, 5))
    stale = decide(fetch(wib(14, 5), (IG_A,), added=(IG_A,)), CLIENT, state)
    assert (stale.outcome, stale.messages, stale.state) == (Outcome.STALE, (), None)
    same_time = decide(fetch(wib(15, 5), (IG_A, IG_B)), CLIENT, state)  # a redelivery of the same tick
    assert same_time.outcome is Outcome.LIST and same_time.state is not None


# -- recipients and keys ------------------------------------------------------------------------------
def test_no_groups_sends_nothing_but_keeps_the_state() -> None:
    decision = decide(fetch(wib(14, 5), added=(IG_A,)), Client("POLRES_A", "Polres A", ()), TaskState())
    assert decision.outcome is Outcome.LIST and decision.messages == ()
    assert decision.state is not None


def test_several_groups_each_get_the_same_text_under_their_own_key() -> None:
    decision = decide(fetch(wib(14, 5)), Client("POLRES_A", "Polres A", (G1, G2)), TaskState())
    assert [m.group for m in decision.messages] == [G1, G2]
    assert decision.messages[0].text == decision.messages[1].text
    assert [m.idempotency_key for m in decision.messages] == [f"task:POLRES_A:{G1}:2026-03-10-14@05",
                                                              f"task:POLRES_A:{G2}:2026-03-10-14@05"]


def test_invalid_groups_are_skipped_and_duplicates_merged() -> None:
    raw = (G1, "6281234567890@c.us", "120363025550001111", "bukan-grup",
           " https://chat.whatsapp.com/120363025550002222 ")
    assert group_chats(raw) == Chats((G1, G2), ("6281234567890@c.us", "bukan-grup"))
    decision = decide(fetch(wib(14, 5)), Client("POLRES_A", "Polres A", raw), TaskState())
    assert [m.group for m in decision.messages] == [G1, G2]
    assert decision.skipped_groups == ("6281234567890@c.us", "bukan-grup")


def test_idempotency_keys_are_stable_and_distinct() -> None:
    state = baseline(IG_A, TT_C)
    at = wib(19, 5)
    groups = Client("POLRES_A", "Polres A", (G1, G2))
    one = decide(fetch(at, (IG_A, IG_B)), groups, state)
    again = decide(fetch(at, (IG_A, IG_B)), groups, state)
    assert [m.idempotency_key for m in one.messages] == [m.idempotency_key for m in again.messages]
    later = decide(fetch(at + timedelta(minutes=25), (IG_A, IG_B)), groups, state)
    keys = [m.idempotency_key for d in (one, later) for m in d.messages]
    assert len(keys) == len(set(keys)) == 8  # per group, per kind, per fetch time (the text says when)
    # the same content to the same group is the same message, whichever decision found it
    same = decide(fetch(at, (IG_A, TT_C, IG_B)), groups, state)
    assert [m.idempotency_key for m in same.messages] == [m.idempotency_key for m in one.messages[:2]]
    lists = {m.idempotency_key for h in (9, 10) for m in decide(fetch(wib(h, 5)), groups, TaskState()).messages}
    assert len(lists) == 4
    assert list_key("POLRES_A", G1, "2026-03-10-14@05") == f"task:POLRES_A:{G1}:2026-03-10-14@05"
    assert list_key("POLRES_B", G1, "2026-03-10-14@05") != list_key("POLRES_A", G1, "2026-03-10-14@05")
    assert change_key("POLRES_A", G1, "x") == change_key("POLRES_A", G1, "x") != change_key("POLRES_A", G1, "y")
    assert change_key("POLRES_A", G1, "x") != change_key("POLRES_A", G2, "x")
    assert len(change_key("POLRES_A", G1, "x").rsplit(":", 1)[1]) == 24


def test_the_list_uses_the_indonesian_number_format() -> None:
    posts = (post("instagram", "igBig", likes=1234567, comments=1200), post("tiktok", "ttBig", likes=0,
                                                                            comments=25000))
    (message,) = decide(fetch(wib(14, 5), posts), CLIENT, TaskState()).messages
    assert "   Diunggah 08:15 WIB · 1.234.567 suka · 1.200 komentar" in message.text.splitlines()
    assert "   Diunggah 08:15 WIB · 0 suka · 25.000 komentar" in message.text.splitlines()


def test_the_example_event_decides_like_its_facts() -> None:
    event = ClientFetchCompleted.model_validate(load_example("ClientFetchCompleted", 1))
    facts = Fetch.of(event)
    assert (facts.at, facts.day, facts.mandatory) == (event.fetched_at, date(2026, 3, 10), False)
    assert facts.added == tuple(event.changes.added) and len(facts.posts) == 2
    state: StateAsRead = TaskState()
    decision = decide(facts, Client("POLRES_DEMO", "Polres Demo", (G1,)), state)
    assert [m.idempotency_key for m in decision.messages] == [f"task:POLRES_DEMO:{G1}:2026-03-10-14@05"]
    assert "Perubahan: 1 konten baru, 0 konten dihapus" in decision.messages[0].text
