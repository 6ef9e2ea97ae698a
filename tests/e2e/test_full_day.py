"""One WIB day of notifications through every service as separate processes (issue 5, acceptance #1).

The day of the e2e dataset (2026-03-10) is driven tick by tick with ``cicero-scheduler fire <schedule>
--at <time>`` from 06:05 to 22:00, in time order, against the RapidAPI simulator. Before chosen ticks the
test changes the simulated platform (posts added and removed, likes and comments added). After every fire
it waits until the system is quiet (``QuietProbe``), then compares the WhatsApp messages of that tick with
an oracle written here from DOMAIN §2–§6, independently of the services' code:

* groups: the scheduled task list per group at every due slot (HH:05 from 06 to 16 and the mandatory
  17:05 run), one message per kind of change (added / removed) at :30 ticks with changes, nothing on
  engagement-only ticks, recaps at recap ticks;
* personal chats: recaps to operators and super admins, reminders to opted-in personnel with their stage
  (initial → followup1, or the one-time thank-you), one run summary per fetch run to the admin.

The notifier is stopped after the 11:05 tick, the 11:30 tick is fetched while it is down, and it is started
again: the outcome must not change (nothing twice, nothing missing).
"""

from __future__ import annotations

import csv
import json
import re
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx
import pytest
import pytest_asyncio
from cicero_runtime.clock import WIB
from cicero_runtime.testing import wait_for

from .stack import REPO, QuietProbe, Stack, consumer_edges, running_stack

DAY = date(2026, 3, 10)
IG, TT = "instagram", "tiktok"
ADMIN = "6281100000099"
"""Hears the run summaries (log session)."""
DIRECTORATE_SUPER_ADMIN = "6281100000077"
OPS_PURPOSE = "ops_summary"
RECAP_PURPOSE = "recap"


def wib(hour: int, minute: int) -> datetime:
    return datetime(DAY.year, DAY.month, DAY.day, hour, minute, tzinfo=WIB)


def ig_link(code: str) -> str:
    return f"https://www.instagram.com/p/{code}/"


def tt_link(account: str, video_id: str) -> str:
    return f"https://www.tiktok.com/@{account}/video/{video_id}"


LINK = re.compile(r"https://www\.instagram\.com/p/[A-Za-z0-9_-]+/|https://www\.tiktok\.com/@[a-z0-9._]+/video/\d+")


def links_in(text: str) -> frozenset[str]:
    return frozenset(LINK.findall(text))


# --- the directory (examples/clients.csv + a directorate, examples/personnel.csv) ------------------------


@dataclass(frozen=True)
class Unit:
    client_id: str
    kind: str
    groups: tuple[str, ...] = ()
    operators: tuple[str, ...] = ()
    super_admins: tuple[str, ...] = ()
    accounts: tuple[tuple[str, str], ...] = ()
    """(platform, account) pairs fetched for this unit."""


@dataclass(frozen=True)
class Person:
    user_id: str
    client_id: str
    whatsapp: str | None
    instagram: str | None
    tiktok: str | None
    opt_in: bool
    active: bool = True
    exempt: bool = False

    def handle(self, platform: str) -> str | None:
        return self.instagram if platform == IG else self.tiktok


UNITS = (
    Unit("POLRES_DEMO", "ORG", ("120363025550001111@g.us",), ("6281234567890",), (),
         ((IG, "polres_demo"), (TT, "polres_demo_tt"))),
    Unit("POLRES_CONTOH", "ORG", ("120363025550002222@g.us",), ("6281298765432",), (),
         ((IG, "polres_contoh"), (TT, "polres_contoh_tt"))),
    Unit("DITBINMAS", "DIREKTORAT", super_admins=(DIRECTORATE_SUPER_ADMIN,)),
)
PEOPLE = (
    Person("85010001", "POLRES_DEMO", None, None, None, opt_in=False, exempt=True),
    Person("87020002", "POLRES_DEMO", "6281234560002", "agus_pratama", "agus_pratama", opt_in=True),
    Person("90030003", "POLRES_DEMO", "6281234560003", "bripka_andi", "bripka_andi", opt_in=True),
    Person("92040004", "POLRES_DEMO", "6281234560004", "siti.rahma", "siti.rahma", opt_in=True),
    Person("96050005", "POLRES_DEMO", "6281234560005", "budi.santoso", "budi.santoso", opt_in=False),
    Person("91060006", "POLRES_DEMO", "6281234560006", "rudi.hartono", None, opt_in=True),
    Person("89070007", "POLRES_DEMO", None, None, "wahyu_ngr", opt_in=False),
    Person("198501012010011008", "POLRES_DEMO", None, "rina.marlina", None, opt_in=False),
    Person("97100011", "POLRES_DEMO", None, None, None, opt_in=False, active=False),
    Person("95080009", "POLRES_CONTOH", "6281298760009", "dewi.lestari", "dewi.lestari", opt_in=True),
    Person("88090010", "POLRES_CONTOH", "6281298760010", "joko.susilo", None, opt_in=False),
)
UNIT_BY_ACCOUNT = {account: unit.client_id for unit in UNITS for _, account in unit.accounts}


def write_clients_csv(path: Path) -> Path:
    """examples/clients.csv plus a directorate with a super admin, so directorate recaps have a recipient."""
    with (REPO / "examples/clients.csv").open(encoding="utf-8", newline="") as source:
        reader = csv.DictReader(source)
        fields, rows = list(reader.fieldnames or []), list(reader)
    rows.append({"client_id": "DITBINMAS", "name": "Direktorat Binmas", "client_type": "DIREKTORAT", "active": "ya",
                 "super_admin_numbers": "081100000077", "region": "Jawa Timur"})
    with path.open("w", encoding="utf-8", newline="") as target:
        writer = csv.DictWriter(target, fieldnames=fields, restval="")
        writer.writeheader()
        writer.writerows(rows)
    return path


# --- the schedule of the day (DOMAIN §2) --------------------------------------------------------------


@dataclass(frozen=True)
class Tick:
    schedule: str
    at: datetime

    @property
    def phase(self) -> str:
        return {"post-fetch": "post_fetch", "mandatory-post-fetch": "post_fetch",
                "engagement-only": "engagement_only", "engagement-recap": "engagement_recap",
                "reminders": "reminder"}[self.schedule]

    @property
    def mandatory(self) -> bool:
        return self.schedule == "mandatory-post-fetch"

    @property
    def tick_id(self) -> str:
        return f"{self.schedule}:{self.at.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}"

    def __str__(self) -> str:
        return f"{self.schedule} {self.at:%H:%M}"


FETCH_FIRST = {"post-fetch": 0, "mandatory-post-fetch": 0, "engagement-only": 0, "engagement-recap": 1,
               "reminders": 1}
"""At the same minute the fetch runs before the recap or reminder that reports on it."""


def day_ticks() -> list[Tick]:
    """Every fetch, recap and reminder tick from 06:05 to 22:00 (the 22:05 daily report is not part of it)."""
    ticks = [Tick("post-fetch", wib(h, m)) for h in range(6, 17) for m in (5, 30)]
    ticks.append(Tick("mandatory-post-fetch", wib(17, 5)))
    ticks += [Tick("engagement-only", wib(h, 30)) for h in range(17, 22)]
    ticks += [Tick("engagement-only", wib(h, 0)) for h in range(18, 23)]
    ticks += [Tick("engagement-recap", wib(h, 5)) for h in (15, 18, 20)]
    ticks += [Tick("reminders", wib(17, 5)), Tick("reminders", wib(17, 35))]
    return sorted(ticks, key=lambda t: (t.at, FETCH_FIRST[t.schedule]))


def slot_key(instant: datetime) -> str:
    local = instant.astimezone(WIB)
    if local.minute < 5:
        local -= timedelta(hours=1)
    return f"{local:%Y-%m-%d-%H}@05"


def in_hourly_window(instant: datetime) -> bool:
    return 6 <= instant.astimezone(WIB).hour <= 17


# --- the simulated platform, as the test changes it ----------------------------------------------------


@dataclass
class LivePost:
    client_id: str
    platform: str
    link: str
    engaged: set[str] = field(default_factory=set)
    """Likers (Instagram) or commenters (TikTok) the platform lists now."""


@dataclass
class World:
    """Today's posts on the simulated accounts and who engaged with them; every change goes to both the
    simulator (over its control API) and this model, so the oracle reads the same world ingest fetches."""

    posts: dict[str, LivePost]
    sim: httpx.AsyncClient | None = None

    @classmethod
    def from_dataset(cls, path: Path) -> World:
        data = json.loads(path.read_text(encoding="utf-8"))
        posts: dict[str, LivePost] = {}
        for account in data.get("instagram", []):
            for post in account["posts"]:
                if datetime.fromisoformat(post["taken_at"]).astimezone(WIB).date() == DAY:
                    link = ig_link(post["code"])
                    posts[link] = LivePost(UNIT_BY_ACCOUNT[account["username"]], IG, link,
                                           {h.lower() for h in post.get("likers", [])})
        for account in data.get("tiktok", []):
            for video in account["videos"]:
                if datetime.fromisoformat(video["createTime"]).astimezone(WIB).date() == DAY:
                    link = tt_link(account["uniqueId"], video["id"])
                    posts[link] = LivePost(UNIT_BY_ACCOUNT[account["uniqueId"]], TT, link,
                                           {c["unique_id"].lower() for c in video.get("comments", [])})
        return cls(posts)

    async def _call(self, method: str, path: str, body: object = None) -> None:
        assert self.sim is not None
        response = await self.sim.request(method, f"/_sim{path}", json=body)
        assert response.status_code < 300, f"simulator {method} {path}: {response.status_code} {response.text}"

    async def add_ig_post(self, account: str, code: str, hhmm: str, likers: list[str]) -> None:
        await self._call("POST", f"/instagram/accounts/{account}/posts",
                         {"code": code, "taken_at": f"{DAY.isoformat()}T{hhmm}:00+07:00",
                          "caption": f"Kegiatan {code} #polri", "likers": likers})
        self.posts[ig_link(code)] = LivePost(UNIT_BY_ACCOUNT[account], IG, ig_link(code), set(likers))

    async def remove_ig_post(self, code: str) -> None:
        await self._call("DELETE", f"/instagram/posts/{code}")
        del self.posts[ig_link(code)]

    async def like(self, code: str, *handles: str) -> None:
        await self._call("POST", f"/instagram/posts/{code}/likers", {"likers": list(handles)})
        self.posts[ig_link(code)].engaged.update(handles)

    async def add_tt_video(self, account: str, video_id: str, hhmm: str, commenters: list[str]) -> None:
        await self._call("POST", f"/tiktok/accounts/{account}/videos",
                         {"id": video_id, "createTime": f"{DAY.isoformat()}T{hhmm}:00+07:00",
                          "desc": f"Video {video_id} #polri",
                          "comments": [{"unique_id": h, "text": "Siap", "create_time": f"{DAY}T{hhmm}:00+07:00"}
                                       for h in commenters]})
        self.posts[tt_link(account, video_id)] = LivePost(UNIT_BY_ACCOUNT[account], TT, tt_link(account, video_id),
                                                          set(commenters))

    async def comment(self, account: str, video_id: str, *handles: str) -> None:
        await self._call("POST", f"/tiktok/videos/{video_id}/comments", {"comments": list(handles)})
        self.posts[tt_link(account, video_id)].engaged.update(handles)


N1, N2 = "C9demo0940n", "C9ctoh1420n"
"""Instagram posts added during the day (Polres Demo at 09:40, Polres Contoh at 14:20)."""
V2, V3 = "7350000000000000102", "7350000000000000004"
"""TikTok videos added during the day (Polres Contoh at 11:20; Polres Demo at 17:20, after the last post fetch)."""
DEMO_TT, CONTOH_TT = "polres_demo_tt", "polres_contoh_tt"

Change = Callable[[World], Awaitable[None]]
CHANGES: dict[datetime, list[Change]] = {
    # a post at 09:40: the 10:05 tick is a due slot, so it arrives inside the scheduled list
    wib(10, 5): [lambda w: w.add_ig_post("polres_demo", N1, "09:40", ["budi.santoso"])],
    # a video before a :30 tick: a change message outside a due slot (fetched while the notifier is down)
    wib(11, 30): [lambda w: w.add_tt_video(CONTOH_TT, V2, "11:20", ["dewi.lestari"])],
    # Agus completes everything (he gets the thank-you at 17:05)
    wib(12, 5): [lambda w: w.like(N1, "agus_pratama"),
                 lambda w: w.comment(DEMO_TT, "7350000000000000003", "agus_pratama")],
    # a cron_fetch post removed before a :30 tick: a removal message
    wib(13, 30): [lambda w: w.remove_ig_post("C9demo1040b")],
    # both kinds at one :30 tick: two messages
    wib(14, 30): [lambda w: w.add_ig_post("polres_contoh", N2, "14:20", ["dewi.lestari"]),
                  lambda w: w.remove_ig_post("C9ctoh0930a")],
    # Dewi completes everything before the reminders
    wib(16, 5): [lambda w: w.like("C9ctoh1145b", "dewi.lestari"),
                 lambda w: w.comment(CONTOH_TT, "7350000000000000101", "dewi.lestari")],
    # Siti completes after the first reminder (thank-you at 17:35); a video that no post fetch will see
    wib(17, 30): [lambda w: w.like(N1, "siti.rahma"),
                  lambda w: w.comment(DEMO_TT, "7350000000000000003", "siti.rahma"),
                  lambda w: w.add_tt_video(DEMO_TT, V3, "17:20", [])],
}


# --- the oracle: what the rules say must be sent -------------------------------------------------------


@dataclass(frozen=True)
class Message:
    """A WhatsApp message reduced to what the rules decide: recipient, session, purpose and tag (the slot of
    a task list, the stage of a reminder, the run of a summary), plus the post links its text must list."""

    chat_id: str
    session: str
    purpose: str
    tag: str | None = None
    links: frozenset[str] | None = field(default=None, compare=False)

    @property
    def key(self) -> tuple[str, str, str, str | None]:
        return (self.chat_id, self.session, self.purpose, self.tag)


def personal(number: str) -> str:
    return f"{number}@c.us"


NEXT_STAGE = {None: "initial", "initial": "followup1", "followup1": "followup2"}


@dataclass
class Oracle:
    """DOMAIN §3 and §5 replayed on the test's model of the world."""

    world: World
    known: dict[str, set[str]] = field(default_factory=dict)
    """Per client: today's posts as of its last post fetch (the task list)."""
    seen: dict[str, set[str]] = field(default_factory=dict)
    """Per post: usernames seen engaged so far (cumulative over the day)."""
    last_slot: dict[str, str] = field(default_factory=dict)
    stage: dict[str, str] = field(default_factory=dict)

    def expect(self, tick: Tick) -> list[Message]:
        if tick.phase in ("post_fetch", "engagement_only"):
            messages = [m for unit in UNITS for m in self._fetch(tick, unit)]
            return [*messages, Message(personal(ADMIN), "log", OPS_PURPOSE, tick.tick_id)]
        if tick.phase == "engagement_recap":
            return [m for unit in UNITS for m in self._recap(unit)]
        if tick.phase == "reminder":
            return [m for person in PEOPLE for m in self._remind(tick, person)]
        raise AssertionError(f"no rule for {tick}")

    def _fetch(self, tick: Tick, unit: Unit) -> list[Message]:
        before = self.known.get(unit.client_id, set())
        if tick.phase == "post_fetch":
            current = {link for link, p in self.world.posts.items() if p.client_id == unit.client_id}
            self.known[unit.client_id] = current
        else:
            current = before  # engagement only: posts are not fetched, likes and comments are
        for link in current:
            self.seen.setdefault(link, set()).update(self.world.posts[link].engaged)
        if tick.phase != "post_fetch":
            return []
        slot = slot_key(tick.at)
        due = tick.mandatory or (in_hourly_window(tick.at) and self.last_slot.get(unit.client_id) != slot)
        if due:
            if unit.groups:
                self.last_slot[unit.client_id] = slot
            return [Message(g, "broadcast", "task_list", slot, frozenset(current)) for g in unit.groups]
        added, removed = current - before, before - current
        return [Message(g, "broadcast", purpose, None, frozenset(links))
                for purpose, links in (("task_added", added), ("task_removed", removed)) if links
                for g in unit.groups]

    def _recap(self, unit: Unit) -> list[Message]:
        if unit.kind == "DIREKTORAT":
            return [Message(personal(n), "operator", RECAP_PURPOSE) for n in unit.super_admins]
        return ([Message(g, "broadcast", RECAP_PURPOSE) for g in unit.groups]
                + [Message(personal(n), "operator", RECAP_PURPOSE) for n in (*unit.operators, *unit.super_admins)])

    def _remind(self, tick: Tick, person: Person) -> list[Message]:
        if not (person.active and person.opt_in and not person.exempt and person.whatsapp):
            return []
        tasks = self.known.get(person.client_id, set())
        if not tasks:
            return []
        complete, pending = True, set()
        for platform in (IG, TT):
            links = {link for link in tasks if self.world.posts[link].platform == platform}
            if not links:
                continue
            handle = person.handle(platform)
            if handle is None:
                complete = False  # no_username: named in the text, no links to list
                continue
            missing = {link for link in links if handle not in self.seen.get(link, set())}
            complete = complete and not missing
            pending |= missing
        stage = self.stage.get(person.user_id)
        if stage in ("completed", "followup2"):
            return []
        if complete:
            self.stage[person.user_id] = "completed"
            return [Message(personal(person.whatsapp), "operator", "reminder_thanks", "completed")]
        self.stage[person.user_id] = NEXT_STAGE[stage]
        return [Message(personal(person.whatsapp), "operator", "reminder", NEXT_STAGE[stage], frozenset(pending))]


# --- what was sent ------------------------------------------------------------------------------------

SLOT = re.compile(r"\d{4}-\d{2}-\d{2}-\d{2}@05")
STAGE = re.compile(r"(initial|followup1|followup2|completed)$")


def observed(line: dict[str, str], purpose: str, tick: Tick) -> Message:
    """A line of the WhatsApp file as the oracle sees messages; the purpose comes from the gateway outbox."""
    key = line["idempotency_key"]
    tag: str | None = None
    if purpose == "task_list":
        found = SLOT.search(key)
        tag = found.group(0) if found else f"no slot in {key}"
    elif purpose.startswith("reminder"):
        found = STAGE.search(key)
        tag = found.group(1) if found else f"no stage in {key}"
    elif line["session"] == "log":
        tag = tick.tick_id if tick.tick_id in key else f"run not in {key}"
    return Message(line["chat_id"], line["session"], purpose, tag, links_in(line["text"]))


def compare(tick: Tick, expected: list[Message], seen: list[Message], texts: dict[Message, str]) -> list[str]:
    """Differences between the oracle and what was sent at one tick, in words a reader can route."""
    problems: list[str] = []
    want, got = Counter(m.key for m in expected), Counter(m.key for m in seen)
    for key, count in sorted((want - got).items(), key=str):
        problems.append(f"{tick}: missing {count}× {key}")
    for key, count in sorted((got - want).items(), key=str):
        problems.append(f"{tick}: unexpected {count}× {key}")
    by_key = {m.key: m for m in seen}
    for message in expected:
        sent = by_key.get(message.key)
        if sent is None or message.links is None or sent.links == message.links:
            continue
        problems.append(f"{tick}: {message.key} lists {sorted(sent.links or ())}, expected "
                        f"{sorted(message.links)}")
    for message in seen:
        text = texts[message]
        if message.purpose in ("task_list", "task_added", "task_removed", RECAP_PURPOSE) \
                and not text.startswith("Mohon ijin Komandan,"):
            problems.append(f"{tick}: {message.key} does not open with 'Mohon ijin Komandan,': {text[:80]!r}")
    return problems


# --- the test -----------------------------------------------------------------------------------------


@pytest_asyncio.fixture
async def stack(tmp_path: Path, amqp_url: str) -> AsyncIterator[Stack]:
    env = {
        "RETRY_DELAY_MS": "200",
        "RELAY_POLL_INTERVAL_S": "0.2",
        "ADMIN_WHATSAPP_NUMBERS": json.dumps([ADMIN]),
        "WA_RETRY_BASE_S": "0.2",
        "WA_PACING_GAP_S": "0",
    }
    async with running_stack(tmp_path, amqp_url, env=env, sim_args=["--today", DAY.isoformat()]) as running:
        yield running


@pytest.mark.timeout(360)
async def test_a_full_day_sends_exactly_what_the_rules_say(stack: Stack, tmp_path: Path) -> None:
    started = time.monotonic()
    world = World.from_dataset(REPO / "fakes/rapidapi-sim/data/e2e.json")
    oracle = Oracle(world)
    probe = QuietProbe(consumer_edges())
    conn = await asyncpg.connect(stack.database_url)
    try:
        async with httpx.AsyncClient(base_url=stack.sim_url, timeout=10) as sim:
            world.sim = sim
            await stack.wait_healthy()
            stack.cli("attendance", "import-clients", str(write_clients_csv(tmp_path / "clients.csv")))
            stack.cli("attendance", "import-personnel", str(REPO / "examples/personnel.csv"))
            await probe.wait(conn, stack, "the directory import")
            assert stack.messages() == [], "nothing is sent before the first tick"
            print(f"\nstack up and directory imported: {time.monotonic() - started:.1f} s")

            changes = dict(CHANGES)
            problems: list[str] = []
            sent_before = 0
            per_purpose: Counter[str] = Counter()
            timings: dict[str, float] = dict.fromkeys(("fire", "quiet"), 0.0)
            busy = 0
            for tick in day_ticks():
                if tick.phase in ("post_fetch", "engagement_only"):
                    for change in changes.pop(tick.at, []):
                        await change(world)
                notifier_down = tick.at == wib(11, 30)
                if notifier_down:
                    assert stack.processes["notifier"].stop() == 0, "the notifier stops cleanly on SIGTERM"
                fire_started = time.monotonic()
                fired = stack.cli("scheduler", "fire", tick.schedule, "--at", tick.at.isoformat())
                timings["fire"] += time.monotonic() - fire_started
                assert f"{tick.tick_id}: fired" in fired, fired
                if notifier_down:
                    await _wait_fetched(conn, tick, stack)
                    assert len(stack.messages()) == sent_before, "nothing is sent while the notifier is down"
                    stack.processes["notifier"].start()
                quiet_started = time.monotonic()
                busy += bool(await probe.pending(conn))
                await probe.wait(conn, stack, str(tick))
                timings["quiet"] += time.monotonic() - quiet_started
                lines = stack.messages()[sent_before:]
                sent_before += len(lines)
                seen, texts = await _observe(conn, lines, tick)
                per_purpose.update(m.purpose for m in seen)
                found = compare(tick, oracle.expect(tick), seen, texts)
                for problem in found:
                    print(problem)
                problems += found
            assert not changes, f"changes never applied: {sorted(changes)}"

        everything = stack.messages()
        keys = Counter(line["idempotency_key"] for line in everything)
        problems += [f"sent {n} times: {key}" for key, n in keys.items() if n > 1]
        dead = await conn.fetch("SELECT idempotency_key, last_error FROM wa_gateway.wa_outbox "
                                "WHERE status = 'dead_letter'")
        problems += [f"dead letter {r['idempotency_key']}: {r['last_error']}" for r in dead]
        elapsed = time.monotonic() - started
        print(f"full day: {len(day_ticks())} ticks, {len(everything)} WhatsApp messages "
              f"({dict(sorted(per_purpose.items()))}) in {elapsed:.1f} s; firing (CLI) {timings['fire']:.1f} s, "
              f"waiting for quiet {timings['quiet']:.1f} s (still busy when the CLI returned: "
              f"{busy} ticks)")
        assert not problems, "the day differs from the rules:\n" + "\n".join(problems)
    finally:
        await conn.close()


async def _wait_fetched(conn: asyncpg.Connection, tick: Tick, stack: Stack) -> None:
    """Ingest finished the tick for every active client (used while the notifier is down)."""
    async def fetched() -> bool:
        count = await conn.fetchval(
            "SELECT count(*) FROM ingest.events WHERE event_type = 'ClientFetchCompleted' "
            "AND payload->>'tick_id' = $1", tick.tick_id)
        return bool(count == len(UNITS))

    try:
        await wait_for(fetched, timeout=30, interval=0.1, what=f"ingest's fetch of {tick}")
    except AssertionError:
        raise AssertionError(stack.diagnostics(25)) from None


async def _observe(conn: asyncpg.Connection, lines: list[dict[str, str]], tick: Tick
                   ) -> tuple[list[Message], dict[Message, str]]:
    """The tick's lines of the WhatsApp file as messages (purposes from the gateway's outbox), with texts."""
    rows = await conn.fetch("SELECT idempotency_key, purpose FROM wa_gateway.wa_outbox "
                            "WHERE idempotency_key = ANY($1::text[])", [line["idempotency_key"] for line in lines])
    purposes = {r["idempotency_key"]: r["purpose"] for r in rows}
    seen = [observed(line, purposes.get(line["idempotency_key"], "?"), tick) for line in lines]
    return seen, {m: line["text"] for m, line in zip(seen, lines, strict=True)}


# --- the oracle's own checks (pure, no servers) ---------------------------------------------------------


def test_the_day_has_every_tick_of_the_schedule_table_in_time_order() -> None:
    ticks = day_ticks()
    assert Counter(t.schedule for t in ticks) == {"post-fetch": 22, "mandatory-post-fetch": 1,
                                                  "engagement-only": 10, "engagement-recap": 3, "reminders": 2}
    assert [t.at for t in ticks] == sorted(t.at for t in ticks)
    assert (ticks[0].at, ticks[-1].at) == (wib(6, 5), wib(22, 0))
    at_1505 = [t.schedule for t in ticks if t.at == wib(15, 5)]
    assert at_1505 == ["post-fetch", "engagement-recap"]
    assert [t.schedule for t in ticks if t.at == wib(17, 5)] == ["mandatory-post-fetch", "reminders"]
    assert Tick("post-fetch", wib(14, 5)).tick_id == "post-fetch:2026-03-10T07:05:00Z"


@pytest.mark.parametrize(("hour", "minute", "slot", "in_window"), [
    (6, 5, "2026-03-10-06@05", True), (6, 30, "2026-03-10-06@05", True), (7, 4, "2026-03-10-06@05", True),
    (17, 5, "2026-03-10-17@05", True), (18, 0, "2026-03-10-17@05", False), (0, 3, "2026-03-09-23@05", False),
])
def test_slot_keys_and_window(hour: int, minute: int, slot: str, in_window: bool) -> None:
    assert slot_key(wib(hour, minute)) == slot
    assert in_hourly_window(wib(hour, minute)) is in_window


def _tiny_world() -> World:
    return World({ig_link("A"): LivePost("POLRES_DEMO", IG, ig_link("A"), {"agus_pratama"}),
                  tt_link(DEMO_TT, "1"): LivePost("POLRES_DEMO", TT, tt_link(DEMO_TT, "1"), set())})


def test_oracle_sends_lists_at_due_slots_changes_at_half_hours_and_nothing_else_to_groups() -> None:
    world = _tiny_world()
    oracle = Oracle(world)
    demo_group = "120363025550001111@g.us"
    first = oracle.expect(Tick("post-fetch", wib(6, 5)))
    lists = [m for m in first if m.purpose == "task_list"]
    assert [(m.chat_id, m.tag) for m in lists] == [(demo_group, "2026-03-10-06@05"),
                                                  ("120363025550002222@g.us", "2026-03-10-06@05")]
    assert lists[0].links == frozenset({ig_link("A"), tt_link(DEMO_TT, "1")}) and lists[1].links == frozenset()
    assert [m.session for m in first if m.purpose == OPS_PURPOSE] == ["log"]
    assert [m.purpose for m in oracle.expect(Tick("post-fetch", wib(6, 30)))] == [OPS_PURPOSE]
    world.posts[ig_link("B")] = LivePost("POLRES_DEMO", IG, ig_link("B"), set())
    del world.posts[ig_link("A")]
    half = [m for m in oracle.expect(Tick("post-fetch", wib(7, 30))) if m.chat_id == demo_group]
    assert [(m.purpose, m.links) for m in half] == [("task_list", frozenset({ig_link("B"), tt_link(DEMO_TT, "1")}))], \
        "07:30 is in the 07@05 slot, which no list was sent for yet: due"
    world.posts[ig_link("C")] = LivePost("POLRES_DEMO", IG, ig_link("C"), set())
    del world.posts[ig_link("B")]
    changes = [m for m in oracle.expect(Tick("post-fetch", wib(8, 5))) if m.chat_id == demo_group]
    assert [(m.purpose, m.links) for m in changes] == [("task_list", frozenset({ig_link("C"), tt_link(DEMO_TT, "1")}))]
    world.posts[ig_link("D")] = LivePost("POLRES_DEMO", IG, ig_link("D"), set())
    del world.posts[ig_link("C")]
    changes = [m for m in oracle.expect(Tick("post-fetch", wib(8, 30))) if m.chat_id == demo_group]
    assert [(m.purpose, m.links) for m in changes] == [("task_added", frozenset({ig_link("D")})),
                                                       ("task_removed", frozenset({ig_link("C")}))]
    world.posts[ig_link("E")] = LivePost("POLRES_DEMO", IG, ig_link("E"), set())
    assert [m.purpose for m in oracle.expect(Tick("engagement-only", wib(18, 0)))] == [OPS_PURPOSE], \
        "engagement-only ticks fetch no posts, so the new post is no change"
    recap = oracle.expect(Tick("engagement-recap", wib(18, 5)))
    assert Counter((m.session, m.chat_id.endswith("@g.us")) for m in recap) == {
        ("broadcast", True): 2, ("operator", False): 3}


def test_oracle_reminder_stages_follow_completion() -> None:
    world = _tiny_world()
    oracle = Oracle(world)
    oracle.expect(Tick("post-fetch", wib(16, 5)))
    first = {m.chat_id: m for m in oracle.expect(Tick("reminders", wib(17, 5)))}
    agus, rudi = personal("6281234560002"), personal("6281234560006")
    assert set(first) == {agus, personal("6281234560003"), personal("6281234560004"), rudi}, \
        "opted-in, active, with a number, and with task posts at home (Dewi's unit has none)"
    assert (first[agus].purpose, first[agus].tag, first[agus].links) == (
        "reminder", "initial", frozenset({tt_link(DEMO_TT, "1")}))
    assert first[rudi].links == frozenset({ig_link("A")}), "no TikTok handle: named, not listed"
    world.posts[tt_link(DEMO_TT, "1")].engaged.add("agus_pratama")
    oracle.expect(Tick("engagement-only", wib(17, 30)))
    second = {m.chat_id: m for m in oracle.expect(Tick("reminders", wib(17, 35)))}
    assert (second[agus].purpose, second[agus].tag) == ("reminder_thanks", "completed")
    assert second[rudi].tag == "followup1"
    third = {m.chat_id: m for m in oracle.expect(Tick("reminders", wib(17, 45)))}
    assert agus not in third and third[rudi].tag == "followup2"
    assert rudi not in {m.chat_id for m in oracle.expect(Tick("reminders", wib(17, 55)))}
